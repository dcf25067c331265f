//! The attacker's linear programs: bounds of one unknown cell given the published ones.

use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolverModel, microlp, variable,
};

/// Comparison of a linear constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    /// `Σ terms = rhs`
    Eq,
    /// `Σ terms ≤ rhs`
    Le,
}

/// One linear constraint over the unknowns of a component (local indices).
#[derive(Debug, Clone)]
pub(crate) struct Linear {
    pub terms: Vec<(usize, f64)>,
    pub cmp: Cmp,
    pub rhs: f64,
}

/// Outcome of one optimisation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// An optimal vertex: the value of every unknown.
    Optimum(Vec<f64>),
    /// The objective is unbounded in that direction.
    Unbounded,
    /// The constraints admit no solution (published values inconsistent with the relations).
    Infeasible,
}

/// Minimises (`maximise == false`) or maximises `Σ coef × x` over `x ≥ 0` and `constraints`.
pub(crate) fn optimise(
    unknowns: usize,
    constraints: &[Linear],
    objective: &[(usize, f64)],
    maximise: bool,
) -> Result<Outcome, String> {
    let mut vars = ProblemVariables::new();
    let xs: Vec<_> = (0..unknowns)
        .map(|_| vars.add(variable().min(0.0)))
        .collect();
    let mut goal = Expression::with_capacity(objective.len());
    for &(v, coef) in objective {
        goal.add_mul(coef, xs[v]);
    }
    let unsolved = if maximise {
        vars.maximise(goal)
    } else {
        vars.minimise(goal)
    };
    let mut model = unsolved.using(microlp);
    for c in constraints {
        let mut e = Expression::with_capacity(c.terms.len());
        for &(v, coef) in &c.terms {
            e.add_mul(coef, xs[v]);
        }
        let constraint = match c.cmp {
            Cmp::Eq => e.eq(c.rhs),
            Cmp::Le => e.leq(c.rhs),
        };
        model.add_constraint(constraint);
    }
    match model.solve() {
        Ok(solution) => Ok(Outcome::Optimum(
            xs.iter().map(|&x| solution.value(x)).collect(),
        )),
        Err(ResolutionError::Unbounded) => Ok(Outcome::Unbounded),
        Err(ResolutionError::Infeasible) => Ok(Outcome::Infeasible),
        Err(other) => Err(other.to_string()),
    }
}

/// Adds `constraints` over `vars` to a microlp problem, merging repeated terms (microlp wants
/// each variable at most once per constraint).
fn add_constraints(
    problem: &mut microlp::Problem,
    vars: &[microlp::Variable],
    constraints: &[Linear],
) {
    let mut terms: Vec<(usize, f64)> = Vec::new();
    for c in constraints {
        terms.clear();
        terms.extend_from_slice(&c.terms);
        terms.sort_unstable_by_key(|t| t.0);
        let mut e = microlp::LinearExpr::empty();
        let mut k = 0;
        while k < terms.len() {
            let (v, mut coef) = terms[k];
            k += 1;
            while k < terms.len() && terms[k].0 == v {
                coef += terms[k].1;
                k += 1;
            }
            if coef != 0.0 {
                e.add(vars[v], coef);
            }
        }
        let op = match c.cmp {
            Cmp::Eq => microlp::ComparisonOp::Eq,
            Cmp::Le => microlp::ComparisonOp::Le,
        };
        problem.add_constraint(e, op, c.rhs);
    }
}

/// Maximises `Σ min(x_v, cap)` over the `(v, cap)` of `caps` (`cap > 0`), `x ≥ 0` and
/// `constraints`: one program lifts as many unknowns as it can to their cap, instead of one
/// unknown as high as possible. Never unbounded; returns the unknowns at the optimum.
pub(crate) fn maximise_capped(
    unknowns: usize,
    constraints: &[Linear],
    caps: &[(usize, f64)],
) -> Result<Outcome, String> {
    let mut problem = microlp::Problem::new(microlp::OptimizationDirection::Maximize);
    let vars: Vec<microlp::Variable> = (0..unknowns)
        .map(|_| problem.add_var(0.0, (0.0, f64::INFINITY)))
        .collect();
    add_constraints(&mut problem, &vars, constraints);
    for &(v, cap) in caps {
        // y ≤ cap as a bound, y ≤ x as a row.
        let y = problem.add_var(1.0, (0.0, cap));
        let mut e = microlp::LinearExpr::empty();
        e.add(y, 1.0);
        e.add(vars[v], -1.0);
        problem.add_constraint(e, microlp::ComparisonOp::Le, 0.0);
    }
    match problem.solve() {
        Ok(microlp::SolveOutcome::Solution(s)) => Ok(Outcome::Optimum(
            vars.iter().map(|&x| s.var_value_raw(x)).collect(),
        )),
        Ok(microlp::SolveOutcome::Interrupted(_)) => Err("interrupted".to_owned()),
        Err(microlp::Error::Infeasible) => Ok(Outcome::Infeasible),
        Err(microlp::Error::Unbounded) => Ok(Outcome::Unbounded),
        Err(other) => Err(other.to_string()),
    }
}

/// Feasible points of one set of constraints with one unknown held at a chosen value, found by
/// editing a model solved once (microlp's warm-started `fix_var` / `unfix_var`) instead of
/// solving a new linear program from scratch for every question.
///
/// Each answer is a feasible point of the constraints (or nothing), so it proves that the
/// unknown *reaches* the value; an absent answer proves nothing (infeasible, or the solver
/// gave up) and the caller falls back to [`optimise`].
pub(crate) struct Reach {
    /// The model solved with a zero objective, kept to start again after an infeasible edit.
    base: Option<microlp::Solution>,
    /// The model currently edited (`None` after an infeasible edit consumed it).
    work: Option<microlp::Solution>,
    vars: Vec<microlp::Variable>,
    /// Number of edits tried (each counted as one linear program by the callers).
    pub tries: usize,
}

