//! Storage: the SQLite database, its schema (in `migrations/`, applied at start) and every query
//! metricord runs.
//!
//! SQLite is set up explicitly rather than left to defaults: WAL so readers never wait for the
//! writer, `synchronous = FULL` by default so an acknowledged snapshot survives a power cut,
//! foreign keys on, and a busy timeout so concurrent writes queue instead of failing. Writes open
//! with `BEGIN IMMEDIATE`, taking the write lock up front: a transaction that reads first and
//! upgrades later can fail with "database is locked" no matter the busy timeout. Every query is
//! scoped by guild.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use crate::error::{Error, Result, UserError};
use crate::plugin::History;
use crate::settings::DatabaseSettings;

/// The database, shared by every front end and task.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// Where a snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    Command,
    Import,
}

/// Values to store for one brand, platform and day.
#[derive(Debug, Clone)]
pub struct NewSnapshot<'a> {
    pub guild_id: u64,
    pub brand: &'a str,
    pub platform: &'a str,
    pub day: NaiveDate,
    pub values: &'a [(&'static str, i64)],
    pub logged_by: u64,
    pub logged_at: DateTime<Utc>,
    pub source: Source,
}

/// What storing a snapshot did.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    /// The brand's name as first written.
    pub brand: String,
    pub brand_created: bool,
    /// Series whose earlier value for the same day was replaced, with that value.
    pub replaced: Vec<(&'static str, i64)>,
}

/// Brand names compare trimmed and without case.
pub fn brand_key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl Store {
    /// Opens (creating if needed) the database at `settings.url` and applies the migrations.
    pub async fn open(settings: &DatabaseSettings) -> Result<Store> {
        let url = &settings.url;
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let path = options.get_filename();
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|source| Error::Write {
                path: folder.to_path_buf(),
                source,
            })?;
        }
        let synchronous = SqliteSynchronous::from_str(&settings.synchronous)
            .map_err(|e| Error::Database(sqlx::Error::Configuration(e.into())))?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(settings.busy_timeout_ms));
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .connect_with(options)
            .await?;
        sqlx::migrate!().run(&pool).await?;
        Ok(Store { pool })
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Stores a snapshot's values in one transaction, creating the brand if `auto_create`.
    /// A value already stored for the same brand, platform, series and day is replaced.
    pub async fn log(&self, snapshot: &NewSnapshot<'_>, auto_create: bool) -> Result<Logged> {
        let guild = guild_id(snapshot.guild_id);
        let mut tx = self.begin_write().await?;
        let (brand_id, brand, brand_created) = match find_brand(&mut tx, guild, snapshot.brand)
            .await?
        {
            Some((id, name)) => (id, name, false),
            None if auto_create => {
                let id = create_brand(&mut tx, guild, snapshot.brand, snapshot.logged_at).await?;
                (id, snapshot.brand.trim().to_string(), true)
            }
            None => {
                return Err(UserError::BrandNotCreated {
                    name: snapshot.brand.trim().to_string(),
                }
                .into());
            }
        };
        let day = snapshot.day.to_string();
        let logged_at = snapshot.logged_at.to_rfc3339();
        let source = match snapshot.source {
            Source::Command => "command",
            Source::Import => "import",
        };
        let mut replaced = Vec::new();
        for &(series, value) in snapshot.values {
            let previous: Option<i64> = sqlx::query_scalar(
                "SELECT value FROM snapshots
                 WHERE guild_id = ? AND brand_id = ? AND series = ? AND platform = ? AND day = ?",
            )
            .bind(guild)
            .bind(brand_id)
            .bind(series)
            .bind(snapshot.platform)
            .bind(&day)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(previous) = previous {
                replaced.push((series, previous));
            }
            sqlx::query(
                "INSERT INTO snapshots
                     (guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (guild_id, brand_id, series, platform, day) DO UPDATE SET
                     value = excluded.value, logged_by = excluded.logged_by,
                     logged_at = excluded.logged_at, source = excluded.source",
            )
            .bind(guild)
            .bind(brand_id)
            .bind(snapshot.platform)
            .bind(series)
            .bind(&day)
            .bind(value)
            .bind(snapshot.logged_by as i64)
            .bind(&logged_at)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Logged {
            brand,
            brand_created,
            replaced,
        })
    }

    /// What is stored for `brand` around `day`: each series' latest value before that day on the
    /// same platform, and the same series summed over the guild's other brands on that day.
    pub async fn history(
        &self,
        guild_id: u64,
        brand: &str,
        platform: &str,
        day: NaiveDate,
        series: &[&'static str],
    ) -> Result<History> {
        let guild = self::guild_id(guild_id);
        let key = brand_key(brand);
        let day = day.to_string();
        let mut history = History::default();
        for &name in series {
            let previous = sqlx::query(
                "SELECT s.day, s.value FROM snapshots s JOIN brands b ON b.id = s.brand_id
                 WHERE b.guild_id = ? AND b.name_key = ? AND s.guild_id = b.guild_id
                   AND s.series = ? AND s.platform = ? AND s.day < ?
                 ORDER BY s.day DESC LIMIT 1",
            )
            .bind(guild)
            .bind(&key)
            .bind(name)
            .bind(platform)
            .bind(&day)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = previous {
                let stored: String = row.try_get(0)?;
                if let Ok(stored) = NaiveDate::parse_from_str(&stored, "%Y-%m-%d") {
                    history.previous.insert(name, (stored, row.try_get(1)?));
                }
            }
            let peers = sqlx::query(
                "SELECT COALESCE(SUM(value), 0), COUNT(*) FROM snapshots
                 WHERE guild_id = ? AND series = ? AND platform = ? AND day = ?
                   AND brand_id NOT IN (SELECT id FROM brands WHERE guild_id = ? AND name_key = ?)",
            )
            .bind(guild)
            .bind(name)
            .bind(platform)
            .bind(&day)
            .bind(guild)
            .bind(&key)
            .fetch_one(&self.pool)
            .await?;
            let brands: i64 = peers.try_get(1)?;
            if brands > 0 {
                history
                    .peers
                    .insert(name, (peers.try_get(0)?, brands as usize));
            }
        }
        Ok(history)
    }

    /// Names of the guild's brands containing `typed` (any case), those starting with it first.
    pub async fn brand_names(
        &self,
        guild_id: u64,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        let names = sqlx::query_scalar(
            "SELECT name FROM brands WHERE guild_id = ? AND instr(name_key, ?) > 0
             ORDER BY instr(name_key, ?) <> 1, name_key LIMIT ?",
        )
        .bind(self::guild_id(guild_id))
        .bind(brand_key(typed))
        .bind(brand_key(typed))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(names)
    }

    /// Every stored value of a guild, oldest first: `(day, brand, platform, series, value)`.
    pub async fn snapshots(
        &self,
        guild_id: u64,
    ) -> Result<Vec<(String, String, String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT s.day, b.name, s.platform, s.series, s.value
             FROM snapshots s JOIN brands b ON b.id = s.brand_id
             WHERE s.guild_id = ? ORDER BY s.day, b.name_key, s.platform, s.series",
        )
        .bind(self::guild_id(guild_id))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                ))
            })
            .collect()
    }
}

