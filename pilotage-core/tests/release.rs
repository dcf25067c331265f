//! Release writing on cubes computed from small seeded data: layout, checksums, reproducibility,
//! atomic switch of `current`, pruning, and refusals that leave the previous release untouched.

use pilotage_testkit as support;

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use arrow_array::{Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pilotage_core::cube::{Cube, MeasureValues};
use pilotage_core::dataset::Definition;
use pilotage_core::release::{self, AuditSummary, InformationLoss, ReleaseError, ReleaseInput};
use pilotage_core::synth::{GeneratorConfig, OutputFormat};
use sha2::{Digest, Sha256};

/// Definitions and cubes of scale-0.001 seeded data, computed once for every test.
fn cubes() -> &'static (Vec<Definition>, Vec<Cube>) {
    static CUBES: OnceLock<(Vec<Definition>, Vec<Cube>)> = OnceLock::new();
    CUBES.get_or_init(|| {
        let config = GeneratorConfig {
            scale: 0.001,
            seed: 7,
            first_year: 2021,
            last_year: 2025,
            format: OutputFormat::Parquet,
        };
        let sources = support::generated(&config);
        let definitions = support::definitions();
        let cubes = support::cubes(&definitions, &sources, 2025);
        (definitions, cubes)
    })
}

/// The release input of `defs` and `cubes`, counts of 1 to 10 hidden, with made-up figures of
/// information loss and a check that `passed` or not.
fn input<'a>(defs: &'a [Definition], cubes: &'a [Cube], passed: bool) -> ReleaseInput<'a> {
    let masks: Vec<_> = cubes.iter().map(support::small_counts).collect();
    let mut input = support::release_input(support::published_datasets(defs, cubes, &masks));
    input.information_loss = InformationLoss {
        values: 100,
        primary: 10,
        secondary: 12,
        secret_share_pct: 22.0,
        secret_value_share_pct: 1.5,
        secondary_per_primary: 1.2,
        previous_mask_kept_pct: None,
    };
    input.audit = AuditSummary {
        passed,
        checked: 22,
        failures: if passed { 0 } else { 3 },
        method: "test".into(),
        ..AuditSummary::default()
    };
    input
}

fn read_parquet(path: &Path) -> RecordBatch {
    let file = fs::File::open(path).expect("open parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
    arrow_select::concat::concat_batches(&batches[0].schema(), &batches).expect("concat")
}

#[test]
fn a_release_has_every_file_with_checksums_and_current_points_at_it() {
    let (defs, cubes) = cubes();
    let dir = tempfile::tempdir().expect("tempdir");
    let written =
        release::write_release(dir.path(), &input(defs, cubes, true), None).expect("write release");
    assert!(written.version.starts_with("2025-12-31-"));
    assert_eq!(written.version.len(), "2025-12-31-".len() + 12);
    assert!(!written.unchanged);
    assert_eq!(
        release::current_version(dir.path()).expect("current"),
        Some(written.version.clone())
    );
    let manifest = release::read_manifest(&written.dir).expect("manifest");
    assert_eq!(manifest, written.manifest);
    assert_eq!(manifest.datasets.len(), defs.len());
    // 4 files per dataset + the catalog, each with its true size and checksum.
    assert_eq!(manifest.files.len(), 4 * defs.len() + 1);
    for file in &manifest.files {
        let bytes = fs::read(written.dir.join(&file.name)).expect("release file");
        assert_eq!(bytes.len() as u64, file.bytes, "{}", file.name);
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            file.sha256,
            "{}",
            file.name
        );
    }
    // Nothing else in the releases folder: no temporary folder or link left behind.
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec![written.version.clone(), "current".to_string()]);
}

#[test]
fn parquet_and_csv_hold_the_same_rows_and_hide_secret_values() {
    let (defs, cubes) = cubes();
    let dir = tempfile::tempdir().expect("tempdir");
    let written =
        release::write_release(dir.path(), &input(defs, cubes, true), None).expect("write release");
    let (def, cube) = defs
        .iter()
        .zip(cubes)
        .find(|(d, _)| d.id == "candidatures")
        .expect("candidatures");
    let table = read_parquet(&written.dir.join("candidatures.parquet"));
    assert_eq!(table.num_rows(), cube.len());
    let csv = fs::read_to_string(written.dir.join("candidatures.csv")).expect("csv");
    assert_eq!(csv.lines().count(), cube.len() + 1);
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let names: Vec<String> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(header, names);

    // Every count from 1 to 10 is gone, its status says secret, and its CSV field is empty.
    let measure = &cube.measures[0];
    let MeasureValues::Counts(values) = &measure.values else {
        panic!("first measure of candidatures is a count")
    };
    let status = table
        .column_by_name(&format!("{}_statut", measure.id))
        .expect("status column")
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("string");
    let published = table.column_by_name(&measure.id).expect("value column");
    let col = header
        .iter()
        .position(|h| *h == measure.id)
        .expect("csv column");
    let mut secret_seen = 0;
    for (row, line) in csv.lines().skip(1).enumerate() {
        let field = line.split(',').nth(col).expect("field");
        match values[row] {
            Some(1..=10) => {
                secret_seen += 1;
                assert_eq!(status.value(row), "secret");
                assert!(published.is_null(row));
                assert_eq!(field, "");
            }
            Some(v) => {
                assert_eq!(status.value(row), "publie");
                assert_eq!(field, v.to_string());
            }
            None => {
                assert!(status.is_null(row));
                assert_eq!(field, "");
            }
        }
    }
    assert!(secret_seen > 0, "small data must have small counts");

    // Key/value metadata names the release and the definition version.
    let file = fs::File::open(written.dir.join("candidatures.parquet")).expect("open");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
    let kv = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .expect("key/value metadata");
    let get = |k: &str| kv.iter().find(|e| e.key == k).and_then(|e| e.value.clone());
    assert_eq!(get("pilotage.release"), Some(written.version.clone()));
    assert_eq!(get("pilotage.dataset_version"), Some(def.version.clone()));

    // The Table Schema describes every column, keys on the dimensions.
    let schema: serde_json::Value = serde_json::from_slice(
        &fs::read(written.dir.join("candidatures.schema.json")).expect("schema"),
    )
    .expect("json");
    let fields = schema["fields"].as_array().expect("fields");
    assert_eq!(fields.len(), header.len());
    let keys: Vec<&str> = schema["primaryKey"]
        .as_array()
        .expect("primaryKey")
        .iter()
        .map(|v| v.as_str().expect("key"))
        .collect();
    let dims: Vec<&str> = def.dimensions.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(keys, dims);
}

