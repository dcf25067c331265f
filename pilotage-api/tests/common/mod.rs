//! Helpers shared by the storage and ingest tests: a fresh store per test on every backend
//! (SQLite always, PostgreSQL when `PILOTAGE_TEST_DATABASE_URL` is set, each test in its own
//! schema), and small generated sources; and the `pilotage` binary run as a command, for the
//! publish and report tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use arrow_array::RecordBatch;
use diesel::Connection as _;
use diesel::connection::SimpleConnection;
use pilotage_api::storage::{Store, TableFingerprint, Vintage, load_table};
use pilotage_core::source::SourceTable;
use pilotage_core::synth::{GeneratorConfig, OutputFormat};

/// Runs the `pilotage` binary with `args`, without a database URL from the environment.
pub fn pilotage(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pilotage"))
        .args(args)
        .env_remove("PILOTAGE_DATABASE_URL")
        .output()
        .expect("the pilotage binary runs")
}

/// A path as a command-line argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Environment variable naming a PostgreSQL database the tests may use.
pub const PG_ENV: &str = "PILOTAGE_TEST_DATABASE_URL";

/// A store for one test; a PostgreSQL schema is dropped when it goes away.
pub struct TestDb {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The database URL to give `Store::open` or `IngestOptions`.
    pub url: String,
    _dir: tempfile::TempDir,
    pg_schema: Option<(String, String)>,
}

impl TestDb {
    /// Opens the store.
    pub fn open(&self) -> Store {
        Store::open(&self.url).unwrap_or_else(|e| panic!("{}: {e}", self.backend))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg_schema
            && let Ok(mut c) = diesel::PgConnection::establish(base)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// One fresh, empty store per available backend.
pub fn databases(test: &str) -> Vec<TestDb> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store").join("pilotage.sqlite");
    out.push(TestDb {
        backend: "sqlite",
        url: path.display().to_string(),
        _dir: dir,
        pg_schema: None,
    });
    if let Ok(base) = std::env::var(PG_ENV)
        && !base.is_empty()
    {
        {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let schema = format!(
                "t_{}_{}_{n}",
                test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
                std::process::id()
            );
            let mut c = diesel::PgConnection::establish(&base)
                .unwrap_or_else(|e| panic!("{PG_ENV}={base}: {e}"));
            c.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            out.push(TestDb {
                backend: "postgres",
                url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
                _dir: tempfile::tempdir().unwrap(),
                pg_schema: Some((base, schema)),
            });
        }
    }
    out
}

/// The generator settings of the test sources: a tiny country over one year.
pub fn config(format: OutputFormat) -> GeneratorConfig {
    GeneratorConfig {
        scale: 0.002,
        seed: 7,
        first_year: 2024,
        last_year: 2024,
        format,
    }
}

fn generated(format: OutputFormat) -> &'static Path {
    static CSV: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    static PARQUET: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    static FLUXIAE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let cell = match format {
        OutputFormat::Csv => &CSV,
        OutputFormat::FluxIae => &FLUXIAE,
        _ => &PARQUET,
    };
    &cell
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("sources");
            pilotage_core::synth::generate(&config(format), &out, &mut |_| {}).unwrap();
            (dir, out)
        })
        .1
}

/// A private copy of the generated sources in `format`, which the test may edit.
pub fn sources(format: OutputFormat) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sources");
    std::fs::create_dir_all(&out).unwrap();
    for entry in std::fs::read_dir(generated(format)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), out.join(entry.file_name())).unwrap();
    }
    (dir, out)
}

/// The generated batches of every table, concatenated, in memory.
pub fn expected_tables() -> &'static Vec<(SourceTable, RecordBatch)> {
    static TABLES: OnceLock<Vec<(SourceTable, RecordBatch)>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut parts: Vec<(SourceTable, Vec<RecordBatch>)> =
            SourceTable::ALL.iter().map(|t| (*t, Vec::new())).collect();
        pilotage_core::synth::generate_batches(
            &config(OutputFormat::Parquet),
            &mut |table, batch| {
                parts
                    .iter_mut()
                    .find(|(t, _)| *t == table)
                    .unwrap()
                    .1
                    .push(batch);
                Ok(())
            },
        )
        .unwrap();
        parts
            .into_iter()
            .map(|(t, batches)| (t, concat(&t.schema(), &batches)))
            .collect()
    })
}

/// Concatenates batches of one schema.
pub fn concat(schema: &arrow_schema::SchemaRef, batches: &[RecordBatch]) -> RecordBatch {
    arrow_select::concat::concat_batches(schema, batches).unwrap()
}

/// Every row of `table` stored under `vintage`, as one batch.
pub fn read_back(store: &mut Store, table: SourceTable, vintage: Vintage) -> RecordBatch {
    let batches: Vec<RecordBatch> = load_table(store, table, vintage)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    concat(&table.schema(), &batches)
}

/// The store's fingerprint (row counts and checksums of every table).
pub fn fingerprint(store: &mut Store) -> Vec<TableFingerprint> {
    store.fingerprint().unwrap()
}

/// Rewrites one field of a CSV file: `line` is the 1-based line (the header is line 1).
pub fn set_csv_field(path: &Path, line: usize, column: &str, value: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let index = header
        .iter()
        .position(|h| *h == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    let mut record = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(lines[line - 1].as_bytes())
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    record[index] = value.to_owned();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&record).unwrap();
    lines[line - 1] = String::from_utf8(writer.into_inner().unwrap())
        .unwrap()
        .trim_end()
        .to_owned();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// The value of one field of a CSV file (`line` 1-based, the header is line 1).
pub fn csv_field(path: &Path, line: usize, column: &str) -> String {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let index = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == column)
        .unwrap();
    reader
        .records()
        .nth(line - 2)
        .unwrap()
        .unwrap()
        .get(index)
        .unwrap()
        .to_owned()
}

/// The path of the fluxIAE file of `view` in `dir` (`fluxIAE_<View>_….csv[.gz]`).
pub fn fluxiae_file(dir: &Path, view: pilotage_core::fluxiae::View) -> PathBuf {
    let prefix = format!("fluxIAE_{}_", view.name());
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix)
        })
        .unwrap_or_else(|| panic!("no file for view {view} in {}", dir.display()))
}

/// Replaces the gzipped file of `view` in `dir` by its plain text (`….csv`), returning the new
/// path and its lines (without terminators).
pub fn fluxiae_plain(dir: &Path, view: pilotage_core::fluxiae::View) -> (PathBuf, Vec<String>) {
    use std::io::Read as _;
    let gz = fluxiae_file(dir, view);
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&gz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    std::fs::remove_file(&gz).unwrap();
    let plain = gz.with_extension("");
    std::fs::write(&plain, &text).unwrap();
    (plain, text.lines().map(str::to_owned).collect())
}

/// Writes `lines` as a plain fluxIAE file (each line ended by `\n`).
pub fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Sets one field of a fluxIAE line (`line` 1-based, the `DEB` line is line 1, the header line 2).
pub fn set_flux_field(lines: &mut [String], line: usize, column: &str, value: &str) {
    let index = lines[1]
        .split('|')
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    let mut fields: Vec<String> = lines[line - 1].split('|').map(str::to_owned).collect();
    fields[index] = value.to_owned();
    lines[line - 1] = fields.join("|");
}
