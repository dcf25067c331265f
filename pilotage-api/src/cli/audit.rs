//! `pilotage audit <release-dir>`: re-check every secret value of a published release.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
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
    let tables = manifest
        .datasets
        .iter()
        .map(|d| release::read_dataset(&args.release, &d.id))
        .collect::<Result<Vec<_>, _>>()?;
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
