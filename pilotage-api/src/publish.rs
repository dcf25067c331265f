//! Publishing: from the store to a protected, audited release folder (DESIGN.md §6).
//!
//! `load → compute → protect → audit → write`: every source table's latest extraction is read
//! back from the store, every dataset's cube is computed, disclosure control hides what must
//! be hidden over the whole release, the independent audit re-checks the published tables,
//! and only then the release is written atomically and `current` switched.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use pilotage_core::cube::Geography;
use pilotage_core::dataset::{self, Definition};
use pilotage_core::disclosure::release::{
    CellReport, PreviousRelease, ProtectOptions, audit_release, protect_release,
};
use pilotage_core::indicator::{self, Context, Sources};
use pilotage_core::release::{
    self, CatalogOptions, PublishedDataset, ReleaseInput, WrittenRelease,
};
use pilotage_core::source::SourceTable;
use pilotage_core::territory::Referential;

use crate::storage::{self, Store, Vintage};

/// What to publish and where.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Database URL of the store (SQLite path or `postgres://…`).
    pub database_url: String,
    /// Releases directory (`<dir>/<version>/`, `<dir>/current`).
    pub releases: PathBuf,
    /// Folder of the dataset definitions (`<id>.toml`).
    pub datasets: PathBuf,
    /// Keep only this many releases (the new one included); `None` keeps all.
    pub keep: Option<usize>,
    /// Base URL the catalog gives for the files (`{version}` replaced by the release version).
    pub base_url: String,
}

/// The stages of a publication, reported as they end.
#[derive(Debug, Clone)]
pub enum Stage {
    /// Sources read back from the store: rows, vintage.
    Loaded {
        /// Rows read, all tables.
        rows: u64,
        /// The release's vintage (latest extraction).
        vintage: Vintage,
        /// Time taken.
        elapsed: Duration,
    },
    /// Cubes computed.
    Computed {
        /// Values (rows × measures) over all datasets.
        cells: u64,
        /// Time taken.
        elapsed: Duration,
    },
    /// Disclosure control done.
    Protected {
        /// Values hidden by a primary rule.
        primary: u64,
        /// Values hidden to protect them.
        secondary: u64,
        /// Time taken.
        elapsed: Duration,
    },
    /// The audit re-checked every secret value.
    Audited {
        /// Secret values checked.
        checked: u64,
        /// Time taken.
        elapsed: Duration,
    },
    /// The release is written and current.
    Written {
        /// Time taken.
        elapsed: Duration,
    },
}

