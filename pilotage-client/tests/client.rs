//! The client against the real server, in-process on 127.0.0.1:0, over a small release written
//! the way the release layout says (the API tests' fixture: the real `candidatures` definition).

#[allow(dead_code)]
#[path = "../../pilotage-api/tests/api/fixture.rs"]
mod fixture;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use pilotage_api::server::{self, RateLimitOptions, RunningServer, ServeOptions};
use pilotage_client::{Client, Error, Format, RetryPolicy, partial_name, sha256_file};

struct Env {
    dir: tempfile::TempDir,
    server: Option<RunningServer>,
    version: String,
}

impl Env {
    fn with(options: impl FnOnce(ServeOptions) -> ServeOptions) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let version = fixture::write_release(dir.path(), 1);
        fixture::set_current(dir.path(), &version);
        let mut opts = ServeOptions::new("127.0.0.1:0", dir.path());
        opts.workers = 2;
        opts.poll_interval = Duration::from_millis(50);
        opts.rate_limit = None;
        opts.shutdown_timeout = 1;
        let server = server::spawn(options(opts)).expect("server starts");
        Env {
            dir,
            server: Some(server),
            version,
        }
    }

    fn new() -> Env {
        Env::with(|o| o)
    }

    fn url(&self) -> String {
        self.server.as_ref().expect("running").url()
    }

    fn client(&self) -> Client {
        Client::builder()
            .base_url(self.url())
            .retry(RetryPolicy::new(
                3,
                Duration::from_millis(20),
                Duration::from_secs(5),
            ))
            .build()
            .expect("client")
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            let _ = s.stop();
        }
    }
}

#[tokio::test]
async fn catalogue_detail_schema_releases_territories() {
    let env = Env::new();
    let c = env.client();
    let health = c.health().await.expect("health");
    assert_eq!(health.status, "ok");

    let list = c.datasets().list().await.expect("list");
    assert_eq!(list.release, env.version);
    let ids: Vec<&str> = list.datasets.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["candidatures"]);
    assert_eq!(list.datasets[0].rows, 160);

    let d = c.datasets().get("candidatures").await.expect("detail");
    assert_eq!(d.release, env.version);
    assert!(
        d.dimensions
            .iter()
            .any(|x| x.id == "territoire" && x.members.iter().any(|m| m.code == "REG-84"))
    );
    assert!(d.measures.iter().any(|m| m.id == "recues"));
    assert!(
        d.files
            .iter()
            .any(|f| f.name == "candidatures.parquet" && f.sha256.len() == 64)
    );

    let schema = c.datasets().schema("candidatures").await.expect("schema");
    assert!(schema["fields"].as_array().is_some_and(|f| !f.is_empty()));

    let releases = c.releases().list().await.expect("releases");
    assert_eq!(releases.current.as_deref(), Some(env.version.as_str()));
    let manifest = c.releases().manifest("current").await.expect("manifest");
    assert_eq!(manifest.version, env.version);
    let file = c
        .releases()
        .file(&env.version, "manifest.json")
        .await
        .expect("manifest file");
    assert!(!file.is_empty());

    let regions = c.territories("region").await.expect("territories");
    let ara = regions.iter().find(|t| t.code == "84").expect("région 84");
    assert_eq!(ara.name, "Auvergne-Rhône-Alpes");
}

