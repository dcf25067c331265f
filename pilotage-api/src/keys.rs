//! Professional API keys: who may read unprotected figures, and which ones.
//!
//! A key is a random token of 256 bits (64 hexadecimal digits after the `pk_` prefix) shown
//! once when created; the store keeps only its SHA-256 ([`token_sha256`]), with a [`Role`], a
//! [`Perimeter`], a label and dates. A key reads the rows inside its perimeter only: a
//! structure key its structures, a Département or DDETS key its département, a DREETS key its
//! région, a national key everything.

use std::fmt;

use pilotage_core::territory::Referential;
use sha2::{Digest, Sha256};

/// Prefix of every token, so that a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "pk_";

/// Random bytes in a token (256 bits: far above the 128 bits an attacker could guess).
pub const TOKEN_BYTES: usize = 32;

/// The role of a key: the kind of actor it was given to. It fixes the kind of perimeter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A structure (SIAE): perimeter is one or more structure ids.
    Siae,
    /// A Conseil départemental: perimeter is its département.
    Departement,
    /// A DDETS (département State service): perimeter is its département.
    Ddets,
    /// A DREETS (regional State service): perimeter is its région.
    Dreets,
    /// The DGEFP or a national body: perimeter is France.
    National,
}

impl Role {
    /// Every role, in the order of the command line's help.
    pub const ALL: [Role; 5] = [
        Role::Siae,
        Role::Departement,
        Role::Ddets,
        Role::Dreets,
        Role::National,
    ];

    /// The code of the role (`siae`, `departement`, `ddets`, `dreets`, `national`).
    pub fn code(self) -> &'static str {
        match self {
            Role::Siae => "siae",
            Role::Departement => "departement",
            Role::Ddets => "ddets",
            Role::Dreets => "dreets",
            Role::National => "national",
        }
    }

    /// The role with this code.
    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a key may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Perimeter {
    /// These structures (platform ids, sorted, distinct).
    Structures(Vec<i64>),
    /// One département (`75`, `2A`, `971`).
    Departement(String),
    /// One région (`11`).
    Region(String),
    /// Everything.
    France,
}

/// A perimeter or role that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PerimeterError {
    /// The text is none of the accepted forms.
    #[error(
        "perimeter {0:?} is not a list of structure ids (`123,456`), `DEP-xx`, `REG-xx` or `FR`"
    )]
    Syntax(String),
    /// The département or région is not in the official referential.
    #[error("perimeter {0:?} names no département or région of the official referential")]
    Unknown(String),
    /// The perimeter is not of the kind the role reads.
    #[error("a {role} key takes {expected}, not {given:?}")]
    Role {
        /// The role.
        role: Role,
        /// What the role takes.
        expected: &'static str,
        /// The perimeter given.
        given: String,
    },
}

