//! The fluxIAE reader and writer: golden files, round trips and every kind of bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray,
};
use arrow_select::concat::concat_batches;
use pilotage_core::fluxiae::{
    self, ErrorKind, ExtractionStamp, FluxIaeError, FluxIaeTable, View, WriteOptions,
};
use pilotage_core::source::SourceTable;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/golden/fluxiae")
}

fn golden(view: View) -> PathBuf {
    golden_dir().join(format!("fluxIAE_{}_14092025_063002.csv", view.name()))
}

fn golden_text(view: View) -> String {
    std::fs::read_to_string(golden(view)).expect("golden file")
}

fn read(view: View) -> FluxIaeTable {
    fluxiae::read_view(golden(view), None).unwrap_or_else(|e| panic!("{e}"))
}

/// All batches of a table as one.
fn one_batch(table: &FluxIaeTable) -> RecordBatch {
    concat_batches(&table.table.schema(), &table.batches).expect("concat")
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let array = batch
        .column_by_name(column)
        .expect(column)
        .as_string::<i32>();
    array.iter().map(|v| v.map(str::to_owned)).collect()
}

fn i64s(batch: &RecordBatch, column: &str) -> Vec<Option<i64>> {
    batch
        .column_by_name(column)
        .expect(column)
        .as_primitive::<Int64Type>()
        .iter()
        .collect()
}

fn i32s(batch: &RecordBatch, column: &str) -> Vec<Option<i32>> {
    batch
        .column_by_name(column)
        .expect(column)
        .as_primitive::<Int32Type>()
        .iter()
        .collect()
}

fn f64s(batch: &RecordBatch, column: &str) -> Vec<Option<f64>> {
    batch
        .column_by_name(column)
        .expect(column)
        .as_primitive::<Float64Type>()
        .iter()
        .collect()
}

fn bools(batch: &RecordBatch, column: &str) -> Vec<Option<bool>> {
    batch
        .column_by_name(column)
        .expect(column)
        .as_boolean()
        .iter()
        .collect()
}

/// Dates as dd/mm/yyyy text, to compare with the golden files by eye.
fn dates(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let array = batch
        .column_by_name(column)
        .expect(column)
        .as_primitive::<Date32Type>();
    array
        .iter()
        .map(|d| {
            d.map(|d| {
                let date = arrow_array::temporal_conversions::date32_to_datetime(d).expect("date");
                date.format("%d/%m/%Y").to_string()
            })
        })
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

// --- Golden files ------------------------------------------------------------------------------

#[test]
fn golden_annexe_financiere() {
    let table = read(View::AnnexeFinanciere);
    assert_eq!(table.table, SourceTable::AnnexesFinancieres);
    let b = one_batch(&table);
    assert_eq!(b.schema(), SourceTable::AnnexesFinancieres.schema());
    assert_eq!(i64s(&b, "id"), [Some(4501), Some(4502), Some(4503)]);
    assert_eq!(strings(&b, "number")[2], s("ETTI971240007A0M0"));
    assert_eq!(
        i64s(&b, "structure_asp_id"),
        [Some(1201), Some(1202), Some(1203)]
    );
    assert_eq!(
        strings(&b, "measure"),
        [s("ACI_DC"), s("EI_DC"), s("ETTI_DC")]
    );
    assert_eq!(
        strings(&b, "state"),
        [s("VALIDE"), s("PROVISOIRE"), s("CLOTURE")]
    );
    assert_eq!(
        dates(&b, "start_date"),
        [s("01/01/2025"), s("01/01/2025"), s("01/07/2024")]
    );
    assert_eq!(
        dates(&b, "end_date"),
        [s("31/12/2025"), s("30/06/2025"), s("31/12/2024")]
    );
    assert_eq!(i32s(&b, "year"), [Some(2025), Some(2025), Some(2024)]);
    assert_eq!(strings(&b, "departement"), [s("75"), s("2A"), s("971")]);
    assert_eq!(
        f64s(&b, "etp_conventionnes_mensuels"),
        [Some(12.5), Some(4.0), Some(2.25)]
    );
    assert_eq!(
        f64s(&b, "montant_cofinance_departement"),
        [Some(45_000.0), None, Some(0.0)]
    );
    assert_eq!(
        f64s(&b, "heures_annuelles_etp"),
        [Some(1607.0), Some(1607.0), None]
    );
    // Lines 4 and 5 carry the same canonical values (they differ in an ignored column).
    assert_eq!(table.summary.data_lines, 4);
    assert_eq!(table.duplicates_dropped(), 1);
    assert_eq!(table.summary.fin_count, Some(4));
    assert_eq!(
        table.summary.extracted_at,
        Some(ExtractionStamp {
            year: 2025,
            month: 9,
            day: 14,
            hour: 6,
            minute: 30,
            second: 2
        })
    );
    let warnings: Vec<String> = table.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "fluxIAE_AnnexeFinanciere_14092025_063002.csv:2: 2 unknown column(s) ignored: \
             af_numero_avenant_renouvellement, af_date_etat_valide"
                .to_owned()
        ]
    );
}

