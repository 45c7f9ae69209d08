//! Engagement rate by follower: how much of the audience interacts with what the brand posts.
//!
//! ER = engagements / followers × 100. Over a period: the period's engagements over the
//! followers at its end, so a month's rate adds up that month's interactions.

use super::prelude::*;

pub struct EngagementRate;

const SERIES: &[Series] = &[
    Series {
        name: "engagements",
        aggregate: Aggregate::Sum,
    },
    Series {
        name: "followers",
        aggregate: Aggregate::Last,
    },
];

impl Plugin for EngagementRate {
    fn name(&self) -> &'static str {
        "engagement-rate"
    }

    fn command(&self) -> CommandSpec {
        metric_command(
            "engagement-rate",
            "Engagement rate by follower: engagements / followers × 100",
            vec![
                OptionSpec::count("engagements", "Likes, comments, shares and saves, added up")
                    .required(),
                OptionSpec::count("followers", "Followers of the account").required(),
            ],
        )
    }

    fn series(&self) -> &'static [Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "Engagement rate"
    }

    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        rate_summary(totals.get("engagements"), totals.get("followers"))
    }

    fn calculate(&self, options: &Options, _: &History) -> Result<Calculation, UserError> {
        proportion(
            "Engagement rate",
            ("engagements", options.required_integer("engagements")?),
            ("followers", options.required_integer("followers")?),
            "a rate by follower needs at least one follower",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn ten_thousand_engagements_on_fifty_thousand_followers_is_twenty_percent() {
        let result = calculate(&EngagementRate, "engagements:10000 followers:50000").unwrap();
        assert_eq!(
            result.headline,
            "Engagement rate 20.0% (95% CI 19.7-20.4%, n=50,000)"
        );
    }

    #[test]
    fn rates_on_large_accounts_show_an_interval_only_while_it_is_visible() {
        // The second example reads "100,000 / 1,000,000 = 5%"; the quotient is 10%, and
        // 5% is 50,000 / 1,000,000. Both are pinned here.
        let result = calculate(&EngagementRate, "engagements:100000 followers:1000000").unwrap();
        assert_eq!(
            result.headline,
            "Engagement rate 10.0% (95% CI 9.9-10.1%, n=1,000,000)"
        );
        let result = calculate(&EngagementRate, "engagements:50000 followers:1000000").unwrap();
        assert_eq!(result.headline, "Engagement rate 5.00%");
    }

    #[test]
    fn small_samples_show_their_interval() {
        let result = calculate(&EngagementRate, "engagements:1990 followers:57200").unwrap();
        assert_eq!(
            result.headline,
            "Engagement rate 3.48% (95% CI 3.33-3.63%, n=57,200)"
        );
    }
}
