//! Cron schedules in the team's timezone, and the traps of cron 0.17 they steer around.
//!
//! Days of the week are numbered from Sunday = 1, so replies spell out what a numeric day means;
//! a 5-field crontab line is refused with the 6-field form to use instead; the repeated hour
//! when clocks fall back yields two instants with the same wall-clock time, of which only the
//! first fires; and wall-clock times that do not exist when clocks spring forward are skipped,
//! which the reply warns about.

use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::UserError;

/// Due times examined per schedule and step, so that a schedule firing every second after a
/// long downtime cannot stall the worker.
pub const MAX_DUE: usize = 10_000;

/// A cron expression in a timezone.
#[derive(Debug, Clone)]
pub struct Cron {
    schedule: cron::Schedule,
    tz: Tz,
}

impl Cron {
    /// A cron expression as typed, in a timezone as typed.
    pub fn parse(expression: &str, timezone: &str) -> Result<Cron, UserError> {
        Cron::new(expression, self::timezone(timezone)?)
    }

    /// A cron expression as typed, in `tz`.
    pub fn new(expression: &str, tz: Tz) -> Result<Cron, UserError> {
        let fields: Vec<&str> = expression.split_whitespace().collect();
        if fields.len() == 5 {
            return Err(UserError::InvalidOption {
                option: "cron",
                accepts: format!(
                    "6 fields with seconds first; for that crontab line write `0 {}`",
                    fields.join(" ")
                ),
            });
        }
        let schedule = cron::Schedule::from_str(&fields.join(" ")).map_err(|_| UserError::InvalidOption {
            option: "cron",
            accepts: "a cron expression with seconds first, such as `0 0 9 * * Mon` (Mondays at 9:00)".to_string(),
        })?;
        Ok(Cron { schedule, tz })
    }

    /// Scheduled times after `after`, in UTC, each strictly later. A wall-clock time repeated
    /// when clocks fall back fires once, at its first instant: when `after` falls between its
    /// two instants, that day's run has been and the next is a later time. (cron 0.17 resolves
    /// a repeated time to its first instant even when that is before `after`, and may also
    /// yield the second.)
    pub fn after(&self, after: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        self.schedule
            .after(&after.with_timezone(&self.tz))
            .filter(move |at| {
                let first = match self.tz.from_local_datetime(&at.naive_local()) {
                    LocalResult::Ambiguous(earliest, _) => earliest == *at,
                    _ => true,
                };
                first && *at > after
            })
            .map(|at| at.with_timezone(&Utc))
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The first wall-clock time of the schedule within a year of `now` that does not exist in
    /// the timezone (clocks spring forward over it), as a time written in UTC.
    pub fn gap(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Wall-clock times, computed as if in UTC, that do not exist in the timezone.
        let wall_now = Utc.from_utc_datetime(&now.with_timezone(&self.tz).naive_local());
        let year_later = wall_now + Duration::days(366);
        self.schedule
            .after(&wall_now)
            .take(MAX_DUE)
            .take_while(|wall| *wall < year_later)
            .find(|wall| {
                matches!(
                    self.tz.from_local_datetime(&wall.naive_utc()),
                    LocalResult::None
                )
            })
    }

    /// Why a schedule with no run ahead never runs: its only times fall where clocks spring
    /// forward, or it names no time that exists.
    pub fn never_runs(&self, expression: &str, now: DateTime<Utc>) -> UserError {
        match self.gap(now) {
            Some(wall) => UserError::OnlyInClockGap {
                timezone: self.tz.to_string(),
                time: wall.format("%H:%M").to_string(),
            },
            None => UserError::NeverRuns {
                expression: expression.trim().to_string(),
            },
        }
    }

    /// Warnings worth a line in the reply: what numeric days mean, and runs that fall in a
    /// spring-forward gap in the coming year.
    pub fn notes(&self, expression: &str, now: DateTime<Utc>) -> Vec<String> {
        let mut notes = Vec::new();
        let day_of_week = expression.split_whitespace().nth(5).unwrap_or("*");
        if day_of_week.chars().any(|c| c.is_ascii_digit()) {
            notes.push(format!(
                "Days of the week are numbered from Sunday = 1 to Saturday = 7 here, so `{day_of_week}` is {}. Day names (Mon-Fri) avoid the doubt.",
                describe_days(day_of_week)
            ));
        }
        if let Some(wall) = self.gap(now) {
            notes.push(format!(
                "There is no {} on {} in {} (clocks go forward), so that run is skipped.",
                wall.format("%H:%M"),
                wall.format("%Y-%m-%d"),
                self.tz
            ));
        }
        notes
    }
}

/// A timezone by its IANA name.
pub fn timezone(name: &str) -> Result<Tz, UserError> {
    Tz::from_str(name.trim()).map_err(|_| UserError::InvalidOption {
        option: "timezone",
        accepts: "an IANA timezone name such as Europe/Bucharest or America/New_York".to_string(),
    })
}

/// Refuses the legacy names chrono-tz still reads but a team almost never means: fixed
/// offsets that look like a region's time (EST is UTC-5 all year, while New York observes
/// daylight saving) and the POSIX-style and European abbreviations, each with the IANA name to
/// use. UTC and its equivalents stay allowed: a fixed UTC is what anyone typing it means.
pub fn refuse_legacy(name: &str) -> Result<(), UserError> {
    let name = name.trim();
    let known: &[(&str, &str, &str)] = &[
        (
            "EST",
            "America/New_York",
            "is UTC-5 all year and never observes daylight saving",
        ),
        (
            "MST",
            "America/Denver (or America/Phoenix, on UTC-7 all year)",
            "is UTC-7 all year and never observes daylight saving",
        ),
        ("HST", "Pacific/Honolulu", "is a legacy abbreviation"),
        (
            "EST5EDT",
            "America/New_York",
            "is a legacy POSIX-style name",
        ),
        ("CST6CDT", "America/Chicago", "is a legacy POSIX-style name"),
        ("MST7MDT", "America/Denver", "is a legacy POSIX-style name"),
        (
            "PST8PDT",
            "America/Los_Angeles",
            "is a legacy POSIX-style name",
        ),
        ("CET", "Europe/Paris", "is a legacy abbreviation"),
        ("MET", "Europe/Paris", "is a legacy abbreviation"),
        ("EET", "Europe/Athens", "is a legacy abbreviation"),
        ("WET", "Europe/Lisbon", "is a legacy abbreviation"),
    ];
    if let Some((_, suggestion, why)) = known.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name))
    {
        return Err(UserError::LegacyTimezone {
            name: name.to_uppercase(),
            suggestion,
            why: why.to_string(),
        });
    }
    // Etc/GMT+5 is UTC-5: a fixed offset, and its sign reads backwards.
    let offset = name
        .strip_prefix("Etc/")
        .unwrap_or(name)
        .strip_prefix("GMT")
        .filter(|rest| {
            rest.starts_with(['+', '-']) && rest[1..].parse::<u8>().is_ok_and(|h| h > 0)
        });
    if let Some(rest) = offset {
        let flipped = if rest.starts_with('+') { "-" } else { "+" };
        return Err(UserError::LegacyTimezone {
            name: name.to_string(),
            suggestion: "America/New_York or Europe/Bucharest",
            why: format!(
                "is a fixed offset, UTC{flipped}{} all year (its sign is reversed), never observing daylight saving",
                &rest[1..]
            ),
        });
    }
    Ok(())
}

