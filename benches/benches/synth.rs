//! Generating the sources of a small synthetic country in memory (no file I/O): the simulation
//! and the Arrow batch builders, which dominate `pilotage generate` at any scale.

use criterion::{Criterion, criterion_group, criterion_main};
use pilotage_core::synth::{GeneratorConfig, OutputFormat, generate_batches};

fn bench_generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("synth");
    group.sample_size(10);
    let config = GeneratorConfig {
        scale: 0.01,
        seed: 1,
        first_year: 2021,
        last_year: 2025,
        format: OutputFormat::Parquet,
    };
    group.bench_function("generate_batches scale 0.01, 2021-2025", |b| {
        b.iter(|| {
            let mut rows = 0usize;
            generate_batches(&config, &mut |_, batch| {
                rows += batch.num_rows();
                Ok(())
            })
            .map(|()| rows)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_generate);
criterion_main!(benches);
