//! The attacker's intervals per connected component of secret cells, and the value-free
//! protection requirement checked on them.
//!
//! Published cells are constants; two secret cells are linked when a relation holds both. A
//! component's linear program is therefore exactly the release's program restricted to it.

use super::super::audit::lp::{Cmp, Linear, Outcome, optimise};
use super::grid::{Rel, RelKind};

/// What the requirement needs to know about a secret cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// A count: integer bounds; passes when `min ≥ 11`, or `min = 0` and (`max ≥ 11` or
    /// `max = 0` outside a sensitive row).
    Count { sensitive: bool },
    /// A magnitude: passes when `max − min ≥ margin × (max + min)`, or `max = 0` outside a
    /// sensitive row.
    Magnitude { sensitive: bool },
}

/// Parameters of the requirement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Requirement {
    /// Smallest count that may be published (11).
    pub min_count: f64,
    /// Relative margin of magnitudes (0.10).
    pub margin: f64,
}

impl Requirement {
    /// Whether the interval `[lo, hi]` (counts rounded inward) protects the cell.
    pub fn passes(&self, need: Need, lo: f64, hi: f64) -> bool {
        match need {
            Need::Count { sensitive } => {
                lo >= self.min_count
                    || (lo <= 0.0 && (hi >= self.min_count || (hi <= 0.0 && !sensitive)))
            }
            Need::Magnitude { sensitive } => {
                (hi <= 0.0 && !sensitive)
                    || (hi > 0.0 && (hi.is_infinite() || hi - lo >= self.margin * (hi + lo)))
            }
        }
    }

    /// Whether a lower bound alone already settles the lower side (the cell can be 0, or is
    /// surely a large count).
    fn low_ok(&self, need: Need, lo: f64) -> bool {
        match need {
            Need::Count { .. } => lo <= 0.0 || lo >= self.min_count,
            Need::Magnitude { .. } => lo <= 0.0,
        }
    }

    /// Whether an upper bound alone settles the upper side, given the lower side is 0.
    fn high_ok(&self, need: Need, hi: f64) -> bool {
        match need {
            Need::Count { .. } => hi >= self.min_count,
            Need::Magnitude { .. } => hi > 0.0,
        }
    }
}

/// The result for one secret cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bounds {
    pub lo: f64,
    pub hi: f64,
    pub passed: bool,
}

/// Union–find over the secret cells: two secrets are joined when a relation holds both.
/// Returns the components as sorted lists of cells, ordered by their first cell.
pub(crate) fn components(n: usize, secret: &[bool], relations: &[Rel]) -> Vec<Vec<u32>> {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for r in relations {
        let mut first: Option<u32> = None;
        for c in r.cells() {
            if secret[c as usize] {
                match first {
                    None => first = Some(c),
                    Some(f) => {
                        let (a, b) = (find(&mut parent, f), find(&mut parent, c));
                        if a != b {
                            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                            parent[hi as usize] = lo;
                        }
                    }
                }
            }
        }
    }
    let mut groups: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    for c in 0..n as u32 {
        if secret[c as usize] {
            let root = find(&mut parent, c);
            groups.entry(root).or_default().push(c);
        }
    }
    groups.into_values().collect()
}

