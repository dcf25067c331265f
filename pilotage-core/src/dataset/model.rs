//! The definition model: what a definition file (`data/datasets/<id>.toml`) holds, as Rust types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::CreationPath;

/// A text in French with its English translation alongside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// French text (the reference wording).
    pub fr: String,
    /// English translation.
    pub en: String,
}

/// A published dataset: one cube of dimensions × measures, with its methodology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Stable identifier, also the file stem (`candidatures` for `candidatures.toml`).
    pub id: String,
    /// Version of the definition (semantic version): any change to what a cell means bumps it.
    pub version: String,
    /// Title.
    pub title: Text,
    /// What the dataset is for, in a few sentences.
    pub description: Text,
    /// Licence of the published data (always "Licence Ouverte 2.0").
    pub license: String,
    /// Update frequency, as published in the catalog.
    pub frequency: Text,
    /// The computation (in [`crate::indicator`]) that fills the cube; defaults to `id`.
    #[serde(default)]
    pub computation: Option<String>,
    /// First calendar year covered (inclusive).
    pub first_year: i32,
    /// Last calendar year covered (inclusive).
    pub last_year: i32,
    /// Methodology: what is counted, when, with which filters.
    pub methodology: Methodology,
    /// The dimensions, in the order of the cube's columns.
    pub dimensions: Vec<Dimension>,
    /// The measures, in the order of the cube's columns.
    pub measures: Vec<Measure>,
    /// The crossings (grouping sets): for each, the finest level of every dimension it crosses.
    /// Dimensions a crossing does not name are at their total. The cube holds every
    /// combination of levels at or above the named ones, for every crossing.
    pub crossings: Vec<BTreeMap<String, String>>,
    /// Relations between the measures of one row that hold by construction (`sorties ≥
    /// sorties_examinees`, `etp_conventionnes = etat + departement`): what anyone reading the
    /// methodology can derive, so disclosure control keeps them in the attacker's system, and
    /// `publish` refuses a definition whose relation does not hold on the true values.
    #[serde(default)]
    pub relations: Vec<MeasureRelation>,
}

/// How the two sides of a [`MeasureRelation`] compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RelationOp {
    /// `left = Σ right`.
    #[serde(rename = "=")]
    Equal,
    /// `left ≥ Σ right`.
    #[serde(rename = ">=")]
    AtLeast,
}

impl RelationOp {
    /// The symbol used in definitions and documentation (`=` or `≥`).
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::AtLeast => "≥",
        }
    }
}

/// A linear relation between the count or magnitude measures of every row of a dataset:
/// `left op Σ right`, in the measures' own units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureRelation {
    /// The measure on the left (a total or an upper bound).
    pub left: String,
    /// `=` or `>=`.
    pub op: RelationOp,
    /// The measures summed on the right.
    pub right: Vec<String>,
}

impl MeasureRelation {
    /// `left ≥ a + b` as text.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}",
            self.left,
            self.op.symbol(),
            self.right.join(" + ")
        )
    }

    /// The relation with the labels of its measures, in French and English (`Sorties ≥ Sorties
    /// examinées` / `Exits ≥ Examined exits`); a measure the definition does not have keeps its
    /// id.
    pub fn labelled(&self, def: &Definition) -> Text {
        let side = |french: bool| {
            let label = |id: &String| {
                def.measure(id).map_or(id.clone(), |m| {
                    if french {
                        m.label.fr.clone()
                    } else {
                        m.label.en.clone()
                    }
                })
            };
            let right: Vec<String> = self.right.iter().map(label).collect();
            format!(
                "{} {} {}",
                label(&self.left),
                self.op.symbol(),
                right.join(" + ")
            )
        };
        Text {
            fr: side(true),
            en: side(false),
        }
    }
}

impl Definition {
    /// The computation id: [`Definition::computation`] or else the dataset id.
    pub fn computation_id(&self) -> &str {
        self.computation.as_deref().unwrap_or(&self.id)
    }

