//! The axes: the days the x-axis spans and the dates it marks, the values the y-axis spans and
//! the figures it marks, and how each is written.
//!
//! The x-axis spans the period asked for, end to end, with its first and last days always
//! marked; in between, the finest of day, two-day, Monday, half-month, month, quarter and year
//! marks whose labels do not collide. Only when nothing at all was logged in the period's first
//! days (a year to date asked of a team that started in September) does the axis start at the
//! first day with data, so the chart is not three quarters empty; the subtitle says so. The
//! y-axis runs from zero (or the lowest value, when below zero) to a round figure at or above
//! the highest value.

use chrono::{Datelike, NaiveDate};

use super::Step;
use crate::numbers::thousands;
use crate::period::Period;
use crate::plugin::Unit;

/// A marked place on an axis and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick<T> {
    pub at: T,
    pub label: String,
}

/// The days the x-axis spans: the period, or from `first_point` (the earliest day any line has
/// a point on) when that is later.
pub fn x_span(period: Period, first_point: Option<NaiveDate>) -> Period {
    match first_point {
        Some(first) if first > period.from && first <= period.to => Period {
            from: first,
            to: period.to,
        },
        _ => period,
    }
}

/// Where `day` sits across the span, from 0 (its first day) to 1 (its last). A point dated
/// before the span (a weekly point is dated by the Monday its week starts, which for the first
/// week can fall before the period) is drawn at the span's start, where the days it holds begin.
pub fn x_fraction(day: NaiveDate, span: Period) -> f64 {
    let last = span.days() - 1;
    if last == 0 {
        return 0.5;
    }
    let offset = (day - span.from).num_days().clamp(0, last);
    offset as f64 / last as f64
}

/// A line's points split where days (or weeks) have no value, so that a line never bridges a
/// gap as if the days in it had been logged.
pub fn runs(points: &[(NaiveDate, f64)], step: Step) -> Vec<&[(NaiveDate, f64)]> {
    let most = match step {
        Step::Day => 1,
        Step::Week => 7,
    };
    points
        .chunk_by(|a, b| (b.0 - a.0).num_days() <= most)
        .collect()
}

/// How far apart the marks between the ends are.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Spacing {
    Days(i64),
    Mondays,
    /// The 1st and the 15th of each month.
    HalfMonths,
    Months(u32),
    Years,
}

/// From finest to coarsest; the finest whose labels fit is used.
const SPACINGS: [Spacing; 8] = [
    Spacing::Days(1),
    Spacing::Days(2),
    Spacing::Mondays,
    Spacing::HalfMonths,
    Spacing::Months(1),
    Spacing::Months(3),
    Spacing::Months(6),
    Spacing::Years,
];

/// Empty room between two neighbouring tick labels, in the units of the width given.
const LABEL_GAP: f64 = 24.0;

impl Spacing {
    fn marks(self, day: NaiveDate, from: NaiveDate) -> bool {
        match self {
            Spacing::Days(n) => (day - from).num_days() % n == 0,
            Spacing::Mondays => day.weekday() == chrono::Weekday::Mon,
            Spacing::HalfMonths => day.day() == 1 || day.day() == 15,
            Spacing::Months(n) => day.day() == 1 && day.month0().is_multiple_of(n),
            Spacing::Years => day.ordinal() == 1,
        }
    }

    fn label(self, day: NaiveDate, years_differ: bool) -> String {
        match self {
            Spacing::Months(_) if years_differ && day.month() == 1 => day.format("%b %Y"),
            Spacing::Months(_) => day.format("%b"),
            Spacing::Years => day.format("%Y"),
            _ => day.format("%b %-d"),
        }
        .to_string()
    }
}

/// The dates marked on an x-axis `width` wide (in any unit, the one `label_width` measures
/// text in): always the span's first and last day, and between them the finest marks whose
/// labels keep clear of each other.
pub fn date_ticks(
    span: Period,
    width: f64,
    label_width: impl Fn(&str) -> f64,
) -> Vec<Tick<NaiveDate>> {
    let years_differ = span.from.year() != span.to.year();
    let end = |day: NaiveDate| Tick {
        at: day,
        label: if years_differ {
            day.format("%b %-d, %Y").to_string()
        } else {
            day.format("%b %-d").to_string()
        },
    };
    if span.from == span.to {
        return vec![end(span.from)];
    }
    let (first, last) = (end(span.from), end(span.to));
    let x = |day: NaiveDate| x_fraction(day, span) * width;
    let clear = |a: &Tick<NaiveDate>, b: &Tick<NaiveDate>| {
        x(b.at) - x(a.at) >= (label_width(&a.label) + label_width(&b.label)) / 2.0 + LABEL_GAP
    };
    'spacing: for spacing in SPACINGS {
        let mut ticks = vec![first.clone()];
        let inner = span
            .from
            .iter_days()
            .skip(1)
            .take_while(|day| *day < span.to);
        for day in inner.filter(|day| spacing.marks(*day, span.from)) {
            let tick = Tick {
                at: day,
                label: spacing.label(day, years_differ),
            };
            let previous = &ticks[ticks.len() - 1];
            // A mark crowding either end gives way to the end's date; one crowding the mark
            // before it means these marks are too fine for the width.
            if !clear(&tick, &last) || (ticks.len() == 1 && !clear(previous, &tick)) {
                continue;
            }
            if !clear(previous, &tick) {
                continue 'spacing;
            }
            ticks.push(tick);
        }
        ticks.push(last);
        return ticks;
    }
    vec![first, last]
}

