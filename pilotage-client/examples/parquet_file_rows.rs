//! Reads a local Parquet file fully with the Rust Parquet reader (record batches of 65,536
//! rows, as the client decodes its answers) and prints rows, seconds and rows per second: the
//! reading half of "download the release file, then read it", the baseline of `arrow_rows`.
//!
//! `cargo run --release -p pilotage-client --example parquet_file_rows -- FILE.parquet`

use std::time::Instant;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: parquet_file_rows FILE.parquet")?;
    let start = Instant::now();
    let file = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(65_536)
        .build()?;
    let mut rows = 0usize;
    let mut batches = 0usize;
    for batch in reader {
        rows += batch?.num_rows();
        batches += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{path}: {rows} rows in {batches} batches, {secs:.4} s, {:.0} rows/s",
        rows as f64 / secs
    );
    Ok(())
}
