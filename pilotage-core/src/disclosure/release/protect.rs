//! Protection of a release of cubes: primary rules, a fast cost-ordered pass over every
//! relation, then an interval pass per connected component of secret cells.

use std::collections::{HashMap, VecDeque};

use crate::cube::{Cube, MeasureValues};
use crate::dataset::{Definition, MeasureKind};

use super::super::DisclosureError;
use super::grid::{self, Class, Rel, RelKind, System, Table};
use super::moves::{self, Mover};
use super::previous::{self, Before, Kept};
use super::solve::{self, Need, Requirement};
use super::{CellReport, ProtectOptions, ProtectStats, ReleaseProtection};

/// Size class of a value in the traces of failing values: `0`, `small` (below the count
/// threshold) or `large`.
fn value_class(v: f64, min_count: f64) -> &'static str {
    if v <= 0.0 {
        "0"
    } else if v < min_count {
        "small"
    } else {
        "large"
    }
}

/// Builds the tables of the release from the cubes (coordinates only).
fn tables_of(
    cubes: &[Cube],
    definitions: &[Definition],
    options: &ProtectOptions,
    geography: &crate::cube::Geography,
) -> Result<Vec<Table>, DisclosureError> {
    let mut tables = Vec::with_capacity(cubes.len());
    for cube in cubes {
        let def = definitions
            .iter()
            .find(|d| d.id == cube.dataset)
            .ok_or_else(|| DisclosureError::Release {
                dataset: cube.dataset.clone(),
                message: "no definition for this cube".to_owned(),
            })?;
        let mut dims = Vec::with_capacity(cube.dimensions.len());
        for d in &cube.dimensions {
            let level_names: Vec<String> = d
                .member_level
                .iter()
                .map(|&l| d.level_names[l as usize].clone())
                .collect();
            dims.push(grid::dim_of(
                def,
                &d.id,
                d.codes.clone(),
                &level_names,
                d.rows.clone(),
                geography,
                options.sensitive_dimensions.contains(&d.id),
            )?);
        }
        let ids: Vec<String> = cube.measures.iter().map(|m| m.id.clone()).collect();
        tables.push(Table {
            dataset: cube.dataset.clone(),
            rows: cube.len(),
            dims,
            measures: grid::measures_of(def, &ids)?,
        });
    }
    Ok(tables)
}

/// The true value of a cube's value (unrounded for magnitudes), or `None` when null.
fn true_value(cube: &Cube, m: usize, row: usize) -> Option<f64> {
    let measure = &cube.measures[m];
    match &measure.values {
        MeasureValues::Counts(v) => v[row].map(|x| x as f64),
        MeasureValues::Values(v) => {
            let shown = v[row]?;
            match (&measure.companion, measure.kind) {
                (Some(c), MeasureKind::Magnitude) => c.raw.get(row).copied().or(Some(shown)),
                _ => Some(shown),
            }
        }
    }
}

/// Relation visits of the outer-bound propagation, per relation of the release.
const OUTER_VISITS: usize = 40;
/// Most rounds of the bounds pass.
const BOUNDS_PASSES: usize = 30;

/// The value a cube shows (rounded for magnitudes), or `None` when null.
fn shown_value(cube: &Cube, m: usize, row: usize) -> Option<f64> {
    match &cube.measures[m].values {
        MeasureValues::Counts(v) => v[row].map(|x| x as f64),
        MeasureValues::Values(v) => v[row],
    }
}

/// State of the suppression.
struct State<'a> {
    tables: &'a [Table],
    system: &'a System,
    class: Vec<Class>,
    sensitive: Vec<bool>,
    cost: Vec<f64>,
    hidden: Vec<bool>,
    /// Published unchanged by the previous release: known to everyone, never hidden to
    /// protect another value.
    known: Vec<bool>,
    rel_start: Vec<u32>,
    rel_flat: Vec<u32>,
    req: Requirement,
}

