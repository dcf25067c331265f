//! Disclosure control of a whole release of cubes: protection ([`protect_release`]) and the
//! audit of published tables ([`audit_release`]).
//!
//! The release is one linear system over every value of every dataset: per measure, one
//! relation per parent cell and dimension of every hierarchy (territory France → région →
//! département, period year → quarter → month, every categorical hierarchy), with
//!
//! - sums for events and magnitudes over every dimension, flows over time included;
//! - stocks at period end: a quarter equals its last month and a year its fourth quarter;
//! - averages over time (ETP): `k × total = Σ sub-periods` (k = 3 months or 4 quarters);
//! - persons (distinct counts): sums where the margin adds up exactly in the data, otherwise
//!   the distinct-count bounds `max(parts) ≤ total ≤ Σ parts`;
//! - counts of structures, job descriptions and prescriber organisations: public constants.
//!
//! Published cells are constants; secret cells are unknowns linked by the relations that hold
//! them, so the system falls apart into connected components, each solved on its own.
//!
//! **Requirement (value-free).** The audit reads only published tables, so it does not know a
//! secret's true value; it checks a rule that implies DESIGN.md §5's for every value the
//! secret could have. With `[min, max]` the attacker's interval (counts rounded inward):
//! a secret count passes when `min ≥ 11` (it cannot be a small count), or `min = 0` and
//! `max ≥ 11` (every small count stays unprovable), or `min = max = 0` outside a sensitive
//! breakdown (a known zero); a secret magnitude passes when `max − min ≥ 10 % × (max + min)`
//! (±10 % around the interval's middle), or it is a known zero outside a sensitive breakdown.
//! The protection enforces the same rule.

mod grid;
mod moves;
mod previous;
mod protect;
mod read;
mod solve;

use serde::{Deserialize, Serialize};

use crate::cube::Geography;
use crate::release::AuditSummary;

use super::rules::PrimaryRules;

pub use previous::PreviousRelease;
pub use protect::protect_release;
pub use read::{audit_release, audit_release_with};

/// Dimensions that break persons down by a sensitive attribute, by default: a row of them whose
/// total is from 1 to 10 is secret entirely, zeros included. A dimension marked `sensitive` in
/// its definition is sensitive too (see [`crate::dataset::Dimension::is_sensitive`]).
pub const SENSITIVE_DIMENSIONS: [&str; 4] = crate::dataset::SENSITIVE_ATTRIBUTES;

/// The département → région table of the territory referential the release is built on
/// (`datasets/reference/departements.csv`), compiled in so that the audit needs only the
/// published tables and the definitions.
const DEPARTEMENTS_CSV: &str = include_str!("../../../../datasets/reference/departements.csv");

/// The geography compiled in (see [`DEPARTEMENTS_CSV`]).
pub fn reference_geography() -> Result<Geography, super::DisclosureError> {
    let bad = |message: String| super::DisclosureError::Release {
        dataset: "departements.csv".to_owned(),
        message,
    };
    let mut reader = csv::Reader::from_reader(DEPARTEMENTS_CSV.as_bytes());
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no column {name:?}")))
    };
    let (code, region) = (col("code")?, col("region")?);
    let mut pairs = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        if let (Some(c), Some(r)) = (record.get(code), record.get(region)) {
            pairs.push((c.to_owned(), r.to_owned()));
        }
    }
    Ok(Geography::from_pairs(pairs))
}

/// Options of [`protect_release`] and [`audit_release_with`].
#[derive(Debug, Clone)]
pub struct ProtectOptions {
    /// The primary rules (defaults of DESIGN.md §5). The audit uses `min_count` and
    /// `frequency_margin` (the relative margin of magnitudes).
    pub rules: PrimaryRules,
    /// Dimension ids that are sensitive attributes (default [`SENSITIVE_DIMENSIONS`]).
    pub sensitive_dimensions: Vec<String>,
    /// The départements and their régions; `None` uses [`reference_geography`].
    pub geography: Option<Geography>,
    /// Most rounds of the interval pass (each round solves the changed components and widens
    /// every failing cell once). Default 50.
    pub max_rounds: usize,
    /// Largest component of secret cells solved whole, as one linear system (default 10,000:
    /// on a scale-0.002 release, components of 3,900 cells take 21–27 s whole and fail 16–36
    /// values, components of 4,100–4,300 cells in chunks 270 s and fail 3,340–3,360; whole
    /// components of 4,900–5,400 cells took 62–140 s). Larger components are cut into chunks
    /// of 1,000 neighbouring cells, the cells outside a chunk held at a feasible point
    /// (narrower intervals: sound, stricter): their true values in the protection; in the
    /// audit, which does not know them, a solution of the component's relations (counted in
    /// [`ReleaseAudit::chunked`]).
    pub max_component: usize,
    /// Whether the protection runs the box pass (default true): before any linear program,
    /// each small count gets the cheapest box of neighbouring cells hidden around it so that
    /// a move along the box proves it. Fewer linear programs on large releases, at the price
    /// of some extra suppression.
    pub boxes: bool,
    /// What the previous release published, if there is one (default none): its unchanged
    /// published values are known to everyone and never chosen as secondary cells, its secret
    /// values are preferred as secondary cells, and the share of its mask kept is reported.
    pub previous: Option<PreviousRelease>,
}

