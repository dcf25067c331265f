//! Seeded generator of national-scale synthetic sources.
//!
//! [`generate`] writes one file per [`SourceTable`] (`<table>.parquet` or `<table>.csv`) that
//! matches the table's schema exactly, for a plausible country: structures placed in communes
//! in proportion to population, prescriber organisations, candidats and their applications
//! flowing through the real states and delays, hires with their PASS IAE, and the ASP side
//! (annexes financières, salariés, contract chains with exits, monthly declarations) linked by
//! the same `hash_nir`. Every assumption is listed in `docs/synthetic-data.md`.
//!
//! The output is deterministic: the same [`GeneratorConfig`] always gives byte-identical
//! files. Counts scale linearly with [`GeneratorConfig::scale`] (1 = national).
//!
//! ```no_run
//! use pilotage_core::synth::{GeneratorConfig, OutputFormat, generate};
//! let config = GeneratorConfig { scale: 0.01, seed: 7, first_year: 2023, last_year: 2024,
//!                                format: OutputFormat::Parquet };
//! let summary = generate(&config, std::path::Path::new("/tmp/synth"), &mut |_| {})?;
//! assert_eq!(summary.tables.len(), 13);
//! # Ok::<(), pilotage_core::synth::SynthError>(())
//! ```

mod flows;
mod output;
mod params;
mod platform;
mod records;
mod rng;
mod tables;
mod world;

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use arrow_array::RecordBatch;

use crate::fluxiae::{self, ExtractionStamp, View, WriteOptions};
use crate::source::SourceTable;
use crate::territory::Referential;

/// Largest accepted scale (20 × national): beyond it the run is no longer a plausible country.
pub const MAX_SCALE: f64 = 20.0;
/// Earliest simulated year (the platform's data starts in the late 2010s).
pub const MIN_YEAR: i32 = 2015;
/// Latest simulated year.
pub const MAX_YEAR: i32 = 2100;
/// Rows per Arrow batch handed to sinks and writers.
pub const BATCH_ROWS: usize = 131_072;

/// Parameters of one generation run.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// Size of the country relative to the real one (1 = national, ~4,500 SIAE); counts
    /// scale linearly. At least one structure of each kind is drawn when `scale ≥ 0.001`.
    pub scale: f64,
    /// Seed of every random stream: same seed, same files.
    pub seed: u64,
    /// First simulated calendar year (inclusive).
    pub first_year: i32,
    /// Last simulated calendar year (inclusive); the extraction date is its 31 December.
    pub last_year: i32,
    /// File format of the output tables.
    pub format: OutputFormat,
}

impl Default for GeneratorConfig {
    /// National scale, seed 1, 2021–2025 (five years, as the real pipeline keeps), Parquet.
    fn default() -> Self {
        Self {
            scale: 1.0,
            seed: 1,
            first_year: 2021,
            last_year: 2025,
            format: OutputFormat::Parquet,
        }
    }
}

/// File format of generated tables.
///
/// The ASP's fluxIAE delivery format may join later; match on it with that in mind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// Apache Parquet, zstd level 3 (`<table>.parquet`).
    Parquet,
    /// UTF-8 CSV with a header line, comma separated, ISO dates (`<table>.csv`).
    Csv,
    /// The delivery formats of the two real upstream systems: the platform's tables as
    /// canonical CSV (`<table>.csv`, structures included) and the ASP's tables as gzipped
    /// fluxIAE views (`fluxIAE_<View>_<DDMMYYYY>_<HHMMSS>.csv.gz`, `|`-separated, `DEB`/`FIN`
    /// sentinels, dd/mm/yyyy dates, about one duplicated line per thousand) — see
    /// [`crate::fluxiae`]. The fluxIAE `Structure` view is not written: structures come from the
    /// platform's export, which alone carries their kind.
    FluxIae,
}

impl OutputFormat {
    /// File extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Parquet => "parquet",
            OutputFormat::Csv | OutputFormat::FluxIae => "csv",
        }
    }

    /// Name of the format on the command line (`parquet`, `csv`, `fluxiae`).
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Parquet => "parquet",
            OutputFormat::Csv => "csv",
            OutputFormat::FluxIae => "fluxiae",
        }
    }
}

impl std::fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = SynthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "parquet" => Ok(OutputFormat::Parquet),
            "csv" => Ok(OutputFormat::Csv),
            "fluxiae" => Ok(OutputFormat::FluxIae),
            other => Err(SynthError::InvalidConfig {
                parameter: "format",
                reason: format!("unknown format {other:?} (expected parquet, csv or fluxiae)"),
            }),
        }
    }
}

