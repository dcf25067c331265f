//! The route table (the one place handlers are registered, so the OpenAPI document lists
//! exactly what is served), the middleware stack, and the OpenAPI document itself.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, Next, from_fn};
use actix_web::{App, web};
use futures_util::FutureExt;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::SwaggerUi;

use super::AppState;
use super::problem::{self, Problem};
use super::ratelimit;
use super::routes;

/// Description and tags of the document; the paths come from the route table.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "pilotage open-data API",
        description = "Anonymized indicators of France's inclusion-in-employment programmes (IAE): datasets, their rows in JSON, CSV, NDJSON or Parquet, the release files and their manifests, the DCAT catalog and the territories referential. Errors are RFC 9457 problem details naming the parameter at fault. Every answer carries the IETF RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset headers (health, readiness and metrics excepted); an API key in X-API-Key gives a higher quota. Every GET route also answers HEAD.",
        license(name = "MIT"),
    ),
    tags(
        (name = "datasets", description = "Datasets: their description, Table Schema and rows."),
        (name = "releases", description = "Published releases: manifests, files and the DCAT catalog."),
        (name = "territories", description = "The official territories referential."),
        (name = "operations", description = "Health, readiness and metrics."),
        (name = "reports", description = "Professional reports, unprotected figures inside the perimeter of a key given as `Authorization: Bearer <token>`."),
    ),
    components(schemas(pilotage_core::wire::Problem))
)]
pub struct ApiDoc;

/// The route table: every handler, registered once, so that serving and documenting agree.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(routes::list_datasets)
        .service(routes::get_dataset)
        .service(routes::get_schema)
        .service(routes::get_data)
        .service(routes::list_releases)
        .service(routes::get_release)
        .service(routes::get_release_file)
        .service(routes::catalog)
        .service(routes::territories)
        .service(routes::healthz)
        .service(routes::readyz)
        .service(routes::metrics)
        .service(super::reports::get_report);
}

/// The OpenAPI document of the API, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    api
}

/// The OpenAPI document as served at `/openapi.json` and committed in `openapi/`: the
/// generated one ([`openapi`]) completed by `complete`, as JSON.
pub fn openapi_value() -> serde_json::Value {
    complete(&openapi())
}

/// Values of `format=` on the data route (see [`super::data::Format`]).
const FORMAT_NAMES: [&str; 4] = ["json", "csv", "ndjson", "parquet"];

