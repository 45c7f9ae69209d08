//! Typed settings, loaded once at start from `config/metricord.toml` (or `--config PATH`) and
//! the environment.
//!
//! Every setting has a default, so a missing default file is fine; an explicit `--config` that
//! is missing, an unknown key or a bad value stops the start with a message naming the setting,
//! because a typo silently ignored is a setting silently not applied. Values are typed as they
//! are read (a timezone is a [`Tz`], the catch-up window a duration), so nothing downstream
//! parses a setting again or falls back quietly. The Discord token is not a setting: it comes
//! from `DISCORD_TOKEN` only, so it never sits in a file that gets committed. The YouTube API key
//! may sit in the file, but `METRICORD_YOUTUBE_API_KEY` overrides it, and it is held as a secret
//! that no `Debug` output shows.

use std::path::Path;
use std::str::FromStr;

use chrono::Duration;
use chrono_tz::Tz;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use crate::chart::Theme;
use crate::error::{Error, Result};

/// Where settings are read from when `--config` is not given.
pub const DEFAULT_PATH: &str = "config/metricord.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The team's timezone (an IANA name in the file): "today" for a snapshot's default date.
    #[serde(deserialize_with = "timezone")]
    pub timezone: Tz,
    /// The industry benchmarks file.
    pub benchmarks: String,
    pub database: DatabaseSettings,
    pub plugins: PluginSettings,
    pub brands: BrandSettings,
    pub logging: LoggingSettings,
    pub discord: DiscordSettings,
    pub digest: DigestSettings,
    pub charts: ChartSettings,
    pub collect: CollectSettings,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (or a bare path) or `postgres://USER@HOST/DATABASE`; see [`Backend`].
    pub url: String,
    /// SQLite only: PostgreSQL's durability is the server's own `synchronous_commit`.
    pub synchronous: Synchronous,
    /// How long an operation waits for the database: for the write lock in SQLite, for a
    /// connection in PostgreSQL. Past it the command is answered "try again".
    pub busy_timeout_ms: u64,
    pub max_connections: u32,
    /// SQLite only: whether the file is checked for damage before the bot starts on it.
    pub integrity_check: IntegrityCheck,
}

/// The URL's password never reaches a log: settings are logged and compared through `Debug`.
impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redacted(&self.url))
            .field("synchronous", &self.synchronous)
            .field("busy_timeout_ms", &self.busy_timeout_ms)
            .field("max_connections", &self.max_connections)
            .field("integrity_check", &self.integrity_check)
            .finish()
    }
}

/// Which database engine a `[database] url` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file, one process.
    Sqlite,
    /// A server several processes share.
    Postgres,
}

/// The URL forms the database setting accepts, for messages.
const URL_FORMS: &str = "sqlite://PATH (or a bare file path) or postgres://USER@HOST/DATABASE";

impl DatabaseSettings {
    /// The backend the URL names, refusing a scheme metricord cannot use (rather than taking
    /// it for a file name) and a setting that means nothing to that backend. Messages name the
    /// scheme, never the URL, which may hold a password.
    pub fn backend(&self) -> std::result::Result<Backend, String> {
        let backend = match self.url.trim().split_once("://") {
            None => Backend::Sqlite,
            Some(("sqlite", _)) => Backend::Sqlite,
            Some(("postgres" | "postgresql", _)) => Backend::Postgres,
            Some((scheme, _)) => {
                return Err(format!(
                    "database.url uses \"{scheme}://\", which metricord cannot store in; use {URL_FORMS}"
                ));
            }
        };
        if backend == Backend::Postgres && self.synchronous != Synchronous::Full {
            return Err(format!(
                "database.synchronous is \"{}\", but it applies to SQLite only; with PostgreSQL, durability is the server's `synchronous_commit`: remove the setting",
                self.synchronous
            ));
        }
        Ok(backend)
    }
}

/// `url` with any password replaced by `***`, for logs and messages: the one in the user part
/// (`postgres://user:secret@host`) and a `password=` parameter.
pub fn redacted(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let authority_end = out[start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..authority_end].rfind('@').map(|i| start + i)
            && let Some(colon) = out[start..at].find(':').map(|i| start + i)
        {
            out.replace_range(colon + 1..at, "***");
        }
    }
    if let Some(query) = out.find('?') {
        let (head, params) = out.split_at(query + 1);
        let params: Vec<String> = params
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_string(),
            })
            .collect();
        out = format!("{head}{}", params.join("&"));
    }
    out
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
    /// After downtime, a missed digest is still posted if it is at most this late ("6h" in the
    /// file).
    #[serde(deserialize_with = "catch_up")]
    pub catch_up: Duration,
    /// A claimed digest run not finished within this time belonged to a process that stopped,
    /// and another takes it over ("5m" in the file).
    #[serde(deserialize_with = "lease")]
    pub lease: Duration,
    /// The plugin drawn in the digest's chart; empty for the first rate among the plugins.
    pub chart_metric: String,
}

