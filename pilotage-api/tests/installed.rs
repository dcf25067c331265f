//! The `pilotage` binary as an installed copy runs it: copied out of the build folder and run
//! from a folder with no `datasets/` near it, it publishes with the dataset definitions built
//! into it, and `--datasets DIR` replaces them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use pilotage_core::dataset;
use pilotage_core::release::Manifest;

/// Held while a test writes a binary copy and while it starts a process. A process forked while
/// another test still has its copy open for writing inherits that descriptor until it execs, and
/// running the copy in that window fails with "Text file busy"; taking this lock around both
/// makes the window impossible.
static SPAWN: Mutex<()> = Mutex::new(());

/// A copy of the built binary in a folder of its own, and an empty working folder.
struct Installed {
    _dir: tempfile::TempDir,
    bin: PathBuf,
    cwd: PathBuf,
}

impl Installed {
    fn new() -> Installed {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin_dir = dir.path().join("bin");
        let cwd = dir.path().join("work");
        std::fs::create_dir(&bin_dir).expect("bin folder");
        std::fs::create_dir(&cwd).expect("working folder");
        let bin = bin_dir.join("pilotage");
        {
            let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
            std::fs::copy(env!("CARGO_BIN_EXE_pilotage"), &bin).expect("copy the binary");
        }
        Installed {
            _dir: dir,
            bin,
            cwd,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let child = {
            let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
            Command::new(&self.bin)
                .args(args)
                .current_dir(&self.cwd)
                .env_remove("PILOTAGE_DATABASE_URL")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the copied binary starts")
        };
        child.wait_with_output().expect("the copied binary runs")
    }
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

fn manifest(releases: &Path) -> Manifest {
    let text = std::fs::read_to_string(releases.join("current").join("manifest.json"))
        .expect("the current release has a manifest");
    serde_json::from_str(&text).expect("the manifest reads")
}

#[test]
fn the_demo_runs_from_a_copy_of_the_binary_with_the_built_in_definitions() {
    let installed = Installed::new();
    assert!(!installed.cwd.join("datasets").exists());
    let out = installed.run(&["demo", "--dir", "demo", "--scale", "0.0003", "--no-serve"]);
    assert_ok(&out, "demo");
    let manifest = manifest(&installed.cwd.join("demo/releases"));
    let mut ids: Vec<&str> = manifest.datasets.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    let mut expected = pilotage_api::cli::DEMO_DATASETS.to_vec();
    expected.sort_unstable();
    assert_eq!(ids, expected);
}

#[test]
fn publish_reads_the_built_in_definitions_and_datasets_dir_replaces_them() {
    let installed = Installed::new();
    let out = installed.run(&[
        "generate",
        "--scale",
        "0.001",
        "--seed",
        "5",
        "--years",
        "2025-2025",
        "--out",
        "sources",
    ]);
    assert_ok(&out, "generate");

    // An empty store: the built-in definitions load, and the refusal is about the store.
    let out = installed.run(&["publish", "--database-url", "empty.sqlite"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("definitions"), "{err}");
    assert!(err.contains("is empty"), "{err}");

    let out = installed.run(&[
        "ingest",
        "sources",
        "--database-url",
        "pilotage.sqlite",
        "--source-vintage",
        "2025-12-31",
    ]);
    assert_ok(&out, "ingest");

    // Two small datasets from a folder of their own, one of them modified.
    let definitions = installed.cwd.join("definitions");
    std::fs::create_dir(&definitions).expect("definitions folder");
    let offre = dataset::embedded_toml("offre").expect("offre is built in");
    assert!(offre.contains("\nversion = \"1.0.0\"\n"));
    let modified = offre.replace("\nversion = \"1.0.0\"\n", "\nversion = \"1.0.1\"\n");
    std::fs::write(definitions.join("offre.toml"), modified).expect("write offre");
    let pass_iae = dataset::embedded_toml("pass_iae").expect("pass_iae is built in");
    std::fs::write(definitions.join("pass_iae.toml"), pass_iae).expect("write pass_iae");
    let out = installed.run(&[
        "publish",
        "--database-url",
        "pilotage.sqlite",
        "--releases",
        "releases",
        "--datasets",
        "definitions",
    ]);
    assert_ok(&out, "publish --datasets");
    let manifest = manifest(&installed.cwd.join("releases"));
    let versions: Vec<(&str, &str)> = manifest
        .datasets
        .iter()
        .map(|d| (d.id.as_str(), d.definition_version.as_str()))
        .collect();
    assert_eq!(versions, [("offre", "1.0.1"), ("pass_iae", "1.1.0")]);
}