/// What a numeric day-of-week field means, in day names.
fn describe_days(field: &str) -> String {
    const NAMES: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let name = |n: &str| {
        n.parse::<usize>()
            .ok()
            .and_then(|n| NAMES.get(n.wrapping_sub(1)))
            .copied()
    };
    field
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((from, to)) => match (name(from), name(to)) {
                (Some(from), Some(to)) => format!("{from} to {to}"),
                _ => part.to_string(),
            },
            None => name(part).map_or_else(|| part.to_string(), str::to_string),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn mondays_at_nine_stay_at_nine_local_across_the_autumn_clock_change() {
        let cron = Cron::parse("0 0 9 * * Mon", "Europe/Bucharest").unwrap();
        let runs: Vec<_> = cron.after(utc("2026-10-13T00:00:00Z")).take(3).collect();
        // Summer time (UTC+3) until 25 October 2026, winter time (UTC+2) after.
        assert_eq!(
            runs,
            [
                utc("2026-10-19T06:00:00Z"),
                utc("2026-10-26T07:00:00Z"),
                utc("2026-11-02T07:00:00Z")
            ]
        );
    }

    #[test]
    fn the_repeated_fall_back_hour_fires_once() {
        let cron = Cron::parse("0 30 3 * * *", "Europe/Bucharest").unwrap();
        let runs: Vec<_> = cron.after(utc("2026-10-24T12:00:00Z")).take(3).collect();
        // 03:30 happens twice on 25 October (at 00:30 and 01:30 UTC); it fires at the first.
        assert_eq!(
            runs,
            [
                utc("2026-10-25T00:30:00Z"),
                utc("2026-10-26T01:30:00Z"),
                utc("2026-10-27T01:30:00Z")
            ]
        );
    }

    #[test]
    fn inside_the_repeated_hour_the_next_run_is_later_than_now() {
        // Each `now` falls between the two instants of the repeated time: the first has
        // passed, so the next run is the next day's.
        for (expression, timezone, now, next) in [
            (
                "0 30 1 * * *",
                "America/New_York",
                "2027-11-07T06:15:00Z",
                "2027-11-08T06:30:00Z",
            ),
            (
                "0 30 3 * * *",
                "Europe/Bucharest",
                "2027-10-31T01:15:00Z",
                "2027-11-01T01:30:00Z",
            ),
            (
                "0 45 1 * * *",
                "Australia/Lord_Howe",
                "2027-04-03T15:00:00Z",
                "2027-04-04T15:15:00Z",
            ),
        ] {
            let cron = Cron::parse(expression, timezone).unwrap();
            let runs: Vec<_> = cron.after(utc(now)).take(2).collect();
            assert_eq!(runs[0], utc(next), "{timezone}");
            assert!(runs[1] > runs[0], "{timezone}");
        }
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_is_skipped_and_the_reply_says_so() {
        let cron = Cron::parse("0 30 3 * * *", "Europe/Bucharest").unwrap();
        let runs: Vec<_> = cron.after(utc("2027-03-27T12:00:00Z")).take(2).collect();
        // 03:30 does not exist on 28 March 2027: the next run is the 29th.
        assert_eq!(runs[0], utc("2027-03-29T00:30:00Z"));
        let notes = cron.notes("0 30 3 * * *", utc("2026-11-29T00:00:00Z"));
        assert_eq!(
            notes,
            [
                "There is no 03:30 on 2027-03-28 in Europe/Bucharest (clocks go forward), so that run is skipped."
            ]
        );
    }

    #[test]
    fn legacy_fixed_offset_names_are_refused_with_the_place_to_use() {
        let err = refuse_legacy("EST").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`timezone` must be a place's IANA name, such as America/New_York: EST is UTC-5 all year and never observes daylight saving, so the digest would not follow the clocks there."
        );
        for name in ["mst", "HST", "PST8PDT", "CET", "Etc/GMT+5", "GMT-3"] {
            assert!(refuse_legacy(name).is_err(), "{name}");
        }
        assert!(
            refuse_legacy("Etc/GMT+5")
                .unwrap_err()
                .to_string()
                .contains("UTC-5 all year")
        );
        for name in [
            "UTC",
            "Etc/UTC",
            "GMT",
            "Etc/GMT",
            "America/New_York",
            "Europe/Bucharest",
        ] {
            assert_eq!(refuse_legacy(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn a_schedule_only_inside_a_clock_gap_is_refused_for_that_reason() {
        // New York's clocks jump from 2:00 to 3:00 on 14 March 2027: 2:30 that day, the only
        // time this schedule names, never happens.
        let cron = Cron::parse("0 30 2 14 3 * 2027", "America/New_York").unwrap();
        assert_eq!(cron.after(utc("2027-03-01T00:00:00Z")).next(), None);
        let err = cron.never_runs("0 30 2 14 3 * 2027", utc("2027-03-01T00:00:00Z"));
        assert_eq!(
            err.to_string(),
            "`cron` never runs in America/New_York: 02:30 does not exist on the days it names (clocks go forward at that time), and a skipped run is not moved. Pick a time outside the clock change, such as 04:00."
        );
        let cron = Cron::parse("0 0 9 30 2 *", "UTC").unwrap();
        assert_eq!(cron.after(utc("2027-03-01T00:00:00Z")).next(), None);
        assert_eq!(
            cron.never_runs("0 0 9 30 2 *", utc("2027-03-01T00:00:00Z"))
                .to_string(),
            "`cron` never runs: `0 0 9 30 2 *` names no time that exists, such as 30 February."
        );
    }

    #[test]
    fn numeric_days_count_from_sunday_and_the_reply_spells_them_out() {
        let cron = Cron::parse("0 0 9 * * 1-5", "UTC").unwrap();
        let first = cron.after(utc("2026-11-28T12:00:00Z")).next().unwrap();
        assert_eq!(first, utc("2026-11-29T09:00:00Z"), "1 is Sunday");
        let notes = cron.notes("0 0 9 * * 1-5", utc("2026-11-28T12:00:00Z"));
        assert!(
            notes[0].contains("so `1-5` is Sunday to Thursday"),
            "{notes:?}"
        );
        assert!(
            Cron::parse("0 0 9 * * Mon-Fri", "UTC")
                .unwrap()
                .notes("0 0 9 * * Mon-Fri", utc("2026-11-28T12:00:00Z"))
                .is_empty()
        );
    }

    #[test]
    fn a_five_field_crontab_line_is_refused_with_the_six_field_form() {
        let err = Cron::parse("0 9 * * 1", "UTC").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`cron` must be 6 fields with seconds first; for that crontab line write `0 0 9 * * 1`."
        );
        assert!(Cron::parse("every monday", "UTC").is_err());
        let err = Cron::parse("0 0 9 * * Mon", "Mars/Olympus").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`timezone` must be an IANA timezone name")
        );
    }
}
