//! Periods of days that questions are asked over: `7d`, `30d`, `90d`, `ytd`, or an explicit
//! `YYYY-MM-DD..YYYY-MM-DD`, all inclusive of both ends and ending today unless given.

use chrono::{Datelike, Duration, NaiveDate};

use crate::error::UserError;

/// An inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Periods longer than this are refused: ten years of daily data is more than any question needs.
const MAX_DAYS: i64 = 3660;

const ACCEPTS: &str =
    "a period such as 7d, 4w, 90d, ytd or 2026-01-01..2026-03-31, ending today or earlier";

impl Period {
    /// The `days` days that end on `to`.
    pub fn ending(to: NaiveDate, days: i64) -> Period {
        Period {
            from: to - Duration::days(days - 1),
            to,
        }
    }

    /// Reads a period as typed, relative to `today` in the team's timezone.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Period, UserError> {
        let invalid = || UserError::InvalidOption {
            option: "period",
            accepts: ACCEPTS.to_string(),
        };
        let text = text.trim().to_lowercase();
        let period = if text == "ytd" {
            Period {
                from: NaiveDate::from_ymd_opt(today.year(), 1, 1).ok_or_else(invalid)?,
                to: today,
            }
        } else if let Some((from, to)) = text.split_once("..") {
            let day = |s: &str| crate::command::parse_day(s).ok_or_else(invalid);
            Period {
                from: day(from)?,
                to: day(to)?,
            }
        } else {
            let (number, per) = match text.strip_suffix('w') {
                Some(weeks) => (weeks, 7),
                None => (text.strip_suffix('d').ok_or_else(invalid)?, 1),
            };
            // Checked: `2635249153387078803w` must not wrap around into a few days.
            let days = number
                .parse::<i64>()
                .ok()
                .and_then(|n| n.checked_mul(per))
                .ok_or_else(invalid)?;
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(invalid());
            }
            Period::ending(today, days)
        };
        if period.from > period.to || period.to > today || period.days() > MAX_DAYS {
            return Err(invalid());
        }
        Ok(period)
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> Period {
        Period::ending(self.from - Duration::days(1), self.days())
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = self.days();
        let unit = if days == 1 { "day" } else { "days" };
        write!(f, "{} to {} ({days} {unit})", self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn thirty_days_end_today_and_the_previous_period_is_the_thirty_before() {
        let period = Period::parse("30d", day("2026-11-28")).unwrap();
        assert_eq!(
            (period.from, period.to),
            (day("2026-10-30"), day("2026-11-28"))
        );
        assert_eq!(period.days(), 30);
        let previous = period.previous();
        assert_eq!(
            (previous.from, previous.to),
            (day("2026-09-30"), day("2026-10-29"))
        );
    }

    #[test]
    fn weeks_are_seven_days_each() {
        let period = Period::parse("4w", day("2026-11-28")).unwrap();
        assert_eq!(period.days(), 28);
    }

    #[test]
    fn year_to_date_starts_on_the_first_of_january() {
        let period = Period::parse("YTD", day("2026-03-01")).unwrap();
        assert_eq!((period.from, period.days()), (day("2026-01-01"), 60));
        assert_eq!(period.previous().to, day("2025-12-31"));
        let new_year = Period::parse("ytd", day("2026-01-01")).unwrap();
        assert_eq!(new_year.days(), 1);
    }

    #[test]
    fn explicit_ranges_include_both_ends_across_a_leap_day() {
        let period = Period::parse("2024-02-01..2024-03-01", day("2026-11-28")).unwrap();
        assert_eq!(period.days(), 30);
        assert_eq!(period.previous().from, day("2024-01-02"));
    }

    #[test]
    fn malformed_reversed_and_future_periods_are_refused() {
        for bad in [
            "",
            "0d",
            "-5d",
            "30",
            "d",
            "3661d",
            "2026-12-01..2026-11-01",
            "2026-11-01..2027-01-01",
            "last week",
            "2026-02-30..2026-03-01",
            "-262144-01-01..-262144-01-01",
            "2635249153387078803w",
            "1317624576693539401w",
            "9223372036854775807d",
            "99999999999999999999d",
        ] {
            let err = Period::parse(bad, day("2026-11-28")).unwrap_err();
            assert!(
                err.to_string().starts_with("`period` must be a period"),
                "{bad}"
            );
        }
    }
}
