//! Professional API keys and their access log, kept in the store.
//!
//! `api_keys` holds, per key, the SHA-256 of its token (never the token), its role,
//! perimeter, label and dates; `api_access_log` one row per professional request. Both live
//! beside the sources in the private store; nothing serves them.

use diesel::prelude::*;

use super::schema::{api_access_log, api_keys};
use super::{Backend, Connection, StorageError, Store, date};

/// Version (folder prefix) of the migration creating `api_keys` and `api_access_log`.
pub const KEYS_MIGRATION: &str = "2026-12-07-000004_api_keys";

/// The SQL creating the two tables on `backend`.
pub fn keys_up(backend: Backend) -> String {
    let id = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    let big = match backend {
        Backend::Sqlite => "INTEGER",
        Backend::Postgres => "BIGINT",
    };
    format!(
        "\
-- Professional API keys: the SHA-256 of each token (lowercase hexadecimal; the token itself is
-- shown once at creation and never stored), its role (siae, departement, ddets, dreets,
-- national), its perimeter (structure ids `123,456`, `DEP-xx`, `REG-xx` or `FR`), a label, and
-- its dates (UTC, RFC 3339): created, expiring (the first instant it no longer works) and
-- revoked.
CREATE TABLE api_keys (
    id {id},
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
    id {id},
    key_id {big} NOT NULL REFERENCES api_keys (id),
    at TEXT NOT NULL,
    route TEXT NOT NULL,
    asked TEXT NOT NULL,
    status INTEGER NOT NULL,
    rows_returned {big} NOT NULL
);
CREATE INDEX api_access_log_key ON api_access_log (key_id, id);
"
    )
}

/// The diesel declarations of the two tables, as `schema.rs` holds them.
pub const KEYS_SCHEMA_RS: &str = "
diesel::table! {
    /// Professional API keys (token hashes only).
    api_keys (id) {
        id -> BigInt,
        token_sha256 -> Text,
        role -> Text,
        perimeter -> Text,
        label -> Text,
        created_at -> Text,
        expires_at -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    /// One row per professional request.
    api_access_log (id) {
        id -> BigInt,
        key_id -> BigInt,
        at -> Text,
        route -> Text,
        asked -> Text,
        status -> Integer,
        rows_returned -> BigInt,
    }
}
";

/// A key as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct StoredKey {
    /// Its id (what `pilotage keys revoke` takes).
    pub id: i64,
    /// SHA-256 of the token, lowercase hexadecimal.
    pub token_sha256: String,
    /// Role code (`siae`, …).
    pub role: String,
    /// Perimeter text (`123,456`, `DEP-75`, `REG-11`, `FR`).
    pub perimeter: String,
    /// Free label (who holds it).
    pub label: String,
    /// Creation time, UTC, RFC 3339.
    pub created_at: String,
    /// First instant (UTC, RFC 3339) it no longer works; `None`: no expiry.
    pub expires_at: Option<String>,
    /// Revocation time, UTC, RFC 3339.
    pub revoked_at: Option<String>,
}

impl StoredKey {
    /// True if the key works at `now` (UTC, RFC 3339 `YYYY-MM-DDTHH:MM:SSZ`): not revoked and
    /// not expired.
    pub fn active_at(&self, now: &str) -> bool {
        self.revoked_at.is_none() && self.expires_at.as_deref().is_none_or(|e| now < e)
    }
}

/// One row of the access log.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = api_access_log)]
pub struct AccessLogRow {
    /// Row id, in the order of the requests.
    pub id: i64,
    /// The key.
    pub key_id: i64,
    /// When, UTC, RFC 3339.
    pub at: String,
    /// The route (`/v1/reports/structure`).
    pub route: String,
    /// The perimeter asked (`structure=123`, `departement=75`).
    pub asked: String,
    /// HTTP status answered.
    pub status: i32,
    /// Rows (report lines) returned.
    pub rows_returned: i64,
}

/// A new key's row: everything but its id.
#[derive(Debug, Clone)]
pub struct NewKey<'a> {
    /// SHA-256 of the token.
    pub token_sha256: &'a str,
    /// Role code.
    pub role: &'a str,
    /// Perimeter text.
    pub perimeter: &'a str,
    /// Label.
    pub label: &'a str,
    /// First instant it no longer works.
    pub expires_at: Option<&'a str>,
}

