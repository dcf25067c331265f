//! The open dashboards: French HTML pages served by `pilotage serve` beside the API, from the
//! same in-memory release (docs/dashboards.md).
//!
//! - `/`: what pilotage publishes, the current release, its datasets, a territory search;
//! - `/datasets/{id}`: a dataset's description, methodology, preview with filters, downloads;
//! - `/territoires/{code}` (`FR`, `REG-84`, `DEP-34`): the dashboard of a territory;
//! - `/recherche?q=`: the territory search (a single match redirects to its dashboard);
//! - `/assets/…`: the vendored design system and the pages' style sheet, content-hashed.
//!
//! Pages are rendered with maud (templates checked at compile time), use no script, draw
//! their charts as SVG on the server ([`components`]), and are answered like data answers:
//! a strong `ETag` (release, address, build), `304` on `If-None-Match`, gzip or zstd, and the
//! rendered page kept in the answer cache. The components ([`layout`], [`components`]) are
//! plain functions that any other page or printable report can call.

pub mod assets;
pub mod components;
pub mod cube;
mod dataset;
mod home;
pub mod layout;
mod search;
mod territory;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use maud::{Markup, html};

use crate::server::AppState;
use crate::server::cache::{self, Encoded};
use crate::server::data::short_hash;
use crate::server::encoding::{Coding, MIN_COMPRESS_BYTES};
use crate::server::files::{self, IMMUTABLE, REVALIDATE};
use crate::server::releases::Release;

/// Media type of the pages.
pub const MEDIA_HTML: &str = "text/html; charset=utf-8";

/// `Content-Security-Policy` of the pages: everything from this server, no script, no frame.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
font-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// Registers the pages and their assets (not in the OpenAPI document: they are not API).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::handler))
        .route("/datasets/{id}", web::get().to(dataset::handler))
        .route("/territoires/{code}", web::get().to(territory::handler))
        .route("/recherche", web::get().to(search::handler))
        .route("/assets/{path:.*}", web::get().to(asset));
}

/// A page that cannot be shown: its status and a French explanation.
#[derive(Debug)]
pub struct PageError {
    /// HTTP status (404, 400, 503).
    pub status: StatusCode,
    /// Title of the error page.
    pub title: String,
    /// What happened and what to do.
    pub message: String,
}

impl PageError {
    /// A 404 page.
    pub fn not_found(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            title: "Page introuvable".into(),
            message: message.into(),
        }
    }

    /// A 400 page.
    pub fn bad_request(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::BAD_REQUEST,
            title: "Demande incorrecte".into(),
            message: message.into(),
        }
    }

    /// The answer: a French page with the status, never cached.
    pub fn respond(&self) -> HttpResponse {
        let body = layout::page(
            &self.title,
            &[(self.title.as_str(), None)],
            html! {
                h1 { (self.title) }
                p.fr-text--lead { (self.message) }
                p { "Erreur " (self.status.as_u16()) "." }
                (layout::search_box(""))
                p.fr-mt-4w { a.fr-link href="/" { "Retour à l'accueil" } }
            },
        );
        let mut res = HttpResponse::build(self.status)
            .content_type(MEDIA_HTML)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body.into_string());
        security_headers(&mut res);
        res
    }
}

fn no_release() -> PageError {
    PageError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        title: "Aucune publication".into(),
        message:
            "Aucune publication n'est encore chargée: publiez-en une avec `pilotage publish`, \
                  puis rechargez la page."
                .into(),
    }
}

/// The current release, or the 503 page.
pub fn current(state: &AppState) -> Result<Arc<Release>, PageError> {
    state.releases.current().ok_or_else(no_release)
}

fn security_headers(res: &mut HttpResponse) {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// Answers a page of the current release with [`answer`], `render` given the release; the
/// 503 page when no release is loaded.
pub fn answer_current(
    req: &HttpRequest,
    state: &AppState,
    render: impl FnOnce(&Release) -> Result<Markup, PageError>,
) -> HttpResponse {
    let release = match current(state) {
        Ok(r) => r,
        Err(e) => return e.respond(),
    };
    answer(req, state, release.version(), || render(&release))
}

/// Answers a page of `release` at the request's address: `304` when `If-None-Match` names
/// it, the cached rendering when there is one, else `render()` compressed as the client
/// prefers and kept in the answer cache. The strong `ETag` hashes the release version, the
/// build (version and asset hashes) and the address with its query.
pub fn answer(
    req: &HttpRequest,
    state: &AppState,
    release: &str,
    render: impl FnOnce() -> Result<Markup, PageError>,
) -> HttpResponse {
    let etag = format!(
        "\"{}\"",
        short_hash(&[
            release,
            "page",
            env!("CARGO_PKG_VERSION"),
            assets::DSFR_HASH.as_str(),
            assets::PAGES_CSS_HASH.as_str(),
            req.path(),
            req.query_string(),
        ])
    );
    let coding = Coding::negotiate(req.headers());
    if files::none_match(req.headers(), &etag) {
        let mut res =
            files::not_modified_varying(&coding.etag(&etag), REVALIDATE, cache::VARY_DATA);
        security_headers(&mut res);
        return res;
    }
    let key = cache::key(&format!("page\n{etag}"), coding);
    if let Some(hit) = state.cache.as_ref().and_then(|c| c.get(&key)) {
        let mut res = hit.respond();
        security_headers(&mut res);
        return res;
    }
    let markup = match render() {
        Ok(m) => m,
        Err(e) => return e.respond(),
    };
    let body = Bytes::from(markup.into_string());
    let coding = if body.len() < MIN_COMPRESS_BYTES {
        Coding::Identity
    } else {
        coding
    };
    let (body, coding) = match coding.encode(&body) {
        Ok(coded) => (coded, coding),
        Err(e) => {
            tracing::warn!(error = %e, "cannot compress a page");
            (body, Coding::Identity)
        }
    };
    let encoded = Arc::new(Encoded::new(body, MEDIA_HTML, &etag, None, coding, release));
    if let Some(c) = &state.cache {
        c.insert(key, encoded.clone());
    }
    let mut res = encoded.respond();
    security_headers(&mut res);
    res
}

/// `/assets/{path}`: a vendored file under its content hash, cached for a year as immutable;
/// any other path is a 404 page.
async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some((bytes, media)) = assets::find(&path) else {
        return PageError::not_found("Ce fichier n'existe pas (ou plus) à cette adresse.")
            .respond();
    };
    let etag = format!(
        "\"{}\"",
        short_hash(&[path.as_str(), assets::DSFR_HASH.as_str()])
    );
    if files::none_match(req.headers(), &etag) {
        return files::not_modified(&etag, IMMUTABLE);
    }
    HttpResponse::Ok()
        .content_type(media)
        .insert_header((header::CACHE_CONTROL, IMMUTABLE))
        .insert_header((header::ETAG, etag))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(Bytes::from_static(bytes))
}

/// The public address of the server for the snippets of a page: the configured one, else the
/// request's own scheme and host.
pub fn base_url(req: &HttpRequest, state: &AppState) -> String {
    if let Some(u) = &state.public_url {
        return u.clone();
    }
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}
