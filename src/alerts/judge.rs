//! What makes a brand's latest day news, decided from its daily values alone: a spike or dip
//! (robust z of the latest day against the 28 days before, see [`crate::statistics`]) or a
//! threshold crossed since the day before; and the words an event posts. Plain functions, so
//! each decision is tested on hand-made series.
//!
//! The day judged is the latest with data, today's or yesterday's: older days are never news.
//! On a series that barely moves (MAD 0) the robust scale falls back to 1% of the median (and
//! never below one unit of the metric), so a flat series fires only on a change of more than
//! `k`% of its level.

use chrono::{Duration, NaiveDate};

use crate::analysis::format_value;
use crate::plugin::{Plugin, Unit};
use crate::statistics::{Robust, robust_z};
use crate::storage::AlertRule;

/// Days of history a spike or dip is judged against.
pub const TRAILING_DAYS: i64 = 28;
/// Fewest days with data among them before a spike or dip is judged at all.
pub const MIN_HISTORY: usize = 14;
/// The robust z a spike or dip must pass when `k` is not given.
pub const DEFAULT_K: f64 = 3.0;

/// What a rule watches for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Watch {
    /// The latest day's robust z passes `k`.
    Spike { k: f64 },
    /// The latest day crosses `value`.
    Threshold { value: f64 },
}

/// Which way a move counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Direction {
    Up,
    Down,
    Both,
}

impl Direction {
    pub fn parse(text: &str) -> Direction {
        match text {
            "up" => Direction::Up,
            "down" => Direction::Down,
            _ => Direction::Both,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Both => "both",
        }
    }
}

/// A rule's decision on the data it was shown, with the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The day judged: the latest with data, today's or yesterday's.
    pub day: Option<NaiveDate>,
    pub value: Option<f64>,
    /// Spike: the latest day against its trailing days.
    pub robust: Option<Robust>,
    /// Days with data among the trailing ones.
    pub history: usize,
    /// Threshold: the day before with data, and its value.
    pub previous: Option<(NaiveDate, f64)>,
    /// `Some("spike")`, `Some("dip")`, `Some("up")`/`Some("down")` (a crossing) when it fires.
    pub fires: Option<&'static str>,
    /// Why it does or does not fire, in a sentence.
    pub why: String,
}

/// The smallest change a metric's unit can show: what a robust scale never falls below.
fn unit_floor(unit: Unit) -> f64 {
    match unit {
        Unit::Percent => 0.01,
        Unit::Count | Unit::Score => 1.0,
    }
}

/// Whether `watch` fires on `points` (one value per day, oldest first) as of `today`; see the
/// module documentation for the rules.
pub fn judge(
    watch: Watch,
    direction: Direction,
    unit: Unit,
    points: &[(NaiveDate, f64)],
    today: NaiveDate,
) -> Verdict {
    let mut verdict = Verdict {
        day: None,
        value: None,
        robust: None,
        history: 0,
        previous: None,
        fires: None,
        why: String::new(),
    };
    let Some(&(day, value)) = points
        .iter()
        .rev()
        .find(|(d, _)| *d <= today && *d >= today - Duration::days(1))
    else {
        verdict.why = "no value for today or yesterday: nothing new to judge".to_string();
        return verdict;
    };
    verdict.day = Some(day);
    verdict.value = Some(value);
    let before: Vec<(NaiveDate, f64)> = points.iter().copied().filter(|(d, _)| *d < day).collect();
    match watch {
        Watch::Spike { k } => {
            let window: Vec<f64> = before
                .iter()
                .filter(|(d, _)| *d >= day - Duration::days(TRAILING_DAYS))
                .map(|(_, v)| *v)
                .collect();
            verdict.history = window.len();
            if window.len() < MIN_HISTORY {
                verdict.why = format!(
                    "only {} of the {TRAILING_DAYS} days before {day} have data; a spike or dip needs at least {MIN_HISTORY}",
                    window.len()
                );
                return verdict;
            }
            let Some(robust) = robust_z(value, &window, unit_floor(unit)) else {
                verdict.why = "the history holds no usable numbers".to_string();
                return verdict;
            };
            verdict.robust = Some(robust);
            let z = robust.z;
            verdict.fires = match direction {
                Direction::Up | Direction::Both if z > k => Some("spike"),
                Direction::Down | Direction::Both if z < -k => Some("dip"),
                _ => None,
            };
            let side = match direction {
                Direction::Up => format!("above +{k}"),
                Direction::Down => format!("below -{k}"),
                Direction::Both => format!("beyond ±{k}"),
            };
            verdict.why = format!(
                "robust z {z:+.2} is {}{side}",
                if verdict.fires.is_some() { "" } else { "not " }
            );
        }
        Watch::Threshold { value: level } => {
            let Some(&(previous_day, previous)) = before.last() else {
                verdict.why = format!("no value before {day} to cross from");
                return verdict;
            };
            verdict.previous = Some((previous_day, previous));
            let up = previous < level && value >= level;
            let down = previous >= level && value < level;
            verdict.fires = match direction {
                Direction::Up | Direction::Both if up => Some("up"),
                Direction::Down | Direction::Both if down => Some("down"),
                _ => None,
            };
            verdict.why = if verdict.fires.is_some() {
                "it crossed the value since the day before".to_string()
            } else {
                "no crossing since the day before".to_string()
            };
        }
    }
    verdict
}

