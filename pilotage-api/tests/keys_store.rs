//! The keys and the access log in the store, on every backend (SQLite; PostgreSQL when
//! `PILOTAGE_TEST_DATABASE_URL` is set): what `pilotage keys` and the server rely on.

mod common;

use pilotage_api::keys;
use pilotage_api::storage::keys::{self as stored, AccessLogRow, NewKey};

#[test]
fn keys_revocation_and_the_access_log_round_trip_on_every_backend() {
    for db in common::databases("keys") {
        let mut store = db.open();
        let token = keys::new_token().expect("token");
        let hash = keys::token_sha256(&token);
        let id = stored::insert_key(
            &mut store,
            &NewKey {
                token_sha256: &hash,
                role: "ddets",
                perimeter: "DEP-89",
                label: "DDETS",
                expires_at: Some("2030-01-01T00:00:00Z"),
            },
        )
        .expect("insert");
        let other = stored::insert_key(
            &mut store,
            &NewKey {
                token_sha256: &keys::token_sha256("another"),
                role: "national",
                perimeter: "FR",
                label: "DGEFP",
                expires_at: None,
            },
        )
        .expect("insert");
        assert_ne!(id, other, "{}", db.backend);
        let list = stored::list_keys(&mut store).expect("list");
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].token_sha256, hash);
        assert!(list[0].active_at("2029-12-31T23:59:59Z"));
        assert!(
            !list[0].active_at("2030-01-01T00:00:00Z"),
            "expired at its instant"
        );
        assert!(stored::revoke_key(&mut store, id).expect("revoke"));
        assert!(!stored::revoke_key(&mut store, 999).expect("revoke unknown"));
        let list = stored::list_keys(&mut store).expect("list");
        assert!(list[0].revoked_at.is_some() && !list[0].active_at("2026-01-01T00:00:00Z"));
        assert!(list[1].revoked_at.is_none());
        // A duplicate hash is refused by the store.
        assert!(
            stored::insert_key(
                &mut store,
                &NewKey {
                    token_sha256: &hash,
                    role: "ddets",
                    perimeter: "DEP-89",
                    label: "again",
                    expires_at: None,
                },
            )
            .is_err(),
            "{}",
            db.backend
        );
        let rows: Vec<AccessLogRow> = (0..3)
            .map(|i| AccessLogRow {
                id: 0,
                key_id: if i == 2 { other } else { id },
                at: format!("2026-12-07T05:00:0{i}Z"),
                route: "/v1/reports/territoire".into(),
                asked: "departement=89".into(),
                status: 200,
                rows_returned: 10 + i,
            })
            .collect();
        stored::append_log(&mut store, &rows).expect("log");
        let mine = stored::read_log(&mut store, Some(id), 100).expect("read");
        assert_eq!(mine.len(), 2, "{}", db.backend);
        assert_eq!(mine[0].rows_returned, 10);
        assert_eq!(mine[1].at, "2026-12-07T05:00:01Z");
        assert_eq!(
            stored::read_log(&mut store, None, 1).expect("read")[0].key_id,
            other
        );
    }
}
