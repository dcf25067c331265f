//! Reading the canonical contract from CSV: UTF-8, `,` or `;` (detected from the header),
//! header required, optionally gzip-compressed.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use flate2::read::GzDecoder;
use pilotage_core::source::SourceTable;

use super::errors::{ErrorSink, RowError};
use super::input::{HashingReader, InputFile};
use super::text::{SourceChunk, TextRows};
use super::{CHUNK_ROWS, FileOutcome, IngestError};

/// The bytes of a file (decompressed if needed), hashed as they are read from disk, remembering
/// the last byte delivered (a complete CSV file ends with a newline).
struct Source {
    inner: SourceInner,
    last: Option<u8>,
}

enum SourceInner {
    Plain(HashingReader<File>),
    Gzip(GzDecoder<HashingReader<File>>),
}

impl Source {
    fn hashing(&self) -> &HashingReader<File> {
        match &self.inner {
            SourceInner::Plain(r) => r,
            SourceInner::Gzip(r) => r.get_ref(),
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.inner {
            SourceInner::Plain(r) => r.read(buf)?,
            SourceInner::Gzip(r) => r.read(buf)?,
        };
        if n > 0 {
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }
}

/// Picks `;` when the header holds more semicolons than commas (outside quotes), else `,`.
pub fn detect_delimiter(header: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0usize, 0usize, false);
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// A CSV reader over the header line already read (to choose the delimiter), then the rest of
/// the file.
type CsvReader = csv::Reader<io::Chain<io::Cursor<Vec<u8>>, Source>>;

/// Reads one CSV file of `file.table`, passing chunks of parsed rows to `on_chunk`.
pub fn read(
    file: &InputFile,
    sink: &mut ErrorSink,
    warnings: &mut Vec<String>,
    on_chunk: &mut dyn FnMut(SourceChunk, &mut ErrorSink) -> Result<(), IngestError>,
) -> Result<FileOutcome, IngestError> {
    let path = &file.path;
    let mut source = open_source(file)?;
    let Some(prefix) = header_prefix(&mut source, path, sink) else {
        return Ok(FileOutcome::default());
    };
    let header_end = prefix
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(prefix.len());
    let delimiter = detect_delimiter(&prefix[..header_end]);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .buffer_capacity(1 << 20)
        .from_reader(io::Cursor::new(prefix).chain(source));

    let table = file.table;
    let Some(header) = header_names(&mut reader, path, sink) else {
        return Ok(FileOutcome::default());
    };
    let Some(map) = map_columns(table, &header, path, sink, warnings) else {
        return Ok(FileOutcome::default());
    };

    let mut records = Records {
        path,
        map,
        rows: TextRows::new(table, delimiter == b';', CHUNK_ROWS),
    };
    let mut outcome = FileOutcome::default();
    if !records.read_all(&mut reader, sink, on_chunk, &mut outcome)? {
        return Ok(outcome);
    }
    finish(&reader, path, sink, &mut outcome);
    Ok(outcome)
}

/// Opens a file for reading, decompressing it if it is gzip, hashing its bytes as they are
/// read from disk.
fn open_source(file: &InputFile) -> Result<Source, IngestError> {
    let path = &file.path;
    let io_error = |source: io::Error| IngestError::Io {
        path: path.clone(),
        source,
    };
    let raw = HashingReader::new(File::open(path).map_err(io_error)?);
    Ok(Source {
        inner: if file.gzip {
            SourceInner::Gzip(GzDecoder::new(raw))
        } else {
            SourceInner::Plain(raw)
        },
        last: None,
    })
}

/// The first bytes of a file, up to the end of its header line (or 1 MiB at most); `None`
/// (with the error in `sink`) when the file is unreadable or empty.
fn header_prefix(source: &mut Source, path: &Path, sink: &mut ErrorSink) -> Option<Vec<u8>> {
    let mut prefix = Vec::with_capacity(64 * 1024);
    let mut buf = [0u8; 8192];
    let mut read_error = None;
    while !prefix.contains(&b'\n') && prefix.len() < 1 << 20 {
        match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => prefix.extend_from_slice(&buf[..n]),
            Err(e) => {
                read_error = Some(e);
                break;
            }
        }
    }
    if let Some(e) = read_error {
        sink.push(RowError::file(path, format!("unreadable file: {e}")));
        return None;
    }
    if prefix.is_empty() {
        sink.push(RowError::file(
            path,
            "empty file: a header line is required",
        ));
        return None;
    }
    Some(prefix)
}

/// The column names of the header, trimmed, without a leading byte-order mark; `None` (with
/// the error in `sink`) when the header cannot be read.
fn header_names(reader: &mut CsvReader, path: &Path, sink: &mut ErrorSink) -> Option<Vec<String>> {
    match reader.byte_headers() {
        Ok(h) => Some(
            h.iter()
                .enumerate()
                .map(|(i, name)| {
                    let name = if i == 0 {
                        name.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(name)
                    } else {
                        name
                    };
                    String::from_utf8_lossy(name).trim().to_owned()
                })
                .collect(),
        ),
        Err(e) => {
            sink.push(RowError::file(path, format!("unreadable header: {e}")));
            None
        }
    }
}

/// The rows of a CSV file being parsed into the table's columns.
struct Records<'a> {
    path: &'a Path,
    /// Header position of each of the table's columns, if present.
    map: Vec<Option<usize>>,
    /// The chunk being filled.
    rows: TextRows,
}