/// Runs the same diesel expression on whichever backend the store holds.
macro_rules! on_backend {
    ($store:expr, |$c:ident| $body:expr) => {
        match $store.connection() {
            Connection::Sqlite($c) => $body,
            Connection::Postgres($c) => $body,
        }
    };
}

/// Stores a new key and returns its id.
pub fn insert_key(store: &mut Store, key: &NewKey<'_>) -> Result<i64, StorageError> {
    use api_keys::dsl;
    let created = date::now_utc_text();
    let row = (
        dsl::token_sha256.eq(key.token_sha256),
        dsl::role.eq(key.role),
        dsl::perimeter.eq(key.perimeter),
        dsl::label.eq(key.label),
        dsl::created_at.eq(&created),
        dsl::expires_at.eq(key.expires_at),
    );
    on_backend!(store, |c| {
        diesel::insert_into(api_keys::table).values(row).execute(c)
    })
    .map_err(StorageError::query("creating an API key"))?;
    // The hash is unique: it finds the row just written on both backends.
    on_backend!(store, |c| {
        api_keys::table
            .filter(dsl::token_sha256.eq(key.token_sha256))
            .select(dsl::id)
            .first::<i64>(c)
    })
    .map_err(StorageError::query("reading back a new API key"))
}

/// Every key, by id.
pub fn list_keys(store: &mut Store) -> Result<Vec<StoredKey>, StorageError> {
    on_backend!(store, |c| {
        api_keys::table
            .order(api_keys::id)
            .select(StoredKey::as_select())
            .load(c)
    })
    .map_err(StorageError::query("listing the API keys"))
}

/// Revokes key `id` now; false if there is no such key. A key already revoked keeps its
/// first revocation time.
pub fn revoke_key(store: &mut Store, id: i64) -> Result<bool, StorageError> {
    use api_keys::dsl;
    let now = date::now_utc_text();
    let found = on_backend!(store, |c| {
        api_keys::table
            .filter(dsl::id.eq(id))
            .select(dsl::id)
            .first::<i64>(c)
            .optional()
    })
    .map_err(StorageError::query("finding the API key to revoke"))?;
    if found.is_none() {
        return Ok(false);
    }
    on_backend!(store, |c| {
        diesel::update(
            api_keys::table
                .filter(dsl::id.eq(id))
                .filter(dsl::revoked_at.is_null()),
        )
        .set(dsl::revoked_at.eq(Some(&now)))
        .execute(c)
    })
    .map_err(StorageError::query("revoking an API key"))?;
    Ok(true)
}

/// Appends rows to the access log, in one transaction.
pub fn append_log(store: &mut Store, rows: &[AccessLogRow]) -> Result<(), StorageError> {
    use api_access_log::dsl;
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                dsl::key_id.eq(r.key_id),
                dsl::at.eq(&r.at),
                dsl::route.eq(&r.route),
                dsl::asked.eq(&r.asked),
                dsl::status.eq(r.status),
                dsl::rows_returned.eq(r.rows_returned),
            )
        })
        .collect();
    for chunk in values.chunks(500) {
        on_backend!(store, |c| {
            diesel::insert_into(api_access_log::table)
                .values(chunk)
                .execute(c)
        })
        .map_err(StorageError::query("writing the access log"))?;
    }
    Ok(())
}

/// The access log, oldest first, of one key or all, the last `limit` rows.
pub fn read_log(
    store: &mut Store,
    key: Option<i64>,
    limit: i64,
) -> Result<Vec<AccessLogRow>, StorageError> {
    use api_access_log::dsl;
    let mut rows: Vec<AccessLogRow> = on_backend!(store, |c| {
        let mut q = api_access_log::table
            .order(dsl::id.desc())
            .limit(limit)
            .select(AccessLogRow::as_select())
            .into_boxed();
        if let Some(k) = key {
            q = q.filter(dsl::key_id.eq(k));
        }
        q.load(c)
    })
    .map_err(StorageError::query("reading the access log"))?;
    rows.reverse();
    Ok(rows)
}
