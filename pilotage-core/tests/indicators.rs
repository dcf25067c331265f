//! Golden tests of the indicator computations: the hand-made cases of
//! `datasets/golden/indicators/`, with their expected cells worked out by hand.

use pilotage_testkit as support;

use std::path::Path;
use std::sync::Arc;

use arrow_schema::Schema;
use pilotage_core::cube::Cube;
use pilotage_core::cube::calendar::days_from_civil;
use pilotage_core::indicator::{Context, Sources, compute_all};
use pilotage_core::source::SourceTable;

fn parse_date(s: &str) -> i32 {
    let p: Vec<u32> = s.split('-').map(|x| x.parse().expect("date")).collect();
    days_from_civil(p[0] as i32, p[1], p[2])
}

/// Reads `<table>.csv` files holding a subset of the canonical columns.
fn read_case(dir: &Path) -> (Sources, Context) {
    let mut sources = Sources::new();
    for &table in SourceTable::ALL {
        let path = dir.join(format!("{}.csv", table.name()));
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read csv");
        let header: Vec<&str> = text.lines().next().expect("header").split(',').collect();
        let full = table.schema();
        let fields: Vec<_> = header
            .iter()
            .map(|h| {
                full.field_with_name(h)
                    .unwrap_or_else(|_| panic!("{}: unknown column {h}", path.display()))
                    .clone()
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let reader = arrow_csv::ReaderBuilder::new(schema)
            .with_header(true)
            .build(std::io::Cursor::new(text.clone()))
            .expect("csv reader");
        let batches = reader.collect::<Result<Vec<_>, _>>().expect("csv batches");
        sources.insert(table, batches);
    }
    let context = std::fs::read_to_string(dir.join("context.csv")).expect("context.csv");
    let as_of = parse_date(context.lines().nth(1).expect("as_of").trim());
    let geography = support::geography();
    (sources, Context { geography, as_of })
}

fn check_case(name: &str) {
    let dir = support::root()
        .join("datasets/golden/indicators")
        .join(name);
    let (sources, context) = read_case(&dir);
    let defs = support::definitions();
    let cubes = compute_all(&defs, &sources, &context).expect("compute");
    check_expected(name, &cubes, &dir.join("expected.csv"));
}

/// Checks every line of an `expected.csv` against the cubes.
fn check_expected(name: &str, cubes: &[Cube], path: &Path) {
    let expected = std::fs::read_to_string(path).expect("expected.csv");
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in expected.lines().skip(1) {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split(',').collect();
        let (dataset, cell, measure, want) = (parts[0], parts[1], parts[2], parts[3]);
        let cube: &Cube = cubes
            .iter()
            .find(|c| c.dataset == dataset)
            .unwrap_or_else(|| panic!("no cube {dataset}"));
        let coords: Vec<(&str, &str)> = cell
            .split(';')
            .map(|kv| kv.split_once('=').expect("dimension=code"))
            .collect();
        let got = match cube.find(&coords) {
            None => "absent".to_owned(),
            Some(row) => cube
                .value(measure, row)
                .map_or(String::new(), |v| format!("{v}")),
        };
        let ok = match (want.parse::<f64>(), got.parse::<f64>()) {
            (Ok(a), Ok(b)) => (a - b).abs() < 1e-9,
            _ => want == got,
        };
        if !ok {
            failures.push(format!("{line}: got {got:?}"));
        }
        checked += 1;
    }
    assert!(checked > 10, "{name}: too few expectations");
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
}

#[test]
fn golden_applications() {
    check_case("applications");
}

/// Job descriptions at the boundaries of a month end: closed on it or the day after,
/// created on it, open 30 or 31 days, hires 30 or 29 days before, dated by acceptance.
#[test]
fn golden_offre() {
    check_case("offre");
}

#[test]
fn golden_parcours() {
    check_case("parcours");
}

#[test]
fn disclosure_companions_of_magnitudes() {
    let dir = support::root().join("datasets/golden/indicators/parcours");
    let (sources, context) = read_case(&dir);
    let defs = support::definitions();
    let cubes = compute_all(&defs, &sources, &context).expect("compute");
    let etp = cubes.iter().find(|c| c.dataset == "etp").expect("etp");
    let row = etp
        .find(&[("territoire", "FR"), ("periode", "2024")])
        .expect("FR 2024");
    let c = etp
        .measure("etp_conventionnes")
        .and_then(|m| m.companion.as_ref())
        .expect("companion");
    // Two funded structures: 101 (10 ETP a year) and 102 (3).
    assert_eq!(c.structures[row], 2);
    assert!((c.top1[row] - 10.0).abs() < 1e-9);
    assert!((c.top2[row] - 3.0).abs() < 1e-9);
    assert_eq!(c.persons[row], 0, "ETP conventionnés are not person-based");
    let realised = etp
        .measure("etp_realises")
        .and_then(|m| m.companion.as_ref())
        .expect("companion");
    assert_eq!(realised.persons[row], 3);
    assert_eq!(
        etp.measure("taux_realisation")
            .and_then(|m| m.parts.clone()),
        Some(("etp_realises".to_owned(), "etp_conventionnes".to_owned()))
    );

    let ben = cubes
        .iter()
        .find(|c| c.dataset == "beneficiaires")
        .expect("beneficiaires");
    let row = ben
        .find(&[("territoire", "FR"), ("periode", "2024")])
        .expect("FR 2024");
    let hours = ben
        .measure("heures")
        .and_then(|m| m.companion.as_ref())
        .expect("companion");
    assert_eq!(
        hours.structures[row], 3,
        "structures 101, 102 and 103 declared hours"
    );
    // Structure 101: 151.67 × 2 + 100 (person 1) + 20 (person 3); then 102: 60 + 40.
    assert!(
        (hours.top1[row] - 423.34).abs() < 1e-6,
        "{}",
        hours.top1[row]
    );
    assert!(
        (hours.top2[row] - 100.0).abs() < 1e-6,
        "{}",
        hours.top2[row]
    );
    assert_eq!(hours.persons[row], 3);
    assert!(ben.structures[row] >= 2);

    // The companions convert to Arrow next to the published batch.
    let published = ben.to_record_batch().expect("batch");
    let companions = ben.companions_batch().expect("companions");
    assert_eq!(published.num_rows(), companions.num_rows());
    assert!(published.schema().field_with_name("heures__top1").is_err());
    assert!(companions.schema().field_with_name("heures__top1").is_ok());
}

#[test]
fn cubes_are_deterministic_and_sorted() {
    let dir = support::root().join("datasets/golden/indicators/applications");
    let (sources, context) = read_case(&dir);
    let defs = support::definitions();
    let a = compute_all(&defs, &sources, &context).expect("compute");
    let b = compute_all(&defs, &sources, &context).expect("compute");
    assert_eq!(a, b);
    let cube = a
        .iter()
        .find(|c| c.dataset == "candidatures")
        .expect("cube");
    let batch = cube.to_record_batch().expect("batch");
    assert_eq!(batch.num_rows(), cube.len());
    // First row: France, first year with data, every categorical dimension at its total.
    assert_eq!(cube.dimensions[0].code(0), "FR");
    assert_eq!(cube.dimensions[1].level(0), "annee");
    assert!(cube.dimensions[2..].iter().all(|d| d.code(0) == "_T"));
}

#[test]
fn every_dataset_computes_on_generated_sources() {
    use pilotage_core::synth::GeneratorConfig;
    let config = GeneratorConfig {
        scale: 0.002,
        ..GeneratorConfig::default()
    };
    let sources = support::generated(&config);
    let defs = support::definitions();
    let cubes = support::cubes(&defs, &sources, 2025);
    for cube in &cubes {
        assert!(!cube.is_empty(), "{} is empty", cube.dataset);
        let total = cube
            .find(&[("territoire", "FR"), ("periode", "2024")])
            .unwrap_or_else(|| panic!("{}: no FR 2024 row", cube.dataset));
        let first = &cube.measures[0];
        assert!(
            cube.value(&first.id, total).is_some_and(|v| v > 0.0),
            "{}: {} is zero in France 2024",
            cube.dataset,
            first.id
        );
        eprintln!(
            "{}: {} rows, {} cells",
            cube.dataset,
            cube.len(),
            cube.cell_count()
        );
    }
    // The independent implementation: SQL run by DuckDB on the same generated sources
    // (`benches/compare/cubes_duckdb.py DIR --check`, DIR from `pilotage generate --scale
    // 0.002 --seed 1`), its results committed: every kind of measure (persons, events, summed
    // and averaged magnitudes, rate, difference, medians, stocks at period end).
    check_expected(
        "duckdb",
        &cubes,
        &support::root().join("datasets/golden/indicators/duckdb/expected.csv"),
    );
}
