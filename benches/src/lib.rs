//! Shared helpers of pilotage's benchmarks (see `benches/README.md`): a generated country's
//! cubes, and one pass of disclosure control over them (protection, published tables, the
//! independent checker) with its figures.

use std::time::Instant;

use arrow_array::RecordBatch;
use pilotage_checker::{Input, Report};
use pilotage_core::cube::Cube;
use pilotage_core::dataset::Definition;
use pilotage_core::disclosure::release::{ProtectOptions, ReleaseProtection, protect_release};

/// The datasets `release_protect` protects by default (`PILOTAGE_DATASETS` chooses others).
pub const BENCH_DATASETS: [&str; 4] = ["etp", "offre", "pass_iae", "sorties"];

pub use pilotage_testkit::{
    checker_rules, cubes, generated_country as generated_sources, geography, root as repo,
};

/// The committed definitions, restricted to `ids` when given (in the folder's order).
pub fn definitions(ids: Option<&[String]>) -> Vec<Definition> {
    match ids {
        Some(ids) => pilotage_testkit::definitions_among(ids),
        None => pilotage_testkit::definitions(),
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
    let tables: Vec<RecordBatch> = pilotage_testkit::published(cubes, &protection.secret);
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
