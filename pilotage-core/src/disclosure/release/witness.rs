//! Witness points: sparse changes of the true values that keep every relation of the release.
//!
//! A claim about a confidential value (it can be 0, it can be 11 or more, …) holds when some
//! point of the attacker's system satisfies it. Starting from the true values (a point of the
//! system by construction), a *direction* that leaves the balance of every equality unchanged
//! gives a line of points; a step along it that keeps every value non-negative and every
//! inequality (distinct-count bounds, declared relations `a ≥ b + c`) true is again a point.
//!
//! Directions are tensor products of one vector per dimension of a table: in each dimension
//! the value's member against a sibling member (+1 / −1, their common parent unchanged), or
//! the member alone where it has no parent; each carried down the finer levels the table
//! breaks down (one child for sums, every child for averages over time, the last child for
//! stocks at period end). A direction moves one measure, or several at once where the
//! definition declares relations between measures (the measures above it by one, or the whole
//! row in proportion); where it reaches a figure another dataset publishes too, the same
//! direction is carried into that dataset. Every candidate is checked against the relations it
//! touches before use: what this module returns is a point because the check says so, whatever
//! the construction.

mod closure;
mod records;
mod relocation;

pub(crate) use records::{Breadth, Reach};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::dataset::{DimensionType, RelationOp, TimeRule};

use super::grid::{Class, NONE, RelationKind, System, Table};

/// Most tensor products tried per value.
const MAX_PRODUCTS: usize = 24;
/// Most siblings tried per dimension.
const MAX_SIBLINGS: usize = 4;
/// Most moves summed into one point.
const MAX_MOVES: usize = 8;
/// Most cells of one direction.
const MAX_CELLS: usize = 4096;
/// Node limit of one neighbourhood program's branch and bound.
const PROGRAM_NODES: u64 = 200;

/// Row lookup of one table: members of every dimension → row.
pub(crate) struct RowIndex {
    radix: Vec<u128>,
    index: HashMap<u128, u32>,
    /// Per dimension, the child members of every member.
    children: Vec<Vec<Vec<u32>>>,
    /// Per dimension, member code → member.
    by_code: Vec<HashMap<String, u32>>,
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
        let mut index = HashMap::with_capacity_and_hasher(table.rows, Default::default());
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
        let by_code = table
            .dims
            .iter()
            .map(|d| {
                d.codes
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.clone(), i as u32))
                    .collect()
            })
            .collect();
        Some(RowIndex {
            radix,
            index,
            children,
            by_code,
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

/// A direction (cells and coefficients, sorted by cell, the claimed value at +1) and the
/// smallest step it may take: 1 for counts moved by whole units, the value itself for a row
/// moved in proportion, 0 for magnitudes.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub cells: Vec<(u32, f64)>,
    pub grain: f64,
}

/// What a point must reach for a value: at most `target` (downwards) or at least `target`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Goal {
    pub cell: u32,
    pub target: f64,
    pub down: bool,
}

impl Goal {
    /// Whether a value `at` of the goal's cell meets it (within a relative 10⁻⁹).
    pub fn meets(self, at: f64) -> bool {
        let tol = 1e-9 * (1.0 + self.target.abs());
        if self.down {
            at <= self.target + tol
        } else {
            at >= self.target - tol
        }
    }
}

/// Values a point must not move besides the claimed one: what a structure knows exactly
/// because it alone makes them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Avoid<'a> {
    /// Any value may move (the outsider's view).
    Nothing,
    /// No value one structure alone makes (`sole[c]` is that structure, or
    /// [`crate::cube::NO_STRUCTURE`]), except those of the structure given (the one that alone
    /// makes the claimed value and knows it anyway): the point holds against every structure
    /// at once.
    EverySole(&'a [u32], u32),
    /// No value that structure alone makes: the point holds against that structure.
    SoleOf(&'a [u32], u32),
}

impl Avoid<'_> {
    /// Whether the point must not move `c`.
    pub fn blocks(self, c: u32) -> bool {
        match self {
            Avoid::Nothing => false,
            Avoid::EverySole(sole, own) => {
                let s = sole[c as usize];
                s != crate::cube::NO_STRUCTURE && s != own
            }
            Avoid::SoleOf(sole, s) => sole[c as usize] == s,
        }
    }
}

/// The state the search reads: which values are hidden, which may never move, what hiding
/// costs.
pub(crate) struct Mask<'a> {
    pub hidden: &'a [bool],
    /// Values hidden since `hidden` was taken, by the points of the value being proved (the
    /// witness pass proves several values side by side from one `hidden`).
    pub fresh: &'a HashSet<u32>,
    /// Values that may never move: published unchanged by the previous release, public
    /// counts, derived values.
    pub blocked: &'a [bool],
    pub cost: &'a [f64],
}

impl Mask<'_> {
    /// Whether value `c` is hidden already.
    pub fn is_hidden(&self, c: u32) -> bool {
        self.hidden[c as usize] || (!self.fresh.is_empty() && self.fresh.contains(&c))
    }
}

/// One way a measure moves with others: `(measure, coefficient)` pairs.
type MeasureOption = Vec<(usize, f64)>;

/// A child member ranked as a corner: whether its rows fit, then [`Space::rank`].
type Ranked = (u32, (bool, (bool, f64)));

/// Where a member is carried down: dimension `k` of measure `m` in table `t`, `ctx` giving
/// the members of every dimension the direction reaches (one list per dimension).
#[derive(Clone, Copy)]
struct Along<'a> {
    t: usize,
    m: usize,
    k: usize,
    ctx: &'a [Vec<u32>],
}

