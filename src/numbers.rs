//! Arithmetic that metrics share, and how numbers are written for people.
//!
//! Rates come with a 95% Wilson score interval, because a team comparing a 20% CTR on 100
//! impressions with an 18% CTR on 120 is usually comparing noise; the interval is shown whenever
//! it changes what the rounded figure says. Changes from zero read "new" rather
//! than an infinite percentage. Counts are written with thousands separators, large ones also in
//! short form (27.3K).

use crate::error::CountProblem;

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval of `successes` out of `trials`, as fractions.
/// `None` when there are no trials or the count is not a proportion.
pub fn wilson(successes: i64, trials: i64) -> Option<(f64, f64)> {
    if trials <= 0 || successes < 0 || successes > trials {
        return None;
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let margin = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(((centre - margin).max(0.0), (centre + margin).min(1.0)))
}

/// A rate as a percentage, with its Wilson interval whenever either end of it, rounded as the
/// rate is, differs from the rate: then the last digit shown is not certain. A small rate's
/// interval can be narrow in points yet span a factor of thirty (1 in 10,000 is 0.010%,
/// 0.0018-0.057%), so no width in points decides. Each end is written to the rate's decimals, or
/// more where it takes more to keep two significant digits: `20.0% (95% CI 13.3-28.9%, n=100)`.
pub fn rate_with_interval(successes: i64, trials: i64) -> String {
    let rate = ratio(successes, trials).unwrap_or(0.0) * 100.0;
    let places = decimal_places(rate);
    let shown = format!("{rate:.places$}");
    match wilson(successes, trials) {
        Some((low, high))
            if [low, high]
                .iter()
                .any(|end| format!("{:.places$}", end * 100.0) != shown) =>
        {
            let (low, high) = (low * 100.0, high * 100.0);
            let (low_places, high_places) = (end_places(low, places), end_places(high, places));
            format!(
                "{shown}% (95% CI {low:.low_places$}-{high:.high_places$}%, n={})",
                thousands(trials)
            )
        }
        _ => format!("{shown}%"),
    }
}

/// Decimals for an end of an interval around a rate written with `places`: as many, or enough
/// for two significant digits of a small end.
fn end_places(end: f64, places: usize) -> usize {
    if end <= 0.0 {
        return places;
    }
    let two_significant = (1.0 - end.log10().floor()).clamp(0.0, 16.0) as usize;
    places.max(two_significant)
}

/// `numerator / denominator`, or `None` for a zero denominator.
pub fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator != 0).then(|| numerator as f64 / denominator as f64)
}

/// A percentage with as many decimals as it takes to show three significant digits, and at least
/// one: `20.0%`, `5.00%`, `0.125%`.
pub fn percent(value: f64) -> String {
    let places = decimal_places(value);
    format!("{value:.places$}%")
}

fn decimal_places(value: f64) -> usize {
    match value.abs() {
        v if v >= 10.0 || v == 0.0 => 1,
        v if v >= 1.0 => 2,
        v if v >= 0.1 => 3,
        // Two significant digits however small: 0.0033%, never 0.000%. The smallest rate of two
        // counts, 1 in MAX_COUNT, is 1.0e-12%: 13 decimals. The cap only stops a value no count
        // can make from asking for hundreds.
        v => ((-v.log10()).ceil() as usize + 1).min(16),
    }
}

/// The change from `before` to `after`: `+5,000 (+5.00%)`, or `new` when `before` is zero.
pub fn change(before: i64, after: i64) -> String {
    let delta = after - before;
    let sign = if delta >= 0 { "+" } else { "-" };
    match ratio(delta, before) {
        Some(growth) => format!(
            "{sign}{} ({sign}{})",
            thousands(delta.abs()),
            percent(growth.abs() * 100.0)
        ),
        None if after == 0 => "no change (0)".to_string(),
        None => format!("new (+{})", thousands(after)),
    }
}

/// An integer with thousands separators: `1,300,000`.
pub fn thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A count of things, with the noun that fits it: `1 value`, `2,500 values`.
pub fn plural(count: usize, one: &str, many: &str) -> String {
    let noun = if count == 1 { one } else { many };
    format!("{} {noun}", thousands(count as i64))
}

/// A count in short form for running text: `950`, `27.3K`, `1.30M`, `4.2B`.
pub fn short(value: i64) -> String {
    let v = value as f64;
    let (scaled, suffix) = match value.unsigned_abs() {
        n if n >= 1_000_000_000 => (v / 1e9, "B"),
        n if n >= 1_000_000 => (v / 1e6, "M"),
        n if n >= 1_000 => (v / 1e3, "K"),
        _ => return value.to_string(),
    };
    format!("{scaled:.1}{suffix}")
}

