//! The handlers, each documented for the OpenAPI document (utoipa reads the doc comment's
//! first line as the summary and the rest as the description).

use std::sync::{Arc, OnceLock};

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use bytes::Bytes;
use pilotage_core::dataset::DimensionType;
use pilotage_core::release::{MANIFEST_FILE, MEDIA_JSON, MEDIA_JSONLD};
use pilotage_core::territory::Referential;
use pilotage_core::wire::{
    self, DatasetDetail, DatasetList, DatasetSummary, DimensionInfo, FileLink, Health, MeasureInfo,
    MemberInfo, ReleaseList, ReleaseSummary, Territory,
};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::AppState;
use super::cache::{self, Encoded, VARY_DATA};
use super::data::{self, Format};
use super::encoding::{self, Coding, MIN_COMPRESS_BYTES};
use super::files::{self, FileSpec, IMMUTABLE, REVALIDATE};
use super::problem::Problem;
use super::releases::{Dataset, Release, ReleaseError};

/// Header naming the release an answer comes from.
pub use pilotage_wire::RELEASE_HEADER;

/// `release=` on catalog routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReleaseParam {
    /// Version of the release to read (default: the current release), e.g.
    /// `2025-12-31-3fa2c1d09b7e`; older releases stay readable.
    pub release: Option<String>,
}

/// The parameters of a data query (any other parameter filters a dimension), as the OpenAPI
/// document describes them. [`get_data`] reads the query as pairs (see [`data::parse_query`]),
/// never into this struct; the names here are exactly [`data::RESERVED`], in its order, and a
/// test keeps the two lists the same.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documents the query for OpenAPI; never built")]
pub struct DataParams {
    /// Encoding of the answer: `json` (default), `csv`, `ndjson` or `parquet`; overrides `Accept`.
    #[param(example = "csv")]
    format: Option<String>,
    /// Measures to return, comma-separated (default: all); each comes with its `_statut` column.
    #[param(example = "recues,acceptees")]
    measures: Option<String>,
    /// Sort keys, comma-separated column names, `-` for descending (default: release order,
    /// that is dimension members in publication order). Nulls sort last. The columns are the
    /// dataset's (its dimensions, levels and measures, see `/v1/datasets/{id}`): a key naming
    /// another is a 400 problem listing them.
    #[param(example = "-recues,territoire")]
    sort: Option<String>,
    /// Rows per page (default: every row, streamed). With a limit, the `Link` header gives the
    /// next page. At most 4294967295.
    #[param(minimum = 1, maximum = 4294967295.0, example = 100)]
    limit: Option<u64>,
    /// Opaque cursor of the next page, from the `Link: <…>; rel="next"` header of the previous one.
    cursor: Option<String>,
    /// Version of the release to query (default: the current one, or the cursor's).
    release: Option<String>,
}

/// `level=` of the territories route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TerritoryParams {
    /// Level of the territories listed: `region`, `departement`, `commune` or `epci`.
    #[param(example = "region")]
    pub level: Option<String>,
}

fn release_problem(err: ReleaseError, state: &AppState) -> Problem {
    match err {
        ReleaseError::NotFound(v) => {
            let versions = state.releases.versions().unwrap_or_default();
            Problem::new(
                StatusCode::NOT_FOUND,
                "unknown-release",
                "Unknown release",
                format!("no release has the version {}", super::problem::quote(&v)),
            )
            .param("release")
            .hint_values("releases", versions.iter().map(String::as_str))
        }
        other => {
            tracing::error!(error = %other, "release unreadable");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "release-unavailable",
                "Release unavailable",
                "the release cannot be read now",
            )
        }
    }
}

fn no_release() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no-release",
        "No release",
        "no current release is loaded yet",
    )
    .hint("publish a release with `pilotage publish`; see /readyz")
}

/// The release asked for (`release=`), else the current one. A release not in memory is
/// read on the blocking pool, never on the async worker that serves other requests.
pub async fn pick_release(
    state: &AppState,
    version: Option<&str>,
) -> Result<Arc<Release>, Problem> {
    let Some(v) = version.filter(|v| *v != "current") else {
        return state.releases.current().ok_or_else(no_release);
    };
    if let Some(loaded) = state.releases.loaded(v) {
        return Ok(loaded);
    }
    let releases = state.releases.clone();
    let owned = v.to_owned();
    match web::block(move || releases.get(&owned)).await {
        Ok(result) => result.map_err(|e| release_problem(e, state)),
        Err(e) => {
            tracing::error!(error = %e, "the release loader failed");
            Err(release_problem(
                ReleaseError::Invalid {
                    path: state.releases.root().join(v),
                    reason: "the loader thread failed".into(),
                },
                state,
            ))
        }
    }
}

/// The release asked for (see [`pick_release`]) and its dataset `id` (404 when it has none).
async fn pick_release_dataset(
    state: &AppState,
    version: Option<&str>,
    id: &str,
) -> Result<(Arc<Release>, Arc<Dataset>), Problem> {
    let release = pick_release(state, version).await?;
    let ds = pick_dataset(&release, id)?;
    Ok((release, ds))
}

