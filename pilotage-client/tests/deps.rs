//! The client's dependency tree holds no server framework and no database driver.

use std::process::Command;

#[test]
fn no_actix_web_nor_diesel_in_the_client_tree() {
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
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.contains(&"reqwest"), "the tree is listed: {tree}");
    for banned in [
        "actix-web",
        "actix-http",
        "diesel",
        "libsqlite3-sys",
        "pq-sys",
    ] {
        assert!(!names.contains(&banned), "{banned} is in the client's tree");
    }
}
