//! What the API publishes must be right: `serve` follows `current`, release files are served
//! only as their manifest describes them, every error is a problem answer, and the data
//! contract holds under mistaken or hostile input. The real server on 127.0.0.1, a real
//! client, real files.

#[path = "api/fixture.rs"]
mod fixture;
#[path = "api/test_server.rs"]
mod test_server;

use test_server::{TestServer, client};

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pilotage_api::server::{self, ServeOptions};
use reqwest::blocking::{Client, Response};
use serde_json::Value;

/// A `pilotage serve` process, as an operator runs it, with its log lines collected.
struct ServeProcess {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServeProcess {
    fn start(releases: &Path, poll_ms: u64) -> ServeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pilotage"))
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--rate-limit",
                "0",
                "--workers",
                "1",
            ])
            .arg("--releases")
            .arg(releases)
            .arg("--poll-ms")
            .arg(poll_ms.to_string())
            .env("RUST_LOG", "debug")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pilotage serve starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let log = log.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("pilotage serves ").nth(1) {
                        let url = rest.split("/v1/").next().unwrap_or("").to_owned();
                        let _ = tx.send(url);
                    }
                    log.lock().expect("log").push(line);
                }
            });
        }
        let url = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("pilotage serve prints its URL");
        ServeProcess { child, url, log }
    }

    fn log_has(&self, needles: &[&str]) -> bool {
        self.log
            .lock()
            .expect("log")
            .iter()
            .any(|l| needles.iter().all(|n| l.contains(n)))
    }

    fn thread_names(&self) -> Vec<String> {
        let dir = format!("/proc/{}/task", self.child.id());
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                    .map(|n| n.trim().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn current_of(client: &Client, url: &str) -> Value {
    let res = client
        .get(format!("{url}/v1/releases"))
        .send()
        .expect("request");
    assert_eq!(res.status(), 200);
    res.json::<Value>().expect("json")["current"].clone()
}

/// `pilotage serve` follows `current`: a new target is served within two polls; a broken
/// target, a missing one and one outside the releases directory keep the release loaded and
/// are logged as warnings.
#[test]
fn serve_follows_current_and_keeps_the_release_on_a_bad_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = fixture::write_release(dir.path(), 1);
    fixture::set_current(dir.path(), &first);
    let poll = Duration::from_millis(200);
    let serve = ServeProcess::start(dir.path(), poll.as_millis() as u64);
    let client = client();
    assert_eq!(current_of(&client, &serve.url), first.as_str());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        serve
            .thread_names()
            .iter()
            .any(|n| n.starts_with("pilotage-relea")),
        "a watcher thread runs: {:?}",
        serve.thread_names()
    );
    assert!(serve.log_has(&["DEBUG", "following the current link"]));

    let second = fixture::write_release(dir.path(), 2);
    // Loading a release takes a few milliseconds; the slack covers a loaded machine.
    let within = 2 * poll + Duration::from_millis(600);
    let switched = Instant::now();
    fixture::set_current(dir.path(), &second);
    while current_of(&client, &serve.url) != second.as_str() {
        assert!(
            switched.elapsed() < within,
            "current not followed within two polls"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // A broken release: its manifest does not parse.
    let broken = dir.path().join("2025-12-31-broken");
    std::fs::create_dir_all(&broken).expect("folder");
    std::fs::write(broken.join("manifest.json"), "{ not json").expect("manifest");
    // A release outside the releases directory, complete and valid.
    let elsewhere = tempfile::tempdir().expect("other dir");
    let outside = fixture::write_release(elsewhere.path(), 3);
    let cases = [
        ("2025-12-31-broken".to_owned(), "2025-12-31-broken"),
        ("missing-release".to_owned(), "missing-release"),
        (
            elsewhere.path().join(&outside).display().to_string(),
            "outside the releases directory",
        ),
    ];
    for (target, needle) in cases {
        let tmp = dir.path().join(".current.tmp");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&target, &tmp).expect("symlink");
        std::fs::rename(&tmp, dir.path().join("current")).expect("switch current");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !serve.log_has(&["WARN", "cannot switch", needle]) {
            assert!(Instant::now() < deadline, "a warning names {needle:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(current_of(&client, &serve.url), second.as_str(), "{needle}");
        let data = client
            .get(format!(
                "{}/v1/datasets/candidatures/data?limit=1",
                serve.url
            ))
            .send()
            .expect("request");
        assert_eq!(data.status(), 200);
    }
}

/// The concrete requests of every route of the OpenAPI document (as served), for the release
/// `version` of the releases served at `url`: each dataset, each of its data encodings, each
/// release file, the release by version and as `current`, each territory level, and the
/// documents outside `/v1/`.
fn every_request(client: &Client, url: &str, version: &str) -> Vec<String> {
    let get = |path: &str| -> Value {
        let res = client.get(format!("{url}{path}")).send().expect("request");
        assert_eq!(res.status(), 200, "{path}");
        res.json().expect("json")
    };
    let spec = get("/openapi.json");
    let datasets: Vec<String> = get("/v1/datasets")["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .map(|d| d["id"].as_str().expect("id").to_owned())
        .collect();
    let files: Vec<String> = get(&format!("/v1/releases/{version}"))["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["name"].as_str().expect("name").to_owned())
        .collect();
    let mut requests = vec!["/openapi.json".to_owned(), "/docs/".to_owned()];
    for path in spec["paths"].as_object().expect("paths").keys() {
        // The reports answer professional keys over a private area (tests/reports.rs).
        if path.starts_with("/v1/reports/") {
            continue;
        }
        let mut concrete = vec![path.clone()];
        let expand = |concrete: Vec<String>, hole: &str, values: &[String]| -> Vec<String> {
            concrete
                .iter()
                .flat_map(|p| {
                    if p.contains(hole) {
                        values.iter().map(|v| p.replace(hole, v)).collect()
                    } else {
                        vec![p.clone()]
                    }
                })
                .collect()
        };
        concrete = expand(concrete, "{id}", &datasets);
        concrete = expand(
            concrete,
            "{version}",
            &[version.to_owned(), "current".to_owned()],
        );
        concrete = expand(concrete, "{name}", &files);
        for p in concrete {
            if p.ends_with("/data") {
                for query in [
                    "",
                    "?format=csv",
                    "?format=ndjson",
                    "?format=parquet",
                    "?limit=7",
                ] {
                    requests.push(format!("{p}{query}"));
                }
            } else if p == "/v1/territories" {
                for level in ["region", "departement", "commune", "epci"] {
                    requests.push(format!("{p}?level={level}"));
                }
            } else {
                requests.push(p);
            }
        }
    }
    requests
}

/// What must agree between replicas: status, body and the validators and headers of the
/// answer (not the request id, nor the rate-limit counters, which belong to each process).
fn answer(
    client: &Client,
    url: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<String>, Vec<u8>) {
    let mut req = client
        .get(format!("{url}{path}"))
        .header("host", "data.example.org");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().expect("request");
    let status = res.status().as_u16();
    let kept = [
        "etag",
        "last-modified",
        "content-type",
        "content-encoding",
        "cache-control",
        "link",
        "pilotage-release",
    ]
    .iter()
    .map(|name| format!("{name}: {}", header(&res, name)))
    .collect();
    (status, kept, res.bytes().expect("body").to_vec())
}

/// `serve` keeps no state a replica would not share: two `pilotage serve` processes over one
/// releases folder (as behind a load balancer, given the same `Host`) answer every route of
/// the OpenAPI document with the same status, bytes and ETag, and when `current` switches both
/// serve the new release within two polls. `/metrics` counts each process's own requests.
#[test]
fn replicas_over_one_releases_folder_answer_alike_and_switch_together() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = fixture::write_release(dir.path(), 1);
    let second = fixture::write_release(dir.path(), 2);
    fixture::set_current(dir.path(), &first);
    let poll = Duration::from_millis(200);
    let replicas = [
        ServeProcess::start(dir.path(), poll.as_millis() as u64),
        ServeProcess::start(dir.path(), poll.as_millis() as u64),
    ];
    let client = client();
    let compare = |version: &str| {
        let requests = every_request(&client, &replicas[0].url, version);
        assert!(requests.len() > 20, "{requests:?}");
        let variants: [&[(&str, &str)]; 2] = [&[], &[("accept-encoding", "gzip")]];
        for path in requests.iter().filter(|p| *p != "/metrics") {
            for headers in variants {
                let one = answer(&client, &replicas[0].url, path, headers);
                let two = answer(&client, &replicas[1].url, path, headers);
                assert_eq!(one.0, 200, "{path} {headers:?}");
                assert_eq!((&one.0, &one.1), (&two.0, &two.1), "{path} {headers:?}");
                assert!(one.2 == two.2, "{path} {headers:?}: the bodies differ");
            }
        }
        for replica in &replicas {
            assert_eq!(answer(&client, &replica.url, "/metrics", &[]).0, 200);
        }
    };
    compare(&first);

    let release_of = |url: &str| {
        let res = client
            .get(format!("{url}/v1/datasets/candidatures/data?limit=1"))
            .send()
            .expect("request");
        (header(&res, "pilotage-release"), header(&res, "etag"))
    };
    let before = release_of(&replicas[0].url);
    assert_eq!(before.0, first);
    // A page walk started on one replica before the switch.
    let page = client
        .get(format!(
            "{}/v1/datasets/candidatures/data?limit=7",
            replicas[0].url
        ))
        .send()
        .expect("request");
    let next = header(&page, "link");
    let next = next
        .strip_prefix('<')
        .and_then(|l| l.split_once('>'))
        .map(|(target, _)| target.to_owned())
        .expect("a next link");
    // Loading a release takes a few milliseconds; the slack covers a loaded machine.
    let within = 2 * poll + Duration::from_millis(600);
    let switched = Instant::now();
    fixture::set_current(dir.path(), &second);
    let mut pending = vec![true, true];
    while pending.iter().any(|p| *p) {
        for (i, replica) in replicas.iter().enumerate() {
            if pending[i] && release_of(&replica.url).0 == second {
                pending[i] = false;
            }
        }
        assert!(
            switched.elapsed() < within,
            "replicas still on the first release after two polls: {pending:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let after: Vec<_> = replicas.iter().map(|r| release_of(&r.url)).collect();
    assert_eq!(after[0], after[1]);
    assert_ne!(after[0].1, before.1, "a new release, a new ETag");
    // It goes on, on the other replica, with the release it started with.
    let resumed = client
        .get(format!("{}{next}", replicas[1].url))
        .send()
        .expect("request");
    assert_eq!(resumed.status(), 200);
    assert_eq!(header(&resumed, "pilotage-release"), first);
    compare(&second);
}

fn header(res: &Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Checks a problem answer: status, media type, type suffix, and the parameter named.
fn assert_problem(res: Response, status: u16, kind: &str, parameter: Option<&str>) -> Value {
    assert_eq!(res.status().as_u16(), status, "{}", res.url());
    assert_eq!(header(&res, "content-type"), "application/problem+json");
    let body: Value = res.json().expect("problem json");
    assert_eq!(
        body["type"],
        format!("urn:pilotage:problem:{kind}"),
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    if let Some(p) = parameter {
        assert_eq!(body["parameter"], p, "{body}");
    }
    body
}

/// Replaces `path` by a symbolic link to `target` (atomically, as an attacker would).
fn replace_by_link(path: &Path, target: &Path) {
    let tmp = path.with_extension("swap");
    std::os::unix::fs::symlink(target, &tmp).expect("symlink");
    std::fs::rename(&tmp, path).expect("swap in the link");
}

/// A release file is served only as the manifest describes it: a symbolic link put in its
/// place (to `/etc/passwd`) is refused, nothing of it enters the memory cache, and the file
/// restored is served again.
#[test]
fn release_files_are_served_only_as_the_manifest_says() {
    let env = TestServer::start(|o| o);
    let folder = env.dir.path().join(&env.version);
    let csv = folder.join("candidatures.csv");
    let good = std::fs::read(&csv).expect("csv");
    let path = format!("/v1/releases/{}/files/candidatures.csv", env.version);

    replace_by_link(&csv, Path::new("/etc/passwd"));
    for p in [
        path.clone(),
        "/v1/releases/current/files/candidatures.csv".to_owned(),
    ] {
        let res = env.get(&p);
        assert_problem(res, 503, "release-unavailable", None);
    }
    // Same length, other bytes: refused too.
    let mut forged = good.clone();
    forged[0] ^= 1;
    std::fs::remove_file(&csv).expect("remove link");
    std::fs::write(&csv, &forged).expect("forged file");
    assert_problem(env.get(&path), 503, "release-unavailable", None);
    // A FIFO does not hang the server.
    std::fs::remove_file(&csv).expect("remove");
    let status = Command::new("mkfifo").arg(&csv).status().expect("mkfifo");
    assert!(status.success());
    assert_problem(env.get(&path), 503, "release-unavailable", None);

    std::fs::remove_file(&csv).expect("remove fifo");
    std::fs::write(&csv, &good).expect("restore");
    let res = env.get(&path);
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().expect("body").as_ref(), good.as_slice());
    let ranged = env.get_with(&path, &[("range", "bytes=0-9")]);
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().expect("body").as_ref(), &good[..10]);
}

/// A release whose files differ from its manifest (a link, another length, other bytes) is
/// refused whole when `current` points to it: the previous release stays.
#[test]
fn a_release_unlike_its_manifest_is_not_switched_to() {
    let env = TestServer::start(|o| o);
    let releases = env.server().releases.clone();
    let outside = tempfile::tempdir().expect("outside");
    let secret = outside.path().join("secret.csv");
    std::fs::write(&secret, "not published\n").expect("secret");
    type Tamper<'a> = &'a dyn Fn(&Path);
    let tamper: [(i64, Tamper); 3] = [
        (2, &|f: &Path| replace_by_link(f, &secret)),
        (3, &|f: &Path| {
            let mut b = std::fs::read(f).expect("read");
            b.push(b'\n');
            std::fs::write(f, b).expect("longer");
        }),
        (4, &|f: &Path| {
            let mut b = std::fs::read(f).expect("read");
            let last = b.len() - 2;
            b[last] ^= 1;
            std::fs::write(f, b).expect("other bytes");
        }),
    ];
    for (variant, change) in tamper {
        let version = fixture::write_release(env.dir.path(), variant);
        change(&env.dir.path().join(&version).join("candidatures.csv"));
        fixture::set_current(env.dir.path(), &version);
        let err = releases
            .refresh()
            .expect_err("a tampered release is refused");
        assert!(err.to_string().contains("candidatures.csv"), "{err}");
        // Polled again unchanged, it is not read again and gives the same error.
        let again = releases.refresh().expect_err("still refused");
        assert_eq!(again.to_string(), err.to_string());
        let ready: Value = env.get("/readyz").json().expect("json");
        assert_eq!(ready["release"], env.version.as_str());
        // Read by version, it is refused as well.
        let res = env.get(&format!(
            "/v1/datasets/candidatures/data?release={version}&limit=1"
        ));
        assert_problem(res, 503, "release-unavailable", None);
    }
}

/// The concrete paths of every route (and of the documentation), for method checks.
fn every_route(version: &str) -> Vec<String> {
    vec![
        "/v1/datasets".into(),
        "/v1/datasets/candidatures".into(),
        "/v1/datasets/candidatures/schema".into(),
        "/v1/datasets/candidatures/data".into(),
        "/v1/releases".into(),
        format!("/v1/releases/{version}"),
        format!("/v1/releases/{version}/files/candidatures.csv"),
        "/v1/catalog.jsonld".into(),
        "/v1/territories".into(),
        "/healthz".into(),
        "/readyz".into(),
        "/metrics".into(),
        "/openapi.json".into(),
        "/docs/".into(),
    ]
}

/// Every error is a problem: a wrong method is 405 with `Allow`, a missing documentation file
/// a 404 problem, an impossible content coding a 406 problem naming `Accept-Encoding`.
#[test]
fn framework_errors_are_problems_too() {
    let env = TestServer::start(|o| o);
    for path in every_route(&env.version) {
        for method in ["POST", "DELETE", "TRACE", "PUT", "PATCH"] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let res = env
                .client
                .request(method.clone(), env.url(&path))
                .send()
                .expect("request");
            assert_eq!(header(&res, "allow"), "GET, HEAD", "{method} {path}");
            assert_problem(res, 405, "method-not-allowed", Some("method"));
        }
    }
    assert_problem(env.get("/docs/nonexistent"), 404, "not-found", None);
    assert_problem(env.get("/nowhere"), 404, "not-found", None);
    for path in [
        "/openapi.json",
        "/v1/datasets",
        "/v1/datasets/candidatures/data",
    ] {
        let res = env.get_with(path, &[("accept-encoding", "identity;q=0")]);
        let body = assert_problem(res, 406, "not-acceptable", Some("Accept-Encoding"));
        assert!(!body.to_string().contains("deflate,"), "{body}");
    }
}

/// A refused API key says how to authenticate.
#[test]
fn an_unknown_api_key_gets_www_authenticate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let version = fixture::write_release(dir.path(), 1);
    fixture::set_current(dir.path(), &version);
    let mut opts = ServeOptions::new("127.0.0.1:0", dir.path());
    opts.workers = 1;
    opts.rate_limit = Some(server::RateLimitOptions {
        api_keys: ["good-key".to_owned()].into(),
        ..server::RateLimitOptions::default()
    });
    let server = server::spawn(opts).expect("server starts");
    let res = client()
        .get(format!("{}/v1/datasets", server.url()))
        .header("x-api-key", "bad-key")
        .send()
        .expect("request");
    assert!(header(&res, "www-authenticate").starts_with("ApiKey "));
    assert_problem(res, 401, "unknown-api-key", Some("X-API-Key"));
    let _ = server.stop();
}

/// An answer never echoes a huge input: the detail quotes a short prefix of the value.
#[test]
fn problems_quote_a_short_prefix_of_the_value() {
    let env = TestServer::start(|o| o);
    let huge = "a".repeat(20_000);
    for path in [
        format!("/v1/territories?level={huge}"),
        format!("/v1/datasets/candidatures/data?{huge}=1"),
        format!("/v1/datasets/candidatures/data?territoire={huge}"),
        format!("/v1/datasets/candidatures/data?sort={huge}"),
        format!("/v1/datasets/candidatures/data?measures={huge}"),
        format!("/v1/datasets/candidatures/data?limit={huge}"),
        format!("/v1/datasets/candidatures/data?format={huge}"),
        format!("/v1/datasets/candidatures/data?cursor={huge}"),
        format!("/v1/datasets/{huge}"),
        format!("/v1/datasets?release={huge}"),
        format!("/v1/releases/{}/files/{huge}", env.version),
        format!("/{huge}"),
    ] {
        let res = env.get(&path);
        assert!(res.status().is_client_error(), "{}", &path[..40]);
        assert_eq!(header(&res, "content-type"), "application/problem+json");
        let body = res.bytes().expect("body");
        assert!(
            body.len() < 4_096,
            "{} bytes for {}",
            body.len(),
            &path[..40]
        );
        let body: Value = serde_json::from_slice(&body).expect("problem json");
        assert!(
            body["detail"].as_str().expect("detail").len() <= 600,
            "{body}"
        );
    }
    let path = format!("/v1/releases/{}/files/candidatures.csv", env.version);
    let res = env.get_with(&path, &[("range", "bytes=999999-")]);
    let body = assert_problem(res, 416, "bad-range", Some("Range"));
    let detail = body["detail"].as_str().expect("detail");
    assert!(!detail.contains("Some("), "{detail}");
    assert!(detail.contains("\"bytes=999999-\""), "{detail}");
}

/// Limits the HTTP codec enforces before any middleware runs: the status is right and the
/// server keeps serving (the body is the codec's, see docs/api.md).
#[test]
fn codec_limits_keep_the_server_serving() {
    let env = TestServer::start(|o| o);
    // A URI over 64 KiB (the HTTP client refuses to send one: a raw request).
    let addr = env.server().addr;
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let long = format!(
        "GET /v1/territories?level={} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
        "a".repeat(70_000)
    );
    std::io::Write::write_all(&mut stream, long.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut stream, &mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 400"),
        "{}",
        &answer[..answer.len().min(200)]
    );
    let mut req = env.client.get(env.url("/healthz"));
    for i in 0..200 {
        req = req.header(format!("x-h{i}"), "v");
    }
    let res = req.send().expect("request");
    assert_eq!(res.status().as_u16(), 431);
    assert_eq!(env.get("/healthz").status(), 200);
}

/// The data contract: a limit too large says its maximum, a repeated single-valued parameter
/// gets the right hint, a cursor is bound to its query and release and cannot be forged.
#[test]
fn limits_repeats_and_cursors() {
    let env = TestServer::start(|o| o);
    let data = "/v1/datasets/candidatures/data";
    let res = env.get(&format!("{data}?limit=99999999999999999999999"));
    let body = assert_problem(res, 400, "bad-parameter", Some("limit"));
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("4294967295"),
        "{body}"
    );
    for bad in ["0", "-1", "abc", "1.5"] {
        let body = assert_problem(
            env.get(&format!("{data}?limit={bad}")),
            400,
            "bad-parameter",
            Some("limit"),
        );
        assert!(
            body["detail"]
                .as_str()
                .expect("detail")
                .contains("positive integer"),
            "{body}"
        );
    }
    let body = assert_problem(
        env.get(&format!("{data}?limit=1&limit=2")),
        400,
        "bad-parameter",
        Some("limit"),
    );
    let hint = body["hint"].as_str().expect("hint");
    assert!(!hint.contains("comma") && hint.contains("once"), "{hint}");

    let first = env.get(&format!("{data}?limit=10&sort=-recues"));
    assert_eq!(first.status(), 200);
    let next = header(&first, "link");
    let next = next
        .trim_start_matches('<')
        .split('>')
        .next()
        .expect("next")
        .to_owned();
    let cursor = next.split("cursor=").nth(1).expect("cursor").to_owned();
    assert_eq!(env.get(&next).status(), 200);
    // Another query (filters or sort) refuses the cursor.
    for other in [
        format!("{data}?limit=10&sort=recues&cursor={cursor}"),
        format!("{data}?limit=10&territoire_niveau=region&sort=-recues&cursor={cursor}"),
    ] {
        assert_problem(env.get(&other), 400, "bad-cursor", Some("cursor"));
    }
    // A forged row: the text of the cursor with another row id.
    let text = String::from_utf8(hex::decode(&cursor).expect("hex")).expect("utf-8");
    let parts: Vec<&str> = text.split(':').collect();
    for row in ["0", "5", "999999"] {
        let forged = hex::encode(format!("{}:{}:{row}:{}", parts[0], parts[1], parts[3]));
        let res = env.get(&format!("{data}?limit=10&sort=-recues&cursor={forged}"));
        assert_problem(res, 400, "bad-cursor", Some("cursor"));
    }
    // Another release under the same query: refused as well.
    let forged = hex::encode(format!(
        "{}:{}:{}:{}",
        parts[0], "2025-12-31-000000abc002", parts[2], parts[3]
    ));
    let res = env.get(&format!("{data}?limit=10&sort=-recues&cursor={forged}"));
    assert_problem(res, 400, "bad-cursor", Some("cursor"));
}

/// `If-Modified-Since` equal to `Last-Modified` is a 304; `/openapi.json` has a strong ETag.
#[test]
fn validators_of_files_catalog_and_openapi() {
    let env = TestServer::start(|o| o);
    for path in [
        format!("/v1/releases/{}/files/candidatures.csv", env.version),
        format!("/v1/releases/{}", env.version),
        "/v1/catalog.jsonld".to_owned(),
    ] {
        let res = env.get(&path);
        assert_eq!(res.status(), 200);
        let modified = header(&res, "last-modified");
        assert!(!modified.is_empty(), "{path}");
        let res = env.get_with(&path, &[("if-modified-since", &modified)]);
        assert_eq!(res.status(), 304, "{path}");
        let res = env.get_with(
            &path,
            &[("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT")],
        );
        assert_eq!(res.status(), 200, "{path}");
    }
    let res = env.get("/openapi.json");
    assert_eq!(res.status(), 200);
    let etag = header(&res, "etag");
    assert!(etag.starts_with('"') && etag.len() > 2, "{etag:?}");
    assert!(header(&res, "pilotage-release").is_empty());
    let doc: Value = res.json().expect("json");
    assert_eq!(doc, pilotage_api::server::app::openapi_value());
    let res = env.get_with("/openapi.json", &[("if-none-match", &etag)]);
    assert_eq!(res.status(), 304);
}

/// Writes a `size`-byte `candidatures.csv` in release `version` and fixes the manifest.
fn big_csv(root: &Path, version: &str, size: usize) -> Vec<u8> {
    use sha2::Digest;
    let bytes: Vec<u8> = (0..size).map(|i| b"0123456789,\n"[i % 12]).collect();
    let folder = root.join(version);
    std::fs::write(folder.join("candidatures.csv"), &bytes).expect("csv");
    let path = folder.join("manifest.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("manifest")).expect("json");
    for f in manifest["files"].as_array_mut().expect("files") {
        if f["name"] == "candidatures.csv" {
            f["bytes"] = size.into();
            f["sha256"] = hex::encode(sha2::Sha256::digest(&bytes)).into();
        }
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).expect("json")).expect("manifest");
    bytes
}

/// Many ranges never amplify an answer: overlapping and adjacent ranges are merged, the bytes
/// sent never exceed the file's length (plus the multipart framing), and too many ranges are
/// refused.
#[test]
fn multiple_ranges_are_merged_and_bounded() {
    let env = TestServer::start(|o| o);
    let second = fixture::write_release(env.dir.path(), 2);
    let size = 1_019_045;
    let bytes = big_csv(env.dir.path(), &second, size);
    let path = format!("/v1/releases/{second}/files/candidatures.csv");

    let spec = format!("bytes={}", vec!["0-1019044"; 32].join(","));
    let res = env.get_with(&path, &[("range", &spec)]);
    assert_eq!(res.status(), 206);
    assert_eq!(
        header(&res, "content-range"),
        format!("bytes 0-1019044/{size}")
    );
    let body = res.bytes().expect("body");
    assert_eq!(body.len(), size, "32 copies of the file merged into one");
    assert_eq!(body.as_ref(), bytes.as_slice());

    let res = env.get_with(
        &path,
        &[(
            "range",
            "bytes=300-399, 0-99, 50-149, 400-499, 150-160, 900-",
        )],
    );
    assert_eq!(res.status(), 206);
    let length: usize = header(&res, "content-length").parse().expect("length");
    let media = header(&res, "content-type");
    let boundary = media
        .strip_prefix("multipart/byteranges; boundary=")
        .expect("multipart")
        .to_owned();
    let body = res.bytes().expect("body");
    assert_eq!(body.len(), length);
    let text = String::from_utf8_lossy(&body);
    let ranges: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Content-Range: bytes "))
        .collect();
    assert_eq!(
        ranges,
        [
            format!("0-160/{size}"),
            format!("300-499/{size}"),
            format!("900-{}/{size}", size - 1),
        ]
    );
    assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
    let sent = 161 + 200 + (size - 900);
    assert!(
        body.len() < sent + 1_000,
        "{} bytes for {sent} asked",
        body.len()
    );
    let first = format!("Content-Range: bytes 0-160/{size}\r\n\r\n");
    let at = text.find(&first).expect("first part") + first.len();
    assert_eq!(&body[at..at + 161], &bytes[..161]);

    let spec = format!(
        "bytes={}",
        (0..33)
            .map(|i| format!("{}-{}", i * 10, i * 10 + 1))
            .collect::<Vec<_>>()
            .join(",")
    );
    let res = env.get_with(&path, &[("range", &spec)]);
    assert_problem(res, 416, "bad-range", Some("Range"));
}
