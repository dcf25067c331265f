//! Disclosure control of a whole release: the cubes of `etp`, `offre`, `pass_iae` and
//! `sorties` computed from a generated country, protected by
//! `disclosure::release::protect_release` (witness points), published, and checked by the
//! independent checker (`pilotage-checker`). One timed pass (no criterion samples).
//!
//! - `PILOTAGE_SCALE` (default 0.002), `PILOTAGE_SEED` (default 1): the generated country,
//!   2021–2025; or `PILOTAGE_SOURCES_DIR`: a folder of `<table>.parquet` files
//!   (`pilotage generate`).
//! - `PILOTAGE_DATASETS=a,b` restricts the run to some datasets; `PILOTAGE_DATASETS=all` runs
//!   the nine, claims left unproved counted per dataset.
//!
//! `cargo bench -p pilotage-benches --bench release_protect`

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use pilotage_benches::{
    BENCH_DATASETS, cubes, datasets_from_env, definitions, env_or, generated_sources,
    protect_and_check,
};
use pilotage_core::disclosure::release::LossCounts;
use pilotage_core::indicator::Sources;

fn line(label: &str, l: &LossCounts) {
    println!(
        "  {label:<24} values {:>9}  primary {:>8}  secondary {:>8}  hidden {:>5.1} %  count value hidden {:>5.2} %",
        l.values,
        l.primary,
        l.secondary,
        l.secret_share_pct(),
        l.value_share_pct(),
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let ids = datasets_from_env(Some(&BENCH_DATASETS));
    let defs = definitions(ids.as_deref());
    let started = Instant::now();
    let sources = match std::env::var_os("PILOTAGE_SOURCES_DIR") {
        Some(dir) => {
            println!("sources: {}", Path::new(&dir).display());
            Sources::from_parquet_dir(Path::new(&dir)).expect("parquet sources")
        }
        None => {
            let scale: f64 = env_or("PILOTAGE_SCALE", 0.002);
            let seed: u64 = env_or("PILOTAGE_SEED", 1);
            println!("sources: generated, scale {scale}, seed {seed}, 2021-2025");
            generated_sources(scale, seed, (2021, 2025))
        }
    };
    println!("sources ready: {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let cubes = cubes(&defs, &sources, 2025);
    drop(sources);
    println!(
        "cubes: {:.1} s, {} datasets, {} rows, {} cells",
        started.elapsed().as_secs_f64(),
        cubes.len(),
        cubes.iter().map(|c| c.len()).sum::<usize>(),
        cubes.iter().map(|c| c.cell_count()).sum::<usize>()
    );

    let pass = protect_and_check(&defs, &cubes);
    let p = &pass.protection;
    let s = &p.stats;
    println!(
        "protect: {:.1} s; {} values, {} relations, {} confidential, {} claims, {} points \
         ({} value changes, {} claims proved by a point built for another), {} unproved; \
         {:.1} % hidden",
        pass.protect_seconds,
        s.values,
        s.relations,
        s.confidential,
        s.claims,
        s.points,
        s.point_changes,
        s.claims_shared,
        s.unproved,
        p.overall.secret_share_pct()
    );
    line("release", &p.overall);
    for (level, l) in &p.by_territorial_level {
        line(level, l);
    }
    for d in &p.datasets {
        line(&d.dataset, &d.overall);
    }
    let mut unproved: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for u in &p.unresolved {
        *unproved
            .entry((u.dataset.as_str(), u.measure.as_str()))
            .or_default() += 1;
    }
    for ((dataset, measure), n) in &unproved {
        println!("  unproved {n:>7}  {dataset} {measure}");
    }
    let bytes = p.certificate.to_bytes().expect("certificate bytes").len();
    println!(
        "published tables: {:.1} s; certificate {bytes} bytes",
        pass.tables_seconds
    );
    let r = &pass.report;
    println!(
        "check: {:.2} s; passed {}, {} values, {} secret, {} confidential, {} claims, {} points, \
         {} failures",
        pass.check_seconds,
        r.passed,
        r.values,
        r.secret,
        r.confidential,
        r.claims,
        r.points,
        r.failures.len() as u64 + r.failures_not_listed
    );
    for f in r.failures.iter().take(5) {
        println!("  failing: {f}");
    }
}
