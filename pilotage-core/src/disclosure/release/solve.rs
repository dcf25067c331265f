//! The attacker's intervals per connected component of secret cells, and the value-free
//! protection requirement checked on them.
//!
//! Published cells are constants; two secret cells are linked when a relation holds both. A
//! component's linear program is therefore exactly the release's program restricted to it.

use super::super::audit::lp::{Cmp, Linear, Outcome, Reach, maximise_capped, optimise_from};
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

    /// Whether the interval passes by reaching both sides: 0 and at least 11 for a count, a
    /// wide enough interval above 0 for a magnitude. Bounds inside the attacker's prove these.
    pub fn reaches(&self, need: Need, lo: f64, hi: f64) -> bool {
        match need {
            Need::Count { .. } => lo <= 0.0 && hi >= self.min_count,
            Need::Magnitude { .. } => {
                hi > 0.0 && (hi.is_infinite() || hi - lo >= self.margin * (hi + lo))
            }
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

/// How cells outside a chunk of a large component are treated.
pub(crate) enum Outside<'a> {
    /// Constants at a feasible point of the release (the true values, on the protection
    /// side): the chunk's feasible points are then feasible points of the release.
    Fixed(&'a [f64]),
    /// Free: relations holding them are left out (audit side, which does not know them): the
    /// chunk's intervals are wider than the release's, an approximation.
    Relaxed,
}

/// Outer bounds of every cell by propagation over the relations (the shuttle method): each
/// relation in turn narrows the interval of each of its secret cells from the intervals of
/// the others, until nothing moves by a unit (counts, rounded inward) or a millionth
/// (magnitudes), or after `max_visits` relation visits. Published cells are their value;
/// secret cells start at `[0, +∞)`.
///
/// Every interval contains the attacker's (the linear program's) at every step, so a count
/// whose outer lower bound is 11 or more passes without a linear program: the attacker can
/// prove it is not small. Linear in the relations per sweep, so it runs on the whole release.
///
/// Also returns, per cell, the relation that last raised its lower bound and the one that
/// last lowered its upper bound (`u32::MAX` for none): where to widen a narrow interval.
pub(crate) fn outer_bounds(
    secret: &[bool],
    value: &[f64],
    integer: &[bool],
    relations: &[Rel],
    rel_start: &[u32],
    rel_flat: &[u32],
    max_visits: usize,
) -> OuterBounds {
    let n = value.len();
    let mut why_lo = vec![u32::MAX; n];
    let mut why_hi = vec![u32::MAX; n];
    let mut lo: Vec<f64> = (0..n)
        .map(|c| if secret[c] { 0.0 } else { value[c] })
        .collect();
    let mut hi: Vec<f64> = (0..n)
        .map(|c| if secret[c] { f64::INFINITY } else { value[c] })
        .collect();
    let mut queued = vec![false; relations.len()];
    let mut queue: std::collections::VecDeque<u32> = std::collections::VecDeque::new();
    for (r, rel) in relations.iter().enumerate() {
        if rel.cells().any(|c| secret[c as usize]) {
            queued[r] = true;
            queue.push_back(r as u32);
        }
    }
    let mut visits = 0usize;
    // Sum of the lower (upper) bounds of a relation's parts, and how many are infinite.
    let sums = |parts: &[u32], lo: &[f64], hi: &[f64]| {
        let (mut l, mut h, mut inf) = (0.0, 0.0, 0usize);
        for &p in parts {
            l += lo[p as usize];
            if hi[p as usize].is_infinite() {
                inf += 1;
            } else {
                h += hi[p as usize];
            }
        }
        (l, h, inf)
    };
    while let Some(r) = queue.pop_front() {
        queued[r as usize] = false;
        visits += 1;
        if visits > max_visits {
            break;
        }
        let rel = &relations[r as usize];
        let tol = rel.tol;
        let (sl, sh, inf) = sums(&rel.parts, &lo, &hi);
        // New bounds (lo, hi) proposed for each secret cell of the relation.
        let mut proposals: Vec<(u32, f64, f64)> = Vec::new();
        let t = rel.total as usize;
        let others_hi = |p: u32| -> f64 {
            let own = hi[p as usize];
            if own.is_infinite() {
                if inf > 1 { f64::INFINITY } else { sh }
            } else if inf > 0 {
                f64::INFINITY
            } else {
                sh - own
            }
        };
        match rel.kind {
            RelKind::Sum(k) => {
                if secret[t] {
                    let h = if inf > 0 {
                        f64::INFINITY
                    } else {
                        (sh + tol) / k
                    };
                    proposals.push((rel.total, (sl - tol) / k, h));
                }
                for &p in &rel.parts {
                    if secret[p as usize] {
                        let l = k * lo[t] - tol - others_hi(p);
                        let h = k * hi[t] + tol - (sl - lo[p as usize]);
                        proposals.push((p, l, h));
                    }
                }
            }
            RelKind::Distinct => {
                if secret[t] {
                    let l = rel
                        .parts
                        .iter()
                        .map(|&p| lo[p as usize])
                        .fold(0.0, f64::max)
                        - tol;
                    let h = if inf > 0 { f64::INFINITY } else { sh + tol };
                    proposals.push((rel.total, l, h));
                }
                for &p in &rel.parts {
                    if secret[p as usize] {
                        let l = lo[t] - tol - others_hi(p);
                        proposals.push((p, l, hi[t] + tol));
                    }
                }
            }
        }
        for (c, l, h) in proposals {
            let c = c as usize;
            let (l, h) = if integer[c] {
                ((l - 1e-6).ceil(), (h + 1e-6).floor())
            } else {
                (l, h)
            };
            let step = if integer[c] {
                0.5
            } else {
                1e-6 * lo[c].abs().max(hi[c].abs().min(1e12)).max(1.0)
            };
            let mut moved = false;
            if l > lo[c] + step {
                lo[c] = l;
                why_lo[c] = r;
                moved = true;
            }
            if h < hi[c] - step {
                hi[c] = h.max(lo[c]);
                why_hi[c] = r;
                moved = true;
            }
            if moved {
                for &q in &rel_flat[rel_start[c] as usize..rel_start[c + 1] as usize] {
                    if q != r && !queued[q as usize] {
                        queued[q as usize] = true;
                        queue.push_back(q);
                    }
                }
            }
        }
    }
    OuterBounds {
        lo,
        hi,
        why_lo,
        why_hi,
    }
}

/// Outer bounds of every cell (see [`outer_bounds`]).
pub(crate) struct OuterBounds {
    /// Lower bound of every cell (its value when published).
    pub lo: Vec<f64>,
    /// Upper bound of every cell (`+∞` when nothing bounds it).
    pub hi: Vec<f64>,
    /// Relation that last raised the lower bound (`u32::MAX` for none).
    pub why_lo: Vec<u32>,
    /// Relation that last lowered the upper bound (`u32::MAX` for none).
    pub why_hi: Vec<u32>,
}

/// Solves the attacker's bounds of every cell of one component, cutting components larger
/// than `chunk` cells into chunks of neighbouring cells (breadth-first order). Returns the
/// bounds per cell (in `cells` order), the number of LPs solved, and whether the published
/// values contradicted the relations.
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_component(
    cells: &[u32],
    secret: &[bool],
    value: &[f64],
    relations: &[Rel],
    relations_of: &dyn Fn(u32) -> Vec<u32>,
    need: &dyn Fn(u32) -> Need,
    req: &Requirement,
    chunk: usize,
    outside: &Outside<'_>,
    pre: &dyn Fn(u32) -> bool,
) -> Result<(Vec<Bounds>, usize, bool), String> {
    if cells.len() <= chunk {
        return solve_set(
            cells,
            secret,
            value,
            relations,
            relations_of,
            need,
            req,
            outside,
            pre,
        );
    }
    // Breadth-first order of the component, from its first cell, neighbours in index order.
    let members: std::collections::HashSet<u32> = cells.iter().copied().collect();
    let mut seen: std::collections::HashSet<u32> = std::collections::HashSet::new();
    let mut order: Vec<u32> = Vec::with_capacity(cells.len());
    for &start in cells {
        if !seen.insert(start) {
            continue;
        }
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(c) = queue.pop_front() {
            order.push(c);
            let mut next: Vec<u32> = relations_of(c)
                .iter()
                .flat_map(|&r| relations[r as usize].cells().collect::<Vec<_>>())
                .filter(|x| members.contains(x) && !seen.contains(x))
                .collect();
            next.sort_unstable();
            next.dedup();
            for x in next {
                seen.insert(x);
                queue.push_back(x);
            }
        }
    }
    let mut result: std::collections::HashMap<u32, Bounds> = std::collections::HashMap::new();
    let (mut lps, mut infeasible) = (0, false);
    for part in order.chunks(chunk) {
        let mut part = part.to_vec();
        part.sort_unstable();
        let (b, l, inf) = solve_set(
            &part,
            secret,
            value,
            relations,
            relations_of,
            need,
            req,
            outside,
            pre,
        )?;
        lps += l;
        infeasible |= inf;
        result.extend(part.iter().copied().zip(b));
    }
    // A cell failing in its chunk may only fail for lack of room at the chunk's edge: check it
    // again in a chunk centred on it (breadth first from the cell).
    let failing: Vec<u32> = order
        .iter()
        .copied()
        .filter(|c| result.get(c).is_some_and(|b| !b.passed))
        .collect();
    for c in failing {
        let mut local = vec![c];
        let mut inside: std::collections::HashSet<u32> = std::collections::HashSet::from([c]);
        let mut head = 0;
        while head < local.len() && local.len() < chunk {
            let x = local[head];
            head += 1;
            let mut next: Vec<u32> = relations_of(x)
                .iter()
                .flat_map(|&r| relations[r as usize].cells().collect::<Vec<_>>())
                .filter(|y| members.contains(y) && !inside.contains(y))
                .collect();
            next.sort_unstable();
            next.dedup();
            for y in next {
                if local.len() < chunk && inside.insert(y) {
                    local.push(y);
                }
            }
        }
        local.sort_unstable();
        let (b, l, _) = solve_set(
            &local,
            secret,
            value,
            relations,
            relations_of,
            need,
            req,
            outside,
            pre,
        )?;
        lps += l;
        if let Some(i) = local.iter().position(|&x| x == c) {
            result.insert(c, b[i]);
        }
    }
    let out = cells
        .iter()
        .map(|c| {
            result.get(c).copied().unwrap_or(Bounds {
                lo: f64::NAN,
                hi: f64::NAN,
                passed: false,
            })
        })
        .collect();
    Ok((out, lps, infeasible))
}

/// Builds the constraints of a set of secret cells. With `Outside::Fixed(z)`, secrets outside
/// the set are constants at `z`; with `Outside::Relaxed`
/// (or `relax`), the relations holding them are left out. Returns the constraints and whether
/// any relation of the set holds a secret outside it (the set is then not exact).
fn constraints_of(
    local: &std::collections::HashMap<u32, usize>,
    secret: &[bool],
    value: &[f64],
    relations: &[Rel],
    rel_ids: &[u32],
    outside: &Outside<'_>,
    relax: bool,
) -> (Vec<Linear>, bool) {
    let mut constraints: Vec<Linear> = Vec::new();
    let mut touches = false;
    let mut push = |terms: Vec<(u32, f64)>, cmp: Cmp, tol: f64| {
        let mut t = Vec::new();
        let mut rhs = 0.0;
        for (c, coef) in terms {
            if secret[c as usize] {
                if let Some(&i) = local.get(&c) {
                    t.push((i, coef));
                } else {
                    touches = true;
                    match outside {
                        Outside::Fixed(z) if !relax => rhs -= coef * z[c as usize],
                        _ => return,
                    }
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
    for &ri in rel_ids {
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
    (constraints, touches)
}

/// Bounds of a set of secret cells: the cells of a whole component, or one chunk of it.
///
/// When the set is a whole component, the bounds are the attacker's and the requirement is
/// checked on them. Otherwise (a chunk):
/// - with `Outside::Fixed` (a feasible completion of the release), the chunk's feasible points
///   are feasible points of the release, so its bounds lie inside the attacker's: they prove
///   that a cell *reaches* 0 and 11 (or a wide enough magnitude interval), never that it stays
///   above 11 or at 0. A cell whose chunk interval passes only that way is checked again with
///   the outside relations left out (bounds containing the attacker's): it passes only if
///   those wider bounds pass too;
/// - with `Outside::Relaxed`, the bounds contain the attacker's and the check is an
///   approximation (the caller counts it).
#[allow(clippy::too_many_arguments)]
fn solve_set(
    cells: &[u32],
    secret: &[bool],
    value: &[f64],
    relations: &[Rel],
    relations_of: &dyn Fn(u32) -> Vec<u32>,
    need: &dyn Fn(u32) -> Need,
    req: &Requirement,
    outside: &Outside<'_>,
    pre: &dyn Fn(u32) -> bool,
) -> Result<(Vec<Bounds>, usize, bool), String> {
    let local: std::collections::HashMap<u32, usize> =
        cells.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let mut rel_ids: Vec<u32> = cells.iter().flat_map(|&c| relations_of(c)).collect();
    rel_ids.sort_unstable();
    rel_ids.dedup();
    let (constraints, touches) =
        constraints_of(&local, secret, value, relations, &rel_ids, outside, false);
    let inner = touches && matches!(outside, Outside::Fixed(..));
    let mut relaxed: Option<Vec<Linear>> = None;
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
        if integer[i] { (v + 1e-6).floor() } else { v }
    };
    let mut lps = 0usize;
    let mut lo: Vec<Option<f64>> = vec![None; n];
    let mut hi: Vec<Option<f64>> = vec![None; n];
    // Settled sides: a vertex is a feasible point, so the true optimum is at least as far.
    // Cells already proved (by moves from a feasible point) take no part.
    let proved: Vec<bool> = cells.iter().map(|&c| pre(c)).collect();
    let mut low_settled = proved.clone();
    let mut high_settled = proved.clone();
    let mut infeasible = false;
    // Points of the constraints, where the programs start (skipping the search for a feasible
    // point): the true values when outside cells are held at them, then the last optimum found
    // in the same direction (the nearest to the next one).
    let mut start: [Option<Vec<f64>>; 2] = match outside {
        Outside::Fixed(z) => {
            let z: Vec<f64> = cells.iter().map(|&c| z[c as usize]).collect();
            [Some(z.clone()), Some(z)]
        }
        Outside::Relaxed => [None, None],
    };
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
            // Upwards, each open cell counts only up to what its upper side needs (11 for a
            // count, any positive value for a magnitude): one program settles many cells.
            let outcome = if maximise {
                let caps: Vec<(usize, f64)> = open
                    .iter()
                    .map(|&(i, _)| match needs[i] {
                        Need::Count { .. } => (i, req.min_count),
                        Need::Magnitude { .. } => (i, 1.0),
                    })
                    .collect();
                maximise_capped(n, &constraints, &caps, start[1].as_deref())?
            } else {
                optimise_from(n, &constraints, &open, maximise, start[0].as_deref())?
            };
            match outcome {
                Outcome::Optimum(x) => {
                    let other = &mut start[usize::from(!maximise)];
                    if other.is_none() {
                        *other = Some(x.clone());
                    }
                    start[usize::from(maximise)] = Some(x.clone());
                    for i in 0..n {
                        if maximise && !high_settled[i] && req.high_ok(needs[i], round_hi(i, x[i]))
                        {
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
    // Any feasible point settles the sides it shows: a cell at 0 reaches 0, a cell high
    // enough reaches its upper requirement.
    let settle = |x: &[f64],
                  lo: &mut [Option<f64>],
                  hi: &mut [Option<f64>],
                  low_settled: &mut [bool],
                  high_settled: &mut [bool]| {
        for j in 0..n {
            if !low_settled[j] && x[j] <= 1e-6 {
                low_settled[j] = true;
                lo[j] = Some(0.0);
            }
            if !high_settled[j] && req.high_ok(needs[j], round_hi(j, x[j])) {
                high_settled[j] = true;
                hi[j] = Some(round_hi(j, x[j]));
            }
        }
    };
    // Sides still open are first tried on one model edited in place (a feasible point with the
    // cell at 0, or at the upper requirement); only what that cannot show goes to a linear
    // program of its own.
    let mut reach: Option<Reach> = None;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if !infeasible && !proved[i] && lo[i].is_none() {
            let r = reach.get_or_insert_with(|| Reach::new(n, &constraints, start[0].as_deref()));
            if let Some(x) = r.point_with(i, 0.0) {
                settle(&x, &mut lo, &mut hi, &mut low_settled, &mut high_settled);
            }
        }
        if infeasible {
            out.push(Bounds {
                lo: f64::NAN,
                hi: f64::NAN,
                passed: false,
            });
            continue;
        }
        if proved[i] {
            out.push(Bounds {
                lo: 0.0,
                hi: f64::NAN,
                passed: true,
            });
            continue;
        }
        let l = match lo[i] {
            Some(v) => v,
            None => {
                lps += 1;
                match optimise_from(n, &constraints, &[(i, 1.0)], false, start[0].as_deref())? {
                    Outcome::Optimum(x) => round_lo(i, x[i]),
                    Outcome::Unbounded => 0.0,
                    Outcome::Infeasible => f64::NAN,
                }
            }
        };
        if hi[i].is_none() && l <= 0.0 {
            let target = match needs[i] {
                Need::Count { .. } => req.min_count,
                Need::Magnitude { .. } => 1.0,
            };
            let r = reach.get_or_insert_with(|| Reach::new(n, &constraints, start[0].as_deref()));
            if let Some(x) = r.point_with(i, target) {
                settle(&x, &mut lo, &mut hi, &mut low_settled, &mut high_settled);
            }
        }
        let h = match hi[i] {
            // A count bounded away from 0 passes or fails on its lower side alone; a failing
            // one still gets its exact upper bound (reported).
            Some(v)
                if l <= 0.0 || (matches!(needs[i], Need::Count { .. }) && l >= req.min_count) =>
            {
                v
            }
            _ => {
                lps += 1;
                match optimise_from(n, &constraints, &[(i, 1.0)], true, start[1].as_deref())? {
                    Outcome::Optimum(x) => round_hi(i, x[i]),
                    Outcome::Unbounded => f64::INFINITY,
                    Outcome::Infeasible => f64::NAN,
                }
            }
        };
        let mut passed = !l.is_nan() && !h.is_nan() && req.passes(needs[i], l, h);
        if passed && inner && !req.reaches(needs[i], l, h) {
            // Passing by staying above 11 or at 0: only bounds containing the attacker's
            // can show that.
            let wide = relaxed.get_or_insert_with(|| {
                constraints_of(&local, secret, value, relations, &rel_ids, outside, true).0
            });
            lps += 1;
            passed = match needs[i] {
                Need::Count { .. } if l >= req.min_count => {
                    match optimise_from(n, wide, &[(i, 1.0)], false, start[0].as_deref())? {
                        Outcome::Optimum(x) => round_lo(i, x[i]) >= req.min_count,
                        _ => false,
                    }
                }
                _ => match optimise_from(n, wide, &[(i, 1.0)], true, start[1].as_deref())? {
                    Outcome::Optimum(x) => round_hi(i, x[i]) <= 0.0,
                    _ => false,
                },
            };
        }
        out.push(Bounds {
            lo: l,
            hi: h,
            passed,
        });
    }
    lps += reach.map_or(0, |r| r.tries);
    Ok((out, lps, infeasible))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x1 + x2 = 20 and x2 + x3 = 15, all three secret, true values 12, 8, 7. The attacker
    /// learns x2 ∈ [0, 15], hence x1 ∈ [5, 20]: x1 could be a small count bounded away from 0.
    fn system() -> (Vec<bool>, Vec<f64>, Vec<Rel>) {
        let secret = vec![true, true, true, false, false];
        let value = vec![12.0, 8.0, 7.0, 20.0, 15.0];
        let relations = vec![
            Rel {
                kind: RelKind::Sum(1.0),
                total: 3,
                parts: vec![0, 1],
                tol: 0.0,
            },
            Rel {
                kind: RelKind::Sum(1.0),
                total: 4,
                parts: vec![1, 2],
                tol: 0.0,
            },
        ];
        (secret, value, relations)
    }

    fn solve(chunk: usize) -> Vec<Bounds> {
        let (secret, value, relations) = system();
        let relations_of = |c: u32| -> Vec<u32> {
            (0..relations.len() as u32)
                .filter(|&r| relations[r as usize].cells().any(|x| x == c))
                .collect()
        };
        let req = Requirement {
            min_count: 11.0,
            margin: 0.1,
        };
        solve_component(
            &[0, 1, 2],
            &secret,
            &value,
            &relations,
            &relations_of,
            &|_| Need::Count { sensitive: false },
            &req,
            chunk,
            &Outside::Fixed(&value),
            &|_| false,
        )
        .expect("solved")
        .0
    }

    #[test]
    fn propagation_gives_outer_bounds() {
        let (secret, value, relations) = system();
        let (start, flat) = super::super::grid::incidence(value.len(), &relations);
        let OuterBounds { lo, hi, why_hi, .. } =
            outer_bounds(&secret, &value, &[true; 5], &relations, &start, &flat, 1000);
        // Here the propagation finds the attacker's bounds exactly.
        assert_eq!(&lo[..3], &[5.0, 0.0, 0.0]);
        assert_eq!(&hi[..3], &[20.0, 15.0, 15.0]);
        assert_eq!((lo[3], hi[3]), (20.0, 20.0));
        // x2's upper bound comes from x2 + x3 = 15.
        assert_eq!(why_hi[1], 1);
    }

    #[test]
    fn a_whole_component_gives_the_attackers_bounds() {
        let b = solve(10);
        assert_eq!((b[0].lo, b[0].hi, b[0].passed), (5.0, 20.0, false));
        // Passing cells carry bounds inside the attacker's that show it: 0 and 11 or more.
        for cell in &b[1..] {
            assert!(cell.passed && cell.lo == 0.0, "{cell:?}");
            assert!((11.0..=15.0).contains(&cell.hi), "{cell:?}");
        }
    }

    #[test]
    fn a_chunk_never_proves_that_a_count_stays_above_eleven() {
        // Alone in its chunk with x2 held at 8, x1 looks exactly 12 (≥ 11): that must not
        // pass, since the release only bounds it to [5, 20].
        let b = solve(1);
        assert!(!b[0].passed, "{:?}", b[0]);
        // Held chunks only narrow intervals: nothing passes that the whole would fail.
        let whole = solve(10);
        for (chunked, exact) in b.iter().zip(&whole) {
            assert!(!chunked.passed || exact.passed);
        }
    }

    #[test]
    fn reaching_both_sides_is_what_a_narrower_interval_can_prove() {
        let req = Requirement {
            min_count: 11.0,
            margin: 0.1,
        };
        let count = Need::Count { sensitive: false };
        assert!(req.reaches(count, 0.0, 11.0));
        assert!(!req.reaches(count, 12.0, 30.0));
        assert!(req.passes(count, 12.0, 30.0));
        let magnitude = Need::Magnitude { sensitive: false };
        assert!(req.reaches(magnitude, 9.0, 11.0));
        assert!(!req.reaches(magnitude, 10.0, 10.5));
        assert!(!req.reaches(magnitude, 0.0, 0.0));
    }
}
