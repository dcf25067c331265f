//! Ingestion: validating source extracts and loading them into the store in one transaction.
//!
//! [`ingest`] reads the canonical contract (CSV or Parquet files named `<table>.csv`,
//! `<table>.csv.gz` or `<table>.parquet`) and the ASP's fluxIAE views (`fluxIAE_<View>_….csv`,
//! plain or gzip, or any file whose first line is `DEB<View>…`; duplicate lines dropped and
//! counted), given one by one or as folders, checks every row
//! against the table's specification (types, nullability, codes of the domain enumerations,
//! territory codes, formats, ranges, dates, primary-key uniqueness, references between tables),
//! and stores each table under the run's vintage, replacing what that vintage held. All tables
//! of a run go in one transaction: on any error nothing is written, and the error lists up to
//! `max_errors` problems, each with file, line, column, value and rule.

pub mod csv;
pub mod errors;
pub mod fluxiae;
pub mod input;
pub mod parquet;
pub mod text;
pub mod validate;

use std::fmt::Write as _;
use std::path::PathBuf;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use pilotage_core::source::{DataType, SourceTable};

use crate::storage::date::now_utc_text;
use crate::storage::write::{self, FileRecord, RunRecord};
use crate::storage::{Backend, Connection, StorageError, Store, Vintage};
use errors::{ErrorSink, RowError};
use input::{InputFile, InputFormat};
use text::SourceChunk;
use validate::{KeySet, RunKeys, TableValidator};

/// Rows per chunk read, validated and written at a time.
pub const CHUNK_ROWS: usize = 65_536;
/// Errors listed before a run gives up, unless `--max-errors` says otherwise.
pub const DEFAULT_MAX_ERRORS: usize = 20;

/// What to ingest, and where.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Files and folders of source extracts.
    pub inputs: Vec<PathBuf>,
    /// The store's database URL (see [`crate::storage::resolve_database_url`]).
    pub database_url: String,
    /// The extraction date the tables are stored under; today (UTC) when `None`.
    pub source_vintage: Option<Vintage>,
    /// Errors listed before the run gives up (at least 1).
    pub max_errors: usize,
}

impl IngestOptions {
    /// Options with today's vintage and [`DEFAULT_MAX_ERRORS`].
    pub fn new(inputs: Vec<PathBuf>, database_url: impl Into<String>) -> IngestOptions {
        IngestOptions {
            inputs,
            database_url: database_url.into(),
            source_vintage: None,
            max_errors: DEFAULT_MAX_ERRORS,
        }
    }
}

/// What happens during a run, for progress display.
#[derive(Debug, Clone)]
pub enum IngestEvent {
    /// The store is open and the files found.
    Started {
        /// Number of source files.
        files: usize,
        /// The store's backend.
        backend: Backend,
    },
    /// A file is about to be read.
    FileStarted {
        /// Its table.
        table: SourceTable,
        /// Its path.
        path: PathBuf,
        /// Its size in bytes.
        bytes: u64,
    },
    /// Rows of the current file read so far.
    Rows {
        /// The table.
        table: SourceTable,
        /// Rows read so far in this file.
        rows: u64,
    },
    /// A file is done.
    FileDone {
        /// The table.
        table: SourceTable,
        /// Rows read.
        rows: u64,
    },
    /// Something worth knowing that does not stop the run (an ignored column, …).
    Warning(String),
    /// Every table is valid and written; committing.
    Committing,
}

/// What one file brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    /// The table.
    pub table: SourceTable,
    /// The file.
    pub path: PathBuf,
    /// `csv`, `parquet` or `fluxiae`.
    pub format: &'static str,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Rows stored.
    pub rows: u64,
    /// Duplicate rows dropped (fluxIAE deliveries only).
    pub duplicates_dropped: u64,
}

/// The outcome of a successful run.
#[derive(Debug, Clone)]
pub struct IngestReport {
    /// The run's id in `ingestion_runs`.
    pub run_id: i64,
    /// The vintage every table was stored under.
    pub vintage: Vintage,
    /// The store's backend.
    pub backend: Backend,
    /// One entry per file, in table dependency order.
    pub tables: Vec<TableReport>,
    /// Warnings (ignored columns and files).
    pub warnings: Vec<String>,
    /// Rows stored, all tables together.
    pub rows: u64,
}

/// Why a run stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The store could not be opened or written.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A file could not be read at all.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file given by name is not a source file.
    #[error(
        "{path}: not a source file: expected <table>.csv, <table>.csv.gz or <table>.parquet where <table> is a canonical source table (structures, candidatures, …), or a fluxIAE view (fluxIAE_<View>_DDMMYYYY_HHMMSS.csv[.gz], or any file starting with a DEB<View> line)"
    )]
    UnknownFile {
        /// The file.
        path: PathBuf,
    },
    /// Nothing to ingest.
    #[error("no source file found in {inputs}")]
    NoInput {
        /// The inputs given.
        inputs: String,
    },
    /// Two files feed the same table.
    #[error("two files for table {table}: {first} and {second}")]
    DuplicateTable {
        /// The table.
        table: SourceTable,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// Reading stopped because writing failed (the writing error is what is reported).
    #[error("ingestion stopped")]
    Stopped,
    /// The sources break the contract: nothing was stored.
    #[error("{}", render_invalid(errors, *more))]
    Invalid {
        /// The problems found, in reading order, at most `max_errors`.
        errors: Vec<RowError>,
        /// True if reading stopped at `max_errors` (there may be more).
        more: bool,
    },
}

