//! The relations of a release, rebuilt from the definitions and the published coordinates:
//! hierarchies of every dimension (sums, stocks at period end, averages over time, bounds of
//! distinct counts), the declared relations between the measures of a row, and equalities
//! between datasets. Each is evaluated on demand, at the true values and at a point, or on
//! the published values within rounding.

use std::collections::HashMap;

use pilotage_core::dataset::{DimensionType, MeasureKind, RelationOp, TimeRule};

use crate::model::{Class, NONE, Table, pack, unpack};
use crate::rules::TrueMeasure;

/// One relation of the release, named by where it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Relation {
    /// Measure `m` of dataset `d` at row `parent` against its children along dimension `k`.
    Family { d: u16, m: u16, k: u16, parent: u32 },
    /// Declared relation `index` of dataset `d`'s definition at `row`.
    Declared { d: u16, index: u16, row: u32 },
    /// Two cells (packed) of two datasets that are equal.
    Cross { a: u64, b: u64 },
}

/// A value as a relation sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Term {
    /// Unknown (secret, in the public check): the relation cannot be evaluated.
    Unknown,
    /// Not applicable, or an absent row: no term.
    Null,
    /// The value at the true values and at the point (equal in the public check).
    Value(f64, f64),
}

/// How relations are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A relation that holds at the true values (relative tolerance) must hold at the point.
    Point,
    /// The relation must hold on the published values within their rounding.
    Published,
}

/// A declared relation resolved to measure indices.
#[derive(Debug, Clone)]
pub(crate) struct Declared {
    pub left: usize,
    pub op: RelationOp,
    pub right: Vec<usize>,
    pub text: String,
}

/// The declared relations of a table that resolve to its measures.
pub(crate) fn declared(table: &Table) -> Vec<Declared> {
    let position = |id: &str| table.measures.iter().position(|m| m.id == id);
    table
        .def
        .relations
        .iter()
        .filter_map(|rel| {
            let left = position(&rel.left)?;
            let right: Option<Vec<usize>> = rel.right.iter().map(|r| position(r)).collect();
            Some(Declared {
                left,
                op: rel.op,
                right: right?,
                text: rel.describe(),
            })
        })
        .collect()
}

/// One comparison `diff op 0` at the truth and at the point, with tolerances.
struct Test {
    equal: bool,
    truth: f64,
    point: f64,
    tol_truth: f64,
    tol_point: f64,
}

impl Test {
    fn holds(diff: f64, tol: f64, equal: bool) -> bool {
        if equal {
            diff.abs() <= tol
        } else {
            diff <= tol
        }
    }

    /// Broken: holds at the truth (in point mode) and not at the point.
    fn broken(&self, mode: Mode) -> bool {
        match mode {
            Mode::Point => {
                Test::holds(self.truth, self.tol_truth, self.equal)
                    && !Test::holds(self.point, self.tol_point, self.equal)
            }
            Mode::Published => !Test::holds(self.point, self.tol_point, self.equal),
        }
    }
}

fn relative(abs: f64) -> f64 {
    1e-7 * (1.0 + abs)
}

/// Half a unit of the published decimals of a measure (0 for counts).
fn half_unit(table: &Table, m: usize) -> f64 {
    match table.measures[m].class {
        Class::Magnitude => 0.5 * 10f64.powi(-(table.measures[m].decimals.unwrap_or(0) as i32)),
        _ => 0.0,
    }
}

/// Evaluates a family relation; returns what is broken, if anything.
pub(crate) fn check_family(
    table: &Table,
    m: usize,
    k: usize,
    parent: usize,
    value: &impl Fn(usize) -> Term,
    mode: Mode,
    describe: bool,
) -> Option<String> {
    let (pt, pp) = match value(parent) {
        Term::Value(t, p) => (t, p),
        _ => return None,
    };
    let sums = ChildSums::of(table, k, parent, value)?;
    if sums.n == 0 {
        return None;
    }
    let (tests, ending_row) = sums.tests(table, m, k, parent, (pt, pp), mode)?;
    let mut broken = Vec::new();
    for (test, shape) in tests.into_iter().flatten() {
        if !test.broken(mode) {
            continue;
        }
        if !describe {
            return Some(String::new());
        }
        let text = shape_text(table, k, shape, sums.n, ending_row);
        broken.push(format!("{text} (off by {:.6})", test.point));
    }
    (!broken.is_empty()).then(|| broken.join("; "))
}

