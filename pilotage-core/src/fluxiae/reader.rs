//! Streaming reader of one fluxIAE view file.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read};

use arrow_array::RecordBatch;

use super::error::{ErrorKind, FluxIaeError, FluxIaeWarning};
use super::layout::{ColumnSource, ExtractionStamp, View, ViewLayout};
use super::value::ColumnBuilder;

/// Rows per Arrow batch produced by the reader.
pub const BATCH_ROWS: usize = 65_536;

/// Opens a byte stream, transparently gunzipping it when it starts with the gzip magic bytes
/// (`1f 8b`), whatever the file name says.
pub fn decompress<'a, R: Read + 'a>(reader: R) -> std::io::Result<Box<dyn BufRead + 'a>> {
    let mut buffered = BufReader::with_capacity(1 << 16, reader);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
        Ok(Box::new(BufReader::with_capacity(1 << 16, decoder)))
    } else {
        Ok(Box::new(buffered))
    }
}

/// Counts and facts gathered while reading a view, available once the reader is exhausted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSummary {
    /// The extraction date and time from the `DEB` line, when present and well formed.
    pub extracted_at: Option<ExtractionStamp>,
    /// Data lines read (between the header and `FIN`, blank lines excluded, duplicates included).
    pub data_lines: u64,
    /// Rows output (data lines minus duplicates).
    pub rows: u64,
    /// Data lines dropped because their canonical values repeat an earlier line exactly.
    pub duplicates_dropped: u64,
    /// The count announced by the `FIN` line.
    pub fin_count: Option<u64>,
    /// Warnings (unknown extra columns, no `DEB` line, non-UTF-8 text, blank lines, …).
    pub warnings: Vec<FluxIaeWarning>,
}

/// Reads one fluxIAE view as canonical Arrow batches, streaming.
///
/// An iterator of `Result<RecordBatch, FluxIaeError>`: batches of up to [`BATCH_ROWS`] rows, each
/// with exactly the layout's canonical schema. The first error ends the iteration. The checks
/// that need the whole file (the `FIN` line and its count) are made when the end is reached, so
/// a consumer must drain the iterator and treat a final error as the rejection of everything
/// before it. [`ViewReader::summary`] gives the counts and warnings afterwards.
pub struct ViewReader<'a> {
    file: String,
    layout: ViewLayout,
    input: Box<dyn BufRead + 'a>,
    /// For each canonical field, the index of its field on a data line (for `Flux` sources).
    field_index: Vec<Option<usize>>,
    /// The date (days) parsed for each canonical field of the current row, for `YearOf`.
    row_dates: Vec<Option<i32>>,
    header_len: usize,
    builders: Vec<ColumnBuilder>,
    pending: usize,
    line: u64,
    buf: Vec<u8>,
    seen: HashSet<u128>,
    key: String,
    summary: ReadSummary,
    latin1_warned: bool,
    blank_lines: u64,
    done: bool,
}

