//! The professional tables of one private version, loaded into memory with an index of their
//! cells: what the reports read at request time.
//!
//! A table is kept compact: each dimension's codes are numbered once (a dictionary per
//! dimension), a cell's codes are packed into one integer key (each dimension in as few bits
//! as its dictionary needs), the keys are sorted, and a lookup is a binary search. The
//! measures stay columnar (Arrow `Float64Array`, 8 bytes and a validity bit per row), in the
//! order of the sorted keys; no row keeps a text of its own.
//!
//! So a cell costs 8 bytes of key (16 when the codes need more than 64 bits) and, per measure,
//! 8 bytes and a bit, where a text key per row in a hash map cost several times that: the
//! professional tables are millions of cells at national scale (docs/reports.md). A code absent
//! from its dimension's dictionary is a cell that does not exist.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use arrow_array::builder::Float64Builder;
use arrow_array::{
    Array, ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use super::{MANIFEST, PrivateManifest};

/// Rows decoded from a Parquet file at a time while loading it: the load holds one batch of
/// codes as text, never the whole file.
const LOAD_BATCH_ROWS: usize = 64 * 1024;

/// One dimension of a table: its codes, numbered in order of first appearance.
#[derive(Debug)]
struct Dimension {
    /// Dimension id (`territoire`, `periode`, `sexe`, …).
    id: String,
    /// Code → its number (0, 1, … in order of first appearance in the file).
    numbers: HashMap<Box<str>, u32>,
    /// Position of the dimension's number in a cell key, in bits from the lowest.
    shift: u32,
}

/// The sorted cell keys of a table: 64-bit when the dimensions' numbers fit (the usual case),
/// else 128-bit.
#[derive(Debug)]
enum Keys {
    /// Keys of at most 64 bits.
    Narrow(Vec<u64>),
    /// Keys of 65 to 128 bits.
    Wide(Vec<u128>),
}

impl Keys {
    /// The position of `key` among the sorted keys, if present.
    fn position(&self, key: u128) -> Option<usize> {
        match self {
            Keys::Narrow(k) => k.binary_search(&u64::try_from(key).ok()?).ok(),
            Keys::Wide(k) => k.binary_search(&key).ok(),
        }
    }

    /// Keys (cells) held.
    fn len(&self) -> usize {
        match self {
            Keys::Narrow(k) => k.len(),
            Keys::Wide(k) => k.len(),
        }
    }
}

/// Bits a number below `count` needs (0 for a dimension of a single code).
fn bits_for(count: usize) -> u32 {
    usize::BITS - count.saturating_sub(1).leading_zeros()
}

/// One dimension's number placed at its position in a cell key.
fn packed(number: u32, shift: u32) -> u128 {
    // A dimension of one code needs no bit: its number is 0, at any shift (even 128).
    u128::from(number).checked_shl(shift).unwrap_or(0)
}

/// One dataset's professional table with its cell index.
#[derive(Debug)]
pub struct PrivateTable {
    /// Dimensions, in column order.
    dims: Vec<Dimension>,
    /// Cell keys, sorted, one per cell; the n-th key's values are the n-th of every measure.
    keys: Keys,
    /// Measures by id: counts as f64, null where not applicable; in the order of `keys`.
    measures: BTreeMap<String, Float64Array>,
    /// Structures present: (structure id, attachment département) → territory code.
    structures: BTreeMap<(i64, String), String>,
}

/// What a column of a table is to the index.
#[derive(Debug, Clone, Copy)]
enum Column {
    /// A dimension's codes: the position of the dimension.
    Dimension(usize),
    /// A measure (UInt64 or Float64): the position of the measure.
    Measure(usize),
    /// Anything else (the `<dimension>_niveau` levels, other types): not kept.
    Skipped,
}

/// A dimension being read.
struct ReadDimension {
    /// Dimension id.
    id: String,
    /// Code → its number, in order of first appearance.
    numbers: HashMap<Box<str>, u32>,
    /// The number of each row's code.
    rows: Vec<u32>,
}

/// A table being indexed, batch after batch; [`Loader::finish`] sorts it.
struct Loader {
    /// The schema of every batch (the first one's).
    schema: SchemaRef,
    /// What each column is.
    columns: Vec<Column>,
    /// The dimensions, in column order.
    dims: Vec<ReadDimension>,
    /// Per measure: its id and its values so far.
    measures: Vec<(String, Float64Builder)>,
    /// Rows read.
    rows: usize,
}

impl Loader {
    /// Sorts out the columns: `<id>` with a `<id>_niveau` beside it is a dimension, a UInt64 or
    /// Float64 column a measure, any other not kept.
    fn new(schema: SchemaRef) -> Loader {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let mut dims = Vec::new();
        let mut measures = Vec::new();
        let columns = schema
            .fields()
            .iter()
            .map(|f| {
                let name = f.name();
                if name.ends_with("_niveau") {
                    Column::Skipped
                } else if names.contains(&format!("{name}_niveau").as_str()) {
                    dims.push(ReadDimension {
                        id: name.clone(),
                        numbers: HashMap::new(),
                        rows: Vec::new(),
                    });
                    Column::Dimension(dims.len() - 1)
                } else if matches!(
                    f.data_type(),
                    arrow_schema::DataType::UInt64 | arrow_schema::DataType::Float64
                ) {
                    measures.push((name.clone(), Float64Builder::new()));
                    Column::Measure(measures.len() - 1)
                } else {
                    Column::Skipped
                }
            })
            .collect();
        Loader {
            schema,
            columns,
            dims,
            measures,
            rows: 0,
        }
    }

    /// Numbers the batch's codes and appends its measures.
    fn push(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        anyhow::ensure!(
            batch.schema() == self.schema,
            "the batches of a table differ in their columns"
        );
        for ((column, c), f) in self
            .columns
            .iter()
            .zip(batch.columns())
            .zip(self.schema.fields())
        {
            match *column {
                Column::Dimension(d) => {
                    let text = c
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .with_context(|| format!("dimension {} is not text", f.name()))?;
                    let ReadDimension { numbers, rows, .. } = &mut self.dims[d];
                    rows.reserve(text.len());
                    // The columns are not nullable; a null would be the empty code.
                    for code in text.iter().map(Option::unwrap_or_default) {
                        let n = match numbers.get(code) {
                            Some(n) => *n,
                            None => {
                                let n = u32::try_from(numbers.len())
                                    .with_context(|| format!("too many codes in {}", f.name()))?;
                                numbers.insert(code.into(), n);
                                n
                            }
                        };
                        rows.push(n);
                    }
                }
                Column::Measure(m) => {
                    let values = &mut self.measures[m].1;
                    if let Some(a) = c.as_any().downcast_ref::<UInt64Array>() {
                        a.iter()
                            .for_each(|v| values.append_option(v.map(|v| v as f64)));
                    } else if let Some(a) = c.as_any().downcast_ref::<Float64Array>() {
                        a.iter().for_each(|v| values.append_option(v));
                    }
                }
                Column::Skipped => {}
            }
        }
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Packs each row's numbers into its key, sorts the keys and puts the measures in their
    /// order. Of two rows with one key (never in a cube) the last is kept.
    fn finish(self) -> anyhow::Result<PrivateTable> {
        let Loader {
            dims,
            measures,
            rows,
            ..
        } = self;
        // The last dimension in the lowest bits, the first in the highest.
        let mut shifts = vec![0; dims.len()];
        let mut bits = 0u32;
        for (i, d) in dims.iter().enumerate().rev() {
            shifts[i] = bits;
            bits += bits_for(d.numbers.len());
        }
        anyhow::ensure!(
            bits <= u128::BITS,
            "the codes of a table need {bits} bits of key, more than 128"
        );
        let mut all = vec![0u128; rows];
        for (d, shift) in dims.iter().zip(&shifts) {
            for (key, n) in all.iter_mut().zip(&d.rows) {
                *key |= packed(*n, *shift);
            }
        }
        let mut order: Vec<u32> = (0..u32::try_from(rows).context("too many rows")?).collect();
        order.sort_unstable_by_key(|r| (all[*r as usize], *r));
        let mut kept: Vec<u32> = Vec::with_capacity(order.len());
        for r in order {
            match kept.last_mut() {
                Some(last) if all[*last as usize] == all[r as usize] => *last = r,
                _ => kept.push(r),
            }
        }
        let keys = if bits <= u64::BITS {
            // Lossless: every key is below 2^bits.
            Keys::Narrow(kept.iter().map(|r| all[*r as usize] as u64).collect())
        } else {
            Keys::Wide(kept.iter().map(|r| all[*r as usize]).collect())
        };
        drop(all);
        let indices = UInt32Array::from(kept);
        let mut sorted = BTreeMap::new();
        for (id, mut values) in measures {
            let values: ArrayRef = Arc::new(values.finish());
            let taken = arrow_select::take::take(&values, &indices, None)?;
            let taken = taken
                .as_any()
                .downcast_ref::<Float64Array>()
                .context("a measure is not a number")?
                .clone();
            sorted.insert(id, taken);
        }
        let mut structures = BTreeMap::new();
        if let Some(d) = dims.first() {
            // In order of first appearance: the first code of a (structure, département) wins.
            let mut by_number: Vec<(&str, u32)> =
                d.numbers.iter().map(|(c, n)| (&**c, *n)).collect();
            by_number.sort_unstable_by_key(|(_, n)| *n);
            for (code, _) in by_number {
                if let Some((id, dep)) = parse_structure(code) {
                    structures
                        .entry((id, dep.to_owned()))
                        .or_insert_with(|| code.to_owned());
                }
            }
        }
        let dims = dims
            .into_iter()
            .zip(shifts)
            .map(|(d, shift)| {
                let ReadDimension {
                    id, mut numbers, ..
                } = d;
                numbers.shrink_to_fit();
                Dimension { id, numbers, shift }
            })
            .collect();
        Ok(PrivateTable {
            dims,
            keys,
            measures: sorted,
            structures,
        })
    }
}

impl PrivateTable {
    /// Indexes a table held in one record batch (a public release's table).
    pub fn new(batch: &RecordBatch) -> anyhow::Result<PrivateTable> {
        PrivateTable::from_batches(std::iter::once(Ok::<_, std::convert::Infallible>(
            batch.clone(),
        )))
    }

    /// Indexes a table read batch after batch (a Parquet file), keeping only the numbered
    /// codes, the sorted keys and the measures. No batch at all is an error.
    pub fn from_batches<E>(
        batches: impl IntoIterator<Item = Result<RecordBatch, E>>,
    ) -> anyhow::Result<PrivateTable>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let mut loader: Option<Loader> = None;
        for batch in batches {
            let batch = batch?;
            loader
                .get_or_insert_with(|| Loader::new(batch.schema()))
                .push(&batch)?;
        }
        loader.context("the table has no record batch")?.finish()
    }

    /// The value of `measure` in the cell with these codes; a dimension not named is at its
    /// total (`FR` for the territory, `_T` otherwise). `None`: no such cell (no unit reached
    /// it: a count is 0 there) or a value not applicable.
    pub fn value(&self, coords: &[(&str, &str)], measure: &str) -> Option<f64> {
        let row = self.cell_row(coords)?;
        let values = self.measures.get(measure)?;
        values.is_valid(row).then(|| values.value(row))
    }

    /// True if the cell exists (some unit reached it).
    pub fn has_cell(&self, coords: &[(&str, &str)]) -> bool {
        self.cell_row(coords).is_some()
    }

    /// The position of the cell with these codes in `keys` and the measures; `None` when it is
    /// not there, or when a code is not in its dimension's dictionary (no cell has it).
    fn cell_row(&self, coords: &[(&str, &str)]) -> Option<usize> {
        let mut key = 0u128;
        for (i, d) in self.dims.iter().enumerate() {
            let code = coords
                .iter()
                .find(|(id, _)| *id == d.id)
                .map(|(_, c)| *c)
                .unwrap_or(if i == 0 { "FR" } else { "_T" });
            key |= packed(*d.numbers.get(code)?, d.shift);
        }
        self.keys.position(key)
    }

    /// The territory codes of structure `id` (one per attachment département).
    pub fn structure_codes(&self, id: i64) -> Vec<(&str, &str)> {
        self.structures
            .range((id, String::new())..)
            .take_while(|((i, _), _)| *i == id)
            .map(|((_, dep), code)| (code.as_str(), dep.as_str()))
            .collect()
    }

    /// Every structure attached to département `dep`: (id, territory code).
    pub fn structures_in(&self, dep: &str) -> Vec<(i64, &str)> {
        self.structures
            .iter()
            .filter(|((_, d), _)| d == dep)
            .map(|((id, _), code)| (*id, code.as_str()))
            .collect()
    }

    /// Every (structure id, département) present.
    pub fn all_structures(&self) -> impl Iterator<Item = (i64, &str)> {
        self.structures.keys().map(|(id, d)| (*id, d.as_str()))
    }

    /// True if the table holds period `code` (`2025`, `2025-03`).
    pub fn has_period(&self, code: &str) -> bool {
        self.dims
            .iter()
            .find(|d| d.id == "periode")
            .is_some_and(|d| d.numbers.contains_key(code))
    }

    /// Cells indexed (rows of the table).
    pub fn rows(&self) -> usize {
        self.keys.len()
    }
}

/// `STR-<id>@<dep>` → (id, dep).
pub fn parse_structure(code: &str) -> Option<(i64, &str)> {
    let rest = code.strip_prefix("STR-")?;
    let (id, dep) = rest.split_once('@')?;
    Some((id.parse().ok()?, dep))
}

/// The professional tables of one version, by dataset id.
#[derive(Debug)]
pub struct PrivateSet {
    /// The release version they go with.
    pub version: String,
    /// The tables.
    pub tables: BTreeMap<String, PrivateTable>,
}

impl PrivateSet {
    /// Reads `<dir>` (a private version folder), checking every file against its manifest.
    pub fn open(dir: &Path) -> anyhow::Result<PrivateSet> {
        let manifest: PrivateManifest = serde_json::from_slice(
            &std::fs::read(dir.join(MANIFEST))
                .with_context(|| format!("reading {}", dir.join(MANIFEST).display()))?,
        )?;
        let mut tables = BTreeMap::new();
        for f in &manifest.tables {
            let path = dir.join(format!("{}.parquet", f.id));
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            anyhow::ensure!(
                hex::encode(Sha256::digest(&bytes)) == f.sha256,
                "{} does not match its manifest",
                path.display()
            );
            let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))?
                .with_batch_size(LOAD_BATCH_ROWS)
                .build()?;
            let table = PrivateTable::from_batches(reader)
                .with_context(|| format!("indexing {}", path.display()))?;
            tables.insert(f.id.clone(), table);
        }
        Ok(PrivateSet {
            version: manifest.version,
            tables,
        })
    }

    /// The table of dataset `id`.
    pub fn table(&self, id: &str) -> Option<&PrivateTable> {
        self.tables.get(id)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};

    use super::{Keys, PrivateTable};

    /// A table: per dimension its id and each row's code (with a `<id>_niveau` column beside
    /// it), then the measure `n`.
    fn batch(dims: &[(String, Vec<String>)], n: Vec<Option<u64>>) -> RecordBatch {
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (id, codes) in dims {
            fields.push(Field::new(id, DataType::Utf8, false));
            columns.push(Arc::new(StringArray::from(codes.clone())));
            fields.push(Field::new(format!("{id}_niveau"), DataType::Utf8, false));
            columns.push(Arc::new(StringArray::from(vec!["x"; codes.len()])));
        }
        fields.push(Field::new("n", DataType::UInt64, true));
        columns.push(Arc::new(UInt64Array::from(n)));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch")
    }

    /// `dims` dimensions `d00`, `d01`, … of three codes each (`c0`, `c1`, `c2`), plus a first
    /// dimension `one` of a single code: 9 rows, each with its own cell, `n` = 100 + row.
    fn wide(dims: usize) -> (Vec<(String, Vec<String>)>, RecordBatch) {
        let mut columns = vec![("one".to_owned(), vec!["FR".to_owned(); 9])];
        for j in 0..dims {
            let codes = (0..9)
                .map(|i| match j {
                    0 => format!("c{}", i % 3),
                    1 => format!("c{}", i / 3),
                    _ => format!("c{}", (i + j) % 3),
                })
                .collect();
            columns.push((format!("d{j:02}"), codes));
        }
        let b = batch(&columns, (100..109).map(Some).collect());
        (columns, b)
    }

    /// Each row's cell, named by all its codes, gives back the row's value.
    fn assert_round_trip(table: &PrivateTable, columns: &[(String, Vec<String>)], first: u64) {
        for row in 0..columns[0].1.len() {
            let coords: Vec<(&str, &str)> = columns
                .iter()
                .map(|(id, codes)| (id.as_str(), codes[row].as_str()))
                .collect();
            assert_eq!(
                table.value(&coords, "n"),
                Some((first + row as u64) as f64),
                "row {row}"
            );
        }
    }

    #[test]
    fn narrow_keys_give_back_every_cell_across_batches() {
        // Every crossing of 3 territories, 2 periods and 3 sexes, in reverse order.
        let mut columns = vec![
            ("territoire".to_owned(), Vec::new()),
            ("periode".to_owned(), Vec::new()),
            ("sexe".to_owned(), Vec::new()),
        ];
        for t in ["STR-7@2A", "DEP-2A", "FR"] {
            for p in ["2025-01", "2025"] {
                for s in ["H", "F", "_T"] {
                    for (c, code) in columns.iter_mut().zip([t, p, s]) {
                        c.1.push(code.to_owned());
                    }
                }
            }
        }
        let b = batch(&columns, (0..18).map(Some).collect());
        let whole = PrivateTable::new(&b).expect("table");
        assert!(matches!(whole.keys, Keys::Narrow(_)));
        assert_eq!(whole.rows(), 18);
        assert_round_trip(&whole, &columns, 0);
        // Read in batches of 5 rows: the codes are numbered across batches.
        let parts = (0..18)
            .step_by(5)
            .map(|at| Ok::<_, std::io::Error>(b.slice(at, 5.min(18 - at))));
        let batched = PrivateTable::from_batches(parts).expect("table");
        assert_round_trip(&batched, &columns, 0);
        // A dimension not named is at its total.
        assert_eq!(whole.value(&[("periode", "2025")], "n"), Some(17.0));
        // `_T`, the total of a dimension not named, is not a period here: no such cell.
        assert_eq!(whole.value(&[], "n"), None);
        assert_eq!(whole.value(&[("periode", "2025-01")], "n"), Some(14.0));
        assert_eq!(whole.structure_codes(7), vec![("STR-7@2A", "2A")]);
        assert!(whole.has_period("2025-01") && !whole.has_period("2024"));
    }

    #[test]
    fn wide_keys_give_back_every_cell() {
        // 33 dimensions of 2 bits: 66 bits.
        let (columns, b) = wide(33);
        let table = PrivateTable::new(&b).expect("table");
        assert!(matches!(table.keys, Keys::Wide(_)));
        assert_round_trip(&table, &columns, 100);
        // 64 of 2 bits: all 128, the one-code dimension shifted by 128.
        let (columns, b) = wide(64);
        let table = PrivateTable::new(&b).expect("table");
        assert!(matches!(table.keys, Keys::Wide(_)));
        assert_round_trip(&table, &columns, 100);
        // 65: 130 bits do not fit, and say so.
        let (_, b) = wide(65);
        let e = PrivateTable::new(&b).expect_err("130 bits");
        assert!(e.to_string().contains("130 bits"), "{e}");
    }

    #[test]
    fn a_code_not_in_the_table_is_no_cell() {
        let columns = vec![
            (
                "territoire".to_owned(),
                vec!["FR".to_owned(), "DEP-75".to_owned()],
            ),
            ("sexe".to_owned(), vec!["_T".to_owned(), "F".to_owned()]),
        ];
        let table = PrivateTable::new(&batch(&columns, vec![Some(3), None])).expect("table");
        // A code no row has, in either dimension.
        assert_eq!(table.value(&[("territoire", "DEP-13")], "n"), None);
        assert!(!table.has_cell(&[("territoire", "DEP-13")]));
        assert!(!table.has_cell(&[("sexe", "X")]));
        // Codes of the table, but not together.
        assert!(!table.has_cell(&[("territoire", "DEP-75")]));
        assert_eq!(table.value(&[("sexe", "F")], "n"), None);
        // A cell whose value is not applicable, a measure the table lacks.
        assert!(table.has_cell(&[("territoire", "DEP-75"), ("sexe", "F")]));
        assert_eq!(
            table.value(&[("territoire", "DEP-75"), ("sexe", "F")], "n"),
            None
        );
        assert_eq!(table.value(&[], "n"), Some(3.0));
        assert_eq!(table.value(&[], "m"), None);
        // A dimension the table lacks is ignored.
        assert_eq!(table.value(&[("age", "A")], "n"), Some(3.0));
        assert!(!table.has_period("2025"));
    }
}
