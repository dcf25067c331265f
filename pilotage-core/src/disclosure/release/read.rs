//! The audit of a published release: reads only the published tables (release layout, see
//! [`crate::release`]) and the definitions, rebuilds every relation, and checks every secret
//! value by linear programming.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use crate::dataset::{Definition, MeasureKind};
use crate::release::{LEVEL_SUFFIX, STATUS_PUBLISHED, STATUS_SECRET, STATUS_SUFFIX};

use super::super::DisclosureError;
use super::grid::{self, Class, Table};
use super::protect::report;
use super::solve::{self, Bounds, Need};
use super::{ProtectOptions, ReleaseAudit};

/// Public status of one published value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shown {
    NotApplicable,
    Value(f64),
    Secret,
}

pub(super) fn strings(
    batch: &RecordBatch,
    dataset: &str,
    name: &str,
) -> Result<Vec<Option<String>>, DisclosureError> {
    let bad = |message: String| DisclosureError::Release {
        dataset: dataset.to_owned(),
        message,
    };
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| bad(format!("no column {name:?}")))?;
    let out = match col.data_type() {
        DataType::Utf8 => col
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_owned))
            .collect(),
        DataType::LargeUtf8 => col
            .as_string::<i64>()
            .iter()
            .map(|s| s.map(str::to_owned))
            .collect(),
        DataType::Utf8View => col
            .as_string_view()
            .iter()
            .map(|s| s.map(str::to_owned))
            .collect(),
        other => return Err(bad(format!("column {name:?} has type {other}, not text"))),
    };
    Ok(out)
}

pub(super) fn numbers(
    batch: &RecordBatch,
    dataset: &str,
    name: &str,
) -> Result<Vec<Option<f64>>, DisclosureError> {
    let bad = |message: String| DisclosureError::Release {
        dataset: dataset.to_owned(),
        message,
    };
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| bad(format!("no column {name:?}")))?;
    let out = match col.data_type() {
        DataType::UInt64 => col
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|v| v.map(|x| x as f64))
            .collect(),
        DataType::Int64 => col
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|x| x as f64))
            .collect(),
        DataType::Float64 => col.as_primitive::<Float64Type>().iter().collect(),
        other => {
            return Err(bad(format!(
                "column {name:?} has type {other}, not a number"
            )));
        }
    };
    Ok(out)
}

/// Reads one published table into its coordinates and shown values.
fn read_table(
    def: &Definition,
    batch: &RecordBatch,
    options: &ProtectOptions,
    geography: &crate::cube::Geography,
) -> Result<(Table, Vec<Vec<Shown>>), DisclosureError> {
    let rows = batch.num_rows();
    let bad = |message: String| DisclosureError::Release {
        dataset: def.id.clone(),
        message,
    };
    let mut dims = Vec::with_capacity(def.dimensions.len());
    for d in &def.dimensions {
        let codes_col = strings(batch, &def.id, &d.id)?;
        let levels_col = strings(batch, &def.id, &format!("{}{LEVEL_SUFFIX}", d.id))?;
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut codes = Vec::new();
        let mut level_names = Vec::new();
        let mut member_rows = Vec::with_capacity(rows);
        for (r, (code, level)) in codes_col.into_iter().zip(levels_col).enumerate() {
            let (Some(code), Some(level)) = (code, level) else {
                return Err(bad(format!("row {r}: dimension {:?} is null", d.id)));
            };
            let next = codes.len() as u32;
            let m = *index.entry(code.clone()).or_insert_with(|| {
                codes.push(code);
                level_names.push(level);
                next
            });
            member_rows.push(m);
        }
        dims.push(grid::dim_of(
            def,
            &d.id,
            codes,
            &level_names,
            member_rows,
            geography,
            options.sensitive_dimensions.contains(&d.id),
        )?);
    }
    let ids: Vec<String> = def.measures.iter().map(|m| m.id.clone()).collect();
    let measures = grid::measures_of(def, &ids)?;
    let mut shown = Vec::with_capacity(ids.len());
    for id in &ids {
        let values = numbers(batch, &def.id, id)?;
        let status = strings(batch, &def.id, &format!("{id}{STATUS_SUFFIX}"))?;
        let mut col = Vec::with_capacity(rows);
        for (r, (v, s)) in values.into_iter().zip(status).enumerate() {
            col.push(match (s.as_deref(), v) {
                (None, _) => Shown::NotApplicable,
                (Some(STATUS_SECRET), _) => Shown::Secret,
                (Some(STATUS_PUBLISHED), Some(v)) if v.is_finite() => Shown::Value(v),
                (Some(STATUS_PUBLISHED), None) => {
                    return Err(bad(format!("row {r}: {id} is published but empty")));
                }
                (Some(other), _) => {
                    return Err(bad(format!("row {r}: {id}_statut is {other:?}")));
                }
            });
        }
        shown.push(col);
    }
    Ok((
        Table {
            dataset: def.id.clone(),
            rows,
            dims,
            measures,
        },
        shown,
    ))
}

