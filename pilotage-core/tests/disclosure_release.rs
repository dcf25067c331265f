//! Disclosure control of a whole release of cubes: protection of the cubes computed from a small
//! synthetic country, then the independent audit of the published tables.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arrow_array::RecordBatch;
use pilotage_core::cube::calendar::days_from_civil;
use pilotage_core::cube::{Cube, Geography};
use pilotage_core::dataset::{Definition, load_dir};
use pilotage_core::disclosure::release::{
    ProtectOptions, ReleaseProtection, audit_release, protect_release,
};
use pilotage_core::indicator::{Context, Sources, compute_all};
use pilotage_core::release::published_batch;
use pilotage_core::synth::{GeneratorConfig, generate_batches};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Release {
    defs: Vec<Definition>,
    cubes: Vec<Cube>,
    protection: ReleaseProtection,
}

/// The cubes of a small synthetic country (scale 0.003, 2024–2025) and their protection.
fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        // Three datasets with every kind of relation: sums of events over every hierarchy,
        // stocks at period end (PASS IAE), averages over time (ETP), rates and differences.
        let mut defs = load_dir(&root().join("datasets")).expect("definitions");
        defs.retain(|d| d.id == "sorties");
        let config = GeneratorConfig {
            scale: 0.002,
            first_year: 2025,
            last_year: 2025,
            ..GeneratorConfig::default()
        };
        let mut sources = Sources::new();
        generate_batches(&config, &mut |table, batch| {
            sources.push(table, batch);
            Ok(())
        })
        .expect("generate");
        let geography =
            Geography::from_reference_dir(&root().join("datasets/reference")).expect("geography");
        let context = Context {
            geography,
            as_of: days_from_civil(2025, 12, 31),
        };
        let cubes = compute_all(&defs, &sources, &context).expect("cubes");
        let protection =
            protect_release(&cubes, &defs, &ProtectOptions::default()).expect("protection");
        Release {
            defs,
            cubes,
            protection,
        }
    })
}

fn published(r: &Release, secret: &[Vec<Vec<bool>>]) -> Vec<(Definition, RecordBatch)> {
    r.cubes
        .iter()
        .zip(secret)
        .map(|(cube, mask)| {
            let def = r
                .defs
                .iter()
                .find(|d| d.id == cube.dataset)
                .expect("definition")
                .clone();
            (def, published_batch(cube, mask).expect("batch").0)
        })
        .collect()
}

#[test]
fn protected_release_passes_the_audit() {
    let r = release();
    let p = &r.protection;
    assert!(
        p.unresolved.is_empty(),
        "unresolved: {:?}",
        &p.unresolved[..p.unresolved.len().min(5)]
    );
    assert!(p.overall.primary > 0, "a small country has small counts");
    assert!(p.overall.secondary > 0);
    let audit = audit_release(&published(r, &p.secret)).expect("audit");
    assert!(
        audit.passed,
        "{} failures, first: {:?}",
        audit.failures.len(),
        &audit.failures[..audit.failures.len().min(5)]
    );
    assert_eq!(audit.values, p.overall.values);
    assert_eq!(audit.secret, p.overall.primary + p.overall.secondary);
    assert!(audit.checked > 0);
    let summary = audit.summary();
    assert!(summary.passed && summary.failures == 0);
    eprintln!(
        "values {} primary {} secondary {} ratio {:.2}; audit: {} checked, {} components (largest {}), {} LPs",
        p.overall.values,
        p.overall.primary,
        p.overall.secondary,
        p.overall.secondary_per_primary(),
        audit.checked,
        audit.components,
        audit.largest_component,
        audit.lps
    );
}

#[test]
#[allow(clippy::needless_range_loop)]
fn protection_is_deterministic_and_keeps_the_rules() {
    let r = release();
    let again = protect_release(&r.cubes, &r.defs, &ProtectOptions::default()).expect("again");
    assert_eq!(again.secret, r.protection.secret);
    // Primary rules on the cubes: every count from 1 to 10 is hidden, public counts never,
    // rates over hidden parts are hidden.
    for (cube, mask) in r.cubes.iter().zip(&r.protection.secret) {
        for (mi, m) in cube.measures.iter().enumerate() {
            for row in 0..cube.len() {
                let v = cube.value(&m.id, row);
                if v.is_none() {
                    assert!(!mask[mi][row], "null values are never secret");
                    continue;
                }
                let v = v.unwrap_or(0.0);
                let public = [
                    "structures",
                    "fiches_ouvertes",
                    "fiches_en_tension",
                    "organisations",
                ]
                .contains(&m.id.as_str());
                if public {
                    assert!(!mask[mi][row], "{}: {} is public", cube.dataset, m.id);
                } else if matches!(m.values, pilotage_core::cube::MeasureValues::Counts(_))
                    && (1.0..=10.0).contains(&v)
                {
                    assert!(
                        mask[mi][row],
                        "{}: {} = {v} must be secret",
                        cube.dataset, m.id
                    );
                }
                if let Some((a, b)) = &m.parts {
                    let ia = cube.measures.iter().position(|x| &x.id == a).expect("part");
                    let ib = cube.measures.iter().position(|x| &x.id == b).expect("part");
                    if mask[ia][row] || mask[ib][row] {
                        assert!(
                            mask[mi][row],
                            "{}: {} over a secret part",
                            cube.dataset, m.id
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn the_audit_catches_primary_only_and_thinned_patterns() {
    let r = release();
    // Primary only: counts from 1 to 10 hidden, nothing else.
    let primary_only: Vec<Vec<Vec<bool>>> = r
        .cubes
        .iter()
        .map(|cube| {
            cube.measures
                .iter()
                .map(|m| {
                    (0..cube.len())
                        .map(|row| {
                            matches!(m.values, pilotage_core::cube::MeasureValues::Counts(_))
                                && cube
                                    .value(&m.id, row)
                                    .is_some_and(|v| (1.0..=10.0).contains(&v))
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let audit = audit_release(&published(r, &primary_only)).expect("audit");
    assert!(!audit.passed);
    assert!(
        audit
            .failures
            .iter()
            .any(|f| f.reason == "interval too narrow")
    );
    // Publishing back one secret count that is not itself small: detected in most cases.
    let mut candidates = Vec::new();
    for (ci, cube) in r.cubes.iter().enumerate() {
        for (mi, m) in cube.measures.iter().enumerate() {
            if !matches!(m.values, pilotage_core::cube::MeasureValues::Counts(_)) {
                continue;
            }
            for row in 0..cube.len() {
                let v = cube.value(&m.id, row).unwrap_or(0.0);
                if r.protection.secret[ci][mi][row] && (v == 0.0 || v > 10.0) {
                    candidates.push((ci, mi, row));
                }
            }
        }
    }
    assert!(!candidates.is_empty());
    let step = (candidates.len() / 10).max(1);
    let (mut tried, mut detected) = (0, 0);
    for &(ci, mi, row) in candidates.iter().step_by(step).take(10) {
        let mut mask = r.protection.secret.clone();
        mask[ci][mi][row] = false;
        // Derived values over it stay hidden: only the additive value is published back.
        let audit = audit_release(&published(r, &mask)).expect("audit");
        tried += 1;
        if !audit.passed {
            detected += 1;
        }
    }
    eprintln!("published back one secondary count: {detected} of {tried} detected");
    assert!(tried > 0);
}
