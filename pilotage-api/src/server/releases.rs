//! Releases on disk, loaded once and switched without restart.
//!
//! [`Releases`] watches a releases directory (ARCHITECTURE.md). The release that `current` points
//! to is loaded eagerly: each dataset's Parquet file is read into Arrow once and indexed for
//! filtering ([`Dataset`]). A watcher thread reads the `current` link every poll interval; when
//! its target changes it loads the new release off the request path, then swaps one `Arc`, so
//! in-flight requests finish on the release they started with. Older releases are loaded on
//! demand (`release=`) and only a few are kept in memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema};
use bytes::Bytes;
use pilotage_core::dataset::Definition;
use pilotage_core::release::{
    CATALOG_FILE, CURRENT, LEVEL_SUFFIX, MANIFEST_FILE, Manifest, STATUS_SUFFIX,
};
use sha2::Digest as _;

/// Most older (non-current) releases kept loaded at once; others are read again on demand.
const MAX_OLDER_LOADED: usize = 2;

/// A release that cannot be loaded, naming the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// A file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file does not hold what the release layout says.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No release has this version.
    #[error("no release has the version {0:?}")]
    NotFound(String),
    /// The target of `current` that failed to load before and has not changed since (same
    /// link target, same manifest time): the error it gave then.
    #[error("{0}")]
    Again(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ReleaseError + '_ {
    move |source| ReleaseError::Io {
        path: path.to_owned(),
        source,
    }
}

fn invalid(path: &Path, reason: impl Into<String>) -> ReleaseError {
    ReleaseError::Invalid {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// What every route needs about a release without loading its data: its folder and manifest.
#[derive(Debug)]
pub struct ReleaseMeta {
    /// Release version (folder name).
    pub version: String,
    /// The release folder.
    pub dir: PathBuf,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// `manifest.json` as written, served byte for byte.
    pub manifest_bytes: Bytes,
    /// Modification time of `manifest.json`, for `Last-Modified`.
    pub modified: SystemTime,
    /// Files already checked against the manifest, by name, with the identity on disk they had
    /// then: a file whose identity has not changed is not hashed again.
    verified: Mutex<BTreeMap<String, Fingerprint>>,
}

/// The identity of a file on disk (device, inode, length, modification and change times, in
/// nanoseconds): any replacement or rewrite of the file changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Fingerprint {
    fn of(m: &std::fs::Metadata) -> Fingerprint {
        use std::os::unix::fs::MetadataExt;
        Fingerprint {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        }
    }
}

/// A release file opened and checked against the manifest: a regular file of the release
/// folder (not a symbolic link) with the manifest's length and SHA-256.
#[derive(Debug)]
pub struct VerifiedFile {
    /// The open file, positioned at its start.
    pub file: std::fs::File,
    /// Its length in bytes (the manifest's).
    pub len: u64,
    /// Its bytes, when asked for and no longer than the limit given.
    pub bytes: Option<Bytes>,
}

/// True when `name` can only name a file directly inside a release folder.
fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name != CURRENT
}

