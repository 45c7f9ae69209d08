//! What every feature works with: the shared [`Services`] (storage, plugins, settings,
//! benchmarks, the clock, the platform collectors and, once a front end can post, the [`Post`] hook), the per-call
//! [`Context`] a command runs in, and [`Command`], which pairs a command's spec with the handler
//! that runs it.
//!
//! This module sits below the features and above storage: the dispatcher builds a context for
//! each call and routes it to a handler; the scheduler holds the services it uses, never the
//! dispatcher. Pairing spec and handler in one value means a command cannot be declared without
//! something to run it, and nothing can be routed that was not declared.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, NaiveDate, Utc};

use crate::benchmarks::Benchmarks;
use crate::clock::Clock;
use crate::collect::Collectors;
use crate::command::{CommandSpec, Options, Reply};
use crate::error::{Result, UserError};
use crate::plugins::Registry;
use crate::settings::Settings;
use crate::storage::{Brand, Store};

/// The services shared by every call and task of one process.
pub struct Services {
    pub store: Store,
    pub registry: Registry,
    pub settings: Arc<Settings>,
    pub benchmarks: Benchmarks,
    pub clock: Clock,
    /// The Bluesky, Mastodon and YouTube clients, sharing one careful HTTP client.
    pub collectors: Collectors,
    /// How messages reach Discord; set by the Discord front end once it is connected.
    poster: OnceLock<Post>,
}

impl Services {
    /// The services for the enabled plugins, reading the industry benchmarks file.
    pub fn new(settings: Arc<Settings>, store: Store, clock: Clock) -> Result<Services> {
        Ok(Services {
            registry: Registry::new(&settings.plugins.enabled),
            benchmarks: Benchmarks::load(Path::new(&settings.benchmarks))?,
            collectors: Collectors::new(&settings.collect, clock.clone())
                .map_err(|err| crate::error::Error::Collect(err.to_string()))?,
            store,
            settings,
            clock,
            poster: OnceLock::new(),
        })
    }

    /// Lets `/digest run` post, once a front end can.
    pub fn set_poster(&self, post: Post) {
        let _ = self.poster.set(post);
    }

    /// Today in the configured timezone.
    pub fn today(&self) -> NaiveDate {
        self.clock
            .now()
            .with_timezone(&self.settings.timezone)
            .date_naive()
    }

    /// The context of a call in `guild_id` by `user_id`, as of now.
    pub fn context(&self, guild_id: u64, user_id: u64) -> Context<'_> {
        Context {
            store: &self.store,
            registry: &self.registry,
            settings: &self.settings,
            benchmarks: &self.benchmarks,
            collectors: &self.collectors,
            clock: &self.clock,
            poster: self.poster.get(),
            commands: &[],
            command: "",
            upload_limit: None,
            guild_id,
            user_id,
            today: self.today(),
            now: self.clock.now(),
        }
    }
}

/// What a command works with: the guild it runs in, the shared services, and the time.
pub struct Context<'a> {
    pub store: &'a Store,
    pub registry: &'a Registry,
    pub settings: &'a Settings,
    pub benchmarks: &'a Benchmarks,
    pub collectors: &'a Collectors,
    /// The clock `now` was read from, for work that outlasts the call's start (a poll).
    pub clock: &'a Clock,
    /// How to post to a channel, when a front end that can is running.
    pub poster: Option<&'a Post>,
    /// Every command's spec, for `/help`.
    pub commands: &'a [CommandSpec],
    /// The command path being run, such as `ctr` or `brand add`.
    pub command: &'a str,
    /// The largest file the reply may carry, when the front end has one (Discord's upload
    /// limit for the server).
    pub upload_limit: Option<usize>,
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

/// The future a handler returns.
pub type Running<'a> = Pin<Box<dyn Future<Output = Result<Reply>> + Send + 'a>>;

/// What runs a command: validated options in, a reply (or an error worded in `error.rs`) out.
pub type Handler = for<'a> fn(&'a Context<'a>, Options) -> Running<'a>;

/// A handler from an `async fn(&Context, &Options) -> Result<Reply>`, or with `owned` from an
/// `async fn(&Context, Options)` that takes what it needs out of the options (a file to move
/// to another thread).
#[macro_export]
macro_rules! handler {
    ($run:path) => {
        |ctx, options| ::std::boxed::Box::pin(async move { $run(ctx, &options).await })
    };
    (owned $run:path) => {
        |ctx, options| ::std::boxed::Box::pin($run(ctx, options))
    };
}

/// A command with what runs it: a handler, or for a command with subcommands (`/brand add`,
/// `/brand list`) a handler for each subcommand.
pub struct Command {
    pub spec: CommandSpec,
    run: Run,
}

enum Run {
    Handler(Handler),
    Subcommands(Vec<(&'static str, Handler)>),
}

impl Command {
    /// A command without subcommands, run by `handler`.
    pub fn new(spec: CommandSpec, handler: Handler) -> Command {
        Command {
            spec,
            run: Run::Handler(handler),
        }
    }

    /// A command made of subcommands, each with its own handler.
    pub fn group(
        name: &'static str,
        description: &'static str,
        subcommands: Vec<(CommandSpec, Handler)>,
    ) -> Command {
        let (specs, handlers) = subcommands
            .into_iter()
            .map(|(spec, handler)| {
                let name = spec.name;
                (spec, (name, handler))
            })
            .unzip();
        Command {
            spec: CommandSpec {
                name,
                description,
                subcommands: specs,
                ..CommandSpec::default()
            },
            run: Run::Subcommands(handlers),
        }
    }

    /// Every runnable path of this command (`ctr`; `brand add`, `brand list`) with its handler.
    pub fn routes(&self) -> Vec<(String, Handler)> {
        match &self.run {
            Run::Handler(handler) => vec![(self.spec.name.to_string(), *handler)],
            Run::Subcommands(subs) => subs
                .iter()
                .map(|(sub, handler)| (format!("{} {sub}", self.spec.name), *handler))
                .collect(),
        }
    }
}

/// Why a post failed.
#[derive(Debug, Clone, PartialEq)]
pub enum PostError {
    /// Worth trying again later (Discord was down or busy after every retry).
    Retry(String),
    /// The channel is gone or the bot may not post there: retrying will not help.
    Gone(String),
}

/// A message on its way to a channel, with a nonce that makes a retried post return the first
/// message instead of posting again. The front end splits it into messages it can carry.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub channel_id: u64,
    pub nonce: String,
    pub digest: Reply,
    /// The one role the message may ping; `None` pings nobody.
    pub ping_role: Option<u64>,
}

/// Posts a message to a channel. The Discord front end provides it; the core never talks to
/// Discord.
pub type Post = Arc<
    dyn Fn(Outgoing) -> Pin<Box<dyn Future<Output = Result<(), PostError>> + Send>> + Send + Sync,
>;
