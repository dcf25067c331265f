//! RFC 9457 problem details (`application/problem+json`): the one shape of every error answer.
//!
//! Every client mistake is a [`Problem`] with a stable `type` (a URN naming the kind of
//! mistake), the parameter at fault and a hint, so that a caller can fix the request without
//! reading the server's logs. A server fault is a 500 problem carrying the request id that the
//! logs also carry.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use pilotage_core::wire;

/// Media type of problem answers.
pub const MEDIA_PROBLEM: &str = "application/problem+json";

/// Bytes of a client's value quoted in a problem at most ([`quote`]): enough to recognize it,
/// never an echo of a huge input.
pub const MAX_QUOTED: usize = 64;
/// Bytes of a problem's `detail` at most; longer details are cut (with `…`).
pub const MAX_DETAIL: usize = 512;

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A client's value as a problem quotes it: in double quotes with escapes, cut after
/// [`MAX_QUOTED`] bytes with its length in bytes, e.g. `"aaaa…" (65536 bytes)`.
pub fn quote(value: &str) -> String {
    if value.len() <= MAX_QUOTED {
        format!("{value:?}")
    } else {
        format!("{:?}… ({} bytes)", prefix(value, MAX_QUOTED), value.len())
    }
}

/// An error answer: the shared problem body ([`wire::Problem`], the one the client reads),
/// wrapped so that actix can answer with it.
#[derive(Debug, Clone)]
pub struct Problem(pub wire::Problem);

impl std::ops::Deref for Problem {
    type Target = wire::Problem;

    fn deref(&self) -> &wire::Problem {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut wire::Problem {
        &mut self.0
    }
}

impl From<wire::Problem> for Problem {
    fn from(body: wire::Problem) -> Self {
        Problem(body)
    }
}

impl Problem {
    /// A problem of kind `kind` (the URN suffix) with status, title and detail.
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem(wire::Problem::new(status.as_u16(), kind, title, detail))
    }

    /// Names the parameter at fault.
    pub fn param(self, parameter: impl Into<String>) -> Self {
        Problem(self.0.with_parameter(parameter))
    }

    /// Adds a hint.
    pub fn hint(self, hint: impl Into<String>) -> Self {
        Problem(self.0.with_hint(hint))
    }

    /// Adds a hint listing valid values, cut after a few dozen.
    pub fn hint_values<'a>(self, what: &str, values: impl IntoIterator<Item = &'a str>) -> Self {
        Problem(self.0.with_hint_values(what, values))
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
        let p = Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed to answer; the request id is in its logs",
        );
        Problem(p.0.with_request_id(request_id))
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
        let body = serde_json::to_vec(&self.0).unwrap_or_else(|_| b"{}".to_vec());
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
