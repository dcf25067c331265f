//! Shared by the disclosure tests, on top of `pilotage_testkit`: generated countries, their
//! published tables, the independent checker, and the exact reference (linear programs over
//! the attacker's system).

#![allow(dead_code)]

pub mod attacker;
pub mod lp;

use arrow_array::RecordBatch;
use pilotage_checker::{Check, Input, Report};
use pilotage_core::certificate::Certificate;
use pilotage_core::cube::Cube;
use pilotage_core::dataset::Definition;
use pilotage_core::disclosure::release::ProtectOptions;

pub use pilotage_testkit::{
    checker_rules, cubes, generated_country as sources, geography, published,
};

/// The committed definitions of `ids`, in that order.
pub fn definitions(ids: &[&str]) -> Vec<Definition> {
    let all = pilotage_testkit::definitions();
    ids.iter()
        .map(|id| {
            all.iter()
                .find(|d| d.id == *id)
                .unwrap_or_else(|| panic!("no definition {id}"))
                .clone()
        })
        .collect()
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
