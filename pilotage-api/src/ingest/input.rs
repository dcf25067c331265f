//! Finding the source files of a run and reading them while computing their SHA-256.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

use pilotage_core::fluxiae::View;
use pilotage_core::source::SourceTable;
use sha2::{Digest, Sha256};

use super::IngestError;

/// The format of a source file, from its name or, for fluxIAE views, its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// The canonical contract as CSV (optionally gzip-compressed, `.csv.gz`).
    Csv,
    /// The canonical contract as Parquet.
    Parquet,
    /// One view of the ASP's fluxIAE delivery (`|` separated, `DEB`/`FIN` sentinels, dd/mm/yyyy
    /// dates, plain or gzip), read by [`pilotage_core::fluxiae`].
    Fluxiae(View),
}

impl InputFormat {
    /// The name recorded in `ingestion_files.format`.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Csv => "csv",
            InputFormat::Parquet => "parquet",
            InputFormat::Fluxiae(_) => "fluxiae",
        }
    }
}

/// One source file to ingest.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// The table it feeds (from its file stem).
    pub table: SourceTable,
    /// Where it is.
    pub path: PathBuf,
    /// How to read it.
    pub format: InputFormat,
    /// True for `.gz` files.
    pub gzip: bool,
}

/// Recognises a source file: a fluxIAE view by its name (`fluxIAE_<View>_…`) or by its first
/// line (`DEB<View>…`, whatever the name, plain or gzip), else `<table>.csv`, `<table>.csv.gz`
/// and `<table>.parquet`.
pub fn classify(path: &Path) -> Option<InputFile> {
    let name = path.file_name()?.to_str()?;
    let gz = name.ends_with(".gz");
    let view = View::from_file_name(name).or_else(|| sniff_view(path));
    if let Some(view) = view {
        return Some(InputFile {
            table: view.table(),
            path: path.to_owned(),
            format: InputFormat::Fluxiae(view),
            gzip: gz,
        });
    }
    let (stem, format, gzip) = if let Some(stem) = name.strip_suffix(".csv.gz") {
        (stem, InputFormat::Csv, true)
    } else if let Some(stem) = name.strip_suffix(".csv") {
        (stem, InputFormat::Csv, false)
    } else if let Some(stem) = name.strip_suffix(".parquet") {
        (stem, InputFormat::Parquet, false)
    } else {
        return None;
    };
    Some(InputFile {
        table: SourceTable::from_name(stem)?,
        path: path.to_owned(),
        format,
        gzip,
    })
}

/// The view announced by the first line of a file (`DEB<View><DDMMYYYY_HHMMSS>`), reading at
/// most 64 KiB (gunzipped when the content is gzip). `None` for anything else, unreadable
/// files included (they are reported when read).
pub fn sniff_view(path: &Path) -> Option<View> {
    let file = File::open(path).ok()?;
    let mut input = pilotage_core::fluxiae::decompress(file).ok()?;
    let mut head = Vec::with_capacity(256);
    (&mut input)
        .take(64 * 1024)
        .read_until(b'\n', &mut head)
        .ok()?;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let rest = head.strip_prefix(b"DEB")?;
    View::ALL
        .iter()
        .copied()
        .filter(|v| rest.starts_with(v.name().as_bytes()))
        .max_by_key(|v| v.name().len())
}

/// Expands folders into the source files they hold and orders everything by table dependency
/// order. Files in a folder that are not source files are reported in `warnings`; a file named
/// explicitly that is not one is an error, and so are two files for the same table.
pub fn resolve(
    inputs: &[PathBuf],
    warnings: &mut Vec<String>,
) -> Result<Vec<InputFile>, IngestError> {
    let mut files: Vec<InputFile> = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|source| IngestError::Io {
            path: input.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|source| IngestError::Io {
                    path: input.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            for path in entries {
                match classify(&path) {
                    Some(file) => files.push(file),
                    None => warnings.push(format!(
                        "{}: not a source file (expected <table>.csv, <table>.csv.gz, <table>.parquet or a fluxIAE view), ignored",
                        path.display()
                    )),
                }
            }
        } else {
            files.push(classify(input).ok_or_else(|| IngestError::UnknownFile {
                path: input.clone(),
            })?);
        }
    }
    if files.is_empty() {
        return Err(IngestError::NoInput {
            inputs: inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    files.sort_by_key(|f| table_rank(f.table));
    for pair in files.windows(2) {
        if pair[0].table == pair[1].table {
            return Err(IngestError::DuplicateTable {
                table: pair[0].table,
                first: pair[0].path.clone(),
                second: pair[1].path.clone(),
            });
        }
    }
    Ok(files)
}

/// Position of a table in dependency order (referenced tables first).
pub fn table_rank(table: SourceTable) -> usize {
    SourceTable::ALL
        .iter()
        .position(|t| *t == table)
        .unwrap_or(usize::MAX)
}

/// A reader that hashes every byte it passes on and counts them.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }
}

impl<R> HashingReader<R> {
    /// Bytes read so far.
    pub fn byte_count(&self) -> u64 {
        self.bytes
    }

    /// SHA-256 of the bytes read so far, lowercase hexadecimal.
    pub fn sha256(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// SHA-256 and size of a whole file.
pub fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut reader = HashingReader::new(File::open(path)?);
    io::copy(&mut reader, &mut io::sink())?;
    Ok((reader.sha256(), reader.byte_count()))
}
