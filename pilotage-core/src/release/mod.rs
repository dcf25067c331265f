//! Releases: the published, immutable, reproducible folders that open-data users download and
//! the API serves (DESIGN.md §6).
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

pub mod manifest;

pub use manifest::{AuditSummary, InformationLoss, Manifest, ManifestDataset, ManifestFile};

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
