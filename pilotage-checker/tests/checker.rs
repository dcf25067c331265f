//! The checker on a tiny hand-built release: one dataset (`sorties`, 2025 only) over two
//! départements of one région and two structure kinds, with a hand-made certificate whose
//! points keep every margin; each broken variant is refused with its named check.

use std::path::Path;

use arrow_array::RecordBatch;
use pilotage_checker::{Check, Input, Report, Rules, check, check_public};
use pilotage_core::certificate::{CellRef, Certificate, Claim, ClaimKind, Point, fingerprint};
use pilotage_core::cube::{Cube, CubeBuilder, Geography};
use pilotage_core::dataset::{Definition, MeasureKind};
use pilotage_core::release::published_batch;

const DEPS: [(&str, &str); 2] = [("01", "84"), ("03", "84")];

struct Release {
    def: Definition,
    cube: Cube,
    geography: Geography,
    measure: u16,
}

/// `sorties` in 2025-01: DEP-01 ACI 5 (confidential), DEP-01 EI 20, DEP-03 ACI 30, DEP-03 EI 40.
fn release() -> Release {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../pilotage-core/data/datasets/sorties.toml");
    let mut def = Definition::load(&path).expect("sorties.toml");
    def.first_year = 2025;
    def.last_year = 2025;
    let geography = Geography::from_pairs(DEPS);
    let mut b = CubeBuilder::new(&def, &geography).expect("builder");
    let sorties = b.measure("sorties", MeasureKind::Events).expect("sorties");
    let (terr, per, kind) = (
        b.dim("territoire").expect("dim"),
        b.dim("periode").expect("dim"),
        b.dim("type_structure").expect("dim"),
    );
    let facts = [
        ("01", "ACI", 5),
        ("01", "EI", 20),
        ("03", "ACI", 30),
        ("03", "EI", 40),
    ];
    for (s, (dep, k, n)) in facts.into_iter().enumerate() {
        let mut coords = b.blank();
        coords[terr.0] = geography.index(dep).expect("dep");
        coords[per.0] = 0;
        coords[kind.0] = b.code(kind, k).expect("kind");
        b.add_events(sorties, &coords, Some(s as u32), n);
    }
    let cube = b.finish();
    let measure = cube
        .measures
        .iter()
        .position(|m| m.id == "sorties")
        .expect("measure") as u16;
    Release {
        def,
        cube,
        geography,
        measure,
    }
}

impl Release {
    fn row(&self, dep: &str, kind: &str) -> u32 {
        self.cube
            .find(&[
                ("territoire", dep),
                ("periode", "2025"),
                ("type_structure", kind),
            ])
            .unwrap_or_else(|| panic!("row {dep} {kind}")) as u32
    }

    fn cell(&self, dep: &str, kind: &str) -> CellRef {
        CellRef {
            dataset: 0,
            row: self.row(dep, kind),
            measure: self.measure,
        }
    }

    /// The published table with the four département × kind values of `sorties` secret
    /// (`hide_confidential` false: DEP-01 ACI published).
    fn published(&self, hide_confidential: bool) -> RecordBatch {
        let mut mask = vec![vec![false; self.cube.len()]; self.cube.measures.len()];
        for (dep, kind) in [
            ("DEP-01", "ACI"),
            ("DEP-01", "EI"),
            ("DEP-03", "ACI"),
            ("DEP-03", "EI"),
        ] {
            if hide_confidential || (dep, kind) != ("DEP-01", "ACI") {
                mask[self.measure as usize][self.row(dep, kind) as usize] = true;
            }
        }
        published_batch(&self.cube, &mask).expect("batch").0
    }

