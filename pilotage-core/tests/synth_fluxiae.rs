//! `generate` in the fluxIAE output format: the ASP tables come back, through the fluxIAE
//! reader, equal to what the generator produced in memory, with the injected duplicates
//! dropped and counted.

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use arrow_select::concat::concat_batches;
use pilotage_core::fluxiae::{self, View};
use pilotage_core::source::SourceTable;
use pilotage_core::synth::{
    FLUXIAE_DUPLICATE_EVERY, GeneratorConfig, OutputFormat, generate, generate_batches,
};

fn config(format: OutputFormat) -> GeneratorConfig {
    GeneratorConfig {
        scale: 0.002,
        seed: 11,
        first_year: 2024,
        last_year: 2025,
        format,
    }
}

fn in_memory() -> BTreeMap<SourceTable, RecordBatch> {
    let mut parts: BTreeMap<SourceTable, Vec<RecordBatch>> = BTreeMap::new();
    generate_batches(&config(OutputFormat::Parquet), &mut |table, batch| {
        parts.entry(table).or_default().push(batch);
        Ok(())
    })
    .expect("generation succeeds");
    parts
        .into_iter()
        .map(|(table, batches)| {
            let batch = concat_batches(&table.schema(), &batches).expect("same schema");
            (table, batch)
        })
        .collect()
}

#[test]
fn fluxiae_output_reads_back_as_the_generated_tables() {
    let expected = in_memory();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("sources");
    let summary = generate(&config(OutputFormat::FluxIae), &out, &mut |_| {}).expect("generate");
    assert_eq!(summary.tables.len(), SourceTable::ALL.len());

    let mut views = 0;
    for table in &summary.tables {
        let path = out.join(&table.file_name);
        assert!(path.is_file(), "{} is written", table.file_name);
        if table.table == SourceTable::Structures || View::of_table(table.table).is_none() {
            assert_eq!(table.file_name, format!("{}.csv", table.table.name()));
            continue;
        }
        views += 1;
        assert!(
            table.file_name.starts_with("fluxIAE_"),
            "{}",
            table.file_name
        );
        assert!(table.file_name.ends_with("_31122025_063000.csv.gz"));
        let read = fluxiae::read_view(&path, None).expect("the reader accepts generated views");
        assert_eq!(read.table, table.table);
        let got = concat_batches(&table.table.schema(), &read.batches).expect("same schema");
        let want = &expected[&table.table];
        assert_eq!(&got, want, "{} round-trips", table.table.name());
        assert_eq!(
            read.duplicates_dropped(),
            want.num_rows() as u64 / FLUXIAE_DUPLICATE_EVERY,
            "{}: injected duplicates are dropped and counted",
            table.table.name()
        );
    }
    assert_eq!(
        views, 5,
        "AF, salariés, contrats, EMI and exit motives as fluxIAE views"
    );
}

#[test]
fn fluxiae_output_is_deterministic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut runs = Vec::new();
    for run in ["a", "b"] {
        let out = tmp.path().join(run);
        generate(&config(OutputFormat::FluxIae), &out, &mut |_| {}).expect("generate");
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(&out).expect("readable") {
            let entry = entry.expect("entry");
            let bytes = std::fs::read(entry.path()).expect("readable file");
            files.insert(entry.file_name(), bytes);
        }
        runs.push(files);
    }
    assert_eq!(runs[0], runs[1]);
}
