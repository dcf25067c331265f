//! `pilotage audit <release-dir> [--public]`: check a published release's disclosure control
//! again, with the independent checker (`pilotage-checker`).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use arrow_array::RecordBatch;
use clap::Args;
use pilotage_checker::{Input, Report, Rules, check, check_public};
use pilotage_core::certificate::Certificate;
use pilotage_core::dataset::Definition;
use pilotage_core::release::{MANIFEST_FILE, Manifest};

use crate::publish::{self, Extractions};
use crate::storage::{self, Store};

/// Options of `pilotage audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A release folder (`releases/<version>` or `releases/current`).
    pub release: PathBuf,
    /// Check only what needs no confidential data, from the release's published tables and
    /// definitions alone: what anyone who downloaded the release can check. Without it, the
    /// release's true values are computed again from the store and its disclosure certificate
    /// is read from the store and verified whole.
    #[arg(long)]
    pub public: bool,
    /// The store the release was published from (full check only): a SQLite file path
    /// (default `./data/pilotage.sqlite`) or a `postgres://` URL.
    #[arg(long, env = storage::DATABASE_URL_ENV)]
    pub database_url: Option<String>,
}

/// Runs `pilotage audit`: prints one line per failed check and a summary line; fails (exit 1)
/// when any check fails or the release, its store or its certificate cannot be read.
///
/// Both checks apply the published rules ([`Rules::default`]). The full check verifies that
/// no confidential value is published and that every claim of every confidential value is
/// proved by a valid witness point of the certificate the store keeps for this version (the
/// one whose SHA-256 the manifest records), against the true values recomputed from the
/// extractions the manifest names, treating as known what the previous release (if the
/// manifest names one and it is beside this one) published.
pub fn run(args: AuditArgs) -> anyhow::Result<()> {
    let (manifest, tables) = publish::read_release(&args.release)?;
    let definitions: Vec<Definition> = tables.iter().map(|(d, _)| d.clone()).collect();
    let published: Vec<RecordBatch> = tables.into_iter().map(|(_, t)| t).collect();
    let rules = Rules::default();
    if let Some(recorded) = &manifest.audit.rules
        && *recorded != publish::manifest_rules(&rules)
    {
        eprintln!(
            "note: release {} records other rules than the published ones; it is checked \
             against the published ones",
            manifest.version
        );
    }
    let (report, what) = if args.public {
        (
            check_public(&definitions, &published, &rules),
            "public check",
        )
    } else {
        let url = storage::resolve_database_url(args.database_url.as_deref());
        (
            full_check(
                &args.release,
                &manifest,
                &definitions,
                &published,
                &rules,
                &url,
            )?,
            "check",
        )
    };
    for failure in &report.failures {
        println!("{failure}");
    }
    if report.failures_not_listed > 0 {
        println!(
            "… and {} more failures not listed",
            report.failures_not_listed
        );
    }
    if !report.passed {
        bail!(
            "release {}: the {what} found {} failures (first: {})",
            manifest.version,
            publish::failure_count(&report),
            report
                .failures
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
    }
    if args.public {
        println!(
            "release {}: the public check passed: {} values, {} secret, every published value \
             consistent with the rules and relations (no confidential data read)",
            manifest.version, report.values, report.secret
        );
    } else {
        println!(
            "release {}: the check passed: {} values, {} secret; {} confidential values, {} \
             claims proved by {} witness points (certificate SHA-256 {})",
            manifest.version,
            report.values,
            report.secret,
            report.confidential,
            report.claims,
            report.points,
            manifest.audit.certificate_sha256
        );
    }
    Ok(())
}

/// The full check of a release: its certificate from the store, its true values recomputed.
fn full_check(
    dir: &Path,
    manifest: &Manifest,
    definitions: &[Definition],
    published: &[RecordBatch],
    rules: &Rules,
    url: &str,
) -> anyhow::Result<Report> {
    let version = &manifest.version;
    let store_name = storage::redact_url(url);
    if storage::Backend::of_url(url) == storage::Backend::Sqlite {
        let path = Path::new(url.strip_prefix("sqlite://").unwrap_or(url));
        if !path.is_file() {
            bail!(
                "no store at {}: give the store release {version} was published from with \
                 --database-url (or check with --public)",
                path.display()
            );
        }
    }
    let mut store = Store::open(url)?;
    let stored = storage::load_certificate(&mut store, version)?.with_context(|| {
        format!(
            "the store {store_name} holds no disclosure certificate for release {version}: \
             `pilotage publish` files it in the store the release is published from (give that \
             store with --database-url, or check with --public)"
        )
    })?;
    drop(store);
    let recorded = &manifest.audit.certificate_sha256;
    if !recorded.eq_ignore_ascii_case(&stored.sha256) {
        bail!(
            "release {version}: its {MANIFEST_FILE} records the certificate SHA-256 {:?}, the \
             store {store_name} holds one with SHA-256 {}",
            recorded,
            stored.sha256
        );
    }
    let certificate = Certificate::from_bytes(&stored.body).with_context(|| {
        format!("decoding the disclosure certificate of release {version} from {store_name}")
    })?;
    drop(stored);
    let truth = publish::true_values(
        url,
        definitions,
        Extractions::Recorded(&manifest.source_vintages),
        &mut |_| {},
    )
    .with_context(|| format!("computing the true values of release {version}"))?;
    let previous = previous_tables(dir, manifest)?;
    Ok(check(&Input {
        definitions,
        published,
        truth: &truth.cubes,
        geography: &truth.geography,
        previous: &previous,
        certificate: &certificate,
        rules,
    }))
}

/// The published tables of the release the manifest names as previous, when it is in the same
/// releases folder; none (with a note) when it is not there.
fn previous_tables(dir: &Path, manifest: &Manifest) -> anyhow::Result<Vec<(String, RecordBatch)>> {
    let Some(previous) = &manifest.previous else {
        return Ok(Vec::new());
    };
    let folder = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    let beside = folder.parent().map(|p| p.join(previous));
    match beside {
        Some(path) if path.join(MANIFEST_FILE).is_file() => {
            let (_, tables) = publish::read_release(&path)?;
            Ok(tables.into_iter().map(|(d, t)| (d.id.clone(), t)).collect())
        }
        _ => {
            eprintln!(
                "note: the previous release {previous} is not beside release {}; the values it \
                 published are not treated as known",
                manifest.version
            );
            Ok(Vec::new())
        }
    }
}
