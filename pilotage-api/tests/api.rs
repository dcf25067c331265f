//! The API end to end: the real server on 127.0.0.1 with a small release on disk, reached by
//! a real HTTP client.

#[path = "api/fixture.rs"]
mod fixture;
#[path = "api/test_server.rs"]
mod test_server;

use test_server::TestServer;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use pilotage_api::server::{self, RateLimitOptions, ServeOptions};
use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use serde_json::Value;

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Checks a problem answer: status, media type, type suffix and parameter.
fn assert_problem(res: Response, status: u16, kind: &str, parameter: Option<&str>) -> Value {
    assert_eq!(res.status().as_u16(), status);
    assert_eq!(
        header(res.headers(), "content-type"),
        "application/problem+json"
    );
    let body: Value = res.json().expect("problem json");
    assert_eq!(
        body["type"],
        format!("urn:pilotage:problem:{kind}"),
        "{body}"
    );
    assert_eq!(body["status"], status);
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    if let Some(p) = parameter {
        assert_eq!(body["parameter"], p, "{body}");
    }
    body
}

fn rows(v: &Value) -> &Vec<Value> {
    v["rows"].as_array().expect("rows")
}

#[test]
fn health_readiness_and_no_release() {
    let env = TestServer::start_watching(|o| o);
    assert_eq!(env.json("/healthz")["status"], "ok");
    assert_eq!(env.json("/readyz")["release"], env.version.as_str());

    let empty = tempfile::tempdir().expect("temp dir");
    let mut opts = ServeOptions::new("127.0.0.1:0", empty.path());
    opts.workers = 1;
    let server = server::spawn(opts).expect("server starts without a release");
    install_crypto_provider();
    let client = Client::new();
    let res = client
        .get(format!("{}/readyz", server.url()))
        .send()
        .expect("request");
    assert_eq!(res.status(), 503);
    let res = client
        .get(format!("{}/v1/datasets", server.url()))
        .send()
        .expect("request");
    assert_problem(res, 503, "no-release", None);
    server.stop().expect("stops");
}

#[test]
fn datasets_list_detail_and_schema() {
    let env = TestServer::start_watching(|o| o);
    let list = env.json("/v1/datasets");
    assert_eq!(list["release"], env.version.as_str());
    let ds = &list["datasets"][0];
    assert_eq!(ds["id"], "candidatures");
    assert_eq!(ds["rows"], 160);
    assert_eq!(ds["links"]["data"], "/v1/datasets/candidatures/data");

    let detail = env.json("/v1/datasets/candidatures");
    assert_eq!(detail["license"], "Licence Ouverte 2.0");
    assert_eq!(detail["release"], env.version.as_str());
    let territoire = &detail["dimensions"][0];
    assert_eq!(territoire["id"], "territoire");
    let members = territoire["members"].as_array().expect("members");
    let reg84 = members
        .iter()
        .find(|m| m["code"] == "REG-84")
        .expect("REG-84");
    assert_eq!(reg84["label"], "Auvergne-Rhône-Alpes");
    assert_eq!(reg84["level"], "region");
    let aci = detail["dimensions"][2]["members"]
        .as_array()
        .expect("members");
    assert!(
        aci.iter()
            .any(|m| m["code"] == "_T" && m["label"] == "Total")
    );
    let recues = &detail["measures"][0];
    assert_eq!(recues["unit"], "candidatures");
    assert!(detail["methodology"]["counted"]["fr"].as_str().is_some());
    let relations = detail["methodology"]["relations"]
        .as_array()
        .expect("relations");
    let answered = relations
        .iter()
        .find(|r| r["relation"] == "traitees ≥ acceptees + refusees")
        .expect("traitees ≥ acceptees + refusees");
    assert_eq!(answered["left"], "traitees");
    assert_eq!(answered["op"], ">=");
    assert_eq!(
        answered["right"],
        serde_json::json!(["acceptees", "refusees"])
    );
    assert_eq!(
        answered["fr"],
        "Candidatures traitées ≥ Candidatures acceptées + Candidatures refusées"
    );
    assert_eq!(
        answered["en"],
        "Applications answered ≥ Applications accepted + Applications refused"
    );
    let files = detail["files"].as_array().expect("files");
    assert_eq!(files.len(), 4);
    assert!(files.iter().all(|f| {
        f["url"]
            .as_str()
            .expect("url")
            .starts_with(&format!("/v1/releases/{}/files/", env.version))
    }));

    let schema = env.get("/v1/datasets/candidatures/schema");
    assert_eq!(schema.status(), 200);
    let on_disk = std::fs::read(
        env.dir
            .path()
            .join(&env.version)
            .join("candidatures.schema.json"),
    )
    .expect("schema file");
    assert_eq!(schema.bytes().expect("body").as_ref(), on_disk.as_slice());

    let body = assert_problem(
        env.get("/v1/datasets/nope"),
        404,
        "unknown-dataset",
        Some("id"),
    );
    assert!(
        body["hint"]
            .as_str()
            .expect("hint")
            .contains("candidatures")
    );
    assert_problem(
        env.get("/v1/datasets/nope/data"),
        404,
        "unknown-dataset",
        Some("id"),
    );
    assert_problem(
        env.get("/v1/datasets?release=1999-01-01-000000000000"),
        404,
        "unknown-release",
        Some("release"),
    );
    assert_problem(env.get("/v1/nothing/here"), 404, "not-found", None);
}

