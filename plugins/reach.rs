//! Reach: how many different people saw the content, each counted once.
//!
//! With impressions, frequency = impressions / reach: how often each person saw it on average.
//! Reach is not additive: someone reached on Monday and Tuesday is one person, not two. Over a
//! period metricord reports the largest single day's reach, the one figure the daily numbers
//! guarantee (the period's unique reach is at least that).

use super::prelude::*;

pub struct Reach;

const SERIES: &[Series] = &[Series::max("reach"), Series::sum("impressions")];

impl Plugin for Reach {
    fn command(&self) -> CommandSpec {
        metric_command(
            "reach",
            "Unique people reached, and frequency = impressions / reach",
            vec![
                OptionSpec::count("reach", "Different people who saw the content").required(),
                OptionSpec::count("impressions", "Times it was shown, to compute frequency"),
            ],
        )
    }

    fn series(&self) -> &[Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "Reach"
    }

    fn unit(&self) -> Unit {
        Unit::Count
    }

    /// The period's largest daily reach; its text says so, since it is a lower bound. Across
    /// platforms it is the largest day of the platforms' daily sums.
    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        let reach = totals.get("reach")?;
        let mut summary = count_summary(reach);
        summary.text = format!("{} (largest daily figure)", thousands(reach));
        Some(summary)
    }

    fn calculate(&self, options: &Options, _: &History) -> Result<Calculation, UserError> {
        let reach = options.required_integer("reach")?;
        let mut store = vec![("reach", reach)];
        let mut fields = Vec::new();
        let mut notes = Vec::new();
        let mut formula = "unique people reached".to_string();
        if let Some(impressions) = options.integer("impressions") {
            let frequency = ratio(impressions, reach).ok_or(UserError::ZeroDenominator {
                option: "reach",
                reason: "frequency needs at least one person reached",
            })?;
            fields.push(Field::inline("Frequency", format!("{frequency:.2}")));
            formula = format!(
                "frequency = impressions / reach = {} / {}",
                thousands(impressions),
                thousands(reach)
            );
            if impressions < reach {
                notes.push(
                    "Fewer impressions than people reached: everyone reached saw it at least once. Check the inputs."
                        .to_string(),
                );
            }
            store.push(("impressions", impressions));
        }
        Ok(Calculation {
            headline: format!("Reach {}", thousands(reach)),
            formula,
            fields,
            notes,
            store,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn a_hundred_views_by_eighty_people_is_frequency_one_and_a_quarter() {
        let result = calculate(&Reach, "reach:80 impressions:100").unwrap();
        assert_eq!(result.headline, "Reach 80");
        assert_eq!(result.fields[0].value, "1.25");
        assert!(result.notes.is_empty());
    }

    #[test]
    fn fewer_impressions_than_reach_is_flagged() {
        let result = calculate(&Reach, "reach:80 impressions:40").unwrap();
        assert_eq!(result.fields[0].value, "0.50");
        assert_eq!(result.notes.len(), 1);
    }

    #[test]
    fn zero_reach_with_impressions_is_refused() {
        assert!(calculate(&Reach, "reach:0 impressions:10").is_err());
        assert_eq!(calculate(&Reach, "reach:0").unwrap().headline, "Reach 0");
    }
}