#[test]
fn the_same_input_gives_the_same_version_and_bytes() {
    let (defs, cubes) = cubes();
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let first = release::write_release(a.path(), &input(defs, cubes, true), None).expect("a");
    let second = release::write_release(b.path(), &input(defs, cubes, true), None).expect("b");
    assert_eq!(first.version, second.version);
    for file in &first.manifest.files {
        let x = fs::read(first.dir.join(&file.name)).expect("a file");
        let y = fs::read(second.dir.join(&file.name)).expect("b file");
        assert!(x == y, "{} differs between two runs", file.name);
    }
    // Publishing the same content again changes nothing.
    let again = release::write_release(a.path(), &input(defs, cubes, true), None).expect("again");
    assert!(again.unchanged);
    assert_eq!(again.version, first.version);
}

#[test]
fn a_failed_audit_publishes_nothing_and_keeps_current() {
    let (defs, cubes) = cubes();
    let dir = tempfile::tempdir().expect("tempdir");
    let good = release::write_release(dir.path(), &input(defs, cubes, true), None).expect("good");
    let mut bad = input(defs, cubes, false);
    bad.vintage = "2026-01-31".into();
    let err = release::write_release(dir.path(), &bad, None).expect_err("audit failed");
    assert!(
        matches!(err, ReleaseError::AuditFailed { failures: 3 }),
        "{err}"
    );
    assert_eq!(
        release::current_version(dir.path()).expect("current"),
        Some(good.version.clone())
    );
    assert_eq!(
        release::list_releases(dir.path()).expect("list"),
        vec![good.version]
    );
}

#[test]
fn keep_prunes_the_oldest_releases_but_never_current() {
    let (defs, cubes) = cubes();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut versions = Vec::new();
    for vintage in ["2025-10-31", "2025-11-30", "2025-12-31"] {
        let mut release_input = input(defs, cubes, true);
        release_input.vintage = vintage.into();
        let written = release::write_release(dir.path(), &release_input, Some(2)).expect("write");
        versions.push(written.version);
    }
    let left = release::list_releases(dir.path()).expect("list");
    assert_eq!(left, versions[1..].to_vec());
    assert_eq!(
        release::current_version(dir.path()).expect("current"),
        Some(versions[2].clone())
    );
    let err =
        release::write_release(dir.path(), &input(defs, cubes, true), Some(0)).expect_err("keep 0");
    assert!(matches!(err, ReleaseError::Keep));
}

#[test]
fn a_releases_path_that_is_a_file_is_a_clear_error() {
    let (defs, cubes) = cubes();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-folder");
    fs::write(&file, b"x").expect("file");
    let err = release::write_release(&file.join("releases"), &input(defs, cubes, true), None)
        .expect_err("not a folder");
    assert!(err.to_string().contains("not-a-folder"), "{err}");
}

/// A disk that fills up mid-write: a tiny tmpfs (needs root to mount; `.ci/run` runs as root).
#[test]
fn a_full_disk_leaves_the_previous_release_current_and_no_partial_folder() {
    if !is_root() {
        eprintln!("not root: the full-disk case needs a tmpfs mount and runs in CI as root");
        return;
    }
    let (defs, cubes) = cubes();
    let dir = tempfile::tempdir().expect("tempdir");
    let mount = dir.path().join("small");
    fs::create_dir(&mount).expect("mount point");
    // Large enough for one release of small data, too small for two.
    let one = {
        let probe = tempfile::tempdir().expect("probe");
        let written = release::write_release(probe.path(), &input(defs, cubes, true), None)
            .expect("probe release");
        written.manifest.files.iter().map(|f| f.bytes).sum::<u64>()
            + fs::metadata(written.dir.join("manifest.json"))
                .expect("m")
                .len()
    };
    let size = one + one / 2 + 64 * 1024;
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}")])
        .arg("tmpfs")
        .arg(&mount)
        .status()
        .expect("run mount");
    assert!(status.success(), "mounting a tmpfs as root failed");
    let result = std::panic::catch_unwind(|| {
        let first = release::write_release(&mount, &input(defs, cubes, true), None).expect("first");
        let mut second = input(defs, cubes, true);
        second.vintage = "2026-01-31".into();
        let err = release::write_release(&mount, &second, None).expect_err("disk full");
        assert!(matches!(err, ReleaseError::Io { .. }), "{err}");
        assert_eq!(
            release::current_version(&mount).expect("current"),
            Some(first.version.clone())
        );
        let names: Vec<String> = fs::read_dir(&mount)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n != "lost+found")
            .collect();
        assert_eq!(
            names.len(),
            2,
            "only the first release and current: {names:?}"
        );
    });
    let _ = std::process::Command::new("umount").arg(&mount).status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
