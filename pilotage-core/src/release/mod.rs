//! Releases: the published, immutable, reproducible folders that open-data users download and
//! the API serves (ARCHITECTURE.md).
//!
//! Layout of a releases directory:
//!
//! ```text
//! releases/
//!   current -> 2025-12-31-3fa2c1d09b7e      (symbolic link, switched atomically)
//!   2025-12-31-3fa2c1d09b7e/
//!     manifest.json                          (Manifest)
//!     catalog.jsonld                         (DCAT-AP catalog of the release)
//!     <id>.parquet  <id>.csv                 (one row per cell, see below)
//!     <id>.schema.json                       (Frictionless Table Schema)
//!     <id>.definition.json                   (the dataset definition as JSON)
//! ```
//!
//! Columns of `<id>.parquet` / `<id>.csv`, in order: per dimension `<dim>` (code) and
//! `<dim>_niveau` (level name), then per measure `<measure>` (value, empty/null when secret or
//! not applicable) and `<measure>_statut` ([`STATUS_PUBLISHED`], [`STATUS_SECRET`], or null when
//! the measure does not apply to the row). Rows are sorted by their dimension members in
//! publication order, as in the cube.

pub mod files;
/// The release manifest: the types of `pilotage-wire`, which the client reads without this crate.
pub use pilotage_wire::manifest;
mod table;
mod write;

use std::path::{Path, PathBuf};

pub use files::CatalogOptions;
pub use manifest::{
    AuditRules, AuditSummary, InformationLoss, Manifest, ManifestDataset, ManifestFile,
};
pub use table::{TableCounts, published_batch};
pub use write::{
    PreparedRelease, PublishedDataset, ReleaseInput, VERSION_PLACEHOLDER, WrittenRelease,
    current_version, list_releases, prepare_release, read_dataset, read_manifest, write_prepared,
    write_release,
};

/// Why a release could not be written or read. Nothing is left half-written when one occurs.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The secret mask does not match the cube's shape (a bug in the caller).
    #[error("dataset {dataset}: {detail}")]
    Mask {
        /// Dataset id.
        dataset: String,
        /// What does not match.
        detail: String,
    },
    /// The audit found cells whose protection is too narrow: nothing is published.
    #[error("the audit found {failures} insufficiently protected values: nothing was published")]
    AuditFailed {
        /// Number of failing values.
        failures: u64,
    },
    /// There is nothing to publish.
    #[error("no dataset to publish")]
    Empty,
    /// The input given to [`write_prepared`] is not the one its version was computed from
    /// (beyond the certificate's digest, which the version does not cover).
    #[error("the release input changed after its version {version} was computed: {detail}")]
    Changed {
        /// The version computed by [`prepare_release`].
        version: String,
        /// What differs.
        detail: String,
    },
    /// `keep` must keep at least the new release.
    #[error("--keep must be at least 1 (the new release is always kept)")]
    Keep,
    /// A folder with the same version but other content exists.
    #[error(
        "{dir} already exists with a different manifest; refusing to overwrite a published release"
    )]
    Conflict {
        /// The folder.
        dir: PathBuf,
    },
    /// A manifest cannot be read.
    #[error("{path}: not a release manifest: {detail}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// The parser's message.
        detail: String,
    },
    /// Arrow or CSV encoding failed.
    #[error("encoding a table: {0}")]
    Arrow(String),
    /// Parquet encoding failed.
    #[error("encoding Parquet: {0}")]
    Parquet(String),
    /// JSON encoding failed.
    #[error("encoding JSON: {0}")]
    Json(String),
}

impl ReleaseError {
    fn io(path: &Path, source: std::io::Error) -> ReleaseError {
        ReleaseError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Name of the symbolic link to the current release inside a releases directory.
pub const CURRENT: &str = "current";
/// File name of the manifest inside a release folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// File name of the DCAT-AP catalog inside a release folder.
pub const CATALOG_FILE: &str = "catalog.jsonld";
/// Suffix of a measure's status column.
pub const STATUS_SUFFIX: &str = "_statut";
/// Suffix of a dimension's level column.
pub const LEVEL_SUFFIX: &str = "_niveau";
/// Status of a published value.
pub const STATUS_PUBLISHED: &str = "publie";
/// Status of a hidden value (one public status, never saying why).
pub const STATUS_SECRET: &str = "secret";
/// Media type of Parquet files.
pub const MEDIA_PARQUET: &str = "application/vnd.apache.parquet";
/// Media type of CSV files.
pub const MEDIA_CSV: &str = "text/csv";
/// Media type of JSON files (schemas, definitions, manifest).
pub const MEDIA_JSON: &str = "application/json";
/// Media type of the JSON-LD catalog.
pub const MEDIA_JSONLD: &str = "application/ld+json";

/// File names of a dataset's files in a release folder, in the order the manifest lists them.
pub fn dataset_files(id: &str) -> [String; 4] {
    [
        format!("{id}.csv"),
        format!("{id}.definition.json"),
        format!("{id}.parquet"),
        format!("{id}.schema.json"),
    ]
}