#[tokio::test]
async fn data_filters_pages_to_the_end_and_formats() {
    let env = Env::new();
    let c = env.client();
    let all = c.data("candidatures").page().await.expect("all rows");
    assert_eq!(all.rows.len(), 160);
    assert!(all.next.is_none());

    let ara = c
        .data("candidatures")
        .filter("territoire", ["REG-84"])
        .measures(["recues"])
        .sort(["-recues"])
        .page()
        .await
        .expect("filtered");
    assert_eq!(ara.rows.len(), 32);
    assert!(ara.rows.iter().all(|r| r["territoire"] == "REG-84"));
    assert!(ara.rows.iter().all(|r| !r.contains_key("taux_acceptation")));

    // Pages of 7 rows, followed to the end: the same rows in the same order.
    let pages: Vec<_> = c.data("candidatures").limit(7).pages().collect().await;
    assert_eq!(pages.len(), 160usize.div_ceil(7));
    let streamed: Vec<_> = c
        .data("candidatures")
        .limit(7)
        .rows()
        .map(|r| r.expect("row"))
        .collect()
        .await;
    assert_eq!(streamed, all.rows);

    let csv = c
        .data("candidatures")
        .filter("territoire", ["REG-84", "REG-11"])
        .bytes(Format::Csv)
        .await
        .expect("csv");
    assert_eq!(csv.iter().filter(|b| **b == b'\n').count(), 1 + 64);
    let nd = c
        .data("candidatures")
        .bytes(Format::Ndjson)
        .await
        .expect("ndjson");
    assert_eq!(nd.iter().filter(|b| **b == b'\n').count(), 160);

    let batches = c
        .data("candidatures")
        .filter("territoire", ["REG-84"])
        .limit(10)
        .record_batches()
        .await
        .expect("arrow");
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 32);
    assert!(batches[0].schema().field_with_name("territoire").is_ok());
}

