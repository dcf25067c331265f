//! Reading the canonical contract from Parquet: columns are matched by name and cast to the
//! table's types when the file stores them differently (a value that does not convert is an
//! error on its row).

use std::fs::File;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, new_null_array};
use arrow_cast::{CastOptions, can_cast_types, cast_with_options};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

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
    let handle = File::open(path).map_err(|source| IngestError::Io {
        path: path.clone(),
        source,
    })?;
    let builder = match ParquetRecordBatchReaderBuilder::try_new(handle) {
        Ok(b) => b,
        Err(e) => {
            sink.push(RowError::file(
                path,
                format!("not a readable Parquet file (truncated?): {e}"),
            ));
            return Ok(outcome);
        }
    };
    let file_schema = builder.schema().clone();
    let header: Vec<String> = file_schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let Some(map) = map_columns(table, &header, path, sink, warnings) else {
        return Ok(outcome);
    };
    let specs = table.columns();
    // Types that cannot be converted at all make the whole file unusable.
    let mut usable = true;
    for (spec, position) in specs.iter().zip(&map) {
        if let Some(j) = position {
            let found = file_schema.field(*j).data_type();
            let wanted = spec.data_type.to_arrow();
            if found != &wanted && !can_cast_types(found, &wanted) {
                sink.push(RowError {
                    file: path.clone(),
                    line: None,
                    column: Some(spec.name.to_owned()),
                    value: None,
                    rule: format!("wrong type: the file stores {found}, the table wants {wanted}"),
                });
                usable = false;
            }
        }
    }
    if !usable {
        return Ok(outcome);
    }
    let mut roots: Vec<usize> = map.iter().flatten().copied().collect();
    roots.sort_unstable();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = match builder
        .with_projection(mask)
        .with_batch_size(CHUNK_ROWS)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            sink.push(RowError::file(
                path,
                format!("not a readable Parquet file: {e}"),
            ));
            return Ok(outcome);
        }
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
        let first = outcome.rows;
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
            let cast =
                cast_with_options(found, &wanted, &options).map_err(|e| IngestError::Io {
                    path: path.clone(),
                    source: std::io::Error::other(e.to_string()),
                })?;
            for r in 0..rows {
                if found.is_valid(r) && cast.is_null(r) {
                    failed[r * specs.len() + c] = true;
                    sink.push(RowError {
                        file: path.clone(),
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
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
        outcome.rows += rows as u64;
        on_chunk(
            SourceChunk {
                batch,
                lines,
                failed,
            },
            sink,
        )?;
    }
    Ok(outcome)
}

fn display_value(array: &Arc<dyn Array>, row: usize) -> String {
    arrow_cast::display::ArrayFormatter::try_new(array.as_ref(), &Default::default())
        .map(|f| f.value(row).to_string())
        .unwrap_or_default()
}
