//! The store: schema generation, backends, bookkeeping and reading back into Arrow.

mod common;

use pilotage_api::storage::ddl;

/// The committed migrations and diesel schema are what the source specifications generate.
/// Set `PILOTAGE_BLESS=1` to rewrite them after changing a specification.
#[test]
fn schema_files_match_the_source_specifications() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("PILOTAGE_BLESS").is_some();
    let mut stale = Vec::new();
    for file in ddl::render_file_set() {
        let path = root.join(&file.path);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != file.content {
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &file.content).unwrap();
            } else {
                stale.push(file.path);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated files out of date: {stale:?}; run `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`"
    );
}
