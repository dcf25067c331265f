//! The cube engine: facts in, every margin out.
//!
//! A computation pushes *facts*: a measure, the finest-level coordinates of the fact on every
//! dimension (a month for the period), the structure it belongs to, and the unit counted (a
//! number of events, a person, a magnitude, a value). Each fact is placed once in the finest
//! cell of every crossing of the definition (the crossing's finest levels, so a crossing by year
//! keeps one cell per year, not per month). At the end each crossing's cells are rolled up to
//! the *projections* (one level per dimension) the crossing owns: every projection is computed
//! from exactly one crossing.
//!
//! - Sums (events, magnitudes) roll up cell by cell.
//! - Distinct counts (persons; contributing structures) roll up per unit: the (unit, cell) pairs
//!   are sorted by unit, and each unit adds one to every distinct row its cells reach. A person
//!   in two départements of a région counts once in the région, and once in France.
//! - Stocks (value at period end) reach a quarter only from its last month and a year only from
//!   December; averages (ETP) are sums divided by the months of the period.
//! - Medians merge the value histograms of the cells each row covers.
//!
//! No string is touched per fact: coordinates are integers, cells are found through a dense
//! table (or a hash map of packed keys when the crossing's space is large).

use std::collections::{BTreeSet, HashMap};

use super::dims::{CompiledDim, Geography, NONE, rule_index};
use super::int_map::IntMap;
use super::{Companion, Cube, CubeDimension, CubeError, CubeMeasure, MeasureValues};
use crate::dataset::{Definition, DimensionType, MeasureKind, TimeRule};

/// Handle to a base measure of a [`CubeBuilder`], from [`CubeBuilder::measure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasureId(usize);

/// Handle to a dimension of a [`CubeBuilder`], from [`CubeBuilder::dim`]: the position of its
/// coordinate in the slices passed to the `add_*` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DimId(pub usize);

/// Largest dense cell table of one crossing (entries of 4 bytes).
const DENSE_LIMIT: u64 = 1 << 22;

#[derive(Debug)]
struct MeasureSpec {
    id: String,
    kind: MeasureKind,
    rule: TimeRule,
    varies: Vec<bool>,
}

/// A derived measure: a rate or difference of the base measures at positions `a` and `b`.
#[derive(Debug)]
struct DerivedSpec {
    id: String,
    kind: MeasureKind,
    a: usize,
    b: usize,
    varies: Vec<bool>,
}

#[derive(Debug)]
enum Acc {
    Events(Vec<u64>),
    Persons(Pairs),
    Magnitude {
        sums: Vec<f64>,
        /// `(structure << 32 | cell, value)`, merged by key on compaction.
        contributions: Vec<(u64, f64)>,
        persons: Pairs,
    },
    /// `cell << 32 | value` for each unit.
    Median(Vec<u64>),
}

impl Acc {
    /// The empty accumulator of a base measure of `kind`.
    fn for_kind(kind: MeasureKind) -> Acc {
        match kind {
            MeasureKind::Persons => Acc::Persons(Pairs::default()),
            MeasureKind::Magnitude => Acc::Magnitude {
                sums: Vec::new(),
                contributions: Vec::new(),
                persons: Pairs::default(),
            },
            MeasureKind::Median => Acc::Median(Vec::new()),
            _ => Acc::Events(Vec::new()),
        }
    }
}

/// `(unit << 32 | cell)` pairs, deduplicated from time to time to bound memory.
#[derive(Debug, Default)]
struct Pairs {
    items: Vec<u64>,
    compacted: usize,
}

impl Pairs {
    fn push(&mut self, unit: u32, cell: u32) {
        let key = (u64::from(unit) << 32) | u64::from(cell);
        if self.items.last() == Some(&key) {
            return;
        }
        self.items.push(key);
        if self.items.len() >= (1 << 20).max(2 * self.compacted) {
            self.compact();
        }
    }
    fn compact(&mut self) {
        self.items.sort_unstable();
        self.items.dedup();
        self.compacted = self.items.len();
    }
}

#[derive(Debug)]
enum CellIndex {
    Dense {
        strides: Vec<u64>,
        slots: Vec<u32>,
    },
    Sparse {
        shifts: Vec<u32>,
        map: IntMap<u128, u32>,
    },
}

#[derive(Debug)]
struct Crossing {
    /// Dimensions not at their total (plus the period): the only ones a fact's cell depends on.
    active: Vec<usize>,
    /// Sparse key part of the dimensions at their total.
    base_sparse: u128,
    max_level: Vec<u8>,
    /// Projections (indices into `CubeBuilder::projections`) this crossing computes.
    projections: Vec<usize>,
    index: CellIndex,
    /// Member ids of each cell, `dims` per cell.
    cells: Vec<u32>,
    /// Per cell, the time rules (bit `rule_index`) of the facts placed in it.
    rules: Vec<u8>,
    acc: Vec<Acc>,
    /// Contributing structures, per time rule.
    structures: [Pairs; 3],
}

