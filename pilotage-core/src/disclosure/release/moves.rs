//! Certificates without linear programming: moves along directions that keep every relation.
//!
//! A secret cell passes when the attacker cannot rule out that it is 0 and cannot rule out that
//! it is 11 or more (or, for a magnitude, a wide enough interval). Both are proved by exhibiting
//! feasible points of the release: values for the secret cells, non-negative, satisfying every
//! relation with the published cells. Starting from a feasible point (the true values on the
//! protection side), a *direction* that changes only secret cells and leaves every relation's
//! balance unchanged gives a segment of feasible points.
//!
//! The directions tried for a cell are tensor products of one vector per dimension: in each
//! dimension, the cell's member against a sibling member (+1 / −1, their common parent
//! unchanged), or the member alone at the top of its hierarchy; each carried down the finer
//! levels the table breaks down (one child for sums, every child for averages over time, the
//! last child for stocks at period end). Every candidate is checked against the actual
//! relations before use, so a wrong guess is discarded, never trusted: what this module proves
//! is proved by the check, whatever the construction.

use std::collections::HashMap;

use crate::dataset::{DimensionType, TimeRule};

use super::grid::{Class, NONE, RelKind, System, Table};
use super::solve::{Need, Requirement};

/// Most candidate directions tried per cell.
const MAX_CANDIDATES: usize = 24;
/// Most siblings tried per dimension.
const MAX_SIBLINGS: usize = 3;
/// Most successive moves towards a target.
const MAX_MOVES: usize = 6;

/// Row lookup of one table: members of every dimension → row.
pub(crate) struct RowIndex {
    radix: Vec<u128>,
    index: HashMap<u128, u32>,
    /// Per dimension, the child members of every member.
    children: Vec<Vec<Vec<u32>>>,
}

impl RowIndex {
    fn new(table: &Table) -> Option<RowIndex> {
        let radix: Vec<u128> = table
            .dims
            .iter()
            .map(|d| d.codes.len() as u128 + 1)
            .collect();
        let mut capacity: u128 = 1;
        for &r in &radix {
            capacity = capacity.checked_mul(r)?;
        }
        let mut index = HashMap::with_capacity(table.rows);
        for r in 0..table.rows {
            let key = table
                .dims
                .iter()
                .zip(&radix)
                .fold(0u128, |k, (d, &x)| k * x + u128::from(d.rows[r]));
            index.insert(key, r as u32);
        }
        let children = table
            .dims
            .iter()
            .map(|d| {
                let mut ch = vec![Vec::new(); d.codes.len()];
                for (m, &p) in d.parent.iter().enumerate() {
                    if p != NONE {
                        ch[p as usize].push(m as u32);
                    }
                }
                ch
            })
            .collect();
        Some(RowIndex {
            radix,
            index,
            children,
        })
    }

    fn row(&self, members: &[u32]) -> Option<u32> {
        let key = members
            .iter()
            .zip(&self.radix)
            .fold(0u128, |k, (&m, &x)| k * x + u128::from(m));
        self.index.get(&key).copied()
    }
}

/// Searches feasible points around a feasible point of the release.
pub(crate) struct Mover<'a> {
    tables: &'a [Table],
    /// The release's cells and relations; its values are a feasible point: published values
    /// and, for secret cells, values satisfying every relation (the true values on the
    /// protection side).
    system: &'a System,
    rel_start: &'a [u32],
    rel_flat: &'a [u32],
    /// Secret cells (the unknowns).
    secret: &'a [bool],
    rows: &'a [Option<RowIndex>],
}

/// The row lookups of every table (`None` for a table too wide to index).
pub(crate) fn row_indexes(tables: &[Table]) -> Vec<Option<RowIndex>> {
    tables.iter().map(RowIndex::new).collect()
}

