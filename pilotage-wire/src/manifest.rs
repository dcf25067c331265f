//! The release manifest (`manifest.json`): what a release holds, how it was made, and what the
//! disclosure control cost. Shared by the writer, the API (which serves it as is) and the client.
//!
//! Fields added after the first releases carry `#[serde(default)]`, so that every manifest
//! already published still reads.

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
    /// Version of the release that was current when this one was published, if any: the values
    /// it published unchanged are known to everyone, so this release's protection treats them
    /// as known (absent for a first release, and in manifests written before this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// Result of the independent check of the disclosure control.
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

/// Information loss of a release (ARCHITECTURE.md).
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

/// Summary of the independent check of a release's disclosure control, as the publication
/// ran it: how the release was checked, under which rules, what was counted, and the digest of
/// the private certificate the check verified.
///
/// The fields after `method` were added with the disclosure certificate; a manifest written
/// before them reads with their defaults (0, empty, absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditSummary {
    /// True when every check passed: no confidential value is published and every claim of
    /// every confidential value is proved by a valid witness point. A release is only written
    /// when it is true.
    pub passed: bool,
    /// Number of values whose protection was checked: the confidential values, each with every
    /// claim it needs (in manifests written before the certificate: the secret values bounded
    /// one by one).
    pub checked: u64,
    /// Number of failed checks (0 when passed).
    pub failures: u64,
    /// How the release was checked, in words, for readers of the manifest (e.g. `witness points
    /// checked by pilotage-checker`).
    pub method: String,
    /// The primary rules of statistical secrecy the check applied, with their parameters
    /// (absent in manifests written before the certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<AuditRules>,
    /// Values subject to statistical secrecy: non-null values of every measure of every
    /// dataset, published or secret (count of values).
    #[serde(default)]
    pub values: u64,
    /// Of those, values published as `secret`, whatever the reason (count of values).
    #[serde(default)]
    pub secret: u64,
    /// Values the check's own evaluation of the primary rules on the true values finds
    /// confidential (count of values; every one of them is secret when the check passes).
    #[serde(default)]
    pub confidential: u64,
    /// Claims those confidential values need proved: that each can lie on the far side of its
    /// protection threshold (one or two per value; count of claims).
    #[serde(default)]
    pub claims: u64,
    /// Witness points of the certificate: true values changed at a few secret values,
    /// consistent with everything published, each proving one or more claims (count of
    /// points).
    #[serde(default)]
    pub points: u64,
    /// SHA-256 (lowercase hexadecimal, 64 characters) of the disclosure certificate as kept in
    /// the private store: it ties this release to the proof that was checked, which is never
    /// published (empty in manifests written before the certificate).
    #[serde(default)]
    pub certificate_sha256: String,
}

/// The primary rules of statistical secrecy a release was checked against: what makes a
/// value confidential, and how far its protection must reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditRules {
    /// Smallest publishable count of persons or events (persons or events, 11 by default): a
    /// count from 1 to `min_count − 1` is confidential, and must be shown able to be 0 and
    /// able to be `min_count` or more.
    pub min_count: u64,
    /// Fewest contributing structures behind a publishable magnitude (structures, 3 by
    /// default): fewer would let one structure deduce another's figure.
    pub min_contributors: u64,
    /// Largest share of a magnitude one structure may make (a fraction from 0 to 1, 0.85 by
    /// default): above it, the value would reveal that structure's own figure.
    pub dominance: f64,
    /// The p %-rule's p (a fraction, e.g. 0.10 for 10 %), when applied: a magnitude is
    /// confidential when the contributions other than the two largest make less than p times
    /// the largest. Absent when the rule is not applied (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_rule: Option<f64>,
    /// Fewest persons behind a person-based magnitude (persons, 11 by default).
    pub min_persons: u64,
    /// Fewest observations behind a publishable median (observations, 11 by default).
    pub min_median_observations: u64,
    /// Protection margin of the frequency rules (few structures, few persons, sensitive
    /// breakdowns), as a fraction of the value (0.10 by default): a confidential magnitude must
    /// be shown able to be that much lower and that much higher.
    pub frequency_margin: f64,
    /// Dimension ids treated as sensitive attributes whatever the definitions say (e.g.
    /// `rsa`, `aah`): a breakdown of persons by one of them under a total from 1 to
    /// `min_count − 1` is confidential entirely, zeros included.
    pub sensitive_dimensions: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest written before the certificate (no rules, counts, digest or previous
    /// release) still reads, with the defaults.
    #[test]
    fn a_manifest_without_the_certificate_fields_reads() {
        let json = r#"{
            "version": "2025-12-31-000000000000",
            "created": "2025-12-31",
            "source_vintages": {"candidatures": "2025-12-31"},
            "tool_version": "0.1.0",
            "datasets": [],
            "files": [],
            "information_loss": {
                "values": 10, "primary": 1, "secondary": 1, "secret_share_pct": 20.0,
                "secret_value_share_pct": 5.0, "secondary_per_primary": 1.0
            },
            "audit": {"passed": true, "checked": 2, "failures": 0, "method": "linear programming"}
        }"#;
        let manifest: Manifest = serde_json::from_str(json).expect("an older manifest reads");
        assert_eq!(manifest.previous, None);
        assert_eq!(
            manifest.audit,
            AuditSummary {
                passed: true,
                checked: 2,
                failures: 0,
                method: "linear programming".to_owned(),
                ..AuditSummary::default()
            }
        );
        assert!(manifest.audit.rules.is_none());
        assert!(manifest.audit.certificate_sha256.is_empty());
    }

    /// The new fields are written and read back as they were.
    #[test]
    fn the_audit_summary_round_trips() {
        let audit = AuditSummary {
            passed: true,
            checked: 7,
            failures: 0,
            method: "witness points".to_owned(),
            rules: Some(AuditRules {
                min_count: 11,
                min_contributors: 3,
                dominance: 0.85,
                p_rule: None,
                min_persons: 11,
                min_median_observations: 11,
                frequency_margin: 0.1,
                sensitive_dimensions: vec!["rsa".to_owned()],
            }),
            values: 100,
            secret: 12,
            confidential: 7,
            claims: 14,
            points: 5,
            certificate_sha256: "ab".repeat(32),
        };
        let json = serde_json::to_string(&audit).expect("serialize");
        assert!(
            !json.contains("p_rule"),
            "an unapplied rule is left out: {json}"
        );
        let back: AuditSummary = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, audit);
    }
}