/// Accumulates the facts of one dataset and builds its [`Cube`].
#[derive(Debug)]
pub struct CubeBuilder {
    dataset: String,
    version: String,
    dims: Vec<CompiledDim>,
    period: usize,
    territory: Option<usize>,
    projections: Vec<Vec<u8>>,
    crossings: Vec<Crossing>,
    measures: Vec<MeasureSpec>,
    derived: Vec<DerivedSpec>,
    decimals: HashMap<String, u32>,
    members: Vec<u32>,
}

impl CubeBuilder {
    /// Compiles a validated definition against a geography (for its territory dimension).
    pub fn new(def: &Definition, geography: &Geography) -> Result<CubeBuilder, CubeError> {
        let dims = def
            .dimensions
            .iter()
            .map(|d| CompiledDim::compile(def, d, geography))
            .collect::<Result<Vec<_>, _>>()?;
        let period = dims
            .iter()
            .position(|d| d.kind == DimensionType::Period)
            .ok_or_else(|| CubeError::Input(format!("{}: no period dimension", def.id)))?;
        let territory = dims.iter().position(|d| d.kind == DimensionType::Territory);
        let (projections, mut crossings) = plan_crossings(def, &dims)?;
        let (measures, derived) = measure_specs(def)?;
        for c in &mut crossings {
            c.acc = measures.iter().map(|m| Acc::for_kind(m.kind)).collect();
        }
        let decimals = def
            .measures
            .iter()
            .filter_map(|m| m.decimals.map(|d| (m.id.clone(), d)))
            .collect();
        Ok(CubeBuilder {
            dataset: def.id.clone(),
            version: def.version.clone(),
            members: vec![0; dims.len()],
            dims,
            period,
            territory,
            projections,
            crossings,
            measures,
            derived,
            decimals,
        })
    }

    /// The handle of a base measure, checking the kind the computation will push.
    pub fn measure(&self, id: &str, kind: MeasureKind) -> Result<MeasureId, CubeError> {
        let i = self
            .measures
            .iter()
            .position(|m| m.id == id)
            .ok_or_else(|| CubeError::Input(format!("{}: no base measure {id:?}", self.dataset)))?;
        if self.measures[i].kind != kind {
            return Err(CubeError::Input(format!(
                "{}: measure {id:?} is a {}, not a {}",
                self.dataset,
                self.measures[i].kind.code(),
                kind.code()
            )));
        }
        Ok(MeasureId(i))
    }

    /// The handle of a dimension.
    pub fn dim(&self, id: &str) -> Result<DimId, CubeError> {
        self.dims
            .iter()
            .position(|d| d.id == id)
            .map(DimId)
            .ok_or_else(|| CubeError::Input(format!("{}: no dimension {id:?}", self.dataset)))
    }

    /// The handles of the dimensions `ids`, in that order (see [`CubeBuilder::dim`]).
    pub fn dim_ids<const N: usize>(&self, ids: [&str; N]) -> Result<[DimId; N], CubeError> {
        let mut handles = [DimId(0); N];
        for (handle, id) in handles.iter_mut().zip(ids) {
            *handle = self.dim(id)?;
        }
        Ok(handles)
    }

    /// Number of dimensions: the length of a coordinate slice.
    pub fn dims(&self) -> usize {
        self.dims.len()
    }

    /// Coordinates with every dimension at [`NONE`] (known only at the total), to fill in.
    pub fn blank(&self) -> Vec<u32> {
        vec![NONE; self.dims.len()]
    }

    /// The finest-level index of `code` in dimension `dim`: a member code of a categorical
    /// dimension, a département code (`"01"`) of a territory dimension.
    pub fn code(&self, dim: DimId, code: &str) -> Option<u32> {
        self.dims[dim.0].finest_index.get(code).copied()
    }

    /// Adds `n` events.
    pub fn add_events(&mut self, m: MeasureId, coords: &[u32], structure: Option<u32>, n: u64) {
        self.place(m, coords, structure, |acc, cell| {
            if let Acc::Events(sums) = acc {
                grow(sums, cell, 0);
                sums[cell as usize] += n;
            }
        });
    }

    /// Adds a person (counted once per row however many facts name them).
    pub fn add_person(
        &mut self,
        m: MeasureId,
        coords: &[u32],
        structure: Option<u32>,
        person: u32,
    ) {
        self.place(m, coords, structure, |acc, cell| {
            if let Acc::Persons(pairs) = acc {
                pairs.push(person, cell);
            }
        });
    }

    /// Adds a magnitude contributed by `structure` (and, if given, worked by `person`, for the
    /// count of persons behind the cell).
    pub fn add_magnitude(
        &mut self,
        m: MeasureId,
        coords: &[u32],
        structure: u32,
        person: Option<u32>,
        value: f64,
    ) {
        self.place(m, coords, Some(structure), |acc, cell| {
            if let Acc::Magnitude {
                sums,
                contributions,
                persons,
            } = acc
            {
                grow(sums, cell, 0.0);
                sums[cell as usize] += value;
                let key = (u64::from(structure) << 32) | u64::from(cell);
                match contributions.last_mut() {
                    Some((k, v)) if *k == key => *v += value,
                    _ => contributions.push((key, value)),
                }
                if contributions.len() >= 1 << 20 && contributions.len().is_power_of_two() {
                    merge_contributions(contributions);
                }
                if let Some(p) = person {
                    persons.push(p, cell);
                }
            }
        });
    }

