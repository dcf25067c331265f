//! The store: schema generation, backends, bookkeeping and reading back into Arrow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use arrow_array::RecordBatch;
use common::databases;
use pilotage_api::ingest::{IngestOptions, ingest};
use pilotage_api::storage::{
    Backend, Store, ddl, load_table_rows, redact_url, resolve_database_url,
};
use pilotage_core::source::SourceTable;
use pilotage_core::synth::OutputFormat;

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

/// A fresh store is migrated, empty, and reports its backend.
#[test]
fn opening_creates_and_migrates_an_empty_store() {
    for db in databases("open") {
        let mut store = db.open();
        assert_eq!(store.backend().name(), db.backend);
        assert!(store.runs().unwrap().is_empty());
        for table in SourceTable::ALL {
            assert!(store.vintages(*table).unwrap().is_empty());
            assert_eq!(store.latest_vintage(*table).unwrap(), None);
        }
        let fingerprint = store.fingerprint().unwrap();
        assert!(fingerprint.iter().all(|f| f.rows == 0), "{fingerprint:?}");
        drop(store);
        // Opening again runs no migration twice.
        db.open();
    }
}

/// Reading streams batches of the requested size, in extract order, and ends cleanly even
/// when the last batch is full; a dropped reader leaves the connection usable.
#[test]
fn reading_streams_batches_in_order() {
    let (_keep, dir) = common::sources(OutputFormat::Parquet);
    let (_, expected) = common::expected_tables()
        .iter()
        .find(|(t, _)| *t == SourceTable::Candidatures)
        .unwrap();
    let rows = expected.num_rows();
    for db in databases("streaming") {
        let mut options = IngestOptions::new(vec![dir.clone()], db.url.clone());
        options.source_vintage = Some("2024-12-31".parse().unwrap());
        ingest(&options, &mut |_| {}).unwrap();
        let mut store = db.open();
        let vintage = store.latest_vintage(SourceTable::Candidatures).unwrap();
        assert!(vintage.is_some());
        for batch_rows in [1000, rows, rows / 2 + 1] {
            let batches: Vec<RecordBatch> =
                load_table_rows(&mut store, SourceTable::Candidatures, vintage, batch_rows)
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
            assert!(batches.iter().all(|b| b.num_rows() <= batch_rows));
            assert_eq!(
                batches.len(),
                rows.div_ceil(batch_rows),
                "{} {batch_rows}",
                db.backend
            );
            let all = common::concat(&SourceTable::Candidatures.schema(), &batches);
            assert_eq!(all.columns(), expected.columns(), "{}", db.backend);
        }
        // Abandon a reader half way, then read again on the same connection.
        let mut reader =
            load_table_rows(&mut store, SourceTable::Candidatures, vintage, 100).unwrap();
        assert!(reader.next().is_some());
        drop(reader);
        let again = common::read_back(&mut store, SourceTable::Candidatures, vintage.unwrap());
        assert_eq!(again.num_rows(), rows);
    }
}

#[test]
fn urls_choose_the_backend_and_hide_passwords() {
    assert_eq!(Backend::of_url("postgres://u@h/db"), Backend::Postgres);
    assert_eq!(Backend::of_url("postgresql://u@h/db"), Backend::Postgres);
    assert_eq!(Backend::of_url("./data/pilotage.sqlite"), Backend::Sqlite);
    assert_eq!(Backend::of_url("sqlite:///tmp/x.sqlite"), Backend::Sqlite);
    assert_eq!(
        redact_url("postgres://me:secret@db:5432/p"),
        "postgres://me:***@db:5432/p"
    );
    assert_eq!(redact_url("postgres://me@db/p"), "postgres://me@db/p");
    assert_eq!(resolve_database_url(Some("x.sqlite")), "x.sqlite");
}

#[test]
fn an_unreachable_server_names_the_url_without_its_password() {
    let error = Store::open("postgres://me:secret@127.0.0.1:1/none?connect_timeout=2").unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("cannot open the store at postgres://me:***@127.0.0.1:1/none"),
        "{message}"
    );
    assert!(!message.contains("secret"));
}

fn sqlite_journal_mode(store: &mut Store) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let pilotage_api::storage::Connection::Sqlite(c) = store.connection() else {
        panic!("not SQLite");
    };
    diesel::sql_query("PRAGMA journal_mode")
        .load::<Mode>(c)
        .unwrap()
        .remove(0)
        .journal_mode
}

/// A bulk load leaves WAL for the rollback journal only when the store is open nowhere else,
/// and goes back to WAL afterwards; PostgreSQL has nothing to switch.
#[test]
fn bulk_load_switches_the_sqlite_journal_and_back() {
    for db in databases("bulk_load") {
        let mut store = db.open();
        if db.backend != "sqlite" {
            assert!(!store.begin_bulk_load().unwrap());
            continue;
        }
        assert_eq!(sqlite_journal_mode(&mut store), "wal");
        // Another connection holds the store: it stays in WAL, without waiting.
        let other = db.open();
        let started = std::time::Instant::now();
        assert!(!store.begin_bulk_load().unwrap());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(sqlite_journal_mode(&mut store), "wal");
        drop(other);
        assert!(store.begin_bulk_load().unwrap());
        assert_eq!(sqlite_journal_mode(&mut store), "delete");
        store.end_bulk_load();
        assert_eq!(sqlite_journal_mode(&mut store), "wal");
    }
}