impl GeneratorConfig {
    /// Checks the parameters; each error names the parameter at fault.
    pub fn validate(&self) -> Result<(), SynthError> {
        let invalid = |parameter: &'static str, reason: String| {
            Err(SynthError::InvalidConfig { parameter, reason })
        };
        if !self.scale.is_finite() || self.scale <= 0.0 {
            return invalid(
                "scale",
                format!("{} must be a finite number above 0", self.scale),
            );
        }
        if self.scale > MAX_SCALE {
            return invalid(
                "scale",
                format!("{} is above the maximum {MAX_SCALE}", self.scale),
            );
        }
        for (parameter, year) in [
            ("first_year", self.first_year),
            ("last_year", self.last_year),
        ] {
            if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
                return invalid(
                    parameter,
                    format!("{year} is outside {MIN_YEAR}..={MAX_YEAR}"),
                );
            }
        }
        if self.first_year > self.last_year {
            return invalid(
                "first_year",
                format!(
                    "first year {} is after last year {}",
                    self.first_year, self.last_year
                ),
            );
        }
        Ok(())
    }
}

/// Progress of a generation run, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The run starts; `total_steps` `Advanced` events will follow.
    Started {
        /// Number of steps of the run.
        total_steps: u64,
    },
    /// One step is done (`step` counts from 1).
    Advanced {
        /// Steps done so far.
        step: u64,
        /// What was just done (e.g. "2023 simulated").
        message: String,
    },
    /// Every file is written and in place.
    Finished,
}

/// What one generated file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    /// The source table.
    pub table: SourceTable,
    /// Rows written (header excluded).
    pub rows: u64,
    /// Size of the file, in bytes.
    pub bytes: u64,
    /// File name inside the output folder (`<table>.parquet` or `<table>.csv`).
    pub file_name: String,
}

/// What a generation run wrote, one entry per table in [`SourceTable::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationSummary {
    /// Per-table figures.
    pub tables: Vec<TableSummary>,
}

/// Everything that can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A generator parameter is out of range.
    #[error("invalid parameter `{parameter}`: {reason}")]
    InvalidConfig {
        /// The parameter at fault (`scale`, `seed`, `first_year`, `last_year`, `format`, `out`).
        parameter: &'static str,
        /// Why it is rejected, with its value.
        reason: String,
    },
    /// The output folder exists and is not an empty folder.
    #[error("output folder {} already exists and is not an empty folder", path.display())]
    OutputNotEmpty {
        /// The output folder.
        path: PathBuf,
    },
    /// The territory referential could not be used.
    #[error("territory referential: {0}")]
    Referential(String),
    /// A generated column does not fit the table's schema (a bug of the generator).
    #[error("table `{table}`, column `{column}`: {reason}")]
    Schema {
        /// The table.
        table: &'static str,
        /// The column.
        column: String,
        /// What does not fit.
        reason: String,
    },
    /// Arrow failed while building or encoding a table.
    #[error("table `{table}`: {source}")]
    Arrow {
        /// The table.
        table: &'static str,
        /// The Arrow error.
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// Parquet failed while writing a file.
    #[error("writing parquet file {}: {source}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The Parquet error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// A file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A batch sink refused a batch (message from the sink).
    #[error("batch sink: {0}")]
    Sink(String),
}

/// Number of progress steps of a run: the static world, then one per year.
fn total_steps(config: &GeneratorConfig) -> u64 {
    1 + (config.last_year - config.first_year + 1) as u64
}

/// Runs the simulation, handing every table's batches to `sink` in a deterministic order:
/// first the static tables (structures, organisations, fiches de poste, exit motives), then
/// year by year the flows. Every table is announced with at least one (possibly empty) batch.
fn run(
    config: &GeneratorConfig,
    sink: &mut dyn FnMut(SourceTable, RecordBatch) -> Result<(), SynthError>,
    progress: &mut dyn FnMut(ProgressEvent),
) -> Result<(), SynthError> {
    config.validate()?;
    let referential =
        Referential::try_official().map_err(|e| SynthError::Referential(e.to_string()))?;
    progress(ProgressEvent::Started {
        total_steps: total_steps(config),
    });
    let world = world::World::build(
        referential,
        config.seed,
        config.scale,
        config.first_year,
        config.last_year,
    )?;
    let builder = tables::Builder::new(&world, config.seed, config.last_year);
    for table in SourceTable::ALL {
        sink(*table, RecordBatch::new_empty(table.schema()))?;
    }
    builder.static_tables(sink)?;
    let mut simulation =
        flows::Simulation::new(&world, config.seed, config.first_year, config.last_year);
    progress(ProgressEvent::Advanced {
        step: 1,
        message: format!(
            "{} structures, {} organisations placed",
            world.structures.len(),
            world.organisations.len()
        ),
    });
    for (k, year) in (config.first_year..=config.last_year).enumerate() {
        let rows = simulation.year(year);
        let message = format!(
            "{year}: {} applications, {} monthly declarations",
            rows.candidatures.len(),
            rows.emis.len()
        );
        builder.year_tables(&rows, sink)?;
        drop(rows);
        progress(ProgressEvent::Advanced {
            step: k as u64 + 2,
            message,
        });
    }
    Ok(())
}

