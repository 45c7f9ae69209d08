//! Sentiment: whether people speak well or badly of the brand.
//!
//! From counts of positive, negative and (optionally) neutral mentions: the positive:negative
//! ratio, and net sentiment = (positive - negative) / all mentions × 100, from -100 (all
//! negative) to +100 (all positive). Counts add up over a period.
//!
//! Instead of counts, `text` scores one post with VADER, a lexicon-and-rules sentiment model built
//! for social media, scoring as the reference Python vaderSentiment 3.3.2 does (the
//! `vader-parity` crate; `tests/fixtures/vader_reference.json` holds the reference's own scores,
//! made by `scripts/vader_reference.py`). A single text is a calculator result and is not stored:
//! a day's sentiment is the counts, and one scored post would replace them.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

use vader_parity::{SentimentIntensityAnalyzer, SentimentScores};

use super::prelude::*;

pub struct Sentiment;

const SERIES: &[Series] = &[
    Series::sum("positive"),
    Series::sum("negative"),
    Series::sum("neutral"),
];

/// VADER's own cut-offs on its compound score for calling a text positive or negative.
const VADER_THRESHOLD: f64 = 0.05;

/// Built once: reading the lexicons takes milliseconds, scoring a post microseconds.
static ANALYZER: LazyLock<SentimentIntensityAnalyzer> =
    LazyLock::new(SentimentIntensityAnalyzer::new);

impl Plugin for Sentiment {
    fn command(&self) -> CommandSpec {
        metric_command(
            "sentiment",
            "Net sentiment from positive and negative mention counts, or a text to score",
            vec![
                OptionSpec::count("positive", "Mentions that spoke well of the brand"),
                OptionSpec::count("negative", "Mentions that spoke badly of it"),
                OptionSpec::count("neutral", "Mentions that were neither"),
                OptionSpec::new(
                    "text",
                    "A post or comment to score instead of counts",
                    Kind::Text { max_len: 4000 },
                ),
            ],
        )
    }

    fn series(&self) -> &[Series] {
        SERIES
    }

    fn label(&self) -> &'static str {
        "Net sentiment"
    }

    fn unit(&self) -> Unit {
        Unit::Score
    }

    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        let positive = totals.get("positive").unwrap_or(0);
        let negative = totals.get("negative").unwrap_or(0);
        let all = positive
            .saturating_add(negative)
            .saturating_add(totals.get("neutral").unwrap_or(0));
        let net = ratio(positive - negative, all)? * 100.0;
        Some(Summary {
            value: net,
            unit: Unit::Score,
            text: format!("{net:+.1} ({} mentions)", thousands(all)),
            interval: None,
            parts: Vec::new(),
        })
    }

    fn calculate(&self, options: &Options, _: &History) -> Result<Calculation, UserError> {
        let [positive, negative, neutral] =
            ["positive", "negative", "neutral"].map(|name| options.integer(name));
        let counted = positive.is_some() || negative.is_some() || neutral.is_some();
        match (options.text("text"), counted) {
            (Some(_), true) => Err(UserError::Exclusive {
                first: "text",
                second: "positive, negative or neutral",
            }),
            (Some(_), false) if options.text("brand").is_some() => Err(UserError::NotStored {
                option: "text",
                instead: "`positive` and `negative` counts",
            }),
            (Some(text), false) => score_text(text),
            // A count left out is none of that kind.
            (None, true) => from_counts(
                positive.unwrap_or(0),
                negative.unwrap_or(0),
                neutral.unwrap_or(0),
            ),
            (None, false) => Err(UserError::OneOf {
                first: "positive",
                second: "text",
            }),
        }
    }
}

fn from_counts(positive: i64, negative: i64, neutral: i64) -> Result<Calculation, UserError> {
    // Each count is at most 2^53 - 1, so the sum fits an i64.
    let total = positive + negative + neutral;
    let net = ratio(positive - negative, total).ok_or(UserError::ZeroDenominator {
        option: "positive",
        reason: "sentiment needs at least one positive, negative or neutral mention",
    })? * 100.0;
    let balance = match ratio(positive, negative) {
        Some(r) => format!("{r:.1}:1"),
        None => "no negative mentions".to_string(),
    };
    Ok(Calculation {
        headline: format!("Net sentiment {net:+.1}"),
        formula: format!(
            "(positive - negative) / all mentions × 100 = ({} - {}) / {} × 100",
            thousands(positive),
            thousands(negative),
            thousands(total)
        ),
        fields: vec![
            Field::inline("Positive : negative", balance),
            Field::inline("Mentions scored", thousands(total)),
        ],
        notes: Vec::new(),
        store: vec![
            ("positive", positive),
            ("negative", negative),
            ("neutral", neutral),
        ],
    })
}

/// The reference's four scores for a text: neg, neu and pos to 3 decimals, compound to 4.
fn scores(text: &str) -> Result<SentimentScores, UserError> {
    // The model promises to score any text without panicking; should some odd input prove it
    // wrong, that must refuse this one command, not end the process.
    catch_unwind(AssertUnwindSafe(|| ANALYZER.polarity_scores(text))).map_err(|_| {
        UserError::InvalidOption {
            option: "text",
            accepts: "ordinary text (this one could not be scored)".to_string(),
        }
    })
}

fn verdict(compound: f64) -> &'static str {
    if compound >= VADER_THRESHOLD {
        "positive"
    } else if compound <= -VADER_THRESHOLD {
        "negative"
    } else {
        "neutral"
    }
}

