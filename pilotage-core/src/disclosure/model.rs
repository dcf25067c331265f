//! The abstract table model that disclosure control works on.
//!
//! A release is flattened into one [`Problem`]: every cell of every published table is one
//! [`Cell`] (addressed by its index in [`Problem::cells`]), and every way the tables tie cells
//! together is one [`Relation`]. Datasets and cubes are converted into this model by a small
//! adapter; nothing here knows about them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::DisclosureError;
use super::rules::PrimaryRules;

/// What a cell counts or measures, which decides its primary rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CellKind {
    /// A number of distinct persons (integer): secret from 1 to 10 by default.
    PersonCount,
    /// A number of events about persons (applications, hirings; integer): same rule as persons.
    EventCount,
    /// A magnitude summed over structures (ETP, hours; real, ≥ 0): contributor rules apply.
    Magnitude,
    /// A count of structures, job descriptions or prescriber organisations (integer): a public
    /// fact, never secret and never suppressed.
    PublicCount,
    /// A rate, mean or median computed from other cells: secret unless its inputs are published.
    Derived(Derivation),
}

impl CellKind {
    /// Whether values of this kind are integers (counts), which lets the attacker round the
    /// bounds of their intervals inward.
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            CellKind::PersonCount | CellKind::EventCount | CellKind::PublicCount
        )
    }

    /// Whether the cell can take part in additive relations (every kind but [`CellKind::Derived`]).
    pub fn is_additive(&self) -> bool {
        !matches!(self, CellKind::Derived(_))
    }
}

/// How a derived cell is computed from two other cells of the problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derivation {
    /// Index of the numerator cell (for a median: the cell counting its observations).
    pub numerator: usize,
    /// Index of the denominator cell.
    pub denominator: usize,
    /// The statistic, which decides the extra rule of medians.
    pub statistic: Statistic,
}

/// The statistic of a derived cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Statistic {
    /// A ratio or rate (numerator / denominator).
    Ratio,
    /// A mean (sum / count).
    Mean,
    /// A median over `observations` values: also needs at least
    /// [`PrimaryRules::min_median_observations`] of them.
    Median {
        /// Number of observations the median is taken over.
        observations: u64,
    },
}

/// Per-cell facts about who lies behind a magnitude, used by the contributor rules. For counts
/// they are ignored and may stay at their default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contributions {
    /// Number of structures contributing a non-zero amount to the cell.
    pub contributors: u64,
    /// Largest single structure's contribution, in the cell's unit.
    pub top1: f64,
    /// Second largest structure's contribution, in the cell's unit (0 when fewer than two).
    pub top2: f64,
    /// Number of distinct persons behind the magnitude.
    pub persons: u64,
    /// Pseudonymous key of the largest contributor, when known. Cells where one structure is
    /// the sole contributor are known to that structure: the audit lets it use this knowledge.
    pub top_contributor: Option<u64>,
}

/// Hints for the cost of suppressing a cell: secondary suppression prefers fine cells and
/// keeps headline totals published where it can.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostHint {
    /// Number of dimensions aggregated in the cell (0 for the finest cells, one more per margin).
    pub level: u8,
    /// A headline total (national, région or département level, or a yearly total): suppressed
    /// only when nothing cheaper works.
    pub headline: bool,
}

/// One cell of a published table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Stable public identifier (for instance `dataset/territory=84/month=2024-01`), used in
    /// reports and as the last tie-breaker.
    pub key: String,
    /// The table (dataset) the cell belongs to, for the information-loss report.
    pub table: String,
    /// True value of the cell, in the cell's unit (an integer for counts).
    pub value: f64,
    /// What the cell counts or measures.
    pub kind: CellKind,
    /// Contributor facts (magnitudes only).
    pub contributions: Contributions,
    /// Cost hints for secondary suppression.
    pub cost: CostHint,
}

impl Cell {
    /// A count cell with default facts and cost.
    pub fn count(
        key: impl Into<String>,
        table: impl Into<String>,
        kind: CellKind,
        value: f64,
    ) -> Self {
        Cell {
            key: key.into(),
            table: table.into(),
            value,
            kind,
            contributions: Contributions::default(),
            cost: CostHint::default(),
        }
    }

    /// The same cell with the given cost hints.
    pub fn with_cost(mut self, level: u8, headline: bool) -> Self {
        self.cost = CostHint { level, headline };
        self
    }
}

/// A linear tie between cells that anyone can rebuild from the published tables and their
/// definitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Relation {
    /// `total = Σ parts`: a hierarchy level (territory, month → quarter → year, structure
    /// kinds, breakdowns) or a non-nested grouping.
    Sum {
        /// Index of the total cell.
        total: usize,
        /// Indices of the part cells.
        parts: Vec<usize>,
    },
    /// `max(parts) ≤ total ≤ Σ parts`: a margin of a DISTINCT count (a person may appear in
    /// several parts, so the total only lies between the largest part and their sum).
    Distinct {
        /// Index of the total cell.
        total: usize,
        /// Indices of the part cells.
        parts: Vec<usize>,
    },
    /// `a = b`: the same figure published in two tables (when the adapter did not merge them).
    Equal {
        /// First cell.
        a: usize,
        /// Second cell.
        b: usize,
    },
}

