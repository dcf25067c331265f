//! # pilotage-checker
//!
//! The independent checker of a release's secrecy certificate. Statistical secrecy hides
//! ("secret") some published values so that no confidential value can be recovered or bounded
//! too closely; the protection proves it with a certificate of witness points
//! ([`pilotage_core::certificate`]): each point is the release's true values changed at a few
//! secret values, consistent with every relation an attacker knows, at which a confidential
//! value crosses its protection threshold. This crate shares no code with the protection: it
//! rebuilds the relations from the definitions, the published tables and the geography,
//! evaluates the primary rules itself on the true values, and verifies every point and every
//! claim with arithmetic alone (no solver, no search). Publication is refused when any check
//! fails.
//!
//! - [`check`]: the full check, with the true values and the certificate (kept private).
//! - [`check_public`]: what anyone who downloads a release can check, from the published
//!   tables and definitions alone.
//!
//! Modules: `model` (tables, hierarchies, row indexes), `rules` (primary rules on the truth),
//! `relations` (the attacker's relations), `points` (verification of the points, in parallel),
//! `public` (the public check), `report` (the outcome).

mod model;
mod points;
mod public;
mod relations;
mod report;
mod rules;

use arrow_array::RecordBatch;
use pilotage_core::certificate::{Certificate, fingerprint};
use pilotage_core::cube::{Cube, Geography, NO_STRUCTURE};
use pilotage_core::dataset::Definition;

pub use report::{Check, FAILURES_KEPT_PER_CHECK, Failure, Report};

use model::{Class, Status, Table, regions, unpack};
use report::Failures;

/// The primary rules of statistical secrecy, with their parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// Smallest publishable count of persons or events (11): a count from 1 to `min_count − 1`
    /// is confidential.
    pub min_count: u64,
    /// Fewest structures behind a publishable magnitude (3).
    pub min_contributors: u64,
    /// Largest share of a magnitude one structure may make (0.85, a fraction of the value).
    pub dominance: f64,
    /// The p %-rule's p as a fraction (`Some(0.10)` for 10 %), or `None` when not applied: a
    /// magnitude is confidential when the others than the two largest make less than p times
    /// the largest.
    pub p_rule: Option<f64>,
    /// Fewest persons behind a person-based magnitude (11).
    pub min_persons: u64,
    /// Fewest observations behind a publishable median (11).
    pub min_median_observations: u64,
    /// Margin of the frequency rules (few structures, few persons, sensitive breakdowns), as a
    /// fraction of the value (0.10): the value must be shown able to be this much lower and
    /// higher.
    pub frequency_margin: f64,
    /// Dimension ids that are sensitive attributes whatever their definitions say (`rsa`,
    /// `ass`, `aah`, `rqth`).
    pub sensitive_dimensions: Vec<String>,
}

