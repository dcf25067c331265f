//! The store: the pseudonymized sources every release is computed from, kept with diesel in an
//! embedded SQLite file (the default) or in PostgreSQL.
//!
//! The store is private: nothing in it is ever served raw. [`Store::open`] chooses the backend
//! from the database URL (`postgres://` or `postgresql://` for PostgreSQL, anything else is a
//! SQLite file path, optionally prefixed with `sqlite://`), creates the SQLite folder if needed,
//! and runs the migrations embedded in the binary. [`load_table`] streams a stored table back
//! into Arrow [`RecordBatch`](arrow_array::RecordBatch)es for the publish step.
//!
//! Layout (see `docs/storage.md`): one table per canonical source table, named as the table
//! (`candidatures`, …) with the columns of its specification plus `_row` (position in its
//! extract) and `vintage` (extraction date); and the bookkeeping tables `ingestion_runs`,
//! `ingestion_files` and `source_vintages`.

/// Runs `COPY <table> FROM STDIN` in `$format` into a diesel table, `$write` producing the data,
/// with the `FREEZE` option when `$freeze` (used by the generated `schema::copy_into`, one arm
/// per source table).
macro_rules! copy_into {
    ($table:expr, $conn:expr, $format:expr, $freeze:expr, $write:expr) => {{
        use diesel::prelude::ExecuteCopyFromDsl as _;
        let copy = diesel::copy_from($table)
            .from_raw_data($table, |w: &mut dyn std::io::Write| $write(w))
            .with_format($format);
        if $freeze {
            copy.with_freeze(true).execute($conn)
        } else {
            copy.execute($conn)
        }
    }};
}

mod certificates;
pub mod columns;
pub mod date;
pub mod ddl;
pub mod keys;
mod read;
#[allow(missing_docs)]
#[rustfmt::skip]
pub mod schema;
pub(crate) mod write;

use std::path::{Path, PathBuf};

use diesel::Connection as _;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use pilotage_core::source::SourceTable;

pub use certificates::{
    StoredCertificate, certificate_versions, load_certificate, save_certificate,
};
pub use date::Vintage;
pub use read::{DEFAULT_BATCH_ROWS, TableBatches, load_table, load_table_rows};

/// Environment variable naming the database URL (`--database-url` overrides it).
pub const DATABASE_URL_ENV: &str = "PILOTAGE_DATABASE_URL";
/// The database URL used when none is given: an SQLite file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "./data/pilotage.sqlite";

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The database engine behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// An embedded SQLite file (bundled SQLite, WAL mode).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a database URL designates: PostgreSQL for `postgres://` and `postgresql://`,
    /// SQLite for everything else.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// The backend's name as written in reports (`sqlite`, `postgres`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The migrations folder of the backend, relative to the `pilotage-api` crate.
    pub fn migrations_dir(self) -> &'static str {
        match self {
            Backend::Sqlite => "migrations/sqlite",
            Backend::Postgres => "migrations/postgres",
        }
    }
}

