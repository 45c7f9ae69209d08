//! The Discord front end: a serenity client that registers every command from the dispatcher
//! and answers interactions through it. Only this module knows serenity.
//!
//! An interaction must be answered within three seconds. Commands that declare themselves slow
//! (imports, charts) are acknowledged at once and their answer is edited in when ready; any
//! other command that overruns [`ANSWER_BUDGET`] is acknowledged then, so that a slow disk never
//! makes an answer vanish. Errors are ephemeral, results public. With `api_proxy` set, every REST
//! call goes to that server instead of discord.com: an HTTP rate-limit proxy in production, a
//! fake Discord in the tests.

mod convert;
mod fit;
pub mod shards;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serenity::all::ClientBuilder;
use serenity::all::{
    ChannelId, Command, CommandInteraction, Context, CreateAutocompleteResponse,
    CreateInteractionResponse, CreateInteractionResponseMessage, EventHandler, GatewayIntents,
    GuildId, HttpBuilder, Interaction, Ready,
};
use serenity::http::{Http, HttpError, StatusCode};
use tokio::sync::Semaphore;

use crate::command::Reply;
use crate::dispatcher::Dispatcher;
use crate::error::{Error, Result};
use crate::limits;
use crate::scheduler::Scheduler;
use crate::services::{Outgoing, Post, PostError};

pub use convert::create_command;

/// How long a command may run before its answer is deferred: Discord allows three seconds for
/// the first response, and the response itself needs time to travel.
pub const ANSWER_BUDGET: Duration = Duration::from_millis(2_000);

/// Interactions handled at once; more wait for a place. Also what shutdown waits for.
const MAX_IN_FLIGHT: u32 = 10_000;

/// How often the digest worker looks for due digests.
pub const SCHEDULER_EVERY: Duration = Duration::from_secs(20);

/// Where the bot connects and which commands it registers where.
#[derive(Debug, Clone)]
pub struct Connection {
    pub token: SecretString,
    /// Base URL replacing `https://discord.com` for REST calls, such as `http://127.0.0.1:3000`.
    pub api_proxy: Option<String>,
    /// Register commands in these guilds (instant, for development) instead of globally.
    pub guild_ids: Vec<u64>,
    /// Which gateway shards this process runs (the `--shards` and `--total-shards` flags).
    pub shards: shards::Plan,
    /// How often the digest worker looks for due digests: [`SCHEDULER_EVERY`], shorter in tests
    /// that move a hand-set clock.
    pub scheduler_every: Duration,
}

/// Connects to Discord and answers interactions until `shutdown` completes, then closes the
/// shards and waits for the commands still running.
pub async fn run(
    connection: Connection,
    dispatcher: Arc<Dispatcher>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let mut http = HttpBuilder::new(connection.token.expose_secret());
    if let Some(proxy) = &connection.api_proxy {
        // serenity 0.12's ratelimiter builds requests without the proxy, so with it on every
        // request would still go to discord.com; the proxy owns rate limits instead.
        http = http
            .proxy(proxy.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    let http = http.build();
    let user = with_retries(|| http.get_current_user())
        .await
        .map_err(|err| match status(&err) {
            Some(StatusCode::UNAUTHORIZED) => Error::TokenRejected,
            _ => Error::Discord(err.to_string()),
        })?;
    tracing::info!(bot = %user.name, "logged in to Discord");
    let backend = dispatcher
        .services()
        .settings
        .database
        .backend()
        .map_err(|message| Error::Settings {
            path: "database.url".into(),
            message,
        })?;
    let ours = connection
        .shards
        .resolve(backend, || async {
            let gateway = with_retries(|| http.get_bot_gateway())
                .await
                .map_err(|err| Error::Discord(format!("GET /gateway/bot: {err}")))?;
            Ok(gateway.shards)
        })
        .await?;
    tracing::info!(shards = %ours, "starting the gateway connections");

    let services = dispatcher.services().clone();
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT as usize));
    let handler = Handler {
        dispatcher,
        guild_ids: connection.guild_ids,
        registered: AtomicBool::new(false),
        in_flight: in_flight.clone(),
    };
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler(handler)
        .await
        .map_err(|err| Error::Discord(err.to_string()))?;
    let post = channel_poster(client.http.clone());
    services.set_poster(post.clone());
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let (clock, catch_up) = (services.clock.clone(), services.settings.digest.catch_up);
    let scheduler = Scheduler::new(services, post, clock, catch_up);
    let worker = tokio::spawn(scheduler.run(connection.scheduler_every, async move {
        let _ = stopped.changed().await;
    }));
    let shards = client.shard_manager.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: closing shards");
        let _ = stop.send(true);
        shards.shutdown_all().await;
    });
    // serenity 0.12 reads the range's end as the last shard to run, not one past it: 0..3
    // starts shards 0, 1, 2 and 3.
    client
        .start_shard_range(ours.first..ours.last, ours.total)
        .await
        .map_err(|err| Error::Discord(err.to_string()))?;
    // Every running command holds a permit; taking them all waits for the last to finish.
    let _all = in_flight.acquire_many(MAX_IN_FLIGHT).await;
    if let Err(err) = worker.await {
        tracing::error!(error = %err, "the digest worker stopped abnormally");
    }
    tracing::info!("all commands finished");
    Ok(())
}

