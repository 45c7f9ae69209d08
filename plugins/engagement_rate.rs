//! Engagement rate by follower: how much of the audience interacts with what the brand posts.
//!
//! ER = engagements / followers × 100, for one day's numbers. Over a period it is the daily
//! rate of the period as a whole: the period's engagements over the followers at its end times
//! the days with engagements logged, a ratio of sums over follower-days. So a month's rate reads
//! like a day's and like the benchmarks, instead of growing with the length of the period.

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
        let days = totals.days("engagements").unwrap_or(1).max(1);
        let follower_days = totals.get("followers")?.checked_mul(days)?;
        rate_summary(totals.get("engagements"), Some(follower_days))
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
    fn over_a_period_the_rate_is_per_day_and_does_not_grow_with_its_length() {
        let mut week = Totals::default();
        week.insert("engagements", 7_000, 7);
        week.insert("followers", 50_000, 7);
        let summary = EngagementRate.summarize(&week).unwrap();
        assert_eq!(summary.value, 2.0);
        let mut day = Totals::default();
        day.insert("engagements", 1_000, 1);
        day.insert("followers", 50_000, 1);
        assert_eq!(EngagementRate.summarize(&day).unwrap().value, 2.0);
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
