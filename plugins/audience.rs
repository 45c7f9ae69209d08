//! Audience size and growth: how many followers the brand has, and how fast that changes.
//!
//! Growth rate = (followers at the end - followers at the start) / followers at the start × 100.
//! The start is the `previous` option when given; with a brand and no `previous`, the last
//! value stored for that brand and platform. Followers are a stock, not a flow: over a period the
//! audience is the value at the period's end.

use super::prelude::*;

pub struct Audience;

const SERIES: &[Series] = &[Series::last("followers")];

impl Plugin for Audience {
    fn command(&self) -> CommandSpec {
        metric_command(
            "audience",
            "Audience size, and its growth rate against an earlier count",
            vec![
                OptionSpec::count("followers", "Followers now").required(),
                OptionSpec::count("previous", "Followers at the start, to compute growth"),
            ],
        )
    }

    fn series(&self) -> &[Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "Audience"
    }

    fn unit(&self) -> Unit {
        Unit::Count
    }

    /// How large the audience is: the first thing a summary of many brands says.
    fn lead_rank(&self) -> Option<u8> {
        Some(1)
    }

    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        totals.get("followers").map(count_summary)
    }

    fn needs(&self) -> HistoryNeeds {
        HistoryNeeds {
            previous: &["followers"],
            peers: &[],
        }
    }

    fn calculate(&self, options: &Options, history: &History) -> Result<Calculation, UserError> {
        let followers = options.required_integer("followers")?;
        let start = match options.integer("previous") {
            Some(previous) => Some(("the given start".to_string(), previous)),
            None => history
                .previous
                .get("followers")
                .map(|(day, value)| (format!("{day}"), *value)),
        };
        let mut fields = Vec::new();
        let formula = match &start {
            Some((since, previous)) => {
                fields.push(Field::new(
                    format!("Growth since {since}"),
                    change(*previous, followers),
                ));
                format!(
                    "(end - start) / start × 100 = ({} - {}) / {} × 100",
                    thousands(followers),
                    thousands(*previous),
                    thousands(*previous)
                )
            }
            None => "followers at the end of the day".to_string(),
        };
        Ok(Calculation {
            headline: format!("Audience {}", thousands(followers)),
            formula,
            fields,
            notes: Vec::new(),
            store: vec![("followers", followers)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::{calculate, calculate_with};
    use chrono::NaiveDate;

    #[test]
    fn a_hundred_thousand_followers_gaining_five_thousand_is_five_percent_growth() {
        let result = calculate(&Audience, "followers:105000 previous:100000").unwrap();
        assert_eq!(result.headline, "Audience 105,000");
        assert_eq!(result.fields[0].value, "+5,000 (+5.00%)");
        assert_eq!(result.store, vec![("followers", 105_000)]);
    }

    #[test]
    fn growth_from_zero_reads_new() {
        let result = calculate(&Audience, "followers:40 previous:0").unwrap();
        assert_eq!(result.fields[0].value, "new (+40)");
    }

    #[test]
    fn without_previous_growth_is_against_the_last_stored_value() {
        let mut history = History::default();
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        history.previous.insert("followers", (day, 200));
        let result = calculate_with(&Audience, "followers:150", &history).unwrap();
        assert_eq!(result.fields[0].name, "Growth since 2026-11-01");
        assert_eq!(result.fields[0].value, "-50 (-25.0%)");
    }

    #[test]
    fn without_any_start_there_is_no_growth_line() {
        assert!(
            calculate(&Audience, "followers:150")
                .unwrap()
                .fields
                .is_empty()
        );
    }
}
