//! The dashboard pages in a real headless browser: the real server on 127.0.0.1 over a small
//! release on disk, Chromium driven through chromedriver's WebDriver protocol (plain HTTP, with
//! the blocking reqwest client). Every page loads with no console error and no failed or
//! outside request, renders its first content in under a second, and passes axe-core with no
//! WCAG 2.1 A/AA violation; the territory search reaches a département; the preview filters
//! change the table; a chart shows a gap where the release has a secret value.
//!
//! Needs `chromedriver` and `chromium` (Debian packages; `.ci/run` installs them). Without
//! them the test says so loudly and passes, except under CI (`CI` set), where it fails.

#[path = "api/fixture.rs"]
mod fixture;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pilotage_api::server;
use reqwest::blocking::Client;
use serde_json::{Value, json};

const AXE: &str = include_str!("fixtures/axe.min.js");
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(names: &[&str]) -> Option<String> {
    for name in names {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"] {
            let path = format!("{dir}/{name}");
            if std::path::Path::new(&path).exists() {
                return Some(path);
            }
        }
    }
    None
}

struct Driver {
    child: Child,
    http: Client,
    base: String,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(driver: &str, browser: &str) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        install_crypto_provider();
        let http = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver does not answer"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": browser,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--no-first-run", "--disable-extensions"]
            },
            "goog:loggingPrefs": {"browser": "ALL"}
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .and_then(|r| r.json())
            .expect("a session");
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_owned();
        let mut d = Driver {
            child,
            http,
            base,
            session,
        };
        d.call("timeouts", json!({"script": 60000, "pageLoad": 30000}));
        d
    }

    fn call(&mut self, path: &str, body: Value) -> Value {
        let res: Value = self
            .http
            .post(format!("{}/session/{}/{path}", self.base, self.session))
            .json(&body)
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        if res["value"].get("error").is_some() {
            panic!("{path}: {}", res["value"]);
        }
        res["value"].clone()
    }

    fn get(&mut self, path: &str) -> Value {
        let res: Value = self
            .http
            .get(format!("{}/session/{}/{path}", self.base, self.session))
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        res["value"].clone()
    }

    fn open(&mut self, url: &str) {
        self.call("url", json!({"url": url}));
    }

    fn run(&mut self, script: &str) -> Value {
        self.call("execute/sync", json!({"script": script, "args": []}))
    }

    fn element(&mut self, css: &str) -> String {
        let v = self.call("element", json!({"using": "css selector", "value": css}));
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    fn click(&mut self, css: &str) {
        let e = self.element(css);
        self.call(&format!("element/{e}/click"), json!({}));
    }

    fn type_in(&mut self, css: &str, text: &str) {
        let e = self.element(css);
        self.call(&format!("element/{e}/value"), json!({"text": text}));
    }

    /// Waits (5 s at most) until the address holds `part` and the page is loaded, and
    /// returns the address.
    fn wait_url(&mut self, part: &str) -> String {
        let started = Instant::now();
        loop {
            let url = self.get("url").as_str().unwrap_or("").to_owned();
            let ready = self.run("return document.readyState;");
            if url.contains(part) && ready == "complete" {
                return url;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "still at {url}, waiting for {part}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Browser log entries since the last call (console messages, failed loads).
    fn logs(&mut self) -> Vec<Value> {
        self.call("se/log", json!({"type": "browser"}))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Checks the page just loaded: no console error, every request answered below 400 and
    /// to this server, first contentful paint under a second, no axe-core A/AA violation.
    fn check_page(&mut self, server: &str, label: &str) -> f64 {
        let errors: Vec<Value> = self
            .logs()
            .into_iter()
            .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
            .collect();
        assert!(errors.is_empty(), "{label}: console: {errors:?}");
        let requests = self.run(
            "return [performance.getEntriesByType('navigation')[0]]
               .concat(performance.getEntriesByType('resource'))
               .map(e => [e.name, e.responseStatus]);",
        );
        for r in requests.as_array().cloned().unwrap_or_default() {
            let url = r[0].as_str().unwrap_or("");
            let status = r[1].as_u64().unwrap_or(0);
            assert!(
                url.starts_with(server),
                "{label}: request outside the server: {url}"
            );
            assert!(
                (200..400).contains(&status),
                "{label}: {url} answered {status}"
            );
        }
        // The paint entry can come a moment after the load event.
        let mut fcp = -1.0;
        for _ in 0..60 {
            fcp = self
                .run(
                    "const p = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');
                     return p ? p.startTime : -1;",
                )
                .as_f64()
                .unwrap_or(-1.0);
            if fcp > 0.0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            fcp > 0.0 && fcp < 1000.0,
            "{label}: first contentful paint {fcp} ms"
        );
        self.run(AXE);
        let violations = self.call(
            "execute/async",
            json!({"script": "const done = arguments[arguments.length - 1];
                axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
                  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
                  .catch(e => done([{id: 'axe-error', help: String(e)}]));", "args": []}),
        );
        assert_eq!(
            violations.as_array().map(Vec::len),
            Some(0),
            "{label}: axe-core: {violations:#}"
        );
        fcp
    }
}

/// chromedriver and Chromium, or `None` (with a loud notice) when absent outside CI.
fn browser() -> Option<(String, String)> {
    let (Some(driver), Some(browser)) = (
        find_program(&["chromedriver"]),
        find_program(&["chromium", "chromium-browser", "google-chrome"]),
    ) else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "chromium and chromedriver are required under CI (apt-get install chromium chromium-driver)"
            );
        }
        eprintln!(
            "\n\n*** SKIPPED: the browser tests of the pages need chromium and chromedriver (apt-get install chromium chromium-driver) ***\n\n"
        );
        return None;
    };
    Some((driver, browser))
}

/// The same checks on every dataset page and a few dashboards of a release folder given in
/// `PILOTAGE_PAGES_RELEASES` (the demonstration's `data/demo/releases`, say), whose datasets
/// and secret values differ from the fixture's. Without the variable it does nothing.
#[test]
fn the_pages_of_a_given_release_work_in_a_real_browser() {
    let Some(releases) = std::env::var_os("PILOTAGE_PAGES_RELEASES") else {
        return;
    };
    let Some((driver, browser)) = browser() else {
        return;
    };
    let mut opts = server::ServeOptions::new("127.0.0.1:0", std::path::PathBuf::from(releases));
    opts.rate_limit = None;
    opts.workers = 1;
    let srv = server::spawn(opts).expect("server starts");
    let base = srv.url();
    install_crypto_provider();
    let list: Value = Client::new()
        .get(format!("{base}/v1/datasets"))
        .send()
        .and_then(|r| r.json())
        .expect("datasets");
    let mut paths: Vec<String> = vec!["/".into()];
    for ds in list["datasets"].as_array().cloned().unwrap_or_default() {
        paths.push(format!("/datasets/{}", ds["id"].as_str().unwrap_or("")));
    }
    for t in ["FR", "REG-84", "REG-27", "DEP-69", "DEP-13"] {
        paths.push(format!("/territoires/{t}"));
    }
    let mut d = Driver::start(&driver, &browser);
    d.open(&format!("{base}/"));
    d.logs();
    for path in &paths {
        d.open(&format!("{base}{path}"));
        d.check_page(&base, path);
    }
    drop(d);
    srv.stop().expect("stops");
}

#[test]
fn the_pages_work_in_a_real_browser() {
    let Some((driver, browser)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (opts, _version) = fixture::serving_release_one(dir.path());
    let srv = server::spawn(opts).expect("server starts");
    let base = srv.url();
    let mut d = Driver::start(&driver, &browser);
    // A first visit warms the browser up (its own start-up is not the page's first render).
    d.open(&format!("{base}/"));
    d.logs();

    // Every page: no console error, no failed or outside request, quick first paint, axe.
    let mut worst: f64 = 0.0;
    for path in [
        "/",
        "/datasets/candidatures",
        "/territoires/FR",
        "/territoires/REG-84",
        "/territoires/DEP-75",
        "/recherche?q=haute",
    ] {
        d.open(&format!("{base}{path}"));
        worst = worst.max(d.check_page(&base, path));
    }
    eprintln!("worst first contentful paint: {worst:.0} ms");

    // The search box reaches a département.
    d.open(&format!("{base}/"));
    d.type_in("#q", "Ain");
    d.click("#recherche button[type=submit]");
    let url = d.wait_url("/territoires/DEP-01");
    assert_eq!(url, format!("{base}/territoires/DEP-01"));
    let h1 = d.run("return document.querySelector('h1').textContent;");
    assert!(h1.as_str().unwrap_or("").contains("Ain (01)"), "{h1}");
    d.check_page(&base, "search result");

    // The preview filters change the table.
    d.open(&format!("{base}/datasets/candidatures"));
    let before = d.run("return document.getElementById('apercu-compte').textContent;");
    d.run("document.getElementById('filtre-territoire').value = 'DEP-75';");
    d.click("form.pl-filters button[type=submit]");
    d.wait_url("territoire=DEP-75");
    let after = d.run("return document.getElementById('apercu-compte').textContent;");
    assert_ne!(before, after, "the count of rows changes");
    let places = d.run(
        "return [...document.querySelectorAll('.pl-table tbody tr th')].slice(0, 500)
           .map(th => th.textContent).filter(t => t.length > 0);",
    );
    let places: Vec<String> = places
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert!(places.iter().any(|p| p.contains("Paris")), "{places:?}");
    let preview = d.run(
        "const t = [...document.querySelectorAll('table')].find(t => t.caption && t.caption.textContent.startsWith('Aperçu'));
         return [...t.querySelectorAll('tbody tr th')].map(th => th.textContent);",
    );
    for p in preview.as_array().cloned().unwrap_or_default() {
        assert!(
            p.as_str().unwrap_or("").contains("Paris"),
            "a row of another territory: {p}"
        );
    }
    d.check_page(&base, "filtered preview");

    // A chart shows a gap where the release has a secret value, and the table says "secret".
    install_crypto_provider();
    let http = Client::new();
    let mut gaps = 0;
    for territory in ["FR", "REG-84", "REG-11", "DEP-01", "DEP-75"] {
        d.open(&format!("{base}/territoires/{territory}"));
        let marked = d.run(
            "return [...document.querySelectorAll('#candidatures rect[data-secret-period]')]
               .map(r => r.getAttribute('data-secret-period'));",
        );
        for period in marked.as_array().cloned().unwrap_or_default() {
            let period = period.as_str().unwrap_or("").to_owned();
            let rows: Value = http
                .get(format!(
                    "{base}/v1/datasets/candidatures/data?territoire={territory}&periode={period}\
                     &type_structure=_T&origine=_T&groupe_prescripteur=_T&measures=recues,acceptees"
                ))
                .send()
                .and_then(|r| r.json())
                .expect("data");
            let row = &rows["rows"][0];
            assert!(
                row["recues_statut"] == "secret" || row["acceptees_statut"] == "secret",
                "{territory} {period}: marked secret but published: {row}"
            );
            gaps += 1;
        }
        let table_says = d.run(
            "return [...document.querySelectorAll('#candidatures table td')].map(td => td.textContent.trim());",
        );
        let cells = table_says.as_array().cloned().unwrap_or_default();
        let secrets = cells
            .iter()
            .filter(|c| c.as_str() == Some("secret"))
            .count();
        assert!(
            secrets >= marked.as_array().map_or(0, Vec::len).min(1),
            "{territory}: {cells:?}"
        );
    }
    assert!(gaps > 0, "no chart of the fixture shows a secret value");
    drop(d);
    srv.stop().expect("stops");
}

/// The TLS provider reqwest needs when the workspace builds it without one (the client crate's
/// `rustls-no-provider`); these tests only talk plain HTTP on loopback.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
