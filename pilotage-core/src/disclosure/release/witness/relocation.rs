//! Relocation points: a share of one département's figures moved to a département of another
//! région, for the magnitudes that record moves cannot carry far enough.
//!
//! A magnitude of a région made by a few structures (hours worked, say) is confidential against
//! each of them: the structure of one département knows its own figures, so a point must lower
//! or raise the région through the other départements alone, by a margin of thousands of hours
//! spread over hundreds of rows (months, sexes, age brackets, every sensitive breakdown). A move
//! of records carries one row at a time and gives up long before.
//!
//! A relocation moves the same share `α` of *every* value of a département `D` below the claimed
//! value's other members to the same rows of a département `D'` outside the claimed territory:
//! `D`'s rows lose `α` times their value, `D'`'s rows gain it, and their régions follow. Every
//! relation of the table is linear and holds on `D`'s true values, so it holds on `α` times them:
//! sums along every hierarchy, averages and stocks over time, declared relations between the
//! measures moved together. A row of `D` above the claimed members in some dimension (a total
//! over structure kinds when the claim is about one kind) changes by `α` times the row at those
//! members. `D` keeps `(1 − α)` of every value, never less than 0. Which `D` and `D'`: the ones
//! whose rows cost least to hide, among those that move no value the point must hold (what one
//! structure alone makes, for a claim against that structure). The point is checked against
//! every relation it touches before it is returned, like every other point.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::dataset::DimensionType;
use crate::disclosure::release::grid::{Class, NONE, Table};

use super::records::Shape;
use super::{Avoid, Goal, Mask, Space};

/// Most shares one point moves.
const MAX_SOURCES: usize = 8;
/// Most départements tried as the source, and as the target, of a share.
const MAX_TARGETS: usize = 16;
/// Most slices tried per source: below the claimed members, then below one member under one
/// of them.
const MAX_ROOTS: usize = 96;
/// Most dimensions a share is spread over (see [`Space::share`]).
const MAX_SPREAD_DIMS: usize = 8;

/// Whether `a` is `b` or below it in dimension `dim` of `table` (`shape` being the table's).
fn within(shape: &Shape, table: &Table, dim: usize, a: u32, b: u32) -> bool {
    let depth = &table.dims[dim].depth;
    depth[a as usize] >= depth[b as usize] && shape.ancestor(dim, a, depth[b as usize]) == b
}

/// The depth of each of `members` in its dimension: the levels of their row.
fn pattern_of(table: &Table, members: &[u32]) -> Vec<u8> {
    members
        .iter()
        .zip(&table.dims)
        .map(|(&x, d)| d.depth[x as usize])
        .collect()
}

/// What every relocation of one claim reads: the table, its territory dimension, the measures
/// moved together, the rows per territory member and the level patterns the table publishes.
struct Slicing<'s> {
    t: usize,
    shape: &'s Shape,
    kt: usize,
    moved: &'s [usize],
    by_member: &'s HashMap<u32, Vec<usize>>,
    patterns: &'s HashSet<Vec<u8>>,
}

/// A share of a département: per row (members, the territory being the département's) and
/// measure, the département's part of it.
type Shares = Vec<(Vec<u32>, usize, f64)>;

/// A share of one département moved to another: the changes for the whole of it (`α` = 1),
/// what hiding them costs and how far it takes the claimed value.
struct Priced {
    changes: Vec<(u32, f64)>,
    cost: f64,
    progress: f64,
}

/// One option of a point: a [`Priced`] share, with its price per unit of progress, the slice
/// (index in the roots) and the source département.
struct Offer {
    price: f64,
    root: usize,
    src: u32,
    share: Priced,
}