#[test]
fn data_in_every_format() {
    let env = TestServer::start_watching(|o| o);
    let json = env.json("/v1/datasets/candidatures/data");
    assert_eq!(rows(&json).len(), 160);
    assert_eq!(json["next"], Value::Null);
    let first = &rows(&json)[0];
    assert_eq!(first["territoire"], "FR");
    assert_eq!(first["territoire_niveau"], "france");
    assert!(first.get("recues_statut").is_some());
    // Secret values are null with the status `secret`.
    let secret = rows(&json)
        .iter()
        .find(|r| r["recues_statut"] == "secret")
        .expect("a secret value");
    assert_eq!(secret["recues"], Value::Null);

    let csv = env.get("/v1/datasets/candidatures/data?format=csv");
    assert_eq!(
        header(csv.headers(), "content-type"),
        "text/csv; charset=utf-8"
    );
    let text = csv.text().expect("csv");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 161);
    assert!(lines[0].starts_with("territoire,territoire_niveau,periode"));
    // Same bytes as the release CSV: same columns, same order, same values.
    let on_disk =
        std::fs::read_to_string(env.dir.path().join(&env.version).join("candidatures.csv"))
            .expect("csv file");
    assert_eq!(text, on_disk);

    let nd = env.get_with(
        "/v1/datasets/candidatures/data",
        &[("accept", "application/x-ndjson")],
    );
    assert_eq!(header(nd.headers(), "content-type"), "application/x-ndjson");
    let text = nd.text().expect("ndjson");
    let objs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("line json"))
        .collect();
    assert_eq!(objs.len(), 160);
    assert_eq!(&objs[5], &rows(&json)[5]);

    let pq = env.get_with(
        "/v1/datasets/candidatures/data?territoire=REG-84",
        &[("accept", "application/vnd.apache.parquet")],
    );
    assert_eq!(
        header(pq.headers(), "content-type"),
        "application/vnd.apache.parquet"
    );
    let bytes = pq.bytes().expect("parquet");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
        .expect("parquet")
        .build()
        .expect("reader");
    let n: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
    assert_eq!(n, 32);

    let res = env.get_with(
        "/v1/datasets/candidatures/data",
        &[("accept", "text/csv;q=0.4, application/json;q=0.9")],
    );
    assert_eq!(header(res.headers(), "content-type"), "application/json");
    assert_problem(
        env.get("/v1/datasets/candidatures/data?format=xml"),
        406,
        "not-acceptable",
        Some("format"),
    );
    assert_problem(
        env.get_with("/v1/datasets/candidatures/data", &[("accept", "image/png")]),
        406,
        "not-acceptable",
        Some("Accept"),
    );
}

