//! A small Prometheus registry: requests by route and status, latency histogram by route,
//! rate-limited answers, caught panics, cache hits and size, and the current release.
//!
//! Answers are recorded into one of [`SHARDS`] shards, picked per thread: each worker thread
//! locks its own shard, so no lock is shared between workers on the request path (on shared
//! cores, a worker descheduled while holding a shared lock would stall the others for a whole
//! time slice). `/metrics` merges the shards.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// Number of shards of the per-route statistics (more than the worker threads of a server).
pub const SHARDS: usize = 16;

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Answers of one route: counts by method and status, and the latency histogram.
#[derive(Debug, Default, Clone)]
struct RouteStats {
    answers: BTreeMap<String, BTreeMap<u16, u64>>,
    latency: Histogram,
}

impl RouteStats {
    fn merge(&mut self, other: &RouteStats) {
        for (method, by_status) in &other.answers {
            let mine = self.answers.entry(method.clone()).or_default();
            for (status, n) in by_status {
                *mine.entry(*status).or_default() += n;
            }
        }
        for (a, b) in self.latency.counts.iter_mut().zip(other.latency.counts) {
            *a += b;
        }
        self.latency.count += other.latency.count;
        self.latency.sum += other.latency.sum;
    }
}

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The shard of the current thread, given in turn to threads as they first record.
    static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

/// Counters of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// By route pattern, one shard per thread (keys are allocated only the first time seen).
    shards: [Mutex<BTreeMap<String, RouteStats>>; SHARDS],
    rate_limited: AtomicU64,
    panics: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

impl Metrics {
    /// Records one answer: route pattern, method, status and duration in seconds.
    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let shard = SHARD.with(|s| *s);
        let mut routes = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        let stats = match routes.get_mut(route) {
            Some(s) => s,
            None => routes.entry(route.to_owned()).or_default(),
        };
        let by_status = match stats.answers.get_mut(method) {
            Some(m) => m,
            None => stats.answers.entry(method.to_owned()).or_default(),
        };
        *by_status.entry(status).or_default() += 1;
        let h = &mut stats.latency;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// Counts one 429 answer.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one caught panic.
    pub fn panicked(&self) {
        self.panics.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one cache lookup.
    pub fn cache_lookup(&self, hit: bool) {
        let c = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, release: Option<&str>, cache: Option<(u64, u64)>) -> String {
        let mut out = String::new();
        out.push_str("# HELP pilotage_http_requests_total Answers by route, method and status.\n");
        out.push_str("# TYPE pilotage_http_requests_total counter\n");
        let mut routes: BTreeMap<String, RouteStats> = BTreeMap::new();
        for shard in &self.shards {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for (route, stats) in shard.iter() {
                match routes.get_mut(route) {
                    Some(merged) => merged.merge(stats),
                    None => {
                        routes.insert(route.clone(), stats.clone());
                    }
                }
            }
        }
        for (route, stats) in routes.iter() {
            for (method, by_status) in &stats.answers {
                for (status, n) in by_status {
                    let _ = writeln!(
                        out,
                        "pilotage_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                        escape(route)
                    );
                }
            }
        }
        out.push_str("# HELP pilotage_http_request_duration_seconds Time to answer, by route.\n");
        out.push_str("# TYPE pilotage_http_request_duration_seconds histogram\n");
        for (route, stats) in routes.iter() {
            let h = &stats.latency;
            let route = escape(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "pilotage_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "pilotage_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "pilotage_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "pilotage_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        for (name, help, value) in [
            (
                "pilotage_rate_limited_total",
                "Answers refused with 429.",
                &self.rate_limited,
            ),
            (
                "pilotage_panics_total",
                "Handler panics caught and answered with 500.",
                &self.panics,
            ),
            (
                "pilotage_cache_hits_total",
                "Data answers served from the cache.",
                &self.cache_hits,
            ),
            (
                "pilotage_cache_misses_total",
                "Data answers encoded afresh.",
                &self.cache_misses,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        if let Some((bytes, entries)) = cache {
            let _ = writeln!(
                out,
                "# HELP pilotage_cache_bytes Bytes held by the answer cache.\n# TYPE pilotage_cache_bytes gauge\npilotage_cache_bytes {bytes}"
            );
            let _ = writeln!(
                out,
                "# HELP pilotage_cache_entries Answers held by the cache.\n# TYPE pilotage_cache_entries gauge\npilotage_cache_entries {entries}"
            );
        }
        if let Some(v) = release {
            let _ = writeln!(
                out,
                "# HELP pilotage_release_info The release served as current.\n# TYPE pilotage_release_info gauge\npilotage_release_info{{version=\"{}\"}} 1",
                escape(v)
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_recorded_on_several_threads_are_merged() {
        let metrics = std::sync::Arc::new(Metrics::default());
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let m = metrics.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        m.observe("/v1/datasets", "GET", 200, 0.0002);
                    }
                    m.observe("/v1/datasets", "GET", if i == 0 { 404 } else { 200 }, 0.02);
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let text = metrics.render(Some("v1"), None);
        assert!(text.contains(
            "pilotage_http_requests_total{route=\"/v1/datasets\",method=\"GET\",status=\"200\"} 43"
        ), "{text}");
        assert!(text.contains(
            "pilotage_http_requests_total{route=\"/v1/datasets\",method=\"GET\",status=\"404\"} 1"
        ));
        assert!(text.contains(
            "pilotage_http_request_duration_seconds_bucket{route=\"/v1/datasets\",le=\"0.0005\"} 40"
        ));
        assert!(
            text.contains(
                "pilotage_http_request_duration_seconds_count{route=\"/v1/datasets\"} 44"
            )
        );
        assert!(text.contains("pilotage_release_info{version=\"v1\"} 1"));
    }
}
