//! `pilotage publish` and `pilotage audit` as a user runs them, on small seeded data in a real
//! SQLite store (and PostgreSQL when `PILOTAGE_TEST_DATABASE_URL` is set): a reproducible,
//! checked release whose disclosure certificate stays in the store, audits that pass on it and
//! fail on a tampered copy, and every refusal leaving `current` untouched with no partial
//! folder.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use pilotage_api::storage::{self, Store};
use pilotage_core::certificate::{Certificate, sha256_hex};
use pilotage_core::release;

use common::{arg, pilotage};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        text(&out.stderr),
        text(&out.stdout)
    );
}

/// A failed command: exit 1 and one `error:` line containing `needle`.
fn assert_error(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {err}");
    let last = err
        .lines()
        .rfind(|l| l.starts_with("error: "))
        .unwrap_or("");
    assert!(last.contains(needle), "{needle:?} not in {err}");
}

/// Asserts that `output` (a command's standard output or error) says `needle`.
fn assert_says(output: &[u8], needle: &str) {
    let said = text(output);
    assert!(said.contains(needle), "{said}");
}

/// The version of the release `current` points at in the releases folder `dir`.
fn current(dir: &Path) -> String {
    release::current_version(dir)
        .expect("current")
        .expect("a current release")
}

/// Sources of a tiny country over one year, generated once.
fn sources() -> &'static Path {
    static SOURCES: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &SOURCES
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let out = dir.path().join("sources");
            let run = pilotage(&[
                "generate",
                "--scale",
                "0.001",
                "--seed",
                "5",
                "--years",
                "2025-2025",
                "--out",
                arg(&out),
            ]);
            assert_ok(&run, "generate");
            (dir, out)
        })
        .1
}

/// The stores to test: a SQLite file, and the PostgreSQL database when one is given (each in
/// its own schema).
fn stores(dir: &Path, test: &str) -> Vec<String> {
    let mut urls = vec![dir.join("pilotage.sqlite").display().to_string()];
    if let Ok(base) = std::env::var("PILOTAGE_TEST_DATABASE_URL")
        && !base.is_empty()
    {
        use diesel::Connection as _;
        use diesel::connection::SimpleConnection as _;
        let schema = format!("publish_{test}_{}", std::process::id());
        let mut c = diesel::PgConnection::establish(&base).expect("PostgreSQL");
        c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .expect("schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        urls.push(format!("{base}{sep}options=-csearch_path%3D{schema}"));
    }
    urls
}

fn ingest(url: &str, inputs: &[PathBuf]) {
    let mut args = vec!["ingest"];
    args.extend(inputs.iter().map(|p| arg(p)));
    args.extend(["--database-url", url, "--source-vintage", "2025-12-31"]);
    assert_ok(&pilotage(&args), "ingest");
}

/// The datasets these tests publish: two small ones (PASS IAE and the offer), copied from
/// `pilotage-core/data/datasets/`, so that disclosure control stays quick in a debug build.
fn definitions() -> &'static Path {
    static DEFINITIONS: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DEFINITIONS
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let out = dir.path().join("datasets");
            std::fs::create_dir(&out).expect("datasets folder");
            pilotage_testkit::copy_definitions(&PUBLISHED, &out);
            (dir, out)
        })
        .1
}

const PUBLISHED: [&str; 2] = ["offre", "pass_iae"];

fn publish(url: &str, releases: &Path) -> Output {
    pilotage(&[
        "publish",
        "--database-url",
        url,
        "--releases",
        arg(releases),
        "--datasets",
        arg(definitions()),
    ])
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lost+found")
        .collect();
    names.sort();
    names
}