#[test]
fn filters_measures_sort_and_mistakes() {
    let env = TestServer::start_watching(|o| o);
    let v = env.json("/v1/datasets/candidatures/data?territoire=REG-84,REG-11&periode=2024");
    assert_eq!(rows(&v).len(), 16);
    assert!(rows(&v).iter().all(
        |r| (r["territoire"] == "REG-84" || r["territoire"] == "REG-11") && r["periode"] == "2024"
    ));
    // A bare territory code naming one member, and a level column.
    let bare = env.json("/v1/datasets/candidatures/data?territoire=84");
    assert_eq!(rows(&bare).len(), 32);
    let level = env
        .json("/v1/datasets/candidatures/data?territoire_niveau=departement&periode_niveau=mois");
    assert_eq!(rows(&level).len(), 2 * 2 * 8);

    let m = env.json("/v1/datasets/candidatures/data?measures=taux_acceptation,recues&limit=1");
    let keys: Vec<&String> = rows(&m)[0].as_object().expect("object").keys().collect();
    assert!(
        keys.iter().any(|k| *k == "recues") && keys.iter().any(|k| *k == "taux_acceptation_statut")
    );
    assert!(!keys.iter().any(|k| *k == "traitees"));

    let sorted = env.json("/v1/datasets/candidatures/data?sort=-recues,territoire&measures=recues");
    let values: Vec<Option<i64>> = rows(&sorted).iter().map(|r| r["recues"].as_i64()).collect();
    let present: Vec<i64> = values.iter().flatten().copied().collect();
    assert!(present.windows(2).all(|w| w[0] >= w[1]), "descending");
    // Nulls (secret values) come last.
    let first_null = values.iter().position(Option::is_none).expect("a null");
    assert!(values[first_null..].iter().all(Option::is_none));

    let p = assert_problem(
        env.get("/v1/datasets/candidatures/data?territoire=REG-99"),
        400,
        "unknown-code",
        Some("territoire"),
    );
    assert!(p["hint"].as_str().expect("hint").contains("REG-84"));
    let p = assert_problem(
        env.get("/v1/datasets/candidatures/data?pays=FR"),
        400,
        "unknown-dimension",
        Some("pays"),
    );
    assert!(p["hint"].as_str().expect("hint").contains("territoire"));
    assert_problem(
        env.get("/v1/datasets/candidatures/data?measures=nope"),
        400,
        "bad-parameter",
        Some("measures"),
    );
    assert_problem(
        env.get("/v1/datasets/candidatures/data?sort=nope"),
        400,
        "bad-parameter",
        Some("sort"),
    );
    // `sort=` takes the syntax the OpenAPI document gives: no empty key; spaces (a `+` in a
    // query) around a key, and `+` for ascending, are allowed.
    for empty in [
        "sort=",
        "sort=territoire,",
        "sort=,-recues",
        "sort=recues,,territoire",
    ] {
        assert_problem(
            env.get(&format!("/v1/datasets/candidatures/data?{empty}")),
            400,
            "bad-parameter",
            Some("sort"),
        );
    }
    let spaced =
        env.json("/v1/datasets/candidatures/data?sort=-recues+,+territoire&measures=recues");
    assert_eq!(rows(&spaced), rows(&sorted));
    let plus = env.json("/v1/datasets/candidatures/data?sort=%2Brecues&measures=recues");
    let ascending = env.json("/v1/datasets/candidatures/data?sort=recues&measures=recues");
    assert_eq!(rows(&plus), rows(&ascending));
    assert_problem(
        env.get("/v1/datasets/candidatures/data?limit=0"),
        400,
        "bad-parameter",
        Some("limit"),
    );
    assert_problem(
        env.get("/v1/datasets/candidatures/data?limit=abc"),
        400,
        "bad-parameter",
        Some("limit"),
    );
    assert_problem(
        env.get("/v1/datasets/candidatures/data?periode=2024&periode=2023"),
        400,
        "bad-parameter",
        Some("periode"),
    );
    assert_problem(
        env.get("/v1/datasets/candidatures/data?cursor=zz"),
        400,
        "bad-cursor",
        Some("cursor"),
    );
    assert_problem(
        env.get("/v1/territories?level=canton"),
        400,
        "bad-parameter",
        Some("level"),
    );
}

