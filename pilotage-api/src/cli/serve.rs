//! `pilotage serve`: the open-data API on a releases directory.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::server::{self, RateLimitOptions, ServeOptions};

/// Options of `pilotage serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", env = "PILOTAGE_BIND")]
    pub bind: String,
    /// The releases directory (with its `current` link), as `pilotage publish` writes it.
    #[arg(long, default_value = "releases", env = "PILOTAGE_RELEASES")]
    pub releases: PathBuf,
    /// Bytes of encoded answers kept in the cache (0 turns the cache off).
    #[arg(long, default_value_t = 256 * 1024 * 1024)]
    pub cache_bytes: u64,
    /// Requests per minute per IP address (0 turns rate limiting off).
    #[arg(long, default_value_t = 1_200)]
    pub rate_limit: u32,
    /// Requests per minute per API key.
    #[arg(long, default_value_t = 12_000)]
    pub rate_limit_key: u32,
    /// Requests per minute on release file downloads, per client.
    #[arg(long, default_value_t = 6_000)]
    pub rate_limit_files: u32,
    /// API keys accepted in the `X-API-Key` header, comma-separated.
    #[arg(
        long,
        env = "PILOTAGE_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<String>,
    /// Milliseconds between two checks of the `current` link.
    #[arg(long, default_value_t = 1_000)]
    pub poll_ms: u64,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Public address of the API (`https://data.example.org`), which the served DCAT catalog
    /// gives for the release files. Default: each request's own scheme and `Host` header
    /// (`X-Forwarded-*` headers are not trusted).
    #[arg(long, env = "PILOTAGE_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,
    /// Store holding the professional keys and the access log (SQLite path or `postgres://`
    /// URL): with it, the reports are served to professional keys. Without it, open data only.
    #[arg(long, env = crate::storage::DATABASE_URL_ENV)]
    pub database_url: Option<String>,
    /// Folder of the professional tables (default: `private` beside the releases folder).
    #[arg(long)]
    pub private: Option<PathBuf>,
    /// Requests per minute of one professional key on the reports.
    #[arg(long, default_value_t = 600)]
    pub rate_limit_professional: u32,
}

/// Checks `--public-url`: an absolute `http` or `https` URL with a host, without query or
/// fragment; the trailing slash is dropped.
fn public_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or("the public URL starts with http:// or https://")?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    {
        return Err(format!("{text:?} names no valid host"));
    }
    if text.contains(['?', '#', ' ']) {
        return Err("the public URL has no query, fragment or space".into());
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// Runs `pilotage serve` until SIGTERM or ctrl-c.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .try_init();
    let rate_limit = (args.rate_limit > 0).then(|| RateLimitOptions {
        per_ip: args.rate_limit,
        per_key: args.rate_limit_key.max(1),
        files: args.rate_limit_files.max(1),
        api_keys: args
            .api_keys
            .iter()
            .filter(|k| !k.is_empty())
            .cloned()
            .collect::<BTreeSet<_>>(),
    });
    let professional = args
        .database_url
        .map(|url| server::professional::ProfessionalOptions {
            database_url: url,
            private: args
                .private
                .clone()
                .unwrap_or_else(|| super::publish::default_private(&args.releases)),
            per_key_per_minute: args.rate_limit_professional.max(1),
        });
    let options = ServeOptions {
        professional,
        rate_limit,
        cache_bytes: args.cache_bytes,
        poll_interval: Duration::from_millis(args.poll_ms.max(10)),
        workers: args.workers,
        public_url: args.public_url,
        ..ServeOptions::new(args.bind, args.releases)
    };
    server::run(options, |url| {
        println!("pilotage serves {url}/v1/datasets (documentation: {url}/docs/)");
    })
    .context("serving the API")
}
