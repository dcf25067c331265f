//! Writing a release folder atomically and switching `current`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use sha2::{Digest, Sha256};

use super::files::{self, CatalogOptions};
use super::table::TableCounts;
use super::{
    AuditSummary, CATALOG_FILE, CURRENT, InformationLoss, MANIFEST_FILE, Manifest, ManifestDataset,
    ManifestFile, ReleaseError,
};
use crate::cube::Cube;
use crate::dataset::Definition;

/// Placeholder replaced by the release version in [`CatalogOptions::base_url`].
pub const VERSION_PLACEHOLDER: &str = "{version}";

/// One protected dataset, ready to be written.
#[derive(Debug, Clone)]
pub struct PublishedDataset<'a> {
    /// Its definition.
    pub definition: &'a Definition,
    /// Its cube (for the members and levels the Table Schema lists).
    pub cube: &'a Cube,
    /// The published table, from [`super::published_batch`].
    pub table: RecordBatch,
    /// What the table shows and hides.
    pub counts: TableCounts,
}

/// Everything a release is made of.
#[derive(Debug, Clone)]
pub struct ReleaseInput<'a> {
    /// The datasets (any order: they are written in id order).
    pub datasets: Vec<PublishedDataset<'a>>,
    /// The source vintage (ISO 8601 date): the date of the release and its version prefix.
    pub vintage: String,
    /// The vintage of each source table, by table name.
    pub source_vintages: BTreeMap<String, String>,
    /// Information loss of the disclosure control.
    pub information_loss: InformationLoss,
    /// The version of the release that was current when this one was protected, if any
    /// (recorded in the manifest as [`Manifest::previous`]).
    pub previous: Option<String>,
    /// The audit's summary; a release whose audit did not pass is refused. Its
    /// `certificate_sha256` is the one part of the input the version does not cover (the
    /// certificate names the version it certifies), so it may be filled between
    /// [`prepare_release`] and [`write_prepared`].
    pub audit: AuditSummary,
    /// Version of the tool (part of the content hash: another tool may write other bytes).
    pub tool_version: String,
    /// Publisher and base URL for the DCAT catalog (`{version}` in the base URL is replaced).
    pub catalog: CatalogOptions,
}

/// What [`write_release`] did.
#[derive(Debug, Clone)]
pub struct WrittenRelease {
    /// The release version.
    pub version: String,
    /// The release folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// True when an identical release was already there (nothing written, `current` switched).
    pub unchanged: bool,
    /// Older releases removed by `keep`.
    pub pruned: Vec<String>,
}

/// A release whose version is known and whose version-bearing files are encoded, not yet
/// written: made by [`prepare_release`], written by [`write_prepared`]. It lets the caller
/// learn the version first (to file the release's private certificate under it) without
/// encoding the tables twice.
#[derive(Debug, Clone)]
pub struct PreparedRelease {
    /// The release version.
    version: String,
    /// Hex SHA-256 of everything the version covers besides the dataset files, to check that
    /// the input given to [`write_prepared`] is the one the version was computed from.
    stamp: String,
    /// Dataset ids, in write (id) order.
    datasets: Vec<String>,
    /// CSV, definition and Table Schema bytes of every dataset, as hashed into the version.
    contents: Vec<(String, Vec<u8>)>,
}

impl PreparedRelease {
    /// The version the release will be written under: `<vintage>-<12 hex digits>`.
    pub fn version(&self) -> &str {
        &self.version
    }
}

