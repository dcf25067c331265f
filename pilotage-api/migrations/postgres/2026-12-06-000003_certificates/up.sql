-- Generated from pilotage_core::source by pilotage_api::storage::ddl: do not edit.
-- Regenerate with `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`.
-- The disclosure certificate of each published release: the serialized proof that every secret
-- value is protected, with its SHA-256 (lowercase hexadecimal) and the time it was stored (UTC,
-- RFC 3339). PRIVATE: it describes the true values around the secret ones, so it is kept only
-- here, never written into a release folder nor served.
CREATE TABLE disclosure_certificates (
    release_version TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body BYTEA NOT NULL
);
