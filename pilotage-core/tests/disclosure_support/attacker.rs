//! The attacker's system of one published dataset, built from its definition, its cube's rows
//! and the geography the way the checker reads a release: every family of every dimension's
//! hierarchy (sums; stocks at period end; averages over time; distinct counts bounded by the
//! sum and the largest part, equal to the sum where they are at the true values), and the
//! relations the definition declares between the measures of a row. A relation enters the
//! system where it holds at the true values. Published values are constants; the unknowns are
//! the secret counts and magnitudes, non-negative.
//!
//! One dataset at a time: equalities between datasets are not built.

use std::collections::HashMap;

use pilotage_core::cube::{Cube, Geography};
use pilotage_core::dataset::{Definition, DimensionType, MeasureKind, RelationOp, TimeRule};

use super::lp::{self, Cmp, Linear, Outcome};

/// A value as a relation sees it.
#[derive(Debug, Clone, Copy)]
enum Term {
    /// Null (not applicable): no term.
    Null,
    /// Published (or a public count): a constant.
    Known(f64),
    /// Secret: unknown `index`, true value given.
    Unknown(usize, f64),
}

/// The attacker's system of one dataset.
#[derive(Debug)]
pub struct System {
    /// `(measure, row)` of every unknown.
    pub unknowns: Vec<(usize, usize)>,
    index: HashMap<(usize, usize), usize>,
    /// The constraints, over the unknowns.
    pub constraints: Vec<Linear>,
    /// Component of every unknown (unknowns tied by some constraint share one).
    component: Vec<usize>,
}

/// What the attacker can tell of one secret value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Lowest value consistent with the system.
    pub min: f64,
    /// Highest (`f64::INFINITY` when unbounded).
    pub max: f64,
}

fn relative(abs: f64) -> f64 {
    1e-7 * (1.0 + abs)
}

impl System {
    /// The system of `cube` published under `secret[measure][row]`.
    pub fn new(def: &Definition, cube: &Cube, secret: &[Vec<bool>], geography: &Geography) -> Self {
        let hierarchy = Hierarchy::new(def, cube, geography);
        let mut unknowns = Vec::new();
        let mut index = HashMap::new();
        let mut terms: Vec<Vec<Term>> = Vec::with_capacity(cube.measures.len());
        let mut base = Vec::with_capacity(cube.measures.len());
        for (m, measure) in cube.measures.iter().enumerate() {
            let d = def.measure(&measure.id).expect("measure of the definition");
            let movable = match d.kind {
                MeasureKind::Persons | MeasureKind::Events => !d.counts_public_things(),
                MeasureKind::Magnitude => true,
                MeasureKind::Rate | MeasureKind::Difference | MeasureKind::Median => false,
            };
            base.push(movable);
            let column = (0..cube.len())
                .map(|r| match cube.value(&measure.id, r) {
                    None => Term::Null,
                    Some(v) if movable && secret[m][r] => {
                        let i = unknowns.len();
                        unknowns.push((m, r));
                        index.insert((m, r), i);
                        Term::Unknown(i, v)
                    }
                    Some(v) => Term::Known(v),
                })
                .collect();
            terms.push(column);
        }
        let mut system = System {
            unknowns,
            index,
            constraints: Vec::new(),
            component: Vec::new(),
        };
        for (m, measure) in cube.measures.iter().enumerate() {
            if !base[m] {
                continue;
            }
            let d = def.measure(&measure.id).expect("measure");
            for (k, dim) in def.dimensions.iter().enumerate() {
                let period = dim.kind == DimensionType::Period;
                for (parent, children) in hierarchy.children[k].iter().enumerate() {
                    if children.is_empty() {
                        continue;
                    }
                    let total = terms[m][parent];
                    if matches!(total, Term::Null) {
                        continue;
                    }
                    let parts: Vec<(usize, Term)> = children
                        .iter()
                        .map(|&c| (c, terms[m][c]))
                        .filter(|(_, t)| !matches!(t, Term::Null))
                        .collect();
                    if parts.is_empty() {
                        continue;
                    }
                    if period && d.time == Some(TimeRule::Stock) {
                        let Some(&(_, ending)) =
                            parts.iter().find(|(c, _)| hierarchy.ends_parent[k][*c])
                        else {
                            continue;
                        };
                        system.equal(&[(1.0, total)], &[(1.0, ending)]);
                    } else if period && d.time == Some(TimeRule::Average) {
                        let div = f64::from(hierarchy.divisor[k][parent]);
                        let right: Vec<(f64, Term)> =
                            parts.iter().map(|&(_, t)| (1.0, t)).collect();
                        system.equal(&[(div, total)], &right);
                    } else if d.kind == MeasureKind::Persons {
                        let right: Vec<(f64, Term)> =
                            parts.iter().map(|&(_, t)| (1.0, t)).collect();
                        // total ≤ Σ parts, each part ≤ total, total = Σ parts where it is.
                        system.at_most(&[(1.0, total)], &right);
                        for &(_, t) in &parts {
                            system.at_most(&[(1.0, t)], &[(1.0, total)]);
                        }
                        system.equal(&[(1.0, total)], &right);
                    } else {
                        let right: Vec<(f64, Term)> =
                            parts.iter().map(|&(_, t)| (1.0, t)).collect();
                        system.equal(&[(1.0, total)], &right);
                    }
                }
            }
        }
        let position = |id: &str| cube.measures.iter().position(|x| x.id == id);
        for rel in &def.relations {
            let Some(left) = position(&rel.left) else {
                continue;
            };
            let Some(right) = rel
                .right
                .iter()
                .map(|id| position(id))
                .collect::<Option<Vec<usize>>>()
            else {
                continue;
            };
            for (r, &l) in terms[left].iter().enumerate() {
                let rs: Vec<(f64, Term)> = right.iter().map(|&m| (1.0, terms[m][r])).collect();
                if matches!(l, Term::Null) || rs.iter().any(|(_, t)| matches!(t, Term::Null)) {
                    continue;
                }
                match rel.op {
                    RelationOp::Equal => system.equal(&[(1.0, l)], &rs),
                    RelationOp::AtLeast => system.at_most(&rs, &[(1.0, l)]),
                }
            }
        }
        system.link();
        system
    }

