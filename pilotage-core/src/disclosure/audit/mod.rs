//! The audit: an independent check that a release protects every sensitive cell.
//!
//! It reads only what the public and the definitions give (the published values, `secret`
//! for hidden cells, the relations, the previous release) plus the confidential values and
//! contributor facts it needs to know *how much* protection each cell requires. It never sees
//! a suppression pattern: it re-evaluates the rules itself, rebuilds the attacker's linear
//! system, and for every hidden sensitive cell solves its minimum and maximum by linear
//! programming (`good_lp` with the pure-Rust `microlp`), with non-negativity, integrality by
//! inward rounding, the distinct-count inequalities, and one attacker per structure that is the
//! sole contributor of some hidden magnitude. See `docs/disclosure.md` for the exact guarantees.

pub(crate) mod lp;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::DisclosureError;
use super::model::{CellKind, Contributions, Problem, Published, Relation, Statistic};
use super::rules::PrimaryRules;
use lp::{Cmp, Linear, Outcome};

/// Relative tolerance of the interval checks.
const TOLERANCE: f64 = 1e-6;

/// Who the attacker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Attacker {
    /// Anyone reading the release (and the previous one).
    Outsider,
    /// A structure (by its pseudonymous key) that also knows the magnitudes it alone
    /// contributes to, and that every magnitude it contributes to is at least its contribution.
    Structure(u64),
}

/// Why a cell fails the audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FailureKind {
    /// The cell is sensitive by a primary rule but published.
    PublishedSensitive,
    /// The cell is sensitive and hidden, but its value was published in the previous release.
    KnownFromPrevious,
    /// The attacker's interval for the hidden cell is too narrow.
    Narrow {
        /// Attacker's lower bound, after inward rounding for counts.
        min: f64,
        /// Attacker's upper bound (`f64::INFINITY` when unbounded).
        max: f64,
        /// The lower bound must be at most this.
        need_min_at_most: f64,
        /// The upper bound must be at least this.
        need_max_at_least: f64,
    },
    /// A derived cell is published although an input is hidden.
    RevealsInput {
        /// Index of the hidden input.
        input: usize,
    },
    /// The published values contradict the relations: the attacker's system has no solution.
    Inconsistent,
}

/// One failing cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// Index of the cell in the problem.
    pub cell: usize,
    /// Public key of the cell.
    pub key: String,
    /// Which attacker breaks it.
    pub attacker: Attacker,
    /// What is wrong.
    pub kind: FailureKind,
}

/// The attacker's interval for one hidden sensitive cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Index of the cell.
    pub cell: usize,
    /// Which attacker.
    pub attacker: Attacker,
    /// Lower bound (after inward rounding for counts).
    pub min: f64,
    /// Upper bound (`f64::INFINITY` when unbounded).
    pub max: f64,
    /// Whether both bounds are optima. When not, the cell passed on a feasible point that
    /// already reached its needed bound, and the true interval is at least this wide.
    pub exact: bool,
}

/// One sensitive cell to check against one attacker.
struct Check {
    cell: usize,
    local: usize,
    need_min: f64,
    need_max: f64,
    /// The upper bound must be strictly positive rather than ≥ `need_max`.
    strict: bool,
    integer: bool,
    tol: f64,
}

impl Check {
    fn passes_min(&self, min: f64) -> bool {
        min <= self.need_min + self.tol
    }

    fn passes_max(&self, max: f64) -> bool {
        if self.strict {
            max > self.tol
        } else {
            max >= self.need_max - self.tol
        }
    }

    /// Whether the best value seen already proves this side.
    fn certified(&self, seen_min: f64, seen_max: f64, maximise: bool) -> bool {
        if maximise {
            self.passes_max(seen_max)
        } else {
            self.passes_min(seen_min)
        }
    }
}

/// How to run an audit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditOptions {
    /// Audit only these cells (all when `None`); components are still built from the whole
    /// release, so each listed cell gets the same verdict as in a full audit.
    pub cells: Option<Vec<usize>>,
    /// Solve both optima of every sensitive cell. Otherwise (the default) a side is settled
    /// without its own LP when a vertex met while solving others already reaches the needed
    /// bound; failing cells always get exact intervals.
    pub exact_intervals: bool,
    /// Stop at the first failing cell (a pass/fail verdict, as secondary suppression needs).
    pub first_failure_only: bool,
}

