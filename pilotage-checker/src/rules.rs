//! The primary rules, evaluated on the true values: which values are confidential and what
//! each must be shown able to be (its claims).

use pilotage_core::certificate::ClaimKind;
use pilotage_core::cube::{Cube, MeasureValues, NO_STRUCTURE};

use crate::Rules;
use crate::model::{Class, NONE, Table};

/// Bit of a claim kind in a claim mask.
pub(crate) fn bit(kind: ClaimKind) -> u8 {
    1 << kind.code()
}

/// The true values of one measure of one dataset.
#[derive(Debug)]
pub(crate) struct TrueMeasure {
    /// True value per row (unrounded for magnitudes), NaN where not applicable.
    pub value: Vec<f64>,
    /// The value the release would show (rounded like the published one), NaN where null.
    pub shown: Vec<f64>,
    /// Magnitudes: the one structure that alone makes the value (and knows it exactly), or
    /// [`NO_STRUCTURE`] when none or several contribute. Empty for counts.
    pub sole: Vec<u32>,
    /// Magnitudes: the structure making the largest contribution and that contribution (in
    /// the measure's unit), or ([`NO_STRUCTURE`], 0). Empty for counts.
    pub top: Vec<(u32, f64)>,
}

/// The true values of a release, per dataset and measure (in the tables' order).
pub(crate) fn true_values(cubes: &[Cube]) -> Vec<Vec<TrueMeasure>> {
    cubes
        .iter()
        .map(|cube| {
            cube.measures
                .iter()
                .map(|m| {
                    let shown: Vec<f64> = match &m.values {
                        MeasureValues::Counts(v) => {
                            v.iter().map(|x| x.map_or(f64::NAN, |x| x as f64)).collect()
                        }
                        MeasureValues::Values(v) => {
                            v.iter().map(|x| x.unwrap_or(f64::NAN)).collect()
                        }
                    };
                    let top: Vec<(u32, f64)> = m.companion.as_ref().map_or(Vec::new(), |c| {
                        c.top_structure
                            .iter()
                            .copied()
                            .zip(c.top1.iter().copied())
                            .collect()
                    });
                    let (value, sole) = match &m.companion {
                        Some(c) if c.raw.len() == shown.len() => (
                            shown
                                .iter()
                                .zip(&c.raw)
                                .map(|(s, r)| if s.is_nan() { f64::NAN } else { *r })
                                .collect(),
                            c.structures
                                .iter()
                                .zip(&c.top_structure)
                                .map(|(&n, &s)| if n == 1 { s } else { NO_STRUCTURE })
                                .collect(),
                        ),
                        _ => (shown.clone(), Vec::new()),
                    };
                    TrueMeasure {
                        value,
                        shown,
                        sole,
                        top,
                    }
                })
                .collect()
        })
        .collect()
}

/// Confidential values: per dataset, measure and row, the mask of claims needed and, for
/// magnitudes, the margin (in the measure's unit).
#[derive(Debug)]
pub(crate) struct Confidential {
    pub claims: Vec<Vec<Vec<u8>>>,
    pub margin: Vec<Vec<Vec<f64>>>,
}

impl Confidential {
    /// The claims needed by a cell (0 when not confidential).
    pub fn needs(&self, d: usize, m: usize, r: usize) -> u8 {
        self.claims
            .get(d)
            .and_then(|x| x.get(m))
            .and_then(|x| x.get(r))
            .copied()
            .unwrap_or(0)
    }

    fn add(&mut self, d: usize, m: usize, r: usize, mask: u8, margin: f64) {
        self.claims[d][m][r] |= mask;
        if let Some(v) = self.margin[d][m].get_mut(r) {
            *v = v.max(margin);
        }
    }
}

