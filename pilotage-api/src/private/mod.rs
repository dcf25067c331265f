//! The professional tables: every dataset per structure and per month, unprotected, written by
//! `publish` into a private area that no public route reads.
//!
//! They are computed by the same code as the public cubes (`pilotage_core::indicator`), on
//! the same extractions, with one change of attachment: each structure is given a territory
//! of its own, `<structure id>@<département>`, whose parent is its département (for ETP, the
//! département of the annexe financière, as the public `etp` dataset attaches it). So the
//! tables hold, per dataset, three territorial levels:
//!
//! - `structure` — code `STR-<id>@<dep>`: one structure's figures;
//! - `departement` — code `DEP-<dep>`: the département's unprotected figures, equal to the
//!   public release's wherever it publishes the cell (distinct persons are counted once per
//!   département, not summed over structures);
//! - `france` — code `FR`.
//!
//! Every crossing of the definition is computed at the finest territory (structure), with its
//! own period and categories; margins come with it as in the public cubes. Facts attached to a
//! prescriber organisation's own département (not to a structure) count in France only.
//!
//! Layout: `<private>/<version>/<dataset>.parquet` and `manifest.json` (sizes and SHA-256),
//! written into a temporary folder, flushed and renamed, then `<private>/current` switched:
//! the same reproducibility and atomicity as a public release, under the public release's
//! version. The private folder must not lie inside the releases folder.

mod tables;

pub use tables::{PrivateSet, PrivateTable};

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use pilotage_core::cube::Geography;
use pilotage_core::dataset::{Definition, DimensionType};
use pilotage_core::indicator::{self, Context, Sources};
use pilotage_core::source::SourceTable;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::storage::{self, Store, Vintage};

/// The link naming the current private version.
pub const CURRENT: &str = "current";
/// The manifest of a private version.
pub const MANIFEST: &str = "manifest.json";
/// Level name of one structure's rows.
pub const LEVEL_STRUCTURE: &str = "structure";
/// Level name of a département's rows.
pub const LEVEL_DEPARTEMENT: &str = "departement";
/// Level name of the France rows.
pub const LEVEL_FRANCE: &str = "france";

/// The manifest of a private version: what it holds, to check it is whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivateManifest {
    /// The public release version it goes with.
    pub version: String,
    /// One entry per table, by dataset id.
    pub tables: Vec<PrivateFile>,
}

/// One table of a private version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivateFile {
    /// Dataset id.
    pub id: String,
    /// Definition version it was computed with.
    pub definition_version: String,
    /// Rows.
    pub rows: u64,
    /// Size of the Parquet file, in bytes.
    pub bytes: u64,
    /// SHA-256 of the Parquet file, lowercase hexadecimal.
    pub sha256: String,
}

/// What [`write()`] did.
#[derive(Debug, Clone)]
pub struct WrittenPrivate {
    /// The folder written (or found identical).
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: PrivateManifest,
}

/// Refuses a private folder inside the releases folder (or the other way round): the private
/// tables must never be reachable through the public file routes.
pub fn check_location(private: &Path, releases: &Path) -> anyhow::Result<()> {
    let absolute = |p: &Path| -> PathBuf {
        let p = if p.is_absolute() {
            p.to_owned()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        // Resolve what exists (symbolic links included); keep the rest as written.
        let mut existing = p.clone();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.file_name(), existing.parent()) {
                (Some(name), Some(parent)) => {
                    rest.push(name.to_owned());
                    existing = parent.to_owned();
                }
                _ => break,
            }
        }
        let mut out = fs::canonicalize(&existing).unwrap_or(existing);
        for part in rest.iter().rev() {
            out.push(part);
        }
        out
    };
    let (p, r) = (absolute(private), absolute(releases));
    if p.starts_with(&r) || r.starts_with(&p) {
        bail!(
            "the private folder {} and the releases folder {} must be apart: the professional \
             tables are never under a public release folder",
            private.display(),
            releases.display()
        );
    }
    Ok(())
}

/// The definitions the private tables are computed with: the built-in ones, each replaced by
/// the definition of the same id in `given` (so a dataset the public release leaves out, or
/// publishes from an edited definition, is still there for the reports).
pub fn definitions(given: &[Definition]) -> anyhow::Result<Vec<Definition>> {
    let mut out = pilotage_core::dataset::embedded().context("the built-in definitions")?;
    for d in &mut out {
        if let Some(g) = given.iter().find(|g| g.id == d.id) {
            *d = g.clone();
        }
    }
    Ok(out)
}

