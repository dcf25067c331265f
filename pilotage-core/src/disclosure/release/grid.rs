//! The release's linear system, built from the coordinates of published tables and their
//! definitions only: which cells exist, how every hierarchy of every dimension ties them.
//!
//! Both sides build it: the protection from the cubes (true values), the audit from the
//! published tables (published values, secrets unknown). Nothing here sees a suppression
//! pattern.

use std::collections::HashMap;

use crate::cube::Geography;
use crate::dataset::{
    Definition, DimensionType, MeasureKind, PERIOD_LEVELS, TERRITORY_LEVELS, TOTAL_LEVEL, TimeRule,
};

use super::super::DisclosureError;

/// No member / no parent.
pub(crate) const NONE: u32 = u32::MAX;

/// What a measure's cells are, for the rules and the relations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Person or event count (integer, 1–10 secret).
    Count,
    /// Magnitude summed over structures.
    Magnitude,
    /// Count of structures, job descriptions or prescriber organisations: public.
    Public,
    /// Rate, difference or median: published only over published parts.
    Derived,
}

/// One dimension of one table, with its hierarchy.
#[derive(Debug, Clone)]
pub(crate) struct Dim {
    pub id: String,
    pub kind: DimensionType,
    pub codes: Vec<String>,
    /// Depth of each member (0: total or year).
    pub depth: Vec<u8>,
    /// Parent member of each member ([`NONE`] at the top or when absent from the table).
    pub parent: Vec<u32>,
    /// Member of each row.
    pub rows: Vec<u32>,
    /// A sensitive attribute (RSA, ASS, AAH, RQTH): its non-total cells are in sensitive rows.
    pub sensitive: bool,
    /// Deepest depth present.
    pub finest: u8,
}

/// One measure of one table.
#[derive(Debug, Clone)]
pub(crate) struct Meas {
    pub id: String,
    pub kind: MeasureKind,
    pub class: Class,
    pub time: Option<TimeRule>,
    /// Half a unit of the last published decimal (0 for exact counts): rounding slack.
    pub half_unit: f64,
    /// For derived measures: indices of their parts in the table (numerator, denominator);
    /// for a median, the count of its observations.
    pub parts: Option<(usize, usize)>,
}

/// One table: a dataset's rows, dimensions and measures.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub dataset: String,
    pub rows: usize,
    pub dims: Vec<Dim>,
    pub measures: Vec<Meas>,
}

impl Table {
    /// The coordinates of a row, as `(dimension, code)`.
    pub fn coordinates(&self, row: usize) -> Vec<(String, String)> {
        self.dims
            .iter()
            .map(|d| (d.id.clone(), d.codes[d.rows[row] as usize].clone()))
            .collect()
    }

    /// Number of dimensions of the row not at their finest level (0 for the finest cells).
    pub fn level(&self, row: usize) -> u8 {
        self.dims
            .iter()
            .filter(|d| d.depth[d.rows[row] as usize] < d.finest)
            .count() as u8
    }

    /// True when every categorical dimension of the row is at its total: a headline figure
    /// (national, région, département or period total).
    pub fn headline(&self, row: usize) -> bool {
        self.dims
            .iter()
            .filter(|d| d.kind == DimensionType::Categorical)
            .all(|d| d.depth[d.rows[row] as usize] == 0)
    }

    /// True when the row breaks down a sensitive attribute (not at its total).
    pub fn in_sensitive_row(&self, row: usize) -> bool {
        self.dims
            .iter()
            .any(|d| d.sensitive && d.depth[d.rows[row] as usize] > 0)
    }

    /// Territorial level name of a row (`france`, `region`, `departement`), or `-`.
    pub fn territorial_level(&self, row: usize) -> &'static str {
        self.dims
            .iter()
            .find(|d| d.kind == DimensionType::Territory)
            .map_or("-", |d| {
                TERRITORY_LEVELS
                    .get(d.depth[d.rows[row] as usize] as usize)
                    .copied()
                    .unwrap_or("-")
            })
    }
}

/// Units of measures that count public facts (structures, job descriptions, prescriber
/// organisations): never secret.
pub(crate) const PUBLIC_UNITS: [&str; 3] = ["structures", "fiches de poste", "organisations"];

