//! Streaming a stored table back into Arrow record batches.
//!
//! SQLite steps one statement over the table in `_row` order; PostgreSQL reads through a
//! server-side cursor, `FETCH`ing one batch at a time. Either way only one batch is in memory.

use arrow_array::RecordBatch;
use diesel::backend::Backend;
use diesel::connection::{AnsiTransactionManager, LoadConnection, TransactionManager};
use diesel::pg::Pg;
use diesel::row::{Field, Row};
use diesel::sqlite::Sqlite;
use diesel::{PgConnection, SqliteConnection};
use pilotage_core::source::{ColumnSpec, SourceTable};

use super::columns::ColumnBuilder;
use super::ddl::quote_ident;
use super::{Connection, StorageError, Store, Vintage, date};

mod copy;

/// Rows per batch returned by [`load_table`].
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// Days from 1970-01-01 to PostgreSQL's date epoch, 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;

/// Streams the rows of `table` stored under `vintage`, in extract order, as record batches of
/// [`DEFAULT_BATCH_ROWS`] rows with the table's schema (`table.schema()`).
///
/// ```no_run
/// # fn main() -> Result<(), pilotage_api::storage::StorageError> {
/// use pilotage_api::storage::{Store, load_table};
/// use pilotage_core::source::SourceTable;
/// let mut store = Store::open("./data/pilotage.sqlite")?;
/// if let Some(vintage) = store.latest_vintage(SourceTable::Candidatures)? {
///     for batch in load_table(&mut store, SourceTable::Candidatures, vintage)? {
///         println!("{} rows", batch?.num_rows());
///     }
/// }
/// # Ok(()) }
/// ```
pub fn load_table(
    store: &mut Store,
    table: SourceTable,
    vintage: Vintage,
) -> Result<TableBatches<'_>, StorageError> {
    load_table_rows(store, table, Some(vintage), DEFAULT_BATCH_ROWS)
}

/// Like [`load_table`], with the batch size chosen and, with `vintage = None`, every vintage
/// (ordered by vintage then extract order).
///
/// PostgreSQL reads one vintage with `COPY (SELECT …) TO STDOUT (FORMAT binary)` on a second
/// connection of the store, decoded on a thread of its own, when the store's connection is not
/// inside a transaction (see the `copy` module); otherwise, and for every vintage at once, through a
/// server-side cursor sorted on `_row`.
pub fn load_table_rows(
    store: &mut Store,
    table: SourceTable,
    vintage: Option<Vintage>,
    batch_rows: usize,
) -> Result<TableBatches<'_>, StorageError> {
    let batch_rows = batch_rows.max(1);
    let Store {
        conn,
        connect_url,
        reader,
        ..
    } = store;
    let inner = match conn {
        Connection::Sqlite(c) => {
            let cursor = LoadConnection::load(c, diesel::sql_query(select_sorted(table, vintage)))
                .map_err(StorageError::query(format!("reading {table}")))?;
            Inner::Sqlite(cursor)
        }
        Connection::Postgres(c) => {
            let in_transaction = AnsiTransactionManager::transaction_manager_status_mut(c)
                .transaction_depth()
                .map_err(StorageError::query("inspecting the transaction"))?
                .is_some();
            match vintage {
                Some(vintage) if !in_transaction => {
                    let conn = match reader.take() {
                        Some(conn) => conn,
                        None => open_reader(connect_url).map_err(StorageError::query(format!(
                            "opening a connection to read {table}"
                        )))?,
                    };
                    Inner::Copy(copy::CopyBatches::start(
                        conn, reader, table, vintage, batch_rows,
                    )?)
                }
                _ => Inner::Postgres(PgCursor::open(c, table, vintage, !in_transaction)?),
            }
        }
    };
    Ok(TableBatches {
        table,
        inner,
        batch_rows,
        done: false,
        exhausted: false,
    })
}

/// Opens the store's second connection, for reads by `COPY`. Synchronised sequential scans are
/// off: with them, a scan of a large table may start where another session's scan of it is, in
/// the middle of the table, and the rows before that point would come last (out of order).
fn open_reader(url: &str) -> Result<PgConnection, diesel::result::Error> {
    use diesel::connection::SimpleConnection;
    let mut conn = super::connect_postgres(url)?;
    conn.batch_execute("SET synchronize_seqscans = off")?;
    Ok(conn)
}

/// The `SELECT` of a table's columns in extract order (vintage, then `_row`).
fn select_sorted(table: SourceTable, vintage: Option<Vintage>) -> String {
    let filter = vintage
        .map(|v| format!(" WHERE vintage = '{v}'"))
        .unwrap_or_default();
    format!(
        "SELECT {} FROM {}{filter} ORDER BY vintage, _row",
        column_list(table),
        table.name()
    )
}

/// The table's columns, quoted where needed, comma-separated.
fn column_list(table: SourceTable) -> String {
    let columns: Vec<String> = table
        .columns()
        .iter()
        .map(|c| quote_ident(c.name))
        .collect();
    columns.join(", ")
}

