//! A small release written the way the release layout says (pilotage-core/src/release): the
//! real `candidatures` definition, a cube of 160 rows with a few secret values, its Parquet,
//! CSV, schema, definition, catalog and manifest; and the `current` link.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use pilotage_api::server::ServeOptions;
use pilotage_core::dataset::{Definition, DimensionType, MeasureKind};
use pilotage_core::release::{
    AuditSummary, Manifest, ManifestDataset, ManifestFile, dataset_files,
};
use sha2::{Digest, Sha256};

/// Members used per dimension: (code, level).
fn members(def: &Definition, dim: usize) -> Vec<(String, String)> {
    let d = &def.dimensions[dim];
    let pairs: Vec<(&str, &str)> = match d.kind {
        DimensionType::Territory => vec![
            ("FR", "france"),
            ("REG-84", "region"),
            ("REG-11", "region"),
            ("DEP-01", "departement"),
            ("DEP-75", "departement"),
        ],
        DimensionType::Period => vec![
            ("2024", "annee"),
            ("2024-T1", "trimestre"),
            ("2024-01", "mois"),
            ("2024-02", "mois"),
        ],
        DimensionType::Categorical => {
            let level = &d.levels[0];
            return vec![
                ("_T".to_owned(), "total".to_owned()),
                (level.members[0].code.clone(), level.id.clone()),
            ];
        }
    };
    pairs
        .into_iter()
        .map(|(c, l)| (c.to_owned(), l.to_owned()))
        .collect()
}

/// The definition the fixture uses.
pub fn definition() -> Definition {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pilotage-core/data/datasets/candidatures.toml");
    Definition::load(&path).expect("the candidatures definition loads")
}

