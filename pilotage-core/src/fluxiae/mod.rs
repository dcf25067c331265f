//! The ASP's fluxIAE delivery format, read and written.
//!
//! The ASP (Agence de services et de paiement) extracts the IAE data of its Extranet every week as
//! one file per view, named `fluxIAE_<View>_DDMMYYYY_HHMMSS.csv`, often gzipped (`.csv.gz`):
//!
//! ```text
//! DEBAnnexeFinanciere14092025_063002
//! af_id_annexe_financiere|af_numero_annexe_financiere|…|af_date_debut_effet|…
//! 1001|ACI075250001A0M0|…|01/01/2025|…
//! FIN1||||…
//! ```
//!
//! `|` separated with no quoting, a `DEB<View><DDMMYYYY_HHMMSS>` first line (absent from some
//! deliveries: tolerated with a warning), a header, the data lines with dd/mm/yyyy dates and
//! sometimes repeated lines, and a last `FIN<count>` line padded with `|`, where the count is the
//! number of data lines.
//!
//! [`read_view`] turns one file into the canonical table of [`crate::source`] (Arrow batches
//! conforming exactly to [`SourceTable::schema`]), streaming through [`ViewReader`]: every
//! error names the file, the line, the column, the value and the rule ([`FluxIaeError`]).
//! [`write_view`] does the reverse, byte for byte deterministic, and can repeat rows on
//! purpose so that tests and the synthetic generator exercise the duplicate handling.
//! `docs/fluxiae.md` lists the column mapping and the checks.
//!
//! ```
//! use pilotage_core::fluxiae::{self, View, WriteOptions};
//! use pilotage_core::source::SourceTable;
//! use arrow_array::RecordBatch;
//!
//! // An empty table written and read back.
//! let empty = RecordBatch::new_empty(SourceTable::MotifsSortie.schema());
//! let mut text = Vec::new();
//! fluxiae::write_view(View::RefMotifSort, [&empty], &mut text, &WriteOptions::default()).unwrap();
//! assert_eq!(String::from_utf8_lossy(&text), "DEBRefMotifSort01012025_000000\nrms_code|rms_libelle|rcs_code\nFIN0||\n");
//! let table = fluxiae::read_view_from(&text[..], View::RefMotifSort, "motifs.csv").unwrap();
//! assert_eq!(table.summary.rows, 0);
//! ```

mod error;
mod layout;
mod reader;
mod value;
mod views;
mod writer;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;

use crate::source::SourceTable;

pub use error::{ErrorKind, FluxIaeError, FluxIaeWarning};
pub use layout::{ColumnSource, ExtractionStamp, View, ViewLayout};
pub use reader::{BATCH_ROWS, ReadSummary, ViewReader, decompress};
pub use views::{Mapping, mapping};
pub use writer::{WriteOptions, WriteSummary};

/// One fluxIAE view read in full: canonical batches plus what was noticed on the way.
#[derive(Debug, Clone)]
pub struct FluxIaeTable {
    /// The view read.
    pub view: View,
    /// The canonical table the batches belong to.
    pub table: SourceTable,
    /// The batches (up to [`BATCH_ROWS`] rows each), conforming exactly to
    /// [`SourceTable::schema`]. Empty for a file without data lines.
    pub batches: Vec<RecordBatch>,
    /// Counts (lines, rows, duplicates dropped), the extraction stamp and the warnings.
    pub summary: ReadSummary,
}

impl FluxIaeTable {
    /// Rows kept (data lines minus duplicates).
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Data lines dropped as exact duplicates of earlier ones.
    pub fn duplicates_dropped(&self) -> u64 {
        self.summary.duplicates_dropped
    }

    /// The warnings (unknown extra columns, missing `DEB` line, non-UTF-8 text, …).
    pub fn warnings(&self) -> &[FluxIaeWarning] {
        &self.summary.warnings
    }
}

