//! Potential reach of mentions: how many people could have seen the posts that named the brand.
//!
//! Potential reach = the sum of the followers of every account that mentioned the brand. It is an
//! upper bound (followers overlap and few see every post), so the largest contributor is named:
//! one big account often makes the whole figure. It adds up over a period.

use super::prelude::*;

pub struct PotentialReach;

const SERIES: &[Series] = &[Series {
    name: "potential_reach",
    aggregate: Aggregate::Sum,
}];

const ACCEPTS: &str =
    "a list of follower counts separated by commas or spaces, such as `1300000, 250000, 4.2K`";

impl Plugin for PotentialReach {
    fn name(&self) -> &'static str {
        "potential-reach"
    }

    fn command(&self) -> CommandSpec {
        metric_command(
            "potential-reach",
            "Potential reach: the followers of every account that mentioned the brand",
            vec![
                OptionSpec::new(
                    "followers",
                    "Followers of each mentioning account, e.g. 1300000, 250000, 4.2K",
                    Kind::Text { max_len: 1000 },
                )
                .required(),
            ],
        )
    }

    fn series(&self) -> &'static [Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "Potential reach"
    }

    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        totals.get("potential_reach").map(count_summary)
    }

    fn calculate(&self, options: &Options, _: &History) -> Result<Calculation, UserError> {
        let invalid = || UserError::InvalidOption {
            option: "followers",
            accepts: ACCEPTS.to_string(),
        };
        let list = options.text("followers").ok_or_else(invalid)?;
        let counts = list
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .map(|item| crate::numbers::parse_count(item).ok_or_else(invalid))
            .collect::<Result<Vec<i64>, _>>()?;
        let total = counts
            .iter()
            .try_fold(0_i64, |sum, n| {
                sum.checked_add(*n)
                    .filter(|s| *s <= crate::command::MAX_COUNT)
            })
            .ok_or_else(invalid)?;
        let largest = counts.iter().copied().max().ok_or_else(invalid)?;
        let accounts = counts.len();
        let mut fields = vec![Field::inline("Accounts", thousands(accounts as i64))];
        if let Some(share) = ratio(largest, total) {
            fields.push(Field::inline(
                "Largest contributor",
                format!(
                    "{} followers ({} of the total)",
                    thousands(largest),
                    percent(share * 100.0)
                ),
            ));
        }
        Ok(Calculation {
            headline: format!("Potential reach {} ({})", thousands(total), short(total)),
            formula: format!("sum of the followers of {accounts} mentioning accounts"),
            fields,
            notes: Vec::new(),
            store: vec![("potential_reach", total)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn potential_reach_sums_followers_and_names_the_largest() {
        let result = calculate(&PotentialReach, r#"followers:"1300000, 250000, 4.2K""#).unwrap();
        assert_eq!(result.headline, "Potential reach 1,554,200 (1.6M)");
        assert_eq!(result.fields[0].value, "3");
        assert_eq!(
            result.fields[1].value,
            "1,300,000 followers (83.6% of the total)"
        );
        assert_eq!(result.store, vec![("potential_reach", 1_554_200)]);
    }

    #[test]
    fn junk_in_the_list_is_refused_with_an_example() {
        for junk in [
            "1000, lots",
            "-5",
            ",,,",
            "1,300,000.5.5",
            "9007199254740991, 1",
        ] {
            let err = calculate(&PotentialReach, &format!("followers:\"{junk}\"")).unwrap_err();
            assert!(
                err.to_string().contains("1300000, 250000, 4.2K"),
                "{junk}: {err}"
            );
        }
    }
}