/// A definition with every crossing at the finest territory (the structure, through the
/// pseudo-départements) and duplicates removed.
fn per_structure(def: &Definition) -> Definition {
    let mut def = def.clone();
    let territory: Vec<String> = def
        .dimensions
        .iter()
        .filter(|d| d.kind == DimensionType::Territory)
        .map(|d| d.id.clone())
        .collect();
    let mut crossings = Vec::new();
    for mut c in std::mem::take(&mut def.crossings) {
        for t in &territory {
            c.insert(t.clone(), "departement".to_owned());
        }
        if !crossings.contains(&c) {
            crossings.push(c);
        }
    }
    def.crossings = crossings;
    def
}

/// Computes the private tables from the store's extractions `vintages` (those of the public
/// release), `as_of` being the release's vintage.
pub fn compute(
    database_url: &str,
    definitions: &[Definition],
    vintages: &BTreeMap<SourceTable, Vintage>,
    as_of: Vintage,
) -> anyhow::Result<Vec<(Definition, RecordBatch)>> {
    let mut store = Store::open(database_url)?;
    let mut sources = Sources::new();
    for (table, vintage) in vintages {
        for batch in storage::load_table(&mut store, *table, *vintage)? {
            sources.push(*table, batch?);
        }
    }
    drop(store);
    let pairs = attach_to_structures(&mut sources)?;
    let context = Context {
        geography: Geography::from_pairs(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str()))),
        as_of: as_of.days(),
    };
    let defs: Vec<Definition> = definitions.iter().map(per_structure).collect();
    let cubes = indicator::compute_all(&defs, &sources, &context)
        .context("computing the professional tables")?;
    drop(sources);
    let mut out = Vec::with_capacity(cubes.len());
    for (def, cube) in definitions.iter().zip(cubes) {
        let batch = cube.to_record_batch()?;
        out.push((def.clone(), relabel(def, &batch)?));
    }
    Ok(out)
}

/// Rewrites the département of each structure and of each annexe financière into the
/// structure's own territory code (`<id>@<dep>`); returns the (code, département) pairs.
fn attach_to_structures(sources: &mut Sources) -> anyhow::Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut by_asp: BTreeMap<i64, i64> = BTreeMap::new();
    let mut structures = Vec::new();
    for batch in sources.batches(SourceTable::Structures) {
        let id = int_column(batch, "structures", "id")?;
        let asp = int_column(batch, "structures", "asp_id")?;
        let dep = string_column(batch, "structures", "departement")?;
        let mut codes: Vec<Option<String>> = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            if !asp.is_null(i) {
                by_asp.entry(asp.value(i)).or_insert(id.value(i));
            }
            if dep.is_null(i) {
                codes.push(None);
                continue;
            }
            let code = format!("{}@{}", id.value(i), dep.value(i));
            pairs.push((code.clone(), dep.value(i).to_owned()));
            codes.push(Some(code));
        }
        structures.push(replace_column(batch, "departement", codes)?);
    }
    sources.insert(SourceTable::Structures, structures);
    let mut afs = Vec::new();
    for batch in sources.batches(SourceTable::AnnexesFinancieres) {
        let asp = int_column(batch, "annexes_financieres", "structure_asp_id")?;
        let dep = string_column(batch, "annexes_financieres", "departement")?;
        let mut codes: Vec<Option<String>> = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            match by_asp.get(&asp.value(i)) {
                Some(id) if !dep.is_null(i) => {
                    let code = format!("{id}@{}", dep.value(i));
                    pairs.push((code.clone(), dep.value(i).to_owned()));
                    codes.push(Some(code));
                }
                // An unknown structure fails the computation as in the public release.
                _ => codes.push(dep.is_valid(i).then(|| dep.value(i).to_owned())),
            }
        }
        afs.push(replace_column(batch, "departement", codes)?);
    }
    sources.insert(SourceTable::AnnexesFinancieres, afs);
    Ok(pairs)
}

fn int_column<'a>(
    batch: &'a RecordBatch,
    table: &str,
    column: &str,
) -> anyhow::Result<&'a arrow_array::Int64Array> {
    batch
        .column_by_name(column)
        .and_then(|c| c.as_any().downcast_ref())
        .with_context(|| format!("table {table}: column {column} is not a 64-bit integer"))
}

fn string_column<'a>(
    batch: &'a RecordBatch,
    table: &str,
    column: &str,
) -> anyhow::Result<&'a StringArray> {
    batch
        .column_by_name(column)
        .and_then(|c| c.as_any().downcast_ref())
        .with_context(|| format!("table {table}: column {column} is not text"))
}

