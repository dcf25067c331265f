//! What the previous release published, matched to the cells of a new one by dataset,
//! coordinates and measure. Read from the previous release's published tables (the files
//! anyone can download), never from its protection's internal state.
//!
//! The protection of the new release uses it twice: a value the previous release published
//! and that has not changed is known to everyone, so hiding it now would protect nothing (it
//! is never chosen as a secondary cell); a value the previous release hid is preferred as a
//! secondary cell (cost divided by [`REUSE_DISCOUNT`]), so that the masks of successive
//! releases differ as little as possible.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use crate::dataset::Definition;
use crate::release::{STATUS_PUBLISHED, STATUS_SECRET, STATUS_SUFFIX};

use super::grid::{System, Table};
use crate::disclosure::DisclosureError;

/// Divides the cost of hiding a value the previous release hid too.
pub(crate) const REUSE_DISCOUNT: f64 = 4.0;

/// The published tables of the previous release, one per dataset (as
/// [`crate::release::read_dataset`] returns them).
#[derive(Debug, Clone, Default)]
pub struct PreviousRelease {
    /// Definition and published table of every dataset of the previous release.
    pub tables: Vec<(Definition, RecordBatch)>,
}

/// What the previous release showed of one cell of the new one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Before {
    /// Not in the previous release (new dataset, period, territory or measure), or null there.
    Absent,
    /// Published with this value.
    Published(f64),
    /// Published as `secret`.
    Secret,
}

/// Key of a row: the codes of its dimensions, in the order of `ids`.
fn key(codes: &[&str]) -> String {
    codes.join("\u{1f}")
}

/// Non-null values of the previous release (published or secret), over every dataset.
pub(crate) fn values_of(previous: &PreviousRelease) -> u64 {
    previous
        .tables
        .iter()
        .map(|(def, batch)| {
            def.measures
                .iter()
                .filter_map(|m| batch.column_by_name(&format!("{}{STATUS_SUFFIX}", m.id)))
                .map(|c| (c.len() - c.null_count()) as u64)
                .sum::<u64>()
        })
        .sum()
}

/// Matches every cell of the new release's system to what the previous release showed of it.
pub(crate) fn match_previous(
    previous: &PreviousRelease,
    tables: &[Table],
    system: &System,
) -> Result<Vec<Before>, DisclosureError> {
    let mut out = vec![Before::Absent; system.value.len()];
    for (ti, table) in tables.iter().enumerate() {
        let Some((_, batch)) = previous.tables.iter().find(|(d, _)| d.id == table.dataset) else {
            continue;
        };
        // The dimensions of the new table, read from the previous one; a dataset whose
        // dimensions changed shares no cell with its previous version.
        let mut columns = Vec::with_capacity(table.dims.len());
        for d in &table.dims {
            if batch.column_by_name(&d.id).is_none() {
                columns.clear();
                break;
            }
            columns.push(strings(batch, &table.dataset, &d.id)?);
        }
        if columns.len() != table.dims.len() {
            continue;
        }
        let mut rows: HashMap<String, usize> = HashMap::with_capacity(batch.num_rows());
        for r in 0..batch.num_rows() {
            let codes: Option<Vec<&str>> = columns.iter().map(|c| c[r].as_deref()).collect();
            if let Some(codes) = codes {
                rows.insert(key(&codes), r);
            }
        }
        for (mi, m) in table.measures.iter().enumerate() {
            let status_name = format!("{}{STATUS_SUFFIX}", m.id);
            if batch.column_by_name(&m.id).is_none() || batch.column_by_name(&status_name).is_none()
            {
                continue;
            }
            let values = numbers(batch, &table.dataset, &m.id)?;
            let status = strings(batch, &table.dataset, &status_name)?;
            for r in 0..table.rows {
                let codes: Vec<&str> = table
                    .dims
                    .iter()
                    .map(|d| d.codes[d.rows[r] as usize].as_str())
                    .collect();
                let Some(&p) = rows.get(&key(&codes)) else {
                    continue;
                };
                out[system.base[ti][mi] + r] = match (status[p].as_deref(), values[p]) {
                    (Some(STATUS_SECRET), _) => Before::Secret,
                    (Some(STATUS_PUBLISHED), Some(v)) => Before::Published(v),
                    _ => Before::Absent,
                };
            }
        }
    }
    Ok(out)
}

/// How much of the previous release's mask the new one keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Kept {
    /// Values hidden by the previous release and present in the new one.
    pub before: u64,
    /// Of those, the values the new release hides too.
    pub kept: u64,
}

impl Kept {
    /// Counts, over the values present in the new release, those the previous one hid and
    /// those of them hidden again.
    pub fn of(before: &[Before], present: &[bool], hidden: &[bool]) -> Kept {
        let mut k = Kept::default();
        for c in 0..before.len() {
            if before[c] == Before::Secret && present[c] {
                k.before += 1;
                k.kept += u64::from(hidden[c]);
            }
        }
        k
    }

    /// Share of the previous mask kept, in % (100 when the previous release hid nothing the
    /// new one has).
    pub fn pct(&self) -> f64 {
        if self.before == 0 {
            100.0
        } else {
            100.0 * self.kept as f64 / self.before as f64
        }
    }
}

fn strings(
    batch: &RecordBatch,
    dataset: &str,
    name: &str,
) -> Result<Vec<Option<String>>, DisclosureError> {
    let bad = |message: String| DisclosureError::Release {
        dataset: dataset.to_owned(),
        message,
    };
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| bad(format!("no column {name:?}")))?;
    let out = match col.data_type() {
        DataType::Utf8 => col
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_owned))
            .collect(),
        DataType::LargeUtf8 => col
            .as_string::<i64>()
            .iter()
            .map(|s| s.map(str::to_owned))
            .collect(),
        DataType::Utf8View => col
            .as_string_view()
            .iter()
            .map(|s| s.map(str::to_owned))
            .collect(),
        other => return Err(bad(format!("column {name:?} has type {other}, not text"))),
    };
    Ok(out)
}

fn numbers(
    batch: &RecordBatch,
    dataset: &str,
    name: &str,
) -> Result<Vec<Option<f64>>, DisclosureError> {
    let bad = |message: String| DisclosureError::Release {
        dataset: dataset.to_owned(),
        message,
    };
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| bad(format!("no column {name:?}")))?;
    let out = match col.data_type() {
        DataType::UInt64 => col
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|v| v.map(|x| x as f64))
            .collect(),
        DataType::Int64 => col
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|x| x as f64))
            .collect(),
        DataType::Float64 => col.as_primitive::<Float64Type>().iter().collect(),
        other => {
            return Err(bad(format!(
                "column {name:?} has type {other}, not a number"
            )));
        }
    };
    Ok(out)
}