fn score_text(text: &str) -> Result<Calculation, UserError> {
    let scores = scores(text)?;
    let compound = scores.compound;
    Ok(Calculation {
        headline: format!(
            "Sentiment of the text: {} ({compound:+.2})",
            verdict(compound)
        ),
        formula: "VADER compound score, from -1 (most negative) to +1 (most positive); ±0.05 and beyond counts as positive or negative".to_string(),
        fields: vec![
            Field::inline("Positive", percent(scores.pos * 100.0)),
            Field::inline("Neutral", percent(scores.neu * 100.0)),
            Field::inline("Negative", percent(scores.neg * 100.0)),
        ],
        notes: Vec::new(),
        store: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_support::calculate;

    #[test]
    fn net_sentiment_and_ratio_from_counts() {
        let result = calculate(&Sentiment, "positive:60 negative:20 neutral:20").unwrap();
        assert_eq!(result.headline, "Net sentiment +40.0");
        assert_eq!(result.fields[0].value, "3.0:1");
        assert_eq!(
            result.store,
            vec![("positive", 60), ("negative", 20), ("neutral", 20)]
        );
    }

    #[test]
    fn no_negative_mentions_is_said_in_words() {
        let result = calculate(&Sentiment, "positive:5 negative:0").unwrap();
        assert_eq!(result.fields[0].value, "no negative mentions");
        assert_eq!(result.headline, "Net sentiment +100.0");
    }

    #[test]
    fn texts_are_scored_by_the_model() {
        let happy = calculate(
            &Sentiment,
            r#"text:"I love this brand, the service was great!""#,
        )
        .unwrap();
        assert!(
            happy
                .headline
                .starts_with("Sentiment of the text: positive"),
            "{}",
            happy.headline
        );
        let angry = calculate(
            &Sentiment,
            r#"text:"Terrible support, I hate waiting. Awful.""#,
        )
        .unwrap();
        assert!(
            angry
                .headline
                .starts_with("Sentiment of the text: negative"),
            "{}",
            angry.headline
        );
        assert!(happy.store.is_empty());
    }

    #[test]
    fn the_texts_the_old_model_misread_get_the_references_verdicts() {
        for (text, headline) in [
            (
                "The package arrived today!!!",
                "Sentiment of the text: neutral (+0.00)",
            ),
            (
                "No one liked it.",
                "Sentiment of the text: negative (-0.55)",
            ),
            (
                "That cake is to die for",
                "Sentiment of the text: negative (-0.60)",
            ),
            (
                "The food was at least good.",
                "Sentiment of the text: positive (+0.44)",
            ),
        ] {
            let result = calculate(&Sentiment, &format!("text:\"{text}\"")).unwrap();
            assert_eq!(result.headline, headline, "{text}");
        }
    }

    /// A text and its scores from the reference, Python vaderSentiment 3.3.2.
    #[derive(serde::Deserialize)]
    struct Reference {
        group: String,
        text: String,
        neg: f64,
        neu: f64,
        pos: f64,
        compound: f64,
        verdict: String,
    }

    #[derive(serde::Deserialize)]
    struct Fixture {
        reference: String,
        rows: Vec<Reference>,
    }

    /// Zero tolerance: the fixture holds the reference's published values, already rounded by
    /// Python's `round` (3 decimals, 4 for compound), and the plugin rounds the same way, so
    /// equal scores are the same f64. Any difference is a different digit in what a user reads.
    #[test]
    fn the_plugin_scores_every_reference_text_as_python_vader_does() {
        let fixture: Fixture =
            serde_json::from_str(include_str!("../tests/fixtures/vader_reference.json")).unwrap();
        assert_eq!(fixture.reference, "vaderSentiment 3.3.2");
        assert!(fixture.rows.len() >= 150, "{} texts", fixture.rows.len());
        let mut differing = Vec::new();
        for row in &fixture.rows {
            let ours = scores(&row.text).unwrap();
            let reply = score_text(&row.text).unwrap();
            let fields: Vec<&str> = reply.fields.iter().map(|f| f.value.as_str()).collect();
            let same_scores = (ours.neg, ours.neu, ours.pos, ours.compound)
                == (row.neg, row.neu, row.pos, row.compound);
            let same_reply = reply.headline
                == format!(
                    "Sentiment of the text: {} ({:+.2})",
                    row.verdict, row.compound
                )
                && fields == [row.pos, row.neu, row.neg].map(|v| percent(v * 100.0));
            if !(same_scores && same_reply) {
                differing.push(format!(
                    "[{}] {:?}\n  reference: neg {} neu {} pos {} compound {} {}\n  plugin:    neg {} neu {} pos {} compound {} / {:?} {fields:?}",
                    row.group, row.text, row.neg, row.neu, row.pos, row.compound, row.verdict,
                    ours.neg, ours.neu, ours.pos, ours.compound, reply.headline,
                ));
            }
        }
        assert!(
            differing.is_empty(),
            "{} of {} texts differ from the reference:\n{}",
            differing.len(),
            fixture.rows.len(),
            differing.join("\n")
        );
    }

    #[test]
    fn counts_and_text_cannot_be_mixed_or_missing() {
        assert!(calculate(&Sentiment, r#"text:"fine" positive:1"#).is_err());
        assert!(calculate(&Sentiment, r#"text:"fine" neutral:1"#).is_err());
        assert!(calculate(&Sentiment, "brand:Acme").is_err());
        assert_eq!(
            calculate(&Sentiment, "negative:4").unwrap().headline,
            "Net sentiment -100.0"
        );
        assert!(calculate(&Sentiment, "positive:0 negative:0").is_err());
        assert!(calculate(&Sentiment, r#"text:"great" brand:Acme"#).is_err());
    }
}
