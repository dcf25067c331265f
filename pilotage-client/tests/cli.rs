//! The command line against the real server in-process.

#[allow(dead_code)]
#[path = "../../pilotage-api/tests/api/fixture.rs"]
mod fixture;

use std::process::Command;
use std::time::Duration;

use pilotage_api::server::{self, ServeOptions};

fn run(base: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pilotage-client"))
        .env("PILOTAGE_BASE_URL", base)
        .args(args)
        .output()
        .expect("the command runs")
}

#[test]
fn datasets_show_data_and_download() {
    let dir = tempfile::tempdir().expect("temp dir");
    let version = fixture::write_release(dir.path(), 1);
    fixture::set_current(dir.path(), &version);
    let mut opts = ServeOptions::new("127.0.0.1:0", dir.path());
    opts.workers = 1;
    opts.rate_limit = None;
    opts.poll_interval = Duration::from_millis(50);
    opts.shutdown_timeout = 1;
    let server = server::spawn(opts).expect("server starts");
    let base = server.url();

    let out = run(&base, &["datasets"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&version) && text.contains("candidatures"),
        "{text}"
    );

    let out = run(&base, &["show", "candidatures"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("territoire"));

    let out = run(
        &base,
        &[
            "data",
            "candidatures",
            "--filter",
            "territoire=REG-84",
            "--format",
            "csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.iter().filter(|b| **b == b'\n').count(), 1 + 32);

    let out = run(
        &base,
        &["data", "candidatures", "--filter", "territoire=REG-99"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hint:") && err.contains("REG-84"), "{err}");

    let dest = tempfile::tempdir().expect("dest");
    let dest_s = dest.path().to_str().expect("utf-8 path");
    let out = run(
        &base,
        &[
            "download",
            "candidatures",
            "--format",
            "parquet",
            "--release",
            "current",
            "-o",
            dest_s,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("verified"));
    assert!(dest.path().join("candidatures.parquet").exists());

    let out = run("not a url", &["datasets"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid base URL"));
    let _ = server.stop();
}

/// A server on 127.0.0.1 over the fixture release, and its base URL.
fn fixture_server(dir: &std::path::Path) -> server::RunningServer {
    let version = fixture::write_release(dir, 1);
    fixture::set_current(dir, &version);
    let mut opts = ServeOptions::new("127.0.0.1:0", dir);
    opts.workers = 1;
    opts.rate_limit = None;
    opts.poll_interval = Duration::from_millis(50);
    opts.shutdown_timeout = 1;
    server::spawn(opts).expect("server starts")
}

#[test]
fn repeated_filters_on_one_dimension_are_merged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = fixture_server(dir.path());
    let base = server.url();
    let repeated = run(
        &base,
        &[
            "data",
            "candidatures",
            "--filter",
            "territoire=REG-84",
            "--filter",
            "territoire=REG-11",
            "--filter",
            "periode=2024",
        ],
    );
    assert!(
        repeated.status.success(),
        "{}",
        String::from_utf8_lossy(&repeated.stderr)
    );
    let listed = run(
        &base,
        &[
            "data",
            "candidatures",
            "--filter",
            "territoire=REG-84,REG-11",
            "--filter",
            "periode=2024",
        ],
    );
    assert!(listed.status.success());
    assert_eq!(repeated.stdout, listed.stdout);
    let text = String::from_utf8_lossy(&repeated.stdout);
    assert!(
        text.contains("REG-84") && text.contains("REG-11") && !text.contains("DEP-01"),
        "{text}"
    );
    let _ = server.stop();
}

#[test]
fn download_refuses_a_format_other_than_parquet_or_csv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = fixture_server(dir.path());
    let dest = tempfile::tempdir().expect("dest");
    let dest_s = dest.path().to_str().expect("utf-8 path");
    let out = run(
        &server.url(),
        &["download", "candidatures", "--format", "json", "-o", dest_s],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'json'") && err.contains("--format") && err.contains("parquet, csv"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dest.path()).expect("dest").count(),
        0,
        "nothing is downloaded"
    );
    // The two formats the help names still work, and fetch the data file itself.
    let out = run(
        &server.url(),
        &["download", "candidatures", "--format", "csv", "-o", dest_s],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dest.path().join("candidatures.csv").exists());
    let _ = server.stop();
}

#[test]
fn a_server_down_is_named_with_its_url_and_the_cause() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let out = run(&base, &["datasets"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot reach {base}/v1/datasets")),
        "{err}"
    );
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert!(err.contains("PILOTAGE_BASE_URL"), "{err}");
}