/// Computes the version of `input` and encodes the files it covers (see [`write_release`]
/// for what the version is made of), without writing anything.
pub fn prepare_release(input: &ReleaseInput<'_>) -> Result<PreparedRelease, ReleaseError> {
    if input.datasets.is_empty() {
        return Err(ReleaseError::Empty);
    }
    let mut datasets: Vec<&PublishedDataset<'_>> = input.datasets.iter().collect();
    datasets.sort_by(|a, b| a.definition.id.cmp(&b.definition.id));

    let mut hasher = Sha256::new();
    let mut feed = |label: &str, bytes: &[u8]| {
        hasher.update((label.len() as u64).to_le_bytes());
        hasher.update(label.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    let metadata = metadata(input)?;
    for (label, bytes) in &metadata {
        feed(label, bytes);
    }
    let mut contents: Vec<(String, Vec<u8>)> = Vec::new();
    for d in &datasets {
        let id = &d.definition.id;
        let csv = files::csv_bytes(&d.table)?;
        let definition = files::definition_bytes(d.definition)?;
        let schema = files::json_bytes(&files::table_schema(d.definition, d.cube))?;
        for (name, bytes) in [
            (format!("{id}.csv"), csv),
            (format!("{id}.definition.json"), definition),
            (format!("{id}.schema.json"), schema),
        ] {
            feed(&name, &bytes);
            contents.push((name, bytes));
        }
    }
    let digest = hex::encode(hasher.finalize());
    Ok(PreparedRelease {
        version: format!("{}-{}", input.vintage, &digest[..12]),
        stamp: stamp(&metadata),
        datasets: datasets.iter().map(|d| d.definition.id.clone()).collect(),
        contents,
    })
}

/// What the version covers besides the dataset files, as `(label, bytes)` in hashing order:
/// tool version, vintages, disclosure figures, the audit summary without the certificate's
/// digest, and the previous release when there is one.
fn metadata(input: &ReleaseInput<'_>) -> Result<Vec<(&'static str, Vec<u8>)>, ReleaseError> {
    let audit = AuditSummary {
        certificate_sha256: String::new(),
        ..input.audit.clone()
    };
    let mut metadata = vec![
        ("tool", input.tool_version.as_bytes().to_vec()),
        ("vintage", input.vintage.as_bytes().to_vec()),
        ("sources", json(&input.source_vintages)?),
        ("loss", json(&input.information_loss)?),
        ("audit", json(&audit)?),
    ];
    if let Some(previous) = &input.previous {
        metadata.push(("previous", previous.as_bytes().to_vec()));
    }
    Ok(metadata)
}

fn stamp(metadata: &[(&'static str, Vec<u8>)]) -> String {
    let mut hasher = Sha256::new();
    for (label, bytes) in metadata {
        hasher.update((label.len() as u64).to_le_bytes());
        hasher.update(label.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    hex::encode(hasher.finalize())
}

/// Writes `input` as `releases/<version>/` and points `releases/current` at it.
///
/// The version is `<vintage>-<12 hex digits>` of a SHA-256 over the tool version, the
/// vintages, the disclosure figures, the audit summary (but the certificate's digest), the
/// previous release's version and every dataset's CSV, definition and schema bytes: the same
/// input gives the same version and the same bytes. Files are written to a hidden temporary
/// folder, flushed to disk, and renamed into place; `current` is switched by renaming a new
/// symbolic link over it. A failure at any step removes the temporary folder and leaves the
/// previous release whole and current. With `keep = Some(n)`, only the `n` most recent
/// releases are kept (never the current one removed).
pub fn write_release(
    releases: &Path,
    input: &ReleaseInput<'_>,
    keep: Option<usize>,
) -> Result<WrittenRelease, ReleaseError> {
    check_writable(input, keep)?;
    let prepared = prepare_release(input)?;
    write_prepared(releases, input, prepared, keep)
}

/// Refuses to write a release whose audit did not pass, or told to keep no release at all.
fn check_writable(input: &ReleaseInput<'_>, keep: Option<usize>) -> Result<(), ReleaseError> {
    if !input.audit.passed {
        return Err(ReleaseError::AuditFailed {
            failures: input.audit.failures,
        });
    }
    if keep == Some(0) {
        return Err(ReleaseError::Keep);
    }
    Ok(())
}

/// Writes a release prepared by [`prepare_release`] from the same `input`, as
/// [`write_release`] does. Only the audit's `certificate_sha256` may have changed since: any
/// other difference is refused ([`ReleaseError::Changed`]), as is an audit that did not pass.
pub fn write_prepared(
    releases: &Path,
    input: &ReleaseInput<'_>,
    prepared: PreparedRelease,
    keep: Option<usize>,
) -> Result<WrittenRelease, ReleaseError> {
    check_writable(input, keep)?;
    let PreparedRelease {
        version,
        stamp: prepared_stamp,
        datasets: prepared_ids,
        mut contents,
    } = prepared;
    let mut datasets: Vec<&PublishedDataset<'_>> = input.datasets.iter().collect();
    datasets.sort_by(|a, b| a.definition.id.cmp(&b.definition.id));
    let ids: Vec<String> = datasets.iter().map(|d| d.definition.id.clone()).collect();
    if ids != prepared_ids {
        return Err(ReleaseError::Changed {
            version,
            detail: format!("datasets {ids:?}, prepared with {prepared_ids:?}"),
        });
    }
    if stamp(&metadata(input)?) != prepared_stamp {
        return Err(ReleaseError::Changed {
            version,
            detail: "its vintages, figures, audit or previous release differ".to_owned(),
        });
    }

    for d in &datasets {
        let bytes = files::parquet_bytes(&d.table, &version, d.definition)?;
        contents.push((format!("{}.parquet", d.definition.id), bytes));
    }
    contents.sort_by(|a, b| a.0.cmp(&b.0));
    let mut manifest_files: Vec<ManifestFile> = contents
        .iter()
        .map(|(name, bytes)| describe(name, bytes))
        .collect();
    let catalog_options = CatalogOptions {
        base_url: input
            .catalog
            .base_url
            .replace(VERSION_PLACEHOLDER, &version),
        ..input.catalog.clone()
    };
    let definitions: Vec<&Definition> = datasets.iter().map(|d| d.definition).collect();
    let catalog = files::json_bytes(&files::catalog(
        &version,
        &input.vintage,
        &definitions,
        &manifest_files,
        &catalog_options,
    ))?;
    manifest_files.push(describe(CATALOG_FILE, &catalog));
    manifest_files.sort_by(|a, b| a.name.cmp(&b.name));
    contents.push((CATALOG_FILE.to_string(), catalog));

    let manifest = Manifest {
        version: version.clone(),
        created: input.vintage.clone(),
        source_vintages: input.source_vintages.clone(),
        tool_version: input.tool_version.clone(),
        datasets: datasets
            .iter()
            .map(|d| ManifestDataset {
                id: d.definition.id.clone(),
                definition_version: d.definition.version.clone(),
                rows: d.counts.rows,
                values: d.counts.values,
                secret: d.counts.secret,
                files: super::dataset_files(&d.definition.id).to_vec(),
            })
            .collect(),
        files: manifest_files,
        information_loss: input.information_loss.clone(),
        previous: input.previous.clone(),
        audit: input.audit.clone(),
    };
    let manifest_bytes = files::json_bytes(
        &serde_json::to_value(&manifest).map_err(|e| ReleaseError::Json(e.to_string()))?,
    )?;
    contents.push((MANIFEST_FILE.to_string(), manifest_bytes.clone()));

    fs::create_dir_all(releases).map_err(|e| ReleaseError::io(releases, e))?;
    let dir = releases.join(&version);
    let unchanged = if dir.exists() {
        let existing = fs::read(dir.join(MANIFEST_FILE))
            .map_err(|e| ReleaseError::io(&dir.join(MANIFEST_FILE), e))?;
        if existing != manifest_bytes {
            return Err(ReleaseError::Conflict { dir });
        }
        true
    } else {
        write_folder(releases, &version, &contents)?;
        false
    };
    switch_current(releases, &version)?;
    let pruned = match keep {
        Some(n) => prune(releases, n, &version)?,
        None => Vec::new(),
    };
    Ok(WrittenRelease {
        version,
        dir,
        manifest,
        unchanged,
        pruned,
    })
}

fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ReleaseError> {
    serde_json::to_vec(value).map_err(|e| ReleaseError::Json(e.to_string()))
}

fn describe(name: &str, bytes: &[u8]) -> ManifestFile {
    ManifestFile {
        name: name.to_string(),
        media_type: files::media_type(name).to_string(),
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
    }
}

/// Writes every file into a hidden temporary folder, flushes it, and renames it to
/// `releases/<version>`; on failure the temporary folder is removed.
fn write_folder(
    releases: &Path,
    version: &str,
    contents: &[(String, Vec<u8>)],
) -> Result<(), ReleaseError> {
    let tmp = releases.join(format!(".tmp-{version}-{}", std::process::id()));
    let result = (|| {
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| ReleaseError::io(&tmp, e))?;
        }
        fs::create_dir(&tmp).map_err(|e| ReleaseError::io(&tmp, e))?;
        for (name, bytes) in contents {
            let path = tmp.join(name);
            let mut file = File::create(&path).map_err(|e| ReleaseError::io(&path, e))?;
            file.write_all(bytes)
                .map_err(|e| ReleaseError::io(&path, e))?;
            file.sync_all().map_err(|e| ReleaseError::io(&path, e))?;
        }
        sync_dir(&tmp)?;
        let dir = releases.join(version);
        fs::rename(&tmp, &dir).map_err(|e| ReleaseError::io(&dir, e))?;
        sync_dir(releases)
    })();
    if result.is_err() && tmp.exists() {
        // Best effort: the error being reported matters more than a failed clean-up.
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

fn sync_dir(dir: &Path) -> Result<(), ReleaseError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| ReleaseError::io(dir, e))
}

/// Points `releases/current` at `version` by renaming a fresh symbolic link over it.
fn switch_current(releases: &Path, version: &str) -> Result<(), ReleaseError> {
    let link = releases.join(CURRENT);
    let tmp = releases.join(format!(".{CURRENT}-{}", std::process::id()));
    if fs::symlink_metadata(&tmp).is_ok() {
        fs::remove_file(&tmp).map_err(|e| ReleaseError::io(&tmp, e))?;
    }
    symlink(version, &tmp)?;
    if let Err(e) = fs::rename(&tmp, &link) {
        let _ = fs::remove_file(&tmp);
        return Err(ReleaseError::io(&link, e));
    }
    sync_dir(releases)
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) -> Result<(), ReleaseError> {
    std::os::unix::fs::symlink(target, link).map_err(|e| ReleaseError::io(link, e))
}

#[cfg(not(unix))]
fn symlink(_target: &str, link: &Path) -> Result<(), ReleaseError> {
    Err(ReleaseError::io(
        link,
        std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "releases need symbolic links (Unix)",
        ),
    ))
}

/// The version `releases/current` points at, if any.
pub fn current_version(releases: &Path) -> Result<Option<String>, ReleaseError> {
    let link = releases.join(CURRENT);
    match fs::read_link(&link) {
        Ok(target) => Ok(target.file_name().map(|n| n.to_string_lossy().into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ReleaseError::io(&link, e)),
    }
}

/// The release folders of a releases directory (those holding a manifest), oldest first (by
/// the manifest's date, then by modification time, then by name).
pub fn list_releases(releases: &Path) -> Result<Vec<String>, ReleaseError> {
    let mut found = Vec::new();
    let entries = match fs::read_dir(releases) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ReleaseError::io(releases, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| ReleaseError::io(releases, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == CURRENT {
            continue;
        }
        let path = entry.path();
        if !path.join(MANIFEST_FILE).is_file() {
            continue;
        }
        let modified = fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|e| ReleaseError::io(&path, e))?;
        let created = read_manifest(&path).map(|m| m.created).unwrap_or_default();
        found.push((created, modified, name));
    }
    found.sort();
    Ok(found.into_iter().map(|(_, _, name)| name).collect())
}

/// Reads `manifest.json` of a release folder.
pub fn read_manifest(dir: &Path) -> Result<Manifest, ReleaseError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = fs::read(&path).map_err(|e| ReleaseError::io(&path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| ReleaseError::Manifest {
        path,
        detail: e.to_string(),
    })
}

/// Removes all but the `keep` most recent releases, never `current`.
fn prune(releases: &Path, keep: usize, current: &str) -> Result<Vec<String>, ReleaseError> {
    let all = list_releases(releases)?;
    let excess = all.len().saturating_sub(keep);
    let mut pruned = Vec::new();
    for name in all.into_iter().take(excess) {
        if name == current {
            continue;
        }
        let path = releases.join(&name);
        fs::remove_dir_all(&path).map_err(|e| ReleaseError::io(&path, e))?;
        pruned.push(name);
    }
    Ok(pruned)
}

/// Reads back one dataset of a release folder: its definition (`<id>.definition.json`, whose id
/// must be `id`) and its published table (`<id>.parquet`, as one batch). What the API serves
/// and what the audit checks come from here, never from the computation's state.
pub fn read_dataset(dir: &Path, id: &str) -> Result<(Definition, RecordBatch), ReleaseError> {
    let definition_path = dir.join(format!("{id}.definition.json"));
    let bytes = fs::read(&definition_path).map_err(|e| ReleaseError::io(&definition_path, e))?;
    let definition: Definition =
        serde_json::from_slice(&bytes).map_err(|e| ReleaseError::Manifest {
            path: definition_path.clone(),
            detail: format!("not a dataset definition: {e}"),
        })?;
    if definition.id != id {
        return Err(ReleaseError::Manifest {
            path: definition_path,
            detail: format!("id {:?} differs from {id:?}", definition.id),
        });
    }
    let parquet_path = dir.join(format!("{id}.parquet"));
    let file = File::open(&parquet_path).map_err(|e| ReleaseError::io(&parquet_path, e))?;
    let parquet = |e: parquet::errors::ParquetError| {
        ReleaseError::Parquet(format!("{}: {e}", parquet_path.display()))
    };
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(parquet)?;
    let schema = arrow_array::RecordBatchReader::schema(&reader);
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ReleaseError::Parquet(format!("{}: {e}", parquet_path.display())))?;
    let table = arrow_select::concat::concat_batches(&schema, &batches)
        .map_err(|e| ReleaseError::Arrow(e.to_string()))?;
    Ok((definition, table))
}
