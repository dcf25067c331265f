//! Bulk writes into the store: multi-row prepared `INSERT`s in SQLite, one binary
//! `COPY … FROM STDIN` per table in PostgreSQL. Callers run them inside one transaction (see [`crate::ingest`]).

use std::fmt::Write as _;

use arrow_array::{Array, RecordBatch};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Double, Integer, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel::{PgConnection, SqliteConnection};
use pilotage_core::source::SourceTable;

use super::columns::ColumnView;
use super::ddl::quote_ident;
use super::{Connection, StorageError, Vintage, date};

/// Deletes the rows of `table` stored under `vintage` (the first half of a replacement).
///
/// PostgreSQL: when the store's bookkeeping (`source_vintages`) says the table holds no other
/// vintage, the table is emptied with `TRUNCATE` instead, and the function returns true: the
/// rows written next in the same transaction can then be written frozen (`COPY … FREEZE`),
/// with their visibility already settled, so the first read after the load does not rewrite
/// every page to set hint bits and no vacuum has to freeze them later. `TRUNCATE` is
/// transactional in PostgreSQL (a rollback restores the table) but locks the table against
/// readers until the commit. SQLite: always a `DELETE`, false.
pub(crate) fn delete_vintage(
    conn: &mut Connection,
    table: SourceTable,
    vintage: Vintage,
) -> Result<bool, StorageError> {
    #[derive(QueryableByName)]
    struct Others {
        #[diesel(sql_type = BigInt)]
        others: i64,
    }
    let context = || format!("deleting {table} vintage {vintage}");
    // A vintage is a validated date and a table name a fixed identifier: writing them as
    // literals is safe.
    let delete = format!("DELETE FROM {} WHERE vintage = '{vintage}'", table.name());
    match conn {
        Connection::Sqlite(c) => diesel::sql_query(&delete)
            .execute(c)
            .map(|_| false)
            .map_err(StorageError::query(context())),
        Connection::Postgres(c) => {
            let others = diesel::sql_query(format!(
                "SELECT count(*) AS others FROM source_vintages \
                 WHERE table_name = '{}' AND vintage <> '{vintage}'",
                table.name()
            ))
            .get_result::<Others>(c)
            .map_err(StorageError::query(context()))?
            .others;
            if others == 0 {
                diesel::sql_query(format!("TRUNCATE {}", table.name()))
                    .execute(c)
                    .map(|_| true)
            } else {
                diesel::sql_query(&delete).execute(c).map(|_| false)
            }
            .map_err(StorageError::query(context()))
        }
    }
}

/// Appends validated batches of `table` under `vintage`, as `next` yields them, in extract
/// order: SQLite gets multi-row prepared `INSERT`s, PostgreSQL one binary `COPY` (see
/// [`copy_batches`]; with `frozen`, when [`delete_vintage`] emptied the table in this
/// transaction, `COPY … FREEZE`). Returns the rows written.
pub(crate) fn write_batches(
    conn: &mut Connection,
    table: SourceTable,
    vintage: Vintage,
    frozen: bool,
    next: &mut dyn FnMut() -> Option<RecordBatch>,
) -> Result<u64, StorageError> {
    match conn {
        Connection::Sqlite(c) => {
            let mut written = 0u64;
            while let Some(batch) = next() {
                let views =
                    ColumnView::of_batch(table, &batch).ok_or_else(|| StorageError::Decode {
                        table: table.name(),
                        column: "*",
                        message: "batch does not have the table's schema".to_owned(),
                    })?;
                write_sqlite(c, table, vintage, &views, batch.num_rows())?;
                written += batch.num_rows() as u64;
            }
            Ok(written)
        }
        Connection::Postgres(c) => copy_batches(c, table, vintage, frozen, next),
    }
}

// --- SQLite: multi-row prepared INSERT -------------------------------------------------------

/// A column ready for binding: dates pre-rendered as ISO text.
enum BindColumn<'a> {
    Plain(ColumnView<'a>),
    Dates { text: String, present: Vec<bool> },
}

