//! The disclosure certificates of published releases, kept privately in the store.
//!
//! A certificate is the serialized proof, checked independently, that every secret value of a
//! release is protected. It describes the true values around the secret ones, so it is
//! confidential: it lives only in the `disclosure_certificates` table of the store (one row per
//! release version), never in a release folder, and nothing serves it. The store treats its
//! body as opaque bytes (typically 1 to 100 MB) and keeps its SHA-256 beside it, which
//! [`load_certificate`] checks on every read.

use diesel::prelude::*;
use diesel::upsert::excluded;
use pilotage_core::certificate::sha256_hex;

use super::schema::disclosure_certificates;
use super::{Connection, StorageError, Store, date};

/// A disclosure certificate as stored, with its bookkeeping.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = disclosure_certificates)]
pub struct StoredCertificate {
    /// The release version it certifies (the release folder's name).
    pub release_version: String,
    /// SHA-256 of `body`, lowercase hexadecimal (64 characters), as given when it was saved.
    pub sha256: String,
    /// When the row was last written, UTC, RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`).
    pub created_at: String,
    /// The certificate itself, opaque serialized bytes.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for StoredCertificate {
    /// Shows the size of the body, not its bytes (megabytes, and confidential).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCertificate")
            .field("release_version", &self.release_version)
            .field("sha256", &self.sha256)
            .field("created_at", &self.created_at)
            .field("body_bytes", &self.body.len())
            .finish()
    }
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

/// Stores the disclosure certificate of release `release_version`: `body` (its serialized
/// bytes) and `sha256` (the SHA-256 of `body`, lowercase hexadecimal), stamped with the current
/// time (UTC, RFC 3339).
///
/// A certificate already stored for the same version is replaced, body, hash and time, so
/// that publishing a release again leaves exactly one certificate for it. It is a single
/// `INSERT … ON CONFLICT DO UPDATE` statement, atomic on its own on both backends; inside a
/// transaction opened by [`Store::begin`] it commits or rolls back with the rest.
pub fn save_certificate(
    store: &mut Store,
    release_version: &str,
    sha256: &str,
    body: &[u8],
) -> Result<(), StorageError> {
    use disclosure_certificates::dsl;
    let created_at = date::now_utc_text();
    let row = (
        dsl::release_version.eq(release_version),
        dsl::sha256.eq(sha256),
        dsl::created_at.eq(&created_at),
        dsl::body.eq(body),
    );
    let context = format!("saving the disclosure certificate of release {release_version}");
    on_backend!(store, |c| {
        diesel::insert_into(disclosure_certificates::table)
            .values(row)
            .on_conflict(dsl::release_version)
            .do_update()
            .set((
                dsl::sha256.eq(excluded(dsl::sha256)),
                dsl::created_at.eq(excluded(dsl::created_at)),
                dsl::body.eq(excluded(dsl::body)),
            ))
            .execute(c)
    })
    .map_err(StorageError::query(context))?;
    Ok(())
}

/// The disclosure certificate stored for release `release_version`, or `None` when the store
/// holds none for it.
///
/// The body is read whole into memory (typically 1 to 100 MB) and its SHA-256 is checked
/// against the stored one, so a damaged certificate is refused ([`StorageError::Decode`])
/// instead of being trusted.
pub fn load_certificate(
    store: &mut Store,
    release_version: &str,
) -> Result<Option<StoredCertificate>, StorageError> {
    use disclosure_certificates::dsl;
    let context = format!("loading the disclosure certificate of release {release_version}");
    let found: Option<StoredCertificate> = on_backend!(store, |c| {
        disclosure_certificates::table
            .filter(dsl::release_version.eq(release_version))
            .select(StoredCertificate::as_select())
            .first(c)
            .optional()
    })
    .map_err(StorageError::query(context))?;
    if let Some(certificate) = &found {
        let actual = sha256_hex(&certificate.body);
        if !actual.eq_ignore_ascii_case(&certificate.sha256) {
            return Err(StorageError::Decode {
                table: "disclosure_certificates",
                column: "body",
                message: format!(
                    "the certificate of release {release_version} has SHA-256 {actual}, \
                     not the {} stored with it",
                    certificate.sha256
                ),
            });
        }
    }
    Ok(found)
}

/// The release versions the store holds a disclosure certificate for, in byte order of the
/// version (sorted here rather than by the database, whose text order depends on its
/// collation).
pub fn certificate_versions(store: &mut Store) -> Result<Vec<String>, StorageError> {
    use disclosure_certificates::dsl;
    let mut versions: Vec<String> = on_backend!(store, |c| {
        disclosure_certificates::table
            .select(dsl::release_version)
            .load(c)
    })
    .map_err(StorageError::query(
        "listing the releases with a disclosure certificate",
    ))?;
    versions.sort_unstable();
    Ok(versions)
}
