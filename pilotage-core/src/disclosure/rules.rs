//! Primary rules: which values are secret by themselves, and how far a confidential value must
//! be shown able to move ([`PrimaryRules`]). The protection
//! ([`super::release::protect_release`]) applies them to every value of a release.

use serde::{Deserialize, Serialize};

use super::DisclosureError;

/// Parameters of the primary rules, configurable per dataset; [`Default`] gives the values of
/// the design (ARCHITECTURE.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrimaryRules {
    /// Counts of persons or events from 1 to `min_count − 1` are secret (default 11: 1–10
    /// secret, 0 and ≥ 11 published). Also the upper bound the attacker's interval must reach.
    pub min_count: u64,
    /// A magnitude with fewer contributing structures than this is secret (default 3).
    pub min_contributors: u64,
    /// Dominance: a magnitude whose largest contribution exceeds this share of the total is
    /// secret (default 0.85).
    pub dominance: f64,
    /// Optional p %-rule as a fraction (0.10 for p = 10): secret when the total minus the two
    /// largest contributions is below `p × top1`. Off by default.
    pub p_rule: Option<f64>,
    /// A magnitude with fewer persons behind it than this is secret (default 11).
    pub min_persons: u64,
    /// A median needs at least this many observations (default 11).
    pub min_median_observations: u64,
    /// Relative protection margin of magnitudes made secret by the contributor or person
    /// counts, as a fraction of the cell value (default 0.10): the attacker's interval must
    /// extend that far on both sides.
    pub frequency_margin: f64,
}

impl Default for PrimaryRules {
    fn default() -> Self {
        PrimaryRules {
            min_count: 11,
            min_contributors: 3,
            dominance: 0.85,
            p_rule: None,
            min_persons: 11,
            min_median_observations: 11,
            frequency_margin: 0.10,
        }
    }
}

impl PrimaryRules {
    /// Checks the parameters are in their domains.
    pub fn validate(&self) -> Result<(), DisclosureError> {
        let bad =
            |name: &'static str, value: f64| Err(DisclosureError::InvalidRule { name, value });
        if self.min_count < 1 {
            return bad("min_count", self.min_count as f64);
        }
        if !(self.dominance > 0.0 && self.dominance <= 1.0) {
            return bad("dominance", self.dominance);
        }
        if let Some(p) = self.p_rule
            && !(p > 0.0 && p.is_finite())
        {
            return bad("p_rule", p);
        }
        if !(self.frequency_margin >= 0.0 && self.frequency_margin.is_finite()) {
            return bad("frequency_margin", self.frequency_margin);
        }
        Ok(())
    }

    /// Whether a person or event count is secret by itself.
    pub fn count_is_sensitive(&self, value: f64) -> bool {
        value >= 1.0 && value < self.min_count as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_those_of_the_methodology() {
        let rules = PrimaryRules::default();
        assert!(rules.validate().is_ok());
        assert_eq!(
            (rules.min_count, rules.min_contributors, rules.min_persons),
            (11, 3, 11)
        );
        assert_eq!(rules.min_median_observations, 11);
        assert_eq!((rules.dominance, rules.frequency_margin), (0.85, 0.10));
        assert_eq!(rules.p_rule, None);
    }

    #[test]
    fn counts_from_one_to_ten_are_sensitive() {
        let rules = PrimaryRules::default();
        let sensitive: Vec<u32> = (0..=20)
            .filter(|&v| rules.count_is_sensitive(f64::from(v)))
            .collect();
        assert_eq!(sensitive, (1..=10).collect::<Vec<_>>());
        let stricter = PrimaryRules {
            min_count: 15,
            ..PrimaryRules::default()
        };
        assert!(stricter.count_is_sensitive(14.0) && !stricter.count_is_sensitive(15.0));
    }

    #[test]
    fn parameters_out_of_their_domain_are_refused() {
        let refused = |rules: PrimaryRules| match rules.validate() {
            Err(DisclosureError::InvalidRule { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        let base = PrimaryRules::default;
        assert_eq!(
            refused(PrimaryRules {
                min_count: 0,
                ..base()
            }),
            "min_count"
        );
        for dominance in [0.0, -0.5, 1.5, f64::NAN] {
            assert_eq!(
                refused(PrimaryRules {
                    dominance,
                    ..base()
                }),
                "dominance"
            );
        }
        for p in [0.0, -0.1, f64::INFINITY] {
            assert_eq!(
                refused(PrimaryRules {
                    p_rule: Some(p),
                    ..base()
                }),
                "p_rule"
            );
        }
        assert_eq!(
            refused(PrimaryRules {
                frequency_margin: -0.1,
                ..base()
            }),
            "frequency_margin"
        );
        assert!(
            PrimaryRules {
                dominance: 1.0,
                p_rule: Some(0.1),
                frequency_margin: 0.0,
                ..base()
            }
            .validate()
            .is_ok()
        );
    }
}