/// The classes, time rules and parts of a definition's measures, in the given column order.
pub(crate) fn measures_of(
    def: &Definition,
    ids: &[String],
) -> Result<Vec<Meas>, DisclosureError> {
    let position = |id: &str| ids.iter().position(|x| x == id);
    let mut out = Vec::with_capacity(ids.len());
    let mut count_ids: Vec<usize> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let m = def.measure(id).ok_or_else(|| DisclosureError::Release {
            dataset: def.id.clone(),
            message: format!("measure {id:?} is not in the definition"),
        })?;
        let class = match m.kind {
            MeasureKind::Persons | MeasureKind::Events => {
                if PUBLIC_UNITS.contains(&m.unit.as_str()) {
                    Class::Public
                } else {
                    count_ids.push(i);
                    Class::Count
                }
            }
            MeasureKind::Magnitude => Class::Magnitude,
            MeasureKind::Rate | MeasureKind::Difference | MeasureKind::Median => Class::Derived,
        };
        let half_unit = match (m.kind, m.decimals) {
            (MeasureKind::Persons | MeasureKind::Events, _) => 0.0,
            (_, Some(d)) => 0.5 * 10f64.powi(-(d as i32)),
            (_, None) => 0.0,
        };
        let parts = if m.kind.is_derived() {
            match (m.of.first(), m.of.get(1)) {
                (Some(a), Some(b)) => match (position(a), position(b)) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => {
                        return Err(DisclosureError::Release {
                            dataset: def.id.clone(),
                            message: format!("measure {id:?}: parts {:?} not found", m.of),
                        });
                    }
                },
                _ => None,
            }
        } else {
            None
        };
        out.push(Meas {
            id: id.clone(),
            kind: m.kind,
            class,
            time: m.time,
            half_unit,
            parts,
        });
    }
    // A median is paired with the count of its observations: the k-th median with the k-th
    // count measure of the dataset (candidatures_delais: délai de prise en compte with
    // prises_en_compte, délai de réponse with réponses).
    let mut k = 0;
    for m in out.iter_mut() {
        if m.kind == MeasureKind::Median {
            if let Some(&c) = count_ids.get(k) {
                m.parts = Some((c, c));
            }
            k += 1;
        }
    }
    Ok(out)
}

/// Builds a dimension from its member codes and level names (as the cube or the published
/// table holds them), with the hierarchy the definition and the geography give.
pub(crate) fn dim_of(
    def: &Definition,
    id: &str,
    codes: Vec<String>,
    level_names: &[String],
    rows: Vec<u32>,
    geography: &Geography,
    sensitive: bool,
) -> Result<Dim, DisclosureError> {
    let bad = |message: String| DisclosureError::Release {
        dataset: def.id.clone(),
        message,
    };
    let d = def
        .dimension(id)
        .ok_or_else(|| bad(format!("dimension {id:?} is not in the definition")))?;
    let levels: Vec<String> = match d.kind {
        DimensionType::Territory => TERRITORY_LEVELS.iter().map(|s| s.to_string()).collect(),
        DimensionType::Period => PERIOD_LEVELS.iter().map(|s| s.to_string()).collect(),
        DimensionType::Categorical => std::iter::once(TOTAL_LEVEL.to_owned())
            .chain(d.levels.iter().map(|l| l.id.clone()))
            .collect(),
    };
    let mut depth = Vec::with_capacity(codes.len());
    for (code, level) in codes.iter().zip(level_names) {
        let k = levels.iter().position(|l| l == level).ok_or_else(|| {
            bad(format!(
                "dimension {id:?}: member {code:?} has unknown level {level:?}"
            ))
        })?;
        depth.push(k as u8);
    }
    let index: HashMap<&str, u32> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    let region_of: HashMap<&str, &str> = geography
        .departements()
        .iter()
        .map(|(d, r)| (d.as_str(), r.as_str()))
        .collect();
    let total = d.total.clone();
    let mut parent = Vec::with_capacity(codes.len());
    for (i, code) in codes.iter().enumerate() {
        let p: Option<String> = match d.kind {
            DimensionType::Territory => {
                if let Some(dep) = code.strip_prefix("DEP-") {
                    region_of.get(dep).map(|r| format!("REG-{r}"))
                } else if code.starts_with("REG-") {
                    Some(total.clone().unwrap_or_else(|| "FR".to_owned()))
                } else {
                    None
                }
            }
            DimensionType::Period => period_parent(code),
            DimensionType::Categorical => {
                if depth[i] == 0 {
                    None
                } else if depth[i] == 1 {
                    total.clone()
                } else {
                    let level = &d.levels[depth[i] as usize - 1];
                    level
                        .members
                        .iter()
                        .find(|m| &m.code == code)
                        .and_then(|m| m.parent.clone())
                }
            }
        };
        parent.push(
            p.and_then(|p| index.get(p.as_str()).copied())
                .unwrap_or(NONE),
        );
    }
    let finest = depth.iter().copied().max().unwrap_or(0);
    Ok(Dim {
        id: id.to_owned(),
        kind: d.kind,
        codes,
        depth,
        parent,
        rows,
        sensitive,
        finest,
    })
}

