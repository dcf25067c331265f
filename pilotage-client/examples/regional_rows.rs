//! Streams the rows of one région from a pinned release and counts them.
//!
//! `cargo run -p pilotage-client --example regional_rows -- http://127.0.0.1:8080 REG-84`

use futures_util::StreamExt;
use pilotage_client::Client;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let region = args.next().unwrap_or_else(|| "REG-84".to_owned());
    let client = Client::new(base)?;
    let release = client.datasets().list().await?.release;
    let mut rows = client
        .data("candidatures")
        .filter("territoire", [region.as_str()])
        .release(&release)
        .limit(500)
        .rows();
    let mut n = 0usize;
    while let Some(row) = rows.next().await {
        row?;
        n += 1;
    }
    println!("{n} rows for {region} in release {release}");
    Ok(())
}