    /// Adds one unit with a value (days, for instance) to a median measure.
    pub fn add_value(&mut self, m: MeasureId, coords: &[u32], structure: Option<u32>, value: u32) {
        self.place(m, coords, structure, |acc, cell| {
            if let Acc::Median(values) = acc {
                values.push((u64::from(cell) << 32) | u64::from(value));
            }
        });
    }

    fn place(
        &mut self,
        m: MeasureId,
        coords: &[u32],
        structure: Option<u32>,
        mut f: impl FnMut(&mut Acc, u32),
    ) {
        let spec = &self.measures[m.0];
        let rule = rule_index(spec.rule);
        for (d, dim) in self.dims.iter().enumerate() {
            let c = coords.get(d).copied().unwrap_or(NONE);
            self.members[d] = if !spec.varies[d] || c == NONE {
                dim.total()
            } else {
                dim.finest.get(c as usize).copied().unwrap_or(dim.total())
            };
        }
        'crossings: for crossing in &mut self.crossings {
            // The fact's member at the crossing's finest level of each dimension.
            let mut key_dense = 0u64;
            let mut key_sparse = crossing.base_sparse;
            for &d in &crossing.active {
                let dim = &self.dims[d];
                let mut member = self.members[d];
                let target = crossing.max_level[d];
                if dim.level[member as usize] > target {
                    member = dim.ancestor[rule][target as usize][member as usize];
                    if member == NONE {
                        continue 'crossings;
                    }
                }
                match &crossing.index {
                    CellIndex::Dense { strides, .. } => key_dense += u64::from(member) * strides[d],
                    CellIndex::Sparse { shifts, .. } => {
                        key_sparse |= u128::from(member + 1) << shifts[d]
                    }
                }
            }
            let dims = self.dims.len();
            let next = (crossing.cells.len() / dims) as u32;
            let cell = match &mut crossing.index {
                CellIndex::Dense { slots, .. } => {
                    let slot = &mut slots[key_dense as usize];
                    if *slot == NONE {
                        *slot = next;
                    }
                    *slot
                }
                CellIndex::Sparse { map, .. } => *map.entry(key_sparse).or_insert(next),
            };
            if cell == next {
                // Recompute the crossing-level members (cheap, only for a new cell).
                for (d, dim) in self.dims.iter().enumerate() {
                    let member = self.members[d];
                    let target = crossing.max_level[d];
                    let member = if target == 0 && dim.kind != DimensionType::Period {
                        0
                    } else if dim.level[member as usize] > target {
                        dim.ancestor[rule][target as usize][member as usize]
                    } else {
                        member
                    };
                    crossing.cells.push(member);
                }
                crossing.rules.push(0);
            }
            crossing.rules[cell as usize] |= 1 << rule;
            if let Some(s) = structure {
                crossing.structures[rule].push(s, cell);
            }
            f(&mut crossing.acc[m.0], cell);
        }
    }

    /// Adds the absent cells of breakdowns by a sensitive attribute: for every row whose
    /// sensitive dimension is at its total, a row for each member of that dimension at every
    /// level a projection breaks the row down by (national-only members at national level
    /// only). Their counts are zero.
    ///
    /// Why: an absent cell means zero. In a breakdown by RSA whose total is 3, the absence of
    /// the "RSA recipient" cell would tell that none of those 3 persons receives it, whatever
    /// the disclosure control hides; as a cell, the zero can be hidden with the rest of the row.
    fn densify_sensitive(
        &self,
        row_index: &mut HashMap<Vec<u32>, u32>,
        row_members: &mut Vec<u32>,
    ) {
        let dims = self.dims.len();
        let sensitive: Vec<usize> = (0..dims).filter(|&d| self.dims[d].sensitive).collect();
        if sensitive.is_empty() {
            return;
        }
        let projections: std::collections::HashSet<&[u8]> = self
            .crossings
            .iter()
            .flat_map(|c| {
                c.projections
                    .iter()
                    .map(|&p| self.projections[p].as_slice())
            })
            .collect();
        let existing = row_index.len();
        let mut key = vec![0u32; dims];
        let mut levels = vec![0u8; dims];
        for r in 0..existing {
            key.copy_from_slice(&row_members[r * dims..(r + 1) * dims]);
            for (e, level) in levels.iter_mut().enumerate() {
                *level = self.dims[e].level[key[e] as usize];
            }
            for &d in &sensitive {
                let dim = &self.dims[d];
                let total = dim.total();
                if key[d] != total {
                    continue;
                }
                for m in 0..dim.codes.len() as u32 {
                    let level = dim.level[m as usize];
                    if level == 0 {
                        continue;
                    }
                    levels[d] = level;
                    let produced = projections.contains(levels.as_slice());
                    levels[d] = dim.level[total as usize];
                    if !produced
                        || (dim.national_only[m as usize]
                            && self.territory.is_some_and(|t| levels[t] > 0))
                    {
                        continue;
                    }
                    key[d] = m;
                    row_of(row_index, row_members, &key);
                }
                key[d] = total;
            }
        }
    }

    /// Rolls every crossing up to its projections and returns the cube, rows sorted by their
    /// coordinates (members in publication order, dimension by dimension).
    pub fn finish(mut self) -> Cube {
        let dims = self.dims.len();
        let mut row_index: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut row_members: Vec<u32> = Vec::new();
        let ancestors = self.ancestries(&mut row_index, &mut row_members);
        self.densify_sensitive(&mut row_index, &mut row_members);
        let n_rows = row_index.len();
        drop(row_index);

        let measures = self.aggregate(&ancestors, &row_members, n_rows);
        let structures = self.count_structures(&ancestors, n_rows);

        // Row order: by member ids, dimension by dimension.
        let mut order: Vec<u32> = (0..n_rows as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            row_members[a as usize * dims..(a as usize + 1) * dims]
                .cmp(&row_members[b as usize * dims..(b as usize + 1) * dims])
        });
        let rows = OrderedRows {
            order: &order,
            members: &row_members,
        };
        let mut out_measures = Vec::new();
        let mut raw_values: Vec<Vec<Option<f64>>> = Vec::new();
        for (spec, aggregated) in self.measures.iter().zip(measures) {
            out_measures.push(self.base_measure(spec, aggregated, &rows, &mut raw_values));
        }
        for derived in &self.derived {
            out_measures.push(self.derived_measure(derived, &rows, &raw_values));
        }
        let dimensions = self.cube_dimensions(&rows);
        Cube {
            dataset: self.dataset,
            version: self.version,
            dimensions,
            measures: out_measures,
            structures: permute(&order, &structures),
            rows: n_rows,
        }
    }

    /// For every crossing and time rule, the rows each cell of the crossing rolls up to (one
    /// per projection the crossing owns and the cell reaches), creating the rows as they are
    /// first reached.
    fn ancestries(
        &self,
        row_index: &mut HashMap<Vec<u32>, u32>,
        row_members: &mut Vec<u32>,
    ) -> Vec<[Ancestry; 3]> {
        let dims = self.dims.len();
        let mut ancestors: Vec<[Ancestry; 3]> = Vec::new();
        let mut key = vec![0u32; dims];
        for crossing in &self.crossings {
            let mut per_rule: [Ancestry; 3] = Default::default();
            let n_cells = crossing.rules.len();
            for (rule, (offsets, flat)) in per_rule.iter_mut().enumerate() {
                offsets.reserve(n_cells + 1);
                offsets.push(0);
                for cell in 0..n_cells {
                    if crossing.rules[cell] & (1 << rule) != 0 {
                        let members = &crossing.cells[cell * dims..(cell + 1) * dims];
                        for &p in &crossing.projections {
                            if self.project(members, &self.projections[p], rule, &mut key) {
                                flat.push(row_of(row_index, row_members, &key));
                            }
                        }
                    }
                    offsets.push(flat.len() as u32);
                }
            }
            ancestors.push(per_rule);
        }
        ancestors
    }

    /// Writes into `key` the members of the row of projection `levels` that a cell of
    /// `members` rolls up to under time rule `rule`. False when the cell reaches no row of the
    /// projection: finer than the cell, outside the rule (a stock's quarter from a month other
    /// than its last), or a national-only member below the national level.
    fn project(&self, members: &[u32], levels: &[u8], rule: usize, key: &mut [u32]) -> bool {
        let mut sensitive = false;
        for (d, dim) in self.dims.iter().enumerate() {
            let member = members[d];
            let have = dim.level[member as usize];
            let want = levels[d];
            key[d] = if have == want {
                member
            } else if have < want {
                return false;
            } else {
                let a = dim.ancestor[rule][want as usize][member as usize];
                if a == NONE {
                    return false;
                }
                a
            };
            sensitive |= dim.national_only[key[d] as usize];
        }
        !(sensitive && self.territory.is_some_and(|t| levels[t] > 0))
    }

    /// Rolls each base measure up from the cells to the `n_rows` rows, in definition order.
    fn aggregate(
        &mut self,
        ancestors: &[[Ancestry; 3]],
        row_members: &[u32],
        n_rows: usize,
    ) -> Vec<Aggregated> {
        let mut measures: Vec<Aggregated> = Vec::new();
        let mut scratch: Vec<u32> = Vec::new();
        for mi in 0..self.measures.len() {
            let (kind, time_rule) = (self.measures[mi].kind, self.measures[mi].rule);
            let rule = rule_index(time_rule);
            let mut counts = vec![0u64; n_rows];
            let mut sums = vec![0f64; n_rows];
            let mut companion = None;
            let mut medians = Vec::new();
            match kind {
                MeasureKind::Events => {
                    for (k, crossing) in self.crossings.iter().enumerate() {
                        if let Acc::Events(cells) = &crossing.acc[mi] {
                            roll_events(cells, &ancestors[k][rule], &mut counts);
                        }
                    }
                }
                MeasureKind::Persons => {
                    for (k, crossing) in self.crossings.iter_mut().enumerate() {
                        if let Acc::Persons(pairs) = &mut crossing.acc[mi] {
                            distinct(pairs, &ancestors[k][rule], &mut counts, &mut scratch);
                        }
                    }
                }
                MeasureKind::Magnitude => {
                    let mut c = self.roll_magnitudes(mi, rule, ancestors, &mut sums, &mut scratch);
                    if time_rule == TimeRule::Average {
                        for (r, sum) in sums.iter_mut().enumerate() {
                            let months = self.months_of_row(row_members, r);
                            *sum /= months;
                            c.top1[r] /= months;
                            c.top2[r] /= months;
                        }
                    }
                    c.raw = sums.clone();
                    companion = Some(c);
                }
                MeasureKind::Median => medians = self.roll_medians(mi, rule, ancestors, n_rows),
                MeasureKind::Rate | MeasureKind::Difference => {}
            }
            measures.push((counts, sums, companion, medians));
        }
        measures
    }

    /// Rolls the magnitude measure `mi` up into `sums` (one per row) and returns its disclosure
    /// companion: contributing structures, the two largest contributions, persons behind.
    fn roll_magnitudes(
        &mut self,
        mi: usize,
        rule: usize,
        ancestors: &[[Ancestry; 3]],
        sums: &mut [f64],
        scratch: &mut Vec<u32>,
    ) -> Companion {
        let n_rows = sums.len();
        let mut c = Companion {
            raw: Vec::new(),
            structures: vec![0; n_rows],
            top1: vec![0.0; n_rows],
            top2: vec![0.0; n_rows],
            top_structure: vec![super::NO_STRUCTURE; n_rows],
            persons: vec![0; n_rows],
        };
        let mut scratch_values: Vec<(u32, f64)> = Vec::new();
        for (k, crossing) in self.crossings.iter_mut().enumerate() {
            if let Acc::Magnitude {
                sums: cells,
                contributions,
                persons,
            } = &mut crossing.acc[mi]
            {
                let ancestry = &ancestors[k][rule];
                for (cell, &v) in cells.iter().enumerate() {
                    for &r in reach(ancestry, cell) {
                        sums[r as usize] += v;
                    }
                }
                merge_contributions(contributions);
                rank_contributions(contributions, ancestry, &mut c, &mut scratch_values);
                distinct(persons, ancestry, &mut c.persons, scratch);
            }
        }
        c
    }

    /// The median of the median measure `mi` on each of the `n_rows` rows (none without value):
    /// the histograms of the cells each row covers, merged.
    fn roll_medians(
        &mut self,
        mi: usize,
        rule: usize,
        ancestors: &[[Ancestry; 3]],
        n_rows: usize,
    ) -> Vec<Option<f64>> {
        let mut triples: Vec<(u64, u64)> = Vec::new();
        for (k, crossing) in self.crossings.iter_mut().enumerate() {
            if let Acc::Median(values) = &mut crossing.acc[mi] {
                values.sort_unstable();
                let ancestry = &ancestors[k][rule];
                let mut i = 0;
                while i < values.len() {
                    let v = values[i];
                    let mut n = 0u64;
                    while i < values.len() && values[i] == v {
                        n += 1;
                        i += 1;
                    }
                    for &r in reach(ancestry, (v >> 32) as usize) {
                        triples.push(((u64::from(r) << 32) | (v & 0xFFFF_FFFF), n));
                    }
                }
            }
        }
        triples.sort_unstable_by_key(|t| t.0);
        let mut medians = vec![None; n_rows];
        let mut i = 0;
        while i < triples.len() {
            let row = triples[i].0 >> 32;
            let start = i;
            let mut total = 0u64;
            while i < triples.len() && triples[i].0 >> 32 == row {
                total += triples[i].1;
                i += 1;
            }
            medians[row as usize] = Some(weighted_median(&triples[start..i], total));
        }
        medians
    }

    /// Contributing structures per row, over every measure and time rule: one structure counts
    /// once per row whatever the time rules of its facts.
    fn count_structures(&mut self, ancestors: &[[Ancestry; 3]], n_rows: usize) -> Vec<u64> {
        let mut structures = vec![0u64; n_rows];
        let mut scratch: Vec<u32> = Vec::new();
        for (k, crossing) in self.crossings.iter_mut().enumerate() {
            let mut tagged: Vec<(u64, u8)> = Vec::new();
            for (rule, pairs) in crossing.structures.iter_mut().enumerate() {
                pairs.compact();
                tagged.extend(pairs.items.iter().map(|&key| (key, rule as u8)));
                pairs.items = Vec::new();
            }
            tagged.sort_unstable();
            count_distinct(
                &tagged,
                |&(key, rule)| (key, &ancestors[k][rule as usize]),
                &mut structures,
                &mut scratch,
            );
        }
        structures
    }

    /// Whether a measure varying along `varies` has a value on row `r`: it must be at the total
    /// of every dimension it does not vary along.
    fn applicable(&self, varies: &[bool], row_members: &[u32], r: usize) -> bool {
        let dims = self.dims.len();
        (0..dims).all(|d| varies[d] || self.dims[d].level[row_members[r * dims + d] as usize] == 0)
    }

    /// A base measure as published, rows in cube order; pushes its unrounded values (none where
    /// the measure does not apply) to `raw_values`, for the derived measures.
    fn base_measure(
        &self,
        spec: &MeasureSpec,
        (counts, sums, companion, medians): Aggregated,
        rows: &OrderedRows<'_>,
        raw_values: &mut Vec<Vec<Option<f64>>>,
    ) -> CubeMeasure {
        let decimals = self.decimals.get(&spec.id).copied();
        let applies = |r: u32| self.applicable(&spec.varies, rows.members, r as usize);
        let values = match spec.kind {
            MeasureKind::Persons | MeasureKind::Events => {
                raw_values.push(
                    rows.order
                        .iter()
                        .map(|&r| applies(r).then_some(counts[r as usize] as f64))
                        .collect(),
                );
                MeasureValues::Counts(
                    rows.order
                        .iter()
                        .map(|&r| applies(r).then_some(counts[r as usize]))
                        .collect(),
                )
            }
            kind => {
                let raw: Vec<Option<f64>> = rows
                    .order
                    .iter()
                    .map(|&r| match kind {
                        MeasureKind::Magnitude => applies(r).then_some(sums[r as usize]),
                        _ if applies(r) => medians[r as usize],
                        _ => None,
                    })
                    .collect();
                let published = raw.iter().map(|v| v.map(|x| round(x, decimals))).collect();
                raw_values.push(raw);
                MeasureValues::Values(published)
            }
        };
        let order = rows.order;
        let companion = companion.map(|c| Companion {
            raw: permute(order, &c.raw),
            structures: permute(order, &c.structures),
            top1: permute(order, &c.top1),
            top2: permute(order, &c.top2),
            top_structure: permute(order, &c.top_structure),
            persons: permute(order, &c.persons),
        });
        CubeMeasure {
            id: spec.id.clone(),
            kind: spec.kind,
            values,
            companion,
            parts: None,
        }
    }

    /// A derived measure (rate, difference) computed from the unrounded values of its two base
    /// measures, rows in cube order.
    fn derived_measure(
        &self,
        derived: &DerivedSpec,
        rows: &OrderedRows<'_>,
        raw_values: &[Vec<Option<f64>>],
    ) -> CubeMeasure {
        let decimals = self.decimals.get(&derived.id).copied();
        let values = rows
            .order
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                if !self.applicable(&derived.varies, rows.members, r as usize) {
                    return None;
                }
                let (x, y) = (raw_values[derived.a][i]?, raw_values[derived.b][i]?);
                match derived.kind {
                    MeasureKind::Rate => (y != 0.0).then(|| round(100.0 * x / y, decimals)),
                    _ => Some(round(x - y, decimals)),
                }
            })
            .collect();
        CubeMeasure {
            id: derived.id.clone(),
            kind: derived.kind,
            values: MeasureValues::Values(values),
            companion: None,
            parts: Some((
                self.measures[derived.a].id.clone(),
                self.measures[derived.b].id.clone(),
            )),
        }
    }

    /// The dimensions of the cube, with each row's member, rows in cube order.
    fn cube_dimensions(&self, rows: &OrderedRows<'_>) -> Vec<CubeDimension> {
        let dims = self.dims.len();
        self.dims
            .iter()
            .enumerate()
            .map(|(d, dim)| CubeDimension {
                id: dim.id.clone(),
                level_names: dim.level_names.clone(),
                codes: dim.codes.clone(),
                member_level: dim.level.clone(),
                rows: rows
                    .order
                    .iter()
                    .map(|&r| rows.members[r as usize * dims + d])
                    .collect(),
            })
            .collect()
    }

    fn months_of_row(&self, row_members: &[u32], r: usize) -> f64 {
        let member = row_members[r * self.dims.len() + self.period];
        match self.dims[self.period].level[member as usize] {
            0 => 12.0,
            1 => 3.0,
            _ => 1.0,
        }
    }
}