/// A number as people type one: `10,000`, `-0.5`, `2.5%` (the sign and the percent sign are
/// the reader's, the number is what counts); `None` for anything else or a non-finite one.
pub fn parse_decimal(text: &str) -> Option<f64> {
    let text: String = text
        .trim()
        .trim_end_matches('%')
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    let value: f64 = text.trim().parse().ok()?;
    value.is_finite().then_some(value)
}

/// Reads a count written the ways people write one, the same in every option, CSV value and
/// list: digits (`12500`), commas between thousands (`12,500`, three digits after each comma),
/// or a K, M or B with as many decimals as still make a whole number (`4.2K`, `1.25M`,
/// `1,300.5K`). Up to [`MAX_COUNT`](crate::limits::MAX_COUNT). Anything that could be read two
/// ways is refused with the reason rather than guessed: a decimal point without a suffix
/// (`1.5`, and `1.000`, a thousand in some countries), a comma not followed by three digits
/// (`1,5`, `12,50`: a decimal comma), spaces as separators (`12 500`).
pub fn parse_count(text: &str) -> Result<i64, CountProblem> {
    let text = text.trim();
    let shown = || excerpt(text);
    // Plain digits, most of a million-row import, are read without the general path's
    // allocations.
    if (1..=18).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(value) = text.parse::<i64>()
    {
        return if value <= crate::limits::MAX_COUNT {
            Ok(value)
        } else {
            Err(CountProblem::TooLarge {
                text: shown(),
                max: thousands(crate::limits::MAX_COUNT),
            })
        };
    }
    let (number, scale) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 3),
        Some((i, 'm' | 'M')) => (&text[..i], 6),
        Some((i, 'b' | 'B')) => (&text[..i], 9),
        _ => (text, 0),
    };
    if text.ends_with('%') {
        return Err(CountProblem::Percentage(shown()));
    }
    if number.contains(char::is_whitespace) {
        return Err(CountProblem::Spaced(shown()));
    }
    if let Some(rest) = number.strip_prefix('-')
        && rest.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(CountProblem::Negative(shown()));
    }
    let (whole, decimals) = match number.split_once('.') {
        Some((whole, decimals)) => (whole, Some(decimals)),
        None => (number, None),
    };
    let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let grouped = whole.split(',').collect::<Vec<_>>();
    if !grouped.iter().all(|group| digits_only(group)) || !decimals.is_none_or(digits_only) {
        return Err(CountProblem::NotANumber(shown()));
    }
    let first = grouped[0];
    let well_grouped = grouped.len() == 1
        || ((1..=3).contains(&first.len())
            && !first.starts_with('0')
            && grouped[1..].iter().all(|group| group.len() == 3));
    if !well_grouped {
        return Err(CountProblem::NotGrouped(shown()));
    }
    let decimals = decimals.unwrap_or_default().trim_end_matches('0');
    if scale == 0 && number.contains('.') {
        return Err(CountProblem::Decimal(shown()));
    }
    if decimals.len() > scale {
        return Err(CountProblem::NotWhole(shown()));
    }
    // Whole digits, then the decimals padded to the suffix's power of ten: 1.25M is 125 then
    // four zeros. Read as u128, so that no length of digits can overflow before the check.
    let digits: String = grouped.concat() + decimals + &"0".repeat(scale - decimals.len());
    let too_large = || CountProblem::TooLarge {
        text: shown(),
        max: thousands(crate::limits::MAX_COUNT),
    };
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return Err(too_large());
    }
    let value = digits.parse::<u128>().unwrap_or(0);
    i64::try_from(value)
        .ok()
        .filter(|v| *v <= crate::limits::MAX_COUNT)
        .ok_or_else(too_large)
}

