//! The metric plugins, one file per metric, and the [`Registry`] of the enabled ones. To add a
//! metric, add its file and one line to [`all`]; nothing else in metricord names a metric.
//!
//! Three metrics are the same shape, a proportion of two counts (CTR, conversion rate,
//! engagement rate): [`Proportion`] is that shape once, and each of their files is one entry
//! with its own story and tests.

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

use std::collections::HashMap;

use crate::command::{CommandSpec, OptionSpec, Options};
use crate::error::UserError;
use crate::numbers::{rate_with_interval, thousands, wilson};
use crate::plugin::{Calculation, History, Measure, Plugin, Series, Summary, Totals, Unit};

/// Every metric, in the order commands are listed in `/help`.
pub fn all() -> Vec<Box<dyn Plugin>> {
    vec![
        Box::new(audience::Audience),
        Box::new(impressions::Impressions),
        Box::new(reach::Reach),
        Box::new(mentions::Mentions),
        Box::new(potential_reach::PotentialReach),
        Box::new(engagement::Engagement),
        Box::new(engagement_rate::ENGAGEMENT_RATE),
        Box::new(sentiment::Sentiment),
        Box::new(ctr::CTR),
        Box::new(conversion_rate::CONVERSION_RATE),
    ]
}

/// The name of each metric, as `[plugins] enabled` and `metric:` options name it.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|p| p.command().name).collect()
}

/// The enabled plugins, in the order of [`all`].
pub struct Registry {
    plugins: Vec<(&'static str, Box<dyn Plugin>)>,
    /// Every stored series with its aggregation rule, looked up once per aggregated row.
    series: HashMap<&'static str, Series>,
}

impl Registry {
    /// Every plugin whose name is in `enabled`.
    pub fn new(enabled: &[String]) -> Registry {
        let plugins: Vec<(&'static str, Box<dyn Plugin>)> = all()
            .into_iter()
            .map(|p| (p.command().name, p))
            .filter(|(name, _)| enabled.iter().any(|e| e == name))
            .collect();
        let series = plugins
            .iter()
            .flat_map(|(_, p)| p.series().iter().map(|s| (s.name, *s)))
            .collect();
        Registry { plugins, series }
    }

    pub fn plugins(&self) -> impl Iterator<Item = &dyn Plugin> {
        self.plugins.iter().map(|(_, p)| p.as_ref())
    }

    /// The plugin of a metric, by its command name (`ctr`, `engagement-rate`).
    pub fn by_name(&self, name: &str) -> Option<&dyn Plugin> {
        self.plugins
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p.as_ref())
    }

    /// The names of the enabled plugins, as a metric option offers them.
    pub fn names(&self) -> Vec<&'static str> {
        self.plugins.iter().map(|(name, _)| *name).collect()
    }

    /// A stored series as a plugin declares it, with its aggregation rule.
    pub fn series(&self, name: &str) -> Option<Series> {
        self.series.get(name).copied()
    }
}