/// Follows `Link: rel="next"` to the end, returning every row and the number of pages.
fn paginate(env: &TestServer, first: &str) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut next = Some(first.to_owned());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let res = env.get(&path);
        assert_eq!(res.status(), 200);
        let link = header(res.headers(), "link").to_owned();
        let body: Value = res.json().expect("json");
        out.extend(rows(&body).iter().cloned());
        pages += 1;
        if !link.is_empty() {
            let url = link
                .trim_start_matches('<')
                .split('>')
                .next()
                .expect("url")
                .to_owned();
            assert!(link.ends_with("rel=\"next\""));
            assert_eq!(body["next"], url.as_str());
            next = Some(url);
        }
        assert!(pages < 100, "pagination ends");
    }
    (out, pages)
}

#[test]
fn keyset_pagination_to_the_end() {
    let env = TestServer::start_watching(|o| o);
    let all = env.json("/v1/datasets/candidatures/data");
    let (paged, pages) = paginate(&env, "/v1/datasets/candidatures/data?limit=50");
    assert_eq!(pages, 4);
    assert_eq!(&paged, rows(&all));

    let sorted =
        env.json("/v1/datasets/candidatures/data?territoire=REG-84,DEP-01&sort=-candidats");
    let (paged, pages) = paginate(
        &env,
        "/v1/datasets/candidatures/data?territoire=REG-84,DEP-01&sort=-candidats&limit=7",
    );
    assert_eq!(pages, 64usize.div_ceil(7));
    assert_eq!(&paged, rows(&sorted));

    // Exactly one page: no next link.
    let res = env.get("/v1/datasets/candidatures/data?limit=160");
    assert_eq!(header(res.headers(), "link"), "");

    // A cursor only works with the filters and sort it was made for.
    let res = env.get("/v1/datasets/candidatures/data?limit=10");
    let link = header(res.headers(), "link").to_owned();
    let cursor = link
        .split("cursor=")
        .nth(1)
        .expect("cursor")
        .split('>')
        .next()
        .expect("end")
        .to_owned();
    assert_problem(
        env.get(&format!(
            "/v1/datasets/candidatures/data?limit=10&periode=2024&cursor={cursor}"
        )),
        400,
        "bad-cursor",
        Some("cursor"),
    );
}

#[test]
fn etags_answer_304() {
    let env = TestServer::start_watching(|o| o);
    for path in [
        "/v1/datasets/candidatures/data?territoire=REG-84",
        "/v1/datasets/candidatures",
        "/v1/datasets",
        "/v1/releases/current",
        "/v1/releases/current/files/candidatures.parquet",
        "/v1/catalog.jsonld",
        "/v1/territories?level=departement",
    ] {
        let res = env.get(path);
        assert_eq!(res.status(), 200, "{path}");
        let etag = header(res.headers(), "etag").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "strong etag on {path}: {etag}"
        );
        let again = env.get_with(path, &[("if-none-match", &etag)]);
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(header(again.headers(), "etag"), etag);
        let other = env.get_with(path, &[("if-none-match", "\"other\"")]);
        assert_eq!(other.status(), 200, "{path}");
    }
    // Another format is another answer.
    let a = env.get("/v1/datasets/candidatures/data?format=csv");
    let b = env.get("/v1/datasets/candidatures/data?format=json");
    assert_ne!(header(a.headers(), "etag"), header(b.headers(), "etag"));
}

