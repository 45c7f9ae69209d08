//! The integration tests, as one test binary: each module below was a binary of its own, and
//! every one of them linked serenity, sqlx and plotters again. One binary links them once.
//!
//! - `console`: the built binary driven through its console, the way an operator does.
//! - `analysis`: questions over stored data (reports, comparisons, trends, imports, exports).
//! - `digest`: scheduled digests over weeks of hand-set time, posted to the fake Discord.
//! - `discord`: the real serenity client against the fake Discord in `support/`.
//! - `reliability`: the promises of RELIABILITY.md, one test (or a few) each.
//! - `bench`: `metricord bench` on a tiny data set, checking every answer.
//! - `collect`: the Bluesky, Mastodon and YouTube collectors against the fake platforms in
//!   `support/`, with paused time.

mod analysis;
mod bench;
mod collect;
mod console;
mod digest;
mod discord;
mod reliability;
mod support;
