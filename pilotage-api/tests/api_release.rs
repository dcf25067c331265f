//! The API on a release written by the real release writer, from cubes computed on
//! scale-0.001 seeded data: every dataset loads, answers in every format, and its CSV answer is
//! the release CSV byte for byte.

use std::path::{Path, PathBuf};

use pilotage_api::server::{self, ServeOptions};
use pilotage_core::synth::GeneratorConfig;
use serde_json::Value;

/// Writes a release of every committed dataset under `dir`, from seeded scale-0.001 sources of
/// 2021 to 2025, counts of 1 to 10 hidden (the disclosure rules are tested in pilotage-core).
fn publish(dir: &Path) -> String {
    let config = GeneratorConfig {
        scale: 0.001,
        seed: 3,
        ..GeneratorConfig::default()
    };
    pilotage_testkit::write_generated_release(dir, &config, &pilotage_testkit::definitions())
}

#[test]
fn every_dataset_of_a_written_release_is_served() {
    // PILOTAGE_API_RELEASES=<dir> keeps the release there (benches/scripts/api_bench.sh).
    let tmp = tempfile::tempdir().expect("temp dir");
    let releases = std::env::var_os("PILOTAGE_API_RELEASES")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_owned());
    let version = publish(&releases);
    let mut opts = ServeOptions::new("127.0.0.1:0", &releases);
    opts.workers = 2;
    opts.rate_limit = None;
    opts.shutdown_timeout = 1;
    let server = server::spawn(opts).expect("server starts");
    // reqwest is built without a default TLS provider in this workspace: install ring first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::new();
    let get = |path: &str| {
        client
            .get(format!("{}{path}", server.url()))
            .send()
            .expect("request")
    };
    let list: Value = get("/v1/datasets").json().expect("json");
    assert_eq!(list["release"], version.as_str());
    let manifest: Value = get("/v1/releases/current").json().expect("manifest");
    let datasets = list["datasets"].as_array().expect("datasets");
    assert_eq!(
        datasets.len(),
        manifest["datasets"].as_array().expect("list").len()
    );
    assert!(datasets.len() >= 9);
    for (ds, entry) in datasets
        .iter()
        .zip(manifest["datasets"].as_array().expect("list"))
    {
        let id = ds["id"].as_str().expect("id");
        assert_eq!(ds["rows"], entry["rows"], "{id}");
        let detail = get(&format!("/v1/datasets/{id}"));
        assert_eq!(detail.status(), 200, "{id}");
        let csv = get(&format!("/v1/datasets/{id}/data?format=csv"))
            .text()
            .expect("csv");
        let on_disk = std::fs::read_to_string(releases.join(&version).join(format!("{id}.csv")))
            .expect("release csv");
        if let Some((a, b)) = csv.lines().zip(on_disk.lines()).find(|(a, b)| a != b) {
            panic!("{id}: the CSV answer differs from the release CSV:\n{a}\n{b}");
        }
        assert_eq!(csv.len(), on_disk.len(), "{id}");
        let page: Value = get(&format!("/v1/datasets/{id}/data?limit=5&territoire=FR"))
            .json()
            .expect("json");
        assert!(
            page["rows"].as_array().is_some_and(|r| !r.is_empty()),
            "{id}"
        );
        for format in ["ndjson", "parquet", "json"] {
            let res = get(&format!("/v1/datasets/{id}/data?format={format}&limit=50"));
            assert_eq!(res.status(), 200, "{id} {format}");
        }
    }
    server.stop().expect("stops");
}

