//! Reading the store back into Arrow record batches (`pilotage_api::storage::load_table`), the
//! first step of every publication: rows per second for the two largest tables of a small
//! synthetic country (scale 0.05, 2021–2025) held in an SQLite store, and in PostgreSQL when
//! `PILOTAGE_BENCH_DATABASE_URL` is set. The goal is at least one million rows per second.
//!
//! Before the criterion samples, every table is read back once and the totals printed: rows,
//! wall time and the CPU time of the process (every thread: PostgreSQL reads decode on a thread
//! of their own; from `/proc/self/stat`), since wall time on a shared machine measures the other
//! processes as much as the reader. The scale can be
//! changed with `PILOTAGE_BENCH_SCALE` (default 0.05).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pilotage_api::ingest::{IngestOptions, ingest};
use std::time::Instant;

use pilotage_api::storage::{Store, load_table};
use pilotage_core::source::SourceTable;
use pilotage_core::synth::{GeneratorConfig, OutputFormat};

fn store_read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources");
    let scale = std::env::var("PILOTAGE_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.05);
    let config = GeneratorConfig {
        scale,
        seed: 1,
        first_year: 2021,
        last_year: 2025,
        format: OutputFormat::Parquet,
    };
    pilotage_core::synth::generate(&config, &sources, &mut |_| {}).unwrap();
    let mut urls = vec![(
        "sqlite",
        dir.path().join("store.sqlite").display().to_string(),
    )];
    if let Ok(url) = std::env::var("PILOTAGE_BENCH_DATABASE_URL") {
        urls.push(("postgres", url));
    }
    let mut group = c.benchmark_group("store_read");
    group.sample_size(10);
    for (backend, url) in urls {
        let mut options = IngestOptions::new(vec![sources.clone()], url.clone());
        options.source_vintage = Some("2025-12-31".parse().unwrap());
        ingest(&options, &mut |_| {}).unwrap();
        let mut store = Store::open(&url).unwrap();
        let (wall, cpu) = (Instant::now(), process_cpu_seconds());
        let mut total = 0usize;
        for table in SourceTable::ALL {
            let Some(vintage) = store.latest_vintage(*table).unwrap() else {
                continue;
            };
            for batch in load_table(&mut store, *table, vintage).unwrap() {
                total += batch.unwrap().num_rows();
            }
        }
        let (wall, cpu) = (wall.elapsed().as_secs_f64(), process_cpu_seconds() - cpu);
        println!(
            "store_read/{backend}/all tables (scale {scale}): {total} rows in {wall:.2} s wall \
             ({:.0} rows/s), {cpu:.2} s CPU of the process ({:.0} rows/s)",
            total as f64 / wall,
            total as f64 / cpu
        );
        for table in [SourceTable::EtatsMensuels, SourceTable::Candidatures] {
            let vintage = store.latest_vintage(table).unwrap().unwrap();
            let rows: usize = load_table(&mut store, table, vintage)
                .unwrap()
                .map(|b| b.unwrap().num_rows())
                .sum();
            group.throughput(Throughput::Elements(rows as u64));
            group.bench_function(format!("{backend}/{table}"), |b| {
                b.iter(|| {
                    let mut n = 0;
                    for batch in load_table(&mut store, table, vintage).unwrap() {
                        n += batch.unwrap().num_rows();
                    }
                    assert_eq!(n, rows);
                })
            });
        }
    }
    group.finish();
}

/// CPU time (user + system) of this process, every thread, in seconds (0 where
/// `/proc/self/stat` is absent). Its unit is the kernel's clock tick, 1/100 s on Linux.
fn process_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (in parentheses): utime and stime are the 12th and
            // 13th of them.
            let rest = &s[s.rfind(')')? + 2..];
            let mut fields = rest.split_whitespace().skip(11);
            let user: u64 = fields.next()?.parse().ok()?;
            let system: u64 = fields.next()?.parse().ok()?;
            Some((user + system) as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

criterion_group!(benches, store_read);
criterion_main!(benches);
