//! Industry benchmarks: published figures per metric and platform, each with its source and
//! year, read from `config/benchmarks.toml` so a team can put in the figures for its industry.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::plugin::Measure;

/// The shipped benchmarks, used when the configured file does not exist.
const SHIPPED: &str = include_str!("../config/benchmarks.toml");

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Benchmark {
    /// The plugin's name, such as `engagement-rate`.
    pub metric: String,
    pub platform: String,
    /// In the metric's unit: percent for rates.
    pub value: f64,
    /// What the figure is of (per post, per day, paid ads), so that it is held only against
    /// a figure of the same kind.
    pub measures: Measure,
    pub basis: String,
    pub source: String,
    pub year: u16,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Benchmarks {
    #[serde(default)]
    benchmark: Vec<Benchmark>,
}

impl Benchmarks {
    /// Reads the benchmarks at `path`, or the shipped ones if there is no file there.
    pub fn load(path: &Path) -> Result<Benchmarks> {
        let text = match crate::files::read_text(path, crate::files::MAX_SETTINGS_BYTES) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => SHIPPED.to_string(),
            Err(source) => {
                return Err(Error::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        toml::from_str(&text).map_err(|e| Error::Settings {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })
    }

    /// The benchmark for a metric on a platform.
    pub fn find(&self, metric: &str, platform: &str) -> Option<&Benchmark> {
        self.benchmark
            .iter()
            .find(|b| b.metric == metric && b.platform == platform)
    }

    /// Why a benchmark is not held against a metric's own figure, or `None` when both measure
    /// the same thing.
    pub fn unlike(benchmark: &Benchmark, own: Measure, metric: &str) -> Option<String> {
        (benchmark.measures != own).then(|| {
            format!(
                "The industry {metric} benchmark is {}; metricord's figure is {}, so they are not compared.",
                benchmark.measures.wording(),
                own.wording()
            )
        })
    }

    /// Every benchmark for a metric.
    pub fn for_metric<'a>(&'a self, metric: &'a str) -> impl Iterator<Item = &'a Benchmark> + 'a {
        self.benchmark.iter().filter(move |b| b.metric == metric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_benchmarks_name_real_metrics_and_platforms_with_sources() {
        let benchmarks: Benchmarks = toml::from_str(SHIPPED).unwrap();
        let metrics: Vec<&str> = crate::plugins::names();
        assert!(!benchmarks.benchmark.is_empty());
        for b in &benchmarks.benchmark {
            assert!(metrics.contains(&b.metric.as_str()), "{}", b.metric);
            assert!(
                crate::command::PLATFORMS.contains(&b.platform.as_str()),
                "{}",
                b.platform
            );
            assert!(!b.source.is_empty() && b.year >= 2000 && b.value > 0.0);
        }
        let instagram = benchmarks.find("engagement-rate", "instagram").unwrap();
        assert_eq!((instagram.value, instagram.year), (0.47, 2023));
        assert_eq!(benchmarks.for_metric("engagement-rate").count(), 4);
        assert_eq!(instagram.measures, Measure::PerPost);
        assert_eq!(
            benchmarks.find("ctr", "facebook").unwrap().measures,
            Measure::PaidAds
        );
    }

    #[test]
    fn an_entry_must_say_what_it_measures_in_words_the_bot_knows() {
        let entry = "[[benchmark]]\nmetric = \"ctr\"\nplatform = \"x\"\nvalue = 1.0\n\
                     basis = \"b\"\nsource = \"s\"\nyear = 2024\n";
        let missing = toml::from_str::<Benchmarks>(entry).unwrap_err();
        assert!(missing.message().contains("measures"), "{missing}");
        let odd = toml::from_str::<Benchmarks>(&format!("{entry}measures = \"weekly\"\n"));
        assert!(odd.unwrap_err().message().contains("per-post"));
        let like = toml::from_str::<Benchmarks>(&format!("{entry}measures = \"per-day\"\n"));
        let b = &like.unwrap().benchmark[0];
        assert_eq!(Benchmarks::unlike(b, Measure::PerDay, "ctr"), None);
        assert_eq!(
            Benchmarks::unlike(b, Measure::AllLogged, "ctr").as_deref(),
            Some(
                "The industry ctr benchmark is per day; metricord's figure is of everything logged, \
                 organic and paid together, so they are not compared."
            )
        );
    }

    #[test]
    fn a_missing_file_falls_back_to_the_shipped_figures() {
        let loaded = Benchmarks::load(Path::new("/nonexistent/benchmarks.toml")).unwrap();
        assert_eq!(loaded, toml::from_str(SHIPPED).unwrap());
    }
}