/// The batches of a stored table, read lazily (see [`load_table`]).
pub struct TableBatches<'a> {
    table: SourceTable,
    inner: Inner<'a>,
    batch_rows: usize,
    done: bool,
    /// The source has no more rows: the next call ends the iteration without touching it
    /// (stepping a finished SQLite statement would run it again).
    exhausted: bool,
}

enum Inner<'a> {
    Sqlite(<SqliteConnection as LoadConnection>::Cursor<'a, 'static>),
    Postgres(PgCursor<'a>),
    Copy(copy::CopyBatches<'a>),
}

/// A server-side cursor over a sorted `SELECT`.
struct PgCursor<'a> {
    conn: &'a mut PgConnection,
    owns_transaction: bool,
    open: bool,
}

/// The name of the read cursor.
const CURSOR: &str = "pilotage_load";

impl<'a> PgCursor<'a> {
    /// Declares the cursor over `select`, in a transaction of its own when `own_transaction`.
    fn declare(
        conn: &'a mut PgConnection,
        table: SourceTable,
        select: &str,
        own_transaction: bool,
    ) -> Result<PgCursor<'a>, StorageError> {
        use diesel::connection::SimpleConnection;
        if own_transaction {
            AnsiTransactionManager::begin_transaction(conn)
                .map_err(StorageError::query(format!("starting to read {table}")))?;
        }
        let cursor = PgCursor {
            conn,
            owns_transaction: own_transaction,
            open: true,
        };
        cursor
            .conn
            .batch_execute(&format!("DECLARE {CURSOR} NO SCROLL CURSOR FOR {select}"))
            .map_err(StorageError::query(format!("opening a cursor on {table}")))?;
        Ok(cursor)
    }

    /// Declares the cursor over the table's rows of `vintage` (every vintage with `None`).
    fn open(
        conn: &'a mut PgConnection,
        table: SourceTable,
        vintage: Option<Vintage>,
        own_transaction: bool,
    ) -> Result<PgCursor<'a>, StorageError> {
        PgCursor::declare(conn, table, &select_sorted(table, vintage), own_transaction)
    }

    /// Fetches up to `rows` rows into `builders`; returns how many came.
    fn fetch(
        &mut self,
        table: SourceTable,
        rows: usize,
        builders: &mut [ColumnBuilder],
    ) -> Result<usize, StorageError> {
        let fetch = format!("FETCH {rows} FROM {CURSOR}");
        let result = LoadConnection::<diesel::connection::DefaultLoadingMode>::load(
            &mut *self.conn,
            diesel::sql_query(fetch),
        )
        .map_err(StorageError::query(format!("reading {table}")))?;
        let specs = table.columns();
        let mut n = 0;
        for row in result {
            let row = row.map_err(StorageError::query(format!("reading {table}")))?;
            append_pg_row(table, specs, &row, builders)?;
            n += 1;
        }
        Ok(n)
    }

    fn close(&mut self) -> Result<(), StorageError> {
        if !self.open {
            return Ok(());
        }
        self.open = false;
        use diesel::connection::SimpleConnection;
        let closed = self
            .conn
            .batch_execute(&format!("CLOSE {CURSOR}"))
            .map_err(StorageError::query("closing the read cursor"));
        if self.owns_transaction {
            if closed.is_err() {
                // The transaction failed (e.g. the cursor could not be declared): end it.
                let _ = AnsiTransactionManager::rollback_transaction(self.conn);
            } else {
                AnsiTransactionManager::commit_transaction(self.conn)
                    .map_err(StorageError::query("ending the read transaction"))?;
            }
        }
        closed
    }
}

impl Drop for PgCursor<'_> {
    fn drop(&mut self) {
        // Dropped before the end: release the cursor; nothing was written, so errors are moot.
        let _ = self.close();
    }
}

impl Iterator for TableBatches<'_> {
    type Item = Result<RecordBatch, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = match &mut self.inner {
            Inner::Copy(copy) => copy.next_batch(),
            _ => self.next_batch(),
        };
        match result {
            Ok(Some(batch)) => Some(Ok(batch)),
            Ok(None) => {
                self.done = true;
                if let Inner::Postgres(cursor) = &mut self.inner
                    && let Err(e) = cursor.close()
                {
                    return Some(Err(e));
                }
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Finishes `builders` into a batch of `table`.
fn finish_batch(
    table: SourceTable,
    builders: &mut [ColumnBuilder],
) -> Result<RecordBatch, StorageError> {
    let arrays = builders.iter_mut().map(ColumnBuilder::finish).collect();
    RecordBatch::try_new(table.schema(), arrays).map_err(|e| StorageError::Decode {
        table: table.name(),
        column: "*",
        message: e.to_string(),
    })
}

impl TableBatches<'_> {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>, StorageError> {
        let table = self.table;
        let specs = table.columns();
        let mut builders = ColumnBuilder::for_table(table, self.batch_rows);
        let mut rows = 0usize;
        if self.exhausted {
            return Ok(None);
        }
        match &mut self.inner {
            Inner::Sqlite(cursor) => {
                while rows < self.batch_rows {
                    let Some(row) = cursor.next() else {
                        self.exhausted = true;
                        break;
                    };
                    let row = row.map_err(StorageError::query(format!("reading {table}")))?;
                    append_sqlite_row(table, specs, &row, &mut builders)?;
                    rows += 1;
                }
            }
            Inner::Postgres(cursor) => {
                rows = cursor.fetch(table, self.batch_rows, &mut builders)?;
                if rows < self.batch_rows {
                    self.exhausted = true;
                }
            }
            Inner::Copy(_) => return Ok(None),
        }
        if rows == 0 {
            return Ok(None);
        }
        finish_batch(table, &mut builders).map(Some)
    }
}

