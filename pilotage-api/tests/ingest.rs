//! Ingestion of the canonical contract, on every available backend: round trips of generated
//! sources, replacement by vintage, and every kind of bad input leaving the store unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{TestDb, databases, fingerprint, read_back, sources};
use pilotage_api::ingest::validate::RowError;
use pilotage_api::ingest::{IngestError, IngestOptions, IngestReport, ingest};
use pilotage_api::storage::Vintage;
use pilotage_core::fluxiae::View;
use pilotage_core::source::SourceTable;
use pilotage_core::synth::{FLUXIAE_DUPLICATE_EVERY, OutputFormat};

fn vintage(text: &str) -> Vintage {
    text.parse().unwrap()
}

fn run(
    db: &TestDb,
    inputs: &[&Path],
    v: &str,
    max_errors: usize,
) -> Result<IngestReport, IngestError> {
    let mut options = IngestOptions::new(
        inputs.iter().map(|p| p.to_path_buf()).collect(),
        db.url.clone(),
    );
    options.source_vintage = Some(vintage(v));
    options.max_errors = max_errors;
    ingest(&options, &mut |_| {})
}

fn errors_of(result: Result<IngestReport, IngestError>) -> Vec<RowError> {
    match result {
        Err(IngestError::Invalid { errors, .. }) => errors,
        Err(other) => panic!("expected refused sources, got {other}"),
        Ok(_) => panic!("expected refused sources, the run succeeded"),
    }
}

/// Asserts that `table` of vintage 2024-12-31 reads back from `store` equal to `expected`, row
/// count and every column; `label` (backend, format) starts the messages.
fn assert_read_back(
    store: &mut pilotage_api::storage::Store,
    table: SourceTable,
    expected: &arrow_array::RecordBatch,
    label: &str,
) {
    let got = read_back(store, table, vintage("2024-12-31"));
    assert_eq!(got.num_rows(), expected.num_rows(), "{label} {table}");
    for (i, spec) in table.columns().iter().enumerate() {
        assert_eq!(
            got.column(i).as_ref(),
            expected.column(i).as_ref(),
            "{label} {table}.{}",
            spec.name
        );
    }
}

/// Asserts that every file a run recorded still has, on disk, the SHA-256 recorded.
fn assert_hashes_on_disk(files: &[pilotage_api::storage::IngestionFile]) {
    for f in files {
        let on_disk = pilotage_api::ingest::input::hash_file(Path::new(&f.path))
            .unwrap()
            .0;
        assert_eq!(f.sha256, on_disk, "{f:?}");
    }
}

/// Every table read back equals what the generator produced, for both input formats.
#[test]
fn generated_sources_round_trip() {
    for format in [OutputFormat::Parquet, OutputFormat::Csv] {
        let (_keep, dir) = sources(format);
        for db in databases("round_trip") {
            let report = run(&db, &[&dir], "2024-12-31", 20)
                .unwrap_or_else(|e| panic!("{} {format}: {e}", db.backend));
            assert_eq!(report.tables.len(), SourceTable::ALL.len());
            let mut store = db.open();
            for (table, expected) in common::expected_tables() {
                let label = format!("{} {format}", db.backend);
                assert_read_back(&mut store, *table, expected, &label);
            }
            let runs = store.runs().unwrap();
            assert_eq!(runs.len(), 1);
            assert_eq!(runs[0].source_vintage, "2024-12-31");
            assert_eq!(runs[0].row_count as u64, report.rows);
            let files = store.run_files(runs[0].id).unwrap();
            assert_eq!(files.len(), SourceTable::ALL.len());
            for f in &files {
                assert_eq!(f.sha256.len(), 64, "{f:?}");
            }
            assert_hashes_on_disk(&files);
        }
    }
}

