//! `pilotage demo`: the whole pipeline on small seeded data, then the API on the release.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use pilotage_core::dataset;
use pilotage_core::synth::{self, GeneratorConfig, OutputFormat};

use super::progress::GeneratorProgress;
use crate::ingest::{self, IngestOptions};
use crate::publish::PublishOptions;
use crate::server::{self, ServeOptions};
use crate::storage::Vintage;

/// Options of `pilotage demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Working folder of the demo (sources, store, releases).
    #[arg(long, default_value = "data/demo")]
    pub dir: PathBuf,
    /// Size of the synthetic country relative to the whole (0.01 = one hundredth).
    #[arg(long, default_value_t = 0.001)]
    pub scale: f64,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Address the API listens on once the release is published.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Stop after publishing instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Folder of the dataset definitions (`<id>.toml`) to take the demo's datasets from,
    /// instead of the definitions built into the binary.
    #[arg(long)]
    pub datasets: Option<PathBuf>,
}

const FIRST_YEAR: i32 = 2025;
const LAST_YEAR: i32 = 2025;

/// The datasets the demo publishes: every dataset built into the binary, each of them
/// protected with every claim of its confidential values proved under the relations the
/// definitions declare (docs/disclosure.md).
pub const DEMO_DATASETS: [&str; 9] = [
    "offre",
    "pass_iae",
    "sorties",
    "etp",
    "candidatures",
    "candidatures_delais",
    "candidatures_refus",
    "prescriptions",
    "beneficiaires",
];

/// Runs `pilotage demo`: generates seeded sources, ingests them into an embedded SQLite store,
/// publishes a protected and checked release from the store, and serves it until ctrl-c.
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

    // 3. Publish: compute, protect, check, write the release.
    let definitions = args.dir.join("datasets");
    remove_if_present(&definitions)?;
    std::fs::create_dir_all(&definitions)
        .with_context(|| format!("creating {}", definitions.display()))?;
    for id in DEMO_DATASETS {
        let to = definitions.join(format!("{id}.toml"));
        match &args.datasets {
            Some(dir) => {
                let from = dir.join(format!("{id}.toml"));
                std::fs::copy(&from, &to)
                    .with_context(|| format!("copying the definition {}", from.display()))?;
            }
            None => {
                let text = dataset::embedded_toml(id)
                    .with_context(|| format!("no definition of {id} is built in"))?;
                std::fs::write(&to, text)
                    .with_context(|| format!("writing the definition {}", to.display()))?;
            }
        }
    }
    let waiting: Vec<&str> = dataset::EMBEDDED
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !DEMO_DATASETS.contains(id))
        .collect();
    if waiting.is_empty() {
        println!("3/4 publish   {}", DEMO_DATASETS.join(", "));
    } else {
        println!(
            "3/4 publish   {} ({} wait for every claim of their confidential values to be proved)",
            DEMO_DATASETS.join(", "),
            waiting.join(" and ")
        );
    }
    let releases = args.dir.join("releases");
    let publish_options = PublishOptions {
        database_url: url,
        releases: releases.clone(),
        datasets: Some(definitions),
        keep: Some(3),
        private: Some(args.dir.join("private")),
        base_url: format!("http://{}/v1/releases/{{version}}/files/", args.bind),
    };
    let written = super::publish::run_with_progress(&publish_options)?;
    let secret: u64 = written.manifest.datasets.iter().map(|d| d.secret).sum();
    let values: u64 = written.manifest.datasets.iter().map(|d| d.values).sum();
    println!(
        "              release {} in {}: {} datasets, {values} values of which {secret} secret, disclosure control checked",
        written.version,
        written.dir.display(),
        written.manifest.datasets.len()
    );

    // 4. Serve it.
    if args.no_serve {
        println!(
            "4/4 serve     skipped (--no-serve); run `pilotage serve --releases {}`",
            releases.display()
        );
        return Ok(());
    }
    let mut options = ServeOptions::new(args.bind.clone(), releases);
    options.professional = Some(crate::server::professional::ProfessionalOptions {
        database_url: publish_options.database_url.clone(),
        private: args.dir.join("private"),
        per_key_per_minute: 600,
    });
    server::run(options, |url| {
        println!("4/4 serve     {url}/v1/datasets  (documentation: {url}/docs/, stop with ctrl-c)");
    })
    .context("serving the demo release")
}

fn remove_if_present(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("clearing the previous demo folder {}", dir.display()))?;
    }
    Ok(())
}