fn pick_dataset(release: &Release, id: &str) -> Result<Arc<Dataset>, Problem> {
    release
        .datasets
        .get(id)
        .cloned()
        .ok_or_else(|| Problem::unknown_dataset(id, release.datasets.keys().map(String::as_str)))
}

/// A JSON answer with a strong ETag (from the release and what identifies the answer), 304
/// when the client has it, compressed as `Accept-Encoding` asks (see [`coded_answer`]).
fn json_answer(
    req: &HttpRequest,
    release: &str,
    parts: &[&str],
    body: Bytes,
    media: &'static str,
) -> HttpResponse {
    let mut all = vec![release];
    all.extend_from_slice(parts);
    let etag = format!("\"{}\"", data::short_hash(&all));
    coded_answer(req, &etag, release, body, media)
}

/// An answer whose identity form is `body` with the strong tag `etag`: 304 when
/// `If-None-Match` names any coding of it, else the body in the coding the client prefers
/// (gzip or zstd, compressed once and kept in the answer cache), its tag carrying the coding.
fn coded_answer(
    req: &HttpRequest,
    etag: &str,
    release: &str,
    body: Bytes,
    media: &'static str,
) -> HttpResponse {
    let coding = if body.len() < MIN_COMPRESS_BYTES {
        Coding::Identity
    } else {
        Coding::negotiate(req.headers())
    };
    if files::none_match(req.headers(), etag) {
        return files::not_modified_varying(&coding.etag(etag), REVALIDATE, VARY_DATA);
    }
    let state = req.app_data::<web::Data<AppState>>();
    let cache = state.and_then(|s| s.cache.as_ref());
    let key = cache::key(&format!("answer\n{etag}"), coding);
    if coding != Coding::Identity
        && let Some(hit) = cache.and_then(|c| c.get(&key))
    {
        return hit.respond();
    }
    let (body, coding) = match coding.encode(&body) {
        Ok(coded) => (coded, coding),
        Err(e) => {
            tracing::warn!(coding = coding.token(), error = %e, "cannot compress an answer");
            (body, Coding::Identity)
        }
    };
    let answer = Encoded::new(body, media, etag, None, coding, release);
    if coding != Coding::Identity
        && let Some(c) = cache
    {
        let answer = Arc::new(answer);
        c.insert(key, answer.clone());
        return answer.respond();
    }
    answer.respond()
}

fn to_json<T: Serialize>(value: &T) -> Result<Bytes, Problem> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| {
        tracing::error!(error = %e, "cannot encode an answer");
        cannot_encode()
    })
}

/// Liveness probe.
///
/// Answers 200 as long as the process serves requests, whether or not a release is loaded.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The process is alive.", body = Health)))]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Health::new(
        "ok",
        state.releases.current().map(|r| r.version().to_owned()),
    ))
}

/// Readiness probe.
///
/// Answers 200 once a current release is loaded, 503 before (no release published yet, or the
/// `current` link is broken).
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "A release is loaded: requests can be served.", body = Health),
    (status = 503, description = "No release is loaded yet.", body = Health)
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.releases.current() {
        Some(r) => HttpResponse::Ok().json(Health::new("ok", Some(r.version().to_owned()))),
        None => HttpResponse::ServiceUnavailable().json(Health::new("not ready", None)),
    }
}

/// Prometheus metrics.
///
/// Answers by route and status, latency histograms, rate-limited answers, caught panics, cache
/// hits, misses and size, and the current release, in the Prometheus text format.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Metrics in the Prometheus text format 0.0.4.", content_type = "text/plain; version=0.0.4", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let release = state.releases.current();
    let cache = state
        .cache
        .as_ref()
        .map(|c| (c.weighted_size(), c.entry_count()));
    let text = state
        .metrics
        .render(release.as_ref().map(|r| r.version()), cache);
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .body(text)
}

/// List the datasets.
///
/// Every dataset of the release (the current one unless `release=` names another), with its
/// definition version, titles, row count and links to its page, schema and data.
#[utoipa::path(tag = "datasets", params(ReleaseParam), responses(
    (status = 200, description = "The datasets, by id.", body = DatasetList),
    (status = 404, description = "Unknown release.", body = wire::Problem, content_type = "application/problem+json")
))]
#[get("/v1/datasets")]
pub async fn list_datasets(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ReleaseParam>,
) -> Result<HttpResponse, Problem> {
    let release = pick_release(&state, q.release.as_deref()).await?;
    let list = DatasetList::new(
        release.version(),
        release
            .datasets
            .values()
            .map(|d| {
                DatasetSummary::new(
                    d.id(),
                    d.definition.version.as_str(),
                    d.definition.title.fr.as_str(),
                    d.definition.title.en.as_str(),
                    d.rows() as u64,
                )
            })
            .collect(),
    );
    Ok(json_answer(
        &req,
        release.version(),
        &["datasets"],
        to_json(&list)?,
        MEDIA_JSON,
    ))
}

