//! Protection of a release of cubes, in passes: the linear system of the release, the primary
//! rules and the claims of every confidential value, the witness pass (a point per claim,
//! hiding the values it moves), the derived values, then the figures and the certificate.

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;
use rustc_hash::FxHashSet as HashSet;
use std::time::Instant;

use crate::certificate::{self, CellRef, Certificate, Claim, ClaimKind, Point};
use crate::cube::{Companion, Cube, Geography, MeasureValues, NO_STRUCTURE};
use crate::dataset::{Definition, MeasureKind, RelationOp};

use super::grid::{self, Class, System, Table};
use super::previous::{self, Before, Kept};
use super::witness::{Avoid, Breadth, Candidate, Goal, Mask, Reach, Space};
use super::{CellReport, ProtectOptions, ProtectStats, ReleaseProtection, StageStats};
use crate::disclosure::DisclosureError;
use crate::disclosure::rules::PrimaryRules;

/// Builds the tables of the release from the cubes (coordinates only).
fn tables_of(
    cubes: &[Cube],
    definitions: &[Definition],
    options: &ProtectOptions,
    geography: &Geography,
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
            relations: grid::measure_relations(def, &ids)?,
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

/// The value a cube shows (rounded for magnitudes), or `None` when null.
fn shown_value(cube: &Cube, m: usize, row: usize) -> Option<f64> {
    match &cube.measures[m].values {
        MeasureValues::Counts(v) => v[row].map(|x| x as f64),
        MeasureValues::Values(v) => v[row],
    }
}

/// Refuses a definition whose declared relation between measures does not hold on the true
/// values: the attacker would be given a relation that is false, and the points would be
/// built on it.
fn check_declared_relations(
    tables: &[Table],
    system: &System,
    cubes: &[Cube],
) -> Result<(), DisclosureError> {
    for (ti, t) in tables.iter().enumerate() {
        for rel in &t.relations {
            for r in 0..t.rows {
                let at = |m: usize| {
                    let c = system.base[ti][m] + r;
                    if system.present[c] {
                        system.value[c]
                    } else {
                        0.0
                    }
                };
                if !system.present[system.base[ti][rel.left] + r] {
                    continue;
                }
                let left = at(rel.left);
                let right: f64 = rel.right.iter().map(|&m| at(m)).sum();
                let slack = 1e-7 * (1.0 + left.abs() + right.abs());
                let holds = match rel.op {
                    RelationOp::Equal => (left - right).abs() <= slack,
                    RelationOp::AtLeast => left + slack >= right,
                };
                if !holds {
                    let coords: Vec<String> = t
                        .coordinates(r)
                        .iter()
                        .map(|(d, c)| format!("{d}={c}"))
                        .collect();
                    let names: Vec<&str> = rel
                        .right
                        .iter()
                        .map(|&m| cubes[ti].measures[m].id.as_str())
                        .collect();
                    return Err(DisclosureError::Release {
                        dataset: t.dataset.clone(),
                        message: format!(
                            "the declared relation {} {} {} does not hold at [{}]: {left} against \
                             {right}; fix the definition or the computation",
                            cubes[ti].measures[rel.left].id,
                            rel.op.symbol(),
                            names.join(" + "),
                            coords.join(", ")
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// One claim to prove, with what the point must reach.
#[derive(Debug, Clone, Copy)]
struct Pending {
    kind: ClaimKind,
    goal: Goal,
    /// Magnitude claims hold against every structure: the point moves no value one structure
    /// alone makes.
    magnitude: bool,
    /// Magnitudes: the structure making the largest contribution ([`NO_STRUCTURE`] otherwise)
    /// and that contribution, in the measure's unit: that structure knows the value cannot be
    /// below its own share, so against it a claim downwards asks for no less.
    top: (u32, f64),
}

/// What the primary rules decide, value by value.
struct Primary {
    class: Vec<Class>,
    /// Secret by a primary rule (derived values included once decided).
    primary: Vec<bool>,
    /// The structure that alone makes a magnitude ([`NO_STRUCTURE`] for every other value).
    sole: Vec<u32>,
    /// The claims, by value, in value order.
    claims: Vec<(u32, Vec<Pending>)>,
}

/// The margin of a confidential magnitude (the largest among the rules that fire), or `None`
/// when no rule fires.
fn magnitude_margin(
    rules: &PrimaryRules,
    v: f64,
    structures: u64,
    top1: f64,
    top2: f64,
    persons: u64,
) -> Option<f64> {
    if v <= 0.0 {
        return None;
    }
    let mut margin: Option<f64> = None;
    let mut fire = |m: f64| margin = Some(margin.map_or(m, |x: f64| x.max(m)));
    if structures < rules.min_contributors || (persons > 0 && persons < rules.min_persons) {
        fire(rules.frequency_margin * v);
    }
    if top1 > rules.dominance * v {
        fire(top1 / rules.dominance - v);
    }
    if let Some(p) = rules.p_rule
        && v - top1 - top2 < p * top1
    {
        fire(p * top1 - (v - top1 - top2));
    }
    margin.map(|m| m.max(1e-6 * v.max(1.0)))
}

fn count_claims(cell: u32, v: f64, min_count: f64) -> Vec<Pending> {
    vec![
        Pending {
            kind: ClaimKind::Zero,
            goal: Goal {
                cell,
                target: 0.0,
                down: true,
            },
            magnitude: false,
            top: (NO_STRUCTURE, 0.0),
        },
        Pending {
            kind: ClaimKind::AtLeastMinCount,
            goal: Goal {
                cell,
                target: min_count.max(v),
                down: false,
            },
            magnitude: false,
            top: (NO_STRUCTURE, 0.0),
        },
    ]
}

fn magnitude_claims(cell: u32, v: f64, margin: f64, top: (u32, f64)) -> Vec<Pending> {
    vec![
        Pending {
            kind: ClaimKind::Below,
            goal: Goal {
                cell,
                target: (v - margin).max(0.0),
                down: true,
            },
            magnitude: true,
            top,
        },
        Pending {
            kind: ClaimKind::Above,
            goal: Goal {
                cell,
                target: v + margin,
                down: false,
            },
            magnitude: true,
            top,
        },
    ]
}

/// Evaluates the primary rules on the true values and lists every claim.
fn primary_pass(
    tables: &[Table],
    system: &System,
    cubes: &[Cube],
    rules: &PrimaryRules,
) -> Result<Primary, DisclosureError> {
    let mut marks = Marks::new(system, rules);
    for (ti, t) in tables.iter().enumerate() {
        marks.cell_rules(ti, t, &cubes[ti]);
    }
    // Sensitive rows: a breakdown whose total is from 1 to 10 is secret entirely, its zeros
    // included (each must be able to be 1 or more).
    for (ti, t) in tables.iter().enumerate() {
        marks.sensitive_rows(ti, t)?;
    }
    Ok(marks.finish())
}

/// The primary decisions while they are made, value by value, over the system of the release.
struct Marks<'a> {
    system: &'a System,
    rules: &'a PrimaryRules,
    /// The smallest count that may be shown, in persons.
    min_count: f64,
    class: Vec<Class>,
    primary: Vec<bool>,
    sole: Vec<u32>,
    claims: HashMap<u32, Vec<Pending>>,
}

impl<'a> Marks<'a> {
    /// No value secret yet: every value derived, no sole structure, no claim.
    fn new(system: &'a System, rules: &'a PrimaryRules) -> Self {
        let n = system.value.len();
        let min_count = rules.min_count as f64;
        Marks {
            system,
            rules,
            min_count,
            class: vec![Class::Derived; n],
            primary: vec![false; n],
            sole: vec![NO_STRUCTURE; n],
            claims: HashMap::new(),
        }
    }

    /// Records the class of every value of table `ti` and applies the count and magnitude
    /// rules to those present.
    fn cell_rules(&mut self, ti: usize, t: &Table, cube: &Cube) {
        let system = self.system;
        for (mi, m) in t.measures.iter().enumerate() {
            let companion = cube.measures[mi].companion.as_ref();
            for r in 0..t.rows {
                let c = system.base[ti][mi] + r;
                self.class[c] = m.class;
                if !system.present[c] {
                    continue;
                }
                let v = system.value[c];
                match m.class {
                    Class::Count if self.rules.count_is_sensitive(v) => {
                        self.primary[c] = true;
                        self.claims
                            .insert(c as u32, count_claims(c as u32, v, self.min_count));
                    }
                    Class::Magnitude => {
                        if let Some(co) = companion {
                            self.magnitude_rules(c, r, v, co);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Applies the magnitude rules to value `c`, at row `r` of its cube, of true value `v`
    /// (in the measure's unit): its sole structure, and its claims when a rule fires.
    fn magnitude_rules(&mut self, c: usize, r: usize, v: f64, co: &Companion) {
        if co.structures[r] == 1 {
            self.sole[c] = co.top_structure[r];
        }
        if let Some(margin) = magnitude_margin(
            self.rules,
            v,
            u64::from(co.structures[r]),
            co.top1[r],
            co.top2[r],
            co.persons[r],
        ) {
            self.primary[c] = true;
            self.claims.insert(
                c as u32,
                magnitude_claims(c as u32, v, margin, (co.top_structure[r], co.top1[r])),
            );
        }
    }

    /// Makes secret, in table `ti`, every breakdown row of a sensitive dimension whose total
    /// has a sensitive count, with that total.
    fn sensitive_rows(&mut self, ti: usize, t: &Table) -> Result<(), DisclosureError> {
        let sensitive_dims: Vec<usize> =
            (0..t.dims.len()).filter(|&d| t.dims[d].sensitive).collect();
        if sensitive_dims.is_empty() {
            return Ok(());
        }
        let links = grid::links(t)?;
        for &sd in &sensitive_dims {
            let up = parents(&links, sd);
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
                if !self.total_is_sensitive(ti, t, top) {
                    continue;
                }
                self.mark_row(ti, t, r, top);
            }
        }
        Ok(())
    }

    /// Whether a count present at total row `top` of table `ti` is sensitive.
    fn total_is_sensitive(&self, ti: usize, t: &Table, top: u32) -> bool {
        let system = self.system;
        t.measures
            .iter()
            .enumerate()
            .filter(|(_, m)| m.class == Class::Count)
            .any(|(mi, _)| {
                let c = system.base[ti][mi] + top as usize;
                system.present[c] && self.rules.count_is_sensitive(system.value[c])
            })
    }

    /// Makes secret the counts and magnitudes present at row `r` and at its total row `top`
    /// of table `ti`, with claims for those that have none yet.
    fn mark_row(&mut self, ti: usize, t: &Table, r: u32, top: u32) {
        let system = self.system;
        for (mi, m) in t.measures.iter().enumerate() {
            if !matches!(m.class, Class::Count | Class::Magnitude) {
                continue;
            }
            for row in [r, top] {
                let c = system.base[ti][mi] + row as usize;
                if !system.present[c] {
                    continue;
                }
                self.primary[c] = true;
                let v = system.value[c];
                let cu = c as u32;
                if self.claims.contains_key(&cu) {
                    continue;
                }
                let list = self.row_claims(m.class, cu, v);
                if !list.is_empty() {
                    self.claims.insert(cu, list);
                }
            }
        }
    }

    /// The claims of value `cu`, of class `class` and true value `v` (persons for counts, the
    /// measure's unit for magnitudes), made secret by a sensitive row.
    fn row_claims(&self, class: Class, cu: u32, v: f64) -> Vec<Pending> {
        match class {
            Class::Count if v <= 0.0 => vec![Pending {
                kind: ClaimKind::Positive,
                goal: Goal {
                    cell: cu,
                    target: 1.0,
                    down: false,
                },
                magnitude: false,
                top: (NO_STRUCTURE, 0.0),
            }],
            Class::Count if v < self.min_count => count_claims(cu, v, self.min_count),
            Class::Magnitude if v > 0.0 => {
                magnitude_claims(cu, v, self.rules.frequency_margin * v, (NO_STRUCTURE, 0.0))
            }
            _ => Vec::new(),
        }
    }

    /// The decisions, with the claims in value order.
    fn finish(self) -> Primary {
        let mut claims: Vec<(u32, Vec<Pending>)> = self.claims.into_iter().collect();
        claims.sort_unstable_by_key(|x| x.0);
        Primary {
            class: self.class,
            primary: self.primary,
            sole: self.sole,
            claims,
        }
    }
}

/// The parent row of every child row linked along dimension `sd`.
fn parents(links: &[grid::Link], sd: usize) -> HashMap<u32, u32> {
    let mut up: HashMap<u32, u32> = HashMap::new();
    for l in links.iter().filter(|l| l.dim as usize == sd) {
        for &ch in &l.children {
            up.insert(ch, l.parent);
        }
    }
    up
}

/// Whether the value at a point meets a claim.
fn meets(p: &Pending, at: f64) -> bool {
    p.goal.meets(at)
}

/// The changes of a point: (value, change), sorted by value.
type Changes = Vec<(u32, f64)>;

/// How hard the witness pass looks for one point.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Effort {
    /// Moves, directions and the smallest neighbourhood program: for a first try that has a
    /// fallback (a magnitude's point that holds every structure's values, before one point
    /// per structure).
    Quick,
    /// Every stage, the widest programs and the closure included.
    Full,
}

/// Most points one magnitude claim may take, against as many groups of structures.
const MAX_POINTS_PER_MAGNITUDE: usize = 16;

/// The points proving a magnitude claim against the outsider and against every structure:
/// one point that moves no value a structure alone makes (the structure that alone makes the
/// claimed value, if any, knows it and is left out), or else a first point and then, as long
/// as some structure alone makes a value every point so far moves, a point that holds that
/// structure's values. Against the structure making the largest contribution, a claim
/// downwards asks for no less than that contribution (it knows its share). The first try,
/// quick, has the cheap stages only; when the points one per structure fail, the one point is
/// searched for again with every stage. `None` when a structure is left without a point.
fn against_every_structure(
    find: &dyn Fn(Avoid, Goal, Effort) -> Option<Changes>,
    claim: &Pending,
    sole: &[u32],
) -> Option<Vec<Vec<(u32, f64)>>> {
    let cell = claim.goal.cell;
    let own = sole[cell as usize];
    let every = Avoid::EverySole(sole, own);
    if let Some(point) = find(every, claim.goal, Effort::Quick) {
        return Some(vec![point]);
    }
    one_per_structure(find, claim, sole)
        .or_else(|| find(every, claim.goal, Effort::Full).map(|point| vec![point]))
}

/// The points of [`against_every_structure`] after its quick first try: a first point, then
/// one per structure every point so far moves a value of.
fn one_per_structure(
    find: &dyn Fn(Avoid, Goal, Effort) -> Option<Changes>,
    claim: &Pending,
    sole: &[u32],
) -> Option<Vec<Vec<(u32, f64)>>> {
    let cell = claim.goal.cell;
    let own = sole[cell as usize];
    let touched = |changes: &[(u32, f64)]| -> BTreeSet<u32> {
        changes
            .iter()
            .filter(|&&(c, _)| {
                let s = sole[c as usize];
                c != cell && s != NO_STRUCTURE && s != own
            })
            .map(|&(c, _)| sole[c as usize])
            .collect()
    };
    let first = find(Avoid::Nothing, claim.goal, Effort::Full)?;
    let mut open = touched(&first);
    let mut points = vec![first];
    while let Some(&structure) = open.first() {
        if points.len() >= MAX_POINTS_PER_MAGNITUDE {
            return None;
        }
        let avoid = Avoid::SoleOf(sole, structure);
        if let Some(point) = find(avoid, claim.goal, Effort::Full) {
            let now = touched(&point);
            open.retain(|s| now.contains(s));
            points.push(point);
            continue;
        }
        if structure != claim.top.0 || !claim.goal.down || claim.top.1 <= claim.goal.target {
            return None;
        }
        let floor = Goal {
            target: claim.top.1,
            ..claim.goal
        };
        points.push(find(avoid, floor, Effort::Full)?);
        open.remove(&structure);
    }
    Some(points)
}

impl Effort {
    /// The stages tried in turn for a count (`magnitude` false) or a magnitude, cheapest
    /// first.
    ///
    /// A count starts with the record program, which proves most claims at once, then
    /// moves, then neighbourhood programs of growing size (values; a wider one only when the
    /// smaller one has no solution, its border held), the closure before the widest program,
    /// which costs seconds, the wide closure, record moves weighing many more leaves, and a
    /// record program over many more records last. A magnitude tries the record program after
    /// the moves and the programs: its points must also hold against every structure, and
    /// the cheapest point of the program, its first, moves values of more structures than a
    /// move does, each then asking a point of its own.
    fn stages(self, magnitude: bool) -> &'static [Stage] {
        match (self, magnitude) {
            (Effort::Quick, false) => &[
                Stage::RecordProgram,
                Stage::Records,
                Stage::Directions,
                Stage::Program(300),
            ],
            (Effort::Quick, true) => &[
                Stage::Records,
                Stage::Directions,
                Stage::Program(300),
                Stage::RecordProgram,
            ],
            (Effort::Full, false) => &[
                Stage::RecordProgram,
                Stage::Records,
                Stage::Directions,
                Stage::Program(300),
                Stage::Program(1_500),
                Stage::Closure,
                Stage::Program(6_000),
                Stage::Relocation,
                Stage::WideClosure,
                Stage::WideRecords,
                Stage::WideRecordProgram,
            ],
            (Effort::Full, true) => &[
                Stage::Records,
                Stage::Directions,
                Stage::Program(300),
                Stage::Program(1_500),
                Stage::Closure,
                Stage::Program(6_000),
                Stage::Relocation,
                Stage::WideClosure,
                Stage::WideRecords,
                Stage::RecordProgram,
                Stage::WideRecordProgram,
            ],
        }
    }
}

/// A way the witness pass looks for a point, in the order it tries them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Stage {
    /// An integer program over records ([`Space::record_program`], [`Reach::NORMAL`]).
    RecordProgram,
    /// Record moves ([`Space::records`]).
    Records,
    /// Sums of tensor directions ([`Space::reach`]).
    Directions,
    /// A neighbourhood program of at most this many values ([`Space::program`]).
    Program(usize),
    /// A share of département figures moved to another région ([`Space::relocation`]), for
    /// magnitudes.
    Relocation,
    /// The closure point ([`Space::closure`]).
    Closure,
    /// The closure point without a limit on how far values move downwards.
    WideClosure,
    /// Record moves weighing many more leaves and moves ([`Breadth::WIDE`]).
    WideRecords,
    /// An integer program over many more records ([`Reach::WIDE`]): the last resort.
    WideRecordProgram,
}

/// Per stage of the witness pass: how often it was asked, how often it gave a point, and the
/// time it took, reported through `tracing` at the end of the pass and kept in the stats.
#[derive(Default)]
struct StageClock {
    stages: std::sync::Mutex<std::collections::BTreeMap<Stage, StageStats>>,
}

impl StageClock {
    /// Runs one stage's search and counts it.
    fn time<T>(&self, stage: Stage, search: impl FnOnce() -> Option<T>) -> Option<T> {
        let started = Instant::now();
        let found = search();
        let mut stages = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        let e = stages.entry(stage).or_insert_with(|| StageStats {
            stage: format!("{stage:?}"),
            ..StageStats::default()
        });
        e.asked += 1;
        e.found += u64::from(found.is_some());
        e.seconds += started.elapsed().as_secs_f64();
        found
    }

    /// Counts a point of `stage` that moves values of several datasets.
    fn across(&self, stage: Stage) {
        if let Some(e) = self
            .stages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&stage)
        {
            e.across += 1;
        }
    }

    /// Seconds spent so far per stage, on one line.
    fn summary(&self) -> String {
        self.stages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|e| format!("{} {:.0} s", e.stage, e.seconds))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Logs one line per stage and returns the figures, in the order the stages are tried.
    fn report(&self) -> Vec<StageStats> {
        let order = Effort::Full.stages(false);
        let mut out: Vec<(usize, StageStats)> = self
            .stages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(stage, e)| {
                let at = order.iter().position(|s| s == stage).unwrap_or(order.len());
                (at, e.clone())
            })
            .collect();
        out.sort_by_key(|x| x.0);
        let out: Vec<StageStats> = out.into_iter().map(|x| x.1).collect();
        for e in &out {
            tracing::info!(
                "witness stage {}: asked {}, found {} ({} across datasets), {:.1} s",
                e.stage,
                e.asked,
                e.found,
                e.across,
                e.seconds
            );
        }
        out
    }
}

/// What the witness pass found.
struct Witnessed {
    hidden: Vec<bool>,
    points: Vec<(Changes, Vec<(u32, ClaimKind)>)>,
    unproved: Vec<(u32, ClaimKind)>,
    shared: u64,
    stages: Vec<StageStats>,
}

/// The witness pass: for every claim not proved yet, a point reaching it; the values the point
/// moves are hidden, on top of `hidden` (the primary values, and those the previous release
/// kept secret). A point proves every pending claim it meets, whichever value it was
/// built for.
fn witness_pass(
    space: &Space,
    system: &System,
    p: &Primary,
    hidden: Vec<bool>,
    blocked: &[bool],
    cost: &[f64],
) -> Witnessed {
    let mut run = WitnessRun::new(space, system, p, hidden, blocked, cost);
    // Lane `j` walks its share of the values in order; a batch takes the next value of each
    // lane, so that the values proved side by side are far apart and seldom share a point.
    let n = p.claims.len();
    let mut lanes: Vec<(usize, usize)> = (0..BATCH)
        .map(|j| (j * n / BATCH, (j + 1) * n / BATCH))
        .collect();
    loop {
        let mut batch = Vec::with_capacity(BATCH);
        for (next, end) in &mut lanes {
            while *next < *end && run.done[*next].iter().all(|&d| d) {
                *next += 1;
            }
            if *next < *end {
                batch.push(*next);
                *next += 1;
            }
        }
        let Some(&first) = batch.first() else {
            break;
        };
        run.progress(p.claims[first].0);
        let found: Vec<Vec<Found>> = batch.par_iter().map(|&i| run.solve_value(i)).collect();
        for (&i, found) in batch.iter().zip(found) {
            run.commit(i, found);
        }
    }
    run.finish()
}

/// Confidential values proved side by side (one per lane), each from the mask as it stood
/// before the batch:
/// the points found do not depend on the number of threads, and each is checked on its own,
/// so values of one batch need not see each other's points.
const BATCH: usize = 8;

/// The points found for one claim (its position in the value's list), `None` when none was.
type Found = (usize, Option<Vec<Changes>>);

/// The witness pass under way: what it searches in, and the points and proofs so far.
struct WitnessRun<'a, 's> {
    space: &'a Space<'s>,
    system: &'a System,
    p: &'a Primary,
    blocked: &'a [bool],
    cost: &'a [f64],
    hidden: Vec<bool>,
    points: Vec<(Changes, Vec<(u32, ClaimKind)>)>,
    unproved: Vec<(u32, ClaimKind)>,
    /// Claims proved by a point built for another claim.
    shared: u64,
    /// Position in `p.claims` of each confidential value.
    index: HashMap<u32, usize>,
    /// Per confidential value, per claim: proved or given up.
    done: Vec<Vec<bool>>,
    started: Instant,
    last_report: Instant,
    clock: StageClock,
}

impl<'a, 's> WitnessRun<'a, 's> {
    /// Nothing proved yet, `hidden` hidden.
    fn new(
        space: &'a Space<'s>,
        system: &'a System,
        p: &'a Primary,
        hidden: Vec<bool>,
        blocked: &'a [bool],
        cost: &'a [f64],
    ) -> Self {
        let points = Vec::new();
        let unproved = Vec::new();
        let shared = 0u64;
        let index: HashMap<u32, usize> = p
            .claims
            .iter()
            .enumerate()
            .map(|(i, (c, _))| (*c, i))
            .collect();
        let done: Vec<Vec<bool>> = p.claims.iter().map(|(_, l)| vec![false; l.len()]).collect();
        let started = Instant::now();
        let last_report = Instant::now();
        let clock = StageClock::default();
        WitnessRun {
            space,
            system,
            p,
            blocked,
            cost,
            hidden,
            points,
            unproved,
            shared,
            index,
            done,
            started,
            last_report,
            clock,
        }
    }

    /// Logs progress, at most once every 10 seconds, before a batch starting with value `cell`.
    fn progress(&mut self, cell: u32) {
        if self.last_report.elapsed().as_secs() >= 10 {
            self.last_report = Instant::now();
            let done = self.done.iter().filter(|d| d.iter().all(|&x| x)).count();
            tracing::info!(
                "witness pass: {done} of {} confidential values done (at {}), {} points, {:.0} s ({})",
                self.p.claims.len(),
                self.space.describe(cell),
                self.points.len(),
                self.started.elapsed().as_secs_f64(),
                self.clock.summary()
            );
        }
    }

    /// Looks for the points of every pending claim of the `i`-th confidential value, from the
    /// mask as it stands, counting the values its own points move as hidden.
    fn solve_value(&self, i: usize) -> Vec<Found> {
        let (cell, list) = &self.p.claims[i];
        let mut fresh: HashSet<u32> = HashSet::default();
        let candidates = self.space.candidates(*cell, &self.mask(&fresh));
        let mut out = Vec::new();
        for (k, claim) in list.iter().enumerate() {
            if self.done[i][k] {
                continue;
            }
            let found = self.points_for(*cell, &candidates, claim, &self.mask(&fresh));
            for changes in found.iter().flatten() {
                fresh.extend(changes.iter().map(|&(c, _)| c));
            }
            out.push((k, found));
        }
        out
    }

    /// Keeps what [`WitnessRun::solve_value`] found for the `i`-th confidential value, claim
    /// by claim, skipping the claims a point kept since (earlier in the round) proves.
    fn commit(&mut self, i: usize, found: Vec<Found>) {
        let (cell, list) = &self.p.claims[i];
        for (k, found) in found {
            if self.done[i][k] {
                continue;
            }
            self.done[i][k] = true;
            match found {
                Some(found) => self.record(*cell, &list[k], found),
                None => self.unproved.push((*cell, list[k].kind)),
            }
        }
    }

    /// The mask as it stands, with `fresh` hidden on top.
    fn mask<'m>(&'m self, fresh: &'m HashSet<u32>) -> Mask<'m> {
        Mask {
            hidden: &self.hidden,
            fresh,
            blocked: self.blocked,
            cost: self.cost,
        }
    }

    /// The points proving one claim of value `cell`: one, or for a magnitude several (see
    /// [`against_every_structure`]). `None` when none is found.
    fn points_for(
        &self,
        cell: u32,
        candidates: &[Candidate],
        claim: &Pending,
        mask: &Mask,
    ) -> Option<Vec<Changes>> {
        let find = |avoid: Avoid, goal: Goal, effort: Effort| {
            self.search(cell, candidates, mask, avoid, goal, effort, claim.magnitude)
        };
        if claim.magnitude {
            against_every_structure(&find, claim, &self.p.sole)
        } else {
            find(Avoid::Nothing, claim.goal, Effort::Full).map(|changes| vec![changes])
        }
    }

    /// One point for value `cell` reaching `goal`, from the first of the stages of `effort`
    /// (for a count or a `magnitude`) that finds one, each stage timed and counted.
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        cell: u32,
        candidates: &[Candidate],
        mask: &Mask,
        avoid: Avoid,
        goal: Goal,
        effort: Effort,
        magnitude: bool,
    ) -> Option<Changes> {
        let (space, system, clock) = (self.space, self.system, &self.clock);
        let reaches = |changes: &Vec<(u32, f64)>| {
            let at = changes
                .binary_search_by_key(&cell, |x| x.0)
                .map_or(0.0, |j| changes[j].1);
            goal.meets(system.value[cell as usize] + at)
        };
        effort.stages(magnitude).iter().find_map(|&stage| {
            let found = clock.time(stage, || {
                match stage {
                    Stage::Records => space.records(goal, mask, avoid, &Breadth::NORMAL),
                    Stage::WideRecords => space.records(goal, mask, avoid, &Breadth::WIDE),
                    Stage::Directions => space.reach(goal, candidates, mask, avoid),
                    Stage::Program(size) => space.program(goal, mask, avoid, size),
                    Stage::Relocation => space.relocation(goal, mask, avoid),
                    Stage::Closure => space.closure(goal, mask, avoid, false),
                    Stage::WideClosure => space.closure(goal, mask, avoid, true),
                    Stage::RecordProgram => space.record_program(goal, mask, avoid, &Reach::NORMAL),
                    Stage::WideRecordProgram => {
                        space.record_program(goal, mask, avoid, &Reach::WIDE)
                    }
                }
                .filter(reaches)
            })?;
            let table = |c: u32| system.locate(c as usize).0;
            if found.iter().any(|&(c, _)| table(c) != table(cell)) {
                clock.across(stage);
            }
            Some(found)
        })
    }

    /// Keeps the points `found` for a claim of value `cell`: hides every value they move and
    /// adds them to the points, the first with every pending claim it also meets.
    fn record(&mut self, cell: u32, claim: &Pending, found: Vec<Changes>) {
        for changes in &found {
            for &(c, _) in changes {
                self.hidden[c as usize] = true;
            }
        }
        let mut found = found.into_iter();
        let changes = found.next().unwrap_or_default();
        let proves = self.shared_claims(cell, claim, &changes);
        // The other points of a magnitude: each against the structures the ones before
        // could not hold.
        for more in found {
            self.points.push((more, vec![(cell, claim.kind)]));
        }
        self.points.push((changes, proves));
    }

    /// The claims a point (`changes`, built for `claim` of value `cell`) proves, marking done
    /// the pending ones it also meets.
    fn shared_claims(
        &mut self,
        cell: u32,
        claim: &Pending,
        changes: &[(u32, f64)],
    ) -> Vec<(u32, ClaimKind)> {
        let (p, system) = (self.p, self.system);
        // Every pending claim the first point meets; a magnitude only where it moves no
        // value one structure alone makes, besides the magnitude itself.
        let mut proves = vec![(cell, claim.kind)];
        let moved_sole = |own: u32| {
            let maker = p.sole[own as usize];
            changes.iter().any(|&(c, _)| {
                let s = p.sole[c as usize];
                c != own && s != NO_STRUCTURE && s != maker
            })
        };
        for &(c, d) in changes {
            let Some(&j) = self.index.get(&c) else {
                continue;
            };
            let at = system.value[c as usize] + d;
            for (kk, other) in p.claims[j].1.iter().enumerate() {
                if self.done[j][kk] || !meets(other, at) || (other.magnitude && moved_sole(c)) {
                    continue;
                }
                self.done[j][kk] = true;
                self.shared += 1;
                proves.push((c, other.kind));
            }
        }
        proves
    }

    /// Logs the totals of the pass and of each stage, and returns what it found.
    fn finish(self) -> Witnessed {
        tracing::info!(
            "witness pass: {} confidential values, {} points, {} claims unproved, {:.1} s",
            self.p.claims.len(),
            self.points.len(),
            self.unproved.len(),
            self.started.elapsed().as_secs_f64()
        );
        let stages = self.clock.report();
        Witnessed {
            hidden: self.hidden,
            points: self.points,
            unproved: self.unproved,
            shared: self.shared,
            stages,
        }
    }
}

/// Protects a release: decides, for every value of every cube, whether it is published or
/// `secret`, and proves with a witness point every claim of every confidential value (see the
/// module documentation). Deterministic: same cubes, definitions and options give the same
/// mask and the same certificate.
pub fn protect_release(
    cubes: &[Cube],
    definitions: &[Definition],
    options: &ProtectOptions,
) -> Result<ReleaseProtection, DisclosureError> {
    let started = Instant::now();
    let (tables, system) = system_of(cubes, definitions, options)?;
    check_declared_relations(&tables, &system, cubes)?;
    let n = system.value.len();
    let rules = &options.rules;
    let mut p = primary_pass(&tables, &system, cubes, rules)?;
    tracing::info!(
        "release system: {} values, {} relations, {} confidential, {:.1} s",
        system.present.iter().filter(|&&x| x).count(),
        system.relations.len(),
        p.claims.len(),
        started.elapsed().as_secs_f64()
    );
    let release = Release {
        cubes,
        tables: &tables,
        system: &system,
    };

    // Costs, and what may never move.
    let (mut cost, mut blocked) = release.costs(&p.class);
    // The previous release: its unchanged published values are known, its secrets preferred.
    let before = match &options.previous {
        Some(prev) => previous::match_previous(prev, &tables, &system)?,
        None => vec![Before::Absent; n],
    };
    let (known, already_known) =
        release.previous_known(&before, &p.primary, &mut cost, &mut blocked);

    // Witness pass.
    let (rel_start, rel_flat) = grid::incidence(n, &system.relations);
    let space = Space::new(&tables, &system, &rel_start, &rel_flat);
    // What the previous release kept secret stays secret: its points remain available, and
    // publishing the same store again gives the same mask.
    let start = release.witness_start(&p.primary, &before);
    let witnessed = witness_pass(&space, &system, &p, start, &blocked, &cost);
    let mut hidden = witnessed.hidden;

    // Derived values: hidden over a hidden part; medians over too few observations.
    release.derived(rules, &mut p.primary, &mut hidden);
    let secret = release.secret(&hidden);
    let (datasets, overall, by_level) = super::summarise(&tables, &system, &p.primary, &hidden);
    let kept = Kept::of(&before, &system.present, &hidden);

    // What could not be proved.
    let unresolved = release.unresolved(&witnessed.unproved, already_known, rules.min_count);

    // The certificate.
    let certificate = release.certificate(&witnessed.points);

    let stats = ProtectStats {
        values: system.present.iter().filter(|&&x| x).count() as u64,
        relations: system.relations.len() as u64,
        confidential: p.claims.len() as u64,
        claims: p.claims.iter().map(|(_, l)| l.len() as u64).sum(),
        points: certificate.points.len() as u64,
        point_changes: certificate.changes() as u64,
        claims_shared: witnessed.shared,
        unproved: witnessed.unproved.len() as u64,
        seconds: started.elapsed().as_secs_f64(),
        stages: witnessed.stages,
        relation_kinds: system
            .decisions
            .iter()
            .map(|(a, b, c, d)| (a.clone(), b.clone(), c.clone(), (*d).to_owned()))
            .collect(),
    };
    let mut loss = overall.to_manifest();
    let mut same_as_previous = false;
    if let Some(prev) = &options.previous {
        loss.previous_mask_kept_pct = Some(kept.pct());
        same_as_previous = release.same_as_previous(prev, &before, &known, &hidden);
    }
    Ok(ReleaseProtection {
        secret,
        loss,
        overall,
        datasets,
        by_territorial_level: by_level,
        unresolved,
        stats,
        same_as_previous,
        certificate,
    })
}

/// The tables of a release and their linear system on the true values, once the rules are
/// validated: what [`protect_release`] and [`primary_mask`] start from.
fn system_of(
    cubes: &[Cube],
    definitions: &[Definition],
    options: &ProtectOptions,
) -> Result<(Vec<Table>, System), DisclosureError> {
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
    Ok((tables, system))
}

/// The values the primary rules alone make secret, `[cube][measure][row]` as
/// [`ReleaseProtection::secret`], before any secondary value and any derived one: the floor of
/// the information loss, which no choice of witness points can lower. Cheap (no search), so
/// that a dataset design can be judged at the national scale before it is protected.
pub fn primary_mask(
    cubes: &[Cube],
    definitions: &[Definition],
    options: &ProtectOptions,
) -> Result<Vec<Vec<Vec<bool>>>, DisclosureError> {
    let (tables, system) = system_of(cubes, definitions, options)?;
    let p = primary_pass(&tables, &system, cubes, &options.rules)?;
    let release = Release {
        cubes,
        tables: &tables,
        system: &system,
    };
    Ok(release.secret(&p.primary))
}

/// The cubes of a release with their tables and linear system, for the stages of
/// [`protect_release`] after the primary pass.
struct Release<'a> {
    cubes: &'a [Cube],
    tables: &'a [Table],
    system: &'a System,
}

impl Release<'_> {
    /// The cost of moving each value (larger for large values, coarse levels and headline
    /// rows) and whether it may never move (absent, or neither a count nor a magnitude).
    fn costs(&self, class: &[Class]) -> (Vec<f64>, Vec<bool>) {
        let system = self.system;
        let n = system.value.len();
        let mut cost = vec![0.0; n];
        let mut blocked = vec![false; n];
        for (ti, t) in self.tables.iter().enumerate() {
            for mi in 0..t.measures.len() {
                for r in 0..t.rows {
                    let c = system.base[ti][mi] + r;
                    blocked[c] =
                        !system.present[c] || !matches!(class[c], Class::Count | Class::Magnitude);
                    let v = system.value[c];
                    let level = f64::from(t.level(r));
                    cost[c] = (1.0 + v.max(0.0))
                        * (1.0 + level).powi(2)
                        * if t.headline(r) { 50.0 } else { 1.0 };
                }
            }
        }
        (cost, blocked)
    }

    /// Applies the previous release: its secrets cost less to hide again, its values
    /// published unchanged are known and may not move. Returns which values are known, and
    /// the primary values among them.
    fn previous_known(
        &self,
        before: &[Before],
        primary: &[bool],
        cost: &mut [f64],
        blocked: &mut [bool],
    ) -> (Vec<bool>, Vec<u32>) {
        let system = self.system;
        let mut known = vec![false; system.value.len()];
        let mut already_known: Vec<u32> = Vec::new();
        for (ti, t) in self.tables.iter().enumerate() {
            for mi in 0..t.measures.len() {
                for r in 0..t.rows {
                    let c = system.base[ti][mi] + r;
                    match before[c] {
                        Before::Secret => cost[c] /= previous::REUSE_DISCOUNT,
                        Before::Published(v) => {
                            let now = shown_value(&self.cubes[ti], mi, r);
                            if now.is_some_and(|x| (x - v).abs() <= 1e-9 * x.abs().max(1.0)) {
                                known[c] = true;
                                blocked[c] = true;
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
        (known, already_known)
    }

    /// The values hidden before the witness pass: the primary ones, and those present that the
    /// previous release kept secret.
    fn witness_start(&self, primary: &[bool], before: &[Before]) -> Vec<bool> {
        let system = self.system;
        let mut start = primary.to_vec();
        for c in 0..system.value.len() {
            if before[c] == Before::Secret && system.present[c] {
                start[c] = true;
            }
        }
        start
    }

    /// Hides the derived values over a hidden part, and makes primary those over a primary
    /// part and the medians over fewer observations than the rules allow.
    fn derived(&self, rules: &PrimaryRules, primary: &mut [bool], hidden: &mut [bool]) {
        let system = self.system;
        for (ti, t) in self.tables.iter().enumerate() {
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
    }

    /// The mask of every cube: by table, measure and row, whether the value is present and
    /// hidden.
    fn secret(&self, hidden: &[bool]) -> Vec<Vec<Vec<bool>>> {
        let system = self.system;
        self.tables
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
            .collect()
    }

    /// The report of the claims without a point, then of the primary values the previous
    /// release published unchanged.
    fn unresolved(
        &self,
        unproved: &[(u32, ClaimKind)],
        already_known: Vec<u32>,
        min_count: u64,
    ) -> Vec<CellReport> {
        let (tables, system) = (self.tables, self.system);
        let mut unresolved: Vec<CellReport> = unproved
            .iter()
            .map(|&(c, kind)| {
                report(
                    tables,
                    system,
                    c as usize,
                    &format!("no witness point found: {}", kind.describe_under(min_count)),
                )
            })
            .collect();
        for c in already_known {
            unresolved.push(report(
                tables,
                system,
                c as usize,
                "secret by a primary rule, but published unchanged by the previous release",
            ));
        }
        unresolved
    }

    /// The certificate of the release, with its witness points.
    fn certificate(&self, points: &[(Changes, Vec<(u32, ClaimKind)>)]) -> Certificate {
        let (tables, system) = (self.tables, self.system);
        let cell_ref = |c: u32| {
            let (t, m, r) = system.locate(c as usize);
            CellRef {
                dataset: t as u16,
                row: r as u32,
                measure: m as u16,
            }
        };
        Certificate {
            release: String::new(),
            datasets: tables.iter().map(|t| t.dataset.clone()).collect(),
            measures: tables
                .iter()
                .map(|t| t.measures.iter().map(|m| m.id.clone()).collect())
                .collect(),
            fingerprint: certificate::fingerprint(self.cubes),
            points: points
                .iter()
                .map(|(changes, proves)| Point {
                    changes: changes.iter().map(|&(c, d)| (cell_ref(c), d)).collect(),
                    claims: proves
                        .iter()
                        .map(|&(c, kind)| Claim {
                            cell: cell_ref(c),
                            kind,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Whether the release shows the same values the same way as the previous release `prev`,
    /// and nothing more.
    fn same_as_previous(
        &self,
        prev: &previous::PreviousRelease,
        before: &[Before],
        known: &[bool],
        hidden: &[bool],
    ) -> bool {
        let system = self.system;
        let mut shown = 0u64;
        (0..system.value.len()).all(|c| {
            if !system.present[c] {
                return true;
            }
            shown += 1;
            match before[c] {
                Before::Secret => hidden[c],
                Before::Published(_) => known[c] && !hidden[c],
                Before::Absent => false,
            }
        }) && shown == previous::values_of(prev)
    }
}

/// One line of a report: where the value is and why it is reported.
fn report(tables: &[Table], system: &System, cell: usize, reason: &str) -> CellReport {
    let (t, m, r) = system.locate(cell);
    CellReport {
        dataset: tables[t].dataset.clone(),
        coordinates: tables[t].coordinates(r),
        measure: tables[t].measures[m].id.clone(),
        value: system.value[cell],
        reason: reason.to_owned(),
    }
}
