//! The static files of the pages, built into the binary: the vendored State design system
//! (`vendor/dsfr/`, see its PROVENANCE.md) and the pages' own style sheet. Each is served under
//! an address holding a hash of its content, with immutable caching: a new build with other
//! files gives other addresses, so a browser never keeps a stale copy.

use std::sync::LazyLock;

use sha2::{Digest as _, Sha256};

mod vendored {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The pages' own style sheet (charts, secret values, small layout rules).
const PAGES_CSS: &str = include_str!("pilotage.css");

/// The first 16 hexadecimal digits of the SHA-256 of every vendored DSFR file (path and
/// bytes): the folder part of their addresses, `/assets/dsfr-<hash>/…`.
pub static DSFR_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for (path, bytes) in vendored::DSFR_FILES {
        h.update(path.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    hex::encode(&h.finalize()[..8])
});

/// The first 16 hexadecimal digits of the SHA-256 of the pages' style sheet.
pub static PAGES_CSS_HASH: LazyLock<String> =
    LazyLock::new(|| hex::encode(&Sha256::digest(PAGES_CSS.as_bytes())[..8]));

/// Address of a vendored DSFR file (`dsfr.min.css`, `favicon.svg`).
pub fn dsfr_url(path: &str) -> String {
    format!("/assets/dsfr-{}/{path}", *DSFR_HASH)
}

/// Address of the pages' style sheet.
pub fn pages_css_url() -> String {
    format!("/assets/pilotage-{}.css", *PAGES_CSS_HASH)
}

/// The bytes and media type of the asset at `/assets/{path}`, if `path` names one under its
/// current hash (an old hash is unknown: its content may differ).
pub fn find(path: &str) -> Option<(&'static [u8], &'static str)> {
    if path == pages_css_url().trim_start_matches("/assets/") {
        return Some((PAGES_CSS.as_bytes(), "text/css; charset=utf-8"));
    }
    let rest = path.strip_prefix("dsfr-")?;
    let (hash, file) = rest.split_once('/')?;
    if hash != DSFR_HASH.as_str() {
        return None;
    }
    let index = vendored::DSFR_FILES
        .binary_search_by(|(p, _)| (*p).cmp(file))
        .ok()?;
    let bytes = vendored::DSFR_FILES[index].1;
    Some((bytes, media_type(file)))
}

/// Media type from a file name's extension.
fn media_type(file: &str) -> &'static str {
    match file.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "md" => "text/markdown; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_style_sheet_and_every_file_it_names_are_served() {
        let css_path = dsfr_url("dsfr.min.css");
        let (css, media) = find(css_path.trim_start_matches("/assets/")).expect("served");
        assert_eq!(media, "text/css; charset=utf-8");
        let css = std::str::from_utf8(css).expect("text");
        let mut named = 0;
        for part in css.split("url(").skip(1) {
            let target = part
                .split(')')
                .next()
                .unwrap_or("")
                .trim_matches(['"', '\'']);
            if target.starts_with("data:") {
                continue;
            }
            named += 1;
            let path = dsfr_url(target);
            assert!(
                find(path.trim_start_matches("/assets/")).is_some(),
                "{target}"
            );
        }
        assert!(named > 50);
        assert!(find(pages_css_url().trim_start_matches("/assets/")).is_some());
        assert!(find("dsfr-0000000000000000/dsfr.min.css").is_none());
    }
}