impl<'a> Mover<'a> {
    pub fn new(
        tables: &'a [Table],
        system: &'a System,
        rel_start: &'a [u32],
        rel_flat: &'a [u32],
        secret: &'a [bool],
        rows: &'a [Option<RowIndex>],
    ) -> Mover<'a> {
        Mover {
            tables,
            system,
            rel_start,
            rel_flat,
            secret,
            rows,
        }
    }

    fn relations_of(&self, c: u32) -> &[u32] {
        &self.rel_flat[self.rel_start[c as usize] as usize..self.rel_start[c as usize + 1] as usize]
    }

    /// The cell of table `t`, measure `m` at `members`, if it exists, is present and is secret
    /// (or, with `any`, may be hidden).
    fn usable(&self, t: usize, m: usize, members: &[u32], any: bool) -> Option<u32> {
        let row = self.rows[t].as_ref()?.row(members)?;
        let c = (self.system.base[t][m] + row as usize) as u32;
        ((any || self.secret[c as usize]) && self.system.present[c as usize]).then_some(c)
    }

    /// Preference of a cell as a corner: secret first, then the largest value.
    fn rank(&self, c: u32) -> (bool, f64) {
        (self.secret[c as usize], self.system.value[c as usize])
    }

    /// The member `a` of dimension `k` carried down the finer levels, with coefficient `sign`.
    #[allow(clippy::too_many_arguments)]
    fn down(
        &self,
        t: usize,
        m: usize,
        k: usize,
        members: &mut Vec<u32>,
        a: u32,
        sign: f64,
        any: bool,
        out: &mut Vec<(u32, f64)>,
    ) {
        out.push((a, sign));
        let table = &self.tables[t];
        let dim = &table.dims[k];
        let Some(index) = self.rows[t].as_ref() else {
            return;
        };
        let rule = if dim.kind == DimensionType::Period {
            table.measures[m].time
        } else {
            None
        };
        let saved = members[k];
        let present: Vec<u32> = index.children[k][a as usize]
            .iter()
            .copied()
            .filter(|&b| {
                members[k] = b;
                index.row(members).is_some()
            })
            .collect();
        members[k] = saved;
        if present.is_empty() {
            return;
        }
        match rule {
            Some(TimeRule::Average) => {
                for b in present {
                    self.down(t, m, k, members, b, sign, any, out);
                }
            }
            Some(TimeRule::Stock) => {
                if let Some(&b) = present.last() {
                    self.down(t, m, k, members, b, sign, any, out);
                }
            }
            _ => {
                // The secret child with the largest value (room to give on either side).
                let best = present
                    .iter()
                    .copied()
                    .filter_map(|b| {
                        members[k] = b;
                        let c = self.usable(t, m, members, any);
                        members[k] = saved;
                        c.map(|c| (b, self.rank(c)))
                    })
                    .max_by(|x, y| {
                        (x.1.0.cmp(&y.1.0))
                            .then(x.1.1.total_cmp(&y.1.1))
                            .then(y.0.cmp(&x.0))
                    });
                if let Some((b, _)) = best {
                    self.down(t, m, k, members, b, sign, any, out);
                }
            }
        }
    }

    /// Candidate directions for a cell (coefficient +1 on the cell), each checked to keep every
    /// equality relation it touches.
    fn candidates(&self, cell: u32, any: bool) -> Vec<Vec<(u32, f64)>> {
        let (t, m, row) = self.system.locate(cell as usize);
        let table = &self.tables[t];
        if self.rows[t].is_none() {
            return Vec::new();
        }
        let own: Vec<u32> = table.dims.iter().map(|d| d.rows[row]).collect();
        // Per dimension, the candidate vectors over members.
        let mut per_dim: Vec<Vec<Vec<(u32, f64)>>> = Vec::with_capacity(own.len());
        for (k, dim) in table.dims.iter().enumerate() {
            let a = own[k];
            let mut members = own.clone();
            let mut options: Vec<Vec<(u32, f64)>> = Vec::new();
            let p = dim.parent[a as usize];
            if p != NONE {
                let index = self.rows[t].as_ref().map(|i| &i.children[k]);
                let mut siblings: Vec<(u32, (bool, f64))> = index
                    .map(|ch| ch[p as usize].as_slice())
                    .unwrap_or(&[])
                    .iter()
                    .copied()
                    .filter(|&s| s != a)
                    .filter_map(|s| {
                        members[k] = s;
                        let c = self.usable(t, m, &members, any);
                        members[k] = a;
                        c.map(|c| (s, self.rank(c)))
                    })
                    .collect();
                siblings.sort_by(|x, y| {
                    (y.1.0.cmp(&x.1.0))
                        .then(y.1.1.total_cmp(&x.1.1))
                        .then(x.0.cmp(&y.0))
                });
                for &(s, _) in siblings.iter().take(MAX_SIBLINGS) {
                    let mut v = Vec::new();
                    self.down(t, m, k, &mut members, a, 1.0, any, &mut v);
                    members[k] = s;
                    self.down(t, m, k, &mut members, s, -1.0, any, &mut v);
                    members[k] = a;
                    options.push(v);
                }
            }
            if options.is_empty() {
                let mut v = Vec::new();
                self.down(t, m, k, &mut members, a, 1.0, any, &mut v);
                options.push(v);
            }
            per_dim.push(options);
        }
        // Tensor products, in lexicographic order of the options.
        let mut out = Vec::new();
        let mut choice = vec![0usize; per_dim.len()];
        'products: loop {
            if out.len() >= MAX_CANDIDATES {
                break;
            }
            if let Some(d) = self.product(t, m, &per_dim, &choice, any)
                && self.balanced(&d)
            {
                out.push(d);
            }
            for i in (0..choice.len()).rev() {
                choice[i] += 1;
                if choice[i] < per_dim[i].len() {
                    continue 'products;
                }
                choice[i] = 0;
            }
            break;
        }
        out
    }

    /// The cells and coefficients of one tensor product, if every cell exists and is secret.
    fn product(
        &self,
        t: usize,
        m: usize,
        per_dim: &[Vec<Vec<(u32, f64)>>],
        choice: &[usize],
        any: bool,
    ) -> Option<Vec<(u32, f64)>> {
        let vectors: Vec<&Vec<(u32, f64)>> = per_dim
            .iter()
            .zip(choice)
            .map(|(options, &i)| &options[i])
            .collect();
        let mut out: Vec<(u32, f64)> = Vec::new();
        let mut idx = vec![0usize; vectors.len()];
        let mut members = vec![0u32; vectors.len()];
        loop {
            let mut coef = 1.0;
            for (i, v) in vectors.iter().enumerate() {
                members[i] = v[idx[i]].0;
                coef *= v[idx[i]].1;
            }
            let c = self.usable(t, m, &members, any)?;
            out.push((c, coef));
            if out.len() > 4096 {
                return None;
            }
            let mut i = vectors.len();
            loop {
                if i == 0 {
                    out.sort_unstable_by_key(|x| x.0);
                    return Some(out);
                }
                i -= 1;
                idx[i] += 1;
                if idx[i] < vectors[i].len() {
                    break;
                }
                idx[i] = 0;
            }
        }
    }

    /// Whether the direction keeps the balance of every equality relation it touches.
    fn balanced(&self, d: &[(u32, f64)]) -> bool {
        let coef: HashMap<u32, f64> = d.iter().copied().collect();
        let mut seen: Vec<u32> = d
            .iter()
            .flat_map(|&(c, _)| self.relations_of(c).iter().copied())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.iter().all(|&r| {
            let rel = &self.system.relations[r as usize];
            match rel.kind {
                RelKind::Sum(k) => {
                    let get = |c: u32| coef.get(&c).copied().unwrap_or(0.0);
                    let s: f64 = rel.parts.iter().map(|&p| get(p)).sum();
                    (k * get(rel.total) - s).abs() < 1e-9
                }
                RelKind::Distinct => true,
            }
        })
    }

    /// Whether the inequality relations touched by `d` hold at `x + t·d`.
    fn inequalities_hold(
        &self,
        d: &[(u32, f64)],
        t: f64,
        value: &dyn Fn(u32) -> f64,
        coef: &HashMap<u32, f64>,
    ) -> bool {
        let mut rels: Vec<u32> = d
            .iter()
            .flat_map(|&(c, _)| self.relations_of(c).iter().copied())
            .collect();
        rels.sort_unstable();
        rels.dedup();
        let at = |c: u32| value(c) + t * coef.get(&c).copied().unwrap_or(0.0);
        rels.iter().all(|&r| {
            let rel = &self.system.relations[r as usize];
            match rel.kind {
                RelKind::Sum(_) => true,
                RelKind::Distinct => {
                    let total = at(rel.total);
                    let sum: f64 = rel.parts.iter().map(|&p| at(p)).sum();
                    rel.parts.iter().all(|&p| at(p) <= total + rel.tol + 1e-9)
                        && total <= sum + rel.tol + 1e-9
                }
            }
        })
    }

    /// Moves the cell from the feasible point towards `target` (up or down) along the
    /// candidate directions, each move to a feasible point; returns the value reached.
    fn push(&self, cell: u32, candidates: &[Vec<(u32, f64)>], target: f64) -> f64 {
        let mut over: HashMap<u32, f64> = HashMap::new();
        let start = self.system.value[cell as usize];
        let up = target > start;
        let sign = if up { 1.0 } else { -1.0 };
        for _ in 0..MAX_MOVES {
            let current = over
                .get(&cell)
                .copied()
                .unwrap_or(self.system.value[cell as usize]);
            let need = (target - current) * sign;
            if need <= 1e-9 {
                break;
            }
            let value = |c: u32| {
                over.get(&c)
                    .copied()
                    .unwrap_or(self.system.value[c as usize])
            };
            let mut best: Option<(usize, f64)> = None;
            for (i, d) in candidates.iter().enumerate() {
                let mut room = need;
                for &(c, coef) in d {
                    let step = sign * coef;
                    if step < 0.0 {
                        room = room.min(value(c) / -step);
                    }
                }
                if room <= 1e-9 || best.is_some_and(|(_, b)| b >= room) {
                    continue;
                }
                let coef: HashMap<u32, f64> = d.iter().map(|&(c, x)| (c, x)).collect();
                if self.inequalities_hold(d, sign * room, &value, &coef) {
                    best = Some((i, room));
                    if room >= need - 1e-9 {
                        break;
                    }
                }
            }
            let Some((i, room)) = best else { break };
            let moved: Vec<(u32, f64)> = candidates[i]
                .iter()
                .map(|&(c, coef)| (c, (value(c) + sign * room * coef).max(0.0)))
                .collect();
            over.extend(moved);
        }
        over.get(&cell).copied().unwrap_or(start)
    }

    /// Whether moves from the feasible point prove that the cell passes the requirement by
    /// reaching both sides (see [`Requirement::reaches`]).
    pub fn certifies(&self, cell: u32, need: Need, req: &Requirement) -> bool {
        let (t, m, _) = self.system.locate(cell as usize);
        if !matches!(
            self.tables[t].measures[m].class,
            Class::Count | Class::Magnitude
        ) {
            return false;
        }
        let x = self.system.value[cell as usize];
        if !x.is_finite() {
            return false;
        }
        let candidates = self.candidates(cell, false);
        match need {
            Need::Count { .. } => {
                let low = x <= 1e-9
                    || (!candidates.is_empty() && self.push(cell, &candidates, 0.0) <= 1e-9);
                low && (x >= req.min_count - 1e-9
                    || (!candidates.is_empty()
                        && self.push(cell, &candidates, req.min_count) >= req.min_count - 1e-9))
            }
            Need::Magnitude { .. } => {
                if candidates.is_empty() {
                    return false;
                }
                let lo = if x <= 1e-9 {
                    0.0
                } else {
                    self.push(cell, &candidates, 0.0).max(0.0)
                };
                let want = if lo <= 1e-9 {
                    x.max(1.0)
                } else {
                    lo * (1.0 + req.margin) / (1.0 - req.margin).max(1e-9)
                };
                let hi = if x >= want {
                    x
                } else {
                    self.push(cell, &candidates, want).max(x)
                };
                req.reaches(need, if lo <= 1e-9 { 0.0 } else { lo }, hi)
            }
        }
    }

    /// The cheapest set of cells to hide so that one move proves a count: a direction whose
    /// cells, once secret, let the count reach 0 (its value taken from the cells of the same
    /// sign) and `min_count` (taken from the cells of the other sign), every relation kept.
    /// The cost of a direction is the sum of `cost` over its cells not secret yet (ties: the
    /// first candidate). `None` when no candidate direction can carry the moves.
    pub fn cheapest_box(&self, cell: u32, req: &Requirement, cost: &[f64]) -> Option<Vec<u32>> {
        let (t, m, _) = self.system.locate(cell as usize);
        if self.tables[t].measures[m].class != Class::Count {
            return None;
        }
        let x = self.system.value[cell as usize];
        if !x.is_finite() {
            return None;
        }
        let up = (req.min_count - x).max(0.0);
        let value = |c: u32| self.system.value[c as usize];
        let mut best: Option<(f64, Vec<u32>)> = None;
        for d in self.candidates(cell, true) {
            let room = d.iter().all(|&(c, coef)| {
                c == cell
                    || if coef > 0.0 {
                        value(c) >= x * coef - 1e-9
                    } else {
                        value(c) >= up * -coef - 1e-9
                    }
            });
            if !room {
                continue;
            }
            let coef: HashMap<u32, f64> = d.iter().copied().collect();
            if (x > 0.0 && !self.inequalities_hold(&d, -x, &value, &coef))
                || (up > 0.0 && !self.inequalities_hold(&d, up, &value, &coef))
            {
                continue;
            }
            let new: Vec<u32> = d
                .iter()
                .map(|&(c, _)| c)
                .filter(|&c| !self.secret[c as usize])
                .collect();
            let price: f64 = new.iter().map(|&c| cost[c as usize]).sum();
            if best.as_ref().is_none_or(|(b, _)| price < *b) {
                best = Some((price, new));
            }
        }
        best.map(|(_, cells)| cells)
    }
}