/// Adds to the generated document what the route attributes cannot say once for all routes:
/// the optional API-key security scheme, the 401 (unknown key) and 429 (quota spent) answers
/// of the rate-limited routes, the conditional request headers each route honours, and the
/// enumerations of `format=` and `level=`, and the media types of release files. Edited as
/// JSON: utoipa's document types do not read back every schema they write.
fn complete(api: &utoipa::openapi::OpenApi) -> serde_json::Value {
    use serde_json::{Value, json};
    let Ok(mut doc) = serde_json::to_value(api) else {
        return Value::Null;
    };
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        })
    };
    let header_param = |name: &str, description: &str| json!({"name": name, "in": "header", "required": false, "description": description, "schema": {"type": "string"}});
    doc["components"]["securitySchemes"] = json!({
        "ProfessionalKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "A professional key (`pilotage keys create`): reads unprotected figures inside its perimeter.",
        },
        "ApiKey": {
            "type": "apiKey",
            "in": "header",
            "name": ratelimit::API_KEY_HEADER,
            "description": "Optional: a known key gets a higher quota; an unknown key is refused with 401.",
        }
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            // The reports document their own answers and need a professional key.
            let limited = path.starts_with("/v1/") && !path.starts_with("/v1/reports/");
            let since = path == "/v1/catalog.jsonld" || path.starts_with("/v1/releases/{version}");
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (_, op) in item.iter_mut() {
                let Some(op) = op.as_object_mut() else {
                    continue;
                };
                if let Some(d) = op.get_mut("description")
                    && let Some(text) = d.as_str().map(str::to_owned)
                {
                    *d = Value::String(format!(
                        "{text}\n\nHEAD on the same path answers the same headers without a body (OpenAPI lists it under GET)."
                    ));
                }
                if path == "/v1/releases/{version}/files/{name}" {
                    let bytes = json!({"schema": {"type": "string", "format": "binary"}});
                    let mut types = serde_json::Map::new();
                    for media in [
                        pilotage_core::release::MEDIA_PARQUET,
                        pilotage_core::release::MEDIA_CSV,
                        pilotage_core::release::MEDIA_JSON,
                        pilotage_core::release::MEDIA_JSONLD,
                    ] {
                        let schema = if media.contains("json") {
                            json!({"schema": {}})
                        } else {
                            bytes.clone()
                        };
                        types.insert(media.to_owned(), schema);
                    }
                    let types = Value::Object(types);
                    op["responses"]["200"]["content"] = types.clone();
                    let mut ranged = types;
                    ranged["multipart/byteranges"] = bytes;
                    op["responses"]["206"]["content"] = ranged;
                }
                let params = op
                    .entry("parameters")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Some(list) = params.as_array_mut() {
                    for p in list.iter_mut() {
                        let values: Option<Vec<&str>> = match p["name"].as_str() {
                            Some("format") => Some(FORMAT_NAMES.to_vec()),
                            Some("level") => Some(super::routes::LEVELS.to_vec()),
                            _ => None,
                        };
                        if let Some(values) = values {
                            p["schema"] = json!({"type": ["string", "null"], "enum": values});
                        }
                        if p["name"] == "sort" {
                            p["schema"] = json!({"type": ["string", "null"], "pattern": super::data::SORT_PATTERN});
                        }
                    }
                    if limited {
                        list.push(header_param(
                            "If-None-Match",
                            "Entity tags of a copy held: 304 when one matches.",
                        ));
                    }
                    if since {
                        list.push(header_param("If-Modified-Since", "HTTP date of a copy held: 304 when the release is not newer (ignored with If-None-Match)."));
                    }
                }
                if path.starts_with("/v1/reports/") {
                    op.insert("security".into(), json!([{"ProfessionalKey": []}]));
                } else if limited {
                    op.insert("security".into(), json!([{}, {"ApiKey": []}]));
                    let responses = op.entry("responses").or_insert_with(|| json!({}));
                    if responses.get("304").is_none() {
                        responses["304"] = json!({"description": "Not modified (If-None-Match)."});
                    }
                    responses["401"] =
                        problem("Unknown API key (`WWW-Authenticate` names the scheme).");
                    responses["429"] = problem(
                        "Quota spent: `RateLimit-Reset` gives the seconds until it is renewed.",
                    );
                }
            }
        }
    }
    doc
}

/// The OpenAPI document as pretty JSON with a final newline, as committed in `openapi/`.
pub fn openapi_json() -> String {
    let mut text = serde_json::to_string_pretty(&openapi_value()).unwrap_or_default();
    text.push('\n');
    text
}

/// Builds the application around `state`: routes, `/openapi.json`, `/docs/`, problem answers
/// for unreadable paths and queries and for unknown routes, compression, rate limiting, and
/// the outer layer that logs, measures and catches panics.
pub fn build(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(state)
        .app_data(web::QueryConfig::default().error_handler(|e, _| problem::query_error(e).into()))
        .app_data(web::PathConfig::default().error_handler(|e, _| problem::path_error(e).into()))
        .configure(routes)
        .split_for_parts();
    let document = routes::OpenApiDocument::new(&complete(&api));
    app.app_data(web::Data::new(document))
        .service(
            web::resource("/openapi.json")
                .guard(actix_web::guard::Get())
                .to(routes::openapi_document),
        )
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::new(["/openapi.json"])),
        )
        .service(web::redirect("/docs", "/docs/"))
        .configure(crate::pages::configure)
        .default_service(web::to(routes::not_found))
        .wrap(Compress::default())
        .wrap(from_fn(ratelimit::rate_limit))
        .wrap(from_fn(problem::problem_answers))
        .wrap(from_fn(observe))
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// Outer middleware: answers HEAD as GET without a body, gives each request an id (`X-Request-Id`), logs it, records metrics, and
/// turns a handler panic into a logged 500 problem carrying the id.
pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = format!("{:x}", REQUEST_IDS.fetch_add(1, Ordering::Relaxed));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    // HEAD is GET without the body: the HTTP codec drops the body and keeps the headers.
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    let path = req.path().to_owned();
    let record = |route: &str, status: u16| {
        let elapsed = started.elapsed();
        if let Some(s) = &state {
            s.metrics
                .observe(route, &method, status, elapsed.as_secs_f64());
        }
        let micros = elapsed.as_micros() as u64;
        if status >= 400 {
            tracing::info!(request_id = %id, %method, %path, status, micros, "request");
        } else {
            tracing::debug!(request_id = %id, %method, %path, status, micros, "request");
        }
    };
    let mut res = match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(Ok(res)) => res,
        Ok(Err(err)) => {
            record("unmatched", err.as_response_error().status_code().as_u16());
            return Err(err);
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(request_id = %id, %method, %path, panic = %message, "handler panicked");
            if let Some(s) = &state {
                s.metrics.panicked();
            }
            record("unmatched", 500);
            // The error becomes the answer: a 500 problem naming the request id.
            return Err(Problem::internal(&id).into());
        }
    };
    content_coding_headers(res.headers_mut());
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&id) {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            v,
        );
    }
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    record(&route, res.status().as_u16());
    Ok(res)
}

