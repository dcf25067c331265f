//! Record programs: an integer program whose unknowns are records, for the claims no move
//! reaches.
//!
//! A record move takes records one leaf at a time, the fullest first. A leaf is a
//! combination of members that the published rows allow, not a record known to exist, and
//! a greedy choice of leaves can use up a row that the last units of the value need in
//! another crossing: the search then ends one unit short. The records behind the value do
//! exist, so a set of leaves that empties it exactly does too; finding it is an integer
//! problem, which this module states and solves.
//!
//! The unknowns are how many records of each kind leave (or reach) each leaf below the value,
//! how many reach (or leave) each leaf below the nearest siblings of its members, so that
//! the totals above them may keep their value, and the same in every table tied to the
//! value's table by a shared figure. Each unknown's image keeps every sum of its table by
//! construction (it is a set of records); the program keeps the rest: the equalities between
//! tables, the inequalities (declared relations, distinct-count bounds), no value below 0,
//! no value moved that the point must hold, and the goal. Its cost is the hiding cost of the
//! values each record changes. The point it gives is checked like every other point.

use std::collections::BTreeMap;

use super::{Breadth, Step};
use crate::disclosure::release::grid::{Class, NONE, RelationKind};
use crate::disclosure::release::witness::{Avoid, Goal, Mask, Space};
use rustc_hash::FxHashMap as HashMap;

/// How many records a record program weighs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reach {
    /// Most leaves weighed below the value, per table and kind of record.
    pub leaves_below: usize,
    /// Most siblings per dimension whose leaves may take the records (or give them).
    pub siblings: usize,
    /// Most leaves weighed below one sibling, per table and kind of record.
    pub leaves_per_sibling: usize,
}

impl Reach {
    /// The first search of every claim.
    pub const NORMAL: Reach = Reach {
        leaves_below: 64,
        siblings: 2,
        leaves_per_sibling: 8,
    };
    /// The last search of a claim every other way failed: four times as many leaves and
    /// siblings.
    pub const WIDE: Reach = Reach {
        leaves_below: 256,
        siblings: 8,
        leaves_per_sibling: 32,
    };
}

/// Branch-and-bound nodes of one record program: a node limit, not a time limit, so that
/// the same store gives the same release however busy the machine is.
const NODES: u64 = 1_000;

/// A region of one table where records leave or arrive: one member per dimension, and the
/// sign of the records' change there (−1 leaving, +1 arriving).
type Region = (Vec<u32>, f64);