impl Space<'_> {
    /// A point reaching a magnitude goal by relocations (see the module documentation);
    /// `None` for counts, tables without a territory, a claim about France as a whole, or when
    /// no share of any département reaches the goal.
    pub fn relocation(&self, goal: Goal, mask: &Mask, avoid: Avoid) -> Option<Vec<(u32, f64)>> {
        let (t, m, row) = self.system.locate(goal.cell as usize);
        let table = &self.tables[t];
        if table.measures[m].class != Class::Magnitude || mask.blocked[goal.cell as usize] {
            return None;
        }
        let shape = self.shapes[t].as_ref()?;
        let kt = table
            .dims
            .iter()
            .position(|d| d.kind == DimensionType::Territory)?;
        let own: Vec<u32> = table.dims.iter().map(|d| d.rows[row]).collect();
        let territory = &table.dims[kt];
        // The measures moved together: the claimed one and those its declared relations tie.
        let mut moved = vec![m];
        let mut grew = true;
        while grew {
            grew = false;
            for r in &table.relations {
                let all: Vec<usize> = std::iter::once(r.left)
                    .chain(r.right.iter().copied())
                    .collect();
                if all.iter().any(|x| moved.contains(x)) {
                    for x in all {
                        if !moved.contains(&x) {
                            moved.push(x);
                            grew = true;
                        }
                    }
                }
            }
        }
        if moved
            .iter()
            .any(|&x| table.measures[x].class != Class::Magnitude)
        {
            return None;
        }
        let mut by_member: HashMap<u32, Vec<usize>> = HashMap::default();
        let mut patterns: HashSet<Vec<u8>> = HashSet::default();
        for r in 0..table.rows {
            by_member.entry(territory.rows[r]).or_default().push(r);
            patterns.insert(
                table
                    .dims
                    .iter()
                    .map(|d| d.depth[d.rows[r] as usize])
                    .collect(),
            );
        }
        let mut finest: Vec<u32> = by_member
            .keys()
            .copied()
            .filter(|&d| territory.depth[d as usize] == territory.finest)
            .collect();
        finest.sort_unstable();
        let (inside, outside): (Vec<u32>, Vec<u32>) = finest
            .iter()
            .partition(|&&d| within(shape, table, kt, d, own[kt]));
        if inside.is_empty() || outside.is_empty() {
            return None;
        }
        // Downwards a share leaves a département inside for one outside; upwards the reverse.
        let (sources, targets): (&Vec<u32>, &Vec<u32>) = if goal.down {
            (&inside, &outside)
        } else {
            (&outside, &inside)
        };
        let sign = if goal.down { -1.0 } else { 1.0 };
        let tol = 1e-9 * (1.0 + goal.target.abs());
        let mut need = (goal.target - self.value(goal.cell)) * sign;
        if need <= tol {
            return None;
        }
        // The slices a share is taken from: every value below the claimed members, or, when
        // that moves a value the point must hold, below a member under one of them (one
        // structure kind, one sex, one quarter, ...).
        let mut roots = vec![own.clone()];
        for k in (0..own.len()).filter(|&k| k != kt) {
            let mut below: Vec<u32> = (0..table.dims[k].codes.len() as u32)
                .filter(|&c| c != own[k] && within(shape, table, k, c, own[k]))
                .collect();
            below.sort_by_key(|&c| (table.dims[k].depth[c as usize], c));
            for c in below {
                let mut root = own.clone();
                root[k] = c;
                roots.push(root);
            }
        }
        roots.truncate(MAX_ROOTS);
        let slicing = Slicing {
            t,
            shape,
            kt,
            moved: &moved,
            by_member: &by_member,
            patterns: &patterns,
        };
        // The départements likeliest to give enough and to hold every row a share brings: the
        // largest at the claimed members first.
        let ranked = |list: &[u32]| -> Vec<u32> {
            let mut out: Vec<(f64, u32)> = list
                .iter()
                .map(|&d| {
                    let mut at = own.clone();
                    at[kt] = d;
                    (self.share(t, kt, m, &at, &patterns).unwrap_or(0.0), d)
                })
                .collect();
            out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            out.into_iter().map(|x| x.1).collect()
        };
        let (sources, mut targets) = (ranked(sources), ranked(targets));
        targets.truncate(MAX_TARGETS);
        // Per source and slice that may leave it, the cheapest target per unit of progress.
        let mut options: Vec<Offer> = Vec::new();
        for (si, &src) in sources.iter().enumerate() {
            // Narrower slices for the largest sources only.
            let slices = if si < MAX_TARGETS { roots.len() } else { 1 };
            for (ri, root) in roots.iter().enumerate().take(slices) {
                let Some(shares) = self.shares(&slicing, root, src) else {
                    continue;
                };
                let Some(from) = self.placed(&slicing, &shares, src, -1.0, mask, avoid, goal)
                else {
                    continue;
                };
                let best = targets
                    .iter()
                    .filter_map(|&dst| {
                        let to = self.placed(&slicing, &shares, dst, 1.0, mask, avoid, goal)?;
                        self.priced(&from, &to, mask, avoid, goal)
                    })
                    .map(|share| Offer {
                        price: share.cost / share.progress.min(need),
                        root: ri,
                        src,
                        share,
                    })
                    .min_by(|a, b| a.price.total_cmp(&b.price));
                let whole = ri == 0 && best.is_some();
                options.extend(best);
                // The slice below every claimed member may move: narrower ones only cost more.
                if whole {
                    break;
                }
            }
        }
        // The cheapest first, each slice of a source apart from those of it taken already
        // (apart in some dimension, so that no value gives more than its share).
        options.sort_by(|a, b| {
            a.price
                .total_cmp(&b.price)
                .then(a.root.cmp(&b.root))
                .then(a.src.cmp(&b.src))
        });
        let apart = |a: &[u32], b: &[u32]| {
            (0..a.len()).any(|k| {
                k != kt
                    && !within(shape, table, k, a[k], b[k])
                    && !within(shape, table, k, b[k], a[k])
            })
        };
        let mut taken: Vec<(usize, u32)> = Vec::new();
        let mut total: HashMap<u32, f64> = HashMap::default();
        for o in options {
            if taken.len() >= MAX_SOURCES
                || taken
                    .iter()
                    .any(|&(rj, s)| s == o.src && !apart(&roots[o.root], &roots[rj]))
            {
                continue;
            }
            taken.push((o.root, o.src));
            let alpha = (need / o.share.progress).min(1.0);
            for &(c, d) in &o.share.changes {
                *total.entry(c).or_insert(0.0) += alpha * d;
            }
            need -= alpha * o.share.progress;
            if need <= tol {
                break;
            }
        }
        if need > tol {
            return None;
        }
        let mut changes: Vec<(u32, f64)> = total.into_iter().filter(|x| x.1 != 0.0).collect();
        changes.sort_unstable_by_key(|x| x.0);
        self.sound(&changes).then_some(changes)
    }

    /// Département `src`'s share of every row at or above it in the territory whose members
    /// meet `root`: below it in every dimension, or above it (then the share at `root`'s
    /// member). `None` when a share cannot be told.
    fn shares(&self, s: &Slicing, root: &[u32], src: u32) -> Option<Shares> {
        let table = &self.tables[s.t];
        let territory = &table.dims[s.kt];
        let mut out: Shares = Vec::new();
        let mut seen: HashSet<Vec<u32>> = HashSet::default();
        let mut meet = vec![0u32; table.dims.len()];
        // France, above every département, nets out: its rows need no share.
        let mut x = src;
        while x != NONE && territory.parent[x as usize] != NONE {
            for &r in s.by_member.get(&x).map_or(&[][..], |v| v.as_slice()) {
                let mut members = vec![0u32; table.dims.len()];
                let mut comparable = true;
                for (k, d) in table.dims.iter().enumerate() {
                    let a = d.rows[r];
                    members[k] = a;
                    meet[k] = if k == s.kt || within(s.shape, table, k, a, root[k]) {
                        a
                    } else if within(s.shape, table, k, root[k], a) {
                        root[k]
                    } else {
                        comparable = false;
                        break;
                    };
                }
                if !comparable {
                    continue;
                }
                members[s.kt] = src;
                meet[s.kt] = src;
                if seen.contains(&members) {
                    continue;
                }
                for &m in s.moved {
                    let v = self.share(s.t, s.kt, m, &meet, s.patterns)?;
                    if v != 0.0 {
                        out.push((members.clone(), m, v));
                    }
                }
                seen.insert(members);
            }
            x = territory.parent[x as usize];
        }
        Some(out)
    }

    /// The changes of placing `sign` × `shares` at département `at` and at every territory
    /// above it. `None` when the département lacks a row the table publishes at those levels,
    /// or when one of its own values may not move.
    #[allow(clippy::too_many_arguments)]
    fn placed(
        &self,
        s: &Slicing,
        shares: &Shares,
        at: u32,
        sign: f64,
        mask: &Mask,
        avoid: Avoid,
        goal: Goal,
    ) -> Option<Vec<(u32, f64)>> {
        let table = &self.tables[s.t];
        let index = self.rows[s.t].as_ref()?;
        let territory = &table.dims[s.kt];
        let base = &self.system.base[s.t];
        let mut out = Vec::new();
        let mut members = vec![0u32; table.dims.len()];
        for (at_src, m, v) in shares {
            members.copy_from_slice(at_src);
            let mut x = at;
            while x != NONE {
                members[s.kt] = x;
                match index.row(&members) {
                    Some(row) => {
                        let c = (base[*m] + row as usize) as u32;
                        // The département's own values are checked here, once for every
                        // target; those of the territories above once netted.
                        if x == at {
                            let cu = c as usize;
                            if !self.system.present[cu]
                                || mask.blocked[cu]
                                || (c != goal.cell && avoid.blocks(c))
                            {
                                return None;
                            }
                        }
                        out.push((c, sign * v));
                    }
                    None if x == at && s.patterns.contains(&pattern_of(table, &members)) => {
                        return None;
                    }
                    None => {}
                }
                x = territory.parent[x as usize];
            }
        }
        Some(out)
    }

    /// The changes of a share leaving one département (`from`) for another (`to`), the
    /// territories above both netted out, with the cost of hiding what they move and the
    /// progress towards the goal. `None` when a value may not move or makes no progress.
    fn priced(
        &self,
        from: &[(u32, f64)],
        to: &[(u32, f64)],
        mask: &Mask,
        avoid: Avoid,
        goal: Goal,
    ) -> Option<Priced> {
        let mut change: HashMap<u32, f64> = HashMap::default();
        for &(c, d) in from.iter().chain(to) {
            *change.entry(c).or_insert(0.0) += d;
        }
        let sign = if goal.down { -1.0 } else { 1.0 };
        let mut cost = 0.0;
        let mut progress = 0.0;
        let mut changes = Vec::with_capacity(change.len());
        for (c, d) in change {
            if d.abs() <= 1e-12 * (1.0 + self.value(c).abs()) {
                continue;
            }
            let cu = c as usize;
            if c == goal.cell {
                progress = sign * d;
            } else if !self.system.present[cu] || mask.blocked[cu] || avoid.blocks(c) {
                return None;
            } else if !mask.is_hidden(c) {
                cost += mask.cost[cu];
            }
            changes.push((c, d));
        }
        (progress > 0.0).then_some(Priced {
            changes,
            cost,
            progress,
        })
    }

    /// Département `d`'s share (`at[kt]` = d) of measure `m` at members `at`: the row itself
    /// when the table publishes it; else the product of the rows it publishes for groups of
    /// the dimensions (the others at their total, the period at its year), divided by `d`'s
    /// total once per group beyond the first: `d`'s figures spread over one group of
    /// dimensions as over the other. Spread so, the shares keep every sum along every
    /// hierarchy and every average and stock over time. `None` when some dimension is in no
    /// published row of `d`.
    fn share(
        &self,
        t: usize,
        kt: usize,
        m: usize,
        at: &[u32],
        patterns: &HashSet<Vec<u8>>,
    ) -> Option<f64> {
        let table = &self.tables[t];
        let index = self.rows[t].as_ref()?;
        let base = self.system.base[t][m];
        // A row the table has: its value (0 where the measure does not apply); a row it does
        // not have though it publishes rows at those levels: 0, nothing there.
        let value = |members: &[u32]| -> Option<f64> {
            if let Some(row) = index.row(members) {
                let c = base + row as usize;
                return Some(if self.system.present[c] {
                    self.value(c as u32)
                } else {
                    0.0
                });
            }
            patterns
                .contains(&pattern_of(table, members))
                .then_some(0.0)
        };
        if let Some(v) = value(at) {
            return Some(v);
        }
        let shape = self.shapes[t].as_ref()?;
        let top: Vec<u32> = (0..at.len())
            .map(|k| {
                if k == kt {
                    return at[k];
                }
                // The top of the member's hierarchy: its shallowest ancestor.
                let depth = table.dims[k].depth[at[k] as usize];
                (0..depth)
                    .map(|d| shape.ancestor(k, at[k], d))
                    .find(|&x| x != NONE)
                    .unwrap_or(at[k])
            })
            .collect();
        let whole = value(&top)?;
        if whole == 0.0 {
            return Some(0.0);
        }
        let mut open: Vec<usize> = (0..at.len()).filter(|&k| at[k] != top[k]).collect();
        if open.len() > MAX_SPREAD_DIMS {
            return None;
        }
        let mut product = 1.0;
        let mut groups = 0i32;
        while let Some((&first, rest)) = open.split_first() {
            // The largest group with the first open dimension that `d` publishes.
            let mut best: Option<(u32, f64)> = None;
            let n = rest.len();
            let mut masks: Vec<u32> = (0..1u32 << n).collect();
            masks.sort_by_key(|x| std::cmp::Reverse(x.count_ones()));
            for mask in masks {
                let mut members = top.clone();
                members[first] = at[first];
                for (i, &k) in rest.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        members[k] = at[k];
                    }
                }
                if let Some(v) = value(&members) {
                    best = Some((mask, v));
                    break;
                }
            }
            let (mask, v) = best?;
            product *= v;
            groups += 1;
            open = rest
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) == 0)
                .map(|(_, &k)| k)
                .collect();
        }
        Some(product / whole.powi(groups - 1))
    }
}
