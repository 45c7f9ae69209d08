//! Impressions: how many times the brand's content was shown, counting repeat views.
//!
//! With followers, impressions per follower = impressions / followers, which makes accounts of
//! different sizes comparable. Impressions add up over a period.

use super::prelude::*;

pub struct Impressions;

const SERIES: &[Series] = &[Series::sum("impressions"), Series::last("followers")];

impl Plugin for Impressions {
    fn command(&self) -> CommandSpec {
        metric_command(
            "impressions",
            "Impressions, and impressions per follower",
            vec![
                OptionSpec::count("impressions", "Times the content was shown").required(),
                OptionSpec::count(
                    "followers",
                    "Followers, to compute impressions per follower",
                ),
            ],
        )
    }

    fn series(&self) -> &[Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "Impressions"
    }

    fn unit(&self) -> Unit {
        Unit::Count
    }

    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        totals.get("impressions").map(count_summary)
    }

    fn calculate(&self, options: &Options, _: &History) -> Result<Calculation, UserError> {
        let impressions = options.required_integer("impressions")?;
        let mut store = vec![("impressions", impressions)];
        let mut fields = Vec::new();
        let mut formula = "impressions as reported by the platform".to_string();
        if let Some(followers) = options.integer("followers") {
            let per_follower = ratio(impressions, followers).ok_or(UserError::ZeroDenominator {
                option: "followers",
                reason: "impressions per follower needs at least one follower",
            })?;
            fields.push(Field::inline("Per follower", format!("{per_follower:.2}")));
            formula = format!(
                "impressions / followers = {} / {}",
                thousands(impressions),
                thousands(followers)
            );
            store.push(("followers", followers));
        }
        Ok(Calculation {
            headline: format!("Impressions {}", thousands(impressions)),
            formula,
            fields,
            notes: Vec::new(),
            store,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn impressions_per_follower() {
        let result = calculate(&Impressions, "impressions:12500 followers:5000").unwrap();
        assert_eq!(result.headline, "Impressions 12,500");
        assert_eq!(result.fields[0].value, "2.50");
        assert_eq!(
            result.store,
            vec![("impressions", 12_500), ("followers", 5_000)]
        );
    }

    #[test]
    fn zero_followers_is_refused() {
        let err = calculate(&Impressions, "impressions:10 followers:0").unwrap_err();
        assert!(
            err.to_string().starts_with("`followers` must be above 0"),
            "{err}"
        );
    }
}
