//! The real server over a releases folder holding the fixture's release 1, with a blocking
//! client: the API tests' [`TestServer`]. It stands beside `fixture.rs`, which other crates'
//! tests and benches include too, because it needs reqwest's blocking client.

#![allow(dead_code)]

use std::time::Duration;

use pilotage_api::server::{self, RunningServer, ServeOptions};
use reqwest::blocking::{Client, Response};
use serde_json::Value;

use crate::fixture::serving_release_one;

/// A server in this process on a fresh releases folder holding release 1 as `current`
/// ([`serving_release_one`]), and a blocking client that does not decompress (the tests read
/// the bytes sent); the server stops when this goes away.
pub struct TestServer {
    /// The releases folder.
    pub dir: tempfile::TempDir,
    /// The running server (taken when dropped).
    pub server: Option<RunningServer>,
    /// The client the helpers send with.
    pub client: Client,
    /// The version of release 1.
    pub version: String,
}

impl TestServer {
    /// Starts a server with the options of [`serving_release_one`] changed by `options`.
    pub fn start(options: impl FnOnce(ServeOptions) -> ServeOptions) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let (opts, version) = serving_release_one(dir.path());
        let server = server::spawn(options(opts)).expect("server starts");
        TestServer {
            dir,
            server: Some(server),
            client: client(),
            version,
        }
    }

    /// Like [`TestServer::start`] with two workers and a watcher that polls every 50 ms, for
    /// the tests that switch `current` and wait for the server to follow, then `options`.
    pub fn start_watching(options: impl FnOnce(ServeOptions) -> ServeOptions) -> TestServer {
        TestServer::start(|mut o| {
            o.workers = 2;
            o.poll_interval = Duration::from_millis(50);
            options(o)
        })
    }

    /// The running server.
    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("running")
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server().url())
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().expect("request")
    }

    /// `GET path` with `headers`.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().expect("request")
    }

    /// The JSON body of `GET path`, which must answer 200.
    pub fn json(&self, path: &str) -> Value {
        let res = self.get(path);
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().expect("json")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            let _ = s.stop();
        }
    }
}

/// A blocking HTTP client. reqwest is built without a default TLS provider in this workspace
/// (the client crate installs ring at start-up), so the provider is installed first: which
/// test runs first must not matter.
pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().build().expect("client")
}