/// Text typed by a user, shortened for an error message that quotes it.
fn excerpt(text: &str) -> String {
    const SHOWN: usize = 24;
    if text.chars().count() <= SHOWN {
        return text.to_string();
    }
    let mut short: String = text.chars().take(SHOWN).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_of_20_in_100_matches_the_published_figure() {
        let (low, high) = wilson(20, 100).unwrap();
        assert!((low - 0.1334).abs() < 1e-4, "{low}");
        assert!((high - 0.2888).abs() < 1e-4, "{high}");
        assert_eq!(
            rate_with_interval(20, 100),
            "20.0% (95% CI 13.3-28.9%, n=100)"
        );
    }

    #[test]
    fn interval_is_left_out_when_the_sample_makes_it_invisible() {
        assert_eq!(rate_with_interval(2_000_000, 100_000_000), "2.00%");
    }

    #[test]
    fn interval_is_shown_whenever_it_changes_the_printed_figure() {
        // Half-width 0.03 points, yet the true rate may be a fifth or five times the figure.
        assert_eq!(
            rate_with_interval(1, 10_000),
            "0.010% (95% CI 0.0018-0.057%, n=10,000)"
        );
        // 1.98-2.02%: the second decimal is not certain.
        assert_eq!(
            rate_with_interval(20_000, 1_000_000),
            "2.00% (95% CI 1.97-2.03%, n=1,000,000)"
        );
    }

    #[test]
    fn interval_stays_inside_zero_and_one_at_the_extremes() {
        let (low, high) = wilson(0, 10).unwrap();
        assert_eq!(low, 0.0);
        assert!(high > 0.0 && high < 0.35);
        let (low, high) = wilson(10, 10).unwrap();
        assert!(low > 0.65 && (high - 1.0).abs() < 1e-12, "{low} {high}");
        assert_eq!(wilson(11, 10), None);
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn tiny_rates_keep_two_significant_digits() {
        assert_eq!(percent(0.0001), "0.00010%");
        assert_eq!(percent(0.0033), "0.0033%");
        assert_eq!(percent(0.47), "0.470%");
        assert_eq!(percent(0.0), "0.0%");
    }

    #[test]
    fn change_from_zero_reads_new() {
        assert_eq!(change(0, 40), "new (+40)");
        assert_eq!(change(0, 0), "no change (0)");
        assert_eq!(change(100_000, 105_000), "+5,000 (+5.00%)");
        assert_eq!(change(200, 150), "-50 (-25.0%)");
    }

    #[test]
    fn counts_are_written_the_way_people_read_them() {
        assert_eq!(thousands(1_300_000), "1,300,000");
        assert_eq!(thousands(-999), "-999");
        assert_eq!(thousands(0), "0");
        assert_eq!(short(27_300), "27.3K");
    }

    #[test]
    fn counts_are_read_in_one_set_of_forms() {
        for (text, value) in [
            ("1300000", 1_300_000),
            (" 12500 ", 12_500),
            ("12,500", 12_500),
            ("1,300,000", 1_300_000),
            ("4.2K", 4_200),
            ("4.25K", 4_250),
            ("4.2000k", 4_200),
            ("1.25M", 1_250_000),
            ("1.3m", 1_300_000),
            ("2B", 2_000_000_000),
            ("1,300.5K", 1_300_500),
            ("0", 0),
            ("99,999,999,999,999", crate::limits::MAX_COUNT),
            ("99999.999999999B", crate::limits::MAX_COUNT),
        ] {
            assert_eq!(parse_count(text), Ok(value), "{text}");
        }
    }

    #[test]
    fn forms_that_could_be_read_two_ways_are_refused_with_the_reason() {
        use CountProblem::*;
        let refused = |text: &str| parse_count(text).unwrap_err();
        assert_eq!(refused("1.5"), Decimal("1.5".into()));
        assert_eq!(refused("1.000"), Decimal("1.000".into()));
        assert_eq!(refused("1,5"), NotGrouped("1,5".into()));
        assert_eq!(refused("12,50"), NotGrouped("12,50".into()));
        assert_eq!(refused("1,5K"), NotGrouped("1,5K".into()));
        assert_eq!(refused("0,500"), NotGrouped("0,500".into()));
        assert_eq!(refused("1234,567"), NotGrouped("1234,567".into()));
        assert_eq!(refused("4.2505K"), NotWhole("4.2505K".into()));
        assert_eq!(refused("12 500"), Spaced("12 500".into()));
        assert_eq!(refused("12\u{a0}500"), Spaced("12\u{a0}500".into()));
        assert_eq!(refused("12%"), Percentage("12%".into()));
        assert_eq!(refused("-5"), Negative("-5".into()));
        assert!(matches!(refused("100,000,000,000,000"), TooLarge { .. }));
        assert!(matches!(refused(&"9".repeat(400)), TooLarge { .. }));
        for junk in [
            "",
            "K",
            "NaN",
            "inf",
            "1e9",
            "+5",
            "1.300.000",
            "4.K",
            "twenty",
        ] {
            assert!(matches!(refused(junk), NotANumber(_)), "{junk}");
        }
        assert_eq!(
            refused("1,5").to_string(),
            "\"1,5\" does not have three digits after each comma, as in 12,500 (a decimal comma is not read)"
        );
        assert_eq!(
            refused(&"9".repeat(40)).to_string(),
            "\"999999999999999999999999…\" is above the largest count, 99,999,999,999,999"
        );
    }

    #[test]
    fn the_smallest_rate_two_counts_can_make_keeps_two_significant_digits() {
        for (clicks, shown) in [(7, "0.0000000000070%"), (1, "0.0000000000010%")] {
            let rate = rate_with_interval(clicks, crate::limits::MAX_COUNT);
            assert!(rate.starts_with(shown), "{rate}");
        }
    }
}
