//! Bulk writes into the store: multi-row prepared `INSERT`s in SQLite, `COPY … FROM STDIN` in
//! PostgreSQL. Callers run them inside one transaction (see [`crate::ingest`]).

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
pub(crate) fn delete_vintage(
    conn: &mut Connection,
    table: SourceTable,
    vintage: Vintage,
) -> Result<usize, StorageError> {
    // A vintage is a validated date: writing it as a literal is safe.
    let sql = format!("DELETE FROM {} WHERE vintage = '{vintage}'", table.name());
    match conn {
        Connection::Sqlite(c) => diesel::sql_query(&sql).execute(c),
        Connection::Postgres(c) => diesel::sql_query(&sql).execute(c),
    }
    .map_err(StorageError::query(format!(
        "deleting {table} vintage {vintage}"
    )))
}

/// Appends a validated batch of `table` under `vintage`; `first_row` is the position of the
/// batch's first row in its extract (0-based), stored as `_row` in PostgreSQL.
pub(crate) fn write_batch(
    conn: &mut Connection,
    table: SourceTable,
    vintage: Vintage,
    batch: &RecordBatch,
    first_row: i64,
) -> Result<(), StorageError> {
    let views = ColumnView::of_batch(table, batch).ok_or_else(|| StorageError::Decode {
        table: table.name(),
        column: "*",
        message: "batch does not have the table's schema".to_owned(),
    })?;
    match conn {
        Connection::Sqlite(c) => write_sqlite(c, table, vintage, &views, batch.num_rows()),
        Connection::Postgres(c) => {
            write_postgres(c, table, vintage, &views, batch.num_rows(), first_row)
        }
    }
}

// --- SQLite: multi-row prepared INSERT -------------------------------------------------------

/// A column ready for binding: dates pre-rendered as ISO text.
enum BindColumn<'a> {
    Plain(ColumnView<'a>),
    Dates { text: String, present: Vec<bool> },
}

struct InsertRows<'a> {
    head: &'a str,
    columns: &'a [BindColumn<'a>],
    vintage: &'a str,
    rows: std::ops::Range<usize>,
}

impl QueryId for InsertRows<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

static NULL_TEXT: Option<&'static str> = None;
static NULL_I32: Option<i32> = None;
static NULL_I64: Option<i64> = None;
static NULL_F64: Option<f64> = None;
static NULL_BOOL: Option<bool> = None;
static TRUE: bool = true;
static FALSE: bool = false;

impl QueryFragment<Sqlite> for InsertRows<'_> {
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
    let per_insert = SQLITE_ROWS_PER_INSERT
        .min(SQLITE_MAX_BINDS / (views.len() + 1))
        .max(1);
    let mut start = 0;
    while start < rows {
        let end = (start + per_insert).min(rows);
        let query = InsertRows {
            head: &head,
            columns: &columns,
            vintage: &vintage_text,
            rows: start..end,
        };
        query
            .execute(conn)
            .map_err(StorageError::query(format!("inserting into {table}")))?;
        start = end;
    }
    Ok(())
}

impl RunQueryDsl<SqliteConnection> for InsertRows<'_> {}

// --- PostgreSQL: COPY FROM STDIN, text format ------------------------------------------------

fn write_postgres(
    conn: &mut PgConnection,
    table: SourceTable,
    vintage: Vintage,
    views: &[ColumnView<'_>],
    rows: usize,
    first_row: i64,
) -> Result<(), StorageError> {
    let vintage_text = vintage.to_string();
    let mut data = String::with_capacity(rows * (16 + views.len() * 12));
    for i in 0..rows {
        let _ = write!(data, "{}\t{vintage_text}", first_row + i as i64);
        for view in views {
            data.push('\t');
            if view.is_null(i) {
                data.push_str("\\N");
                continue;
            }
            match view {
                ColumnView::Utf8(a) => escape_copy_text(a.value(i), &mut data),
                ColumnView::Int32(a) => {
                    let _ = write!(data, "{}", a.value(i));
                }
                ColumnView::Int64(a) => {
                    let _ = write!(data, "{}", a.value(i));
                }
                ColumnView::Float64(a) => write_float(a.value(i), &mut data),
                ColumnView::Boolean(a) => data.push(if a.value(i) { 't' } else { 'f' }),
                ColumnView::Date32(a) => date::write_iso_date(a.value(i), &mut data),
            }
        }
        data.push('\n');
    }
    super::schema::copy_text(conn, table, data.as_bytes())
        .map_err(StorageError::query(format!("copying into {table}")))?;
    Ok(())
}

/// Writes a float so that PostgreSQL reads back the very same `f64`.
fn write_float(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        // Rust prints the shortest text that parses back to the same value.
        let _ = write!(out, "{v:?}");
    }
}

/// Escapes text for COPY's text format (backslash, tab, newline, carriage return).
fn escape_copy_text(s: &str, out: &mut String) {
    if !s
        .bytes()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
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
