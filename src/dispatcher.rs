//! The dispatcher: one entry point that every front end calls with an [`Invocation`] and that
//! answers with a [`Reply`].
//!
//! It only routes. It finds the command, checks the member's permissions and the options against
//! the command's spec, and hands the validated options to the handler the command was declared
//! with (see [`Command`]). Errors become replies here and nowhere else: a user error is shown as
//! it is worded in `error.rs`, anything else is logged in full and shown as a short
//! internal-error line.

use std::collections::HashMap;
use std::sync::Arc;

use crate::clock::Clock;
use crate::command::{CommandSpec, Embed, Field, Invocation, Kind, OptionSpec, Options, Reply};
use crate::error::{Error, Result, UserError};
use crate::handler;
use crate::limits::SUGGESTIONS;
use crate::plugins::Registry;
use crate::services::{Command, Context, Handler, Services};
use crate::settings::Settings;
use crate::storage::Store;
use crate::{alerts, analysis, brands, goals, import, metrics, scheduler, tracking, trend};

pub struct Dispatcher {
    services: Arc<Services>,
    /// Every command's spec, built once: front ends list them, every call looks one up.
    commands: Vec<CommandSpec>,
    /// The handler of every runnable path (`ctr`, `brand add`).
    routes: HashMap<String, Handler>,
}

impl Dispatcher {
    /// A dispatcher for the enabled plugins, reading the industry benchmarks file.
    pub fn new(settings: Arc<Settings>, store: Store, clock: Clock) -> Result<Dispatcher> {
        let services = Arc::new(Services::new(settings, store, clock)?);
        let mut commands = Vec::new();
        let mut routes = HashMap::new();
        for command in all_commands(&services.registry) {
            routes.extend(command.routes());
            commands.push(command.spec);
        }
        Ok(Dispatcher {
            services,
            commands,
            routes,
        })
    }

    /// What the commands share: storage, plugins, settings, the clock; the scheduler runs on it.
    pub fn services(&self) -> &Arc<Services> {
        &self.services
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
            .services
            .store
            .suggestions(guild_id, suggest, typed, SUGGESTIONS)
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
    /// work, so that a refusal can still be private. Nothing is copied to check it: an
    /// attachment is looked at where it lies.
    pub fn precheck(&self, invocation: &Invocation) -> Result<(), UserError> {
        let (_, _, spec) = self.allowed(invocation)?;
        spec.validate(&invocation.options)
    }

    /// The guild, the command's path and its spec, once the member may run it there.
    fn allowed(&self, invocation: &Invocation) -> Result<(u64, String, &CommandSpec), UserError> {
        let path = invocation.command.trim_start_matches('/').to_lowercase();
        let Some(guild_id) = invocation.guild_id else {
            return Err(UserError::GuildOnly { command: path });
        };
        let spec = self.spec(&path)?;
        if spec.manages_data && !invocation.can_manage_guild {
            return Err(UserError::NeedsManageServer { command: path });
        }
        Ok((guild_id, path, spec))
    }

    async fn run(&self, mut invocation: Invocation) -> Result<Reply> {
        let (guild_id, path, spec) = self.allowed(&invocation)?;
        let options: Options = spec.check(std::mem::take(&mut invocation.options))?;
        let Some(handler) = self.routes.get(&path) else {
            return Err(UserError::UnknownCommand { name: path }.into());
        };
        let ctx = Context {
            commands: &self.commands,
            command: &path,
            upload_limit: invocation.upload_limit,
            ..self.services.context(guild_id, invocation.user_id)
        };
        handler(&ctx, options).await
    }
}

/// Every command for the plugins in `registry`, paired with its handler: metrics first, then
/// questions, data, help.
fn all_commands(registry: &Registry) -> Vec<Command> {
    let mut commands = metrics::commands(registry);
    let [report, compare, benchmark] = analysis::commands(registry);
    commands.extend([report, compare, trend::command(registry), benchmark]);
    commands.push(brands::command());
    commands.push(tracking::command());
    commands.extend(import::commands());
    commands.push(scheduler::command());
    commands.push(alerts::command(registry));
    commands.push(goals::command(registry));
    commands.push(Command::new(
        CommandSpec {
            name: "help",
            description: "List metricord's commands and what they compute",
            options: vec![OptionSpec::new(
                "command",
                "Only this command's help, with each of its options (such as ctr)",
                Kind::Text { max_len: 40 },
            )],
            ..CommandSpec::default()
        },
        handler!(help),
    ));
    commands
}

/// Every command's spec for the plugins in `registry`, as front ends and the README list them.
pub fn commands(registry: &Registry) -> Vec<CommandSpec> {
    all_commands(registry).into_iter().map(|c| c.spec).collect()
}

/// `/help [command]`
async fn help(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    if let Some(name) = options.text("command") {
        return command_help(ctx.commands, name);
    }
    let fields = usage(ctx.commands)
        .into_iter()
        .map(|(line, description)| Field::new(line, description))
        .collect();
    Ok(Reply::embed(Embed {
        title: "metricord commands".to_string(),
        description: "Add `brand:` to a metric command to store its numbers as a snapshot for that brand; leave it out to just calculate. Every metric command also takes `platform:` and `date:` (YYYY-MM-DD, default today).".to_string(),
        fields,
        footer: None,
    }))
}

/// One command's help: its usage lines (one per subcommand) and what each option takes.
fn command_help(commands: &[CommandSpec], name: &str) -> Result<Reply> {
    let name = name.trim().trim_start_matches('/').to_lowercase();
    let spec = commands
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| UserError::UnknownCommand { name: name.clone() })?;
    let mut fields = Vec::new();
    let specs: Vec<&CommandSpec> = if spec.subcommands.is_empty() {
        vec![spec]
    } else {
        spec.subcommands.iter().collect()
    };
    for ((line, description), sub) in usage(std::slice::from_ref(spec)).into_iter().zip(specs) {
        // A command without subcommands has its description in the title already.
        let mut lines: Vec<String> = Vec::new();
        if !spec.subcommands.is_empty() {
            lines.push(description.to_string());
        }
        for option in &sub.options {
            lines.push(format!(
                "`{}`{}: {}",
                option.name,
                if option.required { " (required)" } else { "" },
                option.description
            ));
        }
        fields.push(Field::new(line, lines.join("\n")));
    }
    Ok(Reply::embed(Embed {
        title: format!("/{}", spec.name),
        description: spec.description.to_string(),
        fields,
        footer: None,
    }))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Value;
    use crate::settings::DatabaseSettings;
    use chrono::{TimeZone, Utc};

    async fn dispatcher(dir: &tempfile::TempDir, timezone: &str, clock: Clock) -> Dispatcher {
        let settings = Settings {
            timezone: timezone.parse().unwrap(),
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
            upload_limit: None,
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
                .contains("2026-11-29 (new brand)"),
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