fn replace_column(
    batch: &RecordBatch,
    name: &str,
    values: Vec<Option<String>>,
) -> anyhow::Result<RecordBatch> {
    let schema = batch.schema();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| {
            if f.name() == name {
                Arc::new(StringArray::from(values.clone())) as ArrayRef
            } else {
                c.clone()
            }
        })
        .collect();
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Renames the territory codes and levels of a per-structure cube: `DEP-<id>@<dep>` →
/// `STR-<id>@<dep>` (level `structure`), `REG-<dep>` → `DEP-<dep>` (level `departement`).
fn relabel(def: &Definition, batch: &RecordBatch) -> anyhow::Result<RecordBatch> {
    let schema = batch.schema();
    let territory: Vec<&str> = def
        .dimensions
        .iter()
        .filter(|d| d.kind == DimensionType::Territory)
        .map(|d| d.id.as_str())
        .collect();
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (f, c) in schema.fields().iter().zip(batch.columns()) {
        let name = f.name().as_str();
        let is_code = territory.contains(&name);
        let is_level = territory
            .iter()
            .any(|t| name.strip_suffix("_niveau") == Some(*t));
        if !(is_code || is_level) {
            fields.push(f.as_ref().clone());
            columns.push(c.clone());
            continue;
        }
        let text = c
            .as_any()
            .downcast_ref::<StringArray>()
            .context("a territory column is not text")?;
        let renamed = StringArray::from_iter_values(text.iter().map(|v| {
            let v = v.unwrap_or_default();
            if is_code {
                if let Some(rest) = v.strip_prefix("DEP-") {
                    format!("STR-{rest}")
                } else if let Some(rest) = v.strip_prefix("REG-") {
                    format!("DEP-{rest}")
                } else {
                    v.to_owned()
                }
            } else {
                match v {
                    "departement" => LEVEL_STRUCTURE.to_owned(),
                    "region" => LEVEL_DEPARTEMENT.to_owned(),
                    other => other.to_owned(),
                }
            }
        }));
        fields.push(Field::new(name, DataType::Utf8, false));
        columns.push(Arc::new(renamed));
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// Writes the private tables of release `version` into `<private>/<version>/` atomically and
/// switches `<private>/current`. A version already written with the same manifest is kept.
pub fn write(
    private: &Path,
    version: &str,
    tables: &[(Definition, RecordBatch)],
) -> anyhow::Result<WrittenPrivate> {
    let mut contents: Vec<(String, Vec<u8>)> = Vec::new();
    let mut files = Vec::new();
    let mut sorted: Vec<&(Definition, RecordBatch)> = tables.iter().collect();
    sorted.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    for (def, batch) in sorted {
        let bytes = pilotage_core::release::files::parquet_bytes(batch, version, def)?;
        files.push(PrivateFile {
            id: def.id.clone(),
            definition_version: def.version.clone(),
            rows: batch.num_rows() as u64,
            bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
        });
        contents.push((format!("{}.parquet", def.id), bytes));
    }
    let manifest = PrivateManifest {
        version: version.to_owned(),
        tables: files,
    };
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    manifest_bytes.push(b'\n');
    contents.push((MANIFEST.to_owned(), manifest_bytes.clone()));
    fs::create_dir_all(private).with_context(|| format!("creating {}", private.display()))?;
    let dir = private.join(version);
    if dir.exists() {
        let existing = fs::read(dir.join(MANIFEST))
            .with_context(|| format!("reading {}", dir.join(MANIFEST).display()))?;
        if existing != manifest_bytes {
            bail!(
                "{} already holds other professional tables for release {version}",
                dir.display()
            );
        }
    } else {
        write_folder(private, version, &contents)?;
    }
    switch_current(private, version)?;
    Ok(WrittenPrivate { dir, manifest })
}

fn write_folder(root: &Path, version: &str, contents: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    let tmp = root.join(format!(".tmp-{version}-{}", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir(&tmp)?;
        for (name, bytes) in contents {
            let mut file = File::create(tmp.join(name))?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, root.join(version))?;
        File::open(root)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() && tmp.exists() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result.with_context(|| format!("writing the professional tables into {}", root.display()))
}

fn switch_current(root: &Path, version: &str) -> anyhow::Result<()> {
    let link = root.join(CURRENT);
    let tmp = root.join(format!(".{CURRENT}-{}", std::process::id()));
    if fs::symlink_metadata(&tmp).is_ok() {
        fs::remove_file(&tmp)?;
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(version, &tmp)
        .with_context(|| format!("linking {}", tmp.display()))?;
    fs::rename(&tmp, &link).with_context(|| format!("switching {}", link.display()))?;
    File::open(root)?.sync_all()?;
    Ok(())
}

/// The version `<private>/current` points at, if any.
pub fn current_version(private: &Path) -> Option<String> {
    fs::read_link(private.join(CURRENT))
        .ok()
        .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
}