fn member_label(dim: &pilotage_core::dataset::Dimension, code: &str) -> String {
    let referential = Referential::official();
    match dim.kind {
        DimensionType::Territory => {
            if code == "FR" {
                "France".to_owned()
            } else if let Some(r) = code
                .strip_prefix("REG-")
                .and_then(|c| referential.region(c))
            {
                r.name.clone()
            } else if let Some(d) = code
                .strip_prefix("DEP-")
                .and_then(|c| referential.departement(c))
            {
                d.name.clone()
            } else {
                code.to_owned()
            }
        }
        DimensionType::Period => code.to_owned(),
        DimensionType::Categorical => {
            if dim.total.as_deref() == Some(code) {
                return "Total".to_owned();
            }
            dim.levels
                .iter()
                .flat_map(|l| l.members.iter())
                .find(|m| m.code == code)
                .map(|m| m.label.clone())
                .unwrap_or_else(|| code.to_owned())
        }
    }
}

fn dataset_detail(release: &Release, ds: &Dataset) -> DatasetDetail {
    let def = &ds.definition;
    let mut dimensions = Vec::new();
    for dim in &def.dimensions {
        let col = ds.code_column(&dim.id);
        let level_col = ds.code_column(&format!(
            "{}{}",
            dim.id,
            pilotage_core::release::LEVEL_SUFFIX
        ));
        let mut members = Vec::new();
        let mut levels: Vec<String> = Vec::new();
        if let (Some(col), Some(level_col)) = (col, level_col) {
            for (key, code) in col.codes.iter().enumerate() {
                let level = col.postings[key]
                    .first()
                    .map(|r| level_col.codes[level_col.keys[*r as usize] as usize].clone())
                    .unwrap_or_default();
                members.push(MemberInfo::new(
                    code.as_str(),
                    level,
                    member_label(dim, code),
                ));
            }
        }
        match dim.kind {
            DimensionType::Territory => {
                levels.extend(pilotage_core::dataset::TERRITORY_LEVELS.map(String::from))
            }
            DimensionType::Period => {
                levels.extend(pilotage_core::dataset::PERIOD_LEVELS.map(String::from))
            }
            DimensionType::Categorical => {
                if dim.total.is_some() {
                    levels.push(pilotage_core::dataset::TOTAL_LEVEL.to_owned());
                }
                levels.extend(dim.levels.iter().map(|l| l.id.clone()));
            }
        }
        let kind = match dim.kind {
            DimensionType::Territory => "territory",
            DimensionType::Period => "period",
            DimensionType::Categorical => "categorical",
        };
        dimensions.push(DimensionInfo::new(
            dim.id.as_str(),
            kind,
            dim.label.fr.as_str(),
            dim.description.fr.as_str(),
            levels,
            members,
        ));
    }
    let version = release.version();
    let files = release
        .meta
        .manifest
        .files
        .iter()
        .filter(|f| pilotage_core::release::dataset_files(def.id.as_str()).contains(&f.name))
        .map(|f| {
            FileLink::new(
                f.name.as_str(),
                f.media_type.as_str(),
                f.bytes,
                f.sha256.as_str(),
                format!("/v1/releases/{version}/files/{}", f.name),
            )
        })
        .collect();
    let mut detail = DatasetDetail::new(
        def.id.as_str(),
        def.version.as_str(),
        version,
        ds.rows() as u64,
    );
    detail.title = def.title.fr.clone();
    detail.description = def.description.fr.clone();
    detail.license = def.license.clone();
    detail.frequency = def.frequency.fr.clone();
    detail.methodology = methodology_json(def);
    detail.dimensions = dimensions;
    detail.measures = def
        .measures
        .iter()
        .map(|m| {
            MeasureInfo::new(
                m.id.as_str(),
                m.kind.code(),
                m.label.fr.as_str(),
                m.definition.fr.as_str(),
                m.unit.as_str(),
                m.decimals,
            )
        })
        .collect();
    detail.files = files;
    detail
}

/// The methodology of a definition as the API shows it: its texts, and under `relations` the
/// relations between the measures of a row that hold by construction (`left`, `op`, `right`,
/// the relation by ids, and with the measures' labels in French and English).
fn methodology_json(def: &pilotage_core::dataset::Definition) -> serde_json::Value {
    let mut value = serde_json::to_value(&def.methodology).unwrap_or_default();
    if let serde_json::Value::Object(fields) = &mut value {
        let relations = def
            .relations
            .iter()
            .map(|r| {
                let text = r.labelled(def);
                serde_json::json!({
                    "left": r.left,
                    "op": r.op,
                    "right": r.right,
                    "relation": r.describe(),
                    "fr": text.fr,
                    "en": text.en,
                })
            })
            .collect();
        fields.insert("relations".to_owned(), serde_json::Value::Array(relations));
    }
    value
}

/// Describe a dataset.
///
/// Its dimensions with the codes and labels present in the data (the codes the data query's
/// filters accept), its measures with units, its methodology, licence, release and the links to
/// its release files.
#[utoipa::path(tag = "datasets", params(
    ("id" = String, Path, description = "Dataset id, e.g. `candidatures`.", example = "candidatures"),
    ReleaseParam
), responses(
    (status = 200, description = "The dataset.", body = DatasetDetail),
    (status = 404, description = "Unknown dataset or release; the hint lists the valid ids.", body = wire::Problem, content_type = "application/problem+json")
))]
#[get("/v1/datasets/{id}")]
pub async fn get_dataset(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<ReleaseParam>,
) -> Result<HttpResponse, Problem> {
    let (release, ds) = pick_release_dataset(&state, q.release.as_deref(), &id).await?;
    let body = to_json(&dataset_detail(&release, &ds))?;
    Ok(json_answer(
        &req,
        release.version(),
        &["dataset", &id],
        body,
        MEDIA_JSON,
    ))
}