/// The y-axis: the values it spans and the figures marked on it.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueAxis {
    pub low: f64,
    pub high: f64,
    pub ticks: Vec<Tick<f64>>,
}

/// Marks between the axis's ends, at most.
const MAX_VALUE_STEPS: f64 = 6.0;

/// The y-axis for `values` of a metric in `unit`: from zero, or the lowest value when it is
/// below zero, to the first round figure at or above the highest, marked every 1, 2, 2.5 or 5
/// times a power of ten.
pub fn value_axis(values: impl Iterator<Item = f64>, unit: Unit) -> ValueAxis {
    let (mut low, mut high) = (0.0_f64, 0.0_f64);
    for value in values.filter(|v| v.is_finite()) {
        low = low.min(value);
        high = high.max(value);
    }
    let raw = (high - low) / MAX_VALUE_STEPS;
    let mut step = if raw > 0.0 {
        let power = 10f64.powf(raw.log10().floor());
        [1.0, 2.0, 2.5, 5.0, 10.0]
            .into_iter()
            .map(|m| m * power)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * power)
    } else {
        1.0
    };
    if unit == Unit::Count {
        // Counts are whole: no mark between 0 and 1 people.
        step = step.max(1.0);
    }
    let first = (low / step).floor() as i64;
    let last = ((high / step).ceil() as i64).max(first + 1);
    let ticks = (first..=last)
        .map(|i| {
            let at = i as f64 * step;
            Tick {
                at,
                label: value_text(at, unit, step, last as f64 * step),
            }
        })
        .collect();
    ValueAxis {
        low: first as f64 * step,
        high: last as f64 * step,
        ticks,
    }
}

/// The decimals that write every multiple of `step` exactly.
fn decimals(step: f64) -> usize {
    (0..4)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(4)
}

/// A figure on the y-axis: "2.5%", "+20", "1.2M", "350K", "900".
fn value_text(value: f64, unit: Unit, step: f64, top: f64) -> String {
    let places = decimals(step);
    match unit {
        Unit::Percent => format!("{value:.places$}%"),
        Unit::Score if value == 0.0 => "0".to_string(),
        Unit::Score => format!("{value:+.places$}"),
        Unit::Count => {
            let (divisor, suffix) = if top >= 1e9 {
                (1e9, "B")
            } else if top >= 1e6 {
                (1e6, "M")
            } else if top >= 1e4 {
                (1e3, "K")
            } else {
                (1.0, "")
            };
            if value == 0.0 || divisor == 1.0 {
                return thousands(value.round() as i64);
            }
            let places = decimals(step / divisor);
            format!("{:.places$}{suffix}", value / divisor)
        }
    }
}

