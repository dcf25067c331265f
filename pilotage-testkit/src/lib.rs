//! Fixtures shared by the integration tests of pilotage-core, pilotage-api and pilotage-client
//! and by the benchmarks: the repository's committed definitions and referential, the sources
//! and cubes of a generated country, and a release written from them by the real writer.
//!
//! Every function panics on failure: a fixture that cannot be built fails the test using it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use pilotage_core::cube::calendar::days_from_civil;
use pilotage_core::cube::{Cube, Geography, MeasureValues};
use pilotage_core::dataset::{Definition, load_dir};
use pilotage_core::indicator::{Context, Sources, compute_all};
use pilotage_core::release::{
    self, AuditSummary, CatalogOptions, InformationLoss, PublishedDataset, ReleaseInput,
    published_batch,
};
use pilotage_core::synth::{GeneratorConfig, generate_batches};
use pilotage_core::territory::Referential;

/// The checker's rules for protection options, as publication builds them (the function
/// publication itself calls, so that tests check with the same rules).
pub use pilotage_api::publish::checker_rules;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every committed definition (`pilotage-core/data/datasets`), in id order.
pub fn definitions() -> Vec<Definition> {
    load_dir(&root().join("pilotage-core/data/datasets")).expect("committed definitions load")
}

/// The committed definitions whose id is in `ids`, in the folder's (id) order; panics when an
/// id names no definition.
pub fn definitions_among<S: AsRef<str>>(ids: &[S]) -> Vec<Definition> {
    let mut defs = definitions();
    defs.retain(|d| ids.iter().any(|id| id.as_ref() == d.id));
    assert_eq!(
        defs.len(),
        ids.len(),
        "unknown dataset among {:?}",
        ids.iter().map(AsRef::as_ref).collect::<Vec<_>>()
    );
    defs
}

/// The départements and régions of the committed territory referential (the one compiled into
/// pilotage-core, parsed once per process).
pub fn geography() -> Geography {
    Geography::from_referential(Referential::official())
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

/// The sources of a generated country of `scale` (1 is national size) and `seed`, for the
/// calendar years `years` (first, last) only, in the default output format.
pub fn generated_country(scale: f64, seed: u64, years: (i32, i32)) -> Sources {
    generated(&GeneratorConfig {
        scale,
        seed,
        first_year: years.0,
        last_year: years.1,
        ..GeneratorConfig::default()
    })
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

/// A mask hiding every count from 1 to 10 and nothing else, `[measure][row]`: what the release
/// writer is given when a test is about writing or serving rather than about the disclosure
/// rules (tested with the disclosure module).
pub fn small_counts(cube: &Cube) -> Vec<Vec<bool>> {
    cube.measures
        .iter()
        .map(|m| match &m.values {
            MeasureValues::Counts(v) => v.iter().map(|x| matches!(x, Some(1..=10))).collect(),
            MeasureValues::Values(v) => vec![false; v.len()],
        })
        .collect()
}

/// The published tables of `cubes` under `secret[cube][measure][row]`.
pub fn published(cubes: &[Cube], secret: &[Vec<Vec<bool>>]) -> Vec<RecordBatch> {
    cubes
        .iter()
        .zip(secret)
        .map(|(cube, mask)| published_batch(cube, mask).expect("published table").0)
        .collect()
}

/// The datasets of a release: each definition with its cube and its published table under
/// `secret[cube][measure][row]`.
pub fn published_datasets<'a>(
    defs: &'a [Definition],
    cubes: &'a [Cube],
    secret: &[Vec<Vec<bool>>],
) -> Vec<PublishedDataset<'a>> {
    defs.iter()
        .zip(cubes)
        .zip(secret)
        .map(|((definition, cube), mask)| {
            let (table, counts) = published_batch(cube, mask).expect("published batch");
            PublishedDataset {
                definition,
                cube,
                table,
                counts,
            }
        })
        .collect()
}

/// The information loss of a release that hides nothing (every figure zero).
pub fn no_information_loss() -> InformationLoss {
    InformationLoss {
        values: 0,
        primary: 0,
        secondary: 0,
        secret_share_pct: 0.0,
        secret_value_share_pct: 0.0,
        secondary_per_primary: 0.0,
        previous_mask_kept_pct: None,
    }
}

/// The release input of `datasets` as the tests write it: vintage 31 December 2025 (one
/// source, `candidatures`, of that vintage), no information loss, a passed check of nothing by
/// the method `test`, tool version `0.0.0-test`, files under the demo's address. Tests about
/// one of these change that field.
pub fn release_input(datasets: Vec<PublishedDataset<'_>>) -> ReleaseInput<'_> {
    ReleaseInput {
        datasets,
        vintage: "2025-12-31".into(),
        source_vintages: BTreeMap::from([("candidatures".to_owned(), "2025-12-31".to_owned())]),
        information_loss: no_information_loss(),
        previous: None,
        audit: AuditSummary {
            passed: true,
            checked: 0,
            failures: 0,
            method: "test".into(),
            ..AuditSummary::default()
        },
        tool_version: "0.0.0-test".into(),
        catalog: CatalogOptions {
            base_url: "http://127.0.0.1:8080/v1/releases/{version}/files/".into(),
            publisher: "pilotage".into(),
            publisher_url: "http://127.0.0.1:8080/".into(),
        },
    }
}

/// Writes into the releases folder `dir` a release of `defs` computed from the country
/// `config` generates (extracted at the end of its last year), counts of 1 to 10 hidden, and
/// makes it `current`. Returns its version.
pub fn write_generated_release(
    dir: &Path,
    config: &GeneratorConfig,
    defs: &[Definition],
) -> String {
    let sources = generated(config);
    let cubes = cubes(defs, &sources, config.last_year);
    let masks: Vec<_> = cubes.iter().map(small_counts).collect();
    let input = release_input(published_datasets(defs, &cubes, &masks));
    release::write_release(dir, &input, None)
        .expect("write release")
        .version
}

/// Copies the committed definitions of `ids` (`<id>.toml`) into the folder `dir`, for a test
/// that publishes a few datasets with `pilotage publish --datasets DIR`.
pub fn copy_definitions(ids: &[&str], dir: &Path) {
    let committed = root().join("pilotage-core/data/datasets");
    for id in ids {
        let name = format!("{id}.toml");
        std::fs::copy(committed.join(&name), dir.join(&name)).expect("copy a definition");
    }
}
