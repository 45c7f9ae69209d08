//! Typed settings, loaded once at start from `config/metricord.toml` (or `--config PATH`) and
//! the environment.
//!
//! Every setting has a default, so a missing default file is fine; an explicit `--config` that
//! is missing, an unknown key or a bad value stops the start with a message naming the setting,
//! because a typo silently ignored is a setting silently not applied. The Discord token is not a
//! setting: it comes from `DISCORD_TOKEN` only, so it never sits in a file that gets committed.

use std::path::Path;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::error::{Error, Result};

/// Where settings are read from when `--config` is not given.
pub const DEFAULT_PATH: &str = "config/metricord.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// IANA name of the team's timezone: "today" for a snapshot's default date.
    pub timezone: String,
    /// The industry benchmarks file.
    pub benchmarks: String,
    pub database: DatabaseSettings,
    pub plugins: PluginSettings,
    pub brands: BrandSettings,
    pub logging: LoggingSettings,
    pub discord: DiscordSettings,
    pub digest: DigestSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    pub url: String,
    pub synchronous: String,
    pub busy_timeout_ms: u64,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginSettings {
    pub enabled: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrandSettings {
    pub auto_create: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordSettings {
    pub guild_ids: Vec<u64>,
    pub api_proxy: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestSettings {
    /// After downtime, a missed digest is still posted if it is at most this late ("6h").
    pub catch_up: String,
    /// The plugin drawn in the digest's chart; empty for the first rate among the plugins.
    pub chart_metric: String,
}

impl Default for DigestSettings {
    fn default() -> DigestSettings {
        DigestSettings {
            catch_up: "6h".to_string(),
            chart_metric: String::new(),
        }
    }
}

impl DigestSettings {
    /// The catch-up window, checked when settings are loaded.
    pub fn catch_up(&self) -> Option<chrono::Duration> {
        let text = self.catch_up.trim();
        let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
        let n: i64 = number.parse().ok()?;
        match unit {
            "m" => Some(chrono::Duration::minutes(n)),
            "h" => Some(chrono::Duration::hours(n)),
            "d" => Some(chrono::Duration::days(n)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingSettings {
    pub filter: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            timezone: "UTC".to_string(),
            benchmarks: "config/benchmarks.toml".to_string(),
            database: DatabaseSettings::default(),
            plugins: PluginSettings::default(),
            brands: BrandSettings::default(),
            logging: LoggingSettings::default(),
            discord: DiscordSettings::default(),
            digest: DigestSettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> DatabaseSettings {
        DatabaseSettings {
            url: "sqlite://data/metricord.db".to_string(),
            synchronous: "full".to_string(),
            busy_timeout_ms: 5_000,
            max_connections: 8,
        }
    }
}

impl Default for BrandSettings {
    fn default() -> BrandSettings {
        BrandSettings { auto_create: true }
    }
}

impl Default for LoggingSettings {
    fn default() -> LoggingSettings {
        LoggingSettings {
            filter: "info".to_string(),
        }
    }
}

impl Default for PluginSettings {
    fn default() -> PluginSettings {
        PluginSettings {
            enabled: crate::plugins::all()
                .iter()
                .map(|p| p.name().to_string())
                .collect(),
        }
    }
}

impl Settings {
    /// Reads settings from `path`, or from [`DEFAULT_PATH`] if it exists, then applies the
    /// `--database` / `METRICORD_DATABASE` override.
    pub fn load(path: Option<&Path>, database: Option<String>) -> Result<Settings> {
        let default = Path::new(DEFAULT_PATH);
        let path = match path {
            Some(path) => Some(path),
            None => default.exists().then_some(default),
        };
        let mut settings = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Settings::parse(&text, path)?
            }
            None => Settings::default(),
        };
        if let Some(url) = database {
            settings.database.url = url;
        }
        Ok(settings)
    }

    /// Parses and checks the text of a settings file; `path` is only for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Settings> {
        let invalid = |message: String| Error::Settings {
            path: path.to_path_buf(),
            message,
        };
        let settings: Settings =
            toml::from_str(text).map_err(|e| invalid(e.message().to_string()))?;
        settings.timezone().map_err(|_| {
            invalid(format!(
                "timezone \"{}\" is not an IANA timezone name such as \"Europe/Bucharest\"",
                settings.timezone
            ))
        })?;
        let known: Vec<String> = PluginSettings::default().enabled;
        if let Some(unknown) = settings.plugins.enabled.iter().find(|p| !known.contains(p)) {
            return Err(invalid(format!(
                "plugins.enabled names \"{unknown}\"; the plugins are {}",
                known.join(", ")
            )));
        }
        if !["off", "normal", "full", "extra"].contains(&settings.database.synchronous.as_str()) {
            return Err(invalid(format!(
                "database.synchronous is \"{}\"; use \"full\", \"normal\", \"extra\" or \"off\"",
                settings.database.synchronous
            )));
        }
        if settings.digest.catch_up().is_none() {
            return Err(invalid(format!(
                "digest.catch_up is \"{}\"; write a duration such as \"30m\", \"6h\" or \"2d\"",
                settings.digest.catch_up
            )));
        }
        let chart = &settings.digest.chart_metric;
        if !chart.is_empty() && !settings.plugins.enabled.contains(chart) {
            return Err(invalid(format!(
                "digest.chart_metric names \"{chart}\", which is not an enabled plugin ({})",
                settings.plugins.enabled.join(", ")
            )));
        }
        if settings.database.max_connections == 0 {
            return Err(invalid(
                "database.max_connections must be at least 1".to_string(),
            ));
        }
        Ok(settings)
    }

    /// The configured timezone, checked when settings are loaded.
    pub fn timezone(&self) -> Result<Tz, chrono_tz::ParseError> {
        Tz::from_str(&self.timezone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_config_file_holds_exactly_the_defaults() {
        let text = include_str!("../config/metricord.toml");
        let shipped = Settings::parse(text, Path::new("config/metricord.toml")).unwrap();
        assert_eq!(format!("{shipped:?}"), format!("{:?}", Settings::default()));
    }

    #[test]
    fn typos_and_bad_values_name_the_setting() {
        let path = Path::new("x.toml");
        let err = Settings::parse("timezon = \"UTC\"", path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("timezon"), "{err}");
        let err = Settings::parse("timezone = \"Mars/Olympus\"", path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("IANA"), "{err}");
        let err = Settings::parse("[plugins]\nenabled = [\"ctr\", \"klout\"]", path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("klout"), "{err}");
        let err = Settings::parse("[database]\nsynchronous = \"sometimes\"", path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("database.synchronous"), "{err}");
    }
}
