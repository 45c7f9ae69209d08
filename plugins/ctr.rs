//! Click-through rate (CTR): the share of the times a post or ad was shown that led to a click.
//!
//! CTR = clicks / impressions × 100. Over a period it is total clicks / total impressions, a
//! ratio of sums, never the mean of daily rates, which would weigh a quiet day like a busy one.

use super::prelude::*;

pub struct Ctr;

const SERIES: &[Series] = &[
    Series {
        name: "clicks",
        aggregate: Aggregate::Sum,
    },
    Series {
        name: "impressions",
        aggregate: Aggregate::Sum,
    },
];

impl Plugin for Ctr {
    fn name(&self) -> &'static str {
        "ctr"
    }

    fn command(&self) -> CommandSpec {
        metric_command(
            "ctr",
            "Click-through rate: clicks / impressions × 100",
            vec![
                OptionSpec::count("clicks", "Clicks on the link, post or ad").required(),
                OptionSpec::count("impressions", "Times it was shown").required(),
            ],
        )
    }

    fn series(&self) -> &'static [Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "CTR"
    }

    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        rate_summary(totals.get("clicks"), totals.get("impressions"))
    }

    fn calculate(&self, options: &Options, _: &History) -> Result<Calculation, UserError> {
        proportion(
            "CTR",
            ("clicks", options.required_integer("clicks")?),
            ("impressions", options.required_integer("impressions")?),
            "a click-through rate needs at least one impression",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn twenty_clicks_on_a_hundred_impressions_is_twenty_percent() {
        let result = calculate(&Ctr, "clicks:20 impressions:100").unwrap();
        assert_eq!(result.headline, "CTR 20.0% (95% CI 13.3-28.9%, n=100)");
        assert_eq!(
            result.formula,
            "clicks / impressions × 100 = 20 / 100 × 100"
        );
        assert_eq!(result.store, vec![("clicks", 20), ("impressions", 100)]);
    }

    #[test]
    fn zero_impressions_is_refused_naming_the_option() {
        let err = calculate(&Ctr, "clicks:0 impressions:0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`impressions` must be above 0: a click-through rate needs at least one impression."
        );
    }

    #[test]
    fn more_clicks_than_impressions_is_computed_and_flagged() {
        let result = calculate(&Ctr, "clicks:150 impressions:100").unwrap();
        assert_eq!(result.headline, "CTR 150.0%");
        assert!(result.notes[0].starts_with("Above 100%"));
    }
}