struct Handler {
    dispatcher: Arc<Dispatcher>,
    guild_ids: Vec<u64>,
    registered: AtomicBool,
    in_flight: Arc<Semaphore>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(guilds = ready.guilds.len(), "connected to the gateway");
        // A fresh IDENTIFY after a lost session sends READY again; registering once is enough.
        if !self.registered.swap(true, Ordering::SeqCst) {
            self.register(&ctx).await;
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let Ok(_permit) = self.in_flight.acquire().await else {
            return;
        };
        match interaction {
            Interaction::Command(command) => self.command(&ctx, command).await,
            Interaction::Autocomplete(autocomplete) => self.autocomplete(&ctx, autocomplete).await,
            _ => {}
        }
    }
}

impl Handler {
    /// Registers every command (a bulk overwrite, so registering again changes nothing).
    async fn register(&self, ctx: &Context) {
        let commands: Vec<_> = self
            .dispatcher
            .commands()
            .iter()
            .map(create_command)
            .collect();
        let names: Vec<&str> = self.dispatcher.commands().iter().map(|c| c.name).collect();
        if self.guild_ids.is_empty() {
            match with_retries(|| Command::set_global_commands(&ctx.http, commands.clone())).await {
                Ok(_) => tracing::info!(?names, "registered commands globally"),
                Err(err) => tracing::error!(error = %err, "registering commands failed"),
            }
        }
        for &guild in &self.guild_ids {
            let guild = GuildId::new(guild);
            match with_retries(|| guild.set_commands(&ctx.http, commands.clone())).await {
                Ok(_) => tracing::info!(%guild, ?names, "registered commands in guild"),
                Err(err) => tracing::error!(%guild, error = %err, "registering commands failed"),
            }
        }
    }

    async fn command(&self, ctx: &Context, interaction: CommandInteraction) {
        let invocation = match convert::invocation(&interaction).await {
            Ok(invocation) => invocation,
            Err(err) => {
                return self
                    .answer(ctx, &interaction, Reply::error(err.to_string()))
                    .await;
            }
        };
        let slow = self
            .dispatcher
            .spec(&invocation.command)
            .is_ok_and(|spec| spec.slow);
        // A deferred (public) answer can no longer be private: refuse what will be refused
        // before deferring.
        if slow && let Err(err) = self.dispatcher.precheck(&invocation) {
            return self
                .answer(ctx, &interaction, Reply::error(err.to_string()))
                .await;
        }
        let dispatcher = self.dispatcher.clone();
        let limit = interaction.attachment_size_limit;
        let mut work = tokio::spawn(async move {
            within_upload_limit(dispatcher.dispatch(invocation).await, limit)
        });
        if !slow && let Ok(done) = tokio::time::timeout(ANSWER_BUDGET, &mut work).await {
            return self.answer(ctx, &interaction, finished(done)).await;
        }
        let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new());
        if let Err(err) =
            with_retries(|| interaction.create_response(&ctx.http, defer.clone())).await
        {
            tracing::warn!(error = %err, "deferring failed");
        }
        let reply = finished(work.await);
        self.complete(ctx, &interaction, reply).await;
    }

    /// Answers an interaction that has not been answered yet.
    async fn answer(&self, ctx: &Context, interaction: &CommandInteraction, reply: Reply) {
        let mut parts = fit::fit(reply).into_iter();
        if let Some(first) = parts.next() {
            let response = CreateInteractionResponse::Message(convert::response(&first));
            if let Err(err) =
                with_retries(|| interaction.create_response(&ctx.http, response.clone())).await
            {
                tracing::warn!(error = %err, "answering an interaction failed");
                return;
            }
        }
        self.follow_up(ctx, interaction, parts).await;
    }

    /// Completes a deferred answer by editing it. An error replaces the public "thinking"
    /// message with an ephemeral one, since errors are for the person who typed the command.
    async fn complete(&self, ctx: &Context, interaction: &CommandInteraction, reply: Reply) {
        let mut parts = fit::fit(reply).into_iter();
        let Some(first) = parts.next() else { return };
        if first.ephemeral {
            if let Err(err) = with_retries(|| interaction.delete_response(&ctx.http)).await {
                tracing::warn!(error = %err, "removing the deferred answer failed");
            }
            return self
                .follow_up(ctx, interaction, std::iter::once(first).chain(parts))
                .await;
        }
        let edit = convert::edit(&first);
        if let Err(err) = with_retries(|| interaction.edit_response(&ctx.http, edit.clone())).await
        {
            tracing::warn!(error = %err, "completing a deferred answer failed");
        }
        self.follow_up(ctx, interaction, parts).await;
    }

    async fn follow_up(
        &self,
        ctx: &Context,
        interaction: &CommandInteraction,
        parts: impl Iterator<Item = Reply>,
    ) {
        for part in parts {
            let message = convert::followup(&part);
            if let Err(err) =
                with_retries(|| interaction.create_followup(&ctx.http, message.clone())).await
            {
                tracing::warn!(error = %err, "a follow-up message failed");
            }
        }
    }

    async fn autocomplete(&self, ctx: &Context, interaction: CommandInteraction) {
        let (Some(guild), Some(focused)) = (interaction.guild_id, interaction.data.autocomplete())
        else {
            return;
        };
        let mut command = interaction.data.name.clone();
        if let Some(sub) = interaction.data.options.first().filter(|o| {
            matches!(
                o.value,
                serenity::all::CommandDataOptionValue::SubCommand(_)
            )
        }) {
            command = format!("{command} {}", sub.name);
        }
        let suggestions = self
            .dispatcher
            .autocomplete(guild.get(), &command, focused.name, focused.value)
            .await;
        let mut response = CreateAutocompleteResponse::new();
        for suggestion in suggestions.into_iter().take(limits::CHOICES) {
            let label = fit::trim(&suggestion, limits::CHOICE_TEXT);
            response = response.add_string_choice(label, suggestion);
        }
        let response = CreateInteractionResponse::Autocomplete(response);
        if let Err(err) =
            with_retries(|| interaction.create_response(&ctx.http, response.clone())).await
        {
            tracing::warn!(error = %err, "answering autocomplete failed");
        }
    }
}

