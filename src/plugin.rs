//! The metric plugin trait and the data that flows in and out of a plugin.
//!
//! A plugin is the whole specification of one metric: the slash command it adds, the inputs it
//! stores (its *series*) and how each adds up over a period, its formula, and how its result is
//! worded. The core never names a metric; it asks the registry. The plugins themselves, and the
//! registry of the enabled ones, live in `plugins/`, one file per metric.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::command::{CommandSpec, Field, Options};
use crate::error::UserError;

/// One metric.
pub trait Plugin: Send + Sync {
    /// The command this metric adds, with its own options only: the shared `brand`,
    /// `platform` and `date` options are added for every metric. Its name is also the plugin's
    /// name in settings (`[plugins] enabled`) and in `metric:` options.
    fn command(&self) -> CommandSpec;

    /// The inputs this metric stores when a brand is named, and how each aggregates.
    fn series(&self) -> &[Series];

    /// What `calculate` compares a new snapshot with, so that only that is fetched first.
    fn needs(&self) -> HistoryNeeds {
        HistoryNeeds::default()
    }

    /// Computes the metric from validated options. `history` holds what `needs` asked for about
    /// the brand (empty when no brand was named). Errors here mean nothing is stored. Whether it
    /// fails and what it stores depend on the options alone: history only adds to the reply
    /// (growth, share of voice), because a logged command checks the options and stores them
    /// while the history is read beside the write.
    fn calculate(&self, options: &Options, history: &History) -> Result<Calculation, UserError>;

    /// The metric's name in reports, comparisons and digests: "CTR", "Audience".
    fn label(&self) -> &'static str;

    /// What the metric's values measure: a count, a rate in percent, or a score.
    fn unit(&self) -> Unit;

    /// The metric over a period, from its series each aggregated by its own rule; `None` when
    /// the period holds no data for it.
    fn summarize(&self, totals: &Totals) -> Option<Summary>;

    /// What a value of this metric is a figure of, so that it is held only against benchmarks
    /// of the same kind. Most metrics add up whatever was logged, organic and paid together.
    fn measures(&self) -> Measure {
        Measure::AllLogged
    }

    /// Where this metric stands among the few that a summary across many brands (the
    /// all-brands digest) leads with, first at 1; `None` for the rest, which such a summary
    /// shows only when those have no data.
    fn lead_rank(&self) -> Option<u8> {
        None
    }
}

/// A brand's series over a period (or across platforms), each aggregated by its rule, with
/// the number of days each has data on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    values: HashMap<&'static str, i64>,
    days: HashMap<&'static str, i64>,
}

impl Totals {
    pub fn get(&self, series: &str) -> Option<i64> {
        self.values.get(series).copied()
    }

    /// Days with a value of `series` (on any one platform, when across platforms).
    pub fn days(&self, series: &str) -> Option<i64> {
        self.days.get(series).copied()
    }

    pub fn insert(&mut self, series: &'static str, value: i64, days: i64) {
        self.values.insert(series, value);
        self.days.insert(series, days);
    }

    /// Adds another platform's totals: values add up, days are the most any platform has.
    pub fn add(&mut self, other: &Totals) {
        for (series, value) in &other.values {
            let sum = self.values.entry(series).or_insert(0);
            *sum = sum.saturating_add(*value);
        }
        for (series, days) in &other.days {
            let mine = self.days.entry(series).or_insert(0);
            *mine = (*mine).max(*days);
        }
    }
}

/// A metric's value over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// What is ranked and compared: a count, a rate in percent, or a score.
    pub value: f64,
    pub unit: Unit,
    /// The value as people read it: `20.0% (95% CI 13.3-28.9%, n=100)`, `1,554,200`.
    pub text: String,
    /// The 95% interval of a rate, in percent: two brands whose intervals overlap are within
    /// the noise of each other.
    pub interval: Option<(f64, f64)>,
    /// Named parts worth a line of their own in a digest (applause, conversation,
    /// amplification).
    pub parts: Vec<(&'static str, i64)>,
}

/// What a metric's value measures, which decides how gaps between values are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    Count,
    Percent,
    /// A score such as net sentiment, from -100 to +100.
    Score,
}

/// What a rate or count is a figure of. A published benchmark and metricord's own figure are
/// compared only when they measure the same thing: a median engagement rate per post and a
/// day's engagements over followers differ by the number of posts a day, tenfold and more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// A figure per post, such as the median engagement rate of a post.
    PerPost,
    /// A day's figure over the audience, such as a day's engagements over followers.
    PerDay,
    /// A figure of paid ads only.
    PaidAds,
    /// Everything a team logged, organic and paid together.
    AllLogged,
}

impl Measure {
    /// The kind in words, to follow "is" or "are": "a median per post".
    pub fn wording(self) -> &'static str {
        match self {
            Measure::PerPost => "per post",
            Measure::PerDay => "per day",
            Measure::PaidAds => "of paid ads only",
            Measure::AllLogged => "of everything logged, organic and paid together",
        }
    }
}

/// A stored input of a metric, such as `clicks` or `followers`. Series names are shared between
/// plugins where they mean the same thing (`/ctr` and `/impressions` both store `impressions`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Series {
    pub name: &'static str,
    pub aggregate: Aggregate,
}

impl Series {
    pub const fn sum(name: &'static str) -> Series {
        Series {
            name,
            aggregate: Aggregate::Sum,
        }
    }

    pub const fn last(name: &'static str) -> Series {
        Series {
            name,
            aggregate: Aggregate::Last,
        }
    }

    pub const fn max(name: &'static str) -> Series {
        Series {
            name,
            aggregate: Aggregate::Max,
        }
    }
}

/// How a series adds up over a period of days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Aggregate {
    /// Counts of events (clicks, mentions): the period's value is the sum of its days.
    Sum,
    /// Stocks (followers): the period's value is the last one logged in it.
    Last,
    /// Unique people (reach): days cannot be summed, since a person reached on two days is one
    /// person; the largest day is a lower bound on the period's unique reach.
    Max,
}

/// The stored values a metric's `calculate` looks at, by series name.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HistoryNeeds {
    /// Series whose latest value before the command's date it compares with (growth).
    pub previous: &'static [&'static str],
    /// Series it compares with the guild's other brands on the same day (share of voice).
    pub peers: &'static [&'static str],
}

/// What is already stored for the brand a command names, fetched by the dispatcher before the
/// plugin runs. Keys are series names.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The latest value stored before the command's date, same brand and platform.
    pub previous: HashMap<&'static str, (NaiveDate, i64)>,
    /// The same series summed over the guild's other brands on the same date and platform, with
    /// how many brands contributed: the competitors' side of share-of-voice figures.
    pub peers: HashMap<&'static str, (i64, usize)>,
}

/// A plugin's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Calculation {
    /// The result in one line, e.g. `CTR 20.0% (95% CI 13.3-28.9%, n=100)`.
    pub headline: String,
    /// The formula with the inputs put in.
    pub formula: String,
    /// Further figures worth a line of their own.
    pub fields: Vec<Field>,
    /// Warnings about the inputs, such as a rate above 100%.
    pub notes: Vec<String>,
    /// Series values to store when a brand is named.
    pub store: Vec<(&'static str, i64)>,
}
