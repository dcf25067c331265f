//! Lookups shared by the computations: structures, persons, excluded applications.

use std::cell::OnceCell;

use arrow_array::Array;

use super::columns::{CodeTable, ints, strings};
use super::{Context, IndicatorError, Sources};
use crate::cube::int_map::IntMap;
use crate::domain::StructureKind;
use crate::source::SourceTable;

/// A 128-bit key for a person's `hash_nir`: the first 32 hexadecimal digits of a well-formed
/// hash (a keyed SHA-256: its prefix is as unique as the whole), else a 128-bit FNV-1a of the
/// bytes. No allocation.
pub(crate) fn person_key(hash: &str) -> u128 {
    let b = hash.as_bytes();
    if b.len() >= 32 {
        let mut key = 0u128;
        let mut ok = true;
        for &c in &b[..32] {
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => {
                    ok = false;
                    break;
                }
            };
            key = (key << 4) | u128::from(v);
        }
        if ok {
            return key;
        }
    }
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &c in b {
        h ^= u128::from(c);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    h
}

/// The structures table, indexed.
#[derive(Debug, Default)]
pub(crate) struct Structures {
    /// Platform id → dense index.
    pub by_id: IntMap<i64, u32>,
    /// ASP id → dense index (the first structure carrying it).
    pub by_asp: IntMap<i64, u32>,
    /// Kind of each structure.
    pub kind: Vec<StructureKind>,
    /// Geography index of each structure's département ([`crate::cube::NONE`] if unknown).
    pub dep: Vec<u32>,
    /// Whether the record is an administrative one (not an antenne created by a user).
    pub administrative: Vec<bool>,
    /// Creation date (`Date32`).
    pub created_at: Vec<i32>,
}

impl Structures {
    /// The dense index of the structure with platform id `id`, referenced from `column` of
    /// `table`; an unknown id is an error naming them.
    pub fn by_platform_id(
        &self,
        id: i64,
        table: SourceTable,
        column: &'static str,
    ) -> Result<u32, IndicatorError> {
        Self::lookup(&self.by_id, id, table, column)
    }

    /// The dense index of the structure with ASP id `id`, referenced from `column` of
    /// `table`; an unknown id is an error naming them.
    pub fn by_asp_id(
        &self,
        id: i64,
        table: SourceTable,
        column: &'static str,
    ) -> Result<u32, IndicatorError> {
        Self::lookup(&self.by_asp, id, table, column)
    }

    fn lookup(
        map: &IntMap<i64, u32>,
        id: i64,
        table: SourceTable,
        column: &'static str,
    ) -> Result<u32, IndicatorError> {
        map.get(&id)
            .copied()
            .ok_or_else(|| IndicatorError::UnknownReference {
                table: table.name(),
                column,
                value: id.to_string(),
            })
    }
}

/// Lookups built once and shared by every computation of a run.
pub struct Prepared<'a> {
    pub(crate) sources: &'a Sources,
    pub(crate) context: &'a Context,
    structures: OnceCell<Structures>,
    persons: OnceCell<IntMap<u128, u32>>,
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared").finish_non_exhaustive()
    }
}

impl<'a> Prepared<'a> {
    /// Wraps the sources and context; lookups are built on first use.
    pub fn new(sources: &'a Sources, context: &'a Context) -> Prepared<'a> {
        Prepared {
            sources,
            context,
            structures: OnceCell::new(),
            persons: OnceCell::new(),
        }
    }

    pub(crate) fn structures(&self) -> Result<&Structures, IndicatorError> {
        if let Some(s) = self.structures.get() {
            return Ok(s);
        }
        let t = SourceTable::Structures;
        let kinds = CodeTable::<StructureKind>::new();
        let sources = CodeTable::<crate::source::StructureSource>::new();
        let mut s = Structures::default();
        for batch in self.sources.batches(t) {
            let id = ints(batch, t, "id")?;
            let asp = ints(batch, t, "asp_id")?;
            let kind = strings(batch, t, "kind")?;
            let dep = strings(batch, t, "departement")?;
            let source = strings(batch, t, "source")?;
            let created = super::columns::dates(batch, t, "created_at")?;
            for i in 0..batch.num_rows() {
                let index = s.kind.len() as u32;
                s.by_id.insert(id.value(i), index);
                if let Some(a) = super::columns::opt(asp, i) {
                    s.by_asp.entry(a).or_insert(index);
                }
                let k = kinds
                    .at(kind, i, t, "kind")?
                    .ok_or(IndicatorError::UnknownCode {
                        table: t.name(),
                        column: "kind",
                        value: String::new(),
                    })?;
                s.kind.push(k);
                let d = if dep.is_null(i) {
                    None
                } else {
                    self.context.geography.index(dep.value(i))
                };
                s.dep.push(d.unwrap_or(crate::cube::NONE));
                let src = sources.at(source, i, t, "source")?;
                s.administrative.push(!matches!(
                    src,
                    Some(crate::source::StructureSource::UserCreated) | None
                ));
                s.created_at.push(created.value(i));
            }
        }
        Ok(self.structures.get_or_init(|| s))
    }

    /// Dense person id of a `hash_nir`, numbering persons in order of first appearance over
    /// the candidatures then the PASS IAE tables.
    pub(crate) fn persons(&self) -> Result<&IntMap<u128, u32>, IndicatorError> {
        if let Some(p) = self.persons.get() {
            return Ok(p);
        }
        let mut map: IntMap<u128, u32> = IntMap::default();
        for t in [SourceTable::Candidatures, SourceTable::PassIae] {
            for batch in self.sources.batches(t) {
                let hash = strings(batch, t, "hash_nir")?;
                for i in 0..batch.num_rows() {
                    let next = map.len() as u32;
                    map.entry(person_key(hash.value(i))).or_insert(next);
                }
            }
        }
        Ok(self.persons.get_or_init(|| map))
    }

    /// Dense person id of a `hash_nir` ([`crate::cube::NONE`] if the tables never name it).
    pub(crate) fn person(&self, hash: &str) -> Result<u32, IndicatorError> {
        Ok(self
            .persons()?
            .get(&person_key(hash))
            .copied()
            .unwrap_or(crate::cube::NONE))
    }

    /// The creation-path filter of a definition: true for the paths whose rows are left out.
    pub(crate) fn excluded_paths(def: &crate::dataset::Definition) -> [bool; 4] {
        let mut out = [false; 4];
        for p in &def.methodology.excluded_creation_paths {
            out[super::columns::position(*p)] = true;
        }
        out
    }
}