impl Space<'_> {
    /// A point reaching the goal from an integer program over records (see the module
    /// documentation); `None` when the program has no solution within its node limit, or
    /// when the value is not a count or a magnitude of a table whose rows are indexed.
    pub fn record_program(
        &self,
        goal: Goal,
        mask: &Mask,
        avoid: Avoid,
        reach: &Reach,
    ) -> Option<Vec<(u32, f64)>> {
        let (t, m, row) = self.system.locate(goal.cell as usize);
        let shape = self.shapes[t].as_ref()?;
        let table = &self.tables[t];
        let class = table.measures[m].class;
        if !matches!(class, Class::Count | Class::Magnitude) || mask.blocked[goal.cell as usize] {
            return None;
        }
        let sign = if goal.down { -1.0 } else { 1.0 };
        let own: Vec<u32> = table.dims.iter().map(|d| d.rows[row]).collect();
        let over: HashMap<u32, f64> = HashMap::default();
        let breadth = &Breadth {
            coarse: true,
            ..Breadth::WIDE
        };
        // The value's region and those of the nearest siblings of its members, in its table.
        let mut regions: Vec<Region> = vec![(own.clone(), sign)];
        if let Some(kind) = shape.kinds[m].first() {
            let step = Step {
                space: self,
                shape,
                t,
                kind,
                over: &over,
                breadth,
            };
            for k in (0..own.len()).filter(|&k| table.dims[k].parent[own[k] as usize] != NONE) {
                for s in step
                    .siblings(&own, k, mask, m)
                    .into_iter()
                    .take(reach.siblings)
                {
                    let mut o = own.clone();
                    o[k] = s;
                    regions.push((o, -sign));
                }
            }
        }
        // Every table reached through shared figures, with the regions seen from it and the
        // measures tied there.
        let mut reached: Vec<(usize, Vec<Region>, Vec<usize>)> = vec![(t, regions, vec![m])];
        let mut i = 0;
        while i < reached.len() {
            let (from, from_regions, from_measures) = reached[i].clone();
            let from_kinds: Vec<usize> = self.shapes[from]
                .as_ref()
                .map(|s| {
                    let mut all: Vec<usize> = from_measures
                        .iter()
                        .flat_map(|&x| s.kinds[x].iter().flatten().copied())
                        .collect();
                    all.sort_unstable();
                    all.dedup();
                    all
                })
                .unwrap_or_default();
            for link in &self.links[from] {
                if reached.iter().any(|r| r.0 == link.to) {
                    continue;
                }
                let mut tied: Vec<usize> = link
                    .measures
                    .iter()
                    .filter(|(here, _)| from_kinds.contains(here))
                    .map(|x| x.1)
                    .collect();
                tied.sort_unstable();
                tied.dedup();
                if tied.is_empty() || link.roots.contains(&NONE) {
                    continue;
                }
                let projected: Vec<Region> = from_regions
                    .iter()
                    .filter_map(|(members, s)| Some((link.project(members)?, *s)))
                    .collect();
                if !projected.is_empty() {
                    reached.push((link.to, projected, tied));
                }
            }
            i += 1;
        }
        // The unknowns: one record of one kind at one leaf, with the sign of its region.
        let mut columns: Vec<Vec<(u32, f64)>> = Vec::new();
        // Whether each column is a record known at a member with children only.
        let mut coarse: Vec<bool> = Vec::new();
        for (tt, regions, measures) in &reached {
            let Some(shape) = self.shapes[*tt].as_ref() else {
                continue;
            };
            let mut kinds: Vec<&Vec<usize>> = measures
                .iter()
                .flat_map(|&x| shape.kinds[x].iter())
                .collect();
            kinds.sort();
            kinds.dedup();
            for kind in kinds {
                let step = Step {
                    space: self,
                    shape,
                    t: *tt,
                    kind,
                    over: &over,
                    breadth,
                };
                for (j, (members, s)) in regions.iter().enumerate() {
                    let most = if j == 0 {
                        reach.leaves_below
                    } else {
                        reach.leaves_per_sibling
                    };
                    for leaf in step.search_below(members, *s < 0.0, most, false) {
                        let rough = leaf
                            .iter()
                            .enumerate()
                            .any(|(k, &l)| !shape.leaves[k][l as usize].contains(&l));
                        if let Some(image) = step.image_here(&[(leaf, *s)])
                            && !image.is_empty()
                            && !columns.contains(&image)
                        {
                            columns.push(image);
                            coarse.push(rough);
                        }
                    }
                }
            }
        }
        if columns.is_empty() {
            return None;
        }
        self.solve_records(goal, mask, avoid, &columns, &coarse)
    }

    /// Solves the record program over `columns` (each the image of one record; `coarse`
    /// where the record is known at a member with children only) and returns the point,
    /// checked.
    fn solve_records(
        &self,
        goal: Goal,
        mask: &Mask,
        avoid: Avoid,
        columns: &[Vec<(u32, f64)>],
        coarse: &[bool],
    ) -> Option<Vec<(u32, f64)>> {
        let count_of = |c: u32| {
            let (t, m, _) = self.system.locate(c as usize);
            self.tables[t].measures[m].class == Class::Count
        };
        let goal_count = count_of(goal.cell);
        // Per value, the columns that change it and by how much, values in order.
        let mut by_cell: BTreeMap<u32, Vec<(usize, f64)>> = BTreeMap::new();
        for (j, col) in columns.iter().enumerate() {
            for &(c, a) in col {
                by_cell.entry(c).or_default().push((j, a));
            }
        }
        let need = (goal.target - self.value(goal.cell)).abs();
        let mut problem = microlp::Problem::new(microlp::OptimizationDirection::Minimize);
        let vars: Vec<microlp::Variable> = columns
            .iter()
            .map(|col| {
                // Price: what hiding the values it changes costs, per record.
                let price: f64 = col
                    .iter()
                    .map(|&(c, a)| {
                        let v = self.value(c).abs();
                        let unit = if mask.is_hidden(c) {
                            1e-3
                        } else {
                            mask.cost[c as usize] / (1.0 + v)
                        };
                        unit * a.abs()
                    })
                    .sum::<f64>()
                    + 1e-6;
                // At most what its rows hold where it takes records away, and a few times
                // the goal's distance where it brings them.
                let cap = col
                    .iter()
                    .filter(|x| x.1 < 0.0)
                    .map(|&(c, a)| self.value(c).max(0.0) / -a)
                    .fold(4.0 * need + 11.0, f64::min);
                if goal_count && col.iter().all(|&(c, _)| count_of(c)) {
                    problem.add_integer_var(price, (0, cap.floor() as i32))
                } else {
                    problem.add_var(price, (0.0, cap))
                }
            })
            .collect();
        // Terms are gathered per column first: the solver takes each variable once.
        let expr = |c: u32, a: f64, e: &mut BTreeMap<usize, f64>| {
            if let Some(list) = by_cell.get(&c) {
                for &(j, coef) in list {
                    *e.entry(j).or_insert(0.0) += a * coef;
                }
            }
        };
        let mut add = |e: BTreeMap<usize, f64>, op: microlp::ComparisonOp, rhs: f64| {
            let mut lin = microlp::LinearExpr::empty();
            for (j, a) in e {
                if a != 0.0 {
                    lin.add(vars[j], a);
                }
            }
            problem.add_constraint(lin, op, rhs);
        };
        // The goal.
        let mut e = BTreeMap::new();
        expr(goal.cell, 1.0, &mut e);
        let (op, rhs) = if goal.down {
            (
                microlp::ComparisonOp::Le,
                goal.target - self.value(goal.cell),
            )
        } else {
            (
                microlp::ComparisonOp::Ge,
                goal.target - self.value(goal.cell),
            )
        };
        add(e, op, rhs);
        // Every value: held where the point must not move it, never below 0.
        for (&c, list) in &by_cell {
            let mut e = BTreeMap::new();
            expr(c, 1.0, &mut e);
            if mask.blocked[c as usize] || (c != goal.cell && avoid.blocks(c)) {
                add(e, microlp::ComparisonOp::Eq, 0.0);
            } else if list.iter().any(|x| x.1 < 0.0) {
                add(e, microlp::ComparisonOp::Ge, -self.value(c));
            }
        }
        // Every relation the columns touch, but the sums within one table, which every
        // column keeps by construction; except where a record known at a coarser member
        // only (a column of `coarse`) changes a total and not its parts.
        let coarse: std::collections::BTreeSet<u32> = columns
            .iter()
            .zip(coarse)
            .filter(|x| *x.1)
            .flat_map(|(col, _)| col.iter().map(|x| x.0))
            .collect();
        let mut rels: Vec<u32> = by_cell
            .keys()
            .flat_map(|&c| self.relations_of(c).iter().copied())
            .collect();
        rels.sort_unstable();
        rels.dedup();
        for &r in &rels {
            let rel = &self.system.relations[r as usize];
            let table = |c: u32| self.system.locate(c as usize).0;
            let v = |c: u32| self.value(c);
            match rel.kind {
                RelationKind::Sum(k) => {
                    let t0 = table(rel.total);
                    if rel.parts.iter().all(|&p| table(p) == t0)
                        && !rel.cells().any(|c| coarse.contains(&c))
                    {
                        continue;
                    }
                    let mut e = BTreeMap::new();
                    expr(rel.total, k, &mut e);
                    for &p in &rel.parts {
                        expr(p, -1.0, &mut e);
                    }
                    add(e, microlp::ComparisonOp::Eq, 0.0);
                }
                RelationKind::AtLeast => {
                    let mut e = BTreeMap::new();
                    for &p in &rel.parts {
                        expr(p, 1.0, &mut e);
                    }
                    expr(rel.total, -1.0, &mut e);
                    let slack = v(rel.total) - rel.parts.iter().map(|&p| v(p)).sum::<f64>();
                    add(e, microlp::ComparisonOp::Le, slack.max(0.0));
                }
                RelationKind::Distinct {
                    above_parts,
                    below_sum,
                } => {
                    if above_parts {
                        for &p in &rel.parts {
                            if !by_cell.contains_key(&p) && !by_cell.contains_key(&rel.total) {
                                continue;
                            }
                            let mut e = BTreeMap::new();
                            expr(p, 1.0, &mut e);
                            expr(rel.total, -1.0, &mut e);
                            add(e, microlp::ComparisonOp::Le, (v(rel.total) - v(p)).max(0.0));
                        }
                    }
                    if below_sum {
                        let mut e = BTreeMap::new();
                        expr(rel.total, 1.0, &mut e);
                        for &p in &rel.parts {
                            expr(p, -1.0, &mut e);
                        }
                        let slack = rel.parts.iter().map(|&p| v(p)).sum::<f64>() - v(rel.total);
                        add(e, microlp::ComparisonOp::Le, slack.max(0.0));
                    }
                }
            }
        }
        let mut options = microlp::SolveOptions::default();
        options.node_limit = Some(NODES);
        let microlp::SolveOutcome::Solution(solution) = problem.solve_with(options).ok()? else {
            return None;
        };
        let mut change: BTreeMap<u32, f64> = BTreeMap::new();
        for (j, col) in columns.iter().enumerate() {
            let x = solution.var_value(vars[j]);
            if x.abs() <= 1e-9 {
                continue;
            }
            for &(c, a) in col {
                *change.entry(c).or_insert(0.0) += x * a;
            }
        }
        let changes: Vec<(u32, f64)> = change
            .into_iter()
            .map(|(c, d)| (c, if count_of(c) { d.round() } else { d }))
            .filter(|x| x.1.abs() > 1e-9)
            .collect();
        let moved = changes
            .binary_search_by_key(&goal.cell, |x| x.0)
            .map_or(0.0, |j| changes[j].1);
        (goal.meets(self.value(goal.cell) + moved)
            && changes
                .iter()
                .all(|&(c, _)| !mask.blocked[c as usize] && (c == goal.cell || !avoid.blocks(c)))
            && self.sound(&changes))
        .then_some(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::Reach;
    use crate::dataset::{DimensionType, MeasureKind};
    use crate::disclosure::release::grid::{self, Class, Dimension, Measure, NONE, Table};
    use crate::disclosure::release::witness::{Avoid, Goal, Mask, Space};
    use rustc_hash::FxHashSet;

    /// Applications of one origin in two départements: rows (FR, _T), (DEP-01, _T),
    /// (DEP-02, _T), (FR, x), (DEP-01, x), (DEP-02, x); DEP-01 has 3, DEP-02 has 20.
    fn two_departements() -> (Vec<Table>, Vec<f64>) {
        let table = Table {
            dataset: "a".to_owned(),
            rows: 6,
            dims: vec![
                Dimension {
                    id: "territoire".to_owned(),
                    kind: DimensionType::Territory,
                    codes: ["FR", "DEP-01", "DEP-02"].map(str::to_owned).to_vec(),
                    finest: 1,
                    depth: vec![0, 1, 1],
                    parent: vec![NONE, 0, 0],
                    rows: vec![0, 1, 2, 0, 1, 2],
                    sensitive: false,
                },
                Dimension {
                    id: "origine".to_owned(),
                    kind: DimensionType::Categorical,
                    codes: ["_T", "x"].map(str::to_owned).to_vec(),
                    finest: 1,
                    depth: vec![0, 1],
                    parent: vec![NONE, 0],
                    rows: vec![0, 0, 0, 1, 1, 1],
                    sensitive: false,
                },
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
        };
        (vec![table], vec![23.0, 3.0, 20.0, 23.0, 3.0, 20.0])
    }

    /// Runs `f` with the space of the fixture and a mask where the values of `blocked` may not
    /// move.
    fn with_space(blocked: &[u32], f: impl Fn(&Space, &Mask)) {
        let (tables, values) = two_departements();
        let system = grid::build_system(&tables, &|_, _, r| Some(values[r]), &|_, _, _| true)
            .expect("system");
        let n = system.value.len();
        let (rel_start, rel_flat) = grid::incidence(n, &system.relations);
        let space = Space::new(&tables, &system, &rel_start, &rel_flat);
        let hidden = vec![false; n];
        let mut held = vec![false; n];
        for &c in blocked {
            held[c as usize] = true;
        }
        let cost = vec![1.0; n];
        let fresh = FxHashSet::default();
        let mask = Mask {
            hidden: &hidden,
            fresh: &fresh,
            blocked: &held,
            cost: &cost,
        };
        f(&space, &mask);
    }

    /// Applications by prescriber group: DEP-02's 20 come through group g1, DEP-01's 3 through
    /// no group (known at the total only). Rows (FR, _T) 23, (DEP-01, _T) 3, (DEP-02, _T) 20,
    /// (FR, g1) 20, (DEP-02, g1) 20.
    fn without_group() -> (Vec<Table>, Vec<f64>) {
        let (mut tables, _) = two_departements();
        let t = &mut tables[0];
        t.rows = 5;
        t.dims[0].rows = vec![0, 1, 2, 0, 2];
        t.dims[1].id = "groupe".to_owned();
        t.dims[1].codes = ["_T", "g1"].map(str::to_owned).to_vec();
        t.dims[1].rows = vec![0, 0, 0, 1, 1];
        (tables, vec![23.0, 3.0, 20.0, 20.0, 20.0])
    }

    #[test]
    fn a_record_program_takes_records_known_at_a_total_only() {
        let (tables, values) = without_group();
        let system = grid::build_system(&tables, &|_, _, r| Some(values[r]), &|_, _, _| true)
            .expect("system");
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
        let zero = Goal {
            cell: 1,
            target: 0.0,
            down: true,
        };
        // No leaf below (DEP-01, _T) has records: record moves find nothing.
        assert!(
            space
                .records(zero, &mask, Avoid::Nothing, &super::Breadth::WIDE)
                .is_none()
        );
        // The program takes DEP-01's 3 records where they are known: at the total.
        let point = space
            .record_program(zero, &mask, Avoid::Nothing, &Reach::NORMAL)
            .expect("records known at the total");
        assert_eq!(point, vec![(0, -3.0), (1, -3.0)]);
        assert!(space.sound(&point));
    }

    #[test]
    fn a_record_program_moves_the_records_to_a_sibling_when_the_total_is_held() {
        // France published unchanged by the previous release: DEP-01's 3 records can be 0
        // only by going to DEP-02, and it can be 11 only with 8 records from DEP-02.
        with_space(&[0, 3], |space, mask| {
            let zero = Goal {
                cell: 4,
                target: 0.0,
                down: true,
            };
            let point = space
                .record_program(zero, mask, Avoid::Nothing, &Reach::NORMAL)
                .expect("records moved to DEP-02");
            assert_eq!(point, vec![(1, -3.0), (2, 3.0), (4, -3.0), (5, 3.0)]);
            assert!(space.sound(&point));
            let eleven = Goal {
                cell: 4,
                target: 11.0,
                down: false,
            };
            let point = space
                .record_program(eleven, mask, Avoid::Nothing, &Reach::NORMAL)
                .expect("records brought from DEP-02");
            assert_eq!(point, vec![(1, 8.0), (2, -8.0), (4, 8.0), (5, -8.0)]);
        });
    }

    #[test]
    fn a_record_program_keeps_the_values_it_must_hold_or_finds_nothing() {
        // With DEP-02 held as well, nothing can take or give DEP-01's records.
        with_space(&[0, 2, 3, 5], |space, mask| {
            let zero = Goal {
                cell: 4,
                target: 0.0,
                down: true,
            };
            assert!(
                space
                    .record_program(zero, mask, Avoid::Nothing, &Reach::NORMAL)
                    .is_none()
            );
        });
        // Nothing held: the cheapest point empties DEP-01, whatever way, and is sound.
        with_space(&[], |space, mask| {
            let zero = Goal {
                cell: 4,
                target: 0.0,
                down: true,
            };
            let point = space
                .record_program(zero, mask, Avoid::Nothing, &Reach::NORMAL)
                .expect("a point");
            assert!(point.contains(&(4, -3.0)) && point.contains(&(1, -3.0)));
            assert!(space.sound(&point));
        });
    }
}
