//! The client's dependency tree holds no server framework, no database driver, none of the
//! computations of `pilotage-core`, and (without the `cli` feature) no command-line parser.

use std::process::Command;

/// Names of the crates in the client's normal dependency tree, with `extra` arguments.
fn tree(extra: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "pilotage-client",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: Vec<String> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(
        names.iter().any(|n| n == "reqwest"),
        "the tree is listed: {tree}"
    );
    names
}

#[test]
fn no_actix_web_nor_diesel_in_the_client_tree() {
    let names = tree(&[]);
    for banned in [
        "actix-web",
        "actix-http",
        "diesel",
        "libsqlite3-sys",
        "pq-sys",
        "pilotage-core",
        "good_lp",
        "microlp",
        "clap",
        "indicatif",
    ] {
        assert!(
            !names.iter().any(|n| n == banned),
            "{banned} is in the client's tree"
        );
    }
}

#[test]
fn the_library_alone_needs_neither_core_nor_arrow_nor_the_command_line() {
    let names = tree(&["--no-default-features"]);
    assert!(names.iter().any(|n| n == "pilotage-wire"));
    for banned in [
        "pilotage-core",
        "good_lp",
        "microlp",
        "toml",
        "csv",
        "rand",
        "clap",
        "indicatif",
        "parquet",
        "arrow-array",
    ] {
        assert!(
            !names.iter().any(|n| n == banned),
            "{banned} is in the tree of the client without default features"
        );
    }
}
