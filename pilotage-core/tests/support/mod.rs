//! Shared by the crate's integration tests: the repository's committed files, the geography of
//! the territory referential, and the sources and cubes of a generated country.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pilotage_core::cube::calendar::days_from_civil;
use pilotage_core::cube::{Cube, Geography};
use pilotage_core::dataset::{Definition, load_dir};
use pilotage_core::indicator::{Context, Sources, compute_all};
use pilotage_core::synth::{GeneratorConfig, generate_batches};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every committed definition (`pilotage-core/data/datasets`), in id order.
pub fn definitions() -> Vec<Definition> {
    load_dir(&root().join("pilotage-core/data/datasets")).expect("committed definitions load")
}

/// The départements and régions of the committed territory referential, read from its folder.
pub fn geography() -> Geography {
    Geography::from_reference_dir(&root().join("pilotage-core/data/reference")).expect("geography")
}

/// The sources of the country `config` generates.
pub fn generated(config: &GeneratorConfig) -> Sources {
    let mut sources = Sources::new();
    generate_batches(config, &mut |table, batch| {
        sources.push(table, batch);
        Ok(())
    })
    .expect("generate");
    sources
}

/// The context of a computation: the referential's geography, sources extracted on 31
/// December of `last_year`.
pub fn context(last_year: i32) -> Context {
    Context {
        geography: geography(),
        as_of: days_from_civil(last_year, 12, 31),
    }
}

/// The cubes of `defs` computed from `sources` extracted on 31 December of `last_year`.
pub fn cubes(defs: &[Definition], sources: &Sources, last_year: i32) -> Vec<Cube> {
    compute_all(defs, sources, &context(last_year)).expect("cubes")
}
