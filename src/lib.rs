//! metricord: social-media metrics for a team, inside its Discord server.
//!
//! A team types `/ctr clicks:20 impressions:100` and gets the click-through rate with its formula
//! and its uncertainty; naming a brand stores the numbers as a snapshot for later questions.
//!
//! # Layout
//!
//! The data path runs top to bottom:
//!
//! - [`cli`]: the command line, choosing a front end.
//! - [`discord`]: the Discord front end (serenity): registration, interactions, Discord's
//!   limits. The only module that knows serenity.
//! - [`console`]: the console front end, reading commands as typed in Discord.
//! - [`dispatcher`]: one entry point for every front end: invocation in, reply out.
//! - [`command`]: the transport-neutral types a front end speaks: command specs, invocations,
//!   replies.
//! - [`plugin`]: the metric plugin trait and registry; the metrics themselves are in
//!   `plugins/`, one file each.
//! - [`numbers`]: shared arithmetic (Wilson intervals) and number formatting.
//! - [`storage`]: the SQLite database and every query.
//! - [`settings`], [`clock`], [`error`]: settings loaded once, the injectable clock, and the
//!   error types with their user-facing wording.

pub mod analysis;
pub mod bench;
pub mod benchmarks;
pub mod brands;
pub mod chart;
pub mod cli;
pub mod clock;
pub mod command;
pub mod console;
pub mod demo;
pub mod digest;
pub mod discord;
pub mod dispatcher;
pub mod error;
pub mod import;
pub mod numbers;
pub mod period;
pub mod plugin;
#[path = "../plugins/mod.rs"]
pub mod plugins;
pub mod scheduler;
pub mod settings;
pub mod storage;