#[test]
fn golden_salarie_without_deb_line_and_with_crlf() {
    let table = read(View::Salarie);
    let b = one_batch(&table);
    assert_eq!(b.schema(), SourceTable::Salaries.schema());
    assert_eq!(
        i64s(&b, "id"),
        [Some(900_001), Some(900_002), Some(900_003)]
    );
    assert_eq!(
        strings(&b, "hash_nir")[0],
        s("2442ffeede6ab0781f47fb14845f2683237ccb5e6cd26af1d2be97f972d24b9e")
    );
    assert_eq!(strings(&b, "sex"), [s("MME"), s("M."), s("M.")]);
    assert_eq!(i32s(&b, "birth_year"), [Some(1987), Some(1969), Some(2001)]);
    assert_eq!(strings(&b, "commune"), [s("75056"), s("2A004"), None]);
    assert_eq!(strings(&b, "departement"), [s("75"), s("2A"), None]);
    assert_eq!(table.summary.extracted_at, None);
    assert_eq!(table.warnings().len(), 1);
    assert!(
        table.warnings()[0].message.contains("no DEB line"),
        "{:?}",
        table.warnings()
    );
}

#[test]
fn golden_contrat_mission() {
    let table = read(View::ContratMission);
    let b = one_batch(&table);
    assert_eq!(b.schema(), SourceTable::Contrats.schema());
    assert_eq!(i64s(&b, "id"), [Some(70_001), Some(70_002), Some(70_003)]);
    assert_eq!(
        i64s(&b, "salarie_id"),
        [Some(900_001), Some(900_002), Some(900_002)]
    );
    assert_eq!(i64s(&b, "parent_contrat_id"), [None, None, Some(70_002)]);
    assert_eq!(
        dates(&b, "start_date"),
        [s("03/02/2025"), s("01/10/2024"), s("01/04/2025")]
    );
    assert_eq!(dates(&b, "exit_date"), [None, s("31/03/2025"), None]);
    assert_eq!(strings(&b, "exit_motive"), [None, s("CDI"), None]);
    assert_eq!(strings(&b, "rsa"), [s("OUI-M"), s("NON"), s("NON")]);
    assert_eq!(bools(&b, "ass"), [Some(false), Some(true), Some(true)]);
    assert_eq!(bools(&b, "rqth"), [Some(true), Some(false), Some(false)]);
    assert_eq!(bools(&b, "zrr"), [Some(false), Some(false), Some(true)]);
    assert_eq!(strings(&b, "education_level"), [s("50"), s("40"), None]);
    assert_eq!(
        strings(&b, "unemployment_duration"),
        [s("MORE_THAN_24_MONTHS"), None, s("FROM_12_TO_23_MONTHS")]
    );
    assert!(table.warnings().is_empty(), "{:?}", table.warnings());
}

