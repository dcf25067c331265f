//! The JSON bodies of the open-data API, shared by the server (which writes them) and the
//! client (which reads them): one definition, so the two cannot drift apart.
//!
//! Every type derives `Serialize` and `Deserialize`; with the `openapi` feature they also derive
//! `utoipa::ToSchema` for the server's OpenAPI document. Structs are `#[non_exhaustive]` so that
//! fields can be added without breaking readers: build them with struct literals inside this
//! crate or through deserialization.

use serde::{Deserialize, Serialize};

/// Links of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct DatasetLinks {
    /// This dataset's page.
    #[serde(rename = "self")]
    pub self_: String,
    /// Its Table Schema.
    pub schema: String,
    /// Its data query.
    pub data: String,
}

/// A dataset in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct DatasetSummary {
    /// Dataset id.
    #[cfg_attr(feature = "openapi", schema(example = "candidatures"))]
    pub id: String,
    /// Version of its definition.
    #[cfg_attr(feature = "openapi", schema(example = "1.0.0"))]
    pub version: String,
    /// Title in French.
    pub title: String,
    /// Title in English.
    pub title_en: String,
    /// Number of rows.
    pub rows: u64,
    /// Links.
    pub links: DatasetLinks,
}

/// The list of datasets of a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct DatasetList {
    /// Release version.
    pub release: String,
    /// The datasets, by id.
    pub datasets: Vec<DatasetSummary>,
}

/// One member of a dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct MemberInfo {
    /// Code, as in the data and in filters.
    #[cfg_attr(feature = "openapi", schema(example = "REG-84"))]
    pub code: String,
    /// Level of the member (the `<dim>_niveau` column).
    #[cfg_attr(feature = "openapi", schema(example = "region"))]
    pub level: String,
    /// Label in French.
    #[cfg_attr(feature = "openapi", schema(example = "Auvergne-Rhône-Alpes"))]
    pub label: String,
}

/// One dimension of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct DimensionInfo {
    /// Column name, also the filter parameter.
    pub id: String,
    /// `territory`, `period` or `categorical`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Label in French.
    pub label: String,
    /// What it describes, in French.
    pub description: String,
    /// Levels, coarsest first.
    pub levels: Vec<String>,
    /// Members present in the data, in code order.
    pub members: Vec<MemberInfo>,
}

/// One measure of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct MeasureInfo {
    /// Column name.
    pub id: String,
    /// Kind (`persons`, `events`, `magnitude`, `rate`, `difference`, `median`).
    pub kind: String,
    /// Label in French.
    pub label: String,
    /// Exact definition in French.
    pub definition: String,
    /// Unit as published.
    pub unit: String,
    /// Decimals kept, when not an integer count.
    pub decimals: Option<u32>,
}

/// A file of the release, with its URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct FileLink {
    /// File name.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Versioned (immutable) URL.
    pub url: String,
}

/// Everything about one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct DatasetDetail {
    /// Dataset id.
    pub id: String,
    /// Version of its definition.
    pub version: String,
    /// Title in French.
    pub title: String,
    /// Description in French.
    pub description: String,
    /// Licence of the data.
    #[cfg_attr(feature = "openapi", schema(example = "Licence Ouverte 2.0"))]
    pub license: String,
    /// Update frequency in French.
    pub frequency: String,
    /// Release the answer comes from.
    pub release: String,
    /// Number of rows.
    pub rows: u64,
    /// Methodology, in French and English (what is counted, period, filters, rounding, limits).
    pub methodology: serde_json::Value,
    /// Dimensions, with their members.
    pub dimensions: Vec<DimensionInfo>,
    /// Measures, with their units.
    pub measures: Vec<MeasureInfo>,
    /// The dataset's release files.
    pub files: Vec<FileLink>,
    /// Links.
    pub links: DatasetLinks,
}

/// A release in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct ReleaseSummary {
    /// Version.
    pub version: String,
    /// Date the release describes (source vintage).
    pub created: String,
    /// True for the release `current` points to.
    pub current: bool,
    /// URL of its manifest.
    pub manifest: String,
}

/// The releases on this server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct ReleaseList {
    /// Version of the current release, if one is loaded.
    pub current: Option<String>,
    /// Every release, oldest first.
    pub releases: Vec<ReleaseSummary>,
}

/// A territory of the official referential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Territory {
    /// INSEE code (SIREN for an EPCI).
    #[cfg_attr(feature = "openapi", schema(example = "84"))]
    pub code: String,
    /// Official name.
    #[cfg_attr(feature = "openapi", schema(example = "Auvergne-Rhône-Alpes"))]
    pub name: String,
    /// Code of the région (départements and communes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Code of the département (communes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departement: Option<String>,
    /// SIREN of the EPCI (communes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epci: Option<String>,
    /// Population (persons), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub population: Option<u64>,
}

/// Health of the process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Health {
    /// `ok`, or `not ready` when no release is loaded.
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub status: String,
    /// Version of the current release, if one is loaded.
    pub release: Option<String>,
}

/// An RFC 9457 problem: what went wrong, which parameter, and how to fix it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "type": "urn:pilotage:problem:unknown-code",
    "title": "Unknown code",
    "status": 400,
    "detail": "territoire: no member has the code \"99\"",
    "parameter": "territoire",
    "hint": "valid codes: FR, REG-11, REG-24, …"
})))]
#[non_exhaustive]
pub struct Problem {
    /// Stable identifier of the kind of problem (`urn:pilotage:problem:<kind>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem, the same for every occurrence.
    pub title: String,
    /// HTTP status code of the answer.
    pub status: u16,
    /// What is wrong with this request.
    pub detail: String,
    /// The query parameter, header or path segment at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// How to fix the request (for instance the valid codes of a dimension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Request id of a server fault, as written in the server's logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Seconds to wait before retrying (429 answers only); sent as the `Retry-After` header,
    /// not in the body.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

/// One page of a JSON data answer (`GET /v1/datasets/{id}/data`, `format=json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DataPage {
    /// Dataset id.
    pub dataset: String,
    /// Release version the rows come from.
    pub release: String,
    /// Path and query of the next page, when another page follows (also in `Link`).
    pub next: Option<String>,
    /// The rows, one JSON object per row: column name to value (codes as strings, measures as
    /// numbers or null when secret).
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl Problem {
    /// A problem for an error answer that carried no problem body: type `about:blank` (as RFC
    /// 9457 says), the status's reason as title, and `detail` saying what was received.
    pub fn untyped(status: u16, title: impl Into<String>, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank".to_owned(),
            title: title.into(),
            status,
            detail: detail.into(),
            parameter: None,
            hint: None,
            request_id: None,
            retry_after: None,
        }
    }
}