/// A dataset's Table Schema.
///
/// The Frictionless Table Schema of the dataset's CSV and Parquet files, as published in the
/// release (`<id>.schema.json`).
#[utoipa::path(tag = "datasets", params(
    ("id" = String, Path, description = "Dataset id, e.g. `candidatures`.", example = "candidatures"),
    ReleaseParam
), responses(
    (status = 200, description = "The Table Schema.", body = serde_json::Value),
    (status = 404, description = "Unknown dataset or release.", body = wire::Problem, content_type = "application/problem+json")
))]
#[get("/v1/datasets/{id}/schema")]
pub async fn get_schema(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<ReleaseParam>,
) -> Result<HttpResponse, Problem> {
    let (release, ds) = pick_release_dataset(&state, q.release.as_deref(), &id).await?;
    Ok(json_answer(
        &req,
        release.version(),
        &["schema", &id],
        ds.schema_json.clone(),
        MEDIA_JSON,
    ))
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b',') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Query a dataset's rows.
///
/// Filters: any dimension (or its `<dim>_niveau` level column) as a parameter, with one code or
/// a comma-separated list (`territoire=REG-84,REG-11`, `periode=2024`, `territoire_niveau=region`);
/// a bare territory code naming exactly one member also works (`territoire=84`). Choose measures
/// with `measures=`, order with `sort=`, page with `limit=` and the opaque `cursor` of the
/// `Link: <…>; rel="next"` header. JSON by default; CSV, NDJSON and Parquet by `Accept` or
/// `format=`. Without a limit every row is returned, large answers streamed. Answers carry a
/// strong `ETag` (304 on `If-None-Match`) and the release they come from (`Pilotage-Release`).
#[utoipa::path(tag = "datasets", params(
    ("id" = String, Path, description = "Dataset id, e.g. `candidatures`.", example = "candidatures"),
    DataParams,
    ("filters" = Option<std::collections::BTreeMap<String, String>>, Query, style = Form, explode,
     description = "Dimension filters: `<dimension>=<code>[,<code>…]` for any dimension or level column of the dataset (see its page for the codes).")
), responses(
    (status = 200, description = "The rows: JSON `{dataset, release, next, rows: [{column: value}]}`, CSV, NDJSON or Parquet.",
     content((serde_json::Value = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"), (Vec<u8> = "application/vnd.apache.parquet")),
     headers(("ETag" = String, description = "Strong entity tag of the answer."), ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows."))),
    (status = 304, description = "Not modified: the client's copy (If-None-Match) is current."),
    (status = 400, description = "Unknown dimension, code, measure or sort column, bad limit or cursor; the problem names the parameter and lists valid values.", body = wire::Problem, content_type = "application/problem+json"),
    (status = 404, description = "Unknown dataset or release.", body = wire::Problem, content_type = "application/problem+json"),
    (status = 406, description = "No available format matches `Accept` or `format=`.", body = wire::Problem, content_type = "application/problem+json")
))]
#[get("/v1/datasets/{id}/data")]
pub async fn get_data(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let pairs: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map_err(super::problem::query_error)?
            .into_inner();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let format = data::negotiate(
        param("format"),
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    )?;
    let (release, ds, query) = data_query(&state, &id, &pairs, param("release")).await?;
    let version = release.version().to_owned();
    let identity = data_identity(&version, &id, &query, format);
    let etag = format!("\"{}\"", data::short_hash(&[&identity]));
    // Parquet is compressed inside: a content coding would only cost time.
    let coding = if format == Format::Parquet {
        Coding::Identity
    } else {
        Coding::negotiate(req.headers())
    };
    if files::none_match(req.headers(), &etag) {
        return Ok(files::not_modified_varying(
            &coding.etag(&etag),
            REVALIDATE,
            VARY_DATA,
        ));
    }
    if let Some(hit) = cached_data(&state, &identity, coding).await {
        return Ok(hit.respond());
    }
    let selection = data::select(&ds, &query)?;
    let next = selection
        .next_after
        .map(|after| next_page(&pairs, &version, &id, after, &query.normalized));
    let answer = DataAnswer {
        columns: data::output_columns(&ds, &query.measures),
        ds,
        rows: selection.rows,
        format,
        version,
        next,
    };
    if format != Format::Parquet && answer.rows.len() > data::STREAM_ROWS {
        return stream_data(answer, coding, &etag);
    }
    let plain = Arc::new(Encoded::new(
        encode_data(&answer)?,
        format.media_type(),
        &etag,
        answer.next,
        Coding::Identity,
        &answer.version,
    ));
    let cache = state.cache.as_ref();
    if let Some(c) = cache {
        state.metrics.cache_lookup(false);
        c.insert(cache::key(&identity, Coding::Identity), plain.clone());
    }
    let coded = cache::in_coding(cache, &identity, plain, coding).await;
    Ok(coded.respond())
}

/// What identifies a data answer, whatever its content coding: the release, the dataset,
/// the normalized query, the measures, the page and the format. Hashed into the ETag and
/// keys the answer cache.
fn data_identity(version: &str, id: &str, query: &data::Query, format: Format) -> String {
    format!(
        "{version}\n{id}\n{}\n{}\n{:?}\n{:?}\n{}",
        query.normalized,
        query.measures.join(","),
        query.limit,
        query.after,
        format.name()
    )
}

/// The release, dataset and parsed query of a data request. A cursor keeps paging on the
/// release the first page came from, unless `release=` names another one (400).
async fn data_query(
    state: &AppState,
    id: &str,
    pairs: &[(String, String)],
    asked_release: Option<&str>,
) -> Result<(Arc<Release>, Arc<Dataset>, data::Query), Problem> {
    let (mut release, mut ds) = pick_release_dataset(state, asked_release, id).await?;
    let (mut query, mut cursor) = data::parse_query(&ds, pairs)?;
    if let Some(c) = cursor.take() {
        let (cursor_release, after) = data::decode_cursor(&c, id, &query.normalized)?;
        if cursor_release != release.version() {
            if asked_release.is_some() {
                return Err(Problem::new(
                    StatusCode::BAD_REQUEST,
                    "bad-cursor",
                    "Invalid cursor",
                    "the cursor belongs to another release than `release=`",
                )
                .param("cursor")
                .hint("leave `release=` out to follow the cursor's release"));
            }
            // Keep paging on the release the first page came from.
            (release, ds) = pick_release_dataset(state, Some(&cursor_release), id).await?;
            // The same query read against that release's dataset; its cursor is the one
            // being followed.
            (query, _) = data::parse_query(&ds, pairs)?;
        }
        query.after = Some(after);
    }
    Ok((release, ds, query))
}

/// The cached data answer identified by `identity` in `coding`: as cached, or compressed
/// now from the cached identity answer. None when neither is cached (or there is no cache).
async fn cached_data(state: &AppState, identity: &str, coding: Coding) -> Option<Arc<Encoded>> {
    let cache = state.cache.as_ref()?;
    if let Some(hit) = cache.get(&cache::key(identity, coding)) {
        state.metrics.cache_lookup(true);
        return Some(hit);
    }
    if coding == Coding::Identity {
        return None;
    }
    let plain = cache.get(&cache::key(identity, Coding::Identity))?;
    state.metrics.cache_lookup(true);
    Some(cache::in_coding(Some(cache), identity, plain, coding).await)
}

/// The link to the page after row `after`: the same parameters, the cursor replaced.
fn next_page(
    pairs: &[(String, String)],
    version: &str,
    id: &str,
    after: u32,
    normalized: &str,
) -> String {
    let mut q: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k != "cursor")
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    q.push(format!(
        "cursor={}",
        data::encode_cursor(version, id, after, normalized)
    ));
    format!("/v1/datasets/{id}/data?{}", q.join("&"))
}

/// The rows of a data answer, ready to encode.
struct DataAnswer {
    /// The dataset the rows come from.
    ds: Arc<Dataset>,
    /// Schema indices of the columns written, in order.
    columns: Vec<usize>,
    /// Row ids of the page.
    rows: Vec<u32>,
    /// The encoding.
    format: Format,
    /// The release version the rows come from.
    version: String,
    /// The link to the next page, if one follows.
    next: Option<String>,
}

/// A large text answer, encoded (and compressed) as the client reads it; never cached.
fn stream_data(answer: DataAnswer, coding: Coding, etag: &str) -> Result<HttpResponse, Problem> {
    let DataAnswer {
        ds,
        columns,
        rows,
        format,
        version,
        next,
    } = answer;
    let encoder = data::TextEncoder::new(ds, columns, format);
    let rows = encoder.stream(Arc::new(rows), &version, next.as_deref());
    let stream = encoding::encode_stream(coding, rows).map_err(|e| {
        tracing::error!(error = %e, "cannot start compressing an answer");
        cannot_encode()
    })?;
    let mut builder = HttpResponse::Ok();
    builder
        .insert_header((header::CONTENT_TYPE, format.media_type()))
        .insert_header((header::CONTENT_ENCODING, coding.token()))
        .insert_header((header::ETAG, coding.etag(etag)))
        .insert_header((header::CACHE_CONTROL, REVALIDATE))
        .insert_header((RELEASE_HEADER, version))
        .insert_header((header::VARY, VARY_DATA));
    if let Some(n) = &next {
        builder.insert_header((header::LINK, format!("<{n}>; rel=\"next\"")));
    }
    Ok(builder.streaming(stream))
}

/// The whole body of a data answer, in its format.
fn encode_data(answer: &DataAnswer) -> Result<Bytes, Problem> {
    if answer.format == Format::Parquet {
        return data::encode_parquet(&answer.ds, &answer.columns, &answer.rows).map_err(|e| {
            tracing::error!(error = %e, "cannot encode Parquet");
            cannot_encode()
        });
    }
    Ok(
        data::TextEncoder::new(answer.ds.clone(), answer.columns.clone(), answer.format)
            .encode_all(&answer.rows, &answer.version, answer.next.as_deref()),
    )
}

/// The 500 problem of an answer that cannot be encoded (the cause is logged).
fn cannot_encode() -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "the answer cannot be encoded",
    )
}