#[tokio::test]
async fn release_pinning_and_etag_reuse() {
    let env = Env::new();
    let c = env.client();
    let before = c.data("candidatures").page().await.expect("v1");
    let v2 = fixture::write_release(env.dir.path(), 2);
    assert_ne!(v2, env.version);
    fixture::set_current(env.dir.path(), &v2);
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.datasets().list().await.expect("list").release != v2 {
        assert!(Instant::now() < deadline, "current switches");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now = c.data("candidatures").page().await.expect("v2");
    assert_eq!(now.release, v2);
    let pinned = c
        .data("candidatures")
        .release(&env.version)
        .page()
        .await
        .expect("pinned");
    assert_eq!(pinned.release, env.version);
    assert_eq!(pinned.rows, before.rows);
    assert_ne!(now.rows, before.rows);
    let pinned_list = c
        .datasets()
        .release(&env.version)
        .list()
        .await
        .expect("pinned list");
    assert_eq!(pinned_list.release, env.version);

    // The same query again: conditional, answered 304, body from the cache.
    let hits = c.not_modified_count();
    let again = c
        .data("candidatures")
        .release(&env.version)
        .page()
        .await
        .expect("again");
    assert_eq!(again, pinned);
    assert_eq!(c.not_modified_count(), hits + 1);
    // A client without a cache downloads again.
    let bare = Client::builder()
        .base_url(env.url())
        .etag_cache(0)
        .build()
        .expect("client");
    bare.data("candidatures").page().await.expect("first");
    bare.data("candidatures").page().await.expect("second");
    assert_eq!(bare.not_modified_count(), 0);
}

#[tokio::test]
async fn download_resumes_verifies_and_never_leaves_a_bad_file() {
    let env = Env::new();
    let c = env.client();
    let out = tempfile::tempdir().expect("out");
    let name = "candidatures.parquet";
    let manifest = c.releases().manifest("current").await.expect("manifest");
    let entry = manifest
        .files
        .iter()
        .find(|f| f.name == name)
        .expect("entry");

    let mut seen = Vec::new();
    let path = c
        .releases()
        .download("current", name, out.path(), |p| seen.push(p))
        .await
        .expect("download");
    assert_eq!(path, out.path().join(name));
    assert_eq!(sha256_file(&path).expect("sha"), entry.sha256);
    assert_eq!(
        seen.last().map(|p| (p.done, p.total)),
        Some((entry.bytes, entry.bytes))
    );
    let whole = std::fs::read(&path).expect("read");

    // Interrupted download: half the file under the partial name, then resume by Range.
    let dir2 = tempfile::tempdir().expect("out");
    let half = whole.len() / 2;
    std::fs::write(dir2.path().join(partial_name(name)), &whole[..half]).expect("partial");
    let mut seen = Vec::new();
    let path = c
        .releases()
        .download(&env.version, name, dir2.path(), |p| seen.push(p))
        .await
        .expect("resume");
    assert!(
        seen.iter().all(|p| p.resumed_from == half as u64),
        "{seen:?}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), whole);
    assert!(!dir2.path().join(partial_name(name)).exists());

    // A corrupted partial file: the checksum catches it, nothing is left under either name.
    let dir3 = tempfile::tempdir().expect("out");
    let mut bad = whole[..half].to_vec();
    bad[half / 2] ^= 0xff;
    std::fs::write(dir3.path().join(partial_name(name)), &bad).expect("partial");
    let err = c
        .releases()
        .download("current", name, dir3.path(), |_| {})
        .await
        .expect_err("mismatch");
    match &err {
        Error::ChecksumMismatch { expected, .. } => assert_eq!(expected, &entry.sha256),
        other => panic!("expected a checksum mismatch, got {other:?}"),
    }
    assert!(err.to_string().contains(name));
    assert!(!dir3.path().join(name).exists());
    assert!(!dir3.path().join(partial_name(name)).exists());

    let err = c
        .releases()
        .download("current", "nothing.parquet", dir3.path(), |_| {})
        .await
        .expect_err("unknown file");
    assert!(matches!(err, Error::NotInManifest { .. }), "{err:?}");
}

#[tokio::test]
async fn problems_map_to_typed_errors() {
    let env = Env::new();
    let c = env.client();
    let err = c
        .datasets()
        .get("nothing")
        .await
        .expect_err("unknown dataset");
    assert_eq!(err.status(), Some(404));
    let p = err.problem().expect("problem");
    assert!(p.kind.starts_with("urn:pilotage:problem:"), "{p:?}");
    assert!(!p.detail.is_empty());

    let err = c
        .data("candidatures")
        .filter("territoire", ["REG-99"])
        .page()
        .await
        .expect_err("bad code");
    let p = err.problem().expect("problem");
    assert_eq!(p.kind, "urn:pilotage:problem:unknown-code");
    assert_eq!(p.parameter.as_deref(), Some("territoire"));
    assert!(p.hint.as_deref().is_some_and(|h| h.contains("REG-84")));
    assert!(err.to_string().contains("400"), "{err}");

    let err = c
        .data("candidatures")
        .filter("pays", ["FR"])
        .page()
        .await
        .expect_err("bad dimension");
    assert_eq!(
        err.problem().and_then(|p| p.parameter.as_deref()),
        Some("pays")
    );
    let err = c
        .data("candidatures")
        .measures(["nope"])
        .page()
        .await
        .expect_err("bad measure");
    assert_eq!(err.status(), Some(400));
    let err = c
        .releases()
        .manifest("1999-nothing")
        .await
        .expect_err("unknown release");
    assert!(matches!(err.status(), Some(400 | 404)), "{err:?}");
}

#[tokio::test]
async fn retries_on_429_honour_retry_after() {
    let env = Env::with(|mut o| {
        o.rate_limit = Some(RateLimitOptions {
            per_ip: 60,
            per_key: 600,
            files: 600,
            api_keys: BTreeSet::new(),
        });
        o
    });
    let eager = Client::builder()
        .base_url(env.url())
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let mut refused = None;
    for _ in 0..200 {
        match eager.datasets().list().await {
            Ok(_) => {}
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let err = refused.expect("the quota runs out");
    match &err {
        Error::Api {
            status,
            retry_after,
            problem,
            ..
        } => {
            assert_eq!(*status, 429);
            assert!(
                retry_after.is_some_and(|s| (1..=60).contains(&s)),
                "{err:?}"
            );
            assert_eq!(problem.kind, "urn:pilotage:problem:rate-limited");
        }
        other => panic!("expected 429, got {other:?}"),
    }
    // A patient client waits as told and gets through.
    let patient = Client::builder()
        .base_url(env.url())
        .retry(RetryPolicy::new(
            4,
            Duration::from_millis(10),
            Duration::from_secs(5),
        ))
        .build()
        .expect("client");
    let start = Instant::now();
    let list = patient.datasets().list().await.expect("after waiting");
    assert_eq!(list.release, env.version);
    assert!(
        start.elapsed() >= Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn bad_base_url_and_server_down() {
    for bad in ["not a url", "ftp://127.0.0.1/", "http://"] {
        let err = Client::new(bad).expect_err(bad);
        assert!(
            matches!(err, Error::InvalidBaseUrl { .. }),
            "{bad}: {err:?}"
        );
        assert!(err.to_string().contains("invalid base URL"), "{err}");
    }
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let c = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy::new(
            3,
            Duration::from_millis(10),
            Duration::from_millis(50),
        ))
        .build()
        .expect("client");
    let err = c.datasets().list().await.expect_err("down");
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
    // The underlying cause, not only "error sending request".
    assert!(
        err.to_string()
            .to_lowercase()
            .contains("connection refused"),
        "{err}"
    );
}

#[tokio::test]
async fn filters_on_one_dimension_merge_into_one_parameter() {
    let env = Env::new();
    let c = env.client();
    let q = c
        .data("candidatures")
        .filter("territoire", ["REG-84"])
        .filter("periode", ["2024"])
        .filter("territoire", ["REG-11", "REG-84"]);
    let path = q.path(Format::Json);
    assert_eq!(path.matches("territoire=").count(), 1, "{path}");
    assert!(
        path.contains("territoire=REG-84,REG-11&periode=2024"),
        "{path}"
    );
    let page = q
        .page()
        .await
        .expect("one parameter per dimension: accepted");
    let one_list = c
        .data("candidatures")
        .filter("territoire", ["REG-84", "REG-11"])
        .filter("periode", ["2024"])
        .page()
        .await
        .expect("comma list");
    assert_eq!(page.rows.len(), one_list.rows.len());
    assert!(!page.rows.is_empty());
}

/// Decodes the server's JSON into the shared wire type and encodes it again: the same JSON, so
/// the wire types carry every field the server writes, with the same names.
async fn round_trips<T>(c: &Client, path: &str)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let answer = c.get(path).await.expect(path);
    let raw: serde_json::Value = serde_json::from_slice(&answer.body).expect("json");
    let typed: T = answer.json().expect("wire type");
    assert_eq!(serde_json::to_value(&typed).expect("encode"), raw, "{path}");
}

#[tokio::test]
async fn wire_types_match_the_server_json_exactly() {
    use pilotage_client::wire::{
        DataPage, DatasetDetail, DatasetList, Health, Problem, ReleaseList, Territory,
    };
    let env = Env::new();
    let c = env.client();
    round_trips::<DatasetList>(&c, "/v1/datasets").await;
    round_trips::<DatasetDetail>(&c, "/v1/datasets/candidatures").await;
    round_trips::<DataPage>(&c, "/v1/datasets/candidatures/data?limit=5").await;
    round_trips::<ReleaseList>(&c, "/v1/releases").await;
    round_trips::<pilotage_client::Manifest>(&c, "/v1/releases/current").await;
    round_trips::<Vec<Territory>>(&c, "/v1/territories?level=departement").await;
    round_trips::<Health>(&c, "/healthz").await;
    // A problem body, read raw.
    let res = reqwest::get(format!("{}/v1/datasets/nothing", env.url()))
        .await
        .expect("request");
    let raw: serde_json::Value = res.json().await.expect("problem json");
    let typed: Problem = serde_json::from_value(raw.clone()).expect("problem");
    assert_eq!(serde_json::to_value(&typed).expect("encode"), raw);
}
