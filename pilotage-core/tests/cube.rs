//! The cube engine against a brute-force count: every row of the cube, for distinct persons,
//! summed events and stocks at period end, on seeded random facts.

use std::collections::BTreeSet;
use std::path::Path;

use pilotage_core::cube::calendar::MonthWindow;
use pilotage_core::cube::{CubeBuilder, Geography};
use pilotage_core::dataset::{Definition, MeasureKind};

/// Deterministic xorshift generator (no dependency, same sequence everywhere).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[derive(Debug, Clone, Copy)]
struct Fact {
    person: u32,
    dep: usize,
    month: u32,
    kind: usize,
    origine: usize,
}

const DEPS: [(&str, &str); 4] = [("01", "84"), ("03", "84"), ("75", "11"), ("2A", "94")];
const KINDS: [&str; 4] = ["ACI", "EI", "GEIQ", "EA"];
const ORIGINES: [&str; 2] = ["CANDIDAT", "EMPLOYEUR"];

fn definition() -> Definition {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/datasets/candidatures.toml");
    Definition::load(&path).expect("candidatures.toml")
}

/// True if the fact lies in the row's members (each member equal to or above the fact's).
fn contains(cube: &pilotage_core::cube::Cube, row: usize, f: &Fact, window: MonthWindow) -> bool {
    let (dep, region) = DEPS[f.dep];
    let (year, month) = window.year_month(f.month);
    let code = |id: &str| cube.dimension(id).expect("dimension").code(row).to_owned();
    let territory = code("territoire");
    let territory_ok = territory == "FR"
        || territory == format!("REG-{region}")
        || territory == format!("DEP-{dep}");
    let period = code("periode");
    let period_ok = period == year.to_string()
        || period == format!("{year}-T{}", (month - 1) / 3 + 1)
        || period == format!("{year}-{month:02}");
    let kind = code("type_structure");
    let siae = f.kind < 2;
    let kind_ok = kind == "_T"
        || kind == KINDS[f.kind]
        || (kind == "IAE" && siae)
        || (kind == "HORS_IAE" && !siae);
    let origine = code("origine");
    let origine_ok = origine == "_T" || origine == ORIGINES[f.origine];
    territory_ok && period_ok && kind_ok && origine_ok && code("groupe_prescripteur") == "_T"
}

/// For a stock, only the last month of the row's period counts.
fn ends_period(
    cube: &pilotage_core::cube::Cube,
    row: usize,
    f: &Fact,
    window: MonthWindow,
) -> bool {
    let (_, month) = window.year_month(f.month);
    match cube.dimension("periode").expect("periode").level(row) {
        "annee" => month == 12,
        "trimestre" => month % 3 == 0,
        _ => true,
    }
}

