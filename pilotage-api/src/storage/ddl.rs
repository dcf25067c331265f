//! The store's schema, generated from the source specifications of `pilotage_core::source`.
//!
//! The migrations under `pilotage-api/migrations/<backend>/` and the diesel schema in
//! `src/storage/schema.rs` are written by [`render_file`] and committed; a test compares them
//! with a fresh rendering, so a change to a [`ColumnSpec`] that is not carried into the store
//! fails CI. Regenerate with `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`.
//!
//! Every source table gets two bookkeeping columns before its own: `_row`, the position of the
//! row in its extract (in SQLite the rowid itself), which gives reads a stable order, and
//! `vintage`, the date of the extraction the row belongs to.

use pilotage_core::source::{ColumnSpec, DataType, SourceTable};

use super::Backend;

/// One generated artefact: its path relative to the `pilotage-api` folder and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the crate root, with `/` separators.
    pub path: String,
    /// The full text of the file.
    pub content: String,
}

/// Version (folder prefix) of the migration creating the bookkeeping tables.
pub const BOOKKEEPING_MIGRATION: &str = "2026-11-01-000001_bookkeeping";
/// Version (folder prefix) of the migration creating the source tables.
pub const SOURCES_MIGRATION: &str = "2026-11-01-000002_sources";
/// Version (folder prefix) of the migration creating `disclosure_certificates`, the private
/// table of the disclosure certificate of each published release. A store created before it
/// gets the table the next time it is opened (pending migrations run at every opening).
pub const CERTIFICATES_MIGRATION: &str = "2026-12-06-000003_certificates";

/// Every generated file: the three migrations for both backends, and the diesel schema.
pub fn render_file_set() -> Vec<GeneratedFile> {
    let mut files = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = backend.migrations_dir();
        files.push(GeneratedFile {
            path: format!("{dir}/{BOOKKEEPING_MIGRATION}/up.sql"),
            content: bookkeeping_up(backend),
        });
        files.push(GeneratedFile {
            path: format!("{dir}/{BOOKKEEPING_MIGRATION}/down.sql"),
            content: header("--")
                + "DROP TABLE source_vintages;\nDROP TABLE ingestion_files;\nDROP TABLE ingestion_runs;\n",
        });
        files.push(GeneratedFile {
            path: format!("{dir}/{SOURCES_MIGRATION}/up.sql"),
            content: sources_up(backend),
        });
        files.push(GeneratedFile {
            path: format!("{dir}/{SOURCES_MIGRATION}/down.sql"),
            content: sources_down(),
        });
        files.push(GeneratedFile {
            path: format!("{dir}/{CERTIFICATES_MIGRATION}/up.sql"),
            content: certificates_up(backend),
        });
        files.push(GeneratedFile {
            path: format!("{dir}/{CERTIFICATES_MIGRATION}/down.sql"),
            content: header("--") + "DROP TABLE disclosure_certificates;\n",
        });
        files.push(GeneratedFile {
            path: format!("{dir}/{}/up.sql", super::keys::KEYS_MIGRATION),
            content: header("--") + &super::keys::keys_up(backend),
        });
        files.push(GeneratedFile {
            path: format!("{dir}/{}/down.sql", super::keys::KEYS_MIGRATION),
            content: header("--") + "DROP TABLE api_access_log;\nDROP TABLE api_keys;\n",
        });
    }
    files.push(GeneratedFile {
        path: "src/storage/schema.rs".to_owned(),
        content: schema_rs(),
    });
    files
}

/// The file of [`render_file_set`] at `path`, if any.
pub fn render_file(path: &str) -> Option<String> {
    render_file_set()
        .into_iter()
        .find(|f| f.path == path)
        .map(|f| f.content)
}

fn header(comment: &str) -> String {
    format!(
        "{comment} Generated from pilotage_core::source by pilotage_api::storage::ddl: do not edit.\n\
         {comment} Regenerate with `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`.\n"
    )
}

/// The SQL type of a source column for a backend.
pub fn sql_type(backend: Backend, data_type: DataType) -> &'static str {
    match (backend, data_type) {
        (_, DataType::Utf8) => "TEXT",
        (Backend::Sqlite, DataType::Int32 | DataType::Int64 | DataType::Boolean) => "INTEGER",
        (Backend::Sqlite, DataType::Float64) => "REAL",
        (Backend::Sqlite, DataType::Date32) => "TEXT",
        (Backend::Postgres, DataType::Int32) => "INTEGER",
        (Backend::Postgres, DataType::Int64) => "BIGINT",
        (Backend::Postgres, DataType::Float64) => "DOUBLE PRECISION",
        (Backend::Postgres, DataType::Boolean) => "BOOLEAN",
        (Backend::Postgres, DataType::Date32) => "DATE",
    }
}

