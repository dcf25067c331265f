//! The problems found in the sources, one [`RowError`] each, and the [`ErrorSink`] that keeps
//! them up to `--max-errors`: what every reader and the validator report to, below both.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in the sources: where, which column and value, and the rule broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The file.
    pub file: PathBuf,
    /// Line number in a text file (the header is line 1), row number (1-based) in a Parquet
    /// file; `None` for a problem of the whole file.
    pub line: Option<u64>,
    /// The column, when the problem is one field.
    pub column: Option<String>,
    /// The offending value as found, when there is one.
    pub value: Option<String>,
    /// The rule the input breaks, in plain words.
    pub rule: String,
}

impl RowError {
    /// A problem of the whole file.
    pub fn file(file: &Path, rule: impl Into<String>) -> RowError {
        RowError {
            file: file.to_owned(),
            line: None,
            column: None,
            value: None,
            rule: rule.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column `{column}`")?;
        }
        if let Some(value) = &self.value {
            write!(f, ", value {value:?}")?;
        }
        write!(f, ": {}", self.rule)
    }
}

/// Collects errors up to a maximum (`--max-errors`).
#[derive(Debug)]
pub struct ErrorSink {
    errors: Vec<RowError>,
    max: usize,
    more: bool,
}

impl ErrorSink {
    /// A sink keeping at most `max` errors (at least one).
    pub fn new(max: usize) -> ErrorSink {
        ErrorSink {
            errors: Vec::new(),
            max: max.max(1),
            more: false,
        }
    }

    /// Records an error (dropped, but noted, beyond the maximum).
    pub fn push(&mut self, error: RowError) {
        if self.errors.len() < self.max {
            self.errors.push(error);
        } else {
            self.more = true;
        }
    }

    /// True when the maximum is reached: reading can stop.
    pub fn is_full(&self) -> bool {
        self.errors.len() >= self.max
    }

    /// True when no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Number of errors kept so far.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// The errors kept from position `start` on, for a reader to complete (a fluxIAE view's
    /// rows get their physical lines once the file is read).
    pub fn errors_from(&mut self, start: usize) -> &mut [RowError] {
        let start = start.min(self.errors.len());
        &mut self.errors[start..]
    }

    /// The errors, and whether more were found than kept.
    pub fn into_parts(self) -> (Vec<RowError>, bool) {
        let more = self.more || self.errors.len() >= self.max;
        (self.errors, more)
    }
}
