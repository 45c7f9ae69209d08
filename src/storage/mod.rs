//! Storage: every query metricord runs, behind one [`Database`] trait with two backends on
//! sqlx's own drivers, [`Sqlite`] (the embedded default) and [`Postgres`] (a server several
//! processes share). Features use it through [`Store`]; the schema of each backend is in
//! `migrations/sqlite/` and `migrations/postgres/`, applied at start.
//!
//! Which file holds what:
//! - `brands.rs`: brands and landscapes ([`Brands`]).
//! - `snapshots.rs`: storing snapshots and every question over them: log, history, aggregate,
//!   values, snapshots, suggestions ([`Snapshots`]).
//! - `imports.rs`: many rows stored at once, all or none ([`Imports`]).
//! - `schedules.rs`: digest schedules and their runs, claimed exactly once ([`Schedules`]).
//! - `tracking.rs`: tracked accounts, their polls claimed exactly once, and the posts collected
//!   from them ([`Tracking`]).
//! - `alerts.rs`: alert rules, goals, and the events each posts, claimed exactly once
//!   ([`Alerts`]).
//! - `transfer.rs`: every row of every table out and in, for `migrate-data` and backups
//!   ([`Transfer`]).
//! - `dump.rs`: the rows a move carries, one type per table, and the counts checked on both
//!   sides ([`Dump`]).
//! - `sqlite.rs`, `postgres.rs`: opening each backend, what only it has (backup, integrity
//!   check, how an import is staged), and its differences as values.
//!
//! Each query is written once and serves both backends: a small macro per file stamps the same
//! method bodies onto both (sqlx's SQLite driver takes PostgreSQL's `$1` placeholders). Where
//! the dialects differ (SQLite's `json_each` lists and PostgreSQL's arrays, `instr` and
//! `strpos`, planner hints) the two texts sit side by side in one [`Dialects`] value, so the
//! query for a feature is found in one place. Days and times are computed in Rust and bound as
//! values, so both backends give the same answers. Every query is scoped by guild.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};

use crate::error::{Error, Result};
use crate::settings::{Backend, DatabaseSettings};

mod alerts;
mod brands;
mod dump;
mod imports;
mod postgres;
mod schedules;
mod snapshots;
mod sqlite;
mod tracking;
mod transfer;

pub use alerts::{AlertRule, Alerts, EventClaim, EventKey, Goal, NewAlert, NewGoal};
pub use brands::{Brand, BrandListing, Brands};
pub use dump::{
    AlertEventRow, AlertRuleRow, BrandRow, CollectedPostRow, Counts, Dump, GoalEventRow, GoalRow,
    LandscapeBrandRow, LandscapeRow, RunRow, ScheduleRow, SnapshotRow, TrackedRow, describe,
};
pub use imports::{ImportBatch, ImportRow, Imported, Imports, Setup};
pub use postgres::Postgres;
pub use schedules::{Claim, NewSchedule, Schedule, Schedules};
pub use snapshots::{
    AGGREGATE, Aggregated, HISTORY, Logged, NewSnapshot, SnapshotLine, Snapshots, Source, Stored,
    history_statement,
};
pub use sqlite::Sqlite;
pub use tracking::{
    COLLECTED_SERIES, CollectedPost, NewTracked, PollWrite, PostRow, Tracked, Tracking,
};
pub use transfer::Transfer;

/// Everything metricord stores, by concern; one implementation per backend.
pub trait Database:
    Brands + Snapshots + Imports + Schedules + Tracking + Alerts + Transfer + Maintenance
{
}

impl<T: Brands + Snapshots + Imports + Schedules + Tracking + Alerts + Transfer + Maintenance>
    Database for T
{
}

/// Looking after the database as a whole.
#[async_trait::async_trait]
pub trait Maintenance: fmt::Debug + Send + Sync {
    /// Writes a consistent copy of the whole database to `path` (which must not exist yet),
    /// while other connections go on reading and writing.
    async fn backup(&self, path: &std::path::Path) -> Result<()>;

    /// The database's verdict on its own soundness: "ok" for a sound one.
    async fn integrity_check(&self) -> Result<String>;

