//! Cubes: every margin of every declared crossing, with the disclosure companions beside them.
//!
//! A [`Cube`] has one row per cell: one member per dimension (codes as strings, every level of
//! every hierarchy present, totals explicit: `_T` for categorical dimensions, `FR` for France)
//! and one column per measure. Rows are sorted by their members in publication order
//! (dimension by dimension, coarser levels first), so the same sources and definition give the
//! same cube, byte for byte.
//!
//! Conventions:
//! - territory codes are level-coded: `FR`, `REG-84`, `DEP-01`, and each dimension has a level
//!   column `<dimension>_niveau` (`france`, `region`, `departement`);
//! - period codes: `2024`, `2024-T1`, `2024-01`, level column values `annee`, `trimestre`,
//!   `mois`;
//! - a cell absent from the cube has every count at zero (no unit reached it);
//! - a measure is null where it is not applicable (a dimension it does not vary along is not
//!   at its total), a rate is null when its denominator is zero, a median when no unit counts.
//!
//! The disclosure companions ([`Companion`], [`Cube::structures`]) are never published: the
//! disclosure stage reads them to apply the primary rules.

mod builder;
/// The crate's calendar ([`crate::calendar`]), also named here where the cube engine's users
/// have always found it.
pub use crate::calendar;
mod dims;
pub(crate) mod int_map;

pub use builder::{CubeBuilder, DimId, MeasureId};
pub use dims::{Geography, NONE};

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field, Schema};

use crate::dataset::MeasureKind;

/// A cube that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum CubeError {
    /// The territory referential could not be read.
    #[error("{}: {reason}", file.display())]
    Reference {
        /// The referential file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The definition and the computation disagree, or the input is unusable.
    #[error("{0}")]
    Input(String),
    /// Arrow refused the columns (a bug: lengths are built equal).
    #[error("arrow: {0}")]
    Arrow(#[from] ArrowError),
}

/// One dimension of a cube: its members and, per row, the member of the row.
#[derive(Debug, Clone, PartialEq)]
pub struct CubeDimension {
    /// Column name.
    pub id: String,
    /// Level names, coarsest first (`total`/`france`/`annee` first).
    pub level_names: Vec<String>,
    /// Member codes, in publication order.
    pub codes: Vec<String>,
    /// Level (index into `level_names`) of each member.
    pub member_level: Vec<u8>,
    /// Member (index into `codes`) of each row.
    pub rows: Vec<u32>,
}

impl CubeDimension {
    /// The code of row `row`.
    pub fn code(&self, row: usize) -> &str {
        &self.codes[self.rows[row] as usize]
    }

    /// The level name of row `row`.
    pub fn level(&self, row: usize) -> &str {
        &self.level_names[self.member_level[self.rows[row] as usize] as usize]
    }
}

/// The values of one measure, one per row.
#[derive(Debug, Clone, PartialEq)]
pub enum MeasureValues {
    /// Exact counts (persons, events); null where not applicable.
    Counts(Vec<Option<u64>>),
    /// Magnitudes, rates, medians and differences, rounded as the definition says.
    Values(Vec<Option<f64>>),
}

/// [`Companion::top_structure`] of a value no structure contributes to.
pub const NO_STRUCTURE: u32 = u32::MAX;

/// What the disclosure rules need about a magnitude, per row. Never published.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Companion {
    /// The unrounded value.
    pub raw: Vec<f64>,
    /// Number of structures contributing a non-empty share.
    pub structures: Vec<u32>,
    /// The largest contribution of one structure (same unit and time rule as the value).
    pub top1: Vec<f64>,
    /// The second largest contribution of one structure (0 with fewer than two).
    pub top2: Vec<f64>,
    /// The structure making the largest contribution, by its index in the computation's
    /// register of structures ([`NO_STRUCTURE`] without contribution): with `structures` at 1,
    /// the one structure that alone makes the value and knows it exactly.
    pub top_structure: Vec<u32>,
    /// Number of distinct persons behind the value (0 when the magnitude is not person-based,
    /// such as ETP conventionnés).
    pub persons: Vec<u64>,
}

/// One measure of a cube.
#[derive(Debug, Clone, PartialEq)]
pub struct CubeMeasure {
    /// Column name.
    pub id: String,
    /// Kind.
    pub kind: MeasureKind,
    /// Values per row.
    pub values: MeasureValues,
    /// Disclosure companion (magnitudes only).
    pub companion: Option<Companion>,
    /// For a derived measure: the measures of the same row it is computed from
    /// (numerator/denominator for a rate, a/b for a difference a − b).
    pub parts: Option<(String, String)>,
}