/// A generated delivery with the ASP's tables as gzipped fluxIAE views (and the platform's as
/// canonical CSV) reads back equal to the canonical generation of the same seed: the fluxIAE
/// duplicates are dropped and counted, the views are recorded as such.
#[test]
fn generated_fluxiae_delivery_round_trips() {
    let (_keep, dir) = sources(OutputFormat::FluxIae);
    for db in databases("fluxiae_round_trip") {
        let report =
            run(&db, &[&dir], "2024-12-31", 20).unwrap_or_else(|e| panic!("{}: {e}", db.backend));
        assert_eq!(report.tables.len(), SourceTable::ALL.len());
        let mut store = db.open();
        for (table, expected) in common::expected_tables() {
            assert_read_back(&mut store, *table, expected, db.backend);
            let t = report.tables.iter().find(|t| t.table == *table).unwrap();
            let is_view = View::of_table(*table).is_some() && *table != SourceTable::Structures;
            assert_eq!(t.format, if is_view { "fluxiae" } else { "csv" }, "{table}");
            // One line in FLUXIAE_DUPLICATE_EVERY is written twice.
            let expected_dups = if is_view {
                expected.num_rows() as u64 / FLUXIAE_DUPLICATE_EVERY
            } else {
                0
            };
            assert!(
                t.duplicates_dropped.abs_diff(expected_dups) <= 1,
                "{table}: {} duplicates dropped, about {expected_dups} expected",
                t.duplicates_dropped
            );
        }
        let dropped: u64 = report.tables.iter().map(|t| t.duplicates_dropped).sum();
        assert!(dropped > 0);
        let runs = store.runs().unwrap();
        assert_eq!(runs[0].duplicates_dropped as u64, dropped);
        assert_hashes_on_disk(&store.run_files(runs[0].id).unwrap());
    }
}

/// A fluxIAE view is recognised by its first line whatever its name, plain or gzipped.
#[test]
fn fluxiae_views_are_recognised_by_content() {
    let (_keep, dir) = sources(OutputFormat::FluxIae);
    let gz = common::fluxiae_file(&dir, View::AnnexeFinanciere);
    let renamed = dir.join("extraction_af.dat.gz");
    std::fs::rename(&gz, &renamed).unwrap();
    let file = pilotage_api::ingest::input::classify(&renamed).unwrap();
    assert_eq!(
        file.format,
        pilotage_api::ingest::input::InputFormat::Fluxiae(View::AnnexeFinanciere)
    );
    assert_eq!(file.table, SourceTable::AnnexesFinancieres);
    let (plain, _) = common::fluxiae_plain(&dir, View::Salarie);
    let renamed = dir.join("salaries.csv");
    std::fs::rename(&plain, &renamed).unwrap();
    let file = pilotage_api::ingest::input::classify(&renamed).unwrap();
    assert_eq!(
        file.format,
        pilotage_api::ingest::input::InputFormat::Fluxiae(View::Salarie)
    );
    for db in databases("fluxiae_by_content") {
        let report = run(&db, &[&dir], "2024-12-31", 20).unwrap();
        assert_eq!(report.tables.len(), SourceTable::ALL.len());
    }
}

/// The name of the file at `path`, as errors name it.
fn file_name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

/// The line of the first data line that repeats an earlier one, in a view's lines.
fn first_duplicate(lines: &[String]) -> usize {
    let mut seen = std::collections::HashSet::new();
    for (i, l) in lines.iter().enumerate().skip(2) {
        if !seen.insert(l.as_str()) {
            return i + 1;
        }
    }
    panic!("no duplicate line")
}

#[test]
fn fluxiae_missing_fin_is_refused() {
    let (_keep, dir) = sources(OutputFormat::FluxIae);
    let (path, mut lines) = common::fluxiae_plain(&dir, View::ContratMission);
    assert!(lines.last().unwrap().starts_with("FIN"));
    lines.pop();
    let last = lines.len() as u64;
    common::write_lines(&path, &lines);
    for (_, errors) in refused("fluxiae_missing_fin", &dir, &[], 20) {
        assert_error(
            &errors,
            file_name(&path),
            Some(last),
            None,
            "without the closing FIN line",
        );
    }
}

#[test]
fn fluxiae_truncated_files_are_refused() {
    let (_keep, dir) = sources(OutputFormat::FluxIae);
    let (path, lines) = common::fluxiae_plain(&dir, View::EtatMensuelIndiv);
    let cut = lines.len() / 2;
    let mut text = lines[..cut].join("\n");
    text.push('\n');
    text.push_str(&lines[cut][..lines[cut].len() / 2]);
    std::fs::write(&path, text).unwrap();
    for (_, errors) in refused("fluxiae_truncated", &dir, &[], 20) {
        assert_error(
            &errors,
            file_name(&path),
            Some(cut as u64 + 1),
            None,
            "truncated file",
        );
    }
    let (_keep, dir) = sources(OutputFormat::FluxIae);
    let gz = common::fluxiae_file(&dir, View::Salarie);
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    for (_, errors) in refused("fluxiae_truncated_gz", &dir, &[], 20) {
        assert!(
            errors.iter().any(|e| e.file == gz
                && e.line.is_some()
                && e.rule.contains("truncated or corrupt")),
            "{errors:?}"
        );
    }
}