/// The directions of a release.
pub(crate) struct Space<'a> {
    tables: &'a [Table],
    system: &'a System,
    rel_start: &'a [u32],
    rel_flat: &'a [u32],
    /// Per value, where its inequalities (relations other than sums) start in `ineq_flat`.
    ineq_start: Vec<u32>,
    /// The inequalities of every value, by relation index.
    ineq_flat: Vec<u32>,
    rows: Vec<Option<RowIndex>>,
    /// Per table and measure, the measures that move with it, one option per entry:
    /// `(measure, coefficient)`; a coefficient of NaN stands for "in proportion to the row".
    moving: Vec<Vec<Vec<MeasureOption>>>,
    /// Per table, what record moves need (`None` where rows cannot be indexed).
    shapes: Vec<Option<records::Shape>>,
    /// Per table, the tables that publish some of its figures (record moves follow them).
    links: Vec<Vec<records::Link>>,
}

impl<'a> Space<'a> {
    /// The dataset and measure ids of a value, for progress messages.
    pub fn describe(&self, cell: u32) -> String {
        let (t, m, _) = self.system.locate(cell as usize);
        let table = &self.tables[t];
        format!("{} {}", table.dataset, table.measures[m].id)
    }

    pub fn new(
        tables: &'a [Table],
        system: &'a System,
        rel_start: &'a [u32],
        rel_flat: &'a [u32],
    ) -> Space<'a> {
        let rows: Vec<Option<RowIndex>> = tables.iter().map(RowIndex::new).collect();
        let shapes = tables
            .iter()
            .zip(&rows)
            .map(|(t, r)| r.as_ref().map(|r| records::Shape::new(t, r)))
            .collect();
        let moving = tables
            .iter()
            .map(|t| {
                (0..t.measures.len())
                    .map(|m| moving_options(t, m))
                    .collect()
            })
            .collect();
        let links = records::links(tables, system, &rows);
        // The inequalities of every value, apart: a move keeps every sum by construction, and
        // what remains to check is a short list.
        let mut ineq_start = Vec::with_capacity(rel_start.len());
        let mut ineq_flat = Vec::new();
        ineq_start.push(0u32);
        for c in 0..rel_start.len().saturating_sub(1) {
            let range = rel_start[c] as usize..rel_start[c + 1] as usize;
            ineq_flat.extend(
                rel_flat[range].iter().copied().filter(|&r| {
                    !matches!(system.relations[r as usize].kind, RelationKind::Sum(_))
                }),
            );
            ineq_start.push(ineq_flat.len() as u32);
        }
        Space {
            tables,
            system,
            rel_start,
            rel_flat,
            ineq_start,
            ineq_flat,
            rows,
            moving,
            shapes,
            links,
        }
    }

    fn relations_of(&self, c: u32) -> &[u32] {
        &self.rel_flat[self.rel_start[c as usize] as usize..self.rel_start[c as usize + 1] as usize]
    }

    /// The relations of value `c` other than sums (distinct-count bounds, inequalities).
    fn inequalities_of(&self, c: u32) -> &[u32] {
        &self.ineq_flat
            [self.ineq_start[c as usize] as usize..self.ineq_start[c as usize + 1] as usize]
    }

    fn value(&self, c: u32) -> f64 {
        self.system.value[c as usize]
    }

    /// The cell of table `t`, measure `m` at `members`, if it exists, is present and may move.
    fn usable(&self, t: usize, m: usize, members: &[u32], mask: &Mask) -> Option<u32> {
        let row = self.rows[t].as_ref()?.row(members)?;
        let c = (self.system.base[t][m] + row as usize) as u32;
        (self.system.present[c as usize] && !mask.blocked[c as usize]).then_some(c)
    }

    /// Preference of a cell as a corner: hidden first, then the largest value.
    fn rank(&self, c: u32, mask: &Mask) -> (bool, f64) {
        (mask.is_hidden(c), self.value(c))
    }

    /// Whether the row with dimension `k` at `b` exists and may move for every combination of
    /// the other dimensions' members in `ctx` whose row with `k` at `a` exists (checked on at
    /// most 256 combinations).
    fn fits(&self, along: Along<'_>, a: u32, b: u32, mask: &Mask) -> bool {
        let Along { t, m, k, ctx } = along;
        let Some(index) = self.rows[t].as_ref() else {
            return false;
        };
        let combos: usize = ctx
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, v)| v.len().max(1))
            .product();
        if combos > 256 {
            return true;
        }
        let mut idx = vec![0usize; ctx.len()];
        let mut members: Vec<u32> = ctx
            .iter()
            .map(|v| v.first().copied().unwrap_or(0))
            .collect();
        loop {
            for (j, v) in ctx.iter().enumerate() {
                if j != k {
                    members[j] = v[idx[j]];
                }
            }
            members[k] = a;
            if index.row(&members).is_some() {
                members[k] = b;
                match index.row(&members) {
                    Some(row) => {
                        let c = self.system.base[t][m] + row as usize;
                        if !self.system.present[c] || mask.blocked[c] {
                            return false;
                        }
                    }
                    None => return false,
                }
            }
            let mut j = ctx.len();
            loop {
                if j == 0 {
                    return true;
                }
                j -= 1;
                if j == k {
                    continue;
                }
                idx[j] += 1;
                if idx[j] < ctx[j].len() {
                    break;
                }
                idx[j] = 0;
            }
        }
    }

    /// The member `a` of dimension `k` carried down the finer levels, with coefficient `sign`:
    /// one child for sums (the hidden child with the largest value among those whose rows
    /// exist wherever the direction reaches, `ctx` giving the members of the other
    /// dimensions), every child for averages over time, the last child for stocks.
    fn down(&self, along: Along<'_>, a: u32, sign: f64, mask: &Mask, out: &mut Vec<(u32, f64)>) {
        self.down_nth(along, a, sign, mask, out, 0);
    }

    /// [`Space::down`] taking, at the first level of a sum, the `nth` best child instead of
    /// the best (the next candidates reach the value's other children).
    fn down_nth(
        &self,
        along: Along<'_>,
        a: u32,
        sign: f64,
        mask: &Mask,
        out: &mut Vec<(u32, f64)>,
        nth: usize,
    ) {
        let Along { t, m, k, ctx } = along;
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
        let mut members: Vec<u32> = ctx
            .iter()
            .map(|v| v.first().copied().unwrap_or(0))
            .collect();
        let present: Vec<u32> = index.children[k][a as usize]
            .iter()
            .copied()
            .filter(|&b| {
                members[k] = b;
                index.row(&members).is_some()
            })
            .collect();
        if present.is_empty() {
            return;
        }
        match rule {
            Some(TimeRule::Average) => {
                for b in present {
                    self.down(along, b, sign, mask, out);
                }
            }
            Some(TimeRule::Stock) => {
                if let Some(&b) = present.last() {
                    self.down(along, b, sign, mask, out);
                }
            }
            _ => {
                let mut ranked: Vec<Ranked> = present
                    .iter()
                    .copied()
                    .filter_map(|b| {
                        members[k] = b;
                        let c = self.usable(t, m, &members, mask)?;
                        let fits = self.fits(along, a, b, mask);
                        Some((b, (fits, self.rank(c, mask))))
                    })
                    .collect();
                ranked.sort_by(|y, x| {
                    (x.1.0.cmp(&y.1.0))
                        .then(x.1.1.0.cmp(&y.1.1.0))
                        .then(x.1.1.1.total_cmp(&y.1.1.1))
                        .then(y.0.cmp(&x.0))
                });
                if let Some(&(b, _)) = ranked.get(nth) {
                    self.down(along, b, sign, mask, out);
                }
            }
        }
    }

    /// Per dimension of the value's table, the top of the vectors tried, cheapest first (each
    /// entry: member, coefficient, whether it is carried down the finer levels): the member
    /// against a sibling; the member with its parent (its ancestors) against a sibling of the
    /// parent (of the ancestor), so that the balance is taken where values are larger; the
    /// member with every ancestor up to the top.
    fn tops(&self, t: usize, m: usize, own: &[u32], mask: &Mask) -> Vec<Vec<Vec<(u32, f64, u8)>>> {
        let table = &self.tables[t];
        let mut per_dim = Vec::with_capacity(own.len());
        for (k, dim) in table.dims.iter().enumerate() {
            let a = own[k];
            let mut members = own.to_vec();
            let mut options: Vec<Vec<(u32, f64, u8)>> = Vec::new();
            let rule = if dim.kind == DimensionType::Period {
                table.measures[m].time
            } else {
                None
            };
            let mut path: Vec<(u32, f64, u8)> = vec![(a, 1.0, 1)];
            let mut cur = a;
            let mut coef = 1.0;
            let index = self.rows[t].as_ref().map(|i| &i.children[k]);
            for level in 0..4 {
                let p = dim.parent[cur as usize];
                if p == NONE {
                    break;
                }
                let budget = [MAX_SIBLINGS, 3, 2, 1][level];
                let mut siblings: Vec<(u32, (bool, f64))> = index
                    .map(|ch| ch[p as usize].as_slice())
                    .unwrap_or(&[])
                    .iter()
                    .copied()
                    .filter(|&s| s != cur)
                    .filter_map(|s| {
                        members[k] = s;
                        let c = self.usable(t, m, &members, mask);
                        members[k] = a;
                        c.map(|c| (s, self.rank(c, mask)))
                    })
                    .collect();
                siblings.sort_by(|x, y| {
                    (y.1.0.cmp(&x.1.0))
                        .then(y.1.1.total_cmp(&x.1.1))
                        .then(x.0.cmp(&y.0))
                });
                for &(s, _) in siblings.iter().take(budget) {
                    let mut v = path.clone();
                    v.push((s, -coef, 1));
                    options.push(v);
                }
                // Carry the change one level up.
                let step = match rule {
                    Some(TimeRule::Average) => {
                        if dim.codes[p as usize].contains('T') {
                            1.0 / 3.0
                        } else {
                            1.0 / 4.0
                        }
                    }
                    Some(TimeRule::Stock) => {
                        let last = index.and_then(|ch| ch[p as usize].iter().copied().max());
                        if last != Some(cur) {
                            break;
                        }
                        1.0
                    }
                    _ => 1.0,
                };
                coef *= step;
                path.push((p, coef, 0));
                cur = p;
            }
            // The member with every ancestor (no balance in this dimension).
            options.push(path);
            // The same with the value's own change carried down another child (2nd, 3rd).
            let has_children = index.is_some_and(|ch| ch[a as usize].len() > 1);
            if has_children {
                for nth in 2..=3u8 {
                    for o in options
                        .clone()
                        .iter()
                        .filter(|o| o.iter().all(|x| x.2 <= 1))
                    {
                        let mut v = o.clone();
                        v[0].2 = nth;
                        options.push(v);
                    }
                }
            }
            per_dim.push(options);
        }
        per_dim
    }

    /// The full vectors of one choice of tops: each carried down, every dimension's children
    /// chosen so that their rows exist across the other dimensions' members.
    fn expand(
        &self,
        t: usize,
        m: usize,
        tops: &[&Vec<(u32, f64, u8)>],
        mask: &Mask,
    ) -> Vec<Vec<(u32, f64)>> {
        let mut ctx: Vec<Vec<u32>> = tops
            .iter()
            .map(|v| v.iter().map(|x| x.0).collect())
            .collect();
        let mut out = Vec::with_capacity(tops.len());
        for (k, top) in tops.iter().enumerate() {
            let mut v = Vec::new();
            for &(member, coef, carry) in top.iter() {
                if carry > 0 {
                    let mut local = ctx.clone();
                    local[k] = vec![member];
                    let along = Along {
                        t,
                        m,
                        k,
                        ctx: &local,
                    };
                    self.down_nth(along, member, coef, mask, &mut v, carry as usize - 1);
                } else {
                    v.push((member, coef));
                }
            }
            ctx[k] = v.iter().map(|x| x.0).collect();
            out.push(v);
        }
        out
    }

    /// The cells and coefficients of one tensor product for measure `m`, if every cell exists
    /// and may move.
    fn product(
        &self,
        t: usize,
        m: usize,
        vectors: &[&Vec<(u32, f64)>],
        mask: &Mask,
        out: &mut Vec<(u32, f64)>,
        factor: f64,
    ) -> Option<()> {
        let mut idx = vec![0usize; vectors.len()];
        let mut members = vec![0u32; vectors.len()];
        if vectors.iter().any(|v| v.is_empty()) {
            return None;
        }
        loop {
            let mut coef = factor;
            for (i, v) in vectors.iter().enumerate() {
                members[i] = v[idx[i]].0;
                coef *= v[idx[i]].1;
            }
            // A row the table does not hold is in no relation: the direction skips it (the
            // balance check below catches a zero it should have moved).
            if let Some(row) = self.rows[t].as_ref()?.row(&members) {
                let c = (self.system.base[t][m] + row as usize) as u32;
                if !self.system.present[c as usize] || mask.blocked[c as usize] {
                    return None;
                }
                out.push((c, coef));
                if out.len() > MAX_CELLS {
                    return None;
                }
            }
            let mut i = vectors.len();
            loop {
                if i == 0 {
                    return Some(());
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

    /// Candidate directions for a value (coefficient +1 on it), each checked to keep every
    /// equality it touches.
    pub fn candidates(&self, cell: u32, mask: &Mask) -> Vec<Candidate> {
        let (t, m, row) = self.system.locate(cell as usize);
        let table = &self.tables[t];
        if self.rows[t].is_none()
            || !matches!(table.measures[m].class, Class::Count | Class::Magnitude)
        {
            return Vec::new();
        }
        let own: Vec<u32> = table.dims.iter().map(|d| d.rows[row]).collect();
        let per_dim = self.tops(t, m, &own, mask);
        let count = table.measures[m].class == Class::Count;
        let x = self.value(cell);
        let mut out = Vec::new();
        // Products in order of the sum of the options' ranks: cheap options of every
        // dimension before expensive options of one.
        let max_rank: usize = per_dim.iter().map(|o| o.len() - 1).sum();
        let mut tried = 0usize;
        'ranks: for total in 0..=max_rank {
            let mut choices = Vec::new();
            choices_of_rank(
                &per_dim,
                total,
                &mut vec![0; per_dim.len()],
                0,
                &mut choices,
                64,
            );
            for choice in choices {
                tried += 1;
                if tried > MAX_PRODUCTS * 4 || out.len() >= MAX_PRODUCTS * 2 {
                    break 'ranks;
                }
                let chosen: Vec<&Vec<(u32, f64, u8)>> = per_dim
                    .iter()
                    .zip(&choice)
                    .map(|(options, &i)| &options[i])
                    .collect();
                let full = self.expand(t, m, &chosen, mask);
                let vectors: Vec<&Vec<(u32, f64)>> = full.iter().collect();
                for option in &self.moving[t][m] {
                    let proportional = option.iter().any(|(_, a)| a.is_nan());
                    if proportional && x.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                        continue;
                    }
                    let mut d: Vec<(u32, f64)> = Vec::new();
                    let mut ok = true;
                    for &(mm, a) in option {
                        let factor = if a.is_nan() {
                            let v = self.value((self.system.base[t][mm] + row) as u32);
                            if !v.is_finite() {
                                ok = false;
                                break;
                            }
                            v / x
                        } else {
                            a
                        };
                        if factor == 0.0 {
                            continue;
                        }
                        if self
                            .product(t, mm, &vectors, mask, &mut d, factor)
                            .is_none()
                        {
                            ok = false;
                            break;
                        }
                    }
                    if !ok {
                        continue;
                    }
                    let Some(d) = self.with_twins(t, &vectors, d, mask) else {
                        continue;
                    };
                    if self.balanced(&d) {
                        let grain = if !count {
                            0.0
                        } else if proportional {
                            x
                        } else {
                            1.0
                        };
                        out.push(Candidate { cells: d, grain });
                    }
                }
            }
        }
        out
    }

    /// Carries a direction into the other datasets that publish the same figures: where a
    /// cell of `d` is tied to a cell of another table by an equality between datasets, the
    /// other table gets the same vectors on the dimensions it shares, each other dimension
    /// carried down from its total, scaled to match. Sorted and merged; `None` when a carried
    /// cell does not exist or may not move.
    fn with_twins(
        &self,
        t: usize,
        vectors: &[&Vec<(u32, f64)>],
        mut d: Vec<(u32, f64)>,
        mask: &Mask,
    ) -> Option<Vec<(u32, f64)>> {
        let mut done: Vec<(usize, usize)> = Vec::new();
        for _ in 0..4 {
            merge(&mut d);
            let coef: HashMap<u32, f64> = d.iter().copied().collect();
            let mut todo: Vec<(u32, f64, u32)> = Vec::new();
            for &(c, a) in &d {
                for &r in self.relations_of(c) {
                    let rel = &self.system.relations[r as usize];
                    if rel.parts.len() != 1 || rel.kind != RelationKind::Sum(1.0) {
                        continue;
                    }
                    let other = if rel.total == c {
                        rel.parts[0]
                    } else {
                        rel.total
                    };
                    let (to, _, _) = self.system.locate(other as usize);
                    let (from, _, _) = self.system.locate(c as usize);
                    if to == from {
                        continue;
                    }
                    let have = coef.get(&other).copied().unwrap_or(0.0);
                    if (have - a).abs() > 1e-9 {
                        todo.push((c, a, other));
                    }
                }
            }
            if todo.is_empty() {
                return Some(d);
            }
            let (_, a, other) = todo[0];
            let (t2, m2, row2) = self.system.locate(other as usize);
            if done.contains(&(t2, m2)) {
                return None;
            }
            done.push((t2, m2));
            let source = &self.tables[t];
            let target = &self.tables[t2];
            let index2 = self.rows[t2].as_ref()?;
            let members2: Vec<u32> = target.dims.iter().map(|dd| dd.rows[row2]).collect();
            let mut mapped: Vec<Vec<(u32, f64)>> = Vec::with_capacity(target.dims.len());
            for (k2, dim2) in target.dims.iter().enumerate() {
                let shared = source
                    .dims
                    .iter()
                    .position(|x| x.id == dim2.id && x.kind == dim2.kind);
                match shared {
                    Some(k) => {
                        let mut v = Vec::with_capacity(vectors[k].len());
                        for &(mem, coef) in vectors[k].iter() {
                            let code = &source.dims[k].codes[mem as usize];
                            v.push((*index2.by_code[k2].get(code)?, coef));
                        }
                        mapped.push(v);
                    }
                    None => {
                        let mut v = Vec::new();
                        let a2 = members2[k2];
                        let ctx: Vec<Vec<u32>> = members2.iter().map(|&x| vec![x]).collect();
                        let along = Along {
                            t: t2,
                            m: m2,
                            k: k2,
                            ctx: &ctx,
                        };
                        self.down(along, a2, 1.0, mask, &mut v);
                        mapped.push(v);
                    }
                }
            }
            let refs: Vec<&Vec<(u32, f64)>> = mapped.iter().collect();
            let mut e = Vec::new();
            self.product(t2, m2, &refs, mask, &mut e, 1.0)?;
            let at = e.iter().find(|x| x.0 == other).map(|x| x.1)?;
            if at == 0.0 {
                return None;
            }
            let scale = a / at;
            d.extend(e.into_iter().map(|(c, x)| (c, x * scale)));
        }
        None
    }

    /// Whether the changes (sorted by value) make a point: every equality and inequality they
    /// touch holds, and no value falls below 0.
    fn sound(&self, changes: &[(u32, f64)]) -> bool {
        let at: HashMap<u32, f64> = changes.iter().copied().collect();
        self.balanced(changes)
            && self.inequalities_hold(changes, |c| at.get(&c).copied().unwrap_or(0.0))
            && changes
                .iter()
                .all(|&(c, d)| self.value(c) + d >= -1e-9 * (1.0 + self.value(c).abs()))
    }

    /// Whether the direction keeps the balance of every equality it touches.
    fn balanced(&self, d: &[(u32, f64)]) -> bool {
        debug_assert!(
            d.windows(2).all(|w| w[0].0 < w[1].0),
            "changes sorted by value"
        );
        let mut seen: Vec<u32> = d
            .iter()
            .flat_map(|&(c, _)| self.relations_of(c).iter().copied())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.iter().all(|&r| {
            let rel = &self.system.relations[r as usize];
            match rel.kind {
                RelationKind::Sum(k) => {
                    let get = |c: u32| d.binary_search_by_key(&c, |x| x.0).map_or(0.0, |j| d[j].1);
                    let s: f64 = rel.parts.iter().map(|&p| get(p)).sum();
                    (k * get(rel.total) - s).abs() < 1e-9 * (1.0 + s.abs())
                }
                RelationKind::Distinct { .. } | RelationKind::AtLeast => true,
            }
        })
    }

    /// Whether every inequality touched by `cells` holds at the point `value + over(c)`,
    /// `over` giving each value's change.
    fn inequalities_hold(&self, cells: &[(u32, f64)], over: impl Fn(u32) -> f64) -> bool {
        let mut rels: Vec<u32> = cells
            .iter()
            .flat_map(|&(c, _)| self.inequalities_of(c).iter().copied())
            .collect();
        rels.sort_unstable();
        rels.dedup();
        let at = |c: u32| self.value(c) + over(c);
        rels.iter().all(|&r| {
            let rel = &self.system.relations[r as usize];
            let slack = rel.tol + 1e-9 * (1.0 + self.value(rel.total).abs());
            match rel.kind {
                RelationKind::Sum(_) => true,
                RelationKind::Distinct {
                    above_parts,
                    below_sum,
                } => {
                    let total = at(rel.total);
                    let sum: f64 = rel.parts.iter().map(|&p| at(p)).sum();
                    (!above_parts || rel.parts.iter().all(|&p| at(p) <= total + slack))
                        && (!below_sum || total <= sum + slack)
                }
                RelationKind::AtLeast => {
                    let sum: f64 = rel.parts.iter().map(|&p| at(p)).sum();
                    at(rel.total) + slack >= sum
                }
            }
        })
    }

    /// A point reaching the goal: the sum of at most [`MAX_MOVES`] steps along the
    /// candidates, each to a point of the system, the cheapest first (the cost of the values
    /// not hidden yet that a step moves, per unit of progress). `avoid` marks values the point
    /// must not move (besides the goal's own). Returns the changes, sorted by cell.
    pub fn reach(
        &self,
        goal: Goal,
        candidates: &[Candidate],
        mask: &Mask,
        avoid: Avoid,
    ) -> Option<Vec<(u32, f64)>> {
        let sign = if goal.down { -1.0 } else { 1.0 };
        let mut over: HashMap<u32, f64> = HashMap::default();
        let x0 = self.value(goal.cell);
        let mut fresh: HashMap<u32, ()> = HashMap::default();
        let usable: Vec<&Candidate> = candidates
            .iter()
            .filter(|c| {
                c.cells
                    .iter()
                    .all(|&(x, _)| x == goal.cell || !avoid.blocks(x))
            })
            .collect();
        for _ in 0..MAX_MOVES {
            let now = x0 + over.get(&goal.cell).copied().unwrap_or(0.0);
            let need = (goal.target - now) * sign;
            if need <= 1e-9 * (1.0 + goal.target.abs()) {
                break;
            }
            let at = |c: u32| self.value(c) + over.get(&c).copied().unwrap_or(0.0);
            let mut best: Option<(f64, f64, usize)> = None;
            for (i, cand) in usable.iter().enumerate() {
                let mut room = need;
                if cand.grain > 0.0 {
                    room = (room / cand.grain).ceil() * cand.grain;
                }
                for &(c, coef) in &cand.cells {
                    let step = sign * coef;
                    if step < 0.0 {
                        room = room.min(at(c).max(0.0) / -step);
                    }
                }
                if cand.grain > 0.0 {
                    room = ((room + 1e-9) / cand.grain).floor() * cand.grain;
                }
                if room <= 1e-12 {
                    continue;
                }
                let price: f64 = cand
                    .cells
                    .iter()
                    .filter(|&&(c, _)| !mask.is_hidden(c) && !fresh.contains_key(&c))
                    .map(|&(c, _)| mask.cost[c as usize])
                    .sum();
                let score = price * need / room.min(need);
                if best.is_some_and(|(s, r, _)| s < score || (s == score && r >= room)) {
                    continue;
                }
                let trial = |c: u32| {
                    over.get(&c).copied().unwrap_or(0.0)
                        + cand
                            .cells
                            .binary_search_by_key(&c, |x| x.0)
                            .map_or(0.0, |j| sign * room * cand.cells[j].1)
                };
                if self.inequalities_hold(&cand.cells, trial) {
                    best = Some((score, room, i));
                }
            }
            let (_, room, i) = best?;
            for &(c, coef) in &usable[i].cells {
                *over.entry(c).or_insert(0.0) += sign * room * coef;
                fresh.insert(c, ());
            }
        }
        let now = x0 + over.get(&goal.cell).copied().unwrap_or(0.0);
        let reached = if goal.down {
            now <= goal.target + 1e-9 * (1.0 + goal.target.abs())
        } else {
            now >= goal.target - 1e-9 * (1.0 + goal.target.abs())
        };
        if !reached {
            return None;
        }
        let mut changes: Vec<(u32, f64)> =
            over.into_iter().filter(|(_, d)| d.abs() > 1e-12).collect();
        changes.sort_unstable_by_key(|x| x.0);
        // Counts move by whole units: round away the float noise of the steps.
        for (c, d) in changes.iter_mut() {
            let (t, m, _) = self.system.locate(*c as usize);
            if self.tables[t].measures[m].class == Class::Count {
                *d = d.round();
            }
        }
        changes.retain(|(_, d)| *d != 0.0);
        Some(changes)
    }
    /// A point reaching the goal by a small program over a neighbourhood of the value (at most
    /// `size` values reached through the relations, breadth first), every other value held at
    /// its true value: the cheapest change (hiding cost of the values not hidden yet, per unit
    /// moved) that keeps every relation touching the neighbourhood, non-negative, integral for
    /// counts. Sound by construction (the rest of the release does not move); the point is
    /// checked again before it is returned. `None` when the program has no solution within its
    /// limits.
    pub fn program(
        &self,
        goal: Goal,
        mask: &Mask,
        avoid: Avoid,
        size: usize,
    ) -> Option<Vec<(u32, f64)>> {
        if !self.may_move(goal.cell, goal, mask, avoid) {
            return None;
        }
        let (var, cells) = self.neighbourhood(goal, mask, avoid, size);
        let mut problem = microlp::Problem::new(microlp::OptimizationDirection::Minimize);
        let (up, dn) = self.add_variables(&mut problem, &cells, mask);
        let vars = Vars { var, up, dn };
        self.add_relations(&mut problem, &cells, &vars);
        let mut e = microlp::LinearExpr::empty();
        vars.term(&mut e, goal.cell, 1.0);
        let need = goal.target - self.value(goal.cell);
        let op = if goal.down {
            microlp::ComparisonOp::Le
        } else {
            microlp::ComparisonOp::Ge
        };
        problem.add_constraint(e, op, need);
        // A node limit, not a time limit: the same release must come out of the same store
        // however busy the machine is.
        let mut options = microlp::SolveOptions::default();
        options.node_limit = Some(PROGRAM_NODES);
        let microlp::SolveOutcome::Solution(solution) = problem.solve_with(options).ok()? else {
            return None;
        };
        let changes = self.solution_changes(&solution, &cells, &vars);
        self.program_point_holds(goal, &changes).then_some(changes)
    }

    /// Whether value `c` may move in a program for `goal`: present, not blocked, and not
    /// avoided (the goal's own value excepted).
    fn may_move(&self, c: u32, goal: Goal, mask: &Mask, avoid: Avoid) -> bool {
        let cu = c as usize;
        self.system.present[cu] && !mask.blocked[cu] && (c == goal.cell || !avoid.blocks(c))
    }

    /// The values of the program's neighbourhood, at most `size`, breadth first from the goal's
    /// value, with the position of each.
    fn neighbourhood(
        &self,
        goal: Goal,
        mask: &Mask,
        avoid: Avoid,
        size: usize,
    ) -> (HashMap<u32, usize>, Vec<u32>) {
        let may_move = |c: u32| self.may_move(c, goal, mask, avoid);
        // The neighbourhood, breadth first; a relation of two values (a total with one part,
        // an equality) takes its other value in at the same distance, so that a value and its
        // twin are never split by the border.
        let mut var: HashMap<u32, usize> = HashMap::default();
        let mut cells: Vec<u32> = vec![goal.cell];
        var.insert(goal.cell, 0);
        let mut queue: std::collections::VecDeque<u32> = std::collections::VecDeque::new();
        queue.push_back(goal.cell);
        'grow: while let Some(c) = queue.pop_front() {
            for &r in self.relations_of(c) {
                let rel = &self.system.relations[r as usize];
                let tight = rel.parts.len() <= 1;
                for x in rel.cells() {
                    if cells.len() >= size {
                        break 'grow;
                    }
                    if !var.contains_key(&x) && may_move(x) {
                        var.insert(x, cells.len());
                        cells.push(x);
                        if tight {
                            queue.push_front(x);
                        } else {
                            queue.push_back(x);
                        }
                    }
                }
            }
        }
        (var, cells)
    }

    /// Adds the upward and downward change of every value of the neighbourhood to the
    /// program, priced per unit moved (integral for counts, never below 0).
    fn add_variables(
        &self,
        problem: &mut microlp::Problem,
        cells: &[u32],
        mask: &Mask,
    ) -> (Vec<microlp::Variable>, Vec<microlp::Variable>) {
        let mut up = Vec::with_capacity(cells.len());
        let mut dn = Vec::with_capacity(cells.len());
        for &c in cells {
            let (t, m, _) = self.system.locate(c as usize);
            let v = self.value(c).max(0.0);
            let price = if mask.is_hidden(c) {
                1e-3
            } else {
                mask.cost[c as usize] / (1.0 + v)
            };
            if self.tables[t].measures[m].class == Class::Count {
                let cap = v.min(f64::from(i32::MAX)) as i32;
                up.push(problem.add_integer_var(price, (0, i32::MAX)));
                dn.push(problem.add_integer_var(price, (0, cap)));
            } else {
                up.push(problem.add_var(price, (0.0, f64::INFINITY)));
                dn.push(problem.add_var(price, (0.0, v)));
            }
        }
        (up, dn)
    }

    /// Adds every relation touching the neighbourhood to the program, the values outside
    /// held.
    fn add_relations(&self, problem: &mut microlp::Problem, cells: &[u32], vars: &Vars) {
        let mut rels: Vec<u32> = cells
            .iter()
            .flat_map(|&c| self.relations_of(c).iter().copied())
            .collect();
        rels.sort_unstable();
        rels.dedup();
        let var = &vars.var;
        let term = |e: &mut microlp::LinearExpr, c: u32, a: f64| vars.term(e, c, a);
        for &r in &rels {
            let rel = &self.system.relations[r as usize];
            let v = |c: u32| self.value(c);
            match rel.kind {
                RelationKind::Sum(k) => {
                    let mut e = microlp::LinearExpr::empty();
                    term(&mut e, rel.total, k);
                    for &p in &rel.parts {
                        term(&mut e, p, -1.0);
                    }
                    problem.add_constraint(e, microlp::ComparisonOp::Eq, 0.0);
                }
                RelationKind::AtLeast => {
                    let mut e = microlp::LinearExpr::empty();
                    for &p in &rel.parts {
                        term(&mut e, p, 1.0);
                    }
                    term(&mut e, rel.total, -1.0);
                    let slack = v(rel.total) - rel.parts.iter().map(|&p| v(p)).sum::<f64>();
                    problem.add_constraint(e, microlp::ComparisonOp::Le, slack.max(0.0));
                }
                RelationKind::Distinct {
                    above_parts,
                    below_sum,
                } => {
                    for &p in rel.parts.iter().filter(|_| above_parts) {
                        if !var.contains_key(&p) && !var.contains_key(&rel.total) {
                            continue;
                        }
                        let mut e = microlp::LinearExpr::empty();
                        term(&mut e, p, 1.0);
                        term(&mut e, rel.total, -1.0);
                        problem.add_constraint(
                            e,
                            microlp::ComparisonOp::Le,
                            (v(rel.total) - v(p)).max(0.0),
                        );
                    }
                    if below_sum {
                        let mut e = microlp::LinearExpr::empty();
                        term(&mut e, rel.total, 1.0);
                        for &p in &rel.parts {
                            term(&mut e, p, -1.0);
                        }
                        let slack = rel.parts.iter().map(|&p| v(p)).sum::<f64>() - v(rel.total);
                        problem.add_constraint(e, microlp::ComparisonOp::Le, slack.max(0.0));
                    }
                }
            }
        }
    }

    /// The changes of a solution of the program (counts rounded to whole units), those not
    /// zero, sorted by value.
    fn solution_changes(
        &self,
        solution: &microlp::Solution,
        cells: &[u32],
        vars: &Vars,
    ) -> Vec<(u32, f64)> {
        let (up, dn) = (&vars.up, &vars.dn);
        let mut changes: Vec<(u32, f64)> = cells
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let d = solution.var_value(up[i]) - solution.var_value(dn[i]);
                let (t, m, _) = self.system.locate(c as usize);
                let d = if self.tables[t].measures[m].class == Class::Count {
                    d.round()
                } else {
                    d
                };
                (c, d)
            })
            .filter(|x| x.1.abs() > 1e-9)
            .collect();
        changes.sort_unstable_by_key(|x| x.0);
        changes
    }

    /// Whether the changes of a program make a point: the same checks as any direction
    /// (balance, inequalities, non-negative, the goal).
    fn program_point_holds(&self, goal: Goal, changes: &[(u32, f64)]) -> bool {
        // The same checks as any direction: balance, inequalities, non-negative, the goal.
        let over: HashMap<u32, f64> = changes.iter().copied().collect();
        let at = |c: u32| self.value(c) + over.get(&c).copied().unwrap_or(0.0);
        let reached = if goal.down {
            at(goal.cell) <= goal.target + 1e-9 * (1.0 + goal.target.abs())
        } else {
            at(goal.cell) >= goal.target - 1e-9 * (1.0 + goal.target.abs())
        };
        reached
            && changes.iter().all(|&(c, _)| at(c) >= -1e-9)
            && self.balanced(changes)
            && self.inequalities_hold(changes, |c| over.get(&c).copied().unwrap_or(0.0))
    }
}

