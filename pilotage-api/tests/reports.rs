//! Professional keys and the three reports, as users run them: a seeded country at scale 0.001
//! generated, ingested into a real SQLite store and published with `pilotage` (the public
//! release of `etp` and `pass_iae`, and the professional tables), keys created with `pilotage
//! keys`, and a real server on 127.0.0.1 read by a real HTTP client.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pilotage_api::private::PrivateSet;
use pilotage_api::server::professional::ProfessionalOptions;
use pilotage_api::server::{self, RunningServer, ServeOptions};
use reqwest::blocking::Client;
use serde_json::Value;

use common::{arg, pilotage};

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The published country and its running server, made once for the whole file.
struct World {
    _dir: tempfile::TempDir,
    store: String,
    private: PathBuf,
    server: RunningServer,
    client: Client,
}

/// Datasets the public release holds in these tests (quick to protect in a debug build).
const PUBLISHED: [&str; 2] = ["etp", "pass_iae"];
/// The year of the seeded data.
const YEAR: &str = "2025";

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("tempdir");
        let sources = dir.path().join("sources");
        ok(
            pilotage(&[
                "generate",
                "--scale",
                "0.001",
                "--seed",
                "1",
                "--years",
                "2025-2025",
                "--out",
                arg(&sources),
            ]),
            "generate",
        );
        let store = dir.path().join("pilotage.sqlite").display().to_string();
        ok(
            pilotage(&[
                "ingest",
                arg(&sources),
                "--database-url",
                &store,
                "--source-vintage",
                "2025-12-31",
            ]),
            "ingest",
        );
        let defs = dir.path().join("datasets");
        std::fs::create_dir(&defs).expect("datasets folder");
        pilotage_testkit::copy_definitions(&PUBLISHED, &defs);
        let releases = dir.path().join("releases");
        ok(
            pilotage(&[
                "publish",
                "--database-url",
                &store,
                "--releases",
                arg(&releases),
                "--datasets",
                arg(&defs),
            ]),
            "publish",
        );
        let private = dir.path().join("private");
        let mut options = ServeOptions::new("127.0.0.1:0", &releases);
        options.poll_interval = Duration::from_millis(100);
        options.rate_limit = None;
        options.professional = Some(ProfessionalOptions {
            database_url: store.clone(),
            private: private.clone(),
            per_key_per_minute: 100_000,
        });
        let server = server::spawn(options).expect("server");
        World {
            _dir: dir,
            store,
            private,
            server,
            client: Client::builder().build().expect("client"),
        }
    })
}

/// Revokes key `id` with the command line.
fn revoke(id: i64) {
    let id = id.to_string();
    ok(
        pilotage(&["keys", "--database-url", &world().store, "revoke", &id]),
        "revoke",
    );
}

