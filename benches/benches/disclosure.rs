//! Disclosure control at 10⁴ and 10⁵ cells: the audit of a protected release, and secondary
//! suppression.
//!
//! The problems are synthetic hierarchical tables (`pilotage_core::disclosure::synthetic`):
//! territory (national → 13 régions → 104 départements) × time (year → 4 quarters → 12
//! months) × structure kind (total + 4), and for 10⁵ cells a further breakdown (total + 9).
//! A fifth of the finest cells are 1–10 (primary), a fifth are zeros: far denser in primary
//! cells than a release whose finest cells are yearly.
//!
//! The audited releases are protected by secondary suppression without its pruning pass (a
//! valid, denser pattern: the audit has more to solve). Secondary suppression is timed with
//! pruning on territory × time (2 006 cells) and without it at 10⁴ cells; with pruning at 10⁴
//! cells it takes minutes (figures in docs/disclosure.md). The 10⁵-cell audit runs only with
//! `PILOTAGE_BENCH_100K=1`, its protection taking over 30 minutes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pilotage_core::disclosure::synthetic::{Dimension, TableSpec, hierarchical_problem};
use pilotage_core::disclosure::{
    Pattern, Problem, SecondaryOptions, Status, audit, primary, secondary_with,
};

fn problem(dimensions: Vec<Dimension>) -> Problem {
    hierarchical_problem(&TableSpec {
        dimensions,
        zero_share: 0.2,
        small_share: 0.2,
        max_value: 200,
        seed: 2026,
    })
}

fn territory_time() -> Vec<Dimension> {
    vec![
        Dimension::new("territory", &[13, 8]),
        Dimension::new("time", &[4, 3]),
    ]
}

fn cells_10k() -> Vec<Dimension> {
    let mut dims = territory_time();
    dims.push(Dimension::new("kind", &[4]));
    dims
}

fn cells_100k() -> Vec<Dimension> {
    let mut dims = cells_10k();
    dims.push(Dimension::new("breakdown", &[9]));
    dims
}

/// Runs primary and secondary suppression once, printing the figures.
fn protect(name: &str, problem: &Problem, prune: bool) -> Pattern {
    let start = Instant::now();
    let p = primary(problem).expect("valid synthetic problem");
    let pattern =
        secondary_with(problem, &p, &SecondaryOptions { prune }).expect("secondary suppression");
    let elapsed = start.elapsed();
    let start = Instant::now();
    let report = audit::audit(problem, &pattern.publish(problem)).expect("audit");
    let primary_cells = pattern.count(Status::Primary);
    let secondary_cells = pattern.count(Status::Secondary);
    eprintln!(
        "{name}: {} cells, {} relations, {primary_cells} primary, {secondary_cells} secondary \
         (ratio {:.2}), {:.1} % hidden; secondary (prune: {prune}) {:.2?}; audit {:.2?}, {} LPs, \
         {} components (largest {}), passed: {}",
        problem.cells.len(),
        problem.relations.len(),
        secondary_cells as f64 / primary_cells.max(1) as f64,
        100.0 * pattern.secret_count() as f64 / problem.cells.len() as f64,
        elapsed,
        start.elapsed(),
        report.lp_solves,
        report.components,
        report.largest_component,
        report.passed(),
    );
    pattern
}

fn bench(c: &mut Criterion) {
    let mut sizes = vec![("10k", cells_10k(), 20)];
    // Protecting the 10⁵-cell problem takes over 30 minutes here: opt in.
    if std::env::var_os("PILOTAGE_BENCH_100K").is_some() {
        sizes.push(("100k", cells_100k(), 120));
    }
    for (name, dims, seconds) in sizes {
        let problem = problem(dims);
        let published = protect(name, &problem, false).publish(&problem);
        let mut group = c.benchmark_group(format!("disclosure_{name}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(seconds));
        group.bench_function("audit", |b| {
            b.iter(|| audit::audit(black_box(&problem), black_box(&published)))
        });
        group.finish();
    }
    let mut group = c.benchmark_group("disclosure_secondary");
    group.sample_size(10);
    let small = problem(territory_time());
    let p = primary(&small).expect("valid synthetic problem");
    protect("2k", &small, true);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("2k_pruned", |b| {
        b.iter(|| {
            secondary_with(
                black_box(&small),
                black_box(&p),
                &SecondaryOptions::default(),
            )
        })
    });
    let large = problem(cells_10k());
    let p = primary(&large).expect("valid synthetic problem");
    group.measurement_time(Duration::from_secs(120));
    group.bench_function("10k_unpruned", |b| {
        let options = SecondaryOptions { prune: false };
        b.iter(|| secondary_with(black_box(&large), black_box(&p), &options))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
