//! Property tests of disclosure control on random hierarchical tables of 2–4 dimensions.

// Tests fail loudly on purpose: unwrapping here is the assertion.
#![allow(clippy::unwrap_used)]

use pilotage_core::disclosure::audit::{FailureKind, audit};
use pilotage_core::disclosure::synthetic::{
    Dimension, TableSpec, cell_count, hierarchical_problem,
};
use pilotage_core::disclosure::{Published, Relation, Status, primary, secondary};
use proptest::prelude::*;

/// 2–4 dimensions of depth 1–2 and fan-out 2–3, capped at 200 cells.
fn spec() -> impl Strategy<Value = TableSpec> {
    (
        prop::collection::vec((1usize..=2, 2usize..=3, 2usize..=3), 2..=4),
        0.0f64..0.3,
        0.1f64..0.5,
        any::<u64>(),
    )
        .prop_map(|(dims, zero_share, small_share, seed)| {
            let mut dimensions: Vec<Dimension> = dims
                .iter()
                .enumerate()
                .map(|(i, &(depth, a, b))| {
                    let fanout = if depth == 1 { vec![a] } else { vec![a, b] };
                    Dimension::new(&format!("d{i}"), &fanout)
                })
                .collect();
            // Keep debug-mode runs quick: flatten dimensions until the table is small.
            while cell_count(&dimensions) > 200 {
                let widest = (0..dimensions.len())
                    .max_by_key(|&i| dimensions[i].fanout.len() * 10 + dimensions[i].fanout[0])
                    .unwrap_or(0);
                if dimensions[widest].fanout.len() > 1 {
                    dimensions[widest].fanout.pop();
                } else {
                    dimensions[widest].fanout[0] = 2;
                    if cell_count(&dimensions) > 200 {
                        dimensions.pop();
                    }
                }
            }
            TableSpec {
                dimensions,
                zero_share,
                small_share,
                max_value: 60,
                seed,
            }
        })
}

fn publish_with(problem: &pilotage_core::disclosure::Problem, status: &[Status]) -> Vec<Published> {
    problem
        .cells
        .iter()
        .zip(status)
        .map(|(c, s)| {
            if s.is_secret() {
                Published::Secret
            } else {
                Published::Value(c.value)
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// After secondary suppression every sensitive cell passes the audit, and the same input
    /// gives the same pattern.
    #[test]
    fn suppression_passes_the_audit_and_is_deterministic(spec in spec()) {
        let problem = hierarchical_problem(&spec);
        let p = primary(&problem).unwrap();
        let pattern = secondary(&problem, &p).unwrap();
        prop_assert!(pattern.unresolved.is_empty());
        let report = audit(&problem, &pattern.publish(&problem)).unwrap();
        prop_assert!(report.passed(), "{} cells, failures {:?}", problem.cells.len(), report.failures);
        // Every primary cell stays hidden.
        for (s, q) in p.iter().zip(&pattern.status) {
            prop_assert!(!s.is_secret() || q.is_secret());
        }
        prop_assert_eq!(secondary(&problem, &p).unwrap(), pattern);
    }

    /// With primary suppression only, the audit catches every primary cell left alone in a
    /// relation (recomputed by subtraction), and it passes exactly when secondary suppression
    /// has nothing to add.
    #[test]
    fn the_audit_catches_primary_only_patterns(spec in spec()) {
        let problem = hierarchical_problem(&spec);
        let p = primary(&problem).unwrap();
        let report = audit(&problem, &publish_with(&problem, &p)).unwrap();
        let failing: std::collections::BTreeSet<usize> = report
            .failures
            .iter()
            .filter(|f| matches!(f.kind, FailureKind::Narrow { .. }))
            .map(|f| f.cell)
            .collect();
        for relation in &problem.relations {
            let Relation::Sum { total, parts } = relation else { continue };
            let hidden: Vec<usize> = std::iter::once(*total).chain(parts.iter().copied()).filter(|&c| p[c].is_secret()).collect();
            if let [only] = hidden[..] {
                prop_assert!(failing.contains(&only), "cell {} is alone hidden in a relation", problem.cells[only].key);
            }
        }
        let pattern = secondary(&problem, &p).unwrap();
        prop_assert_eq!(report.passed(), pattern.count(Status::Secondary) == 0);
    }
}

/// Publishing back one secondary cell of a safe pattern is caught by the audit in most cases
/// (the greedy search can add cells that later ones made redundant). The rate is printed.
#[test]
fn removing_a_secondary_cell_is_usually_detected() {
    let (mut tried, mut detected) = (0usize, 0usize);
    for seed in 0..15u64 {
        let dims = match seed % 3 {
            0 => vec![
                Dimension::new("territory", &[3, 3]),
                Dimension::new("kind", &[4]),
            ],
            1 => vec![
                Dimension::new("territory", &[3, 2]),
                Dimension::new("time", &[2, 3]),
                Dimension::new("kind", &[2]),
            ],
            _ => vec![
                Dimension::new("territory", &[2, 2]),
                Dimension::new("time", &[2]),
                Dimension::new("kind", &[2]),
                Dimension::new("sex", &[2]),
            ],
        };
        let problem = hierarchical_problem(&TableSpec {
            dimensions: dims,
            zero_share: 0.15,
            small_share: 0.3,
            max_value: 60,
            seed,
        });
        let p = primary(&problem).unwrap();
        let pattern = secondary(&problem, &p).unwrap();
        let secondaries: Vec<usize> = (0..problem.cells.len())
            .filter(|&c| pattern.status[c] == Status::Secondary)
            .collect();
        // Up to three secondary cells per table, spread deterministically.
        for k in 0..secondaries.len().min(3) {
            let cell = secondaries[(k * 7919 + seed as usize) % secondaries.len()];
            let mut status = pattern.status.clone();
            status[cell] = Status::Published;
            tried += 1;
            if !audit(&problem, &publish_with(&problem, &status))
                .unwrap()
                .passed()
            {
                detected += 1;
            }
        }
    }
    let rate = detected as f64 / tried as f64;
    println!(
        "removing one secondary cell: detected {detected} of {tried} ({:.0} %)",
        rate * 100.0
    );
    assert!(tried >= 20, "too few secondary cells to measure ({tried})");
    assert!(rate >= 0.6, "only {detected} of {tried} removals detected");
}
