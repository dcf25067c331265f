//! Dimensions compiled from a definition: members numbered in publication order, parents per
//! time rule, finest-level lookups.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::CubeError;
use crate::calendar::MonthWindow;
use crate::dataset::{
    Definition, Dimension, DimensionType, PERIOD_LEVELS, TERRITORY_LEVELS, TERRITORY_TOTAL, TOTAL,
    TOTAL_LEVEL, TimeRule,
};
use crate::territory::{Referential, ReferentialCsv, TerritoryError};

/// Marker of "no member": a fact known only at the total of a dimension, or a member with no
/// ancestor at some level under a time rule (a month that does not end its quarter, for a
/// stock).
pub const NONE: u32 = u32::MAX;

/// The départements and their régions, which a territory dimension rolls up through.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Geography {
    /// `(département code, région code)`, e.g. `("01", "84")`, sorted by département.
    departements: Vec<(String, String)>,
}

impl Geography {
    /// Builds the geography from `(département, région)` pairs.
    pub fn from_pairs<I, A, B>(pairs: I) -> Geography
    where
        I: IntoIterator<Item = (A, B)>,
        A: Into<String>,
        B: Into<String>,
    {
        let mut departements: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(d, r)| (d.into(), r.into()))
            .collect();
        departements.sort();
        departements.dedup();
        Geography { departements }
    }

    /// The départements of a territory referential with their régions: every row of its
    /// `departements.csv`, overseas collectivities included (their région is their own code).
    /// The one way from the referential to a geography, so that publishing, the disclosure
    /// stage and tests roll territories up the same way.
    pub fn from_referential(referential: &Referential) -> Geography {
        Geography::from_pairs(
            referential
                .all_departements()
                .iter()
                .map(|d| (d.code.as_str(), d.region.as_str())),
        )
    }

    /// Reads a territory referential from a folder holding its four files (`regions.csv`,
    /// `departements.csv`, `communes.csv`, `epci.csv`, as in `pilotage-core/data/reference/`),
    /// checks it with the territory parser ([`Referential::from_csv`]) and takes its geography
    /// ([`Geography::from_referential`]). An error names the file, and for a bad row its line
    /// and column.
    pub fn from_reference_dir(dir: &Path) -> Result<Geography, CubeError> {
        let read = |name: &str| {
            let file = dir.join(name);
            std::fs::read_to_string(&file).map_err(|e| CubeError::Reference {
                file,
                reason: e.to_string(),
            })
        };
        let (regions, departements, communes, epci) = (
            read("regions.csv")?,
            read("departements.csv")?,
            read("communes.csv")?,
            read("epci.csv")?,
        );
        let csv = ReferentialCsv {
            regions: &regions,
            departements: &departements,
            communes: &communes,
            epci: &epci,
        };
        let referential = Referential::from_csv(&csv).map_err(|e| reference_error(dir, e))?;
        Ok(Geography::from_referential(&referential))
    }

    /// The position of a département code among [`Geography::departements`] (binary search,
    /// no allocation).
    pub fn index(&self, departement: &str) -> Option<u32> {
        self.departements
            .binary_search_by(|(d, _)| d.as_str().cmp(departement))
            .ok()
            .map(|i| i as u32)
    }

    /// The `(département, région)` pairs, sorted by département.
    pub fn departements(&self) -> &[(String, String)] {
        &self.departements
    }
}

/// A referential error as a [`CubeError::Reference`]: the file of `dir` at fault, and the line,
/// column and value when a row is.
fn reference_error(dir: &Path, error: TerritoryError) -> CubeError {
    let (file, reason) = match error {
        TerritoryError::Data {
            table,
            line,
            column,
            value,
            reason,
        } => (
            dir.join(table),
            format!("line {line}, column `{column}`: {reason} (value {value:?})"),
        ),
        TerritoryError::Csv { table, reason } => (dir.join(table), reason),
        other => (dir.to_owned(), other.to_string()),
    };
    CubeError::Reference { file, reason }
}

