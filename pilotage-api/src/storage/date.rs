//! Calendar dates as Arrow stores them (days since 1970-01-01) and their ISO 8601 text form.
//!
//! The store keeps dates as `YYYY-MM-DD` text in SQLite and as `DATE` in PostgreSQL; sources give
//! them as ISO text (CSV) or `Date32` (Parquet). These helpers convert between the three without a
//! calendar crate (proleptic Gregorian calendar, H. Hinnant's algorithms).

use std::fmt;
use std::str::FromStr;

// The civil-date arithmetic is core's (the same algorithm serves the indicators).
pub use pilotage_core::cube::calendar::{civil_from_days, days_from_civil, days_in_month};

/// Parses `YYYY-MM-DD` strictly (four-digit year, two-digit month and day, a real calendar day)
/// into days since 1970-01-01.
pub fn parse_iso_date(text: &str) -> Option<i32> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    civil_checked(year, month, day)
}

fn civil_checked(year: i32, month: u32, day: u32) -> Option<i32> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Writes `YYYY-MM-DD` for days since 1970-01-01 into `out` (10 bytes for years 0–9999).
pub fn write_iso_date(days: i32, out: &mut String) {
    let (y, m, d) = civil_from_days(days);
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
}

/// The ISO text of days since 1970-01-01.
pub fn format_iso_date(days: i32) -> String {
    let mut s = String::with_capacity(10);
    write_iso_date(days, &mut s);
    s
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`, for bookkeeping rows.
pub fn now_utc_text() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400) as i32;
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        format_iso_date(days),
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Today's UTC date, in days since 1970-01-01.
pub fn today_utc() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    secs.div_euclid(86_400) as i32
}

/// The vintage of a source extraction: the date the administration extracted it.
///
/// Every stored row carries the vintage it was ingested under; ingesting a table again under the
/// same vintage replaces it, under a new vintage adds it beside the older ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vintage {
    days: i32,
}

impl Vintage {
    /// The vintage of a date given in days since 1970-01-01.
    pub fn from_days(days: i32) -> Vintage {
        Vintage { days }
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i32 {
        self.days
    }

    /// Today's UTC date: the default vintage when none is given.
    pub fn today() -> Vintage {
        Vintage::from_days(today_utc())
    }
}

impl fmt::Display for Vintage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_iso_date(self.days))
    }
}

/// A vintage that is not a `YYYY-MM-DD` calendar date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid source vintage {0:?}: expected a calendar date written YYYY-MM-DD")]
pub struct InvalidVintage(pub String);

impl FromStr for Vintage {
    type Err = InvalidVintage;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_iso_date(s)
            .map(Vintage::from_days)
            .ok_or_else(|| InvalidVintage(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        for days in -200_000..200_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn parses_strictly() {
        assert_eq!(
            parse_iso_date("2024-02-29"),
            Some(days_from_civil(2024, 2, 29))
        );
        assert_eq!(parse_iso_date("2023-02-29"), None);
        assert_eq!(parse_iso_date("2023-2-28"), None);
        assert_eq!(parse_iso_date("2023-13-01"), None);
        assert_eq!(format_iso_date(days_from_civil(2021, 7, 4)), "2021-07-04");
        assert_eq!(
            "2025-01-31".parse::<Vintage>().map(|v| v.to_string()),
            Ok("2025-01-31".to_owned())
        );
        assert!("31/01/2025".parse::<Vintage>().is_err());
    }
}
