//! Shared helpers of pilotage's benchmarks (see `benches/README.md`).
