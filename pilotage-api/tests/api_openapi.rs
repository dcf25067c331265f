//! The OpenAPI document: committed, free of drift, and documented throughout.

use pilotage_api::server::app;
use serde_json::Value;

/// `openapi/pilotage.openapi.json` is what the handlers generate. Set `PILOTAGE_BLESS=1` to
/// rewrite it after changing a route.
#[test]
fn committed_spec_matches_the_handlers() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/pilotage.openapi.json");
    let generated = app::openapi_json();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        if std::env::var_os("PILOTAGE_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("openapi folder");
            std::fs::write(&path, &generated).expect("write spec");
        } else {
            panic!(
                "openapi/pilotage.openapi.json is out of date; run `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test api_openapi`"
            );
        }
    }
}

/// An insta snapshot of the document (`tests/snapshots/api_openapi__openapi.snap`): a change
/// of the API shows as a reviewable diff (`cargo insta review`, or `INSTA_UPDATE=always`).
#[test]
fn spec_snapshot() {
    insta::assert_snapshot!("openapi", app::openapi_json());
}

/// Every operation has a summary, a description, a tag and documented responses; every
/// parameter a description.
#[test]
fn every_operation_and_parameter_is_documented() {
    let spec: Value = serde_json::from_str(&app::openapi_json()).expect("spec json");
    let paths = spec["paths"].as_object().expect("paths");
    let expected = [
        "/healthz",
        "/metrics",
        "/readyz",
        "/v1/catalog.jsonld",
        "/v1/datasets",
        "/v1/datasets/{id}",
        "/v1/datasets/{id}/data",
        "/v1/datasets/{id}/schema",
        "/v1/releases",
        "/v1/releases/{version}",
        "/v1/releases/{version}/files/{name}",
        "/v1/reports/{report}",
        "/v1/territories",
    ];
    let mut found: Vec<&str> = paths.keys().map(String::as_str).collect();
    found.sort();
    assert_eq!(found, expected);
    let mut faults = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            let here = format!("{method} {path}");
            for field in ["summary", "description", "operationId"] {
                if op[field].as_str().is_none_or(|s| s.trim().is_empty()) {
                    faults.push(format!("{here}: no {field}"));
                }
            }
            if op["tags"].as_array().is_none_or(|t| t.is_empty()) {
                faults.push(format!("{here}: no tag"));
            }
            for (status, res) in op["responses"].as_object().expect("responses") {
                if res["description"]
                    .as_str()
                    .is_none_or(|s| s.trim().is_empty())
                {
                    faults.push(format!("{here}: response {status} undocumented"));
                }
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["description"]
                    .as_str()
                    .is_none_or(|s| s.trim().is_empty())
                {
                    faults.push(format!("{here}: parameter {} undocumented", p["name"]));
                }
            }
        }
    }
    assert!(faults.is_empty(), "{faults:#?}");
}
