//! `pilotage demo`: the pipeline on small seeded data, as far as it is built.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use pilotage_core::cube::Geography;
use pilotage_core::dataset;
use pilotage_core::indicator::{self, Context, Sources};
use pilotage_core::source::SourceTable;
use pilotage_core::synth::{self, GeneratorConfig, OutputFormat};
use pilotage_core::territory::Referential;

use super::progress::GeneratorProgress;
use crate::ingest::{self, IngestOptions};
use crate::storage::{self, Store, Vintage};

/// Options of `pilotage demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Working folder of the demo (sources, store, releases).
    #[arg(long, default_value = "data/demo")]
    pub dir: PathBuf,
    /// Size of the synthetic country relative to the whole (0.01 = one hundredth).
    #[arg(long, default_value_t = 0.01)]
    pub scale: f64,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder of the dataset definitions (`<id>.toml`).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets"))]
    pub datasets: PathBuf,
}

const FIRST_YEAR: i32 = 2021;
const LAST_YEAR: i32 = 2025;

/// Runs `pilotage demo`: generates seeded sources, ingests them into an embedded SQLite store,
/// and computes every dataset's cube from the store. Disclosure control, publication and the
/// API join this command as they land.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating the demo folder {}", args.dir.display()))?;

    // 1. Sources.
    let sources_dir = args.dir.join("sources");
    remove_if_present(&sources_dir)?;
    let config = GeneratorConfig {
        scale: args.scale,
        seed: args.seed,
        first_year: FIRST_YEAR,
        last_year: LAST_YEAR,
        format: OutputFormat::Parquet,
    };
    config
        .validate()
        .map_err(super::generate::with_flag_names)?;
    let mut progress = GeneratorProgress::new();
    let generated = synth::generate(&config, &sources_dir, &mut |e| progress.on_event(e))
        .with_context(|| format!("generating the demo sources into {}", sources_dir.display()))?;
    let rows: u64 = generated.tables.iter().map(|t| t.rows).sum();
    println!(
        "1/4 generate  {} synthetic source tables, {rows} rows (scale {}, seed {}) in {}",
        generated.tables.len(),
        args.scale,
        args.seed,
        sources_dir.display()
    );

    // 2. Store: a fresh embedded SQLite file.
    let store_path = args.dir.join("pilotage.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", store_path.display()));
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("removing the previous demo store {}", path.display()))?;
        }
    }
    let url = store_path.display().to_string();
    let vintage: Vintage = format!("{LAST_YEAR}-12-31")
        .parse()
        .context("the demo's vintage")?;
    let mut options = IngestOptions::new(vec![sources_dir], url.clone());
    options.source_vintage = Some(vintage);
    let report = ingest::ingest(&options, &mut |_| {}).context("ingesting the demo sources")?;
    println!(
        "2/4 ingest    {} rows validated and stored in {} (SQLite, vintage {})",
        report.rows,
        store_path.display(),
        report.vintage
    );

    // 3. Indicators, computed from what the store gives back.
    let mut store = Store::open(&url).context("opening the demo store")?;
    let mut sources = Sources::new();
    for table in SourceTable::ALL {
        for batch in storage::load_table(&mut store, *table, vintage)? {
            sources.push(*table, batch?);
        }
    }
    let definitions = dataset::load_dir(&args.datasets).with_context(|| {
        format!(
            "loading the dataset definitions from {}",
            args.datasets.display()
        )
    })?;
    let referential = Referential::official();
    let context = Context {
        geography: Geography::from_pairs(
            referential
                .all_departements()
                .iter()
                .map(|d| (d.code.as_str(), d.region.as_str())),
        ),
        as_of: vintage.days(),
    };
    let cubes = indicator::compute_all(&definitions, &sources, &context)
        .context("computing the indicators")?;
    let cells: usize = cubes.iter().map(|c| c.cell_count()).sum();
    println!(
        "3/4 compute   {} datasets, {cells} cells with every margin:",
        cubes.len()
    );
    for (def, cube) in definitions.iter().zip(&cubes) {
        println!("      {:<22} {:>9} cells", def.id, cube.cell_count());
    }

    println!(
        "4/4 protect, publish and serve: not available in this version (the open-data API comes \
         with disclosure control and releases)"
    );
    Ok(())
}

fn remove_if_present(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("clearing the previous demo folder {}", dir.display()))?;
    }
    Ok(())
}