/// Audits published tables with the default options (primary rules of DESIGN.md §5, the
/// sensitive dimensions [`super::SENSITIVE_DIMENSIONS`], the compiled-in geography).
pub fn audit_release(
    tables: &[(Definition, RecordBatch)],
) -> Result<ReleaseAudit, DisclosureError> {
    audit_release_with(tables, &ProtectOptions::default())
}

/// Audits published tables (release layout: `<dim>`, `<dim>_niveau`, `<measure>`,
/// `<measure>_statut`) against their definitions. Independent of the protection's state: it
/// knows only the published values and which values are `secret`. Checks that no published
/// count is from 1 to 10, no published breakdown row of a sensitive attribute has a total from
/// 1 to 10, no derived value is published over a secret part (nor a median over fewer than
/// `min_median_observations`), and that every secret count or magnitude keeps the value-free
/// interval of the module documentation.
#[allow(clippy::needless_range_loop)]
pub fn audit_release_with(
    tables: &[(Definition, RecordBatch)],
    options: &ProtectOptions,
) -> Result<ReleaseAudit, DisclosureError> {
    options.rules.validate()?;
    let geography = match &options.geography {
        Some(g) => g.clone(),
        None => super::reference_geography()?,
    };
    let mut read = Vec::with_capacity(tables.len());
    for (def, batch) in tables {
        read.push(read_table(def, batch, options, &geography)?);
    }
    let (grids, shown): (Vec<Table>, Vec<Vec<Vec<Shown>>>) = read.into_iter().unzip();
    let system = grid::build_system(
        &grids,
        &|t, m, r| match shown[t][m][r] {
            Shown::Value(v) => Some(v),
            _ => None,
        },
        &|t, m, r| shown[t][m][r] != Shown::NotApplicable,
    )?;
    let n = system.value.len();
    let rules = &options.rules;
    let req = super::requirement(rules);
    let mut secret = vec![false; n];
    let mut checked = vec![false; n];
    let mut sensitive = vec![false; n];
    let mut class = vec![Class::Derived; n];
    let mut out = ReleaseAudit::default();
    let mut failures: Vec<(usize, Bounds, &'static str)> = Vec::new();
    let nan = Bounds {
        lo: f64::NAN,
        hi: f64::NAN,
        passed: false,
    };
    for (ti, t) in grids.iter().enumerate() {
        for (mi, m) in t.measures.iter().enumerate() {
            for r in 0..t.rows {
                let c = system.base[ti][mi] + r;
                class[c] = m.class;
                match shown[ti][mi][r] {
                    Shown::NotApplicable => continue,
                    Shown::Secret => {
                        secret[c] = true;
                        out.secret += 1;
                        checked[c] = matches!(m.class, Class::Count | Class::Magnitude);
                    }
                    Shown::Value(v) => {
                        if m.class == Class::Count && rules.count_is_sensitive(v) {
                            let b = Bounds {
                                lo: v,
                                hi: v,
                                passed: false,
                            };
                            failures.push((c, b, "published count from 1 to 10"));
                        }
                        if let Some((a, b)) = m.parts {
                            let (ca, cb) = (system.base[ti][a] + r, system.base[ti][b] + r);
                            let part_secret = matches!(shown[ti][a][r], Shown::Secret)
                                || matches!(shown[ti][b][r], Shown::Secret);
                            if part_secret {
                                failures.push((
                                    c,
                                    nan,
                                    "derived value published over a secret part",
                                ));
                            } else if m.kind == MeasureKind::Median
                                && system.value[ca] < rules.min_median_observations as f64
                            {
                                failures.push((c, nan, "median over too few observations"));
                            }
                            let _ = cb;
                        }
                    }
                }
                out.values += 1;
                sensitive[c] = t.in_sensitive_row(r);
            }
        }
    }
    // Sensitive rows: a published breakdown under a published total from 1 to 10.
    for (ti, t) in grids.iter().enumerate() {
        for (sd, dim) in t.dims.iter().enumerate().filter(|(_, d)| d.sensitive) {
            let links = grid::links(t)?;
            let mut up: HashMap<u32, u32> = HashMap::new();
            for l in links.iter().filter(|l| l.dim as usize == sd) {
                for &ch in &l.children {
                    up.insert(ch, l.parent);
                }
            }
            for r in 0..t.rows as u32 {
                if dim.depth[dim.rows[r as usize] as usize] == 0 {
                    continue;
                }
                let mut top = r;
                while let Some(&p) = up.get(&top) {
                    top = p;
                }
                for (mi, m) in t.measures.iter().enumerate() {
                    if m.class != Class::Count {
                        continue;
                    }
                    let total = system.value[system.base[ti][mi] + top as usize];
                    let c = system.base[ti][mi] + r as usize;
                    if rules.count_is_sensitive(total) && !secret[c] && system.present[c] {
                        failures.push((
                            c,
                            nan,
                            "sensitive breakdown published under a small total",
                        ));
                    }
                }
            }
        }
    }
    let (rel_start, rel_flat) = grid::incidence(n, &system.relations);
    let relations_of = |c: u32| -> Vec<u32> {
        rel_flat[rel_start[c as usize] as usize..rel_start[c as usize + 1] as usize].to_vec()
    };
    let need = |c: u32| -> Need {
        let s = sensitive[c as usize];
        match class[c as usize] {
            Class::Magnitude => Need::Magnitude { sensitive: s },
            _ => Need::Count { sensitive: s },
        }
    };
    // Only additive secrets are unknowns; a secret public count or derived value is not.
    let unknown: Vec<bool> = (0..n).map(|c| checked[c]).collect();
    let comps = solve::components(n, &unknown, &system.relations);
    // A count whose outer bound (propagation over the relations) is 11 or more is proved not
    // small: it needs no linear program.
    let integer: Vec<bool> = class.iter().map(|&k| k == Class::Count).collect();
    let outer_lo = solve::outer_bounds(
        &unknown,
        &system.value,
        &integer,
        &system.relations,
        &rel_start,
        &rel_flat,
        40 * system.relations.len(),
    )
    .lo;
    let not_small = |c: u32| integer[c as usize] && outer_lo[c as usize] >= req.min_count - 1e-9;
    out.settled_by_bounds = (0..n as u32)
        .filter(|&c| unknown[c as usize] && not_small(c))
        .count() as u64;
    let solve_one = |comp: &Vec<u32>| {
        // A component too large to be solved whole is checked in chunks, the cells outside each
        // chunk held at one feasible point of the component: every point a chunk finds is then
        // a point of the release (sound proofs that a value reaches 0 and 11), and a value
        // passing by staying at 11 or more or at 0 must also pass with the relations reaching
        // outside its chunk left out. Stricter than the whole check, never looser.
        let point = if comp.len() > options.max_component {
            match solve::feasible_point(
                comp,
                &unknown,
                &system.value,
                &system.relations,
                &relations_of,
            ) {
                Ok(Some(point)) => Some(point),
                Ok(None) => {
                    let failed = solve::Bounds {
                        lo: f64::NAN,
                        hi: f64::NAN,
                        passed: false,
                    };
                    return Ok((vec![failed; comp.len()], 1, true));
                }
                Err(message) => {
                    return Err(DisclosureError::Solver {
                        key: format!("component of {} cells", comp.len()),
                        message,
                    });
                }
            }
        } else {
            None
        };
        let outside = match &point {
            Some(z) => solve::Outside::Fixed(z),
            None => solve::Outside::Unknown,
        };
        solve::solve_component(
            comp,
            &unknown,
            &system.value,
            &system.relations,
            &relations_of,
            &need,
            &req,
            options.max_component,
            &outside,
            &not_small,
        )
        .map_err(|message| DisclosureError::Solver {
            key: format!("component of {} cells", comp.len()),
            message,
        })
    };
    let solved = super::protect::parallel_map(&comps, &solve_one);
    for (comp, result) in comps.iter().zip(solved) {
        let (bounds, lps, infeasible) = result?;
        out.components += 1;
        out.largest_component = out.largest_component.max(comp.len() as u64);
        out.lps += lps as u64;
        out.checked += comp.len() as u64;
        if comp.len() > options.max_component {
            out.chunked += comp.iter().filter(|&&c| !not_small(c)).count() as u64;
        }
        for (&c, b) in comp.iter().zip(bounds) {
            if !b.passed {
                let why = if infeasible {
                    "published values contradict the relations"
                } else {
                    "interval too narrow"
                };
                failures.push((c as usize, b, why));
            }
        }
    }
    failures.sort_by_key(|f| f.0);
    out.failures = failures
        .into_iter()
        .map(|(c, b, why)| report(&grids, &system, c, b, why))
        .collect();
    out.passed = out.failures.is_empty();
    Ok(out)
}