impl<'a> ViewReader<'a> {
    /// Starts reading `input` (plain or gzip) as `layout`'s view: reads the `DEB` line (if any)
    /// and the header, checks the header against the layout. `file` names the input in errors.
    pub fn new<R: Read + 'a>(
        input: R,
        layout: ViewLayout,
        file: &str,
    ) -> Result<Self, FluxIaeError> {
        let input = decompress(input).map_err(|e| FluxIaeError::new(file, ErrorKind::Io(e)))?;
        let capacity = BATCH_ROWS;
        let builders = layout
            .schema
            .fields()
            .iter()
            .map(|f| ColumnBuilder::new(f.data_type(), capacity))
            .collect();
        let mut reader = ViewReader {
            file: file.to_owned(),
            layout,
            input,
            field_index: Vec::new(),
            row_dates: Vec::new(),
            header_len: 0,
            builders,
            pending: 0,
            line: 0,
            buf: Vec::with_capacity(1024),
            seen: HashSet::new(),
            key: String::new(),
            summary: ReadSummary::default(),
            latin1_warned: false,
            blank_lines: 0,
            done: false,
        };
        reader.read_preamble()?;
        Ok(reader)
    }

    /// The layout being read.
    pub fn layout(&self) -> &ViewLayout {
        &self.layout
    }

    /// Counts and warnings so far (complete once the iterator returned `None`).
    pub fn summary(&self) -> &ReadSummary {
        &self.summary
    }

    /// Consumes the reader, returning its summary.
    pub fn into_summary(self) -> ReadSummary {
        self.summary
    }

    fn err(&self, kind: ErrorKind) -> FluxIaeError {
        FluxIaeError::new(&self.file, kind).at_line(self.line)
    }

    fn warn(&mut self, line: Option<u64>, message: String) {
        self.summary.warnings.push(FluxIaeWarning {
            file: self.file.clone(),
            line,
            message,
        });
    }

    /// Reads the next physical line into `self.buf` (terminator stripped). `Ok(None)` at end of
    /// input; `Ok(Some(complete))` where `complete` tells whether a line terminator was found.
    fn next_line(&mut self) -> Result<Option<bool>, FluxIaeError> {
        self.buf.clear();
        let n = self
            .input
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| FluxIaeError::new(&self.file, ErrorKind::Io(e)).at_line(self.line + 1))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let complete = self.buf.last() == Some(&b'\n');
        if complete {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        if self.line == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
        }
        Ok(Some(complete))
    }

    /// The current line as text: UTF-8, or Latin-1 (each byte one character) when it is not
    /// valid UTF-8, with one warning per file.
    fn line_text(&mut self) -> String {
        match std::str::from_utf8(&self.buf) {
            Ok(text) => text.to_owned(),
            Err(_) => {
                if !self.latin1_warned {
                    self.latin1_warned = true;
                    let line = self.line;
                    self.warn(
                        Some(line),
                        "text is not UTF-8: read as Latin-1 from here on where needed".to_owned(),
                    );
                }
                self.buf.iter().map(|&b| char::from(b)).collect()
            }
        }
    }

    fn read_preamble(&mut self) -> Result<(), FluxIaeError> {
        if self.next_line()?.is_none() {
            return Err(FluxIaeError::new(&self.file, ErrorKind::Empty).at_line(1));
        }
        let mut text = self.line_text();
        if let Some(rest) = text.strip_prefix("DEB") {
            let rest = rest.trim_end_matches('|');
            let expected = self.layout.view.name();
            match rest.strip_prefix(expected) {
                Some(stamp) => {
                    self.summary.extracted_at = ExtractionStamp::parse(stamp);
                    if self.summary.extracted_at.is_none() {
                        let message = format!(
                            "DEB line carries no valid DDMMYYYY_HHMMSS extraction stamp: {rest:?}"
                        );
                        self.warn(Some(1), message);
                    }
                }
                None => {
                    let found = rest.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
                    return Err(self
                        .err(ErrorKind::ViewMismatch {
                            expected: expected.to_owned(),
                            found: found.to_owned(),
                        })
                        .with_value(&text));
                }
            }
            if self.next_line()?.is_none() {
                return Err(FluxIaeError::new(&self.file, ErrorKind::Empty).at_line(2));
            }
            text = self.line_text();
        } else {
            self.warn(
                Some(1),
                "no DEB line: the first line is read as the header".to_owned(),
            );
        }
        self.check_header(&text)
    }

    fn check_header(&mut self, text: &str) -> Result<(), FluxIaeError> {
        let names: Vec<&str> = text.split('|').map(str::trim).collect();
        for (i, name) in names.iter().enumerate() {
            if !name.is_empty() && names[..i].contains(name) {
                return Err(self.err(ErrorKind::DuplicateHeaderColumn).in_column(name));
            }
        }
        let mut missing = Vec::new();
        let mut field_index = Vec::new();
        let mut unmapped = Vec::new();
        for (field, source) in self.layout.schema.fields().iter().zip(&self.layout.sources) {
            match source {
                ColumnSource::Flux(flux) => {
                    let index = names.iter().position(|n| n == flux);
                    if index.is_none() {
                        missing.push(flux.clone());
                    }
                    field_index.push(index);
                }
                ColumnSource::Absent if !field.is_nullable() => {
                    return Err(self.err(ErrorKind::UnmappedRequiredColumn(field.name().clone())));
                }
                ColumnSource::Absent => {
                    unmapped.push(field.name().clone());
                    field_index.push(None);
                }
                ColumnSource::YearOf(_) | ColumnSource::RowNumber => field_index.push(None),
            }
        }
        if !missing.is_empty() {
            let first = missing[0].clone();
            return Err(self
                .err(ErrorKind::MissingColumns(missing))
                .in_column(&first));
        }
        let extra: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !self.layout.header().contains(n))
            .collect();
        let line = self.line;
        if !extra.is_empty() {
            let message = format!(
                "{} unknown column(s) ignored: {}",
                extra.len(),
                extra.join(", ")
            );
            self.warn(Some(line), message);
        }
        if !unmapped.is_empty() {
            let message = format!(
                "the view carries no column for canonical column(s) {} of `{}`: read as null",
                unmapped.join(", "),
                self.layout.table
            );
            self.warn(None, message);
        }
        self.header_len = names.len();
        self.row_dates = vec![None; field_index.len()];
        self.field_index = field_index;
        Ok(())
    }

    /// Handles a `FIN` line: `FIN` + a count, optionally padded with `|`. Returns false when the
    /// line is not a `FIN` line after all (data starting with "FIN").
    fn try_fin(&mut self, text: &str) -> Result<bool, FluxIaeError> {
        let Some(rest) = text.strip_prefix("FIN") else {
            return Ok(false);
        };
        let count = rest.trim_end_matches('|');
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(false);
        }
        let declared: u64 = count.parse().map_err(|_| {
            self.err(ErrorKind::InvalidInteger("FIN".to_owned()))
                .with_value(text)
        })?;
        self.summary.fin_count = Some(declared);
        if declared != self.summary.data_lines {
            return Err(self
                .err(ErrorKind::FinCountMismatch {
                    declared,
                    found: self.summary.data_lines,
                })
                .with_value(text));
        }
        // Nothing but blank lines may follow.
        while self.next_line()?.is_some() {
            if !self.buf.iter().all(u8::is_ascii_whitespace) {
                let text = self.line_text();
                return Err(self.err(ErrorKind::DataAfterFin).with_value(&text));
            }
        }
        Ok(true)
    }

    /// Parses one data line into the builders (or drops it as a duplicate).
    fn data_line(&mut self, text: &str) -> Result<(), FluxIaeError> {
        self.summary.data_lines += 1;
        let fields: Vec<&str> = text.split('|').collect();
        if fields.len() != self.header_len {
            return Err(self
                .err(ErrorKind::FieldCount {
                    expected: self.header_len,
                    found: fields.len(),
                })
                .with_value(text));
        }
        // Duplicates: same canonical values as an earlier line.
        self.key.clear();
        for index in self.field_index.iter().flatten() {
            self.key.push_str(fields[*index]);
            self.key.push('\u{1f}');
        }
        if !self.seen.insert(hash128(&self.key)) {
            self.summary.duplicates_dropped += 1;
            return Ok(());
        }
        for (i, index) in self.field_index.iter().enumerate() {
            let builder = &mut self.builders[i];
            let Some(index) = *index else {
                continue;
            };
            let value = fields[index];
            let field = &self.layout.schema.fields()[i];
            let result = if value.is_empty() {
                self.row_dates[i] = None;
                if field.is_nullable() {
                    builder.append_null();
                    Ok(())
                } else {
                    Err(ErrorKind::Required(field.name().clone()))
                }
            } else {
                builder
                    .append(value, field.name())
                    .map(|date| self.row_dates[i] = date)
            };
            if let Err(kind) = result {
                let column = match &self.layout.sources[i] {
                    ColumnSource::Flux(name) => name.clone(),
                    _ => field.name().clone(),
                };
                return Err(FluxIaeError::new(&self.file, kind)
                    .at_line(self.line)
                    .in_column(&column)
                    .with_value(value));
            }
        }
        // Columns the view does not carry.
        for (i, source) in self.layout.sources.iter().enumerate() {
            let builder = &mut self.builders[i];
            match source {
                ColumnSource::Flux(_) => {}
                ColumnSource::Absent => builder.append_null(),
                ColumnSource::RowNumber => builder.append_int(self.summary.rows as i64 + 1),
                ColumnSource::YearOf(j) => match self.row_dates[*j] {
                    Some(days) => {
                        builder.append_int(i64::from(crate::calendar::civil_from_days(days).0))
                    }
                    None => builder.append_null(),
                },
            }
        }
        self.pending += 1;
        self.summary.rows += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<RecordBatch, FluxIaeError> {
        let columns = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect();
        self.pending = 0;
        RecordBatch::try_new(self.layout.schema.clone(), columns).map_err(|e| {
            self.err(ErrorKind::SchemaMismatch {
                table: self.layout.table.clone(),
                reason: e.to_string(),
            })
        })
    }

    /// Reads lines until a batch is full or the file ends.
    fn step(&mut self) -> Result<Option<RecordBatch>, FluxIaeError> {
        loop {
            let Some(complete) = self.next_line()? else {
                return Err(self.err(ErrorKind::MissingFin));
            };
            let text = self.line_text();
            if self.try_fin(&text)? {
                self.done = true;
                if self.blank_lines > 0 {
                    let message = format!("{} blank line(s) skipped", self.blank_lines);
                    self.warn(None, message);
                }
                return if self.pending > 0 {
                    self.flush().map(Some)
                } else {
                    Ok(None)
                };
            }
            if !complete {
                return Err(self.err(ErrorKind::TruncatedLine).with_value(&text));
            }
            if text.trim().is_empty() {
                self.blank_lines += 1;
                continue;
            }
            self.data_line(&text)?;
            if self.pending >= BATCH_ROWS {
                return self.flush().map(Some);
            }
        }
    }
}

impl Iterator for ViewReader<'_> {
    type Item = Result<RecordBatch, FluxIaeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(batch)) => Some(Ok(batch)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A 128-bit hash of a line key (two SipHash passes with different prefixes): collisions among
/// the rows of even a national extraction are vanishingly unlikely.
fn hash128(key: &str) -> u128 {
    let mut a = std::hash::DefaultHasher::new();
    0u8.hash(&mut a);
    key.hash(&mut a);
    let mut b = std::hash::DefaultHasher::new();
    1u8.hash(&mut b);
    key.hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

/// Reads `path` with `view`'s layout (see [`ViewReader`]); used by [`super::read_view`].
pub(crate) fn file_label(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Detects the view of a path from its file name.
pub(crate) fn view_of_path(path: &std::path::Path) -> Result<View, FluxIaeError> {
    let label = file_label(path);
    View::from_file_name(&label).ok_or_else(|| FluxIaeError::new(&label, ErrorKind::UnknownView))
}
