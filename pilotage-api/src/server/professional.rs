//! Professional access on the server: the keys (read from the store and refreshed at every
//! poll, so that a revoked or expired key stops working without restart), the professional
//! tables of the current private version, the access log (written to the store in batches by
//! the same poller) and each key's own rate limit.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::cache::{REPORT_CACHE_BYTES, REPORT_ENTRY_BYTES, ReportCache};
use super::releases::{Release, Releases};
use crate::keys::{Perimeter, Role};
use crate::private::{self, PrivateSet};
use crate::reports::Measures;
use crate::storage::keys::{self as stored, AccessLogRow};
use crate::storage::{Store, date};

/// What professional access needs to run.
#[derive(Debug, Clone)]
pub struct ProfessionalOptions {
    /// Database URL of the store holding the keys and the access log.
    pub database_url: String,
    /// Folder of the professional tables (`<private>/current`).
    pub private: PathBuf,
    /// Requests per minute of one key on the professional routes.
    pub per_key_per_minute: u32,
}

/// A key the server accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveKey {
    /// Its id in the store.
    pub id: i64,
    /// Its role.
    pub role: Role,
    /// Its perimeter.
    pub perimeter: Perimeter,
    /// First instant it no longer works (UTC, RFC 3339), checked at each request too.
    pub expires_at: Option<String>,
}

type KeyLimiter = RateLimiter<i64, DefaultKeyedStateStore<i64>, DefaultClock>;

/// The professional side of a server.
pub struct Professional {
    keys: RwLock<HashMap<String, ActiveKey>>,
    tables: RwLock<Option<Arc<PrivateSet>>>,
    /// The public release's tables indexed like the professional ones, with its version.
    public: RwLock<Option<(String, Arc<PrivateSet>)>>,
    /// The server's public releases, once followed (see [`Professional::follow_releases`]).
    releases: OnceLock<Arc<Releases>>,
    log: Mutex<Sender<AccessLogRow>>,
    limiter: KeyLimiter,
    /// Measure definitions (kinds, time rules, units) the reports follow.
    pub measures: Measures,
    /// The reports already encoded (see [`ReportCache`]).
    pub answers: ReportCache,
    options: ProfessionalOptions,
}

impl std::fmt::Debug for Professional {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Professional")
            .field("private", &self.options.private)
            .finish_non_exhaustive()
    }
}

