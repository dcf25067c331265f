//! Shared by the disclosure tests, on top of `support`: generated countries, their published
//! tables, the independent checker, and the exact reference (linear programs over the
//! attacker's system).

#![allow(dead_code)]

pub mod attacker;
pub mod lp;

use arrow_array::RecordBatch;
use pilotage_checker::{Check, Input, Report, Rules};
use pilotage_core::certificate::Certificate;
use pilotage_core::cube::Cube;
use pilotage_core::dataset::Definition;
use pilotage_core::disclosure::release::ProtectOptions;
use pilotage_core::indicator::Sources;
use pilotage_core::release::published_batch;
use pilotage_core::synth::GeneratorConfig;

pub use super::support::{cubes, geography};

/// The committed definitions of `ids`, in that order.
pub fn definitions(ids: &[&str]) -> Vec<Definition> {
    let all = super::support::definitions();
    ids.iter()
        .map(|id| {
            all.iter()
                .find(|d| d.id == *id)
                .unwrap_or_else(|| panic!("no definition {id}"))
                .clone()
        })
        .collect()
}

/// The sources of a generated country of `scale` and `seed`, the years `years` only.
pub fn sources(scale: f64, seed: u64, years: (i32, i32)) -> Sources {
    let config = GeneratorConfig {
        scale,
        seed,
        first_year: years.0,
        last_year: years.1,
        ..GeneratorConfig::default()
    };
    super::support::generated(&config)
}

/// The published tables of `cubes` under `secret[cube][measure][row]`.
pub fn published(cubes: &[Cube], secret: &[Vec<Vec<bool>>]) -> Vec<RecordBatch> {
    cubes
        .iter()
        .zip(secret)
        .map(|(cube, mask)| published_batch(cube, mask).expect("published table").0)
        .collect()
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

/// The full check of a release with the default rules.
pub fn check(
    defs: &[Definition],
    cubes: &[Cube],
    published: &[RecordBatch],
    certificate: &Certificate,
    previous: &[(String, RecordBatch)],
) -> Report {
    let rules = checker_rules(&ProtectOptions::default());
    let geography = geography();
    pilotage_checker::check(&Input {
        definitions: defs,
        published,
        truth: cubes,
        geography: &geography,
        previous,
        certificate,
        rules: &rules,
    })
}

/// The kinds of check that failed, sorted, each once.
pub fn failed_checks(report: &Report) -> Vec<Check> {
    let mut kinds: Vec<Check> = report.failures.iter().map(|f| f.check).collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// The first failures of a report, for messages.
pub fn first_failures(report: &Report) -> String {
    report
        .failures
        .iter()
        .take(5)
        .map(|f| format!("\n  {f}"))
        .collect()
}
