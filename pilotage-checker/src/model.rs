//! The release as the checker sees it: per dataset, its dimensions with their hierarchies
//! rebuilt from the definition and the geography, its rows indexed by their codes, the parent
//! and children of every row along every dimension, and per measure its class and statuses.

use std::collections::HashMap;

use arrow_array::{
    Array, Float64Array, Int64Array, LargeStringArray, RecordBatch, StringArray, UInt64Array,
};
use pilotage_core::dataset::{Definition, DimensionType, MeasureKind, TimeRule};

/// "No row" / "no member".
pub(crate) const NONE: u32 = u32::MAX;

/// Status of a value in a published table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Not applicable (null value, null status).
    Absent,
    /// Published.
    Published,
    /// Hidden.
    Secret,
}

/// How statistical secrecy treats a measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A count of public things (structures, …).
    Public,
    /// A count of persons or events (integers).
    Count,
    /// A magnitude (ETP, hours: reals).
    Magnitude,
    /// A rate or a difference of two measures of the row.
    Derived,
    /// A median, paired with the count of its observations.
    Median,
}

impl Class {
    /// Counts and magnitudes: the values relations tie and points move.
    pub fn is_base(self) -> bool {
        matches!(self, Class::Count | Class::Magnitude)
    }
}

/// One dimension with its hierarchy, members interned in order of appearance.
#[derive(Debug)]
pub(crate) struct Dimension {
    pub id: String,
    pub kind: DimensionType,
    pub sensitive: bool,
    pub codes: Vec<String>,
    pub lookup: HashMap<String, u32>,
    /// Parent member, or [`NONE`] at the top.
    pub parent: Vec<u32>,
    /// The total member ([`NONE`] for a period).
    pub total: u32,
    /// Period: the member ends its parent's period (month 3, 6, 9, 12 or quarter T4).
    pub ends_parent: Vec<bool>,
    /// Period: as a parent, the number of children its average divides by (3 for a quarter,
    /// 4 for a year), else 1.
    pub divisor: Vec<u8>,
    total_code: Option<String>,
    /// Categorical: parent code of every member of the definition.
    member_parent: HashMap<String, String>,
}

impl Dimension {
    fn new(def: &Definition, index: usize, sensitive_ids: &[String]) -> Dimension {
        let d = &def.dimensions[index];
        let mut member_parent = HashMap::new();
        if d.kind == DimensionType::Categorical {
            for m in d.levels.iter().flat_map(|l| l.members.iter()) {
                if let Some(p) = m.parent.clone().or_else(|| d.total.clone()) {
                    member_parent.insert(m.code.clone(), p);
                }
            }
        }
        let mut dim = Dimension {
            id: d.id.clone(),
            kind: d.kind,
            sensitive: d.is_sensitive() || sensitive_ids.contains(&d.id),
            codes: Vec::new(),
            lookup: HashMap::new(),
            parent: Vec::new(),
            total: NONE,
            ends_parent: Vec::new(),
            divisor: Vec::new(),
            total_code: d.total.clone(),
            member_parent,
        };
        if let Some(total) = &d.total {
            dim.total = dim.intern(total);
        }
        dim
    }

    fn intern(&mut self, code: &str) -> u32 {
        if let Some(&id) = self.lookup.get(code) {
            return id;
        }
        let id = self.codes.len() as u32;
        self.codes.push(code.to_owned());
        self.lookup.insert(code.to_owned(), id);
        self.parent.push(NONE);
        self.ends_parent.push(false);
        self.divisor.push(1);
        id
    }

    /// Interns a code seen in a table, with its ancestors.
    fn intern_seen(&mut self, code: &str, regions: &HashMap<&str, &str>) -> u32 {
        if let Some(&id) = self.lookup.get(code) {
            return id;
        }
        let id = self.intern(code);
        let mut child = id;
        // Codes climb to the top, so this ends.
        while let Some((p, ends, divisor)) = self.parent_code(&self.codes[child as usize], regions)
        {
            let known = self.lookup.contains_key(&p);
            let pid = self.intern(&p);
            self.parent[child as usize] = pid;
            self.ends_parent[child as usize] = ends;
            self.divisor[pid as usize] = divisor;
            if known || self.codes.len() > 1_000_000 {
                break;
            }
            child = pid;
        }
        id
    }

