//! The published table of a dataset: the cube with its secret values removed and a status
//! column beside each measure.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};

use super::{LEVEL_SUFFIX, ReleaseError, STATUS_PUBLISHED, STATUS_SECRET, STATUS_SUFFIX};
use crate::cube::{Cube, MeasureValues};

/// Counts of what a published table shows and hides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    /// Rows (cells of the crossing of all dimensions).
    pub rows: u64,
    /// Values subject to disclosure control: non-null values of every measure.
    pub values: u64,
    /// Values hidden as secret.
    pub secret: u64,
}

/// The published table of `cube` in the release layout (see the [module](super) docs): per
/// dimension its code and level columns, then per measure its value (null when secret or not
/// applicable) and its status (`publie`, `secret`, or null when not applicable).
///
/// `secret[m][r]` is true when the value of measure `m` (in `cube.measures` order) at row `r`
/// must be hidden. A secret flag on a null ("not applicable") value is ignored.
pub fn published_batch(
    cube: &Cube,
    secret: &[Vec<bool>],
) -> Result<(RecordBatch, TableCounts), ReleaseError> {
    let rows = cube.len();
    if secret.len() != cube.measures.len() || secret.iter().any(|s| s.len() != rows) {
        return Err(ReleaseError::Mask {
            dataset: cube.dataset.clone(),
            detail: format!(
                "the mask has {} measures × {:?} rows, the cube {} measures × {rows} rows",
                secret.len(),
                secret.iter().map(Vec::len).collect::<Vec<_>>(),
                cube.measures.len()
            ),
        });
    }
    let mut counts = TableCounts {
        rows: rows as u64,
        ..TableCounts::default()
    };
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for d in &cube.dimensions {
        fields.push(Field::new(&d.id, DataType::Utf8, false));
        columns.push(Arc::new(StringArray::from_iter_values(
            (0..rows).map(|r| d.code(r)),
        )));
        fields.push(Field::new(
            format!("{}{LEVEL_SUFFIX}", d.id),
            DataType::Utf8,
            false,
        ));
        columns.push(Arc::new(StringArray::from_iter_values(
            (0..rows).map(|r| d.level(r)),
        )));
    }
    for (m, hidden) in cube.measures.iter().zip(secret) {
        let mut status = StringBuilder::with_capacity(rows, rows * 6);
        let mut note = |present: bool, hide: bool| {
            if !present {
                status.append_null();
            } else if hide {
                counts.values += 1;
                counts.secret += 1;
                status.append_value(STATUS_SECRET);
            } else {
                counts.values += 1;
                status.append_value(STATUS_PUBLISHED);
            }
        };
        let values: ArrayRef = match &m.values {
            MeasureValues::Counts(v) => {
                fields.push(Field::new(&m.id, DataType::UInt64, true));
                Arc::new(UInt64Array::from_iter(v.iter().zip(hidden).map(
                    |(x, &h)| {
                        note(x.is_some(), h);
                        x.filter(|_| !h)
                    },
                )))
            }
            MeasureValues::Values(v) => {
                fields.push(Field::new(&m.id, DataType::Float64, true));
                Arc::new(Float64Array::from_iter(v.iter().zip(hidden).map(
                    |(x, &h)| {
                        note(x.is_some(), h);
                        x.filter(|_| !h)
                    },
                )))
            }
        };
        columns.push(values);
        fields.push(Field::new(
            format!("{}{STATUS_SUFFIX}", m.id),
            DataType::Utf8,
            true,
        ));
        columns.push(Arc::new(status.finish()));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| ReleaseError::Arrow(e.to_string()))?;
    Ok((batch, counts))
}