fn render_invalid(errors: &[RowError], more: bool) -> String {
    let mut out = format!(
        "refused: {} error{} in the sources{}; the store is unchanged",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" },
        if more {
            " (stopped there: raise --max-errors to list more)"
        } else {
            ""
        }
    );
    for e in errors {
        let _ = write!(out, "\n  {e}");
    }
    out
}

/// What reading one file gave.
#[derive(Debug, Clone, Default)]
pub struct FileOutcome {
    /// Rows read.
    pub rows: u64,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Duplicate rows dropped.
    pub duplicates: u64,
    /// Errors to report once the file's validation errors are complete (a fluxIAE view's format
    /// error, which ends its reading, comes after [`fluxiae::locate`]).
    pub deferred: Vec<RowError>,
}

/// Validates the sources of `options.inputs` and stores them in one transaction.
///
/// `progress` receives [`IngestEvent`]s as the run goes. On error the store is left exactly as
/// it was (a refused run is not even recorded).
pub fn ingest(
    options: &IngestOptions,
    progress: &mut dyn FnMut(IngestEvent),
) -> Result<IngestReport, IngestError> {
    let started_at = now_utc_text();
    let mut warnings = Vec::new();
    let files = input::resolve(&options.inputs, &mut warnings)?;
    for w in &warnings {
        progress(IngestEvent::Warning(w.clone()));
    }
    let vintage = options.source_vintage.unwrap_or_else(Vintage::today);
    let mut store = Store::open(&options.database_url)?;
    progress(IngestEvent::Started {
        files: files.len(),
        backend: store.backend(),
    });
    let bulk = store.begin_bulk_load()?;
    let result = run_in_transaction(
        &mut store,
        &files,
        vintage,
        options,
        &started_at,
        warnings,
        progress,
    );
    if bulk {
        store.end_bulk_load();
    }
    result
}

fn run_in_transaction(
    store: &mut Store,
    files: &[InputFile],
    vintage: Vintage,
    options: &IngestOptions,
    started_at: &str,
    mut warnings: Vec<String>,
    progress: &mut dyn FnMut(IngestEvent),
) -> Result<IngestReport, IngestError> {
    store.begin()?;
    let result = load_all(
        store,
        files,
        vintage,
        options.max_errors,
        &mut warnings,
        progress,
    )
    .and_then(|tables| {
        progress(IngestEvent::Committing);
        let records: Vec<FileRecord> = tables
            .iter()
            .map(|t| FileRecord {
                table: t.table,
                path: t.path.display().to_string(),
                format: t.format,
                sha256: t.sha256.clone(),
                bytes: t.bytes as i64,
                row_count: t.rows as i64,
                duplicates_dropped: t.duplicates_dropped as i64,
            })
            .collect();
        let rows: u64 = tables.iter().map(|t| t.rows).sum();
        let (user, host) = who();
        let run_id = write::record_run(
            store.connection(),
            &RunRecord {
                started_at,
                user_name: &user,
                host_name: &host,
                vintage,
                row_count: rows as i64,
                duplicates_dropped: tables.iter().map(|t| t.duplicates_dropped as i64).sum(),
                warning_count: warnings.len() as i64,
                files: &records,
            },
        )?;
        Ok((run_id, tables, rows))
    });
    match result {
        Ok((run_id, tables, rows)) => {
            store.commit()?;
            Ok(IngestReport {
                run_id,
                vintage,
                backend: store.backend(),
                tables,
                warnings,
                rows,
            })
        }
        Err(e) => {
            // The run's error matters more than a failed rollback, which the server undoes anyway
            // when the connection closes.
            let _ = store.rollback();
            Err(e)
        }
    }
}

/// The operating-system user and host running the ingestion, for `ingestion_runs`.
fn who() -> (String, String) {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned());
    let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    (user, host)
}

