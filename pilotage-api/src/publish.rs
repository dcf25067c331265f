//! Publishing: from the store to a protected, checked release folder (ARCHITECTURE.md).
//!
//! `load → compute → protect → check → certify → write`: every source table's latest
//! extraction is read back from the store, every dataset's cube is computed, disclosure
//! control hides what must be hidden over the whole release and proves it with a certificate
//! of witness points, the independent checker (`pilotage-checker`) verifies that certificate
//! against the published tables and the true values, the certificate is filed privately in the
//! store under the release's version, and only then the release is written atomically and
//! `current` switched. The certificate never goes into the releases folder: the manifest
//! records its SHA-256 and the check's figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use arrow_array::RecordBatch;
use pilotage_checker::{Input, Report, Rules};
use pilotage_core::certificate::{Certificate, sha256_hex};
use pilotage_core::cube::{Cube, Geography};
use pilotage_core::dataset::{self, Definition};
use pilotage_core::disclosure::release::{
    CellReport, PreviousRelease, ProtectOptions, protect_release,
};
use pilotage_core::indicator::{self, Context, Sources};
use pilotage_core::release::{
    self, AuditRules, AuditSummary, CatalogOptions, InformationLoss, Manifest, PreparedRelease,
    PublishedDataset, ReleaseInput, WrittenRelease,
};
use pilotage_core::source::SourceTable;
use pilotage_core::territory::Referential;

use crate::storage::{self, Store, Vintage};

/// How the manifest describes the check of a release ([`AuditSummary::method`]).
pub const METHOD: &str = "witness points checked by pilotage-checker";

/// Unresolved values named in the error that refuses a release (the others are counted).
const UNRESOLVED_SHOWN: usize = 3;

/// What to publish and where.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Database URL of the store (SQLite path or `postgres://…`).
    pub database_url: String,
    /// Releases directory (`<dir>/<version>/`, `<dir>/current`).
    pub releases: PathBuf,
    /// Folder of the dataset definitions (`<id>.toml`); `None` publishes the definitions built
    /// into `pilotage-core` ([`dataset::embedded`]).
    pub datasets: Option<PathBuf>,
    /// Keep only this many releases (the new one included); `None` keeps all.
    pub keep: Option<usize>,
    /// Base URL the catalog gives for the files (`{version}` replaced by the release version).
    pub base_url: String,
    /// Folder of the professional tables (per structure and month, unprotected), written under
    /// the release's version ([`crate::private`]); `None` writes none. Never inside `releases`.
    pub private: Option<PathBuf>,
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
        /// Witness points of the certificate.
        points: u64,
        /// Time taken.
        elapsed: Duration,
    },
    /// The independent checker verified the certificate against the published tables.
    Audited {
        /// Confidential values found by the checker, every claim of each proved.
        confidential: u64,
        /// Claims proved.
        claims: u64,
        /// Witness points verified.
        points: u64,
        /// Time taken.
        elapsed: Duration,
    },
    /// The certificate is filed in the store under the release's version.
    Certified {
        /// The release version it certifies.
        version: String,
        /// Size of the stored certificate, in bytes.
        bytes: u64,
        /// Time taken.
        elapsed: Duration,
    },
    /// The release is written and current.
    Written {
        /// Time taken.
        elapsed: Duration,
    },
    /// The professional tables are computed and written into the private folder.
    Private {
        /// Total size of their Parquet files, in bytes.
        bytes: u64,
        /// Rows over all tables.
        rows: u64,
        /// Time taken.
        elapsed: Duration,
    },
}

/// Which extraction of each source table the true values are computed from.
#[derive(Debug, Clone, Copy)]
pub enum Extractions<'a> {
    /// The latest extraction of every source table (a new publication).
    Latest,
    /// The vintage of each table by table name, as a release's manifest records them
    /// ([`Manifest::source_vintages`]): to recompute a published release.
    Recorded(&'a BTreeMap<String, String>),
}

/// The true values of a release, computed from the store: what disclosure control protects
/// and what the checker verifies the certificate against. Confidential.
#[derive(Debug, Clone)]
pub struct TrueValues {
    /// One cube per definition, in the definitions' order.
    pub cubes: Vec<Cube>,
    /// The release's vintage: the latest of the extractions read.
    pub vintage: Vintage,
    /// The extraction read of each source table.
    pub vintages: BTreeMap<SourceTable, Vintage>,
    /// The départements and their régions the cubes were computed with.
    pub geography: Geography,
}