/// A stored rule's watch and direction.
pub fn watch_of(rule: &AlertRule) -> (Watch, Direction) {
    let watch = if rule.kind == "threshold" {
        Watch::Threshold { value: rule.level }
    } else {
        Watch::Spike { k: rule.level }
    };
    (watch, Direction::parse(&rule.direction))
}

/// What a rule watches, in words: "spike or dip beyond k 3", "crossing 10,000 upward".
pub fn describe(rule: &AlertRule, unit: Unit) -> String {
    if rule.kind == "breakout" {
        let whose = if rule.scope.as_deref() == Some("landscape") {
            "its landscapes'"
        } else {
            "its"
        };
        return format!(
            "breakout post (beyond {} sd of {whose} mean post rate)",
            rule.level
        );
    }
    match watch_of(rule) {
        (Watch::Spike { k }, direction) => {
            let what = match direction {
                Direction::Up => "spike",
                Direction::Down => "dip",
                Direction::Both => "spike or dip",
            };
            format!("{what} (robust z beyond {k})")
        }
        (Watch::Threshold { value }, direction) => {
            let way = match direction {
                Direction::Up => " upward",
                Direction::Down => " downward",
                Direction::Both => "",
            };
            format!("crossing {}{way}", format_value(unit, value))
        }
    }
}

