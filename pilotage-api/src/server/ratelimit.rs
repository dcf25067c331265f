//! Rate limiting per client with governor (GCRA), and the IETF `RateLimit-*` headers.
//!
//! A client is its API key (header `X-API-Key`, one of the configured keys) or else its IP
//! address. Keys get their own, higher quota; release file downloads have a quota of their own
//! so that a range-reading client does not spend the data quota. Every answer carries
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the quota is
//! whole again); over quota the answer is 429 with `Retry-After` and a problem body.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::AppState;
use super::problem::Problem;

/// Header carrying an API key.
pub use pilotage_wire::API_KEY_HEADER;

/// Quotas, in requests per minute (the burst is the whole minute's quota).
#[derive(Debug, Clone)]
pub struct RateLimitOptions {
    /// Requests per minute for a client without a key (per IP address).
    pub per_ip: u32,
    /// Requests per minute for a client with a valid API key.
    pub per_key: u32,
    /// Requests per minute on release file downloads, per client.
    pub files: u32,
    /// The API keys accepted (an unknown key is refused with 401).
    pub api_keys: BTreeSet<String>,
}

impl Default for RateLimitOptions {
    fn default() -> Self {
        RateLimitOptions {
            per_ip: 1_200,
            per_key: 12_000,
            files: 6_000,
            api_keys: BTreeSet::new(),
        }
    }
}

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The limiters of one server.
pub struct RateLimits {
    ip: Limiter,
    key: Limiter,
    files: Limiter,
    api_keys: BTreeSet<String>,
    checks: AtomicU64,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("keys", &self.api_keys.len())
            .finish()
    }
}

fn limiter(per_minute: u32) -> Limiter {
    let burst = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_minute(burst)).with_middleware::<StateInformationMiddleware>()
}

impl RateLimits {
    /// Limiters for these quotas.
    pub fn new(options: &RateLimitOptions) -> Self {
        RateLimits {
            ip: limiter(options.per_ip),
            key: limiter(options.per_key),
            files: limiter(options.files),
            api_keys: options.api_keys.clone(),
            checks: AtomicU64::new(0),
        }
    }
}

/// Outcome of one check, as headers.
struct Decision {
    limit: u32,
    remaining: u32,
    reset: u64,
    retry_after: Option<u64>,
}

// The limiters are keyed by `String`: borrowing the caller's key saves a copy per request.
#[allow(clippy::ptr_arg)]
fn check(limiter: &Limiter, key: &String) -> Decision {
    match limiter.check_key(key) {
        Ok(snapshot) => {
            let quota = snapshot.quota();
            let limit = quota.burst_size().get();
            let remaining = snapshot.remaining_burst_capacity();
            let missing = limit.saturating_sub(remaining);
            let reset = (quota.replenish_interval() * missing).as_secs_f64().ceil() as u64;
            Decision {
                limit,
                remaining,
                reset,
                retry_after: None,
            }
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let quota = not_until.quota();
            let secs = wait.max(Duration::from_secs(1)).as_secs_f64().ceil() as u64;
            Decision {
                limit: quota.burst_size().get(),
                remaining: 0,
                reset: secs,
                retry_after: Some(secs),
            }
        }
    }
}

/// True for the operations routes, which probes must always reach.
fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// `WWW-Authenticate` of a refused API key (RFC 9110 §11.6.1): the scheme is an API key
/// given in the `X-API-Key` header.
pub const WWW_AUTHENTICATE: &str = "ApiKey realm=\"pilotage\", header=\"X-API-Key\"";

/// The middleware: checks the client's quota, answers 401 (with `WWW-Authenticate`) for an
/// unknown API key and 429 when the quota is spent, and adds the quota headers.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let limits = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.limits.clone());
    let Some(limits) = limits.filter(|_| !exempt(req.path())) else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let api_key = req
        .headers()
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (limiter, client) = match &api_key {
        Some(key) if limits.api_keys.contains(key) => (&limits.key, format!("key:{key}")),
        Some(_) => {
            let problem = Problem::new(
                StatusCode::UNAUTHORIZED,
                "unknown-api-key",
                "Unknown API key",
                "the API key is not one this server knows",
            )
            .param("X-API-Key")
            .hint("leave the header out to use the anonymous quota");
            let mut res = problem.to_response();
            res.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static(WWW_AUTHENTICATE),
            );
            return Ok(req.into_response(res).map_into_right_body());
        }
        None => {
            let ip = req
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            (&limits.ip, format!("ip:{ip}"))
        }
    };
    let is_file = req.path().contains("/files/");
    let limiter = if is_file { &limits.files } else { limiter };
    if limits.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
        limits.ip.retain_recent();
        limits.key.retain_recent();
        limits.files.retain_recent();
    }
    let decision = check(limiter, &client);
    let mut res = if let Some(secs) = decision.retry_after {
        if let Some(m) = req.app_data::<web::Data<AppState>>() {
            m.metrics.rate_limited();
        }
        let mut problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!(
                "the quota of {} requests per minute is spent",
                decision.limit
            ),
        )
        .hint(format!(
            "retry in {secs} s, or ask for an API key for a higher quota"
        ));
        problem.retry_after = Some(secs);
        req.into_response(problem.to_response())
            .map_into_right_body()
    } else {
        next.call(req).await?.map_into_left_body()
    };
    let headers = res.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", decision.limit as u64),
        ("ratelimit-remaining", decision.remaining as u64),
        ("ratelimit-reset", decision.reset),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
    Ok(res)
}