    /// The parent code of `code`, whether `code` ends the parent's period, and the parent's
    /// average divisor.
    fn parent_code(&self, code: &str, regions: &HashMap<&str, &str>) -> Option<(String, bool, u8)> {
        let total = self.total_code.as_deref();
        match self.kind {
            DimensionType::Territory => {
                if Some(code) == total {
                    None
                } else if let Some(dep) = code.strip_prefix("DEP-") {
                    regions.get(dep).map(|r| (format!("REG-{r}"), false, 1))
                } else if code.starts_with("REG-") {
                    total.map(|t| (t.to_owned(), false, 1))
                } else {
                    None
                }
            }
            DimensionType::Period => period_parent(code),
            DimensionType::Categorical => {
                if Some(code) == total {
                    None
                } else {
                    self.member_parent.get(code).map(|p| (p.clone(), false, 1))
                }
            }
        }
    }
}

/// Parent of a period code: `YYYY-MM` → `YYYY-Tq`, `YYYY-Tq` → `YYYY`.
fn period_parent(code: &str) -> Option<(String, bool, u8)> {
    let (year, rest) = code.split_once('-')?;
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(q) = rest.strip_prefix('T') {
        let q: u32 = q.parse().ok()?;
        (1..=4).contains(&q).then(|| (year.to_owned(), q == 4, 4))
    } else {
        let month: u32 = rest.parse().ok()?;
        (1..=12).contains(&month).then(|| {
            (
                format!("{year}-T{}", (month - 1) / 3 + 1),
                month.is_multiple_of(3),
                3,
            )
        })
    }
}

/// One measure of a table.
#[derive(Debug)]
pub(crate) struct MeasureInfo {
    pub id: String,
    pub kind: MeasureKind,
    pub class: Class,
    pub time: Option<TimeRule>,
    pub decimals: Option<u32>,
    /// Rate/difference: indices of its two parts.
    pub parts: Option<(usize, usize)>,
    /// Median: index of the count of its observations.
    pub observations: Option<usize>,
    pub status: Vec<Status>,
    /// Published value (NaN where null).
    pub published: Vec<f64>,
}

/// One dataset's published table, indexed.
#[derive(Debug)]
pub(crate) struct Table<'a> {
    pub def: &'a Definition,
    pub dims: Vec<Dimension>,
    pub rows: usize,
    /// Member of each row, `rows × dims`.
    pub members: Vec<u32>,
    bits: u32,
    index: HashMap<u128, u32>,
    /// `parent_row[k][r]`: the row whose member along `k` is the parent of `r`'s ([`NONE`]).
    pub parent_row: Vec<Vec<u32>>,
    /// Children of each row along each dimension: `child_start[k][r]..child_start[k][r + 1]`
    /// indexes `child_rows[k]`.
    child_start: Vec<Vec<u32>>,
    child_rows: Vec<Vec<u32>>,
    /// `top_row[k][r]` for a sensitive dimension `k`: the row with the same codes but `k` at
    /// its total, when `r` is not at it ([`NONE`] otherwise); empty for other dimensions.
    pub top_row: Vec<Vec<u32>>,
    pub measures: Vec<MeasureInfo>,
}

