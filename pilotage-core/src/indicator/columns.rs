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

/// Declares the typed shorthands of [`column`]: `name => ArrowArray` gives
/// `name(batch, table, column) -> Result<&ArrowArray, IndicatorError>`.
macro_rules! typed_columns {
    ($($(#[$doc:meta])* $name:ident => $array:ty;)*) => {$(
        $(#[$doc])*
        pub(crate) fn $name<'a>(
            b: &'a RecordBatch,
            t: SourceTable,
            n: &'static str,
        ) -> Result<&'a $array, IndicatorError> {
            column::<$array>(b, t, n)
        }
    )*};
}

typed_columns! {
    /// A text column (codes, identifiers).
    strings => StringArray;
    /// A date column, in days since 1970-01-01.
    dates => Date32Array;
    /// A 64-bit integer column.
    ints => Int64Array;
    /// A 32-bit integer column.
    ints32 => Int32Array;
    /// A floating-point column.
    floats => Float64Array;
    /// A boolean column.
    flags => BooleanArray;
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