fn decode_error(table: SourceTable, spec: &ColumnSpec, message: impl Into<String>) -> StorageError {
    StorageError::Decode {
        table: table.name(),
        column: spec.name,
        message: message.into(),
    }
}

/// Appends one result row to the column builders: a null for each null field, every other
/// field's raw value decoded by `append`, the backend's decoding of one value.
fn append_row<'a, DB: Backend, R: Row<'a, DB>>(
    table: SourceTable,
    specs: &'static [ColumnSpec],
    row: &R,
    builders: &mut [ColumnBuilder],
    mut append: impl FnMut(
        &ColumnSpec,
        DB::RawValue<'_>,
        &mut ColumnBuilder,
    ) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    for (i, (spec, builder)) in specs.iter().zip(builders.iter_mut()).enumerate() {
        let field = row
            .get(i)
            .ok_or_else(|| decode_error(table, spec, "missing column"))?;
        match field.value() {
            Some(value) => append(spec, value, builder)?,
            None => builder.append_null(),
        }
    }
    Ok(())
}

fn append_sqlite_row<'a, R: Row<'a, Sqlite>>(
    table: SourceTable,
    specs: &'static [ColumnSpec],
    row: &R,
    builders: &mut [ColumnBuilder],
) -> Result<(), StorageError> {
    append_row(table, specs, row, builders, |spec, mut value, builder| {
        match builder {
            ColumnBuilder::Utf8(b) => b.append_value(value.read_text()),
            ColumnBuilder::Int32(b) => b.append_value(value.read_integer()),
            ColumnBuilder::Int64(b) => b.append_value(value.read_long()),
            ColumnBuilder::Float64(b) => b.append_value(value.read_double()),
            ColumnBuilder::Boolean(b) => b.append_value(value.read_integer() != 0),
            ColumnBuilder::Date32(b) => {
                let text = value.read_text();
                let days = date::parse_iso_date(text)
                    .ok_or_else(|| decode_error(table, spec, format!("{text:?} is not a date")))?;
                b.append_value(days);
            }
        }
        Ok(())
    })
}

fn fixed<const N: usize>(
    table: SourceTable,
    spec: &ColumnSpec,
    bytes: &[u8],
) -> Result<[u8; N], StorageError> {
    bytes.try_into().map_err(|_| {
        decode_error(
            table,
            spec,
            format!("expected {N} bytes, got {}", bytes.len()),
        )
    })
}

fn append_pg_row<'a, R: Row<'a, Pg>>(
    table: SourceTable,
    specs: &'static [ColumnSpec],
    row: &R,
    builders: &mut [ColumnBuilder],
) -> Result<(), StorageError> {
    // diesel reads PostgreSQL results in the binary format (network byte order).
    append_row(table, specs, row, builders, |spec, value, builder| {
        append_pg_value(table, spec, value.as_bytes(), builder)
    })
}

fn append_pg_value(
    table: SourceTable,
    spec: &ColumnSpec,
    bytes: &[u8],
    builder: &mut ColumnBuilder,
) -> Result<(), StorageError> {
    match builder {
        ColumnBuilder::Utf8(b) => b.append_value(
            std::str::from_utf8(bytes).map_err(|e| decode_error(table, spec, e.to_string()))?,
        ),
        ColumnBuilder::Int32(b) => b.append_value(i32::from_be_bytes(fixed(table, spec, bytes)?)),
        ColumnBuilder::Int64(b) => b.append_value(i64::from_be_bytes(fixed(table, spec, bytes)?)),
        ColumnBuilder::Float64(b) => b.append_value(f64::from_be_bytes(fixed(table, spec, bytes)?)),
        ColumnBuilder::Boolean(b) => b.append_value(fixed::<1>(table, spec, bytes)?[0] != 0),
        ColumnBuilder::Date32(b) => {
            b.append_value(i32::from_be_bytes(fixed(table, spec, bytes)?) + PG_EPOCH_DAYS)
        }
    }
    Ok(())
}
