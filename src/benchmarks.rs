//! Industry benchmarks: published figures per metric and platform, each with its source and
//! year, read from `config/benchmarks.toml` so a team can put in the figures for its industry.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

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
    }

    #[test]
    fn a_missing_file_falls_back_to_the_shipped_figures() {
        let loaded = Benchmarks::load(Path::new("/nonexistent/benchmarks.toml")).unwrap();
        assert_eq!(loaded, toml::from_str(SHIPPED).unwrap());
    }
}
