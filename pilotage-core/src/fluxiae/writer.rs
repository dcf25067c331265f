//! Writer of fluxIAE view files from canonical batches.

use std::io::Write;

use arrow_array::RecordBatch;

use super::error::{ErrorKind, FluxIaeError};
use super::layout::{ExtractionStamp, ViewLayout};
use super::value::format_value;

/// Options of the fluxIAE writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// The extraction date and time written on the `DEB` line and in file names. Fixed by the
    /// caller so the same batches always give the same bytes.
    pub extracted_at: ExtractionStamp,
    /// When `Some(n)`, every n-th data row is written twice in a row, as real extractions
    /// sometimes do, so that the reader's duplicate handling meets realistic files. `None`: no
    /// duplicates.
    pub duplicate_every: Option<u64>,
    /// Whether [`super::write_view_file`] gzips the file (`.csv.gz`). [`super::write_view`]
    /// always writes plain text to its writer.
    pub gzip: bool,
}

impl Default for WriteOptions {
    /// 01/01/2025 00:00:00, no duplicates, no gzip.
    fn default() -> Self {
        WriteOptions {
            extracted_at: ExtractionStamp {
                year: 2025,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0,
            },
            duplicate_every: None,
            gzip: false,
        }
    }
}

/// What the writer wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteSummary {
    /// Canonical rows written.
    pub rows: u64,
    /// Extra copies of rows written (see [`WriteOptions::duplicate_every`]).
    pub duplicates: u64,
    /// Data lines written (`rows + duplicates`), the count on the `FIN` line.
    pub data_lines: u64,
}

/// Writes `layout`'s view as fluxIAE text: `DEB<View><DDMMYYYY_HHMMSS>`, the header, one line
/// per row, `FIN<data lines>` padded with `|` to the header's width. `file` names the output in
/// errors.
pub(crate) fn write_layout<'b, W: Write>(
    layout: &ViewLayout,
    batches: impl IntoIterator<Item = &'b RecordBatch>,
    out: &mut W,
    options: &WriteOptions,
    file: &str,
) -> Result<WriteSummary, FluxIaeError> {
    let io = |e: std::io::Error| FluxIaeError::new(file, ErrorKind::Io(e));
    let header = layout.header();
    writeln!(out, "DEB{}{}", layout.view.name(), options.extracted_at).map_err(io)?;
    writeln!(out, "{}", header.join("|")).map_err(io)?;
    let mut summary = WriteSummary::default();
    let mut line = String::with_capacity(512);
    let mut line_no: u64 = 2;
    for batch in batches {
        let columns = columns_of(layout, batch, file)?;
        for row in 0..batch.num_rows() {
            line.clear();
            for (i, (name, array)) in columns.iter().enumerate() {
                if i > 0 {
                    line.push('|');
                }
                format_value(array.as_ref(), row, &mut line).map_err(|kind| {
                    let array = array.as_ref();
                    let shown = arrow_cast_display(array, row);
                    FluxIaeError::new(file, kind)
                        .at_line(line_no + 1)
                        .in_column(name)
                        .with_value(&shown)
                })?;
            }
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(io)?;
            line_no += 1;
            summary.rows += 1;
            if options
                .duplicate_every
                .is_some_and(|n| n > 0 && summary.rows % n == 0)
            {
                out.write_all(line.as_bytes()).map_err(io)?;
                line_no += 1;
                summary.duplicates += 1;
            }
        }
    }
    summary.data_lines = summary.rows + summary.duplicates;
    let padding = "|".repeat(header.len().saturating_sub(1));
    writeln!(out, "FIN{}{padding}", summary.data_lines).map_err(io)?;
    out.flush().map_err(io)?;
    Ok(summary)
}

/// The (fluxIAE column name, array) pairs to write for `batch`, checked against the layout.
fn columns_of<'l>(
    layout: &'l ViewLayout,
    batch: &RecordBatch,
    file: &str,
) -> Result<Vec<(&'l str, arrow_array::ArrayRef)>, FluxIaeError> {
    let mismatch = |reason: String| {
        FluxIaeError::new(
            file,
            ErrorKind::SchemaMismatch {
                table: layout.table.clone(),
                reason,
            },
        )
    };
    let schema = batch.schema();
    let mut columns = Vec::new();
    for (field, source) in layout.schema.fields().iter().zip(&layout.sources) {
        let super::layout::ColumnSource::Flux(flux) = source else {
            continue;
        };
        let (index, found) = schema
            .column_with_name(field.name())
            .ok_or_else(|| mismatch(format!("column `{}` is missing", field.name())))?;
        if found.data_type() != field.data_type() {
            return Err(mismatch(format!(
                "column `{}` is {} instead of {}",
                field.name(),
                found.data_type(),
                field.data_type()
            )));
        }
        columns.push((flux.as_str(), batch.column(index).clone()));
    }
    Ok(columns)
}

/// A short rendering of a value for error messages.
fn arrow_cast_display(array: &dyn arrow_array::Array, row: usize) -> String {
    use arrow_array::cast::AsArray;
    match array.data_type() {
        arrow_schema::DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        other => format!("<{other} value>"),
    }
}
