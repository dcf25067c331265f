//! Row validation: types are checked by the readers, everything else here — nullability,
//! codes of the domain enumerations, territory codes, text formats (and placeholder hashes),
//! ranges, dates, primary-key uniqueness and references between tables.

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pilotage_core::source::{Allowed, ColumnSpec, SourceTable, TerritoryLevel, TextFormat};
use pilotage_core::territory::Referential;

/// The error types live in [`super::errors`], below the readers and this validator; they are
/// named here too, where the validator's callers have always found them.
pub use super::errors::{ErrorSink, RowError};
use super::text::SourceChunk;
use crate::storage::columns::ColumnView;
use crate::storage::date;

/// Earliest date accepted in any date column: 1980-01-01.
pub const DATE_MIN: (i32, u32, u32) = (1980, 1, 1);
/// Latest date accepted in any date column: 2100-12-31.
pub const DATE_MAX: (i32, u32, u32) = (2100, 12, 31);

/// `hash_nir` values that are well-formed but stand for no person: all zeros, all `f`, and the
/// SHA-256 of the empty string (what hashing a missing NIR gives).
pub const PLACEHOLDER_HASHES: &[&str] = &[
    "0000000000000000000000000000000000000000000000000000000000000000",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
];

/// A fast, non-cryptographic hasher for text keys (FxHash's word folding): keys are private
/// input checked once, so flooding resistance buys nothing, and SipHash was a large share of the
/// validation time on `hash_nir` columns (the measurement is in the storage diary of
/// `benches/log/`).
#[derive(Default, Clone, Copy)]
pub struct FoldHasher(u64);

impl std::hash::Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The INSEE codes of the official referential's communes, hashed: one hash and one comparison
/// per value instead of a binary search over 35,000 sorted codes (fifteen string comparisons,
/// most missing the cache), for a check made on several million cells per load.
fn commune_codes() -> &'static HashSet<&'static str, BuildHasherDefault<FoldHasher>> {
    static CODES: OnceLock<HashSet<&'static str, BuildHasherDefault<FoldHasher>>> = OnceLock::new();
    CODES.get_or_init(|| {
        Referential::official()
            .communes()
            .iter()
            .map(|c| c.code.as_str())
            .collect()
    })
}

/// Bytes of a text key stored inline in a [`TextKey`]: a `hash_nir`'s 64 hexadecimal digits.
pub const INLINE_KEY: usize = 64;

/// A text key: inline up to [`INLINE_KEY`] bytes (zero-padded), on the heap beyond. Inline keys
/// cost no allocation each, and a lookup compares the bytes in the table's own entry instead of
/// following a pointer to them (a cache miss per lookup in sets of a million `hash_nir`s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextKey {
    /// A key of at most [`INLINE_KEY`] bytes.
    Inline {
        /// Its length.
        len: u8,
        /// Its bytes, then zeros.
        bytes: [u8; INLINE_KEY],
    },
    /// A longer key.
    Heap(Box<[u8]>),
}

impl TextKey {
    /// The key holding `text`.
    pub fn new(text: &str) -> TextKey {
        let raw = text.as_bytes();
        match u8::try_from(raw.len()) {
            Ok(len) if raw.len() <= INLINE_KEY => {
                let mut bytes = [0u8; INLINE_KEY];
                bytes[..raw.len()].copy_from_slice(raw);
                TextKey::Inline { len, bytes }
            }
            _ => TextKey::Heap(raw.into()),
        }
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            TextKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            TextKey::Heap(bytes) => bytes,
        }
    }
}

// Hashes as its bytes, so that maps keyed by `TextKey` are searched with a `&[u8]`.
impl std::hash::Hash for TextKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl std::borrow::Borrow<[u8]> for TextKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Text keys with the first line each appeared on.
pub type TextKeys =
    std::collections::HashMap<TextKey, u64, std::hash::BuildHasherDefault<FoldHasher>>;

/// The distinct values of a key column: integers sorted for binary search (and, when they are
/// dense, as a bitmap over their range), text hashed.
#[derive(Debug, Default)]
pub struct KeySet {
    ints: Vec<i64>,
    /// The integers as a bitmap from the smallest one, when their range is at most 64 times
    /// their count (identifiers numbered from 1 are): one memory access per lookup instead of a
    /// binary search missing the cache at every step in a set of a million keys, for no more
    /// memory than `ints`.
    bits: Option<(i64, Vec<u64>)>,
    texts: TextKeys,
}

