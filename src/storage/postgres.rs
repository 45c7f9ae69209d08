//! The PostgreSQL backend: a server that several metricord processes share.
//!
//! One pool serves reads and writes: the server runs writes side by side, and ones that
//! collide (a deadlock) are tried again by [`super::retrying`]. Each connection is checked
//! before it is lent out, so that one broken while the server was away is dropped and replaced
//! rather than failing a command; waiting for a connection ends after `busy_timeout_ms`, and the
//! command is then answered "try again". The migrations in `migrations/postgres/` run under
//! sqlx's advisory lock, so processes starting together migrate the database once.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres as Db, Transaction};

use super::{Dialects, Maintenance};
use crate::error::{Error, Result};
use crate::settings::{DatabaseSettings, redacted};

/// A PostgreSQL database.
#[derive(Clone)]
pub struct Postgres {
    pool: PgPool,
    /// The URL with its password hidden: all that `Debug` shows.
    url: String,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").field("url", &self.url).finish()
    }
}

/// Rows staged per statement: each column goes as one array, so the size only bounds memory.
const IMPORT_BATCH: usize = 10_000;

/// A database's soundness beyond what the server checks itself: rows tied to another server's
/// brand or landscape (snapshots, memberships, alert rules, goals), which the schema cannot
/// forbid.
const CROSS_GUILD_ROWS: &str = "SELECT
    (SELECT COUNT(*) FROM snapshots s JOIN brands b ON b.id = s.brand_id
      WHERE b.guild_id <> s.guild_id)
  + (SELECT COUNT(*) FROM landscape_brands lb JOIN brands b ON b.id = lb.brand_id
      JOIN landscapes l ON l.id = lb.landscape_id WHERE b.guild_id <> l.guild_id)
  + (SELECT COUNT(*) FROM alert_rules r JOIN brands b ON b.id = r.brand_id
      WHERE b.guild_id <> r.guild_id)
  + (SELECT COUNT(*) FROM goals g JOIN brands b ON b.id = g.brand_id
      WHERE b.guild_id <> g.guild_id)";

impl Postgres {
    /// Connects to the database `settings.url` names (it must exist) and applies the
    /// migrations in `migrations/postgres/`.
    pub async fn open(settings: &DatabaseSettings) -> Result<Postgres> {
        let options = PgConnectOptions::from_str(settings.url.trim())?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_millis(settings.busy_timeout_ms))
            .test_before_acquire(true)
            .after_release(super::settled)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Postgres {
            pool,
            url: redacted(&settings.url),
        })
    }

    pub(super) fn reader(&self) -> &PgPool {
        &self.pool
    }

    pub(super) fn writer(&self) -> &PgPool {
        &self.pool
    }

    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, Db>> {
        Ok(self.pool.begin().await?)
    }

    /// The server guards its own files: nothing to check before a write.
    pub(super) fn writable(&self) -> Result<()> {
        Ok(())
    }

    pub(super) fn noted<T>(&self, result: Result<T>) -> Result<T> {
        result
    }

    pub(super) fn pick(sql: &Dialects) -> &'static str {
        sql.postgres
    }

    /// Whether a read over a period keeps its prepared plan between calls. Not here: after five
    /// calls PostgreSQL may switch a prepared statement to one plan for any parameters, which
    /// for these reads cannot use the brands or the series to narrow the scan (how many brands
    /// an array holds is unknown to it): a 90-day report read took 25 ms instead of 10. Sent
    /// unprepared, each is planned for its own parameters, for about 0.3 ms of planning.
    pub(super) const KEEPS_PERIOD_PLANS: bool = false;

    /// Brand ids as an array, for `= ANY($n)`.
    pub(super) fn ids(ids: &[i64]) -> Vec<i64> {
        ids.to_vec()
    }

    /// Series names as an array, for `= ANY($n)`.
    pub(super) fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    /// Puts an import's rows into the staging table, a column per array, each with its brand's
    /// place in the batch; before the write transaction, like SQLite's (see there).
    pub(super) async fn stage(
        conn: &mut sqlx::pool::PoolConnection<Db>,
        rows: &[super::ImportRow],
    ) -> Result<()> {
        use sqlx::Connection;
        let mut tx = conn.begin().await?;
        // Unqualified, the tables' names find them before any other in both databases.
        sqlx::raw_sql(
            "CREATE TEMP TABLE IF NOT EXISTS import_rows (
                 brand BIGINT, platform TEXT, series TEXT, day DATE, value BIGINT);
             CREATE TEMP TABLE IF NOT EXISTS import_brands (
                 brand BIGINT PRIMARY KEY, brand_id BIGINT);
             DELETE FROM import_rows;",
        )
        .execute(&mut *tx)
        .await?;
        for chunk in rows.chunks(IMPORT_BATCH) {
            sqlx::query(
                "INSERT INTO import_rows (brand, platform, series, day, value)
                 SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::DATE[], $5::BIGINT[])",
            )
            .bind(chunk.iter().map(|r| r.brand as i64).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.platform).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.series).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.day).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.value).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The write transaction of an import, on the connection its rows were staged on.
    pub(super) async fn begin_write_on(
        conn: &mut sqlx::pool::PoolConnection<Db>,
    ) -> Result<Transaction<'_, Db>> {
        use sqlx::Connection;
        Ok(conn.begin().await?)
    }

    /// After rows were copied in with their ids: move each id sequence past the largest, so
    /// that the next brand, landscape, schedule, tracked account, alert rule or goal does not
    /// collide with a copied one.
    pub(super) async fn after_copy(tx: &mut Transaction<'static, Db>) -> Result<()> {
        for sql in [
            "SELECT setval(pg_get_serial_sequence('brands', 'id'),
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM brands), false)",
            "SELECT setval(pg_get_serial_sequence('landscapes', 'id'),
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM landscapes), false)",
            "SELECT setval(pg_get_serial_sequence('digest_schedules', 'id'),
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM digest_schedules), false)",
            "SELECT setval(pg_get_serial_sequence('tracked_accounts', 'id'),
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM tracked_accounts), false)",
            "SELECT setval(pg_get_serial_sequence('alert_rules', 'id'),
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM alert_rules), false)",
            "SELECT setval(pg_get_serial_sequence('goals', 'id'),
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM goals), false)",
        ] {
            sqlx::query(sql).execute(&mut **tx).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Maintenance for Postgres {
    async fn backup(&self, _path: &std::path::Path) -> Result<()> {
        Err(Error::SqliteOnly {
            what: "`metricord backup`",
            instead: "back up with `pg_dump --format=custom` and restore with `pg_restore` (README, \"Storage backends\")",
        })
    }

    /// The server checks its own pages; this checks what the schema cannot: that no row is
    /// tied to another server's brand or landscape.
    async fn integrity_check(&self) -> Result<String> {
        let stray: i64 = sqlx::query_scalar(CROSS_GUILD_ROWS)
            .fetch_one(&self.pool)
            .await?;
        Ok(if stray == 0 {
            "ok".to_string()
        } else {
            format!("{stray} rows are tied to another server's brand or landscape")
        })
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