#[test]
fn release_files_with_ranges() {
    let env = TestServer::start_watching(|o| o);
    let versioned = format!("/v1/releases/{}/files/candidatures.parquet", env.version);
    let on_disk = std::fs::read(
        env.dir
            .path()
            .join(&env.version)
            .join("candidatures.parquet"),
    )
    .expect("file");
    let len = on_disk.len();

    let full = env.get(&versioned);
    assert_eq!(full.status(), 200);
    let h = full.headers().clone();
    assert_eq!(header(&h, "content-length"), len.to_string());
    assert_eq!(header(&h, "accept-ranges"), "bytes");
    assert_eq!(
        header(&h, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&h, "content-type"), "application/vnd.apache.parquet");
    assert!(httpdate::parse_http_date(header(&h, "last-modified")).is_ok());
    assert_eq!(full.bytes().expect("body").as_ref(), on_disk.as_slice());

    let current = env.get("/v1/releases/current/files/candidatures.parquet");
    assert_eq!(
        header(current.headers(), "cache-control"),
        "public, no-cache"
    );
    assert_eq!(header(current.headers(), "etag"), header(&h, "etag"));

    let one = env.get_with(&versioned, &[("range", "bytes=4-11")]);
    assert_eq!(one.status(), 206);
    assert_eq!(
        header(one.headers(), "content-range"),
        format!("bytes 4-11/{len}")
    );
    assert_eq!(one.bytes().expect("body").as_ref(), &on_disk[4..12]);

    let tail = env.get_with(&versioned, &[("range", "bytes=-8")]);
    assert_eq!(tail.bytes().expect("body").as_ref(), &on_disk[len - 8..]);

    let multi = env.get_with(&versioned, &[("range", "bytes=0-3, 10-19")]);
    assert_eq!(multi.status(), 206);
    let ct = header(multi.headers(), "content-type").to_owned();
    let boundary = ct
        .strip_prefix("multipart/byteranges; boundary=")
        .expect("multipart")
        .to_owned();
    let body = multi.bytes().expect("body");
    let parts = multipart_parts(&body, &boundary);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].0, format!("bytes 0-3/{len}"));
    assert_eq!(parts[0].1, &on_disk[0..4]);
    assert_eq!(parts[1].0, format!("bytes 10-19/{len}"));
    assert_eq!(parts[1].1, &on_disk[10..20]);

    let bad = env.get_with(&versioned, &[("range", &format!("bytes={}-", len + 10))]);
    assert_eq!(
        header(bad.headers(), "content-range"),
        format!("bytes */{len}")
    );
    assert_problem(bad, 416, "bad-range", Some("Range"));

    // If-Range with another validator: the whole file.
    let stale = env.get_with(
        &versioned,
        &[("range", "bytes=0-3"), ("if-range", "\"old\"")],
    );
    assert_eq!(stale.status(), 200);

    // The manifest and every listed file; nothing else.
    let manifest = env.json(&format!("/v1/releases/{}", env.version));
    assert_eq!(manifest["version"], env.version.as_str());
    for f in manifest["files"].as_array().expect("files") {
        let name = f["name"].as_str().expect("name");
        let res = env.get(&format!("/v1/releases/{}/files/{name}", env.version));
        assert_eq!(res.status(), 200, "{name}");
        assert_eq!(
            header(res.headers(), "content-type"),
            f["media_type"].as_str().expect("media")
        );
        assert_eq!(
            res.bytes().expect("body").len() as u64,
            f["bytes"].as_u64().expect("bytes")
        );
    }
    assert_problem(
        env.get(&format!("/v1/releases/{}/files/secret.txt", env.version)),
        404,
        "unknown-file",
        Some("name"),
    );
    assert_problem(
        env.get(&format!(
            "/v1/releases/{}/files/..%2F..%2Fetc%2Fpasswd",
            env.version
        )),
        404,
        "unknown-file",
        Some("name"),
    );
    assert_problem(
        env.get("/v1/releases/..%2F..%2Fetc"),
        404,
        "unknown-release",
        Some("release"),
    );
}