impl ReleaseMeta {
    /// Reads the manifest of the release folder `dir`; its version must be the folder's name.
    pub fn read(dir: &Path) -> Result<ReleaseMeta, ReleaseError> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(io_err(&path))?;
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| invalid(&path, e.to_string()))?;
        if let Some(f) = manifest.files.iter().find(|f| !plain_file_name(&f.name)) {
            return Err(invalid(
                &path,
                format!(
                    "the file name {:?} does not name a file of the release folder",
                    f.name
                ),
            ));
        }
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if manifest.version != name {
            return Err(invalid(
                &path,
                format!(
                    "version {:?} differs from the folder name {name:?}",
                    manifest.version
                ),
            ));
        }
        Ok(ReleaseMeta {
            version: manifest.version.clone(),
            dir: dir.to_owned(),
            manifest,
            manifest_bytes: Bytes::from(bytes),
            modified,
            verified: Mutex::new(BTreeMap::new()),
        })
    }

    /// Opens release file `name` (listed in the manifest) and checks it against the manifest:
    /// a regular file directly in the release folder, never followed through a symbolic link,
    /// of the manifest's length and SHA-256. The hash is computed once per identity of the file
    /// on disk ([`Fingerprint`]). Its bytes come along when `keep_bytes` is true and the file
    /// is at most `max_kept` bytes long. Blocking: call it from the blocking pool.
    pub fn open_verified(
        &self,
        name: &str,
        keep_bytes: bool,
        max_kept: u64,
    ) -> Result<VerifiedFile, ReleaseError> {
        use std::io::{Read, Seek};
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.dir.join(name);
        let Some(entry) = self.manifest.files.iter().find(|f| f.name == name) else {
            return Err(invalid(&path, "the manifest lists no such file"));
        };
        if !plain_file_name(name) {
            return Err(invalid(&path, "not a file of the release folder"));
        }
        // No symbolic link is followed, and opening a FIFO does not wait for a writer.
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
            .map_err(io_err(&path))?;
        let meta = file.metadata().map_err(io_err(&path))?;
        if !meta.file_type().is_file() {
            return Err(invalid(&path, "not a regular file"));
        }
        if meta.len() != entry.bytes {
            return Err(invalid(
                &path,
                format!(
                    "{} bytes on disk, the manifest says {}",
                    meta.len(),
                    entry.bytes
                ),
            ));
        }
        let fingerprint = Fingerprint::of(&meta);
        let known = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .is_some_and(|f| *f == fingerprint);
        let keep = keep_bytes && entry.bytes <= max_kept;
        if known && !keep {
            return Ok(VerifiedFile {
                file,
                len: entry.bytes,
                bytes: None,
            });
        }
        let mut kept = Vec::new();
        let mut hasher = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(io_err(&path))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            hasher.update(&buf[..n]);
            if keep {
                kept.extend_from_slice(&buf[..n]);
            }
        }
        let digest = hex::encode(hasher.finalize());
        if total != entry.bytes || !digest.eq_ignore_ascii_case(&entry.sha256) {
            return Err(invalid(
                &path,
                "the content differs from the manifest's SHA-256",
            ));
        }
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), fingerprint);
        file.seek(std::io::SeekFrom::Start(0))
            .map_err(io_err(&path))?;
        Ok(VerifiedFile {
            file,
            len: entry.bytes,
            bytes: keep.then(|| Bytes::from(kept)),
        })
    }

    /// Checks every file the manifest lists ([`ReleaseMeta::open_verified`]).
    pub fn verify_all(&self) -> Result<(), ReleaseError> {
        for f in &self.manifest.files {
            self.open_verified(&f.name, false, 0)?;
        }
        Ok(())
    }

    /// True if `name` is a file of this release (listed in the manifest, or the manifest).
    pub fn has_file(&self, name: &str) -> bool {
        name == MANIFEST_FILE || self.manifest.files.iter().any(|f| f.name == name)
    }
}

/// A loaded release: its manifest, its catalog and every dataset's table.
#[derive(Debug)]
pub struct Release {
    /// Folder and manifest.
    pub meta: Arc<ReleaseMeta>,
    /// `catalog.jsonld`, served byte for byte.
    pub catalog: Bytes,
    /// The datasets, by id.
    pub datasets: BTreeMap<String, Arc<Dataset>>,
}

impl Release {
    /// Loads the release folder `dir`: manifest, catalog, every dataset's definition, schema
    /// and Parquet table. Every file the manifest lists is checked first (a regular file of the
    /// folder with the manifest's length and SHA-256): a release that fails is refused whole.
    pub fn load(dir: &Path) -> Result<Release, ReleaseError> {
        let meta = Arc::new(ReleaseMeta::read(dir)?);
        meta.verify_all()?;
        let catalog_path = dir.join(CATALOG_FILE);
        let catalog = Bytes::from(std::fs::read(&catalog_path).map_err(io_err(&catalog_path))?);
        let mut datasets = BTreeMap::new();
        for entry in &meta.manifest.datasets {
            let ds = Dataset::load(dir, &entry.id)?;
            datasets.insert(entry.id.clone(), Arc::new(ds));
        }
        Ok(Release {
            meta,
            catalog,
            datasets,
        })
    }

    /// The release version.
    pub fn version(&self) -> &str {
        &self.meta.version
    }
}

/// Index of one code column (a dimension or its level): distinct codes, each row's code as a
/// number, and the rows of each code, so that filters touch only the rows they select.
#[derive(Debug)]
pub struct CodeColumn {
    /// Column name (`territoire`, `territoire_niveau`).
    pub name: String,
    /// Position of the column in the table.
    pub index: usize,
    /// Distinct codes in byte order; a key is a position in this list.
    pub codes: Vec<String>,
    /// Each row's key.
    pub keys: Vec<u32>,
    /// Rows of each key, ascending.
    pub postings: Vec<Vec<u32>>,
}

