//! The checker must share no code with the protection it checks: no source file of the crate
//! may even name the protection's module.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn independence() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        !files.is_empty(),
        "no source file found under {}",
        src.display()
    );
    let forbidden = ["disc", "losure"].concat();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(
            !text.to_lowercase().contains(&forbidden),
            "{} mentions the protection's module",
            file.display()
        );
    }
}