/// The tests of a family relation, with their shapes (at most three).
type FamilyTests = [Option<(Test, Shape)>; 3];

/// The children of a parent row along one dimension, summed at the true values (`_t`) and at
/// the point (`_p`), in the measure's unit.
#[derive(Clone, Copy)]
struct ChildSums {
    /// Children with a value.
    n: usize,
    sum_t: f64,
    sum_p: f64,
    /// Sums of absolute values.
    abs_t: f64,
    abs_p: f64,
    max_t: f64,
    max_p: f64,
    /// The period-ending child: (row, true value, value at the point).
    ending: Option<(usize, f64, f64)>,
}

impl ChildSums {
    /// Sums the children of row `parent` along dimension `k`; `None` when one is unknown.
    fn of(table: &Table, k: usize, parent: usize, value: &impl Fn(usize) -> Term) -> Option<Self> {
        let dim = &table.dims[k];
        let (mut n, mut sum_t, mut sum_p, mut abs_t, mut abs_p) = (0usize, 0.0, 0.0, 0.0, 0.0);
        let (mut max_t, mut max_p) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let mut ending = None;
        let period = dim.kind == DimensionType::Period;
        for &c in table.children(k, parent) {
            let c = c as usize;
            match value(c) {
                Term::Unknown => return None,
                Term::Null => {}
                Term::Value(t, p) => {
                    n += 1;
                    sum_t += t;
                    sum_p += p;
                    abs_t += t.abs();
                    abs_p += p.abs();
                    max_t = max_t.max(t);
                    max_p = max_p.max(p);
                    if period && dim.ends_parent[table.row_members(c)[k] as usize] {
                        ending = Some((c, t, p));
                    }
                }
            }
        }
        Some(ChildSums {
            n,
            sum_t,
            sum_p,
            abs_t,
            abs_p,
            max_t,
            max_p,
            ending,
        })
    }

    /// The tests between the parent's value `(pt, pp)` (true, at the point) and these
    /// children, by the time rule and kind of measure `m`, with the row of the period-ending
    /// child (stocks only). `None` for a stock without a period-ending child.
    fn tests(
        &self,
        table: &Table,
        m: usize,
        k: usize,
        parent: usize,
        (pt, pp): (f64, f64),
        mode: Mode,
    ) -> Option<(FamilyTests, usize)> {
        let info = &table.measures[m];
        let dim = &table.dims[k];
        let period = dim.kind == DimensionType::Period;
        let ChildSums {
            n,
            sum_t,
            sum_p,
            abs_t,
            abs_p,
            max_t,
            max_p,
            ending,
        } = *self;
        let half = half_unit(table, m);
        let eps = 1e-9 * (1.0 + abs_p + pp.abs());
        let mut tests: FamilyTests = [None, None, None];
        let eq = |coef: f64, rhs_t: f64, rhs_p: f64, terms: usize, abs_t: f64, abs_p: f64| Test {
            equal: true,
            truth: coef * pt - rhs_t,
            point: coef * pp - rhs_p,
            tol_truth: relative(abs_t + coef * pt.abs()),
            tol_point: match mode {
                Mode::Point => relative(abs_p + coef * pp.abs()),
                Mode::Published => half * (coef + terms as f64) + eps,
            },
        };
        let mut ending_row = NONE as usize;
        if period && info.time == Some(TimeRule::Stock) {
            let (c, t, p) = ending?;
            ending_row = c;
            tests[0] = Some((eq(1.0, t, p, 1, t.abs(), p.abs()), Shape::Stock));
        } else if period && info.time == Some(TimeRule::Average) {
            let div = f64::from(dim.divisor[table.row_members(parent)[k] as usize]);
            tests[0] = Some((eq(div, sum_t, sum_p, n, abs_t, abs_p), Shape::Average(div)));
        } else if info.kind == MeasureKind::Persons {
            let le = Test {
                equal: false,
                truth: pt - sum_t,
                point: pp - sum_p,
                tol_truth: relative(abs_t + pt.abs()),
                tol_point: match mode {
                    Mode::Point => relative(abs_p + pp.abs()),
                    Mode::Published => half * (1 + n) as f64 + eps,
                },
            };
            let ge = Test {
                equal: false,
                truth: max_t - pt,
                point: max_p - pp,
                tol_truth: relative(max_t.abs() + pt.abs()),
                tol_point: match mode {
                    Mode::Point => relative(max_p.abs() + pp.abs()),
                    Mode::Published => 2.0 * half + eps,
                },
            };
            tests[0] = Some((le, Shape::AtMostSum));
            tests[1] = Some((ge, Shape::AtLeastMax));
            if mode == Mode::Point {
                tests[2] = Some((eq(1.0, sum_t, sum_p, n, abs_t, abs_p), Shape::DistinctSum));
            }
        } else {
            tests[0] = Some((eq(1.0, sum_t, sum_p, n, abs_t, abs_p), Shape::Sum));
        }
        Some((tests, ending_row))
    }
}