    /// The dimension with this id.
    pub fn dimension(&self, id: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.id == id)
    }

    /// The measure with this id.
    pub fn measure(&self, id: &str) -> Option<&Measure> {
        self.measures.iter().find(|m| m.id == id)
    }
}

/// The methodology of a dataset, in French and English.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Methodology {
    /// What one unit counted is.
    pub counted: Text,
    /// Which date places a unit in a period (month, quarter, year).
    pub period: Text,
    /// Filters applied before counting.
    pub filters: Text,
    /// Creation paths whose rows are left out (`pe_approval` always; `ai_stock` from flows).
    #[serde(default)]
    pub excluded_creation_paths: Vec<CreationPath>,
    /// The age definition, when a breakdown by age exists.
    #[serde(default)]
    pub age: Option<Text>,
    /// How values are rounded.
    pub rounding: Text,
    /// Known limits a reader must keep in mind.
    #[serde(default)]
    pub limits: Option<Text>,
}

/// What kind of dimension this is: it decides its levels and members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimensionType {
    /// Territory: France (total) → région → département, members from the referential.
    /// Codes: `FR`, `REG-<code région>`, `DEP-<code département>`.
    Territory,
    /// Period: year → quarter → month, no total. Codes: `2024`, `2024-T1`, `2024-01`.
    Period,
    /// Closed list of codes with an explicit hierarchy declared in the definition.
    Categorical,
}

/// Level names of a territory dimension, coarsest first.
pub const TERRITORY_LEVELS: [&str; 3] = ["france", "region", "departement"];
/// Level names of a period dimension, coarsest first.
pub const PERIOD_LEVELS: [&str; 3] = ["annee", "trimestre", "mois"];
/// Name of the total level of a categorical dimension (its only member is the total).
pub const TOTAL_LEVEL: &str = "total";
/// The total member of a categorical dimension.
pub const TOTAL: &str = "_T";
/// The total member of a territory dimension: France entière.
pub const TERRITORY_TOTAL: &str = "FR";

/// One dimension of a cube.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    /// Column name in the cube, and the computation's axis it is filled from.
    pub id: String,
    /// Kind of dimension.
    #[serde(rename = "type")]
    pub kind: DimensionType,
    /// Label.
    pub label: Text,
    /// What the dimension describes (for a territory: which attachment).
    pub description: Text,
    /// The total member: `_T` for categorical dimensions, `FR` for territory; none for periods.
    #[serde(default)]
    pub total: Option<String>,
    /// Levels below the total, each with its members (categorical dimensions only). After
    /// loading they are ordered coarsest first.
    #[serde(default)]
    pub levels: Vec<Level>,
    /// Members (codes of the finest level) that may only appear in cells at national level:
    /// below it their cells are not produced at all.
    #[serde(default)]
    pub national_only: Vec<String>,
    /// A sensitive attribute (RSA, ASS, AAH, RQTH, …; those four are sensitive whether marked
    /// or not, see [`SENSITIVE_ATTRIBUTES`]). Its breakdowns are produced dense: every member
    /// of a breakdown whose total has a cell gets a cell too, zeros included, so that a zero
    /// is a value the disclosure control can hide (a breakdown whose total is from 1 to 10 is
    /// hidden whole) instead of a row whose absence would tell it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// Dimension ids that are sensitive attributes in every dataset, marked or not.
pub const SENSITIVE_ATTRIBUTES: [&str; 4] = ["rsa", "ass", "aah", "rqth"];

impl Dimension {
    /// Whether the dimension is a sensitive attribute: marked `sensitive` in its definition,
    /// or one of [`SENSITIVE_ATTRIBUTES`].
    pub fn is_sensitive(&self) -> bool {
        self.sensitive || SENSITIVE_ATTRIBUTES.contains(&self.id.as_str())
    }
}

