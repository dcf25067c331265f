//! Secondary suppression over the whole release.
//!
//! Three passes, each deterministic:
//! 1. **Gaussian elimination** (as GaussSuppression): within every connected component of
//!    hidden cells, the equalities whose published cells are constants are reduced; a primary
//!    cell that they determine exactly gets its cheapest published neighbour hidden, until no
//!    primary cell is determined.
//! 2. **Interval pass**: the [`audit`](super::audit) solves the attacker's linear programs of the
//!    primary cells of every changed component; for each component with a failing cell, the
//!    cheapest published neighbour of the first failing cell is hidden; repeat until all pass.
//! 3. Derived cells whose inputs are hidden are hidden too.
//!
//! The cheapest neighbour is found by a breadth-first walk from the failing cell through the
//! relations and the hidden cells: among the suppressible published cells met, the one of
//! least `cost × (1 + depth)` (see [`cost`]; depth counts the hidden cells walked), ties broken
//! by cell index.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::DisclosureError;
use super::audit::{self, FailureKind};
use super::gauss;
use super::model::{CellKind, Problem, Published, Relation};
use super::rules::{Status, propagate_derived};

/// Components larger than this many hidden cells skip the Gaussian pass (the interval pass
/// still catches every exact disclosure there).
const GAUSS_MAX_UNKNOWNS: usize = 4000;

/// A suppression pattern: one status per cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pattern {
    /// Status of each cell, by index.
    pub status: Vec<Status>,
    /// Primary cells that no further suppression could protect (their relations hold only
    /// public or previously published cells): the audit will fail on them.
    pub unresolved: Vec<usize>,
}

impl Pattern {
    /// What the release publishes: the value, or `secret`.
    pub fn publish(&self, problem: &super::Problem) -> Vec<Published> {
        problem
            .cells
            .iter()
            .zip(&self.status)
            .map(|(cell, s)| {
                if s.is_secret() {
                    Published::Secret
                } else {
                    Published::Value(cell.value)
                }
            })
            .collect()
    }

    /// Number of hidden cells.
    pub fn secret_count(&self) -> usize {
        self.status.iter().filter(|s| s.is_secret()).count()
    }

    /// Number of cells with the given status.
    pub fn count(&self, status: Status) -> usize {
        self.status.iter().filter(|&&s| s == status).count()
    }
}

/// Cost of hiding a cell, in arbitrary units: `(1 + value) × (1 + level)² × 50 if headline`,
/// divided by 4 when the previous release already hid it as a secondary cell. Fine, small
/// cells are cheapest; national, région, département and yearly totals dearest.
pub fn cost(problem: &Problem, cell: usize) -> f64 {
    let c = &problem.cells[cell];
    let level = 1.0 + f64::from(c.cost.level);
    let mut cost = (1.0 + c.value) * level * level;
    if c.cost.headline {
        cost *= 50.0;
    }
    if problem
        .previous
        .as_ref()
        .is_some_and(|p| p.secondary.contains(&cell))
    {
        cost /= 4.0;
    }
    cost
}

/// State shared by the passes.
struct Search<'a> {
    problem: &'a Problem,
    status: Vec<Status>,
    /// Relations of each cell.
    relations_of: Vec<Vec<usize>>,
    /// Whether hiding the cell can help (additive, not a public count, not already known).
    suppressible: Vec<bool>,
    cost: Vec<f64>,
}