#[test]
fn fluxiae_bad_date_is_refused() {
    let (_keep, dir) = sources(OutputFormat::FluxIae);
    let (path, mut lines) = common::fluxiae_plain(&dir, View::ContratMission);
    common::set_flux_field(&mut lines, 4, "contrat_date_embauche", "31/02/2024");
    common::write_lines(&path, &lines);
    for (_, errors) in refused("fluxiae_bad_date", &dir, &[], 20) {
        assert_error(
            &errors,
            file_name(&path),
            Some(4),
            Some("contrat_date_embauche"),
            "not a valid dd/mm/yyyy calendar date",
        );
        let e = errors.iter().find(|e| e.line == Some(4)).unwrap();
        assert_eq!(e.value.as_deref(), Some("31/02/2024"));
    }
}

/// Errors found by validation (codes, references, formats) name the physical line and the
/// view's column, past duplicate lines the reader dropped.
#[test]
fn fluxiae_unknown_code_and_dangling_reference_are_refused() {
    let (_keep, dir) = sources(OutputFormat::FluxIae);
    let (path, mut lines) = common::fluxiae_plain(&dir, View::EtatMensuelIndiv);
    let dup = first_duplicate(&lines);
    let (bad_code, bad_ref) = (dup + 1, dup + 2);
    assert!(
        bad_ref < lines.len(),
        "the duplicate is too close to the end"
    );
    common::set_flux_field(&mut lines, bad_code, "emi_esm_etat_code", "ZZ");
    common::set_flux_field(&mut lines, bad_ref, "emi_afi_id", "987654321");
    common::write_lines(&path, &lines);
    let (salaries, mut lines) = common::fluxiae_plain(&dir, View::Salarie);
    common::set_flux_field(&mut lines, 3, "hash_nir", &"0".repeat(64));
    common::write_lines(&salaries, &lines);
    let name = file_name(&path);
    for (_, errors) in refused("fluxiae_codes", &dir, &[], 20) {
        assert_error(
            &errors,
            name,
            Some(bad_code as u64),
            Some("emi_esm_etat_code"),
            "unknown code",
        );
        assert_error(
            &errors,
            name,
            Some(bad_ref as u64),
            Some("emi_afi_id"),
            "dangling reference",
        );
        assert_error(
            &errors,
            file_name(&salaries),
            Some(3),
            Some("hash_nir"),
            "placeholder hash",
        );
        let e = errors
            .iter()
            .find(|e| e.column.as_deref() == Some("emi_esm_etat_code"))
            .unwrap();
        assert_eq!(e.value.as_deref(), Some("ZZ"));
        assert!(
            e.rule.contains("canonical column etats_mensuels.state"),
            "{e}"
        );
    }
}

/// A primary key repeated on two different lines of a view is refused, both lines named by
/// their physical line numbers although duplicate lines were dropped before them.
#[test]
fn fluxiae_duplicate_keys_name_physical_lines() {
    let (_keep, dir) = sources(OutputFormat::FluxIae);
    let (path, mut lines) = common::fluxiae_plain(&dir, View::ContratMission);
    // Line 4 repeats line 3 (dropped by the reader); the FIN count includes it.
    lines.insert(3, lines[2].clone());
    let fin = lines.pop().unwrap();
    let count: u64 = fin
        .trim_start_matches("FIN")
        .trim_end_matches('|')
        .parse()
        .unwrap();
    lines.push(fin.replacen(&count.to_string(), &(count + 1).to_string(), 1));
    let (first, second) = (6, 8);
    assert!(second < lines.len(), "too few contracts");
    let index = lines[1]
        .split('|')
        .position(|h| h == "contrat_id_ctr")
        .unwrap();
    let id = lines[first - 1].split('|').nth(index).unwrap().to_owned();
    common::set_flux_field(&mut lines, second, "contrat_id_ctr", &id);
    common::write_lines(&path, &lines);
    let name = file_name(&path);
    for (_, errors) in refused("fluxiae_duplicate_keys", &dir, &[], 20) {
        assert_error(
            &errors,
            name,
            Some(second as u64),
            Some("contrat_id_ctr"),
            &format!("duplicate primary key: already on line {first}"),
        );
    }
}

