//! The release manifest (`manifest.json`): what a release holds, how it was made, and what the
//! disclosure control cost. Shared by the writer, the API (which serves it as is) and the client.

use serde::{Deserialize, Serialize};

/// `manifest.json` of one release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Release version, derived from the content: `<source vintage>-<12 hex digits of content
    /// hash>`, e.g. `2025-12-31-3fa2c1d09b7e`. Same store and definitions give the same version.
    pub version: String,
    /// Date the release describes: the source vintage (ISO 8601 date). Not the run's clock, so
    /// that a rerun gives the same bytes.
    pub created: String,
    /// Vintage (ISO 8601 date) of each source table the release was computed from, by table.
    pub source_vintages: std::collections::BTreeMap<String, String>,
    /// Version of the `pilotage` tool that wrote the release.
    pub tool_version: String,
    /// One entry per dataset, in id order.
    pub datasets: Vec<ManifestDataset>,
    /// Every file of the release except `manifest.json` itself, in name order.
    pub files: Vec<ManifestFile>,
    /// What disclosure control cost, release-wide.
    pub information_loss: InformationLoss,
    /// Result of the independent audit.
    pub audit: AuditSummary,
}

/// One dataset of a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ManifestDataset {
    /// Dataset id (file stem of its files).
    pub id: String,
    /// Version of its definition (semantic version).
    pub definition_version: String,
    /// Number of rows (cells of the crossing of all dimensions) in its Parquet and CSV files.
    pub rows: u64,
    /// Number of published values (rows × measures, nulls for "not applicable" excluded).
    pub values: u64,
    /// Number of values hidden as `secret`.
    pub secret: u64,
    /// Names of its files in the release folder.
    pub files: Vec<String>,
}

/// One file of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// File name inside the release folder.
    pub name: String,
    /// Media type (`application/vnd.apache.parquet`, `text/csv`, …).
    pub media_type: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
}

/// Information loss of a release (DESIGN.md §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InformationLoss {
    /// Values subject to disclosure control (every non-null value of every dataset).
    pub values: u64,
    /// Values secret by a primary rule.
    pub primary: u64,
    /// Values hidden to protect the primary ones.
    pub secondary: u64,
    /// Share of values hidden, in % (0–100).
    pub secret_share_pct: f64,
    /// Share of the summed count values hidden, in % (0–100).
    pub secret_value_share_pct: f64,
    /// Secondary / primary ratio (0 when there is no primary secret).
    pub secondary_per_primary: f64,
    /// Share of the values the previous release hid that this one hides too, in % (0–100),
    /// over the values both releases have; absent for a first release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_mask_kept_pct: Option<f64>,
}

/// Summary of the independent audit of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditSummary {
    /// True when every secret value keeps its protection interval.
    pub passed: bool,
    /// Number of secret values checked.
    pub checked: u64,
    /// Number of secret values whose interval is too narrow (0 when passed).
    pub failures: u64,
    /// How the audit was done (method and solver), for readers of the manifest.
    pub method: String,
}
