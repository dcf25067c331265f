//! Errors and warnings of the fluxIAE reader and writer.
//!
//! Every error carries where it happened (file, 1-based physical line, column) and what was
//! found (the value), plus the rule that was broken ([`ErrorKind`]), so that an ingestion report
//! can point a person at the exact cell to fix.

use std::fmt;

/// An error reading or writing a fluxIAE view file.
///
/// Displayed as `file:line: column `c`: value "v": rule`, leaving out the parts that do not apply
/// (an I/O error has no column, a missing `FIN` line has no value).
#[derive(Debug, thiserror::Error)]
pub struct FluxIaeError {
    /// The file name (or the label given by the caller for a reader), as shown to users.
    pub file: String,
    /// The 1-based physical line of the file, counting the `DEB` and header lines; `None` when
    /// the error is not tied to a line (an I/O error opening the file, a write error).
    pub line: Option<u64>,
    /// The fluxIAE column at fault (e.g. `af_date_debut_effet`), if any.
    pub column: Option<String>,
    /// The offending value as found in the file (lines are shortened to 120 characters).
    pub value: Option<String>,
    /// The rule that was broken (boxed to keep `Result`s small).
    #[source]
    pub kind: Box<ErrorKind>,
}

impl FluxIaeError {
    /// An error with no line, column or value.
    pub(crate) fn new(file: &str, kind: ErrorKind) -> Self {
        FluxIaeError {
            file: file.to_owned(),
            line: None,
            column: None,
            value: None,
            kind: Box::new(kind),
        }
    }

    /// Sets the line.
    pub(crate) fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets the column.
    pub(crate) fn in_column(mut self, column: &str) -> Self {
        self.column = Some(column.to_owned());
        self
    }

    /// Sets the value, shortened to 120 characters.
    pub(crate) fn with_value(mut self, value: &str) -> Self {
        self.value = Some(shorten(value));
        self
    }
}

impl fmt::Display for FluxIaeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(":")?;
        if let Some(column) = &self.column {
            write!(f, " column `{column}`:")?;
        }
        if let Some(value) = &self.value {
            write!(f, " value {value:?}:")?;
        }
        write!(f, " {}", self.kind)
    }
}

/// The rule a fluxIAE file broke.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading or writing failed (including a corrupt or cut gzip stream).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The file name does not follow `fluxIAE_<View>_DDMMYYYY_HHMMSS.csv[.gz]` with a known view.
    #[error(
        "cannot tell the view from the file name (expected fluxIAE_<View>_DDMMYYYY_HHMMSS.csv[.gz] \
         with View one of AnnexeFinanciere, Salarie, ContratMission, EtatMensuelIndiv, Structure, \
         RefMotifSort)"
    )]
    UnknownView,
    /// The `DEB` line names another view than the one being read.
    #[error("the DEB line announces view {found:?} but the file is read as view {expected:?}")]
    ViewMismatch {
        /// The view the caller (or the file name) asked for.
        expected: String,
        /// The view named by the `DEB` line.
        found: String,
    },
    /// The file holds no header line.
    #[error("empty file: no header line")]
    Empty,
    /// The header lacks columns the canonical table needs.
    #[error("missing required column(s): {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// The header names a column twice.
    #[error("column named twice in the header")]
    DuplicateHeaderColumn,
    /// A canonical column has no source in the view and may not be null (a mapping defect).
    #[error("canonical column `{0}` is required but the view has no column for it")]
    UnmappedRequiredColumn(String),
    /// A data line does not have as many `|`-separated fields as the header.
    #[error("expected {expected} fields separated by '|' (as in the header), found {found}")]
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields on this line.
        found: usize,
    },
    /// An empty field in a column that may not be null.
    #[error("empty value in a required column (canonical `{0}`)")]
    Required(String),
    /// A value that is not a valid dd/mm/yyyy calendar date.
    #[error("not a valid dd/mm/yyyy calendar date (canonical `{0}`)")]
    InvalidDate(String),
    /// A value that is not an integer (or does not fit the column's integer type).
    #[error("not an integer in range (canonical `{0}`)")]
    InvalidInteger(String),
    /// A value that is not a decimal number (`.` or `,` as decimal separator).
    #[error("not a decimal number (canonical `{0}`)")]
    InvalidNumber(String),
    /// A value that is not a boolean (`true`/`false`, `1`/`0`, `oui`/`non`, `o`/`n`).
    #[error("not a boolean: expected true/false, 1/0, oui/non or o/n (canonical `{0}`)")]
    InvalidBoolean(String),
    /// The last line is not complete: the file was cut in the middle of a line.
    #[error("the file ends in the middle of a line (no line terminator): truncated file")]
    TruncatedLine,
    /// The file ends without its `FIN` line: it was cut at a line boundary.
    #[error("end of file reached without the closing FIN line: truncated file")]
    MissingFin,
    /// The row count carried by the `FIN` line disagrees with the data lines read.
    #[error("the FIN line announces {declared} data lines but the file holds {found}")]
    FinCountMismatch {
        /// The count written on the `FIN` line.
        declared: u64,
        /// The data lines read (duplicates included).
        found: u64,
    },
    /// Non-blank lines follow the `FIN` line.
    #[error("data found after the FIN line")]
    DataAfterFin,
    /// A batch handed to the writer does not have the canonical schema.
    #[error("batch does not conform to the canonical schema of `{table}`: {reason}")]
    SchemaMismatch {
        /// The canonical table.
        table: String,
        /// What differs.
        reason: String,
    },
    /// A value the format cannot carry: text with `|` or a line break (no quoting), empty text
    /// (it reads back as null), a date outside 1900–2199 (the reader refuses it).
    #[error(
        "value cannot be written in fluxIAE (text without '|' or line breaks, not empty; dates \
         in 1900–2199)"
    )]
    Unrepresentable,
}

/// Something worth telling about a file that was read anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxIaeWarning {
    /// The file name.
    pub file: String,
    /// The 1-based line the warning is about, if any.
    pub line: Option<u64>,
    /// What was noticed.
    pub message: String,
}

impl fmt::Display for FluxIaeWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Shortens a value for error messages (at most 120 characters, with an ellipsis).
fn shorten(value: &str) -> String {
    const MAX: usize = 120;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        let mut s: String = value.chars().take(MAX).collect();
        s.push('…');
        s
    }
}