    /// Adds `Σ left = Σ right` where it holds at the true values and ties an unknown.
    fn equal(&mut self, left: &[(f64, Term)], right: &[(f64, Term)]) {
        self.add(left, right, Cmp::Eq);
    }

    /// Adds `Σ left ≤ Σ right` where it holds at the true values and ties an unknown.
    fn at_most(&mut self, left: &[(f64, Term)], right: &[(f64, Term)]) {
        self.add(left, right, Cmp::Le);
    }

    fn add(&mut self, left: &[(f64, Term)], right: &[(f64, Term)], cmp: Cmp) {
        let (mut terms, mut rhs, mut truth, mut abs) = (Vec::new(), 0.0, 0.0, 0.0);
        let sides = left
            .iter()
            .map(|&(c, t)| (c, t))
            .chain(right.iter().map(|&(c, t)| (-c, t)));
        for (coef, t) in sides {
            match t {
                Term::Null => return,
                Term::Known(v) => {
                    rhs -= coef * v;
                    truth += coef * v;
                    abs += (coef * v).abs();
                }
                Term::Unknown(i, v) => {
                    terms.push((i, coef));
                    truth += coef * v;
                    abs += (coef * v).abs();
                }
            }
        }
        let holds = match cmp {
            Cmp::Eq => truth.abs() <= relative(abs),
            Cmp::Le => truth <= relative(abs),
        };
        if holds && !terms.is_empty() {
            self.constraints.push(Linear { terms, cmp, rhs });
        }
    }

    fn link(&mut self) {
        let mut parent: Vec<usize> = (0..self.unknowns.len()).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for c in &self.constraints {
            let first = find(&mut parent, c.terms[0].0);
            for &(v, _) in &c.terms[1..] {
                let root = find(&mut parent, v);
                if root != first {
                    parent[root] = first;
                }
            }
        }
        self.component = (0..self.unknowns.len())
            .map(|v| find(&mut parent, v))
            .collect();
    }

    /// Whether the value at `(measure, row)` is an unknown of the system.
    pub fn is_unknown(&self, measure: usize, row: usize) -> bool {
        self.index.contains_key(&(measure, row))
    }

    /// The unknowns of the component of `(measure, row)`.
    pub fn component_size(&self, measure: usize, row: usize) -> usize {
        let v = self.index[&(measure, row)];
        let c = self.component[v];
        self.component.iter().filter(|&&x| x == c).count()
    }

