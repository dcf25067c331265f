//! Witness protection of a generated country, with its figures: values, claims, points, unproved claims by dataset and measure (`PILOTAGE_SCALE`, `PILOTAGE_SEED`, `PILOTAGE_DATASETS`).
use pilotage_core::cube::Geography;
use pilotage_core::cube::calendar::days_from_civil;
use pilotage_core::dataset::load_dir;
use pilotage_core::disclosure::release::{ProtectOptions, protect_release};
use pilotage_core::indicator::{Context, Sources, compute_all};
use pilotage_core::synth::{GeneratorConfig, generate_batches};
use std::path::{Path, PathBuf};
use std::time::Instant;
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
fn main() {
    let mut defs = load_dir(&repo().join("pilotage-core/data/datasets")).expect("definitions");
    if let Some(only) = std::env::var_os("PILOTAGE_DATASETS") {
        let only = only.to_string_lossy().into_owned();
        defs.retain(|d| only.split(',').any(|id| id == d.id));
    }
    let geography = Geography::from_reference_dir(&repo().join("pilotage-core/data/reference"))
        .expect("referential");
    let context = Context {
        geography,
        as_of: days_from_civil(2025, 12, 31),
    };
    let scale: f64 = std::env::var("PILOTAGE_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.001);
    let seed: u64 = std::env::var("PILOTAGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let t = Instant::now();
    let config = GeneratorConfig {
        scale,
        seed,
        ..GeneratorConfig::default()
    };
    let mut sources = Sources::new();
    generate_batches(&config, &mut |table, batch| {
        sources.push(table, batch);
        Ok(())
    })
    .expect("generate");
    let cubes = compute_all(&defs, &sources, &context).expect("cubes");
    println!("cubes {:.1}s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let p = protect_release(&cubes, &defs, &ProtectOptions::default()).expect("protect");
    let s = &p.stats;
    println!(
        "protect {:.1}s values {} rel {} conf {} claims {} points {} changes {} shared {} unproved {}",
        t.elapsed().as_secs_f64(),
        s.values,
        s.relations,
        s.confidential,
        s.claims,
        s.points,
        s.point_changes,
        s.claims_shared,
        s.unproved
    );
    println!(
        "overall primary {} secondary {} hidden {:.1}%",
        p.overall.primary,
        p.overall.secondary,
        p.overall.secret_share_pct()
    );
    for d in &p.datasets {
        println!(
            "  {:<22} values {:>8} primary {:>7} secondary {:>7} hidden {:>5.1}%",
            d.dataset,
            d.overall.values,
            d.overall.primary,
            d.overall.secondary,
            d.overall.secret_share_pct()
        );
    }
    let mut by: std::collections::BTreeMap<(String, String, String), usize> = Default::default();
    for u in &p.unresolved {
        *by.entry((u.dataset.clone(), u.measure.clone(), u.reason.clone()))
            .or_default() += 1;
    }
    for (k, v) in &by {
        println!("  unresolved {v:>6} {k:?}");
    }
    for u in p.unresolved.iter().take(8) {
        println!(
            "    {} {:?} {} = {} : {}",
            u.dataset, u.coordinates, u.measure, u.value, u.reason
        );
    }
    for k in &s.relation_kinds {
        if k.3.contains("where") || k.2.starts_with('=') {
            println!("  rel {:?}", k);
        }
    }
}