/// Generates every table in memory, handing Arrow batches to `table_sink` without writing
/// files (for tests and later pipeline stages).
///
/// Batches come table by table in a deterministic order, at most [`BATCH_ROWS`] rows each;
/// every table first receives one empty batch, so a sink sees all thirteen tables even when
/// one has no rows. The first error of the sink stops the run and is returned.
pub fn generate_batches(
    config: &GeneratorConfig,
    table_sink: &mut dyn FnMut(SourceTable, RecordBatch) -> Result<(), SynthError>,
) -> Result<(), SynthError> {
    run(config, table_sink, &mut |_| {})
}

/// One line in this many of each fluxIAE view is written twice, as real extractions do.
pub const FLUXIAE_DUPLICATE_EVERY: u64 = 997;

/// The fluxIAE view a table is written as, in the fluxIAE output format (ASP tables but
/// structures); `None` for a canonical file.
fn fluxiae_view(format: OutputFormat, table: SourceTable) -> Option<View> {
    if format != OutputFormat::FluxIae || table == SourceTable::Structures {
        return None;
    }
    View::of_table(table)
}

/// Generates every table into `out_dir`, one file per table, atomically.
///
/// Files are written into a temporary folder next to `out_dir` (`.<name>.tmp-<pid>`), synced,
/// then renamed to `out_dir`. `out_dir` must be absent or an empty folder (which is
/// replaced). On any error the temporary folder is removed, so no half-written output is
/// left. Encoding runs on a second thread, fed in a fixed order, so the bytes do not depend
/// on timing.
pub fn generate(
    config: &GeneratorConfig,
    out_dir: &Path,
    progress: &mut dyn FnMut(ProgressEvent),
) -> Result<GenerationSummary, SynthError> {
    config.validate()?;
    let staging = output::Staging::create(out_dir)?;
    let dir = staging.tmp_dir.clone();
    let format = config.format;
    let (sender, receiver) = mpsc::sync_channel::<(SourceTable, RecordBatch)>(8);
    let extraction = ExtractionStamp {
        year: u16::try_from(config.last_year).unwrap_or(u16::MAX),
        month: 12,
        day: 31,
        hour: 6,
        minute: 30,
        second: 0,
    };
    let writer = std::thread::spawn(move || -> Result<Vec<TableSummary>, SynthError> {
        let mut files = Vec::new();
        // fluxIAE views carry a line count on their `FIN` line: their tables are held in
        // memory and written once complete.
        let mut held: Vec<(SourceTable, View, Vec<RecordBatch>)> = Vec::new();
        for table in SourceTable::ALL {
            match fluxiae_view(format, *table) {
                Some(view) => held.push((*table, view, Vec::new())),
                None => files.push(output::TableFile::create(&dir, *table, format)?),
            }
        }
        for (table, batch) in receiver {
            if batch.num_rows() == 0 {
                continue;
            }
            if let Some(file) = files.iter_mut().find(|f| f.table() == table) {
                file.write(&batch)?;
            } else if let Some((_, _, batches)) = held.iter_mut().find(|h| h.0 == table) {
                batches.push(batch);
            }
        }
        let mut summaries = files
            .into_iter()
            .map(output::TableFile::finish)
            .collect::<Result<Vec<_>, _>>()?;
        let options = WriteOptions {
            extracted_at: extraction,
            duplicate_every: Some(FLUXIAE_DUPLICATE_EVERY),
            gzip: true,
        };
        for (table, view, batches) in held {
            let (path, written) = fluxiae::write_view_file(&dir, view, &batches, &options)
                .map_err(|e| SynthError::Sink(format!("fluxIAE view {}: {e}", view.name())))?;
            output::sync_file(&path)?;
            let bytes = std::fs::metadata(&path)
                .map_err(|source| SynthError::Io {
                    path: path.clone(),
                    source,
                })?
                .len();
            summaries.push(TableSummary {
                table,
                rows: written.rows,
                bytes,
                file_name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            });
        }
        summaries.sort_by_key(|t| SourceTable::ALL.iter().position(|a| *a == t.table));
        Ok(summaries)
    });
    let generated = run(
        config,
        &mut |table, batch| {
            sender
                .send((table, batch))
                .map_err(|_| SynthError::Sink("the file writer stopped".to_owned()))
        },
        progress,
    );
    drop(sender);
    let written = writer
        .join()
        .map_err(|_| SynthError::Sink("the file writer panicked".to_owned()))?;
    // A writer error explains a failed send: report it first.
    let tables = written?;
    generated?;
    staging.commit()?;
    progress(ProgressEvent::Finished);
    Ok(GenerationSummary { tables })
}