/// One base measure rolled up, before ordering: counts, sums, companion, medians per row.
type Aggregated = (Vec<u64>, Vec<f64>, Option<Companion>, Vec<Option<f64>>);

/// The rows each cell of a crossing rolls up to under one time rule: offsets per cell (one
/// more than cells) into a flat list of row ids.
type Ancestry = (Vec<u32>, Vec<u32>);

/// The rows of the cube being finished: the cube order (row ids) and the members of each row
/// by row id, `dims` per row.
struct OrderedRows<'a> {
    order: &'a [u32],
    members: &'a [u32],
}

/// The rows `cell` rolls up to.
fn reach(ancestry: &Ancestry, cell: usize) -> &[u32] {
    let (offsets, flat) = ancestry;
    &flat[offsets[cell] as usize..offsets[cell + 1] as usize]
}

/// The id of the row of members `key`, adding the row when it is new.
fn row_of(row_index: &mut HashMap<Vec<u32>, u32>, row_members: &mut Vec<u32>, key: &[u32]) -> u32 {
    match row_index.get(key) {
        Some(&row) => row,
        None => {
            let row = row_index.len() as u32;
            row_index.insert(key.to_vec(), row);
            row_members.extend_from_slice(key);
            row
        }
    }
}

/// `v` in the order of `order` (row ids).
fn permute<T: Copy>(order: &[u32], v: &[T]) -> Vec<T> {
    order.iter().map(|&r| v[r as usize]).collect()
}