impl Records<'_> {
    /// Reads every record, passing each full chunk (and the last one) to `on_chunk` and
    /// counting rows in `outcome`; false when reading stopped early (too many errors, or an
    /// unreadable or malformed file), the rows of the unfinished chunk then left out.
    fn read_all(
        &mut self,
        reader: &mut CsvReader,
        sink: &mut ErrorSink,
        on_chunk: &mut dyn FnMut(SourceChunk, &mut ErrorSink) -> Result<(), IngestError>,
        outcome: &mut FileOutcome,
    ) -> Result<bool, IngestError> {
        let path = self.path;
        let map = &self.map;
        let mut record = csv::ByteRecord::new();
        loop {
            if sink.is_full() {
                return Ok(false);
            }
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line());
                    self.rows
                        .push(path, line, |i| map[i].and_then(|j| record.get(j)), sink);
                    outcome.rows += 1;
                    if self.rows.len() >= CHUNK_ROWS {
                        on_chunk(self.rows.take(), sink)?;
                    }
                }
                Err(e) => {
                    if !record_error(&e, path, sink) {
                        return Ok(false);
                    }
                }
            }
        }
        if !self.rows.is_empty() {
            on_chunk(self.rows.take(), sink)?;
        }
        Ok(true)
    }
}

/// Reports a record that cannot be read; true when reading can go on (a line with the wrong
/// number of fields), false when the rest of the file cannot be read.
fn record_error(e: &csv::Error, path: &Path, sink: &mut ErrorSink) -> bool {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => {
            sink.push(RowError {
                file: path.to_owned(),
                line: pos.as_ref().map(|p| p.line()),
                column: None,
                value: None,
                rule: format!(
                    "expected {expected_len} fields as in the header, found {len} (truncated or malformed line)"
                ),
            });
            true
        }
        csv::ErrorKind::Io(io) => {
            sink.push(RowError::file(
                path,
                format!("unreadable file (truncated?): {io}"),
            ));
            false
        }
        _ => {
            sink.push(RowError::file(path, format!("malformed CSV: {e}")));
            false
        }
    }
}

/// Once the whole file is read: reports a file that does not end with a newline (truncated),
/// and records the SHA-256 and size in bytes of what was read from disk.
fn finish(reader: &CsvReader, path: &Path, sink: &mut ErrorSink, outcome: &mut FileOutcome) {
    let source = &reader.get_ref().get_ref().1;
    if !matches!(source.last, Some(b'\n')) {
        sink.push(RowError {
            file: path.to_owned(),
            line: Some(reader.position().line()),
            column: None,
            value: None,
            rule: "the file does not end with a newline: it looks truncated".to_owned(),
        });
    }
    outcome.sha256 = source.hashing().sha256();
    outcome.bytes = source.hashing().byte_count();
}

/// Maps the table's columns to header positions. Missing required columns are errors (and
/// `None` is returned); missing nullable columns and unknown extra columns are warnings.
pub fn map_columns(
    table: SourceTable,
    header: &[String],
    path: &std::path::Path,
    sink: &mut ErrorSink,
    warnings: &mut Vec<String>,
) -> Option<Vec<Option<usize>>> {
    let mut ok = true;
    for (i, name) in header.iter().enumerate() {
        if header[..i].contains(name) {
            sink.push(RowError::file(
                path,
                format!("column `{name}` appears twice in the header"),
            ));
            ok = false;
        } else if table.column(name).is_none() {
            warnings.push(format!(
                "{}: column `{name}` is not part of table {table}: ignored",
                path.display()
            ));
        }
    }
    let mut map = Vec::with_capacity(table.columns().len());
    for spec in table.columns() {
        let position = header.iter().position(|h| h == spec.name);
        if position.is_none() {
            if spec.nullable {
                warnings.push(format!(
                    "{}: optional column `{}` is missing: stored as empty",
                    path.display(),
                    spec.name
                ));
            } else {
                sink.push(RowError {
                    file: path.to_owned(),
                    line: Some(1),
                    column: Some(spec.name.to_owned()),
                    value: None,
                    rule: format!("required column missing from the header of table {table}"),
                });
                ok = false;
            }
        }
        map.push(position);
    }
    ok.then_some(map)
}
