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

    /// Names the parameter at fault (a name a client made up is cut to a short prefix).
    pub fn param(self, parameter: impl Into<String>) -> Self {
        let parameter = parameter.into();
        let parameter = if parameter.len() > MAX_QUOTED {
            format!("{}…", prefix(&parameter, MAX_QUOTED))
        } else {
            parameter
        };
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
            format!("no dataset has the id {}", quote(id)),
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

    /// The answer: problem+json body with its status (and `Retry-After` for 429). `detail`
    /// is cut at [`MAX_DETAIL`] bytes: an answer never grows with what the client sent.
    pub fn to_response(&self) -> HttpResponse {
        let mut body = self.0.clone();
        if body.detail.len() > MAX_DETAIL {
            body.detail = format!("{}…", prefix(&body.detail, MAX_DETAIL));
        }
        let mut builder = HttpResponse::build(self.status_code());
        builder.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(MEDIA_PROBLEM),
        ));
        if let Some(secs) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        let body = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
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

/// Middleware giving every error answer the problem shape, including those the framework and
/// its middleware make with a plain or empty body (a 404 of the documentation files, the 406
/// of content-coding negotiation, a 405 of a resource, an error of an extractor): their status
/// is kept, their body becomes a problem naming what is at fault, their other headers stay.
pub async fn problem_answers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<
        actix_web::body::EitherBody<impl actix_web::body::MessageBody, actix_web::body::BoxBody>,
    >,
    actix_web::Error,
> {
    let res = match next.call(req).await {
        Ok(res) => res,
        // An error rendered later by the framework: turned into a problem now if it is not one.
        Err(err) => {
            let res = err.error_response();
            if is_problem(res.headers()) {
                return Err(err);
            }
            return Err(status_problem(res.status(), "the request").into());
        }
    };
    // A page's error answer (an HTML page in French) is kept as it is.
    if res.status().as_u16() < 400 || is_problem(res.headers()) || is_html(res.headers()) {
        return Ok(res.map_into_left_body());
    }
    Ok(framework_problem(res.map_into_boxed_body()).map_into_right_body())
}

fn is_html(headers: &header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn is_problem(headers: &header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(MEDIA_PROBLEM))
}

/// The problem answer of an error answer `res` that is not one yet.
fn framework_problem(
    res: actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
) -> actix_web::dev::ServiceResponse<actix_web::body::BoxBody> {
    if is_problem(res.headers()) {
        return res;
    }
    let status = res.status();
    let (req, old) = res.into_parts();
    let what = format!("{} {}", req.method(), quote(req.path()));
    let problem = status_problem(status, &what);
    let mut new = problem.to_response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::CONTENT_ENCODING
            && !new.headers().contains_key(name)
        {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    if status == StatusCode::METHOD_NOT_ALLOWED && !new.headers().contains_key(header::ALLOW) {
        new.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    actix_web::dev::ServiceResponse::new(req, new)
}

/// The problem of an error status the framework or a middleware produced; `what` names the
/// request (`GET "/path"`).
fn status_problem(status: StatusCode, what: &str) -> Problem {
    match status {
        StatusCode::NOT_FOUND => Problem::new(
            status,
            "not-found",
            "Not found",
            format!("nothing answers {what}"),
        )
        .hint("the routes are listed in /openapi.json and browsable at /docs/"),
        StatusCode::METHOD_NOT_ALLOWED => Problem::new(
            status,
            "method-not-allowed",
            "Method not allowed",
            format!("{what}: the method is not allowed"),
        )
        .param("method")
        .hint("the API is read-only: use GET (or HEAD for the headers alone)"),
        StatusCode::NOT_ACCEPTABLE => Problem::new(
            status,
            "not-acceptable",
            "Not acceptable",
            "no content coding that Accept-Encoding allows is available",
        )
        .param("Accept-Encoding")
        .hint("answers come as zstd, gzip, deflate or identity; leave Accept-Encoding out for identity"),
        StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            status,
            "payload-too-large",
            "Payload too large",
            format!("{what}: the request body is too large"),
        ),
        s if s.is_client_error() => Problem::new(
            s,
            "bad-request",
            s.canonical_reason().unwrap_or("Bad request"),
            format!("{what} cannot be answered"),
        ),
        s => {
            tracing::error!(status = s.as_u16(), request = %what, "an error answer without a problem body");
            Problem::new(
                s,
                "internal",
                s.canonical_reason().unwrap_or("Internal error"),
                "the server failed to answer",
            )
        }
    }
}
