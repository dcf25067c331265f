//! `GET /v1/reports/{report}`: the three professional reports, for a key's perimeter.
//!
//! The key is given as `Authorization: Bearer <token>`. Without a working key (none, unknown,
//! revoked, expired) the answer is 401. A perimeter outside the key's, a structure or
//! département that does not exist, a year the release does not hold, a parameter widening
//! the perimeter: all are the same 404, byte for byte, so that an answer never tells which.
//!
//! The key, its quota, the parameters and the key's right to the perimeter are checked at every
//! request; only then is the encoded answer read from the [`ReportCache`](super::cache::ReportCache) (a repeated report
//! costs a lookup: a département report of 191 structures is 2,000 lines to compute), else
//! computed, encoded once with its `ETag`, and cached.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use bytes::Bytes;
use pilotage_core::territory::Referential;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use super::AppState;
use super::cache::ReportAnswer;
use super::problem::Problem;
use super::professional::{ActiveKey, Professional};
use crate::keys::{Perimeter, Role};
use crate::private::PrivateSet;
use crate::reports::{self, Period, Report, ReportBody, render};

/// `WWW-Authenticate` of the professional routes.
pub const WWW_AUTHENTICATE_BEARER: &str = "Bearer realm=\"pilotage-professional\"";

/// The parameters of a report (documentation; the handler reads the query itself so that an
/// unknown parameter is named).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReportParams {
    /// The structure (platform id): the `structure` report's perimeter.
    #[param(example = 1234)]
    structure: Option<i64>,
    /// The département (`75`, `2A`, `971`): the perimeter of `departement-rsa` and `territoire`.
    #[param(example = "75")]
    departement: Option<String>,
    /// The year.
    #[param(example = 2024)]
    year: i32,
    /// The last month included, 1 to 12 (default 12: the whole year).
    #[param(minimum = 1, maximum = 12, example = 6)]
    month: Option<u32>,
    /// `json` (default), `csv` or `html` (a printable French page); overrides `Accept`.
    format: Option<String>,
}

/// The one answer for everything a key may not see, or that does not exist.
pub fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        "no report for this perimeter and period",
    )
}

fn unauthorized() -> HttpResponse {
    let mut res = Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "A professional API key is needed",
        "the reports need a valid key in `Authorization: Bearer <token>`",
    )
    .param("Authorization")
    .hint("keys are created with `pilotage keys create`; a revoked or expired key no longer works")
    .to_response();
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(WWW_AUTHENTICATE_BEARER),
    );
    res
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    Csv,
    Html,
}

impl Encoding {
    /// Its name in the `format` parameter.
    fn token(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Csv => "csv",
            Encoding::Html => "html",
        }
    }
}

/// The parsed query of a report.
struct Query {
    structure: Option<String>,
    departement: Option<String>,
    period: Period,
    encoding: Encoding,
}

fn parse_query(req: &HttpRequest) -> Result<Query, Problem> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| Problem::bad_parameter("query", "the query string cannot be read"))?
        .into_inner();
    let mut q = Query {
        structure: None,
        departement: None,
        period: Period { year: 0, month: 12 },
        encoding: Encoding::Json,
    };
    let mut year = None;
    let mut format = None;
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "structure" => &mut q.structure,
            "departement" => &mut q.departement,
            "year" => &mut year,
            "format" => &mut format,
            "month" => {
                let m: u32 = value
                    .parse()
                    .ok()
                    .filter(|m| (1..=12).contains(m))
                    .ok_or_else(|| {
                        Problem::bad_parameter("month", "month is a number from 1 to 12")
                    })?;
                q.period.month = m;
                continue;
            }
            other => {
                return Err(
                    Problem::bad_parameter(other, "unknown parameter of a report")
                        .hint("parameters: structure or departement, year, month, format"),
                );
            }
        };
        if slot.is_some() {
            return Err(Problem::bad_parameter(
                &name,
                "the parameter is given twice",
            ));
        }
        *slot = Some(value);
    }
    let year = year.ok_or_else(|| Problem::bad_parameter("year", "the year is required"))?;
    q.period.year = year
        .parse()
        .ok()
        .filter(|y| (1900..=9999).contains(y))
        .ok_or_else(|| Problem::bad_parameter("year", "the year has four digits (2024)"))?;
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    q.encoding = match format.as_deref() {
        Some("json") => Encoding::Json,
        Some("csv") => Encoding::Csv,
        Some("html") => Encoding::Html,
        Some(_) => {
            return Err(
                Problem::bad_parameter("format", "format is json, csv or html")
                    .hint_values("formats", ["json", "csv", "html"]),
            );
        }
        None if accept.contains("text/html") => Encoding::Html,
        None if accept.contains("text/csv") => Encoding::Csv,
        None => Encoding::Json,
    };
    Ok(q)
}

/// Whether the key may read the département `dep` (any role but a structure's).
fn holds_departement(key: &ActiveKey, dep: &str) -> bool {
    key.role != Role::Siae && key.perimeter.holds_departement(dep)
}

