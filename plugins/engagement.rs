//! Engagements, split the way Avinash Kaushik's social metrics split them: applause (likes and
//! reactions), conversation (replies and comments) and amplification (shares and reposts).
//!
//! Total engagements = applause + conversation + amplification, with each kind's share of the
//! total: amplification carries a post to new audiences, so its share matters more than its size.
//! Each kind adds up over a period.

use super::prelude::*;

pub struct Engagement;

const KINDS: [&str; 3] = ["applause", "conversation", "amplification"];

const SERIES: &[Series] = &[
    Series::sum("applause"),
    Series::sum("conversation"),
    Series::sum("amplification"),
];

impl Plugin for Engagement {
    fn command(&self) -> CommandSpec {
        metric_command(
            "engagement",
            "Engagements: applause, conversation and amplification, and each one's share",
            vec![
                OptionSpec::count("applause", "Likes and reactions").required(),
                OptionSpec::count("conversation", "Replies and comments").required(),
                OptionSpec::count("amplification", "Shares and reposts").required(),
            ],
        )
    }

    fn series(&self) -> &[Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "Engagements"
    }

    fn unit(&self) -> Unit {
        Unit::Count
    }

    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        let parts: Vec<(&'static str, i64)> = KINDS
            .iter()
            .filter_map(|kind| totals.get(kind).map(|n| (*kind, n)))
            .collect();
        if parts.is_empty() {
            return None;
        }
        let total = parts
            .iter()
            .fold(0_i64, |sum, (_, n)| sum.saturating_add(*n));
        let mut summary = count_summary(total);
        summary.parts = parts;
        Some(summary)
    }

    fn calculate(&self, options: &Options, _: &History) -> Result<Calculation, UserError> {
        let mut store = Vec::new();
        for kind in KINDS {
            store.push((kind, options.required_integer(kind)?));
        }
        // Each count is at most 2^53 - 1, so three of them fit an i64.
        let total: i64 = store.iter().map(|(_, n)| n).sum();
        let fields = store
            .iter()
            .map(|(kind, n)| {
                let share = ratio(*n, total)
                    .map(|s| percent(s * 100.0))
                    .unwrap_or_else(|| "-".to_string());
                Field::inline(capitalised(kind), format!("{} ({share})", thousands(*n)))
            })
            .collect();
        Ok(Calculation {
            headline: format!("Engagements {}", thousands(total)),
            formula: format!(
                "applause + conversation + amplification = {}",
                store
                    .iter()
                    .map(|(_, n)| thousands(*n))
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
            fields,
            notes: Vec::new(),
            store,
        })
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn engagements_add_up_and_each_kind_has_its_share() {
        let result = calculate(
            &Engagement,
            "applause:700 conversation:100 amplification:200",
        )
        .unwrap();
        assert_eq!(result.headline, "Engagements 1,000");
        let values: Vec<_> = result.fields.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(values, ["700 (70.0%)", "100 (10.0%)", "200 (20.0%)"]);
        assert_eq!(result.fields[2].name, "Amplification");
    }

    #[test]
    fn no_engagements_at_all_has_no_shares() {
        let result = calculate(&Engagement, "applause:0 conversation:0 amplification:0").unwrap();
        assert_eq!(result.fields[0].value, "0 (-)");
    }
}