/// List the releases.
///
/// Every release on this server, oldest first, with the one `current` points to. Older
/// releases stay downloadable so that a study can cite its version.
#[utoipa::path(tag = "releases", responses((status = 200, description = "The releases.", body = ReleaseList)))]
#[get("/v1/releases")]
pub async fn list_releases(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let current = state.releases.current().map(|r| r.version().to_owned());
    let versions = state
        .releases
        .versions()
        .map_err(|e| release_problem(e, &state))?;
    let mut releases = Vec::new();
    for v in versions {
        let Ok(meta) = state.releases.meta(&v) else {
            continue;
        };
        let is_current = current.as_deref() == Some(v.as_str());
        let manifest = format!("/v1/releases/{v}");
        releases.push(ReleaseSummary::new(
            v,
            meta.manifest.created.as_str(),
            is_current,
            manifest,
        ));
    }
    let list = ReleaseList::new(current, releases);
    let body = to_json(&list)?;
    let names: Vec<&str> = list.releases.iter().map(|r| r.version.as_str()).collect();
    let joined = names.join(",");
    Ok(json_answer(
        &req,
        list.current.as_deref().unwrap_or(""),
        &["releases", &joined],
        body,
        MEDIA_JSON,
    ))
}

fn file_etag(sha256: &str) -> String {
    format!("\"{}\"", &sha256[..sha256.len().min(32)])
}

