//! Shared helpers of pilotage's benchmarks (see `benches/README.md`): a generated country's
//! cubes, and one pass of disclosure control over them (protection, published tables, the
//! independent checker) with its figures.

use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow_array::RecordBatch;
use pilotage_checker::{Input, Report, Rules};
use pilotage_core::cube::calendar::days_from_civil;
use pilotage_core::cube::{Cube, Geography};
use pilotage_core::dataset::{Definition, load_dir};
use pilotage_core::disclosure::release::{ProtectOptions, ReleaseProtection, protect_release};
use pilotage_core::indicator::{Context, Sources, compute_all};
use pilotage_core::release::published_batch;
use pilotage_core::synth::{GeneratorConfig, generate_batches};

/// The datasets `release_protect` protects by default (`PILOTAGE_DATASETS` chooses others).
pub const BENCH_DATASETS: [&str; 4] = ["etp", "offre", "pass_iae", "sorties"];

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The committed definitions, restricted to `ids` when given (in the folder's order).
pub fn definitions(ids: Option<&[String]>) -> Vec<Definition> {
    let mut defs =
        load_dir(&repo().join("pilotage-core/data/datasets")).expect("dataset definitions");
    if let Some(ids) = ids {
        defs.retain(|d| ids.contains(&d.id));
        assert_eq!(defs.len(), ids.len(), "unknown dataset among {ids:?}");
    }
    defs
}

/// The territory referential's départements and régions.
pub fn geography() -> Geography {
    Geography::from_reference_dir(&repo().join("pilotage-core/data/reference"))
        .expect("referential")
}

/// The sources of a generated country.
pub fn generated_sources(scale: f64, seed: u64, years: (i32, i32)) -> Sources {
    let config = GeneratorConfig {
        scale,
        seed,
        first_year: years.0,
        last_year: years.1,
        ..GeneratorConfig::default()
    };
    let mut sources = Sources::new();
    generate_batches(&config, &mut |table, batch| {
        sources.push(table, batch);
        Ok(())
    })
    .expect("generate");
    sources
}

/// The cubes of `defs` at the end of `last_year`.
pub fn cubes(defs: &[Definition], sources: &Sources, last_year: i32) -> Vec<Cube> {
    let context = Context {
        geography: geography(),
        as_of: days_from_civil(last_year, 12, 31),
    };
    compute_all(defs, sources, &context).expect("cubes")
}

/// The checker's rules for protection options, as publication builds them.
pub fn checker_rules(options: &ProtectOptions) -> Rules {
    let r = &options.rules;
    Rules {
        min_count: r.min_count,
        min_contributors: r.min_contributors,
        dominance: r.dominance,
        p_rule: r.p_rule,
        min_persons: r.min_persons,
        min_median_observations: r.min_median_observations,
        frequency_margin: r.frequency_margin,
        sensitive_dimensions: options.sensitive_dimensions.clone(),
    }
}

/// One pass of disclosure control over a release.
pub struct Pass {
    /// What the protection decided, with its certificate.
    pub protection: ReleaseProtection,
    /// Wall time of the protection, in seconds.
    pub protect_seconds: f64,
    /// Wall time of writing the published tables, in seconds.
    pub tables_seconds: f64,
    /// The independent checker's report on the published tables and the certificate.
    pub report: Report,
    /// Wall time of the check, in seconds.
    pub check_seconds: f64,
}

/// Protects `cubes`, publishes them under the mask and checks the certificate, as publication
/// does (the checker runs even when claims are left unproved, so that its figures are there).
pub fn protect_and_check(defs: &[Definition], cubes: &[Cube]) -> Pass {
    let options = ProtectOptions::default();
    let started = Instant::now();
    let protection = protect_release(cubes, defs, &options).expect("protection");
    let protect_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let tables: Vec<RecordBatch> = cubes
        .iter()
        .zip(&protection.secret)
        .map(|(cube, mask)| published_batch(cube, mask).expect("published table").0)
        .collect();
    let tables_seconds = started.elapsed().as_secs_f64();
    let rules = checker_rules(&options);
    let geography = geography();
    let started = Instant::now();
    let report = pilotage_checker::check(&Input {
        definitions: defs,
        published: &tables,
        truth: cubes,
        geography: &geography,
        previous: &[],
        certificate: &protection.certificate,
        rules: &rules,
    });
    let check_seconds = started.elapsed().as_secs_f64();
    Pass {
        protection,
        protect_seconds,
        tables_seconds,
        report,
        check_seconds,
    }
}

/// A variable of the environment parsed, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// `PILOTAGE_DATASETS` as a list of dataset ids: unset gives `default`, `all` gives `None`
/// (every dataset).
pub fn datasets_from_env(default: Option<&[&str]>) -> Option<Vec<String>> {
    match std::env::var("PILOTAGE_DATASETS") {
        Ok(s) if s == "all" => None,
        Ok(s) => Some(s.split(',').map(str::to_owned).collect()),
        Err(_) => default.map(|d| d.iter().map(|s| s.to_string()).collect()),
    }
}
