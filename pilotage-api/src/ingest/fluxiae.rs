//! Reading the ASP's fluxIAE views (`|` separated, `DEB`/`FIN` sentinels, dd/mm/yyyy dates,
//! duplicate lines, plain or gzip) with core's reader ([`pilotage_core::fluxiae::ViewReader`]).
//!
//! Core's reader turns a view into canonical batches and stops at the first format error (bad
//! date, field count, missing `FIN`, truncated line or gzip stream), which names the physical
//! line. The batches then go through the same validation as the canonical contract. Core's
//! reader does not say which physical line each kept row came from (duplicate and blank lines
//! are skipped), so validation errors first carry the row's ordinal among the kept rows;
//! [`locate`] rescans the file, only when there are such errors, to turn ordinals into physical
//! lines and canonical column names into the view's column names.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::rc::Rc;

use arrow_array::RecordBatch;
use pilotage_core::fluxiae::{ColumnSource, ErrorKind, FluxIaeError, View, ViewReader};
use sha2::{Digest, Sha256};

use super::errors::{ErrorSink, RowError};
use super::input::InputFile;
use super::text::{SourceChunk, relaxed_schema};
use super::{FileOutcome, IngestError};

/// SHA-256 and size of the bytes read so far, shared with the reader that feeds them.
#[derive(Default)]
struct Digested {
    hasher: Sha256,
    bytes: u64,
}

/// A file that hashes every byte read into a shared [`Digested`] (core's reader owns its input,
/// so the digest has to live outside it).
struct HashingFile {
    file: File,
    digest: Rc<RefCell<Digested>>,
}

impl Read for HashingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        let mut d = self.digest.borrow_mut();
        d.hasher.update(&buf[..n]);
        d.bytes += n as u64;
        Ok(n)
    }
}

/// Converts an error of core's reader into an ingestion error on `path`.
fn row_error(path: &Path, e: FluxIaeError) -> RowError {
    let rule = match e.kind.as_ref() {
        ErrorKind::Io(io) => format!("unreadable file (truncated or corrupt?): {io}"),
        kind => kind.to_string(),
    };
    RowError {
        file: path.to_owned(),
        line: e.line,
        column: e.column,
        value: e.value,
        rule,
    }
}

/// Reads one fluxIAE view, passing chunks of canonical rows to `on_chunk`.
///
/// The chunks' `lines` are the rows' 1-based ordinals among the rows kept (see [`locate`]).
/// A format error of the file is returned in [`FileOutcome::deferred`], to be reported after
/// [`locate`] ran (its line is already physical).
pub fn read(
    file: &InputFile,
    view: View,
    sink: &mut ErrorSink,
    warnings: &mut Vec<String>,
    on_chunk: &mut dyn FnMut(SourceChunk, &mut ErrorSink) -> Result<(), IngestError>,
) -> Result<FileOutcome, IngestError> {
    let path = &file.path;
    let handle = File::open(path).map_err(|source| IngestError::Io {
        path: path.clone(),
        source,
    })?;
    let digest = Rc::new(RefCell::new(Digested::default()));
    let input = HashingFile {
        file: handle,
        digest: Rc::clone(&digest),
    };
    let label = path.display().to_string();
    let mut outcome = FileOutcome::default();
    let mut reader = match ViewReader::new(input, view.layout(), &label) {
        Ok(reader) => reader,
        Err(e) => {
            outcome.deferred.push(row_error(path, e));
            return Ok(outcome);
        }
    };
    let schema = relaxed_schema(file.table);
    for item in reader.by_ref() {
        match item {
            Ok(batch) => {
                let n = batch.num_rows() as u64;
                // Same columns and types, with nullability left to the validator.
                let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec())
                    .map_err(|e| IngestError::Io {
                        path: path.clone(),
                        source: io::Error::other(e),
                    })?;
                let first = outcome.rows + 1;
                outcome.rows += n;
                on_chunk(
                    SourceChunk {
                        batch,
                        lines: (first..=outcome.rows).collect(),
                        failed: Vec::new(),
                    },
                    sink,
                )?;
                if sink.is_full() {
                    break;
                }
            }
            Err(e) => {
                outcome.deferred.push(row_error(path, e));
                break;
            }
        }
    }
    let summary = reader.into_summary();
    outcome.duplicates = summary.duplicates_dropped;
    warnings.extend(summary.warnings.iter().map(ToString::to_string));
    let d = digest.borrow();
    outcome.sha256 = hex::encode(d.hasher.clone().finalize());
    outcome.bytes = d.bytes;
    Ok(outcome)
}

