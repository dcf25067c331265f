//! `pilotage ingest`: validate source extracts and load them into the store in one transaction.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::ingest::{self, IngestEvent, IngestOptions};
use crate::storage::{self, Vintage};

/// Options of `pilotage ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Source files or folders: `<table>.csv`, `<table>.csv.gz` or `<table>.parquet` (the
    /// canonical contract), or ASP fluxIAE views (`fluxIAE_<View>_DDMMYYYY_HHMMSS.csv[.gz]`, or
    /// any file whose first line is `DEB<View>…`).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The store: a SQLite file path (default `./data/pilotage.sqlite`) or a `postgres://` URL.
    #[arg(long, env = storage::DATABASE_URL_ENV)]
    pub database_url: Option<String>,
    /// Extraction date the tables are stored under (`YYYY-MM-DD`); today (UTC) by default.
    #[arg(long)]
    pub source_vintage: Option<Vintage>,
    /// Errors listed before the run gives up (at least 1).
    #[arg(long, default_value_t = ingest::DEFAULT_MAX_ERRORS as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_errors: u64,
}

/// Runs `pilotage ingest`.
pub fn run(args: IngestArgs) -> anyhow::Result<()> {
    let database_url = storage::resolve_database_url(args.database_url.as_deref());
    let mut options = IngestOptions::new(args.inputs, database_url);
    options.source_vintage = args.source_vintage;
    options.max_errors = usize::try_from(args.max_errors).unwrap_or(usize::MAX);
    let started = Instant::now();
    // indicatif draws only when stderr is a terminal.
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos}/{len} {msg}")
    {
        bar.set_style(style);
    }
    let report = ingest::ingest(&options, &mut |event| match event {
        IngestEvent::Started { files, .. } => bar.set_length(files as u64),
        IngestEvent::FileStarted { table, .. } => bar.set_message(table.name().to_owned()),
        IngestEvent::Rows { table, rows } => bar.set_message(format!("{table}: {rows} rows")),
        IngestEvent::FileDone { .. } => bar.inc(1),
        IngestEvent::Warning(w) => bar.suspend(|| eprintln!("warning: {w}")),
        IngestEvent::Committing => bar.set_message("committing"),
    });
    bar.finish_and_clear();
    let report = report?;
    println!(
        "ingested {} rows from {} files into the {} store (vintage {}, run {}) in {:.1} s",
        report.rows,
        report.tables.len(),
        report.backend.name(),
        report.vintage,
        report.run_id,
        started.elapsed().as_secs_f64()
    );
    for t in &report.tables {
        let dups = if t.duplicates_dropped > 0 {
            format!(" ({} duplicates dropped)", t.duplicates_dropped)
        } else {
            String::new()
        };
        println!("  {:<28} {:>12} rows{dups}", t.table.name(), t.rows);
    }
    Ok(())
}