/// Posts digests to channels through `http`: each message with allowed mentions none and a
/// nonce Discord enforces, so a post retried after a lost answer returns the first message
/// instead of posting again. A channel that is gone (404) or closed to the bot (403) is final.
pub fn channel_poster(http: Arc<Http>) -> Post {
    Arc::new(move |outgoing: Outgoing| {
        let http = http.clone();
        Box::pin(async move {
            let channel = ChannelId::new(outgoing.channel_id.max(1));
            for (i, message) in fit::fit(outgoing.digest).iter().enumerate() {
                let nonce = if i == 0 {
                    outgoing.nonce.clone()
                } else {
                    format!("{}-{i}", outgoing.nonce)
                };
                // Only the first message carries the role's mention.
                let role = outgoing.ping_role.filter(|_| i == 0);
                let builder = convert::channel_message(message, nonce, role);
                if let Err(err) =
                    with_retries(|| channel.send_message(&http, builder.clone())).await
                {
                    return Err(match status(&err) {
                        Some(StatusCode::FORBIDDEN) => PostError::Gone(
                            "the bot may not post in that channel (403)".to_string(),
                        ),
                        Some(StatusCode::NOT_FOUND) => {
                            PostError::Gone("the channel no longer exists (404)".to_string())
                        }
                        // Other refusals (400, 413) are about the message, and the same message
                        // will be refused again.
                        Some(status)
                            if status.is_client_error()
                                && status != StatusCode::TOO_MANY_REQUESTS =>
                        {
                            PostError::Gone(format!("Discord refused the digest ({status})"))
                        }
                        _ => PostError::Retry(err.to_string()),
                    });
                }
            }
            Ok(())
        })
    })
}

/// A reply whose files Discord would refuse (larger than this server's upload limit) becomes
/// an error that says how to get the data instead.
fn within_upload_limit(reply: Reply, limit: u32) -> Reply {
    let size: usize = reply.attachments.iter().map(|f| f.bytes.len()).sum();
    let limit = convert::upload_limit(limit);
    if size <= limit {
        return reply;
    }
    Reply::error(
        crate::error::UserError::TooLargeForDiscord {
            megabytes: size.div_ceil(1024 * 1024),
            limit: limit / (1024 * 1024),
        }
        .to_string(),
    )
}

/// The reply of a finished command task; a panic in it becomes the internal-error line.
fn finished(done: std::result::Result<Reply, tokio::task::JoinError>) -> Reply {
    done.unwrap_or_else(|err| {
        tracing::error!(error = %err, "a command panicked");
        Reply::error(crate::error::INTERNAL_ERROR.to_string())
    })
}

fn status(err: &serenity::Error) -> Option<StatusCode> {
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => {
            Some(response.status_code)
        }
        _ => None,
    }
}

/// Attempts before a REST call is given up.
const ATTEMPTS: u32 = 5;

/// Runs a REST call, retrying rate limits (429), Discord's own failures (5xx) and requests that
/// never got an answer, with exponential backoff. With the ratelimiter off (behind a proxy)
/// these retries are what stands between a busy moment and a lost answer.
pub async fn with_retries<T, F, Fut>(mut call: F) -> serenity::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = serenity::Result<T>>,
{
    let mut delay = Duration::from_millis(250);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(err) if attempt < ATTEMPTS && retryable(&err) => {
                tracing::warn!(attempt, error = %err, "Discord call failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn retryable(err: &serenity::Error) -> bool {
    match err {
        serenity::Error::Http(HttpError::Request(_)) => true,
        other => {
            status(other).is_some_and(|s| s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error())
        }
    }
}