    /// Closes every connection.
    async fn close(&self);
}

/// The database, shared by every front end and task: a cheap handle to the backend the
/// settings chose, through which features call the [`Database`] methods.
#[derive(Clone)]
pub struct Store(Arc<dyn Database>);

impl Store {
    /// Opens (creating if needed) the database `settings.url` names, with the backend its
    /// scheme selects, and applies that backend's migrations.
    pub async fn open(settings: &DatabaseSettings) -> Result<Store> {
        let backend = settings.backend().map_err(|message| Error::Settings {
            path: "[database] url".into(),
            message,
        })?;
        Ok(match backend {
            Backend::Sqlite => Store::new(Sqlite::open(settings).await?),
            Backend::Postgres => Store::new(Postgres::open(settings).await?),
        })
    }

    /// A store on a backend already open (the benchmarks keep its SQLite pool at hand).
    pub fn new(database: impl Database + 'static) -> Store {
        Store(Arc::new(database))
    }
}

impl Deref for Store {
    type Target = dyn Database;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// The backend's own `Debug`, which never shows a password.
impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One statement in each dialect, side by side, where SQLite's and PostgreSQL's differ.
pub struct Dialects {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Brand and landscape names compare trimmed, in NFC and without case: "Café" with a combining
/// accent is "café" with a precomposed one. (Keys stored before NFC was applied are not
/// rewritten; typed names are NFC already.)
pub fn brand_key(name: &str) -> String {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    let nfc = |text: String| match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => text,
        _ => text.nfc().collect(),
    };
    // Lowercasing can leave a decomposed sequence, so NFC again after it.
    nfc(nfc(name.trim().to_string()).to_lowercase())
}

/// Refuses a name holding a NUL character, on both backends alike: PostgreSQL's text cannot
/// store one, so it could never be stored or found there.
fn storable(name: &str) -> Result<()> {
    if name.contains('\0') {
        return Err(crate::error::UserError::NulInName.into());
    }
    Ok(())
}

/// Whether a name can match anything stored: none holds a NUL character (see [`storable`]).
fn findable(name: &str) -> bool {
    !name.contains('\0')
}

/// An instant as both backends store it: PostgreSQL keeps microseconds, so nothing finer is
/// kept in SQLite either, and a database moved from one to the other stays the same.
fn instant(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// Discord ids are below 2^63, so they fit both databases' signed 64-bit integers unchanged.
fn guild(id: u64) -> i64 {
    id as i64
}

/// Whether a connection handed back to its pool may serve again: not while a transaction it
/// began is still open. A transaction dropped on an error queues its rollback, which runs
/// before the ping here; when that rollback fails (SQLite rolls back by itself on a full disk,
/// so there is nothing left to roll back) the connection would stay "in a transaction" and
/// refuse every later `BEGIN`, so it is closed instead and the pool opens a fresh one. The
/// usual case, a committed transaction, costs nothing.
fn settled<C: sqlx::Connection>(
    conn: &mut C,
    _: sqlx::pool::PoolConnectionMetadata,
) -> std::pin::Pin<Box<dyn Future<Output = sqlx::Result<bool>> + Send + '_>> {
    Box::pin(async move {
        if !conn.is_in_transaction() {
            return Ok(true);
        }
        conn.ping().await?;
        let clean = !conn.is_in_transaction();
        if !clean {
            tracing::warn!("a connection left inside a failed transaction was closed");
        }
        Ok(clean)
    })
}

/// Times a write that met a serialization failure or a deadlock is tried in all.
const ATTEMPTS: usize = 5;

/// Whether PostgreSQL aborted a write for a serialization failure (40001) or a deadlock
/// (40P01): both mean "nothing was done, try again", which a user should never see.
fn conflicted(err: &Error) -> bool {
    matches!(err, Error::Database(sqlx::Error::Database(db))
        if db.code().is_some_and(|code| code == "40001" || code == "40P01"))
}

/// How long to wait before attempt `tried + 1`: longer each time, and jittered, so that two
/// writers that collided do not collide again in step.
fn backoff(tried: usize) -> std::time::Duration {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() % 10_000_000);
    std::time::Duration::from_millis(10 * tried as u64)
        + std::time::Duration::from_nanos(u64::from(jitter))
}