/// The description of a broken family relation of shape `shape`, over `n` children along
/// dimension `k` (`ending_row`: the period-ending child, for stocks).
fn shape_text(table: &Table, k: usize, shape: Shape, n: usize, ending_row: usize) -> String {
    let along = &table.dims[k].id;
    match shape {
        Shape::Stock => format!(
            "stock: value = that of its period-ending child {}",
            table.code(k, ending_row)
        ),
        Shape::Average(div) => {
            format!("average: {div} × value = Σ of its {n} children along {along}")
        }
        Shape::AtMostSum => {
            format!("distinct count: value ≤ Σ of its {n} children along {along}")
        }
        Shape::AtLeastMax => {
            format!("distinct count: value ≥ each of its {n} children along {along}")
        }
        Shape::DistinctSum => format!(
            "distinct count equal to its sum at the true values: value = Σ of its {n} children along {along}"
        ),
        Shape::Sum => format!("sum: value = Σ of its {n} children along {along}"),
    }
}

/// The shape of a family relation, for messages.
#[derive(Clone, Copy)]
enum Shape {
    Stock,
    Average(f64),
    AtMostSum,
    AtLeastMax,
    DistinctSum,
    Sum,
}

/// Evaluates a declared relation at a row; `value(m)` gives the terms of measure `m`.
pub(crate) fn check_declared(
    table: &Table,
    rel: &Declared,
    value: &impl Fn(usize) -> Term,
    mode: Mode,
    describe: bool,
) -> Option<String> {
    let (lt, lp) = match value(rel.left) {
        Term::Value(t, p) => (t, p),
        _ => return None,
    };
    let (mut st, mut sp, mut at, mut ap, mut tol_pub) = (0.0, 0.0, lt.abs(), lp.abs(), 0.0);
    tol_pub += half_unit(table, rel.left);
    for &m in &rel.right {
        match value(m) {
            Term::Value(t, p) => {
                st += t;
                sp += p;
                at += t.abs();
                ap += p.abs();
                tol_pub += half_unit(table, m);
            }
            _ => return None,
        }
    }
    let equal = rel.op == RelationOp::Equal;
    // `left ≥ Σ right` is `Σ right − left ≤ 0`.
    let (truth, point) = if equal {
        (lt - st, lp - sp)
    } else {
        (st - lt, sp - lp)
    };
    let test = Test {
        equal,
        truth,
        point,
        tol_truth: relative(at),
        tol_point: match mode {
            Mode::Point => relative(ap),
            Mode::Published => tol_pub + 1e-9 * (1.0 + ap),
        },
    };
    test.broken(mode).then(|| {
        if describe {
            format!("declared relation {} (off by {:.6})", rel.text, test.point)
        } else {
            String::new()
        }
    })
}

