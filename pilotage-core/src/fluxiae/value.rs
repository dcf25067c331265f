//! Text ↔ value conversions of the fluxIAE format: dd/mm/yyyy dates, decimals with `.` or `,`,
//! booleans, and the column builders that turn fields into Arrow arrays.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;

use super::error::ErrorKind;
use crate::calendar::{civil_from_days, days_from_civil, days_in_month};

fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [a, c] if a.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(c - b'0'))
        }
        _ => None,
    }
}

/// Parses a strict `dd/mm/yyyy` date into days since 1970-01-01, accepting and ignoring a
/// ` hh:mm:ss` time of day (some ASP columns carry one). Years 1900–2199 only: anything else
/// in an extraction of this century is a typo.
pub(crate) fn parse_date(text: &str) -> Option<i32> {
    let date = match text.split_once(' ') {
        Some((date, time)) if is_time(time) => date,
        Some(_) => return None,
        None => text,
    };
    let b = date.as_bytes();
    if b.len() != 10 || b[2] != b'/' || b[5] != b'/' {
        return None;
    }
    let day = two_digits(&b[0..2])?;
    let month = two_digits(&b[3..5])?;
    let year = i32::try_from(two_digits(&b[6..8])? * 100 + two_digits(&b[8..10])?).ok()?;
    if !(1900..=2199).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn is_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 8
        && b[2] == b':'
        && b[5] == b':'
        && two_digits(&b[0..2]).is_some_and(|h| h < 24)
        && two_digits(&b[3..5]).is_some_and(|m| m < 60)
        && two_digits(&b[6..8]).is_some_and(|s| s < 60)
}

/// Formats days since 1970-01-01 as `dd/mm/yyyy`.
pub(crate) fn format_date(days: i32, out: &mut String) {
    use std::fmt::Write;
    let (y, m, d) = civil_from_days(days);
    // Writing to a String cannot fail.
    let _ = write!(out, "{d:02}/{m:02}/{y:04}");
}

/// Parses a decimal number with `.` or `,` as decimal separator.
pub(crate) fn parse_f64(text: &str) -> Option<f64> {
    if text.contains(',') {
        text.replacen(',', ".", 1).parse().ok()
    } else {
        text.parse().ok()
    }
}

/// Parses a boolean: `true`/`false`, `1`/`0`, `oui`/`non`, `o`/`n` (any case).
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["true", "1", "oui", "o"];
    const FALSE: [&str; 4] = ["false", "0", "non", "n"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

/// Builds one Arrow column from fluxIAE fields.
pub(crate) enum ColumnBuilder {
    /// Text.
    Utf8(StringBuilder),
    /// 32-bit integers.
    Int32(Int32Builder),
    /// 64-bit integers.
    Int64(Int64Builder),
    /// Decimals.
    Float64(Float64Builder),
    /// Booleans.
    Boolean(BooleanBuilder),
    /// Dates.
    Date32(Date32Builder),
    /// A column of another type, which fluxIAE never carries: only nulls are accepted.
    Null(DataType, usize),
}

impl ColumnBuilder {
    /// A builder for `data_type` with room for `capacity` rows.
    pub(crate) fn new(data_type: &DataType, capacity: usize) -> Self {
        match data_type {
            DataType::Utf8 => {
                ColumnBuilder::Utf8(StringBuilder::with_capacity(capacity, capacity * 8))
            }
            DataType::Int32 => ColumnBuilder::Int32(Int32Builder::with_capacity(capacity)),
            DataType::Int64 => ColumnBuilder::Int64(Int64Builder::with_capacity(capacity)),
            DataType::Float64 => ColumnBuilder::Float64(Float64Builder::with_capacity(capacity)),
            DataType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(capacity)),
            DataType::Date32 => ColumnBuilder::Date32(Date32Builder::with_capacity(capacity)),
            other => ColumnBuilder::Null(other.clone(), 0),
        }
    }

    /// Appends a null.
    pub(crate) fn append_null(&mut self) {
        match self {
            ColumnBuilder::Utf8(b) => b.append_null(),
            ColumnBuilder::Int32(b) => b.append_null(),
            ColumnBuilder::Int64(b) => b.append_null(),
            ColumnBuilder::Float64(b) => b.append_null(),
            ColumnBuilder::Boolean(b) => b.append_null(),
            ColumnBuilder::Date32(b) => b.append_null(),
            ColumnBuilder::Null(_, n) => *n += 1,
        }
    }

    /// Appends an integer computed by the reader (a row number, a year); a value that does not
    /// fit is appended as null, which the schema check then reports.
    pub(crate) fn append_int(&mut self, value: i64) {
        match self {
            ColumnBuilder::Int32(b) => b.append_option(i32::try_from(value).ok()),
            ColumnBuilder::Int64(b) => b.append_value(value),
            ColumnBuilder::Float64(b) => b.append_value(value as f64),
            _ => self.append_null(),
        }
    }

    /// Appends a non-empty field, parsed for the column's type. `canonical` names the canonical
    /// column in the error. Returns the date (days since 1970-01-01) for a date column.
    pub(crate) fn append(&mut self, text: &str, canonical: &str) -> Result<Option<i32>, ErrorKind> {
        let bad_int = || ErrorKind::InvalidInteger(canonical.to_owned());
        match self {
            ColumnBuilder::Utf8(b) => b.append_value(text),
            ColumnBuilder::Int32(b) => b.append_value(text.parse().map_err(|_| bad_int())?),
            ColumnBuilder::Int64(b) => b.append_value(text.parse().map_err(|_| bad_int())?),
            ColumnBuilder::Float64(b) => b.append_value(
                parse_f64(text).ok_or_else(|| ErrorKind::InvalidNumber(canonical.to_owned()))?,
            ),
            ColumnBuilder::Boolean(b) => b.append_value(
                parse_bool(text).ok_or_else(|| ErrorKind::InvalidBoolean(canonical.to_owned()))?,
            ),
            ColumnBuilder::Date32(b) => {
                let days =
                    parse_date(text).ok_or_else(|| ErrorKind::InvalidDate(canonical.to_owned()))?;
                b.append_value(days);
                return Ok(Some(days));
            }
            ColumnBuilder::Null(..) => return Err(ErrorKind::InvalidNumber(canonical.to_owned())),
        }
        Ok(None)
    }

    /// Finishes the column built so far and starts a new one.
    pub(crate) fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Utf8(b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(b) => Arc::new(b.finish()),
            ColumnBuilder::Date32(b) => Arc::new(b.finish()),
            ColumnBuilder::Null(data_type, n) => {
                let array = arrow_array::new_null_array(data_type, *n);
                *n = 0;
                array
            }
        }
    }
}