#[test]
fn publish_writes_an_audited_reproducible_release() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for url in stores(tmp.path(), "reproducible") {
        ingest(&url, &[sources().to_path_buf()]);
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        let first = publish(&url, &a);
        assert_ok(&first, "publish");
        let second = publish(&url, &b);
        assert_ok(&second, "publish again");
        let va = current(&a);
        let vb = current(&b);
        assert_eq!(va, vb, "same store, same version");
        let ma = release::read_manifest(&a.join(&va)).expect("manifest a");
        let mb = release::read_manifest(&b.join(&vb)).expect("manifest b");
        assert_eq!(ma.files, mb.files, "identical checksums");
        assert_eq!(ma.audit, mb.audit, "the same certificate");
        assert!(ma.audit.passed);
        assert!(ma.information_loss.values > 0);
        assert_eq!(ma.datasets.len(), PUBLISHED.len());

        // The independent checker, run again on the published release, agrees.
        let audit = pilotage(&["audit", arg(&a.join("current")), "--database-url", &url]);
        assert_ok(&audit, "audit");
        assert_says(&audit.stdout, "check passed");

        std::fs::remove_dir_all(&a).expect("clean a");
        std::fs::remove_dir_all(&b).expect("clean b");
    }
}

/// Publishing the same store again, its release current, keeps that release: the protection,
/// given its own release as the previous one, shows the same values the same way, and the
/// release keeps its report and its certificate.
#[test]
fn publishing_the_same_store_again_keeps_the_release() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for url in stores(tmp.path(), "again") {
        ingest(&url, &[sources().to_path_buf()]);
        let a = tmp.path().join("a");
        assert_ok(&publish(&url, &a), "publish");
        let version = current(&a);
        let again = publish(&url, &a);
        assert_ok(&again, "publish again");
        assert_says(&again.stderr, "unchanged");
        assert_eq!(names(&a), vec![version.clone(), "current".to_string()]);
        std::fs::remove_dir_all(&a).expect("clean a");
    }
}

/// The certificate is filed in the store under the release's version, nowhere in the releases
/// folder; the manifest records its SHA-256 and the check's figures; both audits pass.
#[test]
fn the_certificate_stays_in_the_store_and_both_audits_pass() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for url in stores(tmp.path(), "certificate") {
        ingest(&url, &[sources().to_path_buf()]);
        let releases = tmp.path().join("releases");
        assert_ok(&publish(&url, &releases), "publish");
        let version = current(&releases);
        let manifest = release::read_manifest(&releases.join(&version)).expect("manifest");
        let audit = &manifest.audit;
        assert!(audit.passed);
        assert_eq!(audit.failures, 0);
        assert_eq!(audit.method, pilotage_api::publish::METHOD);
        let rules = audit.rules.as_ref().expect("the rules are recorded");
        assert_eq!((rules.min_count, rules.min_contributors), (11, 3));
        assert_eq!(rules.dominance, 0.85);
        assert_eq!(audit.values, manifest.information_loss.values);
        assert_eq!(
            audit.secret,
            manifest.datasets.iter().map(|d| d.secret).sum::<u64>()
        );
        assert!(audit.confidential > 0 && audit.confidential <= audit.secret);
        assert_eq!(audit.checked, audit.confidential);
        assert!(audit.claims >= audit.confidential);
        assert!(audit.points > 0);
        assert_eq!(manifest.previous, None, "a first release");

        let mut store = Store::open(&url).expect("store");
        assert_eq!(
            storage::certificate_versions(&mut store).expect("versions"),
            std::slice::from_ref(&version)
        );
        let stored = storage::load_certificate(&mut store, &version)
            .expect("load")
            .expect("the certificate of the release");
        drop(store);
        assert_eq!(audit.certificate_sha256, stored.sha256);
        assert_eq!(audit.certificate_sha256, sha256_hex(&stored.body));
        let certificate = Certificate::from_bytes(&stored.body).expect("a certificate");
        assert_eq!(certificate.release, version);
        assert_eq!(certificate.points.len() as u64, audit.points);

        // Nothing of the certificate under the releases folder.
        for file in files_under(&releases) {
            let name = file
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_lowercase();
            assert!(!name.contains("certificate"), "{}", file.display());
            let bytes = std::fs::read(&file).expect("readable file");
            assert!(
                bytes != stored.body,
                "{} is the certificate",
                file.display()
            );
        }
        assert!(
            manifest
                .files
                .iter()
                .all(|f| !f.name.contains("certificate")),
            "{:?}",
            manifest.files
        );

        let current = releases.join("current");
        let full = pilotage(&["audit", arg(&current), "--database-url", &url]);
        assert_ok(&full, "audit");
        let out = text(&full.stdout);
        assert!(out.contains("check passed"), "{out}");
        assert!(out.contains(&audit.certificate_sha256), "{out}");
        let public = pilotage(&["audit", arg(&current), "--public"]);
        assert_ok(&public, "audit --public");
        assert_says(&public.stdout, "public check passed");

        // Another store holds no certificate for this version: a clear error naming it.
        let other = tmp.path().join("other.sqlite").display().to_string();
        drop(Store::open(&other).expect("an empty store"));
        let out = pilotage(&["audit", arg(&current), "--database-url", &other]);
        assert_error(
            &out,
            &format!("no disclosure certificate for release {version}"),
        );
        let out = pilotage(&[
            "audit",
            arg(&current),
            "--database-url",
            arg(&tmp.path().join("absent.sqlite")),
        ]);
        assert_error(&out, "absent.sqlite");
        assert!(!tmp.path().join("absent.sqlite").exists());
        std::fs::remove_dir_all(&releases).expect("clean");
        std::fs::remove_file(tmp.path().join("other.sqlite")).expect("clean");
    }
}

