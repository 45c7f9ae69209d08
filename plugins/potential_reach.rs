//! Potential reach of mentions: how many people could have seen the posts that named the brand.
//!
//! Potential reach = the sum of the followers of every account that mentioned the brand. It is an
//! upper bound (followers overlap and few see every post), so the largest contributor is named:
//! one big account often makes the whole figure. It adds up over a period.

use super::prelude::*;

pub struct PotentialReach;

const SERIES: &[Series] = &[Series::sum("potential_reach")];

const ACCEPTS: &str = "a list of follower counts separated by commas or spaces, such as `1300000, 250000, 4.2K` or `1,300,000, 250,000`";

impl Plugin for PotentialReach {
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

    fn series(&self) -> &[Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "Potential reach"
    }

    fn unit(&self) -> Unit {
        Unit::Count
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
            .split(|c: char| c == ';' || c.is_whitespace())
            .flat_map(items)
            .map(|item| {
                crate::numbers::parse_count(item).map_err(|problem| UserError::InvalidCount {
                    option: "followers",
                    accepts: ACCEPTS.to_string(),
                    problem,
                })
            })
            .collect::<Result<Vec<i64>, _>>()?;
        let total = counts
            .iter()
            .try_fold(0_i64, |sum, n| {
                sum.checked_add(*n)
                    .filter(|s| *s <= crate::limits::MAX_COUNT)
            })
            .ok_or_else(|| UserError::InvalidOption {
                option: "followers",
                accepts: format!(
                    "{ACCEPTS}, adding up to at most {}",
                    thousands(crate::limits::MAX_COUNT)
                ),
            })?;
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
            headline: match short(total) {
                // Below a thousand the short form is the same figure.
                short_form if short_form == total.to_string() => {
                    format!("Potential reach {}", thousands(total))
                }
                short_form => format!("Potential reach {} ({short_form})", thousands(total)),
            },
            formula: format!(
                "sum of the followers of {accounts} mentioning account{}",
                if accounts == 1 { "" } else { "s" }
            ),
            fields,
            notes: Vec::new(),
            store: vec![("potential_reach", total)],
        })
    }
}

/// The counts in one space-separated chunk: `1,300,000` is one count with thousands separators
/// (three digits after each comma), `1300000,250000` is two, separated by a comma, and `1,5` is
/// neither. Each is then
/// read by [`crate::numbers::parse_count`], like any count.
fn items(chunk: &str) -> Vec<&str> {
    let chunk = chunk.trim_matches(',');
    let mut groups = chunk.split(',');
    let first = groups.next().unwrap_or_default();
    let rest: Vec<&str> = groups.collect();
    let grouped = !rest.is_empty()
        && (1..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_digit())
        && rest.iter().enumerate().all(|(i, group)| {
            let digits = group.chars().take_while(|c| c.is_ascii_digit()).count();
            digits == 3 && (i + 1 == rest.len() || group.len() == 3)
        });
    // One or two digits after a comma are a decimal comma (`1,5K`) as much as a list (`1,5`):
    // read as one count, which is refused with the reason.
    let decimal_comma = rest.iter().any(|group| {
        let digits = group.chars().take_while(|c| c.is_ascii_digit()).count();
        (1..=2).contains(&digits)
    });
    if grouped || decimal_comma {
        vec![chunk]
    } else {
        chunk.split(',').filter(|item| !item.is_empty()).collect()
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
        let small = calculate(&PotentialReach, "followers:17").unwrap();
        assert_eq!(small.headline, "Potential reach 17");
        assert_eq!(result.fields[0].value, "3");
        assert_eq!(
            result.fields[1].value,
            "1,300,000 followers (83.6% of the total)"
        );
        assert_eq!(result.store, vec![("potential_reach", 1_554_200)]);
    }

    #[test]
    fn thousands_separators_are_read_as_people_write_them() {
        let result = calculate(&PotentialReach, r#"followers:"1,300,000, 250,000, 4.2K""#).unwrap();
        assert_eq!(result.headline, "Potential reach 1,554,200 (1.6M)");
        let result = calculate(&PotentialReach, "followers:1300000,250000").unwrap();
        assert_eq!(result.fields[0].value, "2");
        let result = calculate(&PotentialReach, "followers:1,300,000.5K").unwrap();
        assert_eq!(result.store, vec![("potential_reach", 1_300_000_500)]);
    }

    #[test]
    fn junk_in_the_list_is_refused_with_an_example() {
        for junk in [
            "1000, lots",
            "-5",
            ",,,",
            "1,300,000.5.5",
            "99999999999999, 1",
            "1.5",
            "1,5",
            "12,50K",
        ] {
            let err = calculate(&PotentialReach, &format!("followers:\"{junk}\"")).unwrap_err();
            assert!(
                err.to_string().contains("1300000, 250000, 4.2K"),
                "{junk}: {err}"
            );
        }
    }
}