impl Relation {
    /// Every cell index the relation mentions, total first.
    pub fn cells(&self) -> Vec<usize> {
        match self {
            Relation::Sum { total, parts } | Relation::Distinct { total, parts } => {
                std::iter::once(*total)
                    .chain(parts.iter().copied())
                    .collect()
            }
            Relation::Equal { a, b } => vec![*a, *b],
        }
    }
}

/// A breakdown by a sensitive attribute (RSA, ASS, AAH, RQTH, …): when the row total is from 1
/// to 10, every cell of the row is secret, zeros included, since they would tell everyone's
/// status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitiveRow {
    /// Index of the row total.
    pub total: usize,
    /// Indices of the cells of the row (one per attribute value).
    pub cells: Vec<usize>,
}

/// A public status as published: a value or `secret` (never whether primary or secondary).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Published {
    /// The published value.
    Value(f64),
    /// The cell is hidden.
    Secret,
}

impl Published {
    /// The value, if published.
    pub fn value(self) -> Option<f64> {
        match self {
            Published::Value(v) => Some(v),
            Published::Secret => None,
        }
    }
}

/// What the previous release published about the cells of this problem.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PreviousRelease {
    /// Public status in the previous release of the cells it already had (index → status).
    /// Published values are known to the attacker: a cell still equal to its earlier value is
    /// a constant in every attack.
    pub cells: BTreeMap<usize, Published>,
    /// Cells the previous release hid as secondary suppressions: re-used first.
    pub secondary: BTreeSet<usize>,
}

impl PreviousRelease {
    /// The value known to the attacker for `cell`, if the previous release published it and it
    /// has not been revised since (`current` within 1e-9).
    pub fn known_value(&self, cell: usize, current: f64) -> Option<f64> {
        match self.cells.get(&cell) {
            Some(Published::Value(v)) if (v - current).abs() <= 1e-9 * current.abs().max(1.0) => {
                Some(*v)
            }
            _ => None,
        }
    }
}

/// The whole release as one disclosure-control problem.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Every cell of every table.
    pub cells: Vec<Cell>,
    /// Every additive relation between them.
    pub relations: Vec<Relation>,
    /// Breakdowns by a sensitive attribute.
    pub sensitive_rows: Vec<SensitiveRow>,
    /// The primary rules and their parameters.
    pub rules: PrimaryRules,
    /// What the previous release published, if any.
    pub previous: Option<PreviousRelease>,
}

impl Problem {
    /// Checks that every index is in range, values are finite and non-negative, counts are
    /// integers, relations only tie additive cells, and rule parameters are sane.
    pub fn validate(&self) -> Result<(), DisclosureError> {
        let n = self.cells.len();
        let check = |what: &'static str, i: usize| {
            if i < n {
                Ok(())
            } else {
                Err(DisclosureError::CellOutOfRange {
                    what,
                    index: i,
                    cells: n,
                })
            }
        };
        for (i, cell) in self.cells.iter().enumerate() {
            if !cell.value.is_finite() || cell.value < 0.0 {
                return Err(DisclosureError::InvalidValue {
                    key: cell.key.clone(),
                    value: cell.value,
                });
            }
            if cell.kind.is_integer() && cell.value.fract() != 0.0 {
                return Err(DisclosureError::NonIntegerCount {
                    key: cell.key.clone(),
                    value: cell.value,
                });
            }
            if cell.kind == CellKind::Magnitude {
                let c = &cell.contributions;
                let ok = c.top1.is_finite()
                    && c.top2.is_finite()
                    && c.top1 >= 0.0
                    && c.top2 >= 0.0
                    && c.top2 <= c.top1
                    && c.top1 + c.top2 <= cell.value * (1.0 + 1e-9) + 1e-9
                    && (c.contributors > 0 || cell.value == 0.0);
                if !ok {
                    return Err(DisclosureError::InvalidContributions {
                        key: cell.key.clone(),
                    });
                }
            }
            if let CellKind::Derived(d) = &cell.kind {
                check("derived numerator", d.numerator)?;
                check("derived denominator", d.denominator)?;
                if d.numerator == i || d.denominator == i {
                    return Err(DisclosureError::SelfDerived {
                        key: cell.key.clone(),
                    });
                }
            }
        }
        for (r, relation) in self.relations.iter().enumerate() {
            let cells = relation.cells();
            if cells.len() < 2 {
                return Err(DisclosureError::EmptyRelation { relation: r });
            }
            for &c in &cells {
                check("relation cell", c)?;
                if !self.cells[c].kind.is_additive() {
                    return Err(DisclosureError::DerivedInRelation {
                        key: self.cells[c].key.clone(),
                        relation: r,
                    });
                }
            }
        }
        for row in &self.sensitive_rows {
            check("sensitive row total", row.total)?;
            for &c in &row.cells {
                check("sensitive row cell", c)?;
            }
        }
        if let Some(previous) = &self.previous {
            for &c in previous.cells.keys().chain(previous.secondary.iter()) {
                check("previous release cell", c)?;
            }
        }
        self.rules.validate()
    }
}