/// Adds the events of each cell to the rows it rolls up to.
fn roll_events(cells: &[u64], ancestry: &Ancestry, counts: &mut [u64]) {
    for (cell, &v) in cells.iter().enumerate() {
        if v == 0 {
            continue;
        }
        for &r in reach(ancestry, cell) {
            counts[r as usize] += v;
        }
    }
}

/// Tallies, per row, the structures contributing to a magnitude and its two largest
/// contributions, from `(structure << 32 | cell, value)` contributions merged and sorted by key.
fn rank_contributions(
    contributions: &[(u64, f64)],
    ancestry: &Ancestry,
    c: &mut Companion,
    scratch_values: &mut Vec<(u32, f64)>,
) {
    let mut i = 0;
    while i < contributions.len() {
        let structure = contributions[i].0 >> 32;
        scratch_values.clear();
        while i < contributions.len() && contributions[i].0 >> 32 == structure {
            let (key, v) = contributions[i];
            for &r in reach(ancestry, key as u32 as usize) {
                scratch_values.push((r, v));
            }
            i += 1;
        }
        scratch_values.sort_unstable_by_key(|&(r, _)| r);
        let mut j = 0;
        while j < scratch_values.len() {
            let r = scratch_values[j].0;
            let mut total = 0.0;
            while j < scratch_values.len() && scratch_values[j].0 == r {
                total += scratch_values[j].1;
                j += 1;
            }
            let r = r as usize;
            c.structures[r] += 1;
            if total > c.top1[r] || c.top_structure[r] == super::NO_STRUCTURE {
                c.top2[r] = c.top1[r];
                c.top1[r] = total;
                c.top_structure[r] = structure as u32;
            } else if total > c.top2[r] {
                c.top2[r] = total;
            }
        }
    }
}