impl Search<'_> {
    /// Hides the suppressible published cell of least `cost × (1 + depth)` among those tied by
    /// a relation to `from` (depth 0) or to a hidden cell reachable from it through relations
    /// (depth = number of hidden cells walked); `None` if there is none.
    fn widen(&mut self, from: usize) -> Option<usize> {
        let mut seen: BTreeSet<usize> = BTreeSet::from([from]);
        let mut seen_relations: BTreeSet<usize> = BTreeSet::new();
        let mut frontier = vec![from];
        let mut best: Option<(f64, usize)> = None;
        let mut depth = 0.0;
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for &c in &frontier {
                for &r in &self.relations_of[c] {
                    if !seen_relations.insert(r) {
                        continue;
                    }
                    for other in self.problem.relations[r].cells() {
                        if !seen.insert(other) {
                            continue;
                        }
                        if self.status[other].is_secret() {
                            next.push(other);
                        } else if self.suppressible[other] {
                            let candidate = (self.cost[other] * (1.0 + depth), other);
                            if best.is_none_or(|b| {
                                candidate.0 < b.0 || (candidate.0 == b.0 && candidate.1 < b.1)
                            }) {
                                best = Some(candidate);
                            }
                        }
                    }
                }
            }
            next.sort_unstable();
            frontier = next;
            depth += 1.0;
        }
        let (_, cell) = best?;
        self.status[cell] = Status::Secondary;
        Some(cell)
    }

    /// Connected components of hidden additive cells through the relations: a root per cell
    /// (`usize::MAX` for published cells).
    fn components(&self) -> Vec<usize> {
        let n = self.status.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for relation in &self.problem.relations {
            let hidden: Vec<usize> = relation
                .cells()
                .into_iter()
                .filter(|&c| self.status[c].is_secret())
                .collect();
            if let Some((&first, rest)) = hidden.split_first() {
                for &c in rest {
                    let (a, b) = (find(&mut parent, first), find(&mut parent, c));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
            }
        }
        (0..n)
            .map(|c| {
                if self.status[c].is_secret() {
                    find(&mut parent, c)
                } else {
                    usize::MAX
                }
            })
            .collect()
    }

    /// The value the attacker knows for a cell, if any (published or previous release).
    fn constant(&self, c: usize) -> Option<f64> {
        let value = self.problem.cells[c].value;
        if !self.status[c].is_secret() {
            return Some(value);
        }
        self.problem
            .previous
            .as_ref()
            .and_then(|p| p.known_value(c, value))
    }

    /// Gaussian pass: hides neighbours until no primary cell is exactly determined.
    fn gauss_pass(&mut self) {
        loop {
            let roots = self.components();
            let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (c, &r) in roots.iter().enumerate() {
                if r != usize::MAX
                    && self.problem.cells[c].kind.is_additive()
                    && self.constant(c).is_none()
                {
                    members.entry(r).or_default().push(c);
                }
            }
            let mut rows_of: BTreeMap<usize, Vec<Vec<(usize, f64)>>> = BTreeMap::new();
            for relation in &self.problem.relations {
                let terms: Vec<(usize, f64)> = match relation {
                    Relation::Sum { total, parts } => std::iter::once((*total, 1.0))
                        .chain(parts.iter().map(|&p| (p, -1.0)))
                        .collect(),
                    Relation::Equal { a, b } => vec![(*a, 1.0), (*b, -1.0)],
                    Relation::Distinct { .. } => continue,
                };
                let unknown: Vec<(usize, f64)> = terms
                    .into_iter()
                    .filter(|&(c, _)| self.constant(c).is_none())
                    .collect();
                if let Some(&(first, _)) = unknown.first() {
                    rows_of.entry(roots[first]).or_default().push(unknown);
                }
            }
            let mut disclosed = Vec::new();
            for (root, cells) in &members {
                if cells.len() > GAUSS_MAX_UNKNOWNS
                    || !cells.iter().any(|&c| self.status[c] == Status::Primary)
                {
                    continue;
                }
                let local: BTreeMap<usize, usize> =
                    cells.iter().enumerate().map(|(i, &c)| (c, i)).collect();
                let rows: Vec<Vec<(usize, f64)>> = rows_of
                    .get(root)
                    .map(|rows| {
                        rows.iter()
                            .map(|row| {
                                let mut r: Vec<(usize, f64)> =
                                    row.iter().map(|&(c, v)| (local[&c], v)).collect();
                                r.sort_by_key(|e| e.0);
                                r
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let det = gauss::determined(cells.len(), &rows);
                if let Some(i) =
                    (0..cells.len()).find(|&i| det[i] && self.status[cells[i]] == Status::Primary)
                {
                    disclosed.push(cells[i]);
                }
            }
            if disclosed.is_empty() {
                return;
            }
            let mut progress = false;
            for c in disclosed {
                progress |= self.widen(c).is_some();
            }
            if !progress {
                return;
            }
        }
    }

    /// Interval pass: audits changed components and widens the first failure of each.
    fn interval_pass(&mut self) -> Result<Vec<usize>, DisclosureError> {
        let mut unresolved: BTreeSet<usize> = BTreeSet::new();
        let mut targets: Vec<usize> = (0..self.status.len())
            .filter(|&c| self.status[c] == Status::Primary)
            .collect();
        while !targets.is_empty() {
            let published: Vec<Published> = self
                .status
                .iter()
                .zip(&self.problem.cells)
                .map(|(s, cell)| {
                    if s.is_secret() {
                        Published::Secret
                    } else {
                        Published::Value(cell.value)
                    }
                })
                .collect();
            let report = audit::audit_cells(self.problem, &published, Some(&targets))?;
            let roots = self.components();
            let mut fixed_roots: BTreeSet<usize> = BTreeSet::new();
            let mut changed = false;
            for failure in &report.failures {
                if !matches!(failure.kind, FailureKind::Narrow { .. })
                    || unresolved.contains(&failure.cell)
                {
                    if !matches!(failure.kind, FailureKind::Narrow { .. }) {
                        unresolved.insert(failure.cell);
                    }
                    continue;
                }
                if !fixed_roots.insert(roots[failure.cell]) {
                    continue;
                }
                match self.widen(failure.cell) {
                    Some(_) => changed = true,
                    None => {
                        unresolved.insert(failure.cell);
                    }
                }
            }
            if !changed {
                break;
            }
            // Re-audit the primary cells of every component that changed.
            let new_roots = self.components();
            // A root is itself a hidden cell, so its new root names the merged component.
            let touched: BTreeSet<usize> = fixed_roots.iter().map(|&old| new_roots[old]).collect();
            targets = (0..self.status.len())
                .filter(|&c| {
                    self.status[c] == Status::Primary
                        && touched.contains(&new_roots[c])
                        && !unresolved.contains(&c)
                })
                .collect();
        }
        Ok(unresolved.into_iter().collect())
    }
}

/// Chooses the secondary suppressions protecting every primary cell of `primary` (as returned
/// by [`super::primary`]). Deterministic: the same problem and primary pattern always give the
/// same pattern.
pub fn secondary(problem: &Problem, primary: &[Status]) -> Result<Pattern, DisclosureError> {
    problem.validate()?;
    let n = problem.cells.len();
    if primary.len() != n {
        return Err(DisclosureError::LengthMismatch {
            published: primary.len(),
            cells: n,
        });
    }
    let mut relations_of = vec![Vec::new(); n];
    for (r, relation) in problem.relations.iter().enumerate() {
        for c in relation.cells() {
            relations_of[c].push(r);
        }
    }
    let suppressible = problem
        .cells
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            cell.kind.is_additive()
                && cell.kind != CellKind::PublicCount
                && problem
                    .previous
                    .as_ref()
                    .and_then(|p| p.known_value(i, cell.value))
                    .is_none()
        })
        .collect();
    let mut search = Search {
        problem,
        status: primary.to_vec(),
        relations_of,
        suppressible,
        cost: (0..n).map(|c| cost(problem, c)).collect(),
    };
    search.gauss_pass();
    let unresolved = search.interval_pass()?;
    let mut status = search.status;
    propagate_derived(problem, &mut status, Status::Secondary);
    Ok(Pattern { status, unresolved })
}