/// Final touch on content codings: removes the internal `Content-Encoding: identity` marker of
/// answers left uncompressed on purpose, and gives an answer compressed by the generic
/// middleware a strong ETag of its own (the coding appended inside the quotes), since a strong
/// tag names one exact sequence of bytes.
pub fn content_coding_headers(headers: &mut actix_web::http::header::HeaderMap) {
    use actix_web::http::header::{CONTENT_ENCODING, ETAG, HeaderValue};
    let Some(coding) = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return;
    };
    if coding == super::encoding::IDENTITY {
        headers.remove(CONTENT_ENCODING);
        return;
    }
    let Some(tag) = headers.get(ETAG).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let suffix = format!("-{coding}\"");
    if tag.starts_with('"') && tag.ends_with('"') && !tag.ends_with(&suffix) {
        let coded = format!("{}{suffix}", &tag[..tag.len() - 1]);
        if let Ok(v) = HeaderValue::from_str(&coded) {
            headers.insert(ETAG, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test as atest;
    use actix_web::{App, HttpResponse, web};

    use super::*;

    async fn boom() -> HttpResponse {
        panic!("boom")
    }

    #[actix_web::test]
    async fn a_panic_becomes_a_500_problem_with_the_request_id() {
        let app = atest::init_service(
            App::new()
                .route("/boom", web::get().to(boom))
                .route("/ok", web::get().to(HttpResponse::Ok))
                .wrap(from_fn(observe)),
        )
        .await;
        // The middleware answers with the error; the HTTP layer renders it as the response.
        let req = atest::TestRequest::get().uri("/boom").to_request();
        let Err(err) = atest::try_call_service(&app, req).await else {
            panic!("a panic must not pass as a success");
        };
        let res = err.error_response();
        assert_eq!(res.status(), 500);
        let bytes = actix_web::body::to_bytes(res.into_body())
            .await
            .unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(body["type"], "urn:pilotage:problem:internal");
        assert!(body["request_id"].as_str().is_some_and(|s| !s.is_empty()));
        // The worker keeps serving.
        let res =
            atest::call_service(&app, atest::TestRequest::get().uri("/ok").to_request()).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().contains_key("x-request-id"));
    }

    #[test]
    fn a_coding_gets_its_own_tag_and_the_identity_marker_goes() {
        use actix_web::http::header::{CONTENT_ENCODING, ETAG, HeaderMap, HeaderValue};
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        h.insert(ETAG, HeaderValue::from_static("\"abc\""));
        content_coding_headers(&mut h);
        assert_eq!(
            h.get(ETAG).and_then(|v| v.to_str().ok()),
            Some("\"abc-gzip\"")
        );
        content_coding_headers(&mut h);
        assert_eq!(
            h.get(ETAG).and_then(|v| v.to_str().ok()),
            Some("\"abc-gzip\"")
        );
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("identity"));
        h.insert(ETAG, HeaderValue::from_static("\"abc\""));
        content_coding_headers(&mut h);
        assert!(h.get(CONTENT_ENCODING).is_none());
        assert_eq!(h.get(ETAG).and_then(|v| v.to_str().ok()), Some("\"abc\""));
    }

    #[test]
    fn the_document_lists_every_route_of_the_table() {
        let api = openapi();
        assert_eq!(api.paths.paths.len(), 13);
    }
}
