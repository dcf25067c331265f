//! The example commands of `docs/api.md` and of this crate's README run as written on the demo
//! release: each is run (a `pilotage-client` line) or sent as the request it makes (a `curl`
//! line) against a real server on 127.0.0.1 serving a small seeded release of the demo's
//! datasets, and any failure or non-2xx answer fails the test.
//!
//! Convention of the docs: a fenced code block holding example commands starts with the line
//!
//! ```text
//! # needs: a running demo (pilotage demo) on http://127.0.0.1:8080
//! ```
//!
//! which tells the reader what the commands expect, and tells this test to run every line of
//! the block that starts with `curl ` or `pilotage-client ` (after an optional `$ ` prompt),
//! with `http://127.0.0.1:8080` replaced by its own server's address (`PILOTAGE_BASE_URL` for
//! the command line, which defaults to that address). Lines starting with `pilotage ` start the
//! server (`pilotage demo`, `pilotage serve`): the test's own server stands for them. A block
//! with such commands but without the marker fails the test, so a new example cannot escape
//! it. Example commands are single commands: no pipes, redirections or `&&`.
//!
//! The release is built the way `pilotage-api/tests/api_release.rs` builds one (seeded
//! scale-0.001 sources, the real computations and release writer, counts of 1 to 10 hidden),
//! for the datasets the demo publishes and its one year, 2025.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pilotage_api::cli::DEMO_DATASETS;
use pilotage_api::server::{self, ServeOptions};
use pilotage_core::synth::GeneratorConfig;
use pilotage_testkit::root;

/// The first line of a block of example commands (see the module documentation).
const MARKER: &str = "# needs: a running demo (pilotage demo) on http://127.0.0.1:8080";
/// The address of the demo the docs use, replaced by the test server's.
const DEMO_URL: &str = "http://127.0.0.1:8080";
/// The documents whose examples are run, from the repository root.
const DOCS: [&str; 2] = ["docs/api.md", "pilotage-client/README.md"];

/// Writes a release of the demo's datasets under `dir`, from seeded 2025 sources.
fn publish_demo_like(dir: &Path) -> String {
    let config = GeneratorConfig {
        scale: 0.001,
        seed: 1,
        first_year: 2025,
        last_year: 2025,
        ..GeneratorConfig::default()
    };
    let definitions = pilotage_testkit::definitions_among(&DEMO_DATASETS);
    pilotage_testkit::write_generated_release(dir, &config, &definitions)
}

/// One example command: where it is and what it says.
#[derive(Debug)]
struct Example {
    /// `file:line`.
    at: String,
    /// The command line, prompt removed.
    line: String,
}

/// A fenced code block: `file:line` of its opening fence, its info string and its lines.
struct Block {
    at: String,
    info: String,
    lines: Vec<(usize, String)>,
}

fn blocks(file: &str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            match open.take() {
                Some(b) => out.push(b),
                None => {
                    open = Some(Block {
                        at: format!("{file}:{}", i + 1),
                        info: info.trim().to_owned(),
                        lines: Vec::new(),
                    })
                }
            }
        } else if let Some(b) = &mut open {
            b.lines.push((i + 1, trimmed.to_owned()));
        }
    }
    assert!(open.is_none(), "{file}: a code block is not closed");
    out
}

/// The example commands of `file` (its text), checking the marker convention.
fn examples(file: &str, text: &str) -> Vec<Example> {
    let mut out = Vec::new();
    for block in blocks(file, text) {
        if block.info.starts_with("rust") {
            continue;
        }
        let commands: Vec<(usize, String)> = block
            .lines
            .iter()
            .map(|(n, l)| (*n, l.strip_prefix("$ ").unwrap_or(l).to_owned()))
            .filter(|(_, l)| l.starts_with("curl ") || l.starts_with("pilotage-client "))
            .collect();
        if commands.is_empty() {
            continue;
        }
        assert_eq!(
            block.lines.first().map(|(_, l)| l.as_str()),
            Some(MARKER),
            "{}: a block of example commands must start with the line {MARKER:?}",
            block.at
        );
        for (n, line) in commands {
            out.push(Example {
                at: format!("{file}:{n}"),
                line,
            });
        }
    }
    out
}

