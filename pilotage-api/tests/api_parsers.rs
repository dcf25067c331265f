//! The request parsers under arbitrary input (property tests): query strings, filters, sort,
//! cursors and `Range` headers made of random bytes never make the server fail. Every answer
//! is a success or a 4xx `application/problem+json`; never a 5xx, never a dropped connection.
//! The seed is fixed, so every run tries the same inputs.

#[path = "api/fixture.rs"]
mod fixture;

use std::sync::OnceLock;

use pilotage_api::server::{self, RunningServer};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use reqwest::blocking::{Client, Response};

struct Shared {
    _dir: tempfile::TempDir,
    server: RunningServer,
    client: Client,
    version: String,
}

/// One server for every case (it lives until the test process ends).
fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let (opts, version) = fixture::serving_release_one(dir.path());
        let server = server::spawn(opts).expect("server starts");
        let _ = rustls::crypto::ring::default_provider().install_default();
        Shared {
            _dir: dir,
            server,
            client: Client::builder().build().expect("client"),
            version,
        }
    })
}

fn config() -> Config {
    Config {
        cases: 192,
        rng_seed: RngSeed::Fixed(0x7069_6c6f),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Percent-encodes every byte but the unreserved ones and the query syntax (`=`, `&`, `,`),
/// so the random bytes reach the parsers as they are.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.~=&,".contains(b) {
            out.push(*b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A success, or a 4xx problem answer.
fn assert_handled(res: Response) -> Result<(), TestCaseError> {
    let status = res.status().as_u16();
    let media = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = res
        .bytes()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(
        status < 500,
        "status {status}: {}",
        String::from_utf8_lossy(&body)
    );
    if status >= 400 {
        prop_assert_eq!(&media, "application/problem+json");
        let problem: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(problem["status"].as_u64(), Some(u64::from(status)));
        prop_assert!(problem["detail"].as_str().is_some_and(|d| d.len() <= 600));
    }
    Ok(())
}

/// Parameter names the parsers know, mixed with random ones.
fn name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"territoire".to_vec()),
        Just(b"territoire_niveau".to_vec()),
        Just(b"periode".to_vec()),
        Just(b"sort".to_vec()),
        Just(b"measures".to_vec()),
        Just(b"limit".to_vec()),
        Just(b"cursor".to_vec()),
        Just(b"format".to_vec()),
        Just(b"release".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// A whole query string of random bytes.
    #[test]
    fn random_query_strings(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        let s = shared();
        let url = format!("{}/v1/datasets/candidatures/data?{}", s.server.url(), encode(&raw));
        assert_handled(s.client.get(url).send().map_err(|e| TestCaseError::fail(e.to_string()))?)?;
    }

    /// Known and random parameter names with random values: filters, sort, measures, limit,
    /// format, release and cursors.
    #[test]
    fn random_parameters(
        pairs in proptest::collection::vec(
            (name(), proptest::collection::vec(any::<u8>(), 0..40)),
            0..5,
        )
    ) {
        let s = shared();
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k).replace(['=', '&'], ""), encode(v).replace('&', "")))
            .collect();
        let url = format!("{}/v1/datasets/candidatures/data?{}", s.server.url(), query.join("&"));
        assert_handled(s.client.get(url).send().map_err(|e| TestCaseError::fail(e.to_string()))?)?;
    }

    /// Cursors: random hex (decodable bytes) and random text.
    #[test]
    fn random_cursors(raw in proptest::collection::vec(any::<u8>(), 0..80), hex_form in any::<bool>()) {
        let s = shared();
        let cursor = if hex_form { hex::encode(&raw) } else { encode(&raw) };
        let url = format!(
            "{}/v1/datasets/candidatures/data?limit=5&cursor={cursor}",
            s.server.url()
        );
        assert_handled(s.client.get(url).send().map_err(|e| TestCaseError::fail(e.to_string()))?)?;
    }

    /// `Range` headers: random bytes after `bytes=`, and random numeric range lists.
    #[test]
    fn random_ranges(
        raw in proptest::collection::vec(any::<u8>(), 0..60),
        list in proptest::collection::vec((any::<Option<u64>>(), any::<Option<u64>>()), 0..40),
    ) {
        let s = shared();
        let url = format!(
            "{}/v1/releases/{}/files/candidatures.csv",
            s.server.url(),
            s.version
        );
        let mut value = b"bytes=".to_vec();
        value.extend(raw.iter().filter(|b| **b >= 0x20 && **b != 0x7f));
        if let Ok(v) = reqwest::header::HeaderValue::from_bytes(&value) {
            assert_handled(s.client.get(&url).header("range", v).send().map_err(|e| TestCaseError::fail(e.to_string()))?)?;
        }
        let spec: Vec<String> = list
            .iter()
            .map(|(a, b)| {
                let a = a.map(|n| (n % 5000).to_string()).unwrap_or_default();
                let b = b.map(|n| (n % 5000).to_string()).unwrap_or_default();
                format!("{a}-{b}")
            })
            .collect();
        let res = s
            .client
            .get(&url)
            .header("range", format!("bytes={}", spec.join(",")))
            .send()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let status = res.status().as_u16();
        let len: Option<u64> = res.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        if status == 206 {
            // Never more than the file and the multipart framing.
            prop_assert!(len.is_some_and(|l| l < 64 * 1024), "{len:?}");
        }
        assert_handled(res)?;
    }
}