/// Evaluates the primary rules on the true values.
pub(crate) fn evaluate(
    tables: &[Table],
    cubes: &[Cube],
    truth: &[Vec<TrueMeasure>],
    rules: &Rules,
) -> Confidential {
    let min = rules.min_count as f64;
    let small = |x: f64| x >= 1.0 && x < min;
    let count_claims = bit(ClaimKind::Zero) | bit(ClaimKind::AtLeastMinCount);
    let magnitude_claims = bit(ClaimKind::Below) | bit(ClaimKind::Above);
    let mut out = Confidential {
        claims: Vec::new(),
        margin: Vec::new(),
    };
    for (d, table) in tables.iter().enumerate() {
        out.claims
            .push(vec![vec![0u8; table.rows]; table.measures.len()]);
        out.margin.push(
            table
                .measures
                .iter()
                .map(|m| {
                    if m.class == Class::Magnitude {
                        vec![0.0; table.rows]
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
        );
        for (m, info) in table.measures.iter().enumerate() {
            let values = &truth[d][m].value;
            match info.class {
                Class::Count => {
                    for (r, &x) in values.iter().enumerate() {
                        if small(x) {
                            out.add(d, m, r, count_claims, 0.0);
                        }
                    }
                }
                Class::Magnitude => {
                    let Some(c) = cubes[d].measures[m].companion.as_ref() else {
                        continue;
                    };
                    for (r, &x) in values.iter().enumerate() {
                        if x.is_nan() || x <= 0.0 || r >= c.structures.len() {
                            continue;
                        }
                        if let Some(margin) = magnitude_margin(
                            x,
                            u64::from(c.structures[r]),
                            c.top1[r],
                            c.top2[r],
                            c.persons[r],
                            rules,
                        ) {
                            out.add(d, m, r, magnitude_claims, margin);
                        }
                    }
                }
                _ => {}
            }
        }
        // Breakdowns by a sensitive attribute under a small total.
        for k in 0..table.dims.len() {
            if table.top_row[k].is_empty() {
                continue;
            }
            let mut small_top = vec![None::<bool>; table.rows];
            for r in 0..table.rows {
                let top = table.top_row[k][r];
                if top == NONE {
                    continue;
                }
                let t = top as usize;
                let is_small =
                    *small_top[t].get_or_insert_with(|| {
                        table.measures.iter().enumerate().any(|(m, info)| {
                            info.class == Class::Count && small(truth[d][m].value[t])
                        })
                    });
                if !is_small {
                    continue;
                }
                for row in [r, t] {
                    for (m, info) in table.measures.iter().enumerate() {
                        let x = truth[d][m].value[row];
                        if x.is_nan() {
                            continue;
                        }
                        match info.class {
                            Class::Count if x == 0.0 => {
                                out.add(d, m, row, bit(ClaimKind::Positive), 0.0)
                            }
                            Class::Count if small(x) => out.add(d, m, row, count_claims, 0.0),
                            Class::Magnitude if x > 0.0 => {
                                let margin = (rules.frequency_margin * x).max(1e-6 * x.max(1.0));
                                out.add(d, m, row, magnitude_claims, margin);
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    out
}

/// The protection margin of a magnitude `x > 0` (in its unit), or `None` when no rule fires:
/// the largest margin among the rules that fire, at least 1e-6·max(x, 1).
pub(crate) fn magnitude_margin(
    x: f64,
    structures: u64,
    top1: f64,
    top2: f64,
    persons: u64,
    rules: &Rules,
) -> Option<f64> {
    let mut margin: Option<f64> = None;
    let mut fire = |m: f64| margin = Some(margin.map_or(m, |old: f64| old.max(m)));
    if structures < rules.min_contributors || (persons > 0 && persons < rules.min_persons) {
        fire(rules.frequency_margin * x);
    }
    if top1 > rules.dominance * x {
        fire(top1 / rules.dominance - x);
    }
    if let Some(p) = rules.p_rule {
        let rest = x - top1 - top2;
        if rest < p * top1 {
            fire(p * top1 - rest);
        }
    }
    margin.map(|m| m.max(1e-6 * x.max(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins_take_the_largest_rule() {
        let rules = Rules::default();
        // Two structures: frequency margin 10 % of 100.
        let m = magnitude_margin(100.0, 2, 60.0, 40.0, 20, &rules).expect("fires");
        assert!((m - 10.0).abs() < 1e-9);
        // Dominance: 95 of 100 by one structure → 95/0.85 − 100 ≈ 11.76.
        let m = magnitude_margin(100.0, 5, 95.0, 2.0, 20, &rules).expect("fires");
        assert!((m - (95.0 / 0.85 - 100.0)).abs() < 1e-9);
        // Nothing fires.
        assert!(magnitude_margin(100.0, 5, 30.0, 20.0, 20, &rules).is_none());
        // p-rule when set.
        let p = Rules {
            p_rule: Some(0.10),
            ..Rules::default()
        };
        let m = magnitude_margin(100.0, 5, 50.0, 46.0, 20, &p).expect("fires");
        assert!((m - 1.0).abs() < 1e-9);
    }
}
