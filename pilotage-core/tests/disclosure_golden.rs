//! Golden cases of disclosure control with hand-derived answers (issue 5).

// Tests fail loudly on purpose: unwrapping here is the assertion.
#![allow(clippy::unwrap_used)]

mod disclosure_support;

use std::collections::BTreeSet;

use disclosure_support::{Builder, two_way};
use pilotage_core::disclosure::audit::{
    Attacker, AuditOptions, AuditReport, FailureKind, audit_with,
};
use pilotage_core::disclosure::loss::information_loss;
use pilotage_core::disclosure::{
    Cell, CellKind, Contributions, Derivation, PreviousRelease, Published, Relation, SensitiveRow,
    Statistic, Status, primary, secondary,
};

/// The audit with exact intervals, so that hand-derived intervals can be compared.
fn audit(
    problem: &pilotage_core::disclosure::Problem,
    published: &[Published],
) -> Result<AuditReport, pilotage_core::disclosure::DisclosureError> {
    audit_with(
        problem,
        published,
        &AuditOptions {
            exact_intervals: true,
            ..AuditOptions::default()
        },
    )
}

fn secret_keys_of(b: &Builder, status: &[Status]) -> Vec<String> {
    let mut keys: Vec<String> = status
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_secret())
        .map(|(i, _)| b.problem.cells[i].key.clone())
        .collect();
    keys.sort();
    keys
}

fn narrow(kind: &FailureKind) -> (f64, f64) {
    match kind {
        FailureKind::Narrow { min, max, .. } => (*min, *max),
        other => panic!("expected a narrow interval, got {other:?}"),
    }
}

/// a = 3 in [[3, 20], [15, 30]]: alone it is recomputed from its row; the cheapest safe
/// pattern is the rectangle of the four inner cells, where a ∈ [0, 18] (a ≤ its column total).
#[test]
fn two_by_two_with_one_primary_needs_the_rectangle() {
    let mut b = Builder::default();
    two_way(&mut b, "", &[&[3.0, 20.0], &[15.0, 30.0]]);
    let p = primary(&b.problem).unwrap();
    assert_eq!(secret_keys_of(&b, &p), ["r0c0"]);

    let only_primary = audit(&b.problem, &b.publish_all_but(&["r0c0"])).unwrap();
    assert_eq!(only_primary.failures.len(), 1);
    assert_eq!(narrow(&only_primary.failures[0].kind), (3.0, 3.0));

    let pattern = secondary(&b.problem, &p).unwrap();
    assert_eq!(
        secret_keys_of(&b, &pattern.status),
        ["r0c0", "r0c1", "r1c0", "r1c1"]
    );
    let report = audit(&b.problem, &pattern.publish(&b.problem)).unwrap();
    assert!(report.passed(), "{:?}", report.failures);
    assert_eq!(report.interval(b.at("r0c0")), Some((0.0, 18.0)));

    let loss = information_loss(&b.problem, &pattern);
    assert_eq!((loss.overall.cells, loss.overall.secret), (9, 4));
    assert_eq!(loss.overall.secondary_per_primary(), Some(3.0));
    // Inner cells hold 68 of the 4 × 68 summed over inner cells, margins and total.
    assert!((loss.overall.value_share() - 0.25).abs() < 1e-12);
}

fn singleton(value: f64, structure: u64, persons: u64) -> Contributions {
    Contributions {
        contributors: 1,
        top1: value,
        top2: 0.0,
        persons,
        top_contributor: Some(structure),
    }
}