/// The y-axis's title: the metric and its unit.
pub fn value_title(metric: &str, unit: Unit) -> String {
    match unit {
        Unit::Percent => format!("{metric} (%)"),
        Unit::Score => format!("{metric} (score, -100 to +100)"),
        Unit::Count => format!("{metric} (count)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn period(from: &str, to: &str) -> Period {
        Period {
            from: day(from),
            to: day(to),
        }
    }

    /// DejaVu Sans at the tick labels' size is about 19 canvas pixels a character.
    fn estimate(text: &str) -> f64 {
        text.chars().count() as f64 * 19.0
    }

    fn labels(ticks: &[Tick<NaiveDate>]) -> Vec<&str> {
        ticks.iter().map(|t| t.label.as_str()).collect()
    }

    const WIDTH: f64 = 1800.0;

    #[test]
    fn a_week_marks_each_of_its_seven_days_once() {
        let ticks = date_ticks(period("2026-11-26", "2026-12-02"), WIDTH, estimate);
        assert_eq!(
            labels(&ticks),
            [
                "Nov 26", "Nov 27", "Nov 28", "Nov 29", "Nov 30", "Dec 1", "Dec 2"
            ]
        );
    }

    #[test]
    fn thirty_days_are_marked_on_mondays_between_the_ends() {
        // 2026-11-03 is a Tuesday; 2026-11-30, a Monday, crowds the last day and gives way.
        let ticks = date_ticks(period("2026-11-03", "2026-12-02"), WIDTH, estimate);
        assert_eq!(
            labels(&ticks),
            ["Nov 3", "Nov 9", "Nov 16", "Nov 23", "Dec 2"]
        );
    }

    #[test]
    fn a_year_to_date_is_marked_by_month_and_a_year_across_new_year_names_the_years() {
        let ytd = date_ticks(period("2026-01-01", "2026-12-02"), WIDTH, estimate);
        assert_eq!(
            labels(&ytd),
            [
                "Jan 1", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec 2"
            ]
        );
        let year = date_ticks(period("2025-11-10", "2026-11-09"), WIDTH, estimate);
        assert_eq!(
            labels(&year)[..4],
            ["Nov 10, 2025", "Jan 2026", "Feb", "Mar"]
        );
        assert_eq!(year.last().unwrap().label, "Nov 9, 2026");
    }

    #[test]
    fn every_span_up_to_ten_years_is_marked_at_both_ends_with_labels_clear_of_each_other() {
        let to = day("2026-12-02");
        for days in 1..=3660 {
            let span = Period::ending(to, days);
            let ticks = date_ticks(span, WIDTH, estimate);
            assert_eq!(ticks[0].at, span.from, "{days} days");
            assert_eq!(ticks.last().unwrap().at, span.to, "{days} days");
            assert!(ticks.len() >= 2 || days == 1, "{days} days");
            for pair in ticks.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let gap = (x_fraction(b.at, span) - x_fraction(a.at, span)) * WIDTH;
                assert!(
                    gap >= (estimate(&a.label) + estimate(&b.label)) / 2.0,
                    "{days} days: {} and {} collide",
                    a.label,
                    b.label
                );
            }
        }
    }

    #[test]
    fn the_axis_spans_the_period_unless_nothing_was_logged_in_its_first_days() {
        let ytd = period("2026-01-01", "2026-12-02");
        assert_eq!(x_span(ytd, Some(day("2026-01-01"))), ytd);
        // A weekly point dated by the Monday before the period does not widen it.
        assert_eq!(x_span(ytd, Some(day("2025-12-29"))), ytd);
        assert_eq!(
            x_span(ytd, Some(day("2026-09-07"))),
            period("2026-09-07", "2026-12-02")
        );
        assert_eq!(x_fraction(day("2025-12-29"), ytd), 0.0);
        assert_eq!(x_fraction(day("2026-12-02"), ytd), 1.0);
    }

    #[test]
    fn a_line_breaks_where_days_or_weeks_have_no_value() {
        let points: Vec<(NaiveDate, f64)> =
            ["2026-11-01", "2026-11-02", "2026-11-04", "2026-11-05"]
                .into_iter()
                .map(|d| (day(d), 1.0))
                .collect();
        let daily: Vec<usize> = runs(&points, Step::Day).iter().map(|r| r.len()).collect();
        assert_eq!(daily, [2, 2]);
        assert_eq!(runs(&points, Step::Week).len(), 1);
        // Weekly points on Mondays, the first one clamped to the period's start; one week missing.
        let weekly: Vec<(NaiveDate, f64)> = ["2026-01-01", "2026-01-05", "2026-01-19"]
            .into_iter()
            .map(|d| (day(d), 1.0))
            .collect();
        let weeks: Vec<usize> = runs(&weekly, Step::Week).iter().map(|r| r.len()).collect();
        assert_eq!(weeks, [2, 1]);
        assert!(runs(&[], Step::Day).is_empty());
    }

    #[test]
    fn rates_are_marked_from_zero_to_a_round_figure_above_the_highest() {
        let axis = value_axis([1.27, 4.91, 3.3].into_iter(), Unit::Percent);
        assert_eq!((axis.low, axis.high), (0.0, 5.0));
        let labels: Vec<&str> = axis.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0%", "1%", "2%", "3%", "4%", "5%"]);
        let small = value_axis([0.012, 0.028].into_iter(), Unit::Percent);
        assert_eq!(small.ticks[1].label, "0.005%");
        assert_eq!(small.ticks.last().unwrap().label, "0.030%");
    }

    #[test]
    fn counts_are_written_short_and_scores_with_their_sign() {
        let reach = value_axis([120_000.0, 655_000.0].into_iter(), Unit::Count);
        let labels: Vec<&str> = reach.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "200K", "400K", "600K", "800K"]);
        let big = value_axis([2_268_055.0].into_iter(), Unit::Count);
        let labels: Vec<&str> = big.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "0.5M", "1.0M", "1.5M", "2.0M", "2.5M"]);
        let few = value_axis([3.0].into_iter(), Unit::Count);
        assert_eq!(few.ticks.last().unwrap().label, "3");
        let score = value_axis([-12.0, 31.0].into_iter(), Unit::Score);
        let labels: Vec<&str> = score.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["-20", "-10", "0", "+10", "+20", "+30", "+40"]);
    }

    #[test]
    fn all_zero_or_unreadable_values_still_give_an_axis() {
        let axis = value_axis([0.0, f64::NAN, f64::INFINITY].into_iter(), Unit::Percent);
        assert_eq!((axis.low, axis.high), (0.0, 1.0));
    }

    #[test]
    fn the_value_axis_says_the_metric_and_its_unit() {
        assert_eq!(
            value_title("Engagement rate", Unit::Percent),
            "Engagement rate (%)"
        );
        assert_eq!(value_title("Reach", Unit::Count), "Reach (count)");
    }
}