#[test]
fn golden_etat_mensuel_indiv() {
    let table = read(View::EtatMensuelIndiv);
    let b = one_batch(&table);
    assert_eq!(b.schema(), SourceTable::EtatsMensuels.schema());
    // fluxIAE has no row identifier: rows are numbered in file order, duplicates dropped.
    assert_eq!(i64s(&b, "id"), [Some(1), Some(2), Some(3)]);
    assert_eq!(i64s(&b, "af_id"), [Some(4501), Some(4501), Some(4502)]);
    assert_eq!(i32s(&b, "month"), [Some(2), Some(3), Some(1)]);
    assert_eq!(i32s(&b, "year"), [Some(2025); 3]);
    assert_eq!(
        f64s(&b, "hours_worked"),
        [Some(86.5), Some(120.0), Some(151.67)]
    );
    assert_eq!(
        strings(&b, "state"),
        [s("VALIDE"), s("VALIDE"), s("DEBLOQUE")]
    );
    assert_eq!(table.duplicates_dropped(), 1);
    assert_eq!(table.summary.rows, 3);
}

#[test]
fn golden_structure_columns_read_by_name_not_position() {
    let table = read(View::Structure);
    let b = one_batch(&table);
    assert_eq!(b.schema(), SourceTable::Structures.schema());
    assert_eq!(i64s(&b, "id"), [Some(31), Some(32)]);
    assert_eq!(i64s(&b, "asp_id"), [Some(1201), Some(1202)]);
    assert_eq!(
        strings(&b, "siret"),
        [s("12345678900011"), s("98765432100017")]
    );
    assert_eq!(strings(&b, "kind"), [s("ACI"), s("EI")]);
    assert_eq!(i64s(&b, "parent_id"), [None, None]);
    assert_eq!(
        strings(&b, "name"),
        [s("Atelier du Canal"), s("Insertion Corse Sud")]
    );
    assert_eq!(strings(&b, "region"), [s("11"), s("94")]);
    assert_eq!(dates(&b, "created_at"), [s("15/09/2021"), s("02/03/2022")]);
    assert_eq!(
        table.warnings().len(),
        1,
        "structure_siret_signature is not kept"
    );
}

#[test]
fn golden_ref_motif_sort() {
    let table = read(View::RefMotifSort);
    let b = one_batch(&table);
    assert_eq!(b.schema(), SourceTable::MotifsSortie.schema());
    assert_eq!(
        strings(&b, "code"),
        [s("CDI"), s("CDD_MOINS_6_MOIS"), s("FORMATION_QUALIFIANTE")]
    );
    assert_eq!(
        strings(&b, "label")[2],
        s("Entrée en formation qualifiante ou pré-qualifiante")
    );
    assert_eq!(
        strings(&b, "category"),
        [
            s("EMPLOI_DURABLE"),
            s("EMPLOI_TRANSITION"),
            s("SORTIE_POSITIVE")
        ]
    );
}

// --- Round trips -------------------------------------------------------------------------------

fn write_to_vec(view: View, batches: &[RecordBatch], options: &WriteOptions) -> Vec<u8> {
    let mut out = Vec::new();
    fluxiae::write_view(view, batches, &mut out, options).unwrap_or_else(|e| panic!("{e}"));
    out
}