/// T = A + B + C with A and C each made by one structure. Hiding A and C protects them from
/// outsiders (A + C = 60), but structure 7 knows A = 40 and so learns C = 20 exactly (and
/// structure 9 learns A). Hiding B as well leaves C ∈ [0, 50] for structure 7.
#[test]
fn a_singleton_structure_knows_its_own_contribution() {
    let mut b = Builder::default();
    b.magnitude("A", 40.0, singleton(40.0, 7, 15), 0);
    b.magnitude(
        "B",
        30.0,
        Contributions {
            contributors: 5,
            top1: 10.0,
            top2: 8.0,
            persons: 20,
            top_contributor: Some(3),
        },
        0,
    );
    b.magnitude("C", 20.0, singleton(20.0, 9, 12), 0);
    b.magnitude(
        "T",
        90.0,
        Contributions {
            contributors: 7,
            top1: 40.0,
            top2: 20.0,
            persons: 47,
            top_contributor: Some(7),
        },
        1,
    );
    b.sum("T", &["A", "B", "C"]);
    let p = primary(&b.problem).unwrap();
    assert_eq!(secret_keys_of(&b, &p), ["A", "C"]);

    let report = audit(&b.problem, &b.publish_all_but(&["A", "C"])).unwrap();
    let failing: Vec<(String, Attacker, (f64, f64))> = report
        .failures
        .iter()
        .map(|f| (f.key.clone(), f.attacker, narrow(&f.kind)))
        .collect();
    assert_eq!(
        failing,
        [
            ("A".to_string(), Attacker::Structure(9), (40.0, 40.0)),
            ("C".to_string(), Attacker::Structure(7), (20.0, 20.0)),
        ]
    );
    // Outsiders only see A + C = 60.
    assert_eq!(report.interval(b.at("A")), Some((0.0, 60.0)));

    let pattern = secondary(&b.problem, &p).unwrap();
    assert_eq!(secret_keys_of(&b, &pattern.status), ["A", "B", "C"]);
    let report = audit(&b.problem, &pattern.publish(&b.problem)).unwrap();
    assert!(report.passed(), "{:?}", report.failures);
    let c_for_7 = report
        .intervals
        .iter()
        .find(|i| i.cell == b.at("C") && i.attacker == Attacker::Structure(7))
        .map(|i| (i.min, i.max));
    assert_eq!(c_for_7, Some((0.0, 50.0)));
}

/// Départements D1, D2 of région R1 by two columns, and régions R1, R2 by the same columns.
/// Each sub-table protected alone passes, but the R1 row is published by the first and hidden
/// by the second: combined, R2c0 = 22 − 18 = 4 exactly.
fn departements(b: &mut Builder) {
    two_way(b, "d", &[&[3.0, 20.0], &[15.0, 30.0]]);
}

fn regions(b: &mut Builder) {
    two_way(b, "r", &[&[18.0, 50.0], &[4.0, 40.0]]);
}

const DEP_PATTERN: [&str; 4] = ["dr0c0", "dr0c1", "dr1c0", "dr1c1"];
const REG_PATTERN: [&str; 4] = ["rr0c0", "rr0c1", "rr1c0", "rr1c1"];

#[test]
fn a_two_level_hierarchy_fails_as_a_whole_although_each_sub_table_passes() {
    let mut dep = Builder::default();
    departements(&mut dep);
    assert!(
        audit(&dep.problem, &dep.publish_all_but(&DEP_PATTERN))
            .unwrap()
            .passed()
    );
    let mut reg = Builder::default();
    regions(&mut reg);
    let alone = audit(&reg.problem, &reg.publish_all_but(&REG_PATTERN)).unwrap();
    assert!(alone.passed());
    assert_eq!(alone.interval(reg.at("rr1c0")), Some((0.0, 22.0)));

    let mut whole = Builder::default();
    departements(&mut whole);
    regions(&mut whole);
    // The région row R1 is the margin row of the département table.
    for (a, b) in [("dTc0", "rr0c0"), ("dTc1", "rr0c1"), ("dTT", "rr0T")] {
        let relation = Relation::Equal {
            a: whole.at(a),
            b: whole.at(b),
        };
        whole.problem.relations.push(relation);
    }
    let both: Vec<&str> = DEP_PATTERN
        .iter()
        .chain(REG_PATTERN.iter())
        .copied()
        .collect();
    let report = audit(&whole.problem, &whole.publish_all_but(&both)).unwrap();
    let failing: Vec<(String, (f64, f64))> = report
        .failures
        .iter()
        .map(|f| (f.key.clone(), narrow(&f.kind)))
        .collect();
    assert_eq!(failing, [("rr1c0".to_string(), (4.0, 4.0))]);

    let p = primary(&whole.problem).unwrap();
    let pattern = secondary(&whole.problem, &p).unwrap();
    let report = audit(&whole.problem, &pattern.publish(&whole.problem)).unwrap();
    assert!(report.passed(), "{:?}", report.failures);
    assert!(
        pattern.status[whole.at("dr0c0")].is_secret()
            && pattern.status[whole.at("rr1c0")].is_secret()
    );
}

