//! Conversion rate: the share of visitors who did what the campaign asked (bought, signed up).
//!
//! Conversion rate = conversions / visitors × 100; over a period, total conversions / total
//! visitors.

use super::prelude::*;

pub struct ConversionRate;

const SERIES: &[Series] = &[
    Series {
        name: "conversions",
        aggregate: Aggregate::Sum,
    },
    Series {
        name: "visitors",
        aggregate: Aggregate::Sum,
    },
];

impl Plugin for ConversionRate {
    fn name(&self) -> &'static str {
        "conversion-rate"
    }

    fn command(&self) -> CommandSpec {
        metric_command(
            "conversion-rate",
            "Conversion rate: conversions / visitors × 100",
            vec![
                OptionSpec::count("conversions", "Visitors who converted (bought, signed up)")
                    .required(),
                OptionSpec::count("visitors", "Visitors who arrived from social").required(),
            ],
        )
    }

    fn series(&self) -> &'static [Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "Conversion rate"
    }

    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        rate_summary(totals.get("conversions"), totals.get("visitors"))
    }

    fn calculate(&self, options: &Options, _: &History) -> Result<Calculation, UserError> {
        proportion(
            "Conversion rate",
            ("conversions", options.required_integer("conversions")?),
            ("visitors", options.required_integer("visitors")?),
            "a conversion rate needs at least one visitor",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn two_hundred_conversions_of_a_thousand_visitors_is_twenty_percent() {
        let result = calculate(&ConversionRate, "conversions:200 visitors:1000").unwrap();
        assert_eq!(
            result.headline,
            "Conversion rate 20.0% (95% CI 17.6-22.6%, n=1,000)"
        );
    }

    #[test]
    fn zero_visitors_is_refused() {
        let err = calculate(&ConversionRate, "conversions:3 visitors:0").unwrap_err();
        assert!(
            err.to_string().starts_with("`visitors` must be above 0"),
            "{err}"
        );
    }
}