/// Opens a view file for streaming (see [`ViewReader`]): plain or gzip (detected from the
/// content), the view taken from `view` or else detected from the file name
/// (`fluxIAE_<View>_…`).
pub fn open_view(
    path: impl AsRef<Path>,
    view: Option<View>,
) -> Result<ViewReader<'static>, FluxIaeError> {
    let path = path.as_ref();
    let label = reader::file_label(path);
    let view = match view {
        Some(view) => view,
        None => reader::view_of_path(path)?,
    };
    let file = File::open(path).map_err(|e| FluxIaeError::new(&label, ErrorKind::Io(e)))?;
    ViewReader::new(file, view.layout(), &label)
}

/// Reads a whole view file into canonical batches (see [`open_view`] for how the view and the
/// compression are found). The first error found is returned; nothing is returned partially.
pub fn read_view(path: impl AsRef<Path>, view: Option<View>) -> Result<FluxIaeTable, FluxIaeError> {
    let view = match view {
        Some(view) => view,
        None => reader::view_of_path(path.as_ref())?,
    };
    collect(view, open_view(path, Some(view))?)
}

/// Reads a whole view from any byte stream (plain or gzip); `file` names it in errors.
pub fn read_view_from<R: Read>(
    input: R,
    view: View,
    file: &str,
) -> Result<FluxIaeTable, FluxIaeError> {
    collect(view, ViewReader::new(input, view.layout(), file)?)
}

fn collect(view: View, mut reader: ViewReader<'_>) -> Result<FluxIaeTable, FluxIaeError> {
    let batches = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    Ok(FluxIaeTable {
        view,
        table: view.table(),
        batches,
        summary: reader.into_summary(),
    })
}

/// Writes canonical batches of `view`'s table as fluxIAE text to `out` (never gzipped here; see
/// [`write_view_file`]). The batches must have the columns of [`SourceTable::schema`] with
/// their types (extra columns are ignored). Same batches and options, same bytes.
pub fn write_view<'b, W: Write>(
    view: View,
    batches: impl IntoIterator<Item = &'b RecordBatch>,
    mut out: W,
    options: &WriteOptions,
) -> Result<WriteSummary, FluxIaeError> {
    let label = view.file_name(options.extracted_at, false);
    writer::write_layout(&view.layout(), batches, &mut out, options, &label)
}

/// Writes `view` into `dir` as `fluxIAE_<View>_<stamp>.csv` (or `.csv.gz` when
/// [`WriteOptions::gzip`]), returning the path and what was written. The gzip stream has no
/// timestamp, so the bytes are deterministic too.
pub fn write_view_file<'b>(
    dir: impl AsRef<Path>,
    view: View,
    batches: impl IntoIterator<Item = &'b RecordBatch>,
    options: &WriteOptions,
) -> Result<(PathBuf, WriteSummary), FluxIaeError> {
    let name = view.file_name(options.extracted_at, options.gzip);
    let path = dir.as_ref().join(&name);
    let io = |e: std::io::Error| FluxIaeError::new(&name, ErrorKind::Io(e));
    let file = BufWriter::with_capacity(1 << 16, File::create(&path).map_err(io)?);
    let layout = view.layout();
    let summary = if options.gzip {
        let mut gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(file, flate2::Compression::default());
        let summary = writer::write_layout(&layout, batches, &mut gz, options, &name)?;
        gz.finish().map_err(io)?.flush().map_err(io)?;
        summary
    } else {
        let mut file = file;
        let summary = writer::write_layout(&layout, batches, &mut file, options, &name)?;
        file.flush().map_err(io)?;
        summary
    };
    Ok((path, summary))
}

/// Writes every view ([`View::ALL`]) into `dir`, asking `batches_of` for the canonical batches
/// of each view's table. This is what `pilotage generate --format fluxiae` calls.
pub fn write_views(
    dir: impl AsRef<Path>,
    options: &WriteOptions,
    batches_of: &mut dyn FnMut(SourceTable) -> Vec<RecordBatch>,
) -> Result<Vec<(PathBuf, WriteSummary)>, FluxIaeError> {
    let mut written = Vec::new();
    for &view in View::ALL {
        let batches = batches_of(view.table());
        written.push(write_view_file(dir.as_ref(), view, &batches, options)?);
    }
    Ok(written)
}
