//! The computation of each dataset's cube from the canonical source tables.
//!
//! Input: [`Sources`], the source tables as Arrow batches (the storage layer streams them from
//! the store; tests build them by hand). Output: one [`Cube`] per [`Definition`]. Each
//! computation reads exactly the columns documented in `docs/sources.md`, loops over Arrow
//! arrays with integer keys (no per-row allocation, persons mapped once to dense ids) and pushes
//! facts into the [`CubeBuilder`], which makes every margin.
//!
//! Each computation declares what it produces in a [`ComputationSpec`] ([`SPECS`]): its axes
//! (dimensions) and base measures with their kind and time rule. Definitions are checked
//! against it when loaded.
//!
//! Attachments are never mixed: applications, PASS IAE, beneficiaries and exits are placed in
//! the département of the structure; ETP in the département of the annexe financière (who
//! funds); prescriber organisations in their own département.

mod applications;
mod asp;
mod columns;
mod offer;
pub(crate) mod prepared;

use std::collections::BTreeMap;
use std::path::Path;

use arrow_array::RecordBatch;

use crate::cube::{Cube, CubeBuilder, CubeError, Geography};
use crate::dataset::Definition;
use crate::source::SourceTable;

pub use crate::dataset::computation::{Axis, AxisKind, BaseMeasure, ComputationSpec, SPECS, spec};
pub use prepared::Prepared;

/// The source tables, as Arrow batches per table. A table absent from the map is empty.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    tables: BTreeMap<SourceTable, Vec<RecordBatch>>,
}

impl Sources {
    /// No table at all.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Appends a batch to a table.
    pub fn push(&mut self, table: SourceTable, batch: RecordBatch) {
        self.tables.entry(table).or_default().push(batch);
    }

    /// Replaces a table's batches.
    pub fn insert(&mut self, table: SourceTable, batches: Vec<RecordBatch>) {
        self.tables.insert(table, batches);
    }

    /// The batches of a table (empty if absent).
    pub fn batches(&self, table: SourceTable) -> &[RecordBatch] {
        self.tables.get(&table).map_or(&[], Vec::as_slice)
    }

    /// Number of rows of a table.
    pub fn rows(&self, table: SourceTable) -> usize {
        self.batches(table).iter().map(RecordBatch::num_rows).sum()
    }

    /// Reads `<table>.parquet` for every table present in `dir` (as the synthetic generator
    /// writes them).
    pub fn from_parquet_dir(dir: &Path) -> Result<Sources, IndicatorError> {
        let mut sources = Sources::new();
        for &table in SourceTable::ALL {
            let path = dir.join(format!("{}.parquet", table.name()));
            if !path.exists() {
                continue;
            }
            let io = |e: String| IndicatorError::Read {
                file: path.display().to_string(),
                reason: e,
            };
            let file = std::fs::File::open(&path).map_err(|e| io(e.to_string()))?;
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|e| io(e.to_string()))?
                    .with_batch_size(64 * 1024)
                    .build()
                    .map_err(|e| io(e.to_string()))?;
            let batches = reader
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| io(e.to_string()))?;
            sources.insert(table, batches);
        }
        Ok(sources)
    }
}

/// What a computation needs beside the sources.
#[derive(Debug, Clone)]
pub struct Context {
    /// Départements and their régions (the territory referential).
    pub geography: Geography,
    /// Extraction date of the sources (`Date32`, days since 1970-01-01): stocks are computed
    /// only at month ends on or before it, and applications left unanswered are refused
    /// automatically on day 60 only if that day is on or before it.
    pub as_of: i32,
}

/// A computation that cannot run on its input.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    /// A column the computation reads is absent.
    #[error("table {table}: missing column {column:?}")]
    MissingColumn {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: &'static str,
    },
    /// A column has another Arrow type than its source schema says.
    #[error("table {table}: column {column:?} has type {found}, not the source schema's")]
    WrongType {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: &'static str,
        /// The type found.
        found: String,
    },
    /// A code column holds a value outside its code list.
    #[error("table {table}: column {column:?}: unknown code {value:?}")]
    UnknownCode {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: &'static str,
        /// The value.
        value: String,
    },
    /// A reference to a row of another table that does not exist.
    #[error("table {table}: column {column:?}: {value} references no row")]
    UnknownReference {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: &'static str,
        /// The value.
        value: String,
    },
    /// A source file could not be read.
    #[error("{file}: {reason}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The definition names a computation that does not exist.
    #[error("unknown computation {0:?}")]
    UnknownComputation(String),
    /// The cube engine refused the definition.
    #[error(transparent)]
    Cube(#[from] CubeError),
}

/// Computes one dataset's cube.
pub fn compute(
    def: &Definition,
    sources: &Sources,
    context: &Context,
) -> Result<Cube, IndicatorError> {
    let prepared = Prepared::new(sources, context);
    compute_prepared(def, &prepared)
}

/// Computes every dataset's cube, sharing the lookups (structures, persons) between them.
pub fn compute_all(
    defs: &[Definition],
    sources: &Sources,
    context: &Context,
) -> Result<Vec<Cube>, IndicatorError> {
    let prepared = Prepared::new(sources, context);
    defs.iter()
        .map(|d| compute_prepared(d, &prepared))
        .collect()
}

/// Computes one dataset's cube with shared lookups.
pub fn compute_prepared(def: &Definition, prepared: &Prepared<'_>) -> Result<Cube, IndicatorError> {
    let mut builder = CubeBuilder::new(def, &prepared.context.geography)?;
    match def.computation_id() {
        "candidatures" => applications::candidatures(&mut builder, def, prepared)?,
        "candidatures_delais" => applications::delais(&mut builder, def, prepared)?,
        "candidatures_refus" => applications::refus(&mut builder, def, prepared)?,
        "prescriptions" => applications::prescriptions(&mut builder, def, prepared)?,
        "pass_iae" => applications::pass_iae(&mut builder, def, prepared)?,
        "beneficiaires" => asp::beneficiaires(&mut builder, def, prepared)?,
        "etp" => asp::etp(&mut builder, def, prepared)?,
        "sorties" => asp::sorties(&mut builder, def, prepared)?,
        "offre" => offer::offre(&mut builder, def, prepared)?,
        other => return Err(IndicatorError::UnknownComputation(other.to_owned())),
    }
    Ok(builder.finish())
}