fn multipart_parts<'a>(body: &'a [u8], boundary: &str) -> Vec<(String, &'a [u8])> {
    let delimiter = format!("\r\n--{boundary}");
    let text = body;
    let mut out = Vec::new();
    let mut positions = Vec::new();
    let d = delimiter.as_bytes();
    let mut i = 0;
    while i + d.len() <= text.len() {
        if &text[i..i + d.len()] == d {
            positions.push(i);
            i += d.len();
        } else {
            i += 1;
        }
    }
    for w in positions.windows(2) {
        let part = &text[w[0] + d.len()..w[1]];
        let split = part
            .windows(4)
            .position(|x| x == b"\r\n\r\n")
            .expect("headers end");
        let headers = String::from_utf8_lossy(&part[..split]).to_string();
        let range = headers
            .lines()
            .find_map(|l| l.strip_prefix("Content-Range: "))
            .expect("content-range")
            .to_owned();
        out.push((range, &part[split + 4..]));
    }
    out
}

/// A Parquet file read over HTTP by ranges with the parquet crate's own reader.
struct HttpFile {
    client: Client,
    url: String,
    len: u64,
    requests: std::sync::atomic::AtomicUsize,
}

impl parquet::file::reader::Length for HttpFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl HttpFile {
    fn range(&self, start: u64, length: usize) -> Bytes {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let end = start + length as u64 - 1;
        let res = self
            .client
            .get(&self.url)
            .header("range", format!("bytes={start}-{end}"))
            .send()
            .expect("range request");
        assert_eq!(res.status(), 206);
        res.bytes().expect("range body")
    }
}

impl parquet::file::reader::ChunkReader for HttpFile {
    type T = std::io::Cursor<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(std::io::Cursor::new(
            self.range(start, (self.len - start) as usize),
        ))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        Ok(self.range(start, length))
    }
}

#[test]
fn parquet_read_through_http_ranges() {
    let env = TestServer::start_watching(|o| o);
    let url = env.url("/v1/releases/current/files/candidatures.parquet");
    let head = env.client.head(&url).send().expect("head");
    let len: u64 = header(head.headers(), "content-length")
        .parse()
        .expect("length");
    // A thread-local reader: the blocking client is not Sync, the reader runs here.
    let file = HttpFile {
        client: env.client.clone(),
        url,
        len,
        requests: std::sync::atomic::AtomicUsize::new(0),
    };
    let builder = parquet::file::serialized_reader::SerializedFileReader::new(file)
        .expect("footer read by ranges");
    use parquet::file::reader::FileReader;
    assert_eq!(builder.metadata().file_metadata().num_rows(), 160);
    let mut n = 0;
    for row in builder.get_row_iter(None).expect("rows") {
        row.expect("row");
        n += 1;
    }
    assert_eq!(n, 160);
}

