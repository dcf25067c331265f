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
