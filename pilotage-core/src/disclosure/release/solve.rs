//! The attacker's intervals per connected component of secret cells, and the value-free
//! protection requirement checked on them.
//!
//! Published cells are constants; two secret cells are linked when a relation holds both. A
//! component's linear program is therefore exactly the release's program restricted to it.

use super::super::audit::lp::{Cmp, Linear, Outcome, Reach, Reached, optimise_from};
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
    /// Unknown: relations holding them would be left out, so a chunk's intervals would be wider
    /// than the release's. Only whole components are solved this way (where nothing lies
    /// outside): [`solve_component`] refuses to cut a component into chunks without a point.
    Unknown,
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

/// Unknowns of one chunk of a component too large to be solved whole.
pub(crate) const CHUNK: usize = 1000;

/// A feasible point of one whole component: `value` with every cell of `cells` replaced by a
/// solution of the component's relations (published cells as constants, `x ≥ 0`), found by
/// one linear program with no objective. `None` when the solver proves there is none (the
/// published values contradict the relations); an error when it cannot tell.
///
/// Why: the audit does not know the true values, yet chunks of a large component need the
/// cells outside each chunk held at *some* feasible point of the release for the chunk's
/// feasible points to be the release's (see [`Outside::Fixed`]).
pub(crate) fn feasible_point(
    cells: &[u32],
    secret: &[bool],
    value: &[f64],
    relations: &[Rel],
    relations_of: &dyn Fn(u32) -> Vec<u32>,
) -> Result<Option<Vec<f64>>, String> {
    let local: std::collections::HashMap<u32, usize> =
        cells.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let mut rel_ids: Vec<u32> = cells.iter().flat_map(|&c| relations_of(c)).collect();
    rel_ids.sort_unstable();
    rel_ids.dedup();
    let (constraints, _) = constraints_of(
        &local,
        secret,
        value,
        relations,
        &rel_ids,
        &Outside::Unknown,
        false,
    );
    let reach = tally::time(0, || Reach::new(cells.len(), &constraints));
    if reach.infeasible() {
        return Ok(None);
    }
    let n = cells.len();
    let first: Vec<f64> = (0..n)
        .map(|i| reach.first_value(i))
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| format!("no feasible point found for a component of {n} cells"))?;
    let mut point = value.to_vec();
    for (i, &c) in cells.iter().enumerate() {
        point[c as usize] = first[i];
    }
    Ok(Some(point))
}