impl CodeColumn {
    fn build(name: &str, index: usize, array: &ArrayRef) -> CodeColumn {
        let strings = array.as_string::<i32>();
        let mut codes: Vec<String> = (0..strings.len())
            .map(|i| {
                if strings.is_null(i) {
                    String::new()
                } else {
                    strings.value(i).to_owned()
                }
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        codes.shrink_to_fit();
        let mut postings = vec![Vec::new(); codes.len()];
        let mut keys = Vec::with_capacity(strings.len());
        for i in 0..strings.len() {
            let value = if strings.is_null(i) {
                ""
            } else {
                strings.value(i)
            };
            let key = codes
                .binary_search_by(|c| c.as_str().cmp(value))
                .unwrap_or(0);
            keys.push(key as u32);
            postings[key].push(i as u32);
        }
        CodeColumn {
            name: name.to_owned(),
            index,
            codes,
            keys,
            postings,
        }
    }

    /// The key of `code`, if some row has it.
    pub fn key(&self, code: &str) -> Option<u32> {
        self.codes
            .binary_search_by(|c| c.as_str().cmp(code))
            .ok()
            .map(|k| k as u32)
    }
}

/// One dataset of a release, in memory: its definition, its table and its code indexes.
#[derive(Debug)]
pub struct Dataset {
    /// The definition (`<id>.definition.json`).
    pub definition: Definition,
    /// The whole table, in the schema of the release's Parquet file: strings as `Utf8`, counts
    /// as `UInt64` (other integers as `Int64`), decimals as `Float64`.
    pub table: RecordBatch,
    /// Indexes of the code columns: every dimension and its level column, in table order.
    pub code_columns: Vec<CodeColumn>,
    /// `<id>.schema.json` as written (Frictionless Table Schema).
    pub schema_json: Bytes,
}

impl Dataset {
    /// Loads dataset `id` from the release folder `dir`.
    pub fn load(dir: &Path, id: &str) -> Result<Dataset, ReleaseError> {
        let parquet_path = dir.join(format!("{id}.parquet"));
        let (definition, table) = pilotage_core::release::read_dataset(dir, id)
            .map_err(|e| invalid(&parquet_path, e.to_string()))?;
        let schema_path = dir.join(format!("{id}.schema.json"));
        let schema_json = Bytes::from(std::fs::read(&schema_path).map_err(io_err(&schema_path))?);
        let table = normalize(&parquet_path, table)?;
        let mut code_columns = Vec::new();
        for dim in &definition.dimensions {
            for name in [dim.id.clone(), format!("{}{LEVEL_SUFFIX}", dim.id)] {
                let index = table
                    .schema()
                    .index_of(&name)
                    .map_err(|_| invalid(&parquet_path, format!("no column `{name}`")))?;
                let column = table.column(index);
                if column.data_type() != &DataType::Utf8 {
                    return Err(invalid(
                        &parquet_path,
                        format!("column `{name}` is not text"),
                    ));
                }
                code_columns.push(CodeColumn::build(&name, index, column));
            }
        }
        for m in &definition.measures {
            for name in [m.id.clone(), format!("{}{STATUS_SUFFIX}", m.id)] {
                if table.schema().index_of(&name).is_err() {
                    return Err(invalid(&parquet_path, format!("no column `{name}`")));
                }
            }
        }
        Ok(Dataset {
            definition,
            table,
            code_columns,
            schema_json,
        })
    }

    /// The dataset id.
    pub fn id(&self) -> &str {
        &self.definition.id
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.table.num_rows()
    }

    /// The index of code column `name` (a dimension or a level column).
    pub fn code_column(&self, name: &str) -> Option<&CodeColumn> {
        self.code_columns.iter().find(|c| c.name == name)
    }
}

/// Normalizes a release table's column types to the four the encoders handle: `Utf8`,
/// `UInt64`, `Int64`, `Float64`. A table written by the release writer (text dimensions,
/// `UInt64` counts, `Float64` rates) is kept as it is, schema and field metadata included, so
/// that Parquet answers have the schema of the release's Parquet file; other types are cast to
/// the nearest of the four, keeping each field's name, nullability and metadata.
fn normalize(path: &Path, table: RecordBatch) -> Result<RecordBatch, ReleaseError> {
    let schema = table.schema();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    let mut changed = false;
    for (field, column) in schema.fields().iter().zip(table.columns()) {
        let target = match column.data_type() {
            DataType::Utf8 | DataType::UInt64 | DataType::Int64 | DataType::Float64 => None,
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => Some(DataType::UInt64),
            DataType::Int8 | DataType::Int16 | DataType::Int32 => Some(DataType::Int64),
            DataType::Float16 | DataType::Float32 | DataType::Decimal128(_, _) => {
                Some(DataType::Float64)
            }
            _ => Some(DataType::Utf8),
        };
        match &target {
            Some(t) => {
                changed = true;
                columns.push(
                    arrow_cast::cast(column, t)
                        .map_err(|e| invalid(path, format!("column `{}`: {e}", field.name())))?,
                );
                fields.push(field.as_ref().clone().with_data_type(t.clone()));
            }
            None => {
                columns.push(column.clone());
                fields.push(field.as_ref().clone());
            }
        }
    }
    if !changed {
        return Ok(table);
    }
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    RecordBatch::try_new(Arc::new(schema), columns).map_err(|e| invalid(path, e.to_string()))
}

/// A releases directory: the current release, older ones on demand, and a watcher of
/// `current`.
#[derive(Debug)]
pub struct Releases {
    root: PathBuf,
    current: RwLock<Option<Arc<Release>>>,
    /// Older releases in memory, least recently used first (at most [`MAX_OLDER_LOADED`]).
    older: Mutex<Vec<Arc<Release>>>,
    /// Held while an older release is read, so that concurrent requests read it once.
    loading: Mutex<()>,
    metas: Mutex<BTreeMap<String, Arc<ReleaseMeta>>>,
    stop: AtomicBool,
    /// The last target that could not be loaded, with the modification time of its manifest
    /// and why: it is not read again (nor its files hashed again) at every poll until the link
    /// or the manifest changes.
    failed: Mutex<Option<(String, Option<SystemTime>, String)>>,
}

impl Releases {
    /// Opens the releases directory `root` and loads its current release, if any. A missing or
    /// broken `current` is logged and leaves the server not ready, not stopped.
    pub fn open(root: &Path) -> Arc<Releases> {
        let releases = Arc::new(Releases {
            root: root.to_owned(),
            current: RwLock::new(None),
            older: Mutex::new(Vec::new()),
            loading: Mutex::new(()),
            metas: Mutex::new(BTreeMap::new()),
            stop: AtomicBool::new(false),
            failed: Mutex::new(None),
        });
        if let Err(err) = releases.refresh() {
            tracing::warn!(error = %err, "no current release loaded");
        }
        releases
    }

    /// The releases directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The version `current` points to on disk now. The link must name a folder directly
    /// inside the releases directory (relative or absolute, once symbolic links are resolved):
    /// a target elsewhere is refused, never read as a release.
    pub fn current_target(&self) -> Result<String, ReleaseError> {
        let link = self.root.join(CURRENT);
        let target = std::fs::read_link(&link).map_err(io_err(&link))?;
        let resolved = std::fs::canonicalize(&link).map_err(|e| {
            invalid(
                &link,
                format!("the link points to {}: {e}", target.display()),
            )
        })?;
        let root = std::fs::canonicalize(&self.root).map_err(io_err(&self.root))?;
        if resolved.parent() != Some(root.as_path()) {
            return Err(invalid(
                &link,
                format!(
                    "the link points to {}, outside the releases directory",
                    target.display()
                ),
            ));
        }
        resolved
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| *n != CURRENT && !n.starts_with('.'))
            .map(str::to_owned)
            .ok_or_else(|| invalid(&link, "the link has no target folder name"))
    }

    /// Reads the `current` link and, when it points elsewhere than the loaded release, loads
    /// the new one and switches to it. Returns true when it switched.
    pub fn refresh(&self) -> Result<bool, ReleaseError> {
        let target = self.current_target()?;
        if self.current().is_some_and(|r| r.version() == target) {
            return Ok(false);
        }
        let dir = self.root.join(&target);
        let stamp = std::fs::metadata(dir.join(MANIFEST_FILE))
            .and_then(|m| m.modified())
            .ok();
        if let Some((t, m, reason)) = &*self.failed.lock().unwrap_or_else(|e| e.into_inner())
            && *t == target
            && *m == stamp
        {
            return Err(ReleaseError::Again(reason.clone()));
        }
        let started = std::time::Instant::now();
        let release = match Release::load(&dir) {
            Ok(r) => Arc::new(r),
            Err(err) => {
                *self.failed.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((target, stamp, err.to_string()));
                return Err(err);
            }
        };
        tracing::info!(
            version = %target,
            datasets = release.datasets.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "current release loaded"
        );
        let previous = {
            let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
            guard.replace(release)
        };
        if let Some(previous) = previous {
            self.keep_older(previous);
        }
        Ok(true)
    }

    /// The current release, if one is loaded.
    pub fn current(&self) -> Option<Arc<Release>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The release `version` if it is in memory (the current one, or an older one kept),
    /// without touching the disk. An older one becomes the most recently used.
    pub fn loaded(&self, version: &str) -> Option<Arc<Release>> {
        if let Some(current) = self.current().filter(|r| r.version() == version) {
            return Some(current);
        }
        let mut older = self.older.lock().unwrap_or_else(|e| e.into_inner());
        let i = older.iter().position(|r| r.version() == version)?;
        let release = older.remove(i);
        older.push(release.clone());
        Some(release)
    }

    /// The release `version`: in memory, or read from disk now (blocking: call it from the
    /// blocking pool). Concurrent requests for a release not in memory read it once; at most
    /// `MAX_OLDER_LOADED` (two) older releases stay in memory, the least recently used leaving
    /// first.
    pub fn get(&self, version: &str) -> Result<Arc<Release>, ReleaseError> {
        if let Some(r) = self.loaded(version) {
            return Ok(r);
        }
        let _loading = self.loading.lock().unwrap_or_else(|e| e.into_inner());
        // Another request may have loaded it while this one waited.
        if let Some(r) = self.loaded(version) {
            return Ok(r);
        }
        let dir = self.release_dir(version)?;
        let started = std::time::Instant::now();
        let release = Arc::new(Release::load(&dir)?);
        tracing::info!(
            %version,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "older release loaded"
        );
        self.keep_older(release.clone());
        Ok(release)
    }

    fn keep_older(&self, release: Arc<Release>) {
        let mut older = self.older.lock().unwrap_or_else(|e| e.into_inner());
        older.retain(|r| r.version() != release.version());
        older.push(release);
        while older.len() > MAX_OLDER_LOADED {
            older.remove(0);
        }
    }

    /// Versions of the older releases in memory now, least recently used first.
    pub fn older_loaded(&self) -> Vec<String> {
        self.older
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|r| r.version().to_owned())
            .collect()
    }

