//! Shape checks of territory codes, without the referential.
//!
//! A code that passes may still be unknown: use the `require_*` lookups of
//! [`Referential`](super::Referential) to tell both cases apart.

use super::{TerritoryError, TerritoryLevel};

fn malformed(level: TerritoryLevel, value: &str, reason: &'static str) -> TerritoryError {
    TerritoryError::Malformed {
        level,
        value: value.to_owned(),
        reason,
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// True for the 3-digit prefixes of overseas codes (971–978 overseas départements and
/// collectivities, 984–989 Pacific and southern collectivities).
fn is_overseas_prefix(s: &str) -> bool {
    s.starts_with("97") || s.starts_with("98")
}

/// Reason why a two-character département code is malformed, if it is.
fn two_char_departement_problem(code: &str) -> Option<&'static str> {
    if code == "2A" || code == "2B" {
        return None;
    }
    if !all_digits(code) {
        return Some("a 2-character département code is two digits, 2A or 2B");
    }
    match code {
        "00" => Some("00 is not a département"),
        "20" => Some("Corsica is 2A and 2B since 1976, not 20"),
        "96" | "99" => Some("96 and 99 are not départements (99 designates foreign countries)"),
        "97" | "98" => Some("overseas département codes have 3 digits"),
        _ => None,
    }
}

/// Checks the shape of a région code: two digits (`"01"`–`"94"`), or the three digits of an
/// overseas collectivity listed at région level (`"975"`, `"987"`, …).
///
/// ```
/// use pilotage_core::territory::validate_region_code;
/// assert!(validate_region_code("84").is_ok());
/// assert!(validate_region_code("8").is_err());
/// ```
pub fn validate_region_code(code: &str) -> Result<(), TerritoryError> {
    let level = TerritoryLevel::Region;
    match code.len() {
        2 if all_digits(code) && code != "00" => Ok(()),
        2 => Err(malformed(
            level,
            code,
            "a région code is two digits, 01 to 94",
        )),
        3 if all_digits(code) && is_overseas_prefix(code) => Ok(()),
        3 => Err(malformed(
            level,
            code,
            "a 3-character région code is an overseas collectivity (97x, 98x)",
        )),
        _ => Err(malformed(level, code, "expected 2 or 3 characters")),
    }
}

/// Checks the shape of a département code: `"01"`–`"95"` (not `"20"`), `"2A"`, `"2B"`, or three
/// digits starting with 97 or 98 for overseas départements and collectivities (`"974"`, `"987"`).
///
/// ```
/// use pilotage_core::territory::validate_departement_code;
/// assert!(validate_departement_code("2A").is_ok());
/// assert!(validate_departement_code("974").is_ok());
/// assert!(validate_departement_code("20").is_err());
/// assert!(validate_departement_code("1").is_err());
/// ```
pub fn validate_departement_code(code: &str) -> Result<(), TerritoryError> {
    let level = TerritoryLevel::Departement;
    match code.len() {
        2 => match two_char_departement_problem(code) {
            None => Ok(()),
            Some(reason) => Err(malformed(level, code, reason)),
        },
        3 if all_digits(code) && is_overseas_prefix(code) => Ok(()),
        3 => Err(malformed(
            level,
            code,
            "a 3-character département code is overseas: 97x or 98x",
        )),
        _ => Err(malformed(level, code, "expected 2 or 3 characters")),
    }
}

/// Checks the shape of an INSEE commune code: five characters, the département's code followed
/// by the commune's number — digits, except Corsica's `2A`/`2B` prefix (`"2A004"` Ajaccio);
/// overseas codes start with their 3-digit département (`"97411"` Saint-Denis).
///
/// ```
/// use pilotage_core::territory::validate_commune_code;
/// assert!(validate_commune_code("01001").is_ok());
/// assert!(validate_commune_code("2B033").is_ok());
/// assert!(validate_commune_code("1001").is_err());
/// assert!(validate_commune_code("20004").is_err());
/// ```
pub fn validate_commune_code(code: &str) -> Result<(), TerritoryError> {
    let level = TerritoryLevel::Commune;
    if code.len() != 5 || !code.is_ascii() {
        return Err(malformed(level, code, "expected 5 ASCII characters"));
    }
    let (departement, number) = if is_overseas_prefix(code) {
        code.split_at(3)
    } else {
        code.split_at(2)
    };
    if departement.len() == 2
        && let Some(reason) = two_char_departement_problem(departement)
    {
        return Err(malformed(level, code, reason));
    }
    if !all_digits(departement) && departement != "2A" && departement != "2B" {
        return Err(malformed(level, code, "the département part is not a code"));
    }
    if !all_digits(number) {
        return Err(malformed(
            level,
            code,
            "the characters after the département are digits",
        ));
    }
    Ok(())
}

/// Checks the shape of an EPCI code: its SIREN, nine digits whose Luhn check digit is right.
///
/// ```
/// use pilotage_core::territory::validate_epci_code;
/// assert!(validate_epci_code("200046977").is_ok()); // Métropole de Lyon
/// assert!(validate_epci_code("200046978").is_err()); // check digit off
/// ```
pub fn validate_epci_code(code: &str) -> Result<(), TerritoryError> {
    let level = TerritoryLevel::Epci;
    if code.len() != 9 || !all_digits(code) {
        return Err(malformed(level, code, "an EPCI code is a SIREN: 9 digits"));
    }
    let sum: u32 = code
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    if !sum.is_multiple_of(10) {
        return Err(malformed(
            level,
            code,
            "the SIREN check digit (Luhn) is wrong",
        ));
    }
    Ok(())
}