#[test]
fn releases_catalog_and_territories() {
    let env = TestServer::start_watching(|o| o);
    let list = env.json("/v1/releases");
    assert_eq!(list["current"], env.version.as_str());
    assert_eq!(list["releases"][0]["version"], env.version.as_str());
    assert_eq!(list["releases"][0]["current"], true);
    let current = env.get("/v1/releases/current");
    assert_eq!(
        header(current.headers(), "cache-control"),
        "public, no-cache"
    );
    let on_disk =
        std::fs::read(env.dir.path().join(&env.version).join("manifest.json")).expect("manifest");
    assert_eq!(current.bytes().expect("body").as_ref(), on_disk.as_slice());
    let versioned = env.get(&format!("/v1/releases/{}", env.version));
    assert_eq!(
        header(versioned.headers(), "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_problem(
        env.get("/v1/releases/2000-01-01-000000000000"),
        404,
        "unknown-release",
        Some("release"),
    );

    let catalog = env.get("/v1/catalog.jsonld");
    assert_eq!(
        header(catalog.headers(), "content-type"),
        "application/ld+json"
    );
    let c: Value = catalog.json().expect("jsonld");
    assert_eq!(c["@type"], "dcat:Catalog");

    let regions = env.json("/v1/territories?level=region");
    let ara = regions
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["code"] == "84")
        .expect("84");
    assert_eq!(ara["name"], "Auvergne-Rhône-Alpes");
    let deps = env.json("/v1/territories?level=departement");
    assert!(
        deps.as_array()
            .expect("list")
            .iter()
            .any(|d| d["code"] == "2A" && d["region"] == "94")
    );
    let communes = env.json("/v1/territories?level=commune");
    assert!(communes.as_array().expect("list").len() > 34_000);
    let epci = env.json("/v1/territories?level=epci");
    assert!(
        epci.as_array()
            .expect("list")
            .iter()
            .any(|e| e["code"] == "200046977")
    );
    assert_eq!(env.json("/v1/territories"), regions);
}

#[test]
fn openapi_docs_metrics_and_compression() {
    let env = TestServer::start_watching(|o| o);
    let spec = env.json("/openapi.json");
    assert!(spec["paths"]["/v1/datasets/{id}/data"]["get"].is_object());
    install_crypto_provider();
    let redirect = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(env.url("/docs"))
        .send()
        .expect("request");
    assert_eq!(redirect.status(), 307);
    assert_eq!(header(redirect.headers(), "location"), "/docs/");
    let docs = env.get("/docs/");
    assert_eq!(docs.status(), 200);
    assert!(docs.text().expect("html").contains("swagger"));
    let js = env.get("/docs/swagger-ui-bundle.js");
    assert_eq!(js.status(), 200);

    let _ = env.get("/v1/datasets");
    let metrics = env.get("/metrics").text().expect("metrics");
    assert!(
        metrics.contains(
            "pilotage_http_requests_total{route=\"/v1/datasets\",method=\"GET\",status=\"200\"}"
        ),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(
        "pilotage_release_info{{version=\"{}\"}} 1",
        env.version
    )));
    assert!(metrics.contains("pilotage_http_request_duration_seconds_bucket"));

    let gz = env.get_with(
        "/v1/datasets/candidatures/data",
        &[("accept-encoding", "gzip")],
    );
    assert_eq!(header(gz.headers(), "content-encoding"), "gzip");
    let zs = env.get_with(
        "/v1/datasets/candidatures/data?format=csv",
        &[("accept-encoding", "zstd")],
    );
    assert_eq!(header(zs.headers(), "content-encoding"), "zstd");
    // Release files keep their bytes (and lengths, and ranges).
    let file = env.get_with(
        "/v1/releases/current/files/candidatures.csv",
        &[("accept-encoding", "gzip")],
    );
    assert_ne!(header(file.headers(), "content-encoding"), "gzip");
    assert!(!header(file.headers(), "content-length").is_empty());
    // Every answer carries a request id.
    assert!(!header(file.headers(), "x-request-id").is_empty());
}