/// One dimension, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CompiledDim {
    pub id: String,
    pub kind: DimensionType,
    pub level_names: Vec<String>,
    /// Member codes in publication order (coarsest level first).
    pub codes: Vec<String>,
    /// Level of each member (0 = coarsest: total, or year for a period).
    pub level: Vec<u8>,
    /// `ancestor[rule][level][member]`: the member's ancestor at `level` (itself at its own
    /// level), or [`NONE`] if it has none under that time rule or sits above `level`.
    pub ancestor: [Vec<Vec<u32>>; 3],
    /// Member of each finest-level index (for a period: month index).
    pub finest: Vec<u32>,
    /// Lookup from finest code to finest index (categorical and territory dimensions).
    pub finest_index: HashMap<String, u32>,
    /// Members that only appear at national level.
    pub national_only: Vec<bool>,
    /// A sensitive attribute: its breakdowns are produced dense (see
    /// [`crate::dataset::Dimension::sensitive`]).
    pub sensitive: bool,
    /// Bits needed to hold a member id + 1.
    pub bits: u32,
}

pub(crate) fn rule_index(rule: TimeRule) -> usize {
    match rule {
        TimeRule::Flow => 0,
        TimeRule::Stock => 1,
        TimeRule::Average => 2,
    }
}

impl CompiledDim {
    /// Compiles one dimension of a definition: its members in publication order (the
    /// territory's from the geography, the period's from the definition's years), their
    /// levels and ancestors under each time rule.
    pub fn compile(
        def: &Definition,
        dim: &Dimension,
        geography: &Geography,
    ) -> Result<CompiledDim, CubeError> {
        let (level_names, members) = match dim.kind {
            DimensionType::Territory => territory_members(dim, geography)?,
            DimensionType::Period => period_members(def),
            DimensionType::Categorical => categorical_members(dim)?,
        };
        let Members {
            list: members,
            finest,
            finest_index,
        } = members;
        let n = members.len();
        let levels = level_names.len();
        let ancestor = ancestor_tables(&members, levels);
        let national_only = members
            .iter()
            .map(|(code, lvl, _, _)| {
                *lvl as usize + 1 == levels && dim.national_only.iter().any(|c| c == code)
            })
            .collect();
        let bits = u32::BITS - (n as u32 + 1).leading_zeros();
        Ok(CompiledDim {
            id: dim.id.clone(),
            kind: dim.kind,
            level_names,
            codes: members.iter().map(|m| m.0.clone()).collect(),
            level: members.iter().map(|m| m.1).collect(),
            ancestor,
            finest,
            finest_index,
            national_only,
            sensitive: dim.is_sensitive(),
            bits,
        })
    }

    /// Index of the total member (the coarsest member, for non-period dimensions).
    pub fn total(&self) -> u32 {
        0
    }
}

/// The members of a dimension being compiled, in publication order.
struct Members {
    /// `(code, level, parent member under flow, parent under stock)`.
    list: Vec<(String, u8, u32, u32)>,
    /// Member id of each finest-level index.
    finest: Vec<u32>,
    /// Finest-level index of each finest code (territory and categorical dimensions).
    finest_index: HashMap<String, u32>,
}

/// Level names and members of a territory dimension: France, its régions, its départements
/// (the finest level, indexed by département code).
fn territory_members(
    dim: &Dimension,
    geography: &Geography,
) -> Result<(Vec<String>, Members), CubeError> {
    let level_names = TERRITORY_LEVELS.iter().map(|s| s.to_string()).collect();
    if geography.departements.is_empty() {
        return Err(CubeError::Input(format!(
            "dimension {:?}: the geography holds no département",
            dim.id
        )));
    }
    let mut members = Vec::new();
    let mut finest = Vec::new();
    let mut finest_index = HashMap::new();
    members.push((TERRITORY_TOTAL.to_owned(), 0, NONE, NONE));
    let regions: BTreeMap<&str, u32> = geography
        .departements
        .iter()
        .map(|(_, r)| r.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, r)| (r, i as u32 + 1))
        .collect();
    for r in regions.keys() {
        members.push((format!("REG-{r}"), 1, 0, 0));
    }
    for (i, (d, r)) in geography.departements.iter().enumerate() {
        let parent = regions[r.as_str()];
        let id = members.len() as u32;
        members.push((format!("DEP-{d}"), 2, parent, parent));
        finest.push(id);
        finest_index.insert(d.clone(), i as u32);
    }
    let members = Members {
        list: members,
        finest,
        finest_index,
    };
    Ok((level_names, members))
}

