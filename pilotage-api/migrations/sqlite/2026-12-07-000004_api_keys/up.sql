-- Generated from pilotage_core::source by pilotage_api::storage::ddl: do not edit.
-- Regenerate with `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`.
-- Professional API keys: the SHA-256 of each token (lowercase hexadecimal; the token itself is
-- shown once at creation and never stored), its role (siae, departement, ddets, dreets,
-- national), its perimeter (structure ids `123,456`, `DEP-xx`, `REG-xx` or `FR`), a label, and
-- its dates (UTC, RFC 3339): created, expiring (the first instant it no longer works) and
-- revoked.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    perimeter TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);

-- One row per professional request: the key, when (UTC, RFC 3339), the route, the perimeter
-- asked (the query's territory or structure), the HTTP status and the rows returned.
CREATE TABLE api_access_log (
    id INTEGER PRIMARY KEY,
    key_id INTEGER NOT NULL REFERENCES api_keys (id),
    at TEXT NOT NULL,
    route TEXT NOT NULL,
    asked TEXT NOT NULL,
    status INTEGER NOT NULL,
    rows_returned INTEGER NOT NULL
);
CREATE INDEX api_access_log_key ON api_access_log (key_id, id);
