//! The attacker's linear programs: bounds of one unknown cell given the published ones.

use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolverModel, microlp, variable,
};

/// Comparison of a linear constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cmp {
    /// `Σ terms = rhs`
    Eq,
    /// `Σ terms ≤ rhs`
    Le,
}

/// One linear constraint over the unknowns of a component (local indices).
#[derive(Debug, Clone)]
pub(super) struct Linear {
    pub terms: Vec<(usize, f64)>,
    pub cmp: Cmp,
    pub rhs: f64,
}

/// Outcome of one optimisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Bound {
    /// The optimum.
    Finite(f64),
    /// The objective is unbounded in that direction.
    Infinite,
    /// The constraints admit no solution (published values inconsistent with the relations).
    Infeasible,
}

/// Minimises (`maximise == false`) or maximises unknown `target` over `x ≥ 0` and `constraints`.
pub(super) fn optimise(
    unknowns: usize,
    constraints: &[Linear],
    target: usize,
    maximise: bool,
) -> Result<Bound, String> {
    let mut vars = ProblemVariables::new();
    let xs: Vec<_> = (0..unknowns)
        .map(|_| vars.add(variable().min(0.0)))
        .collect();
    let objective = xs[target];
    let unsolved = if maximise {
        vars.maximise(objective)
    } else {
        vars.minimise(objective)
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
        Ok(solution) => Ok(Bound::Finite(solution.value(objective))),
        Err(ResolutionError::Unbounded) => Ok(Bound::Infinite),
        Err(ResolutionError::Infeasible) => Ok(Bound::Infeasible),
        Err(other) => Err(other.to_string()),
    }
}
