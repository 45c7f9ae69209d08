//! The dispatcher: one entry point that every front end calls with an [`Invocation`] and that
//! answers with a [`Reply`].
//!
//! It finds the command, checks the member's permissions and the options against the command's
//! spec, asks the metric's plugin for the result, stores a snapshot when a brand is named, and
//! words the reply. Errors become replies here and nowhere else: a user error is shown as it is
//! worded in `error.rs`, anything else is logged in full and shown as a short internal-error line.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, NaiveDate, Utc};

use crate::benchmarks::Benchmarks;
use crate::clock::Clock;
use crate::command::{
    CommandSpec, Embed, Field, Invocation, Kind, OptionSpec, Options, PLATFORMS, Reply, Value,
};
use crate::error::{Error, Result, UserError};
use crate::period::Period;
use crate::plugin::{Calculation, Plugin, Registry};
use crate::scheduler::Post;
use crate::settings::Settings;
use crate::storage::{Brand, Logged, NewSnapshot, Source, Store};
use crate::{analysis, brands, import, scheduler};

/// Platform of a snapshot logged without `platform:`.
const DEFAULT_PLATFORM: &str = "other";

pub struct Dispatcher {
    registry: Registry,
    benchmarks: Benchmarks,
    /// Every command's spec, built once: front ends list them, every call looks one up.
    commands: Vec<CommandSpec>,
    store: Store,
    settings: Arc<Settings>,
    clock: Clock,
    /// How digests reach Discord; set by the Discord front end once it is connected.
    poster: OnceLock<Post>,
}