/// Months, quarters and the year together. January = 2; hiding January and Q1 is undone by the
/// published year and other quarters; hiding January and February (12, the cheapest month of
/// Q1) leaves January ∈ [0, 14].
#[test]
fn months_quarters_and_year_together() {
    let mut b = Builder::default();
    let months: Vec<f64> = vec![
        2.0, 12.0, 20.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0,
    ];
    for (m, &v) in months.iter().enumerate() {
        b.count(&format!("m{:02}", m + 1), v, 0);
    }
    for q in 0..4 {
        b.count(
            &format!("q{}", q + 1),
            months[3 * q..3 * q + 3].iter().sum(),
            1,
        );
    }
    let year = b.count("Y", months.iter().sum(), 2);
    b.problem.cells[year].cost.headline = true;
    let keys: Vec<String> = (1..=12).map(|m| format!("m{m:02}")).collect();
    for q in 0..4 {
        let parts: Vec<&str> = keys[3 * q..3 * q + 3].iter().map(String::as_str).collect();
        b.sum(&format!("q{}", q + 1), &parts);
    }
    b.sum("Y", &["q1", "q2", "q3", "q4"]);
    let all: Vec<&str> = keys.iter().map(String::as_str).collect();
    b.sum("Y", &all);

    let report = audit(&b.problem, &b.publish_all_but(&["m01", "q1"])).unwrap();
    assert_eq!(report.failures.len(), 1);
    assert_eq!(narrow(&report.failures[0].kind), (2.0, 2.0));

    let p = primary(&b.problem).unwrap();
    let pattern = secondary(&b.problem, &p).unwrap();
    assert_eq!(secret_keys_of(&b, &pattern.status), ["m01", "m02"]);
    let report = audit(&b.problem, &pattern.publish(&b.problem)).unwrap();
    assert!(report.passed());
    assert_eq!(report.interval(b.at("m01")), Some((0.0, 14.0)));
}

/// RSA breakdown: row D1 = (4 with RSA, 0 without), total 4; row D2 = (12, 18), total 30. The
/// whole D1 row is secret, its zero included; every cell of D1 is then recomputed from the
/// column and grand totals unless the D2 row is hidden too.
#[test]
fn a_sensitive_attribute_row_with_a_zero() {
    let mut b = Builder::default();
    two_way(&mut b, "s", &[&[4.0, 0.0], &[12.0, 18.0]]);
    for r in 0..2 {
        let row = SensitiveRow {
            total: b.at(&format!("sr{r}T")),
            cells: vec![b.at(&format!("sr{r}c0")), b.at(&format!("sr{r}c1"))],
        };
        b.problem.sensitive_rows.push(row);
    }
    let p = primary(&b.problem).unwrap();
    assert_eq!(secret_keys_of(&b, &p), ["sr0T", "sr0c0", "sr0c1"]);

    // Publishing the zero tells that nobody in D1 is without RSA.
    let report = audit(&b.problem, &b.publish_all_but(&["sr0T", "sr0c0"])).unwrap();
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.key == "sr0c1" && f.kind == FailureKind::PublishedSensitive)
    );

    let pattern = secondary(&b.problem, &p).unwrap();
    assert_eq!(
        secret_keys_of(&b, &pattern.status),
        ["sr0T", "sr0c0", "sr0c1", "sr1T", "sr1c0", "sr1c1"]
    );
    let report = audit(&b.problem, &pattern.publish(&b.problem)).unwrap();
    assert!(report.passed(), "{:?}", report.failures);
    assert_eq!(report.interval(b.at("sr0c0")), Some((0.0, 16.0)));
    assert_eq!(report.interval(b.at("sr0c1")), Some((0.0, 18.0)));
    assert_eq!(report.interval(b.at("sr0T")), Some((0.0, 34.0)));
}