    /// A point moving the four secret values around the cycle by `d` (DEP-01 ACI by +d).
    fn cycle(&self, d: f64, claims: &[ClaimKind]) -> Point {
        let mut changes = vec![
            (self.cell("DEP-01", "ACI"), d),
            (self.cell("DEP-01", "EI"), -d),
            (self.cell("DEP-03", "ACI"), -d),
            (self.cell("DEP-03", "EI"), d),
        ];
        changes.sort_by_key(|c| c.0);
        Point {
            changes,
            claims: claims
                .iter()
                .map(|&kind| Claim {
                    cell: self.cell("DEP-01", "ACI"),
                    kind,
                })
                .collect(),
        }
    }

    fn certificate(&self, points: Vec<Point>) -> Certificate {
        Certificate {
            release: String::new(),
            datasets: vec![self.def.id.clone()],
            measures: vec![self.cube.measures.iter().map(|m| m.id.clone()).collect()],
            fingerprint: fingerprint(std::slice::from_ref(&self.cube)),
            points,
        }
    }

    fn check(&self, published: &RecordBatch, certificate: &Certificate) -> Report {
        let rules = Rules::default();
        check(&Input {
            definitions: std::slice::from_ref(&self.def),
            published: std::slice::from_ref(published),
            truth: std::slice::from_ref(&self.cube),
            geography: &self.geography,
            previous: &[],
            certificate,
            rules: &rules,
        })
    }

    fn valid_points(&self) -> Vec<Point> {
        vec![
            self.cycle(-5.0, &[ClaimKind::Zero]),
            self.cycle(6.0, &[ClaimKind::AtLeastMinCount]),
        ]
    }
}