fn read_bytes(view: View, bytes: &[u8]) -> FluxIaeTable {
    fluxiae::read_view_from(bytes, view, "memory.csv").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_golden_view_round_trips_and_writes_deterministic_bytes() {
    for &view in View::ALL {
        let first = read(view);
        let options = WriteOptions::default();
        let bytes = write_to_vec(view, &first.batches, &options);
        assert_eq!(
            bytes,
            write_to_vec(view, &first.batches, &options),
            "{view}: same bytes"
        );
        let again = read_bytes(view, &bytes);
        assert_eq!(one_batch(&again), one_batch(&first), "{view}");
        assert_eq!(again.duplicates_dropped(), 0);
        assert!(
            again.warnings().is_empty(),
            "{view}: {:?}",
            again.warnings()
        );
    }
}

#[test]
fn writer_output_is_the_documented_text() {
    let table = read(View::RefMotifSort);
    let options = WriteOptions {
        extracted_at: ExtractionStamp {
            year: 2025,
            month: 9,
            day: 14,
            hour: 6,
            minute: 30,
            second: 2,
        },
        ..WriteOptions::default()
    };
    let text = String::from_utf8(write_to_vec(View::RefMotifSort, &table.batches, &options))
        .expect("utf-8");
    assert_eq!(
        text,
        "DEBRefMotifSort14092025_063002\n\
         rms_code|rms_libelle|rcs_code\n\
         CDI|Embauche en CDI|EMPLOI_DURABLE\n\
         CDD_MOINS_6_MOIS|Embauche en CDD de moins de 6 mois|EMPLOI_TRANSITION\n\
         FORMATION_QUALIFIANTE|Entrée en formation qualifiante ou pré-qualifiante|SORTIE_POSITIVE\n\
         FIN3||\n"
    );
}

/// A hand-made contracts batch with edge values: nulls, far dates, awkward floats.
fn contracts_batch(rows: usize) -> RecordBatch {
    let schema = SourceTable::Contrats.schema();
    let n = rows as i64;
    let ids = Int64Array::from_iter_values(1..=n);
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| -> ArrayRef {
            match field.name().as_str() {
                "id" => Arc::new(ids.clone()),
                "salarie_id" => Arc::new(Int64Array::from_iter_values(
                    (0..n).map(|i| 1_000_000_000_000 + i),
                )),
                "structure_asp_id" => Arc::new(Int64Array::from_iter_values((0..n).map(|i| i % 7))),
                "parent_contrat_id" => Arc::new(Int64Array::from_iter(
                    (1..=n).map(|i| (i % 3 == 0).then_some(i - 1)),
                )),
                "start_date" => Arc::new(Date32Array::from_iter_values(
                    (0..n).map(|i| (i as i32 * 37) % 60_000 - 25_000),
                )),
                "end_date" | "exit_date" => Arc::new(Date32Array::from_iter(
                    (0..n).map(|i| (i % 2 == 0).then_some(20_000 + (i % 50_000) as i32)),
                )),
                "measure" => Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| ["ACI_DC", "EI_MP", "FDI_DC"][i as usize % 3]),
                )),
                "exit_motive" | "education_level" | "unemployment_duration" => Arc::new(
                    StringArray::from_iter((0..n).map(|i| (i % 4 != 0).then(|| format!("C{i}")))),
                ),
                "rsa" => Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| ["NON", "OUI-M", "OUI-NM"][i as usize % 3]),
                )),
                _ => match field.data_type() {
                    arrow_schema::DataType::Boolean => {
                        Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 5 == 0))))
                    }
                    arrow_schema::DataType::Float64 => Arc::new(Float64Array::from_iter_values(
                        (0..n).map(|i| 0.1 * i as f64),
                    )),
                    arrow_schema::DataType::Int32 => {
                        Arc::new(Int32Array::from_iter_values((0..n).map(|i| i as i32)))
                    }
                    other => panic!("no generator for {other}"),
                },
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).expect("batch")
}

#[test]
fn hand_made_batches_round_trip_across_batch_boundaries() {
    let rows = fluxiae::BATCH_ROWS + 1_000;
    let batch = contracts_batch(rows);
    // Given in two uneven batches.
    let input = [batch.slice(0, 10), batch.slice(10, rows - 10)];
    let bytes = write_to_vec(View::ContratMission, &input, &WriteOptions::default());
    let table = read_bytes(View::ContratMission, &bytes);
    assert_eq!(table.batches.len(), 2, "batches of at most BATCH_ROWS rows");
    assert_eq!(table.batches[0].num_rows(), fluxiae::BATCH_ROWS);
    assert_eq!(one_batch(&table), batch);
}

#[test]
fn injected_duplicates_are_dropped_and_counted() {
    let batch = contracts_batch(100);
    let options = WriteOptions {
        duplicate_every: Some(7),
        ..WriteOptions::default()
    };
    let mut out = Vec::new();
    let written =
        fluxiae::write_view(View::ContratMission, [&batch], &mut out, &options).expect("write");
    assert_eq!(
        (written.rows, written.duplicates, written.data_lines),
        (100, 14, 114)
    );
    let table = read_bytes(View::ContratMission, &out);
    assert_eq!(table.duplicates_dropped(), 14);
    assert_eq!(table.summary.data_lines, 114);
    assert_eq!(one_batch(&table), batch);
}