    /// The folder of release `version`, checking the name cannot leave the releases directory.
    fn release_dir(&self, version: &str) -> Result<PathBuf, ReleaseError> {
        let plain = !version.is_empty()
            && version != CURRENT
            && !version.starts_with('.')
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        let dir = self.root.join(version);
        if !plain || !dir.join(MANIFEST_FILE).is_file() {
            return Err(ReleaseError::NotFound(version.to_owned()));
        }
        Ok(dir)
    }

    /// Folder and manifest of release `version` (`current` resolves the link), without
    /// loading its data.
    pub fn meta(&self, version: &str) -> Result<Arc<ReleaseMeta>, ReleaseError> {
        if version == CURRENT {
            return match self.current() {
                Some(r) => Ok(r.meta.clone()),
                None => Err(ReleaseError::NotFound(CURRENT.to_owned())),
            };
        }
        // A release in memory has its files checked already: share its manifest.
        if let Some(r) = self.current().filter(|r| r.version() == version) {
            return Ok(r.meta.clone());
        }
        if let Some(r) = self
            .older
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|r| r.version() == version)
        {
            return Ok(r.meta.clone());
        }
        if let Some(m) = self
            .metas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(version)
        {
            return Ok(m.clone());
        }
        let dir = self.release_dir(version)?;
        let meta = Arc::new(ReleaseMeta::read(&dir)?);
        self.metas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(version.to_owned(), meta.clone());
        Ok(meta)
    }

    /// Versions of every release folder (those holding a manifest), in name order.
    pub fn versions(&self) -> Result<Vec<String>, ReleaseError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.root).map_err(io_err(&self.root))? {
            let entry = entry.map_err(io_err(&self.root))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == CURRENT || name.starts_with('.') {
                continue;
            }
            if entry.path().join(MANIFEST_FILE).is_file() {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Starts the thread that follows `current` every `interval`; it ends after [`Releases::stop`].
    /// A link that cannot be followed (missing or broken target, target outside the directory)
    /// keeps the release loaded and is logged as a warning, once per distinct error.
    pub fn watch(self: &Arc<Self>, interval: Duration) -> std::io::Result<()> {
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("pilotage-releases".into())
            .spawn(move || {
                tracing::debug!(
                    root = %me.root.display(),
                    interval_ms = interval.as_millis() as u64,
                    "following the current link"
                );
                let mut last_error = String::new();
                while !me.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(interval);
                    if me.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match me.refresh() {
                        Ok(_) => last_error.clear(),
                        Err(err) => {
                            let text = err.to_string();
                            if text != last_error {
                                tracing::warn!(
                                    error = %text,
                                    kept = me.current().map(|r| r.version().to_owned()).unwrap_or_default(),
                                    "cannot switch to the current release; the loaded one stays"
                                );
                                last_error = text;
                            }
                        }
                    }
                }
                tracing::debug!("no longer following the current link");
            })
            .map(|_| ())
    }

    /// Stops the watcher thread at its next tick.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
