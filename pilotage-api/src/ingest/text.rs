//! Building typed Arrow batches from the text fields of canonical CSV files, reporting every
//! field that does not parse as its column's type. (fluxIAE views, with their dd/mm/yyyy dates,
//! are parsed by core's reader: see [`super::fluxiae`].)

use std::path::Path;
use std::sync::{Arc, OnceLock};

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use pilotage_core::source::{DataType, SourceTable};

use super::errors::{ErrorSink, RowError};
use crate::storage::columns::ColumnBuilder;
use crate::storage::date;

/// A batch of source rows on its way into the store, with where each row came from.
pub struct SourceChunk {
    /// The rows, with the table's columns in specification order; the schema is
    /// [`relaxed_schema`] (nulls allowed everywhere), the validator enforces nullability.
    pub batch: RecordBatch,
    /// For each row, its line number in a text file (the header is line 1) or its row number
    /// (1-based) in a Parquet file.
    pub lines: Vec<u64>,
    /// Row-major flags (`row * columns + column`) of cells already reported as unparsable,
    /// which the validator skips; cells beyond its end (all of them when it is empty, the usual
    /// case) parsed.
    pub failed: Vec<bool>,
}

/// The table's schema with every field nullable: what readers produce before validation.
pub fn relaxed_schema(table: SourceTable) -> SchemaRef {
    static SCHEMAS: [OnceLock<SchemaRef>; SourceTable::ALL.len()] =
        [const { OnceLock::new() }; SourceTable::ALL.len()];
    SCHEMAS[table as usize]
        .get_or_init(|| {
            let strict = table.schema();
            let fields: Vec<_> = strict
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect();
            Arc::new(Schema::new_with_metadata(fields, strict.metadata().clone()))
        })
        .clone()
}

/// Accumulates text rows of one table into typed columns.
pub struct TextRows {
    table: SourceTable,
    builders: Vec<ColumnBuilder>,
    lines: Vec<u64>,
    failed: Vec<bool>,
    decimal_comma: bool,
    capacity: usize,
}

impl TextRows {
    /// An empty accumulator; `decimal_comma` accepts `12,5` for floats (CSV separated by `;`).
    pub fn new(table: SourceTable, decimal_comma: bool, capacity: usize) -> Self {
        TextRows {
            table,
            builders: ColumnBuilder::for_table(table, capacity),
            lines: Vec::with_capacity(capacity),
            failed: Vec::new(),
            decimal_comma,
            capacity,
        }
    }

    /// Rows accumulated since the last [`TextRows::take`].
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when no row is waiting.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Appends one row: `field(i)` is the raw text of the table's column `i`, or `None` when the
    /// file lacks the column. An empty field is a null. Unparsable fields are reported to `sink`.
    pub fn push<'r>(
        &mut self,
        file: &Path,
        line: u64,
        field: impl Fn(usize) -> Option<&'r [u8]>,
        sink: &mut ErrorSink,
    ) {
        let specs = self.table.columns();
        let first_cell = self.lines.len() * specs.len();
        for (i, (spec, builder)) in specs.iter().zip(self.builders.iter_mut()).enumerate() {
            let raw = field(i).unwrap_or(b"");
            if raw.is_empty() {
                builder.append_null();
                continue;
            }
            let problem = match std::str::from_utf8(raw) {
                Err(_) => Some("not valid UTF-8"),
                Ok(text) => append_text(builder, spec.data_type, text, self.decimal_comma),
            };
            if let Some(rule) = problem {
                builder.append_null();
                // Flags only up to the last failed cell: the rest parsed.
                self.failed.resize(first_cell + i, false);
                self.failed.push(true);
                sink.push(RowError {
                    file: file.to_owned(),
                    line: Some(line),
                    column: Some(spec.name.to_owned()),
                    value: Some(String::from_utf8_lossy(raw).into_owned()),
                    rule: rule.to_owned(),
                });
            }
        }
        self.lines.push(line);
    }

    /// The accumulated rows as a chunk; the accumulator starts afresh.
    pub fn take(&mut self) -> SourceChunk {
        let arrays = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect();
        let lines = std::mem::replace(&mut self.lines, Vec::with_capacity(self.capacity));
        let failed = std::mem::take(&mut self.failed);
        // Every builder has one value per row and the types follow the schema: this cannot fail.
        let batch = RecordBatch::try_new(relaxed_schema(self.table), arrays)
            .unwrap_or_else(|_| RecordBatch::new_empty(relaxed_schema(self.table)));
        SourceChunk {
            batch,
            lines,
            failed,
        }
    }
}

/// Parses `text` as `data_type` into `builder`; returns the broken rule on failure.
fn append_text(
    builder: &mut ColumnBuilder,
    data_type: DataType,
    text: &str,
    decimal_comma: bool,
) -> Option<&'static str> {
    match (builder, data_type) {
        (ColumnBuilder::Utf8(b), _) => b.append_value(text),
        (ColumnBuilder::Int32(b), _) => match text.parse::<i64>() {
            Ok(v) => match i32::try_from(v) {
                Ok(v) => b.append_value(v),
                Err(_) => return Some("integer out of the 32-bit range"),
            },
            Err(_) => return Some("not an integer"),
        },
        (ColumnBuilder::Int64(b), _) => match text.parse::<i64>() {
            Ok(v) => b.append_value(v),
            Err(_) => return Some("not an integer"),
        },
        (ColumnBuilder::Float64(b), _) => {
            let parsed = if decimal_comma && text.contains(',') {
                text.replacen(',', ".", 1).parse::<f64>()
            } else {
                text.parse::<f64>()
            };
            match parsed {
                Ok(v) if v.is_finite() => b.append_value(v),
                _ => return Some("not a finite decimal number"),
            }
        }
        (ColumnBuilder::Boolean(b), _) => match text {
            "true" | "TRUE" | "True" | "1" | "t" => b.append_value(true),
            "false" | "FALSE" | "False" | "0" | "f" => b.append_value(false),
            _ => return Some("not a boolean (true or false)"),
        },
        (ColumnBuilder::Date32(b), _) => match date::parse_iso_date(text) {
            Some(days) => b.append_value(days),
            None => return Some("not a calendar date written YYYY-MM-DD"),
        },
    }
    None
}
