//! Disclosure control at 10⁴ and 10⁵ cells: the audit of a protected release, and secondary
//! suppression of the same problem.
//!
//! The problems are synthetic hierarchical tables (`pilotage_core::disclosure::synthetic`):
//! territory (national → 13 régions → 104 départements) × time (year → 4 quarters → 12
//! months) × structure kind (total + 4), and for 10⁵ cells a further breakdown (total + 9).
//! A fifth of the finest cells are 1–10 (primary), a fifth are zeros.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pilotage_core::disclosure::synthetic::{Dimension, TableSpec, hierarchical_problem};
use pilotage_core::disclosure::{Pattern, Problem, Status, audit, primary, secondary};

fn problem(with_breakdown: bool) -> Problem {
    let mut dimensions = vec![
        Dimension::new("territory", &[13, 8]),
        Dimension::new("time", &[4, 3]),
        Dimension::new("kind", &[4]),
    ];
    if with_breakdown {
        dimensions.push(Dimension::new("breakdown", &[9]));
    }
    hierarchical_problem(&TableSpec {
        dimensions,
        zero_share: 0.2,
        small_share: 0.2,
        max_value: 200,
        seed: 2026,
    })
}

/// Runs primary and secondary suppression once, printing the figures the issue asks for.
fn protect(name: &str, problem: &Problem) -> Pattern {
    let start = Instant::now();
    let p = primary(problem).expect("valid synthetic problem");
    let pattern = secondary(problem, &p).expect("secondary suppression");
    let elapsed = start.elapsed();
    let start = Instant::now();
    let report = audit::audit(problem, &pattern.publish(problem)).expect("audit");
    let primary_cells = pattern.count(Status::Primary);
    let secondary_cells = pattern.count(Status::Secondary);
    eprintln!(
        "{name}: {} cells, {} relations, {primary_cells} primary, {secondary_cells} secondary (ratio {:.2}), \
         {:.1} % hidden; secondary {:.2?}; audit {:.2?}, {} LPs, {} components (largest {}), passed: {}",
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
    for (name, with_breakdown) in [("10k", false), ("100k", true)] {
        let problem = problem(with_breakdown);
        let pattern = protect(name, &problem);
        let published = pattern.publish(&problem);
        let p = primary(&problem).expect("valid synthetic problem");
        let mut group = c.benchmark_group(format!("disclosure_{name}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(if with_breakdown { 60 } else { 20 }));
        group.bench_function("audit", |b| {
            b.iter(|| audit::audit(black_box(&problem), black_box(&published)))
        });
        group.bench_function("secondary", |b| {
            b.iter(|| secondary(black_box(&problem), black_box(&p)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