/// `2024-T1` → `2024`, `2024-05` → `2024-T2`, `2024` → none.
fn period_parent(code: &str) -> Option<String> {
    let (year, rest) = code.split_once('-')?;
    if let Some(q) = rest.strip_prefix('T') {
        q.parse::<u8>().ok()?;
        return Some(year.to_owned());
    }
    let month: u32 = rest.parse().ok()?;
    (1..=12)
        .contains(&month)
        .then(|| format!("{year}-T{}", (month - 1) / 3 + 1))
}

/// True when a period member is the last child of its parent (December, the fourth quarter,
/// the last month of a quarter): the one a stock takes its value from.
fn ends_parent(code: &str) -> bool {
    match code.split_once('-') {
        Some((_, rest)) => match rest.strip_prefix('T') {
            Some(q) => q == "4",
            None => rest
                .parse::<u32>()
                .map(|m| m.is_multiple_of(3))
                .unwrap_or(false),
        },
        None => false,
    }
}

/// One parent row with its child rows along one dimension (rows absent from the table are
/// zero and left out).
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub dim: u8,
    pub parent: u32,
    pub children: Vec<u32>,
}

/// Every parent–children link of a table, sorted by (parent row, dimension).
pub(crate) fn links(table: &Table) -> Result<Vec<Link>, DisclosureError> {
    let radix: Vec<u128> = table.dims.iter().map(|d| d.codes.len() as u128 + 1).collect();
    let mut capacity: u128 = 1;
    for &r in &radix {
        capacity = capacity
            .checked_mul(r)
            .ok_or_else(|| DisclosureError::Release {
                dataset: table.dataset.clone(),
                message: "too many members to index the rows".to_owned(),
            })?;
    }
    let key = |row: usize, replace: Option<(usize, u32)>| -> u128 {
        let mut k: u128 = 0;
        for (i, d) in table.dims.iter().enumerate() {
            let m = match replace {
                Some((j, m)) if j == i => m,
                _ => d.rows[row],
            };
            k = k * radix[i] + u128::from(m);
        }
        k
    };
    let mut index: HashMap<u128, u32> = HashMap::with_capacity(table.rows);
    for r in 0..table.rows {
        index.insert(key(r, None), r as u32);
    }
    let mut pairs: Vec<(u32, u8, u32)> = Vec::new();
    for r in 0..table.rows {
        for (i, d) in table.dims.iter().enumerate() {
            let p = d.parent[d.rows[r] as usize];
            if p == NONE {
                continue;
            }
            if let Some(&pr) = index.get(&key(r, Some((i, p)))) {
                pairs.push((pr, i as u8, r as u32));
            }
        }
    }
    pairs.sort_unstable();
    let mut out: Vec<Link> = Vec::new();
    for (p, d, c) in pairs {
        match out.last_mut() {
            Some(l) if l.parent == p && l.dim == d => l.children.push(c),
            _ => out.push(Link {
                dim: d,
                parent: p,
                children: vec![c],
            }),
        }
    }
    Ok(out)
}

/// Kind of a relation between cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RelKind {
    /// `k × total = Σ parts` (k = 1 for sums and equalities, the number of sub-periods for
    /// averages over time).
    Sum(f64),
    /// `max(parts) ≤ total ≤ Σ parts` (margins of distinct counts).
    Distinct,
}

/// One relation: a total and its parts (global cell indices), with a rounding tolerance.
#[derive(Debug, Clone)]
pub(crate) struct Rel {
    pub kind: RelKind,
    pub total: u32,
    pub parts: Vec<u32>,
    /// Slack allowed on each side by the rounding of published magnitudes.
    pub tol: f64,
}

impl Rel {
    /// Every cell of the relation, total first.
    pub fn cells(&self) -> impl Iterator<Item = u32> + '_ {
        std::iter::once(self.total).chain(self.parts.iter().copied())
    }
}