impl KeySet {
    /// Builds a set from loose values.
    pub fn new(mut ints: Vec<i64>, texts: Vec<String>) -> KeySet {
        ints.sort_unstable();
        ints.dedup();
        let bits = match (ints.first(), ints.last()) {
            (Some(&min), Some(&max))
                if i128::from(max) - i128::from(min) < 64 * ints.len() as i128 =>
            {
                let span = max.abs_diff(min) as usize + 1;
                let mut words = vec![0u64; span.div_ceil(64)];
                for &v in &ints {
                    let offset = v.abs_diff(min) as usize;
                    words[offset / 64] |= 1 << (offset % 64);
                }
                Some((min, words))
            }
            _ => None,
        };
        let texts = texts.iter().map(|t| (TextKey::new(t), 0)).collect();
        KeySet { ints, bits, texts }
    }

    fn contains_int(&self, v: i64) -> bool {
        match &self.bits {
            Some((min, words)) => {
                if v < *min {
                    return false;
                }
                let offset = v.abs_diff(*min);
                usize::try_from(offset / 64)
                    .ok()
                    .and_then(|word| words.get(word))
                    .is_some_and(|w| (w >> (offset % 64)) & 1 == 1)
            }
            None => self.ints.binary_search(&v).is_ok(),
        }
    }

    fn contains_text(&self, v: &str) -> bool {
        self.texts.contains_key(v.as_bytes())
    }
}

