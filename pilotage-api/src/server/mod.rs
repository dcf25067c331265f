//! `pilotage serve`: the open-data HTTP API (ARCHITECTURE.md, actix-web + utoipa).
//!
//! - [`app`]: the route table, the middleware stack and the OpenAPI document;
//! - [`routes`]: the handlers;
//! - [`releases`]: releases loaded from disk and the hot switch of `current`;
//! - [`data`]: data queries (filters, measures, sort, keyset cursor) and their encodings;
//! - [`files`]: release file downloads with `ETag` and byte ranges;
//! - [`encoding`]: gzip and zstd content codings, each with its own strong `ETag`;
//! - [`problem`]: RFC 9457 problem answers;
//! - [`professional`], [`reports`]: professional keys, their tables and the reports;
//! - [`ratelimit`], [`cache`], [`metrics`]: quotas, the answer cache, Prometheus metrics.
//!
//! Start a server with [`spawn`] (returns once it listens, with its address) or run one to
//! the end with [`run`] (until SIGTERM or ctrl-c, then a graceful shutdown).

// Handlers return `Result<_, Problem>`: a problem is built only on the error path (a client's
// mistake), where its size does not matter, and it carries what the answer needs.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod byte_cache;
pub mod cache;
pub mod data;
pub mod encoding;
pub mod files;
pub mod metrics;
pub mod problem;
pub mod professional;
pub mod ratelimit;
pub mod releases;
pub mod reports;
pub mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use ratelimit::RateLimitOptions;
pub use releases::Releases;

/// Everything `pilotage serve` can be told.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free port).
    pub bind: String,
    /// The releases directory (holding `current` and the release folders).
    pub releases: PathBuf,
    /// Bytes of encoded answers kept in the cache (0: no cache).
    pub cache_bytes: u64,
    /// Quotas; `None` turns rate limiting off.
    pub rate_limit: Option<RateLimitOptions>,
    /// How often the `current` link is checked for a new release.
    pub poll_interval: Duration,
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// Seconds given to in-flight requests on shutdown.
    pub shutdown_timeout: u64,
    /// Public address of the API (`https://data.example.org`, no trailing slash), which the
    /// served catalog gives for the release files: the files' address belongs to the
    /// deployment, not to the publication. `None`: each request's own scheme and `Host`.
    pub public_url: Option<String>,
    /// Professional access (keys, professional tables, reports); `None`: open data only.
    pub professional: Option<professional::ProfessionalOptions>,
}

impl ServeOptions {
    /// Defaults for serving `releases` on `bind`: 256 MiB cache, default quotas, 1 s poll.
    pub fn new(bind: impl Into<String>, releases: impl Into<PathBuf>) -> Self {
        ServeOptions {
            bind: bind.into(),
            releases: releases.into(),
            cache_bytes: 256 * 1024 * 1024,
            rate_limit: Some(RateLimitOptions::default()),
            poll_interval: Duration::from_secs(1),
            workers: 0,
            shutdown_timeout: 10,
            public_url: None,
            professional: None,
        }
    }
}

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The releases directory and the loaded releases.
    pub releases: Arc<Releases>,
    /// Cache of encoded data answers (none when disabled).
    pub cache: Option<cache::AnswerCache>,
    /// Release files kept in memory (small ones, bounded in bytes).
    pub files: files::FileCache,
    /// Prometheus counters.
    pub metrics: Arc<metrics::Metrics>,
    /// Rate limiters (none when disabled).
    pub limits: Option<Arc<ratelimit::RateLimits>>,
    /// Public address of the API, without trailing slash (see [`ServeOptions::public_url`]).
    pub public_url: Option<String>,
    /// Professional access (none when not configured).
    pub professional: Option<Arc<professional::Professional>>,
}

/// A server that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The releases directory does not exist.
    #[error("releases directory {}: {source}", path.display())]
    Releases {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The address cannot be bound.
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        /// The address asked for.
        bind: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The server thread failed.
    #[error("server: {0}")]
    Runtime(String),
}

/// A server running on its own thread.
#[derive(Debug)]
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its releases (for tests: force a refresh).
    pub releases: Arc<Releases>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the end.
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.releases.stop();
        let handle = self.handle.clone();
        let stop = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(handle.stop(true));
        });
        let _ = stop.join();
        self.join()
    }

    /// Waits until the server ends (SIGTERM, SIGINT or [`RunningServer::stop`]).
    pub fn wait(mut self) -> Result<(), ServeError> {
        self.join()
    }

    /// Waits for the server thread, then stops the watcher of `current`: the watcher follows
    /// the link for as long as the server serves, and not a tick longer.
    fn join(&mut self) -> Result<(), ServeError> {
        let ended = self.thread.take().map(|t| t.join());
        self.releases.stop();
        match ended {
            Some(Ok(Ok(()))) | None => Ok(()),
            Some(Ok(Err(e))) => Err(ServeError::Runtime(e.to_string())),
            Some(Err(_)) => Err(ServeError::Runtime("the server thread panicked".into())),
        }
    }
}

/// Starts a server on its own thread and returns once it listens. It follows `current`
/// (polling every [`ServeOptions::poll_interval`]) and stops gracefully on SIGTERM or ctrl-c.
pub fn spawn(options: ServeOptions) -> Result<RunningServer, ServeError> {
    std::fs::metadata(&options.releases).map_err(|source| ServeError::Releases {
        path: options.releases.clone(),
        source,
    })?;
    let releases = Releases::open(&options.releases);
    releases
        .watch(options.poll_interval)
        .map_err(|e| ServeError::Runtime(e.to_string()))?;
    let professional = match &options.professional {
        Some(o) => Some(
            professional::Professional::start(o.clone(), options.poll_interval)
                .map_err(|e| ServeError::Runtime(e.to_string()))?,
        ),
        None => None,
    };
    let state = actix_web::web::Data::new(AppState {
        professional,
        releases: releases.clone(),
        cache: cache::answer_cache(options.cache_bytes),
        files: files::FileCache::new(files::FILE_CACHE_BYTES),
        metrics: Arc::new(metrics::Metrics::default()),
        limits: options
            .rate_limit
            .as_ref()
            .map(|o| Arc::new(ratelimit::RateLimits::new(o))),
        public_url: options
            .public_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_owned()),
    });
    let listener =
        std::net::TcpListener::bind(&options.bind).map_err(|source| ServeError::Bind {
            bind: options.bind.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        bind: options.bind.clone(),
        source,
    })?;
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("pilotage-server".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let mut server = actix_web::HttpServer::new(move || app::build(state.clone()))
                    .shutdown_timeout(options.shutdown_timeout);
                if options.workers > 0 {
                    server = server.workers(options.workers);
                }
                let server = match server.listen(listener) {
                    Ok(s) => s.run(),
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                        return Ok(());
                    }
                };
                let _ = tx.send(Ok(server.handle()));
                server.await
            })
        })
        .map_err(|e| ServeError::Runtime(e.to_string()))?;
    let handle = rx
        .recv()
        .map_err(|_| ServeError::Runtime("the server thread ended before listening".into()))?
        .map_err(ServeError::Runtime)?;
    tracing::info!(%addr, releases = %options.releases.display(), "listening");
    Ok(RunningServer {
        addr,
        releases,
        handle,
        thread: Some(thread),
    })
}

/// Runs a server until SIGTERM or ctrl-c; `on_listening` is told its base URL once it listens
/// (the CLI prints it).
pub fn run(options: ServeOptions, on_listening: impl FnOnce(&str)) -> Result<(), ServeError> {
    let server = spawn(options)?;
    on_listening(&server.url());
    server.wait()
}