impl State<'_> {
    fn relations_of(&self, c: u32) -> &[u32] {
        &self.rel_flat[self.rel_start[c as usize] as usize..self.rel_start[c as usize + 1] as usize]
    }

    /// Outer bounds of every value under the current mask (see [`solve::outer_bounds`]).
    fn outer_bounds(&self, integer: &[bool]) -> solve::OuterBounds {
        solve::outer_bounds(
            &self.hidden,
            &self.system.value,
            integer,
            &self.system.relations,
            &self.rel_start,
            &self.rel_flat,
            OUTER_VISITS * self.system.relations.len(),
        )
    }

    fn need(&self, c: u32) -> Need {
        let sensitive = self.sensitive[c as usize];
        match self.class[c as usize] {
            Class::Magnitude => Need::Magnitude { sensitive },
            _ => Need::Count { sensitive },
        }
    }

    fn eligible(&self, c: u32) -> bool {
        let c = c as usize;
        !self.hidden[c]
            && !self.known[c]
            && self.system.present[c]
            && matches!(self.class[c], Class::Count | Class::Magnitude)
    }

    /// The cheapest eligible cell of a relation (positive values only when `positive`).
    fn cheapest(&self, rel: &Rel, positive: bool) -> Option<u32> {
        rel.cells()
            .filter(|&c| self.eligible(c) && (!positive || self.system.value[c as usize] > 0.0))
            .min_by(|&a, &b| {
                self.cost[a as usize]
                    .total_cmp(&self.cost[b as usize])
                    .then(a.cmp(&b))
            })
    }

    /// The cell to hide so that the relation no longer discloses a secret of it, if any is
    /// needed (`Some(None)` when one is needed but none is available).
    fn settle(&self, rel: &Rel) -> Option<Option<u32>> {
        let hidden: Vec<u32> = rel.cells().filter(|&c| self.hidden[c as usize]).collect();
        if hidden.is_empty() {
            return None;
        }
        let value = |c: u32| self.system.value[c as usize];
        match rel.kind {
            RelKind::Sum(k) => {
                if hidden.len() == 1 {
                    return Some(self.cheapest(rel, false));
                }
                if self.hidden[rel.total as usize] {
                    return None;
                }
                let mass: f64 = k * value(rel.total)
                    - rel
                        .parts
                        .iter()
                        .filter(|&&p| !self.hidden[p as usize])
                        .map(|&p| value(p))
                        .sum::<f64>();
                let mass = mass.max(0.0);
                let fails = hidden.iter().any(|&c| {
                    let hi = if self.class[c as usize] == Class::Count {
                        (mass + 1e-6).floor()
                    } else {
                        mass
                    };
                    !self.req.passes(self.need(c), 0.0, hi)
                });
                fails.then(|| {
                    self.cheapest(rel, true)
                        .or_else(|| self.cheapest(rel, false))
                })
            }
            RelKind::Distinct => {
                if hidden.len() != 1 {
                    return None;
                }
                let c = hidden[0];
                let (lo, hi) = if c == rel.total {
                    let parts = rel.parts.iter().map(|&p| value(p));
                    (parts.clone().fold(0.0, f64::max), parts.sum::<f64>())
                } else {
                    let others: f64 = rel
                        .parts
                        .iter()
                        .filter(|&&p| p != c)
                        .map(|&p| value(p))
                        .sum();
                    ((value(rel.total) - others).max(0.0), value(rel.total))
                };
                (!self.req.passes(self.need(c), lo, hi)).then(|| self.cheapest(rel, false))
            }
        }
    }

    /// Runs the fast pass from the given relations until no relation needs more; returns the
    /// cells hidden.
    fn fast_pass(&mut self, start: Vec<u32>) -> Vec<u32> {
        let mut queued = vec![false; self.system.relations.len()];
        let mut queue: VecDeque<u32> = VecDeque::new();
        for r in start {
            if !queued[r as usize] {
                queued[r as usize] = true;
                queue.push_back(r);
            }
        }
        let mut added = Vec::new();
        while let Some(r) = queue.pop_front() {
            queued[r as usize] = false;
            let rel = &self.system.relations[r as usize];
            if let Some(Some(c)) = self.settle(rel) {
                self.hidden[c as usize] = true;
                added.push(c);
                let again: Vec<u32> = std::iter::once(r)
                    .chain(self.relations_of(c).iter().copied())
                    .collect();
                for q in again {
                    if !queued[q as usize] {
                        queued[q as usize] = true;
                        queue.push_back(q);
                    }
                }
            }
        }
        added
    }

    /// The cheapest published cell near a failing cell: in its relations, else through the
    /// hidden cells of its relations (breadth first, up to three steps).
    fn widen_from(&self, cell: u32) -> Option<u32> {
        let mut frontier = vec![cell];
        let mut seen: HashMap<u32, ()> = HashMap::new();
        seen.insert(cell, ());
        for _ in 0..4 {
            let mut best: Option<u32> = None;
            let mut next = Vec::new();
            for &f in &frontier {
                for &r in self.relations_of(f) {
                    for c in self.system.relations[r as usize].cells() {
                        if self.eligible(c) {
                            let better = match best {
                                None => true,
                                Some(b) => self.cost[c as usize]
                                    .total_cmp(&self.cost[b as usize])
                                    .then(c.cmp(&b))
                                    .is_lt(),
                            };
                            if better {
                                best = Some(c);
                            }
                        } else if self.hidden[c as usize] && seen.insert(c, ()).is_none() {
                            next.push(c);
                        }
                    }
                }
            }
            if best.is_some() {
                return best;
            }
            next.sort_unstable();
            frontier = next;
            if frontier.is_empty() {
                break;
            }
        }
        None
    }
}