/// A copy of a release where one secret count is published (as 3): both audits fail, naming
/// the dataset.
#[test]
fn a_secret_value_published_fails_both_audits() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = tmp.path().join("pilotage.sqlite").display().to_string();
    ingest(&url, &[sources().to_path_buf()]);
    let releases = tmp.path().join("releases");
    assert_ok(&publish(&url, &releases), "publish");
    let version = current(&releases);
    let copy = tmp.path().join("copy").join(&version);
    copy_dir(&releases.join(&version), &copy).expect("copy the release");
    let manifest = release::read_manifest(&copy).expect("manifest");
    let dataset = manifest
        .datasets
        .iter()
        .find_map(|d| {
            let (_, table) = release::read_dataset(&copy, &d.id).expect("dataset");
            let tampered = publish_one_secret_count(&table, 3)?;
            write_parquet(&copy.join(format!("{}.parquet", d.id)), &tampered);
            Some(d.id.clone())
        })
        .expect("a secret count to publish");

    let public = pilotage(&["audit", arg(&copy), "--public"]);
    assert_error(&public, &dataset);
    assert_says(&public.stdout, &format!(": {dataset} ["));
    let full = pilotage(&["audit", arg(&copy), "--database-url", &url]);
    assert_error(&full, &dataset);
    assert_says(&full.stdout, &format!(": {dataset} ["));
    // The release itself still passes.
    assert_ok(
        &pilotage(&[
            "audit",
            arg(&releases.join(&version)),
            "--database-url",
            &url,
        ]),
        "audit of the untouched release",
    );
}

/// The table with its first secret value of a count measure published as `value`, if it has
/// one.
fn publish_one_secret_count(table: &RecordBatch, value: u64) -> Option<RecordBatch> {
    let schema = table.schema();
    for (i, field) in schema.fields().iter().enumerate() {
        let Some(counts) = table.column(i).as_any().downcast_ref::<UInt64Array>() else {
            continue;
        };
        let status_name = format!("{}{}", field.name(), release::STATUS_SUFFIX);
        let (s, _) = schema.column_with_name(&status_name)?;
        let status = table
            .column(s)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("a status column");
        let Some(row) = (0..table.num_rows())
            .find(|&r| status.is_valid(r) && status.value(r) == release::STATUS_SECRET)
        else {
            continue;
        };
        let counts: UInt64Array = (0..counts.len())
            .map(|r| {
                if r == row {
                    Some(value)
                } else {
                    counts.is_valid(r).then(|| counts.value(r))
                }
            })
            .collect();
        let status: StringArray = (0..status.len())
            .map(|r| {
                if r == row {
                    Some(release::STATUS_PUBLISHED)
                } else {
                    status.is_valid(r).then(|| status.value(r))
                }
            })
            .collect();
        let mut columns: Vec<ArrayRef> = table.columns().to_vec();
        columns[i] = Arc::new(counts);
        columns[s] = Arc::new(status);
        return Some(RecordBatch::try_new(schema.clone(), columns).expect("same schema"));
    }
    None
}