/// Runs the whole publication; on any error nothing is published and `current` is untouched.
pub fn publish(
    options: &PublishOptions,
    on_stage: &mut dyn FnMut(&Stage),
) -> anyhow::Result<WrittenRelease> {
    if let Some(private) = &options.private {
        crate::private::check_location(private, &options.releases)?;
    }
    let definitions = load_definitions(options)?;

    // 1–2. Load and compute.
    let truth = true_values(
        &options.database_url,
        &definitions,
        Extractions::Latest,
        on_stage,
    )?;

    // 3. Protect.
    let protected = protect(options, &definitions, &truth, on_stage)?;

    // 4. Check, independently: the published tables against the true values and the points.
    let checked = check_independently(&definitions, &truth, &protected, on_stage)?;

    // 5. Certify: the version, then the certificate filed under it in the store.
    let (input, prepared) = certify(options, &truth, protected, &checked, on_stage)?;

    // 6. Write.
    let started = Instant::now();
    let written = release::write_prepared(&options.releases, &input, prepared, options.keep)
        .with_context(|| format!("writing the release into {}", options.releases.display()))?;
    on_stage(&Stage::Written {
        elapsed: started.elapsed(),
    });

    // 7. The professional tables, under the same version, from the same extractions.
    if let Some(private) = &options.private {
        write_private(options, private, &definitions, &truth, &written, on_stage)?;
    }
    Ok(written)
}

/// The dataset definitions to publish: those of the folder the options name, or the built-in
/// ones.
fn load_definitions(options: &PublishOptions) -> anyhow::Result<Vec<Definition>> {
    Ok(match &options.datasets {
        Some(dir) => dataset::load_dir(dir)
            .with_context(|| format!("loading the dataset definitions from {}", dir.display()))?,
        None => dataset::embedded().context("loading the built-in dataset definitions")?,
    })
}

/// A release once disclosure control is done: its tables, and what the check and the
/// manifest need besides.
struct Protected<'a> {
    /// The release current before this one, if any.
    previous: Option<Previous>,
    /// The options disclosure control ran with.
    options: ProtectOptions,
    /// The published tables, in the definitions' order.
    datasets: Vec<PublishedDataset<'a>>,
    /// The information lost to secrecy, as the manifest records it.
    loss: InformationLoss,
    /// The version the manifest names as the previous release.
    previous_version: Option<String>,
    /// The disclosure certificate (the one the previous release was published with when the
    /// data are the same).
    certificate: Certificate,
}

/// Runs disclosure control over the whole release against the current one, reports
/// [`Stage::Protected`], refuses a release with unresolved values, and builds the published
/// tables.
fn protect<'a>(
    options: &PublishOptions,
    definitions: &'a [Definition],
    truth: &'a TrueValues,
    on_stage: &mut dyn FnMut(&Stage),
) -> anyhow::Result<Protected<'a>> {
    let cubes = &truth.cubes;
    let started = Instant::now();
    let previous = previous_release(&options.releases)?;
    let protect_options = ProtectOptions {
        previous: previous.as_ref().map(|p| PreviousRelease {
            tables: p.tables.clone(),
        }),
        geography: Some(truth.geography.clone()),
        ..ProtectOptions::default()
    };
    let protection =
        protect_release(cubes, definitions, &protect_options).context("disclosure control")?;
    let mut loss = protection.loss.clone();
    let mut previous_version = previous.as_ref().map(|p| p.version.clone());
    if protection.same_as_previous
        && let Some(before) = &previous
    {
        // Publishing the same release again: its report stays the previous one's.
        loss.previous_mask_kept_pct = before.manifest.information_loss.previous_mask_kept_pct;
        previous_version.clone_from(&before.manifest.previous);
    }
    on_stage(&Stage::Protected {
        primary: loss.primary,
        secondary: loss.secondary,
        points: protection.stats.points,
        elapsed: started.elapsed(),
    });
    if !protection.unresolved.is_empty() {
        bail!(
            "disclosure control could not protect {} values; nothing was published: {}",
            protection.unresolved.len(),
            first_unresolved(&protection.unresolved)
        );
    }
    let mut datasets = Vec::with_capacity(cubes.len());
    for ((definition, cube), mask) in definitions.iter().zip(cubes).zip(&protection.secret) {
        let (table, counts) = release::published_batch(cube, mask)?;
        datasets.push(PublishedDataset {
            definition,
            cube,
            table,
            counts,
        });
    }
    let mut certificate = protection.certificate;
    if protection.same_as_previous
        && let Some(before) = &previous
        && let Some(kept) = stored_certificate(&options.database_url, &before.version)?
        && same_data(&kept, &certificate)
    {
        // The same release again keeps the certificate it was published with.
        certificate = kept;
    }
    Ok(Protected {
        previous,
        options: protect_options,
        datasets,
        loss,
        previous_version,
        certificate,
    })
}