fn assert_refused(report: &Report, check: Check) {
    assert!(!report.passed, "expected {check} but passed");
    assert!(
        report.count(check) > 0,
        "expected {check}, got: {:#?}",
        report
            .failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_valid_certificate_passes() {
    let r = release();
    let report = r.check(&r.published(true), &r.certificate(r.valid_points()));
    assert!(
        report.passed,
        "{:#?}",
        report
            .failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    assert_eq!(report.confidential, 1);
    assert_eq!(report.claims, 2);
    assert_eq!(report.points, 2);
    assert_eq!(report.secret, 4);
    assert!(report.values > 4);
}

#[test]
fn a_point_breaking_a_relation_is_refused() {
    let r = release();
    // DEP-01 keeps its total, but the région's ACI and EI sums break.
    let mut changes = vec![
        (r.cell("DEP-01", "ACI"), -5.0),
        (r.cell("DEP-01", "EI"), 5.0),
    ];
    changes.sort_by_key(|c| c.0);
    let broken = Point {
        changes,
        claims: vec![Claim {
            cell: r.cell("DEP-01", "ACI"),
            kind: ClaimKind::Zero,
        }],
    };
    let points = vec![broken, r.cycle(6.0, &[ClaimKind::AtLeastMinCount])];
    let report = r.check(&r.published(true), &r.certificate(points));
    assert_refused(&report, Check::RelationBroken);
    assert_refused(&report, Check::ClaimWithoutPoint);
    let line = report
        .failures
        .iter()
        .find(|f| f.check == Check::RelationBroken)
        .expect("failure")
        .to_string();
    assert!(
        line.contains("sorties") && line.contains("territoire"),
        "{line}"
    );
}

#[test]
fn a_point_moving_a_published_value_is_refused() {
    let r = release();
    let mut point = r.cycle(-5.0, &[ClaimKind::Zero]);
    // The région's ACI total is published.
    point.changes.push((r.cell("REG-84", "ACI"), 0.0));
    point.changes.sort_by_key(|c| c.0);
    let points = vec![point, r.cycle(6.0, &[ClaimKind::AtLeastMinCount])];
    let report = r.check(&r.published(true), &r.certificate(points));
    assert_refused(&report, Check::PointMovesPublished);
    assert_refused(&report, Check::ClaimWithoutPoint);
}

#[test]
fn a_negative_point_is_refused() {
    let r = release();
    let points = vec![
        r.cycle(-6.0, &[ClaimKind::Zero]),
        r.cycle(6.0, &[ClaimKind::AtLeastMinCount]),
    ];
    let report = r.check(&r.published(true), &r.certificate(points));
    assert_refused(&report, Check::Negative);
    assert_refused(&report, Check::ClaimWithoutPoint);
}

#[test]
fn a_non_integral_count_change_is_refused() {
    let r = release();
    let points = vec![
        r.cycle(-5.0, &[ClaimKind::Zero]),
        r.cycle(6.5, &[ClaimKind::AtLeastMinCount]),
    ];
    let report = r.check(&r.published(true), &r.certificate(points));
    assert_refused(&report, Check::NotIntegral);
}

#[test]
fn a_claim_without_a_point_is_refused() {
    let r = release();
    let points = vec![r.cycle(-5.0, &[ClaimKind::Zero])];
    let report = r.check(&r.published(true), &r.certificate(points));
    assert_refused(&report, Check::ClaimWithoutPoint);
    let f = report
        .failures
        .iter()
        .find(|f| f.check == Check::ClaimWithoutPoint)
        .expect("failure");
    assert_eq!(f.claim.as_deref(), Some("AtLeastMinCount"));
    // The message quotes the threshold of the rules in force.
    assert!(f.message.contains("can be 11 or more"), "{}", f.message);
    assert!(
        f.coordinates
            .contains(&("territoire".to_owned(), "DEP-01".to_owned()))
    );
    // A point that does not reach the threshold proves nothing either.
    let points = vec![
        r.cycle(-5.0, &[ClaimKind::Zero]),
        r.cycle(5.0, &[ClaimKind::AtLeastMinCount]),
    ];
    let report = r.check(&r.published(true), &r.certificate(points));
    assert_refused(&report, Check::ClaimWithoutPoint);
}

#[test]
fn a_published_confidential_value_is_refused() {
    let r = release();
    let report = r.check(&r.published(false), &r.certificate(r.valid_points()));
    assert_refused(&report, Check::ConfidentialPublished);
}

#[test]
fn a_certificate_of_other_data_is_refused() {
    let r = release();
    let mut certificate = r.certificate(r.valid_points());
    certificate.fingerprint = "00".repeat(32);
    let report = r.check(&r.published(true), &certificate);
    assert_refused(&report, Check::OtherData);
    assert_eq!(report.failures.len(), 1, "stops there");
    // Measures that differ from the tables': a format failure.
    let mut certificate = r.certificate(r.valid_points());
    certificate.measures[0].pop();
    let report = r.check(&r.published(true), &certificate);
    assert_refused(&report, Check::Format);
    assert_eq!(report.failures.len(), 1, "stops there");
}

#[test]
fn claims_for_values_that_are_not_confidential_are_ignored() {
    let r = release();
    let mut points = r.valid_points();
    points[0].claims.push(Claim {
        cell: r.cell("DEP-03", "EI"),
        kind: ClaimKind::Zero,
    });
    let report = r.check(&r.published(true), &r.certificate(points));
    assert!(report.passed);
    assert_eq!(report.ignored_claims, 1);
}

#[test]
fn the_public_check_catches_a_published_small_count() {
    let r = release();
    let rules = Rules::default();
    let protected = check_public(
        std::slice::from_ref(&r.def),
        std::slice::from_ref(&r.published(true)),
        &rules,
    );
    assert!(
        protected.passed,
        "{:#?}",
        protected
            .failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    let report = check_public(
        std::slice::from_ref(&r.def),
        std::slice::from_ref(&r.published(false)),
        &rules,
    );
    assert_refused(&report, Check::PublishedSmallCount);
    assert_eq!(report.count(Check::PublishedSmallCount), 1);
}

#[test]
fn failures_display_on_one_line() {
    let r = release();
    let report = r.check(&r.published(false), &r.certificate(r.valid_points()));
    for f in &report.failures {
        let line = f.to_string();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with(f.check.code()), "{line}");
    }
    let json = serde_json::to_string(&report).expect("json");
    assert!(json.contains("\"confidential_published\""), "{json}");
}