/// A new extraction replaces the previous one of the same vintage, and sits beside others.
#[test]
fn vintages_replace_and_accumulate() {
    let (_keep, dir) = sources(OutputFormat::Parquet);
    for db in databases("vintages") {
        run(&db, &[&dir], "2024-12-31", 20).unwrap();
        let mut store = db.open();
        let first = fingerprint(&mut store);
        drop(store);
        let file_before = pg_file_of(&db, "candidatures");
        run(&db, &[&dir], "2024-12-31", 20).unwrap();
        // PostgreSQL: a table holding only the vintage replaced is emptied by TRUNCATE (a new
        // file) and written frozen.
        if db.backend == "postgres" {
            assert_ne!(pg_file_of(&db, "candidatures"), file_before);
        }
        let mut store = db.open();
        let second = fingerprint(&mut store);
        // Same source tables, one more run recorded.
        assert_eq!(
            first[..SourceTable::ALL.len()],
            second[..SourceTable::ALL.len()],
            "{}",
            db.backend
        );
        drop(store);
        run(&db, &[&dir.join("structures.parquet")], "2025-01-31", 20).unwrap();
        // Replacing one of two vintages deletes its rows in place: the other one stays.
        let file_before = pg_file_of(&db, "structures");
        run(&db, &[&dir.join("structures.parquet")], "2025-01-31", 20).unwrap();
        if db.backend == "postgres" {
            assert_eq!(pg_file_of(&db, "structures"), file_before);
        }
        let mut store = db.open();
        let vintages = store.vintages(SourceTable::Structures).unwrap();
        assert_eq!(
            vintages
                .iter()
                .map(|v| v.vintage.to_string())
                .collect::<Vec<_>>(),
            ["2024-12-31", "2025-01-31"]
        );
        assert_eq!(
            store.latest_vintage(SourceTable::Candidatures).unwrap(),
            Some(vintage("2024-12-31"))
        );
        assert_eq!(store.runs().unwrap().len(), 4);
    }
}

/// The file PostgreSQL stores `table` in (`None` on SQLite): a `TRUNCATE` gives a new one.
fn pg_file_of(db: &TestDb, table: &str) -> Option<i64> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct File {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        file: i64,
    }
    if db.backend != "postgres" {
        return None;
    }
    let mut c = diesel::PgConnection::establish(&db.url).expect("PostgreSQL");
    let file = diesel::sql_query(format!(
        "SELECT CAST(pg_relation_filenode('{table}') AS BIGINT) AS file"
    ))
    .get_result::<File>(&mut c)
    .expect("file of the table")
    .file;
    Some(file)
}

/// Prepares a store holding one good extraction, runs `bad` sources into it, and checks that
/// the run is refused and the store unchanged. Returns the errors.
fn refused(
    test: &str,
    dir: &Path,
    inputs: &[PathBuf],
    max_errors: usize,
) -> Vec<(String, Vec<RowError>)> {
    let (_keep, good) = sources(OutputFormat::Parquet);
    let mut out = Vec::new();
    for db in databases(test) {
        run(&db, &[&good], "2024-12-31", 20).unwrap();
        let mut store = db.open();
        let before = fingerprint(&mut store);
        drop(store);
        let inputs: Vec<&Path> = if inputs.is_empty() {
            vec![dir]
        } else {
            inputs.iter().map(PathBuf::as_path).collect()
        };
        let errors = errors_of(run(&db, &inputs, "2024-12-31", max_errors));
        let mut store = db.open();
        assert_eq!(
            fingerprint(&mut store),
            before,
            "{}: the store changed",
            db.backend
        );
        out.push((db.backend.to_owned(), errors));
    }
    out
}

