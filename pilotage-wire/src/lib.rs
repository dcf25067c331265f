//! # pilotage-wire
//!
//! What the pilotage server and its clients exchange, in a crate of its own so that a client
//! builds with serde alone and not with the computations of `pilotage-core`:
//!
//! - the JSON bodies of the open-data API (this module's types): the server writes them, the
//!   client reads them, one definition so the two cannot drift apart;
//! - [`manifest`]: the release manifest (`manifest.json`), written at publication and served
//!   as is;
//! - [`Format`]: the encodings of the data route (`format=`);
//! - the names of the HTTP headers both sides use ([`RELEASE_HEADER`], [`API_KEY_HEADER`]).
//!
//! Every type derives `Serialize` and `Deserialize`; with the `openapi` feature they also derive
//! `utoipa::ToSchema` for the server's OpenAPI document. Structs of the API bodies are
//! `#[non_exhaustive]` so that fields can be added without breaking readers: other crates build
//! them with the constructors below (then set any public field) or through deserialization.

mod format;
pub mod manifest;

pub use format::Format;
pub use manifest::{
    AuditRules, AuditSummary, InformationLoss, Manifest, ManifestDataset, ManifestFile,
};

/// Response header naming the release an answer was read from (its version, e.g.
/// `2025-12-31-3fa2c1d09b7e`), so that a reader paging through a dataset can tell when the
/// current release changed under it.
pub const RELEASE_HEADER: &str = "pilotage-release";

/// Request header carrying an API key: a keyed caller gets its own, higher request quota.
pub const API_KEY_HEADER: &str = "x-api-key";

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
    /// Methodology, in French and English (what is counted, period, filters, rounding, limits),
    /// with the relations between the measures of a row that hold by construction.
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

/// Prefix of every typed problem `type` (`urn:pilotage:problem:<kind>`).
pub const PROBLEM_TYPE_PREFIX: &str = "urn:pilotage:problem:";

/// Most values listed by [`Problem::with_hint_values`]: longer lists are cut (the full list is
/// in the dataset's page).
pub const HINT_MAX_VALUES: usize = 40;

impl DatasetLinks {
    /// The links of dataset `id`: its page, its Table Schema and its data query, as paths
    /// under `/v1/datasets/`.
    pub fn for_dataset(id: &str) -> Self {
        DatasetLinks {
            self_: format!("/v1/datasets/{id}"),
            schema: format!("/v1/datasets/{id}/schema"),
            data: format!("/v1/datasets/{id}/data"),
        }
    }
}

impl DatasetSummary {
    /// A dataset of the list, with the links of [`DatasetLinks::for_dataset`].
    pub fn new(
        id: impl Into<String>,
        version: impl Into<String>,
        title: impl Into<String>,
        title_en: impl Into<String>,
        rows: u64,
    ) -> Self {
        let id = id.into();
        DatasetSummary {
            links: DatasetLinks::for_dataset(&id),
            id,
            version: version.into(),
            title: title.into(),
            title_en: title_en.into(),
            rows,
        }
    }
}

impl DatasetList {
    /// The datasets of release `release`.
    pub fn new(release: impl Into<String>, datasets: Vec<DatasetSummary>) -> Self {
        DatasetList {
            release: release.into(),
            datasets,
        }
    }
}

impl MemberInfo {
    /// A member: its code, its level and its French label.
    pub fn new(
        code: impl Into<String>,
        level: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        MemberInfo {
            code: code.into(),
            level: level.into(),
            label: label.into(),
        }
    }
}

impl DimensionInfo {
    /// A dimension: column name, kind (`territory`, `period` or `categorical`), French label
    /// and description, levels (coarsest first) and the members present in the data.
    pub fn new(
        id: impl Into<String>,
        kind: impl Into<String>,
        label: impl Into<String>,
        description: impl Into<String>,
        levels: Vec<String>,
        members: Vec<MemberInfo>,
    ) -> Self {
        DimensionInfo {
            id: id.into(),
            kind: kind.into(),
            label: label.into(),
            description: description.into(),
            levels,
            members,
        }
    }
}

impl MeasureInfo {
    /// A measure: column name, kind code, French label and definition, unit, and the decimals
    /// kept (`None` for integer counts).
    pub fn new(
        id: impl Into<String>,
        kind: impl Into<String>,
        label: impl Into<String>,
        definition: impl Into<String>,
        unit: impl Into<String>,
        decimals: Option<u32>,
    ) -> Self {
        MeasureInfo {
            id: id.into(),
            kind: kind.into(),
            label: label.into(),
            definition: definition.into(),
            unit: unit.into(),
            decimals,
        }
    }
}

impl FileLink {
    /// A release file: name, media type, size in bytes, SHA-256 (lowercase hex) and URL.
    pub fn new(
        name: impl Into<String>,
        media_type: impl Into<String>,
        bytes: u64,
        sha256: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        FileLink {
            name: name.into(),
            media_type: media_type.into(),
            bytes,
            sha256: sha256.into(),
            url: url.into(),
        }
    }
}

