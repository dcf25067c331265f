//! Content codings and validators end to end: each coding of an answer has its own strong
//! ETag, `If-None-Match` matches any coding of the same answer, `Vary` names
//! `Accept-Encoding`, compressed bodies decode to the identity bytes; and an older release,
//! read off the async workers, answers while the current one keeps serving.

#[path = "api/fixture.rs"]
mod fixture;
#[path = "api/test_server.rs"]
mod test_server;

use test_server::TestServer;

use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::blocking::Response;
use serde_json::Value;

fn header(res: &Response, name: &str) -> String {
    res.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ")
}

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    match coding {
        "gzip" => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("gzip body");
            out
        }
        "zstd" => zstd::decode_all(body).expect("zstd body"),
        _ => body.to_vec(),
    }
}

#[test]
fn each_coding_has_its_own_strong_etag() {
    let env = TestServer::start_watching(|o| o);
    for path in [
        "/v1/datasets/candidatures/data",
        "/v1/datasets/candidatures/data?format=csv&territoire=REG-84",
        "/v1/datasets/candidatures",
        "/v1/territories?level=departement",
    ] {
        let plain = env.get_with(path, &[]);
        assert_eq!(plain.status(), 200, "{path}");
        assert_eq!(header(&plain, "content-encoding"), "", "{path}");
        assert!(
            header(&plain, "vary")
                .to_ascii_lowercase()
                .contains("accept-encoding"),
            "{path}"
        );
        let tag = header(&plain, "etag");
        let identity = plain.bytes().expect("body").to_vec();
        let base = tag.trim_end_matches('"').to_owned();
        for coding in ["gzip", "zstd"] {
            let res = env.get_with(path, &[("accept-encoding", coding)]);
            assert_eq!(res.status(), 200, "{path} {coding}");
            assert_eq!(header(&res, "content-encoding"), coding, "{path}");
            let coded_tag = header(&res, "etag");
            assert_eq!(coded_tag, format!("{base}-{coding}\""), "{path}");
            assert!(
                header(&res, "vary")
                    .to_ascii_lowercase()
                    .contains("accept-encoding"),
                "{path}"
            );
            let body = res.bytes().expect("body");
            assert!(body.len() < identity.len(), "{path} {coding} compresses");
            assert_eq!(decode(coding, &body), identity, "{path} {coding}");
            // A second request is the same bytes (from the cache for data answers).
            let again = env.get_with(path, &[("accept-encoding", coding)]);
            assert_eq!(header(&again, "etag"), coded_tag);
            assert_eq!(again.bytes().expect("body"), body, "{path} {coding}");

            // If-None-Match with the coded tag: 304 in either coding, carrying the tag of the
            // coding the client would receive now.
            let same = env.get_with(
                path,
                &[("accept-encoding", coding), ("if-none-match", &coded_tag)],
            );
            assert_eq!(same.status(), 304, "{path} {coding}");
            assert_eq!(header(&same, "etag"), coded_tag);
            let plain_again = env.get_with(path, &[("if-none-match", &coded_tag)]);
            assert_eq!(plain_again.status(), 304, "{path} {coding}");
            assert_eq!(header(&plain_again, "etag"), tag);
            // The identity tag validates a coded request too.
            let cross = env.get_with(
                path,
                &[("accept-encoding", coding), ("if-none-match", &tag)],
            );
            assert_eq!(cross.status(), 304, "{path} {coding}");
            assert_eq!(header(&cross, "etag"), coded_tag);
            // Another answer's coded tag does not.
            let other = env.get_with(
                path,
                &[
                    ("accept-encoding", coding),
                    ("if-none-match", "\"0000000000000000-gzip\""),
                ],
            );
            assert_eq!(other.status(), 200, "{path} {coding}");
        }
        // The client's preference decides between the two.
        let pref = env.get_with(path, &[("accept-encoding", "gzip;q=1, zstd;q=0.5")]);
        assert_eq!(header(&pref, "content-encoding"), "gzip", "{path}");
    }
    // A body too small to gain from compression stays identity, with the identity tag.
    let small = env.get_with(
        "/v1/datasets/candidatures/data?format=csv&limit=1&measures=recues",
        &[("accept-encoding", "gzip")],
    );
    assert_eq!(header(&small, "content-encoding"), "");
    assert!(!header(&small, "etag").contains("-gzip"));
    // Parquet answers stay as they are (compressed inside).
    let pq = env.get_with(
        "/v1/datasets/candidatures/data?format=parquet",
        &[("accept-encoding", "gzip")],
    );
    assert_eq!(pq.status(), 200);
    assert_eq!(header(&pq, "content-encoding"), "");
    assert!(!header(&pq, "etag").contains("-gzip"));
}

#[test]
fn an_older_release_answers_off_the_workers_and_stays_loaded() {
    let env = TestServer::start_watching(|o| o);
    let first = env.version.clone();
    let second = fixture::write_release(env.dir.path(), 2);
    let third = fixture::write_release(env.dir.path(), 3);
    fixture::set_current(env.dir.path(), &third);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready: Value = env.get_with("/readyz", &[]).json().expect("json");
        if ready["release"] == third.as_str() {
            break;
        }
        assert!(Instant::now() < deadline, "current switched to {third}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let current: Value = env
        .get_with("/v1/datasets/candidatures/data?limit=1", &[])
        .json()
        .expect("json");
    // Several requests for a release not in memory at once: each answers from it.
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let res = env.get_with(
                        &format!("/v1/datasets/candidatures/data?release={second}&limit=1"),
                        &[],
                    );
                    assert_eq!(res.status(), 200);
                    assert_eq!(header(&res, "pilotage-release"), second);
                    res.json::<Value>().expect("json")
                })
            })
            .collect();
        for h in handles {
            let page = h.join().expect("request thread");
            assert_eq!(page["release"], second.as_str());
            assert_ne!(page["rows"][0]["recues"], current["rows"][0]["recues"]);
        }
    });
    let detail: Value = env
        .get_with(&format!("/v1/datasets/candidatures?release={first}"), &[])
        .json()
        .expect("json");
    assert_eq!(detail["release"], first.as_str());
    // An unknown release is a 404 naming the versions.
    let unknown = env.get_with("/v1/datasets?release=1999-01-01-000000000000", &[]);
    assert_eq!(unknown.status(), 404);
    // The current release still answers.
    let now: Value = env
        .get_with("/v1/datasets/candidatures/data?limit=1", &[])
        .json()
        .expect("json");
    assert_eq!(now["release"], third.as_str());
}
