//! `pilotage publish` and `pilotage audit` as a user runs them, on small seeded data in a real
//! SQLite store (and PostgreSQL when `PILOTAGE_TEST_DATABASE_URL` is set): a reproducible,
//! audited release, and every refusal leaving `current` untouched with no partial folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use pilotage_core::release;

fn pilotage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilotage"))
        .args(args)
        .env_remove("PILOTAGE_DATABASE_URL")
        .output()
        .expect("the pilotage binary runs")
}

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

fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
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
/// `datasets/`, so that disclosure control stays quick in a debug build.
fn definitions() -> &'static Path {
    static DEFINITIONS: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DEFINITIONS
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let out = dir.path().join("datasets");
            std::fs::create_dir(&out).expect("datasets folder");
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets");
            for id in PUBLISHED {
                std::fs::copy(
                    root.join(format!("{id}.toml")),
                    out.join(format!("{id}.toml")),
                )
                .expect("copy a definition");
            }
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
        let va = release::current_version(&a)
            .expect("current")
            .expect("a current");
        let vb = release::current_version(&b)
            .expect("current")
            .expect("b current");
        assert_eq!(va, vb, "same store, same version");
        let ma = release::read_manifest(&a.join(&va)).expect("manifest a");
        let mb = release::read_manifest(&b.join(&vb)).expect("manifest b");
        assert_eq!(ma.files, mb.files, "identical checksums");
        assert!(ma.audit.passed);
        assert!(ma.information_loss.values > 0);
        assert_eq!(ma.datasets.len(), PUBLISHED.len());

        // The independent audit, from the published files alone, agrees.
        let audit = pilotage(&["audit", arg(&a.join("current"))]);
        assert_ok(&audit, "audit");
        assert!(
            text(&audit.stdout).contains("protected"),
            "{}",
            text(&audit.stdout)
        );

        // Publishing the same store again keeps the same release.
        let again = publish(&url, &a);
        assert_ok(&again, "publish a third time");
        assert!(
            text(&again.stderr).contains("unchanged"),
            "{}",
            text(&again.stderr)
        );
        assert_eq!(names(&a), vec![va.clone(), "current".to_string()]);
        std::fs::remove_dir_all(&a).expect("clean a");
        std::fs::remove_dir_all(&b).expect("clean b");
    }
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
    let version = release::current_version(&probe)
        .expect("current")
        .expect("version");
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
