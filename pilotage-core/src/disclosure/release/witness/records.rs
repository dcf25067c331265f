//! Record moves: points that are the image of a change of the records behind a table.
//!
//! Every value of a table counts (or sums) records, each with one member at the finest level
//! of every dimension: a *leaf*. Taking records away from one leaf and putting them at another
//! changes every row that holds one leaf and not the other, and the values it gives are those
//! of another set of records: every sum along every hierarchy, every stock and average over
//! time and every declared relation between measures (the record moves with all the measures
//! it counts in, a *kind* that keeps them) holds by construction, whatever breakdowns the
//! table crosses. Nothing needs repairing, so there is nothing to choose but the leaves.
//!
//! The leaves are chosen so that the rows that change are few and hidden: the claimed value's
//! records are moved to a sibling member in one dimension (every row of that member changes,
//! at every level of the other dimensions), or around a rectangle of two or three dimensions
//! (records moved to a sibling in each, the corners alternating), so that totals above the
//! siblings keep their value. A move may only remove records from rows that have them
//! (non-negative), and only reach rows the table holds. The point is checked against the
//! relations it touches before it is returned, like every other point.

mod mirror;
mod program;

pub(crate) use mirror::{Link, links};
pub(crate) use program::Reach;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use crate::dataset::{DimensionType, RelationOp, TimeRule};

use super::{Avoid, Goal, Mask, RowIndex, Space};
use crate::disclosure::release::grid::{Class, Dimension, NONE, RelationKind, Table, ends_parent};

/// How widely record moves search: how many leaves, partners and moves they weigh. The
/// witness pass searches with [`Breadth::NORMAL`] first and, for the claims nothing else
/// proved, with [`Breadth::WIDE`] last.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Breadth {
    /// Most record moves summed into one point.
    pub max_steps: usize,
    /// Most partner leaves per dimension.
    pub partners: usize,
    /// Most leaves tried below one sibling member.
    pub leaves_per_sibling: usize,
    /// Most moves evaluated per step and starting leaf.
    pub max_candidates: usize,
    /// Most leaf checks of one search for a leaf below a value.
    pub leaf_budget: usize,
    /// Most leaves below the value a claim upwards brings records to, per step.
    pub bases: usize,
    /// Most siblings per level of a dimension that records are taken from or brought to.
    pub sources: usize,
    /// Whether a move may also take records away from one leaf below the value (or bring
    /// records there) with no leaf on the other side: the image of a smaller (larger) set of
    /// records, which changes every total above the leaf up to the top. Costly in hidden
    /// values, it is the last resort of a claim no other move reaches.
    pub alone: bool,
    /// Whether a leaf may stop at a member that has children where no child below it holds
    /// the records: a record known at that member only (see [`Step::descend`]). Its image
    /// keeps no sum over that member's children, so only the record program, which keeps
    /// every sum such a record touches, takes it.
    pub coarse: bool,
}

impl Breadth {
    /// The first search of every claim.
    pub const NORMAL: Breadth = Breadth {
        max_steps: 12,
        partners: 3,
        leaves_per_sibling: 6,
        max_candidates: 40,
        leaf_budget: 3000,
        bases: 4,
        sources: 2,
        alone: false,
        coarse: false,
    };
    /// The last search of a claim every other way failed: four to eight times as many
    /// leaves, partners and moves, and records taken away from (or brought to) one leaf
    /// alone.
    pub const WIDE: Breadth = Breadth {
        max_steps: 24,
        partners: 12,
        leaves_per_sibling: 24,
        max_candidates: 320,
        leaf_budget: 24000,
        bases: 16,
        sources: 8,
        alone: true,
        coarse: false,
    };
}

/// Most dimensions one move turns around (a rectangle has 2).
const MAX_CORNER_DIMS: usize = 3;
/// Most values one move settles (distinct-count bounds) before it is given up.
const MAX_SETTLE: usize = 4096;
/// Most choices of record kinds in the tables a move is mirrored into (see [`Step::images`]).
const KIND_CHOICES: usize = 4;
/// Most record kinds tried per measure.
const MAX_KINDS: usize = 8;

/// What record moves need to know about one table.
pub(crate) struct Shape {
    /// Per dimension, the number of depths.
    depths: Vec<usize>,
    /// Per dimension, the ancestor of every member at every depth (`member × depths + depth`;
    /// [`NONE`] below the member's own depth).
    anc: Vec<Vec<u32>>,
    /// Per dimension, the leaves below every member (the member itself for a leaf).
    leaves: Vec<Vec<Vec<u32>>>,
    /// The level patterns of the table's rows (depth per dimension).
    patterns: Vec<Vec<u8>>,
    /// The period dimension, if any.
    period: Option<usize>,
    /// Per period member and depth (`member × depths + depth`), the weight of a record there
    /// in its ancestor at that depth, by time rule (flow, stock, average; see [`weight_of`]).
    weights: Vec<[f64; 3]>,
    /// Per measure, the kinds of records it counts in: sets of measures that move together by
    /// the same amount and keep every declared relation.
    kinds: Vec<Vec<Vec<usize>>>,
}