/// A release's manifest.
///
/// The `manifest.json` of the release, byte for byte: version, date, source vintages,
/// definitions' versions, files with sizes and SHA-256, row counts, information loss and audit.
/// `current` names the current release (revalidate with the ETag); a version's manifest is
/// immutable.
#[utoipa::path(tag = "releases", params(
    ("version" = String, Path, description = "Release version, or `current`.", example = "current")
), responses(
    (status = 200, description = "The manifest.", body = serde_json::Value),
    (status = 304, description = "Not modified."),
    (status = 404, description = "Unknown release; the hint lists the versions.", body = wire::Problem, content_type = "application/problem+json")
))]
#[get("/v1/releases/{version}")]
pub async fn get_release(
    req: HttpRequest,
    state: web::Data<AppState>,
    version: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let meta = state
        .releases
        .meta(&version)
        .map_err(|e| release_problem(e, &state))?;
    let etag = format!("\"{}\"", data::short_hash(&[&meta.version, MANIFEST_FILE]));
    let cache = if version.as_str() == "current" {
        REVALIDATE
    } else {
        IMMUTABLE
    };
    // The manifest as read when the release was opened: what every other answer relies on.
    let bytes = meta.manifest_bytes.clone();
    files::serve_file(
        &req,
        FileSpec {
            media_type: MEDIA_JSON,
            etag,
            modified: meta.modified,
            cache_control: cache,
        },
        async move { Ok(files::Source::Memory(bytes)) },
    )
    .await
}

/// Download a release file.
///
/// One file of the release (`<id>.parquet`, `<id>.csv`, `<id>.schema.json`,
/// `<id>.definition.json`, `catalog.jsonld`, `manifest.json`) with `ETag`, `Last-Modified`,
/// `Content-Length` and `Accept-Ranges`; `Range` gives 206 (one range) or
/// `multipart/byteranges` (several), 416 outside the file. Versioned URLs are immutable;
/// under `current` revalidate with the ETag.
#[utoipa::path(tag = "releases", params(
    ("version" = String, Path, description = "Release version, or `current`.", example = "current"),
    ("name" = String, Path, description = "File name, as listed in the manifest.", example = "candidatures.parquet"),
    ("Range" = Option<String>, Header, description = "Byte ranges, e.g. `bytes=0-1023` or `bytes=0-99,-100`.")
), responses(
    (status = 200, description = "The whole file.", content_type = "application/octet-stream", body = Vec<u8>),
    (status = 206, description = "The ranges asked for (multipart/byteranges for several).", content_type = "application/octet-stream", body = Vec<u8>),
    (status = 304, description = "Not modified."),
    (status = 404, description = "Unknown release or file.", body = wire::Problem, content_type = "application/problem+json"),
    (status = 416, description = "No range lies within the file, or more than 32 ranges.", body = wire::Problem, content_type = "application/problem+json"),
    (status = 503, description = "The file on disk differs from the manifest (length, SHA-256, or not a regular file); it is not served.", body = wire::Problem, content_type = "application/problem+json")
))]
#[get("/v1/releases/{version}/files/{name}")]
pub async fn get_release_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (version, name) = path.into_inner();
    let meta = state
        .releases
        .meta(&version)
        .map_err(|e| release_problem(e, &state))?;
    if !meta.has_file(&name) {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-file",
            "Unknown file",
            format!(
                "the release {} has no file {}",
                meta.version,
                super::problem::quote(&name)
            ),
        )
        .param("name")
        .hint_values("files", meta.manifest.files.iter().map(|f| f.name.as_str())));
    }
    let entry = meta.manifest.files.iter().find(|f| f.name == name);
    let (media, etag) = match entry {
        Some(f) => (f.media_type.as_str(), file_etag(&f.sha256)),
        None => (
            MEDIA_JSON,
            format!("\"{}\"", data::short_hash(&[&meta.version, MANIFEST_FILE])),
        ),
    };
    let cache = if version == "current" {
        REVALIDATE
    } else {
        IMMUTABLE
    };
    let open = async {
        if entry.is_none() {
            return Ok(files::Source::Memory(meta.manifest_bytes.clone()));
        }
        state
            .files
            .open(&meta, &name, &etag)
            .await
            .map_err(|e| release_problem(e, &state))
    };
    files::serve_file(
        &req,
        FileSpec {
            media_type: media,
            etag: etag.clone(),
            modified: meta.modified,
            cache_control: cache,
        },
        open,
    )
    .await
}

