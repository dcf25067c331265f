//! Streams every row of a dataset through the client as Arrow record batches (the data query
//! in `format=parquet`, decoded by the client) and prints rows, seconds and rows per second.
//!
//! `cargo run --release -p pilotage-client --example arrow_rows -- http://127.0.0.1:8080 [DATASET] [PAGE_ROWS]`
//!
//! Without a dataset id, the one with the most rows in the current release; without
//! `PAGE_ROWS`, the whole answer in one page. The time covers the data query only (the
//! catalogue request that picks the dataset and pins the release comes before it).

use std::time::Instant;

use pilotage_client::Client;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let client = Client::new(base)?;
    let list = client.datasets().list().await?;
    let id = match args.next() {
        Some(id) => id,
        None => list
            .datasets
            .iter()
            .max_by_key(|d| d.rows)
            .map(|d| d.id.clone())
            .ok_or("the release has no dataset")?,
    };
    let page_rows: Option<u64> = args.next().map(|s| s.parse()).transpose()?;
    let mut query = client.data(&id).release(&list.release);
    if let Some(n) = page_rows {
        query = query.limit(n);
    }
    let start = Instant::now();
    let batches = query.record_batches().await?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{id}: {rows} rows in {} batches, {secs:.4} s, {:.0} rows/s (release {})",
        batches.len(),
        rows as f64 / secs,
        list.release
    );
    Ok(())
}
