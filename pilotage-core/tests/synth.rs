//! The synthetic generator: determinism, schema conformance, references, codes, territory,
//! plausibility of shares, the automatic-refusal rule, configuration errors and atomic output.
//!
//! Runs at tiny scales so the whole file takes seconds.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::OnceLock;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use pilotage_core::domain::{
    AfState, ApplicationState, AspMeasure, Code, CreationPath, EducationLevel, EmiState,
    ExitCategory, ExitMotive, Origine, PrescriberKind, ProlongationReason, RefusalReason,
    RsaStatus, Sex, StructureKind, SuspensionReason, UnemploymentDuration,
};
use pilotage_core::source::{Allowed, SourceTable};
use pilotage_core::synth::{
    GeneratorConfig, OutputFormat, ProgressEvent, SynthError, generate, generate_batches,
};
use pilotage_core::territory::Referential;

/// Every table of one in-memory run, concatenated per table.
struct Run {
    config: GeneratorConfig,
    tables: BTreeMap<SourceTable, Vec<RecordBatch>>,
}

fn run(config: GeneratorConfig) -> Run {
    let mut tables: BTreeMap<SourceTable, Vec<RecordBatch>> = BTreeMap::new();
    generate_batches(&config, &mut |table, batch| {
        tables.entry(table).or_default().push(batch);
        Ok(())
    })
    .expect("generation succeeds");
    Run { config, tables }
}

fn config(scale: f64, first_year: i32, last_year: i32) -> GeneratorConfig {
    GeneratorConfig {
        scale,
        seed: 42,
        first_year,
        last_year,
        format: OutputFormat::Parquet,
    }
}

/// A small country over 2021–2023 (includes the 2021-11-30 AI stock import).
fn small() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| run(config(0.01, 2021, 2023)))
}

impl Run {
    fn batches(&self, table: SourceTable) -> &[RecordBatch] {
        self.tables.get(&table).map(Vec::as_slice).unwrap_or(&[])
    }

    fn rows(&self, table: SourceTable) -> usize {
        self.batches(table).iter().map(RecordBatch::num_rows).sum()
    }

    /// Values of a column rendered as text (None for null), in row order.
    fn text(&self, table: SourceTable, column: &str) -> Vec<Option<String>> {
        let mut out = Vec::new();
        for batch in self.batches(table) {
            let array = batch
                .column_by_name(column)
                .unwrap_or_else(|| panic!("{table}.{column} exists"));
            for i in 0..array.len() {
                if array.is_null(i) {
                    out.push(None);
                    continue;
                }
                out.push(Some(match array.data_type() {
                    DataType::Utf8 => array.as_string::<i32>().value(i).to_owned(),
                    DataType::Int64 => array.as_primitive::<Int64Type>().value(i).to_string(),
                    DataType::Int32 => array.as_primitive::<Int32Type>().value(i).to_string(),
                    DataType::Date32 => array.as_primitive::<Date32Type>().value(i).to_string(),
                    DataType::Float64 => array.as_primitive::<Float64Type>().value(i).to_string(),
                    DataType::Boolean => array.as_boolean().value(i).to_string(),
                    other => panic!("unexpected type {other}"),
                }));
            }
        }
        out
    }

    fn strings(&self, table: SourceTable, column: &str) -> Vec<String> {
        self.text(table, column)
            .into_iter()
            .map(|v| v.unwrap_or_default())
            .collect()
    }

    fn opt_i64(&self, table: SourceTable, column: &str) -> Vec<Option<i64>> {
        let mut out = Vec::new();
        for batch in self.batches(table) {
            let a = batch
                .column_by_name(column)
                .expect("column")
                .as_primitive::<Int64Type>();
            out.extend(a.iter());
        }
        out
    }

    fn i64s(&self, table: SourceTable, column: &str) -> Vec<i64> {
        self.opt_i64(table, column)
            .into_iter()
            .map(|v| v.unwrap_or(-1))
            .collect()
    }

