//! The client's CPU overhead per small request: `pilotage-client` against the real server,
//! in-process on 127.0.0.1:0, over the API tests' small release (the real `candidatures`
//! definition, 160 rows).
//!
//! Two requests, each timed three ways on the same keep-alive connection:
//! - `raw`: a bare reqwest GET of the same URL, body read as bytes: the server's time plus the
//!   HTTP round trip, the floor any client pays;
//! - `raw+decode`: the same, then `serde_json` into the shared wire type, what a hand-written
//!   client would do;
//! - `client`: the typed call of `pilotage-client` (ETag cache off, so every answer is a full
//!   200 like the raw GET's).
//!
//! `client` minus `raw` is the client's overhead per request (URL building, retry loop, ETag
//! bookkeeping, JSON decoding). A fourth line, `client+etag`, keeps the client's default ETag
//! cache: every request after the first is a conditional GET answered 304 without a body.
//!
//! Wall time includes the server's work (on its own threads) and, on a shared machine, the
//! other processes. So before the criterion samples, each variant runs `PILOTAGE_BENCH_REQUESTS`
//! requests (default 2,000) and the CPU time of the bench thread (from
//! `/proc/thread-self/schedstat`; the client runs on a current-thread runtime, so this is all
//! of its work) is printed per request: the client's own CPU cost, without the server's.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../../pilotage-api/tests/api/fixture.rs"]
mod fixture;

use std::future::Future;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pilotage_api::server::{self, ServeOptions};
use pilotage_client::{Client, Format, RetryPolicy};
use pilotage_wire::{DataPage, DatasetDetail};

fn client_overhead(c: &mut Criterion) {
    // reqwest is built without a default TLS provider; the raw client needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let version = fixture::write_release(dir.path(), 1);
    fixture::set_current(dir.path(), &version);
    let mut opts = ServeOptions::new("127.0.0.1:0", dir.path());
    opts.workers = 1;
    opts.rate_limit = None;
    opts.shutdown_timeout = 1;
    let running = server::spawn(opts).unwrap();
    let base = running.url();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = |etags: usize| {
        Client::builder()
            .base_url(base.clone())
            .retry(RetryPolicy::none())
            .etag_cache(etags)
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    };
    let typed = client(0);
    let cached = client(64);
    let raw = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let query = typed
        .data("candidatures")
        .filter("territoire", ["REG-84"])
        .filter("periode", ["2024"]);
    let data_path = query.path(Format::Json);
    let detail_url = format!("{base}/v1/datasets/candidatures");
    let data_url = format!("{base}{data_path}");

    // The answers are what the benchmark thinks they are.
    let page = rt.block_on(query.page()).unwrap();
    assert!(!page.rows.is_empty(), "the filtered query answers rows");
    let detail = rt.block_on(typed.datasets().get("candidatures")).unwrap();
    assert_eq!(detail.rows, 160);
    let sizes = rt.block_on(async {
        let a = raw.get(&detail_url).send().await.unwrap().bytes().await;
        let b = raw.get(&data_url).send().await.unwrap().bytes().await;
        (a.unwrap().len(), b.unwrap().len())
    });
    println!(
        "dataset page: {} bytes; data answer ({data_path}): {} rows, {} bytes",
        sizes.0,
        page.rows.len(),
        sizes.1
    );

    let get = |url: &str| {
        let req = raw.get(url);
        async move {
            let res = req.send().await.unwrap();
            assert!(res.status().is_success());
            res.bytes().await.unwrap()
        }
    };

    let cached_query = cached
        .data("candidatures")
        .filter("territoire", ["REG-84"])
        .filter("periode", ["2024"]);

    let n: u32 = std::env::var("PILOTAGE_BENCH_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let cpu = |label: &str, run: &mut dyn FnMut()| {
        run();
        let (wall, cpu0) = (Instant::now(), thread_cpu_seconds());
        for _ in 0..n {
            run();
        }
        let cpu_us = (thread_cpu_seconds() - cpu0) * 1e6 / f64::from(n);
        let wall_us = wall.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        println!(
            "{label:<32} client thread CPU {cpu_us:7.1} us/request, wall {wall_us:7.1} us/request"
        );
    };
    println!("{n} requests per line:");
    let detail_path = "candidatures";
    cpu("dataset_detail/raw", &mut || {
        block(&rt, get(&detail_url));
    });
    cpu("dataset_detail/raw+decode", &mut || {
        let body = block(&rt, get(&detail_url));
        serde_json::from_slice::<DatasetDetail>(&body).unwrap();
    });
    cpu("dataset_detail/client", &mut || {
        block(&rt, typed.datasets().get(detail_path)).unwrap();
    });
    cpu("dataset_detail/client+etag", &mut || {
        block(&rt, cached.datasets().get(detail_path)).unwrap();
    });
    cpu("data_json/raw", &mut || {
        block(&rt, get(&data_url));
    });
    cpu("data_json/raw+decode", &mut || {
        let body = block(&rt, get(&data_url));
        serde_json::from_slice::<DataPage>(&body).unwrap();
    });
    cpu("data_json/client", &mut || {
        block(&rt, query.page()).unwrap();
    });
    cpu("data_json/client+etag", &mut || {
        block(&rt, cached_query.page()).unwrap();
    });

    let mut g = c.benchmark_group("client_overhead/dataset_detail");
    g.bench_function("raw", |b| b.iter(|| rt.block_on(get(&detail_url))));
    g.bench_function("raw+decode", |b| {
        b.iter(|| {
            let body = rt.block_on(get(&detail_url));
            serde_json::from_slice::<DatasetDetail>(&body).unwrap()
        })
    });
    g.bench_function("client", |b| {
        b.iter(|| rt.block_on(typed.datasets().get("candidatures")).unwrap())
    });
    g.bench_function("client+etag", |b| {
        b.iter(|| rt.block_on(cached.datasets().get("candidatures")).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("client_overhead/data_json");
    g.bench_function("raw", |b| b.iter(|| rt.block_on(get(&data_url))));
    g.bench_function("raw+decode", |b| {
        b.iter(|| {
            let body = rt.block_on(get(&data_url));
            serde_json::from_slice::<DataPage>(&body).unwrap()
        })
    });
    g.bench_function("client", |b| b.iter(|| rt.block_on(query.page()).unwrap()));
    g.bench_function("client+etag", |b| {
        b.iter(|| rt.block_on(cached_query.page()).unwrap())
    });
    g.finish();

    drop(rt);
    running.stop().unwrap();
}

fn block<F: Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    rt.block_on(f)
}

/// CPU time of the calling thread in seconds (0 where `/proc/thread-self/schedstat` is absent).
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = client_overhead
}
criterion_main!(benches);
