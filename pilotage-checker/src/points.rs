//! Verification of the witness points, in parallel, and of the claims they prove.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::RecordBatch;
use pilotage_core::certificate::{ClaimKind, Point};
use pilotage_core::cube::NO_STRUCTURE;

use crate::Rules;
use crate::model::{
    Class, NONE, Status, Table, number_column, pack, string_column, string_or_null_column, unpack,
};
use crate::relations::{
    Declared, Mode, Relation, Term, check_declared, check_equal, check_family, describe_cell,
};
use crate::report::{Check, Failure, Failures};
use crate::rules::{Confidential, TrueMeasure, bit};

/// Points verified per unit of work handed to a thread.
const BLOCK: usize = 512;

/// The previous release's published table of a dataset, matched to the current rows.
#[derive(Debug)]
pub(crate) struct Previous {
    /// Per current row, the previous row with the same codes ([`NONE`] if none).
    row: Vec<u32>,
    /// Per current measure, the previous values (NaN where null) and statuses.
    columns: Vec<Option<(Vec<f64>, Vec<bool>)>>,
}

impl Previous {
    /// Matches a previous table to the current one; `None` if its dimensions differ.
    pub fn new(table: &Table, batch: &RecordBatch) -> Option<Previous> {
        let codes: Vec<Vec<String>> = table
            .dims
            .iter()
            .map(|d| string_column(batch, &d.id).ok())
            .collect::<Option<_>>()?;
        let mut row = vec![NONE; table.rows];
        let mut scratch: Vec<&str> = Vec::with_capacity(codes.len());
        for p in 0..batch.num_rows() {
            scratch.clear();
            scratch.extend(codes.iter().map(|c| c[p].as_str()));
            if let Some(r) = table.find_codes(&scratch) {
                row[r as usize] = p as u32;
            }
        }
        let columns = table
            .measures
            .iter()
            .map(|m| {
                let values = number_column(batch, &m.id).ok()?;
                let status = string_or_null_column(
                    batch,
                    &format!("{}{}", m.id, pilotage_core::release::STATUS_SUFFIX),
                )
                .ok()?;
                let published = status
                    .iter()
                    .zip(&values)
                    .map(|(s, v)| {
                        s.as_deref() == Some(pilotage_core::release::STATUS_PUBLISHED)
                            && !v.is_nan()
                    })
                    .collect();
                Some((values, published))
            })
            .collect();
        Some(Previous { row, columns })
    }

    /// Whether the previous release published this value as the current one would show it.
    fn knows(&self, m: usize, r: usize, shown: f64) -> bool {
        let p = self.row[r];
        if p == NONE || shown.is_nan() {
            return false;
        }
        let Some((values, published)) = &self.columns[m] else {
            return false;
        };
        let p = p as usize;
        published[p] && (values[p] - shown).abs() <= 1e-9 * shown.abs().max(1.0)
    }
}

/// Everything the verification of a point reads.
pub(crate) struct Context<'a> {
    pub tables: &'a [Table<'a>],
    pub truth: &'a [Vec<TrueMeasure>],
    pub confidential: &'a Confidential,
    pub declared: &'a [Vec<Declared>],
    /// `[dataset][measure]`: indices of the declared relations naming the measure.
    pub declared_by_measure: Vec<Vec<Vec<u16>>>,
    pub cross: &'a HashMap<u64, Vec<u64>>,
    pub previous: &'a [Option<Previous>],
    pub rules: &'a Rules,
}

/// What the verification of some points found.
#[derive(Default)]
pub(crate) struct Outcome {
    pub failures: Failures,
    /// Claims proved: `(packed cell, claim bit)`.
    pub proved: Vec<(u64, u8)>,
    /// Claims listed for a confidential value, proved or not.
    pub listed: Vec<(u64, u8)>,
    /// Magnitude claims reached by a valid point that some structures see through, or
    /// reached only down to the largest contribution (see [`Partly`]).
    pub partly: Vec<Partly>,
    /// Claims listed for a value or kind the rules do not need.
    pub ignored: u64,
}

/// A magnitude claim a valid point reaches only in part.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Partly {
    /// The claimed value (packed cell).
    pub cell: u64,
    /// The claim's bit.
    pub bit: u8,
    /// True when the point reaches the claim's target; false when it reaches only the
    /// largest contribution of one structure (enough against that structure alone).
    pub full: bool,
    /// The structures that alone make a value the point moves (the claimed value and its own
    /// maker aside), sorted: they know the point is not the truth.
    pub knowing: Vec<u32>,
}