/// Evaluates an equality between two cells.
pub(crate) fn check_equal(
    a: Term,
    b: Term,
    describe: bool,
    what: impl FnOnce() -> String,
) -> Option<String> {
    let (Term::Value(at, ap), Term::Value(bt, bp)) = (a, b) else {
        return None;
    };
    let test = Test {
        equal: true,
        truth: at - bt,
        point: ap - bp,
        tol_truth: relative(at.abs() + bt.abs()),
        tol_point: relative(ap.abs() + bp.abs()),
    };
    test.broken(Mode::Point).then(|| {
        if describe {
            format!("equal to {} (off by {:.6})", what(), test.point)
        } else {
            String::new()
        }
    })
}

/// Equalities between datasets: for every pair of datasets, the rows where every dimension
/// they do not share is at its total, matched by their shared codes; every pair of count or
/// magnitude measures of the same kind and class whose true values agree on every matched row
/// (with one non-zero at least) makes each matched pair of cells equal. Returns, per packed
/// cell, its equal partners.
pub(crate) fn cross_equalities(
    tables: &[Table],
    truth: &[Vec<TrueMeasure>],
) -> HashMap<u64, Vec<u64>> {
    let mut out: HashMap<u64, Vec<u64>> = HashMap::new();
    for a in 0..tables.len() {
        for b in a + 1..tables.len() {
            let (ta, tb) = (&tables[a], &tables[b]);
            let shared: Vec<(usize, usize)> = ta
                .dims
                .iter()
                .enumerate()
                .filter_map(|(i, da)| {
                    tb.dims
                        .iter()
                        .position(|db| db.id == da.id && db.kind == da.kind)
                        .map(|j| (i, j))
                })
                .collect();
            let rows_b = margin_rows(tb, &shared.iter().map(|s| s.1).collect::<Vec<_>>());
            let rows_a = margin_rows(ta, &shared.iter().map(|s| s.0).collect::<Vec<_>>());
            let mut matched: Vec<(usize, usize)> = rows_a
                .iter()
                .filter_map(|(key, &ra)| rows_b.get(key).map(|&rb| (ra, rb)))
                .collect();
            if matched.is_empty() {
                continue;
            }
            matched.sort_unstable();
            for (ma, ia) in ta.measures.iter().enumerate() {
                if !ia.class.is_base() {
                    continue;
                }
                for (mb, ib) in tb.measures.iter().enumerate() {
                    if ib.class != ia.class || ib.kind != ia.kind {
                        continue;
                    }
                    let (va, vb) = (&truth[a][ma].value, &truth[b][mb].value);
                    let mut nonzero = false;
                    let agree = matched.iter().all(|&(ra, rb)| {
                        let (x, y) = (va[ra], vb[rb]);
                        nonzero |= x != 0.0 && !x.is_nan();
                        (x.is_nan() && y.is_nan())
                            || (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs()))
                    });
                    if !agree || !nonzero {
                        continue;
                    }
                    for &(ra, rb) in &matched {
                        if va[ra].is_nan() {
                            continue;
                        }
                        let (ca, cb) = (pack(a, ma, ra), pack(b, mb, rb));
                        out.entry(ca).or_default().push(cb);
                        out.entry(cb).or_default().push(ca);
                    }
                }
            }
        }
    }
    out
}

/// Rows of `table` whose dimensions outside `shared` are at their total, by their shared codes.
fn margin_rows<'t>(table: &'t Table, shared: &[usize]) -> HashMap<Vec<&'t str>, usize> {
    let mut out = HashMap::new();
    'rows: for r in 0..table.rows {
        let members = table.row_members(r);
        for (k, dim) in table.dims.iter().enumerate() {
            if !shared.contains(&k) && (dim.total == NONE || members[k] != dim.total) {
                continue 'rows;
            }
        }
        out.insert(shared.iter().map(|&k| table.code(k, r)).collect(), r);
    }
    out
}

/// Describes the other cell of an equality, for messages.
pub(crate) fn describe_cell(tables: &[Table], cell: u64) -> String {
    let (d, m, r) = unpack(cell);
    let Some(t) = tables.get(d) else {
        return format!("cell {cell}");
    };
    let coords: Vec<String> = t
        .coordinates(r)
        .into_iter()
        .map(|(k, c)| format!("{k}={c}"))
        .collect();
    format!(
        "{} [{}] {}",
        t.def.id,
        coords.join(", "),
        t.measures.get(m).map_or("?", |x| x.id.as_str())
    )
}