/// The Parquet answer of a dataset has the schema of the release's Parquet file: the same
/// field names, types (unsigned counts), nullability (non-null dimensions) and field metadata,
/// and the same values.
#[test]
fn parquet_answers_have_the_release_file_schema() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let version = publish(tmp.path());
    let mut opts = ServeOptions::new("127.0.0.1:0", tmp.path());
    opts.workers = 1;
    opts.rate_limit = None;
    opts.shutdown_timeout = 1;
    let server = server::spawn(opts).expect("server starts");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::new();
    let read = |bytes: bytes::Bytes| {
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
            .expect("a Parquet file")
            .build()
            .expect("reader");
        let schema = arrow_array::RecordBatchReader::schema(&reader);
        let batches = reader.collect::<Result<Vec<_>, _>>().expect("batches");
        arrow_select::concat::concat_batches(&schema, &batches).expect("one batch")
    };
    for id in ["candidatures", "prescriptions"] {
        let on_disk = std::fs::read(tmp.path().join(&version).join(format!("{id}.parquet")))
            .expect("release parquet");
        let file = read(bytes::Bytes::from(on_disk));
        let res = client
            .get(format!(
                "{}/v1/datasets/{id}/data?format=parquet&limit=1000000",
                server.url()
            ))
            .send()
            .expect("request");
        assert_eq!(res.status(), 200, "{id}");
        let answer = read(res.bytes().expect("body"));
        assert_eq!(answer.schema().fields(), file.schema().fields(), "{id}");
        assert_eq!(answer, file, "{id}: the answer holds the release rows");
    }
    server.stop().expect("stops");
}

/// Every `@id` string of a catalog that is an address of a release file.
fn download_urls(catalog: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for ds in catalog["dcat:dataset"].as_array().expect("datasets") {
        for d in ds["dcat:distribution"].as_array().expect("distributions") {
            for key in ["dcat:downloadURL", "dcat:accessURL", "dct:conformsTo"] {
                out.push(d[key]["@id"].as_str().expect("an address").to_owned());
            }
        }
    }
    out
}

/// The served catalog gives the files at the deployment's address: the request's own host
/// (the release was published for `127.0.0.1:8080`, the server listens on another port), or
/// `--public-url` when given; the release's `catalog.jsonld` file stays as published.
#[test]
fn the_served_catalog_names_the_deployment_address() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let version = publish(tmp.path());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::new();
    let written = std::fs::read(tmp.path().join(&version).join("catalog.jsonld")).expect("file");
    for public in [None, Some("https://data.example.org/api")] {
        let mut opts = ServeOptions::new("127.0.0.1:0", tmp.path());
        opts.workers = 1;
        opts.rate_limit = None;
        opts.shutdown_timeout = 1;
        opts.public_url = public.map(|p| format!("{p}/"));
        let server = server::spawn(opts).expect("server starts");
        let base = public.map(str::to_owned).unwrap_or_else(|| server.url());
        assert!(!base.ends_with(":8080"));
        let res = client
            .get(format!("{}/v1/catalog.jsonld", server.url()))
            .send()
            .expect("request");
        assert_eq!(res.status(), 200);
        let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
        let catalog: Value = res.json().expect("JSON-LD");
        let urls = download_urls(&catalog);
        assert!(urls.len() >= 18, "{urls:?}");
        let prefix = format!("{base}/v1/releases/{version}/files/");
        for url in &urls {
            assert!(url.starts_with(&prefix), "{url} is not under {prefix}");
        }
        assert!(
            catalog["dcat:dataset"][0]["dct:publisher"]["@id"]
                .as_str()
                .is_some_and(|p| p.starts_with(&base))
        );
        // Every file address answers (on this server, under its own address).
        if public.is_none() {
            for url in urls.iter().filter(|u| u.ends_with(".csv")).take(2) {
                assert_eq!(client.get(url).send().expect("file").status(), 200, "{url}");
            }
            // Another Host, another catalog (and another entity tag); a forged forwarding
            // header is not trusted.
            let res = client
                .get(format!("{}/v1/catalog.jsonld", server.url()))
                .header("host", "data.example.net:9443")
                .header("x-forwarded-host", "evil.example")
                .header("x-forwarded-proto", "https")
                .send()
                .expect("request");
            assert_ne!(res.headers()["etag"].to_str().expect("etag"), etag);
            let other: Value = res.json().expect("JSON-LD");
            for url in download_urls(&other) {
                assert!(url.starts_with("http://data.example.net:9443/v1/"), "{url}");
            }
        }
        // The release file is served as written.
        let file = client
            .get(format!(
                "{}/v1/releases/{version}/files/catalog.jsonld",
                server.url()
            ))
            .send()
            .expect("request");
        assert_eq!(file.bytes().expect("body").as_ref(), written.as_slice());
        server.stop().expect("stops");
    }
}