impl Default for DigestSettings {
    fn default() -> DigestSettings {
        DigestSettings {
            catch_up: Duration::hours(6),
            lease: Duration::minutes(5),
            chart_metric: String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChartSettings {
    /// The background charts are drawn on: "light" (for slides and documents) or "dark".
    pub theme: Theme,
}

/// Automatic collection from Bluesky, Mastodon and YouTube (`src/collect/`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CollectSettings {
    /// The Bluesky AppView that profiles and feeds are read from (XRPC, no login).
    pub bluesky_url: String,
    /// The YouTube Data API v3 base URL.
    pub youtube_url: String,
    /// Empty: YouTube is not collected. `METRICORD_YOUTUBE_API_KEY` overrides it.
    pub youtube_api_key: SecretString,
    /// Quota units a day the key may spend; the day ends at midnight Pacific time.
    pub youtube_daily_quota: u32,
    /// Each request, body included, gives up after this long ("30s" in the file).
    #[serde(deserialize_with = "request_timeout")]
    pub request_timeout: Duration,
    /// Requests a minute to one host, per network.
    pub bluesky_per_minute: u32,
    pub mastodon_per_minute: u32,
    pub youtube_per_minute: u32,
    /// Requests in flight at once to one host.
    pub connections_per_host: u32,
    /// Pages of posts read at most in one poll of one account.
    pub max_pages: u32,
    /// How far back posts are read when an account is first tracked.
    pub backfill_days: u32,
    /// How often each tracked account is polled ("6h" in the file).
    #[serde(deserialize_with = "poll_interval")]
    pub poll_interval: Duration,
}

impl Default for CollectSettings {
    fn default() -> CollectSettings {
        CollectSettings {
            bluesky_url: "https://public.api.bsky.app".to_string(),
            youtube_url: "https://www.googleapis.com/youtube/v3".to_string(),
            youtube_api_key: SecretString::new(String::new()),
            youtube_daily_quota: 10_000,
            request_timeout: Duration::seconds(30),
            bluesky_per_minute: 600,
            mastodon_per_minute: 60,
            youtube_per_minute: 600,
            connections_per_host: 4,
            max_pages: 20,
            backfill_days: 90,
            poll_interval: Duration::hours(6),
        }
    }
}

impl CollectSettings {
    /// Checks what the types alone do not: a message naming the setting, or nothing.
    fn check(&self) -> Option<String> {
        for (name, url) in [
            ("collect.bluesky_url", &self.bluesky_url),
            ("collect.youtube_url", &self.youtube_url),
        ] {
            let parsed = reqwest::Url::parse(url).ok();
            if !parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
                return Some(format!(
                    "{name} is \"{url}\"; write an http or https URL such as \"https://public.api.bsky.app\""
                ));
            }
        }
        for (name, value) in [
            ("collect.youtube_daily_quota", self.youtube_daily_quota),
            ("collect.bluesky_per_minute", self.bluesky_per_minute),
            ("collect.mastodon_per_minute", self.mastodon_per_minute),
            ("collect.youtube_per_minute", self.youtube_per_minute),
            ("collect.connections_per_host", self.connections_per_host),
            ("collect.max_pages", self.max_pages),
        ] {
            if value == 0 {
                return Some(format!("{name} must be at least 1"));
            }
        }
        if !(1..=3650).contains(&self.backfill_days) {
            return Some("collect.backfill_days must be between 1 and 3650".to_string());
        }
        if self.request_timeout < Duration::seconds(1)
            || self.request_timeout > Duration::minutes(10)
        {
            return Some("collect.request_timeout must be between \"1s\" and \"10m\"".to_string());
        }
        if self.poll_interval < Duration::minutes(15) {
            return Some(
                "collect.poll_interval must be at least \"15m\": the platforms' limits are shared by every account".to_string(),
            );
        }
        None
    }
}

/// How hard SQLite works to make a commit survive a power cut (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    Off,
    Normal,
    Full,
    Extra,
}

impl<'de> Deserialize<'de> for Synchronous {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Synchronous, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.as_str() {
            "off" => Synchronous::Off,
            "normal" => Synchronous::Normal,
            "full" => Synchronous::Full,
            "extra" => Synchronous::Extra,
            _ => {
                return Err(serde::de::Error::custom(format!(
                    "database.synchronous is \"{text}\"; use \"full\", \"normal\", \"extra\" or \"off\""
                )));
            }
        })
    }
}

impl std::fmt::Display for Synchronous {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Synchronous::Off => "off",
            Synchronous::Normal => "normal",
            Synchronous::Full => "full",
            Synchronous::Extra => "extra",
        })
    }
}