impl Reach {
    /// Builds and solves the model of `constraints` over `unknowns` variables `x ≥ 0`, with a
    /// zero objective (any feasible point).
    pub fn new(unknowns: usize, constraints: &[Linear]) -> Reach {
        let mut problem = microlp::Problem::new(microlp::OptimizationDirection::Minimize);
        let vars: Vec<microlp::Variable> = (0..unknowns)
            .map(|_| problem.add_var(0.0, (0.0, f64::INFINITY)))
            .collect();
        add_constraints(&mut problem, &vars, constraints);
        let base = match problem.solve() {
            Ok(microlp::SolveOutcome::Solution(s)) => Some(s),
            _ => None,
        };
        Reach {
            work: base.clone(),
            base,
            vars,
            tries: 0,
        }
    }

    /// A feasible point where unknown `v` equals `val`, or `None` when there is none or the
    /// solver could not tell.
    pub fn point_with(&mut self, v: usize, val: f64) -> Option<Vec<f64>> {
        let solution = match self.work.take() {
            Some(s) => s,
            None => self.base.clone()?,
        };
        let var = self.vars[v];
        let values = |s: &microlp::Solution| -> Vec<f64> {
            self.vars.iter().map(|&x| s.var_value_raw(x)).collect()
        };
        if (solution.var_value_raw(var) - val).abs() <= 1e-9 {
            // Already there (microlp refuses to fix a basic variable at its own value).
            let point = values(&solution);
            self.work = Some(solution);
            return Some(point);
        }
        self.tries += 1;
        let fixed = match solution.fix_var(var, val) {
            Ok(microlp::SolveOutcome::Solution(s)) => s,
            _ => return None,
        };
        let point = values(&fixed);
        if let Ok((microlp::SolveOutcome::Solution(s), _)) = fixed.unfix_var(var) {
            self.work = Some(s);
        }
        Some(point)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x0 + x1 = 20 and x1 + x2 = 15: x0 ∈ [5, 20], x1 ∈ [0, 15], x2 ∈ [0, 15].
    fn system() -> Vec<Linear> {
        vec![
            Linear {
                terms: vec![(0, 1.0), (1, 1.0)],
                cmp: Cmp::Eq,
                rhs: 20.0,
            },
            Linear {
                terms: vec![(1, 1.0), (2, 1.0)],
                cmp: Cmp::Eq,
                rhs: 15.0,
            },
        ]
    }

    fn feasible(x: &[f64]) -> bool {
        (x[0] + x[1] - 20.0).abs() < 1e-6
            && (x[1] + x[2] - 15.0).abs() < 1e-6
            && x.iter().all(|&v| v >= -1e-9)
    }

    #[test]
    fn points_hold_the_cell_at_the_value_and_satisfy_the_constraints() {
        let mut reach = Reach::new(3, &system());
        let x = reach.point_with(1, 0.0).expect("x1 reaches 0");
        assert!(feasible(&x) && x[1] == 0.0, "{x:?}");
        // x0 ≥ 5: no point with x0 = 0, and the model still answers afterwards.
        assert_eq!(reach.point_with(0, 0.0), None);
        let x = reach.point_with(0, 5.0).expect("x0 reaches 5");
        assert!(
            feasible(&x) && x[0] == 5.0 && (x[1] - 15.0).abs() < 1e-6,
            "{x:?}"
        );
        assert_eq!(reach.point_with(2, 16.0), None);
        let x = reach.point_with(2, 15.0).expect("x2 reaches 15");
        assert!(feasible(&x), "{x:?}");
        // A cell already standing at the value needs no edit.
        assert!(reach.tries <= 5);
    }

    #[test]
    fn repeated_terms_are_merged_and_agree_with_optimise() {
        // x0 + x0 ≤ 8, x0 + x1 = 10: x1 ∈ [6, 10].
        let constraints = vec![
            Linear {
                terms: vec![(0, 1.0), (0, 1.0)],
                cmp: Cmp::Le,
                rhs: 8.0,
            },
            Linear {
                terms: vec![(0, 1.0), (1, 1.0)],
                cmp: Cmp::Eq,
                rhs: 10.0,
            },
        ];
        let lowest = match optimise(2, &constraints, &[(1, 1.0)], false) {
            Ok(Outcome::Optimum(x)) => x[1],
            other => panic!("{other:?}"),
        };
        assert!((lowest - 6.0).abs() < 1e-6);
        let mut reach = Reach::new(2, &constraints);
        assert_eq!(reach.point_with(1, 5.0), None);
        assert!(reach.point_with(1, 6.0).is_some());
        assert!(reach.point_with(1, 10.0).is_some());
    }

    #[test]
    fn capped_maximisation_lifts_every_unknown_it_can() {
        // x0 + x1 = 20 and x1 + x2 = 15, caps 11: x1 = 4 (or less) lets x0 ≥ 11 and x2 ≥ 11.
        match maximise_capped(3, &system(), &[(0, 11.0), (1, 11.0), (2, 11.0)]) {
            Ok(Outcome::Optimum(x)) => {
                assert!(feasible(&x), "{x:?}");
                let lifted = x.iter().filter(|&&v| v >= 11.0 - 1e-6).count();
                assert_eq!(lifted, 2, "{x:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_infeasible_system_gives_no_point() {
        let mut constraints = system();
        constraints.push(Linear {
            terms: vec![(0, 1.0)],
            cmp: Cmp::Le,
            rhs: 4.0,
        });
        let mut reach = Reach::new(3, &constraints);
        assert_eq!(reach.point_with(1, 0.0), None);
    }
}