/// The key sets of a run, per referenced (table, column).
pub type RunKeys = BTreeMap<(SourceTable, &'static str), KeySet>;

/// Every (table, column) some foreign key points at.
pub fn referenced_columns() -> Vec<(SourceTable, &'static str)> {
    let mut out: Vec<_> = SourceTable::ALL
        .iter()
        .flat_map(|t| {
            t.foreign_keys()
                .iter()
                .map(|fk| (fk.table, fk.target_column))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

enum Rule {
    Free,
    Codes(&'static str, Vec<&'static str>),
    Territory(TerritoryLevel),
    Format(TextFormat),
    IntRange(i64, i64),
    FloatRange(f64, f64),
}

enum Reference {
    None,
    /// To another table: the key set is in [`RunKeys`] under this key.
    Other(SourceTable, &'static str),
    /// To a column of the same table, checked once the table is read.
    SameTable(usize),
}

struct ColumnCheck {
    spec: &'static ColumnSpec,
    rule: Rule,
    reference: Reference,
    /// Collect this column's values: it is the primary key or a referenced column.
    collect: bool,
}

/// Values of one column with the line each came from.
#[derive(Default)]
struct Collected {
    ints: Vec<(i64, u64)>,
    /// Text values with the first line each appeared on.
    texts: TextKeys,
    /// Text values seen again: (value, first line, line).
    text_duplicates: Vec<(String, u64, u64)>,
}

/// Validates the rows of one table of a run.
pub struct TableValidator {
    table: SourceTable,
    file: PathBuf,
    checks: Vec<ColumnCheck>,
    collected: Vec<Collected>,
    /// Deferred same-table references: (column, value, line).
    deferred_ints: Vec<(usize, i64, u64)>,
    pk: Option<usize>,
    date_min: i32,
    date_max: i32,
}

impl TableValidator {
    /// A validator for `table` read from `file`.
    pub fn new(table: SourceTable, file: &Path) -> TableValidator {
        let referenced = referenced_columns();
        let pk = match table.primary_key() {
            [one] => table.columns().iter().position(|c| c.name == *one),
            _ => None,
        };
        let checks = table
            .columns()
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let rule = match spec.allowed {
                    Allowed::Free => Rule::Free,
                    Allowed::Codes(list) => {
                        let mut codes = list.codes();
                        codes.sort_unstable();
                        if codes.is_empty() {
                            Rule::Free
                        } else {
                            Rule::Codes(list.name(), codes)
                        }
                    }
                    Allowed::Territory(level) => Rule::Territory(level),
                    Allowed::Format(format) => Rule::Format(format),
                    Allowed::IntRange { min, max } => Rule::IntRange(min, max),
                    Allowed::FloatRange { min, max } => Rule::FloatRange(min, max),
                };
                let reference = match table
                    .foreign_keys()
                    .iter()
                    .find(|fk| fk.column == spec.name)
                {
                    None => Reference::None,
                    Some(fk) if fk.table == table => table
                        .columns()
                        .iter()
                        .position(|c| c.name == fk.target_column)
                        .map_or(Reference::None, Reference::SameTable),
                    Some(fk) => Reference::Other(fk.table, fk.target_column),
                };
                let collect = pk == Some(i) || referenced.contains(&(table, spec.name));
                ColumnCheck {
                    spec,
                    rule,
                    reference,
                    collect,
                }
            })
            .collect::<Vec<_>>();
        let collected = checks.iter().map(|_| Collected::default()).collect();
        TableValidator {
            table,
            file: file.to_owned(),
            checks,
            collected,
            deferred_ints: Vec::new(),
            pk,
            date_min: date::days_from_civil(DATE_MIN.0, DATE_MIN.1, DATE_MIN.2),
            date_max: date::days_from_civil(DATE_MAX.0, DATE_MAX.1, DATE_MAX.2),
        }
    }

    /// The (table, column) key sets this table's references need.
    pub fn needed_targets(table: SourceTable) -> Vec<(SourceTable, &'static str)> {
        table
            .foreign_keys()
            .iter()
            .filter(|fk| fk.table != table)
            .map(|fk| (fk.table, fk.target_column))
            .collect()
    }

    fn error(&self, line: u64, spec: &ColumnSpec, value: String, rule: String) -> RowError {
        RowError {
            file: self.file.clone(),
            line: Some(line),
            column: Some(spec.name.to_owned()),
            value: Some(value),
            rule,
        }
    }

    /// Checks every row of `chunk`, reporting problems to `sink`.
    pub fn check(&mut self, chunk: &SourceChunk, keys: &RunKeys, sink: &mut ErrorSink) {
        let Some(views) = ColumnView::of_batch(self.table, &chunk.batch) else {
            sink.push(RowError::file(
                &self.file,
                "internal: batch does not have the table's types",
            ));
            return;
        };
        let referential = Referential::official();
        let ncols = views.len();
        // Resolve each column's referenced key set once per chunk, not once per cell.
        let targets: Vec<Option<&KeySet>> = self
            .checks
            .iter()
            .map(|c| match c.reference {
                Reference::Other(table, column) => keys.get(&(table, column)),
                _ => None,
            })
            .collect();
        for (row, &line) in chunk.lines.iter().enumerate() {
            if sink.is_full() {
                return;
            }
            for (col, view) in views.iter().enumerate() {
                if chunk
                    .failed
                    .get(row * ncols + col)
                    .copied()
                    .unwrap_or(false)
                {
                    continue;
                }
                let check = &self.checks[col];
                let spec = check.spec;
                if view.is_null(row) {
                    if !spec.nullable {
                        sink.push(self.error(
                            line,
                            spec,
                            String::new(),
                            "required: may not be empty".to_owned(),
                        ));
                    }
                    continue;
                }
                if let Some(rule) = self.broken_rule(check, view, row, referential) {
                    sink.push(self.error(line, spec, view.display(row), rule));
                    continue;
                }
                match (&check.reference, view) {
                    (Reference::Other(target, column), _) => {
                        let set = targets[col];
                        let found = match view {
                            ColumnView::Int64(a) => {
                                set.is_some_and(|s| s.contains_int(a.value(row)))
                            }
                            ColumnView::Int32(a) => {
                                set.is_some_and(|s| s.contains_int(i64::from(a.value(row))))
                            }
                            ColumnView::Utf8(a) => {
                                set.is_some_and(|s| s.contains_text(a.value(row)))
                            }
                            _ => true,
                        };
                        if !found {
                            sink.push(self.error(
                                line,
                                spec,
                                view.display(row),
                                format!("dangling reference: no {target}.{column} has this value"),
                            ));
                        }
                    }
                    (Reference::SameTable(target), ColumnView::Int64(a)) => {
                        self.deferred_ints.push((*target, a.value(row), line));
                    }
                    _ => {}
                }
                if check.collect {
                    match view {
                        ColumnView::Int64(a) => self.collected[col].ints.push((a.value(row), line)),
                        ColumnView::Int32(a) => self.collected[col]
                            .ints
                            .push((i64::from(a.value(row)), line)),
                        ColumnView::Utf8(a) => {
                            let value = a.value(row);
                            let collected = &mut self.collected[col];
                            match collected.texts.get(value.as_bytes()) {
                                Some(&first) => {
                                    collected
                                        .text_duplicates
                                        .push((value.to_owned(), first, line))
                                }
                                None => {
                                    collected.texts.insert(TextKey::new(value), line);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    fn broken_rule(
        &self,
        check: &ColumnCheck,
        view: &ColumnView<'_>,
        row: usize,
        referential: &Referential,
    ) -> Option<String> {
        match (view, &check.rule) {
            (ColumnView::Utf8(a), Rule::Codes(list, codes)) => {
                let v = a.value(row);
                // Comparing lengths and first bytes first spares most calls to memcmp.
                let first = v.as_bytes().first();
                (!codes
                    .iter()
                    .any(|c| c.len() == v.len() && c.as_bytes().first() == first && *c == v))
                .then(|| format!("unknown code: not one of the {list} codes"))
            }
            (ColumnView::Utf8(a), Rule::Territory(level)) => {
                let v = a.value(row);
                let known = match level {
                    TerritoryLevel::Commune => commune_codes().contains(v),
                    TerritoryLevel::Departement => referential.departement(v).is_some(),
                    TerritoryLevel::Region => referential.region(v).is_some(),
                };
                (!known).then(|| {
                    format!(
                        "unknown {} code in the official referential (INSEE COG)",
                        level.name()
                    )
                })
            }
            (ColumnView::Utf8(a), Rule::Format(format)) => {
                let v = a.value(row);
                if !format.matches(v) {
                    Some(format!("invalid format: expected {}", format.describe()))
                } else if *format == TextFormat::Sha256Hex
                    && PLACEHOLDER_HASHES
                        .iter()
                        .any(|p| p.as_bytes().get(..2) == v.as_bytes().get(..2) && *p == v)
                {
                    Some("placeholder hash: stands for no real person".to_owned())
                } else {
                    None
                }
            }
            (ColumnView::Int32(a), Rule::IntRange(min, max)) => {
                let v = i64::from(a.value(row));
                (v < *min || v > *max).then(|| format!("out of range: must be from {min} to {max}"))
            }
            (ColumnView::Int64(a), Rule::IntRange(min, max)) => {
                let v = a.value(row);
                (v < *min || v > *max).then(|| format!("out of range: must be from {min} to {max}"))
            }
            (ColumnView::Float64(a), rule) => {
                let v = a.value(row);
                if !v.is_finite() {
                    Some("not a finite number".to_owned())
                } else if let Rule::FloatRange(min, max) = rule {
                    (v < *min || v > *max)
                        .then(|| format!("out of range: must be from {min} to {max}"))
                } else {
                    None
                }
            }
            (ColumnView::Date32(a), _) => {
                let v = a.value(row);
                (v < self.date_min || v > self.date_max).then(|| {
                    format!(
                        "date out of range: must be from {} to {}",
                        date::format_iso_date(self.date_min),
                        date::format_iso_date(self.date_max)
                    )
                })
            }
            _ => None,
        }
    }

    /// Ends the table: checks primary-key uniqueness and same-table references, and adds the
    /// table's referenced key sets to `keys`.
    pub fn finish(mut self, keys: &mut RunKeys, sink: &mut ErrorSink) {
        if let Some(pk) = self.pk {
            let spec = self.checks[pk].spec;
            let mut dups: Vec<RowError> = Vec::new();
            let mut ints = std::mem::take(&mut self.collected[pk].ints);
            ints.sort_unstable();
            for pair in ints.windows(2) {
                if pair[0].0 == pair[1].0 {
                    dups.push(self.duplicate(spec, pair[0].0.to_string(), pair[0].1, pair[1].1));
                }
            }
            self.collected[pk].ints = ints;
            for (value, first, line) in std::mem::take(&mut self.collected[pk].text_duplicates) {
                dups.push(self.duplicate(spec, value, first, line));
            }
            dups.sort_by_key(|e| e.line);
            for e in dups {
                sink.push(e);
            }
        }
        // Same-table references (a renewal's parent contract).
        let mut deferred = std::mem::take(&mut self.deferred_ints);
        deferred.sort_by_key(|d| d.2);
        let mut targets: BTreeMap<usize, KeySet> = BTreeMap::new();
        for (target, value, line) in deferred {
            let set = targets.entry(target).or_insert_with(|| {
                KeySet::new(
                    self.collected[target]
                        .ints
                        .iter()
                        .map(|(k, _)| *k)
                        .collect(),
                    Vec::new(),
                )
            });
            if set.contains_int(value) {
                continue;
            }
            let target_name = self.checks[target].spec.name;
            let referencing = self
                .table
                .foreign_keys()
                .iter()
                .find(|fk| fk.table == self.table && fk.target_column == target_name);
            if let Some(spec) = referencing.and_then(|fk| self.table.column(fk.column)) {
                sink.push(self.error(
                    line,
                    spec,
                    value.to_string(),
                    format!(
                        "dangling reference: no {}.{target_name} has this value",
                        self.table
                    ),
                ));
            }
        }
        let referenced = referenced_columns();
        for (col, check) in self.checks.iter().enumerate() {
            if referenced.contains(&(self.table, check.spec.name)) {
                let c = std::mem::take(&mut self.collected[col]);
                let mut set = KeySet::new(c.ints.into_iter().map(|(k, _)| k).collect(), Vec::new());
                set.texts = c.texts;
                keys.insert((self.table, check.spec.name), set);
            }
        }
    }

    fn duplicate(&self, spec: &ColumnSpec, value: String, first: u64, line: u64) -> RowError {
        self.error(
            line,
            spec,
            value,
            format!("duplicate primary key: already on line {first}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::KeySet;

    #[test]
    fn the_commune_set_agrees_with_the_referential() {
        let referential = pilotage_core::territory::Referential::official();
        for code in [
            "01001", "2A004", "97411", "75056", "00000", "2A", "99999", "0100", "",
        ] {
            assert_eq!(
                super::commune_codes().contains(code),
                referential.commune(code).is_some(),
                "{code}"
            );
        }
        assert_eq!(super::commune_codes().len(), referential.communes().len());
    }

    #[test]
    fn text_keys_are_found_inline_or_not() {
        let long = "x".repeat(super::INLINE_KEY + 1);
        let hash = "ab".repeat(32);
        let values = ["", "a", "75056", hash.as_str(), long.as_str()];
        let set = KeySet::new(Vec::new(), values.iter().map(|v| v.to_string()).collect());
        for v in values {
            assert!(set.contains_text(v), "{v}");
            assert_eq!(super::TextKey::new(v).as_bytes(), v.as_bytes());
        }
        assert!(matches!(
            super::TextKey::new(&hash),
            super::TextKey::Inline { .. }
        ));
        assert!(matches!(
            super::TextKey::new(&long),
            super::TextKey::Heap(_)
        ));
        for v in ["b", "7505", &hash[..63], &long[1..]] {
            assert!(!set.contains_text(v), "{v}");
        }
    }

    #[test]
    fn key_sets_answer_the_same_dense_or_sparse() {
        let dense: Vec<i64> = (-5..300).filter(|v| v % 7 != 3).collect();
        let sparse: Vec<i64> = vec![i64::MIN, -1_000_000_007, 0, 42, 1 << 40, i64::MAX];
        for values in [dense, sparse, vec![9], Vec::new()] {
            let set = KeySet::new(values.iter().rev().copied().collect(), Vec::new());
            for probe in (-20..320).chain([i64::MIN, i64::MAX, 1 << 40, -1_000_000_007]) {
                assert_eq!(set.contains_int(probe), values.contains(&probe), "{probe}");
            }
        }
        assert!(KeySet::new((1..=1000).collect(), Vec::new()).bits.is_some());
        assert!(KeySet::new(vec![1, 1 << 20], Vec::new()).bits.is_none());
    }
}