    /// The attacker's bounds of the secret value at `(measure, row)`, by two linear programs
    /// over its component.
    pub fn bounds(&self, measure: usize, row: usize) -> Bounds {
        let v = *self
            .index
            .get(&(measure, row))
            .expect("bounds of a secret value");
        let c = self.component[v];
        let mut local = HashMap::new();
        for (i, _) in self.component.iter().enumerate().filter(|(_, x)| **x == c) {
            let n = local.len();
            local.insert(i, n);
        }
        let constraints: Vec<Linear> = self
            .constraints
            .iter()
            .filter(|l| self.component[l.terms[0].0] == c)
            .map(|l| Linear {
                terms: l.terms.iter().map(|&(i, a)| (local[&i], a)).collect(),
                cmp: l.cmp,
                rhs: l.rhs,
            })
            .collect();
        let objective = [(local[&v], 1.0)];
        let solve = |maximise: bool| match lp::optimise(
            local.len(),
            &constraints,
            &objective,
            maximise,
        ) {
            Ok(Outcome::Optimum(value, _)) => value,
            Ok(Outcome::Unbounded) if maximise => f64::INFINITY,
            other => panic!(
                "the attacker's system of ({measure}, {row}) holds at the true values: {other:?}"
            ),
        };
        Bounds {
            min: solve(false),
            max: solve(true),
        }
    }
}

/// Parent and children rows of every row along every dimension, as the checker links them.
struct Hierarchy {
    /// `children[k][r]`: rows whose member along `k` is a child of `r`'s, the rest equal.
    children: Vec<Vec<Vec<usize>>>,
    /// `ends_parent[k][r]`: along a period, row `r`'s member ends its parent's period.
    ends_parent: Vec<Vec<bool>>,
    /// `divisor[k][r]`: along a period, the children an average of `r` divides by.
    divisor: Vec<Vec<u8>>,
}

impl Hierarchy {
    fn new(def: &Definition, cube: &Cube, geography: &Geography) -> Hierarchy {
        let regions: HashMap<&str, &str> = geography
            .departements()
            .iter()
            .map(|(d, r)| (d.as_str(), r.as_str()))
            .collect();
        let n = def.dimensions.len();
        let codes = |r: usize| -> Vec<&str> { cube.dimensions.iter().map(|d| d.code(r)).collect() };
        let rows: HashMap<Vec<&str>, usize> = (0..cube.len()).map(|r| (codes(r), r)).collect();
        let mut children = vec![vec![Vec::new(); cube.len()]; n];
        let mut ends_parent = vec![vec![false; cube.len()]; n];
        let mut divisor = vec![vec![1u8; cube.len()]; n];
        for (k, dim) in def.dimensions.iter().enumerate() {
            let member_parent: HashMap<&str, &str> = dim
                .levels
                .iter()
                .flat_map(|l| l.members.iter())
                .filter_map(|m| {
                    m.parent
                        .as_deref()
                        .or(dim.total.as_deref())
                        .map(|p| (m.code.as_str(), p))
                })
                .collect();
            let total = dim.total.as_deref();
            #[allow(clippy::needless_range_loop)]
            for r in 0..cube.len() {
                let mut key = codes(r);
                let code = key[k];
                let up: Option<(String, bool, u8)> = match dim.kind {
                    _ if Some(code) == total => None,
                    DimensionType::Territory => {
                        if let Some(dep) = code.strip_prefix("DEP-") {
                            regions.get(dep).map(|g| (format!("REG-{g}"), false, 1))
                        } else if code.starts_with("REG-") {
                            total.map(|t| (t.to_owned(), false, 1))
                        } else {
                            None
                        }
                    }
                    DimensionType::Period => period_parent(code),
                    DimensionType::Categorical => {
                        member_parent.get(code).map(|p| (p.to_string(), false, 1))
                    }
                };
                let Some((p, ends, div)) = up else { continue };
                key[k] = &p;
                if let Some(&parent) = rows.get(&key) {
                    children[k][parent].push(r);
                    ends_parent[k][r] = ends;
                    divisor[k][parent] = div;
                }
            }
        }
        Hierarchy {
            children,
            ends_parent,
            divisor,
        }
    }
}

/// Parent of a period code: `YYYY-MM` → `YYYY-Tq`, `YYYY-Tq` → `YYYY`; whether the code ends
/// it, and the parent's average divisor.
fn period_parent(code: &str) -> Option<(String, bool, u8)> {
    let (year, rest) = code.split_once('-')?;
    if let Some(q) = rest.strip_prefix('T') {
        let q: u32 = q.parse().ok()?;
        Some((year.to_owned(), q == 4, 4))
    } else {
        let month: u32 = rest.parse().ok()?;
        Some((
            format!("{year}-T{}", (month - 1) / 3 + 1),
            month.is_multiple_of(3),
            3,
        ))
    }
}