#[derive(Default)]
struct Scratch {
    changes: Vec<(u64, f64)>,
    relations: Vec<Relation>,
}

/// Verifies every point, over `threads` threads; the outcome does not depend on them.
pub(crate) fn verify(ctx: &Context, points: &[Point], threads: usize) -> Outcome {
    let blocks = points.len().div_ceil(BLOCK);
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, blocks.max(1));
    let mut results: Vec<(usize, Outcome)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    let mut scratch = Scratch::default();
                    loop {
                        let b = next.fetch_add(1, Ordering::Relaxed);
                        if b >= blocks {
                            break;
                        }
                        let mut out = Outcome::default();
                        let end = ((b + 1) * BLOCK).min(points.len());
                        for (i, point) in points.iter().enumerate().take(end).skip(b * BLOCK) {
                            verify_point(ctx, i, point, &mut out, &mut scratch);
                        }
                        done.push((b, out));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(b, _)| *b);
    let mut all = Outcome::default();
    for (_, out) in results {
        all.failures.append(out.failures);
        all.proved.extend(out.proved);
        all.listed.extend(out.listed);
        all.partly.extend(out.partly);
        all.ignored += out.ignored;
    }
    all
}

fn failure(
    ctx: &Context,
    check: Check,
    d: usize,
    m: usize,
    r: usize,
    claim: Option<ClaimKind>,
    message: String,
) -> Failure {
    let table = ctx.tables.get(d);
    Failure {
        check,
        dataset: table.map_or_else(|| format!("#{d}"), |t| t.def.id.clone()),
        coordinates: table.map(|t| t.coordinates(r)).unwrap_or_default(),
        measure: table
            .and_then(|t| t.measures.get(m))
            .map_or_else(|| format!("#{m}"), |x| x.id.clone()),
        claim: claim.map(|k| format!("{k:?}")),
        message,
    }
}

/// Verifies point `index` of the certificate: each of its changes, the relations at it, and
/// the claims it lists.
fn verify_point(ctx: &Context, index: usize, point: &Point, out: &mut Outcome, s: &mut Scratch) {
    load_changes(point, s);
    let (mut valid, cells_ok) = check_changes(ctx, index, &s.changes, out);
    if cells_ok {
        valid &= relations_hold(ctx, index, out, s);
    }
    record_claims(ctx, point, valid, out, s);
}

/// Loads the changes of a point into `s.changes`, as (packed cell, change in the measure's
/// unit), sorted by cell.
fn load_changes(point: &Point, s: &mut Scratch) {
    s.changes.clear();
    s.changes.extend(point.changes.iter().map(|(c, delta)| {
        (
            pack(c.dataset.into(), c.measure.into(), c.row as usize),
            *delta,
        )
    }));
    s.changes.sort_by_key(|c| c.0);
}

