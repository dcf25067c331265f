//! Typed access to source columns and fast code lookups, with errors naming table and column.

use arrow_array::{
    Array, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray,
};

use super::IndicatorError;
use crate::domain::Code;
use crate::source::SourceTable;

/// A column of a batch, downcast to its Arrow array type.
pub(crate) fn column<'a, T: Array + 'static>(
    batch: &'a RecordBatch,
    table: SourceTable,
    name: &'static str,
) -> Result<&'a T, IndicatorError> {
    let array = batch
        .column_by_name(name)
        .ok_or(IndicatorError::MissingColumn {
            table: table.name(),
            column: name,
        })?;
    array
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| IndicatorError::WrongType {
            table: table.name(),
            column: name,
            found: array.data_type().to_string(),
        })
}

pub(crate) fn strings<'a>(
    b: &'a RecordBatch,
    t: SourceTable,
    n: &'static str,
) -> Result<&'a StringArray, IndicatorError> {
    column::<StringArray>(b, t, n)
}
pub(crate) fn dates<'a>(
    b: &'a RecordBatch,
    t: SourceTable,
    n: &'static str,
) -> Result<&'a Date32Array, IndicatorError> {
    column::<Date32Array>(b, t, n)
}
pub(crate) fn ints<'a>(
    b: &'a RecordBatch,
    t: SourceTable,
    n: &'static str,
) -> Result<&'a Int64Array, IndicatorError> {
    column::<Int64Array>(b, t, n)
}
pub(crate) fn ints32<'a>(
    b: &'a RecordBatch,
    t: SourceTable,
    n: &'static str,
) -> Result<&'a Int32Array, IndicatorError> {
    column::<Int32Array>(b, t, n)
}
pub(crate) fn floats<'a>(
    b: &'a RecordBatch,
    t: SourceTable,
    n: &'static str,
) -> Result<&'a Float64Array, IndicatorError> {
    column::<Float64Array>(b, t, n)
}
pub(crate) fn flags<'a>(
    b: &'a RecordBatch,
    t: SourceTable,
    n: &'static str,
) -> Result<&'a BooleanArray, IndicatorError> {
    column::<BooleanArray>(b, t, n)
}

/// The value of a nullable column, `None` when null.
#[inline]
pub(crate) fn opt<T: arrow_array::ArrowPrimitiveType>(
    a: &arrow_array::PrimitiveArray<T>,
    i: usize,
) -> Option<T::Native> {
    a.is_valid(i).then(|| a.value(i))
}

/// Finds the member of a [`Code`] enum from its code without hashing or allocating: codes are
/// bucketed by length and compared byte by byte.
pub(crate) struct CodeTable<C: Code> {
    buckets: Vec<Vec<(&'static [u8], C)>>,
}

impl<C: Code> CodeTable<C> {
    pub fn new() -> Self {
        let mut buckets: Vec<Vec<(&'static [u8], C)>> = Vec::new();
        for &m in C::ALL {
            let code = m.code().as_bytes();
            if buckets.len() <= code.len() {
                buckets.resize_with(code.len() + 1, Vec::new);
            }
            buckets[code.len()].push((code, m));
        }
        CodeTable { buckets }
    }

    #[inline]
    pub fn find(&self, s: &str) -> Option<C> {
        let b = s.as_bytes();
        self.buckets
            .get(b.len())?
            .iter()
            .find(|(code, _)| *code == b)
            .map(|&(_, m)| m)
    }

    /// The member at row `i` of a code column; an unknown code is an error naming the column.
    #[inline]
    pub fn at(
        &self,
        a: &StringArray,
        i: usize,
        table: SourceTable,
        column: &'static str,
    ) -> Result<Option<C>, IndicatorError> {
        if a.is_null(i) {
            return Ok(None);
        }
        let s = a.value(i);
        self.find(s)
            .map(Some)
            .ok_or_else(|| IndicatorError::UnknownCode {
                table: table.name(),
                column,
                value: s.to_owned(),
            })
    }
}

/// The position of a member in `C::ALL`, for small translation tables.
pub(crate) fn position<C: Code>(c: C) -> usize {
    C::ALL.iter().position(|&m| m == c).unwrap_or(0)
}