/// Runs the whole publication; on any error nothing is published and `current` is untouched.
pub fn publish(
    options: &PublishOptions,
    on_stage: &mut dyn FnMut(&Stage),
) -> anyhow::Result<WrittenRelease> {
    let definitions = dataset::load_dir(&options.datasets).with_context(|| {
        format!(
            "loading the dataset definitions from {}",
            options.datasets.display()
        )
    })?;

    // 1. Load every source table's latest extraction.
    let started = Instant::now();
    let mut store = Store::open(&options.database_url)?;
    let mut vintages = BTreeMap::new();
    let mut missing = Vec::new();
    for table in SourceTable::ALL {
        match store.latest_vintage(*table)? {
            Some(v) => {
                vintages.insert(*table, v);
            }
            None => missing.push(table.name()),
        }
    }
    if vintages.is_empty() {
        bail!(
            "the store {} is empty: run `pilotage ingest` before publishing",
            storage::redact_url(&options.database_url)
        );
    }
    if !missing.is_empty() {
        bail!(
            "the store {} has no extraction of {}: every source table is needed to compute the \
             datasets; ingest them with `pilotage ingest`",
            storage::redact_url(&options.database_url),
            missing.join(", ")
        );
    }
    let vintage = vintages
        .values()
        .copied()
        .max()
        .context("no vintage in the store")?;
    let mut sources = Sources::new();
    let mut rows = 0u64;
    for (table, table_vintage) in &vintages {
        for batch in storage::load_table(&mut store, *table, *table_vintage)? {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            sources.push(*table, batch);
        }
    }
    drop(store);
    on_stage(&Stage::Loaded {
        rows,
        vintage,
        elapsed: started.elapsed(),
    });

    // 2. Compute.
    let started = Instant::now();
    let referential = Referential::official();
    let context = Context {
        geography: Geography::from_pairs(
            referential
                .all_departements()
                .iter()
                .map(|d| (d.code.as_str(), d.region.as_str())),
        ),
        as_of: vintage.days(),
    };
    let cubes = indicator::compute_all(&definitions, &sources, &context)
        .context("computing the datasets")?;
    drop(sources);
    on_stage(&Stage::Computed {
        cells: cubes.iter().map(|c| c.cell_count() as u64).sum(),
        elapsed: started.elapsed(),
    });

    // 3. Protect.
    let started = Instant::now();
    let previous = previous_release(&options.releases)?;
    let previous_loss = previous.as_ref().map(|(_, loss)| loss.clone());
    let protect_options = ProtectOptions {
        previous: previous.map(|(tables, _)| tables),
        ..ProtectOptions::default()
    };
    let protection =
        protect_release(&cubes, &definitions, &protect_options).context("disclosure control")?;
    let mut loss = protection.loss.clone();
    if protection.same_as_previous
        && let Some(before) = previous_loss
    {
        // Publishing the same release again: its report stays the previous one's.
        loss.previous_mask_kept_pct = before.previous_mask_kept_pct;
    }
    on_stage(&Stage::Protected {
        primary: loss.primary,
        secondary: loss.secondary,
        elapsed: started.elapsed(),
    });
    let mut datasets = Vec::with_capacity(cubes.len());
    for ((definition, cube), mask) in definitions.iter().zip(&cubes).zip(&protection.secret) {
        let (table, counts) = release::published_batch(cube, mask)?;
        datasets.push(PublishedDataset {
            definition,
            cube,
            table,
            counts,
        });
    }

    // 4. Audit, from the published tables and the definitions only.
    let started = Instant::now();
    let tables: Vec<(Definition, arrow_array::RecordBatch)> = datasets
        .iter()
        .map(|d| (d.definition.clone(), d.table.clone()))
        .collect();
    let audit = audit_release(&tables).context("auditing the protected release")?;
    let summary = audit.summary();
    if !summary.passed {
        bail!(
            "the audit found {} insufficiently protected values; nothing was published. \
             First: {}",
            summary.failures,
            audit.failures.first().map(describe).unwrap_or_default()
        );
    }
    on_stage(&Stage::Audited {
        checked: summary.checked,
        elapsed: started.elapsed(),
    });

    // 5. Write.
    let started = Instant::now();
    let input = ReleaseInput {
        datasets,
        vintage: vintage.to_string(),
        source_vintages: vintages
            .iter()
            .map(|(t, v)| (t.name().to_string(), v.to_string()))
            .collect(),
        information_loss: loss,
        audit: summary,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        catalog: CatalogOptions {
            base_url: options.base_url.clone(),
            publisher: "pilotage".to_string(),
            publisher_url: options
                .base_url
                .split("/v1/")
                .next()
                .unwrap_or(&options.base_url)
                .to_string(),
        },
    };
    let written = release::write_release(&options.releases, &input, options.keep)
        .with_context(|| format!("writing the release into {}", options.releases.display()))?;
    on_stage(&Stage::Written {
        elapsed: started.elapsed(),
    });
    Ok(written)
}

/// The published tables of the current release in `releases`, if there is one: what the new
/// release must treat as known, and the mask it prefers to keep.
fn previous_release(
    releases: &std::path::Path,
) -> anyhow::Result<Option<(PreviousRelease, release::InformationLoss)>> {
    let Some(version) = release::current_version(releases)? else {
        return Ok(None);
    };
    let dir = releases.join(&version);
    let manifest = release::read_manifest(&dir)
        .with_context(|| format!("reading the previous release {}", dir.display()))?;
    let mut tables = Vec::with_capacity(manifest.datasets.len());
    for d in &manifest.datasets {
        tables.push(
            release::read_dataset(&dir, &d.id)
                .with_context(|| format!("reading {} of the previous release {version}", d.id))?,
        );
    }
    Ok(Some((
        PreviousRelease { tables },
        manifest.information_loss,
    )))
}

/// One line naming a cell of a disclosure report: dataset, coordinates, measure, interval, why.
pub fn describe(cell: &CellReport) -> String {
    let coordinates: Vec<String> = cell
        .coordinates
        .iter()
        .map(|(d, c)| format!("{d}={c}"))
        .collect();
    format!(
        "{} [{}] {}: attacker's interval [{}, {}]: {}",
        cell.dataset,
        coordinates.join(", "),
        cell.measure,
        cell.min,
        cell.max,
        cell.reason
    )
}
