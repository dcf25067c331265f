//! The public check: what anyone who downloads a release can verify from the published tables
//! and the definitions alone.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use pilotage_core::dataset::Definition;
use pilotage_core::territory::Referential;

use crate::model::{Class, NONE, Status, Table};
use crate::relations::{Mode, Term, check_declared, check_family, declared};
use crate::report::{Check, Failure, Failures, Report};
use crate::{Rules, cell_failure, count_values, derived_checks};

pub(crate) fn check_public(
    definitions: &[Definition],
    published: &[RecordBatch],
    rules: &Rules,
) -> Report {
    let mut report = Report::new();
    let mut sink = Failures::default();
    let pairs: Vec<(String, String)> = Referential::try_official()
        .map(|r| {
            r.all_departements()
                .iter()
                .map(|d| (d.code.clone(), d.region.clone()))
                .collect()
        })
        .unwrap_or_default();
    let geography: HashMap<&str, &str> = crate::model::regions(&pairs);
    if definitions.len() != published.len() {
        sink.push_with(Check::Format, || Failure {
            check: Check::Format,
            dataset: String::new(),
            coordinates: Vec::new(),
            measure: String::new(),
            claim: None,
            message: format!(
                "{} definitions and {} published tables",
                definitions.len(),
                published.len()
            ),
        });
        report.absorb(sink);
        return report;
    }
    let tables = read_published(definitions, published, rules, &geography, &mut sink);
    count_values(&tables, &mut report);
    for t in &tables {
        small_counts(t, rules, &mut sink);
        under_small_total(t, rules, &mut sink);
        derived_checks(t, &mut sink, rules, |m, r| published_value(t, m, r));
    }
    // Relations among published values.
    for t in &tables {
        family_relations(t, &mut sink);
        declared_relations(t, &mut sink);
    }
    report.absorb(sink);
    report
}

/// The published tables that can be read, reporting those that cannot.
fn read_published<'a>(
    definitions: &'a [Definition],
    published: &[RecordBatch],
    rules: &Rules,
    geography: &HashMap<&str, &str>,
    sink: &mut Failures,
) -> Vec<Table<'a>> {
    let mut tables = Vec::new();
    for (def, batch) in definitions.iter().zip(published) {
        match Table::new(def, batch, geography, &rules.sensitive_dimensions) {
            Ok(t) => tables.push(t),
            Err(e) => sink.push_with(Check::Format, || Failure {
                check: Check::Format,
                dataset: def.id.clone(),
                coordinates: Vec::new(),
                measure: String::new(),
                claim: None,
                message: format!("published table: {e}"),
            }),
        }
    }
    tables
}

/// Whether `x` is a small count: from 1 to `min_count − 1`.
fn small(x: f64, rules: &Rules) -> bool {
    let min = rules.min_count as f64;
    x >= 1.0 && x < min
}

/// The value at measure `m`, row `r` of a table, when published.
fn published_value(t: &Table, m: usize, r: usize) -> Option<f64> {
    let info = &t.measures[m];
    (info.status[r] == Status::Published).then(|| info.published[r])
}

/// Reports every published small count of a table.
fn small_counts(t: &Table, rules: &Rules, sink: &mut Failures) {
    for r in 0..t.rows {
        for (m, info) in t.measures.iter().enumerate() {
            if info.class != Class::Count {
                continue;
            }
            if let Some(x) = published_value(t, m, r).filter(|&x| small(x, rules)) {
                sink.push_with(Check::PublishedSmallCount, || {
                    cell_failure(
                        t,
                        m,
                        r,
                        Check::PublishedSmallCount,
                        format!("count {x} published, below {}", rules.min_count),
                    )
                });
            }
        }
    }
}

/// Reports every value published in a breakdown by a sensitive attribute whose published
/// total count is small.
fn under_small_total(t: &Table, rules: &Rules, sink: &mut Failures) {
    for k in 0..t.dims.len() {
        if t.top_row[k].is_empty() {
            continue;
        }
        for r in 0..t.rows {
            let top = t.top_row[k][r];
            if top == NONE {
                continue;
            }
            let top = top as usize;
            let small_total = t.measures.iter().enumerate().find(|(m, info)| {
                info.class == Class::Count
                    && published_value(t, *m, top).is_some_and(|x| small(x, rules))
            });
            let Some((tm, _)) = small_total else {
                continue;
            };
            for (m, info) in t.measures.iter().enumerate() {
                if !info.class.is_base() || published_value(t, m, r).is_none() {
                    continue;
                }
                sink.push_with(Check::PublishedUnderSensitiveTotal, || {
                    cell_failure(
                        t,
                        m,
                        r,
                        Check::PublishedUnderSensitiveTotal,
                        format!(
                            "published in a breakdown by {} whose total {} is {}",
                            t.dims[k].id, t.measures[tm].id, t.measures[tm].published[top]
                        ),
                    )
                });
            }
        }
    }
}

/// What the public knows of the value at measure `m`, row `r`: its published value, unknown
/// when secret, null when absent.
fn term(t: &Table, m: usize, r: usize) -> Term {
    match t.measures[m].status[r] {
        Status::Published => Term::Value(t.measures[m].published[r], t.measures[m].published[r]),
        Status::Secret => Term::Unknown,
        Status::Absent => Term::Null,
    }
}

/// Reports every parent–children relation of a table its published values break.
fn family_relations(t: &Table, sink: &mut Failures) {
    for (m, info) in t.measures.iter().enumerate() {
        if !info.class.is_base() {
            continue;
        }
        for k in 0..t.dims.len() {
            for p in 0..t.rows {
                if t.children(k, p).is_empty() {
                    continue;
                }
                let value = |r: usize| term(t, m, r);
                if let Some(text) = check_family(
                    t,
                    m,
                    k,
                    p,
                    &value,
                    Mode::Published,
                    sink.wants(Check::PublishedRelationBroken),
                ) {
                    sink.push_with(Check::PublishedRelationBroken, || {
                        cell_failure(
                            t,
                            m,
                            p,
                            Check::PublishedRelationBroken,
                            format!("published values break the relation {text}"),
                        )
                    });
                }
            }
        }
    }
}

/// Reports every declared relation between measures, row by row, the published values of a
/// table break.
fn declared_relations(t: &Table, sink: &mut Failures) {
    for rel in declared(t) {
        for r in 0..t.rows {
            let value = |m: usize| term(t, m, r);
            if let Some(text) = check_declared(
                t,
                &rel,
                &value,
                Mode::Published,
                sink.wants(Check::PublishedRelationBroken),
            ) {
                sink.push_with(Check::PublishedRelationBroken, || {
                    cell_failure(
                        t,
                        rel.left,
                        r,
                        Check::PublishedRelationBroken,
                        format!("published values break the {text}"),
                    )
                });
            }
        }
    }
}