/// One multi-row `INSERT` of the table at position `T` of [`SourceTable::ALL`].
///
/// diesel keys its prepared-statement cache by the query's type when the type has a static
/// query id, else by the SQL text, which it must then render and hash on every execution (a
/// walk over every bound value). The full-size `INSERT` of a table always has the same text
/// (its columns, [`rows_per_insert`] rows), so it gets a type of its own: `T` is the table's
/// position and the cache finds its statement without rendering it. The last, shorter
/// `INSERT` of a batch and tables beyond [`STATIC_TABLES`] use `T = DYNAMIC_INSERT`, keyed by
/// text.
struct InsertRows<'a, const T: usize> {
    head: &'a str,
    columns: &'a [BindColumn<'a>],
    vintage: &'a str,
    rows: std::ops::Range<usize>,
}

/// The `T` of an [`InsertRows`] whose text varies: cached by text.
const DYNAMIC_INSERT: usize = usize::MAX;
/// Tables (positions in [`SourceTable::ALL`]) whose full-size `INSERT` has a type of its own.
const STATIC_TABLES: usize = 16;

/// The cache key type of the full-size `INSERT` of the table at position `T`.
struct InsertKey<const T: usize>;

impl<const T: usize> QueryId for InsertRows<'_, T> {
    type QueryId = InsertKey<T>;
    const HAS_STATIC_QUERY_ID: bool = T != DYNAMIC_INSERT;
}

static NULL_TEXT: Option<&'static str> = None;
static NULL_I32: Option<i32> = None;
static NULL_I64: Option<i64> = None;
static NULL_F64: Option<f64> = None;
static NULL_BOOL: Option<bool> = None;
static TRUE: bool = true;
static FALSE: bool = false;

impl<const T: usize> QueryFragment<Sqlite> for InsertRows<'_, T> {
    // Only values are bound, never anything that would make the statement uncacheable: skip
    // diesel's walk over every value that asks.
    fn is_safe_to_cache_prepared(&self, _backend: &Sqlite) -> QueryResult<bool> {
        Ok(true)
    }

    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(self.head);
        for (n, i) in self.rows.clone().enumerate() {
            out.push_sql(if n == 0 { "(" } else { ",(" });
            out.push_bind_param::<Text, str>(self.vintage)?;
            for column in self.columns {
                out.push_sql(",");
                match column {
                    BindColumn::Plain(view) => bind_value(&mut out, view, i)?,
                    BindColumn::Dates { text, present } => {
                        if present[i] {
                            out.push_bind_param::<Nullable<Text>, str>(&text[i * 10..i * 10 + 10])?;
                        } else {
                            out.push_bind_param::<Nullable<Text>, _>(&NULL_TEXT)?;
                        }
                    }
                }
            }
            out.push_sql(")");
        }
        Ok(())
    }
}

fn bind_value<'b>(
    out: &mut AstPass<'_, 'b, Sqlite>,
    view: &ColumnView<'b>,
    i: usize,
) -> QueryResult<()> {
    let null = view.is_null(i);
    match *view {
        ColumnView::Utf8(_) if null => out.push_bind_param::<Nullable<Text>, _>(&NULL_TEXT),
        ColumnView::Utf8(a) => out.push_bind_param::<Nullable<Text>, str>(a.value(i)),
        ColumnView::Int32(_) if null => out.push_bind_param::<Nullable<Integer>, _>(&NULL_I32),
        ColumnView::Int32(a) => out.push_bind_param::<Nullable<Integer>, i32>(&a.values()[i]),
        ColumnView::Int64(_) if null => out.push_bind_param::<Nullable<BigInt>, _>(&NULL_I64),
        ColumnView::Int64(a) => out.push_bind_param::<Nullable<BigInt>, i64>(&a.values()[i]),
        ColumnView::Float64(_) if null => out.push_bind_param::<Nullable<Double>, _>(&NULL_F64),
        ColumnView::Float64(a) => out.push_bind_param::<Nullable<Double>, f64>(&a.values()[i]),
        ColumnView::Boolean(_) if null => out.push_bind_param::<Nullable<Bool>, _>(&NULL_BOOL),
        ColumnView::Boolean(a) => {
            out.push_bind_param::<Nullable<Bool>, bool>(if a.value(i) { &TRUE } else { &FALSE })
        }
        ColumnView::Date32(_) => unreachable_date(),
    }
}