#[test]
fn gzip_files_are_detected_by_content_and_deterministic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = read(View::AnnexeFinanciere);
    let options = WriteOptions {
        gzip: true,
        duplicate_every: Some(2),
        ..WriteOptions::default()
    };
    let (path, summary) =
        fluxiae::write_view_file(dir.path(), View::AnnexeFinanciere, &table.batches, &options)
            .expect("write");
    assert_eq!(
        path.file_name().and_then(|n| n.to_str()),
        Some("fluxIAE_AnnexeFinanciere_01012025_000000.csv.gz")
    );
    assert_eq!(summary.duplicates, 1);
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    let again = fluxiae::read_view(&path, None).expect("gz read");
    assert_eq!(one_batch(&again), one_batch(&table));
    assert_eq!(again.duplicates_dropped(), 1);
    // Same bytes a second time.
    std::fs::remove_file(&path).expect("rm");
    fluxiae::write_view_file(dir.path(), View::AnnexeFinanciere, &table.batches, &options)
        .expect("write");
    assert_eq!(std::fs::read(&path).expect("read"), bytes);
    // A gzip stream under a plain .csv name is still read.
    let renamed = dir
        .path()
        .join("fluxIAE_AnnexeFinanciere_01012025_000000.csv");
    std::fs::rename(&path, &renamed).expect("rename");
    assert_eq!(
        one_batch(&fluxiae::read_view(&renamed, None).expect("read")),
        one_batch(&table)
    );
}

#[test]
fn write_views_writes_every_view_named_by_the_extraction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tables: Vec<FluxIaeTable> = View::ALL.iter().map(|&v| read(v)).collect();
    let written = fluxiae::write_views(dir.path(), &WriteOptions::default(), &mut |table| {
        tables
            .iter()
            .find(|t| t.table == table)
            .map(|t| t.batches.clone())
            .unwrap_or_default()
    })
    .expect("write");
    assert_eq!(written.len(), 6);
    for (path, _) in &written {
        let table = fluxiae::read_view(path, None).expect("read");
        let original = tables.iter().find(|t| t.view == table.view).expect("view");
        assert_eq!(one_batch(&table), one_batch(original));
    }
}

// --- Bad input ---------------------------------------------------------------------------------

fn read_err(view: View, text: &str) -> FluxIaeError {
    match fluxiae::read_view_from(text.as_bytes(), view, "bad.csv") {
        Ok(table) => panic!("expected an error, read {} rows", table.num_rows()),
        Err(e) => e,
    }
}

#[test]
fn missing_fin_line_is_a_truncated_file() {
    let text = golden_text(View::AnnexeFinanciere);
    let cut = &text[..text.find("FIN4").expect("FIN")];
    let e = read_err(View::AnnexeFinanciere, cut);
    assert!(matches!(*e.kind, ErrorKind::MissingFin), "{e}");
    assert_eq!(e.line, Some(6), "{e}");
    assert!(
        e.to_string()
            .starts_with("bad.csv:6: end of file reached without the closing FIN line"),
        "{e}"
    );
}

#[test]
fn file_cut_mid_line_is_reported_on_that_line() {
    let text = golden_text(View::EtatMensuelIndiv);
    let cut = &text[..text.find("900002|4502").expect("line") + 8];
    let e = read_err(View::EtatMensuelIndiv, cut);
    assert!(matches!(*e.kind, ErrorKind::TruncatedLine), "{e}");
    assert_eq!(e.line, Some(6));
    assert_eq!(e.value.as_deref(), Some("900002|4"));
}

