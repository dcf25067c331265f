//! The three automated reports: what a structure, a Département and a DDETS write by hand
//! today, computed from the professional tables at request time.
//!
//! - `structure`: a structure's yearly activity report for its dialogue de gestion;
//! - `departement-rsa`: the Département's follow-up of the RSA recipients it co-funds;
//! - `territoire`: the DDETS's overview of its département for the CDIAE, with the région and
//!   France from the public release.
//!
//! Every line of a report is a [`Figure`]: a dataset, a measure and a filter, which
//! `docs/reports.md` lists (the figure map). Values come from the professional tables
//! (unprotected) for the perimeter asked; comparison columns outside the perimeter (région,
//! France) come from the public, protected release only, so that no subtraction can reveal a
//! hidden value.
//!
//! Period: the year, or January to month `M` of the year. Over January–M, events are summed
//! over the months, ETP are the mean of the months (as the public annual ETP is the mean of
//! twelve months), stocks are those at the end of month M; distinct persons and medians
//! cannot be added over months and are given for the whole year only (null before December);
//! rates are recomputed from their summed parts.

pub mod figures;
pub mod render;

use std::collections::BTreeMap;

use pilotage_core::dataset::{Definition, MeasureKind, TimeRule};
use serde::Serialize;

use crate::private::PrivateTable;

pub use figures::{Figure, Report};

/// One line of a computed report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// Section heading (French).
    pub section: String,
    /// Stable id of the line (`etp_realises`, `etp_realises@2024-03`, `structure:123:…`).
    pub id: String,
    /// Label (French).
    pub label: String,
    /// The period of the value: `2024`, `2024-01..2024-06` or a month `2024-03`.
    pub periode: String,
    /// Whose figure: `structure 123`, `département 75`, `région 11`, `France`.
    pub territoire: String,
    /// The value; null when not applicable or not defined over the period.
    pub value: Option<f64>,
    /// Unit (`ETP`, `personnes`, `%`, …).
    pub unit: String,
    /// Where it comes from: `private` (professional tables) or `public` (the protected
    /// release: null where the release hides it).
    pub source: &'static str,
    /// Dataset and measure (`etp.etp_realises`).
    pub measure: String,
    /// Filter on the other dimensions (`rsa=RSA_OUI`), empty for none.
    pub filter: String,
}

/// A computed report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportBody {
    /// Report id (`structure`, `departement-rsa`, `territoire`).
    pub report: String,
    /// Title (French).
    pub title: String,
    /// The release the figures come from (public and professional tables share its version).
    pub release: String,
    /// The perimeter asked (`structure=123`, `departement=75`).
    pub perimeter: String,
    /// The year.
    pub year: i32,
    /// The last month included (12: the whole year).
    pub month: u32,
    /// The lines, in order.
    pub lines: Vec<Line>,
}

/// The measure definitions of the datasets, by dataset then measure id.
#[derive(Debug, Clone, Default)]
pub struct Measures {
    by_dataset: BTreeMap<String, Definition>,
}

impl Measures {
    /// From the built-in definitions.
    pub fn embedded() -> Measures {
        let by_dataset = pilotage_core::dataset::embedded()
            .unwrap_or_default()
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect();
        Measures { by_dataset }
    }

    fn measure(&self, dataset: &str, id: &str) -> Option<&pilotage_core::dataset::Measure> {
        self.by_dataset
            .get(dataset)?
            .measures
            .iter()
            .find(|m| m.id == id)
    }

    /// The unit of a measure.
    pub fn unit(&self, dataset: &str, id: &str) -> String {
        self.measure(dataset, id)
            .map(|m| m.unit.clone())
            .unwrap_or_default()
    }
}

/// The period asked: a year and the last month included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The year.
    pub year: i32,
    /// The last month included, 1 to 12.
    pub month: u32,
}

impl Period {
    /// `2024` or `2024-01..2024-06`.
    pub fn label(self) -> String {
        if self.month == 12 {
            self.year.to_string()
        } else {
            format!("{}-01..{}-{:02}", self.year, self.year, self.month)
        }
    }

    fn months(self) -> impl Iterator<Item = String> {
        (1..=self.month).map(move |m| format!("{}-{m:02}", self.year))
    }
}

