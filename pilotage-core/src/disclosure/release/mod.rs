//! Disclosure control of a whole release of cubes: the protection ([`protect_release`]).
//!
//! The release is one linear system over every value of every dataset: per measure, one
//! relation per parent row and dimension of every hierarchy (territory France → région →
//! département, period year → quarter → month, every categorical hierarchy), with
//!
//! - sums for events and magnitudes over every dimension, flows over time included;
//! - stocks at period end: a quarter equals its last month and a year its fourth quarter;
//! - averages over time (ETP): `k × total = Σ sub-periods` (k = 3 months or 4 quarters);
//! - persons (distinct counts): sums where the margin adds up exactly in the data, otherwise
//!   the distinct-count bounds `max(parts) ≤ total ≤ Σ parts`;
//! - the relations between the measures of a row that the definitions declare;
//! - equalities between datasets that publish the same figure;
//! - counts of structures, job descriptions and prescriber organisations: public constants.
//!
//! Each relation is kept where it holds on the true values. Published values are constants.
//!
//! **Claims.** Every confidential value must be consistent with a value on the far side of
//! its threshold: a count from 1 to 10 with 0 and with 11 or more, a zero of a small sensitive
//! breakdown with 1 or more, a confidential magnitude x with x − m and x + m (m the largest
//! margin of the rules that fire), against every structure too. Each claim is proved by a
//! witness point: a sparse change of hidden values from the true values that satisfies the
//! whole system (the `witness` module). The protection hides the values each point moves, so the
//! points hold in the published release by construction; the certificate lists them, and the
//! independent checker (`pilotage-checker`) verifies them with arithmetic alone.

mod grid;
mod previous;
mod protect;
mod witness;

use serde::{Deserialize, Serialize};

use crate::cube::Geography;

use super::rules::PrimaryRules;

pub use previous::PreviousRelease;
pub use protect::{primary_mask, protect_release};

/// Dimensions that break persons down by a sensitive attribute, by default: a row of them whose
/// total is from 1 to 10 is secret entirely, zeros included. A dimension marked `sensitive` in
/// its definition is sensitive too (see [`crate::dataset::Dimension::is_sensitive`]).
pub const SENSITIVE_DIMENSIONS: [&str; 4] = crate::dataset::SENSITIVE_ATTRIBUTES;

/// The départements and régions of the territory referential the release is built on (the
/// official one compiled in, [`crate::territory::Referential::official`]), so that the audit
/// needs only the published tables and the definitions.
pub fn reference_geography() -> Result<Geography, super::DisclosureError> {
    crate::territory::Referential::try_official()
        .map(Geography::from_referential)
        .map_err(|e| super::DisclosureError::Release {
            dataset: "territory referential".to_owned(),
            message: e.to_string(),
        })
}

/// Options of [`protect_release`].
#[derive(Debug, Clone)]
pub struct ProtectOptions {
    /// The primary rules (defaults of the methodology: counts 1–10, magnitudes with fewer
    /// than 3 structures, a top structure above 85 %, 1–10 persons behind them).
    pub rules: PrimaryRules,
    /// Dimension ids that are sensitive attributes (default [`SENSITIVE_DIMENSIONS`]).
    pub sensitive_dimensions: Vec<String>,
    /// The départements and their régions; `None` uses [`reference_geography`].
    pub geography: Option<Geography>,
    /// What the previous release published, if there is one (default none): its unchanged
    /// published values are known to everyone and never moved by a point, its secret values
    /// are preferred, and the share of its mask kept is reported.
    pub previous: Option<PreviousRelease>,
}

impl Default for ProtectOptions {
    fn default() -> Self {
        ProtectOptions {
            rules: PrimaryRules::default(),
            sensitive_dimensions: SENSITIVE_DIMENSIONS.iter().map(|s| s.to_string()).collect(),
            geography: None,
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
    /// Confidential values (with at least one claim).
    pub confidential: u64,
    /// Claims to prove.
    pub claims: u64,
    /// Witness points of the certificate.
    pub points: u64,
    /// Value changes over all points.
    pub point_changes: u64,
    /// Claims proved by a point built for another claim.
    pub claims_shared: u64,
    /// Claims left without a point (the release is refused when not 0).
    pub unproved: u64,
    /// Wall time of the protection, in seconds.
    pub seconds: f64,
    /// Per way of finding a point, in the order they are tried: how it did.
    pub stages: Vec<StageStats>,
    /// How each (dataset, measure, dimension) was tied: sum, equal, distinct, declared
    /// relation or equality between datasets.
    pub relation_kinds: Vec<(String, String, String, String)>,
}

/// How one way of finding a witness point did over a protection run: what the operator
/// reads to see where the time goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageStats {
    /// The stage: `Records` (record moves, followed into tied datasets), `Directions`,
    /// `Program(n)` (a neighbourhood program of at most n values), `Closure` or
    /// `WideClosure`.
    pub stage: String,
    /// Claims it was asked for.
    pub asked: u64,
    /// Points it found.
    pub found: u64,
    /// Points it found that move values of several datasets.
    pub across: u64,
    /// Wall time spent in it, in seconds.
    pub seconds: f64,
}

/// A value the protection reports: where it is, its true value and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellReport {
    /// Dataset id.
    pub dataset: String,
    /// Coordinates `(dimension, code)`, in the dataset's dimension order.
    pub coordinates: Vec<(String, String)>,
    /// Measure id.
    pub measure: String,
    /// The true value (private: for the operator's eyes, never published).
    pub value: f64,
    /// Why it is reported.
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
    /// Claims no point could prove, and confidential values the previous release published
    /// (empty when the protection succeeded; otherwise the release must not be published).
    pub unresolved: Vec<CellReport>,
    /// Figures of the run.
    pub stats: ProtectStats,
    /// True when a previous release was given and this one shows exactly the same values the
    /// same way (same mask, same published values, no value more or less): publishing it
    /// again is not a new release.
    pub same_as_previous: bool,
    /// The witness points and the claims they prove: private, stored with the confidential
    /// data, checked by the independent checker.
    pub certificate: crate::certificate::Certificate,
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