/// What the independent check of a release found, and under which rules.
struct Checked {
    /// The checker's report (passed).
    report: Report,
    /// The rules it checked.
    rules: Rules,
}

/// Has the independent checker verify the certificate against the published tables and the
/// true values, refuses the release on any failure, and reports [`Stage::Audited`].
fn check_independently(
    definitions: &[Definition],
    truth: &TrueValues,
    protected: &Protected<'_>,
    on_stage: &mut dyn FnMut(&Stage),
) -> anyhow::Result<Checked> {
    let started = Instant::now();
    let rules = checker_rules(&protected.options);
    let published: Vec<RecordBatch> = protected.datasets.iter().map(|d| d.table.clone()).collect();
    let previous_tables: Vec<(String, RecordBatch)> = protected
        .previous
        .as_ref()
        .map(|p| {
            p.tables
                .iter()
                .map(|(d, t)| (d.id.clone(), t.clone()))
                .collect()
        })
        .unwrap_or_default();
    let report = pilotage_checker::check(&Input {
        definitions,
        published: &published,
        truth: &truth.cubes,
        geography: &truth.geography,
        previous: &previous_tables,
        certificate: &protected.certificate,
        rules: &rules,
    });
    drop(published);
    if !report.passed {
        bail!(
            "the independent check of the disclosure certificate found {} failures; nothing was \
             published. First: {}",
            failure_count(&report),
            report
                .failures
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
    }
    on_stage(&Stage::Audited {
        confidential: report.confidential,
        claims: report.claims,
        points: report.points,
        elapsed: started.elapsed(),
    });
    Ok(Checked { report, rules })
}

/// Prepares the release (which fixes its version), stamps the certificate with that version,
/// files it in the store and reports [`Stage::Certified`]; returns the release input, with the
/// certificate's digest, and the prepared release, ready to write.
fn certify<'a>(
    options: &PublishOptions,
    truth: &TrueValues,
    protected: Protected<'a>,
    checked: &Checked,
    on_stage: &mut dyn FnMut(&Stage),
) -> anyhow::Result<(ReleaseInput<'a>, PreparedRelease)> {
    let started = Instant::now();
    let Protected {
        datasets,
        loss,
        previous_version,
        mut certificate,
        ..
    } = protected;
    let mut input = ReleaseInput {
        datasets,
        vintage: truth.vintage.to_string(),
        source_vintages: truth
            .vintages
            .iter()
            .map(|(t, v)| (t.name().to_string(), v.to_string()))
            .collect(),
        information_loss: loss,
        previous: previous_version,
        audit: audit_summary(&checked.report, &checked.rules),
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
    let prepared = release::prepare_release(&input).context("preparing the release")?;
    let version = prepared.version().to_owned();
    certificate.release.clone_from(&version);
    let bytes = certificate
        .to_bytes()
        .with_context(|| format!("encoding the disclosure certificate of release {version}"))?;
    let sha256 = sha256_hex(&bytes);
    let existing = options.releases.join(&version);
    if existing.join(release::MANIFEST_FILE).is_file() {
        // The same version already published: its certificate is kept unless it is this one.
        let published = release::read_manifest(&existing)?;
        if published.audit.certificate_sha256 != sha256 {
            bail!(
                "{} already exists with another disclosure certificate (SHA-256 {:?}, this one \
                 {sha256}); refusing to replace the certificate of a published release",
                existing.display(),
                published.audit.certificate_sha256
            );
        }
    }
    let mut store = Store::open(&options.database_url)?;
    storage::save_certificate(&mut store, &version, &sha256, &bytes)?;
    drop(store);
    input.audit.certificate_sha256 = sha256;
    on_stage(&Stage::Certified {
        version,
        bytes: bytes.len() as u64,
        elapsed: started.elapsed(),
    });
    drop(bytes);
    Ok((input, prepared))
}

/// Computes the professional tables from the same extractions as the release, writes them
/// into `private` under the release's version, and reports [`Stage::Private`].
fn write_private(
    options: &PublishOptions,
    private: &Path,
    definitions: &[Definition],
    truth: &TrueValues,
    written: &WrittenRelease,
    on_stage: &mut dyn FnMut(&Stage),
) -> anyhow::Result<()> {
    let started = Instant::now();
    let tables = crate::private::compute(
        &options.database_url,
        &crate::private::definitions(definitions)?,
        &truth.vintages,
        truth.vintage,
    )?;
    let out = crate::private::write(private, &written.version, &tables)?;
    on_stage(&Stage::Private {
        bytes: out.manifest.tables.iter().map(|t| t.bytes).sum(),
        rows: out.manifest.tables.iter().map(|t| t.rows).sum(),
        elapsed: started.elapsed(),
    });
    Ok(())
}

/// Reads the sources back from the store and computes every dataset of `definitions`: the
/// true values of a release. Reports [`Stage::Loaded`] and [`Stage::Computed`].
///
/// With [`Extractions::Latest`], every source table must have an extraction; with
/// [`Extractions::Recorded`], every recorded extraction must still be in the store (the same
/// store and vintages give the same values, which a certificate's fingerprint checks).
pub fn true_values(
    database_url: &str,
    definitions: &[Definition],
    extractions: Extractions<'_>,
    on_stage: &mut dyn FnMut(&Stage),
) -> anyhow::Result<TrueValues> {
    let started = Instant::now();
    let mut store = Store::open(database_url)?;
    let store_name = storage::redact_url(database_url);
    let mut vintages = BTreeMap::new();
    match extractions {
        Extractions::Latest => {
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
                bail!("the store {store_name} is empty: run `pilotage ingest` before publishing");
            }
            if !missing.is_empty() {
                bail!(
                    "the store {store_name} has no extraction of {}: every source table is \
                     needed to compute the datasets; ingest them with `pilotage ingest`",
                    missing.join(", ")
                );
            }
        }
        Extractions::Recorded(recorded) => {
            for (name, text) in recorded {
                let table = SourceTable::from_name(name)
                    .with_context(|| format!("no source table is named {name:?}"))?;
                let vintage: Vintage = text
                    .parse()
                    .with_context(|| format!("the vintage {text:?} of {name}"))?;
                if !store
                    .vintages(table)?
                    .iter()
                    .any(|stored| stored.vintage == vintage)
                {
                    bail!(
                        "the store {store_name} has no extraction of {name} dated {vintage}, \
                         which the release was computed from"
                    );
                }
                vintages.insert(table, vintage);
            }
            let missing: Vec<&str> = SourceTable::ALL
                .iter()
                .filter(|t| !vintages.contains_key(*t))
                .map(|t| t.name())
                .collect();
            if !missing.is_empty() {
                bail!(
                    "the release records no extraction of {}: every source table is needed to \
                     compute the datasets",
                    missing.join(", ")
                );
            }
        }
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

    let started = Instant::now();
    let referential = Referential::official();
    let context = Context {
        geography: Geography::from_referential(referential),
        as_of: vintage.days(),
    };
    let cubes = indicator::compute_all(definitions, &sources, &context)
        .context("computing the datasets")?;
    drop(sources);
    on_stage(&Stage::Computed {
        cells: cubes.iter().map(|c| c.cell_count() as u64).sum(),
        elapsed: started.elapsed(),
    });
    Ok(TrueValues {
        cubes,
        vintage,
        vintages,
        geography: context.geography,
    })
}

/// The checker's rules for a protection's: the same primary rules and sensitive dimensions,
/// so that the checker evaluates what the protection was asked to protect.
pub fn checker_rules(options: &ProtectOptions) -> Rules {
    let r = &options.rules;
    Rules {
        min_count: r.min_count,
        min_contributors: r.min_contributors,
        dominance: r.dominance,
        p_rule: r.p_rule,
        min_persons: r.min_persons,
        min_median_observations: r.min_median_observations,
        frequency_margin: r.frequency_margin,
        sensitive_dimensions: options.sensitive_dimensions.clone(),
    }
}

/// The rules as the manifest records them.
pub fn manifest_rules(rules: &Rules) -> AuditRules {
    AuditRules {
        min_count: rules.min_count,
        min_contributors: rules.min_contributors,
        dominance: rules.dominance,
        p_rule: rules.p_rule,
        min_persons: rules.min_persons,
        min_median_observations: rules.min_median_observations,
        frequency_margin: rules.frequency_margin,
        sensitive_dimensions: rules.sensitive_dimensions.clone(),
    }
}

/// The manifest's summary of a check (its certificate digest still empty).
fn audit_summary(report: &Report, rules: &Rules) -> AuditSummary {
    AuditSummary {
        passed: report.passed,
        checked: report.confidential,
        failures: failure_count(report),
        method: METHOD.to_owned(),
        rules: Some(manifest_rules(rules)),
        values: report.values,
        secret: report.secret,
        confidential: report.confidential,
        claims: report.claims,
        points: report.points,
        certificate_sha256: String::new(),
    }
}

/// Failures of a report, listed or only counted.
pub fn failure_count(report: &Report) -> u64 {
    report.failures.len() as u64 + report.failures_not_listed
}

/// The release current in a releases folder: what the new release must treat as known.
struct Previous {
    /// Its version.
    version: String,
    /// Its manifest.
    manifest: Manifest,
    /// Its definitions and published tables, in manifest (id) order.
    tables: Vec<(Definition, RecordBatch)>,
}

/// The current release of `releases`, if there is one.
fn previous_release(releases: &Path) -> anyhow::Result<Option<Previous>> {
    let Some(version) = release::current_version(releases)? else {
        return Ok(None);
    };
    let dir = releases.join(&version);
    let (manifest, tables) = read_release(&dir)
        .with_context(|| format!("reading the previous release {}", dir.display()))?;
    Ok(Some(Previous {
        version,
        manifest,
        tables,
    }))
}

/// The manifest, definitions and published tables of a release folder, in manifest (id)
/// order.
pub fn read_release(dir: &Path) -> anyhow::Result<(Manifest, Vec<(Definition, RecordBatch)>)> {
    let manifest = release::read_manifest(dir)?;
    let mut tables = Vec::with_capacity(manifest.datasets.len());
    for d in &manifest.datasets {
        tables.push(
            release::read_dataset(dir, &d.id)
                .with_context(|| format!("reading {} of release {}", d.id, manifest.version))?,
        );
    }
    Ok((manifest, tables))
}

/// The certificate the store keeps for `version`, decoded, if any.
fn stored_certificate(database_url: &str, version: &str) -> anyhow::Result<Option<Certificate>> {
    let mut store = Store::open(database_url)?;
    let Some(stored) = storage::load_certificate(&mut store, version)? else {
        return Ok(None);
    };
    let certificate = Certificate::from_bytes(&stored.body)
        .with_context(|| format!("decoding the disclosure certificate of release {version}"))?;
    Ok(Some(certificate))
}

/// True when two certificates start from the same true values of the same datasets and
/// measures.
fn same_data(a: &Certificate, b: &Certificate) -> bool {
    a.fingerprint == b.fingerprint && a.datasets == b.datasets && a.measures == b.measures
}

/// The first unresolved values, one clause each, and how many more there are.
fn first_unresolved(unresolved: &[CellReport]) -> String {
    let mut text: Vec<String> = unresolved
        .iter()
        .take(UNRESOLVED_SHOWN)
        .map(describe)
        .collect();
    if unresolved.len() > UNRESOLVED_SHOWN {
        text.push(format!("and {} more", unresolved.len() - UNRESOLVED_SHOWN));
    }
    text.join("; ")
}

/// One line naming a value a disclosure report lists: dataset, coordinates, measure, why (not
/// its true value, which is confidential).
pub fn describe(cell: &CellReport) -> String {
    let coordinates: Vec<String> = cell
        .coordinates
        .iter()
        .map(|(d, c)| format!("{d}={c}"))
        .collect();
    format!(
        "{} [{}] {}: {}",
        cell.dataset,
        coordinates.join(", "),
        cell.measure,
        cell.reason
    )
}
