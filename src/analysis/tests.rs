//! The wording of changes, gaps and noise in the views.

use super::*;

fn summary(value: f64, interval: Option<(f64, f64)>) -> Summary {
    Summary {
        value,
        unit: Unit::Percent,
        text: String::new(),
        interval,
        parts: Vec::new(),
    }
}

#[test]
fn overlapping_intervals_are_noise_and_separate_ones_are_not() {
    let a = summary(3.0, Some((2.5, 3.5)));
    assert!(overlaps(&a, &summary(3.4, Some((3.2, 3.6)))));
    assert!(!overlaps(&a, &summary(4.0, Some((3.6, 4.4)))));
    assert!(!overlaps(&a, &summary(3.0, None)));
}

#[test]
fn gaps_and_changes_are_written_in_the_metrics_unit() {
    assert_eq!(gap_text(Unit::Percent, -0.471), "-0.47 pts");
    assert_eq!(gap_text(Unit::Count, 1234.4), "+1,234");
    assert_eq!(
        change_text(Some(&summary(2.0, None)), &summary(2.5, None)),
        "+0.50 pts"
    );
    assert_eq!(change_text(None, &summary(2.5, None)), "new");
}