/// The table of the fixture: every combination of the members above; values depend on
/// `variant` so that two releases differ.
pub fn table(def: &Definition, variant: i64) -> RecordBatch {
    let lists: Vec<Vec<(String, String)>> =
        (0..def.dimensions.len()).map(|i| members(def, i)).collect();
    let mut combos: Vec<Vec<usize>> = vec![vec![]];
    for list in &lists {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                (0..list.len()).map(move |i| {
                    let mut c = c.clone();
                    c.push(i);
                    c
                })
            })
            .collect();
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (d, dim) in def.dimensions.iter().enumerate() {
        let codes: Vec<&str> = combos.iter().map(|c| lists[d][c[d]].0.as_str()).collect();
        let levels: Vec<&str> = combos.iter().map(|c| lists[d][c[d]].1.as_str()).collect();
        fields.push(Field::new(&dim.id, DataType::Utf8, false));
        columns.push(Arc::new(StringArray::from(codes)));
        fields.push(Field::new(
            format!("{}_niveau", dim.id),
            DataType::Utf8,
            false,
        ));
        columns.push(Arc::new(StringArray::from(levels)));
    }
    for (m, measure) in def.measures.iter().enumerate() {
        let secret: Vec<bool> = (0..combos.len()).map(|r| (r + m) % 7 == 3).collect();
        let status: Vec<Option<&str>> = secret
            .iter()
            .map(|s| Some(if *s { "secret" } else { "publie" }))
            .collect();
        if measure.kind == MeasureKind::Rate {
            let v: Vec<Option<f64>> = (0..combos.len())
                .map(|r| (!secret[r]).then(|| ((r as i64 * 37 + variant) % 1000) as f64 / 10.0))
                .collect();
            fields.push(Field::new(&measure.id, DataType::Float64, true));
            columns.push(Arc::new(Float64Array::from(v)));
        } else {
            let v: Vec<Option<i64>> = (0..combos.len())
                .map(|r| (!secret[r]).then(|| (r as i64 * 13 + m as i64 * 5 + variant) % 500))
                .collect();
            fields.push(Field::new(&measure.id, DataType::Int64, true));
            columns.push(Arc::new(Int64Array::from(v)));
        }
        fields.push(Field::new(
            format!("{}_statut", measure.id),
            DataType::Utf8,
            true,
        ));
        columns.push(Arc::new(StringArray::from(status)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a valid batch")
}

/// Writes release `<vintage>-<variant hash>` under `root` and returns its version.
pub fn write_release(root: &Path, variant: i64) -> String {
    let def = definition();
    let batch = table(&def, variant);
    let version = format!("2025-12-31-{:012x}", 0xabc000 + variant);
    let dir = root.join(&version);
    std::fs::create_dir_all(&dir).expect("release folder");
    let id = def.id.clone();
    let mut parquet = Vec::new();
    {
        let mut w = parquet::arrow::ArrowWriter::try_new(&mut parquet, batch.schema(), None)
            .expect("parquet writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
    }
    let schema = serde_json::json!({
        "fields": batch.schema().fields().iter().map(|f| serde_json::json!({
            "name": f.name(),
            "type": if f.data_type() == &DataType::Utf8 { "string" } else if f.data_type() == &DataType::Int64 { "integer" } else { "number" },
        })).collect::<Vec<_>>(),
        "missingValues": [""],
    });
    let catalog = serde_json::json!({
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
        "@type": "dcat:Catalog",
        "dct:title": "pilotage",
        "dcat:dataset": [{"@type": "dcat:Dataset", "dct:identifier": id}],
    });
    let contents: Vec<(String, &str, Vec<u8>)> = vec![
        (
            format!("{id}.csv"),
            "text/csv",
            pilotage_core::release::files::csv_bytes(&batch).expect("release csv"),
        ),
        (
            format!("{id}.definition.json"),
            "application/json",
            serde_json::to_vec_pretty(&def).expect("definition json"),
        ),
        (
            format!("{id}.parquet"),
            "application/vnd.apache.parquet",
            parquet,
        ),
        (
            format!("{id}.schema.json"),
            "application/json",
            serde_json::to_vec_pretty(&schema).expect("schema json"),
        ),
        (
            "catalog.jsonld".to_owned(),
            "application/ld+json",
            serde_json::to_vec_pretty(&catalog).expect("catalog json"),
        ),
    ];
    let mut files = Vec::new();
    for (name, media, bytes) in &contents {
        std::fs::write(dir.join(name), bytes).expect("write release file");
        files.push(ManifestFile {
            name: name.clone(),
            media_type: (*media).to_owned(),
            bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let manifest = Manifest {
        version: version.clone(),
        created: "2025-12-31".into(),
        source_vintages: [("candidatures".to_owned(), "2025-12-31".to_owned())].into(),
        tool_version: "0.1.0".into(),
        datasets: vec![ManifestDataset {
            id: id.clone(),
            definition_version: def.version.clone(),
            rows: batch.num_rows() as u64,
            values: 0,
            secret: 0,
            files: dataset_files(&id).to_vec(),
        }],
        files,
        information_loss: pilotage_testkit::no_information_loss(),
        previous: None,
        audit: AuditSummary {
            passed: true,
            checked: 0,
            failures: 0,
            method: "fixture".into(),
            ..AuditSummary::default()
        },
    };
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).expect("manifest json"),
    )
    .expect("write manifest");
    version
}

/// Points `current` at `version`, atomically (new link, then rename over the old one).
pub fn set_current(root: &Path, version: &str) {
    let tmp = root.join(".current.tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(version, &tmp).expect("symlink");
    std::fs::rename(&tmp, root.join("current")).expect("switch current");
}

/// Writes release 1 into the releases folder `root` as `current`, and gives the options of a
/// server over it on a free loopback port: one worker, a watcher that polls once an hour (the
/// tests switch releases themselves), no rate limit, one second to shut down. Returns the
/// options and the release's version.
pub fn serving_release_one(root: &Path) -> (ServeOptions, String) {
    let version = write_release(root, 1);
    set_current(root, &version);
    let mut opts = ServeOptions::new("127.0.0.1:0", root);
    opts.workers = 1;
    opts.poll_interval = Duration::from_secs(3600);
    opts.rate_limit = None;
    opts.shutdown_timeout = 1;
    (opts, version)
}
