//! `pilotage demo`: the pipeline on small seeded data, as far as it is built.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pilotage_core::synth::{self, GeneratorConfig, OutputFormat};

use super::progress::GeneratorProgress;

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
}

/// Runs `pilotage demo`: today it generates the synthetic sources; ingestion, publication and
/// the API join this command as they land.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let sources = args.dir.join("sources");
    if sources.exists() {
        std::fs::remove_dir_all(&sources)
            .with_context(|| format!("clearing the previous demo sources {}", sources.display()))?;
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating the demo folder {}", args.dir.display()))?;
    let config = GeneratorConfig {
        scale: args.scale,
        seed: args.seed,
        first_year: 2021,
        last_year: 2025,
        format: OutputFormat::Parquet,
    };
    config
        .validate()
        .map_err(super::generate::with_flag_names)?;
    let mut progress = GeneratorProgress::new();
    let summary = synth::generate(&config, &sources, &mut |e| progress.on_event(e))
        .with_context(|| format!("generating the demo sources into {}", sources.display()))?;
    println!(
        "step 1/4 generate: {} synthetic source tables (scale {}, seed {}) in {}",
        summary.tables.len(),
        args.scale,
        args.seed,
        sources.display()
    );
    for table in &summary.tables {
        println!("  {:<28} {:>10} rows", table.file_name, table.rows);
    }
    println!("step 2/4 ingest: not available yet in this version");
    println!("step 3/4 publish: not available yet in this version");
    println!("step 4/4 serve: not available yet in this version");
    Ok(())
}
