//! Mentions: how often people named the brand, and its share of voice among the brands tracked.
//!
//! Share of voice = the brand's mentions / the mentions of its competitive set on the same day
//! and platform × 100, where the set is the brands sharing a landscape with it (every brand of
//! the server while it is in none). It appears once another brand has mentions logged for that
//! day. Mentions add up over a period.

use super::prelude::*;

pub struct Mentions;

const SERIES: &[Series] = &[Series::sum("mentions")];

impl Plugin for Mentions {
    fn command(&self) -> CommandSpec {
        metric_command(
            "mentions",
            "Mentions of the brand, and its share of voice among tracked brands",
            vec![
                OptionSpec::count("mentions", "Posts and comments that named the brand").required(),
            ],
        )
    }

    fn series(&self) -> &[Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "Mentions"
    }

    fn unit(&self) -> Unit {
        Unit::Count
    }

    /// How much the brand is talked about, after how large and how engaged its audience is.
    fn lead_rank(&self) -> Option<u8> {
        Some(3)
    }

    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        totals.get("mentions").map(count_summary)
    }

    fn needs(&self) -> HistoryNeeds {
        HistoryNeeds {
            previous: &[],
            peers: &["mentions"],
        }
    }

    fn calculate(&self, options: &Options, history: &History) -> Result<Calculation, UserError> {
        let mentions = options.required_integer("mentions")?;
        let mut fields = Vec::new();
        let mut formula = "mentions counted by your listening tool".to_string();
        if let Some(&(others, brands)) = history.peers.get("mentions") {
            let all = mentions.saturating_add(others);
            if let Some(share) = ratio(mentions, all) {
                formula = format!(
                    "share of voice = brand mentions / all tracked mentions × 100 = {} / {} × 100",
                    thousands(mentions),
                    thousands(all)
                );
                let with = if brands == 1 { "brand" } else { "brands" };
                fields.push(Field::new(
                    "Share of voice",
                    format!("{} (against {brands} other {with})", percent(share * 100.0)),
                ));
            }
        }
        Ok(Calculation {
            headline: format!("Mentions {}", thousands(mentions)),
            formula,
            fields,
            notes: Vec::new(),
            store: vec![("mentions", mentions)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::{calculate, calculate_with};

    #[test]
    fn share_of_voice_appears_once_competitors_have_data() {
        assert!(
            calculate(&Mentions, "mentions:40")
                .unwrap()
                .fields
                .is_empty()
        );
        let mut history = History::default();
        history.peers.insert("mentions", (60, 2));
        let result = calculate_with(&Mentions, "mentions:40", &history).unwrap();
        assert_eq!(result.fields[0].value, "40.0% (against 2 other brands)");
    }

    #[test]
    fn no_mentions_anywhere_gives_no_share() {
        let mut history = History::default();
        history.peers.insert("mentions", (0, 1));
        assert!(
            calculate_with(&Mentions, "mentions:0", &history)
                .unwrap()
                .fields
                .is_empty()
        );
    }
}