fn bookkeeping_up(backend: Backend) -> String {
    let (id, big, date) = match backend {
        Backend::Sqlite => ("INTEGER PRIMARY KEY", "INTEGER", "TEXT"),
        Backend::Postgres => ("BIGSERIAL PRIMARY KEY", "BIGINT", "DATE"),
    };
    format!(
        "{}\
-- One row per successful `pilotage ingest` run. A refused run leaves no trace in the store.
CREATE TABLE ingestion_runs (
    id {id},
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    user_name TEXT NOT NULL,
    host_name TEXT NOT NULL,
    source_vintage {date} NOT NULL,
    status TEXT NOT NULL,
    row_count {big} NOT NULL,
    duplicates_dropped {big} NOT NULL,
    warning_count {big} NOT NULL
);

-- The files a run read: which table each fed, their SHA-256 and what they held.
CREATE TABLE ingestion_files (
    run_id {big} NOT NULL REFERENCES ingestion_runs (id),
    table_name TEXT NOT NULL,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes {big} NOT NULL,
    row_count {big} NOT NULL,
    duplicates_dropped {big} NOT NULL,
    PRIMARY KEY (run_id, table_name)
);

-- The extractions held for each source table: one row per (table, vintage), pointing at the run
-- that stored it. Releases and API keys get their own tables when they land.
CREATE TABLE source_vintages (
    table_name TEXT NOT NULL,
    vintage {date} NOT NULL,
    run_id {big} NOT NULL REFERENCES ingestion_runs (id),
    row_count {big} NOT NULL,
    PRIMARY KEY (table_name, vintage)
);
",
        header("--")
    )
}

fn certificates_up(backend: Backend) -> String {
    let bytes = match backend {
        Backend::Sqlite => "BLOB",
        Backend::Postgres => "BYTEA",
    };
    format!(
        "{}\
-- The disclosure certificate of each published release: the serialized proof that every secret
-- value is protected, with its SHA-256 (lowercase hexadecimal) and the time it was stored (UTC,
-- RFC 3339). PRIVATE: it describes the true values around the secret ones, so it is kept only
-- here, never written into a release folder nor served.
CREATE TABLE disclosure_certificates (
    release_version TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body {bytes} NOT NULL
);
",
        header("--")
    )
}

fn sources_up(backend: Backend) -> String {
    let mut sql = header("--");
    for &table in SourceTable::ALL {
        sql.push_str(&format!(
            "\n-- {}\nCREATE TABLE {} (\n",
            table.description(),
            table.name()
        ));
        let (row, vintage) = match backend {
            Backend::Sqlite => ("INTEGER PRIMARY KEY", "TEXT NOT NULL"),
            Backend::Postgres => ("BIGINT NOT NULL", "DATE NOT NULL"),
        };
        let mut lines = vec![format!("    _row {row}"), format!("    vintage {vintage}")];
        for column in table.columns() {
            lines.push(column_line(backend, column));
        }
        sql.push_str(&lines.join(",\n"));
        sql.push_str("\n);\n");
    }
    sql
}

fn column_line(backend: Backend, column: &ColumnSpec) -> String {
    let null = if column.nullable { "" } else { " NOT NULL" };
    format!(
        "    {} {}{null}",
        quote_ident(column.name),
        sql_type(backend, column.data_type)
    )
}

fn sources_down() -> String {
    let mut sql = header("--");
    for &table in SourceTable::ALL.iter().rev() {
        sql.push_str(&format!("DROP TABLE {};\n", table.name()));
    }
    sql
}

/// Quotes an identifier when it is an SQL keyword we may meet as a column name.
pub fn quote_ident(name: &str) -> String {
    const RESERVED: &[&str] = &[
        "check",
        "default",
        "end",
        "from",
        "group",
        "limit",
        "order",
        "references",
        "table",
        "to",
        "user",
    ];
    if RESERVED.contains(&name) {
        format!("\"{name}\"")
    } else {
        name.to_owned()
    }
}

fn diesel_type(data_type: DataType) -> &'static str {
    match data_type {
        DataType::Utf8 => "Text",
        DataType::Int32 => "Integer",
        DataType::Int64 => "BigInt",
        DataType::Float64 => "Double",
        DataType::Boolean => "Bool",
        DataType::Date32 => "Date",
    }
}