/// The variables of a neighbourhood program: the position of each value, and its upward and
/// downward change (in the measure's unit).
struct Vars {
    var: HashMap<u32, usize>,
    up: Vec<microlp::Variable>,
    dn: Vec<microlp::Variable>,
}

impl Vars {
    /// Adds `a` times the change of value `c` to `e`, when `c` is in the neighbourhood (the
    /// values outside are held).
    fn term(&self, e: &mut microlp::LinearExpr, c: u32, a: f64) {
        if let Some(&i) = self.var.get(&c) {
            e.add(self.up[i], a);
            e.add(self.dn[i], -a);
        }
    }
}

/// Every choice of one option per dimension whose ranks add up to `total` (at most `cap`).
fn choices_of_rank<T>(
    per_dim: &[Vec<T>],
    total: usize,
    current: &mut Vec<usize>,
    k: usize,
    out: &mut Vec<Vec<usize>>,
    cap: usize,
) {
    if out.len() >= cap {
        return;
    }
    if k == per_dim.len() {
        if total == 0 {
            out.push(current.clone());
        }
        return;
    }
    let rest: usize = per_dim[k + 1..].iter().map(|o| o.len() - 1).sum();
    for i in 0..per_dim[k].len().min(total + 1) {
        if total - i > rest {
            continue;
        }
        current[k] = i;
        choices_of_rank(per_dim, total - i, current, k + 1, out, cap);
    }
    current[k] = 0;
}