/// Where a value is read: one table of a dataset, the territory codes whose cells are summed,
/// the period and the codes of the other dimensions (those not named at their total).
#[derive(Debug, Clone, Copy)]
pub struct Cells<'a> {
    /// The measure definitions (kind, time rule, decimals).
    pub measures: &'a Measures,
    /// The table read.
    pub table: &'a PrivateTable,
    /// Its dataset id.
    pub dataset: &'a str,
    /// The territory codes summed (one per structure attachment, or one territory).
    pub codes: &'a [&'a str],
    /// The period.
    pub period: Period,
    /// Filter on the other dimensions: (dimension id, code).
    pub filter: &'a [(&'a str, &'a str)],
}

impl Cells<'_> {
    /// The coordinates of the cell of territory `code` in period code `periode`.
    fn coords<'c>(&self, code: &'c str, periode: &'c str) -> Vec<(&'c str, &'c str)>
    where
        Self: 'c,
    {
        let mut coords: Vec<(&str, &str)> = Vec::with_capacity(2 + self.filter.len());
        coords.push(("territoire", code));
        coords.push(("periode", periode));
        coords.extend_from_slice(self.filter);
        coords
    }

    /// Sums `measure` over the territory codes in one period code: `Ok(None)` when no cell
    /// exists (no unit reached it), `Err(())` when a cell exists with a null value (not
    /// applicable, or hidden in a public table): then the sum is unknown.
    fn cell_sum(&self, periode: &str, measure: &str) -> Result<Option<f64>, ()> {
        let mut total: Option<f64> = None;
        for code in self.codes {
            let coords = self.coords(code, periode);
            match self.table.value(&coords, measure) {
                Some(v) => *total.get_or_insert(0.0) += v,
                None if self.table.has_cell(&coords) => return Err(()),
                None => {}
            }
        }
        Ok(total)
    }

    /// The value of a base measure over the period (summed over the codes), following its
    /// time rule; a cell absent is 0 for counts.
    fn base_value(&self, measure: &str) -> Option<f64> {
        let m = self.measures.measure(self.dataset, measure)?;
        let period = self.period;
        let is_count = matches!(m.kind, MeasureKind::Persons | MeasureKind::Events);
        // One period: a cell absent is 0 for a count, unknown otherwise.
        let one = |p: &str| match self.cell_sum(p, measure) {
            Ok(Some(v)) => Some(v),
            Ok(None) if is_count => Some(0.0),
            _ => None,
        };
        if period.month == 12 {
            return one(&period.year.to_string());
        }
        if matches!(m.kind, MeasureKind::Persons | MeasureKind::Median) {
            return None;
        }
        let sum = || -> Option<f64> {
            let mut total = 0.0;
            for p in period.months() {
                total += self.cell_sum(&p, measure).ok()?.unwrap_or(0.0);
            }
            Some(total)
        };
        match m.time.unwrap_or(TimeRule::Flow) {
            TimeRule::Flow => sum(),
            TimeRule::Average => sum().map(|s| s / f64::from(period.month)),
            TimeRule::Stock => one(&format!("{}-{:02}", period.year, period.month)),
        }
    }

    /// The value of any measure (rates and differences from their parts), rounded as the
    /// definition publishes it; `None` when not applicable or not defined over the period.
    pub fn value(&self, measure: &str) -> Option<f64> {
        let m = self.measures.measure(self.dataset, measure)?;
        let period = self.period;
        if period.month == 12 && self.codes.len() == 1 && m.kind.is_derived() {
            // The published cell itself, computed from unrounded parts.
            let year = period.year.to_string();
            return self
                .table
                .value(&self.coords(self.codes[0], &year), measure);
        }
        let raw = match m.kind {
            MeasureKind::Rate | MeasureKind::Difference => {
                let a = self.base_value(m.of.first()?)?;
                let b = self.base_value(m.of.get(1)?)?;
                if m.kind == MeasureKind::Rate {
                    if b == 0.0 {
                        return None;
                    }
                    a / b * 100.0
                } else {
                    a - b
                }
            }
            _ => self.base_value(measure)?,
        };
        Some(round(raw, m.decimals.unwrap_or(0)))
    }
}

/// Rounds half away from zero to `decimals` places.
pub fn round(x: f64, decimals: u32) -> f64 {
    let f = 10f64.powi(decimals as i32);
    let r = (x * f).round() / f;
    if r == 0.0 { 0.0 } else { r }
}
