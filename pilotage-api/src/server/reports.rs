//! `GET /v1/reports/{report}`: the three professional reports, for a key's perimeter.
//!
//! The key is given as `Authorization: Bearer <token>`. Without a working key (none, unknown,
//! revoked, expired) the answer is 401. A perimeter outside the key's, a structure or
//! département that does not exist, a year the release does not hold, a parameter widening
//! the perimeter: all are the same 404, byte for byte, so that an answer never tells which.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use pilotage_core::territory::Referential;
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::problem::Problem;
use super::professional::ActiveKey;
use crate::keys::{Perimeter, Role};
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
fn structure_departement(set: &crate::private::PrivateSet, id: i64) -> Option<String> {
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
        (status = 200, description = "The report: JSON lines (section, label, value, unit, period, source, measure, filter), CSV with the same columns, or a printable French HTML page.", body = serde_json::Value),
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
    let answer = build(&state, &pro, &key, report, &query);
    let (status, rows) = match &answer {
        Ok(body) => (200, body.lines.len()),
        Err(p) => (p.status, 0),
    };
    pro.log(key.id, &route, &asked, status, rows);
    let body = answer?;
    Ok(encode(report, &body, query.encoding))
}

fn build(
    state: &AppState,
    pro: &super::professional::Professional,
    key: &ActiveKey,
    report: Report,
    q: &Query,
) -> Result<ReportBody, Problem> {
    let Some(set) = pro.tables() else {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "professional-unavailable",
            "No professional tables",
            "no release with professional tables is loaded yet",
        ));
    };
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
    let measures = &pro.measures;
    match report {
        Report::Structure => {
            // Anything but a structure id is a structure that does not exist.
            let Some(id) = own.parse::<i64>().ok().filter(|i| *i > 0) else {
                return Err(not_found());
            };
            let Some(dep) = structure_departement(&set, id) else {
                return Err(not_found());
            };
            if !key.perimeter.holds_structure(id, &dep) {
                return Err(not_found());
            }
            Ok(reports::figures::structure(measures, &set, id, q.period))
        }
        Report::DepartementRsa | Report::Territoire => {
            let dep = own.as_str();
            if Referential::official().departement(dep).is_none() || !holds_departement(key, dep) {
                return Err(not_found());
            }
            if matches!(key.perimeter, Perimeter::Structures(_)) {
                return Err(not_found());
            }
            if report == Report::DepartementRsa {
                Ok(reports::figures::departement_rsa(
                    measures, &set, dep, q.period,
                ))
            } else {
                let public = state
                    .releases
                    .get(&set.version)
                    .ok()
                    .or_else(|| state.releases.current())
                    .and_then(|r| pro.public(&r));
                Ok(reports::figures::territoire(
                    measures,
                    &set,
                    public.as_deref(),
                    dep,
                    q.period,
                ))
            }
        }
    }
}

fn encode(report: Report, body: &ReportBody, encoding: Encoding) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.insert_header((super::routes::RELEASE_HEADER, body.release.as_str()))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::VARY, "Accept, Authorization"));
    match encoding {
        Encoding::Json => res.json(body),
        Encoding::Csv => res
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"rapport-{}-{}-{}.csv\"",
                    report.id(),
                    body.perimeter.replace('=', "-"),
                    body.year
                ),
            ))
            .body(render::csv(body)),
        Encoding::Html => {
            let page = match report {
                Report::Structure => render::structure_html(body),
                Report::DepartementRsa => render::departement_rsa_html(body),
                Report::Territoire => render::territoire_html(body),
            };
            res.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
                .body(page)
        }
    }
}