/// Sorts a direction by cell and adds the coefficients of a cell met twice.
fn merge(d: &mut Vec<(u32, f64)>) {
    d.sort_unstable_by_key(|x| x.0);
    let mut out: Vec<(u32, f64)> = Vec::with_capacity(d.len());
    for &(c, a) in d.iter() {
        match out.last_mut() {
            Some(last) if last.0 == c => last.1 += a,
            _ => out.push((c, a)),
        }
    }
    out.retain(|x| x.1.abs() > 1e-12);
    *d = out;
}

/// Measure `m` and every measure tied to it by declared relations, transitively (`m` first).
fn linked_measures(t: &Table, m: usize) -> Vec<usize> {
    let mut linked = vec![m];
    let mut i = 0;
    while i < linked.len() {
        let cur = linked[i];
        for r in &t.relations {
            let members: Vec<usize> = std::iter::once(r.left)
                .chain(r.right.iter().copied())
                .collect();
            if members.contains(&cur) {
                for x in members {
                    if !linked.contains(&x) {
                        linked.push(x);
                    }
                }
            }
        }
        i += 1;
    }
    linked
}

/// The ways measure `m` of a table moves: alone when no declared relation names it; else with
/// every measure the relations put above it (the total of an equality it is part of, the left
/// side of an inequality it is on the right of), and the whole row in proportion (coefficient
/// NaN: the row's values divided by the value's own).
fn moving_options(t: &Table, m: usize) -> Vec<Vec<(usize, f64)>> {
    let named: Vec<usize> = t
        .relations
        .iter()
        .flat_map(|r| std::iter::once(r.left).chain(r.right.iter().copied()))
        .collect();
    if !named.contains(&m) {
        return vec![vec![(m, 1.0)]];
    }
    // Measures above m, closed upwards.
    let mut up = vec![m];
    let mut i = 0;
    while i < up.len() {
        let cur = up[i];
        for r in &t.relations {
            if r.right.contains(&cur) && !up.contains(&r.left) {
                up.push(r.left);
            }
        }
        i += 1;
    }
    // The measures tied to m by relations, transitively: the row moved in proportion.
    let linked = linked_measures(t, m);
    // Where m is the total of an equality, moving it alone breaks it: the upward option also
    // moves one part of it (the first), keeping the equality.
    let mut up_opt: Vec<(usize, f64)> = up.iter().map(|&x| (x, 1.0)).collect();
    for r in &t.relations {
        if r.op == RelationOp::Equal
            && r.left == m
            && let Some(&p) = r.right.first()
        {
            up_opt.push((p, 1.0));
        }
    }
    up_opt.sort_unstable_by_key(|x| x.0);
    up_opt.dedup_by_key(|x| x.0);
    let mut row: Vec<(usize, f64)> = linked.iter().map(|&x| (x, f64::NAN)).collect();
    row.sort_unstable_by_key(|x| x.0);
    vec![up_opt, row]
}