#[test]
fn margins_match_a_brute_force_count() {
    let def = definition();
    let geography = Geography::from_pairs(DEPS);
    let window = MonthWindow {
        first_year: def.first_year,
        last_year: def.last_year,
    };
    let mut b = CubeBuilder::new(&def, &geography).expect("builder");
    let persons = b
        .measure("candidats", MeasureKind::Persons)
        .expect("candidats");
    let events = b.measure("recues", MeasureKind::Events).expect("recues");
    let stock = b
        .measure("en_attente", MeasureKind::Events)
        .expect("en_attente");
    let (terr, per, kind_d, orig_d) = (
        b.dim("territoire").expect("dim"),
        b.dim("periode").expect("dim"),
        b.dim("type_structure").expect("dim"),
        b.dim("origine").expect("dim"),
    );
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut facts = Vec::new();
    for _ in 0..1500 {
        // Few persons and months: many persons appear in several cells.
        let f = Fact {
            person: rng.below(150) as u32,
            dep: rng.below(4) as usize,
            month: 36 + rng.below(15) as u32,
            kind: rng.below(4) as usize,
            origine: rng.below(2) as usize,
        };
        let mut coords = b.blank();
        coords[terr.0] = geography.index(DEPS[f.dep].0).expect("dep");
        coords[per.0] = f.month;
        coords[kind_d.0] = b.code(kind_d, KINDS[f.kind]).expect("kind");
        coords[orig_d.0] = b.code(orig_d, ORIGINES[f.origine]).expect("origine");
        b.add_person(persons, &coords, Some(f.dep as u32), f.person);
        b.add_events(events, &coords, Some(f.dep as u32), 1);
        b.add_events(stock, &coords, Some(f.dep as u32), 1);
        facts.push(f);
    }
    let cube = b.finish();
    assert!(cube.len() > 500, "{} rows", cube.len());
    let mut distinct_not_sum = 0;
    for row in 0..cube.len() {
        let inside: Vec<&Fact> = facts
            .iter()
            .filter(|f| contains(&cube, row, f, window))
            .collect();
        assert!(!inside.is_empty(), "row {row} has no fact");
        let people: BTreeSet<u32> = inside.iter().map(|f| f.person).collect();
        let at_end = inside
            .iter()
            .filter(|f| ends_period(&cube, row, f, window))
            .count();
        assert_eq!(
            cube.value("candidats", row),
            Some(people.len() as f64),
            "row {row}"
        );
        assert_eq!(
            cube.value("recues", row),
            Some(inside.len() as f64),
            "row {row}"
        );
        assert_eq!(
            cube.value("en_attente", row),
            Some(at_end as f64),
            "row {row}"
        );
        let structures: BTreeSet<usize> = inside.iter().map(|f| f.dep).collect();
        assert_eq!(cube.structures[row], structures.len() as u64, "row {row}");
        if people.len() < inside.len() {
            distinct_not_sum += 1;
        }
    }
    assert!(
        distinct_not_sum > 50,
        "the test data must exercise distinct counts"
    );

    // Crossings: origine by month only at région level; the France × year total exists.
    assert!(
        cube.find(&[
            ("territoire", "DEP-01"),
            ("periode", "2024-03"),
            ("origine", "CANDIDAT")
        ])
        .is_none()
    );
    assert!(
        cube.find(&[
            ("territoire", "REG-84"),
            ("periode", "2024-03"),
            ("origine", "CANDIDAT")
        ])
        .is_some()
    );
    let total = cube
        .find(&[("territoire", "FR"), ("periode", "2024")])
        .expect("FR 2024");
    let persons_2024: BTreeSet<u32> = facts
        .iter()
        .filter(|f| window.year_month(f.month).0 == 2024)
        .map(|f| f.person)
        .collect();
    assert_eq!(
        cube.value("candidats", total),
        Some(persons_2024.len() as f64)
    );
    // Rates are computed from the exact parts of the same row.
    assert_eq!(
        cube.value("taux_acceptation", total),
        None,
        "no answer: no rate"
    );
}

#[test]
fn geography_reads_the_referential() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reference");
    let g = Geography::from_reference_dir(&dir).expect("referential");
    assert!(g.departements().len() >= 101);
    let ain = g.index("01").expect("Ain");
    assert_eq!(
        g.departements()[ain as usize],
        ("01".to_owned(), "84".to_owned())
    );
    assert!(g.index("2A").is_some());
    assert!(g.index("20").is_none());
}

#[test]
fn geography_from_a_folder_is_the_referential_and_names_a_bad_row() {
    let official = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reference");
    let g = Geography::from_reference_dir(&official).expect("referential");
    assert_eq!(
        g,
        Geography::from_referential(pilotage_core::territory::Referential::official())
    );

    let dir = tempfile::tempdir().expect("temporary folder");
    for name in [
        "regions.csv",
        "departements.csv",
        "communes.csv",
        "epci.csv",
    ] {
        std::fs::copy(official.join(name), dir.path().join(name)).expect("copy");
    }
    let departements = std::fs::read_to_string(official.join("departements.csv")).expect("read");
    std::fs::write(
        dir.path().join("departements.csv"),
        departements.replacen("01,Ain,84,", "01,Ain,99,", 1),
    )
    .expect("write");
    let message = Geography::from_reference_dir(dir.path())
        .expect_err("unknown région")
        .to_string();
    assert!(
        message.contains("departements.csv: line 2, column `region`"),
        "{message}"
    );
    assert!(message.contains("\"99\""), "{message}");

    std::fs::remove_file(dir.path().join("epci.csv")).expect("remove");
    let message = Geography::from_reference_dir(dir.path())
        .expect_err("missing file")
        .to_string();
    assert!(message.contains("epci.csv"), "{message}");
}