/// Rewrites the errors `errors` found by validation in a view read by [`read`]: a row ordinal
/// becomes the row's physical line (also in "already on line N"), a canonical column becomes
/// the view's column (the canonical name goes into the rule). Rescans the file once.
pub fn locate(path: &Path, view: View, errors: &mut [RowError]) {
    let mut ordinals: BTreeSet<u64> = BTreeSet::new();
    for e in errors.iter() {
        ordinals.extend(e.line);
        if let Some(n) = duplicate_line(&e.rule) {
            ordinals.insert(n);
        }
    }
    // An unreadable file was reported by the reader already: ordinals are then kept as such.
    let lines = physical_lines(path, view, &ordinals).unwrap_or_default();
    let layout = view.layout();
    let table = view.table();
    for e in errors.iter_mut() {
        if let Some(line) = e.line.and_then(|o| lines.get(&o)) {
            e.line = Some(*line);
        }
        if let Some(n) = duplicate_line(&e.rule)
            && let Some(line) = lines.get(&n)
        {
            e.rule = format!("duplicate primary key: already on line {line}");
        }
        if let Some(canonical) = e.column.clone() {
            match layout.flux_column(&canonical) {
                Some(flux) => {
                    e.column = Some(flux.to_owned());
                    e.rule = format!("{} (canonical column {table}.{canonical})", e.rule);
                }
                None => {
                    e.rule = format!(
                        "{} (canonical column {table}.{canonical}, derived by the reader)",
                        e.rule
                    );
                }
            }
        }
    }
}

/// The N of a "duplicate primary key: already on line N" rule.
fn duplicate_line(rule: &str) -> Option<u64> {
    rule.strip_prefix("duplicate primary key: already on line ")?
        .parse()
        .ok()
}

/// The physical line (1-based, `DEB` and header lines counted) of each kept-row ordinal in
/// `ordinals`, skipping blank lines and duplicates exactly as core's reader does (same fields
/// compared: the view's columns that feed the canonical table).
fn physical_lines(
    path: &Path,
    view: View,
    ordinals: &BTreeSet<u64>,
) -> io::Result<BTreeMap<u64, u64>> {
    let mut out = BTreeMap::new();
    let Some(&last) = ordinals.last() else {
        return Ok(out);
    };
    let mut input = pilotage_core::fluxiae::decompress(File::open(path)?)?;
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut line: u64 = 0;
    let mut next_line = |buf: &mut Vec<u8>, line: &mut u64| -> io::Result<bool> {
        buf.clear();
        if input.read_until(b'\n', buf)? == 0 {
            return Ok(false);
        }
        *line += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        if *line == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
        }
        Ok(true)
    };
    if !next_line(&mut buf, &mut line)? {
        return Ok(out);
    }
    if buf.starts_with(b"DEB") && !next_line(&mut buf, &mut line)? {
        return Ok(out);
    }
    let names: Vec<String> = buf
        .split(|&b| b == b'|')
        .map(|n| String::from_utf8_lossy(n).trim().to_owned())
        .collect();
    let layout = view.layout();
    let positions: Vec<usize> = layout
        .sources
        .iter()
        .filter_map(|s| match s {
            ColumnSource::Flux(name) => names.iter().position(|n| n == name),
            _ => None,
        })
        .collect();
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut kept: u64 = 0;
    let mut key: Vec<u8> = Vec::new();
    while kept < last && next_line(&mut buf, &mut line)? {
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(mut count) = buf.strip_prefix(b"FIN") {
            while let [init @ .., b'|'] = count {
                count = init;
            }
            if !count.is_empty() && count.iter().all(u8::is_ascii_digit) {
                break;
            }
        }
        let fields: Vec<&[u8]> = buf.split(|&b| b == b'|').collect();
        key.clear();
        for &p in &positions {
            key.extend_from_slice(fields.get(p).copied().unwrap_or_default());
            key.push(0x1f);
        }
        if seen.contains(&key) {
            continue;
        }
        seen.insert(key.clone());
        kept += 1;
        if ordinals.contains(&kept) {
            out.insert(kept, line);
        }
    }
    Ok(out)
}