/// Runs a write of `$store` (an `async` block, evaluated afresh for each attempt) again while
/// it [`conflicted`], up to [`ATTEMPTS`] times. Each attempt is a transaction of its own, rolled
/// back whole on failure. SQLite never reports either. Before each attempt the backend says
/// whether it takes writes at all (`writable`), and it sees each result (`noted`), so that a
/// damaged or deleted SQLite file stops every write, whichever found it. A macro rather than a
/// function taking a closure: the futures of closures that borrow their caller are not
/// provably `Send`.
macro_rules! retrying {
    ($store:expr, $attempt:expr) => {{
        let mut tried = 1;
        loop {
            let result = match $store.writable() {
                Ok(()) => $attempt.await,
                Err(err) => Err(err),
            };
            match $store.noted(result) {
                Err(err) if tried < super::ATTEMPTS && super::conflicted(&err) => {
                    tracing::debug!(tried, error = %err, "a write conflicted with another: retrying");
                    tokio::time::sleep(super::backoff(tried)).await;
                    tried += 1;
                }
                done => break done,
            }
        }
    }};
}
use retrying;

/// Stamps a concern's methods onto each backend: `$impl!(Backend, sqlx database type)`.
macro_rules! for_each_backend {
    ($impl:ident) => {
        $impl!(Sqlite, sqlx::Sqlite);
        $impl!(Postgres, sqlx::Postgres);
    };
}
use for_each_backend;

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// A database error with a SQLSTATE of our choosing, as PostgreSQL reports one.
    #[derive(Debug)]
    struct Failed(&'static str);

    impl fmt::Display for Failed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl std::error::Error for Failed {}

    impl sqlx::error::DatabaseError for Failed {
        fn message(&self) -> &str {
            "failed"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn failed(code: &'static str) -> Error {
        sqlx::Error::Database(Box::new(Failed(code))).into()
    }

    /// A backend that always takes writes, for `retrying!` alone.
    struct Writable;

    impl Writable {
        fn writable(&self) -> Result<()> {
            Ok(())
        }
        fn noted<T>(&self, result: Result<T>) -> Result<T> {
            result
        }
    }

    /// Runs `retrying!` over attempts that fail with `code` the first `failures` times.
    async fn attempts(code: &'static str, failures: usize) -> (Result<&'static str>, usize) {
        let mut tried = 0;
        let result = retrying!(Writable, async {
            tried += 1;
            if tried <= failures {
                Err(failed(code))
            } else {
                Ok("stored")
            }
        });
        (result, tried)
    }

    #[tokio::test]
    async fn deadlocks_and_serialization_failures_are_retried_inside_and_never_returned() {
        for code in ["40P01", "40001"] {
            let (result, tried) = attempts(code, ATTEMPTS - 1).await;
            assert_eq!((result.unwrap(), tried), ("stored", ATTEMPTS), "{code}");
        }
    }

    #[tokio::test]
    async fn other_failures_and_endless_conflicts_are_returned_without_more_tries() {
        let (result, tried) = attempts("23505", 1).await;
        assert!(result.is_err() && tried == 1);
        let (result, tried) = attempts("40P01", usize::MAX).await;
        assert!(result.is_err() && tried == ATTEMPTS);
    }

    #[test]
    fn a_lost_connection_is_told_apart_from_a_failed_query() {
        assert!(matches!(failed("08006"), Error::Unavailable(_)));
        assert!(matches!(failed("57P01"), Error::Unavailable(_)));
        assert!(matches!(
            Error::from(sqlx::Error::PoolTimedOut),
            Error::Unavailable(_)
        ));
        assert!(matches!(failed("23505"), Error::Database(_)));
        assert_eq!(
            Error::from(sqlx::Error::PoolTimedOut).user_message(),
            crate::error::STORAGE_UNAVAILABLE
        );
    }
}