#[test]
fn impossible_date_names_line_column_and_value() {
    let text = golden_text(View::AnnexeFinanciere).replace("01/07/2024", "31/02/2024");
    let e = read_err(View::AnnexeFinanciere, &text);
    assert!(
        matches!(&*e.kind, ErrorKind::InvalidDate(c) if c == "start_date"),
        "{e}"
    );
    assert_eq!(e.line, Some(6));
    assert_eq!(e.column.as_deref(), Some("af_date_debut_effet"));
    assert_eq!(e.value.as_deref(), Some("31/02/2024"));
    assert_eq!(
        e.to_string(),
        "bad.csv:6: column `af_date_debut_effet`: value \"31/02/2024\": \
         not a valid dd/mm/yyyy calendar date (canonical `start_date`)"
    );
}

#[test]
fn wrong_field_count_on_a_line() {
    let text = golden_text(View::ContratMission).replace("|OUI-M|", "|OUI-M|extra|");
    let e = read_err(View::ContratMission, &text);
    assert!(
        matches!(
            *e.kind,
            ErrorKind::FieldCount {
                expected: 17,
                found: 18
            }
        ),
        "{e}"
    );
    assert_eq!(e.line, Some(3));
}

#[test]
fn missing_required_columns_are_all_named() {
    let text = golden_text(View::EtatMensuelIndiv)
        .replace("emi_sme_mois", "emi_mois")
        .replace("emi_esm_etat_code", "etat");
    let e = read_err(View::EtatMensuelIndiv, &text);
    match &*e.kind {
        ErrorKind::MissingColumns(columns) => {
            assert_eq!(columns, &["emi_sme_mois", "emi_esm_etat_code"])
        }
        other => panic!("{other}"),
    }
    assert_eq!(e.line, Some(2));
    assert!(
        e.to_string()
            .contains("missing required column(s): emi_sme_mois, emi_esm_etat_code"),
        "{e}"
    );
}

#[test]
fn extra_columns_are_ignored_with_a_warning() {
    let text = golden_text(View::RefMotifSort);
    let table = read_bytes(View::RefMotifSort, text.as_bytes());
    assert_eq!(table.num_rows(), 3);
    assert_eq!(table.warnings().len(), 1);
    assert_eq!(table.warnings()[0].line, Some(2));
    assert_eq!(
        table.warnings()[0].message,
        "2 unknown column(s) ignored: rms_id, rcs_id"
    );
}

#[test]
fn fin_count_must_match_the_data_lines() {
    let text = golden_text(View::RefMotifSort).replace("FIN3", "FIN4");
    let e = read_err(View::RefMotifSort, &text);
    assert!(
        matches!(
            *e.kind,
            ErrorKind::FinCountMismatch {
                declared: 4,
                found: 3
            }
        ),
        "{e}"
    );
    assert_eq!(e.line, Some(6));
}

#[test]
fn empty_required_value_and_bad_numbers() {
    let text = golden_text(View::EtatMensuelIndiv).replace("|86,5|", "||");
    let e = read_err(View::EtatMensuelIndiv, &text);
    assert!(
        matches!(&*e.kind, ErrorKind::Required(c) if c == "hours_worked"),
        "{e}"
    );
    assert_eq!(
        (e.line, e.column.as_deref()),
        (Some(3), Some("emi_nb_heures_travail"))
    );

    let text = golden_text(View::EtatMensuelIndiv).replace("|151.67|", "|151h|");
    let e = read_err(View::EtatMensuelIndiv, &text);
    assert!(matches!(*e.kind, ErrorKind::InvalidNumber(_)), "{e}");
    assert_eq!(e.value.as_deref(), Some("151h"));

    let text = golden_text(View::EtatMensuelIndiv).replace("900002|4502", "9000O2|4502");
    let e = read_err(View::EtatMensuelIndiv, &text);
    assert!(matches!(*e.kind, ErrorKind::InvalidInteger(_)), "{e}");
    assert_eq!((e.line, e.column.as_deref()), (Some(6), Some("emi_pph_id")));

    let text = golden_text(View::ContratMission).replace("|OUI-M|false|", "|OUI-M|peut-être|");
    let e = read_err(View::ContratMission, &text);
    assert!(matches!(*e.kind, ErrorKind::InvalidBoolean(_)), "{e}");
    assert_eq!(e.column.as_deref(), Some("contrat_salarie_ass"));
}

