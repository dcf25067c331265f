//! The professional tables of one private version, loaded into memory with an index of their
//! cells: what the reports read at request time.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::Context as _;
use arrow_array::{Array, Float64Array, RecordBatch, StringArray, UInt64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use super::{MANIFEST, PrivateManifest};

/// Separator of the codes in a cell key (never inside a code).
const SEP: char = '\u{1f}';

/// One dataset's professional table with its cell index.
#[derive(Debug)]
pub struct PrivateTable {
    /// Dimension ids, in column order.
    dims: Vec<String>,
    /// Measures by id: counts as f64, null where not applicable.
    measures: BTreeMap<String, Vec<Option<f64>>>,
    /// Cell key (codes joined) → row.
    index: HashMap<String, usize>,
    /// Structures present: (structure id, attachment département) → territory code.
    structures: BTreeMap<(i64, String), String>,
    /// The codes of the `periode` dimension present.
    periods: BTreeSet<String>,
}

impl PrivateTable {
    /// Indexes a table read back from its Parquet file.
    pub fn new(batch: &RecordBatch) -> anyhow::Result<PrivateTable> {
        let schema = batch.schema();
        let names: BTreeSet<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let mut dims = Vec::new();
        let mut codes = Vec::new();
        let mut measures = BTreeMap::new();
        for (f, c) in schema.fields().iter().zip(batch.columns()) {
            let name = f.name();
            if name.ends_with("_niveau") {
                continue;
            }
            if names.contains(format!("{name}_niveau").as_str()) {
                let text = c
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .with_context(|| format!("dimension {name} is not text"))?;
                dims.push(name.clone());
                codes.push(text.clone());
                continue;
            }
            let values: Vec<Option<f64>> = if let Some(a) = c.as_any().downcast_ref::<UInt64Array>()
            {
                a.iter().map(|v| v.map(|v| v as f64)).collect()
            } else if let Some(a) = c.as_any().downcast_ref::<Float64Array>() {
                a.iter().collect()
            } else {
                continue;
            };
            measures.insert(name.clone(), values);
        }
        let mut index = HashMap::with_capacity(batch.num_rows());
        let mut structures = BTreeMap::new();
        let mut key = String::new();
        for row in 0..batch.num_rows() {
            key.clear();
            for (i, c) in codes.iter().enumerate() {
                if i > 0 {
                    key.push(SEP);
                }
                key.push_str(c.value(row));
            }
            index.insert(key.clone(), row);
            if let Some(code) = codes.first().map(|c| c.value(row))
                && let Some((id, dep)) = parse_structure(code)
            {
                structures
                    .entry((id, dep.to_owned()))
                    .or_insert_with(|| code.to_owned());
            }
        }
        let periods = dims
            .iter()
            .position(|d| d == "periode")
            .map(|i| codes[i].iter().flatten().map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(PrivateTable {
            dims,
            measures,
            index,
            structures,
            periods,
        })
    }

    /// The value of `measure` in the cell with these codes; a dimension not named is at its
    /// total (`FR` for the territory, `_T` otherwise). `None`: no such cell (no unit reached
    /// it: a count is 0 there) or a value not applicable.
    pub fn value(&self, coords: &[(&str, &str)], measure: &str) -> Option<f64> {
        let row = self.cell_row(coords)?;
        self.measures.get(measure)?[row]
    }

    /// True if the cell exists (some unit reached it).
    pub fn has_cell(&self, coords: &[(&str, &str)]) -> bool {
        self.cell_row(coords).is_some()
    }

    fn cell_row(&self, coords: &[(&str, &str)]) -> Option<usize> {
        let mut key = String::new();
        for (i, d) in self.dims.iter().enumerate() {
            if i > 0 {
                key.push(SEP);
            }
            let code = coords
                .iter()
                .find(|(id, _)| id == d)
                .map(|(_, c)| *c)
                .unwrap_or(if i == 0 { "FR" } else { "_T" });
            key.push_str(code);
        }
        self.index.get(&key).copied()
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
        self.periods.contains(code)
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
                .with_batch_size(1 << 20)
                .build()?;
            let batches = reader.collect::<Result<Vec<_>, _>>()?;
            let schema = batches
                .first()
                .map(RecordBatch::schema)
                .with_context(|| format!("{} is empty", path.display()))?;
            let batch = arrow_select::concat::concat_batches(&schema, &batches)?;
            tables.insert(f.id.clone(), PrivateTable::new(&batch)?);
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