/// Result of an audit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Cells in the release.
    pub cells: usize,
    /// Hidden cells.
    pub secret: usize,
    /// Hidden cells whose interval was computed (sensitive ones).
    pub checked: usize,
    /// Connected components of unknown cells that held at least one checked cell.
    pub components: usize,
    /// Unknowns in the largest such component.
    pub largest_component: usize,
    /// Linear programs solved.
    pub lp_solves: usize,
    /// Every failing cell, by cell index then attacker.
    pub failures: Vec<Failure>,
    /// The interval of every checked cell for every attacker, by cell index then attacker.
    pub intervals: Vec<Interval>,
}

impl AuditReport {
    /// The outsider's interval for `cell`, if it was checked.
    pub fn interval(&self, cell: usize) -> Option<(f64, f64)> {
        self.intervals
            .iter()
            .find(|i| i.cell == cell && i.attacker == Attacker::Outsider)
            .map(|i| (i.min, i.max))
    }
}

impl AuditReport {
    /// Whether every sensitive cell is protected.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The protection a cell needs, as the audit derives it from the rules.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Need {
    /// A count x from 1 to 10: max ≥ `min_count` and min ≤ x − 1.
    Count(f64),
    /// A zero in a sensitive row: max ≥ 1 (for magnitudes: max > 0).
    NotZero,
    /// A magnitude x with margin m: max ≥ x + m and min ≤ max(x − m, 0).
    Magnitude(f64, f64),
    /// A derived cell that must be hidden (median over too few observations); no interval.
    Hidden,
}

impl Need {
    /// `(min must be ≤, max must be ≥)`.
    fn bounds(self, rules: &PrimaryRules) -> Option<(f64, f64)> {
        match self {
            Need::Count(x) => Some((x - 1.0, rules.min_count as f64)),
            Need::NotZero => Some((f64::INFINITY, f64::MIN_POSITIVE)),
            Need::Magnitude(x, m) => Some(((x - m).max(0.0), x + m)),
            Need::Hidden => None,
        }
    }
}

/// The margin a sensitive magnitude needs, or `None` when it is not sensitive.
fn magnitude_need(rules: &PrimaryRules, x: f64, c: &Contributions) -> Option<f64> {
    if c.contributors == 0 {
        return None;
    }
    let mut margin: Option<f64> = None;
    let mut raise = |m: f64| margin = Some(margin.map_or(m, |old: f64| old.max(m)));
    if c.contributors < rules.min_contributors || (1..rules.min_persons).contains(&c.persons) {
        raise(rules.frequency_margin * x);
    }
    // Dominance (1, k): the largest contributor's share must stay unprovably ≤ k, so the
    // total must be able to reach top1 / k (and symmetrically below).
    if c.top1 > rules.dominance * x {
        raise(c.top1 / rules.dominance - x);
    }
    // p %-rule: the second contributor, knowing top2, must not bound top1 within p %.
    if let Some(p) = rules.p_rule {
        let m = p * c.top1 - (x - c.top1 - c.top2);
        if m > 0.0 {
            raise(m);
        }
    }
    margin.map(|m| m.max(1e-6 * x.max(1.0)))
}

/// Audits every cell of `problem` against what `published` reveals.
pub fn audit(problem: &Problem, published: &[Published]) -> Result<AuditReport, DisclosureError> {
    audit_with(problem, published, &AuditOptions::default())
}

