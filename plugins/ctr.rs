//! Click-through rate (CTR): the share of the times a post or ad was shown that led to a click.
//!
//! CTR = clicks / impressions × 100. Over a period it is total clicks / total impressions, a
//! ratio of sums, never the mean of daily rates, which would weigh a quiet day like a busy one.

use super::prelude::*;

pub const CTR: Proportion = Proportion {
    command: "ctr",
    description: "Click-through rate: clicks / impressions × 100",
    label: "CTR",
    series: [Series::sum("clicks"), Series::sum("impressions")],
    inputs: ["Clicks on the link, post or ad", "Times it was shown"],
    why_whole_above_zero: "a click-through rate needs at least one impression",
    measures: Measure::AllLogged,
    lead_rank: None,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn twenty_clicks_on_a_hundred_impressions_is_twenty_percent() {
        let result = calculate(&CTR, "clicks:20 impressions:100").unwrap();
        assert_eq!(result.headline, "CTR 20.0% (95% CI 13.3-28.9%, n=100)");
        assert_eq!(
            result.formula,
            "clicks / impressions × 100 = 20 / 100 × 100"
        );
        assert_eq!(result.store, vec![("clicks", 20), ("impressions", 100)]);
    }

    #[test]
    fn zero_impressions_is_refused_naming_the_option() {
        let err = calculate(&CTR, "clicks:0 impressions:0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`impressions` must be above 0: a click-through rate needs at least one impression."
        );
    }

    #[test]
    fn more_clicks_than_impressions_is_computed_and_flagged() {
        let result = calculate(&CTR, "clicks:150 impressions:100").unwrap();
        assert_eq!(result.headline, "CTR 150.0%");
        assert!(result.notes[0].starts_with("Above 100%"));
    }
}
