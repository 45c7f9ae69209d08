//! Engagement rate by follower: how much of the audience interacts with what the brand posts.
//!
//! ER = engagements / followers × 100, for one day's numbers. Over a period it is the daily
//! rate of the period as a whole: the period's engagements over the followers at its end times
//! the days with engagements logged, a ratio of sums over follower-days. So a month's rate reads
//! like a day's and like the benchmarks, instead of growing with the length of the period.
//! That follows from followers being a stock (aggregated as the last value): a proportion whose
//! whole is a stock counts it once per day with data.

use super::prelude::*;

pub const ENGAGEMENT_RATE: Proportion = Proportion {
    command: "engagement-rate",
    description: "Engagement rate by follower: engagements / followers × 100",
    label: "Engagement rate",
    series: [Series::sum("engagements"), Series::last("followers")],
    inputs: [
        "Likes, comments, shares and saves, added up",
        "Followers of the account",
    ],
    why_whole_above_zero: "a rate by follower needs at least one follower",
    measures: Measure::PerDay,
    // How engaged the audience is: the second thing a manager asks after how large it is.
    lead_rank: Some(2),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn ten_thousand_engagements_on_fifty_thousand_followers_is_twenty_percent() {
        let result = calculate(&ENGAGEMENT_RATE, "engagements:10000 followers:50000").unwrap();
        assert_eq!(
            result.headline,
            "Engagement rate 20.0% (95% CI 19.7-20.4%, n=50,000)"
        );
    }

    #[test]
    fn rates_on_large_accounts_show_an_interval_only_while_it_changes_the_figure() {
        // The second example reads "100,000 / 1,000,000 = 5%"; the quotient is 10%, and
        // 5% is 50,000 / 1,000,000. Both are pinned here.
        let result = calculate(&ENGAGEMENT_RATE, "engagements:100000 followers:1000000").unwrap();
        assert_eq!(
            result.headline,
            "Engagement rate 10.0% (95% CI 9.9-10.1%, n=1,000,000)"
        );
        let result = calculate(&ENGAGEMENT_RATE, "engagements:50000 followers:1000000").unwrap();
        assert_eq!(
            result.headline,
            "Engagement rate 5.00% (95% CI 4.96-5.04%, n=1,000,000)"
        );
        let result =
            calculate(&ENGAGEMENT_RATE, "engagements:5000000 followers:100000000").unwrap();
        assert_eq!(result.headline, "Engagement rate 5.00%");
    }

    #[test]
    fn over_a_period_the_rate_is_per_day_and_does_not_grow_with_its_length() {
        let mut week = Totals::default();
        week.insert("engagements", 7_000, 7);
        week.insert("followers", 50_000, 7);
        let summary = ENGAGEMENT_RATE.summarize(&week).unwrap();
        assert_eq!(summary.value, 2.0);
        let mut day = Totals::default();
        day.insert("engagements", 1_000, 1);
        day.insert("followers", 50_000, 1);
        assert_eq!(ENGAGEMENT_RATE.summarize(&day).unwrap().value, 2.0);
    }

    #[test]
    fn small_samples_show_their_interval() {
        let result = calculate(&ENGAGEMENT_RATE, "engagements:1990 followers:57200").unwrap();
        assert_eq!(
            result.headline,
            "Engagement rate 3.48% (95% CI 3.33-3.63%, n=57,200)"
        );
    }
}
