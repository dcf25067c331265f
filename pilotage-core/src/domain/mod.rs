//! Closed enumerations of the inclusion-in-employment programme.
//!
//! Every enum carries the real code used by the administration's systems (the job-application
//! platform and the ASP extractions) and its French label. Parsing from a code is strict: an
//! unknown code is a [`CodeError`] naming the field and the value, so bad input is never
//! silently mapped to a default.

/// A closed set of codes with French labels.
///
/// Implemented by every domain enum through [`code_enum!`](crate::code_enum). The code is the
/// exact string found in source files; the label is what dashboards show.
pub trait Code: Sized + Copy + Eq + 'static {
    /// Name of the field this enum describes, used in error messages (e.g. `"kind"`).
    const FIELD: &'static str;
    /// Every member, in declaration order (the order used in published tables).
    const ALL: &'static [Self];
    /// The code as it appears in the source data.
    fn code(self) -> &'static str;
    /// The French label shown to users.
    fn label(self) -> &'static str;
    /// Parses a code strictly: the exact code, no trimming, no case folding.
    fn from_code(code: &str) -> Result<Self, CodeError> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.code() == code)
            .ok_or_else(|| CodeError {
                field: Self::FIELD,
                value: code.to_owned(),
            })
    }
    /// Parses a French label strictly (exact string). For data whose upstream values are the
    /// labels themselves, such as the platform pipeline's `origine` or `rcs_libelle`. Labels
    /// are unique within each enum.
    fn from_label(label: &str) -> Result<Self, CodeError> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.label() == label)
            .ok_or_else(|| CodeError {
                field: Self::FIELD,
                value: label.to_owned(),
            })
    }
}

/// A code that is not a member of its enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown code {value:?} for field `{field}`")]
pub struct CodeError {
    /// The field being parsed (e.g. `"kind"`).
    pub field: &'static str,
    /// The offending value, as found in the input.
    pub value: String,
}

/// Declares a closed enum with codes and French labels, implementing [`Code`],
/// [`std::str::FromStr`], [`std::fmt::Display`] (the code) and serde (as the code).
///
/// ```
/// pilotage_core::code_enum! {
///     /// Example.
///     pub enum Answer: "answer" {
///         /// Yes.
///         Yes = "Y", "Oui";
///         /// No.
///         No = "N", "Non";
///     }
/// }
/// use pilotage_core::domain::Code;
/// assert_eq!(Answer::from_code("Y").unwrap(), Answer::Yes);
/// assert_eq!(Answer::No.label(), "Non");
/// assert!(Answer::from_code("y").is_err());
/// ```
#[macro_export]
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $field:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $crate::domain::Code for $name {
            const FIELD: &'static str = $field;
            const ALL: &'static [Self] = &[ $( Self::$variant, )+ ];
            fn code(self) -> &'static str {
                match self { $( Self::$variant => $code, )+ }
            }
            fn label(self) -> &'static str {
                match self { $( Self::$variant => $label, )+ }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::CodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <Self as $crate::domain::Code>::from_code(s)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::domain::Code::code(*self))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::domain::Code::code(*self))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                <Self as $crate::domain::Code>::from_code(&s).map_err(::serde::de::Error::custom)
            }
        }
    };
}

mod application;
mod approval;
mod convention;
mod eligibility;
mod exit;
mod person;
mod prescriber;
mod structure;

pub use application::*;
pub use approval::*;
pub use convention::*;
pub use eligibility::*;
pub use exit::*;
pub use person::*;
pub use prescriber::*;
pub use structure::*;
