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
    let mut tables = Vec::new();
    for (def, batch) in definitions.iter().zip(published) {
        match Table::new(def, batch, &geography, &rules.sensitive_dimensions) {
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
    count_values(&tables, &mut report);
    let min = rules.min_count as f64;
    let small = |x: f64| x >= 1.0 && x < min;
    let published_value = |t: &Table, m: usize, r: usize| {
        let info = &t.measures[m];
        (info.status[r] == Status::Published).then(|| info.published[r])
    };
    for t in &tables {
        // Small counts.
        for r in 0..t.rows {
            for (m, info) in t.measures.iter().enumerate() {
                if info.class != Class::Count {
                    continue;
                }
                if let Some(x) = published_value(t, m, r).filter(|&x| small(x)) {
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
        // Breakdowns under a small sensitive total.
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
                    info.class == Class::Count && published_value(t, *m, top).is_some_and(small)
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
        derived_checks(t, &mut sink, rules, |m, r| published_value(t, m, r));
    }
    // Relations among published values.
    for t in &tables {
        let term = |m: usize, r: usize| match t.measures[m].status[r] {
            Status::Published => {
                Term::Value(t.measures[m].published[r], t.measures[m].published[r])
            }
            Status::Secret => Term::Unknown,
            Status::Absent => Term::Null,
        };
        for (m, info) in t.measures.iter().enumerate() {
            if !info.class.is_base() {
                continue;
            }
            for k in 0..t.dims.len() {
                for p in 0..t.rows {
                    if t.children(k, p).is_empty() {
                        continue;
                    }
                    let value = |r: usize| term(m, r);
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
        for rel in declared(t) {
            for r in 0..t.rows {
                let value = |m: usize| term(m, r);
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
    report.absorb(sink);
    report
}
