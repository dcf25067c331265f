//! Primary rules: which cells are secret by themselves.

use serde::{Deserialize, Serialize};

use super::DisclosureError;
use super::model::{CellKind, Problem, Statistic};

/// Parameters of the primary rules, configurable per dataset; [`Default`] gives the values of
/// the design (DESIGN.md §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrimaryRules {
    /// Counts of persons or events from 1 to `min_count − 1` are secret (default 11: 1–10
    /// secret, 0 and ≥ 11 published). Also the upper bound the attacker's interval must reach.
    pub min_count: u64,
    /// A magnitude with fewer contributing structures than this is secret (default 3).
    pub min_contributors: u64,
    /// Dominance: a magnitude whose largest contribution exceeds this share of the total is
    /// secret (default 0.85).
    pub dominance: f64,
    /// Optional p %-rule as a fraction (0.10 for p = 10): secret when the total minus the two
    /// largest contributions is below `p × top1`. Off by default.
    pub p_rule: Option<f64>,
    /// A magnitude with fewer persons behind it than this is secret (default 11).
    pub min_persons: u64,
    /// A median needs at least this many observations (default 11).
    pub min_median_observations: u64,
    /// Relative protection margin of magnitudes made secret by the contributor or person
    /// counts, as a fraction of the cell value (default 0.10): the attacker's interval must
    /// extend that far on both sides.
    pub frequency_margin: f64,
}

impl Default for PrimaryRules {
    fn default() -> Self {
        PrimaryRules {
            min_count: 11,
            min_contributors: 3,
            dominance: 0.85,
            p_rule: None,
            min_persons: 11,
            min_median_observations: 11,
            frequency_margin: 0.10,
        }
    }
}

impl PrimaryRules {
    /// Checks the parameters are in their domains.
    pub fn validate(&self) -> Result<(), DisclosureError> {
        let bad =
            |name: &'static str, value: f64| Err(DisclosureError::InvalidRule { name, value });
        if self.min_count < 1 {
            return bad("min_count", self.min_count as f64);
        }
        if !(self.dominance > 0.0 && self.dominance <= 1.0) {
            return bad("dominance", self.dominance);
        }
        if let Some(p) = self.p_rule
            && !(p > 0.0 && p.is_finite())
        {
            return bad("p_rule", p);
        }
        if !(self.frequency_margin >= 0.0 && self.frequency_margin.is_finite()) {
            return bad("frequency_margin", self.frequency_margin);
        }
        Ok(())
    }

    /// Whether a person or event count is secret by itself.
    pub fn count_is_sensitive(&self, value: f64) -> bool {
        value >= 1.0 && value < self.min_count as f64
    }
}

/// Internal status of a cell in a suppression pattern. Only [`Status::is_secret`] is ever
/// published: the kind of suppression stays internal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Status {
    /// Published.
    Published,
    /// Secret by a primary rule (including derived cells whose inputs are primary).
    Primary,
    /// Secret to protect primary cells.
    Secondary,
}

impl Status {
    /// Whether the cell is hidden.
    pub fn is_secret(self) -> bool {
        self != Status::Published
    }
}

/// Why a magnitude is secret by itself, or `None`.
pub(crate) fn magnitude_is_sensitive(
    rules: &PrimaryRules,
    value: f64,
    c: &super::model::Contributions,
) -> bool {
    if c.contributors == 0 {
        return false;
    }
    c.contributors < rules.min_contributors
        || c.top1 > rules.dominance * value
        || rules
            .p_rule
            .is_some_and(|p| value - c.top1 - c.top2 < p * c.top1)
        || (c.persons >= 1 && c.persons < rules.min_persons)
}

/// Applies the primary rules to every cell: [`Status::Primary`] or [`Status::Published`].
///
/// Person and event counts from 1 to 10, magnitudes failing a contributor rule, every cell of a
/// sensitive row whose total is from 1 to 10, medians over too few observations, and derived
/// cells with a primary input are primary. Public counts never are.
pub fn primary(problem: &Problem) -> Result<Vec<Status>, DisclosureError> {
    problem.validate()?;
    let rules = &problem.rules;
    let mut status: Vec<Status> = problem
        .cells
        .iter()
        .map(|cell| {
            let secret = match &cell.kind {
                CellKind::PersonCount | CellKind::EventCount => {
                    rules.count_is_sensitive(cell.value)
                }
                CellKind::Magnitude => {
                    magnitude_is_sensitive(rules, cell.value, &cell.contributions)
                }
                CellKind::PublicCount => false,
                CellKind::Derived(d) => match d.statistic {
                    Statistic::Median { observations } => {
                        observations < rules.min_median_observations
                    }
                    Statistic::Ratio | Statistic::Mean => false,
                },
            };
            if secret {
                Status::Primary
            } else {
                Status::Published
            }
        })
        .collect();
    for row in &problem.sensitive_rows {
        if rules.count_is_sensitive(problem.cells[row.total].value) {
            for &c in row.cells.iter().chain(std::iter::once(&row.total)) {
                if problem.cells[c].kind != CellKind::PublicCount {
                    status[c] = Status::Primary;
                }
            }
        }
    }
    propagate_derived(problem, &mut status, Status::Primary);
    Ok(status)
}

/// Hides every derived cell whose numerator or denominator is hidden, with status `as_status`.
pub(crate) fn propagate_derived(problem: &Problem, status: &mut [Status], as_status: Status) {
    // Derived cells may feed other derived cells: iterate to a fixed point.
    loop {
        let mut changed = false;
        for (i, cell) in problem.cells.iter().enumerate() {
            if let CellKind::Derived(d) = &cell.kind
                && !status[i].is_secret()
                && (status[d.numerator].is_secret() || status[d.denominator].is_secret())
            {
                status[i] = as_status;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}
