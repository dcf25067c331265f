//! The exact reference: linear programs over the attacker's system, solved by microlp (pure
//! Rust). The protection never solves these; the tests use them to confirm, independently of
//! the witness points, that a claim the checker accepts holds against an attacker who knows
//! every published value and every relation.

use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem};

/// Comparison of a linear constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `Σ terms = rhs`
    Eq,
    /// `Σ terms ≤ rhs`
    Le,
}

/// One linear constraint over unknowns `x ≥ 0` (indices into the caller's unknowns).
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// `(unknown, coefficient)`; an unknown may repeat (the terms are merged).
    pub terms: Vec<(usize, f64)>,
    /// How the sum compares to `rhs`.
    pub cmp: Cmp,
    /// Right-hand side.
    pub rhs: f64,
}

/// Outcome of one optimisation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The optimum of the objective, and the value of every unknown there.
    Optimum(f64, Vec<f64>),
    /// The objective is unbounded in that direction.
    Unbounded,
    /// The constraints admit no solution.
    Infeasible,
}

/// Minimises (`maximise == false`) or maximises `Σ coef × x` over `x ≥ 0` and `constraints`.
pub fn optimise(
    unknowns: usize,
    constraints: &[Linear],
    objective: &[(usize, f64)],
    maximise: bool,
) -> Result<Outcome, String> {
    let direction = if maximise {
        OptimizationDirection::Maximize
    } else {
        OptimizationDirection::Minimize
    };
    let mut problem = Problem::new(direction);
    let mut coef = vec![0.0; unknowns];
    for &(v, c) in objective {
        coef[v] += c;
    }
    let vars: Vec<_> = coef
        .iter()
        .map(|&c| problem.add_var(c, (0.0, f64::INFINITY)))
        .collect();
    // microlp wants each variable at most once per constraint: merge repeats.
    let mut terms: Vec<(usize, f64)> = Vec::new();
    for c in constraints {
        terms.clear();
        terms.extend_from_slice(&c.terms);
        terms.sort_unstable_by_key(|t| t.0);
        let mut e = LinearExpr::empty();
        let mut k = 0;
        while k < terms.len() {
            let (v, mut a) = terms[k];
            k += 1;
            while k < terms.len() && terms[k].0 == v {
                a += terms[k].1;
                k += 1;
            }
            if a != 0.0 {
                e.add(vars[v], a);
            }
        }
        let op = match c.cmp {
            Cmp::Eq => ComparisonOp::Eq,
            Cmp::Le => ComparisonOp::Le,
        };
        problem.add_constraint(e, op, c.rhs);
    }
    match problem.solve() {
        Ok(microlp::SolveOutcome::Solution(s)) => {
            let x: Vec<f64> = vars.iter().map(|&v| s.var_value_raw(v)).collect();
            Ok(Outcome::Optimum(s.objective(), x))
        }
        Ok(microlp::SolveOutcome::Interrupted(_)) => Err("solver interrupted".to_owned()),
        Err(microlp::Error::Infeasible) => Ok(Outcome::Infeasible),
        Err(microlp::Error::Unbounded) => Ok(Outcome::Unbounded),
        Err(other) => Err(other.to_string()),
    }
}
