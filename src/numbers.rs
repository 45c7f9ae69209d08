//! Arithmetic that metrics share, and how numbers are written for people.
//!
//! Rates come with a 95% Wilson score interval, because a team comparing a 20% CTR on 100
//! impressions with an 18% CTR on 120 is usually comparing noise; the interval is shown only when
//! it is wide enough to change what the rounded figure says. Changes from zero read "new" rather
//! than an infinite percentage. Counts are written with thousands separators, large ones also in
//! short form (27.3K).

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

/// A rate as a percentage, with its Wilson interval when the sample is small enough for it to
/// matter, that is when the interval reaches at least 0.05 points either side and so changes the
/// figure at one decimal: `20.0% (95% CI 13.3-28.9%, n=100)`.
pub fn rate_with_interval(successes: i64, trials: i64) -> String {
    let rate = ratio(successes, trials).unwrap_or(0.0) * 100.0;
    let places = decimal_places(rate);
    match wilson(successes, trials) {
        Some((low, high)) if (high - low) * 100.0 / 2.0 >= 0.05 => format!(
            "{rate:.places$}% (95% CI {:.places$}-{:.places$}%, n={})",
            low * 100.0,
            high * 100.0,
            thousands(trials)
        ),
        _ => format!("{rate:.places$}%"),
    }
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
        // Two significant digits however small: 0.0033%, never 0.000%.
        v => ((-v.log10()).ceil() as usize + 1).min(9),
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

/// Reads a count written for people: `1300000`, `4.2K`, `1.3M`, `2B`. No thousands separators,
/// since a comma separates items in a list.
pub fn parse_count(text: &str) -> Option<i64> {
    let text = text.trim();
    let (number, scale) = match text.char_indices().last()? {
        (i, 'k' | 'K') => (&text[..i], 1e3),
        (i, 'm' | 'M') => (&text[..i], 1e6),
        (i, 'b' | 'B') => (&text[..i], 1e9),
        _ => (text, 1.0),
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value = (number.parse::<f64>().ok()? * scale).round();
    (value.is_finite() && value <= crate::limits::MAX_COUNT as f64).then_some(value as i64)
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
        assert_eq!(rate_with_interval(20_000, 1_000_000), "2.00%");
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
    fn counts_are_written_and_read_the_way_people_write_them() {
        assert_eq!(thousands(1_300_000), "1,300,000");
        assert_eq!(thousands(-999), "-999");
        assert_eq!(thousands(0), "0");
        assert_eq!(short(27_300), "27.3K");
        assert_eq!(parse_count("4.2K"), Some(4_200));
        assert_eq!(parse_count(" 1300000 "), Some(1_300_000));
        assert_eq!(parse_count("1.3m"), Some(1_300_000));
        for junk in ["", "K", "-5", "1,000", "NaN", "inf", "1e9", "99999999999B"] {
            assert_eq!(parse_count(junk), None, "{junk}");
        }
    }
}
