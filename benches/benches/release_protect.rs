//! Protection and audit of a whole release: the cubes of every dataset computed from the
//! generated sources, protected by `disclosure::release::protect_release`, written to the
//! published layout and audited by `audit_release`. One timed pass (no criterion samples: a
//! pass at scale 1 takes minutes).
//!
//! - `PILOTAGE_SOURCES_DIR`: a folder of `<table>.parquet` files (`pilotage generate`); else
//!   the sources are generated in memory at `PILOTAGE_SCALE` (default 0.01), seed 1, 2021–2025.
//! - `PILOTAGE_DATASETS=candidatures,beneficiaires` restricts the run to some datasets.
//!
//! `cargo bench -p pilotage-benches --bench release_protect`

use std::path::{Path, PathBuf};
use std::time::Instant;

use pilotage_core::cube::Geography;
use pilotage_core::cube::calendar::days_from_civil;
use pilotage_core::dataset::load_dir;
use pilotage_core::disclosure::release::{
    LossCounts, ProtectOptions, audit_release_with, protect_release,
};
use pilotage_core::indicator::{Context, Sources, compute_all};
use pilotage_core::release::published_batch;
use pilotage_core::synth::{GeneratorConfig, generate_batches};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn line(label: &str, l: &LossCounts) {
    println!(
        "  {label:<24} values {:>9}  primary {:>8}  secondary {:>8}  hidden {:>5.1} %  count value hidden {:>5.2} %  secondary/primary {:>5.2}",
        l.values,
        l.primary,
        l.secondary,
        l.secret_share_pct(),
        l.value_share_pct(),
        l.secondary_per_primary()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut defs = load_dir(&repo().join("datasets")).expect("definitions");
    if let Some(only) = std::env::var_os("PILOTAGE_DATASETS") {
        let only = only.to_string_lossy().into_owned();
        defs.retain(|d| only.split(',').any(|id| id == d.id));
    }
    let geography =
        Geography::from_reference_dir(&repo().join("datasets/reference")).expect("referential");
    let context = Context {
        geography,
        as_of: days_from_civil(2025, 12, 31),
    };
    let start = Instant::now();
    let sources = match std::env::var_os("PILOTAGE_SOURCES_DIR") {
        Some(dir) => {
            println!("sources: {}", Path::new(&dir).display());
            Sources::from_parquet_dir(Path::new(&dir)).expect("parquet sources")
        }
        None => {
            let scale: f64 = std::env::var("PILOTAGE_SCALE")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0.01);
            println!("sources: generated, scale {scale}, seed 1, 2021-2025");
            let config = GeneratorConfig {
                scale,
                seed: 1,
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
    };
    println!("sources ready: {:.1} s", start.elapsed().as_secs_f64());
    let start = Instant::now();
    let cubes = compute_all(&defs, &sources, &context).expect("cubes");
    drop(sources);
    let cells: usize = cubes.iter().map(|c| c.cell_count()).sum();
    println!(
        "cubes: {:.1} s, {} rows, {cells} cells",
        start.elapsed().as_secs_f64(),
        cubes.iter().map(|c| c.len()).sum::<usize>()
    );
    let start = Instant::now();
    let mut options = ProtectOptions::default();
    if let Some(n) = std::env::var("PILOTAGE_MAX_COMPONENT")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        options.max_component = n;
    }
    if std::env::var_os("PILOTAGE_NO_BOXES").is_some() {
        options.boxes = false;
    }
    let p = protect_release(&cubes, &defs, &options).expect("protection");
    let protect_s = start.elapsed().as_secs_f64();
    let s = &p.stats;
    println!(
        "protect: {protect_s:.1} s; {} values, {} relations, {} hidden after the fast pass, {} rounds, {} components solved (largest {}), {} LPs, {} checks by moves, {} by bounds, {} unresolved",
        s.values,
        s.relations,
        s.hidden_after_fast_pass,
        s.rounds,
        s.components_solved,
        s.largest_component,
        s.lps,
        s.certified_by_moves,
        s.certified_by_bounds,
        p.unresolved.len()
    );
    line("release", &p.overall);
    for (level, l) in &p.by_territorial_level {
        line(level, l);
    }
    for d in &p.datasets {
        line(&d.dataset, &d.overall);
        for (level, l) in &d.by_territorial_level {
            line(&format!("  {level}"), l);
        }
    }
    let start = Instant::now();
    let tables: Vec<_> = cubes
        .iter()
        .zip(&p.secret)
        .map(|(cube, mask)| {
            let def = defs
                .iter()
                .find(|d| d.id == cube.dataset)
                .expect("definition")
                .clone();
            (def, published_batch(cube, mask).expect("batch").0)
        })
        .collect();
    drop(cubes);
    println!("published tables: {:.1} s", start.elapsed().as_secs_f64());
    let start = Instant::now();
    let audit = audit_release_with(&tables, &options).expect("audit");
    println!(
        "audit: {:.1} s; passed {}, {} values, {} secret, {} checked, {} settled by bounds, {} components (largest {}), {} LPs, {} checked in chunks, {} failures",
        start.elapsed().as_secs_f64(),
        audit.passed,
        audit.values,
        audit.secret,
        audit.checked,
        audit.settled_by_bounds,
        audit.components,
        audit.largest_component,
        audit.lps,
        audit.chunked,
        audit.failures.len()
    );
    for f in audit.failures.iter().take(10) {
        println!("  failing: {f:?}");
    }
}
