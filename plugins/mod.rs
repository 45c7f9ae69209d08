//! The metric plugins, one file per metric. To add a metric, add its file and one line to
//! [`all`]; nothing else in metricord names a metric.

mod audience;
mod conversion_rate;
mod ctr;
mod engagement;
mod engagement_rate;
mod impressions;
mod mentions;
mod potential_reach;
mod reach;
mod sentiment;

use crate::command::{CommandSpec, OptionSpec};
use crate::error::UserError;
use crate::numbers::{rate_with_interval, thousands, wilson};
use crate::plugin::{Calculation, Plugin, Summary, Unit};

/// Every metric, in the order commands are listed in `/help`.
pub fn all() -> Vec<Box<dyn Plugin>> {
    vec![
        Box::new(audience::Audience),
        Box::new(impressions::Impressions),
        Box::new(reach::Reach),
        Box::new(mentions::Mentions),
        Box::new(potential_reach::PotentialReach),
        Box::new(engagement::Engagement),
        Box::new(engagement_rate::EngagementRate),
        Box::new(sentiment::Sentiment),
        Box::new(ctr::Ctr),
        Box::new(conversion_rate::ConversionRate),
    ]
}

/// What the plugins share.
mod prelude {
    pub(crate) use super::{count_summary, rate_summary};
    pub(crate) use super::{metric_command, proportion};
    pub use crate::command::{CommandSpec, Field, Kind, OptionSpec, Options};
    pub use crate::error::UserError;
    pub use crate::numbers::{change, percent, ratio, short, thousands};
    pub use crate::plugin::{
        Aggregate, Calculation, History, HistoryNeeds, Plugin, Series, Summary, Totals, Unit,
    };
}

/// A metric's command: metrics never change shared data beyond logging their own snapshot.
pub(crate) fn metric_command(
    name: &'static str,
    description: &'static str,
    options: Vec<OptionSpec>,
) -> CommandSpec {
    CommandSpec {
        name,
        description,
        options,
        ..CommandSpec::default()
    }
}

/// A rate that is a proportion of two counts (clicks out of impressions), with its Wilson
/// interval, flagged when the inputs put it above 100%.
pub(crate) fn proportion(
    label: &str,
    (part_name, part): (&'static str, i64),
    (whole_name, whole): (&'static str, i64),
    why_whole_above_zero: &'static str,
) -> Result<Calculation, UserError> {
    if whole == 0 {
        return Err(UserError::ZeroDenominator {
            option: whole_name,
            reason: why_whole_above_zero,
        });
    }
    let mut notes = Vec::new();
    if part > whole {
        notes.push(format!(
            "Above 100%: {part_name} ({}) exceed {whole_name} ({}). Check the inputs.",
            thousands(part),
            thousands(whole)
        ));
    }
    Ok(Calculation {
        headline: format!("{label} {}", rate_with_interval(part, whole)),
        formula: format!(
            "{part_name} / {whole_name} × 100 = {} / {} × 100",
            thousands(part),
            thousands(whole)
        ),
        fields: Vec::new(),
        notes,
        store: vec![(part_name, part), (whole_name, whole)],
    })
}

/// A count over a period.
pub(crate) fn count_summary(value: i64) -> Summary {
    Summary {
        value: value as f64,
        unit: Unit::Count,
        text: thousands(value),
        interval: None,
        parts: Vec::new(),
    }
}

/// A rate of two counts over a period: the ratio of their sums, with its Wilson interval.
/// `None` without a denominator.
pub(crate) fn rate_summary(part: Option<i64>, whole: Option<i64>) -> Option<Summary> {
    let (part, whole) = (part?, whole?);
    let rate = crate::numbers::ratio(part, whole)? * 100.0;
    let mut text = rate_with_interval(part, whole);
    if part > whole {
        text.push_str(" ⚠️ above 100%: check the inputs");
    }
    Some(Summary {
        value: rate,
        unit: Unit::Percent,
        text,
        interval: wilson(part, whole).map(|(low, high)| (low * 100.0, high * 100.0)),
        parts: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Kind, Value};

    /// Every plugin's options are named and bounded the way Discord requires.
    #[test]
    fn plugin_commands_fit_discord_naming_rules() {
        for plugin in all() {
            let spec = plugin.command();
            let names = std::iter::once(spec.name).chain(spec.options.iter().map(|o| o.name));
            for name in names {
                assert!(
                    (1..=32).contains(&name.len())
                        && name.chars().all(|c| c.is_ascii_lowercase()
                            || c.is_ascii_digit()
                            || c == '-'
                            || c == '_'),
                    "{name}"
                );
            }
            assert!(
                (1..=100).contains(&spec.description.chars().count()),
                "{}",
                spec.name
            );
            for option in &spec.options {
                assert!(
                    (1..=100).contains(&option.description.chars().count()),
                    "{}",
                    option.name
                );
            }
        }
    }

    #[test]
    fn every_stored_value_belongs_to_a_declared_series() {
        for plugin in all() {
            let spec = plugin.command();
            let options = spec
                .options
                .iter()
                .map(|o| {
                    let value = match o.kind {
                        Kind::Integer { .. } => Value::Integer(10),
                        _ => Value::Text("10, 20".into()),
                    };
                    (o.name.to_string(), value)
                })
                .filter(|(name, _)| name != "text")
                .collect();
            let options = spec.check(options).unwrap();
            let calculation = plugin.calculate(&options, &Default::default()).unwrap();
            for (series, _) in calculation.store {
                assert!(
                    plugin.series().iter().any(|s| s.name == series),
                    "{} stores undeclared {series}",
                    plugin.name()
                );
            }
        }
    }
}

/// Runs one plugin on a line of options as typed in the console, the way the dispatcher would.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::command::{CommandSpec, Kind, OptionSpec};
    use crate::console::parse_line;
    use crate::error::UserError;
    use crate::plugin::{Calculation, History, Plugin};

    pub fn calculate(plugin: &dyn Plugin, options: &str) -> Result<Calculation, UserError> {
        calculate_with(plugin, options, &History::default())
    }

    pub fn calculate_with(
        plugin: &dyn Plugin,
        options: &str,
        history: &History,
    ) -> Result<Calculation, UserError> {
        let line = parse_line(&format!("/{} {options}", plugin.command().name))?.ok_or(
            UserError::Syntax {
                problem: "empty".into(),
            },
        )?;
        let mut spec: CommandSpec = plugin.command();
        spec.options.push(OptionSpec::new(
            "brand",
            "Brand",
            Kind::Text { max_len: 100 },
        ));
        plugin.calculate(&spec.check(line.options)?, history)
    }
}