/// Splits a command line as a POSIX shell would for simple words: single and double quotes,
/// backslash escapes; pipes, redirections and command lists are refused.
fn shell_words(at: &str, line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            '|' | '>' | '<' | '&' | ';' => {
                panic!("{at}: {line:?}: example commands are single commands (found {c:?})")
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The request a `curl` line makes: method, URL and headers; other options change only how
/// curl shows the answer.
fn curl_request(at: &str, words: &[String]) -> (reqwest::Method, String, Vec<(String, String)>) {
    let mut method = reqwest::Method::GET;
    let mut url = None;
    let mut headers = Vec::new();
    let mut args = words[1..].iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "-I" | "--head" => method = reqwest::Method::HEAD,
            "-H" | "--header" => {
                let h = args
                    .next()
                    .unwrap_or_else(|| panic!("{at}: -H without a value"));
                let (k, v) = h
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{at}: header {h:?} is not `name: value`"));
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            "-o" | "--output" | "-w" | "--write-out" => {
                args.next();
            }
            "-X" | "--request" => {
                let m = args
                    .next()
                    .unwrap_or_else(|| panic!("{at}: -X without a value"));
                assert!(
                    m == "GET" || m == "HEAD",
                    "{at}: the API only answers GET/HEAD"
                );
                method = m.parse().expect("method");
            }
            s if s.starts_with("http://") || s.starts_with("https://") => {
                url = Some(s.to_owned());
            }
            s if s.starts_with('-') => {}
            s => panic!("{at}: unexpected curl argument {s:?}"),
        }
    }
    let url = url.unwrap_or_else(|| panic!("{at}: no URL in the curl line"));
    (method, url, headers)
}

/// Dataset ids the Rust examples of `file` query (`.data("…")`, `.get("…")`).
fn rust_dataset_ids(file: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join(file)).expect(file);
    let mut out = Vec::new();
    for block in blocks(file, &text) {
        if !block.info.starts_with("rust") {
            continue;
        }
        for (n, line) in &block.lines {
            for call in [".data(\"", "datasets().get(\""] {
                let mut rest = line.as_str();
                while let Some(at) = rest.find(call) {
                    let tail = &rest[at + call.len()..];
                    let id = tail.split('"').next().unwrap_or_default();
                    out.push((format!("{file}:{n}"), id.to_owned()));
                    rest = tail;
                }
            }
        }
    }
    out
}

#[test]
fn every_example_command_of_the_docs_runs_on_the_demo() {
    // PILOTAGE_DOCS_RELEASES=<dir> keeps the release there (e.g. for
    // benches/scripts/api_bench.sh on a release shaped like the demo's).
    let tmp = tempfile::tempdir().expect("releases dir");
    let releases = std::env::var_os("PILOTAGE_DOCS_RELEASES")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_owned());
    publish_demo_like(&releases);
    let mut opts = ServeOptions::new("127.0.0.1:0", &releases);
    opts.workers = 2;
    opts.rate_limit = None;
    opts.poll_interval = Duration::from_millis(50);
    opts.shutdown_timeout = 1;
    let server = server::spawn(opts).expect("server starts");
    let base = server.url();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Commands writing files (`download … -o data/`) write them here.
    let cwd = tempfile::tempdir().expect("working dir");

    let mut ran = BTreeMap::new();
    for file in DOCS {
        let text = std::fs::read_to_string(root().join(file)).expect(file);
        let examples = examples(file, &text);
        ran.insert(file, examples.len());
        for ex in examples {
            let line = ex.line.replace(DEMO_URL, &base);
            let words = shell_words(&ex.at, &line);
            match words[0].as_str() {
                "curl" => {
                    let (method, url, headers) = curl_request(&ex.at, &words);
                    assert!(url.starts_with(&base), "{}: {url} is not the demo's", ex.at);
                    let mut req = http.request(method, &url);
                    for (k, v) in &headers {
                        req = req.header(k, v);
                    }
                    let res = runtime.block_on(req.send()).expect("request");
                    let status = res.status();
                    let body = runtime.block_on(res.text()).unwrap_or_default();
                    assert!(
                        status.is_success(),
                        "{}: {}\nHTTP {status}: {body}",
                        ex.at,
                        ex.line
                    );
                }
                "pilotage-client" => {
                    let out = Command::new(env!("CARGO_BIN_EXE_pilotage-client"))
                        .env("PILOTAGE_BASE_URL", &base)
                        .args(&words[1..])
                        .current_dir(cwd.path())
                        .output()
                        .expect("pilotage-client runs");
                    assert!(
                        out.status.success(),
                        "{}: {}\n{}",
                        ex.at,
                        ex.line,
                        String::from_utf8_lossy(&out.stderr)
                    );
                    assert!(!out.stdout.is_empty(), "{}: {}: no output", ex.at, ex.line);
                }
                other => unreachable!("{other}"),
            }
        }
    }
    // Both documents have examples (the extraction still finds them).
    assert!(ran["docs/api.md"] >= 2, "{ran:?}");
    assert!(ran["pilotage-client/README.md"] >= 4, "{ran:?}");

    // The Rust examples query datasets the demo has.
    for file in DOCS {
        for (at, id) in rust_dataset_ids(file) {
            assert!(
                DEMO_DATASETS.contains(&id.as_str()),
                "{at}: dataset {id:?} is not in the demo release ({DEMO_DATASETS:?})"
            );
        }
    }
    server.stop().expect("stops");
}

#[test]
fn example_blocks_without_the_marker_are_refused() {
    let unmarked = "text\n```sh\ncurl 'http://127.0.0.1:8080/v1/datasets'\n```\n";
    assert!(std::panic::catch_unwind(|| examples("x.md", unmarked)).is_err());
    let marked = format!("```sh\n{MARKER}\n$ curl 'http://127.0.0.1:8080/v1/datasets'\n```\n");
    let found = examples("x.md", &marked);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].at, "x.md:3");
    assert_eq!(found[0].line, "curl 'http://127.0.0.1:8080/v1/datasets'");
    assert_eq!(
        shell_words("x", "curl -sS 'http://a/b?x=1&y=2' -H \"Accept: text/csv\""),
        [
            "curl",
            "-sS",
            "http://a/b?x=1&y=2",
            "-H",
            "Accept: text/csv"
        ]
    );
}
