//! Reading the canonical contract from Parquet: columns are matched by name and cast to the
//! table's types when the file stores them differently (a value that does not convert is an
//! error on its row).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, new_null_array};
use arrow_cast::{CastOptions, can_cast_types, cast_with_options};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use pilotage_core::source::SourceTable;

use super::csv::map_columns;
use super::errors::{ErrorSink, RowError};
use super::input::{InputFile, hash_file};
use super::text::{SourceChunk, relaxed_schema};
use super::{CHUNK_ROWS, FileOutcome, IngestError};

/// Reads one Parquet file of `file.table`, passing chunks of rows to `on_chunk`.
pub fn read(
    file: &InputFile,
    sink: &mut ErrorSink,
    warnings: &mut Vec<String>,
    on_chunk: &mut dyn FnMut(SourceChunk, &mut ErrorSink) -> Result<(), IngestError>,
) -> Result<FileOutcome, IngestError> {
    let path = &file.path;
    let table = file.table;
    let (sha256, bytes) = hash_file(path).map_err(|source| IngestError::Io {
        path: path.clone(),
        source,
    })?;
    let mut outcome = FileOutcome {
        sha256,
        bytes,
        ..FileOutcome::default()
    };
    let Some(builder) = open(path, sink)? else {
        return Ok(outcome);
    };
    let Some(map) = usable_columns(&builder, table, path, sink, warnings) else {
        return Ok(outcome);
    };
    let Some(reader) = projected_reader(builder, &map, path, sink) else {
        return Ok(outcome);
    };
    let options = CastOptions {
        safe: true,
        ..CastOptions::default()
    };
    for batch in reader {
        if sink.is_full() {
            return Ok(outcome);
        }
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                sink.push(RowError::file(
                    path,
                    format!("unreadable Parquet data (truncated?): {e}"),
                ));
                return Ok(outcome);
            }
        };
        let rows = batch.num_rows();
        let chunk = convert(&batch, table, outcome.rows, path, &options, sink)?;
        outcome.rows += rows as u64;
        on_chunk(chunk, sink)?;
    }
    Ok(outcome)
}

/// Opens a Parquet file; `None` (with the error in `sink`) when it is not a readable Parquet
/// file.
fn open(
    path: &Path,
    sink: &mut ErrorSink,
) -> Result<Option<ParquetRecordBatchReaderBuilder<File>>, IngestError> {
    let handle = File::open(path).map_err(|source| IngestError::Io {
        path: path.to_owned(),
        source,
    })?;
    match ParquetRecordBatchReaderBuilder::try_new(handle) {
        Ok(b) => Ok(Some(b)),
        Err(e) => {
            sink.push(RowError::file(
                path,
                format!("not a readable Parquet file (truncated?): {e}"),
            ));
            Ok(None)
        }
    }
}

/// Maps the table's columns to the file's columns by name; `None` when a required column is
/// missing or a column's type cannot be converted to the table's at all (each such column an
/// error in `sink`), which makes the whole file unusable.
fn usable_columns(
    builder: &ParquetRecordBatchReaderBuilder<File>,
    table: SourceTable,
    path: &Path,
    sink: &mut ErrorSink,
    warnings: &mut Vec<String>,
) -> Option<Vec<Option<usize>>> {
    let file_schema = builder.schema().clone();
    let header: Vec<String> = file_schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let map = map_columns(table, &header, path, sink, warnings)?;
    let mut usable = true;
    for (spec, position) in table.columns().iter().zip(&map) {
        if let Some(j) = position {
            let found = file_schema.field(*j).data_type();
            let wanted = spec.data_type.to_arrow();
            if found != &wanted && !can_cast_types(found, &wanted) {
                sink.push(RowError {
                    file: path.to_owned(),
                    line: None,
                    column: Some(spec.name.to_owned()),
                    value: None,
                    rule: format!("wrong type: the file stores {found}, the table wants {wanted}"),
                });
                usable = false;
            }
        }
    }
    usable.then_some(map)
}

/// A reader of the columns `map` names only, in chunks of [`CHUNK_ROWS`] rows; `None` (with
/// the error in `sink`) when it cannot be built.
fn projected_reader(
    builder: ParquetRecordBatchReaderBuilder<File>,
    map: &[Option<usize>],
    path: &Path,
    sink: &mut ErrorSink,
) -> Option<ParquetRecordBatchReader> {
    let mut roots: Vec<usize> = map.iter().flatten().copied().collect();
    roots.sort_unstable();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    match builder
        .with_projection(mask)
        .with_batch_size(CHUNK_ROWS)
        .build()
    {
        Ok(r) => Some(r),
        Err(e) => {
            sink.push(RowError::file(
                path,
                format!("not a readable Parquet file: {e}"),
            ));
            None
        }
    }
}

/// Converts a batch read from the file to the table's columns and types, rows numbered from
/// `first + 1`: missing columns are null, and a value that does not convert is an error on
/// its row (in `sink`, and flagged in the chunk) and null.
fn convert(
    batch: &RecordBatch,
    table: SourceTable,
    first: u64,
    path: &Path,
    options: &CastOptions<'_>,
    sink: &mut ErrorSink,
) -> Result<SourceChunk, IngestError> {
    let specs = table.columns();
    let rows = batch.num_rows();
    let lines: Vec<u64> = (1..=rows as u64).map(|i| first + i).collect();
    let mut failed = vec![false; rows * specs.len()];
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(specs.len());
    for (c, spec) in specs.iter().enumerate() {
        let wanted = spec.data_type.to_arrow();
        let Some(found) = batch.column_by_name(spec.name) else {
            arrays.push(new_null_array(&wanted, rows));
            continue;
        };
        if found.data_type() == &wanted {
            arrays.push(found.clone());
            continue;
        }
        let cast = cast_with_options(found, &wanted, options).map_err(|e| IngestError::Io {
            path: path.to_owned(),
            source: std::io::Error::other(e.to_string()),
        })?;
        for r in 0..rows {
            if found.is_valid(r) && cast.is_null(r) {
                failed[r * specs.len() + c] = true;
                sink.push(RowError {
                    file: path.to_owned(),
                    line: Some(lines[r]),
                    column: Some(spec.name.to_owned()),
                    value: Some(display_value(found, r)),
                    rule: format!("wrong type: not convertible to {wanted}"),
                });
            }
        }
        arrays.push(cast);
    }
    let batch =
        RecordBatch::try_new(relaxed_schema(table), arrays).map_err(|e| IngestError::Io {
            path: path.to_owned(),
            source: std::io::Error::other(e.to_string()),
        })?;
    Ok(SourceChunk {
        batch,
        lines,
        failed,
    })
}

fn display_value(array: &Arc<dyn Array>, row: usize) -> String {
    arrow_cast::display::ArrayFormatter::try_new(array.as_ref(), &Default::default())
        .map(|f| f.value(row).to_string())
        .unwrap_or_default()
}