impl Default for ProtectOptions {
    fn default() -> Self {
        ProtectOptions {
            rules: PrimaryRules::default(),
            sensitive_dimensions: SENSITIVE_DIMENSIONS.iter().map(|s| s.to_string()).collect(),
            geography: None,
            max_rounds: 50,
            max_component: 10_000,
            boxes: true,
            previous: None,
        }
    }
}

/// Counts of hidden values in one part of a release.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LossCounts {
    /// Values subject to disclosure control (non-null values).
    pub values: u64,
    /// Values secret by a primary rule.
    pub primary: u64,
    /// Values hidden to protect primary ones.
    pub secondary: u64,
    /// Sum of the count values (persons and events), in their units.
    pub count_sum: f64,
    /// Sum of the hidden count values.
    pub hidden_count_sum: f64,
}

impl LossCounts {
    /// Share of values hidden, in % (0–100).
    pub fn secret_share_pct(&self) -> f64 {
        if self.values == 0 {
            0.0
        } else {
            100.0 * (self.primary + self.secondary) as f64 / self.values as f64
        }
    }

    /// Share of the summed count values hidden, in % (0–100).
    pub fn value_share_pct(&self) -> f64 {
        if self.count_sum <= 0.0 {
            0.0
        } else {
            100.0 * self.hidden_count_sum / self.count_sum
        }
    }

    /// Secondary / primary (0 without primary secrets).
    pub fn secondary_per_primary(&self) -> f64 {
        if self.primary == 0 {
            0.0
        } else {
            self.secondary as f64 / self.primary as f64
        }
    }

    fn add(&mut self, other: &LossCounts) {
        self.values += other.values;
        self.primary += other.primary;
        self.secondary += other.secondary;
        self.count_sum += other.count_sum;
        self.hidden_count_sum += other.hidden_count_sum;
    }

    /// The manifest's figures.
    pub fn to_manifest(&self) -> crate::release::InformationLoss {
        crate::release::InformationLoss {
            values: self.values,
            primary: self.primary,
            secondary: self.secondary,
            secret_share_pct: self.secret_share_pct(),
            secret_value_share_pct: self.value_share_pct(),
            secondary_per_primary: self.secondary_per_primary(),
            previous_mask_kept_pct: None,
        }
    }
}

/// Information loss of one dataset, overall and per territorial level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetLoss {
    /// Dataset id.
    pub dataset: String,
    /// Overall.
    pub overall: LossCounts,
    /// Per territorial level (`france`, `region`, `departement`), in that order.
    pub by_territorial_level: Vec<(String, LossCounts)>,
}

/// Figures of one protection run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProtectStats {
    /// Values of the release (non-null).
    pub values: u64,
    /// Relations of the linear system.
    pub relations: u64,
    /// Hidden additive values after the fast pass (before the interval pass).
    pub hidden_after_fast_pass: u64,
    /// Rounds of the interval pass.
    pub rounds: u64,
    /// Components solved (over all rounds).
    pub components_solved: u64,
    /// Largest component met (secret cells).
    pub largest_component: u64,
    /// Linear programs solved.
    pub lps: u64,
    /// Cell checks settled by moves from the true values, without a linear program (over all
    /// rounds; a cell checked in several rounds counts once per round).
    pub certified_by_moves: u64,
    /// Cell checks settled by outer bounds (propagation over the relations): counts the
    /// attacker can prove to be 11 or more, without a linear program (per round, as above).
    pub certified_by_bounds: u64,
    /// Rounds of the bounds pass (widening where outer bounds alone prove a count fails).
    pub bounds_passes: u64,
    /// Boxes hidden by the box pass (one per small count not proved by a move before).
    pub boxes: u64,
    /// How each (dataset, measure, dimension) was tied: sum, equal, distinct or none.
    pub relation_kinds: Vec<(String, String, String, String)>,
}

/// One cell of a report: where it is and the attacker's interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellReport {
    /// Dataset id.
    pub dataset: String,
    /// Coordinates `(dimension, code)`, in the dataset's dimension order.
    pub coordinates: Vec<(String, String)>,
    /// Measure id.
    pub measure: String,
    /// Attacker's lower bound (NaN when not computed).
    pub min: f64,
    /// Attacker's upper bound (+∞ when unbounded, NaN when not computed).
    pub max: f64,
    /// Why it fails.
    pub reason: String,
}