impl DatasetDetail {
    /// The page of dataset `id` (definition `version`, `rows` rows) in release `release`,
    /// with the links of [`DatasetLinks::for_dataset`]; the texts are empty, the methodology
    /// null and the lists empty until the caller sets those public fields.
    pub fn new(
        id: impl Into<String>,
        version: impl Into<String>,
        release: impl Into<String>,
        rows: u64,
    ) -> Self {
        let id = id.into();
        DatasetDetail {
            links: DatasetLinks::for_dataset(&id),
            id,
            version: version.into(),
            title: String::new(),
            description: String::new(),
            license: String::new(),
            frequency: String::new(),
            release: release.into(),
            rows,
            methodology: serde_json::Value::Null,
            dimensions: Vec::new(),
            measures: Vec::new(),
            files: Vec::new(),
        }
    }
}

impl ReleaseSummary {
    /// A release: version, date it describes, whether `current` points to it, manifest URL.
    pub fn new(
        version: impl Into<String>,
        created: impl Into<String>,
        current: bool,
        manifest: impl Into<String>,
    ) -> Self {
        ReleaseSummary {
            version: version.into(),
            created: created.into(),
            current,
            manifest: manifest.into(),
        }
    }
}

impl ReleaseList {
    /// The releases (oldest first) and the current one's version.
    pub fn new(current: Option<String>, releases: Vec<ReleaseSummary>) -> Self {
        ReleaseList { current, releases }
    }
}

impl Territory {
    /// A territory with its code and official name; the parent codes and population are
    /// `None` until set through the public fields.
    pub fn new(code: impl Into<String>, name: impl Into<String>) -> Self {
        Territory {
            code: code.into(),
            name: name.into(),
            region: None,
            departement: None,
            epci: None,
            population: None,
        }
    }
}

impl Health {
    /// Health: `status` (`ok` or `not ready`) and the current release's version, if any.
    pub fn new(status: impl Into<String>, release: Option<String>) -> Self {
        Health {
            status: status.into(),
            release,
        }
    }
}

impl Problem {
    /// A typed problem: `kind` is the suffix of its `type` URN (`unknown-code` gives
    /// `urn:pilotage:problem:unknown-code`), with the HTTP status, the title of the kind and
    /// what is wrong with this request.
    pub fn new(
        status: u16,
        kind: &str,
        title: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            kind: format!("{PROBLEM_TYPE_PREFIX}{kind}"),
            title: title.into(),
            status,
            detail: detail.into(),
            parameter: None,
            hint: None,
            request_id: None,
            retry_after: None,
        }
    }

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

    /// The same problem naming the parameter at fault.
    pub fn with_parameter(mut self, parameter: impl Into<String>) -> Self {
        self.parameter = Some(parameter.into());
        self
    }

    /// The same problem with a hint on how to fix the request.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same problem with a hint listing valid values (`<what>: a, b, c`), cut after
    /// [`HINT_MAX_VALUES`] with the count of those left out.
    pub fn with_hint_values<'a>(
        self,
        what: &str,
        values: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut list = Vec::new();
        let mut more = 0usize;
        for v in values {
            if list.len() < HINT_MAX_VALUES {
                list.push(v);
            } else {
                more += 1;
            }
        }
        let mut text = format!("{what}: {}", list.join(", "));
        if more > 0 {
            text.push_str(&format!(" (and {more} more)"));
        }
        self.with_hint(text)
    }

    /// The same problem carrying the request id of a server fault.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// The suffix of a typed problem's `type` URN (`unknown-code`), `None` for other types.
    pub fn kind_suffix(&self) -> Option<&str> {
        self.kind.strip_prefix(PROBLEM_TYPE_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_serialize_as_the_api_writes() {
        let list = DatasetList::new(
            "2025-12-31-abc",
            vec![DatasetSummary::new(
                "candidatures",
                "1.0.0",
                "Candidatures",
                "Applications",
                12,
            )],
        );
        let json = serde_json::to_string(&list).expect("json");
        assert_eq!(
            json,
            r#"{"release":"2025-12-31-abc","datasets":[{"id":"candidatures","version":"1.0.0","title":"Candidatures","title_en":"Applications","rows":12,"links":{"self":"/v1/datasets/candidatures","schema":"/v1/datasets/candidatures/schema","data":"/v1/datasets/candidatures/data"}}]}"#
        );
        let mut t = Territory::new("84", "Auvergne-Rhône-Alpes");
        t.population = Some(8_000_000);
        assert_eq!(
            serde_json::to_string(&t).expect("json"),
            r#"{"code":"84","name":"Auvergne-Rhône-Alpes","population":8000000}"#
        );
    }

    #[test]
    fn problem_builders_fill_type_parameter_and_cut_hints() {
        let codes: Vec<String> = (0..45).map(|i| format!("C{i}")).collect();
        let p = Problem::new(
            400,
            "unknown-code",
            "Unknown code",
            "territoire: no member has the code \"99\"",
        )
        .with_parameter("territoire")
        .with_hint_values("valid codes", codes.iter().map(String::as_str));
        assert_eq!(p.kind, "urn:pilotage:problem:unknown-code");
        assert_eq!(p.kind_suffix(), Some("unknown-code"));
        assert_eq!(p.parameter.as_deref(), Some("territoire"));
        let hint = p.hint.as_deref().unwrap_or_default();
        assert!(hint.starts_with("valid codes: C0, C1,"), "{hint}");
        assert!(hint.ends_with("C39 (and 5 more)"), "{hint}");
        let json = serde_json::to_value(&p).expect("json");
        assert!(json.get("request_id").is_none());
        assert!(json.get("retry_after").is_none());
        assert_eq!(
            Problem::untyped(502, "Bad Gateway", "html").kind_suffix(),
            None
        );
    }
}
