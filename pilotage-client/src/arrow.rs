//! Parquet answers decoded into Arrow record batches.

use arrow_array::RecordBatch;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{Error, Result};

/// Decodes a whole Parquet file held in memory.
pub fn read_parquet(url: &str, body: Bytes) -> Result<Vec<RecordBatch>> {
    let err = |reason: String| Error::Parquet {
        url: url.to_owned(),
        reason,
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(body)
        .map_err(|e| err(e.to_string()))?
        .with_batch_size(65_536)
        .build()
        .map_err(|e| err(e.to_string()))?;
    reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))
}