fn grow<T: Copy>(v: &mut Vec<T>, index: u32, fill: T) {
    if v.len() <= index as usize {
        v.resize(index as usize + 1, fill);
    }
}

fn merge_contributions(contributions: &mut Vec<(u64, f64)>) {
    contributions.sort_unstable_by_key(|c| c.0);
    let mut out = 0;
    for i in 0..contributions.len() {
        if out > 0 && contributions[out - 1].0 == contributions[i].0 {
            contributions[out - 1].1 += contributions[i].1;
        } else {
            contributions[out] = contributions[i];
            out += 1;
        }
    }
    contributions.truncate(out);
}

/// Adds to `counts` one per distinct (unit, row) reached by the unit's cells.
fn distinct(pairs: &mut Pairs, ancestry: &Ancestry, counts: &mut [u64], scratch: &mut Vec<u32>) {
    pairs.compact();
    count_distinct(&pairs.items, |&key| (key, ancestry), counts, scratch);
}

/// Adds to `counts` one per distinct (unit, row) reached by the cells of `items`, sorted by
/// unit: `locate` gives an item's `unit << 32 | cell` key and the rows its cell rolls up to.
fn count_distinct<'a, T>(
    items: &[T],
    locate: impl Fn(&T) -> (u64, &'a Ancestry),
    counts: &mut [u64],
    scratch: &mut Vec<u32>,
) {
    let mut i = 0;
    while i < items.len() {
        let unit = locate(&items[i]).0 >> 32;
        scratch.clear();
        while i < items.len() {
            let (key, ancestry) = locate(&items[i]);
            if key >> 32 != unit {
                break;
            }
            scratch.extend_from_slice(reach(ancestry, (key & 0xFFFF_FFFF) as usize));
            i += 1;
        }
        scratch.sort_unstable();
        scratch.dedup();
        for &r in scratch.iter() {
            counts[r as usize] += 1;
        }
    }
}