    fn dates(&self, table: SourceTable, column: &str) -> Vec<Option<i32>> {
        let mut out = Vec::new();
        for batch in self.batches(table) {
            let a = batch
                .column_by_name(column)
                .expect("column")
                .as_primitive::<Date32Type>();
            out.extend(a.iter());
        }
        out
    }

    fn f64s(&self, table: SourceTable, column: &str) -> Vec<f64> {
        let mut out = Vec::new();
        for batch in self.batches(table) {
            let a = batch
                .column_by_name(column)
                .expect("column")
                .as_primitive::<Float64Type>();
            out.extend(a.iter().map(|v| v.unwrap_or(f64::NAN)));
        }
        out
    }

    fn bools(&self, table: SourceTable, column: &str) -> Vec<bool> {
        let mut out = Vec::new();
        for batch in self.batches(table) {
            let a = batch.column_by_name(column).expect("column").as_boolean();
            out.extend(a.iter().map(|v| v.unwrap_or(false)));
        }
        out
    }

    fn end_day(&self) -> i32 {
        days(self.config.last_year, 12, 31)
    }
}

fn days(year: i32, month: u32, day: u32) -> i32 {
    // Days since 1970-01-01 (Howard Hinnant's algorithm), independent of the generator's own.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn share(count: usize, total: usize) -> f64 {
    count as f64 / total.max(1) as f64
}

fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("output folder")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("file"),
            )
        })
        .collect()
}

#[test]
fn same_seed_gives_identical_bytes_in_both_formats() {
    for format in [OutputFormat::Parquet, OutputFormat::Csv] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let cfg = GeneratorConfig {
            format,
            ..config(0.002, 2022, 2023)
        };
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        let summary = generate(&cfg, &a, &mut |_| {}).expect("first run");
        generate(&cfg, &b, &mut |_| {}).expect("second run");
        let (fa, fb) = (files_of(&a), files_of(&b));
        assert_eq!(fa.len(), SourceTable::ALL.len());
        assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
        for (name, bytes) in &fa {
            assert!(
                bytes == &fb[name],
                "{name} differs between two runs ({format})"
            );
        }
        for (t, table) in summary.tables.iter().zip(SourceTable::ALL) {
            assert_eq!(t.table, *table);
            assert_eq!(
                t.file_name,
                format!("{}.{}", table.name(), format.extension())
            );
            assert_eq!(t.bytes, fa[&t.file_name].len() as u64);
        }
        // Another seed gives other people.
        let c = tmp.path().join("c");
        generate(
            &GeneratorConfig {
                seed: 43,
                ..cfg.clone()
            },
            &c,
            &mut |_| {},
        )
        .expect("run");
        let name = format!("candidats.{}", format.extension());
        assert_ne!(fa[&name], files_of(&c)[&name]);
    }
}

#[test]
fn csv_output_has_a_header_and_one_line_per_row() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("csv");
    let cfg = GeneratorConfig {
        format: OutputFormat::Csv,
        ..config(0.002, 2023, 2023)
    };
    let summary = generate(&cfg, &out, &mut |_| {}).expect("run");
    for t in &summary.tables {
        let text = std::fs::read_to_string(out.join(&t.file_name)).expect("utf-8 csv");
        let mut lines = text.lines();
        let header = lines.next().expect("header line");
        let schema = t.table.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(header, names.join(","), "{}", t.file_name);
        assert_eq!(lines.count() as u64, t.rows, "{}", t.file_name);
    }
}

#[test]
fn every_batch_matches_its_schema() {
    let run = small();
    for table in SourceTable::ALL {
        let batches = run.batches(*table);
        assert!(!batches.is_empty(), "{table} announced");
        assert!(run.rows(*table) > 0, "{table} has rows");
        let schema = table.schema();
        for batch in batches {
            assert_eq!(batch.schema().fields(), schema.fields(), "{table}");
        }
    }
}