#[test]
fn deb_line_of_another_view_is_refused() {
    let text = golden_text(View::RefMotifSort);
    let e = read_err(View::AnnexeFinanciere, &text);
    match &*e.kind {
        ErrorKind::ViewMismatch { expected, found } => {
            assert_eq!(
                (expected.as_str(), found.as_str()),
                ("AnnexeFinanciere", "RefMotifSort")
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(e.line, Some(1));
}

#[test]
fn lines_after_fin_and_empty_files_are_refused() {
    let text = golden_text(View::RefMotifSort) + "4|CDI|x|1|EMPLOI_DURABLE\n";
    let e = read_err(View::RefMotifSort, &text);
    assert!(matches!(*e.kind, ErrorKind::DataAfterFin), "{e}");
    assert_eq!(e.line, Some(7));
    let e = read_err(View::RefMotifSort, "");
    assert!(matches!(*e.kind, ErrorKind::Empty), "{e}");
}

#[test]
fn truncated_gzip_stream_is_an_error() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(golden_text(View::AnnexeFinanciere).as_bytes())
        .expect("gz");
    let bytes = gz.finish().expect("gz");
    let cut = &bytes[..bytes.len() / 2];
    let e = match fluxiae::read_view_from(cut, View::AnnexeFinanciere, "cut.csv.gz") {
        Ok(_) => panic!("read a cut gzip stream"),
        Err(e) => e,
    };
    assert!(
        matches!(
            *e.kind,
            ErrorKind::Io(_) | ErrorKind::TruncatedLine | ErrorKind::MissingFin
        ),
        "{e}"
    );
    // And the whole stream reads like the plain file.
    let table =
        fluxiae::read_view_from(&bytes[..], View::AnnexeFinanciere, "ok.csv.gz").expect("gz");
    assert_eq!(one_batch(&table), one_batch(&read(View::AnnexeFinanciere)));
}

#[test]
fn view_is_detected_from_the_file_name() {
    assert_eq!(
        View::from_file_name("fluxIAE_EtatMensuelIndiv_14092025_063002.csv.gz"),
        Some(View::EtatMensuelIndiv)
    );
    assert_eq!(
        View::from_file_name("/data/in/fluxIAE_Salarie_01012025_000000.csv"),
        Some(View::Salarie)
    );
    assert_eq!(
        View::from_file_name("fluxIAE_RefCategorieJuridique_29032021_090124.csv"),
        None
    );
    assert_eq!(View::from_file_name("salaries.csv"), None);
    let e = fluxiae::read_view("/nonexistent/salaries.csv", None).expect_err("error");
    assert!(matches!(*e.kind, ErrorKind::UnknownView), "{e}");
}

#[test]
fn latin1_text_is_read_with_a_warning() {
    let text = golden_text(View::RefMotifSort);
    let latin1: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
        .collect();
    let table = read_bytes(View::RefMotifSort, &latin1);
    let b = one_batch(&table);
    assert_eq!(
        strings(&b, "label")[2],
        s("Entrée en formation qualifiante ou pré-qualifiante")
    );
    assert!(
        table
            .warnings()
            .iter()
            .any(|w| w.message.contains("Latin-1"))
    );
}

#[test]
fn writer_refuses_unrepresentable_values_and_wrong_schemas() {
    let schema = SourceTable::MotifsSortie.schema();
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["CDI"])),
            Arc::new(StringArray::from(vec!["Embauche | CDI"])),
            Arc::new(StringArray::from(vec!["EMPLOI_DURABLE"])),
        ],
    )
    .expect("batch");
    let e = fluxiae::write_view(
        View::RefMotifSort,
        [&batch],
        Vec::new(),
        &WriteOptions::default(),
    )
    .expect_err("error");
    assert!(matches!(*e.kind, ErrorKind::Unrepresentable), "{e}");
    assert_eq!(
        (e.line, e.column.as_deref()),
        (Some(3), Some("rms_libelle"))
    );

    let far = contracts_batch(1);
    let mut columns = far.columns().to_vec();
    let index = far.schema().index_of("start_date").expect("column");
    columns[index] = Arc::new(Date32Array::from(vec![days_of_year_2200()]));
    let far = RecordBatch::try_new(far.schema(), columns).expect("batch");
    let e = fluxiae::write_view(
        View::ContratMission,
        [&far],
        Vec::new(),
        &WriteOptions::default(),
    )
    .expect_err("error");
    assert!(matches!(*e.kind, ErrorKind::Unrepresentable), "{e}");
    assert_eq!(e.column.as_deref(), Some("contrat_date_embauche"));

    let wrong = RecordBatch::try_new(
        Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "code",
            arrow_schema::DataType::Int64,
            false,
        )])),
        vec![Arc::new(Int64Array::from(vec![1])) as ArrayRef],
    )
    .expect("batch");
    let e = fluxiae::write_view(
        View::RefMotifSort,
        [&wrong],
        Vec::new(),
        &WriteOptions::default(),
    )
    .expect_err("error");
    assert!(matches!(*e.kind, ErrorKind::SchemaMismatch { .. }), "{e}");
}