/// Discord ids are below 2^63, so they fit SQLite's signed integers unchanged.
fn guild_id(id: u64) -> i64 {
    id as i64
}

async fn find_brand(
    tx: &mut Transaction<'static, Sqlite>,
    guild: i64,
    name: &str,
) -> Result<Option<(i64, String)>> {
    let row = sqlx::query("SELECT id, name FROM brands WHERE guild_id = ? AND name_key = ?")
        .bind(guild)
        .bind(brand_key(name))
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .transpose()
}

async fn create_brand(
    tx: &mut Transaction<'static, Sqlite>,
    guild: i64,
    name: &str,
    at: DateTime<Utc>,
) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO brands (guild_id, name, name_key, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(guild)
    .bind(name.trim())
    .bind(brand_key(name))
    .bind(at.to_rfc3339())
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(dir: &tempfile::TempDir) -> Store {
        Store::open(&DatabaseSettings {
            url: format!("sqlite://{}/nested/folder/m.db", dir.path().display()),
            ..DatabaseSettings::default()
        })
        .await
        .unwrap()
    }

    fn snapshot<'a>(
        guild_id: u64,
        brand: &'a str,
        values: &'a [(&'static str, i64)],
    ) -> NewSnapshot<'a> {
        NewSnapshot {
            guild_id,
            brand,
            platform: "x",
            day: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            values,
            logged_by: 7,
            logged_at: DateTime::UNIX_EPOCH,
            source: Source::Command,
        }
    }

    #[tokio::test]
    async fn the_database_is_created_with_durable_settings() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let mut conn = store.pool.acquire().await.unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!((journal.as_str(), synchronous, foreign_keys), ("wal", 2, 1));
    }

    #[tokio::test]
    async fn an_unknown_brand_is_refused_when_auto_create_is_off_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let err = store
            .log(&snapshot(1, "Acme", &[("clicks", 3)]), false)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            Error::User(UserError::BrandNotCreated { .. })
        ));
        assert!(store.snapshots(1).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn history_is_scoped_to_the_guild() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        store
            .log(&snapshot(1, "Acme", &[("mentions", 10)]), true)
            .await
            .unwrap();
        store
            .log(&snapshot(2, "Rival", &[("mentions", 90)]), true)
            .await
            .unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let history = store
            .history(1, "Newcomer", "x", day, &["mentions"])
            .await
            .unwrap();
        assert_eq!(history.peers.get("mentions"), Some(&(10, 1)));
        let later = day.succ_opt().unwrap();
        let history = store
            .history(2, "acme", "x", later, &["mentions"])
            .await
            .unwrap();
        assert!(history.previous.is_empty(), "guild 2 saw guild 1's Acme");
    }
}
