//! Statistical disclosure control of a whole release (ARCHITECTURE.md).
//!
//! - [`rules`]: the primary rules and their parameters ([`PrimaryRules`]): which values are
//!   confidential by themselves;
//! - [`release`]: the protection of a release of cubes ([`release::protect_release`]): which
//!   further values to hide, with a certificate of witness points that proves every claim of
//!   every confidential value, verified independently by `pilotage-checker`.
//!
//! ```
//! use pilotage_core::disclosure::PrimaryRules;
//!
//! let rules = PrimaryRules::default();
//! rules.validate()?;
//! // Counts from 1 to 10 are confidential; 0 and 11 or more are published.
//! assert!(rules.count_is_sensitive(3.0));
//! assert!(!rules.count_is_sensitive(0.0) && !rules.count_is_sensitive(11.0));
//! # Ok::<(), pilotage_core::disclosure::DisclosureError>(())
//! ```

pub mod release;
pub mod rules;

pub use rules::PrimaryRules;

/// Errors of disclosure control, naming the offending dataset or parameter.
#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    /// A rule parameter out of its domain.
    #[error("primary rule parameter {name} = {value} is out of its domain")]
    InvalidRule {
        /// Parameter name.
        name: &'static str,
        /// The value.
        value: f64,
    },
    /// A release's cubes, tables or definitions cannot be turned into a linear system.
    #[error("dataset {dataset}: {message}")]
    Release {
        /// Dataset id.
        dataset: String,
        /// What is wrong.
        message: String,
    },
}