fn assert_error(
    errors: &[RowError],
    file: &str,
    line: Option<u64>,
    column: Option<&str>,
    rule: &str,
) {
    assert!(
        errors.iter().any(|e| e.file.ends_with(file)
            && e.line == line
            && e.column.as_deref() == column
            && e.rule.contains(rule)),
        "no error {file}:{line:?} {column:?} `{rule}` in:\n{}",
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn wrong_type_is_refused() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    common::set_csv_field(&dir.join("structures.csv"), 3, "id", "twelve");
    for (_, errors) in refused("wrong_type", &dir, &[], 20) {
        assert_error(
            &errors,
            "structures.csv",
            Some(3),
            Some("id"),
            "not an integer",
        );
        assert_eq!(errors[0].value.as_deref(), Some("twelve"));
    }
}

#[test]
fn unknown_code_is_refused() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    common::set_csv_field(&dir.join("structures.csv"), 2, "kind", "SIAE");
    for (_, errors) in refused("unknown_code", &dir, &[], 20) {
        assert_error(
            &errors,
            "structures.csv",
            Some(2),
            Some("kind"),
            "unknown code",
        );
    }
}

#[test]
fn unknown_territory_is_refused() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    common::set_csv_field(&dir.join("structures.csv"), 2, "departement", "99");
    for (_, errors) in refused("unknown_territory", &dir, &[], 20) {
        assert_error(
            &errors,
            "structures.csv",
            Some(2),
            Some("departement"),
            "unknown département code",
        );
    }
}

#[test]
fn missing_required_column_is_refused() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    let path = dir.join("structures.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let keep: Vec<usize> = (0..headers.len())
        .filter(|&i| &headers[i] != "siret")
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(keep.iter().map(|&i| &headers[i]))
        .unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        writer
            .write_record(keep.iter().map(|&i| &record[i]))
            .unwrap();
    }
    std::fs::write(&path, writer.into_inner().unwrap()).unwrap();
    for (_, errors) in refused("missing_column", &dir, &[], 20) {
        assert_error(
            &errors,
            "structures.csv",
            Some(1),
            Some("siret"),
            "required column missing",
        );
    }
}

#[test]
fn extra_columns_warn_and_are_ignored_with_semicolons() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    let path = dir.join("motifs_sortie.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    let mut header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    header.push("commentaire".to_owned());
    writer.write_record(&header).unwrap();
    for record in reader.records() {
        let mut fields: Vec<String> = record.unwrap().iter().map(str::to_owned).collect();
        fields.push("à ignorer".to_owned());
        writer.write_record(&fields).unwrap();
    }
    std::fs::write(&path, writer.into_inner().unwrap()).unwrap();
    for db in databases("extra_columns") {
        let report = run(&db, &[&dir], "2024-12-31", 20).unwrap();
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("`commentaire`") && w.contains("ignored")),
            "{:?}",
            report.warnings
        );
        let mut store = db.open();
        let expected = &common::expected_tables()
            .iter()
            .find(|(t, _)| *t == SourceTable::MotifsSortie)
            .unwrap()
            .1;
        let got = read_back(&mut store, SourceTable::MotifsSortie, vintage("2024-12-31"));
        assert_eq!(got.columns(), expected.columns());
    }
}

#[test]
fn truncated_files_are_refused() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    let path = dir.join("candidatures.csv");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    for (_, errors) in refused("truncated_csv", &dir, &[], 20) {
        assert!(
            errors
                .iter()
                .any(|e| e.file.ends_with("candidatures.csv") && (e.rule.contains("truncated"))),
            "{errors:?}"
        );
    }
    let (_keep, dir) = sources(OutputFormat::Parquet);
    let path = dir.join("contrats.parquet");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    for (_, errors) in refused("truncated_parquet", &dir, &[], 20) {
        assert_error(
            &errors,
            "contrats.parquet",
            None,
            None,
            "not a readable Parquet file",
        );
    }
}

#[test]
fn invalid_and_placeholder_hashes_are_refused() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    let path = dir.join("candidats.csv");
    common::set_csv_field(&path, 2, "hash_nir", "1234");
    common::set_csv_field(&path, 3, "hash_nir", &"0".repeat(64));
    for (_, errors) in refused("hashes", &dir, &[], 20) {
        assert_error(
            &errors,
            "candidats.csv",
            Some(2),
            Some("hash_nir"),
            "invalid format",
        );
        assert_error(
            &errors,
            "candidats.csv",
            Some(3),
            Some("hash_nir"),
            "placeholder hash",
        );
    }
}

