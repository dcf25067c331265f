//! The closure point: the last resort of the witness pass, which always has a point where the
//! system allows one.
//!
//! The claimed value is moved to its target, and every relation the move breaks is repaired by
//! moving its other values the same way (all down for a claim downwards, all up for a claim
//! upwards), until every relation holds again:
//!
//! - a total moved less than its parts follows them (forced);
//! - parts moved less than their total follow it: all of them when the total leaves them no
//!   choice (a total at 0, a part above its distinct total), otherwise the parts already moved
//!   first, then the hidden ones, then the largest; these choices wait until no forced repair
//!   is left, so that the totals above the value have settled first.
//!
//! Downwards this is the deletion of what the value counts, its breakdowns emptied and every
//! total above it lowered; upwards, the addition of units at one finest cell below it. The
//! point moves many values (up to the top totals), so the pass asks for it only when no
//! direction and no neighbourhood program reaches the claim. It is checked like every other
//! point before it is returned.

use std::collections::{BTreeSet, HashMap};

use super::{Avoid, Goal, Mask, Space};
use crate::disclosure::release::grid::{Class, NONE, RelKind};

/// Most repairs of one closure before it gives up.
const MAX_REPAIRS: usize = 200_000;

/// Most any value may move in a closure, in multiples of the claimed value's move (plus one
/// unit).
const MAX_STRETCH: f64 = 4.0;

/// Most rows looked up for the units added upwards.
const MAX_INSERTION: usize = 1 << 18;

/// Most values one closure point may move.
const MAX_CHANGES: usize = 100_000;

impl Space<'_> {
    /// The closure point of a goal (see the module documentation), or `None` when a repair
    /// would move a value that may not move (`mask.blocked`, or `avoid` besides the goal's own
    /// value), a count would go below 0, or the repairs do not settle within their limits.
    pub fn closure(&self, goal: Goal, mask: &Mask, avoid: Avoid) -> Option<Vec<(u32, f64)>> {
        let sign = if goal.down { -1.0 } else { 1.0 };
        let x0 = self.value(goal.cell);
        let mut need = goal.target - x0;
        if self.is_count(goal.cell) {
            need = if goal.down { need.floor() } else { need.ceil() };
        }
        if need * sign <= 0.0 {
            return None;
        }
        let mut state = Closure {
            space: self,
            mask,
            avoid,
            goal: goal.cell,
            sign,
            most: MAX_STRETCH * (need.abs() + 1.0),
            moved: HashMap::new(),
            forced: Vec::new(),
            chosen: BTreeSet::new(),
            chain: if goal.down {
                None
            } else {
                self.chain(goal.cell)
            },
        };
        if let Some((t, marks)) = &state.chain {
            // Upwards: the units added at the finest cell of the chain, in every total above.
            let (_, m, _) = self.system.locate(goal.cell as usize);
            let cells = self.marked_cells(*t, m, marks, MAX_INSERTION)?;
            for c in cells {
                if self.system.present[c as usize] {
                    state.shift(c, need * sign)?;
                }
            }
        }
        state.shift(goal.cell, need * sign - state.moved(goal.cell))?;
        let mut repairs = 0usize;
        loop {
            repairs += 1;
            if repairs > MAX_REPAIRS || state.moved.len() > MAX_CHANGES {
                return None;
            }
            if let Some(r) = state.forced.pop() {
                state.repair(r, false)?;
            } else if let Some(r) = state.chosen.pop_first() {
                state.repair(r, true)?;
            } else {
                break;
            }
        }
        let mut changes: Vec<(u32, f64)> = state
            .moved
            .into_iter()
            .filter(|(_, m)| *m > 0.0)
            .map(|(c, m)| (c, sign * m))
            .collect();
        changes.sort_unstable_by_key(|x| x.0);
        let over: HashMap<u32, f64> = changes.iter().copied().collect();
        let at = |c: u32| self.value(c) + over.get(&c).copied().unwrap_or(0.0);
        let tol = 1e-9 * (1.0 + goal.target.abs());
        let reached = if goal.down {
            at(goal.cell) <= goal.target + tol
        } else {
            at(goal.cell) >= goal.target - tol
        };
        let ok = reached
            && changes.iter().all(|&(c, _)| at(c) >= -1e-9)
            && self.balanced(&changes)
            && self.inequalities_hold(&changes, &over);
        ok.then_some(changes)
    }

    /// The rows of one finest cell below `cell` and every total above it, as members marked
    /// per dimension of `cell`'s table: in each dimension the value's member, its ancestors,
    /// and the descent through the child whose row is the largest (the other dimensions at the
    /// value's members, or at their totals where the table has no such row).
    fn chain(&self, cell: u32) -> Option<(usize, Vec<Vec<bool>>)> {
        let (t, m, row) = self.system.locate(cell as usize);
        let table = &self.tables[t];
        let index = self.rows[t].as_ref()?;
        let own: Vec<u32> = table.dims.iter().map(|d| d.rows[row]).collect();
        let tops: Vec<u32> = table
            .dims
            .iter()
            .map(|d| {
                (0..d.codes.len() as u32)
                    .find(|&x| d.depth[x as usize] == 0 && d.parent[x as usize] == NONE)
                    .unwrap_or(0)
            })
            .collect();
        let value_at = |members: &[u32]| -> Option<f64> {
            let r = index.row(members)?;
            let c = self.system.base[t][m] + r as usize;
            self.system.present[c].then(|| self.system.value[c])
        };
        let mut marks = Vec::with_capacity(table.dims.len());
        for (k, d) in table.dims.iter().enumerate() {
            let mut mark = vec![false; d.codes.len()];
            let mut up = own[k];
            while up != NONE {
                mark[up as usize] = true;
                up = d.parent[up as usize];
            }
            let mut at = own[k];
            loop {
                let children = &index.children[k][at as usize];
                let pick = |base: &[u32]| {
                    let mut members = base.to_vec();
                    let mut best: Option<(f64, u32)> = None;
                    for &child in children {
                        members[k] = child;
                        if let Some(v) = value_at(&members)
                            && best.is_none_or(|(bv, _)| v > bv)
                        {
                            best = Some((v, child));
                        }
                    }
                    best.map(|b| b.1)
                };
                let Some(child) = pick(&own)
                    .or_else(|| pick(&tops))
                    .or_else(|| children.first().copied())
                else {
                    break;
                };
                mark[child as usize] = true;
                at = child;
            }
            marks.push(mark);
        }
        Some((t, marks))
    }

    /// The cells of measure `m` of table `t` whose members are all marked, at most `cap`
    /// combinations looked up (`None` beyond).
    fn marked_cells(
        &self,
        t: usize,
        m: usize,
        marks: &[Vec<bool>],
        cap: usize,
    ) -> Option<Vec<u32>> {
        let index = self.rows[t].as_ref()?;
        let lists: Vec<Vec<u32>> = marks
            .iter()
            .map(|mark| {
                (0..mark.len() as u32)
                    .filter(|&x| mark[x as usize])
                    .collect()
            })
            .collect();
        let combos = lists
            .iter()
            .try_fold(1usize, |acc, l| acc.checked_mul(l.len()))?;
        if combos > cap {
            return None;
        }
        let mut out = Vec::new();
        let mut pos = vec![0usize; lists.len()];
        let mut members: Vec<u32> = lists.iter().map(|l| l[0]).collect();
        'all: loop {
            if let Some(r) = index.row(&members) {
                out.push((self.system.base[t][m] + r as usize) as u32);
            }
            for k in (0..lists.len()).rev() {
                pos[k] += 1;
                if pos[k] < lists[k].len() {
                    members[k] = lists[k][pos[k]];
                    continue 'all;
                }
                pos[k] = 0;
                members[k] = lists[k][0];
            }
            break;
        }
        Some(out)
    }

    fn is_count(&self, c: u32) -> bool {
        let (t, m, _) = self.system.locate(c as usize);
        self.tables[t].measures[m].class == Class::Count
    }
}

