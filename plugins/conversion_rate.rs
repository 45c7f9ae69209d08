//! Conversion rate: the share of visitors who did what the campaign asked (bought, signed up).
//!
//! Conversion rate = conversions / visitors × 100; over a period, total conversions / total
//! visitors.

use super::prelude::*;

pub const CONVERSION_RATE: Proportion = Proportion {
    command: "conversion-rate",
    description: "Conversion rate: conversions / visitors × 100",
    label: "Conversion rate",
    series: [Series::sum("conversions"), Series::sum("visitors")],
    inputs: [
        "Visitors who converted (bought, signed up)",
        "Visitors who arrived from social",
    ],
    why_whole_above_zero: "a conversion rate needs at least one visitor",
    measures: Measure::AllLogged,
    lead_rank: None,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn two_hundred_conversions_of_a_thousand_visitors_is_twenty_percent() {
        let result = calculate(&CONVERSION_RATE, "conversions:200 visitors:1000").unwrap();
        assert_eq!(
            result.headline,
            "Conversion rate 20.0% (95% CI 17.6-22.6%, n=1,000)"
        );
    }

    #[test]
    fn zero_visitors_is_refused() {
        let err = calculate(&CONVERSION_RATE, "conversions:3 visitors:0").unwrap_err();
        assert!(
            err.to_string().starts_with("`visitors` must be above 0"),
            "{err}"
        );
    }
}