impl Dispatcher {
    /// A dispatcher for the enabled plugins, reading the industry benchmarks file.
    pub fn new(settings: Arc<Settings>, store: Store, clock: Clock) -> Result<Dispatcher> {
        let registry = Registry::new(&settings.plugins.enabled);
        Ok(Dispatcher {
            commands: commands(&registry),
            benchmarks: Benchmarks::load(Path::new(&settings.benchmarks))?,
            registry,
            store,
            settings,
            clock,
            poster: OnceLock::new(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Lets `/digest run` post, once a front end can.
    pub fn set_poster(&self, post: Post) {
        let _ = self.poster.set(post);
    }

    /// The digest of `week` for a guild's landscape (or all its brands), as of `now`.
    pub async fn digest(
        &self,
        guild_id: u64,
        landscape: Option<&str>,
        week: Period,
        now: DateTime<Utc>,
    ) -> Result<Reply> {
        let ctx = self.context(guild_id, 0);
        let ctx = Context { now, ..ctx };
        crate::digest::build(&ctx, landscape, week).await
    }

    fn context(&self, guild_id: u64, user_id: u64) -> Context<'_> {
        Context {
            store: &self.store,
            registry: &self.registry,
            settings: &self.settings,
            benchmarks: &self.benchmarks,
            guild_id,
            user_id,
            today: self.today(),
            now: self.clock.now(),
        }
    }

    /// Every command, as front ends register and list them.
    pub fn commands(&self) -> &[CommandSpec] {
        &self.commands
    }

    /// The spec of a command path such as `ctr` or `brand add`.
    pub fn spec(&self, path: &str) -> Result<&CommandSpec, UserError> {
        CommandSpec::resolve(&self.commands, path)
    }

    /// Suggestions for an option the user is typing: the guild's brands or landscapes containing
    /// `typed`, for options that ask for suggestions.
    pub async fn autocomplete(
        &self,
        guild_id: u64,
        command: &str,
        option: &str,
        typed: &str,
    ) -> Vec<String> {
        let suggest = self
            .spec(command)
            .ok()
            .and_then(|spec| spec.options.iter().find(|o| o.name == option))
            .and_then(|o| o.suggest);
        let Some(suggest) = suggest else {
            return Vec::new();
        };
        let found = self
            .store
            .suggestions(guild_id, suggest, typed, crate::command::SUGGESTIONS)
            .await;
        found.unwrap_or_else(|err| {
            tracing::error!(error = %err, "suggestions failed");
            Vec::new()
        })
    }

    /// Runs one command. Never fails: every error is turned into a reply for the user.
    pub async fn dispatch(&self, invocation: Invocation) -> Reply {
        let command = invocation.command.clone();
        match self.run(invocation).await {
            Ok(reply) => reply,
            Err(err) => {
                if !matches!(err, Error::User(_)) {
                    tracing::error!(command, error = %err, "command failed");
                }
                Reply::error(err.user_message())
            }
        }
    }

    /// The checks every command passes before it runs: a server, a known command, the
    /// permission it needs, options as declared. Front ends call it before acknowledging slow
    /// work, so that a refusal can still be private.
    pub fn precheck(&self, invocation: &Invocation) -> Result<(), UserError> {
        self.checked(invocation, invocation.options.clone())
            .map(|_| ())
    }

    fn checked(
        &self,
        invocation: &Invocation,
        options: Vec<(String, Value)>,
    ) -> Result<(u64, String, Options), UserError> {
        let path = invocation.command.trim_start_matches('/').to_lowercase();
        let Some(guild_id) = invocation.guild_id else {
            return Err(UserError::GuildOnly { command: path });
        };
        let spec = self.spec(&path)?;
        if spec.manages_data && !invocation.can_manage_guild {
            return Err(UserError::NeedsManageServer { command: path });
        }
        let options = spec.check(options)?;
        Ok((guild_id, path, options))
    }

    async fn run(&self, mut invocation: Invocation) -> Result<Reply> {
        let options = std::mem::take(&mut invocation.options);
        let (guild_id, path, options) = self.checked(&invocation, options)?;
        if let Some(plugin) = self.registry.by_command(&path) {
            return self
                .metric(plugin, &options, guild_id, invocation.user_id)
                .await;
        }
        let ctx = self.context(guild_id, invocation.user_id);
        match path.as_str() {
            "help" => Ok(self.help()),
            "brand add" => brands::add(&ctx, &options).await,
            "brand list" => brands::list(&ctx).await,
            "brand rename" => brands::rename(&ctx, &options).await,
            "brand remove" => brands::remove(&ctx, &options).await,
            "report" => analysis::report(&ctx, &options).await,
            "compare" => analysis::compare(&ctx, &options).await,
            "trend" => analysis::trend(&ctx, &options).await,
            "benchmark" => analysis::benchmark(&ctx, &options).await,
            "import" => import::import(&ctx, &options).await,
            "export" => import::export(&ctx, &options).await,
            "digest schedule" => scheduler::schedule(&ctx, &options).await,
            "digest list" => scheduler::list(&ctx).await,
            "digest remove" => scheduler::remove(&ctx, &options).await,
            "digest preview" => scheduler::preview(&ctx, &options).await,
            "digest run" => scheduler::run_now(&ctx, &options, self.poster.get()).await,
            _ => Err(UserError::UnknownCommand { name: path }.into()),
        }
    }

    /// A metric command: the plugin's result, stored as a snapshot when a brand is named.
    async fn metric(
        &self,
        plugin: &dyn Plugin,
        options: &Options,
        guild_id: u64,
        user_id: u64,
    ) -> Result<Reply> {
        let today = self.today();
        let day = options.date("date").unwrap_or(today);
        if day > today {
            return Err(UserError::InvalidOption {
                option: "date",
                accepts: format!("a date written YYYY-MM-DD, today ({today}) or earlier"),
            }
            .into());
        }
        let platform = options.text("platform").unwrap_or(DEFAULT_PLATFORM);
        let brand = options.text("brand");
        let history = match brand {
            Some(brand) => {
                self.store
                    .history(guild_id, brand, platform, day, &plugin.needs())
                    .await?
            }
            None => Default::default(),
        };
        let calculation = plugin.calculate(options, &history)?;
        let logged = match brand {
            Some(brand) if !calculation.store.is_empty() => {
                let snapshot = NewSnapshot {
                    guild_id,
                    brand,
                    platform,
                    day,
                    values: &calculation.store,
                    logged_by: user_id,
                    logged_at: self.clock.now(),
                    source: Source::Command,
                };
                Some(
                    self.store
                        .log(&snapshot, self.settings.brands.auto_create)
                        .await?,
                )
            }
            _ => None,
        };
        // A brand created by a typo splits the data; point at the name that was probably meant.
        let lookalike = match &logged {
            Some(logged) if logged.brand_created => {
                let brands = self.store.brands(guild_id).await?;
                crate::brands::lookalike(&logged.brand, brands.iter().map(|b| b.name.as_str()))
                    .map(str::to_string)
            }
            _ => None,
        };
        Ok(metric_reply(
            calculation,
            logged.map(|l| (l, platform, day)),
            lookalike,
        ))
    }

    /// Today in the configured timezone.
    fn today(&self) -> NaiveDate {
        let now = self.clock.now();
        match self.settings.timezone() {
            Ok(tz) => now.with_timezone(&tz).date_naive(),
            Err(_) => now.date_naive(),
        }
    }

    fn help(&self) -> Reply {
        let fields = usage(&self.commands)
            .into_iter()
            .map(|(line, description)| Field::new(line, description))
            .collect();
        Reply::embed(Embed {
            title: "metricord commands".to_string(),
            description: "Add `brand:` to a metric command to store its numbers as a snapshot for that brand; leave it out to just calculate. Every metric command also takes `platform:` and `date:` (YYYY-MM-DD, default today).".to_string(),
            fields,
            footer: None,
        })
    }
}

/// Every command for the plugins in `registry`: metrics first, then questions, data, help.
pub fn commands(registry: &Registry) -> Vec<CommandSpec> {
    let mut commands: Vec<CommandSpec> = registry.plugins().map(metric_command).collect();
    commands.extend(analysis::commands(registry));
    commands.push(brands::command());
    commands.extend(import::commands());
    commands.push(scheduler::command());
    commands.push(help_command());
    commands
}

/// What a command other than a metric works with: the guild it runs in, storage, plugins,
/// settings, and the time.
pub struct Context<'a> {
    pub store: &'a Store,
    pub registry: &'a Registry,
    pub settings: &'a Settings,
    pub benchmarks: &'a Benchmarks,
    pub guild_id: u64,
    pub user_id: u64,
    /// Today in the configured timezone.
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

impl Context<'_> {
    /// The guild's brand called `name`, or an error saying there is none.
    pub async fn brand(&self, name: &str) -> Result<Brand> {
        self.store.brand(self.guild_id, name).await?.ok_or_else(|| {
            UserError::UnknownBrand {
                name: name.trim().to_string(),
            }
            .into()
        })
    }

    /// The brands a question covers: a landscape's, or all the guild's, with a name for them.
    pub async fn scope(&self, landscape: Option<&str>) -> Result<(String, Vec<Brand>)> {
        match landscape {
            Some(name) => {
                let (name, brands) = self
                    .store
                    .landscape(self.guild_id, name)
                    .await?
                    .ok_or_else(|| UserError::UnknownLandscape {
                        name: name.trim().to_string(),
                    })?;
                Ok((name, brands))
            }
            None => Ok((
                "all brands".to_string(),
                self.store.brands(self.guild_id).await?,
            )),
        }
    }
}

/// A metric plugin's command with the options every metric shares.
fn metric_command(plugin: &dyn Plugin) -> CommandSpec {
    let mut spec = plugin.command();
    spec.options.extend([
        OptionSpec::brand(
            "brand",
            "Store the numbers for this brand (leave out to only calculate)",
        ),
        OptionSpec::new(
            "platform",
            "Social platform (default: other)",
            Kind::Choice(PLATFORMS.to_vec()),
        ),
        OptionSpec::new(
            "date",
            "Day the numbers are for, YYYY-MM-DD (default: today)",
            Kind::Date,
        ),
    ]);
    spec
}

fn help_command() -> CommandSpec {
    CommandSpec {
        name: "help",
        description: "List metricord's commands and what they compute",
        ..CommandSpec::default()
    }
}

/// Every runnable command's usage line with its description, subcommands spelled out:
/// `/ctr clicks impressions [brand] [platform] [date]`, `/brand add name [competitor] ...`.
pub fn usage(commands: &[CommandSpec]) -> Vec<(String, &'static str)> {
    let mut lines = Vec::new();
    for command in commands {
        let runnable: Vec<(String, &CommandSpec)> = if command.subcommands.is_empty() {
            vec![(format!("/{}", command.name), command)]
        } else {
            command
                .subcommands
                .iter()
                .map(|sub| (format!("/{} {}", command.name, sub.name), sub))
                .collect()
        };
        for (mut line, spec) in runnable {
            for option in &spec.options {
                if option.required {
                    line.push_str(&format!(" {}", option.name));
                } else {
                    line.push_str(&format!(" [{}]", option.name));
                }
            }
            lines.push((line, spec.description));
        }
    }
    lines
}

fn metric_reply(
    calculation: Calculation,
    logged: Option<(Logged, &str, NaiveDate)>,
    lookalike: Option<String>,
) -> Reply {
    let mut description = format!("`{}`", calculation.formula);
    for note in &calculation.notes {
        description.push_str(&format!("\n⚠️ {note}"));
    }
    let mut fields = calculation.fields;
    if let Some((logged, platform, day)) = logged {
        let mut stored = format!("{} · {platform} · {day}", logged.brand);
        match (logged.brand_created, lookalike) {
            (true, Some(other)) => stored.push_str(&format!(
                " (new brand: did you mean {other}? `/brand rename` or `/brand remove` mends a typo)"
            )),
            (true, None) => stored.push_str(" (new brand)"),
            _ => {}
        }
        if !logged.replaced.is_empty() {
            let earlier: Vec<String> = logged
                .replaced
                .iter()
                .map(|(series, value)| format!("{series} {}", crate::numbers::thousands(*value)))
                .collect();
            stored.push_str(&format!("; replaced the earlier {}", earlier.join(", ")));
        }
        fields.push(Field::new("Stored", stored));
    }
    Reply::embed(Embed {
        title: calculation.headline,
        description,
        fields,
        footer: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Value;
    use crate::settings::DatabaseSettings;
    use chrono::{TimeZone, Utc};

    async fn dispatcher(dir: &tempfile::TempDir, timezone: &str, clock: Clock) -> Dispatcher {
        let settings = Settings {
            timezone: timezone.to_string(),
            database: DatabaseSettings {
                url: format!("sqlite://{}/m.db", dir.path().display()),
                ..DatabaseSettings::default()
            },
            ..Settings::default()
        };
        let store = Store::open(&settings.database).await.unwrap();
        Dispatcher::new(Arc::new(settings), store, clock).unwrap()
    }

    fn invocation(guild_id: Option<u64>, command: &str, options: &[(&str, &str)]) -> Invocation {
        Invocation {
            guild_id,
            channel_id: 1,
            user_id: 2,
            can_manage_guild: false,
            command: command.to_string(),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), Value::Text(v.to_string())))
                .collect(),
        }
    }

    #[tokio::test]
    async fn the_default_date_is_today_in_the_configured_timezone() {
        let dir = tempfile::tempdir().unwrap();
        // 23:30 UTC on the 28th is already the 29th in Bucharest.
        let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 11, 28, 23, 30, 0).unwrap());
        let dispatcher = dispatcher(&dir, "Europe/Bucharest", clock).await;
        let reply = dispatcher
            .dispatch(invocation(
                Some(5),
                "mentions",
                &[("mentions", "3"), ("brand", "Acme")],
            ))
            .await;
        assert!(
            reply.embeds[0].fields[0]
                .value
                .ends_with("2026-11-29 (new brand)"),
            "{reply:?}"
        );
    }

    #[tokio::test]
    async fn commands_outside_a_server_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dispatcher = dispatcher(&dir, "UTC", Clock::System).await;
        let reply = dispatcher
            .dispatch(invocation(
                None,
                "ctr",
                &[("clicks", "1"), ("impressions", "2")],
            ))
            .await;
        assert!(reply.ephemeral);
        assert_eq!(
            reply.content,
            "`/ctr` works inside a server, not in direct messages."
        );
    }

    #[tokio::test]
    async fn typed_options_from_discord_are_checked_like_console_text() {
        let dir = tempfile::tempdir().unwrap();
        let dispatcher = dispatcher(&dir, "UTC", Clock::System).await;
        let mut call = invocation(Some(5), "ctr", &[]);
        call.options = vec![
            ("clicks".to_string(), Value::Integer(20)),
            ("impressions".to_string(), Value::Integer(100)),
        ];
        let reply = dispatcher.dispatch(call.clone()).await;
        assert_eq!(
            reply.embeds[0].title,
            "CTR 20.0% (95% CI 13.3-28.9%, n=100)"
        );
        call.options[1].1 = Value::Integer(-4);
        assert!(dispatcher.dispatch(call).await.ephemeral);
    }
}