/// A computed cube. See the module documentation for its conventions.
#[derive(Debug, Clone, PartialEq)]
pub struct Cube {
    /// Dataset id.
    pub dataset: String,
    /// Definition version.
    pub version: String,
    /// Dimensions, in definition order.
    pub dimensions: Vec<CubeDimension>,
    /// Measures, base measures first, then derived ones, each group in definition order.
    pub measures: Vec<CubeMeasure>,
    /// Number of distinct structures whose units reach each row (disclosure companion, never
    /// published).
    pub structures: Vec<u64>,
    rows: usize,
}

impl Cube {
    /// Number of rows (cells of the crossing of all dimensions).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True if no unit reached any cell.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Number of published values: rows × measures.
    pub fn cell_count(&self) -> usize {
        self.rows * self.measures.len()
    }

    /// The dimension with this id.
    pub fn dimension(&self, id: &str) -> Option<&CubeDimension> {
        self.dimensions.iter().find(|d| d.id == id)
    }

    /// The measure with this id.
    pub fn measure(&self, id: &str) -> Option<&CubeMeasure> {
        self.measures.iter().find(|m| m.id == id)
    }

    /// The row whose members are the given codes; dimensions not named must be at their total
    /// (`_T`, `FR`). Linear search: for tests and small lookups.
    pub fn find(&self, coords: &[(&str, &str)]) -> Option<usize> {
        (0..self.rows).find(|&r| {
            self.dimensions.iter().all(|d| {
                let code = d.code(r);
                match coords.iter().find(|(id, _)| *id == d.id) {
                    Some((_, want)) => code == *want,
                    None => d.member_level[d.rows[r] as usize] == 0 && d.level_names[0] != "annee",
                }
            })
        })
    }

    /// The value of a measure at a row, as f64 (counts converted), or `None` if null.
    pub fn value(&self, measure: &str, row: usize) -> Option<f64> {
        match &self.measure(measure)?.values {
            MeasureValues::Counts(v) => v[row].map(|x| x as f64),
            MeasureValues::Values(v) => v[row],
        }
    }

    /// The published cube as an Arrow batch: per dimension `<id>` (code) and `<id>_niveau`
    /// (level name), then one column per measure (UInt64 counts, Float64 others, nullable).
    pub fn to_record_batch(&self) -> Result<RecordBatch, CubeError> {
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        self.push_dimensions(&mut fields, &mut columns);
        for m in &self.measures {
            match &m.values {
                MeasureValues::Counts(v) => {
                    fields.push(Field::new(&m.id, DataType::UInt64, true));
                    columns.push(Arc::new(UInt64Array::from(v.clone())));
                }
                MeasureValues::Values(v) => {
                    fields.push(Field::new(&m.id, DataType::Float64, true));
                    columns.push(Arc::new(Float64Array::from(v.clone())));
                }
            }
        }
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns,
        )?)
    }

    /// The disclosure companions as an Arrow batch (never published): the dimension columns,
    /// `structures` (distinct contributing structures), then per magnitude `<m>__raw`,
    /// `<m>__structures`, `<m>__top1`, `<m>__top2`, `<m>__persons`.
    pub fn companions_batch(&self) -> Result<RecordBatch, CubeError> {
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        self.push_dimensions(&mut fields, &mut columns);
        fields.push(Field::new("structures", DataType::UInt64, false));
        columns.push(Arc::new(UInt64Array::from(self.structures.clone())));
        for m in &self.measures {
            if let Some(c) = &m.companion {
                let f = |suffix: &str, dt: DataType| {
                    Field::new(format!("{}__{suffix}", m.id), dt, false)
                };
                fields.push(f("raw", DataType::Float64));
                columns.push(Arc::new(Float64Array::from(c.raw.clone())));
                fields.push(f("structures", DataType::UInt64));
                columns.push(Arc::new(UInt64Array::from_iter_values(
                    c.structures.iter().map(|&s| u64::from(s)),
                )));
                fields.push(f("top1", DataType::Float64));
                columns.push(Arc::new(Float64Array::from(c.top1.clone())));
                fields.push(f("top2", DataType::Float64));
                columns.push(Arc::new(Float64Array::from(c.top2.clone())));
                fields.push(f("persons", DataType::UInt64));
                columns.push(Arc::new(UInt64Array::from(c.persons.clone())));
            }
        }
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns,
        )?)
    }

    fn push_dimensions(&self, fields: &mut Vec<Field>, columns: &mut Vec<ArrayRef>) {
        for d in &self.dimensions {
            fields.push(Field::new(&d.id, DataType::Utf8, false));
            columns.push(Arc::new(StringArray::from_iter_values(
                (0..self.rows).map(|r| d.code(r)),
            )));
            fields.push(Field::new(
                format!("{}_niveau", d.id),
                DataType::Utf8,
                false,
            ));
            columns.push(Arc::new(StringArray::from_iter_values(
                (0..self.rows).map(|r| d.level(r)),
            )));
        }
    }
}