/// Checks every change of point `index` on its own, reporting each failure. Returns whether
/// every change is allowed, and whether every changed value exists and may move (the
/// relations can then be evaluated).
fn check_changes(
    ctx: &Context,
    index: usize,
    changes: &[(u64, f64)],
    out: &mut Outcome,
) -> (bool, bool) {
    let mut valid = true;
    let mut cells_ok = true;
    let fail = |out: &mut Outcome, check: Check, cell: u64, message: &dyn Fn() -> String| {
        let (d, m, r) = unpack(cell);
        out.failures.push_with(check, || {
            failure(
                ctx,
                check,
                d,
                m,
                r,
                None,
                format!("point {index}: {}", message()),
            )
        });
    };
    for (i, &(cell, delta)) in changes.iter().enumerate() {
        let (d, m, r) = unpack(cell);
        if i > 0 && changes[i - 1].0 == cell {
            valid = false;
            fail(out, Check::PointBadCell, cell, &|| {
                "changes this value twice".into()
            });
            continue;
        }
        let Some(info) = ctx.tables.get(d).and_then(|t| t.measures.get(m)) else {
            valid = false;
            cells_ok = false;
            fail(out, Check::PointBadCell, cell, &|| {
                "changes a value that does not exist".into()
            });
            continue;
        };
        if r >= info.status.len() {
            valid = false;
            cells_ok = false;
            fail(out, Check::PointBadCell, cell, &|| {
                format!("changes row {r}, beyond the table")
            });
            continue;
        }
        let x = ctx.truth[d][m].value[r];
        if !info.class.is_base() || x.is_nan() || !delta.is_finite() {
            valid = false;
            cells_ok = false;
            fail(out, Check::PointBadCell, cell, &|| {
                format!(
                    "changes a value that cannot move (a {:?} measure, value {x}, change {delta})",
                    info.class
                )
            });
            continue;
        }
        if info.status[r] != Status::Secret {
            valid = false;
            fail(out, Check::PointMovesPublished, cell, &|| {
                format!("changes a published value ({x} by {delta})")
            });
        }
        if ctx.previous[d]
            .as_ref()
            .is_some_and(|p| p.knows(m, r, ctx.truth[d][m].shown[r]))
        {
            valid = false;
            fail(out, Check::PointMovesKnown, cell, &|| {
                "changes a value the previous release published unchanged".into()
            });
        }
        if x + delta < -1e-9 * x.abs().max(1.0) {
            valid = false;
            fail(out, Check::Negative, cell, &|| {
                format!("makes the value negative ({x} + {delta})")
            });
        }
        if info.class == Class::Count && (delta - delta.round()).abs() > 1e-9 {
            valid = false;
            fail(out, Check::NotIntegral, cell, &|| {
                format!("changes a count by a non-integral {delta}")
            });
        }
    }
    (valid, cells_ok)
}

/// Records the claims a point lists: ignored when the rules do not need them, listed
/// otherwise, and, when the point is `valid`, proved in full or in part.
fn record_claims(ctx: &Context, point: &Point, valid: bool, out: &mut Outcome, s: &Scratch) {
    for claim in &point.claims {
        let (d, m, r) = (
            usize::from(claim.cell.dataset),
            usize::from(claim.cell.measure),
            claim.cell.row as usize,
        );
        let b = bit(claim.kind);
        if ctx.confidential.needs(d, m, r) & b == 0 {
            out.ignored += 1;
            continue;
        }
        let cell = pack(d, m, r);
        out.listed.push((cell, b));
        if !valid {
            continue;
        }
        if proves(ctx, s, cell, claim.kind) {
            let knowing = knowing_structures(ctx, s, cell, claim.kind);
            if knowing.is_empty() {
                out.proved.push((cell, b));
            } else {
                out.partly.push(Partly {
                    cell,
                    bit: b,
                    full: true,
                    knowing,
                });
            }
        } else if reaches_top_share(ctx, s, cell, claim.kind) {
            out.partly.push(Partly {
                cell,
                bit: b,
                full: false,
                knowing: knowing_structures(ctx, s, cell, claim.kind),
            });
        }
    }
}

/// The value of a cell at the true values and at the point.
fn term(ctx: &Context, changes: &[(u64, f64)], d: usize, m: usize, r: usize) -> Term {
    let x = ctx.truth[d][m].value[r];
    if x.is_nan() {
        return Term::Null;
    }
    let cell = pack(d, m, r);
    match changes.binary_search_by_key(&cell, |c| c.0) {
        Ok(i) => Term::Value(x, x + changes[i].1),
        Err(_) => Term::Value(x, x),
    }
}

