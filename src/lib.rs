//! metricord: social-media metrics for a team, inside its Discord server.
//!
//! A team types `/ctr clicks:20 impressions:100` and gets the click-through rate with its formula
//! and its uncertainty; naming a brand stores the numbers as a snapshot for later questions.
//!
//! # Layout
//!
//! The data path runs top to bottom, and every module imports only from those below it:
//!
//! - Front ends: [`cli`] (the command line, choosing a front end or an operator task),
//!   [`discord`] (serenity: registration, interactions, posting, which gateway shards a
//!   process runs; the only module that knows serenity) and [`console`] (commands typed as in Discord).
//! - [`dispatcher`]: one entry point for every front end. It checks the invocation against the
//!   command's spec and routes it to the handler the command was declared with; it computes
//!   nothing itself.
//! - Features, each exporting its commands paired with their handlers: [`metrics`] (a command
//!   per metric plugin, storing snapshots), [`brands`] (brands and landscapes), [`analysis`]
//!   (reports, comparisons, benchmarks; on [`totals`], brands' totals per platform and across
//!   them), [`trend`] (charts over time), [`import`] (CSV in and out), [`tracking`] (accounts
//!   whose public numbers are collected, their polls, and how fresh collected figures are),
//!   [`scheduler`] (digest schedules and the worker that posts them, runs the collection rounds
//!   and looks at alerts and goals), [`digest`] (what a digest says), [`alerts`] (rules that
//!   tell a channel when a metric spikes, dips or crosses a value) and [`goals`] (targets and
//!   their pace).
//! - [`services`]: what the features share (storage, plugins, settings, benchmarks, clock, the
//!   hook that posts to Discord) and the per-call context; the scheduler holds these, never the
//!   dispatcher.
//! - [`plugins`]: the ten metrics, one file each under `plugins/`, and the registry of the
//!   enabled ones; [`plugin`] is the trait they implement and the data that flows through it.
//! - [`storage`]: every query, behind one `Database` trait split by concern (brands,
//!   snapshots, schedules, tracking, alerts and goals, transfer) with two backends, SQLite (the
//!   embedded default) and
//!   PostgreSQL (shared by several processes); schemas in `migrations/sqlite/` and
//!   `migrations/postgres/`.
//! - [`collect`]: reading public numbers from Bluesky, Mastodon and YouTube (one client per
//!   network behind one trait, one shared careful HTTP client); it stores nothing itself.
//! - Below everything: [`command`] (the transport-neutral specs, invocations and replies),
//!   [`limits`] (Discord's limits, and fitting replies inside them), [`numbers`] (Wilson
//!   intervals, number formatting), [`statistics`] (median, MAD, robust z, pacing,
//!   projection), [`period`] (7d, ytd, ranges), [`cron`] (schedules in a
//!   timezone), [`chart`] (PNG line charts for slides), [`benchmarks`] (industry figures), [`settings`]
//!   (typed once, at start), [`clock`], [`error`] (error types and their user-facing wording),
//!   [`files`] (local files read with a cap and written without following links), [`names`]
//!   (what a brand or landscape name must be).
//! - Tools for operators and developers: [`demo`] (a deterministic demo data set) and
//!   [`bench`] (the performance measurements of BENCHMARKS.md).

pub mod alerts;
pub mod analysis;
pub mod bench;
pub mod benchmarks;
pub mod brands;
pub mod chart;
pub mod cli;
pub mod clock;
pub mod collect;
pub mod command;
pub mod console;
pub mod cron;
pub mod demo;
pub mod digest;
pub mod discord;
pub mod dispatcher;
pub mod error;
pub mod files;
pub mod goals;
pub mod import;
pub mod limits;
pub mod metrics;
pub mod names;
pub mod numbers;
pub mod period;
pub mod plugin;
#[path = "../plugins/mod.rs"]
pub mod plugins;
pub mod scheduler;
pub mod services;
pub mod settings;
pub mod statistics;
pub mod storage;
pub mod totals;
pub mod tracking;
pub mod trend;
