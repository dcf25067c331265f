//! Time of a full check on a synthetic release (ignored by default; run with
//! `PILOTAGE_CHECKER_SCALE=0.1 cargo test --release -p pilotage-checker --test scale -- --ignored
//! --nocapture`). Every count and magnitude is published secret and the certificate holds
//! pseudo-random points of four changes each: they mostly fail, but the checker evaluates every
//! relation they touch as it would for valid ones, so the time is that of a real certificate of
//! the same size.

use std::path::{Path, PathBuf};
use std::time::Instant;

use pilotage_checker::{Input, Rules, check, check_public};
use pilotage_core::certificate::{CellRef, Certificate, Claim, ClaimKind, Point, fingerprint};
use pilotage_core::cube::calendar::days_from_civil;
use pilotage_core::cube::{Geography, MeasureValues};
use pilotage_core::dataset::{MeasureKind, load_dir};
use pilotage_core::indicator::{Context, Sources, compute_all};
use pilotage_core::release::published_batch;
use pilotage_core::synth::{GeneratorConfig, generate_batches};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
#[ignore = "timing on synthetic data; run explicitly"]
fn scale() {
    let scale: f64 = std::env::var("PILOTAGE_CHECKER_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.01);
    let started = Instant::now();
    let config = GeneratorConfig {
        scale,
        first_year: 2024,
        last_year: 2025,
        ..GeneratorConfig::default()
    };
    let mut sources = Sources::new();
    generate_batches(&config, &mut |table, batch| {
        sources.push(table, batch);
        Ok(())
    })
    .expect("generate");
    let mut defs = load_dir(&root().join("pilotage-core/data/datasets")).expect("definitions");
    let ids = std::env::var("PILOTAGE_CHECKER_DATASETS")
        .unwrap_or_else(|_| "etp,offre,pass_iae,sorties".to_owned());
    defs.retain(|d| ids.split(',').any(|id| id == d.id));
    let geography = Geography::from_reference_dir(&root().join("pilotage-core/data/reference"))
        .expect("geography");
    let context = Context {
        geography: geography.clone(),
        as_of: days_from_civil(2025, 12, 31),
    };
    let cubes = compute_all(&defs, &sources, &context).expect("cubes");
    eprintln!("sources and cubes: {:?}", started.elapsed());

    let mut published = Vec::new();
    let mut cells: Vec<Vec<CellRef>> = Vec::new();
    for (d, cube) in cubes.iter().enumerate() {
        let mut mask = vec![vec![false; cube.len()]; cube.measures.len()];
        let mut base = Vec::new();
        for (m, measure) in cube.measures.iter().enumerate() {
            let movable = match measure.kind {
                MeasureKind::Persons | MeasureKind::Events | MeasureKind::Magnitude => true,
                MeasureKind::Rate | MeasureKind::Difference | MeasureKind::Median => false,
            };
            for r in 0..cube.len() {
                let present = match &measure.values {
                    MeasureValues::Counts(v) => v[r].is_some(),
                    MeasureValues::Values(v) => v[r].is_some(),
                };
                mask[m][r] = true;
                if present && movable {
                    base.push(CellRef {
                        dataset: d as u16,
                        row: r as u32,
                        measure: m as u16,
                    });
                }
            }
        }
        published.push(published_batch(cube, &mask).expect("batch").0);
        cells.push(base);
    }
    let values: usize = cells.iter().map(Vec::len).sum();
    let wanted: usize = std::env::var("PILOTAGE_CHECKER_POINTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(values / 4);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut points = Vec::with_capacity(wanted);
    for i in 0..wanted {
        let base = &cells[i % cells.len()];
        let mut changes: Vec<(CellRef, f64)> = (0..4)
            .map(|j| (base[next(base.len())], if j % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        changes.sort_by_key(|c| c.0);
        changes.dedup_by_key(|c| c.0);
        let claims = vec![Claim {
            cell: changes[0].0,
            kind: ClaimKind::Zero,
        }];
        points.push(Point { changes, claims });
    }
    let certificate = Certificate {
        release: String::new(),
        datasets: defs.iter().map(|d| d.id.clone()).collect(),
        measures: cubes
            .iter()
            .map(|c| c.measures.iter().map(|m| m.id.clone()).collect())
            .collect(),
        fingerprint: fingerprint(&cubes),
        points,
    };
    let rules = Rules::default();
    let started = Instant::now();
    let report = check(&Input {
        definitions: &defs,
        published: &published,
        truth: &cubes,
        geography: &geography,
        previous: &[],
        certificate: &certificate,
        rules: &rules,
    });
    eprintln!(
        "check: {:?} for {} values, {} points ({} confidential, {} claims, {} failures listed, {} more)",
        started.elapsed(),
        report.values,
        report.points,
        report.confidential,
        report.claims,
        report.failures.len(),
        report.failures_not_listed
    );
    let started = Instant::now();
    let public = check_public(&defs, &published, &rules);
    eprintln!(
        "public check: {:?}, passed {}, {} failures",
        started.elapsed(),
        public.passed,
        public.failures.len() as u64 + public.failures_not_listed
    );
    assert!(public.passed, "everything secret passes the public check");
    assert_eq!(report.points as usize, wanted);
}