/// The state of one closure: how far each value has moved (in the goal's direction, ≥ 0) and
/// the relations waiting for a repair.
struct Closure<'s, 'a> {
    space: &'s Space<'a>,
    mask: &'s Mask<'s>,
    avoid: Avoid<'s>,
    goal: u32,
    /// −1 downwards, +1 upwards.
    sign: f64,
    /// Most any value may move: repairs that would take one further are going round in
    /// circles (units counted again and again) and the closure gives up.
    most: f64,
    moved: HashMap<u32, f64>,
    /// Relations to look at again, in no particular order.
    forced: Vec<u32>,
    /// Relations whose repair is a choice, taken in relation order once nothing is forced.
    chosen: BTreeSet<u32>,
    /// Upwards: the table of the value and, per dimension, the members of the finest cell the
    /// units are added at and of every total above it (see [`Space::chain`]).
    chain: Option<(usize, Vec<Vec<bool>>)>,
}

impl Closure<'_, '_> {
    fn moved(&self, c: u32) -> f64 {
        self.moved.get(&c).copied().unwrap_or(0.0)
    }

    /// The value of `c` at the point being built.
    fn at(&self, c: u32) -> f64 {
        self.space.value(c) + self.sign * self.moved(c)
    }

    /// How much further `c` may move: down to 0 downwards, without limit upwards; 0 for a
    /// value that may not move.
    fn room(&self, c: u32) -> f64 {
        let cu = c as usize;
        let free = self.space.system.present[cu]
            && !self.mask.blocked[cu]
            && (c == self.goal || !self.avoid.blocks(c));
        if !free {
            0.0
        } else if self.sign < 0.0 {
            self.at(c).max(0.0)
        } else {
            f64::INFINITY
        }
    }

