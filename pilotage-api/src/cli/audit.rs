//! `pilotage audit <release-dir>`: re-check every secret value of a published release.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use arrow_array::{RecordBatch, RecordBatchReader as _};
use clap::Args;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pilotage_core::dataset::Definition;
use pilotage_core::disclosure::release::audit_release;
use pilotage_core::release;

/// Options of `pilotage audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A release folder (`releases/<version>` or `releases/current`).
    pub release: PathBuf,
}

/// Runs `pilotage audit`: reads only the published Parquet tables and the definitions of the
/// release, rebuilds every additive relation, bounds each secret value by linear programming,
/// and fails (exit 1) with one line per insufficiently protected value.
pub fn run(args: AuditArgs) -> anyhow::Result<()> {
    let manifest = release::read_manifest(&args.release)?;
    let mut tables = Vec::with_capacity(manifest.datasets.len());
    for dataset in &manifest.datasets {
        let definition_path = args.release.join(format!("{}.definition.json", dataset.id));
        let definition: Definition = serde_json::from_slice(
            &std::fs::read(&definition_path)
                .with_context(|| format!("reading {}", definition_path.display()))?,
        )
        .with_context(|| format!("{}: not a dataset definition", definition_path.display()))?;
        let parquet_path = args.release.join(format!("{}.parquet", dataset.id));
        tables.push((definition, read_parquet(&parquet_path)?));
    }
    let audit = audit_release(&tables).context("auditing the release")?;
    let summary = audit.summary();
    for failure in &audit.failures {
        println!("not protected: {}", crate::publish::describe(failure));
    }
    if !summary.passed {
        bail!(
            "release {}: {} of {} secret values are not protected",
            manifest.version,
            summary.failures,
            summary.checked
        );
    }
    println!(
        "release {}: all {} secret values protected ({})",
        manifest.version, summary.checked, summary.method
    );
    Ok(())
}

fn read_parquet(path: &std::path::Path) -> anyhow::Result<RecordBatch> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .with_context(|| format!("{}: not a Parquet file", path.display()))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading {}", path.display()))?;
    arrow_select::concat::concat_batches(&schema, &batches)
        .with_context(|| format!("reading {}", path.display()))
}