#[test]
fn rate_limit_headers_and_429() {
    let env = TestServer::start_watching(|mut o| {
        o.rate_limit = Some(RateLimitOptions {
            per_ip: 3,
            per_key: 100,
            files: 50,
            api_keys: BTreeSet::from(["k-123".to_owned()]),
        });
        o
    });
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let res = env.get("/v1/datasets");
        assert_eq!(res.status(), 200);
        assert_eq!(header(res.headers(), "ratelimit-limit"), "3");
        remaining.push(
            header(res.headers(), "ratelimit-remaining")
                .parse::<u32>()
                .expect("remaining"),
        );
        assert!(
            header(res.headers(), "ratelimit-reset")
                .parse::<u64>()
                .is_ok()
        );
    }
    assert_eq!(remaining, vec![2, 1, 0]);
    let res = env.get("/v1/datasets");
    let retry: u64 = header(res.headers(), "retry-after")
        .parse()
        .expect("retry-after");
    assert!((1..=60).contains(&retry));
    assert_eq!(header(res.headers(), "ratelimit-remaining"), "0");
    let p = assert_problem(res, 429, "rate-limited", None);
    assert!(p["hint"].as_str().expect("hint").contains("retry"));
    // Probes are not limited.
    assert_eq!(env.get("/healthz").status(), 200);
    // A known key has its own, higher quota; an unknown key is refused.
    let keyed = env.get_with("/v1/datasets", &[("x-api-key", "k-123")]);
    assert_eq!(keyed.status(), 200);
    assert_eq!(header(keyed.headers(), "ratelimit-limit"), "100");
    assert_problem(
        env.get_with("/v1/datasets", &[("x-api-key", "guess")]),
        401,
        "unknown-api-key",
        Some("X-API-Key"),
    );
    // Files have their own quota.
    let file = env.get("/v1/releases/current/files/candidatures.csv");
    assert_eq!(file.status(), 200);
    assert_eq!(header(file.headers(), "ratelimit-limit"), "50");
}

fn wait_for_current(env: &TestServer, version: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if env.json("/readyz")["release"] == version {
            return;
        }
        assert!(Instant::now() < deadline, "current switched to {version}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn hot_switch_of_current() {
    let env = TestServer::start_watching(|o| o);
    let before = env.get("/v1/datasets/candidatures/data?limit=100");
    let etag_before = header(before.headers(), "etag").to_owned();
    let link = header(before.headers(), "link").to_owned();
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .expect("next")
        .to_owned();
    let first_page: Value = before.json().expect("json");
    assert_eq!(first_page["release"], env.version.as_str());

    let second = fixture::write_release(env.dir.path(), 2);
    fixture::set_current(env.dir.path(), &second);
    wait_for_current(&env, &second);

    let after = env.get("/v1/datasets/candidatures/data?limit=100");
    assert_ne!(header(after.headers(), "etag"), etag_before);
    assert_eq!(header(after.headers(), "pilotage-release"), second);
    let list = env.json("/v1/releases");
    assert_eq!(list["current"], second.as_str());
    assert_eq!(list["releases"].as_array().expect("list").len(), 2);

    // A cursor from the old release keeps paging on it; the old release stays queryable.
    let rest = env.get(&next);
    assert_eq!(header(rest.headers(), "pilotage-release"), env.version);
    let rest: Value = rest.json().expect("json");
    assert_eq!(rows(&rest).len(), 60);
    let old = env.json(&format!(
        "/v1/datasets/candidatures/data?release={}&limit=1",
        env.version
    ));
    assert_eq!(old["release"], env.version.as_str());
    assert_eq!(rows(&old)[0], rows(&first_page)[0]);
    assert_ne!(
        rows(&env.json("/v1/datasets/candidatures/data?limit=1"))[0]["recues"],
        rows(&old)[0]["recues"]
    );

    // A broken `current` keeps the loaded release.
    fixture::set_current(env.dir.path(), "missing-release");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(env.json("/readyz")["release"], second.as_str());
}

#[test]
fn cache_off_gives_the_same_answers() {
    let cached = TestServer::start_watching(|o| o);
    let uncached = TestServer::start_watching(|mut o| {
        o.cache_bytes = 0;
        o
    });
    let path = "/v1/datasets/candidatures/data?territoire=REG-84&format=csv&sort=-recues";
    let a = cached.get(path).text().expect("a");
    let a2 = cached.get(path).text().expect("a again");
    let b = uncached.get(path).text().expect("b");
    assert_eq!(a, a2);
    assert_eq!(a, b);
    let m = cached.get("/metrics").text().expect("metrics");
    assert!(m.contains("pilotage_cache_hits_total 1"), "{m}");
}

/// reqwest is built without a default TLS provider in this workspace (the client crate installs
/// ring at start-up); a test building its own reqwest client does the same.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