impl Professional {
    /// Loads the keys and the current professional tables, and starts the poller (every
    /// `poll`), which stops when the returned value is dropped.
    pub fn start(
        options: ProfessionalOptions,
        poll: Duration,
    ) -> std::io::Result<Arc<Professional>> {
        let (tx, rx) = mpsc::channel();
        let per_minute =
            NonZeroU32::new(options.per_key_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let professional = Arc::new(Professional {
            keys: RwLock::new(HashMap::new()),
            tables: RwLock::new(None),
            public: RwLock::new(None),
            releases: OnceLock::new(),
            log: Mutex::new(tx),
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            measures: Measures::embedded(),
            answers: ReportCache::new(REPORT_CACHE_BYTES, REPORT_ENTRY_BYTES),
            options,
        });
        let mut store = None;
        professional.refresh(&mut store);
        let weak = Arc::downgrade(&professional);
        std::thread::Builder::new()
            .name("pilotage-professional".into())
            .spawn(move || poll_loop(weak, rx, poll, store))?;
        Ok(professional)
    }

    /// Reads the keys again and loads a new private version if `current` moved.
    fn refresh(&self, store: &mut Option<Store>) {
        if store.is_none() {
            match Store::open(&self.options.database_url) {
                Ok(s) => *store = Some(s),
                Err(e) => tracing::warn!(error = %e, "professional keys: store unavailable"),
            }
        }
        if let Some(s) = store.as_mut() {
            match stored::list_keys(s) {
                Ok(list) => {
                    let now = date::now_utc_text();
                    let mut map = HashMap::new();
                    for k in list.into_iter().filter(|k| k.active_at(&now)) {
                        let (Some(role), Ok(perimeter)) =
                            (Role::from_code(&k.role), Perimeter::parse(&k.perimeter))
                        else {
                            tracing::warn!(
                                key = k.id,
                                "professional key with an unreadable role or perimeter ignored"
                            );
                            continue;
                        };
                        map.insert(
                            k.token_sha256,
                            ActiveKey {
                                id: k.id,
                                role,
                                perimeter,
                                expires_at: k.expires_at,
                            },
                        );
                    }
                    if let Ok(mut keys) = self.keys.write() {
                        *keys = map;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "professional keys: cannot read the store");
                    *store = None;
                }
            }
        }
        let Some(version) = private::current_version(&self.options.private) else {
            return;
        };
        let loaded = self
            .tables
            .read()
            .ok()
            .and_then(|t| t.as_ref().map(|t| t.version.clone()));
        if loaded.as_deref() == Some(version.as_str()) {
            return;
        }
        let started = Instant::now();
        match PrivateSet::open(&self.options.private.join(&version)) {
            Ok(set) => {
                let cells: usize = set.tables.values().map(private::PrivateTable::rows).sum();
                tracing::info!(
                    %version,
                    millis = started.elapsed().as_millis() as u64,
                    cells,
                    "professional tables loaded"
                );
                if let Ok(mut t) = self.tables.write() {
                    *t = Some(Arc::new(set));
                }
                // The versions are in the cache keys; this only frees the old answers now.
                self.answers.clear();
            }
            Err(e) => tracing::warn!(%version, error = %e, "professional tables unreadable"),
        }
    }

    /// Follows the server's public releases: indexes now the one the `territoire` report
    /// compares with, then again at each poll when it changes, so that no report request
    /// indexes a release. Only the first call counts.
    pub fn follow_releases(&self, releases: &Arc<Releases>) {
        if self.releases.get().is_some() || self.releases.set(releases.clone()).is_err() {
            return;
        }
        self.index_public();
    }

    /// Indexes the public release of the professional tables' version (else the current one)
    /// if it is not the one indexed already.
    fn index_public(&self) {
        let Some(releases) = self.releases.get() else {
            return;
        };
        let release = self
            .tables()
            .and_then(|t| releases.get(&t.version).ok())
            .or_else(|| releases.current());
        if let Some(release) = release {
            self.public(&release);
        }
    }

    /// The key whose token this is, if it works now.
    pub fn authenticate(&self, token: &str) -> Option<ActiveKey> {
        let hash = crate::keys::token_sha256(token);
        let key = self.keys.read().ok()?.get(&hash).cloned()?;
        let now = date::now_utc_text();
        key.expires_at
            .as_deref()
            .is_none_or(|e| now.as_str() < e)
            .then_some(key)
    }

    /// Spends one request of the key's quota; `Err(seconds)` to wait when it is spent.
    pub fn check_quota(&self, key: i64) -> Result<(), u64> {
        self.limiter.check_key(&key).map_err(|not_until| {
            let wait =
                not_until.wait_time_from(governor::clock::Clock::now(&DefaultClock::default()));
            wait.as_secs().max(1)
        })
    }

    /// The current professional tables.
    pub fn tables(&self) -> Option<Arc<PrivateSet>> {
        self.tables.read().ok()?.clone()
    }

    /// The public tables of a release, indexed like the professional ones (kept for the last
    /// release indexed). Indexed by the poller when the releases are followed; a release not
    /// indexed yet is indexed here, without holding any lock meanwhile.
    pub fn public(&self, release: &Release) -> Option<Arc<PrivateSet>> {
        if let Some((v, set)) = self.public.read().ok()?.as_ref()
            && v == release.version()
        {
            return Some(set.clone());
        }
        let started = Instant::now();
        let mut tables = std::collections::BTreeMap::new();
        for (id, d) in &release.datasets {
            match private::PrivateTable::new(&d.table) {
                Ok(t) => {
                    tables.insert(id.clone(), t);
                }
                Err(e) => tracing::warn!(dataset = %id, error = %e, "public table not indexed"),
            }
        }
        let set = Arc::new(PrivateSet {
            version: release.version().to_owned(),
            tables,
        });
        tracing::info!(
            version = %release.version(),
            millis = started.elapsed().as_millis() as u64,
            "public release indexed for the reports"
        );
        *self.public.write().ok()? = Some((release.version().to_owned(), set.clone()));
        Some(set)
    }

    /// Queues one row of the access log (written at the next poll).
    pub fn log(&self, key: i64, route: &str, asked: &str, status: u16, rows: usize) {
        let row = AccessLogRow {
            id: 0,
            key_id: key,
            at: date::now_utc_text(),
            route: route.to_owned(),
            asked: asked.to_owned(),
            status: i32::from(status),
            rows_returned: rows as i64,
        };
        if let Ok(tx) = self.log.lock() {
            let _ = tx.send(row);
        }
    }
}

/// The poller: refreshes keys and tables every `poll`, writes the queued access log; ends
/// (after a last write) when the server's state is dropped.
fn poll_loop(
    weak: Weak<Professional>,
    rx: Receiver<AccessLogRow>,
    poll: Duration,
    mut store: Option<Store>,
) {
    let mut pending: Vec<AccessLogRow> = Vec::new();
    let mut next = Instant::now() + poll;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(row) => {
                pending.push(row);
                if Instant::now() < next {
                    continue;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                write_log(&weak, &mut store, &mut pending);
                return;
            }
        }
        next = Instant::now() + poll;
        write_log(&weak, &mut store, &mut pending);
        let Some(p) = weak.upgrade() else {
            return;
        };
        p.refresh(&mut store);
        p.index_public();
    }
}

fn write_log(
    weak: &Weak<Professional>,
    store: &mut Option<Store>,
    pending: &mut Vec<AccessLogRow>,
) {
    if pending.is_empty() {
        return;
    }
    if store.is_none()
        && let Some(p) = weak.upgrade()
    {
        *store = Store::open(&p.options.database_url).ok();
    }
    if let Some(s) = store.as_mut() {
        match stored::append_log(s, pending) {
            Ok(()) => pending.clear(),
            Err(e) => {
                tracing::warn!(error = %e, rows = pending.len(), "access log not written yet")
            }
        }
    }
}