impl<'a> Table<'a> {
    /// Reads a published batch against its definition.
    pub fn new(
        def: &'a Definition,
        batch: &RecordBatch,
        regions: &HashMap<&str, &str>,
        sensitive_ids: &[String],
    ) -> Result<Table<'a>, String> {
        let rows = batch.num_rows();
        let n = def.dimensions.len();
        let mut dims: Vec<Dimension> = (0..n)
            .map(|k| Dimension::new(def, k, sensitive_ids))
            .collect();
        let mut members = vec![0u32; rows * n];
        for (k, d) in def.dimensions.iter().enumerate() {
            let codes = string_column(batch, &d.id)?;
            for (r, code) in codes.iter().enumerate() {
                members[r * n + k] = dims[k].intern_seen(code, regions);
            }
        }
        let widest = dims.iter().map(|d| d.codes.len()).max().unwrap_or(0) as u32;
        let bits = (u32::BITS - widest.leading_zeros()).max(1);
        if bits as usize * n > 128 {
            return Err(format!(
                "{} dimensions of up to {widest} members do not fit a row key",
                n
            ));
        }
        let mut table = Table {
            def,
            dims,
            rows,
            members,
            bits,
            index: HashMap::with_capacity(rows),
            parent_row: Vec::new(),
            child_start: Vec::new(),
            child_rows: Vec::new(),
            top_row: Vec::new(),
            measures: Vec::new(),
        };
        for r in 0..rows {
            let key = table.key(table.row_members(r));
            if table.index.insert(key, r as u32).is_some() {
                return Err(format!("row {r} repeats the codes of an earlier row"));
            }
        }
        table.link();
        table.read_measures(batch)?;
        Ok(table)
    }

    /// The members of row `r`.
    pub fn row_members(&self, r: usize) -> &[u32] {
        let n = self.dims.len();
        &self.members[r * n..(r + 1) * n]
    }

    fn key(&self, members: &[u32]) -> u128 {
        members
            .iter()
            .fold(0u128, |k, &m| (k << self.bits) | u128::from(m))
    }

    /// The row with these members, if the table has it.
    pub fn find(&self, members: &[u32]) -> Option<u32> {
        if members.contains(&NONE) {
            return None;
        }
        self.index.get(&self.key(members)).copied()
    }

    /// The row of codes given as strings, one per dimension (codes unknown to the table:
    /// none).
    pub fn find_codes(&self, codes: &[&str]) -> Option<u32> {
        let members: Option<Vec<u32>> = codes
            .iter()
            .zip(&self.dims)
            .map(|(c, d)| d.lookup.get(*c).copied())
            .collect();
        self.find(&members?)
    }

    /// Children of row `r` along dimension `k`.
    pub fn children(&self, k: usize, r: usize) -> &[u32] {
        let s = &self.child_start[k];
        &self.child_rows[k][s[r] as usize..s[r + 1] as usize]
    }

    /// `(dimension id, code)` of row `r`, for messages.
    pub fn coordinates(&self, r: usize) -> Vec<(String, String)> {
        if r >= self.rows {
            return Vec::new();
        }
        self.dims
            .iter()
            .zip(self.row_members(r))
            .map(|(d, &m)| (d.id.clone(), d.codes[m as usize].clone()))
            .collect()
    }

    /// The code of row `r` along dimension `k`.
    pub fn code(&self, k: usize, r: usize) -> &str {
        &self.dims[k].codes[self.row_members(r)[k] as usize]
    }

    fn link(&mut self) {
        let n = self.dims.len();
        let mut scratch = vec![0u32; n];
        self.parent_row = vec![vec![NONE; self.rows]; n];
        self.top_row = vec![Vec::new(); n];
        for k in 0..n {
            let sensitive = self.dims[k].sensitive && self.dims[k].total != NONE;
            if sensitive {
                self.top_row[k] = vec![NONE; self.rows];
            }
            for r in 0..self.rows {
                scratch.copy_from_slice(self.row_members(r));
                let member = scratch[k];
                let parent = self.dims[k].parent[member as usize];
                if parent != NONE {
                    scratch[k] = parent;
                    self.parent_row[k][r] = self.find(&scratch).unwrap_or(NONE);
                }
                if sensitive && member != self.dims[k].total {
                    scratch[k] = self.dims[k].total;
                    self.top_row[k][r] = self.find(&scratch).unwrap_or(NONE);
                }
            }
            let mut counts = vec![0u32; self.rows + 1];
            for &p in &self.parent_row[k] {
                if p != NONE {
                    counts[p as usize + 1] += 1;
                }
            }
            for i in 0..self.rows {
                counts[i + 1] += counts[i];
            }
            let mut next = counts.clone();
            let mut list = vec![0u32; counts[self.rows] as usize];
            for (r, &p) in self.parent_row[k].iter().enumerate() {
                if p != NONE {
                    list[next[p as usize] as usize] = r as u32;
                    next[p as usize] += 1;
                }
            }
            self.child_start.push(counts);
            self.child_rows.push(list);
        }
    }

    fn read_measures(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let dims: Vec<&str> = self.def.dimensions.iter().map(|d| d.id.as_str()).collect();
        let schema = batch.schema();
        let mut ids = Vec::new();
        for f in schema.fields() {
            let name = f.name().as_str();
            let is_dim = dims.iter().any(|d| {
                name == *d
                    || name
                        .strip_prefix(*d)
                        .is_some_and(|rest| rest == pilotage_core::release::LEVEL_SUFFIX)
            });
            if is_dim || name.ends_with(pilotage_core::release::STATUS_SUFFIX) {
                continue;
            }
            ids.push(name.to_owned());
        }
        for id in &ids {
            let m = self
                .def
                .measure(id)
                .ok_or_else(|| format!("column {id:?} is no measure of the definition"))?;
            let class = match m.kind {
                MeasureKind::Persons | MeasureKind::Events if m.counts_public_things() => {
                    Class::Public
                }
                MeasureKind::Persons | MeasureKind::Events => Class::Count,
                MeasureKind::Magnitude => Class::Magnitude,
                MeasureKind::Rate | MeasureKind::Difference => Class::Derived,
                MeasureKind::Median => Class::Median,
            };
            let published = number_column(batch, id)?;
            let status_col = string_or_null_column(
                batch,
                &format!("{id}{}", pilotage_core::release::STATUS_SUFFIX),
            )?;
            let status = status_col
                .iter()
                .zip(&published)
                .map(|(s, v)| match s.as_deref() {
                    Some(pilotage_core::release::STATUS_SECRET) => Status::Secret,
                    Some(_) if !v.is_nan() => Status::Published,
                    Some(_) => Status::Secret,
                    None => Status::Absent,
                })
                .collect();
            self.measures.push(MeasureInfo {
                id: id.clone(),
                kind: m.kind,
                class,
                time: m.time,
                decimals: m.decimals,
                parts: None,
                observations: None,
                status,
                published,
            });
        }
        for d in &self.def.measures {
            if !ids.contains(&d.id) {
                return Err(format!("measure {:?} has no column", d.id));
            }
        }
        let position = |id: &str| self.measures.iter().position(|m| m.id == id);
        let mut parts = Vec::new();
        for m in &self.measures {
            let def = self.def.measure(&m.id);
            parts.push(match (m.class, def.map(|d| d.of.as_slice())) {
                (Class::Derived, Some([a, b])) => position(a).zip(position(b)),
                _ => None,
            });
        }
        let counts: Vec<usize> = (0..self.measures.len())
            .filter(|&i| self.measures[i].class == Class::Count)
            .collect();
        let mut medians = 0;
        for (i, p) in parts.into_iter().enumerate() {
            self.measures[i].parts = p;
            if self.measures[i].class == Class::Median {
                self.measures[i].observations = counts.get(medians).copied();
                medians += 1;
            }
        }
        Ok(())
    }
}

