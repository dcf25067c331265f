//! `pilotage publish`: compute, protect, check, certify and write a release from the store.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::publish::{self, PublishOptions, Stage};
use crate::storage;

/// Default folder of the releases.
pub const DEFAULT_RELEASES: &str = "releases";
/// Default base URL of the files in the catalog: the API's own route for a release's files.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080/v1/releases/{version}/files/";

/// Options of `pilotage publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The store: a SQLite file path (default `./data/pilotage.sqlite`) or a `postgres://` URL.
    #[arg(long, env = storage::DATABASE_URL_ENV)]
    pub database_url: Option<String>,
    /// Folder of the releases: the release goes to `<dir>/<version>/`, `<dir>/current` points at it.
    #[arg(long, default_value = DEFAULT_RELEASES)]
    pub releases: PathBuf,
    /// Folder of the dataset definitions (`<id>.toml`), instead of the definitions built into
    /// the binary (every dataset pilotage publishes).
    #[arg(long)]
    pub datasets: Option<PathBuf>,
    /// Keep only the N most recent releases (the new one included; `current` is never removed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub keep: Option<u64>,
    /// Public base URL of the release files, written into the DCAT catalog (`{version}` is
    /// replaced by the release version).
    #[arg(long, default_value = DEFAULT_BASE_URL)]
    pub base_url: String,
    /// Folder of the professional tables (per structure and month, unprotected): default
    /// `private` beside the releases folder; never inside it.
    #[arg(long)]
    pub private: Option<PathBuf>,
    /// Do not compute the professional tables.
    #[arg(long, conflicts_with = "private")]
    pub no_private: bool,
}

/// The default private folder: `private` beside the releases folder.
pub fn default_private(releases: &std::path::Path) -> PathBuf {
    releases
        .parent()
        .map_or_else(|| PathBuf::from("private"), |p| p.join("private"))
}

/// Runs `pilotage publish`.
pub fn run(args: PublishArgs) -> anyhow::Result<()> {
    let private = match (args.no_private, args.private) {
        (true, _) => None,
        (false, Some(dir)) => Some(dir),
        (false, None) => Some(default_private(&args.releases)),
    };
    let options = PublishOptions {
        private,
        database_url: storage::resolve_database_url(args.database_url.as_deref()),
        releases: args.releases,
        datasets: args.datasets,
        keep: args.keep.map(|k| usize::try_from(k).unwrap_or(usize::MAX)),
        base_url: args.base_url,
    };
    let written = run_with_progress(&options)?;
    println!("{}", written.dir.display());
    Ok(())
}

/// Publishes with a spinner on a terminal and one line per stage on stdout.
pub fn run_with_progress(
    options: &PublishOptions,
) -> anyhow::Result<pilotage_core::release::WrittenRelease> {
    let started = Instant::now();
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar.set_message("loading the sources from the store");
    let written = publish::publish(options, &mut |stage| {
        let line = match stage {
            Stage::Loaded {
                rows,
                vintage,
                elapsed,
            } => {
                bar.set_message("computing the datasets");
                format!(
                    "load     {rows} source rows, vintage {vintage} ({:.1} s)",
                    elapsed.as_secs_f64()
                )
            }
            Stage::Computed { cells, elapsed } => {
                bar.set_message("disclosure control");
                format!("compute  {cells} values ({:.1} s)", elapsed.as_secs_f64())
            }
            Stage::Protected {
                primary,
                secondary,
                points,
                elapsed,
            } => {
                bar.set_message("checking the certificate");
                format!(
                    "protect  {primary} primary and {secondary} secondary secret values, \
                     {points} witness points ({:.1} s)",
                    elapsed.as_secs_f64()
                )
            }
            Stage::Audited {
                confidential,
                claims,
                points,
                elapsed,
            } => {
                bar.set_message("filing the certificate in the store");
                format!(
                    "check    {confidential} confidential values: {claims} claims proved by \
                     {points} witness points ({:.1} s)",
                    elapsed.as_secs_f64()
                )
            }
            Stage::Certified {
                version,
                bytes,
                elapsed,
            } => {
                bar.set_message("writing the release");
                format!(
                    "certify  certificate of {version} ({bytes} bytes) saved in the store \
                     ({:.1} s)",
                    elapsed.as_secs_f64()
                )
            }
            Stage::Written { elapsed } => {
                bar.set_message("computing the professional tables");
                format!("write    ({:.1} s)", elapsed.as_secs_f64())
            }
            Stage::Private {
                bytes,
                rows,
                elapsed,
            } => {
                format!(
                    "private  professional tables: {rows} rows, {bytes} bytes ({:.1} s)",
                    elapsed.as_secs_f64()
                )
            }
        };
        bar.suspend(|| eprintln!("{line}"));
    });
    bar.finish_and_clear();
    let written = written?;
    let state = if written.unchanged {
        "unchanged, already published"
    } else {
        "written"
    };
    eprintln!(
        "release  {} {state}, current in {} ({:.1} s in all)",
        written.version,
        options.releases.display(),
        started.elapsed().as_secs_f64()
    );
    for name in &written.pruned {
        eprintln!("pruned   {name}");
    }
    Ok(written)
}