#[test]
fn dangling_references_are_refused() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    common::set_csv_field(&dir.join("etats_mensuels.csv"), 2, "af_id", "987654321987");
    common::set_csv_field(
        &dir.join("candidatures.csv"),
        4,
        "structure_id",
        "987654321987",
    );
    for (_, errors) in refused("dangling", &dir, &[], 20) {
        assert_error(
            &errors,
            "etats_mensuels.csv",
            Some(2),
            Some("af_id"),
            "dangling reference: no annexes_financieres.id",
        );
        assert_error(
            &errors,
            "candidatures.csv",
            Some(4),
            Some("structure_id"),
            "dangling reference",
        );
    }
}

#[test]
fn references_to_tables_outside_the_run_use_the_stored_vintage() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    for db in databases("stored_refs") {
        run(&db, &[&dir], "2024-12-31", 20).unwrap();
        // The same applications alone resolve against the stored structures of their vintage…
        run(&db, &[&dir.join("candidatures.csv")], "2024-12-31", 20).unwrap();
        // …but not under a vintage that holds no structures.
        let errors = errors_of(run(&db, &[&dir.join("candidatures.csv")], "2023-12-31", 5));
        assert!(
            errors.iter().all(|e| e.rule.contains("dangling reference")),
            "{errors:?}"
        );
    }
}

#[test]
fn dates_out_of_range_are_refused() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    common::set_csv_field(&dir.join("structures.csv"), 2, "created_at", "1899-05-01");
    common::set_csv_field(&dir.join("structures.csv"), 3, "created_at", "2024-02-30");
    for (_, errors) in refused("dates", &dir, &[], 20) {
        assert_error(
            &errors,
            "structures.csv",
            Some(2),
            Some("created_at"),
            "date out of range",
        );
        assert_error(
            &errors,
            "structures.csv",
            Some(3),
            Some("created_at"),
            "not a calendar date",
        );
    }
}

#[test]
fn max_errors_lists_that_many_then_refuses() {
    let (_keep, dir) = sources(OutputFormat::Csv);
    let path = dir.join("structures.csv");
    for line in 2..=7 {
        common::set_csv_field(&path, line, "kind", "NOPE");
    }
    for (_, errors) in refused("max_errors", &dir, &[], 4) {
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert_eq!(
            errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            [Some(2), Some(3), Some(4), Some(5)]
        );
    }
    for (_, errors) in refused("max_errors_all", &dir, &[], 100) {
        assert_eq!(
            errors
                .iter()
                .filter(|e| e.column.as_deref() == Some("kind"))
                .count(),
            6
        );
    }
}

#[test]
fn unreachable_database_is_a_clear_error() {
    let (_keep, dir) = sources(OutputFormat::Parquet);
    let mut options = IngestOptions::new(
        vec![dir],
        "postgres://nobody@127.0.0.1:1/none?connect_timeout=2",
    );
    options.source_vintage = Some(vintage("2024-12-31"));
    let error = ingest(&options, &mut |_| {}).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("cannot open the store at postgres://nobody@127.0.0.1:1/none"),
        "{message}"
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut options = IngestOptions::new(
        vec![file.path().to_owned()],
        "/proc/no/such/dir/store.sqlite",
    );
    options.source_vintage = Some(vintage("2024-12-31"));
    assert!(ingest(&options, &mut |_| {}).is_err());
}

#[test]
fn error_messages_name_file_line_column_value_and_rule() {
    let error = RowError {
        file: PathBuf::from("sources/structures.csv"),
        line: Some(12),
        column: Some("kind".to_owned()),
        value: Some("SIAE".to_owned()),
        rule: "unknown code: not one of the StructureKind codes".to_owned(),
    };
    assert_eq!(
        error.to_string(),
        "sources/structures.csv:12: column `kind`, value \"SIAE\": unknown code: not one of the StructureKind codes"
    );
    let refused = IngestError::Invalid {
        errors: vec![error],
        more: false,
    };
    assert!(refused.to_string().starts_with(
        "refused: 1 error in the sources; the store is unchanged\n  sources/structures.csv:12"
    ));
}
