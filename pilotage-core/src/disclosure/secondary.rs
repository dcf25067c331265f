//! Secondary suppression over the whole release.
//!
//! Three passes, each deterministic:
//! 1. **Gaussian elimination** (as GaussSuppression): within every connected component of
//!    hidden cells, the equalities whose published cells are constants are reduced; a primary
//!    cell that they determine exactly gets its cheapest published neighbour hidden, until no
//!    primary cell is determined.
//! 2. **Interval pass**: the [`audit`](super::audit), run on the sub-problem of each component
//!    (its relations and their cells), solves the attacker's linear programs of its primary
//!    cells; every failing cell gets its cheapest published neighbour hidden; the component is
//!    audited again until all pass.
//! 3. **Pruning**: each secondary cell, dearest first, is published back when the primary
//!    cells of the component around it still pass the audit without it.
//!    Optional ([`SecondaryOptions::prune`]): each try audits a whole component, which makes
//!    this pass the slowest by far on dense patterns.
//! 4. Derived cells whose inputs are hidden are hidden too.
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
    fn widen(&mut self, from: usize, room: f64) -> Option<usize> {
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
                            // A cell smaller than the room needed cannot give it alone.
                            let short = if self.problem.cells[other].value < room {
                                10.0
                            } else {
                                1.0
                            };
                            let candidate = (self.cost[other] * (1.0 + depth) * short, other);
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

    /// The room a primary cell needs above its value before any suppression: up to the
    /// count threshold for counts, the frequency margin for magnitudes.
    fn room(&self, c: usize) -> f64 {
        let cell = &self.problem.cells[c];
        if cell.kind.is_integer() {
            (self.problem.rules.min_count as f64 - cell.value).max(0.0)
        } else {
            self.problem.rules.frequency_margin * cell.value
        }
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
                let room = self.room(c);
                progress |= self.widen(c, room).is_some();
            }
            if !progress {
                return;
            }
        }
    }

    /// The hidden cells reachable from `seeds` through relations and hidden cells, and the
    /// relations met on the way, both sorted.
    fn component_of(&self, seeds: &[usize]) -> (Vec<usize>, Vec<usize>) {
        let mut cells: BTreeSet<usize> = seeds
            .iter()
            .copied()
            .filter(|&c| self.status[c].is_secret())
            .collect();
        let mut relations: BTreeSet<usize> = BTreeSet::new();
        let mut queue: std::collections::VecDeque<usize> = cells.iter().copied().collect();
        while let Some(c) = queue.pop_front() {
            for &r in &self.relations_of[c] {
                if !relations.insert(r) {
                    continue;
                }
                for other in self.problem.relations[r].cells() {
                    if self.status[other].is_secret() && cells.insert(other) {
                        queue.push_back(other);
                    }
                }
            }
        }
        (cells.into_iter().collect(), relations.into_iter().collect())
    }

    /// Audits the primary cells of one component on the sub-problem made of its relations
    /// (the attacker's system for these cells is exactly that), returning the failures with
    /// global cell indices.
    fn audit_component(
        &self,
        cells: &[usize],
        relations: &[usize],
    ) -> Result<Vec<audit::Failure>, DisclosureError> {
        let targets: Vec<usize> = cells
            .iter()
            .copied()
            .filter(|&c| {
                self.status[c] == Status::Primary && self.problem.cells[c].kind.is_additive()
            })
            .collect();
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let problem = self.problem;
        let mut global: BTreeSet<usize> = cells.iter().copied().collect();
        for &r in relations {
            global.extend(problem.relations[r].cells());
        }
        // Sensitive rows decide what their zeros need: keep the rows that touch the component.
        let rows: Vec<&super::model::SensitiveRow> = problem
            .sensitive_rows
            .iter()
            .filter(|row| {
                row.cells
                    .iter()
                    .chain(std::iter::once(&row.total))
                    .any(|c| global.contains(c))
            })
            .collect();
        for row in &rows {
            global.insert(row.total);
            global.extend(row.cells.iter().copied());
        }
        let global: Vec<usize> = global.into_iter().collect();
        let local = |c: usize| global.binary_search(&c).unwrap_or(0);
        let remap = |relation: &Relation| match relation {
            Relation::Sum { total, parts } => Relation::Sum {
                total: local(*total),
                parts: parts.iter().map(|&p| local(p)).collect(),
            },
            Relation::Distinct { total, parts } => Relation::Distinct {
                total: local(*total),
                parts: parts.iter().map(|&p| local(p)).collect(),
            },
            Relation::Equal { a, b } => Relation::Equal {
                a: local(*a),
                b: local(*b),
            },
        };
        let sub = Problem {
            cells: global.iter().map(|&c| problem.cells[c].clone()).collect(),
            relations: relations
                .iter()
                .map(|&r| remap(&problem.relations[r]))
                .collect(),
            sensitive_rows: rows
                .iter()
                .map(|row| super::model::SensitiveRow {
                    total: local(row.total),
                    cells: row.cells.iter().map(|&c| local(c)).collect(),
                })
                .collect(),
            rules: problem.rules.clone(),
            previous: problem
                .previous
                .as_ref()
                .map(|prev| super::model::PreviousRelease {
                    cells: global
                        .iter()
                        .enumerate()
                        .filter_map(|(i, c)| prev.cells.get(c).map(|p| (i, *p)))
                        .collect(),
                    secondary: BTreeSet::new(),
                }),
        };
        let published: Vec<Published> = global
            .iter()
            .map(|&c| {
                if self.status[c].is_secret() {
                    Published::Secret
                } else {
                    Published::Value(problem.cells[c].value)
                }
            })
            .collect();
        let options = audit::AuditOptions {
            cells: Some(targets.iter().map(|&c| local(c)).collect()),
            exact_intervals: false,
            first_failure_only: true,
        };
        let report = audit::audit_with(&sub, &published, &options)?;
        Ok(report
            .failures
            .into_iter()
            .map(|mut f| {
                f.cell = global[f.cell];
                if let FailureKind::RevealsInput { input } = &mut f.kind {
                    *input = global[*input];
                }
                f
            })
            .collect())
    }

    /// Whether the equalities among `relations` determine a hidden primary cell of `cells`
    /// exactly (a quick verdict before the linear programs).
    fn determines_a_primary(&self, cells: &[usize], relations: &[usize]) -> bool {
        let unknown: Vec<usize> = cells
            .iter()
            .copied()
            .filter(|&c| self.constant(c).is_none())
            .collect();
        let rows: Vec<Vec<(usize, f64)>> = relations
            .iter()
            .filter_map(|&r| {
                let terms: Vec<(usize, f64)> = match &self.problem.relations[r] {
                    Relation::Sum { total, parts } => std::iter::once((*total, 1.0))
                        .chain(parts.iter().map(|&p| (p, -1.0)))
                        .collect(),
                    Relation::Equal { a, b } => vec![(*a, 1.0), (*b, -1.0)],
                    Relation::Distinct { .. } => return None,
                };
                let mut row: Vec<(usize, f64)> = terms
                    .into_iter()
                    .filter_map(|(c, v)| unknown.binary_search(&c).ok().map(|i| (i, v)))
                    .collect();
                row.sort_by_key(|e| e.0);
                Some(row)
            })
            .collect();
        let det = gauss::determined(unknown.len(), &rows);
        unknown
            .iter()
            .zip(det)
            .any(|(&c, d)| d && self.status[c] == Status::Primary)
    }

    /// Interval pass: audits each component holding primary cells and widens every failing
    /// cell, until all pass or nothing more can be hidden.
    fn interval_pass(&mut self) -> Result<Vec<usize>, DisclosureError> {
        let mut unresolved: BTreeSet<usize> = BTreeSet::new();
        let mut dirty: BTreeSet<usize> = (0..self.status.len())
            .filter(|&c| {
                self.status[c] == Status::Primary && self.problem.cells[c].kind.is_additive()
            })
            .collect();
        while let Some(&seed) = dirty.iter().next() {
            let (cells, relations) = self.component_of(&[seed]);
            for c in &cells {
                dirty.remove(c);
            }
            let failures = self.audit_component(&cells, &relations)?;
            let mut changed = false;
            let mut widened: BTreeSet<usize> = BTreeSet::new();
            for failure in &failures {
                if !matches!(failure.kind, FailureKind::Narrow { .. })
                    || unresolved.contains(&failure.cell)
                {
                    if !matches!(failure.kind, FailureKind::Narrow { .. }) {
                        unresolved.insert(failure.cell);
                    }
                    continue;
                }
                if !widened.insert(failure.cell) {
                    continue;
                }
                let room = match failure.kind {
                    FailureKind::Narrow {
                        min,
                        max,
                        need_min_at_most,
                        need_max_at_least,
                    } => (need_max_at_least - max)
                        .max(min - need_min_at_most)
                        .max(0.0),
                    _ => 0.0,
                };
                match self.widen(failure.cell, room) {
                    Some(_) => changed = true,
                    None => {
                        unresolved.insert(failure.cell);
                    }
                }
            }
            if changed {
                dirty.insert(seed);
            }
        }
        Ok(unresolved.into_iter().collect())
    }

    /// Pruning pass: tries to publish back each secondary cell, dearest first, keeping it
    /// published when every primary cell of the component around it still passes.
    fn prune_pass(&mut self) -> Result<(), DisclosureError> {
        let mut order: Vec<usize> = (0..self.status.len())
            .filter(|&c| self.status[c] == Status::Secondary)
            .collect();
        order.sort_by(|&a, &b| self.cost[b].total_cmp(&self.cost[a]).then(b.cmp(&a)));
        for c in order {
            self.status[c] = Status::Published;
            let neighbours: Vec<usize> = self.relations_of[c]
                .iter()
                .flat_map(|&r| self.problem.relations[r].cells())
                .filter(|&o| self.status[o].is_secret())
                .collect();
            if neighbours.is_empty() {
                continue;
            }
            let (cells, relations) = self.component_of(&neighbours);
            if self.determines_a_primary(&cells, &relations)
                || !self.audit_component(&cells, &relations)?.is_empty()
            {
                self.status[c] = Status::Secondary;
            }
        }
        Ok(())
    }
}

/// Chooses the secondary suppressions protecting every primary cell of `primary` (as returned
/// by [`super::primary`]). Deterministic: the same problem and primary pattern always give the
/// same pattern.
pub fn secondary(problem: &Problem, primary: &[Status]) -> Result<Pattern, DisclosureError> {
    secondary_with(problem, primary, &SecondaryOptions::default())
}

/// Options of secondary suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondaryOptions {
    /// Run the pruning pass (default `true`): fewer secondary cells, every one needed, at the
    /// price of one component audit per secondary cell.
    pub prune: bool,
}

impl Default for SecondaryOptions {
    fn default() -> Self {
        SecondaryOptions { prune: true }
    }
}

/// [`secondary`] with explicit options.
pub fn secondary_with(
    problem: &Problem,
    primary: &[Status],
    options: &SecondaryOptions,
) -> Result<Pattern, DisclosureError> {
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
    if options.prune && unresolved.is_empty() {
        search.prune_pass()?;
    }
    let mut status = search.status;
    propagate_derived(problem, &mut status, Status::Secondary);
    Ok(Pattern { status, unresolved })
}