fn schema_rs() -> String {
    let mut out = header("//");
    out.push_str(
        "//! The diesel schema of the store (both backends), generated from the source specifications.\n\n",
    );
    out.push_str(
        "diesel::table! {\n    /// One row per successful ingestion run.\n    ingestion_runs (id) {\n        id -> BigInt,\n        started_at -> Text,\n        finished_at -> Text,\n        user_name -> Text,\n        host_name -> Text,\n        source_vintage -> Date,\n        status -> Text,\n        row_count -> BigInt,\n        duplicates_dropped -> BigInt,\n        warning_count -> BigInt,\n    }\n}\n\n",
    );
    out.push_str(
        "diesel::table! {\n    /// The files each run read.\n    ingestion_files (run_id, table_name) {\n        run_id -> BigInt,\n        table_name -> Text,\n        path -> Text,\n        format -> Text,\n        sha256 -> Text,\n        bytes -> BigInt,\n        row_count -> BigInt,\n        duplicates_dropped -> BigInt,\n    }\n}\n\n",
    );
    out.push_str(
        "diesel::table! {\n    /// The extractions held for each source table.\n    source_vintages (table_name, vintage) {\n        table_name -> Text,\n        vintage -> Date,\n        run_id -> BigInt,\n        row_count -> BigInt,\n    }\n}\n",
    );
    out.push_str(
        "\ndiesel::table! {\n    /// The private disclosure certificate of each published release (never served).\n    disclosure_certificates (release_version) {\n        release_version -> Text,\n        sha256 -> Text,\n        created_at -> Text,\n        body -> Binary,\n    }\n}\n",
    );
    out.push_str(super::keys::KEYS_SCHEMA_RS);
    for &table in SourceTable::ALL {
        out.push_str(&format!(
            "\ndiesel::table! {{\n    /// {}\n    {} (_row) {{\n        _row -> BigInt,\n        vintage -> Date,\n",
            table.description(),
            table.name()
        ));
        for column in table.columns() {
            let ty = diesel_type(column.data_type);
            let ty = if column.nullable {
                format!("Nullable<{ty}>")
            } else {
                ty.to_owned()
            };
            let name = if is_rust_keyword(column.name) {
                format!(
                    "#[sql_name = \"{0}\"]\n        {0}_ -> {ty},\n",
                    column.name
                )
            } else {
                format!("{} -> {ty},\n", column.name)
            };
            out.push_str("        ");
            out.push_str(&name);
        }
        out.push_str("    }\n}\n");
    }
    // COPY FROM STDIN needs a typed table: one dispatch from the runtime table to its diesel type.
    out.push_str(
        "\n/// Runs `COPY <table> FROM STDIN` (every column, in table order) in `format` on a PostgreSQL\n\
         /// connection, `write` producing the data; with `freeze`, rows are written frozen (the\n\
         /// table must have been created or emptied in the current transaction).\n\
         pub(crate) fn copy_into(\n    conn: &mut diesel::PgConnection,\n    table: pilotage_core::source::SourceTable,\n    format: diesel::pg::CopyFormat,\n    freeze: bool,\n    write: &dyn Fn(&mut dyn std::io::Write) -> diesel::QueryResult<()>,\n) -> diesel::QueryResult<usize> {\n    use pilotage_core::source::SourceTable;\n    match table {\n",
    );
    for &table in SourceTable::ALL {
        out.push_str(&format!(
            "        SourceTable::{:?} => copy_into!({}::table, conn, format, freeze, write),\n",
            table,
            table.name()
        ));
    }
    out.push_str("    }\n}\n");
    out
}

fn is_rust_keyword(name: &str) -> bool {
    matches!(
        name,
        "type"
            | "ref"
            | "match"
            | "move"
            | "mod"
            | "use"
            | "loop"
            | "where"
            | "impl"
            | "fn"
            | "self"
            | "struct"
            | "enum"
            | "trait"
            | "as"
            | "in"
            | "for"
            | "if"
            | "else"
            | "let"
            | "mut"
            | "pub"
            | "return"
            | "static"
            | "const"
            | "crate"
            | "super"
            | "true"
            | "false"
            | "while"
            | "break"
            | "continue"
            | "dyn"
            | "async"
            | "await"
            | "box"
            | "yield"
            | "abstract"
            | "final"
            | "override"
            | "macro"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "do"
            | "try"
            | "gen"
    )
}
