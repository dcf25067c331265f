//! Computing every dataset's cube from in-memory sources: the generated sources of a small
//! synthetic country (scale 0.01, 2021–2025), or, when `PILOTAGE_SOURCES_DIR` names a folder of
//! `<table>.parquet` files (as `pilotage generate` writes them), those sources.
//! `PILOTAGE_DATASETS=candidatures,beneficiaires` restricts the run to some datasets.

use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use pilotage_core::indicator::{Prepared, Sources, compute_all, compute_prepared};

fn bench_cubes(c: &mut Criterion) {
    let mut defs = pilotage_testkit::definitions();
    if let Some(only) = std::env::var_os("PILOTAGE_DATASETS") {
        let only = only.to_string_lossy().into_owned();
        defs.retain(|d| only.split(',').any(|id| id == d.id));
    }
    let context = pilotage_testkit::context(2025);
    let (label, sources) = match std::env::var_os("PILOTAGE_SOURCES_DIR") {
        Some(dir) => {
            let start = Instant::now();
            let sources = Sources::from_parquet_dir(Path::new(&dir)).expect("parquet sources");
            eprintln!(
                "read Parquet sources: {:.2} s",
                start.elapsed().as_secs_f64()
            );
            // One timed pass per dataset, with its size, before criterion's samples.
            let prepared = Prepared::new(&sources, &context);
            let start = Instant::now();
            for def in &defs {
                let t = Instant::now();
                let cube = compute_prepared(def, &prepared).expect("cube");
                eprintln!(
                    "{}: {:.2} s, {} rows, {} cells",
                    def.id,
                    t.elapsed().as_secs_f64(),
                    cube.len(),
                    cube.cell_count()
                );
            }
            eprintln!(
                "all cubes (shared lookups): {:.2} s",
                start.elapsed().as_secs_f64()
            );
            drop(prepared);
            (
                format!("compute_all {}", Path::new(&dir).display()),
                sources,
            )
        }
        None => {
            let sources = pilotage_testkit::generated_country(0.01, 1, (2021, 2025));
            ("compute_all scale 0.01, 2021-2025".to_owned(), sources)
        }
    };
    let mut group = c.benchmark_group("cubes");
    group.sample_size(10);
    group.bench_function(label, |b| {
        b.iter(|| {
            compute_all(&defs, &sources, &context)
                .map(|cubes| cubes.iter().map(|c| c.len()).sum::<usize>())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_cubes);
criterion_main!(benches);