/// What the plugins share.
mod prelude {
    pub(crate) use super::count_summary;
    pub(crate) use super::{Proportion, metric_command};
    pub use crate::command::{CommandSpec, Field, Kind, OptionSpec, Options};
    pub use crate::error::UserError;
    pub use crate::numbers::{change, percent, ratio, short, thousands};
    pub use crate::plugin::{
        Calculation, History, HistoryNeeds, Measure, Plugin, Series, Summary, Totals, Unit,
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

/// A rate that is a proportion of two counts, such as clicks out of impressions: the part over
/// the whole × 100, with its Wilson interval, flagged when the inputs put it above 100%.
///
/// Over a period it is the ratio of the sums, never the mean of daily rates. When the whole is a
/// stock (followers, aggregated as the last value) rather than a count of events, it is counted
/// once per day with data, so that the period's rate is a daily rate that does not grow with the
/// period's length.
pub struct Proportion {
    pub command: &'static str,
    pub description: &'static str,
    /// The metric's name in replies: "CTR".
    pub label: &'static str,
    /// The part, then the whole it is a share of, as stored.
    pub series: [Series; 2],
    /// What to type for each of `series`, as the options describe them.
    pub inputs: [&'static str; 2],
    /// Why the whole must be above zero, worded for the error.
    pub why_whole_above_zero: &'static str,
    /// What the rate is a figure of, for holding it against benchmarks.
    pub measures: Measure,
    /// Its place among the metrics a summary across many brands leads with.
    pub lead_rank: Option<u8>,
}

impl Plugin for Proportion {
    fn command(&self) -> CommandSpec {
        let [part, whole] = self.series;
        let [part_input, whole_input] = self.inputs;
        metric_command(
            self.command,
            self.description,
            vec![
                OptionSpec::count(part.name, part_input).required(),
                OptionSpec::count(whole.name, whole_input).required(),
            ],
        )
    }

    fn series(&self) -> &[Series] {
        &self.series
    }

    fn label(&self) -> &'static str {
        self.label
    }

    fn unit(&self) -> Unit {
        Unit::Percent
    }

    fn measures(&self) -> Measure {
        self.measures
    }

    fn lead_rank(&self) -> Option<u8> {
        self.lead_rank
    }

    fn summarize(&self, totals: &Totals) -> Option<Summary> {
        let [part, whole] = self.series;
        let mut denominator = totals.get(whole.name)?;
        if whole.aggregate == crate::plugin::Aggregate::Last {
            let days = totals.days(part.name).unwrap_or(1).max(1);
            denominator = denominator.checked_mul(days)?;
        }
        rate_summary(totals.get(part.name)?, denominator)
    }

    fn calculate(&self, options: &Options, _: &History) -> Result<Calculation, UserError> {
        let [part_series, whole_series] = self.series;
        let (part_name, whole_name) = (part_series.name, whole_series.name);
        let part = options.required_integer(part_name)?;
        let whole = options.required_integer(whole_name)?;
        if whole == 0 {
            return Err(UserError::ZeroDenominator {
                option: whole_name,
                reason: self.why_whole_above_zero,
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
            headline: format!("{} {}", self.label, rate_with_interval(part, whole)),
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

/// A rate of two counts over a period, with its Wilson interval; `None` without a denominator.
fn rate_summary(part: i64, whole: i64) -> Option<Summary> {
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
    use crate::limits;

    #[test]
    fn plugin_commands_are_unique() {
        let mut commands = names();
        commands.sort();
        commands.dedup();
        assert_eq!(commands.len(), all().len());
    }

    #[test]
    fn a_series_shared_by_plugins_aggregates_the_same_way_in_each() {
        let plugins = all();
        let series: Vec<Series> = plugins
            .iter()
            .flat_map(|p| p.series().iter().copied())
            .collect();
        for a in &series {
            for b in &series {
                if a.name == b.name {
                    assert_eq!(a.aggregate, b.aggregate, "series {}", a.name);
                }
            }
        }
    }

    #[test]
    fn each_plugin_declares_the_unit_its_summaries_carry() {
        for plugin in all() {
            let mut totals = Totals::default();
            for s in plugin.series() {
                totals.insert(s.name, 1, 1);
            }
            if let Some(summary) = plugin.summarize(&totals) {
                assert_eq!(summary.unit, plugin.unit(), "{}", plugin.command().name);
            }
        }
    }

    /// Every plugin's options are named and bounded the way Discord requires.
    #[test]
    fn plugin_commands_fit_discord_naming_rules() {
        for plugin in all() {
            let spec = plugin.command();
            assert!(limits::valid_name(spec.name), "{}", spec.name);
            assert!(limits::valid_description(spec.description), "{}", spec.name);
            for option in &spec.options {
                assert!(limits::valid_name(option.name), "{}", option.name);
                assert!(
                    limits::valid_description(option.description),
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
                    spec.name
                );
            }
        }
    }
}

/// Runs one plugin on a line of options as typed in the console, the way the dispatcher would.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::command::{CommandSpec, OptionSpec};
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
        spec.options.push(OptionSpec::brand("brand", "Brand"));
        plugin.calculate(&spec.check(line.options)?, history)
    }
}