/// The database URL to use: the given one, else `PILOTAGE_DATABASE_URL`, else
/// [`DEFAULT_DATABASE_URL`].
pub fn resolve_database_url(given: Option<&str>) -> String {
    given
        .map(str::to_owned)
        .or_else(|| {
            std::env::var(DATABASE_URL_ENV)
                .ok()
                .filter(|u| !u.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
}

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database could not be reached or opened.
    #[error("cannot open the store at {url}: {message}")]
    Connect {
        /// The database URL, password redacted.
        url: String,
        /// What the driver said.
        message: String,
    },
    /// The folder of an SQLite file could not be created.
    #[error("cannot create the folder {path} for the SQLite store: {source}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Running the embedded migrations failed.
    #[error("cannot migrate the store at {url}: {message}")]
    Migrate {
        /// The database URL, password redacted.
        url: String,
        /// What failed.
        message: String,
    },
    /// A query failed.
    #[error("store query failed while {context}: {source}")]
    Query {
        /// What the store was doing.
        context: String,
        /// The driver's error.
        source: diesel::result::Error,
    },
    /// A stored value could not be read back into its Arrow type.
    #[error("stored table {table}, column {column}: {message}")]
    Decode {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// What is wrong with the value.
        message: String,
    },
}

impl StorageError {
    pub(crate) fn query(
        context: impl Into<String>,
    ) -> impl FnOnce(diesel::result::Error) -> StorageError {
        let context = context.into();
        move |source| StorageError::Query { context, source }
    }
}

/// An open connection to one of the two backends.
pub enum Connection {
    /// An SQLite connection.
    Sqlite(SqliteConnection),
    /// A PostgreSQL connection.
    Postgres(PgConnection),
}

/// An open, migrated store.
pub struct Store {
    conn: Connection,
    url: String,
    /// PostgreSQL: the URL as connected (password included, `connect_timeout` added), for the
    /// second connection that reads tables back; empty for SQLite.
    connect_url: String,
    /// PostgreSQL: the idle reading connection, kept between reads (see `read`).
    reader: Option<PgConnection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .field("url", &self.url)
            .finish()
    }
}

/// Replaces the password of a URL by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (auth, host) = match rest.rsplit_once('@') {
            Some(parts) => parts,
            None => return url.to_owned(),
        };
        if let Some((user, _)) = auth.split_once(':') {
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    url.to_owned()
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Opens a PostgreSQL connection with the store's session settings.
fn connect_postgres(url: &str) -> Result<PgConnection, diesel::result::Error> {
    let mut c = PgConnection::establish(url)
        .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
    c.batch_execute("SET client_min_messages = warning")?;
    Ok(c)
}

impl Store {
    /// Opens (creating if needed) the store at `url` and runs the pending migrations.
    ///
    /// SQLite: the folder is created, the file opened in WAL mode with `synchronous = NORMAL`
    /// and a 10 s busy timeout. PostgreSQL: the connection gives up after 10 s unless the URL
    /// sets `connect_timeout`.
    pub fn open(url: &str) -> Result<Store, StorageError> {
        let shown = redact_url(url);
        let connect = |message: String| StorageError::Connect {
            url: shown.clone(),
            message,
        };
        let mut connect_url = String::new();
        let mut conn = match Backend::of_url(url) {
            Backend::Sqlite => {
                let path = sqlite_path(url);
                if path != ":memory:"
                    && !path.starts_with("file:")
                    && let Some(parent) = Path::new(path)
                        .parent()
                        .filter(|p| !p.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(parent).map_err(|source| StorageError::CreateDir {
                        path: parent.to_owned(),
                        source,
                    })?;
                }
                let mut c =
                    SqliteConnection::establish(path).map_err(|e| connect(e.to_string()))?;
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA page_size = 16384; \
                     PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY; \
                     PRAGMA mmap_size = 2147418112;",
                )
                .map_err(|e| connect(e.to_string()))?;
                Connection::Sqlite(c)
            }
            Backend::Postgres => {
                let with_timeout = if url.contains("connect_timeout=") {
                    url.to_owned()
                } else if url.contains('?') {
                    format!("{url}&connect_timeout=10")
                } else {
                    format!("{url}?connect_timeout=10")
                };
                let c = connect_postgres(&with_timeout).map_err(|e| connect(e.to_string()))?;
                connect_url = with_timeout;
                Connection::Postgres(c)
            }
        };
        let migrated = match &mut conn {
            Connection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
            Connection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        };
        migrated.map_err(|e| StorageError::Migrate {
            url: shown.clone(),
            message: e.to_string(),
        })?;
        Ok(Store {
            conn,
            url: shown,
            connect_url,
            reader: None,
        })
    }

    /// The backend of this store.
    pub fn backend(&self) -> Backend {
        match self.conn {
            Connection::Sqlite(_) => Backend::Sqlite,
            Connection::Postgres(_) => Backend::Postgres,
        }
    }

    /// The database URL, password redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying connection, for queries this module does not offer.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Starts a transaction (diesel's transaction manager, so nested reads know of it).
    pub fn begin(&mut self) -> Result<(), StorageError> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        match &mut self.conn {
            Connection::Sqlite(c) => AnsiTransactionManager::begin_transaction(c),
            Connection::Postgres(c) => AnsiTransactionManager::begin_transaction(c),
        }
        .map_err(StorageError::query("starting a transaction"))
    }

    /// Prepares an SQLite store for one bulk load: leaves WAL for the rollback journal
    /// (`journal_mode = DELETE`) with `synchronous = FULL`, SQLite's own crash-safe defaults.
    ///
    /// Why: in WAL mode a load's single transaction is written twice (into the WAL, then copied
    /// into the database by the checkpoint at commit) and the WAL grows to the size of the load
    /// on disk. With the rollback journal, pages appended to the file are written once and only
    /// the few pages the load changes are journaled; a crash or power loss during the load
    /// leaves a hot journal that the next opening rolls back, so the all-or-nothing guarantee
    /// holds. The cost: readers opening the store while a load spills its pages wait (busy
    /// timeout) instead of reading the previous state.
    ///
    /// Leaving WAL needs the store to be open nowhere else: when another connection holds it,
    /// the store stays in WAL (the load is then only slower). Returns true when the journal was
    /// switched; [`Store::end_bulk_load`] switches back. PostgreSQL: nothing to do, false.
    pub fn begin_bulk_load(&mut self) -> Result<bool, StorageError> {
        #[derive(QueryableByName)]
        struct Mode {
            #[diesel(sql_type = Text)]
            journal_mode: String,
        }
        let Connection::Sqlite(c) = &mut self.conn else {
            return Ok(false);
        };
        // Do not wait for other connections: if the store is in use, load in WAL mode.
        c.batch_execute("PRAGMA busy_timeout = 0")
            .map_err(StorageError::query("preparing the bulk load"))?;
        let switched = diesel::sql_query("PRAGMA journal_mode = DELETE")
            .load::<Mode>(c)
            .ok()
            .and_then(|rows| rows.into_iter().next())
            .is_some_and(|m| m.journal_mode.eq_ignore_ascii_case("delete"));
        let settings = if switched {
            "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;"
        } else {
            "PRAGMA busy_timeout = 10000;"
        };
        c.batch_execute(settings)
            .map_err(StorageError::query("preparing the bulk load"))?;
        Ok(switched)
    }

    /// Returns an SQLite store to WAL mode with `synchronous = NORMAL` after a bulk load
    /// prepared by [`Store::begin_bulk_load`] (committed or rolled back). Failing to switch
    /// back is harmless: the data is committed either way and the next [`Store::open`] sets
    /// WAL mode again.
    pub fn end_bulk_load(&mut self) {
        if let Connection::Sqlite(c) = &mut self.conn {
            let _ = c.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
        }
    }

    /// Commits the transaction started by [`Store::begin`].
    pub fn commit(&mut self) -> Result<(), StorageError> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        match &mut self.conn {
            Connection::Sqlite(c) => AnsiTransactionManager::commit_transaction(c),
            Connection::Postgres(c) => AnsiTransactionManager::commit_transaction(c),
        }
        .map_err(StorageError::query("committing"))
    }

    /// Rolls back the transaction started by [`Store::begin`]: the store is as before it.
    pub fn rollback(&mut self) -> Result<(), StorageError> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        match &mut self.conn {
            Connection::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
            Connection::Postgres(c) => AnsiTransactionManager::rollback_transaction(c),
        }
        .map_err(StorageError::query("rolling back"))
    }

    /// Runs SQL statements without results (DDL, pragmas).
    pub fn batch_execute(&mut self, sql: &str) -> Result<(), StorageError> {
        match &mut self.conn {
            Connection::Sqlite(c) => c.batch_execute(sql),
            Connection::Postgres(c) => c.batch_execute(sql),
        }
        .map_err(StorageError::query(format!("running {sql:?}")))
    }

    /// The extractions held for `table`, oldest first.
    pub fn vintages(&mut self, table: SourceTable) -> Result<Vec<StoredVintage>, StorageError> {
        let sql = format!(
            "SELECT CAST(vintage AS TEXT) AS vintage, run_id, row_count FROM source_vintages \
             WHERE table_name = '{}' ORDER BY vintage",
            table.name()
        );
        let rows: Vec<VintageRow> = match &mut self.conn {
            Connection::Sqlite(c) => diesel::sql_query(sql).load(c),
            Connection::Postgres(c) => diesel::sql_query(sql).load(c),
        }
        .map_err(StorageError::query(format!(
            "listing the vintages of {table}"
        )))?;
        rows.into_iter()
            .map(|r| {
                let vintage =
                    r.vintage
                        .parse()
                        .map_err(|e: date::InvalidVintage| StorageError::Decode {
                            table: "source_vintages",
                            column: "vintage",
                            message: e.to_string(),
                        })?;
                Ok(StoredVintage {
                    table,
                    vintage,
                    run_id: r.run_id,
                    row_count: r.row_count,
                })
            })
            .collect()
    }

    /// The most recent extraction held for `table`, if any.
    pub fn latest_vintage(&mut self, table: SourceTable) -> Result<Option<Vintage>, StorageError> {
        Ok(self.vintages(table)?.last().map(|v| v.vintage))
    }

    /// The successful ingestion runs, oldest first.
    pub fn runs(&mut self) -> Result<Vec<IngestionRun>, StorageError> {
        let sql = "SELECT id, started_at, finished_at, user_name, host_name, \
                   CAST(source_vintage AS TEXT) AS source_vintage, status, row_count, \
                   duplicates_dropped, warning_count FROM ingestion_runs ORDER BY id";
        match &mut self.conn {
            Connection::Sqlite(c) => diesel::sql_query(sql).load(c),
            Connection::Postgres(c) => diesel::sql_query(sql).load(c),
        }
        .map_err(StorageError::query("listing the ingestion runs"))
    }

    /// The files read by run `run_id`, in table order.
    pub fn run_files(&mut self, run_id: i64) -> Result<Vec<IngestionFile>, StorageError> {
        let sql = format!(
            "SELECT run_id, table_name, path, format, sha256, bytes, row_count, duplicates_dropped \
             FROM ingestion_files WHERE run_id = {run_id} ORDER BY table_name"
        );
        match &mut self.conn {
            Connection::Sqlite(c) => diesel::sql_query(sql).load(c),
            Connection::Postgres(c) => diesel::sql_query(sql).load(c),
        }
        .map_err(StorageError::query(format!(
            "listing the files of run {run_id}"
        )))
    }

    /// Row count and SHA-256 of the content of every table of the store (source tables over all
    /// their vintages, in row order, and the bookkeeping tables), in a fixed order.
    ///
    /// Two equal fingerprints mean an unchanged store: the tests use it to prove a refused
    /// ingestion left everything as it was.
    pub fn fingerprint(&mut self) -> Result<Vec<TableFingerprint>, StorageError> {
        use sha2::{Digest, Sha256};
        let mut out = Vec::new();
        for &table in SourceTable::ALL {
            let mut hasher = Sha256::new();
            let mut rows = 0u64;
            for batch in load_table_rows(self, table, None, DEFAULT_BATCH_ROWS)? {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                let views = columns::ColumnView::of_batch(table, &batch).ok_or_else(|| {
                    StorageError::Decode {
                        table: table.name(),
                        column: "*",
                        message: "batch does not have the table's schema".to_owned(),
                    }
                })?;
                for row in 0..batch.num_rows() {
                    for view in &views {
                        if view.is_null(row) {
                            hasher.update(b"\x00N");
                        } else {
                            hasher.update(view.display(row).as_bytes());
                        }
                        hasher.update(b"\x1f");
                    }
                    hasher.update(b"\x1e");
                }
            }
            out.push(TableFingerprint {
                table: table.name().to_owned(),
                rows,
                sha256: hex::encode(hasher.finalize()),
            });
        }
        let runs = self.runs()?;
        let mut hasher = Sha256::new();
        let mut files = 0u64;
        for run in &runs {
            hasher.update(format!("{run:?}").as_bytes());
            for file in self.run_files(run.id)? {
                files += 1;
                hasher.update(format!("{file:?}").as_bytes());
            }
        }
        for &table in SourceTable::ALL {
            for v in self.vintages(table)? {
                hasher.update(format!("{v:?}").as_bytes());
            }
        }
        out.push(TableFingerprint {
            table: "ingestion_runs+ingestion_files+source_vintages".to_owned(),
            rows: runs.len() as u64 + files,
            sha256: hex::encode(hasher.finalize()),
        });
        Ok(out)
    }
}