/// What [`protect_release`] decides: per cube, per measure, per row, whether the value is
/// hidden, with the information loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseProtection {
    /// `secret[cube][measure][row]`: true when the value must be published as `secret`. Cubes
    /// in the order given, measures in each cube's order. Null values are never secret.
    pub secret: Vec<Vec<Vec<bool>>>,
    /// Release-wide information loss, as the manifest records it.
    pub loss: crate::release::InformationLoss,
    /// Release-wide counts behind `loss`.
    pub overall: LossCounts,
    /// Per dataset (cube order), overall and per territorial level.
    pub datasets: Vec<DatasetLoss>,
    /// Release-wide, per territorial level.
    pub by_territorial_level: Vec<(String, LossCounts)>,
    /// Cells the interval pass could not protect (empty when it succeeded): the audit will
    /// fail on them.
    pub unresolved: Vec<CellReport>,
    /// Figures of the run.
    pub stats: ProtectStats,
    /// True when a previous release was given and this one shows exactly the same values the
    /// same way (same mask, same published values, no value more or less): publishing it
    /// again is not a new release.
    pub same_as_previous: bool,
}

/// Result of [`audit_release`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReleaseAudit {
    /// True when every secret value keeps its protection interval and no published value
    /// breaks a rule.
    pub passed: bool,
    /// Non-null values read.
    pub values: u64,
    /// Secret values.
    pub secret: u64,
    /// Secret values checked by linear programming (counts and magnitudes).
    pub checked: u64,
    /// Components of secret cells.
    pub components: u64,
    /// Largest component (secret cells).
    pub largest_component: u64,
    /// Secret counts proved to be 11 or more by outer bounds (propagation over the
    /// relations), without a linear program.
    pub settled_by_bounds: u64,
    /// Linear programs solved.
    pub lps: u64,
    /// Secret values checked on a chunk of a component larger than
    /// [`ProtectOptions::max_component`], the cells outside the chunk held at one feasible
    /// point of the component: a stricter check than the whole component's (a value may fail
    /// there and pass whole), never a looser one.
    pub chunked: u64,
    /// Every failing cell.
    pub failures: Vec<CellReport>,
}

impl ReleaseAudit {
    /// The manifest's summary.
    pub fn summary(&self) -> AuditSummary {
        AuditSummary {
            passed: self.passed,
            checked: self.checked,
            failures: self.failures.len() as u64,
            method: "min and max of every secret value by linear programming (good_lp with \
                     microlp) per connected component of secret cells, over every hierarchy of \
                     every dataset rebuilt from the published tables and the definitions; \
                     value-free requirement (docs/disclosure.md)"
                .to_owned(),
        }
    }
}

pub(crate) fn requirement(rules: &PrimaryRules) -> solve::Requirement {
    solve::Requirement {
        min_count: rules.min_count as f64,
        margin: rules.frequency_margin,
    }
}

pub(crate) fn summarise(
    tables: &[grid::Table],
    system: &grid::System,
    primary: &[bool],
    hidden: &[bool],
) -> (Vec<DatasetLoss>, LossCounts, Vec<(String, LossCounts)>) {
    const LEVELS: [&str; 4] = ["france", "region", "departement", "-"];
    let mut datasets = Vec::new();
    let mut overall = LossCounts::default();
    let mut levels: Vec<LossCounts> = vec![LossCounts::default(); 4];
    for (ti, t) in tables.iter().enumerate() {
        let mut d = LossCounts::default();
        let mut by: Vec<LossCounts> = vec![LossCounts::default(); 4];
        for (mi, m) in t.measures.iter().enumerate() {
            for r in 0..t.rows {
                let c = system.base[ti][mi] + r;
                if !system.present[c] {
                    continue;
                }
                let li = LEVELS
                    .iter()
                    .position(|l| *l == t.territorial_level(r))
                    .unwrap_or(3);
                let mut one = LossCounts {
                    values: 1,
                    ..LossCounts::default()
                };
                if hidden[c] {
                    if primary[c] {
                        one.primary = 1;
                    } else {
                        one.secondary = 1;
                    }
                }
                if m.class == grid::Class::Count {
                    let v = system.value[c];
                    if v.is_finite() {
                        one.count_sum = v;
                        if hidden[c] {
                            one.hidden_count_sum = v;
                        }
                    }
                }
                d.add(&one);
                by[li].add(&one);
            }
        }
        overall.add(&d);
        for (l, b) in levels.iter_mut().zip(&by) {
            l.add(b);
        }
        datasets.push(DatasetLoss {
            dataset: t.dataset.clone(),
            overall: d,
            by_territorial_level: LEVELS
                .iter()
                .zip(by)
                .filter(|(_, b)| b.values > 0)
                .map(|(l, b)| (l.to_string(), b))
                .collect(),
        });
    }
    let by_level = LEVELS
        .iter()
        .zip(levels)
        .filter(|(_, b)| b.values > 0)
        .map(|(l, b)| (l.to_string(), b))
        .collect();
    (datasets, overall, by_level)
}