/// Whether a SQLite file is checked for damage at start (`PRAGMA quick_check`, bounded in
/// time): "off" is for databases so large that even a bounded check is too slow a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrityCheck {
    Quick,
    Off,
}

impl<'de> Deserialize<'de> for IntegrityCheck {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<IntegrityCheck, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "quick" => Ok(IntegrityCheck::Quick),
            "off" => Ok(IntegrityCheck::Off),
            _ => Err(serde::de::Error::custom(format!(
                "database.integrity_check is \"{text}\"; use \"quick\" or \"off\""
            ))),
        }
    }
}

fn timezone<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
    let text = String::deserialize(deserializer)?;
    Tz::from_str(text.trim()).map_err(|_| {
        serde::de::Error::custom(format!(
            "timezone \"{text}\" is not an IANA timezone name such as \"Europe/Bucharest\""
        ))
    })
}

fn catch_up<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    duration(deserializer, "digest.catch_up")
}

fn lease<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let lease = duration(deserializer, "digest.lease")?;
    if lease < Duration::minutes(1) {
        // A zero lease would take every claim over at once, while its process is still posting.
        return Err(serde::de::Error::custom(
            "digest.lease must be at least \"1m\"",
        ));
    }
    Ok(lease)
}

fn request_timeout<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    duration(deserializer, "collect.request_timeout")
}

fn poll_interval<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    duration(deserializer, "collect.poll_interval")
}

/// A setting written as a duration, such as "30s", "30m", "6h" or "2d".
fn duration<'de, D: Deserializer<'de>>(deserializer: D, name: &str) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "{name} is \"{text}\"; write a duration such as \"30s\", \"30m\", \"6h\" or \"2d\""
        ))
    })
}

/// A duration written as a whole number of seconds, minutes, hours or days: "30s", "30m", "6h",
/// "2d".
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = number.parse().ok()?;
    match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => None,
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
            timezone: Tz::UTC,
            benchmarks: "config/benchmarks.toml".to_string(),
            database: DatabaseSettings::default(),
            plugins: PluginSettings::default(),
            brands: BrandSettings::default(),
            logging: LoggingSettings::default(),
            discord: DiscordSettings::default(),
            digest: DigestSettings::default(),
            charts: ChartSettings::default(),
            collect: CollectSettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> DatabaseSettings {
        DatabaseSettings {
            url: "sqlite://data/metricord.db".to_string(),
            synchronous: Synchronous::Full,
            busy_timeout_ms: 5_000,
            max_connections: 8,
            integrity_check: IntegrityCheck::Quick,
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
            enabled: crate::plugins::names()
                .into_iter()
                .map(str::to_string)
                .collect(),
        }
    }
}

impl Settings {
    /// Reads settings from `path`, or from [`DEFAULT_PATH`] if it exists, then applies the
    /// `--database` / `METRICORD_DATABASE` override and `METRICORD_YOUTUBE_API_KEY`.
    pub fn load(path: Option<&Path>, database: Option<String>) -> Result<Settings> {
        let default = Path::new(DEFAULT_PATH);
        let path = match path {
            Some(path) => Some(path),
            None => default.exists().then_some(default),
        };
        let mut settings = match path {
            Some(path) => {
                let text = crate::files::read_text(path, crate::files::MAX_SETTINGS_BYTES)
                    .map_err(|source| Error::Read {
                        path: path.to_path_buf(),
                        source,
                    })?;
                Settings::parse(&text, path)?
            }
            None => Settings::default(),
        };
        if let Some(url) = database {
            settings.database.url = url;
            settings
                .database
                .backend()
                .map_err(|message| Error::Settings {
                    path: "--database / METRICORD_DATABASE".into(),
                    message,
                })?;
        }
        if let Ok(key) = std::env::var("METRICORD_YOUTUBE_API_KEY")
            && !key.trim().is_empty()
        {
            settings.collect.youtube_api_key = SecretString::new(key.trim().to_string());
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
        let known: Vec<String> = PluginSettings::default().enabled;
        if let Some(unknown) = settings.plugins.enabled.iter().find(|p| !known.contains(p)) {
            return Err(invalid(format!(
                "plugins.enabled names \"{unknown}\"; the plugins are {}",
                known.join(", ")
            )));
        }
        let chart = &settings.digest.chart_metric;
        if !chart.is_empty() && !settings.plugins.enabled.contains(chart) {
            return Err(invalid(format!(
                "digest.chart_metric names \"{chart}\", which is not an enabled plugin ({})",
                settings.plugins.enabled.join(", ")
            )));
        }
        settings.database.backend().map_err(invalid)?;
        if settings.database.max_connections == 0 {
            return Err(invalid(
                "database.max_connections must be at least 1".to_string(),
            ));
        }
        if let Some(message) = settings.collect.check() {
            return Err(invalid(message));
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests;