#[derive(QueryableByName)]
struct VintageRow {
    #[diesel(sql_type = Text)]
    vintage: String,
    #[diesel(sql_type = BigInt)]
    run_id: i64,
    #[diesel(sql_type = BigInt)]
    row_count: i64,
}

/// One extraction of a source table held in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVintage {
    /// The table.
    pub table: SourceTable,
    /// The extraction date.
    pub vintage: Vintage,
    /// The ingestion run that stored it.
    pub run_id: i64,
    /// Number of rows.
    pub row_count: i64,
}

/// A successful ingestion run, as recorded in `ingestion_runs`.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct IngestionRun {
    /// Sequential identifier.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Start, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    #[diesel(sql_type = Text)]
    pub started_at: String,
    /// Commit time, UTC, same format.
    #[diesel(sql_type = Text)]
    pub finished_at: String,
    /// The operating-system user who ran it.
    #[diesel(sql_type = Text)]
    pub user_name: String,
    /// The machine it ran on.
    #[diesel(sql_type = Text)]
    pub host_name: String,
    /// The vintage every table of the run was stored under, `YYYY-MM-DD`.
    #[diesel(sql_type = Text)]
    pub source_vintage: String,
    /// `succeeded` (refused runs are not recorded).
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Rows stored, all tables together.
    #[diesel(sql_type = BigInt)]
    pub row_count: i64,
    /// Duplicate rows dropped (fluxIAE deliveries repeat rows).
    #[diesel(sql_type = BigInt)]
    pub duplicates_dropped: i64,
    /// Warnings emitted (ignored extra columns and the like).
    #[diesel(sql_type = BigInt)]
    pub warning_count: i64,
}

/// One file read by an ingestion run, as recorded in `ingestion_files`.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct IngestionFile {
    /// The run.
    #[diesel(sql_type = BigInt)]
    pub run_id: i64,
    /// The source table it fed.
    #[diesel(sql_type = Text)]
    pub table_name: String,
    /// Its path as given.
    #[diesel(sql_type = Text)]
    pub path: String,
    /// `csv`, `parquet` or `fluxiae`.
    #[diesel(sql_type = Text)]
    pub format: String,
    /// SHA-256 of the file's bytes, lowercase hexadecimal.
    #[diesel(sql_type = Text)]
    pub sha256: String,
    /// Size in bytes.
    #[diesel(sql_type = BigInt)]
    pub bytes: i64,
    /// Rows stored from it.
    #[diesel(sql_type = BigInt)]
    pub row_count: i64,
    /// Duplicate rows dropped.
    #[diesel(sql_type = BigInt)]
    pub duplicates_dropped: i64,
}

/// Row count and content checksum of one table (see [`Store::fingerprint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFingerprint {
    /// Table name.
    pub table: String,
    /// Number of rows.
    pub rows: u64,
    /// SHA-256 of the content, lowercase hexadecimal.
    pub sha256: String,
}
