//! metricord: social-media metrics for a team, inside its Discord server.
//!
//! A team types `/ctr clicks:20 impressions:100` and gets the click-through rate with its formula
//! and its uncertainty; naming a brand stores the numbers as a snapshot for later questions.
//!
//! # Layout
//!
//! The data path runs top to bottom:
//!
//! - [`cli`]: the command line, choosing a front end or an operator task.
//! - [`discord`]: the Discord front end (serenity): registration, interactions, Discord's
//!   limits, posting digests. The only module that knows serenity.
//! - [`console`]: the console front end, reading commands as typed in Discord.
//! - [`dispatcher`]: one entry point for every front end: invocation in, reply out.
//! - [`command`]: the transport-neutral types a front end speaks: command specs, invocations,
//!   replies.
//! - [`plugin`]: the metric plugin trait and registry; the metrics themselves are in
//!   `plugins/`, one file each.
//! - The commands beyond the metrics: [`brands`] (brands and landscapes), [`analysis`]
//!   (reports, comparisons, trends, benchmarks), [`import`] (CSV in and out), [`scheduler`]
//!   (digest schedules and the worker that posts them) and [`digest`] (what a digest says).
//! - [`storage`]: the SQLite database and every query; schema in `migrations/`.
//! - Helpers: [`numbers`] (Wilson intervals, number formatting), [`period`] (7d, ytd, ranges),
//!   [`chart`] (PNG line charts), [`benchmarks`] (industry figures), [`settings`], [`clock`],
//!   [`error`] (error types and their user-facing wording).
//! - Tools for operators and developers: [`demo`] (a deterministic demo data set) and
//!   [`bench`] (the performance measurements of BENCHMARKS.md).

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
