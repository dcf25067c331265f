//! The release's linear system, built from the coordinates of published tables and their
//! definitions only: which cells exist, how every hierarchy of every dimension ties them.
//!
//! Both sides build it: the protection from the cubes (true values), the audit from the
//! published tables (published values, secrets unknown). Nothing here sees a suppression
//! pattern.

use std::collections::HashMap;

use crate::cube::Geography;
use crate::dataset::{
    Definition, DimensionType, MeasureKind, PERIOD_LEVELS, RelationOp, TERRITORY_LEVELS,
    TOTAL_LEVEL, TimeRule,
};

use crate::disclosure::DisclosureError;

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
pub(crate) struct Dimension {
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
pub(crate) struct Measure {
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
    pub dims: Vec<Dimension>,
    pub measures: Vec<Measure>,
    /// Declared relations between the measures of a row, by measure index.
    pub relations: Vec<MeasureRelation>,
}

/// A declared relation between measures of one row: `left op Σ right` (measure indices).
#[derive(Debug, Clone)]
pub(crate) struct MeasureRelation {
    pub left: usize,
    pub op: RelationOp,
    pub right: Vec<usize>,
}

/// The declared relations of a definition, by index in the given measure columns.
pub(crate) fn measure_relations(
    def: &Definition,
    ids: &[String],
) -> Result<Vec<MeasureRelation>, DisclosureError> {
    let index = |id: &String| {
        ids.iter()
            .position(|x| x == id)
            .ok_or_else(|| DisclosureError::Release {
                dataset: def.id.clone(),
                message: format!("relation names measure {id:?}, not in the table"),
            })
    };
    def.relations
        .iter()
        .map(|r| {
            Ok(MeasureRelation {
                left: index(&r.left)?,
                op: r.op,
                right: r.right.iter().map(index).collect::<Result<_, _>>()?,
            })
        })
        .collect()
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

/// The classes, time rules and parts of a definition's measures, in the given column order.
pub(crate) fn measures_of(
    def: &Definition,
    ids: &[String],
) -> Result<Vec<Measure>, DisclosureError> {
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
                if m.counts_public_things() {
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
        out.push(Measure {
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
/// table holds them), with the hierarchy the definition and the geography give. It is a
/// sensitive attribute when `sensitive` (the options' list names it) or its definition marks
/// it so ([`crate::dataset::Dimension::is_sensitive`]).
pub(crate) fn dim_of(
    def: &Definition,
    id: &str,
    codes: Vec<String>,
    level_names: &[String],
    rows: Vec<u32>,
    geography: &Geography,
    sensitive: bool,
) -> Result<Dimension, DisclosureError> {
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
    Ok(Dimension {
        id: id.to_owned(),
        kind: d.kind,
        codes,
        depth,
        parent,
        rows,
        sensitive: sensitive || d.is_sensitive(),
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
pub(crate) fn ends_parent(code: &str) -> bool {
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
    let radix: Vec<u128> = table
        .dims
        .iter()
        .map(|d| d.codes.len() as u128 + 1)
        .collect();
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
pub(crate) enum RelationKind {
    /// `k × total = Σ parts` (k = 1 for sums and equalities, the number of sub-periods for
    /// averages over time).
    Sum(f64),
    /// `max(parts) ≤ total` (when `above_parts`) and `total ≤ Σ parts` (when `below_sum`):
    /// margins of distinct counts. Each bound is kept only where it holds on the values the
    /// builder knows (a breakdown that leaves some persons out of every part has a total above
    /// the sum of its parts), as the checker decides bound by bound.
    Distinct { above_parts: bool, below_sum: bool },
    /// `total ≥ Σ parts` (a declared relation between the measures of a row).
    AtLeast,
}

/// One relation: a total and its parts (global cell indices), with a rounding tolerance.
#[derive(Debug, Clone)]
pub(crate) struct Relation {
    pub kind: RelationKind,
    pub total: u32,
    pub parts: Vec<u32>,
    /// Slack allowed on each side by the rounding of published magnitudes.
    pub tol: f64,
}

impl Relation {
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
    pub relations: Vec<Relation>,
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
    let (base, n) = cell_bases(tables);
    let (values, presence) = known_values(tables, &base, n, value, present);
    let mut relations = Vec::new();
    let mut decisions = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        let links = links(t)?;
        for (mi, m) in t.measures.iter().enumerate() {
            if !matches!(m.class, Class::Count | Class::Magnitude) {
                continue;
            }
            for (di, d) in t.dims.iter().enumerate() {
                let time = d.kind == DimensionType::Period;
                let family = Families {
                    base: base[ti][mi],
                    m,
                    d,
                    stock: time && m.time == Some(TimeRule::Stock),
                    average: time && m.time == Some(TimeRule::Average),
                    values: &values,
                    presence: &presence,
                };
                let mut group = family.group(&links, di);
                if group.is_empty() {
                    continue;
                }
                let before = group.len();
                let distinct = family.keep_holding(&mut group);
                let decision = family.decision(distinct, group.len() < before);
                decisions.push((t.dataset.clone(), m.id.clone(), d.id.clone(), decision));
                relations.extend(group);
            }
        }
    }
    declared_relations(tables, &base, &presence, &mut relations, &mut decisions);
    equalities_between_tables(
        tables,
        &base,
        &values,
        &presence,
        &mut relations,
        &mut decisions,
    );
    Ok(System {
        base,
        value: values,
        present: presence,
        relations,
        decisions,
    })
}

/// The first cell index of each (table, measure), and the number of cells.
fn cell_bases(tables: &[Table]) -> (Vec<Vec<usize>>, usize) {
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
    (base, n)
}

/// The value the builder knows of each of the `n` cells (NaN when unknown or null) and
/// whether its measure applies.
fn known_values(
    tables: &[Table],
    base: &[Vec<usize>],
    n: usize,
    value: &dyn Fn(usize, usize, usize) -> Option<f64>,
    present: &dyn Fn(usize, usize, usize) -> bool,
) -> (Vec<f64>, Vec<bool>) {
    let mut values = vec![f64::NAN; n];
    let mut presence = vec![false; n];
    for (ti, t) in tables.iter().enumerate() {
        for (mi, &b) in base[ti].iter().enumerate().take(t.measures.len()) {
            for r in 0..t.rows {
                let c = b + r;
                presence[c] = present(ti, mi, r);
                if let Some(v) = value(ti, mi, r) {
                    values[c] = v;
                }
            }
        }
    }
    (values, presence)
}

/// The parent–children relations of one measure along one dimension of a table.
struct Families<'a> {
    /// First cell index of the measure.
    base: usize,
    m: &'a Measure,
    d: &'a Dimension,
    /// A stock along a period dimension: equal to its period-ending child.
    stock: bool,
    /// An average along a period dimension: its sub-periods sum to 3 or 4 times it.
    average: bool,
    values: &'a [f64],
    presence: &'a [bool],
}

impl Families<'_> {
    /// The cell of row `r`.
    fn cell(&self, r: u32) -> usize {
        self.base + r as usize
    }

    /// One sum relation per link along dimension `di` whose parent and some children are
    /// present.
    fn group(&self, links: &[Link], di: usize) -> Vec<Relation> {
        let (m, d, presence) = (self.m, self.d, self.presence);
        let cell = |r: u32| self.cell(r);
        let mut group: Vec<Relation> = Vec::new();
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
            if self.stock {
                parts.retain(|&c| ends_parent(&d.codes[d.rows[c as usize] as usize]));
            } else if self.average {
                let code = &d.codes[d.rows[l.parent as usize] as usize];
                k = if code.contains('T') { 3.0 } else { 4.0 };
            }
            if parts.is_empty() {
                continue;
            }
            let tol = m.half_unit * (k + parts.len() as f64);
            group.push(Relation {
                kind: RelationKind::Sum(k),
                total: cell(l.parent) as u32,
                parts: parts.into_iter().map(|c| cell(c) as u32).collect(),
                tol,
            });
        }
        group
    }

    /// Keeps each relation of `group` that the builder can check to hold; returns how many
    /// fell back to distinct-count bounds.
    fn keep_holding(&self, group: &mut Vec<Relation>) -> usize {
        let (m, values) = (self.m, self.values);
        // Keep each relation that the builder can check to hold: persons counted once
        // per margin fall back to distinct-count bounds where their sum does not add up,
        // other relations that do not hold (an average over an incomplete period) are
        // left out. Decided relation by relation, as the checker does.
        let holds = |rel: &Relation| {
            let RelationKind::Sum(k) = rel.kind else {
                return true;
            };
            let t = values[rel.total as usize];
            let s: f64 = rel.parts.iter().map(|&p| values[p as usize]).sum();
            if t.is_nan() || s.is_nan() {
                return true;
            }
            (k * t - s).abs() <= rel.tol + 1e-7 * (1.0 + (k * t).abs())
        };
        let mut distinct = 0usize;
        group.retain_mut(|rel| {
            if holds(rel) {
                true
            } else if m.kind == MeasureKind::Persons {
                let known = |c: u32| values[c as usize];
                let t = known(rel.total);
                let slack = rel.tol + 1e-7 * (1.0 + t.abs());
                let sum: f64 = rel.parts.iter().map(|&p| known(p)).sum();
                let top = rel
                    .parts
                    .iter()
                    .map(|&p| known(p))
                    .fold(f64::NEG_INFINITY, f64::max);
                // Unknown values (NaN) keep the bound: nothing says it fails.
                let above_parts = top.is_nan() || t.is_nan() || top <= t + slack;
                let below_sum = t.is_nan() || sum.is_nan() || t <= sum + slack;
                rel.kind = RelationKind::Distinct {
                    above_parts,
                    below_sum,
                };
                distinct += 1;
                above_parts || below_sum
            } else {
                false
            }
        });
        distinct
    }

    /// How the measure was tied along the dimension, given how many relations became
    /// distinct-count bounds and whether some were left out.
    fn decision(&self, distinct: usize, dropped: bool) -> &'static str {
        if distinct > 0 {
            "distinct (largest part ≤ total ≤ sum of parts) where the sum does not hold"
        } else if dropped {
            "sum where it holds (some relations do not add up)"
        } else if self.stock {
            "equal (stock at period end)"
        } else if self.average {
            "sum (average over sub-periods)"
        } else {
            "sum"
        }
    }
}

/// The declared relations between the measures of each row, with their decisions.
fn declared_relations(
    tables: &[Table],
    base: &[Vec<usize>],
    presence: &[bool],
    relations: &mut Vec<Relation>,
    decisions: &mut Vec<(String, String, String, &'static str)>,
) {
    for (ti, t) in tables.iter().enumerate() {
        for rel in &t.relations {
            let kind = match rel.op {
                RelationOp::Equal => RelationKind::Sum(1.0),
                RelationOp::AtLeast => RelationKind::AtLeast,
            };
            let tol = t.measures[rel.left].half_unit
                + rel
                    .right
                    .iter()
                    .map(|&m| t.measures[m].half_unit)
                    .sum::<f64>();
            for r in 0..t.rows {
                let cell = |m: usize| base[ti][m] + r;
                if !presence[cell(rel.left)] {
                    continue;
                }
                let parts: Vec<u32> = rel
                    .right
                    .iter()
                    .map(|&m| cell(m))
                    .filter(|&c| presence[c])
                    .map(|c| c as u32)
                    .collect();
                if parts.is_empty() {
                    continue;
                }
                relations.push(Relation {
                    kind,
                    total: cell(rel.left) as u32,
                    parts,
                    tol,
                });
            }
            decisions.push((
                t.dataset.clone(),
                t.measures[rel.left].id.clone(),
                "(measures)".to_owned(),
                match rel.op {
                    RelationOp::Equal => "equal (declared relation between measures)",
                    RelationOp::AtLeast => "at least (declared relation between measures)",
                },
            ));
        }
    }
}

/// Rows of a table whose dimensions outside `shared` are all at their single top member (a
/// total), keyed by the codes of the `shared` dimensions; `None` when one of those dimensions
/// has no single top member.
fn total_rows<'a>(t: &'a Table, shared: &[usize]) -> Option<HashMap<Vec<&'a str>, u32>> {
    let mut roots = Vec::new();
    for (di, d) in t.dims.iter().enumerate() {
        if shared.contains(&di) {
            continue;
        }
        let mut top = (0..d.codes.len()).filter(|&m| d.depth[m] == 0);
        let (Some(root), None) = (top.next(), top.next()) else {
            return None;
        };
        roots.push((di, root as u32));
    }
    let mut out = HashMap::new();
    for r in 0..t.rows {
        if roots.iter().all(|&(di, root)| t.dims[di].rows[r] == root) {
            let key: Vec<&str> = shared
                .iter()
                .map(|&di| t.dims[di].codes[t.dims[di].rows[r] as usize].as_str())
                .collect();
            out.insert(key, r as u32);
        }
    }
    Some(out)
}

/// Relations between tables: where two datasets publish the same figure (same kind of
/// measure, the dimensions they share at the same codes, every other dimension at its total),
/// an attacker can read one for the other. Every pair of measures of the same kind whose
/// values agree on every matched row the builder knows (at least one not 0) is tied by
/// `a = b`; the decision is recorded as `= <dataset>.<measure>`.
fn equalities_between_tables(
    tables: &[Table],
    base: &[Vec<usize>],
    values: &[f64],
    presence: &[bool],
    relations: &mut Vec<Relation>,
    decisions: &mut Vec<(String, String, String, &'static str)>,
) {
    for ta in 0..tables.len() {
        for tb in ta + 1..tables.len() {
            let (a, b) = (&tables[ta], &tables[tb]);
            let shared: Vec<(usize, usize)> = a
                .dims
                .iter()
                .enumerate()
                .filter_map(|(i, d)| {
                    b.dims
                        .iter()
                        .position(|e| e.id == d.id && e.kind == d.kind)
                        .map(|j| (i, j))
                })
                .collect();
            if shared.is_empty() {
                continue;
            }
            let on_a: Vec<usize> = shared.iter().map(|x| x.0).collect();
            let on_b: Vec<usize> = shared.iter().map(|x| x.1).collect();
            let (Some(rows_a), Some(rows_b)) = (total_rows(a, &on_a), total_rows(b, &on_b)) else {
                continue;
            };
            let mut pairs: Vec<(u32, u32)> = rows_a
                .iter()
                .filter_map(|(key, &ra)| rows_b.get(key).map(|&rb| (ra, rb)))
                .collect();
            if pairs.is_empty() {
                continue;
            }
            pairs.sort_unstable();
            for (ma, mea) in a.measures.iter().enumerate() {
                if !matches!(mea.class, Class::Count | Class::Magnitude) {
                    continue;
                }
                for (mb, meb) in b.measures.iter().enumerate() {
                    if meb.class != mea.class || meb.kind != mea.kind {
                        continue;
                    }
                    let tol = mea.half_unit + meb.half_unit;
                    let cells: Vec<(usize, usize)> = pairs
                        .iter()
                        .map(|&(ra, rb)| (base[ta][ma] + ra as usize, base[tb][mb] + rb as usize))
                        .filter(|&(x, y)| presence[x] && presence[y])
                        .collect();
                    let mut nonzero = false;
                    let holds = cells.iter().all(|&(x, y)| {
                        let (u, v) = (values[x], values[y]);
                        if u.is_nan() || v.is_nan() {
                            return true;
                        }
                        nonzero |= u != 0.0;
                        (u - v).abs() <= tol + 1e-7 * (1.0 + u.abs())
                    });
                    if !holds || !nonzero {
                        continue;
                    }
                    decisions.push((
                        a.dataset.clone(),
                        mea.id.clone(),
                        format!("= {}.{}", b.dataset, meb.id),
                        "equal (same figure in two datasets)",
                    ));
                    relations.extend(cells.into_iter().map(|(x, y)| Relation {
                        kind: RelationKind::Sum(1.0),
                        total: x as u32,
                        parts: vec![y as u32],
                        tol,
                    }));
                }
            }
        }
    }
}

/// Cell → relations incidence (CSR).
pub(crate) fn incidence(n: usize, relations: &[Relation]) -> (Vec<u32>, Vec<u32>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dim(
        id: &str,
        kind: DimensionType,
        codes: &[&str],
        parent: &[u32],
        rows: &[u32],
    ) -> Dimension {
        let depth: Vec<u8> = parent.iter().map(|&p| u8::from(p != NONE)).collect();
        Dimension {
            id: id.to_owned(),
            kind,
            codes: codes.iter().map(|c| (*c).to_owned()).collect(),
            finest: depth.iter().copied().max().unwrap_or(0),
            depth,
            parent: parent.to_vec(),
            rows: rows.to_vec(),
            sensitive: false,
        }
    }

    fn events(id: &str) -> Measure {
        Measure {
            id: id.to_owned(),
            kind: MeasureKind::Events,
            class: Class::Count,
            time: None,
            half_unit: 0.0,
            parts: None,
        }
    }

    /// `a` counts refusals by territory and origin, `b` by territory and reason: at every
    /// origin and every reason they are the same figure, tied cell by cell; elsewhere not.
    fn tables() -> Vec<Table> {
        let territory = |rows: &[u32]| {
            dim(
                "territoire",
                DimensionType::Territory,
                &["FR", "DEP-01", "DEP-02"],
                &[NONE, 0, 0],
                rows,
            )
        };
        let a = Table {
            dataset: "a".to_owned(),
            rows: 6,
            dims: vec![
                territory(&[0, 1, 2, 0, 1, 2]),
                dim(
                    "origine",
                    DimensionType::Categorical,
                    &["_T", "x"],
                    &[NONE, 0],
                    &[0, 0, 0, 1, 1, 1],
                ),
            ],
            measures: vec![events("refusees")],
            relations: Vec::new(),
        };
        let b = Table {
            dataset: "b".to_owned(),
            rows: 6,
            dims: vec![
                territory(&[0, 1, 2, 0, 1, 2]),
                dim(
                    "motif",
                    DimensionType::Categorical,
                    &["_T", "m"],
                    &[NONE, 0],
                    &[0, 0, 0, 1, 1, 1],
                ),
            ],
            measures: vec![events("refusees"), events("autre")],
            relations: Vec::new(),
        };
        vec![a, b]
    }

    #[test]
    fn the_same_figure_in_two_tables_is_tied_cell_by_cell() {
        let tables = tables();
        // a: 30, 12, 18 at every origin; b: the same at every reason; b's other measure differs.
        let values = [
            vec![vec![30.0, 12.0, 18.0, 30.0, 12.0, 18.0]],
            vec![
                vec![30.0, 12.0, 18.0, 5.0, 2.0, 3.0],
                vec![7.0, 3.0, 4.0, 7.0, 3.0, 4.0],
            ],
        ];
        let system = build_system(&tables, &|t, m, r| Some(values[t][m][r]), &|_, _, _| true)
            .expect("system");
        let ties: Vec<(u32, Vec<u32>)> = system
            .relations
            .iter()
            .filter(|r| {
                r.parts.len() == 1
                    && system.locate(r.total as usize).0 == 0
                    && system.locate(r.parts[0] as usize).0 == 1
            })
            .map(|r| (r.total, r.parts.clone()))
            .collect();
        // a's cells 0..6, b's refusees 6..12: rows 0, 1, 2 (every origin, every reason).
        assert_eq!(ties, vec![(0, vec![6]), (1, vec![7]), (2, vec![8])]);
        assert!(system.decisions.iter().any(|(d, m, rel, kind)| d == "a"
            && m == "refusees"
            && rel == "= b.refusees"
            && kind.starts_with("equal")));
        assert!(
            !system
                .decisions
                .iter()
                .any(|(_, _, rel, _)| rel == "= b.autre")
        );

        // Where the builder cannot see one side (a secret in the audit), the tie still holds
        // from the values it sees; where they disagree, there is none.
        let hidden = build_system(
            &tables,
            &|t, m, r| (!(t == 0 && r == 1)).then_some(values[t][m][r]),
            &|_, _, _| true,
        )
        .expect("system");
        assert_eq!(
            hidden.relations.len(),
            system.relations.len(),
            "same relations"
        );
        let other = [
            vec![vec![30.0, 12.0, 17.0, 30.0, 12.0, 17.0]],
            values[1].clone(),
        ];
        let differs = build_system(&tables, &|t, m, r| Some(other[t][m][r]), &|_, _, _| true)
            .expect("system");
        assert!(
            !differs
                .decisions
                .iter()
                .any(|(_, _, rel, _)| rel.starts_with('='))
        );
    }
}