/// Audits with explicit [`AuditOptions`].
pub fn audit_with(
    problem: &Problem,
    published: &[Published],
    options: &AuditOptions,
) -> Result<AuditReport, DisclosureError> {
    problem.validate()?;
    let n = problem.cells.len();
    if published.len() != n {
        return Err(DisclosureError::LengthMismatch {
            published: published.len(),
            cells: n,
        });
    }
    let rules = &problem.rules;
    let selected: Vec<bool> = match &options.cells {
        None => vec![true; n],
        Some(list) => {
            let mut s = vec![false; n];
            for &c in list {
                if c >= n {
                    return Err(DisclosureError::CellOutOfRange {
                        what: "audited cell",
                        index: c,
                        cells: n,
                    });
                }
                s[c] = true;
            }
            s
        }
    };

    // What each cell needs, from the rules alone.
    let mut need: Vec<Option<Need>> = problem
        .cells
        .iter()
        .map(|cell| match &cell.kind {
            CellKind::PersonCount | CellKind::EventCount => (cell.value >= 1.0
                && cell.value < rules.min_count as f64)
                .then_some(Need::Count(cell.value)),
            CellKind::Magnitude => magnitude_need(rules, cell.value, &cell.contributions)
                .map(|m| Need::Magnitude(cell.value, m)),
            CellKind::PublicCount => None,
            CellKind::Derived(d) => match d.statistic {
                Statistic::Median { observations }
                    if observations < rules.min_median_observations =>
                {
                    Some(Need::Hidden)
                }
                _ => None,
            },
        })
        .collect();
    for row in &problem.sensitive_rows {
        let total = problem.cells[row.total].value;
        if total >= 1.0 && total < rules.min_count as f64 {
            for &c in row.cells.iter().chain(std::iter::once(&row.total)) {
                let cell = &problem.cells[c];
                if need[c].is_none() && cell.kind != CellKind::PublicCount && cell.value == 0.0 {
                    need[c] = Some(Need::NotZero);
                }
            }
        }
    }

    let mut report = AuditReport {
        cells: n,
        ..AuditReport::default()
    };
    let fail = |cell: usize, attacker: Attacker, kind: FailureKind| Failure {
        cell,
        key: problem.cells[cell].key.clone(),
        attacker,
        kind,
    };

    // Constants: published values and values known from the previous release.
    let mut constant: Vec<Option<f64>> = Vec::with_capacity(n);
    for (i, (cell, p)) in problem.cells.iter().zip(published).enumerate() {
        let known = match p {
            Published::Value(v) => Some(*v),
            Published::Secret => {
                report.secret += 1;
                problem
                    .previous
                    .as_ref()
                    .and_then(|prev| prev.known_value(i, cell.value))
            }
        };
        constant.push(known);
        if !selected[i] || need[i].is_none() {
            continue;
        }
        match (p, known) {
            (Published::Value(_), _) => {
                report
                    .failures
                    .push(fail(i, Attacker::Outsider, FailureKind::PublishedSensitive))
            }
            (Published::Secret, Some(_)) if need[i] != Some(Need::Hidden) => report
                .failures
                .push(fail(i, Attacker::Outsider, FailureKind::KnownFromPrevious)),
            _ => {}
        }
    }
    // Derived cells published over a hidden input.
    for (i, cell) in problem.cells.iter().enumerate() {
        if let (CellKind::Derived(d), Published::Value(_), true) =
            (&cell.kind, published[i], selected[i])
        {
            for input in [d.numerator, d.denominator] {
                if published[input] == Published::Secret {
                    report.failures.push(fail(
                        i,
                        Attacker::Outsider,
                        FailureKind::RevealsInput { input },
                    ));
                    break;
                }
            }
        }
    }

    // Unknowns and the attacker's linear rows.
    let mut local = vec![usize::MAX; n];
    let mut unknowns: Vec<usize> = Vec::new();
    for (i, cell) in problem.cells.iter().enumerate() {
        if constant[i].is_none() && cell.kind.is_additive() {
            local[i] = unknowns.len();
            unknowns.push(i);
        }
    }
    let mut rows: Vec<Linear> = Vec::new();
    let mut push_row = |terms: &[(usize, f64)], cmp: Cmp| {
        let mut lin = Vec::new();
        let mut rhs = 0.0;
        for &(c, coef) in terms {
            match constant[c] {
                Some(v) => rhs -= coef * v,
                None => lin.push((local[c], coef)),
            }
        }
        if !lin.is_empty() {
            rows.push(Linear {
                terms: lin,
                cmp,
                rhs,
            });
        }
    };
    for relation in &problem.relations {
        match relation {
            Relation::Sum { total, parts } => {
                let mut terms = vec![(*total, 1.0)];
                terms.extend(parts.iter().map(|&p| (p, -1.0)));
                push_row(&terms, Cmp::Eq);
            }
            Relation::Distinct { total, parts } => {
                let mut terms = vec![(*total, 1.0)];
                terms.extend(parts.iter().map(|&p| (p, -1.0)));
                push_row(&terms, Cmp::Le);
                for &p in parts {
                    push_row(&[(p, 1.0), (*total, -1.0)], Cmp::Le);
                }
            }
            Relation::Equal { a, b } => push_row(&[(*a, 1.0), (*b, -1.0)], Cmp::Eq),
        }
    }

    // Connected components of unknowns.
    let mut parent: Vec<usize> = (0..unknowns.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for row in &rows {
        for &(v, _) in &row.terms[1..] {
            let (a, b) = (find(&mut parent, row.terms[0].0), find(&mut parent, v));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for u in 0..unknowns.len() {
        let r = find(&mut parent, u);
        members.entry(r).or_default().push(u);
    }
    let mut component_rows: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let r = find(&mut parent, row.terms[0].0);
        component_rows.entry(r).or_default().push(i);
    }

    for (root, vars) in &members {
        if options.first_failure_only && !report.failures.is_empty() {
            break;
        }
        let targets: Vec<usize> = vars
            .iter()
            .copied()
            .filter(|&u| {
                selected[unknowns[u]]
                    && need[unknowns[u]].is_some_and(|nd| nd.bounds(rules).is_some())
            })
            .collect();
        if targets.is_empty() {
            continue;
        }
        report.components += 1;
        report.checked += targets.len();
        report.largest_component = report.largest_component.max(vars.len());
        // Renumber the component's unknowns 0..k.
        let mut index: BTreeMap<usize, usize> = BTreeMap::new();
        for (k, &u) in vars.iter().enumerate() {
            index.insert(u, k);
        }
        let base: Vec<Linear> = component_rows
            .get(root)
            .map(|list| {
                list.iter()
                    .map(|&r| {
                        let row = &rows[r];
                        Linear {
                            terms: row.terms.iter().map(|&(u, c)| (index[&u], c)).collect(),
                            cmp: row.cmp,
                            rhs: row.rhs,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();

        // Attackers: the outsider, and each structure alone behind some hidden magnitude here.
        let mut insiders: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for &u in vars {
            let cell = &problem.cells[unknowns[u]];
            if cell.kind == CellKind::Magnitude
                && cell.contributions.contributors == 1
                && let Some(s) = cell.contributions.top_contributor
            {
                insiders.entry(s).or_default().push(u);
            }
        }
        let mut attackers = vec![(Attacker::Outsider, base.clone(), Vec::new())];
        for (&s, own) in &insiders {
            let mut rows_s = base.clone();
            for &u in vars {
                let cell = &problem.cells[unknowns[u]];
                if cell.kind != CellKind::Magnitude || cell.contributions.top_contributor != Some(s)
                {
                    continue;
                }
                let k = index[&u];
                if cell.contributions.contributors == 1 {
                    rows_s.push(Linear {
                        terms: vec![(k, 1.0)],
                        cmp: Cmp::Eq,
                        rhs: cell.value,
                    });
                } else {
                    rows_s.push(Linear {
                        terms: vec![(k, -1.0)],
                        cmp: Cmp::Le,
                        rhs: -cell.contributions.top1,
                    });
                }
            }
            attackers.push((Attacker::Structure(s), rows_s, own.clone()));
        }

        for (attacker, constraints, own) in &attackers {
            if options.first_failure_only && !report.failures.is_empty() {
                break;
            }
            let active: Vec<usize> = targets
                .iter()
                .copied()
                .filter(|t| !own.contains(t))
                .collect();
            let checks: Vec<Check> = active
                .iter()
                .map(|&t| {
                    let cell_index = unknowns[t];
                    let cell = &problem.cells[cell_index];
                    let nd = need[cell_index].unwrap_or(Need::Hidden);
                    let (need_min, need_max) = nd.bounds(rules).unwrap_or((f64::INFINITY, 0.0));
                    Check {
                        cell: cell_index,
                        local: index[&t],
                        need_min,
                        need_max: if nd == Need::NotZero { 0.0 } else { need_max },
                        strict: nd == Need::NotZero,
                        integer: cell.kind.is_integer(),
                        tol: TOLERANCE * cell.value.abs().max(1.0),
                    }
                })
                .collect();
            let key = |c: &Check| problem.cells[c.cell].key.clone();
            let solver = |objective: &[(usize, f64)], maximise: bool, c: &Check| {
                lp::optimise(vars.len(), constraints, objective, maximise).map_err(|message| {
                    DisclosureError::Solver {
                        key: key(c),
                        message,
                    }
                })
            };
            // Best values seen in any optimal vertex: a vertex is a feasible point, so a target
            // seen at or beyond its needed bound there passes that side without its own LP.
            let mut seen_min = vec![f64::INFINITY; checks.len()];
            let mut seen_max = vec![f64::NEG_INFINITY; checks.len()];
            if !options.exact_intervals
                && let Some(first) = checks.first()
            {
                for maximise in [true, false] {
                    for _round in 0..3 {
                        let pending: Vec<(usize, f64)> = checks
                            .iter()
                            .enumerate()
                            .filter(|(i, c)| !c.certified(seen_min[*i], seen_max[*i], maximise))
                            .map(|(_, c)| (c.local, 1.0))
                            .collect();
                        if pending.is_empty() {
                            break;
                        }
                        report.lp_solves += 1;
                        let Outcome::Optimum(values) = solver(&pending, maximise, first)? else {
                            break;
                        };
                        let mut progress = false;
                        for (i, c) in checks.iter().enumerate() {
                            let v = values[c.local];
                            let before = c.certified(seen_min[i], seen_max[i], maximise);
                            seen_min[i] = seen_min[i].min(v);
                            seen_max[i] = seen_max[i].max(v);
                            progress |= !before && c.certified(seen_min[i], seen_max[i], maximise);
                        }
                        if !progress {
                            break;
                        }
                    }
                }
            }
            for (i, c) in checks.iter().enumerate() {
                if options.first_failure_only && !report.failures.is_empty() {
                    break;
                }
                let mut exact = true;
                let mut bound = |maximise: bool| -> Result<Option<f64>, DisclosureError> {
                    if !options.exact_intervals && c.certified(seen_min[i], seen_max[i], maximise) {
                        exact = false;
                        return Ok(Some(if maximise { seen_max[i] } else { seen_min[i] }));
                    }
                    report.lp_solves += 1;
                    Ok(match solver(&[(c.local, 1.0)], maximise, c)? {
                        Outcome::Optimum(values) => Some(values[c.local]),
                        Outcome::Unbounded => Some(if maximise { f64::INFINITY } else { 0.0 }),
                        Outcome::Infeasible => None,
                    })
                };
                let (Some(mut min), Some(mut max)) = (bound(false)?, bound(true)?) else {
                    report
                        .failures
                        .push(fail(c.cell, *attacker, FailureKind::Inconsistent));
                    continue;
                };
                if c.integer {
                    min = (min - c.tol).ceil();
                    if max.is_finite() {
                        max = (max + c.tol).floor();
                    }
                }
                report.intervals.push(Interval {
                    cell: c.cell,
                    attacker: *attacker,
                    min,
                    max,
                    exact,
                });
                if !(c.passes_min(min) && c.passes_max(max)) {
                    report.failures.push(fail(
                        c.cell,
                        *attacker,
                        FailureKind::Narrow {
                            min,
                            max,
                            need_min_at_most: c.need_min,
                            need_max_at_least: if c.strict { 1.0 } else { c.need_max },
                        },
                    ));
                }
            }
        }
    }
    report.failures.sort_by_key(|f| (f.cell, f.attacker));
    Ok(report)
}