/// Median of a histogram `(row << 32 | value, count)` sorted by value: the middle value, or the
/// mean of the two middle values when the count is even.
fn weighted_median(hist: &[(u64, u64)], total: u64) -> f64 {
    let value_at = |rank: u64| {
        let mut seen = 0;
        for &(key, n) in hist {
            seen += n;
            if seen > rank {
                return (key & 0xFFFF_FFFF) as f64;
            }
        }
        0.0
    };
    if total % 2 == 1 {
        value_at(total / 2)
    } else {
        (value_at(total / 2 - 1) + value_at(total / 2)) / 2.0
    }
}

/// Rounds half away from zero to `decimals` places (none: unchanged).
pub(crate) fn round(x: f64, decimals: Option<u32>) -> f64 {
    match decimals {
        None => x,
        Some(d) => {
            let f = 10f64.powi(d as i32);
            (x * f).round() / f
        }
    }
}

/// The projections of a definition and the crossings that compute them: each projection (one
/// level per dimension) is owned by the first crossing that contains it.
fn plan_crossings(
    def: &Definition,
    dims: &[CompiledDim],
) -> Result<(Vec<Vec<u8>>, Vec<Crossing>), CubeError> {
    let level_of = |d: &CompiledDim, name: &str| {
        d.level_names
            .iter()
            .position(|l| l == name)
            .map(|l| l as u8)
            .ok_or_else(|| {
                CubeError::Input(format!(
                    "{}: dimension {:?} has no level {name:?}",
                    def.id, d.id
                ))
            })
    };
    let mut owned = BTreeSet::new();
    let mut crossings = Vec::new();
    let mut projections: Vec<Vec<u8>> = Vec::new();
    for crossing in &def.crossings {
        let max_level = dims
            .iter()
            .map(|d| crossing.get(&d.id).map_or(Ok(0), |l| level_of(d, l)))
            .collect::<Result<Vec<u8>, _>>()?;
        let mine = own_projections(&max_level, &mut owned, &mut projections);
        // Dimensions at their total in this crossing always hold member 0: only the others
        // (and the period, whose top level is the year) make the cell.
        let active: Vec<usize> = (0..dims.len())
            .filter(|&d| max_level[d] > 0 || dims[d].kind == DimensionType::Period)
            .collect();
        let (index, base_sparse) = cell_index(def, dims, &active)?;
        crossings.push(Crossing {
            active,
            base_sparse,
            max_level,
            projections: mine,
            index,
            cells: Vec::new(),
            rules: Vec::new(),
            acc: Vec::new(),
            structures: Default::default(),
        });
    }
    Ok((projections, crossings))
}