impl Default for Rules {
    /// The published rules: 11, 3, 85 %, no p %-rule, 11 persons, 11 observations, 10 %.
    fn default() -> Self {
        Rules {
            min_count: 11,
            min_contributors: 3,
            dominance: 0.85,
            p_rule: None,
            min_persons: 11,
            min_median_observations: 11,
            frequency_margin: 0.10,
            sensitive_dimensions: ["rsa", "ass", "aah", "rqth"]
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Everything the full check reads. Slices of datasets are in the release order, the same for
/// definitions, published tables and true values.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The datasets' definitions, in release order.
    pub definitions: &'a [Definition],
    /// The published tables (the release layout: codes, levels, values and statuses), same
    /// order.
    pub published: &'a [RecordBatch],
    /// The true values, same order, same rows as the published tables.
    pub truth: &'a [Cube],
    /// Départements and their régions, which territory dimensions roll up through.
    pub geography: &'a Geography,
    /// The previous release's published tables by dataset id (empty if none): values it
    /// published unchanged are known to everyone, so no point may move them.
    pub previous: &'a [(String, RecordBatch)],
    /// The certificate to verify.
    pub certificate: &'a Certificate,
    /// The primary rules.
    pub rules: &'a Rules,
}

/// Verifies that the certificate proves every claim of every confidential value of the
/// release, and that the release publishes no confidential value. See the crate documentation
/// and [`Check`] for every check made.
pub fn check(input: &Input) -> Report {
    let mut report = Report::new();
    report.points = input.certificate.points.len() as u64;
    let mut sink = Failures::default();
    if fingerprint(input.truth) != input.certificate.fingerprint {
        sink.push_with(Check::OtherData, || {
            whole(
                Check::OtherData,
                "certificate made on other data: its fingerprint is not that of the true values"
                    .into(),
            )
        });
        report.absorb(sink);
        return report;
    }
    let geography = regions(input.geography.departements());
    let tables = match read_tables(input, &geography) {
        Ok(t) => t,
        Err(message) => {
            sink.push_with(Check::Format, || whole(Check::Format, message));
            report.absorb(sink);
            return report;
        }
    };
    count_values(&tables, &mut report);

    let truth = rules::true_values(input.truth);
    let confidential = rules::evaluate(&tables, input.truth, &truth, input.rules);
    count_claims(&confidential, &mut report);

    // Confidential values published.
    confidential_published(&tables, &truth, &confidential, &mut sink);
    for (d, table) in tables.iter().enumerate() {
        derived_checks(table, &mut sink, input.rules, |m, r| {
            Some(truth[d][m].value[r]).filter(|x| !x.is_nan())
        });
    }

    // Points.
    let outcome = verify_points(input, &tables, &truth, &confidential);
    sink.append(outcome.failures);
    report.ignored_claims = outcome.ignored;

    // Claims without a valid point.
    let (proved, listed) = claim_bits(
        &confidential,
        &truth,
        outcome.proved,
        outcome.partly,
        outcome.listed,
    );
    let min_count = input.rules.min_count;
    claims_without_point(
        &tables,
        &truth,
        &confidential,
        [&proved, &listed],
        min_count,
        &mut sink,
    );
    report.absorb(sink);
    report
}

/// A failure of the whole release, at no value.
fn whole(check: Check, message: String) -> Failure {
    Failure {
        check,
        dataset: String::new(),
        coordinates: Vec::new(),
        measure: String::new(),
        claim: None,
        message,
    }
}

/// Counts the confidential values and their claims into the report.
fn count_claims(confidential: &rules::Confidential, report: &mut Report) {
    for d in &confidential.claims {
        for m in d {
            for &mask in m {
                if mask != 0 {
                    report.confidential += 1;
                    report.claims += u64::from(mask.count_ones());
                }
            }
        }
    }
}

/// Reports every confidential value that is not secret.
fn confidential_published(
    tables: &[Table],
    truth: &[Vec<rules::TrueMeasure>],
    confidential: &rules::Confidential,
    sink: &mut Failures,
) {
    for (d, table) in tables.iter().enumerate() {
        for r in 0..table.rows {
            for (m, info) in table.measures.iter().enumerate() {
                if confidential.claims[d][m][r] != 0 && info.status[r] != Status::Secret {
                    sink.push_with(Check::ConfidentialPublished, || {
                        cell_failure(
                            table,
                            m,
                            r,
                            Check::ConfidentialPublished,
                            format!(
                                "confidential value published (true value {})",
                                truth[d][m].shown[r]
                            ),
                        )
                    });
                }
            }
        }
    }
}

/// Verifies every point of the certificate against the relations an attacker knows.
fn verify_points(
    input: &Input,
    tables: &[Table],
    truth: &[Vec<rules::TrueMeasure>],
    confidential: &rules::Confidential,
) -> points::Outcome {
    let declared: Vec<Vec<relations::Declared>> = tables.iter().map(relations::declared).collect();
    let declared_by_measure = tables
        .iter()
        .zip(&declared)
        .map(|(t, rels)| {
            (0..t.measures.len())
                .map(|m| {
                    rels.iter()
                        .enumerate()
                        .filter(|(_, r)| r.left == m || r.right.contains(&m))
                        .map(|(i, _)| i as u16)
                        .collect()
                })
                .collect()
        })
        .collect();
    let cross = relations::cross_equalities(tables, truth);
    let previous: Vec<Option<points::Previous>> = tables
        .iter()
        .map(|t| {
            input
                .previous
                .iter()
                .find(|(id, _)| *id == t.def.id)
                .and_then(|(_, batch)| points::Previous::new(t, batch))
        })
        .collect();
    let ctx = points::Context {
        tables,
        truth,
        confidential,
        declared: &declared,
        declared_by_measure,
        cross: &cross,
        previous: &previous,
        rules: input.rules,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    points::verify(&ctx, &input.certificate.points, threads)
}

/// Claim bits by dataset, measure and row.
type ClaimBits = Vec<Vec<Vec<u8>>>;

/// The claim bits proved and listed, by dataset, measure and row, from the points' outcome
/// (`proved`, `partly` and `listed`).
fn claim_bits(
    confidential: &rules::Confidential,
    truth: &[Vec<rules::TrueMeasure>],
    outcome_proved: Vec<(u64, u8)>,
    partly: Vec<points::Partly>,
    outcome_listed: Vec<(u64, u8)>,
) -> (ClaimBits, ClaimBits) {
    let mut proved: ClaimBits = confidential
        .claims
        .iter()
        .map(|d| d.iter().map(|m| vec![0u8; m.len()]).collect())
        .collect();
    let mut listed = proved.clone();
    for (cell, b) in outcome_proved {
        let (d, m, r) = unpack(cell);
        proved[d][m][r] |= b;
    }
    partly_proved(&mut proved, partly, truth);
    for (cell, b) in outcome_listed {
        let (d, m, r) = unpack(cell);
        listed[d][m][r] |= b;
    }
    (proved, listed)
}

/// Adds to `proved` the magnitude claims proved by points reaching them only in part.
fn partly_proved(
    proved: &mut [Vec<Vec<u8>>],
    mut partly: Vec<points::Partly>,
    truth: &[Vec<rules::TrueMeasure>],
) {
    // A magnitude claim whose points some structures see through holds when every structure
    // has a point it does not see through: one reaching the target, or, for the structure
    // making the largest contribution, one reaching that contribution.
    partly.sort();
    for group in partly.chunk_by(|a, b| a.cell == b.cell && a.bit == b.bit) {
        let (d, m, r) = unpack(group[0].cell);
        let mut full = group.iter().filter(|p| p.full);
        let Some(first) = full.next() else { continue };
        let mut common = first.knowing.clone();
        for p in full {
            common.retain(|s| p.knowing.binary_search(s).is_ok());
        }
        let top = truth[d][m].top.get(r).map_or(NO_STRUCTURE, |t| t.0);
        let top_held = group
            .iter()
            .any(|p| !p.full && p.knowing.binary_search(&top).is_err());
        if common.is_empty() || (common == [top] && top_held) {
            proved[d][m][r] |= group[0].bit;
        }
    }
}

/// Reports every claim of a confidential value that no valid point proves (`proved` and
/// `listed`: claim bits per dataset, measure and row), quoting the smallest publishable count
/// `min_count` of the rules in force.
fn claims_without_point(
    tables: &[Table],
    truth: &[Vec<rules::TrueMeasure>],
    confidential: &rules::Confidential,
    [proved, listed]: [&[Vec<Vec<u8>>]; 2],
    min_count: u64,
    sink: &mut Failures,
) {
    for (d, table) in tables.iter().enumerate() {
        for r in 0..table.rows {
            for (m, info) in table.measures.iter().enumerate() {
                let missing = confidential.claims[d][m][r] & !proved[d][m][r];
                if missing == 0 {
                    continue;
                }
                for kind in pilotage_core::certificate::ClaimKind::ALL {
                    let b = rules::bit(kind);
                    if missing & b == 0 {
                        continue;
                    }
                    sink.push_with(Check::ClaimWithoutPoint, || {
                        let why = if listed[d][m][r] & b != 0 {
                            "the points listing it fail a check or do not reach it"
                        } else {
                            "no point lists it"
                        };
                        let margin = match info.class {
                            Class::Magnitude => format!(
                                ", margin {}",
                                confidential.margin[d][m].get(r).copied().unwrap_or(0.0)
                            ),
                            _ => String::new(),
                        };
                        Failure {
                            claim: Some(format!("{kind:?}")),
                            ..cell_failure(
                                table,
                                m,
                                r,
                                Check::ClaimWithoutPoint,
                                format!(
                                    "no valid point shows that the value (true {}{margin}) {}: {why}",
                                    truth[d][m].value[r],
                                    kind.describe_under(min_count)
                                ),
                            )
                        }
                    });
                }
            }
        }
    }
}

/// Checks what needs no confidential data: no published count from 1 to `min_count − 1`, no
/// published breakdown by a sensitive attribute under a published total from 1 to
/// `min_count − 1`, no rate or difference published over a secret part, no median published
/// over fewer than `min_median_observations` published observations, and every relation among
/// published values holding within rounding (half a unit of the published decimals per term;
/// counts exactly). Territories roll up through the official referential.
pub fn check_public(
    definitions: &[Definition],
    published: &[RecordBatch],
    rules: &Rules,
) -> Report {
    public::check_public(definitions, published, rules)
}

/// Reads and cross-checks the inputs of the full check.
fn read_tables<'a>(
    input: &Input<'a>,
    geography: &std::collections::HashMap<&str, &str>,
) -> Result<Vec<Table<'a>>, String> {
    let n = input.definitions.len();
    let cert = input.certificate;
    if input.published.len() != n || input.truth.len() != n || cert.datasets.len() != n {
        return Err(format!(
            "{n} definitions, {} published tables, {} cubes and {} certificate datasets",
            input.published.len(),
            input.truth.len(),
            cert.datasets.len()
        ));
    }
    let mut tables = Vec::with_capacity(n);
    for (d, def) in input.definitions.iter().enumerate() {
        let cube = &input.truth[d];
        if cube.dataset != def.id || cert.datasets[d] != def.id {
            return Err(format!(
                "dataset {d}: definition {:?}, cube {:?}, certificate {:?}",
                def.id, cube.dataset, cert.datasets[d]
            ));
        }
        let table = Table::new(
            def,
            &input.published[d],
            geography,
            &input.rules.sensitive_dimensions,
        )
        .map_err(|e| format!("dataset {}: published table: {e}", def.id))?;
        let ids: Vec<&str> = table.measures.iter().map(|m| m.id.as_str()).collect();
        let cube_ids: Vec<&str> = cube.measures.iter().map(|m| m.id.as_str()).collect();
        let cert_ids: Vec<&str> = cert
            .measures
            .get(d)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if ids != cube_ids || ids != cert_ids {
            return Err(format!(
                "dataset {}: measures {ids:?} published, {cube_ids:?} in the cube, {cert_ids:?} in the certificate",
                def.id
            ));
        }
        if cube.len() != table.rows || cube.dimensions.len() != table.dims.len() {
            return Err(format!(
                "dataset {}: {} published rows, {} true rows",
                def.id,
                table.rows,
                cube.len()
            ));
        }
        for (k, cd) in cube.dimensions.iter().enumerate() {
            if let Some(r) = (0..table.rows).find(|&r| cd.code(r) != table.code(k, r)) {
                return Err(format!(
                    "dataset {}: row {r} is {} in the published table and {} in the cube ({})",
                    def.id,
                    table.code(k, r),
                    cd.code(r),
                    cd.id
                ));
            }
        }
        tables.push(table);
    }
    Ok(tables)
}

/// Counts non-null values and secret values.
fn count_values(tables: &[Table], report: &mut Report) {
    for t in tables {
        for m in &t.measures {
            for s in &m.status {
                match s {
                    Status::Absent => {}
                    Status::Published => report.values += 1,
                    Status::Secret => {
                        report.values += 1;
                        report.secret += 1;
                    }
                }
            }
        }
    }
}

/// A failure about one value of a table.
fn cell_failure(table: &Table, m: usize, r: usize, check: Check, message: String) -> Failure {
    Failure {
        check,
        dataset: table.def.id.clone(),
        coordinates: table.coordinates(r),
        measure: table.measures[m].id.clone(),
        claim: None,
        message,
    }
}

/// Rates and differences over a secret part, medians over too few observations (`count(m, r)`
/// gives the number of observations known to the check).
fn derived_checks(
    table: &Table,
    sink: &mut Failures,
    rules: &Rules,
    count: impl Fn(usize, usize) -> Option<f64>,
) {
    for r in 0..table.rows {
        for (m, info) in table.measures.iter().enumerate() {
            if info.status[r] != Status::Published {
                continue;
            }
            if let Some((a, b)) = info.parts {
                let secret = [a, b]
                    .into_iter()
                    .find(|&p| table.measures[p].status[r] == Status::Secret);
                if let Some(p) = secret {
                    sink.push_with(Check::DerivedOverSecret, || {
                        cell_failure(
                            table,
                            m,
                            r,
                            Check::DerivedOverSecret,
                            format!(
                                "published while its part {} is secret",
                                table.measures[p].id
                            ),
                        )
                    });
                }
            }
            if let Some(c) = info.observations {
                let n = count(c, r);
                if n.is_some_and(|n| n < rules.min_median_observations as f64) {
                    sink.push_with(Check::MedianTooFewObservations, || {
                        cell_failure(
                            table,
                            m,
                            r,
                            Check::MedianTooFewObservations,
                            format!(
                                "median published over {} observations ({}), fewer than {}",
                                n.unwrap_or(0.0),
                                table.measures[c].id,
                                rules.min_median_observations
                            ),
                        )
                    });
                }
            }
        }
    }
}
