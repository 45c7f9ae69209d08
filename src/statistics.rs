//! The arithmetic behind alerts and goals, as plain functions over numbers: median, MAD and the
//! robust z of a day against its trailing weeks, a goal's pacing line, and the projection of a
//! series at its recent trend. Nothing here knows a brand, a database or a day of the week, so
//! each formula is tested against hand-worked numbers.

/// The factor that makes the MAD of normally distributed data estimate its standard deviation.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// The smallest scale a robust z divides by, as a share of the median's size: on a series that
/// barely moves (MAD 0, or near it) a change must exceed `k` times 1% of its usual level to count.
pub const RELATIVE_FLOOR: f64 = 0.01;

/// The median of `values`; `None` when there are none (or any is NaN).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

/// The median absolute deviation from the median.
pub fn mad(values: &[f64]) -> Option<f64> {
    let centre = median(values)?;
    let deviations: Vec<f64> = values.iter().map(|v| (v - centre).abs()).collect();
    median(&deviations)
}

/// How far a value stands from its history, robustly: the numbers `/alert test` shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Robust {
    pub median: f64,
    pub mad: f64,
    /// What the distance is divided by: 1.4826 x MAD, or the floor when that is smaller.
    pub scale: f64,
    pub z: f64,
}

/// The robust z of `value` against `history`: (value - median) / scale, where scale is
/// 1.4826 x MAD, but never below [`RELATIVE_FLOOR`] of the median's size nor below `unit_floor`
/// (the smallest change the metric can show, such as one follower). Without that floor a flat
/// series (MAD 0) would make any change at all infinitely surprising.
pub fn robust_z(value: f64, history: &[f64], unit_floor: f64) -> Option<Robust> {
    let median = median(history)?;
    let mad = mad(history)?;
    let scale = (MAD_TO_SIGMA * mad)
        .max(RELATIVE_FLOOR * median.abs())
        .max(unit_floor);
    if !value.is_finite() || scale <= 0.0 || !scale.is_finite() {
        return None;
    }
    Some(Robust {
        median,
        mad,
        scale,
        z: (value - median) / scale,
    })
}

/// Where a goal's pace says the value should be `elapsed` days into `duration`: the straight
/// line from `start` to `target`, held at the ends before the start and after the deadline.
pub fn expected(start: f64, target: f64, elapsed: i64, duration: i64) -> f64 {
    if duration <= 0 {
        return target;
    }
    let share = (elapsed as f64 / duration as f64).clamp(0.0, 1.0);
    start + (target - start) * share
}

/// The least-squares line through `(day number, value)` points, as `(slope per day, value at
/// day 0)`; `None` with fewer than two distinct days.
pub fn linear_fit(points: &[(i64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|(x, _)| *x as f64).sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, y)| *y).sum::<f64>() / n;
    let sxx: f64 = points
        .iter()
        .map(|(x, _)| (*x as f64 - mean_x).powi(2))
        .sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points
        .iter()
        .map(|(x, y)| (*x as f64 - mean_x) * (y - mean_y))
        .sum();
    let slope = sxy / sxx;
    Some((slope, mean_y - slope * mean_x))
}

/// Fewest daily values a projection is made from, and the fewest days they must span: a line
/// through less says more about noise than about a trend.
pub const PROJECTION_POINTS: usize = 7;

/// The value the trend of `points` (day number, value) reaches on day `at`; `None` when the
/// points are too few or too close together to show a trend.
pub fn project(points: &[(i64, f64)], at: i64) -> Option<f64> {
    let first = points.iter().map(|(x, _)| *x).min()?;
    let last = points.iter().map(|(x, _)| *x).max()?;
    if points.len() < PROJECTION_POINTS || last - first + 1 < PROJECTION_POINTS as i64 {
        return None;
    }
    let (slope, intercept) = linear_fit(points)?;
    let value = intercept + slope * at as f64;
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad_of_odd_and_even_counts() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
        // Median 4; deviations 3, 1, 1, 0, 5 -> median 1.
        assert_eq!(mad(&[1.0, 5.0, 3.0, 4.0, 9.0]), Some(1.0));
    }

    #[test]
    fn robust_z_divides_by_the_scaled_mad() {
        // median 100, deviations 0,10,10,20,20 -> MAD 10, scale 14.826; (160-100)/14.826.
        let r = robust_z(160.0, &[100.0, 90.0, 110.0, 80.0, 120.0], 1.0).unwrap();
        assert_eq!((r.median, r.mad), (100.0, 10.0));
        assert!((r.scale - 14.826).abs() < 1e-9);
        assert!((r.z - 4.0469).abs() < 1e-3, "{}", r.z);
    }

    #[test]
    fn a_flat_series_uses_the_one_percent_floor_not_a_zero_scale() {
        let flat = [1000.0; 20];
        let small = robust_z(1001.0, &flat, 1.0).unwrap();
        assert_eq!((small.mad, small.scale), (0.0, 10.0));
        assert!((small.z - 0.1).abs() < 1e-12);
        let large = robust_z(1100.0, &flat, 1.0).unwrap();
        assert!((large.z - 10.0).abs() < 1e-12);
        // At zero the unit floor holds: three mentions after weeks of none is z = 3.
        let zero = robust_z(3.0, &[0.0; 20], 1.0).unwrap();
        assert_eq!(zero.z, 3.0);
    }

    #[test]
    fn pacing_at_the_start_middle_end_and_beyond() {
        assert_eq!(expected(10_000.0, 15_000.0, 0, 100), 10_000.0);
        assert_eq!(expected(10_000.0, 15_000.0, 50, 100), 12_500.0);
        assert_eq!(expected(10_000.0, 15_000.0, 100, 100), 15_000.0);
        assert_eq!(expected(10_000.0, 15_000.0, 130, 100), 15_000.0);
        assert_eq!(expected(10_000.0, 15_000.0, -5, 100), 10_000.0);
        // A decrease: cost from 8 down to 5 over 30 days is 7 after 10.
        assert_eq!(expected(8.0, 5.0, 10, 30), 7.0);
    }

    #[test]
    fn projection_follows_the_least_squares_line_and_refuses_too_little_data() {
        let rising: Vec<(i64, f64)> = (0..10).map(|d| (d, 100.0 + 5.0 * d as f64)).collect();
        assert_eq!(linear_fit(&rising), Some((5.0, 100.0)));
        assert_eq!(project(&rising, 30), Some(250.0));
        assert_eq!(project(&rising[..6], 30), None);
        let crowded: Vec<(i64, f64)> = (0..8).map(|i| (i % 3, 1.0)).collect();
        assert_eq!(project(&crowded, 30), None);
    }
}
