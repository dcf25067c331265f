//! What the API publishes must be right: `serve` follows `current`. The real server on
//! 127.0.0.1, a real client, real files.

#[path = "api/fixture.rs"]
mod fixture;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
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
    let client = Client::new();
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