/// The DCAT-AP catalog.
///
/// The `catalog.jsonld` of the current release (DCAT-AP, harvestable by data.gouv.fr), its
/// file addresses given at this deployment's public address: `serve --public-url`, or else the
/// request's own scheme and `Host`. The release file itself
/// (`/v1/releases/{version}/files/catalog.jsonld`) keeps the addresses given at publication.
#[utoipa::path(tag = "releases", responses(
    (status = 200, description = "The catalog, JSON-LD.", content_type = "application/ld+json", body = serde_json::Value),
    (status = 304, description = "Not modified.")
))]
#[get("/v1/catalog.jsonld")]
pub async fn catalog(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let release = state.releases.current().ok_or_else(no_release)?;
    let meta = &release.meta;
    let public = public_base(&req, state.public_url.as_deref());
    let file_hash = match meta
        .manifest
        .files
        .iter()
        .find(|f| f.name == pilotage_core::release::CATALOG_FILE)
    {
        Some(f) => f.sha256.clone(),
        None => meta.version.clone(),
    };
    // The answer depends on the public address: so does its entity tag.
    let etag = format!(
        "\"{}\"",
        data::short_hash(&[&file_hash, "catalog", &public])
    );
    let body = served_catalog(&release.catalog, &meta.version, &public);
    if files::not_modified_since(req.headers(), meta.modified) {
        let coding = if body.len() < MIN_COMPRESS_BYTES {
            Coding::Identity
        } else {
            Coding::negotiate(req.headers())
        };
        return Ok(files::not_modified_varying(
            &coding.etag(&etag),
            REVALIDATE,
            VARY_DATA,
        ));
    }
    let mut res = coded_answer(&req, &etag, &meta.version, body, MEDIA_JSONLD);
    if res.status() == StatusCode::OK
        && let Ok(v) = header::HeaderValue::from_str(&httpdate::fmt_http_date(meta.modified))
    {
        res.headers_mut().insert(header::LAST_MODIFIED, v);
    }
    Ok(res)
}

/// The public address of the API, without trailing slash: `configured` when given, else the
/// request's scheme (TLS or not) and its `Host` header when it is a plain `host[:port]`, else
/// the address the server listens on. `X-Forwarded-*` and `Forwarded` are not read.
fn public_base(req: &HttpRequest, configured: Option<&str>) -> String {
    if let Some(url) = configured {
        return url.to_owned();
    }
    let config = req.app_config();
    let scheme = if config.secure() { "https" } else { "http" };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| config.host().to_owned());
    format!("{scheme}://{host}")
}

