//! Calendar arithmetic on Arrow `Date32` values (days since 1970-01-01), without allocation:
//! the one calendar of the crate, used by the cube engine, the computations, the synthetic
//! generator and the fluxIAE format (proleptic Gregorian calendar).

/// The civil date `(year, month 1–12, day 1–31)` of a `Date32` value (days since 1970-01-01),
/// proleptic Gregorian calendar.
pub fn civil_from_days(days: i32) -> (i32, u32, u32) {
    // Howard Hinnant's algorithm, in 64-bit to stay exact over the whole i32 range.
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y as i32, m as u32, d as u32)
}

/// The `Date32` value (days since 1970-01-01) of a civil date.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// Number of days of a month.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// The last day (`Date32`) of a month.
pub fn last_day_of_month(year: i32, month: u32) -> i32 {
    days_from_civil(year, month, days_in_month(year, month))
}

/// A window of whole months, `first_year`-01 to `last_year`-12, indexing months from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthWindow {
    /// First year covered.
    pub first_year: i32,
    /// Last year covered (inclusive).
    pub last_year: i32,
}

impl MonthWindow {
    /// Number of months in the window.
    pub fn len(self) -> u32 {
        ((self.last_year - self.first_year + 1).max(0) as u32) * 12
    }

    /// True if the window holds no month.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The month index of a `Date32`, or `None` outside the window.
    pub fn month_of_day(self, days: i32) -> Option<u32> {
        let (y, m, _) = civil_from_days(days);
        self.month_of(y, m)
    }

    /// The month index of a year and month (1–12), or `None` outside the window.
    pub fn month_of(self, year: i32, month: u32) -> Option<u32> {
        if year < self.first_year || year > self.last_year || !(1..=12).contains(&month) {
            return None;
        }
        Some((year - self.first_year) as u32 * 12 + month - 1)
    }

    /// The year and month (1–12) of a month index.
    pub fn year_month(self, index: u32) -> (i32, u32) {
        (self.first_year + (index / 12) as i32, index % 12 + 1)
    }

    /// The last day (`Date32`) of the month of index `index`.
    pub fn month_end(self, index: u32) -> i32 {
        let (y, m) = self.year_month(index);
        last_day_of_month(y, m)
    }

    /// The first day (`Date32`) of the month of index `index`.
    pub fn month_start(self, index: u32) -> i32 {
        let (y, m) = self.year_month(index);
        days_from_civil(y, m, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        for d in -800_000..800_000 {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
        assert_eq!(last_day_of_month(2024, 2), days_from_civil(2024, 2, 29));
        assert_eq!(last_day_of_month(2021, 12), days_from_civil(2021, 12, 31));
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_from_civil(2021, 11, 30), 18_961);
        assert_eq!(civil_from_days(18_961), (2021, 11, 30));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn window_indexes_months() {
        let w = MonthWindow {
            first_year: 2021,
            last_year: 2025,
        };
        assert_eq!(w.len(), 60);
        assert_eq!(w.month_of(2021, 1), Some(0));
        assert_eq!(w.month_of(2025, 12), Some(59));
        assert_eq!(w.month_of(2026, 1), None);
        assert_eq!(w.month_of_day(days_from_civil(2024, 3, 31)), Some(38));
        assert_eq!(w.year_month(38), (2024, 3));
        assert_eq!(w.month_end(38), days_from_civil(2024, 3, 31));
    }
}
