//! Information loss of a suppression pattern.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{CellKind, Problem, Published};
use super::rules::Status;
use super::secondary::Pattern;

/// Loss figures over a set of cells.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LossFigures {
    /// Cells.
    pub cells: usize,
    /// Hidden cells.
    pub secret: usize,
    /// Hidden by a primary rule.
    pub primary: usize,
    /// Hidden to protect primary cells.
    pub secondary: usize,
    /// Sum of the values of additive cells (counts and magnitudes), in their units.
    pub value: f64,
    /// Sum of the values of hidden additive cells.
    pub value_secret: f64,
}

impl LossFigures {
    /// Share of cells hidden (0 when there are no cells).
    pub fn cell_share(&self) -> f64 {
        if self.cells == 0 {
            0.0
        } else {
            self.secret as f64 / self.cells as f64
        }
    }

    /// Share of the additive value hidden (0 when the total value is 0).
    pub fn value_share(&self) -> f64 {
        if self.value == 0.0 {
            0.0
        } else {
            self.value_secret / self.value
        }
    }

    /// Secondary cells per primary cell (`None` without primary cells).
    pub fn secondary_per_primary(&self) -> Option<f64> {
        (self.primary > 0).then(|| self.secondary as f64 / self.primary as f64)
    }
}

/// The information-loss report of a release.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InformationLoss {
    /// Over the whole release.
    pub overall: LossFigures,
    /// Per table (dataset), by name.
    pub per_table: BTreeMap<String, LossFigures>,
    /// Share of the cells hidden in the previous release that are hidden again (`None`
    /// without a previous release or when it hid nothing that still exists).
    pub previous_mask_kept: Option<f64>,
}

/// Computes the information loss of `pattern` on `problem`.
pub fn information_loss(problem: &Problem, pattern: &Pattern) -> InformationLoss {
    let mut loss = InformationLoss::default();
    for (cell, &status) in problem.cells.iter().zip(&pattern.status) {
        let additive = !matches!(cell.kind, CellKind::Derived(_));
        for figures in [
            &mut loss.overall,
            loss.per_table.entry(cell.table.clone()).or_default(),
        ] {
            figures.cells += 1;
            if additive {
                figures.value += cell.value;
            }
            if status.is_secret() {
                figures.secret += 1;
                if additive {
                    figures.value_secret += cell.value;
                }
            }
            match status {
                Status::Primary => figures.primary += 1,
                Status::Secondary => figures.secondary += 1,
                Status::Published => {}
            }
        }
    }
    if let Some(previous) = &problem.previous {
        let before: Vec<usize> = previous
            .cells
            .iter()
            .filter(|(_, p)| **p == Published::Secret)
            .map(|(&c, _)| c)
            .collect();
        if !before.is_empty() {
            let kept = before
                .iter()
                .filter(|&&c| pattern.status[c].is_secret())
                .count();
            loss.previous_mask_kept = Some(kept as f64 / before.len() as f64);
        }
    }
    loss
}