/// Every projection at or below `max_level` (levels in mixed radix `max_level[d] + 1`) not yet
/// `owned`: appends them to `projections`, and returns their indices there.
fn own_projections(
    max_level: &[u8],
    owned: &mut BTreeSet<Vec<u8>>,
    projections: &mut Vec<Vec<u8>>,
) -> Vec<usize> {
    let mut mine = Vec::new();
    let mut combo = vec![0u8; max_level.len()];
    loop {
        if owned.insert(combo.clone()) {
            mine.push(projections.len());
            projections.push(combo.clone());
        }
        if !crate::dataset::size::next_combination(&mut combo, max_level) {
            break;
        }
    }
    mine
}

/// The cell index of a crossing whose cells vary along the `active` dimensions: a dense table
/// when the space of their members is at most [`DENSE_LIMIT`], packed keys in a hash map
/// otherwise (with the sparse key part of the dimensions at their total).
fn cell_index(
    def: &Definition,
    dims: &[CompiledDim],
    active: &[usize],
) -> Result<(CellIndex, u128), CubeError> {
    let space: u64 = active
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(dims[d].codes.len() as u64))
        .unwrap_or(u64::MAX);
    if space <= DENSE_LIMIT {
        let mut strides = vec![0u64; dims.len()];
        let mut s = 1u64;
        for &d in active {
            strides[d] = s;
            s *= dims[d].codes.len() as u64;
        }
        let slots = vec![NONE; space as usize];
        return Ok((CellIndex::Dense { strides, slots }, 0));
    }
    let mut shifts = Vec::with_capacity(dims.len());
    let mut s = 0u32;
    for d in dims {
        shifts.push(s);
        s += d.bits;
    }
    if s > 128 {
        return Err(CubeError::Input(format!(
            "{}: too many members to pack a cell key ({s} bits)",
            def.id
        )));
    }
    let mut base_sparse = 0u128;
    for d in (0..dims.len()).filter(|d| !active.contains(d)) {
        base_sparse |= 1u128 << shifts[d];
    }
    let map = IntMap::default();
    Ok((CellIndex::Sparse { shifts, map }, base_sparse))
}

/// The base measures of a definition (with their time rules), then its derived ones (with the
/// positions of the two base measures each is computed from).
fn measure_specs(def: &Definition) -> Result<(Vec<MeasureSpec>, Vec<DerivedSpec>), CubeError> {
    let varies = |m: &crate::dataset::Measure| -> Vec<bool> {
        def.dimensions
            .iter()
            .map(|d| m.varies_along(&d.id))
            .collect()
    };
    let mut measures = Vec::new();
    for m in def.measures.iter().filter(|m| !m.kind.is_derived()) {
        let rule = m.time.ok_or_else(|| {
            CubeError::Input(format!("{}: measure {:?} has no time rule", def.id, m.id))
        })?;
        measures.push(MeasureSpec {
            id: m.id.clone(),
            kind: m.kind,
            rule,
            varies: varies(m),
        });
    }
    let mut derived = Vec::new();
    for m in def.measures.iter().filter(|m| m.kind.is_derived()) {
        let part = |i: usize| {
            m.of.get(i)
                .and_then(|p| measures.iter().position(|b| &b.id == p))
                .ok_or_else(|| {
                    CubeError::Input(format!(
                        "{}: measure {:?} must be computed from two base measures",
                        def.id, m.id
                    ))
                })
        };
        derived.push(DerivedSpec {
            id: m.id.clone(),
            kind: m.kind,
            a: part(0)?,
            b: part(1)?,
            varies: varies(m),
        });
    }
    Ok((measures, derived))
}