/// Level names and members of the period dimension: the definition's years, their quarters,
/// their months (the finest level). A quarter's stock is its year's only for the last
/// quarter, a month's its quarter's only for the last month.
fn period_members(def: &Definition) -> (Vec<String>, Members) {
    let level_names = PERIOD_LEVELS.iter().map(|s| s.to_string()).collect();
    let mut members = Vec::new();
    let mut finest = Vec::new();
    let window = MonthWindow {
        first_year: def.first_year,
        last_year: def.last_year,
    };
    let years = (def.last_year - def.first_year + 1) as u32;
    for y in 0..years {
        members.push(((def.first_year + y as i32).to_string(), 0, NONE, NONE));
    }
    for q in 0..years * 4 {
        let year = q / 4;
        // A quarter's stock is its year's only for the last quarter.
        let stock = if q % 4 == 3 { year } else { NONE };
        members.push((
            format!("{}-T{}", def.first_year + year as i32, q % 4 + 1),
            1,
            year,
            stock,
        ));
    }
    for m in 0..window.len() {
        let (y, mo) = window.year_month(m);
        let quarter = years + m / 3;
        let stock = if mo % 3 == 0 { quarter } else { NONE };
        let id = members.len() as u32;
        members.push((format!("{y}-{mo:02}"), 2, quarter, stock));
        finest.push(id);
    }
    let members = Members {
        list: members,
        finest,
        finest_index: HashMap::new(),
    };
    (level_names, members)
}

/// Level names and members of a categorical dimension: its total, then the members of each
/// level of the definition (the last level is the finest, indexed by member code).
fn categorical_members(dim: &Dimension) -> Result<(Vec<String>, Members), CubeError> {
    let level_names = std::iter::once(TOTAL_LEVEL.to_owned())
        .chain(dim.levels.iter().map(|l| l.id.clone()))
        .collect();
    let mut members = Vec::new();
    let mut finest = Vec::new();
    let mut finest_index = HashMap::new();
    members.push((TOTAL.to_owned(), 0, NONE, NONE));
    let mut ids: HashMap<&str, u32> = HashMap::new();
    for (i, level) in dim.levels.iter().enumerate() {
        for m in &level.members {
            let parent = match &m.parent {
                None => 0,
                Some(p) => *ids.get(p.as_str()).ok_or_else(|| {
                    CubeError::Input(format!(
                        "dimension {:?}: member {:?} has an unknown parent {p:?}",
                        dim.id, m.code
                    ))
                })?,
            };
            let id = members.len() as u32;
            ids.insert(&m.code, id);
            members.push((m.code.clone(), i as u8 + 1, parent, parent));
            if i + 1 == dim.levels.len() {
                finest_index.insert(m.code.clone(), finest.len() as u32);
                finest.push(id);
            }
        }
    }
    let members = Members {
        list: members,
        finest,
        finest_index,
    };
    Ok((level_names, members))
}

/// Per time rule (see [`rule_index`]), per level, the ancestor of each member at that level
/// ([`NONE`] where the member has none, or is coarser).
fn ancestor_tables(members: &[(String, u8, u32, u32)], levels: usize) -> [Vec<Vec<u32>>; 3] {
    let n = members.len();
    let mut ancestor: [Vec<Vec<u32>>; 3] = Default::default();
    for (rule, table) in ancestor.iter_mut().enumerate() {
        *table = vec![vec![NONE; n]; levels];
        for id in 0..n {
            let mut current = id as u32;
            loop {
                let (_, lvl, flow_parent, stock_parent) = &members[current as usize];
                let row: &mut Vec<u32> = &mut table[*lvl as usize];
                row[id] = current;
                let parent = if rule == 1 {
                    *stock_parent
                } else {
                    *flow_parent
                };
                if parent == NONE {
                    break;
                }
                current = parent;
            }
        }
    }
    ancestor
}
