//! Writing the generated tables: one file per table, into a temporary folder that replaces
//! the output folder only once everything is written and synced.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::source::SourceTable;

use super::{OutputFormat, SynthError, TableSummary};

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The temporary folder next to `out_dir`, and the checks on `out_dir` itself.
pub(crate) struct Staging {
    pub out_dir: PathBuf,
    pub tmp_dir: PathBuf,
    parent: PathBuf,
    committed: bool,
}

impl Staging {
    /// Checks `out_dir` (absent, or an empty folder) and creates the temporary folder.
    pub(crate) fn create(out_dir: &Path) -> Result<Self, SynthError> {
        let name = out_dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| SynthError::InvalidConfig {
                parameter: "out",
                reason: format!("{} does not name a folder", out_dir.display()),
            })?;
        let parent = match out_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if out_dir.exists() {
            if !out_dir.is_dir() {
                return Err(SynthError::OutputNotEmpty {
                    path: out_dir.to_path_buf(),
                });
            }
            let mut entries = fs::read_dir(out_dir).map_err(io_error(out_dir))?;
            if entries.next().is_some() {
                return Err(SynthError::OutputNotEmpty {
                    path: out_dir.to_path_buf(),
                });
            }
        }
        let tmp_dir = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp_dir.exists() {
            fs::remove_dir_all(&tmp_dir).map_err(io_error(&tmp_dir))?;
        }
        fs::create_dir(&tmp_dir).map_err(io_error(&tmp_dir))?;
        Ok(Self {
            out_dir: out_dir.to_path_buf(),
            tmp_dir,
            parent,
            committed: false,
        })
    }

    /// Replaces `out_dir` by the temporary folder (files must already be synced).
    pub(crate) fn commit(mut self) -> Result<(), SynthError> {
        if self.out_dir.exists() {
            fs::remove_dir(&self.out_dir).map_err(io_error(&self.out_dir))?;
        }
        fs::rename(&self.tmp_dir, &self.out_dir).map_err(io_error(&self.out_dir))?;
        self.committed = true;
        // Make the rename durable; a failure here leaves a complete folder, so it is ignored.
        if let Ok(dir) = File::open(&self.parent) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp_dir);
        }
    }
}

enum Encoder {
    Parquet(Box<ArrowWriter<File>>),
    Csv(Box<arrow_csv::Writer<BufWriter<File>>>),
}

/// Flushes a finished file to disk, so that the folder's rename publishes complete files.
pub(crate) fn sync_file(path: &Path) -> Result<(), SynthError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io_error(path))
}

/// The writer of one table's file.
pub(crate) struct TableFile {
    table: SourceTable,
    path: PathBuf,
    file_name: String,
    sync_handle: File,
    encoder: Encoder,
    rows: u64,
}

/// Fixed Parquet writer properties, so the same batches always give the same bytes.
fn parquet_properties() -> Result<WriterProperties, SynthError> {
    let level = ZstdLevel::try_new(3).map_err(|source| SynthError::Parquet {
        path: PathBuf::new(),
        source,
    })?;
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_created_by("pilotage synthetic generator".to_owned())
        .build())
}

impl TableFile {
    /// Creates the file of `table` in `dir`.
    pub(crate) fn create(
        dir: &Path,
        table: SourceTable,
        format: OutputFormat,
    ) -> Result<Self, SynthError> {
        let file_name = format!("{}.{}", table.name(), format.extension());
        let path = dir.join(&file_name);
        let file = File::create(&path).map_err(io_error(&path))?;
        let sync_handle = file.try_clone().map_err(io_error(&path))?;
        let encoder = match format {
            OutputFormat::Parquet => {
                let writer =
                    ArrowWriter::try_new(file, table.schema(), Some(parquet_properties()?))
                        .map_err(|source| SynthError::Parquet {
                            path: path.clone(),
                            source,
                        })?;
                Encoder::Parquet(Box::new(writer))
            }
            OutputFormat::Csv | OutputFormat::FluxIae => {
                let writer = arrow_csv::WriterBuilder::new()
                    .with_header(true)
                    .build(BufWriter::with_capacity(1 << 20, file));
                Encoder::Csv(Box::new(writer))
            }
        };
        Ok(Self {
            table,
            path,
            file_name,
            sync_handle,
            encoder,
            rows: 0,
        })
    }

    /// The table this file holds.
    pub(crate) fn table(&self) -> SourceTable {
        self.table
    }

    /// Appends a batch.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<(), SynthError> {
        self.rows += batch.num_rows() as u64;
        match &mut self.encoder {
            Encoder::Parquet(w) => w.write(batch).map_err(|source| SynthError::Parquet {
                path: self.path.clone(),
                source,
            }),
            Encoder::Csv(w) => w.write(batch).map_err(|source| SynthError::Arrow {
                table: self.table.name(),
                source,
            }),
        }
    }

    /// Finishes the file, syncs it to disk and describes it.
    pub(crate) fn finish(self) -> Result<TableSummary, SynthError> {
        match self.encoder {
            Encoder::Parquet(w) => {
                w.close().map_err(|source| SynthError::Parquet {
                    path: self.path.clone(),
                    source,
                })?;
            }
            Encoder::Csv(w) => {
                let mut w = *w;
                if self.rows == 0 {
                    // The CSV writer writes its header with the first batch: force it.
                    w.write(&RecordBatch::new_empty(self.table.schema()))
                        .map_err(|source| SynthError::Arrow {
                            table: self.table.name(),
                            source,
                        })?;
                    w.into_inner().flush().map_err(io_error(&self.path))?;
                } else {
                    w.into_inner().flush().map_err(io_error(&self.path))?;
                }
            }
        }
        self.sync_handle.sync_all().map_err(io_error(&self.path))?;
        let bytes = fs::metadata(&self.path)
            .map_err(io_error(&self.path))?
            .len();
        Ok(TableSummary {
            table: self.table,
            rows: self.rows,
            bytes,
            file_name: self.file_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abandoned_staging_folder_is_removed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        let staging = Staging::create(&out).expect("staging");
        let tmp_dir = staging.tmp_dir.clone();
        fs::write(tmp_dir.join("half.parquet"), b"partial").expect("write");
        drop(staging);
        assert!(!tmp_dir.exists(), "temporary folder removed on failure");
        assert!(!out.exists(), "no output folder on failure");
    }

    #[test]
    fn a_committed_staging_folder_becomes_the_output() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        let staging = Staging::create(&out).expect("staging");
        fs::write(staging.tmp_dir.join("t.csv"), b"a\n").expect("write");
        let tmp_dir = staging.tmp_dir.clone();
        staging.commit().expect("commit");
        assert!(!tmp_dir.exists());
        assert_eq!(fs::read(out.join("t.csv")).expect("moved"), b"a\n");
    }
}