impl Perimeter {
    /// Parses `123,456`, `DEP-75`, `REG-11` or `FR`; départements and régions are checked
    /// against the official referential.
    pub fn parse(text: &str) -> Result<Perimeter, PerimeterError> {
        let text = text.trim();
        let referential = Referential::official();
        if text == "FR" {
            return Ok(Perimeter::France);
        }
        if let Some(code) = text.strip_prefix("DEP-") {
            return referential
                .departement(code)
                .map(|_| Perimeter::Departement(code.to_owned()))
                .ok_or_else(|| PerimeterError::Unknown(text.to_owned()));
        }
        if let Some(code) = text.strip_prefix("REG-") {
            return referential
                .region(code)
                .map(|_| Perimeter::Region(code.to_owned()))
                .ok_or_else(|| PerimeterError::Unknown(text.to_owned()));
        }
        let mut ids = Vec::new();
        for part in text.split(',') {
            let id: i64 = part
                .trim()
                .parse()
                .ok()
                .filter(|&i: &i64| i > 0)
                .ok_or_else(|| PerimeterError::Syntax(text.to_owned()))?;
            ids.push(id);
        }
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(PerimeterError::Syntax(text.to_owned()));
        }
        Ok(Perimeter::Structures(ids))
    }

    /// Checks that the perimeter is of the kind `role` reads.
    pub fn check_role(&self, role: Role) -> Result<(), PerimeterError> {
        let expected = match (role, self) {
            (Role::Siae, Perimeter::Structures(_))
            | (Role::Departement | Role::Ddets, Perimeter::Departement(_))
            | (Role::Dreets, Perimeter::Region(_))
            | (Role::National, Perimeter::France) => return Ok(()),
            (Role::Siae, _) => "structure ids (`123,456`)",
            (Role::Departement | Role::Ddets, _) => "a département (`DEP-75`)",
            (Role::Dreets, _) => "a région (`REG-11`)",
            (Role::National, _) => "`FR`",
        };
        Err(PerimeterError::Role {
            role,
            expected,
            given: self.to_string(),
        })
    }

    /// True if the perimeter holds the département `dep` whole.
    pub fn holds_departement(&self, dep: &str) -> bool {
        match self {
            Perimeter::France => true,
            Perimeter::Region(r) => Referential::official()
                .departement(dep)
                .is_some_and(|d| d.region == *r),
            Perimeter::Departement(d) => d == dep,
            Perimeter::Structures(_) => false,
        }
    }

    /// True if the perimeter holds the structure `id`, which lies (for the figure asked) in
    /// département `dep`.
    pub fn holds_structure(&self, id: i64, dep: &str) -> bool {
        match self {
            Perimeter::Structures(ids) => ids.binary_search(&id).is_ok(),
            other => other.holds_departement(dep),
        }
    }
}

impl fmt::Display for Perimeter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Perimeter::Structures(ids) => {
                let text: Vec<String> = ids.iter().map(ToString::to_string).collect();
                f.write_str(&text.join(","))
            }
            Perimeter::Departement(d) => write!(f, "DEP-{d}"),
            Perimeter::Region(r) => write!(f, "REG-{r}"),
            Perimeter::France => f.write_str("FR"),
        }
    }
}

/// A new random token (`pk_` + 64 hexadecimal digits) from the operating system's generator.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// SHA-256 of a token, lowercase hexadecimal: what the store keeps instead of the token (a
/// random 256-bit token needs no slow hash: it cannot be guessed from its digest).
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perimeters_parse_and_print_back() {
        for text in ["FR", "DEP-75", "DEP-2A", "REG-11", "12,34"] {
            let p = Perimeter::parse(text).expect(text);
            assert_eq!(p.to_string(), text);
        }
        assert_eq!(
            Perimeter::parse("34, 12,12").expect("valid"),
            Perimeter::Structures(vec![12, 34])
        );
        for bad in ["", "DEP-00", "REG-99", "x", "1,,2", "-3", "fr"] {
            assert!(Perimeter::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_role_takes_its_kind_of_perimeter() {
        let dep = Perimeter::parse("DEP-75").expect("valid");
        assert!(dep.check_role(Role::Ddets).is_ok());
        assert!(dep.check_role(Role::Departement).is_ok());
        assert!(dep.check_role(Role::Siae).is_err());
        assert!(dep.check_role(Role::National).is_err());
        assert!(Perimeter::France.check_role(Role::National).is_ok());
    }

    #[test]
    fn a_region_holds_its_departements_only() {
        let idf = Perimeter::parse("REG-11").expect("valid");
        assert!(idf.holds_departement("75"));
        assert!(!idf.holds_departement("13"));
        assert!(idf.holds_structure(1, "93"));
        let s = Perimeter::parse("5").expect("valid");
        assert!(s.holds_structure(5, "13"));
        assert!(!s.holds_structure(6, "13"));
        assert!(!s.holds_departement("13"));
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = new_token().expect("valid");
        let b = new_token().expect("valid");
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 2 * TOKEN_BYTES);
        assert_eq!(token_sha256(&a).len(), 64);
        assert_ne!(token_sha256(&a), token_sha256(&b));
    }
}