impl Shape {
    pub(crate) fn new(table: &Table, index: &RowIndex) -> Shape {
        let mut depths = Vec::with_capacity(table.dims.len());
        let mut anc = Vec::with_capacity(table.dims.len());
        let mut leaves = Vec::with_capacity(table.dims.len());
        for (k, d) in table.dims.iter().enumerate() {
            let n = usize::from(d.depth.iter().copied().max().unwrap_or(0)) + 1;
            let mut a = vec![NONE; d.codes.len() * n];
            for m in 0..d.codes.len() {
                let mut cur = m as u32;
                while cur != NONE {
                    a[m * n + usize::from(d.depth[cur as usize])] = cur;
                    cur = d.parent[cur as usize];
                }
            }
            let mut under = vec![Vec::new(); d.codes.len()];
            for m in 0..d.codes.len() {
                if !index.children[k][m].is_empty() {
                    continue;
                }
                let mut cur = m as u32;
                while cur != NONE {
                    under[cur as usize].push(m as u32);
                    cur = d.parent[cur as usize];
                }
            }
            depths.push(n);
            anc.push(a);
            leaves.push(under);
        }
        let mut patterns: Vec<Vec<u8>> = (0..table.rows)
            .map(|r| {
                table
                    .dims
                    .iter()
                    .map(|d| d.depth[d.rows[r] as usize])
                    .collect()
            })
            .collect();
        patterns.sort_unstable();
        patterns.dedup();
        let period = table
            .dims
            .iter()
            .position(|d| d.kind == DimensionType::Period);
        let kinds = (0..table.measures.len())
            .map(|m| kinds_of(table, m))
            .collect();
        let weights = match period {
            Some(k) => {
                let d = &table.dims[k];
                let n = depths[k];
                (0..d.codes.len() * n)
                    .map(|i| {
                        let (leaf, depth) = ((i / n) as u32, (i % n) as u8);
                        [None, Some(TimeRule::Stock), Some(TimeRule::Average)]
                            .map(|rule| weight_of(d, leaf, depth, rule))
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        Shape {
            depths,
            anc,
            leaves,
            patterns,
            period,
            weights,
            kinds,
        }
    }

    /// The ancestor of `member` at `depth` in dimension `k` ([`NONE`] below the member's own
    /// depth).
    pub(super) fn ancestor(&self, k: usize, member: u32, depth: u8) -> u32 {
        self.anc[k][member as usize * self.depths[k] + usize::from(depth)]
    }
}

/// The kinds of records measure `m` counts in: itself alone when no declared relation names
/// it; otherwise every set of the measures tied to it (transitively) that holds `m` and keeps
/// every relation with each of its measures at 1 and the others at 0, smallest first.
fn kinds_of(t: &Table, m: usize) -> Vec<Vec<usize>> {
    if !matches!(t.measures[m].class, Class::Count | Class::Magnitude) {
        return Vec::new();
    }
    let group = super::linked_measures(t, m);
    let others: Vec<usize> = group[1..].to_vec();
    if others.len() > 12 {
        return vec![vec![m]];
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    for bits in 0u32..(1 << others.len()) {
        let mut set = vec![m];
        set.extend(
            others
                .iter()
                .enumerate()
                .filter(|(j, _)| bits & (1 << j) != 0)
                .map(|(_, &x)| x),
        );
        let has = |x: usize| if set.contains(&x) { 1.0 } else { 0.0 };
        let keeps = t.relations.iter().all(|r| {
            let left = has(r.left);
            let right: f64 = r.right.iter().map(|&x| has(x)).sum();
            match r.op {
                RelationOp::Equal => left == right,
                RelationOp::AtLeast => left >= right,
            }
        });
        if keeps {
            set.sort_unstable();
            out.push(set);
        }
    }
    out.sort_by_key(|s| s.len());
    out.truncate(MAX_KINDS);
    out
}

/// Index of a time rule in [`Shape::weights`]: flows (and measures without a rule) 0, stocks
/// 1, averages 2.
fn rule_index(rule: Option<TimeRule>) -> usize {
    match rule {
        Some(TimeRule::Stock) => 1,
        Some(TimeRule::Average) => 2,
        Some(TimeRule::Flow) | None => 0,
    }
}

/// Weight of a record at period member `leaf` in its ancestor at depth `depth` of period
/// dimension `dim`, for a measure with time rule `rule`: 1 for flows, 1 or 0 for stocks (a
/// period takes the stock of its last sub-period), the share of the period for averages; 0
/// where the member has no ancestor at that depth.
fn weight_of(dim: &Dimension, leaf: u32, depth: u8, rule: Option<TimeRule>) -> f64 {
    let mut w = 1.0;
    let mut cur = leaf;
    while dim.depth[cur as usize] > depth {
        let parent = dim.parent[cur as usize];
        if parent == NONE {
            return 0.0;
        }
        match rule {
            Some(TimeRule::Stock) if !ends_parent(&dim.codes[cur as usize]) => return 0.0,
            Some(TimeRule::Average) => {
                w /= if dim.codes[parent as usize].contains('T') {
                    3.0
                } else {
                    4.0
                };
            }
            _ => {}
        }
        cur = parent;
    }
    w
}

/// One record move being built: the search state of one step.
struct Step<'s, 'a> {
    space: &'s Space<'a>,
    shape: &'s Shape,
    t: usize,
    kind: &'s [usize],
    over: &'s HashMap<u32, f64>,
    breadth: &'s Breadth,
}

impl Step<'_, '_> {
    fn at(&self, c: u32) -> f64 {
        self.space.system.value[c as usize] + self.over.get(&c).copied().unwrap_or(0.0)
    }

    /// Weight of a record at period leaf `leaf` in the row at period depth `depth`, for a
    /// measure with time rule `rule` (see [`weight_of`]), read from the shape's table.
    fn time_weight(&self, leaf: u32, depth: u8, rule: Option<TimeRule>) -> f64 {
        let Some(k) = self.shape.period else {
            return 1.0;
        };
        let i = leaf as usize * self.shape.depths[k] + usize::from(depth);
        self.shape.weights[i][rule_index(rule)]
    }

    /// The row of `leaf`'s ancestors at pattern `p`, with its key; `None` when the pattern is
    /// finer than the leaf in some dimension: a record known only at a coarser level (an
    /// application whose prescriber has no département, say) counts in no row of that pattern.
    fn row_at(&self, leaf: &[u32], p: &[u8]) -> Option<(u128, Option<u32>)> {
        let index = self.space.rows[self.t]
            .as_ref()
            .expect("a shape exists only with its row index");
        let key = self.key_at(leaf, p)?;
        Some((key, index.index.get(&key).copied()))
    }

    /// The key of the row of `leaf`'s ancestors at pattern `p` (see [`Step::row_at`]),
    /// without looking the row up.
    fn key_at(&self, leaf: &[u32], p: &[u8]) -> Option<u128> {
        let index = self.space.rows[self.t]
            .as_ref()
            .expect("a shape exists only with its row index");
        let mut key: u128 = 0;
        for (k, (&l, &depth)) in leaf.iter().zip(p).enumerate() {
            let a = self.shape.ancestor(k, l, depth);
            if a == NONE {
                return None;
            }
            key = key * index.radix[k] + u128::from(a);
        }
        Some(key)
    }

    /// Whether the rows of `leaf` at the given patterns exist and hold the kind's measures,
    /// with at least a record (`mass`) where the record counts. Returns the smallest value
    /// met (for ranking), or `None`.
    fn holds(&self, leaf: &[u32], patterns: &[usize], mass: bool) -> Option<f64> {
        let table = &self.space.tables[self.t];
        let mut least = f64::INFINITY;
        for &pi in patterns {
            let p = &self.shape.patterns[pi];
            let Some((_, row)) = self.row_at(leaf, p) else {
                continue;
            };
            for &m in self.kind {
                let w = match self.shape.period {
                    Some(k) => self.time_weight(leaf[k], p[k], table.measures[m].time),
                    None => 1.0,
                };
                if w == 0.0 {
                    continue;
                }
                let row = row?;
                let c = (self.space.system.base[self.t][m] + row as usize) as u32;
                if !self.space.system.present[c as usize] {
                    return None;
                }
                let v = self.at(c);
                if mass && v <= 1e-9 {
                    return None;
                }
                least = least.min(v / w);
            }
        }
        Some(least)
    }

    /// A leaf below `own` (one member per dimension) whose rows all exist, with records where
    /// `mass`, and whose records have a place in the tables tied to this one
    /// ([`Step::placeable`]): searched dimension by dimension, the fullest leaf first.
    fn leaf_below(&self, own: &[u32], mass: bool) -> Option<Vec<u32>> {
        self.leaves_below(own, mass, 1).pop()
    }

    /// Up to `most` such leaves, fullest first.
    fn leaves_below(&self, own: &[u32], mass: bool, most: usize) -> Vec<Vec<u32>> {
        self.search_below(own, mass, most, true)
    }

    /// A leaf below `own` whose rows all exist in this table, whatever the tables tied to it
    /// hold (for the records a move places in a tied table).
    fn leaf_below_here(&self, own: &[u32], mass: bool) -> Option<Vec<u32>> {
        self.search_below(own, mass, 1, false).pop()
    }

    /// Up to `most` leaves below `own` whose rows all exist (with records where `mass`),
    /// fullest first; with `tied`, only leaves [`Step::placeable`] in the tied tables.
    fn search_below(&self, own: &[u32], mass: bool, most: usize, tied: bool) -> Vec<Vec<u32>> {
        let mut leaf = own.to_vec();
        let mut budget = self.breadth.leaf_budget;
        let mut found = Vec::new();
        let stages = self.stages(own);
        let mut search = Descent {
            own,
            stages: &stages,
            mass,
            tied,
            budget: &mut budget,
            most,
            found: &mut found,
        };
        self.descend(&mut search, &mut leaf, 0);
        found
    }

    /// The patterns a leaf below `own` settles when its member in dimension `k` is chosen and
    /// those after `k` are still `own`'s: finer than `own` in `k`, no finer than `own` after
    /// it. Checked as soon as they are settled, a leaf without records in a row of the value
    /// (a département without the value's structure kind, say) is left at once, before the
    /// budget goes to its months.
    fn stages(&self, own: &[u32]) -> Vec<Vec<usize>> {
        let dims = &self.space.tables[self.t].dims;
        let depth: Vec<u8> = own
            .iter()
            .zip(dims)
            .map(|(&m, d)| d.depth[m as usize])
            .collect();
        (0..own.len())
            .map(|k| {
                (0..self.shape.patterns.len())
                    .filter(|&i| {
                        let p = &self.shape.patterns[i];
                        p[k] > depth[k] && (k + 1..own.len()).all(|j| p[j] <= depth[j])
                    })
                    .collect()
            })
            .collect()
    }

    /// Chooses the leaf's member in dimension `k` and the dimensions after it, the fullest
    /// first, until enough leaves are found or the budget is spent.
    fn descend(&self, search: &mut Descent, leaf: &mut Vec<u32>, k: usize) {
        let own = search.own;
        if k == own.len() {
            if !search.tied || self.placeable(leaf, search.mass) {
                search.found.push(leaf.clone());
            }
            return;
        }
        let mut options: Vec<(f64, u32)> = Vec::new();
        for &l in &self.shape.leaves[k][own[k] as usize] {
            if *search.budget == 0 {
                break;
            }
            *search.budget -= 1;
            leaf[k] = l;
            if let Some(v) = self.holds(leaf, &search.stages[k], search.mass) {
                options.push((v, l));
            }
        }
        // No leaf below the member holds: the value's records may be known at that member
        // only (an application sent by an employer has no prescriber group). Such a record
        // counts in no row finer than the member there (see `Step::row_at`), and the checks
        // of the point judge whether the rows agree.
        if self.breadth.coarse
            && options.is_empty()
            && !self.shape.leaves[k][own[k] as usize].contains(&own[k])
            && *search.budget > 0
        {
            *search.budget -= 1;
            leaf[k] = own[k];
            if let Some(v) = self.holds(leaf, &search.stages[k], search.mass) {
                options.push((v, own[k]));
            }
        }
        options.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, l) in options {
            leaf[k] = l;
            self.descend(search, leaf, k + 1);
            if search.found.len() >= search.most {
                break;
            }
        }
        leaf[k] = own[k];
    }

    /// Up to [`Breadth::partners`] leaves for dimension `k` outside the value's member `own[k]`, each
    /// making with `base` a leaf whose rows exist (with records where `mass`): below the
    /// member's siblings, hidden siblings first, then below its parent's siblings.
    fn partners(
        &self,
        own: &[u32],
        base: &[u32],
        k: usize,
        mask: &Mask,
        m: usize,
        mass: bool,
    ) -> Vec<u32> {
        let space = self.space;
        let dim = &space.tables[self.t].dims[k];
        let all: Vec<usize> = (0..self.shape.patterns.len()).collect();
        let mut out = Vec::new();
        let mut a = own[k];
        while out.is_empty() {
            let p = dim.parent[a as usize];
            if p == NONE {
                break;
            }
            let siblings = self.ranked(own, k, a, p, mask, m);
            for s in siblings {
                let mut leaf = base.to_vec();
                for &l in self.shape.leaves[k][s as usize]
                    .iter()
                    .take(self.breadth.leaves_per_sibling)
                {
                    leaf[k] = l;
                    if self.holds(&leaf, &all, mass).is_some() && self.placeable(&leaf, mass) {
                        out.push(l);
                        break;
                    }
                }
                if out.len() >= self.breadth.partners {
                    break;
                }
            }
            a = p;
        }
        out
    }

    /// The leaves moves start from, each with its partners per dimension and the partner
    /// dimension every move from it must turn (if any). Downwards: the fullest leaf below the
    /// value, its records leaving for leaves below siblings. Upwards: a leaf below the value
    /// where records may arrive, with partners that have some; and, per dimension, the
    /// fullest leaf below a sibling of the value's member with the leaf below the value that
    /// shares its other members, the records moving from one to the other.
    fn anchors(
        &self,
        own: &[u32],
        turning: &[usize],
        goal: Goal,
        mask: &Mask,
        m: usize,
    ) -> Vec<Anchor> {
        let mut out = Vec::new();
        // Records leave the fullest leaf (the next one once it is empty); they may arrive at
        // any of several leaves, each with its own partners.
        let bases = if goal.down { 1 } else { self.breadth.bases };
        for base in self.leaves_below(own, goal.down, bases) {
            let partners: Vec<(usize, Vec<u32>)> = turning
                .iter()
                .map(|&k| (k, self.partners(own, &base, k, mask, m, !goal.down)))
                .filter(|(_, p)| !p.is_empty())
                .collect();
            out.push((base, partners, None));
        }
        if goal.down {
            return out;
        }
        let all: Vec<usize> = (0..self.shape.patterns.len()).collect();
        for &k in turning {
            for s in self.siblings(own, k, mask, m) {
                let mut from = own.to_vec();
                from[k] = s;
                let Some(source) = self.leaf_below(&from, true) else {
                    continue;
                };
                let mut dest = source.clone();
                let found = self.shape.leaves[k][own[k] as usize]
                    .iter()
                    .take(self.breadth.leaves_per_sibling)
                    .any(|&l| {
                        dest[k] = l;
                        self.holds(&dest, &all, false).is_some() && self.placeable(&dest, false)
                    });
                if !found {
                    continue;
                }
                let mut partners = vec![(k, vec![source[k]])];
                for &k2 in turning.iter().filter(|&&k2| k2 != k) {
                    let p = self.partners(own, &dest, k2, mask, m, true);
                    if !p.is_empty() {
                        partners.push((k2, p));
                    }
                }
                out.push((dest, partners, Some(0)));
            }
        }
        out
    }

    /// Moves of records between a leaf below the value and the fullest leaf (with records
    /// where it gives them) below siblings of the value's members in one or two of its
    /// turning dimensions, every other member free: a record changing several of its members
    /// at once, for a value whose records cannot go to (or come from) a leaf next to its own.
    /// Every move is `[(leaf below the value, +1), (leaf outside, −1)]`; the caller orients it.
    fn far_moves(
        &self,
        own: &[u32],
        turning: &[usize],
        goal: Goal,
        mask: &Mask,
        m: usize,
    ) -> Vec<Vec<(Vec<u32>, f64)>> {
        let bases = self.leaves_below(
            own,
            goal.down,
            if goal.down { 1 } else { self.breadth.bases },
        );
        if bases.is_empty() {
            return Vec::new();
        }
        let siblings: Vec<Vec<u32>> = turning
            .iter()
            .map(|&k| self.siblings(own, k, mask, m))
            .collect();
        let mut outside: Vec<Vec<u32>> = Vec::new();
        for (i, &k1) in turning.iter().enumerate() {
            for &a in &siblings[i] {
                let mut o = own.to_vec();
                o[k1] = a;
                outside.push(o.clone());
                for (j, &k2) in turning.iter().enumerate().skip(i + 1) {
                    for &b in &siblings[j] {
                        let mut o2 = o.clone();
                        o2[k2] = b;
                        outside.push(o2);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for o in outside {
            let Some(outer) = self.leaf_below(&o, !goal.down) else {
                continue;
            };
            for base in &bases {
                out.push(vec![(base.clone(), 1.0), (outer.clone(), -1.0)]);
            }
        }
        out
    }

    /// The siblings of the value's member in dimension `k`, then those of its ancestors: at
    /// most [`Breadth::sources`] per level, hidden first, then the largest.
    fn siblings(&self, own: &[u32], k: usize, mask: &Mask, m: usize) -> Vec<u32> {
        let space = self.space;
        let dim = &space.tables[self.t].dims[k];
        let mut out = Vec::new();
        let mut a = own[k];
        loop {
            let p = dim.parent[a as usize];
            if p == NONE {
                return out;
            }
            let siblings = self.ranked(own, k, a, p, mask, m);
            out.extend(siblings.into_iter().take(self.breadth.sources));
            a = p;
        }
    }

    /// The children of `p` other than `a` in dimension `k`, ranked by the row of the value
    /// with that member: hidden first, then the largest.
    fn ranked(&self, own: &[u32], k: usize, a: u32, p: u32, mask: &Mask, m: usize) -> Vec<u32> {
        let space = self.space;
        let index = space.rows[self.t].as_ref().expect("row index");
        let mut siblings: Vec<((bool, f64), u32)> = index.children[k][p as usize]
            .iter()
            .copied()
            .filter(|&s| s != a)
            .map(|s| {
                let mut members = own.to_vec();
                members[k] = s;
                let rank = index
                    .row(&members)
                    .map(|r| (space.system.base[self.t][m] + r as usize) as u32)
                    .filter(|&c| space.system.present[c as usize])
                    .map_or((false, 0.0), |c| (mask.is_hidden(c), self.at(c)));
                (rank, s)
            })
            .collect();
        siblings.sort_by(|x, y| {
            y.0.0
                .cmp(&x.0.0)
                .then(y.0.1.total_cmp(&x.0.1))
                .then(x.1.cmp(&y.1))
        });
        siblings.into_iter().map(|x| x.1).collect()
    }

    /// The image of signed leaves (each a record of the kind, coefficient ±1) in this table
    /// and, through [`Step::mirror`], in every table that publishes some of the same figures:
    /// every cell that changes and by how much, sorted by cell, or `None` when a changed row
    /// does not exist or the measure does not apply there.
    ///
    /// A tied table may count the records in several kinds (an answered application also
    /// accepted, or refused): one image per choice of kind there, up to [`KIND_CHOICES`],
    /// the same image given once.
    fn images(&self, corners: &Corners) -> Vec<Vec<(u32, f64)>> {
        let Some(here) = self.image_here(corners) else {
            return Vec::new();
        };
        if self.space.links[self.t].is_empty() {
            return vec![here];
        }
        let mut out: Vec<Vec<(u32, f64)>> = Vec::new();
        for choice in 0..KIND_CHOICES {
            let mut image = here.clone();
            let mut varied = false;
            if self
                .mirror(corners, &mut image, &mut vec![self.t], choice, &mut varied)
                .is_some()
            {
                image.sort_unstable_by_key(|x| x.0);
                if !out.contains(&image) {
                    out.push(image);
                }
            }
            if !varied {
                break;
            }
        }
        out
    }

    /// The image of signed leaves in this step's table alone. Pattern by pattern, the corners
    /// that share a row there are summed first (a rectangle's corners cancel in every row
    /// above the siblings it turns around), so that only the rows that change are looked up.
    fn image_here(&self, corners: &[(Vec<u32>, f64)]) -> Option<Vec<(u32, f64)>> {
        let table = &self.space.tables[self.t];
        let system = self.space.system;
        let index = self.space.rows[self.t]
            .as_ref()
            .expect("a shape exists only with its row index");
        let mut out = Vec::new();
        let mut keys: Vec<(u128, usize)> = Vec::with_capacity(corners.len());
        for p in &self.shape.patterns {
            keys.clear();
            keys.extend(
                corners
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (leaf, _))| Some((self.key_at(leaf, p)?, i))),
            );
            keys.sort_unstable();
            for run in keys.chunk_by(|a, b| a.0 == b.0) {
                let mut row: Option<Option<u32>> = None;
                for &m in self.kind {
                    let coef: f64 = run
                        .iter()
                        .map(|&(_, i)| {
                            let (leaf, sign) = &corners[i];
                            match self.shape.period {
                                Some(k) => {
                                    sign * self.time_weight(leaf[k], p[k], table.measures[m].time)
                                }
                                None => *sign,
                            }
                        })
                        .sum();
                    if coef.abs() <= 1e-12 {
                        continue;
                    }
                    let r = *row.get_or_insert_with(|| index.index.get(&run[0].0).copied());
                    let c = (system.base[self.t][m] + r? as usize) as u32;
                    if !system.present[c as usize] {
                        return None;
                    }
                    out.push((c, coef));
                }
            }
        }
        out.sort_unstable_by_key(|x| x.0);
        Some(out)
    }
}

impl Space<'_> {
    /// A point reaching the goal by record moves (see the module documentation): up to
    /// [`Breadth::max_steps`] moves, each the cheapest found (hiding cost of the values not hidden yet
    /// it moves, per unit of progress). `None` when no move is possible or the goal is not
    /// reached; the point returned keeps every relation it touches.
    pub fn records(
        &self,
        goal: Goal,
        mask: &Mask,
        avoid: Avoid,
        breadth: &Breadth,
    ) -> Option<Vec<(u32, f64)>> {
        let (t, m, row) = self.system.locate(goal.cell as usize);
        let shape = self.shapes[t].as_ref()?;
        let table = &self.tables[t];
        let class = table.measures[m].class;
        if !matches!(class, Class::Count | Class::Magnitude) || mask.blocked[goal.cell as usize] {
            return None;
        }
        let count = class == Class::Count;
        let sign = if goal.down { -1.0 } else { 1.0 };
        let own: Vec<u32> = table.dims.iter().map(|d| d.rows[row]).collect();
        // Dimensions a move can turn around: those where the value is below a total.
        let turning: Vec<usize> = (0..own.len())
            .filter(|&k| table.dims[k].parent[own[k] as usize] != NONE)
            .collect();
        let tol = 1e-9 * (1.0 + goal.target.abs());
        let mut over: HashMap<u32, f64> = HashMap::default();
        for _ in 0..breadth.max_steps {
            let now = self.value(goal.cell) + over.get(&goal.cell).copied().unwrap_or(0.0);
            let mut need = (goal.target - now) * sign;
            if need <= tol {
                break;
            }
            if count {
                need = (need - tol).ceil();
            }
            let steps: Vec<Step> = shape.kinds[m]
                .iter()
                .map(|kind| Step {
                    space: self,
                    shape,
                    t,
                    kind,
                    over: &over,
                    breadth,
                })
                .collect();
            let mut moves: Vec<(usize, Corners)> = Vec::new();
            for (i, step) in steps.iter().enumerate() {
                let far = step.far_moves(&own, &turning, goal, mask, m);
                moves.extend(far.into_iter().map(|corners| (i, corners)));
                if breadth.alone {
                    for base in step.leaves_below(&own, goal.down, breadth.bases) {
                        moves.push((i, vec![(base, 1.0)]));
                    }
                }
                for (base, partners, required) in step.anchors(&own, &turning, goal, mask, m) {
                    let mut tried = 0usize;
                    for dims in subsets(partners.len(), MAX_CORNER_DIMS) {
                        if required.is_some_and(|r| !dims.contains(&r)) {
                            continue;
                        }
                        for choice in choices(&dims, &partners) {
                            if tried >= breadth.max_candidates {
                                break;
                            }
                            tried += 1;
                            moves.push((i, corners_of(&base, &choice)));
                        }
                    }
                }
            }
            // Scored side by side; the cheapest wins, the first listed among equals, so the
            // point does not depend on the number of threads.
            let scored: Vec<Option<Scored>> = moves
                .par_iter()
                .map(|(i, corners)| {
                    let mut best: Option<Scored> = None;
                    // Records taken from (brought to) one leaf alone go one at a time: the
                    // leaf is one combination the rows allow, not a record known to exist,
                    // and emptying it at once can strand the last units of the value where
                    // no leaf holds them in every row any more.
                    let need = if corners.len() == 1 && count {
                        need.min(1.0)
                    } else {
                        need
                    };
                    for image in steps[*i].images(corners) {
                        let Some(s) = self.score(goal, &image, need, count, mask, avoid, &over)
                        else {
                            continue;
                        };
                        if best.as_ref().is_none_or(|b| s.0 < b.0) {
                            best = Some(s);
                        }
                    }
                    best
                })
                .collect();
            let mut best: Option<Scored> = None;
            for s in scored.into_iter().flatten() {
                if best.as_ref().is_none_or(|b| s.0 < b.0) {
                    best = Some(s);
                }
            }
            let (_, changes) = best?;
            for (c, d) in changes {
                *over.entry(c).or_insert(0.0) += d;
            }
        }
        let now = self.value(goal.cell) + over.get(&goal.cell).copied().unwrap_or(0.0);
        if !goal.meets(now) {
            return None;
        }
        let mut changes: Vec<(u32, f64)> = over
            .into_iter()
            .map(|(c, d)| {
                let (t, m, _) = self.system.locate(c as usize);
                let d = if self.tables[t].measures[m].class == Class::Count {
                    d.round()
                } else {
                    d
                };
                (c, d)
            })
            .filter(|(_, d)| d.abs() > 1e-12)
            .collect();
        changes.sort_unstable_by_key(|x| x.0);
        self.sound(&changes).then_some(changes)
    }

    /// The price of a move per unit of progress, the room it has and its cells scaled so that
    /// the goal moves by 1; `None` when it may not be taken.
    #[allow(clippy::too_many_arguments)]
    fn score(
        &self,
        goal: Goal,
        image: &[(u32, f64)],
        need: f64,
        count: bool,
        mask: &Mask,
        avoid: Avoid,
        over: &HashMap<u32, f64>,
    ) -> Option<Scored> {
        let own = image.iter().find(|x| x.0 == goal.cell)?.1;
        if own.abs() <= 1e-12 {
            return None;
        }
        let sign = if goal.down { -1.0 } else { 1.0 };
        let at = |c: u32| self.value(c) + over.get(&c).copied().unwrap_or(0.0);
        let mut room = need;
        let mut price = 0.0;
        let mut cells: Vec<(u32, f64)> = Vec::with_capacity(image.len());
        for &(c, coef) in image {
            let cu = c as usize;
            if mask.blocked[cu] || (c != goal.cell && avoid.blocks(c)) {
                return None;
            }
            let coef = coef / own;
            let step = sign * coef;
            if step < 0.0 {
                room = room.min(at(c).max(0.0) / -step);
            }
            if !mask.is_hidden(c) && !over.contains_key(&c) {
                price += mask.cost[cu];
            }
            cells.push((c, coef));
        }
        if count {
            room = (room + 1e-9).floor();
        }
        if room <= 1e-12 {
            return None;
        }
        // The move as built (its image keeps every sum), settled only where it breaks a bound.
        let plain: Vec<(u32, f64)> = cells
            .iter()
            .map(|&(c, coef)| (c, sign * room * coef))
            .collect();
        // `plain` is sorted by value (as the image is).
        let with = |changes: &[(u32, f64)], c: u32| {
            over.get(&c).copied().unwrap_or(0.0)
                + changes
                    .binary_search_by_key(&c, |x| x.0)
                    .map_or(0.0, |j| changes[j].1)
        };
        let changes = if self.inequalities_hold(&plain, |c| with(&plain, c)) {
            plain
        } else {
            let mut change: HashMap<u32, f64> = plain.into_iter().collect();
            self.settle(&mut change, over, mask, avoid, goal.cell)?;
            let mut changes: Vec<(u32, f64)> = change.into_iter().filter(|x| x.1 != 0.0).collect();
            changes.sort_unstable_by_key(|x| x.0);
            if !self.balanced(&changes) || !self.inequalities_hold(&changes, |c| with(&changes, c))
            {
                return None;
            }
            changes
        };
        let progress = sign
            * changes
                .iter()
                .find(|x| x.0 == goal.cell)
                .map_or(0.0, |x| x.1);
        if progress <= 1e-12 {
            return None;
        }
        let score = price * need / progress.min(need) + 1e-6 * changes.len() as f64;
        Some((score, changes))
    }

    /// Settles the bounds of distinct counts a move breaks. A record of a person moved out of
    /// one part of a distinct total lowers the total, though the person may be counted in
    /// another part too: where a part is now above its total, the total is lowered less (by
    /// what the bound needs), and so is every total it adds up to, and the left side of a
    /// declared relation it would pass. `None` when a value to settle may not move.
    fn settle(
        &self,
        change: &mut HashMap<u32, f64>,
        over: &HashMap<u32, f64>,
        mask: &Mask,
        avoid: Avoid,
        goal: u32,
    ) -> Option<()> {
        let mut queue: Vec<u32> = change.keys().copied().collect();
        queue.sort_unstable();
        let mut rounds = 0usize;
        while let Some(c) = queue.pop() {
            rounds += 1;
            if rounds > MAX_SETTLE {
                return None;
            }
            for &r in self.relations_of(c) {
                let rel = &self.system.relations[r as usize];
                let at = |x: u32, change: &HashMap<u32, f64>| {
                    self.value(x)
                        + over.get(&x).copied().unwrap_or(0.0)
                        + change.get(&x).copied().unwrap_or(0.0)
                };
                let slack = rel.tol + 1e-9 * (1.0 + self.value(rel.total).abs());
                let lift = match rel.kind {
                    RelationKind::Distinct { above_parts, .. } => {
                        if !above_parts {
                            continue;
                        }
                        let total = at(rel.total, change);
                        let most = rel
                            .parts
                            .iter()
                            .map(|&p| at(p, change))
                            .fold(f64::NEG_INFINITY, f64::max);
                        most - total
                    }
                    RelationKind::AtLeast => {
                        let sum: f64 = rel.parts.iter().map(|&p| at(p, change)).sum();
                        sum - at(rel.total, change)
                    }
                    RelationKind::Sum(k) => {
                        if rel.total == c {
                            continue;
                        }
                        let get = |x: u32| change.get(&x).copied().unwrap_or(0.0);
                        let parts: f64 = rel.parts.iter().map(|&p| get(p)).sum();
                        let gap = (parts - k * get(rel.total)) / k;
                        if gap.abs() <= 1e-9 * (1.0 + parts.abs()) {
                            continue;
                        }
                        gap + slack
                    }
                };
                if lift <= slack {
                    continue;
                }
                let t = rel.total as usize;
                if mask.blocked[t] || (rel.total != goal && avoid.blocks(rel.total)) {
                    return None;
                }
                let lift = match rel.kind {
                    RelationKind::Sum(_) => lift - slack,
                    _ => lift,
                };
                *change.entry(rel.total).or_insert(0.0) += lift;
                queue.push(rel.total);
            }
        }
        Some(())
    }
}

/// The corners of a move from `base`: every combination of its own members and the chosen
/// partners, `+1` with an even number of partners, `−1` with an odd one.
fn corners_of(base: &[u32], choice: &[(usize, u32)]) -> Vec<(Vec<u32>, f64)> {
    (0u32..(1 << choice.len()))
        .map(|bits| {
            let mut leaf = base.to_vec();
            for (j, &(k, l)) in choice.iter().enumerate() {
                if bits & (1 << j) != 0 {
                    leaf[k] = l;
                }
            }
            let s = if bits.count_ones() % 2 == 0 {
                1.0
            } else {
                -1.0
            };
            (leaf, s)
        })
        .collect()
}

/// The state of one search for leaves below a value (see [`Step::leaves_below`]).
struct Descent<'d> {
    own: &'d [u32],
    /// Per dimension, the patterns settled when its member is chosen.
    stages: &'d [Vec<usize>],
    mass: bool,
    /// Whether a leaf must also have a place in the tied tables ([`Step::placeable`]).
    tied: bool,
    budget: &'d mut usize,
    most: usize,
    found: &'d mut Vec<Vec<u32>>,
}

/// The signed leaves of a move: each a record of the kind, `+1` arriving, `−1` leaving.
type Corners = Vec<(Vec<u32>, f64)>;

/// A move's price per unit of progress and the changes it makes.
type Scored = (f64, Vec<(u32, f64)>);

/// A leaf moves start from, its partner leaves per dimension, and the index of the partner
/// dimension every move from it turns (if any).
type Anchor = (Vec<u32>, Vec<(usize, Vec<u32>)>, Option<usize>);

/// Every set of 1 to `most` indices below `n`, smallest sets first.
fn subsets(n: usize, most: usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for bits in 1u32..(1u32 << n.min(16)) {
        if (bits.count_ones() as usize) <= most {
            out.push((0..n).filter(|&j| bits & (1 << j) != 0).collect());
        }
    }
    out.sort_by_key(|s| s.len());
    out
}

/// The partner choices of a set of dimensions: the first partner everywhere, then each
/// dimension in turn with its other partners. Each choice is `(dimension, leaf)` per entry.
fn choices(dims: &[usize], partners: &[(usize, Vec<u32>)]) -> Vec<Vec<(usize, u32)>> {
    let first: Vec<(usize, u32)> = dims
        .iter()
        .map(|&j| (partners[j].0, partners[j].1[0]))
        .collect();
    let mut out = vec![first.clone()];
    for (i, &j) in dims.iter().enumerate() {
        for &l in partners[j].1.iter().skip(1) {
            let mut c = first.clone();
            c[i] = (partners[j].0, l);
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::MeasureKind;
    use crate::disclosure::release::grid::{self, Measure};
    use rustc_hash::FxHashSet;

    fn dim(id: &str, kind: DimensionType, codes: &[&str], rows: &[u32]) -> Dimension {
        Dimension {
            id: id.to_owned(),
            kind,
            codes: codes.iter().map(|c| (*c).to_owned()).collect(),
            finest: 1,
            depth: vec![0, 1],
            parent: vec![NONE, 0],
            rows: rows.to_vec(),
            sensitive: false,
        }
    }

    /// A country of one département, whose applications all come from one origin: rows
    /// (FR, _T), (DEP-01, _T), (FR, x), (DEP-01, x), every one 3. No member has a sibling,
    /// so no record can move from one leaf to another.
    fn lonely() -> Vec<Table> {
        vec![Table {
            dataset: "a".to_owned(),
            rows: 4,
            dims: vec![
                dim(
                    "territoire",
                    DimensionType::Territory,
                    &["FR", "DEP-01"],
                    &[0, 1, 0, 1],
                ),
                dim(
                    "origine",
                    DimensionType::Categorical,
                    &["_T", "x"],
                    &[0, 0, 1, 1],
                ),
            ],
            measures: vec![Measure {
                id: "recues".to_owned(),
                kind: MeasureKind::Events,
                class: Class::Count,
                time: None,
                half_unit: 0.0,
                parts: None,
            }],
            relations: Vec::new(),
        }]
    }

    #[test]
    fn records_leave_or_reach_a_leaf_alone_only_in_the_wide_search() {
        let tables = lonely();
        let system =
            grid::build_system(&tables, &|_, _, _| Some(3.0), &|_, _, _| true).expect("system");
        let n = system.value.len();
        let (rel_start, rel_flat) = grid::incidence(n, &system.relations);
        let space = Space::new(&tables, &system, &rel_start, &rel_flat);
        let (hidden, blocked, cost) = (vec![false; n], vec![false; n], vec![1.0; n]);
        let fresh = FxHashSet::default();
        let mask = Mask {
            hidden: &hidden,
            fresh: &fresh,
            blocked: &blocked,
            cost: &cost,
        };
        // (DEP-01, x) can be 0: its 3 records taken away, every total above with them.
        let zero = Goal {
            cell: 3,
            target: 0.0,
            down: true,
        };
        assert!(
            space
                .records(zero, &mask, Avoid::Nothing, &Breadth::NORMAL)
                .is_none()
        );
        let point = space
            .records(zero, &mask, Avoid::Nothing, &Breadth::WIDE)
            .expect("records taken away from the leaf");
        assert_eq!(point, vec![(0, -3.0), (1, -3.0), (2, -3.0), (3, -3.0)]);
        assert!(space.sound(&point));
        // It can be 11: 8 records brought to the leaf.
        let eleven = Goal {
            cell: 3,
            target: 11.0,
            down: false,
        };
        assert!(
            space
                .records(eleven, &mask, Avoid::Nothing, &Breadth::NORMAL)
                .is_none()
        );
        let point = space
            .records(eleven, &mask, Avoid::Nothing, &Breadth::WIDE)
            .expect("records brought to the leaf");
        assert_eq!(point, vec![(0, 8.0), (1, 8.0), (2, 8.0), (3, 8.0)]);
    }
}