/// The message an event posts: what happened, with the numbers.
pub fn message(rule: &AlertRule, plugin: &dyn Plugin, verdict: &Verdict, fired: &str) -> String {
    let unit = plugin.unit();
    let value = format_value(unit, verdict.value.unwrap_or_default());
    let day = verdict.day.map(|d| d.to_string()).unwrap_or_default();
    let metric = plugin.label();
    let mut text = match (verdict.robust, verdict.previous) {
        (Some(r), _) => format!(
            "{} **{}** · {} {metric} on {day}: {value}, against a median of {} over the {TRAILING_DAYS} days before (MAD {}, robust z {:+.1}, threshold {}).",
            if fired == "dip" { "📉" } else { "📈" },
            if fired == "dip" { "Dip" } else { "Spike" },
            rule.brand,
            format_value(unit, r.median),
            format_value(unit, r.mad),
            r.z,
            rule.level
        ),
        (None, Some((previous_day, previous))) => format!(
            "🔔 **Threshold** · {} {metric} {} {} on {day}: {value} (was {} on {previous_day}).",
            rule.brand,
            if fired == "down" {
                "fell below"
            } else {
                "reached"
            },
            format_value(unit, rule.level),
            format_value(unit, previous)
        ),
        (None, None) => format!("🔔 {} {metric} on {day}: {value}.", rule.brand),
    };
    text.push_str(&format!(" Alert #{}.", rule.id));
    if let Some(role) = rule.role_id {
        text = format!("<@&{role}> {text}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() + Duration::days(n)
    }

    /// 28 days of 100 +/- 10 (MAD 10), then `last` on day 28.
    fn series(last: f64) -> Vec<(NaiveDate, f64)> {
        let mut points: Vec<(NaiveDate, f64)> = (0..28)
            .map(|i| (day(i), [90.0, 100.0, 110.0, 100.0][i as usize % 4]))
            .collect();
        points.push((day(28), last));
        points
    }

    #[test]
    fn a_spike_fires_upward_and_a_dip_downward_only_beyond_k() {
        let spike = judge(
            Watch::Spike { k: 3.0 },
            Direction::Both,
            Unit::Count,
            &series(200.0),
            day(28),
        );
        assert_eq!(spike.fires, Some("spike"));
        let r = spike.robust.unwrap();
        // median 100, MAD 5 (deviations 10,0,10,0): z = 100 / (1.4826 x 5).
        assert_eq!((r.median, r.mad, spike.history), (100.0, 5.0, 28));
        assert!((r.z - 13.49).abs() < 0.01, "{}", r.z);
        let dip = judge(
            Watch::Spike { k: 3.0 },
            Direction::Both,
            Unit::Count,
            &series(50.0),
            day(28),
        );
        assert_eq!(dip.fires, Some("dip"));
        let up_only = judge(
            Watch::Spike { k: 3.0 },
            Direction::Up,
            Unit::Count,
            &series(50.0),
            day(28),
        );
        assert_eq!(up_only.fires, None);
        let inside = judge(
            Watch::Spike { k: 3.0 },
            Direction::Both,
            Unit::Count,
            &series(120.0),
            day(28),
        );
        assert_eq!(inside.fires, None, "z = 20 / 7.4 = 2.7");
    }

    #[test]
    fn too_little_history_or_stale_data_never_fires() {
        let short: Vec<(NaiveDate, f64)> = series(500.0).split_off(15);
        let verdict = judge(
            Watch::Spike { k: 3.0 },
            Direction::Both,
            Unit::Count,
            &short,
            day(28),
        );
        assert_eq!((verdict.fires, verdict.history), (None, 13));
        assert!(verdict.why.contains("at least 14"), "{}", verdict.why);
        let stale = judge(
            Watch::Spike { k: 3.0 },
            Direction::Both,
            Unit::Count,
            &series(500.0),
            day(30),
        );
        assert_eq!((stale.fires, stale.day), (None, None));
    }

    #[test]
    fn a_flat_series_fires_only_past_the_one_percent_floor() {
        let flat = |last: f64| {
            let mut points: Vec<(NaiveDate, f64)> = (0..28).map(|i| (day(i), 1000.0)).collect();
            points.push((day(28), last));
            judge(
                Watch::Spike { k: 3.0 },
                Direction::Both,
                Unit::Count,
                &points,
                day(28),
            )
        };
        assert_eq!(flat(1020.0).fires, None, "2% of 1,000 is z = 2");
        assert_eq!(flat(1040.0).fires, Some("spike"), "4% of 1,000 is z = 4");
    }

    #[test]
    fn a_threshold_fires_on_the_crossing_day_only() {
        let watch = Watch::Threshold { value: 10_000.0 };
        let points = [
            (day(0), 9_900.0),
            (day(1), 10_050.0),
            (day(2), 10_100.0),
            (day(3), 9_800.0),
        ];
        let on = |n: usize, direction| {
            judge(
                watch,
                direction,
                Unit::Count,
                &points[..n],
                day(n as i64 - 1),
            )
            .fires
        };
        assert_eq!(on(2, Direction::Up), Some("up"));
        assert_eq!(on(3, Direction::Up), None, "still above: no new crossing");
        assert_eq!(on(4, Direction::Up), None);
        assert_eq!(on(4, Direction::Down), Some("down"));
        assert_eq!(on(4, Direction::Both), Some("down"));
    }
}
