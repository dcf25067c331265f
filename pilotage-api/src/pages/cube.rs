//! Reading the cells of a loaded dataset for the pages: rows matching a few dimension codes,
//! a measure's value or its status, and period series.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use pilotage_core::dataset::{Definition, DimensionType, TOTAL};
use pilotage_core::release::{LEVEL_SUFFIX, STATUS_SECRET, STATUS_SUFFIX};

use crate::server::releases::Dataset;

/// One published cell as a page shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// A published value, in the measure's unit.
    Value(f64),
    /// A value hidden by disclosure control (shown as "secret", never as 0 or empty).
    Secret,
    /// No value: not applicable to this row, not computable, or absent from the release.
    Missing,
}

impl Cell {
    /// The value when published.
    pub fn value(self) -> Option<f64> {
        match self {
            Cell::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// The rows of `dataset` whose columns hold the given codes (`[("territoire", "DEP-75"),
/// ("periode_niveau", "mois")]`), ascending. A column or code the dataset does not have
/// matches no row.
pub fn rows_where(dataset: &Dataset, conditions: &[(&str, &str)]) -> Vec<u32> {
    let mut wanted = Vec::with_capacity(conditions.len());
    for (column, code) in conditions {
        let Some(col) = dataset.code_column(column) else {
            return Vec::new();
        };
        let Some(key) = col.key(code) else {
            return Vec::new();
        };
        wanted.push((col, key));
    }
    let Some((first, first_key)) = wanted
        .iter()
        .min_by_key(|(c, k)| c.postings[*k as usize].len())
        .copied()
    else {
        return (0..dataset.rows() as u32).collect();
    };
    first.postings[first_key as usize]
        .iter()
        .copied()
        .filter(|&row| wanted.iter().all(|(c, k)| c.keys[row as usize] == *k))
        .collect()
}

/// The conditions putting every categorical dimension of `def` at its total, except those
/// named in `except`.
pub fn totals_except<'a>(def: &'a Definition, except: &[&str]) -> Vec<(&'a str, &'a str)> {
    def.dimensions
        .iter()
        .filter(|d| d.kind == DimensionType::Categorical && !except.contains(&d.id.as_str()))
        .map(|d| (d.id.as_str(), d.total.as_deref().unwrap_or(TOTAL)))
        .collect()
}

/// The code of column `column` in row `row` (empty when the column is not a code column).
pub fn code<'a>(dataset: &'a Dataset, column: &str, row: u32) -> &'a str {
    dataset
        .code_column(column)
        .map(|c| c.codes[c.keys[row as usize] as usize].as_str())
        .unwrap_or("")
}

fn number(array: &ArrayRef, row: usize) -> Option<f64> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::UInt64 => Some(array.as_primitive::<UInt64Type>().value(row) as f64),
        DataType::Int64 => Some(array.as_primitive::<Int64Type>().value(row) as f64),
        DataType::Float64 => Some(array.as_primitive::<Float64Type>().value(row)),
        _ => None,
    }
}

/// The cell of measure `measure` in row `row`: secret when its status column says so, missing
/// when the value is null or the measure unknown.
pub fn cell(dataset: &Dataset, measure: &str, row: u32) -> Cell {
    let table = &dataset.table;
    let row_index = row as usize;
    if let Some(status) = table.column_by_name(&format!("{measure}{STATUS_SUFFIX}"))
        && let Some(text) = status.as_string_opt::<i32>()
        && !text.is_null(row_index)
        && text.value(row_index) == STATUS_SECRET
    {
        return Cell::Secret;
    }
    table
        .column_by_name(measure)
        .and_then(|a| number(a, row_index))
        .map_or(Cell::Missing, Cell::Value)
}

/// One point of a period series: the period code (`2025-03`) and the cells of the measures.
#[derive(Debug, Clone)]
pub struct Point {
    /// Period code (`2025`, `2025-T1`, `2025-01`).
    pub period: String,
    /// The cells, in the order of the measures asked for.
    pub cells: Vec<Cell>,
}

/// The series of `measures` for `territory` at period level `level` (`mois`, `trimestre`,
/// `annee`), the dimensions of `fixed` at the codes given and every other categorical
/// dimension at its total, sorted by period.
pub fn series(
    dataset: &Dataset,
    territory: &str,
    level: &str,
    fixed: &[(&str, &str)],
    measures: &[&str],
) -> Vec<Point> {
    let def = &dataset.definition;
    let Some(territory_dim) = def
        .dimensions
        .iter()
        .find(|d| d.kind == DimensionType::Territory)
    else {
        return Vec::new();
    };
    let Some(period_dim) = def
        .dimensions
        .iter()
        .find(|d| d.kind == DimensionType::Period)
    else {
        return Vec::new();
    };
    let period_level = format!("{}{LEVEL_SUFFIX}", period_dim.id);
    let fixed_ids: Vec<&str> = fixed.iter().map(|(d, _)| *d).collect();
    let mut conditions = totals_except(def, &fixed_ids);
    conditions.extend_from_slice(fixed);
    conditions.push((territory_dim.id.as_str(), territory));
    conditions.push((period_level.as_str(), level));
    let mut points: Vec<Point> = rows_where(dataset, &conditions)
        .into_iter()
        .map(|row| Point {
            period: code(dataset, &period_dim.id, row).to_owned(),
            cells: measures.iter().map(|m| cell(dataset, m, row)).collect(),
        })
        .collect();
    points.sort_by(|a, b| a.period.cmp(&b.period));
    points
}