/// A région's distinct persons R = 43 over départements D1 = 3 and D2 = 40: with D1 hidden,
/// R ≤ D1 + D2 gives D1 ≥ 3, so D1 = 3 is proven (its interval is [3, 43]); hiding D2 too
/// leaves D1 ∈ [0, 43].
#[test]
fn distinct_count_margins_bound_from_below() {
    let mut b = Builder::default();
    b.count("D1", 3.0, 0);
    b.count("D2", 40.0, 0);
    b.count("R", 43.0, 1);
    b.problem.relations.push(Relation::Distinct {
        total: b.at("R"),
        parts: vec![b.at("D1"), b.at("D2")],
    });
    let report = audit(&b.problem, &b.publish_all_but(&["D1"])).unwrap();
    assert_eq!(narrow(&report.failures[0].kind), (3.0, 43.0));
    let pattern = secondary(&b.problem, &primary(&b.problem).unwrap()).unwrap();
    assert_eq!(secret_keys_of(&b, &pattern.status), ["D1", "D2"]);
    let report = audit(&b.problem, &pattern.publish(&b.problem)).unwrap();
    assert!(report.passed());
    assert_eq!(report.interval(b.at("D1")), Some((0.0, 43.0)));
}

#[test]
fn derived_cells_follow_their_inputs_and_medians_need_eleven_observations() {
    let mut b = Builder::default();
    two_way(&mut b, "", &[&[3.0, 20.0], &[15.0, 30.0]]);
    let (num, den, big) = (b.at("r0c0"), b.at("r0T"), b.at("r1T"));
    let derived = |key: &str, numerator, denominator, statistic| {
        Cell::count(
            key,
            "t",
            CellKind::Derived(Derivation {
                numerator,
                denominator,
                statistic,
            }),
            0.5,
        )
    };
    let rate = b.cell(derived("rate", num, den, Statistic::Ratio));
    let ok_rate = b.cell(derived("ok_rate", big, b.at("TT"), Statistic::Ratio));
    let small_median = b.cell(derived(
        "median8",
        big,
        big,
        Statistic::Median { observations: 8 },
    ));
    let big_median = b.cell(derived(
        "median30",
        big,
        big,
        Statistic::Median { observations: 30 },
    ));
    let p = primary(&b.problem).unwrap();
    assert_eq!(
        [p[rate], p[ok_rate], p[small_median], p[big_median]],
        [
            Status::Primary,
            Status::Published,
            Status::Primary,
            Status::Published
        ]
    );
    // A published rate over a hidden numerator, or a median over 8 observations, fails.
    let published = b.publish_all_but(&["r0c0", "r0c1", "r1c0", "r1c1"]);
    let report = audit(&b.problem, &published).unwrap();
    let kinds: Vec<(String, FailureKind)> = report
        .failures
        .iter()
        .map(|f| (f.key.clone(), f.kind.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("rate".to_string(), FailureKind::RevealsInput { input: num }),
            ("median8".to_string(), FailureKind::PublishedSensitive),
        ]
    );
    let pattern = secondary(&b.problem, &p).unwrap();
    assert!(
        audit(&b.problem, &pattern.publish(&b.problem))
            .unwrap()
            .passed()
    );
}

/// T = a + b + c with a = 3: alone, b (20) is the cheapest partner. If the previous release
/// hid c as a secondary cell, c is re-used; if it published b (unchanged), b cannot help.
#[test]
fn the_previous_release_is_known_and_its_secondary_cells_are_reused() {
    let build = || {
        let mut b = Builder::default();
        b.count("a", 3.0, 0);
        b.count("b", 20.0, 0);
        b.count("c", 25.0, 0);
        b.count("T", 48.0, 1);
        b.sum("T", &["a", "b", "c"]);
        b
    };
    let b = build();
    let pattern = secondary(&b.problem, &primary(&b.problem).unwrap()).unwrap();
    assert_eq!(secret_keys_of(&b, &pattern.status), ["a", "b"]);

    let mut b = build();
    b.problem.previous = Some(PreviousRelease {
        cells: [
            (0, Published::Secret),
            (1, Published::Value(20.0)),
            (2, Published::Secret),
        ]
        .into(),
        secondary: BTreeSet::from([2]),
    });
    let pattern = secondary(&b.problem, &primary(&b.problem).unwrap()).unwrap();
    assert_eq!(secret_keys_of(&b, &pattern.status), ["a", "c"]);
    assert_eq!(
        information_loss(&b.problem, &pattern).previous_mask_kept,
        Some(1.0)
    );
    // Hiding b now does not help: the attacker still knows b = 20 from the previous release.
    let report = audit(&b.problem, &b.publish_all_but(&["a", "b"])).unwrap();
    assert_eq!(narrow(&report.failures[0].kind), (3.0, 3.0));
}