/// The catalog of release `version` with its addresses moved to `public`: the address the
/// files had at publication is found in the catalog (what precedes
/// `/v1/releases/<version>/files/` in a file address), and every IRI starting with it is
/// given at `public` instead. A catalog whose files have other addresses (a static host
/// chosen at publication) is served as written.
fn served_catalog(written: &Bytes, version: &str, public: &str) -> Bytes {
    fn find_origin(value: &serde_json::Value, marker: &str) -> Option<String> {
        match value {
            serde_json::Value::String(s) => s
                .find(marker)
                .filter(|_| s.starts_with("http://") || s.starts_with("https://"))
                .map(|i| s[..i].to_owned()),
            serde_json::Value::Array(a) => a.iter().find_map(|v| find_origin(v, marker)),
            serde_json::Value::Object(o) => o.values().find_map(|v| find_origin(v, marker)),
            _ => None,
        }
    }
    fn rewrite(value: &mut serde_json::Value, origin: &str, public: &str) {
        match value {
            serde_json::Value::String(s) => {
                if let Some(rest) = s.strip_prefix(origin)
                    && (rest.is_empty() || rest.starts_with(['/', '#']))
                {
                    *s = format!("{public}{rest}");
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| rewrite(v, origin, public)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|v| rewrite(v, origin, public)),
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(written) else {
        return written.clone();
    };
    let marker = format!("/v1/releases/{version}/files/");
    let Some(origin) = find_origin(&value, &marker) else {
        return written.clone();
    };
    if origin == public {
        return written.clone();
    }
    rewrite(&mut value, &origin, public);
    match pilotage_core::release::files::json_bytes(&value) {
        Ok(bytes) => Bytes::from(bytes),
        Err(_) => written.clone(),
    }
}

/// Values of `level=` on the territories route, documented as its enumeration.
pub(crate) const LEVELS: [&str; 4] = ["region", "departement", "commune", "epci"];

fn territories_json(level: &str) -> Result<Bytes, Problem> {
    static CACHE: OnceLock<Vec<Bytes>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        let r = Referential::official();
        let regions: Vec<Territory> = r
            .all_regions()
            .iter()
            .map(|x| {
                let mut t = Territory::new(x.code.as_str(), x.name.as_str());
                t.population = Some(x.population);
                t
            })
            .collect();
        let deps: Vec<Territory> = r
            .all_departements()
            .iter()
            .map(|x| {
                let mut t = Territory::new(x.code.as_str(), x.name.as_str());
                t.region = Some(x.region.clone());
                t.population = Some(x.population);
                t
            })
            .collect();
        let communes: Vec<Territory> = r
            .communes()
            .iter()
            .map(|x| {
                let mut t = Territory::new(x.code.as_str(), x.name.as_str());
                t.region = Some(x.region.clone());
                t.departement = Some(x.departement.clone());
                t.epci = x.epci.clone();
                t.population = x.population.map(u64::from);
                t
            })
            .collect();
        let epcis: Vec<Territory> = r
            .epcis()
            .iter()
            .map(|x| {
                let mut t = Territory::new(x.code.as_str(), x.name.as_str());
                t.population = x.population_municipale.map(u64::from);
                t
            })
            .collect();
        [regions, deps, communes, epcis]
            .iter()
            .map(|v| Bytes::from(serde_json::to_vec(v).unwrap_or_default()))
            .collect()
    });
    let i = LEVELS.iter().position(|l| *l == level).ok_or_else(|| {
        Problem::bad_parameter(
            "level",
            format!(
                "no territory level is named {}",
                super::problem::quote(level)
            ),
        )
        .hint_values("levels", LEVELS)
    })?;
    Ok(all[i].clone())
}

/// List territories.
///
/// Territories of the official referential (COG) at one level: régions and départements
/// (including the overseas collectivities the COG lists), current communes with their
/// population, or EPCI à fiscalité propre. Codes as the data's territory dimension uses them
/// after `REG-` / `DEP-`.
#[utoipa::path(tag = "territories", params(TerritoryParams), responses(
    (status = 200, description = "The territories, by code.", body = Vec<Territory>),
    (status = 400, description = "Unknown level; the hint lists the levels.", body = wire::Problem, content_type = "application/problem+json")
))]
#[get("/v1/territories")]
pub async fn territories(
    req: HttpRequest,
    q: web::Query<TerritoryParams>,
) -> Result<HttpResponse, Problem> {
    let level = q.level.as_deref().unwrap_or("region");
    let body = territories_json(level)?;
    Ok(json_answer(
        &req,
        "referential",
        &["territories", level],
        body,
        MEDIA_JSON,
    ))
}

/// The OpenAPI document as `/openapi.json` serves it: compact JSON and its strong ETag.
#[derive(Debug, Clone)]
pub struct OpenApiDocument {
    body: Bytes,
    etag: String,
}

impl OpenApiDocument {
    /// Serializes `api` once (at start-up), with a tag naming its bytes.
    pub fn new(api: &serde_json::Value) -> OpenApiDocument {
        let body = Bytes::from(serde_json::to_vec(api).unwrap_or_default());
        let etag = format!(
            "\"{}\"",
            data::short_hash(&[&String::from_utf8_lossy(&body)])
        );
        OpenApiDocument { body, etag }
    }
}

/// `/openapi.json`: the OpenAPI document, with a strong ETag (304 on `If-None-Match`) and
/// compressed as `Accept-Encoding` asks.
pub async fn openapi_document(
    req: HttpRequest,
    document: web::Data<OpenApiDocument>,
) -> HttpResponse {
    coded_answer(&req, &document.etag, "", document.body.clone(), MEDIA_JSON)
}

/// Methods every route answers.
pub const ALLOW: &str = "GET, HEAD";

/// Answer of requests no route takes: 405 with `Allow` when the path is a route's (every
/// route answers GET and HEAD only), else a 404 problem.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let path = super::problem::quote(req.path());
    if req.resource_map().has_resource(req.path()) {
        let mut res = Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!("{path} answers GET and HEAD, not {}", req.method()),
        )
        .param("method")
        .hint("the API is read-only: use GET (or HEAD for the headers alone)")
        .to_response();
        res.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static(ALLOW));
        return res;
    }
    // A browser asking for a page outside the API gets the pages' French 404 page.
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html && !req.path().starts_with("/v1/") {
        return crate::pages::PageError::not_found(
            "Aucune page ne se trouve à cette adresse: partez de l'accueil ou cherchez un territoire.",
        )
        .respond();
    }
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        format!("no route answers {} {path}", req.method()),
    )
    .hint("the routes are listed in /openapi.json and browsable at /docs/")
    .to_response()
}

#[cfg(test)]
mod tests {
    use utoipa::IntoParams;

    use super::{DataParams, data};

    #[test]
    fn data_params_document_exactly_the_reserved_parameters() {
        let documented: Vec<String> = DataParams::into_params(|| None)
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(documented, data::RESERVED);
    }
}