/// Région of every département code (`"01"` → `"84"`).
pub(crate) fn regions(pairs: &[(String, String)]) -> HashMap<&str, &str> {
    pairs
        .iter()
        .map(|(d, r)| (d.as_str(), r.as_str()))
        .collect()
}

fn column<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b dyn Array, String> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| format!("no column {name:?}"))
}

/// A non-null string column.
pub(crate) fn string_column(batch: &RecordBatch, name: &str) -> Result<Vec<String>, String> {
    string_or_null_column(batch, name)?
        .into_iter()
        .enumerate()
        .map(|(r, s)| s.ok_or_else(|| format!("column {name:?}: null at row {r}")))
        .collect()
}

/// A string column with nulls.
pub(crate) fn string_or_null_column(
    batch: &RecordBatch,
    name: &str,
) -> Result<Vec<Option<String>>, String> {
    let col = column(batch, name)?;
    if let Some(a) = col.as_any().downcast_ref::<StringArray>() {
        Ok(a.iter().map(|s| s.map(str::to_owned)).collect())
    } else if let Some(a) = col.as_any().downcast_ref::<LargeStringArray>() {
        Ok(a.iter().map(|s| s.map(str::to_owned)).collect())
    } else {
        Err(format!(
            "column {name:?} is {:?}, not a string",
            col.data_type()
        ))
    }
}

/// A numeric column as f64, NaN where null.
pub(crate) fn number_column(batch: &RecordBatch, name: &str) -> Result<Vec<f64>, String> {
    let col = column(batch, name)?;
    let any = col.as_any();
    if let Some(a) = any.downcast_ref::<UInt64Array>() {
        Ok(a.iter().map(|v| v.map_or(f64::NAN, |v| v as f64)).collect())
    } else if let Some(a) = any.downcast_ref::<Int64Array>() {
        Ok(a.iter().map(|v| v.map_or(f64::NAN, |v| v as f64)).collect())
    } else if let Some(a) = any.downcast_ref::<Float64Array>() {
        Ok(a.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    } else {
        Err(format!(
            "column {name:?} is {:?}, not a number",
            col.data_type()
        ))
    }
}

/// Packs a cell into one integer: dataset, measure, row.
pub(crate) fn pack(dataset: usize, measure: usize, row: usize) -> u64 {
    ((dataset as u64) << 48) | ((measure as u64) << 32) | row as u64
}

/// The dataset, measure and row of a packed cell.
pub(crate) fn unpack(cell: u64) -> (usize, usize, usize) {
    (
        (cell >> 48) as usize,
        ((cell >> 32) & 0xffff) as usize,
        (cell & 0xffff_ffff) as usize,
    )
}