/// Solves the attacker's bounds of every cell of one component. `relations_of(cell)` lists the
/// relations holding a cell; `value` the published constants; `integer(cell)` whether the cell
/// is a count. Returns the bounds per cell (in `cells` order) and the number of LPs solved, or
/// an error message from the solver.
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_component(
    cells: &[u32],
    secret: &[bool],
    value: &[f64],
    relations: &[Rel],
    relations_of: &dyn Fn(u32) -> Vec<u32>,
    need: &dyn Fn(u32) -> Need,
    req: &Requirement,
) -> Result<(Vec<Bounds>, usize, bool), String> {
    let local: std::collections::HashMap<u32, usize> =
        cells.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let mut rel_ids: Vec<u32> = cells.iter().flat_map(|&c| relations_of(c)).collect();
    rel_ids.sort_unstable();
    rel_ids.dedup();
    let mut constraints: Vec<Linear> = Vec::new();
    let mut push = |terms: Vec<(u32, f64)>, cmp: Cmp, tol: f64| {
        let mut t = Vec::new();
        let mut rhs = 0.0;
        for (c, coef) in terms {
            if secret[c as usize] {
                if let Some(&i) = local.get(&c) {
                    t.push((i, coef));
                }
            } else {
                rhs -= coef * value[c as usize];
            }
        }
        if t.is_empty() {
            return;
        }
        if tol > 0.0 && cmp == Cmp::Eq {
            let neg: Vec<(usize, f64)> = t.iter().map(|&(i, c)| (i, -c)).collect();
            constraints.push(Linear {
                terms: t,
                cmp: Cmp::Le,
                rhs: rhs + tol,
            });
            constraints.push(Linear {
                terms: neg,
                cmp: Cmp::Le,
                rhs: -rhs + tol,
            });
        } else {
            constraints.push(Linear {
                terms: t,
                cmp,
                rhs: if cmp == Cmp::Le { rhs + tol } else { rhs },
            });
        }
    };
    for &ri in &rel_ids {
        let r = &relations[ri as usize];
        match r.kind {
            RelKind::Sum(k) => {
                let mut terms = vec![(r.total, k)];
                terms.extend(r.parts.iter().map(|&p| (p, -1.0)));
                push(terms, Cmp::Eq, r.tol);
            }
            RelKind::Distinct => {
                for &p in &r.parts {
                    push(vec![(p, 1.0), (r.total, -1.0)], Cmp::Le, r.tol);
                }
                let mut terms = vec![(r.total, 1.0)];
                terms.extend(r.parts.iter().map(|&p| (p, -1.0)));
                push(terms, Cmp::Le, r.tol);
            }
        }
    }
    let n = cells.len();
    let needs: Vec<Need> = cells.iter().map(|&c| need(c)).collect();
    let integer: Vec<bool> = needs
        .iter()
        .map(|n| matches!(n, Need::Count { .. }))
        .collect();
    let round_lo = |i: usize, v: f64| {
        if integer[i] {
            (v - 1e-6).ceil().max(0.0)
        } else {
            v.max(0.0)
        }
    };
    let round_hi = |i: usize, v: f64| {
        if integer[i] {
            (v + 1e-6).floor()
        } else {
            v
        }
    };
    let mut lps = 0usize;
    let mut lo: Vec<Option<f64>> = vec![None; n];
    let mut hi: Vec<Option<f64>> = vec![None; n];
    // Settled sides: a vertex is a feasible point, so the true optimum is at least as far.
    let mut low_settled = vec![false; n];
    let mut high_settled = vec![false; n];
    let mut infeasible = false;
    for round in 0..3 {
        for maximise in [false, true] {
            let open: Vec<(usize, f64)> = (0..n)
                .filter(|&i| {
                    if maximise {
                        !high_settled[i]
                    } else {
                        !low_settled[i]
                    }
                })
                .map(|i| (i, 1.0))
                .collect();
            if open.is_empty() || (round > 0 && open.len() == 1) {
                continue;
            }
            lps += 1;
            match optimise(n, &constraints, &open, maximise)? {
                Outcome::Optimum(x) => {
                    for i in 0..n {
                        if maximise && !high_settled[i] && req.high_ok(needs[i], round_hi(i, x[i])) {
                            high_settled[i] = true;
                            hi[i] = Some(round_hi(i, x[i]));
                        }
                        if !maximise && !low_settled[i] && x[i] <= 1e-6 {
                            low_settled[i] = true;
                            lo[i] = Some(0.0);
                        }
                    }
                }
                Outcome::Unbounded => {}
                Outcome::Infeasible => {
                    infeasible = true;
                    break;
                }
            }
        }
        if infeasible {
            break;
        }
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if infeasible {
            out.push(Bounds {
                lo: f64::NAN,
                hi: f64::NAN,
                passed: false,
            });
            continue;
        }
        let l = match lo[i] {
            Some(v) => v,
            None => {
                lps += 1;
                match optimise(n, &constraints, &[(i, 1.0)], false)? {
                    Outcome::Optimum(x) => round_lo(i, x[i]),
                    Outcome::Unbounded => 0.0,
                    Outcome::Infeasible => f64::NAN,
                }
            }
        };
        let mut h = hi[i].unwrap_or(f64::NAN);
        let mut passed = req.low_ok(needs[i], l) && high_settled[i];
        if !passed {
            lps += 1;
            h = match optimise(n, &constraints, &[(i, 1.0)], true)? {
                Outcome::Optimum(x) => round_hi(i, x[i]),
                Outcome::Unbounded => f64::INFINITY,
                Outcome::Infeasible => f64::NAN,
            };
            passed = !l.is_nan() && !h.is_nan() && req.passes(needs[i], l, h);
        }
        out.push(Bounds {
            lo: l,
            hi: h,
            passed,
        });
    }
    Ok((out, lps, infeasible))
}