/// One level of a categorical hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Level name, used in crossings and in the cube's level column.
    pub id: String,
    /// Label.
    pub label: Text,
    /// The level just above (none: the level right under the total).
    #[serde(default)]
    pub parent: Option<String>,
    /// The members of the level.
    pub members: Vec<Member>,
}

/// A member of a categorical level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Code, unique within the dimension.
    pub code: String,
    /// French label.
    pub label: String,
    /// Code of the member of the parent level it belongs to (required below the top level).
    #[serde(default)]
    pub parent: Option<String>,
}

/// What a measure is, which decides how it aggregates and how disclosure control treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    /// Number of distinct persons (margins are distinct counts, never sums).
    Persons,
    /// Number of events (applications, exits, …): margins are sums.
    Events,
    /// A magnitude summed over structures (ETP, hours), with its disclosure companions.
    Magnitude,
    /// Ratio of two measures of the same cell, in percent.
    Rate,
    /// Difference of two magnitudes of the same cell.
    Difference,
    /// Median of a value over the units of the cell.
    Median,
}

impl MeasureKind {
    /// True for the kinds computed from two other measures of the same cell.
    pub fn is_derived(self) -> bool {
        matches!(self, Self::Rate | Self::Difference)
    }

    /// The code used in definitions and documentation.
    pub fn code(self) -> &'static str {
        match self {
            Self::Persons => "persons",
            Self::Events => "events",
            Self::Magnitude => "magnitude",
            Self::Rate => "rate",
            Self::Difference => "difference",
            Self::Median => "median",
        }
    }
}

/// How a measure's monthly contributions make the value of a quarter or a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeRule {
    /// Flow: a unit counts in the month of its date, and in that month's quarter and year.
    Flow,
    /// Stock at period end: the value of a quarter or a year is that of its last month.
    Stock,
    /// Average over the period: monthly values summed, divided by the months of the period
    /// (1, 3 or 12), as ETP are.
    Average,
}

impl TimeRule {
    /// The code used in definitions and documentation.
    pub fn code(self) -> &'static str {
        match self {
            Self::Flow => "flow",
            Self::Stock => "stock",
            Self::Average => "average",
        }
    }
}

/// One measure of a cube.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// Column name in the cube.
    pub id: String,
    /// Kind.
    pub kind: MeasureKind,
    /// Label.
    pub label: Text,
    /// Exact definition: what is counted, which date places it in a period.
    pub definition: Text,
    /// Unit as published (`personnes`, `candidatures`, `ETP`, `heures`, `%`, `jours`).
    pub unit: String,
    /// Time rule (base measures only; derived measures follow their parts).
    #[serde(default)]
    pub time: Option<TimeRule>,
    /// Decimals kept when publishing (magnitudes, rates, medians, differences; none for counts).
    #[serde(default)]
    pub decimals: Option<u32>,
    /// For a rate `[numerator, denominator]`, for a difference `[a, b]` (a − b): measures of
    /// the same dataset.
    #[serde(default)]
    pub of: Vec<String>,
    /// The dimensions along which the measure varies (default: all). In a cell where another
    /// dimension is not at its total the measure is null (not applicable).
    #[serde(default)]
    pub dimensions: Option<Vec<String>>,
}

/// Units of count measures that count public things (structures, job descriptions, prescriber
/// organisations) rather than persons or events: such counts are never confidential.
pub const PUBLIC_UNITS: [&str; 3] = ["structures", "fiches de poste", "organisations"];

impl Measure {
    /// True for a count of public things (a persons or events measure whose unit is one of
    /// [`PUBLIC_UNITS`]): never confidential, never hidden to protect another value.
    pub fn counts_public_things(&self) -> bool {
        matches!(self.kind, MeasureKind::Persons | MeasureKind::Events)
            && PUBLIC_UNITS.contains(&self.unit.as_str())
    }

    /// True if the measure varies along the dimension `dim`.
    pub fn varies_along(&self, dim: &str) -> bool {
        self.dimensions
            .as_ref()
            .is_none_or(|dims| dims.iter().any(|d| d == dim))
    }
}