#[test]
fn columns_respect_their_specifications() {
    let run = small();
    let referential = Referential::official();
    for table in SourceTable::ALL {
        for spec in table.columns() {
            let values = run.text(*table, spec.name);
            if !spec.nullable {
                assert!(
                    values.iter().all(Option::is_some),
                    "{table}.{} has nulls",
                    spec.name
                );
            }
            for value in values.iter().flatten() {
                match spec.allowed {
                    Allowed::Codes(list) => {
                        let codes = list.codes();
                        if !codes.is_empty() {
                            assert!(
                                codes.contains(&value.as_str()),
                                "{table}.{}: {value}",
                                spec.name
                            );
                        }
                    }
                    Allowed::IntRange { min, max } => {
                        let v: i64 = value.parse().expect("integer");
                        assert!((min..=max).contains(&v), "{table}.{}: {v}", spec.name);
                    }
                    Allowed::FloatRange { min, max } => {
                        let v: f64 = value.parse().expect("float");
                        assert!(v >= min && v <= max, "{table}.{}: {v}", spec.name);
                    }
                    Allowed::Territory(_) => {
                        let known = referential.commune(value).is_some()
                            || referential.departement(value).is_some()
                            || referential.region(value).is_some();
                        assert!(known, "{table}.{}: unknown territory {value}", spec.name);
                    }
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn territory_codes_resolve_consistently() {
    let run = small();
    let referential = Referential::official();
    for table in [SourceTable::Structures, SourceTable::Organisations] {
        let communes = run.strings(table, "commune");
        let depts = run.strings(table, "departement");
        let regions = run.strings(table, "region");
        for ((c, d), r) in communes.iter().zip(&depts).zip(&regions) {
            let commune = referential
                .commune(c)
                .unwrap_or_else(|| panic!("{table}: commune {c}"));
            assert_eq!(&commune.departement, d, "{table}: commune {c}");
            assert_eq!(&commune.region, r, "{table}: commune {c}");
        }
    }
    for table in [SourceTable::Candidats, SourceTable::Salaries] {
        let communes = run.text(table, "commune");
        let depts = run.text(table, "departement");
        for (c, d) in communes.iter().zip(&depts) {
            if let (Some(c), Some(d)) = (c, d) {
                let commune = referential
                    .commune(c)
                    .unwrap_or_else(|| panic!("{table}: {c}"));
                assert_eq!(&commune.departement, d);
            }
        }
    }
    for d in run.strings(SourceTable::AnnexesFinancieres, "departement") {
        assert!(referential.departement(&d).is_some(), "AF département {d}");
    }
    // The AF's département is the structure's, or a neighbour of the same région.
    let asp: BTreeMap<i64, String> = run
        .opt_i64(SourceTable::Structures, "asp_id")
        .into_iter()
        .zip(run.strings(SourceTable::Structures, "departement"))
        .filter_map(|(a, d)| a.map(|a| (a, d)))
        .collect();
    let af_struct = run.i64s(SourceTable::AnnexesFinancieres, "structure_asp_id");
    let af_dept = run.strings(SourceTable::AnnexesFinancieres, "departement");
    let mut same = 0;
    for (s, d) in af_struct.iter().zip(&af_dept) {
        let home = &asp[s];
        let region = |code: &str| referential.departement(code).map(|x| x.region.clone());
        assert_eq!(
            region(home),
            region(d),
            "AF département {d} outside the région of {home}"
        );
        same += usize::from(home == d);
    }
    assert!(share(same, af_dept.len()) > 0.85);
}

#[test]
fn every_foreign_key_resolves() {
    let run = small();
    for table in SourceTable::ALL {
        for fk in table.foreign_keys() {
            let targets: HashSet<String> = run
                .text(fk.table, fk.target_column)
                .into_iter()
                .flatten()
                .collect();
            for value in run.text(*table, fk.column).into_iter().flatten() {
                assert!(
                    targets.contains(&value),
                    "{table}.{} = {value} not found in {}.{}",
                    fk.column,
                    fk.table,
                    fk.target_column
                );
            }
        }
    }
}

#[test]
fn links_between_sources_hold() {
    let run = small();
    let structures: HashSet<i64> = run
        .i64s(SourceTable::Structures, "id")
        .into_iter()
        .collect();
    let candidats: HashSet<String> = run
        .strings(SourceTable::Candidats, "hash_nir")
        .into_iter()
        .collect();
    let applications: HashSet<String> = run
        .strings(SourceTable::Candidatures, "id")
        .into_iter()
        .collect();
    assert_eq!(
        applications.len(),
        run.rows(SourceTable::Candidatures),
        "unique ids"
    );
    assert_eq!(
        candidats.len(),
        run.rows(SourceTable::Candidats),
        "one row per person"
    );
    for s in run.i64s(SourceTable::Candidatures, "structure_id") {
        assert!(structures.contains(&s));
    }
    // A candidat registered before (or on the day of) each of their applications.
    let registered: BTreeMap<String, Option<i32>> = run
        .strings(SourceTable::Candidats, "hash_nir")
        .into_iter()
        .zip(run.dates(SourceTable::Candidats, "created_at"))
        .collect();
    let applied = run.dates(SourceTable::Candidatures, "created_at");
    for (h, c) in run
        .strings(SourceTable::Candidatures, "hash_nir")
        .iter()
        .zip(&applied)
    {
        assert!(candidats.contains(h));
        assert!(registered[h] <= *c, "registered after applying");
    }
    for h in run.strings(SourceTable::PassIae, "hash_nir") {
        assert!(candidats.contains(&h), "PASS holder is a candidat");
    }
    for h in run.strings(SourceTable::Salaries, "hash_nir") {
        assert!(candidats.contains(&h), "salarié is a candidat");
    }
    for id in run
        .text(SourceTable::PassIae, "candidature_id")
        .into_iter()
        .flatten()
    {
        assert!(applications.contains(&id));
    }
    let passes: HashSet<i64> = run.i64s(SourceTable::PassIae, "id").into_iter().collect();
    for t in [
        SourceTable::PassIaeSuspensions,
        SourceTable::PassIaeProlongations,
    ] {
        for p in run.i64s(t, "pass_iae_id") {
            assert!(passes.contains(&p));
        }
    }
    // EMI → AF (counted), contract and salarié, with the contract belonging to the salarié.
    let af_ids = run.i64s(SourceTable::AnnexesFinancieres, "id");
    let af_states = run.strings(SourceTable::AnnexesFinancieres, "state");
    let counted: HashSet<i64> = af_ids
        .iter()
        .zip(&af_states)
        .filter(|(_, s)| AfState::from_code(s).expect("AF state").counts())
        .map(|(i, _)| *i)
        .collect();
    let contract_owner: BTreeMap<i64, i64> = run
        .i64s(SourceTable::Contrats, "id")
        .into_iter()
        .zip(run.i64s(SourceTable::Contrats, "salarie_id"))
        .collect();
    let emi_af = run.i64s(SourceTable::EtatsMensuels, "af_id");
    let emi_contract = run.i64s(SourceTable::EtatsMensuels, "contrat_id");
    let emi_salarie = run.i64s(SourceTable::EtatsMensuels, "salarie_id");
    for ((af, c), s) in emi_af.iter().zip(&emi_contract).zip(&emi_salarie) {
        assert!(counted.contains(af), "EMI on a counted AF");
        assert_eq!(contract_owner[c], *s, "EMI contract belongs to its salarié");
    }
    // Accepted applications of SIAE hires carry a PASS IAE.
    assert!(run.rows(SourceTable::PassIae) > 0);
    assert!(run.rows(SourceTable::PassIaeSuspensions) > 0);
    assert!(run.rows(SourceTable::PassIaeProlongations) > 0);
}

#[test]
fn every_code_parses_with_the_domain_enums() {
    let run = small();
    fn all<T: Code>(run: &Run, table: SourceTable, column: &str) -> BTreeSet<&'static str> {
        run.text(table, column)
            .into_iter()
            .flatten()
            .map(|v| {
                T::from_code(&v)
                    .unwrap_or_else(|e| panic!("{table}.{column}: {e}"))
                    .code()
            })
            .collect()
    }
    let kinds = all::<StructureKind>(run, SourceTable::Structures, "kind");
    assert_eq!(
        kinds.len(),
        StructureKind::ALL.len(),
        "every structure kind is present"
    );
    let prescribers = all::<PrescriberKind>(run, SourceTable::Organisations, "kind");
    assert_eq!(
        prescribers.len(),
        PrescriberKind::ALL.len(),
        "every prescriber kind"
    );
    all::<PrescriberKind>(run, SourceTable::Candidatures, "sender_prescriber_kind");
    let states = all::<ApplicationState>(run, SourceTable::Candidatures, "state");
    for s in [
        "new",
        "processing",
        "postponed",
        "accepted",
        "refused",
        "obsolete",
        "pool",
        "cancelled",
    ] {
        assert!(states.contains(s), "state {s} present");
    }
    assert_eq!(
        all::<Origine>(run, SourceTable::Candidatures, "origine").len(),
        5
    );
    let reasons = all::<RefusalReason>(run, SourceTable::Candidatures, "refusal_reason");
    assert!(reasons.contains("auto") && reasons.len() >= 12);
    let paths = all::<CreationPath>(run, SourceTable::Candidatures, "creation_path");
    assert!(
        paths.contains("ai_stock") && paths.contains("pe_approval") && paths.contains("default")
    );
    all::<SuspensionReason>(run, SourceTable::PassIaeSuspensions, "reason");
    all::<ProlongationReason>(run, SourceTable::PassIaeProlongations, "reason");
    all::<AspMeasure>(run, SourceTable::AnnexesFinancieres, "measure");
    let af_states = all::<AfState>(run, SourceTable::AnnexesFinancieres, "state");
    assert!(af_states.contains("HISTORISE") && af_states.contains("CLOTURE"));
    all::<AspMeasure>(run, SourceTable::Contrats, "measure");
    all::<EmiState>(run, SourceTable::EtatsMensuels, "state");
    all::<ExitMotive>(run, SourceTable::Contrats, "exit_motive");
    assert_eq!(
        all::<ExitMotive>(run, SourceTable::MotifsSortie, "code").len(),
        ExitMotive::ALL.len()
    );
    all::<ExitCategory>(run, SourceTable::MotifsSortie, "category");
    all::<Sex>(run, SourceTable::Candidats, "sex");
    all::<Sex>(run, SourceTable::Salaries, "sex");
    all::<RsaStatus>(run, SourceTable::Contrats, "rsa");
    all::<EducationLevel>(run, SourceTable::Contrats, "education_level");
    all::<UnemploymentDuration>(run, SourceTable::Contrats, "unemployment_duration");
}

#[test]
fn hashes_are_sha256_hex_and_never_zero() {
    let run = small();
    for h in run.strings(SourceTable::Candidats, "hash_nir") {
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{h}"
        );
        assert!(h.bytes().any(|b| b != b'0'));
    }
}

#[test]
fn applications_follow_the_automatic_refusal_rule_and_the_calendar() {
    let run = small();
    let end = run.end_day();
    let start = days(run.config.first_year, 1, 1);
    let states = run.strings(SourceTable::Candidatures, "state");
    let reasons = run.text(SourceTable::Candidatures, "refusal_reason");
    let paths = run.strings(SourceTable::Candidatures, "creation_path");
    let created = run.dates(SourceTable::Candidatures, "created_at");
    let looked = run.dates(SourceTable::Candidatures, "first_looked_at");
    let processed = run.dates(SourceTable::Candidatures, "processed_at");
    let hired = run.dates(SourceTable::Candidatures, "hired_at");
    let mut pending = 0;
    let mut auto = 0;
    for i in 0..states.len() {
        let c = created[i].expect("created_at");
        assert!(c <= end, "application after the extraction date");
        if paths[i] == "default" {
            assert!(c >= start, "flow application before the first year");
        }
        match states[i].as_str() {
            "new" | "processing" => {
                assert!(end - c < 60, "{} left {} days", states[i], end - c);
                assert!(processed[i].is_none());
                pending += 1;
            }
            "refused" => {
                let p = processed[i].expect("refusal date");
                if reasons[i].as_deref() == Some("auto") {
                    assert_eq!(p - c, 60, "automatic refusal after 60 days");
                    auto += 1;
                } else {
                    assert!(reasons[i].is_some(), "refusal with a reason");
                }
            }
            "accepted" => {
                assert!(hired[i].is_some() && processed[i].is_some());
            }
            _ => {}
        }
        if states[i] != "refused" {
            assert!(reasons[i].is_none(), "reason only on refusals");
        }
        if let Some(p) = processed[i] {
            assert!(p >= c && p <= end, "processed within [created, end]");
        }
        if let (Some(l), Some(p)) = (looked[i], processed[i]) {
            assert!(l >= c && l <= p);
        }
    }
    assert!(pending > 0, "some applications still pending at the end");
    assert!(auto > 0, "some automatic refusals");
}

#[test]
fn imports_are_small_and_dated() {
    let run = small();
    let paths = run.strings(SourceTable::Candidatures, "creation_path");
    let created = run.dates(SourceTable::Candidatures, "created_at");
    let states = run.strings(SourceTable::Candidatures, "state");
    let stock_day = days(2021, 11, 30);
    let mut ai_stock = 0;
    for i in 0..paths.len() {
        if paths[i] == "ai_stock" {
            assert_eq!(created[i], Some(stock_day));
            assert_eq!(states[i], "accepted");
            ai_stock += 1;
        }
    }
    assert!(ai_stock > 0 && share(ai_stock, paths.len()) < 0.05);
    let pe = paths.iter().filter(|p| *p == "pe_approval").count();
    assert!(pe > 0 && share(pe, paths.len()) < 0.01);
    // No AI stock import when 2021 is outside the period.
    let later = run_paths(config(0.002, 2022, 2022));
    assert!(!later.contains("ai_stock"));
}

fn run_paths(cfg: GeneratorConfig) -> BTreeSet<String> {
    run(cfg)
        .strings(SourceTable::Candidatures, "creation_path")
        .into_iter()
        .collect()
}

#[test]
fn shares_are_plausible() {
    let run = small();
    let kinds = run.strings(SourceTable::Structures, "kind");
    let sources = run.strings(SourceTable::Structures, "source");
    let siae: Vec<&String> = kinds
        .iter()
        .zip(&sources)
        .filter(|(k, s)| StructureKind::from_code(k).expect("kind").is_siae() && *s == "ASP")
        .map(|(k, _)| k)
        .collect();
    let aci = siae.iter().filter(|k| k.as_str() == "ACI").count();
    assert!((0.4..0.6).contains(&share(aci, siae.len())), "ACI share");
    // Origines.
    let origines = run.strings(SourceTable::Candidatures, "origine");
    let of = |o: &str| share(origines.iter().filter(|x| *x == o).count(), origines.len());
    assert!(
        (0.35..0.55).contains(&of("PRESCRIPTEUR_HABILITE")),
        "{}",
        of("PRESCRIPTEUR_HABILITE")
    );
    assert!((0.15..0.35).contains(&of("CANDIDAT")), "{}", of("CANDIDAT"));
    // Acceptance and applications per hire.
    let states = run.strings(SourceTable::Candidatures, "state");
    let accepted = states.iter().filter(|s| *s == "accepted").count();
    assert!(
        (0.06..0.2).contains(&share(accepted, states.len())),
        "acceptance rate"
    );
    // People.
    let qpv = run.bools(SourceTable::Candidats, "qpv");
    assert!((0.14..0.26).contains(&share(qpv.iter().filter(|q| **q).count(), qpv.len())));
    let sex = run.strings(SourceTable::Candidats, "sex");
    let women = share(
        sex.iter().filter(|s| *s == Sex::Female.code()).count(),
        sex.len(),
    );
    assert!((0.3..0.5).contains(&women));
    let rsa = run.strings(SourceTable::Contrats, "rsa");
    let recipients = share(rsa.iter().filter(|r| *r != "NON").count(), rsa.len());
    assert!((0.2..0.4).contains(&recipients), "RSA share {recipients}");
    // Exits by category.
    let categories: BTreeMap<String, String> = run
        .strings(SourceTable::MotifsSortie, "code")
        .into_iter()
        .zip(run.strings(SourceTable::MotifsSortie, "category"))
        .collect();
    let exits: Vec<&String> = run
        .text(SourceTable::Contrats, "exit_motive")
        .into_iter()
        .flatten()
        .map(|m| &categories[&m])
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    let cat = |c: &str| {
        share(
            exits.iter().filter(|x| x.as_str() == c).count(),
            exits.len(),
        )
    };
    assert!(
        (0.28..0.42).contains(&cat("EMPLOI_DURABLE")),
        "durable {}",
        cat("EMPLOI_DURABLE")
    );
    assert!((0.18..0.32).contains(&cat("EMPLOI_TRANSITION")));
    assert!((0.05..0.15).contains(&cat("SORTIE_POSITIVE")));
    // AF: mostly counted states.
    let af_states = run.strings(SourceTable::AnnexesFinancieres, "state");
    let counted = af_states
        .iter()
        .filter(|s| AfState::from_code(s).expect("state").counts())
        .count();
    assert!(share(counted, af_states.len()) > 0.8);
}

#[test]
fn etp_realises_are_close_to_etp_conventionnes() {
    let run = small();
    let ids = run.i64s(SourceTable::AnnexesFinancieres, "id");
    let etp = run.f64s(
        SourceTable::AnnexesFinancieres,
        "etp_conventionnes_mensuels",
    );
    let hours_per_etp = run.f64s(SourceTable::AnnexesFinancieres, "heures_annuelles_etp");
    let conventioned: BTreeMap<i64, (f64, f64)> = ids
        .iter()
        .zip(etp.iter().zip(&hours_per_etp))
        .map(|(i, (e, h))| (*i, (*e, if h.is_nan() { 1607.0 } else { *h })))
        .collect();
    let mut hours: BTreeMap<i64, f64> = BTreeMap::new();
    let emi_af = run.i64s(SourceTable::EtatsMensuels, "af_id");
    let emi_hours = run.f64s(SourceTable::EtatsMensuels, "hours_worked");
    let emi_state = run.strings(SourceTable::EtatsMensuels, "state");
    for ((af, h), s) in emi_af.iter().zip(&emi_hours).zip(&emi_state) {
        assert!(*h > 0.0 && *h <= 220.0, "monthly hours {h}");
        if EmiState::from_code(s).expect("state").is_validated() {
            *hours.entry(*af).or_default() += h;
        }
    }
    let (mut done, mut planned) = (0.0, 0.0);
    let mut in_band = 0;
    for (af, h) in &hours {
        let (e, full) = conventioned[af];
        let rate = h / full / e;
        in_band += usize::from((0.75..=1.15).contains(&rate));
        done += h / full;
        planned += e;
    }
    let national = done / planned;
    assert!(
        (0.8..=1.1).contains(&national),
        "realisation rate {national}"
    );
    assert!(
        share(in_band, hours.len()) > 0.8,
        "most funding lines near their target"
    );
}

#[test]
fn counts_scale_linearly_and_cover_every_kind() {
    let tiny = run(config(0.001, 2024, 2024));
    let kinds: BTreeSet<String> = tiny
        .strings(SourceTable::Structures, "kind")
        .into_iter()
        .collect();
    assert_eq!(kinds.len(), StructureKind::ALL.len());
    let a = run(config(0.005, 2024, 2024));
    let b = run(config(0.01, 2024, 2024));
    for table in [
        SourceTable::Candidatures,
        SourceTable::EtatsMensuels,
        SourceTable::Organisations,
    ] {
        let ratio = b.rows(table) as f64 / a.rows(table) as f64;
        assert!((1.5..2.6).contains(&ratio), "{table} ratio {ratio}");
    }
}

#[test]
fn invalid_parameters_are_named() {
    let base = config(0.01, 2021, 2025);
    let cases = [
        (
            GeneratorConfig {
                scale: 0.0,
                ..base.clone()
            },
            "scale",
        ),
        (
            GeneratorConfig {
                scale: -1.0,
                ..base.clone()
            },
            "scale",
        ),
        (
            GeneratorConfig {
                scale: f64::NAN,
                ..base.clone()
            },
            "scale",
        ),
        (
            GeneratorConfig {
                scale: f64::INFINITY,
                ..base.clone()
            },
            "scale",
        ),
        (
            GeneratorConfig {
                scale: 21.0,
                ..base.clone()
            },
            "scale",
        ),
        (
            GeneratorConfig {
                first_year: 2014,
                ..base.clone()
            },
            "first_year",
        ),
        (
            GeneratorConfig {
                last_year: 2101,
                ..base.clone()
            },
            "last_year",
        ),
        (
            GeneratorConfig {
                first_year: 2024,
                last_year: 2023,
                ..base.clone()
            },
            "first_year",
        ),
    ];
    for (cfg, expected) in cases {
        match cfg.validate() {
            Err(SynthError::InvalidConfig { parameter, .. }) => assert_eq!(parameter, expected),
            other => panic!("{cfg:?}: expected an error on {expected}, got {other:?}"),
        }
        let err = cfg.validate().expect_err("invalid");
        assert!(err.to_string().contains(expected), "{err}");
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        assert!(generate(&cfg, &out, &mut |_| {}).is_err());
        assert!(!out.exists());
    }
    assert!(base.validate().is_ok());
    assert!("parquet".parse::<OutputFormat>().is_ok());
    assert!("xlsx".parse::<OutputFormat>().is_err());
}

#[test]
fn output_is_atomic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = config(0.001, 2024, 2024);
    // A non-empty output folder is refused and left untouched.
    let busy = tmp.path().join("busy");
    std::fs::create_dir(&busy).expect("mkdir");
    std::fs::write(busy.join("keep.txt"), b"mine").expect("write");
    let err = generate(&cfg, &busy, &mut |_| {}).expect_err("non-empty folder");
    assert!(matches!(err, SynthError::OutputNotEmpty { .. }), "{err}");
    assert!(err.to_string().contains("busy"));
    assert_eq!(std::fs::read(busy.join("keep.txt")).expect("kept"), b"mine");
    // An empty output folder is replaced.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    generate(&cfg, &empty, &mut |_| {}).expect("empty folder replaced");
    assert_eq!(files_of(&empty).len(), SourceTable::ALL.len());
    // A parent that is not a folder: a clear error naming the path, nothing left behind.
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, b"x").expect("write");
    let err = generate(&cfg, &file.join("out"), &mut |_| {}).expect_err("bad parent");
    assert!(matches!(err, SynthError::Io { .. }), "{err}");
    assert!(err.to_string().contains("plain-file"), "{err}");
    // No temporary folder is ever left.
    let leftovers: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn progress_is_reported_in_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut events = Vec::new();
    generate(
        &config(0.001, 2023, 2024),
        &tmp.path().join("out"),
        &mut |e| events.push(e),
    )
    .expect("run");
    let Some(ProgressEvent::Started { total_steps }) = events.first() else {
        panic!("starts with Started: {events:?}");
    };
    assert_eq!(events.last(), Some(&ProgressEvent::Finished));
    let steps: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Advanced { step, .. } => Some(*step),
            _ => None,
        })
        .collect();
    assert_eq!(steps, (1..=*total_steps).collect::<Vec<_>>());
}

#[test]
fn a_failing_sink_stops_the_run() {
    let mut calls = 0;
    let err = generate_batches(&config(0.001, 2024, 2024), &mut |_, _| {
        calls += 1;
        Err(SynthError::Sink("full".to_owned()))
    })
    .expect_err("sink error is returned");
    assert_eq!(calls, 1);
    assert!(err.to_string().contains("full"));
}
