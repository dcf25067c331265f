//! RFC 9457 problem details (`application/problem+json`): the one shape of every error answer.
//!
//! Every client mistake is a [`Problem`] with a stable `type` (a URN naming the kind of
//! mistake), the parameter at fault and a hint, so that a caller can fix the request without
//! reading the server's logs. A server fault is a 500 problem carrying the request id that the
//! logs also carry.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of problem answers.
pub const MEDIA_PROBLEM: &str = "application/problem+json";

/// Prefix of every problem `type`.
const TYPE_PREFIX: &str = "urn:pilotage:problem:";

/// Most codes listed in a hint: longer lists are cut (the full list is in the dataset's page).
const HINT_MAX_CODES: usize = 40;

/// An RFC 9457 problem: what went wrong, which parameter, and how to fix it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:pilotage:problem:unknown-code",
    "title": "Unknown code",
    "status": 400,
    "detail": "territoire: no member has the code \"99\"",
    "parameter": "territoire",
    "hint": "valid codes: FR, REG-11, REG-24, …"
}))]
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
    /// Seconds to wait before retrying (429 answers only).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of kind `kind` (the URN suffix) with status, title and detail.
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("{TYPE_PREFIX}{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            parameter: None,
            hint: None,
            request_id: None,
            retry_after: None,
        }
    }

    /// Names the parameter at fault.
    pub fn param(mut self, parameter: impl Into<String>) -> Self {
        self.parameter = Some(parameter.into());
        self
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a hint listing valid values, cut after a few dozen.
    pub fn hint_values<'a>(self, what: &str, values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut list = Vec::new();
        let mut more = 0usize;
        for v in values {
            if list.len() < HINT_MAX_CODES {
                list.push(v);
            } else {
                more += 1;
            }
        }
        let mut text = format!("{what}: {}", list.join(", "));
        if more > 0 {
            text.push_str(&format!(" (and {more} more)"));
        }
        self.hint(text)
    }

    /// 404: no dataset has this id.
    pub fn unknown_dataset<'a>(id: &str, valid: impl IntoIterator<Item = &'a str>) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-dataset",
            "Unknown dataset",
            format!("no dataset has the id {id:?}"),
        )
        .param("id")
        .hint_values("datasets", valid)
    }

    /// 400: a query parameter has a value that cannot be used.
    pub fn bad_parameter(parameter: &str, detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-parameter",
            "Invalid parameter",
            detail,
        )
        .param(parameter)
    }

    /// 500 for a server fault, naming the request id the logs carry.
    pub fn internal(request_id: &str) -> Self {
        let mut p = Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed to answer; the request id is in its logs",
        );
        p.request_id = Some(request_id.to_owned());
        p
    }

    /// The HTTP status, as actix knows it.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The answer: problem+json body with its status (and `Retry-After` for 429).
    pub fn to_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        builder.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(MEDIA_PROBLEM),
        ));
        if let Some(secs) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        let body = serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec());
        builder.body(body)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        Problem::status_code(self)
    }

    fn error_response(&self) -> HttpResponse {
        self.to_response()
    }
}

/// Turns actix's query-string errors into a 400 problem naming the parameter.
pub fn query_error(err: actix_web::error::QueryPayloadError) -> Problem {
    let text = err.to_string();
    let parameter = text
        .split('`')
        .nth(1)
        .map(str::to_owned)
        .unwrap_or_else(|| "query".to_owned());
    Problem::bad_parameter(
        &parameter,
        format!("the query string cannot be read: {text}"),
    )
    .hint("see /openapi.json for the parameters of this operation")
}

/// Turns actix's path errors into a 404 problem.
pub fn path_error(err: actix_web::error::PathError) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        format!("the path cannot be read: {err}"),
    )
}