/// Creates a key with the command line; returns (id, token).
fn key(role: &str, perimeter: &str, extra: &[&str]) -> (i64, String) {
    let w = world();
    let mut args = vec![
        "keys",
        "--database-url",
        &w.store,
        "create",
        "--role",
        role,
        "--perimeter",
        perimeter,
        "--label",
        "test",
    ];
    args.extend_from_slice(extra);
    let out = pilotage(&args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let token = ok(out, "keys create").trim().to_owned();
    let id = err
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("the key id on stderr");
    // The server reads keys at its next poll (later on a loaded machine): wait until it knows
    // this one (a 404 for a year it does not hold, where an unknown key gets 401).
    let started = Instant::now();
    while get(&token, "structure", "structure=1&year=1900").0 == 401 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server did not pick up key {id} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (id, token)
}

/// GET a report: (status, body).
fn get(token: &str, report: &str, query: &str) -> (u16, String) {
    let w = world();
    let url = format!("{}/v1/reports/{report}?{query}", w.server.url());
    let res = w
        .client
        .get(url)
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .expect("request");
    (res.status().as_u16(), res.text().expect("body"))
}

fn lines(body: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(body).expect("JSON report");
    v["lines"].as_array().cloned().expect("lines")
}

/// The private tables as published, and the structures by département.
fn tables() -> PrivateSet {
    let w = world();
    let version = std::fs::read_link(w.private.join("current")).expect("private current");
    PrivateSet::open(&w.private.join(version)).expect("private tables")
}

fn structures_by_departement() -> BTreeMap<String, Vec<i64>> {
    let set = tables();
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for t in ["beneficiaires", "sorties", "candidatures", "pass_iae"] {
        for (id, dep) in set.table(t).expect("table").all_structures() {
            let list = out.entry(dep.to_owned()).or_default();
            if !list.contains(&id) {
                list.push(id);
            }
        }
    }
    out
}

fn region_of(dep: &str) -> String {
    pilotage_core::territory::Referential::official()
        .departement(dep)
        .map(|d| d.region.clone())
        .expect("a département of the referential")
}

#[test]
fn every_role_reads_inside_its_perimeter_and_gets_one_404_outside() {
    let deps = structures_by_departement();
    let mut it = deps.iter();
    let (dep_a, ids_a) = it.next().expect("a département with structures");
    let region_a = region_of(dep_a);
    let (dep_b, ids_b) = it
        .find(|(d, _)| region_of(d) != region_a)
        .expect("a département of another région");
    let (a, b) = (ids_a[0], ids_b[0]);
    let year = format!("year={YEAR}");
    let (_, siae) = key("siae", &a.to_string(), &[]);
    let (_, departement) = key("departement", &format!("DEP-{dep_a}"), &[]);
    let (_, ddets) = key("ddets", &format!("DEP-{dep_a}"), &[]);
    let (_, dreets) = key("dreets", &format!("REG-{region_a}"), &[]);
    let (_, national) = key("national", "FR", &[]);

    // Inside: rows.
    let inside: Vec<(&str, &str, String)> = vec![
        (&siae, "structure", format!("structure={a}&{year}")),
        (&departement, "structure", format!("structure={a}&{year}")),
        (
            &departement,
            "departement-rsa",
            format!("departement={dep_a}&{year}"),
        ),
        (
            &ddets,
            "territoire",
            format!("departement={dep_a}&{year}&month=6"),
        ),
        (&dreets, "territoire", format!("departement={dep_a}&{year}")),
        (&dreets, "structure", format!("structure={a}&{year}")),
        (
            &national,
            "territoire",
            format!("departement={dep_b}&{year}"),
        ),
        (&national, "structure", format!("structure={b}&{year}")),
    ];
    for (token, report, query) in &inside {
        let (status, body) = get(token, report, query);
        assert_eq!(status, 200, "{report}?{query}: {body}");
        assert!(!lines(&body).is_empty(), "{report}?{query}");
    }

    // Outside, unknown, guessed, widened: one answer.
    let outside: Vec<(&str, &str, String)> = vec![
        (&siae, "structure", format!("structure={b}&{year}")),
        (&siae, "structure", format!("structure=987654321&{year}")),
        (&siae, "structure", format!("structure=abc&{year}")),
        (&siae, "structure", format!("structure={a},{b}&{year}")),
        (
            &siae,
            "structure",
            format!("structure={a}&departement={dep_a}&{year}"),
        ),
        (
            &siae,
            "departement-rsa",
            format!("departement={dep_a}&{year}"),
        ),
        (&siae, "territoire", format!("departement={dep_a}&{year}")),
        (&siae, "structure", format!("structure={a}&year=1999")),
        (&departement, "structure", format!("structure={b}&{year}")),
        (
            &departement,
            "territoire",
            format!("departement={dep_b}&{year}"),
        ),
        (
            &departement,
            "territoire",
            format!("departement={dep_a}&structure={b}&{year}"),
        ),
        (
            &ddets,
            "departement-rsa",
            format!("departement={dep_b}&{year}"),
        ),
        (&ddets, "territoire", format!("departement=00&{year}")),
        (&dreets, "territoire", format!("departement={dep_b}&{year}")),
        (&dreets, "structure", format!("structure={b}&{year}")),
        (
            &national,
            "structure",
            format!("structure=987654321&{year}"),
        ),
        (&national, "territoire", format!("departement=ZZ&{year}")),
    ];
    let mut bodies = Vec::new();
    for (token, report, query) in &outside {
        let (status, body) = get(token, report, query);
        assert_eq!(status, 404, "{report}?{query}: {body}");
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every 404 has the same body: {bodies:#?}"
    );
    let problem: Value = serde_json::from_str(&bodies[0]).expect("problem");
    assert_eq!(problem["type"], "urn:pilotage:problem:not-found");

    // The reports take no cursor: one answer each; a parameter they do not know is a 400
    // for every key, inside or outside, naming it.
    for token in [&siae, &national] {
        let (status, body) = get(
            token,
            "structure",
            &format!("structure={b}&{year}&cursor=x"),
        );
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("\"parameter\":\"cursor\""), "{body}");
    }
    // No key, or a made-up one: 401.
    let (status, _) = get("pk_0000", "structure", &format!("structure={a}&{year}"));
    assert_eq!(status, 401);
}

#[test]
fn the_store_holds_hashes_never_tokens() {
    let (id, token) = key("national", "FR", &[]);
    let bytes = std::fs::read(&world().store).expect("store file");
    let wal = std::fs::read(format!("{}-wal", world().store)).unwrap_or_default();
    let hash = pilotage_api::keys::token_sha256(&token);
    for file in [&bytes, &wal] {
        assert!(
            !file.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token is in the store"
        );
    }
    let list = ok(
        pilotage(&["keys", "--database-url", &world().store, "list"]),
        "keys list",
    );
    assert!(list.lines().any(|l| l.starts_with(&format!("{id}\t"))));
    assert!(!list.contains(&token) && !list.contains(&hash));
    assert!(token.len() >= 3 + 32, "at least 128 bits of hexadecimal");
}

fn until(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} did not happen within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn revocation_and_expiry_take_effect_without_restart() {
    let deps = structures_by_departement();
    let (dep, _) = deps.iter().next().expect("a département");
    let query = format!("departement={dep}&year={YEAR}");
    let (id, token) = key("ddets", &format!("DEP-{dep}"), &[]);
    assert_eq!(get(&token, "territoire", &query).0, 200);
    revoke(id);
    until("revocation", || get(&token, "territoire", &query).0 == 401);

    // A key that stops working six seconds from now.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 6;
    let days = (secs / 86_400) as i32;
    let rem = secs % 86_400;
    let instant = format!(
        "{}T{:02}:{:02}:{:02}Z",
        pilotage_api::storage::date::format_iso_date(days),
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    );
    let (_, token) = key("ddets", &format!("DEP-{dep}"), &["--expires", &instant]);
    assert_eq!(get(&token, "territoire", &query).0, 200);
    until("expiry", || get(&token, "territoire", &query).0 == 401);
    let list = ok(
        pilotage(&["keys", "--database-url", &world().store, "list"]),
        "keys list",
    );
    assert!(
        list.contains("\trevoked") && list.contains("\texpired"),
        "{list}"
    );
}

/// GET a report with `If-None-Match`: (status, entity tag, body).
fn get_tagged(token: &str, report: &str, query: &str, tag: Option<&str>) -> (u16, String, String) {
    let w = world();
    let url = format!("{}/v1/reports/{report}?{query}", w.server.url());
    let mut req = w
        .client
        .get(url)
        .header("Authorization", format!("Bearer {token}"));
    if let Some(t) = tag {
        req = req.header("If-None-Match", t);
    }
    let res = req.send().expect("request");
    let etag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (res.status().as_u16(), etag, res.text().expect("body"))
}

/// Repeated reports come from the answer cache, and the cache never lends an answer across
/// perimeters: the key and its right to the perimeter asked are checked at every request,
/// before the cache is read, so a key outside gets the one 404 and a revoked key a 401 for a
/// path whose answer is cached.
#[test]
fn the_answer_cache_keeps_perimeters_apart_and_follows_revocation() {
    let deps = structures_by_departement();
    let mut it = deps.iter();
    let (dep_a, ids_a) = it.next().expect("a département");
    let (dep_b, ids_b) = it.next().expect("a second département");
    let (a, b) = (ids_a[0], ids_b[0]);
    let (_, key_a) = key("departement", &format!("DEP-{dep_a}"), &[]);
    let (_, key_b) = key("departement", &format!("DEP-{dep_b}"), &[]);
    let (_, national) = key("national", "FR", &[]);
    let (_, siae_a) = key("siae", &a.to_string(), &[]);
    let (_, siae_b) = key("siae", &b.to_string(), &[]);
    let (_, not_found) = get(&key_b, "structure", "structure=987654321&year=2025");

    for format in ["json", "csv", "html"] {
        let path_a = format!("departement={dep_a}&year={YEAR}&format={format}");
        let path_b = format!("departement={dep_b}&year={YEAR}&format={format}");
        for report in ["departement-rsa", "territoire"] {
            // Warm: the same answer, with the same tag, twice.
            let (status, tag_a, first) = get_tagged(&key_a, report, &path_a, None);
            assert_eq!(status, 200, "{report}?{path_a}: {first}");
            assert!(tag_a.starts_with('"') && tag_a.len() > 2, "{tag_a}");
            let (status, tag, again) = get_tagged(&key_a, report, &path_a, None);
            assert_eq!((status, &tag, &again), (200, &tag_a, &first));
            assert!(first.contains(dep_a.as_str()));
            // The tag answers 304 without a body.
            let (status, tag, empty) = get_tagged(&key_a, report, &path_a, Some(&tag_a));
            assert_eq!(
                (status, tag.as_str(), empty.as_str()),
                (304, tag_a.as_str(), "")
            );
            // Another département's key asking the very same path: the one 404, cache warm.
            for _ in 0..2 {
                let (status, body) = get(&key_b, report, &path_a);
                assert_eq!((status, &body), (404, &not_found), "{report}?{path_a}");
            }
            // Its own département: its own answer.
            let (status, tag_b, own) = get_tagged(&key_b, report, &path_b, None);
            assert_eq!(status, 200, "{report}?{path_b}: {own}");
            assert_ne!(own, first);
            assert_ne!(tag_b, tag_a);
            // A wider key holding département A reads the same report.
            let (status, tag, wide) = get_tagged(&national, report, &path_a, None);
            assert_eq!((status, &tag, &wide), (200, &tag_a, &first));
        }
    }

    // Structures: a structure key never reads another structure's cached report.
    let path = format!("structure={a}&year={YEAR}");
    let (status, mine) = get(&siae_a, "structure", &path);
    assert_eq!(status, 200);
    assert_eq!(get(&siae_a, "structure", &path), (200, mine.clone()));
    for _ in 0..2 {
        assert_eq!(get(&siae_b, "structure", &path), (404, not_found.clone()));
    }
    let (status, theirs) = get(&siae_b, "structure", &format!("structure={b}&year={YEAR}"));
    assert_eq!(status, 200);
    assert_ne!(theirs, mine);
    let perimeter = |body: &str| -> String {
        let v: Value = serde_json::from_str(body).expect("json");
        v["perimeter"].as_str().expect("perimeter").to_owned()
    };
    assert_eq!(perimeter(&mine), format!("structure={a}"));
    assert_eq!(perimeter(&theirs), format!("structure={b}"));

    // Revocation with the answer cached: the key stops being served, the others are not.
    let (id, revoked) = key("departement", &format!("DEP-{dep_a}"), &[]);
    let path_a = format!("departement={dep_a}&year={YEAR}");
    let (status, warm) = get(&revoked, "departement-rsa", &path_a);
    assert_eq!(status, 200);
    assert_eq!(
        get(&revoked, "departement-rsa", &path_a),
        (200, warm.clone())
    );
    revoke(id);
    until("revocation with a warm cache", || {
        get(&revoked, "departement-rsa", &path_a).0 == 401
    });
    for _ in 0..3 {
        assert_eq!(get(&revoked, "departement-rsa", &path_a).0, 401);
    }
    assert_eq!(get(&key_a, "departement-rsa", &path_a), (200, warm));
}

#[test]
fn every_professional_request_is_logged() {
    let deps = structures_by_departement();
    let (dep, ids) = deps.iter().next().expect("a département");
    let (id, token) = key("departement", &format!("DEP-{dep}"), &[]);
    assert_eq!(
        get(
            &token,
            "departement-rsa",
            &format!("departement={dep}&year={YEAR}")
        )
        .0,
        200
    );
    let other = 987_654_321;
    assert_eq!(
        get(
            &token,
            "structure",
            &format!("structure={other}&year={YEAR}")
        )
        .0,
        404
    );
    let _ = ids;
    until("the access log", || {
        let log = ok(
            pilotage(&[
                "keys",
                "--database-url",
                &world().store,
                "log",
                "--key",
                &id.to_string(),
            ]),
            "keys log",
        );
        log.contains(&format!(
            "\t{id}\t/v1/reports/departement-rsa\tdepartement={dep}\t200\t"
        )) && log.contains(&format!(
            "\t{id}\t/v1/reports/structure\tstructure={other}\t404\t0"
        ))
    });
}

/// The three encodings of each report.
#[test]
fn each_report_comes_as_json_csv_and_a_printable_french_page() {
    let deps = structures_by_departement();
    let (dep, ids) = deps.iter().next().expect("a département");
    let (_, token) = key("national", "FR", &[]);
    for (report, query) in [
        ("structure", format!("structure={}&year={YEAR}", ids[0])),
        ("departement-rsa", format!("departement={dep}&year={YEAR}")),
        ("territoire", format!("departement={dep}&year={YEAR}")),
    ] {
        let (status, json) = get(&token, report, &query);
        assert_eq!(status, 200);
        let n = lines(&json).len();
        let (status, csv) = get(&token, report, &format!("{query}&format=csv"));
        assert_eq!(status, 200);
        assert!(csv.starts_with("section,id,libelle,territoire,periode,valeur,unite,source"));
        assert_eq!(csv.lines().count(), n + 1, "{report}: one CSV row per line");
        let (status, html) = get(&token, report, &format!("{query}&format=html"));
        assert_eq!(status, 200);
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<html lang=\"fr\">"));
        assert!(html.contains("@media print"));
        let v: Value = serde_json::from_str(&json).expect("json");
        assert!(html.contains(v["release"].as_str().expect("release")));
    }
}

