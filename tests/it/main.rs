//! The integration tests, as one test binary: each module below was a binary of its own, and
//! every one of them linked serenity, sqlx and plotters again. One binary links them once.
//!
//! - `console`: the built binary driven through its console, the way an operator does.
//! - `alerts`: alert rules and goals judged over days of hand-set time, posted to the fake Discord.
//! - `analysis`: questions over stored data (reports, comparisons, trends, imports, exports).
//! - `digest`: scheduled digests over weeks of hand-set time, posted to the fake Discord.
//! - `discord`: the real serenity client against the fake Discord in `support/`.
//! - `reliability`: the promises of RELIABILITY.md, one test (or a few) each.
//! - `storage`: the storage layer itself on both backends, and what each backend promises.
//! - `faults`: faults of the database and its disk: full, damaged, deleted, foreign, busy.
//! - `operators`: moving data between backends, backups and restores, a database outage.
//! - `bench`: `metricord bench` on a tiny data set, checking every answer.
//! - `views`: what `/compare` lists and what `/trend` hands the chart renderer, value by value.
//! - `scale`: several bot processes of a few shards each sharing one PostgreSQL database.
//! - `collect`: the Bluesky, Mastodon and YouTube collectors against the fake platforms in
//!   `support/`, with paused time.
//! - `tracking`: `/track`, polls and collection rounds through storage, against the same fakes.
//!
//! Tests that touch storage run on SQLite and on PostgreSQL (`NAME::on_sqlite`,
//! `NAME::on_postgres`): set `METRICORD_TEST_POSTGRES_URL` to a server's URL for the second, see
//! `support`.

mod alerts;
mod analysis;
mod bench;
mod collect;
mod console;
mod digest;
mod discord;
mod faults;
mod operators;
mod reliability;
mod scale;
mod storage;
mod support;
mod tracking;
mod views;