/// A structure's own département (from the tables attached to the structure's location),
/// else the département of its annexes financières.
fn structure_departement(set: &PrivateSet, id: i64) -> Option<String> {
    let mut fallback = None;
    for (dataset, t) in &set.tables {
        if let Some((_, dep)) = t.structure_codes(id).first() {
            if dataset != "etp" {
                return Some((*dep).to_owned());
            }
            fallback.get_or_insert_with(|| (*dep).to_owned());
        }
    }
    fallback
}

/// A report for the key's perimeter.
///
/// `structure`: a structure's yearly activity report (ETP conventionnés and réalisés by month,
/// beneficiaries and their profile, hires, exits and their rates, applications, refusals by
/// reason, answer delays, prescribers, PASS IAE). `departement-rsa`: the Département's
/// follow-up of RSA recipients, for the département and each structure. `territoire`: every
/// structure of the département, and the département against its région and France (public,
/// protected figures). Figures are unprotected: a key reads its perimeter only (a structure
/// key its structures, a Département or DDETS key its département, a DREETS key its région);
/// anything else is the same 404. The figure map is in docs/reports.md. Needs
/// `Authorization: Bearer <token>`.
#[utoipa::path(
    tag = "reports",
    params(("report" = String, Path, description = "`structure`, `departement-rsa` or `territoire`."), ReportParams),
    responses(
        (status = 200, description = "The report: JSON lines (section, label, value, unit, period, source, measure, filter), CSV with the same columns, or a printable French HTML page.", body = serde_json::Value,
         headers(("ETag" = String, description = "Strong entity tag of the answer: the first 128 bits of the body's SHA-256, in hexadecimal, quoted."), ("Pilotage-Release" = String, description = "The release the figures come from."))),
        (status = 304, description = "Not modified: `If-None-Match` names the answer's entity tag; no body.",
         headers(("ETag" = String, description = "Strong entity tag of the answer."), ("Pilotage-Release" = String, description = "The release the figures come from."))),
        (status = 400, description = "A parameter cannot be used.", body = pilotage_core::wire::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No working professional key.", body = pilotage_core::wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown report, or nothing this key may read for this perimeter and period (one answer for both).", body = pilotage_core::wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The key's quota is spent.", body = pilotage_core::wire::Problem, content_type = "application/problem+json"),
        (status = 503, description = "No professional tables are loaded.", body = pilotage_core::wire::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/reports/{report}")]
pub async fn get_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    report: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let Some(pro) = state.professional.clone() else {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "professional-unavailable",
            "Professional access is not configured",
            "this server serves open data only",
        ));
    };
    let Some(report) = Report::from_id(&report) else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-report",
            "Unknown report",
            "no report has this name",
        )
        .param("report")
        .hint_values("reports", Report::ALL.iter().map(|r| r.id())));
    };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(key) = token.and_then(|t| pro.authenticate(t)) else {
        return Ok(unauthorized());
    };
    // The first request with a working key indexes the public release `territoire` compares
    // with; from then on the poller indexes each new one before a report needs it.
    pro.follow_releases(&state.releases);
    if let Err(secs) = pro.check_quota(key.id) {
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            "the quota of this professional key is spent",
        )
        .hint(format!("retry in {secs} s"));
        p.retry_after = Some(secs);
        return Err(p);
    }
    let route = format!("/v1/reports/{}", report.id());
    let query = match parse_query(&req) {
        Ok(q) => q,
        Err(p) => {
            pro.log(key.id, &route, req.query_string(), p.status, 0);
            return Err(p);
        }
    };
    let asked = match (&query.structure, &query.departement) {
        (Some(s), None) => format!("structure={s}"),
        (None, Some(d)) => format!("departement={d}"),
        (Some(s), Some(d)) => format!("structure={s}&departement={d}"),
        (None, None) => String::new(),
    };
    let answer = answer(&state, &pro, &key, report, &query);
    let (status, rows) = match &answer {
        Ok(a) => (200, a.rows()),
        Err(p) => (p.status, 0),
    };
    pro.log(key.id, &route, &asked, status, rows);
    Ok(answer?.respond(&req))
}

/// What a report is computed for, once the key is known to hold it.
enum Target {
    /// A structure, by platform id.
    Structure(i64),
    /// A département, by code.
    Departement(String),
}