/// 1 January 2200 in days since 1970-01-01.
fn days_of_year_2200() -> i32 {
    (1970..2200)
        .map(|y: i32| {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                366
            } else {
                365
            }
        })
        .sum()
}

#[test]
fn mapping_names_only_canonical_columns_and_covers_required_ones() {
    for &view in View::ALL {
        let table = view.table();
        for (canonical, _) in fluxiae::mapping(view) {
            assert!(
                table.column(canonical).is_some(),
                "{view}: `{canonical}` is not a column of {table}"
            );
        }
        for column in table.columns() {
            let mapped = fluxiae::mapping(view)
                .iter()
                .any(|(c, _)| *c == column.name);
            assert!(
                mapped || column.nullable,
                "{view}: required `{}` is not mapped",
                column.name
            );
        }
        let layout = view.layout();
        assert_eq!(layout.sources.len(), table.columns().len());
        assert_eq!(View::of_table(table), Some(view));
    }
}

#[test]
fn arrays_are_checked_with_nulls_where_the_file_is_empty() {
    let b = one_batch(&read(View::AnnexeFinanciere));
    let cofinance = b
        .column_by_name("montant_cofinance_departement")
        .expect("column");
    assert_eq!(cofinance.null_count(), 1);
}

#[test]
fn generated_sources_round_trip_through_fluxiae() {
    use pilotage_core::synth::{GeneratorConfig, generate_batches};
    let config = GeneratorConfig {
        scale: 0.003,
        seed: 7,
        first_year: 2024,
        last_year: 2025,
        ..GeneratorConfig::default()
    };
    let mut generated: Vec<(SourceTable, Vec<RecordBatch>)> = Vec::new();
    generate_batches(&config, &mut |table, batch| {
        if View::of_table(table).is_some() {
            match generated.iter_mut().find(|(t, _)| *t == table) {
                Some((_, batches)) => batches.push(batch),
                None => generated.push((table, vec![batch])),
            }
        }
        Ok(())
    })
    .expect("generate");
    assert_eq!(generated.len(), 6);
    let dir = tempfile::tempdir().expect("tempdir");
    let options = WriteOptions {
        duplicate_every: Some(5),
        gzip: true,
        ..WriteOptions::default()
    };
    let written = fluxiae::write_views(dir.path(), &options, &mut |table| {
        generated
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    })
    .expect("write");
    for (path, summary) in written {
        let table = fluxiae::read_view(&path, None).unwrap_or_else(|e| panic!("{e}"));
        let (_, batches) = generated
            .iter()
            .find(|(t, _)| *t == table.table)
            .expect("table");
        let expected = concat_batches(&table.table.schema(), batches).expect("concat");
        assert!(
            expected.num_rows() > 0,
            "{}: no rows generated",
            table.table
        );
        assert_eq!(one_batch(&table), expected, "{}", table.table);
        assert_eq!(
            table.duplicates_dropped(),
            summary.duplicates,
            "{}",
            table.table
        );
        assert!(table.warnings().is_empty(), "{:?}", table.warnings());
    }
}