/// The cells of a release: one per (table, measure, row), those with a null value left out of
/// every relation.
#[derive(Debug, Clone)]
pub(crate) struct System {
    /// First cell index of each (table, measure).
    pub base: Vec<Vec<usize>>,
    /// Value known to whoever builds the system (true value, or published value; NaN when
    /// unknown or null).
    pub value: Vec<f64>,
    /// False where the measure is not applicable (null).
    pub present: Vec<bool>,
    pub relations: Vec<Rel>,
    /// How each (table, measure, dimension) was tied: for the documentation and reports.
    pub decisions: Vec<(String, String, String, &'static str)>,
}

impl System {
    /// Table, measure and row of a cell.
    pub fn locate(&self, cell: usize) -> (usize, usize, usize) {
        let t = self.base.partition_point(|b| b[0] <= cell) - 1;
        let m = self.base[t].partition_point(|&b| b <= cell) - 1;
        (t, m, cell - self.base[t][m])
    }
}

/// Builds the relations of every table. `value(t, m, row)` gives the value the builder knows
/// (None when null or secret) and `present(t, m, row)` whether the measure applies.
pub(crate) fn build_system(
    tables: &[Table],
    value: &dyn Fn(usize, usize, usize) -> Option<f64>,
    present: &dyn Fn(usize, usize, usize) -> bool,
) -> Result<System, DisclosureError> {
    let mut base = Vec::with_capacity(tables.len());
    let mut n = 0usize;
    for t in tables {
        let mut b = Vec::with_capacity(t.measures.len());
        for _ in &t.measures {
            b.push(n);
            n += t.rows;
        }
        if t.measures.is_empty() {
            b.push(n);
        }
        base.push(b);
    }
    let mut values = vec![f64::NAN; n];
    let mut presence = vec![false; n];
    for (ti, t) in tables.iter().enumerate() {
        for mi in 0..t.measures.len() {
            for r in 0..t.rows {
                let c = base[ti][mi] + r;
                presence[c] = present(ti, mi, r);
                if let Some(v) = value(ti, mi, r) {
                    values[c] = v;
                }
            }
        }
    }
    let mut relations = Vec::new();
    let mut decisions = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        let links = links(t)?;
        for (mi, m) in t.measures.iter().enumerate() {
            if !matches!(m.class, Class::Count | Class::Magnitude) {
                continue;
            }
            for (di, d) in t.dims.iter().enumerate() {
                let cell = |r: u32| base[ti][mi] + r as usize;
                let time = d.kind == DimensionType::Period;
                let stock = time && m.time == Some(TimeRule::Stock);
                let average = time && m.time == Some(TimeRule::Average);
                let mut group: Vec<Rel> = Vec::new();
                for l in links.iter().filter(|l| l.dim as usize == di) {
                    if !presence[cell(l.parent)] {
                        continue;
                    }
                    let mut parts: Vec<u32> = l
                        .children
                        .iter()
                        .copied()
                        .filter(|&c| presence[cell(c)])
                        .collect();
                    let mut k = 1.0;
                    if stock {
                        parts.retain(|&c| ends_parent(&d.codes[d.rows[c as usize] as usize]));
                    } else if average {
                        let code = &d.codes[d.rows[l.parent as usize] as usize];
                        k = if code.contains('T') { 3.0 } else { 4.0 };
                    }
                    if parts.is_empty() {
                        continue;
                    }
                    let tol = m.half_unit * (k + parts.len() as f64);
                    group.push(Rel {
                        kind: RelKind::Sum(k),
                        total: cell(l.parent) as u32,
                        parts: parts.into_iter().map(|c| cell(c) as u32).collect(),
                        tol,
                    });
                }
                if group.is_empty() {
                    continue;
                }
                // Keep the relations only if every one the builder can check holds: persons
                // counted once per margin fall back to distinct-count bounds, others (an
                // average over an incomplete period) are left out.
                let holds = group.iter().all(|rel| {
                    let RelKind::Sum(k) = rel.kind else {
                        return true;
                    };
                    let t = values[rel.total as usize];
                    let s: f64 = rel.parts.iter().map(|&p| values[p as usize]).sum();
                    if t.is_nan() || s.is_nan() {
                        return true;
                    }
                    (k * t - s).abs() <= rel.tol + 1e-7 * (1.0 + (k * t).abs())
                });
                let decision = if holds {
                    if stock {
                        "equal (stock at period end)"
                    } else if average {
                        "sum (average over sub-periods)"
                    } else {
                        "sum"
                    }
                } else if m.kind == MeasureKind::Persons {
                    for rel in &mut group {
                        rel.kind = RelKind::Distinct;
                    }
                    "distinct (largest part ≤ total ≤ sum of parts)"
                } else {
                    group.clear();
                    "none (does not add up)"
                };
                decisions.push((t.dataset.clone(), m.id.clone(), d.id.clone(), decision));
                relations.extend(group);
            }
        }
    }
    Ok(System {
        base,
        value: values,
        present: presence,
        relations,
        decisions,
    })
}

/// Cell → relations incidence (CSR).
pub(crate) fn incidence(n: usize, relations: &[Rel]) -> (Vec<u32>, Vec<u32>) {
    let mut count = vec![0u32; n + 1];
    for r in relations {
        for c in r.cells() {
            count[c as usize + 1] += 1;
        }
    }
    for i in 0..n {
        count[i + 1] += count[i];
    }
    let mut fill = count.clone();
    let mut flat = vec![0u32; count[n] as usize];
    for (ri, r) in relations.iter().enumerate() {
        for c in r.cells() {
            flat[fill[c as usize] as usize] = ri as u32;
            fill[c as usize] += 1;
        }
    }
    (count, flat)
}