fn write_parquet(path: &Path, table: &RecordBatch) {
    let file = std::fs::File::create(path).expect("parquet file");
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, table.schema(), None).expect("writer");
    writer.write(table).expect("write");
    writer.close().expect("close");
}

/// Every file under a folder, following no symbolic link.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("readable folder") {
            let entry = entry.expect("entry");
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                todo.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files
}

#[test]
fn an_empty_store_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for url in stores(tmp.path(), "empty") {
        let releases = tmp.path().join("releases");
        let out = publish(&url, &releases);
        assert_error(&out, "empty");
        assert!(!releases.exists() || names(&releases).is_empty());
    }
}

#[test]
fn a_store_missing_a_source_names_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for url in stores(tmp.path(), "missing") {
        // Everything but the monthly declarations (which nothing else references).
        let files: Vec<PathBuf> = std::fs::read_dir(sources())
            .expect("sources")
            .map(|e| e.expect("entry").path())
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("etats_mensuels"))
            })
            .collect();
        ingest(&url, &files);
        let releases = tmp.path().join("releases");
        let out = publish(&url, &releases);
        assert_error(&out, "etats_mensuels");
        assert!(!releases.exists() || names(&releases).is_empty());
    }
}

#[test]
fn releases_that_cannot_be_written_are_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = tmp.path().join("pilotage.sqlite").display().to_string();
    ingest(&url, &[sources().to_path_buf()]);
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"not a folder").expect("file");
    let out = publish(&url, &file.join("releases"));
    assert_error(&out, "a-file");
}

/// A disk that fills up while the second release is written: a tmpfs with room for one
/// release (mounting needs root; `.ci/run` runs as root).
#[test]
fn a_full_disk_keeps_the_previous_release_current() {
    if !is_root() {
        eprintln!("not root: the full-disk case needs a tmpfs mount and runs in CI as root");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = tmp.path().join("pilotage.sqlite").display().to_string();
    ingest(&url, &[sources().to_path_buf()]);
    let probe = tmp.path().join("probe");
    assert_ok(&publish(&url, &probe), "publish");
    let version = current(&probe);
    let bytes: u64 = std::fs::read_dir(probe.join(&version))
        .expect("release")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .sum();

    let mount = tmp.path().join("small");
    std::fs::create_dir(&mount).expect("mount point");
    let size = bytes + bytes / 2 + 64 * 1024;
    let status = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
            arg(&mount),
        ])
        .status()
        .expect("mount");
    assert!(status.success(), "mounting a tmpfs as root failed");
    let result = std::panic::catch_unwind(|| {
        std::fs::rename(probe.join(&version), mount.join(&version))
            .or_else(|_| copy_dir(&probe.join(&version), &mount.join(&version)))
            .expect("first release on the small disk");
        std::os::unix::fs::symlink(&version, mount.join("current")).expect("current");
        // A second store with other data: another release, which does not fit.
        let other = tmp.path().join("other.sqlite").display().to_string();
        let sources2 = tmp.path().join("sources2");
        assert_ok(
            &pilotage(&[
                "generate",
                "--scale",
                "0.001",
                "--seed",
                "6",
                "--years",
                "2025-2025",
                "--out",
                arg(&sources2),
            ]),
            "generate",
        );
        ingest(&other, &[sources2]);
        let out = publish(&other, &mount);
        assert_error(&out, "No space left");
        assert_eq!(
            release::current_version(&mount).expect("current"),
            Some(version.clone())
        );
        assert_eq!(names(&mount), vec![version.clone(), "current".to_string()]);
    });
    let _ = Command::new("umount").arg(&mount).status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn audit_of_a_folder_that_is_not_a_release_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = pilotage(&["audit", arg(tmp.path())]);
    assert_error(&out, "manifest.json");
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        std::fs::copy(entry.path(), to.join(entry.file_name()))?;
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| text(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