fn load_all(
    store: &mut Store,
    files: &[InputFile],
    vintage: Vintage,
    max_errors: usize,
    warnings: &mut Vec<String>,
    progress: &mut dyn FnMut(IngestEvent),
) -> Result<Vec<TableReport>, IngestError> {
    let mut sink = ErrorSink::new(max_errors);
    let mut keys = RunKeys::new();
    let mut reports = Vec::new();
    for file in files {
        let table = file.table;
        let bytes = std::fs::metadata(&file.path).map(|m| m.len()).unwrap_or(0);
        progress(IngestEvent::FileStarted {
            table,
            path: file.path.clone(),
            bytes,
        });
        for target in TableValidator::needed_targets(table) {
            if let std::collections::btree_map::Entry::Vacant(slot) = keys.entry(target) {
                slot.insert(stored_keys(store, target.0, target.1, vintage)?);
            }
        }
        let frozen = write::delete_vintage(store.connection(), table, vintage)?;
        let mut validator = TableValidator::new(table, &file.path);
        let warnings_before = warnings.len();
        let errors_before = sink.len();
        // Reading and validating run on a second thread while this one writes: the two overlap
        // (and, with PostgreSQL, so does the server's work).
        let conn = store.connection();
        let (outcome, _written) = std::thread::scope(|scope| {
            let (sender, receiver) = std::sync::mpsc::sync_channel::<SourceChunk>(2);
            let sink = &mut sink;
            let warnings = &mut *warnings;
            let validator = &mut validator;
            let keys = &keys;
            let reader = scope.spawn(move || {
                let mut on_chunk =
                    |chunk: SourceChunk, sink: &mut ErrorSink| -> Result<(), IngestError> {
                        validator.check(&chunk, keys, sink);
                        if !sink.is_empty() {
                            // Nothing will be stored: keep validating, stop sending.
                            return Ok(());
                        }
                        sender.send(chunk).map_err(|_| IngestError::Stopped)
                    };
                match file.format {
                    InputFormat::Csv => csv::read(file, sink, warnings, &mut on_chunk),
                    InputFormat::Parquet => parquet::read(file, sink, warnings, &mut on_chunk),
                    InputFormat::Fluxiae(view) => {
                        fluxiae::read(file, view, sink, warnings, &mut on_chunk)
                    }
                }
            });
            let mut written: u64 = 0;
            let mut next = || {
                let chunk = receiver.recv().ok()?;
                written += chunk.batch.num_rows() as u64;
                progress(IngestEvent::Rows {
                    table,
                    rows: written,
                });
                Some(chunk.batch)
            };
            let write_result = write::write_batches(conn, table, vintage, frozen, &mut next)
                .map_err(IngestError::from);
            // A reader still sending must see the end of the channel.
            drop(receiver);
            let read_result = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            write_result
                .and(read_result)
                .map(|outcome| (outcome, written))
        })?;
        for w in &warnings[warnings_before..] {
            progress(IngestEvent::Warning(w.clone()));
        }
        validator.finish(&mut keys, &mut sink);
        if let InputFormat::Fluxiae(view) = file.format {
            fluxiae::locate(&file.path, view, sink.errors_from(errors_before));
        }
        for e in outcome.deferred {
            sink.push(e);
        }
        progress(IngestEvent::FileDone {
            table,
            rows: outcome.rows,
        });
        reports.push(TableReport {
            table,
            path: file.path.clone(),
            format: file.format.name(),
            sha256: outcome.sha256,
            bytes: outcome.bytes,
            rows: outcome.rows,
            duplicates_dropped: outcome.duplicates,
        });
        if sink.is_full() {
            break;
        }
    }
    if sink.is_empty() {
        Ok(reports)
    } else {
        let (errors, more) = sink.into_parts();
        Err(IngestError::Invalid { errors, more })
    }
}

/// The key set of `table.column` as stored under `vintage` (a run referencing a table it does
/// not bring checks against the stored extraction of the same vintage).
fn stored_keys(
    store: &mut Store,
    table: SourceTable,
    column: &'static str,
    vintage: Vintage,
) -> Result<KeySet, StorageError> {
    #[derive(QueryableByName)]
    struct IntKey {
        #[diesel(sql_type = BigInt)]
        k: i64,
    }
    #[derive(QueryableByName)]
    struct TextKey {
        #[diesel(sql_type = Text)]
        k: String,
    }
    let is_text = table
        .column(column)
        .is_some_and(|c| c.data_type == DataType::Utf8);
    let name = crate::storage::ddl::quote_ident(column);
    let expr = if is_text {
        name.clone()
    } else {
        format!("CAST({name} AS BIGINT)")
    };
    let sql = format!(
        "SELECT {expr} AS k FROM {} WHERE vintage = '{vintage}' AND {name} IS NOT NULL",
        table.name()
    );
    let ctx = format!("reading the stored keys of {table}.{column}");
    Ok(if is_text {
        let rows: Vec<TextKey> = match store.connection() {
            Connection::Sqlite(c) => diesel::sql_query(sql).load(c),
            Connection::Postgres(c) => diesel::sql_query(sql).load(c),
        }
        .map_err(StorageError::query(ctx))?;
        KeySet::new(Vec::new(), rows.into_iter().map(|r| r.k).collect())
    } else {
        let rows: Vec<IntKey> = match store.connection() {
            Connection::Sqlite(c) => diesel::sql_query(sql).load(c),
            Connection::Postgres(c) => diesel::sql_query(sql).load(c),
        }
        .map_err(StorageError::query(ctx))?;
        KeySet::new(rows.into_iter().map(|r| r.k).collect(), Vec::new())
    })
}
