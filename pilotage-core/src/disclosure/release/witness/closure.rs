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

use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;

use super::{Avoid, Goal, Mask, Space};
use crate::dataset::{DimensionType, TimeRule};
use crate::disclosure::release::grid::{Class, NONE, RelationKind};

/// Most any value may move in a closure, in multiples of the claimed value's move (plus one
/// unit): repairs that take a value further are going round in circles. A closure that
/// follows the units of a small count across breakdowns and measures can lower a national
/// total by a few times the count, hence the room above 1. A *wide* closure, the last resort,
/// has no such limit downwards, where no value can go below 0 anyway.
const MAX_STRETCH: f64 = 64.0;

/// Most repairs of one closure before it gives up.
const MAX_REPAIRS: usize = 200_000;

/// Most rows looked up for the units added upwards.
const MAX_INSERTION: usize = 1 << 18;

/// Most values one closure point may move.
const MAX_CHANGES: usize = 100_000;

impl Space<'_> {
    /// The closure point of a goal (see the module documentation), or `None` when a repair
    /// would move a value that may not move (`mask.blocked`, or `avoid` besides the goal's own
    /// value), a count would go below 0, or the repairs do not settle within their limits
    /// (the stretch of [`MAX_STRETCH`] too unless `wide` and downwards).
    pub fn closure(
        &self,
        goal: Goal,
        mask: &Mask,
        avoid: Avoid,
        wide: bool,
    ) -> Option<Vec<(u32, f64)>> {
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
            most: if wide && goal.down {
                f64::INFINITY
            } else {
                MAX_STRETCH * (need.abs() + 1.0)
            },
            moved: HashMap::default(),
            forced: Vec::new(),
            chosen: BTreeSet::new(),
            chain: if goal.down {
                self.lineage(goal.cell)
            } else {
                self.chain(goal.cell)
            },
        };
        if let (false, Some((t, marks))) = (goal.down, &state.chain) {
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
            } else if let Some((_, r)) = state.chosen.pop_first() {
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
            && self.inequalities_hold(&changes, |c| over.get(&c).copied().unwrap_or(0.0));
        ok.then_some(changes)
    }

    /// The rows of one finest cell below `cell` and every total above it, as members marked
    /// per dimension of `cell`'s table. The finest cell is reached from the value by steps
    /// down one dimension at a time, each to the largest row below that holds something, so
    /// that every row of the chain exists; the marks are the members of that cell and their
    /// ancestors.
    fn chain(&self, cell: u32) -> Option<(usize, Vec<Vec<bool>>)> {
        let (t, m, row) = self.system.locate(cell as usize);
        let table = &self.tables[t];
        let index = self.rows[t].as_ref()?;
        let mut members: Vec<u32> = table.dims.iter().map(|d| d.rows[row]).collect();
        loop {
            let mut best: Option<(f64, usize, u32)> = None;
            for k in 0..members.len() {
                let mut trial = members.clone();
                for &child in &index.children[k][members[k] as usize] {
                    trial[k] = child;
                    let Some(r) = index.row(&trial) else { continue };
                    let c = self.system.base[t][m] + r as usize;
                    let v = self.system.value[c];
                    if self.system.present[c] && v > 0.0 && best.is_none_or(|(bv, _, _)| v > bv) {
                        best = Some((v, k, child));
                    }
                }
            }
            let Some((_, k, child)) = best else { break };
            members[k] = child;
        }
        // An average over time moves with every sub-period: the units are added in every
        // period of the value's year, so that each period's average rises alike.
        let average = table.measures[m].time == Some(TimeRule::Average);
        let marks = table
            .dims
            .iter()
            .zip(&members)
            .map(|(d, &leaf)| {
                let mut mark = vec![false; d.codes.len()];
                let top = |mut x: u32| {
                    while d.parent[x as usize] != NONE {
                        x = d.parent[x as usize];
                    }
                    x
                };
                if average && d.kind == DimensionType::Period {
                    let year = top(leaf);
                    for x in 0..d.codes.len() as u32 {
                        mark[x as usize] = top(x) == year;
                    }
                    return mark;
                }
                let mut up = leaf;
                while up != NONE {
                    mark[up as usize] = true;
                    up = d.parent[up as usize];
                }
                mark
            })
            .collect();
        Some((t, marks))
    }

    /// Downwards: per dimension of `cell`'s table, the members comparable with the value's
    /// (itself, its ancestors, its descendants): the rows the units of the value can be in.
    fn lineage(&self, cell: u32) -> Option<(usize, Vec<Vec<bool>>)> {
        let (t, _, row) = self.system.locate(cell as usize);
        let table = &self.tables[t];
        let marks = table
            .dims
            .iter()
            .map(|d| {
                let own = d.rows[row];
                (0..d.codes.len() as u32)
                    .map(|x| {
                        let reaches = |from: u32, to: u32| {
                            let mut at = from;
                            while at != NONE {
                                if at == to {
                                    return true;
                                }
                                at = d.parent[at as usize];
                            }
                            false
                        };
                        reaches(x, own) || reaches(own, x)
                    })
                    .collect()
            })
            .collect();
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
    /// Most any value may move (see [`MAX_STRETCH`]): repairs that would take one further
    /// are going round in circles (units counted again and again) and the closure gives up.
    most: f64,
    moved: HashMap<u32, f64>,
    /// Relations to look at again, in no particular order.
    forced: Vec<u32>,
    /// Relations whose repair is a choice, taken once nothing is forced: the finest totals
    /// first (so that the coarser ones find their parts moved already), then in relation
    /// order. Keyed by (level of the total's row, relation).
    chosen: BTreeSet<(u8, u32)>,
    /// The table of the value and, per dimension, the members the units moved are in:
    /// upwards, the finest cell they are added at and every total above it
    /// ([`Space::chain`]); downwards, the members comparable with the value's
    /// ([`Space::lineage`]).
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

    /// Whether `c` is a row the units moved are in (see [`Closure::chain`]).
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

    /// Whether some measure of the row of `c` has moved (the units moved are in that row).
    fn row_moved(&self, c: u32) -> bool {
        let (t, _, row) = self.space.system.locate(c as usize);
        self.space.system.base[t]
            .iter()
            .any(|&b| self.moved((b + row) as u32) > 0.0)
    }

    /// Whether `c` is a part of a relation whose total has moved: the units moved are in
    /// `c`'s measure at a coarser row.
    fn total_moved(&self, c: u32) -> bool {
        self.space.relations_of(c).iter().any(|&r| {
            let rel = &self.space.system.relations[r as usize];
            rel.total != c && self.moved(rel.total) > 0.0
        })
    }

    /// Parts of a relation in the order a choice takes them: moved already, with room in
    /// every measure for what moved at the relation's total row (downwards: the units can
    /// be there), a total above moved already, in a row where something moved already, a row the units moved are in,
    /// of the claimed value's measure, hidden, largest.
    fn preferred(&self, parts: &[u32], total: u32) -> Vec<u32> {
        let (_, goal_measure, _) = self.space.system.locate(self.goal as usize);
        let mut order: Vec<u32> = parts
            .iter()
            .copied()
            .filter(|&p| self.room(p) > 0.0)
            .collect();
        let (tt, _, trow) = self.space.system.locate(total as usize);
        let fits = |c: u32| {
            let (t, _, row) = self.space.system.locate(c as usize);
            t != tt
                || self.space.system.base[t].iter().all(|&b| {
                    let at_total = self.moved((b + trow) as u32);
                    let here = (b + row) as u32;
                    at_total <= 0.0 || self.room(here) + self.moved(here) >= at_total - 1e-9
                })
        };
        let key = |c: u32| {
            let (_, m, _) = self.space.system.locate(c as usize);
            (
                self.moved(c) > 0.0,
                fits(c),
                self.total_moved(c),
                self.row_moved(c),
                self.on_chain(c),
                m == goal_measure,
                self.mask.is_hidden(c),
            )
        };
        order.sort_by(|&a, &b| {
            key(b)
                .cmp(&key(a))
                .then(self.space.value(b).total_cmp(&self.space.value(a)))
                .then(a.cmp(&b))
        });
        order
    }

    /// Moves parts by `by` in total: all of them up to their room when `by` takes all the
    /// room there is, else in the order of [`Closure::preferred`] (upwards: one part).
    fn spread(&mut self, parts: &[u32], total: u32, by: f64) -> Option<()> {
        let mut left = by;
        for p in self.preferred(parts, total) {
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

    /// Puts off the repair of relation `r` until nothing forced is left.
    fn defer(&mut self, r: u32) {
        let total = self.space.system.relations[r as usize].total;
        let (t, _, row) = self.space.system.locate(total as usize);
        self.chosen.insert((self.space.tables[t].level(row), r));
    }

    /// Repairs relation `r` at the point being built. A repair that needs a choice is put off
    /// until nothing forced is left, unless `choose`.
    fn repair(&mut self, r: u32, choose: bool) -> Option<()> {
        let space = self.space;
        let rel = &space.system.relations[r as usize];
        let slack = rel.tol + 1e-9 * (1.0 + space.value(rel.total).abs());
        match rel.kind {
            RelationKind::Sum(k) => {
                let parts: f64 = rel.parts.iter().map(|&p| self.moved(p)).sum();
                let gap = k * self.moved(rel.total) - parts;
                if gap < -1e-9 {
                    // The parts moved further: the total follows.
                    self.shift(rel.total, -gap / k)?;
                } else if gap > 1e-9 {
                    let room: f64 = rel.parts.iter().map(|&p| self.room(p)).sum();
                    if choose || gap >= room - 1e-9 {
                        self.spread(&rel.parts, rel.total, gap)?;
                    } else {
                        self.defer(r);
                    }
                }
            }
            RelationKind::Distinct {
                above_parts,
                below_sum,
            } => {
                let total = self.at(rel.total);
                if self.sign < 0.0 {
                    // A part above its total comes down to it (forced).
                    for &p in rel.parts.iter().filter(|_| above_parts) {
                        let over = self.at(p) - total;
                        if over > slack {
                            self.shift(p, over)?;
                        }
                    }
                    let sum: f64 = rel.parts.iter().map(|&p| self.at(p)).sum();
                    if below_sum && total > sum + slack {
                        self.shift(rel.total, total - sum)?;
                    }
                } else {
                    let top = rel
                        .parts
                        .iter()
                        .map(|&p| self.at(p))
                        .fold(f64::NEG_INFINITY, f64::max);
                    if above_parts && top > total + slack {
                        self.shift(rel.total, top - total)?;
                    }
                    let total = self.at(rel.total);
                    let sum: f64 = rel.parts.iter().map(|&p| self.at(p)).sum();
                    if below_sum && total > sum + slack {
                        if choose {
                            self.spread(&rel.parts, rel.total, total - sum)?;
                        } else {
                            self.defer(r);
                        }
                    }
                }
            }
            RelationKind::AtLeast => {
                let sum: f64 = rel.parts.iter().map(|&p| self.at(p)).sum();
                let total = self.at(rel.total);
                if sum > total + slack {
                    if self.sign > 0.0 {
                        self.shift(rel.total, sum - total)?;
                    } else {
                        let room: f64 = rel.parts.iter().map(|&p| self.room(p)).sum();
                        if choose || sum - total >= room - 1e-9 {
                            self.spread(&rel.parts, rel.total, sum - total)?;
                        } else {
                            self.defer(r);
                        }
                    }
                }
            }
        }
        Some(())
    }
}