/// Protects a release: decides, for every value of every cube, whether it is published or
/// `secret`, so that no primary secret can be recovered or bounded too closely through any
/// relation of the release (see the module documentation for the relations and the
/// requirement). Deterministic: same cubes, definitions and options give the same answer.
pub fn protect_release(
    cubes: &[Cube],
    definitions: &[Definition],
    options: &ProtectOptions,
) -> Result<ReleaseProtection, DisclosureError> {
    options.rules.validate()?;
    let geography = match &options.geography {
        Some(g) => g.clone(),
        None => super::reference_geography()?,
    };
    let tables = tables_of(cubes, definitions, options, &geography)?;
    let system = grid::build_system(
        &tables,
        &|t, m, r| true_value(&cubes[t], m, r),
        &|t, m, r| match &cubes[t].measures[m].values {
            MeasureValues::Counts(v) => v[r].is_some(),
            MeasureValues::Values(v) => v[r].is_some(),
        },
    )?;
    let n = system.value.len();
    let rules = &options.rules;
    let mut class = vec![Class::Derived; n];
    let mut sensitive = vec![false; n];
    let mut cost = vec![0.0; n];
    let mut primary = vec![false; n];
    for (ti, t) in tables.iter().enumerate() {
        let cube = &cubes[ti];
        for (mi, m) in t.measures.iter().enumerate() {
            let companion = cube.measures[mi].companion.as_ref();
            for r in 0..t.rows {
                let c = system.base[ti][mi] + r;
                class[c] = m.class;
                if !system.present[c] {
                    continue;
                }
                sensitive[c] = t.in_sensitive_row(r);
                let v = system.value[c];
                let level = f64::from(t.level(r));
                cost[c] = (1.0 + v.max(0.0))
                    * (1.0 + level).powi(2)
                    * if t.headline(r) { 50.0 } else { 1.0 };
                primary[c] = match m.class {
                    Class::Count => rules.count_is_sensitive(v),
                    Class::Magnitude => match companion {
                        Some(co) if v > 0.0 => {
                            let structures = u64::from(co.structures[r]);
                            let (top1, top2) = (co.top1[r], co.top2[r]);
                            let persons = co.persons[r];
                            structures < rules.min_contributors
                                || top1 > rules.dominance * v
                                || (persons > 0 && persons < rules.min_persons)
                                || rules.p_rule.is_some_and(|p| v - top1 - top2 < p * top1)
                        }
                        _ => false,
                    },
                    Class::Public | Class::Derived => false,
                };
            }
        }
    }
    // Sensitive rows: a breakdown whose total is from 1 to 10 is secret entirely.
    for (ti, t) in tables.iter().enumerate() {
        let sensitive_dims: Vec<usize> =
            (0..t.dims.len()).filter(|&d| t.dims[d].sensitive).collect();
        if sensitive_dims.is_empty() {
            continue;
        }
        let links = grid::links(t)?;
        for &sd in &sensitive_dims {
            let mut up: HashMap<u32, u32> = HashMap::new();
            for l in links.iter().filter(|l| l.dim as usize == sd) {
                for &ch in &l.children {
                    up.insert(ch, l.parent);
                }
            }
            let dim = &t.dims[sd];
            for r in 0..t.rows as u32 {
                if dim.depth[dim.rows[r as usize] as usize] == 0 {
                    continue;
                }
                let mut top = r;
                while let Some(&p) = up.get(&top) {
                    top = p;
                }
                if dim.depth[dim.rows[top as usize] as usize] != 0 {
                    continue;
                }
                // The row total: persons (or the first count) at the top member.
                let trigger = t
                    .measures
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.class == Class::Count)
                    .any(|(mi, _)| {
                        rules.count_is_sensitive(system.value[system.base[ti][mi] + top as usize])
                    });
                if trigger {
                    for (mi, m) in t.measures.iter().enumerate() {
                        if matches!(m.class, Class::Count | Class::Magnitude) {
                            for row in [r, top] {
                                let c = system.base[ti][mi] + row as usize;
                                if system.present[c] {
                                    primary[c] = true;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    // The previous release: its unchanged published values are known, its secrets preferred.
    let before = match &options.previous {
        Some(p) => previous::match_previous(p, &tables, &system)?,
        None => vec![Before::Absent; n],
    };
    let mut known = vec![false; n];
    let mut already_known: Vec<u32> = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        for mi in 0..t.measures.len() {
            for r in 0..t.rows {
                let c = system.base[ti][mi] + r;
                match before[c] {
                    Before::Secret => cost[c] /= previous::REUSE_DISCOUNT,
                    Before::Published(v) => {
                        let now = shown_value(&cubes[ti], mi, r);
                        if now.is_some_and(|x| (x - v).abs() <= 1e-9 * x.abs().max(1.0)) {
                            known[c] = true;
                            if primary[c] {
                                already_known.push(c as u32);
                            }
                        }
                    }
                    Before::Absent => {}
                }
            }
        }
    }
    let (rel_start, rel_flat) = grid::incidence(n, &system.relations);
    let mut state = State {
        tables: &tables,
        system: &system,
        class,
        sensitive,
        cost,
        hidden: primary.clone(),
        known: known.clone(),
        rel_start,
        rel_flat,
        req: super::requirement(rules),
    };
    // Fast pass from every relation holding a primary cell.
    let mut start: Vec<u32> = (0..n as u32)
        .filter(|&c| state.hidden[c as usize])
        .flat_map(|c| state.relations_of(c).to_vec())
        .collect();
    start.sort_unstable();
    start.dedup();
    state.fast_pass(start);
    let mut stats = ProtectStats {
        values: system.present.iter().filter(|&&p| p).count() as u64,
        relations: system.relations.len() as u64,
        hidden_after_fast_pass: state.hidden.iter().filter(|&&h| h).count() as u64,
        relation_kinds: system
            .decisions
            .iter()
            .map(|(a, b, c, d)| (a.clone(), b.clone(), c.clone(), (*d).to_owned()))
            .collect(),
        ..ProtectStats::default()
    };
    // Interval pass per component.
    let trace = std::env::var_os("PILOTAGE_DISCLOSURE_TRACE").is_some();
    let started = std::time::Instant::now();
    if trace {
        eprintln!(
            "release system: {} cells, {} relations, {} primary, {} hidden after the fast pass",
            n,
            system.relations.len(),
            primary.iter().filter(|&&p| p).count(),
            stats.hidden_after_fast_pass
        );
    }
    let integer: Vec<bool> = state.class.iter().map(|&k| k == Class::Count).collect();
    let min_count = state.req.min_count;
    let row_index = moves::row_indexes(&tables);
    // Box pass: every small count not yet proved by a move gets the cheapest box of cells
    // around it hidden, so that one move proves it (the hypercube method).
    if options.boxes {
        let small: Vec<u32> = (0..n as u32)
            .filter(|&c| {
                let c = c as usize;
                state.hidden[c]
                    && integer[c]
                    && system.present[c]
                    && (system.value[c] > 0.0 || state.sensitive[c])
                    && system.value[c] < min_count
            })
            .collect();
        for c in small {
            let plan = {
                let mover = Mover::new(
                    &tables,
                    &system,
                    &state.rel_start,
                    &state.rel_flat,
                    &state.hidden,
                    &row_index,
                );
                if mover.certifies(c, state.need(c), &state.req) {
                    continue;
                }
                mover.cheapest_box(c, &state.req, &state.cost)
            };
            stats.boxes += u64::from(plan.is_some());
            for w in plan.unwrap_or_default() {
                if !state.hidden[w as usize] {
                    state.hidden[w as usize] = true;
                    let rels = state.relations_of(w).to_vec();
                    state.fast_pass(rels);
                }
            }
        }
        if trace {
            eprintln!(
                "box pass ({:.1} s): {} boxes, {} hidden",
                started.elapsed().as_secs_f64(),
                stats.boxes,
                state.hidden.iter().filter(|&&h| h).count()
            );
        }
    }
    // Bounds pass: where the outer bounds alone prove that a count fails, hide the cheapest
    // cell of the relation that narrowed it, until none does (no linear program).
    // Outer bounds of the current mask, kept while no cell is hidden after them.
    let mut current: Option<solve::OuterBounds> = None;
    for _ in 0..BOUNDS_PASSES {
        let bounds = state.outer_bounds(&integer);
        let mut widened_rel = vec![false; system.relations.len()];
        let mut failing = 0usize;
        let mut added = 0usize;
        for (c, &whole) in integer.iter().enumerate() {
            if !state.hidden[c] || !whole || !system.present[c] {
                continue;
            }
            let x = system.value[c];
            let why = if bounds.hi[c] < min_count && (x > 0.0 || state.sensitive[c]) {
                bounds.why_hi[c]
            } else if x < min_count && bounds.lo[c] >= 1.0 {
                bounds.why_lo[c]
            } else {
                continue;
            };
            failing += 1;
            if why == u32::MAX || widened_rel[why as usize] {
                continue;
            }
            widened_rel[why as usize] = true;
            let rel = &system.relations[why as usize];
            let pick = state
                .cheapest(rel, true)
                .or_else(|| state.cheapest(rel, false))
                .or_else(|| state.widen_from(c as u32));
            if let Some(w) = pick {
                state.hidden[w as usize] = true;
                added += 1;
                let rels = state.relations_of(w).to_vec();
                added += state.fast_pass(rels).len();
            }
        }
        stats.bounds_passes += 1;
        if trace {
            eprintln!(
                "bounds pass {} ({:.1} s): {failing} counts proved failing, {added} cells hidden",
                stats.bounds_passes,
                started.elapsed().as_secs_f64()
            );
        }
        if added == 0 {
            current = Some(bounds);
            break;
        }
    }
    let mut dirty = state.hidden.clone();
    let mut unresolved: Vec<(u32, solve::Bounds)> = Vec::new();
    for _ in 0..options.max_rounds {
        stats.rounds += 1;
        let components = solve::components(n, &state.hidden, &system.relations);
        let mut failing: Vec<(u32, solve::Bounds)> = Vec::new();
        let mover = Mover::new(
            &tables,
            &system,
            &state.rel_start,
            &state.rel_flat,
            &state.hidden,
            &row_index,
        );
        let work: Vec<&Vec<u32>> = components
            .iter()
            .filter(|c| c.iter().any(|&x| dirty[x as usize]))
            .collect();
        if trace {
            let mut buckets = [(0usize, 0usize); 6];
            for c in &work {
                let b = match c.len() {
                    0..=10 => 0,
                    11..=100 => 1,
                    101..=1000 => 2,
                    1001..=10_000 => 3,
                    10_001..=100_000 => 4,
                    _ => 5,
                };
                buckets[b].0 += 1;
                buckets[b].1 += c.len();
            }
            eprintln!(
                "round {}: components to check (count, cells) by size ≤10, ≤100, ≤1k, ≤10k, ≤100k, more: {buckets:?}",
                stats.rounds
            );
        }
        // Outer bounds of the whole release: a count the attacker can prove to be 11 or more
        // passes, and one whose outer upper bound is below 11 while its value is not 0 fails,
        // both without a linear program.
        let bounds = match current.take() {
            Some(b) => b,
            None => state.outer_bounds(&integer),
        };
        let (outer_lo, outer_hi) = (&bounds.lo, &bounds.hi);
        if trace {
            let hidden: Vec<usize> = (0..n).filter(|&c| state.hidden[c]).collect();
            let high = hidden
                .iter()
                .filter(|&&c| integer[c] && outer_lo[c] >= min_count - 1e-9)
                .count();
            let low = hidden
                .iter()
                .filter(|&&c| integer[c] && outer_hi[c] < min_count && system.value[c] > 0.0)
                .count();
            eprintln!(
                "round {}: outer bounds after {:.1} s: {} hidden, {high} proved 11 or more, {low} proved failing",
                stats.rounds,
                started.elapsed().as_secs_f64(),
                hidden.len()
            );
        }
        let check = |comp: &&Vec<u32>| -> Result<Checked, DisclosureError> {
            let mut out = Checked::default();
            let mut proved: std::collections::HashSet<u32> = std::collections::HashSet::new();
            let mut settled_fail: Vec<(u32, solve::Bounds)> = Vec::new();
            for &c in comp.iter() {
                let (lo, hi) = (outer_lo[c as usize], outer_hi[c as usize]);
                if integer[c as usize] && lo >= min_count - 1e-9 {
                    proved.insert(c);
                    out.by_bounds += 1;
                } else if integer[c as usize] && hi < min_count && system.value[c as usize] > 0.0 {
                    settled_fail.push((
                        c,
                        solve::Bounds {
                            lo,
                            hi,
                            passed: false,
                        },
                    ));
                } else if mover.certifies(c, state.need(c), &state.req) {
                    // Proved by moves from the true values.
                    proved.insert(c);
                    out.by_moves += 1;
                }
            }
            let failed: std::collections::HashSet<u32> = settled_fail.iter().map(|f| f.0).collect();
            out.failing = settled_fail;
            let rest: Vec<u32> = comp
                .iter()
                .copied()
                .filter(|c| !proved.contains(c) && !failed.contains(c))
                .collect();
            if rest.is_empty() {
                return Ok(out);
            }
            out.solved = 1;
            let timer = std::time::Instant::now();
            // Every secret cell of the component is an unknown, those settled already
            // included (they are asked nothing): in the chunks of a large component they give
            // the room that holding them at their true values would take away (a third of the
            // chunk failures on the first components of a scale-0.02 release).
            let (bounds, lps, _) = solve::solve_component(
                comp,
                &state.hidden,
                &system.value,
                &system.relations,
                &|c| state.relations_of(c).to_vec(),
                &|c| state.need(c),
                &state.req,
                options.max_component,
                &solve::Outside::Fixed(&system.value),
                &|c| proved.contains(&c) || failed.contains(&c),
            )
            .map_err(|message| DisclosureError::Solver {
                key: format!("component of {} cells", comp.len()),
                message,
            })?;
            out.lps = lps as u64;
            if trace && solve::tally::due(started.elapsed().as_secs()) {
                eprintln!(
                    "  ({:.0} s) programs: {}",
                    started.elapsed().as_secs_f64(),
                    solve::tally::line()
                );
            }
            out.failing.extend(
                comp.iter()
                    .zip(bounds)
                    .filter(|(c, b)| !b.passed && !failed.contains(c))
                    .map(|(&c, b)| (c, b)),
            );
            if trace && timer.elapsed().as_secs_f64() > 20.0 {
                // What the component is made of, and the values of what fails in it.
                let mut made: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
                for &c in comp.iter() {
                    let (t, m, _) = system.locate(c as usize);
                    *made
                        .entry((&tables[t].dataset, &tables[t].measures[m].id))
                        .or_default() += 1;
                }
                let mut classes: std::collections::BTreeMap<&str, usize> = Default::default();
                for &(c, _) in &out.failing {
                    *classes
                        .entry(value_class(system.value[c as usize], state.req.min_count))
                        .or_default() += 1;
                }
                eprintln!(
                    "  component of {} cells ({} open, failing {classes:?}): {:.1} s, {lps} LPs; {made:?}; {}",
                    comp.len(),
                    rest.len(),
                    timer.elapsed().as_secs_f64(),
                    solve::tally::line()
                );
            }
            Ok(out)
        };
        for result in parallel_map(&work, &check) {
            let r = result?;
            stats.certified_by_moves += r.by_moves;
            stats.certified_by_bounds += r.by_bounds;
            stats.components_solved += r.solved;
            stats.lps += r.lps;
            failing.extend(r.failing);
        }
        for comp in &work {
            stats.largest_component = stats.largest_component.max(comp.len() as u64);
        }
        if trace {
            eprintln!(
                "round {} ({:.1} s): {} components, {} failing, {} hidden, {} LPs so far, {} by moves, {} by bounds, largest {}",
                stats.rounds,
                started.elapsed().as_secs_f64(),
                components.len(),
                failing.len(),
                state.hidden.iter().filter(|&&h| h).count(),
                stats.lps,
                stats.certified_by_moves,
                stats.certified_by_bounds,
                stats.largest_component
            );
        }
        if trace {
            eprintln!("  programs: {}", solve::tally::line());
            let mut by: std::collections::BTreeMap<(String, String, &str), usize> =
                Default::default();
            for &(c, _) in &failing {
                let (t, m, _) = system.locate(c as usize);
                *by.entry((
                    tables[t].dataset.clone(),
                    tables[t].measures[m].id.clone(),
                    value_class(system.value[c as usize], min_count),
                ))
                .or_default() += 1;
            }
            eprintln!("  failing by dataset, measure, value: {by:?}");
            for &(c, b) in failing.iter().take(5) {
                eprintln!(
                    "  failing: {:?}",
                    report(&tables, &system, c as usize, b, "round")
                );
            }
        }
        dirty.iter_mut().for_each(|d| *d = false);
        if failing.is_empty() {
            unresolved.clear();
            break;
        }
        let mut widened = false;
        for &(c, _) in &failing {
            if let Some(w) = state.widen_from(c) {
                state.hidden[w as usize] = true;
                dirty[w as usize] = true;
                widened = true;
                let rels = state.relations_of(w).to_vec();
                for x in state.fast_pass(rels) {
                    dirty[x as usize] = true;
                }
            }
        }
        unresolved = failing;
        if !widened {
            break;
        }
    }
    // Derived values: hidden over a hidden part; medians over too few observations.
    let mut hidden = state.hidden.clone();
    for (ti, t) in tables.iter().enumerate() {
        for (mi, m) in t.measures.iter().enumerate() {
            let Some((a, b)) = m.parts else { continue };
            for r in 0..t.rows {
                let c = system.base[ti][mi] + r;
                if !system.present[c] {
                    continue;
                }
                let (ca, cb) = (system.base[ti][a] + r, system.base[ti][b] + r);
                let few = m.kind == MeasureKind::Median
                    && system.value[ca] < rules.min_median_observations as f64;
                if few || primary[ca] || primary[cb] {
                    primary[c] = true;
                    hidden[c] = true;
                } else if hidden[ca] || hidden[cb] {
                    hidden[c] = true;
                }
            }
        }
    }
    let secret: Vec<Vec<Vec<bool>>> = tables
        .iter()
        .enumerate()
        .map(|(ti, t)| {
            (0..t.measures.len())
                .map(|mi| {
                    (0..t.rows)
                        .map(|r| {
                            let c = system.base[ti][mi] + r;
                            system.present[c] && hidden[c]
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let (datasets, overall, by_level) = super::summarise(&tables, &system, &primary, &hidden);
    let kept = Kept::of(&before, &system.present, &hidden);
    let mut unresolved: Vec<CellReport> = unresolved
        .into_iter()
        .map(|(c, b)| report(&tables, &system, c as usize, b, "interval too narrow"))
        .collect();
    for c in already_known {
        let v = system.value[c as usize];
        let b = solve::Bounds {
            lo: v,
            hi: v,
            passed: false,
        };
        unresolved.push(report(
            &tables,
            &system,
            c as usize,
            b,
            "secret by a primary rule, but published unchanged by the previous release",
        ));
    }
    let mut loss = overall.to_manifest();
    let mut same_as_previous = false;
    if let Some(p) = &options.previous {
        loss.previous_mask_kept_pct = Some(kept.pct());
        // The same values shown the same way as by the previous release, and nothing more.
        let mut shown = 0u64;
        same_as_previous = (0..n).all(|c| {
            if !system.present[c] {
                return true;
            }
            shown += 1;
            match before[c] {
                Before::Secret => hidden[c],
                Before::Published(_) => known[c] && !hidden[c],
                Before::Absent => false,
            }
        }) && shown == previous::values_of(p);
    }
    let _ = state.tables;
    Ok(ReleaseProtection {
        secret,
        loss,
        overall,
        datasets,
        by_territorial_level: by_level,
        unresolved,
        stats,
        same_as_previous,
    })
}

/// What checking one component found.
#[derive(Default)]
struct Checked {
    by_moves: u64,
    by_bounds: u64,
    solved: u64,
    lps: u64,
    failing: Vec<(u32, solve::Bounds)>,
}

/// Applies `f` to every item on the machine's cores (scoped threads, items dealt in turn),
/// returning the results in the items' order: the outcome does not depend on the threads.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: &(dyn Fn(&T) -> R + Sync)) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let mut parts: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                scope.spawn(move || {
                    items
                        .iter()
                        .enumerate()
                        .skip(k)
                        .step_by(threads)
                        .map(|(i, x)| (i, f(x)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut all: Vec<(usize, R)> = parts.drain(..).flatten().collect();
    all.sort_by_key(|x| x.0);
    all.into_iter().map(|x| x.1).collect()
}

pub(crate) fn report(
    tables: &[Table],
    system: &System,
    cell: usize,
    b: solve::Bounds,
    reason: &str,
) -> CellReport {
    let (t, m, r) = system.locate(cell);
    CellReport {
        dataset: tables[t].dataset.clone(),
        coordinates: tables[t].coordinates(r),
        measure: tables[t].measures[m].id.clone(),
        min: b.lo,
        max: b.hi,
        reason: reason.to_owned(),
    }
}