fn value_of<'a>(lines: &'a [Value], id: &str) -> Option<&'a Value> {
    lines.iter().find(|l| l["id"] == id).map(|l| &l["value"])
}

/// Golden: the territoire report's private département and France figures equal the public
/// release's wherever it publishes the cell; the public columns are the release's own values.
#[test]
fn territoire_figures_equal_the_public_release_where_it_publishes() {
    let (_, token) = key("national", "FR", &[]);
    let mut compared = 0;
    for dep in structures_by_departement().keys() {
        let (status, body) = get(
            &token,
            "territoire",
            &format!("departement={dep}&year={YEAR}"),
        );
        assert_eq!(status, 200);
        let lines = lines(&body);
        for l in &lines {
            let id = l["id"].as_str().expect("id");
            let Some(measure) = id.strip_prefix("public:departement:") else {
                continue;
            };
            let public = &l["value"];
            if public.is_null() {
                continue;
            }
            let private =
                value_of(&lines, &format!("departement:{measure}")).expect("private line");
            assert_eq!(private, public, "{dep} {measure}");
            compared += 1;
        }
    }
    assert!(
        compared > 0,
        "the public release publishes some département cells"
    );
}

/// Golden: a structure alone in its département has the département's figures, equal to the
/// public release's wherever the release publishes them; and the sum over the structures of a
/// département of each additive figure equals the département's unprotected figure.
#[test]
fn structure_and_departement_figures_add_up_and_match_the_public_release() {
    let (_, token) = key("national", "FR", &[]);
    let additive = [
        "etp.etp_conventionnes",
        "etp.etp_conventionnes_departement",
        "etp.etp_realises",
        "candidatures.recues[groupe_prescripteur=DEPARTEMENT]",
        "sorties.embauches",
        "sorties.sorties",
    ];
    let mut compared_public = 0;
    for (dep, ids) in structures_by_departement() {
        let (_, rsa) = get(
            &token,
            "departement-rsa",
            &format!("departement={dep}&year={YEAR}"),
        );
        let rsa = lines(&rsa);
        let (_, terr) = get(
            &token,
            "territoire",
            &format!("departement={dep}&year={YEAR}"),
        );
        let terr = lines(&terr);
        for measure in additive {
            let dep_value = value_of(&rsa, measure)
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            let mut sum = 0.0;
            for id in &ids {
                let (status, body) =
                    get(&token, "structure", &format!("structure={id}&year={YEAR}"));
                assert_eq!(status, 200);
                let s = lines(&body);
                let v = value_of(&s, measure).and_then(Value::as_f64).unwrap_or(0.0);
                // The same figure in the Département's report, structure by structure.
                let per = value_of(&rsa, &format!("structure:{id}:{measure}"))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                assert_eq!(v, per, "structure {id} {measure}");
                sum += v;
            }
            assert!(
                (sum - dep_value).abs() < 0.011 * ids.len() as f64,
                "{dep} {measure}: Σ structures {sum} ≠ département {dep_value}"
            );
        }
        if ids.len() == 1 {
            let (_, body) = get(
                &token,
                "structure",
                &format!("structure={}&year={YEAR}", ids[0]),
            );
            let s = lines(&body);
            for l in &terr {
                let id = l["id"].as_str().expect("id");
                let Some(measure) = id.strip_prefix("public:departement:") else {
                    continue;
                };
                if l["value"].is_null() {
                    continue;
                }
                if let Some(v) = value_of(&s, measure) {
                    assert_eq!(
                        v, &l["value"],
                        "structure {} alone in {dep}: {measure}",
                        ids[0]
                    );
                    compared_public += 1;
                }
            }
        }
    }
    assert!(
        compared_public > 0,
        "some structure figure is published at its département"
    );
}

#[test]
fn a_private_folder_inside_the_releases_is_refused() {
    let w = world();
    let releases = w.private.parent().expect("parent").join("releases");
    let out = pilotage(&[
        "publish",
        "--database-url",
        &w.store,
        "--releases",
        arg(&releases),
        "--private",
        arg(&releases.join("private")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be apart"));
}
