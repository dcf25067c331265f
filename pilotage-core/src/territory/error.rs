//! Errors of the territory referential.

use super::TerritoryLevel;
use crate::domain::Code;

/// A territory code that is malformed or unknown, or a referential file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TerritoryError {
    /// The code does not have the shape of a code of this level (length, characters).
    #[error("{} code {value:?} is malformed: {reason}", .level.label())]
    Malformed {
        /// The level the code was meant to designate.
        level: TerritoryLevel,
        /// The offending code, as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The code is well formed but designates nothing in the referential.
    #[error("{} code {value:?} is unknown in the referential", .level.label())]
    Unknown {
        /// The level the code was meant to designate.
        level: TerritoryLevel,
        /// The offending code, as given.
        value: String,
    },
    /// A row of a referential CSV file is invalid or inconsistent with the other files.
    #[error("{table} line {line}, column `{column}`: {reason} (value {value:?})")]
    Data {
        /// The file (e.g. `"communes.csv"`).
        table: &'static str,
        /// The 1-based line number in that file.
        line: u64,
        /// The column at fault.
        column: &'static str,
        /// The value found there.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A referential CSV file is not valid CSV or lacks the expected header.
    #[error("{table}: {reason}")]
    Csv {
        /// The file (e.g. `"communes.csv"`).
        table: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}