/// Evaluates every relation touching a changed value; false if one is broken.
fn relations_hold(ctx: &Context, index: usize, out: &mut Outcome, s: &mut Scratch) -> bool {
    s.relations.clear();
    for &(cell, _) in &s.changes {
        let (d, m, r) = unpack(cell);
        let t = &ctx.tables[d];
        for k in 0..t.dims.len() {
            if !t.children(k, r).is_empty() {
                s.relations.push(Relation::Family {
                    d: d as u16,
                    m: m as u16,
                    k: k as u16,
                    parent: r as u32,
                });
            }
            let p = t.parent_row[k][r];
            if p != NONE {
                s.relations.push(Relation::Family {
                    d: d as u16,
                    m: m as u16,
                    k: k as u16,
                    parent: p,
                });
            }
        }
        for &i in &ctx.declared_by_measure[d][m] {
            s.relations.push(Relation::Declared {
                d: d as u16,
                index: i,
                row: r as u32,
            });
        }
        if let Some(partners) = ctx.cross.get(&cell) {
            for &b in partners {
                s.relations.push(Relation::Cross {
                    a: cell.min(b),
                    b: cell.max(b),
                });
            }
        }
    }
    s.relations.sort_unstable();
    s.relations.dedup();
    let changes = &s.changes;
    let mut ok = true;
    for rel in &s.relations {
        let describe = out.failures.wants(Check::RelationBroken);
        let (broken, (d, m, r)) = match *rel {
            Relation::Family { d, m, k, parent } => {
                let (d, m, k, p) = (d as usize, m as usize, k as usize, parent as usize);
                let value = |row: usize| term(ctx, changes, d, m, row);
                (
                    check_family(&ctx.tables[d], m, k, p, &value, Mode::Point, describe),
                    (d, m, p),
                )
            }
            Relation::Declared { d, index, row } => {
                let (d, r) = (d as usize, row as usize);
                let rel = &ctx.declared[d][usize::from(index)];
                let value = |m: usize| term(ctx, changes, d, m, r);
                (
                    check_declared(&ctx.tables[d], rel, &value, Mode::Point, describe),
                    (d, rel.left, r),
                )
            }
            Relation::Cross { a, b } => {
                let (da, ma, ra) = unpack(a);
                let (db, mb, rb) = unpack(b);
                let ta = term(ctx, changes, da, ma, ra);
                let tb = term(ctx, changes, db, mb, rb);
                (
                    check_equal(ta, tb, describe, || describe_cell(ctx.tables, b)),
                    (da, ma, ra),
                )
            }
        };
        if let Some(text) = broken {
            ok = false;
            out.failures.push_with(Check::RelationBroken, || {
                failure(
                    ctx,
                    Check::RelationBroken,
                    d,
                    m,
                    r,
                    None,
                    format!("point {index} breaks the relation {text}"),
                )
            });
        }
    }
    ok
}

/// For a magnitude claim, the structures that alone make a value the point moves (the claimed
/// value aside) and so know the point is not the truth: sorted, without the structure that
/// alone makes the claimed value (it knows the value itself). Empty for other claims.
fn knowing_structures(ctx: &Context, s: &Scratch, cell: u64, kind: ClaimKind) -> Vec<u32> {
    if !matches!(kind, ClaimKind::Below | ClaimKind::Above) {
        return Vec::new();
    }
    let sole = |c: u64| {
        let (d, m, r) = unpack(c);
        ctx.truth[d][m].sole.get(r).copied().unwrap_or(NO_STRUCTURE)
    };
    let own = sole(cell);
    let mut out: Vec<u32> = s
        .changes
        .iter()
        .map(|&(c, _)| (c, sole(c)))
        .filter(|&(c, st)| c != cell && st != NO_STRUCTURE && st != own)
        .map(|(_, st)| st)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether a valid point meets a claim of a confidential cell.
fn proves(ctx: &Context, s: &Scratch, cell: u64, kind: ClaimKind) -> bool {
    let (d, m, r) = unpack(cell);
    let Term::Value(x, v) = term(ctx, &s.changes, d, m, r) else {
        return false;
    };
    let tol = 1e-9 * x.abs().max(1.0);
    let min = ctx.rules.min_count as f64;
    match kind {
        ClaimKind::Zero => v <= tol,
        ClaimKind::AtLeastMinCount => v >= min - tol,
        ClaimKind::Positive => v >= 1.0 - tol,
        ClaimKind::Below | ClaimKind::Above => {
            let margin = ctx.confidential.margin[d][m].get(r).copied().unwrap_or(0.0);
            if kind == ClaimKind::Below {
                v <= (x - margin).max(0.0) + tol
            } else {
                v >= x + margin - tol
            }
        }
    }
}

/// Whether a valid point takes a confidential magnitude down to the largest contribution of
/// one structure: all that can be asked against that structure, which knows its own share.
fn reaches_top_share(ctx: &Context, s: &Scratch, cell: u64, kind: ClaimKind) -> bool {
    if kind != ClaimKind::Below {
        return false;
    }
    let (d, m, r) = unpack(cell);
    let Term::Value(x, v) = term(ctx, &s.changes, d, m, r) else {
        return false;
    };
    let top = ctx.truth[d][m].top.get(r).map_or(0.0, |t| t.1);
    v <= top + 1e-9 * x.abs().max(1.0)
}
