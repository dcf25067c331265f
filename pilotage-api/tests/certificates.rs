//! The private disclosure certificates of the store: saved, read back byte for byte, replaced,
//! listed and checked, on SQLite and (with `PILOTAGE_TEST_DATABASE_URL`) on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::databases;
use pilotage_api::storage::{
    StorageError, certificate_versions, ddl, load_certificate, save_certificate,
};
use pilotage_core::certificate::sha256_hex;

/// `len` pseudo-random bytes from `seed` (SplitMix64): incompressible, so the store really
/// holds megabytes.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

const BODY_BYTES: usize = 3 * 1024 * 1024;

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn is_rfc3339_utc(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// A 3 MB certificate comes back with the same bytes, hash and version; saving the same
/// version again replaces it; versions are listed sorted; an unknown version is `None`.
#[test]
fn certificates_are_saved_replaced_listed_and_loaded() {
    for db in databases("certificates") {
        let backend = db.backend;
        let mut store = db.open();
        assert!(certificate_versions(&mut store).unwrap().is_empty());
        assert!(load_certificate(&mut store, "2026.12.1").unwrap().is_none());

        let first = pseudo_random(BODY_BYTES, 1);
        save_certificate(&mut store, "2026.12.2", &sha256_hex(&first), &first).unwrap();
        let loaded = load_certificate(&mut store, "2026.12.2")
            .unwrap()
            .expect("saved certificate");
        assert_eq!(loaded.release_version, "2026.12.2", "{backend}");
        assert_eq!(loaded.sha256, sha256_hex(&first), "{backend}");
        assert!(is_rfc3339_utc(&loaded.created_at), "{}", loaded.created_at);
        assert_eq!(loaded.body.len(), BODY_BYTES, "{backend}");
        assert!(loaded.body == first, "{backend}: body differs");

        // Same version again: one row, the new body.
        let second = pseudo_random(BODY_BYTES - 17, 2);
        save_certificate(&mut store, "2026.12.2", &sha256_hex(&second), &second).unwrap();
        let replaced = load_certificate(&mut store, "2026.12.2").unwrap().unwrap();
        assert_eq!(replaced.sha256, sha256_hex(&second), "{backend}");
        assert!(replaced.body == second, "{backend}: replaced body differs");
        assert_eq!(certificate_versions(&mut store).unwrap(), ["2026.12.2"]);

        // Another version, smaller, saved after: listed in version order.
        let other = pseudo_random(1000, 3);
        save_certificate(&mut store, "2026.11.1", &sha256_hex(&other), &other).unwrap();
        assert_eq!(
            certificate_versions(&mut store).unwrap(),
            ["2026.11.1", "2026.12.2"],
            "{backend}"
        );
        assert!(load_certificate(&mut store, "2026.12.1").unwrap().is_none());

        // A new connection reads what was committed.
        drop(store);
        let mut store = db.open();
        let again = load_certificate(&mut store, "2026.12.2").unwrap().unwrap();
        assert!(
            again.body == second,
            "{backend}: body differs after reopening"
        );
        let small = load_certificate(&mut store, "2026.11.1").unwrap().unwrap();
        assert_eq!(small.body, other, "{backend}");
    }
}

/// A certificate whose body does not have the stored SHA-256 is refused, not trusted.
#[test]
fn a_certificate_not_matching_its_hash_is_refused() {
    for db in databases("certificate_hash") {
        let mut store = db.open();
        let body = pseudo_random(4096, 4);
        save_certificate(&mut store, "v1", &sha256_hex(b"something else"), &body).unwrap();
        let error = load_certificate(&mut store, "v1").unwrap_err();
        assert!(
            matches!(
                error,
                StorageError::Decode {
                    table: "disclosure_certificates",
                    column: "body",
                    ..
                }
            ),
            "{}: {error}",
            db.backend
        );
        // An uppercase hash of the right bytes is accepted.
        save_certificate(&mut store, "v1", &sha256_hex(&body).to_uppercase(), &body).unwrap();
        assert_eq!(
            load_certificate(&mut store, "v1").unwrap().unwrap().body,
            body
        );
    }
}

/// Saved inside a transaction of the store, a certificate goes away with its rollback and
/// stays with its commit.
#[test]
fn saving_follows_the_store_transaction() {
    for db in databases("certificate_transaction") {
        let mut store = db.open();
        let body = pseudo_random(10_000, 5);
        let sha = sha256_hex(&body);
        store.begin().unwrap();
        save_certificate(&mut store, "v1", &sha, &body).unwrap();
        store.rollback().unwrap();
        assert!(
            load_certificate(&mut store, "v1").unwrap().is_none(),
            "{}",
            db.backend
        );
        store.begin().unwrap();
        save_certificate(&mut store, "v1", &sha, &body).unwrap();
        store.commit().unwrap();
        assert_eq!(certificate_versions(&mut store).unwrap(), ["v1"]);
    }
}

/// A store created before the certificates migration gets the table when it is next opened.
#[test]
fn opening_an_older_store_adds_the_certificates_table() {
    let version = ddl::CERTIFICATES_MIGRATION
        .split('_')
        .next()
        .unwrap()
        .replace('-', "");
    for db in databases("certificate_upgrade") {
        let mut store = db.open();
        // Roll the store back to what the two earlier migrations made.
        store
            .batch_execute(&format!(
                "DROP TABLE disclosure_certificates; \
                 DELETE FROM __diesel_schema_migrations WHERE version = '{version}'"
            ))
            .unwrap();
        assert!(
            load_certificate(&mut store, "v1").is_err(),
            "{}",
            db.backend
        );
        drop(store);

        let mut store = db.open();
        assert!(certificate_versions(&mut store).unwrap().is_empty());
        let body = pseudo_random(2048, 6);
        save_certificate(&mut store, "v1", &sha256_hex(&body), &body).unwrap();
        assert_eq!(
            load_certificate(&mut store, "v1").unwrap().unwrap().body,
            body
        );
    }
}
