//! Statistical disclosure control of a whole release (DESIGN.md §5).
//!
//! The release is one [`Problem`]: cells, the additive [`Relation`]s between them, sensitive
//! rows, the [`PrimaryRules`] and what the previous release published. The pipeline is
//!
//! 1. [`primary`]: which cells are secret by themselves;
//! 2. [`secondary`]: which further cells to hide so that no primary cell can be recovered or
//!    bounded too closely, deterministically and cheaply (a [`Pattern`]);
//! 3. [`audit::audit`]: an independent check, from the published values only, that every
//!    sensitive cell keeps its protection interval;
//! 4. [`loss::information_loss`]: what the release loses.
//!
//! ```
//! use pilotage_core::disclosure::{Cell, CellKind, Problem, Relation, audit, primary, secondary};
//!
//! // A 2 × 2 table with its margins: inner cells a, b | c, d (level 0), row totals r1, r2 and
//! // column totals k1, k2 (level 1), grand total t (level 2).
//! let values = [3.0, 20.0, 15.0, 30.0, 23.0, 45.0, 18.0, 50.0, 68.0];
//! let levels = [0, 0, 0, 0, 1, 1, 1, 1, 2];
//! let names = ["a", "b", "c", "d", "r1", "r2", "k1", "k2", "t"];
//! let cells = (0..9)
//!     .map(|i| Cell::count(names[i], "demo", CellKind::PersonCount, values[i]).with_cost(levels[i], false))
//!     .collect();
//! let sum = |total, parts: &[usize]| Relation::Sum { total, parts: parts.to_vec() };
//! let relations = vec![
//!     sum(4, &[0, 1]), sum(5, &[2, 3]), sum(6, &[0, 2]), sum(7, &[1, 3]), sum(8, &[4, 5]), sum(8, &[6, 7]),
//! ];
//! let problem = Problem { cells, relations, ..Problem::default() };
//! let primary = primary(&problem)?;
//! let pattern = secondary(&problem, &primary)?;
//! // The primary cell a = 3 needs a whole rectangle of four cells hidden.
//! assert_eq!(pattern.secret_count(), 4);
//! assert!(audit::audit(&problem, &pattern.publish(&problem))?.passed());
//! # Ok::<(), pilotage_core::disclosure::DisclosureError>(())
//! ```

pub mod audit;
mod gauss;
pub mod loss;
pub mod model;
pub mod release;
pub mod rules;
pub mod secondary;
pub mod synthetic;

pub use model::{
    Cell, CellKind, Contributions, CostHint, Derivation, PreviousRelease, Problem, Published,
    Relation, SensitiveRow, Statistic,
};
pub use rules::{PrimaryRules, Status, primary};
pub use secondary::{Pattern, SecondaryOptions, secondary, secondary_with};

/// Errors of disclosure control, naming the offending cell or parameter.
#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    /// An index points past the last cell.
    #[error("{what} index {index} is out of range (the problem has {cells} cells)")]
    CellOutOfRange {
        /// Which reference.
        what: &'static str,
        /// The index given.
        index: usize,
        /// Number of cells.
        cells: usize,
    },
    /// A cell value is negative or not finite.
    #[error("cell {key}: value {value} must be finite and non-negative")]
    InvalidValue {
        /// Cell key.
        key: String,
        /// The value.
        value: f64,
    },
    /// A count is not an integer.
    #[error("cell {key}: count {value} is not an integer")]
    NonIntegerCount {
        /// Cell key.
        key: String,
        /// The value.
        value: f64,
    },
    /// Contributor facts contradict the cell value.
    #[error(
        "cell {key}: contributions must satisfy 0 ≤ top2 ≤ top1, top1 + top2 ≤ value, and a non-zero value needs a contributor"
    )]
    InvalidContributions {
        /// Cell key.
        key: String,
    },
    /// A derived cell is its own input.
    #[error("cell {key}: a derived cell cannot be its own numerator or denominator")]
    SelfDerived {
        /// Cell key.
        key: String,
    },
    /// A relation with fewer than two cells.
    #[error("relation {relation} ties fewer than two cells")]
    EmptyRelation {
        /// Relation index.
        relation: usize,
    },
    /// A derived cell used in an additive relation.
    #[error("relation {relation}: derived cell {key} is not additive")]
    DerivedInRelation {
        /// Cell key.
        key: String,
        /// Relation index.
        relation: usize,
    },
    /// A rule parameter out of its domain.
    #[error("primary rule parameter {name} = {value} is out of its domain")]
    InvalidRule {
        /// Parameter name.
        name: &'static str,
        /// The value.
        value: f64,
    },
    /// A status or publication vector of the wrong length.
    #[error("{published} statuses given for {cells} cells")]
    LengthMismatch {
        /// Length given.
        published: usize,
        /// Number of cells.
        cells: usize,
    },
    /// A release's cubes, tables or definitions cannot be turned into a linear system.
    #[error("dataset {dataset}: {message}")]
    Release {
        /// Dataset id.
        dataset: String,
        /// What is wrong.
        message: String,
    },
    /// The linear-programming solver failed.
    #[error("solver failed on cell {key}: {message}")]
    Solver {
        /// Cell key.
        key: String,
        /// Solver message.
        message: String,
    },
}