#[cold]
fn unreachable_date() -> QueryResult<()> {
    Err(diesel::result::Error::SerializationError(
        "dates are bound as pre-rendered text".into(),
    ))
}

/// SQLite's default limit on bound parameters per statement is 32,766.
const SQLITE_MAX_BINDS: usize = 32_000;
/// Rows per multi-row INSERT: enough to amortise the statement overhead.
const SQLITE_ROWS_PER_INSERT: usize = 128;

fn write_sqlite(
    conn: &mut SqliteConnection,
    table: SourceTable,
    vintage: Vintage,
    views: &[ColumnView<'_>],
    rows: usize,
) -> Result<(), StorageError> {
    let columns: Vec<BindColumn<'_>> = views
        .iter()
        .map(|v| match v {
            ColumnView::Date32(a) => {
                let mut text = String::with_capacity(a.len() * 10);
                let mut present = Vec::with_capacity(a.len());
                for i in 0..a.len() {
                    if a.is_null(i) {
                        text.push_str("0000-00-00");
                        present.push(false);
                    } else {
                        let before = text.len();
                        date::write_iso_date(a.value(i), &mut text);
                        // Years outside 0–9999 do not fit ISO's ten characters.
                        text.truncate(before + 10);
                        while text.len() < before + 10 {
                            text.push('0');
                        }
                        present.push(true);
                    }
                }
                BindColumn::Dates { text, present }
            }
            other => BindColumn::Plain(*other),
        })
        .collect();
    let mut head = format!("INSERT INTO {} (vintage", table.name());
    for spec in table.columns() {
        let _ = write!(head, ", {}", quote_ident(spec.name));
    }
    head.push_str(") VALUES ");
    let vintage_text = vintage.to_string();
    let per_insert = rows_per_insert(views.len());
    let position = SourceTable::ALL
        .iter()
        .position(|t| *t == table)
        .unwrap_or(DYNAMIC_INSERT);
    let mut start = 0;
    while start < rows {
        let end = (start + per_insert).min(rows);
        let range = start..end;
        let full = end - start == per_insert;
        let (head, columns, vintage) = (head.as_str(), columns.as_slice(), vintage_text.as_str());
        macro_rules! insert {
            ($t:expr) => {
                InsertRows::<{ $t }> {
                    head,
                    columns,
                    vintage,
                    rows: range,
                }
                .execute(conn)
            };
        }
        let done = match position {
            _ if !full => insert!(DYNAMIC_INSERT),
            0 => insert!(0),
            1 => insert!(1),
            2 => insert!(2),
            3 => insert!(3),
            4 => insert!(4),
            5 => insert!(5),
            6 => insert!(6),
            7 => insert!(7),
            8 => insert!(8),
            9 => insert!(9),
            10 => insert!(10),
            11 => insert!(11),
            12 => insert!(12),
            13 => insert!(13),
            14 => insert!(14),
            15 => insert!(15),
            _ => insert!(DYNAMIC_INSERT),
        };
        done.map_err(StorageError::query(format!("inserting into {table}")))?;
        start = end;
    }
    Ok(())
}

/// Rows per `INSERT` of a table with `columns` columns (plus `vintage`): the same for every
/// batch of the table, so that its full-size statement text never changes.
fn rows_per_insert(columns: usize) -> usize {
    SQLITE_ROWS_PER_INSERT
        .min(SQLITE_MAX_BINDS / (columns + 1))
        .max(1)
}

impl<const T: usize> RunQueryDsl<SqliteConnection> for InsertRows<'_, T> {}

// Every source table has its own full-size INSERT type.
const _: () = assert!(SourceTable::ALL.len() <= STATIC_TABLES);

// --- PostgreSQL: one COPY FROM STDIN per table, binary format ---------------------------------

/// The signature, flags and header-extension length that open a binary `COPY` stream.
const PG_COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The field count `-1` that ends a binary `COPY` stream.
const PG_COPY_TRAILER: &[u8] = &[0xff, 0xff];
/// Days from 1970-01-01 (Arrow's epoch) to 2000-01-01 (PostgreSQL's).
const PG_EPOCH_DAYS: i32 = 10_957;
/// Bytes buffered before they are handed to the connection.
const PG_COPY_BUFFER: usize = 1 << 20;

/// Streams every batch `next` yields into `table` under `vintage` with a single binary
/// `COPY … FROM STDIN`, so that the server stores rows while the next batches are read and
/// validated. `_row` numbers the rows from 0 in the order given. With `frozen` (the table was
/// created or emptied in the current transaction) the rows are written frozen (`FREEZE`).
/// Returns the rows written.
pub(crate) fn copy_batches(
    conn: &mut PgConnection,
    table: SourceTable,
    vintage: Vintage,
    frozen: bool,
    next: &mut dyn FnMut() -> Option<RecordBatch>,
) -> Result<u64, StorageError> {
    let next = std::cell::RefCell::new(next);
    let written = std::cell::Cell::new(0u64);
    let vintage_days = vintage.days() - PG_EPOCH_DAYS;
    let ncols = i16::try_from(table.columns().len() + 2).unwrap_or(i16::MAX);
    let write = |w: &mut dyn std::io::Write| -> QueryResult<()> {
        let io = |e: std::io::Error| diesel::result::Error::SerializationError(Box::new(e));
        let mut next = next.borrow_mut();
        let mut buf: Vec<u8> = Vec::with_capacity(PG_COPY_BUFFER + (1 << 16));
        buf.extend_from_slice(PG_COPY_HEADER);
        while let Some(batch) = (*next)() {
            let views = ColumnView::of_batch(table, &batch).ok_or_else(|| {
                diesel::result::Error::SerializationError(
                    format!("a batch of {table} does not have the table's schema").into(),
                )
            })?;
            let mut row = written.get() as i64;
            for i in 0..batch.num_rows() {
                encode_binary_row(&mut buf, ncols, row, vintage_days, &views, i);
                row += 1;
                if buf.len() >= PG_COPY_BUFFER {
                    w.write_all(&buf).map_err(io)?;
                    buf.clear();
                }
            }
            written.set(row as u64);
        }
        buf.extend_from_slice(PG_COPY_TRAILER);
        w.write_all(&buf).map_err(io)
    };
    super::schema::copy_into(conn, table, diesel::pg::CopyFormat::Binary, frozen, &write)
        .map_err(StorageError::query(format!("copying into {table}")))?;
    Ok(written.get())
}

/// Appends one row in `COPY`'s binary format: the field count, then each field as its byte
/// length (`-1` for null) and its network-order value (`_row`, `vintage`, the table's columns).
fn encode_binary_row(
    buf: &mut Vec<u8>,
    ncols: i16,
    row: i64,
    vintage_days: i32,
    views: &[ColumnView<'_>],
    i: usize,
) {
    buf.extend_from_slice(&ncols.to_be_bytes());
    buf.extend_from_slice(&8i32.to_be_bytes());
    buf.extend_from_slice(&row.to_be_bytes());
    buf.extend_from_slice(&4i32.to_be_bytes());
    buf.extend_from_slice(&vintage_days.to_be_bytes());
    for view in views {
        if view.is_null(i) {
            buf.extend_from_slice(&(-1i32).to_be_bytes());
            continue;
        }
        match view {
            ColumnView::Utf8(a) => {
                let v = a.value(i).as_bytes();
                // Arrow strings are at most 2 GiB (i32 offsets): the length fits.
                buf.extend_from_slice(&(v.len() as i32).to_be_bytes());
                buf.extend_from_slice(v);
            }
            ColumnView::Int32(a) => {
                buf.extend_from_slice(&4i32.to_be_bytes());
                buf.extend_from_slice(&a.value(i).to_be_bytes());
            }
            ColumnView::Int64(a) => {
                buf.extend_from_slice(&8i32.to_be_bytes());
                buf.extend_from_slice(&a.value(i).to_be_bytes());
            }
            ColumnView::Float64(a) => {
                buf.extend_from_slice(&8i32.to_be_bytes());
                buf.extend_from_slice(&a.value(i).to_bits().to_be_bytes());
            }
            ColumnView::Boolean(a) => {
                buf.extend_from_slice(&1i32.to_be_bytes());
                buf.push(u8::from(a.value(i)));
            }
            ColumnView::Date32(a) => {
                buf.extend_from_slice(&4i32.to_be_bytes());
                buf.extend_from_slice(&(a.value(i) - PG_EPOCH_DAYS).to_be_bytes());
            }
        }
    }
}

// --- Bookkeeping -----------------------------------------------------------------------------

/// What a successful run records.
pub(crate) struct RunRecord<'a> {
    pub started_at: &'a str,
    pub user_name: &'a str,
    pub host_name: &'a str,
    pub vintage: Vintage,
    pub row_count: i64,
    pub duplicates_dropped: i64,
    pub warning_count: i64,
    pub files: &'a [FileRecord],
}

/// One file of a run.
pub(crate) struct FileRecord {
    pub table: SourceTable,
    pub path: String,
    pub format: &'static str,
    pub sha256: String,
    pub bytes: i64,
    pub row_count: i64,
    pub duplicates_dropped: i64,
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Records a successful run, its files and the vintages it stored; returns the run id.
pub(crate) fn record_run(conn: &mut Connection, run: &RunRecord<'_>) -> Result<i64, StorageError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let finished = date::now_utc_text();
    let insert = format!(
        "INSERT INTO ingestion_runs (started_at, finished_at, user_name, host_name, source_vintage, \
         status, row_count, duplicates_dropped, warning_count) VALUES ({}, {}, {}, {}, '{}', \
         'succeeded', {}, {}, {}) RETURNING id",
        sql_text(run.started_at),
        sql_text(&finished),
        sql_text(run.user_name),
        sql_text(run.host_name),
        run.vintage,
        run.row_count,
        run.duplicates_dropped,
        run.warning_count
    );
    let ctx = "recording the ingestion run";
    let ids: Vec<Id> = match conn {
        Connection::Sqlite(c) => diesel::sql_query(&insert).load(c),
        Connection::Postgres(c) => diesel::sql_query(&insert).load(c),
    }
    .map_err(StorageError::query(ctx))?;
    let id = ids
        .first()
        .map(|r| r.id)
        .ok_or_else(|| StorageError::Query {
            context: ctx.to_owned(),
            source: diesel::result::Error::NotFound,
        })?;
    let mut sql = String::new();
    for f in run.files {
        let _ = write!(
            sql,
            "INSERT INTO ingestion_files (run_id, table_name, path, format, sha256, bytes, row_count, \
             duplicates_dropped) VALUES ({id}, '{}', {}, '{}', '{}', {}, {}, {});\n\
             DELETE FROM source_vintages WHERE table_name = '{}' AND vintage = '{}';\n\
             INSERT INTO source_vintages (table_name, vintage, run_id, row_count) VALUES ('{}', '{}', {id}, {});\n",
            f.table.name(),
            sql_text(&f.path),
            f.format,
            f.sha256,
            f.bytes,
            f.row_count,
            f.duplicates_dropped,
            f.table.name(),
            run.vintage,
            f.table.name(),
            run.vintage,
            f.row_count
        );
    }
    use diesel::connection::SimpleConnection;
    match conn {
        Connection::Sqlite(c) => c.batch_execute(&sql),
        Connection::Postgres(c) => c.batch_execute(&sql),
    }
    .map_err(StorageError::query(ctx))?;
    Ok(id)
}