/// Solves the attacker's bounds of every cell of one component, cutting components larger
/// than `whole` cells into chunks of [`CHUNK`] neighbouring cells (breadth-first order).
/// Returns the bounds per cell (in `cells` order), the number of LPs solved, and whether the
/// published values contradicted the relations.
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_component(
    cells: &[u32],
    secret: &[bool],
    value: &[f64],
    relations: &[Rel],
    relations_of: &dyn Fn(u32) -> Vec<u32>,
    need: &dyn Fn(u32) -> Need,
    req: &Requirement,
    whole: usize,
    outside: &Outside<'_>,
    pre: &dyn Fn(u32) -> bool,
) -> Result<(Vec<Bounds>, usize, bool), String> {
    let chunk = CHUNK.min(whole.max(1));
    if cells.len() > whole && matches!(outside, Outside::Unknown) {
        return Err(format!(
            "a component of {} cells cannot be cut into chunks without a feasible point to hold \
             the cells outside each chunk at",
            cells.len()
        ));
    }
    if cells.len() <= whole {
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
    let members: std::collections::HashSet<u32> = cells.iter().copied().collect();
    let mut lps = 0usize;
    // Breadth-first order of the component, from its first cell, neighbours in index order.
    let mut seen: std::collections::HashSet<u32> = std::collections::HashSet::new();
    let mut order: Vec<u32> = Vec::with_capacity(cells.len());
    for &start in cells {
        if !seen.insert(start) {
            continue;
        }
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(c) = queue.pop_front() {
            order.push(c);
            for x in unvisited_neighbours(c, &members, &seen, relations, relations_of) {
                seen.insert(x);
                queue.push_back(x);
            }
        }
    }
    let mut result: std::collections::HashMap<u32, Bounds> = std::collections::HashMap::new();
    let mut infeasible = false;
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
        for (&c, b) in part.iter().zip(&b) {
            if b.passed && !pre(c) {
                tally::stage(0);
            }
        }
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
        let local = neighbourhood(c, chunk, &members, relations, relations_of);
        let (b, l, _) = solve_set(
            &local,
            secret,
            value,
            relations,
            relations_of,
            need,
            req,
            outside,
            &|x| x != c || pre(x),
        )?;
        lps += l;
        if let Some(i) = local.iter().position(|&x| x == c) {
            tally::stage(if b[i].passed { 1 } else { 2 });
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

/// Time and count of the linear programs by kind, summed over threads (for tracing).
pub(crate) mod tally {
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Kinds: feasible-point edits (reach tries), single-value programs, relaxed checks.
    pub const KINDS: [&str; 3] = ["reach", "single", "relaxed"];
    static COUNT: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];
    static NANOS: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];
    /// Where the open values of cut components were settled: passed in a chunk, passed in
    /// a chunk centred on them, failed there.
    pub const STAGES: [&str; 3] = ["chunk", "centred", "failed"];
    static STAGE: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

    /// Counts one value settled at stage `k`.
    pub fn stage(k: usize) {
        STAGE[k].fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `f`, adding its time to kind `k`.
    pub fn time<T>(k: usize, f: impl FnOnce() -> T) -> T {
        let t = std::time::Instant::now();
        let out = f();
        COUNT[k].fetch_add(1, Ordering::Relaxed);
        NANOS[k].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }

    static LAST: AtomicU64 = AtomicU64::new(0);

    /// Whether a minute has passed since the last call that returned true (`now` in seconds
    /// since any fixed instant): paces progress lines.
    pub fn due(now: u64) -> bool {
        let last = LAST.load(Ordering::Relaxed);
        now >= last + 60
            && LAST
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// One line: count and seconds per kind.
    pub fn line() -> String {
        KINDS
            .iter()
            .enumerate()
            .map(|(k, name)| {
                format!(
                    "{name} {} in {:.1} s",
                    COUNT[k].load(Ordering::Relaxed),
                    NANOS[k].load(Ordering::Relaxed) as f64 / 1e9
                )
            })
            .chain(
                STAGES
                    .iter()
                    .enumerate()
                    .map(|(k, name)| format!("{name} {}", STAGE[k].load(Ordering::Relaxed))),
            )
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What feasible points alone tell about a count (see [`decide_count`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    /// Passes: reaches 0 and 11 (bounds shown, NaN where not known).
    Pass(f64, f64),
    /// Passes by staying at 11 or more, or at 0, if these bounds are the attacker's.
    Stays(f64, f64),
    /// Fails (bounds as far as known, NaN where not known).
    Fail(f64, f64),
    /// The solver could not tell, or the value is not a count: solve its programs.
    Exact,
}

/// Decides a count from feasible points of its set alone, with no optimisation: `v` is its
/// value at a known feasible point (the true value on the protection side), `lo` and `hi` the
/// sides already shown by earlier points, and `at(val)` looks for a feasible point with the
/// count at `val`. Counts are integers and the attacker's bounds are rounded inward, so "no
/// point at 0" means a lower bound of at least 1, "none at 10" (with `v ≥ 11`) one of at least
/// 11, "none at 11" an upper bound of at most 10 and "none at 1" an upper bound of 0.
fn decide_count(
    v: f64,
    sensitive: bool,
    min_count: f64,
    lo: Option<f64>,
    hi: Option<f64>,
    at: &mut dyn FnMut(f64) -> Reached,
) -> Verdict {
    let nan = f64::NAN;
    let reaches_zero = if lo.is_some_and(|l| l <= 0.0) {
        true
    } else {
        match at(0.0) {
            Reached::Point(_) => true,
            Reached::Never => false,
            Reached::Unknown => return Verdict::Exact,
        }
    };
    if reaches_zero {
        let high = hi.unwrap_or(nan).max(v);
        if high >= min_count - 1e-9 {
            return Verdict::Pass(0.0, high);
        }
        return match at(min_count) {
            Reached::Point(_) => Verdict::Pass(0.0, min_count),
            Reached::Unknown => Verdict::Exact,
            // At most 10 above: fails unless it is 0 everywhere outside a sensitive row.
            Reached::Never if v > 1e-9 || sensitive => Verdict::Fail(0.0, nan),
            Reached::Never => match at(1.0) {
                Reached::Never => Verdict::Stays(0.0, 0.0),
                Reached::Point(_) => Verdict::Fail(0.0, nan),
                Reached::Unknown => Verdict::Exact,
            },
        };
    }
    // At least 1: passes only at 11 or more.
    if v < min_count - 1e-9 {
        return Verdict::Fail(nan, v);
    }
    match at(min_count - 1.0) {
        Reached::Never => Verdict::Stays(min_count, v),
        Reached::Point(_) => Verdict::Fail(nan, nan),
        Reached::Unknown => Verdict::Exact,
    }
}

/// Decides a magnitude from feasible points alone where they show a wide enough interval:
/// `v` its value at a known feasible point, `lo` the lower side already shown. Reaching 0 and
/// a positive value passes; otherwise, with `around`, points at `v × (1 − margin)` and
/// `v × (1 + margin)` do (the interval's relative width only grows when it widens). Anything
/// else is left to the linear programs ([`Verdict::Exact`]).
fn decide_magnitude(
    v: f64,
    margin: f64,
    lo: Option<f64>,
    around: bool,
    at: &mut dyn FnMut(f64) -> Reached,
) -> Verdict {
    let reaches_zero = lo.is_some_and(|l| l <= 0.0) || matches!(at(0.0), Reached::Point(_));
    if reaches_zero {
        if v > 0.0 {
            return Verdict::Pass(0.0, v);
        }
        return match at(1.0) {
            Reached::Point(_) => Verdict::Pass(0.0, 1.0),
            _ => Verdict::Exact,
        };
    }
    if v <= 0.0 || !around {
        return Verdict::Exact;
    }
    let (a, b) = (v * (1.0 - margin), v * (1.0 + margin));
    if matches!(at(a), Reached::Point(_)) && matches!(at(b), Reached::Point(_)) {
        return Verdict::Pass(a, b);
    }
    Verdict::Exact
}

/// Largest set on which a value passing by staying at 11 or more (or at 0) is checked with
/// the outside relations left out, or a value the feasible points cannot decide gets
/// programs of its own. On larger chunks such a value is left failing (widened): one program
/// of a thousand unknowns per value costs more than the suppression it saves.
const RELAXED_MAX: usize = 200;

/// The members of the component that share a relation with `x` and are not yet `visited`,
/// in index order (the breadth-first walks' step).
fn unvisited_neighbours(
    x: u32,
    members: &std::collections::HashSet<u32>,
    visited: &std::collections::HashSet<u32>,
    relations: &[Rel],
    relations_of: &dyn Fn(u32) -> Vec<u32>,
) -> Vec<u32> {
    let mut next: Vec<u32> = relations_of(x)
        .iter()
        .flat_map(|&r| relations[r as usize].cells())
        .filter(|y| members.contains(y) && !visited.contains(y))
        .collect();
    next.sort_unstable();
    next.dedup();
    next
}

/// The cell `c` and up to `size − 1` members of its component nearest to it (breadth first
/// over the relations, neighbours in index order), sorted.
fn neighbourhood(
    c: u32,
    size: usize,
    members: &std::collections::HashSet<u32>,
    relations: &[Rel],
    relations_of: &dyn Fn(u32) -> Vec<u32>,
) -> Vec<u32> {
    let mut local = vec![c];
    let mut inside: std::collections::HashSet<u32> = std::collections::HashSet::from([c]);
    let mut head = 0;
    while head < local.len() && local.len() < size {
        let x = local[head];
        head += 1;
        for y in unvisited_neighbours(x, members, &inside, relations, relations_of) {
            if local.len() < size && inside.insert(y) {
                local.push(y);
            }
        }
    }
    local.sort_unstable();
    local
}

/// Builds the constraints of a set of secret cells. With `Outside::Fixed(z)`, secrets outside
/// the set are constants at `z`; with `Outside::Unknown`
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
/// - `Outside::Unknown` is for whole components only (see [`solve_component`]).
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
    // Where the programs of one value start (skipping the search for a feasible point): the
    // true values when outside cells are held at them.
    let start: Option<Vec<f64>> = match outside {
        Outside::Fixed(z) => Some(cells.iter().map(|&c| z[c as usize]).collect()),
        Outside::Unknown => None,
    };
    // One model, solved once and edited in place, answers the questions below (points with a
    // value held at 0 or 11) for every value not proved yet. Its first solve also tells
    // whether the published values contradict the relations. There are no programs over all open values at once: each
    // cost as much as hundreds of edits, and settled fewer values (on the four-dataset bench
    // at scale 0.002 the protection took 3.8 s without them instead of 8.3 s, the same mask).
    let mut reach: Option<Reach> = None;
    if proved.iter().any(|&p| !p) {
        let r = Reach::new(n, &constraints);
        infeasible = r.infeasible();
        reach = Some(r);
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
    // Whether value `i`, passing by staying at 11 or more (`above`) or at 0, passes: exact on
    // a whole component; on a chunk only bounds containing the attacker's (the relations
    // reaching outside left out) can show it, and chunks over `RELAXED_MAX` values leave it
    // failing (widened). Also returns the number of programs solved.
    let mut relaxed: Option<Vec<Linear>> = None;
    let mut stays = |i: usize, above: bool| -> Result<(bool, usize), String> {
        if !inner {
            return Ok((true, 0));
        }
        if n > RELAXED_MAX {
            return Ok((false, 0));
        }
        let wide = relaxed.get_or_insert_with(|| {
            constraints_of(&local, secret, value, relations, &rel_ids, outside, true).0
        });
        let found = tally::time(2, || {
            optimise_from(n, wide, &[(i, 1.0)], !above, start.as_deref())
        })?;
        let passed = match found {
            Outcome::Optimum(x) if above => round_lo(i, x[i]) >= req.min_count,
            Outcome::Optimum(x) => round_hi(i, x[i]) <= 0.0,
            _ => false,
        };
        Ok((passed, 1))
    };
    let mut out = Vec::with_capacity(n);
    let fixed = matches!(outside, Outside::Fixed(..));
    for i in 0..n {
        // A count is decided by feasible points alone where the solver can tell (see
        // `decide_count`); only the rest, and the failures the audit reports, get programs
        // of their own.
        let mut verdict = Verdict::Exact;
        if let Some(r) = reach.as_mut().filter(|_| !infeasible && !proved[i]) {
            let reference = match outside {
                Outside::Fixed(z) => Some(z[cells[i] as usize]),
                Outside::Unknown => r.first_value(i),
            };
            if let Some(v) = reference {
                let (lo_i, hi_i) = (lo[i], hi[i]);
                let mut at = |val: f64| -> Reached {
                    let found = tally::time(0, || r.try_point(i, val));
                    if let Reached::Point(x) = &found {
                        settle(x, &mut lo, &mut hi, &mut low_settled, &mut high_settled);
                    }
                    found
                };
                verdict = match needs[i] {
                    Need::Count { sensitive } => {
                        decide_count(v, sensitive, req.min_count, lo_i, hi_i, &mut at)
                    }
                    // The audit's reference point is a vertex, rarely inside a wide
                    // interval: it only asks whether its magnitudes reach 0.
                    Need::Magnitude { .. } => decide_magnitude(v, req.margin, lo_i, fixed, &mut at),
                };
                if matches!(verdict, Verdict::Fail(..)) && !fixed {
                    verdict = Verdict::Exact;
                }
                if verdict == Verdict::Exact && inner && n > RELAXED_MAX {
                    // Programs of a thousand unknowns per value on a chunk whose bounds only
                    // show passes by reaching: left failing (widened), sound.
                    verdict = Verdict::Fail(f64::NAN, f64::NAN);
                }
            }
        }
        match verdict {
            Verdict::Exact => {
                if let Some(x) = reach
                    .as_mut()
                    .filter(|_| !infeasible && !proved[i] && lo[i].is_none())
                    .and_then(|r| tally::time(0, || r.point_with(i, 0.0)))
                {
                    settle(&x, &mut lo, &mut hi, &mut low_settled, &mut high_settled);
                }
            }
            Verdict::Pass(l, h) | Verdict::Fail(l, h) => {
                out.push(Bounds {
                    lo: l,
                    hi: h,
                    passed: matches!(verdict, Verdict::Pass(..)),
                });
                continue;
            }
            Verdict::Stays(l, h) => {
                let (passed, k) = stays(i, l >= req.min_count)?;
                lps += k;
                out.push(Bounds {
                    lo: l,
                    hi: h,
                    passed,
                });
                continue;
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
                match tally::time(1, || {
                    optimise_from(n, &constraints, &[(i, 1.0)], false, start.as_deref())
                })? {
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
            // Not proved and not infeasible here: the model exists.
            if let Some(x) = reach
                .as_mut()
                .and_then(|r| tally::time(0, || r.point_with(i, target)))
            {
                settle(&x, &mut lo, &mut hi, &mut low_settled, &mut high_settled);
            }
        }
        let not_small = matches!(needs[i], Need::Count { .. }) && l >= req.min_count;
        let h = match hi[i] {
            // A count bounded away from 0 passes or fails on its lower side alone; a failing
            // one still gets its exact upper bound (reported).
            Some(v) if l <= 0.0 || not_small => v,
            // A count of 11 or more passes on its lower side whatever its upper bound.
            None if not_small => f64::INFINITY,
            _ => {
                lps += 1;
                match tally::time(1, || {
                    optimise_from(n, &constraints, &[(i, 1.0)], true, start.as_deref())
                })? {
                    Outcome::Optimum(x) => round_hi(i, x[i]),
                    Outcome::Unbounded => f64::INFINITY,
                    Outcome::Infeasible => f64::NAN,
                }
            }
        };
        let mut passed = !l.is_nan() && !h.is_nan() && req.passes(needs[i], l, h);
        if passed && !req.reaches(needs[i], l, h) {
            let (p, k) = stays(i, not_small)?;
            passed = p;
            lps += k;
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

    fn solve(chunk: usize, outside: Outside<'_>) -> Vec<Bounds> {
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
            &outside,
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
        let value = system().1;
        // The audit side reports the exact interval of a failing cell; the protection side
        // only needs to know that it fails.
        for outside in [Outside::Unknown, Outside::Fixed(&value)] {
            let exact = matches!(outside, Outside::Unknown);
            let b = solve(10, outside);
            assert!(!b[0].passed);
            if exact {
                assert_eq!((b[0].lo, b[0].hi), (5.0, 20.0));
            }
            // Passing cells carry bounds inside the attacker's that show it: 0 and 11 or more.
            for cell in &b[1..] {
                assert!(cell.passed && cell.lo == 0.0, "{cell:?}");
                assert!((11.0..=15.0).contains(&cell.hi), "{cell:?}");
            }
        }
    }

    /// `decide_count` with scripted answers: `points` lists the values at which a feasible
    /// point exists, `unknown` those the solver cannot tell.
    fn decide(
        v: f64,
        sensitive: bool,
        lo: Option<f64>,
        points: &[f64],
        unknown: &[f64],
    ) -> Verdict {
        let mut at = |val: f64| {
            if unknown.contains(&val) {
                Reached::Unknown
            } else if points.contains(&val) {
                Reached::Point(vec![val])
            } else {
                Reached::Never
            }
        };
        decide_count(v, sensitive, 11.0, lo, None, &mut at)
    }

    #[test]
    fn feasible_points_alone_decide_most_counts() {
        // A small count reaching 0 and 11 passes; one that cannot reach 0 fails.
        assert_eq!(
            decide(3.0, false, None, &[0.0, 11.0], &[]),
            Verdict::Pass(0.0, 11.0)
        );
        assert!(matches!(
            decide(3.0, false, None, &[11.0], &[]),
            Verdict::Fail(..)
        ));
        // Reaching 0 but never 11: fails.
        assert!(matches!(
            decide(3.0, false, None, &[0.0], &[]),
            Verdict::Fail(..)
        ));
        // A large count that reaches 0 passes on its own value.
        assert_eq!(
            decide(40.0, false, None, &[0.0], &[]),
            Verdict::Pass(0.0, 40.0)
        );
        // A large count with no point at 10 stays at 11 or more; one with a point at 10 fails.
        assert_eq!(
            decide(40.0, false, None, &[], &[]),
            Verdict::Stays(11.0, 40.0)
        );
        assert!(matches!(
            decide(40.0, false, None, &[10.0], &[]),
            Verdict::Fail(..)
        ));
        // A zero that can be nothing else stays at 0, unless its row is sensitive.
        assert_eq!(
            decide(0.0, false, Some(0.0), &[], &[]),
            Verdict::Stays(0.0, 0.0)
        );
        assert!(matches!(
            decide(0.0, true, Some(0.0), &[], &[]),
            Verdict::Fail(..)
        ));
        assert!(matches!(
            decide(0.0, false, Some(0.0), &[1.0], &[]),
            Verdict::Fail(..)
        ));
        // A magnitude reaching 0, or 10 % on each side of its value, passes.
        let mut from_zero = |_: f64| Reached::Point(vec![0.0]);
        assert_eq!(
            decide_magnitude(50.0, 0.1, None, true, &mut from_zero),
            Verdict::Pass(0.0, 50.0)
        );
        let mut around_100 = |val: f64| {
            if (89.0..=111.0).contains(&val) {
                Reached::Point(vec![val])
            } else {
                Reached::Never
            }
        };
        assert!(matches!(
            decide_magnitude(100.0, 0.1, None, true, &mut around_100),
            Verdict::Pass(..)
        ));
        assert_eq!(
            decide_magnitude(300.0, 0.1, None, true, &mut around_100),
            Verdict::Exact
        );
        // Whatever the solver cannot tell goes to the linear programs.
        assert_eq!(decide(3.0, false, None, &[], &[0.0]), Verdict::Exact);
        assert_eq!(decide(40.0, false, None, &[], &[10.0]), Verdict::Exact);
    }

    #[test]
    fn a_chunk_never_proves_that_a_count_stays_above_eleven() {
        // Alone in its chunk with x2 held at 8, x1 looks exactly 12 (≥ 11): that must not
        // pass, since the release only bounds it to [5, 20].
        let value = system().1;
        let b = solve(1, Outside::Fixed(&value));
        assert!(!b[0].passed, "{:?}", b[0]);
        // Held chunks only narrow intervals: nothing passes that the whole would fail.
        let whole = solve(10, Outside::Fixed(&value));
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
