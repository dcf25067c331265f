//! Reading the store back into Arrow record batches (`pilotage_api::storage::load_table`), the
//! first step of every publication: rows per second for the two largest tables of a small
//! synthetic country (scale 0.05, 2021–2025) held in an SQLite store, and in PostgreSQL when
//! `PILOTAGE_BENCH_DATABASE_URL` is set. The goal is at least one million rows per second.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pilotage_api::ingest::{IngestOptions, ingest};
use pilotage_api::storage::{Store, load_table};
use pilotage_core::source::SourceTable;
use pilotage_core::synth::{GeneratorConfig, OutputFormat};

fn store_read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources");
    let config = GeneratorConfig {
        scale: 0.05,
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

criterion_group!(benches, store_read);
criterion_main!(benches);