    /// Moves `c` further by `by` (≥ 0) and queues its relations; `None` when it may not.
    fn shift(&mut self, c: u32, by: f64) -> Option<()> {
        if by <= 1e-12 {
            return Some(());
        }
        if by > self.room(c) + 1e-9 || self.moved(c) + by > self.most {
            return None;
        }
        *self.moved.entry(c).or_insert(0.0) += by;
        for &r in self.space.relations_of(c) {
            self.forced.push(r);
        }
        Some(())
    }

    /// Whether `c` lies on the chain of the finest cell the units are added at.
    fn on_chain(&self, c: u32) -> bool {
        let Some((t, marks)) = &self.chain else {
            return false;
        };
        let (ct, _, row) = self.space.system.locate(c as usize);
        ct == *t
            && self.space.tables[ct]
                .dims
                .iter()
                .zip(marks)
                .all(|(d, mark)| mark[d.rows[row] as usize])
    }

    /// Parts of a relation in the order a choice takes them: moved already, on the chain of
    /// the finest cell (upwards), hidden, largest.
    fn preferred(&self, parts: &[u32]) -> Vec<u32> {
        let mut order: Vec<u32> = parts
            .iter()
            .copied()
            .filter(|&p| self.room(p) > 0.0)
            .collect();
        order.sort_by(|&a, &b| {
            let key = |c: u32| {
                (
                    self.moved(c) > 0.0,
                    self.on_chain(c),
                    self.mask.hidden[c as usize],
                    self.space.value(c),
                )
            };
            let (ka, kb) = (key(a), key(b));
            kb.0.cmp(&ka.0)
                .then(kb.1.cmp(&ka.1))
                .then(kb.2.cmp(&ka.2))
                .then(kb.3.total_cmp(&ka.3))
                .then(a.cmp(&b))
        });
        order
    }

    /// Moves parts by `by` in total: all of them up to their room when `by` takes all the
    /// room there is, else in the order of [`Closure::preferred`] (upwards: one part).
    fn spread(&mut self, parts: &[u32], by: f64) -> Option<()> {
        let mut left = by;
        for p in self.preferred(parts) {
            if left <= 1e-12 {
                break;
            }
            let mut step = left.min(self.room(p));
            if self.space.is_count(p) {
                step = step.floor();
            }
            self.shift(p, step)?;
            left -= step;
        }
        (left <= 1e-9).then_some(())
    }

    /// Repairs relation `r` at the point being built. A repair that needs a choice is put off
    /// until nothing forced is left, unless `choose`.
    fn repair(&mut self, r: u32, choose: bool) -> Option<()> {
        let space = self.space;
        let rel = &space.system.relations[r as usize];
        let slack = rel.tol + 1e-9 * (1.0 + space.value(rel.total).abs());
        match rel.kind {
            RelKind::Sum(k) => {
                let parts: f64 = rel.parts.iter().map(|&p| self.moved(p)).sum();
                let gap = k * self.moved(rel.total) - parts;
                if gap < -1e-9 {
                    // The parts moved further: the total follows.
                    self.shift(rel.total, -gap / k)?;
                } else if gap > 1e-9 {
                    let room: f64 = rel.parts.iter().map(|&p| self.room(p)).sum();
                    if choose || gap >= room - 1e-9 {
                        self.spread(&rel.parts, gap)?;
                    } else {
                        self.chosen.insert(r);
                    }
                }
            }
            RelKind::Distinct => {
                let total = self.at(rel.total);
                if self.sign < 0.0 {
                    // A part above its total comes down to it (forced).
                    for &p in &rel.parts {
                        let over = self.at(p) - total;
                        if over > slack {
                            self.shift(p, over)?;
                        }
                    }
                    let sum: f64 = rel.parts.iter().map(|&p| self.at(p)).sum();
                    if total > sum + slack {
                        self.shift(rel.total, total - sum)?;
                    }
                } else {
                    let top = rel
                        .parts
                        .iter()
                        .map(|&p| self.at(p))
                        .fold(f64::NEG_INFINITY, f64::max);
                    if top > total + slack {
                        self.shift(rel.total, top - total)?;
                    }
                    let total = self.at(rel.total);
                    let sum: f64 = rel.parts.iter().map(|&p| self.at(p)).sum();
                    if total > sum + slack {
                        if choose {
                            self.spread(&rel.parts, total - sum)?;
                        } else {
                            self.chosen.insert(r);
                        }
                    }
                }
            }
            RelKind::AtLeast => {
                let sum: f64 = rel.parts.iter().map(|&p| self.at(p)).sum();
                let total = self.at(rel.total);
                if sum > total + slack {
                    if self.sign > 0.0 {
                        self.shift(rel.total, sum - total)?;
                    } else {
                        let room: f64 = rel.parts.iter().map(|&p| self.room(p)).sum();
                        if choose || sum - total >= room - 1e-9 {
                            self.spread(&rel.parts, sum - total)?;
                        } else {
                            self.chosen.insert(r);
                        }
                    }
                }
            }
        }
        Some(())
    }
}