/// Checks the parameters and the key's perimeter: the one target the key may read, or the
/// problem to answer. Runs at every request, before the answer cache.
fn authorize(
    set: &PrivateSet,
    key: &ActiveKey,
    report: Report,
    q: &Query,
) -> Result<Target, Problem> {
    let param = report.perimeter_param();
    let (own, other) = match report {
        Report::Structure => (&q.structure, &q.departement),
        _ => (&q.departement, &q.structure),
    };
    // A second perimeter widens the first: nothing to tell.
    if other.is_some() {
        return Err(not_found());
    }
    let Some(own) = own else {
        return Err(Problem::bad_parameter(
            param,
            format!("the {} report needs `{param}=`", report.id()),
        ));
    };
    // The year must be in the release.
    let year = q.period.year.to_string();
    let has_year = set.tables.values().any(|t| t.has_period(&year));
    if !has_year {
        return Err(not_found());
    }
    match report {
        Report::Structure => {
            // Anything but a structure id is a structure that does not exist.
            let Some(id) = own.parse::<i64>().ok().filter(|i| *i > 0) else {
                return Err(not_found());
            };
            let Some(dep) = structure_departement(set, id) else {
                return Err(not_found());
            };
            if !key.perimeter.holds_structure(id, &dep) {
                return Err(not_found());
            }
            Ok(Target::Structure(id))
        }
        Report::DepartementRsa | Report::Territoire => {
            let dep = own.as_str();
            if Referential::official().departement(dep).is_none() || !holds_departement(key, dep) {
                return Err(not_found());
            }
            if matches!(key.perimeter, Perimeter::Structures(_)) {
                return Err(not_found());
            }
            Ok(Target::Departement(dep.to_owned()))
        }
    }
}

/// The encoded answer: checked for the key at each request, then read from the answer cache,
/// else computed, encoded and cached.
fn answer(
    state: &AppState,
    pro: &Professional,
    key: &ActiveKey,
    report: Report,
    q: &Query,
) -> Result<Arc<ReportAnswer>, Problem> {
    let Some(set) = pro.tables() else {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "professional-unavailable",
            "No professional tables",
            "no release with professional tables is loaded yet",
        ));
    };
    let target = authorize(&set, key, report, q)?;
    // `territoire` compares with the public release of the same version (else the current).
    let release = (report == Report::Territoire)
        .then(|| {
            state
                .releases
                .get(&set.version)
                .ok()
                .or_else(|| state.releases.current())
        })
        .flatten();
    let perimeter = match &target {
        Target::Structure(id) => format!("structure={id}"),
        Target::Departement(dep) => format!("departement={dep}"),
    };
    let cache_key = format!(
        "{}\n{}\n{}\n{perimeter}\n{}\n{}\n{}\n{}:{}",
        set.version,
        release.as_ref().map_or("", |r| r.version()),
        report.id(),
        q.period.year,
        q.period.month,
        q.encoding.token(),
        key.role.code(),
        key.perimeter,
    );
    if let Some(hit) = pro.answers.get(&cache_key) {
        return Ok(hit);
    }
    let measures = &pro.measures;
    let body = match (&target, report) {
        (Target::Structure(id), _) => reports::figures::structure(measures, &set, *id, q.period),
        (Target::Departement(dep), Report::DepartementRsa) => {
            reports::figures::departement_rsa(measures, &set, dep, q.period)
        }
        (Target::Departement(dep), _) => {
            let public = release.and_then(|r| pro.public(&r));
            reports::figures::territoire(measures, &set, public.as_deref(), dep, q.period)
        }
    };
    let encoded = Arc::new(encode(report, &body, q.encoding));
    pro.answers.insert(cache_key, encoded.clone());
    Ok(encoded)
}

/// Encodes a computed report in the format asked, with its entity tag.
fn encode(report: Report, body: &ReportBody, encoding: Encoding) -> ReportAnswer {
    let (bytes, content_type, disposition) = match encoding {
        // A report is plain data (text and numbers): serializing it cannot fail, and an empty
        // object would be a visible error rather than a panic.
        Encoding::Json => (
            serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec()),
            "application/json",
            None,
        ),
        Encoding::Csv => (
            render::csv(body).into_bytes(),
            "text/csv; charset=utf-8",
            Some(format!(
                "attachment; filename=\"rapport-{}-{}-{}.csv\"",
                report.id(),
                body.perimeter.replace('=', "-"),
                body.year
            )),
        ),
        Encoding::Html => {
            let page = match report {
                Report::Structure => render::structure_html(body),
                Report::DepartementRsa => render::departement_rsa_html(body),
                Report::Territoire => render::territoire_html(body),
            };
            (page.into_bytes(), "text/html; charset=utf-8", None)
        }
    };
    let digest = Sha256::digest(&bytes);
    let etag = format!("\"{}\"", hex::encode(&digest[..16]));
    let mut headers = vec![
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        ),
        (
            header::VARY,
            HeaderValue::from_static("Accept, Authorization"),
        ),
    ];
    let texts = [
        (header::ETAG, Some(etag.as_str())),
        (
            HeaderName::from_static(super::routes::RELEASE_HEADER),
            Some(body.release.as_str()),
        ),
        (header::CONTENT_DISPOSITION, disposition.as_deref()),
    ];
    for (name, value) in texts {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.push((name, v));
        }
    }
    ReportAnswer::new(Bytes::from(bytes), etag, body.lines.len(), headers)
}