/// Appends the text of row `row` of `array` to `out` (nothing for a null).
pub(crate) fn format_value(
    array: &dyn Array,
    row: usize,
    out: &mut String,
) -> Result<(), ErrorKind> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Float64Type, Int32Type, Int64Type};
    use std::fmt::Write;
    if array.is_null(row) {
        return Ok(());
    }
    match array.data_type() {
        DataType::Utf8 => {
            let text = array.as_string::<i32>().value(row);
            if text.is_empty() || text.contains(['|', '\n', '\r']) {
                return Err(ErrorKind::Unrepresentable);
            }
            out.push_str(text);
        }
        DataType::Int32 => {
            let _ = write!(out, "{}", array.as_primitive::<Int32Type>().value(row));
        }
        DataType::Int64 => {
            let _ = write!(out, "{}", array.as_primitive::<Int64Type>().value(row));
        }
        DataType::Float64 => {
            let _ = write!(out, "{}", array.as_primitive::<Float64Type>().value(row));
        }
        DataType::Boolean => {
            out.push_str(if array.as_boolean().value(row) {
                "true"
            } else {
                "false"
            });
        }
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(row);
            // The reader accepts years 1900–2199 only: never write what cannot be read back.
            if !(1900..=2199).contains(&civil_from_days(days).0) {
                return Err(ErrorKind::Unrepresentable);
            }
            format_date(days, out);
        }
        _ => return Err(ErrorKind::Unrepresentable),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_reject_impossible_days() {
        assert_eq!(parse_date("01/01/1970"), Some(0));
        assert_eq!(parse_date("29/02/2024"), Some(19_782));
        assert_eq!(parse_date("31/02/2024"), None);
        assert_eq!(parse_date("29/02/2023"), None);
        assert_eq!(parse_date("2024-02-01"), None);
        assert_eq!(parse_date("1/2/2024"), None);
        assert_eq!(parse_date("15/03/2024 08:30:00"), parse_date("15/03/2024"));
        assert_eq!(parse_date("15/03/2024 25:00:00"), None);
        for days in [-25_567, -1, 0, 1, 19_782, 60_000] {
            let mut s = String::new();
            format_date(days, &mut s);
            assert_eq!(parse_date(&s), Some(days), "{s}");
        }
    }

    #[test]
    fn numbers_and_booleans() {
        assert_eq!(parse_f64("12,5"), Some(12.5));
        assert_eq!(parse_f64("12.5"), Some(12.5));
        assert_eq!(parse_f64("1,2,3"), None);
        assert_eq!(parse_bool("OUI"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("peut-être"), None);
    }
}
