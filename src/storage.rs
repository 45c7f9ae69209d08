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

use crate::command::Suggest;
use crate::error::{Error, Result, UserError};
use crate::period::Period;
use crate::plugin::{History, HistoryNeeds};
use crate::settings::{DatabaseSettings, Synchronous};

/// The database, shared by every front end and task.
///
/// Reads go through a pool of connections; writes through one connection of their own. SQLite
/// runs one write at a time anyway, so the single writer loses nothing: writes queue in the
/// pool instead of spinning on SQLite's busy timeout, and the one connection keeps its page and
/// statement caches warm, where writes spread over a pool invalidate every other connection's
/// page cache each time.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    writer: SqlitePool,
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

/// A guild's brand.
#[derive(Debug, Clone, PartialEq)]
pub struct Brand {
    pub id: i64,
    pub name: String,
    pub competitor: bool,
}

/// A brand as `/brand list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandListing {
    pub brand: Brand,
    pub landscapes: Vec<String>,
    pub snapshots: i64,
}

/// A series of one brand and platform over a period, aggregated every way a series can be: the
/// caller picks the one the series' rule asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregated {
    pub brand_id: i64,
    pub platform: String,
    pub series: String,
    pub sum: i64,
    pub max: i64,
    /// The value on the period's last day with data.
    pub last: i64,
    /// Days with data.
    pub days: i64,
}

/// One stored value.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub brand_id: i64,
    pub platform: String,
    pub series: String,
    pub day: NaiveDate,
    pub value: i64,
}

/// Checked rows to import: each brand's name once, and rows that point at it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportBatch {
    /// Brand names as first written.
    pub brands: Vec<String>,
    pub rows: Vec<ImportRow>,
    /// The brands' setup: competitor flags and landscape memberships.
    pub setup: Vec<(usize, Setup)>,
}

/// One part of a brand's setup, as an export carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Setup {
    Competitor(bool),
    /// A landscape the brand is in (created if new); memberships are only ever added.
    Landscape(String),
}

/// One checked row of an import. No two rows of a batch share a key.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub day: NaiveDate,
    /// Index into the batch's `brands`.
    pub brand: usize,
    pub platform: &'static str,
    pub series: &'static str,
    pub value: i64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Rows that replaced a different value already stored.
    pub replaced: u64,
    /// Rows whose value was already stored: left as they were.
    pub unchanged: u64,
    pub brands_created: Vec<String>,
}

/// Each series of some brands over a period, aggregated every way a series can be; the
/// hottest query (reports, comparisons, digests). See BENCHMARKS.md for its plan.
pub const AGGREGATE: &str =
    "SELECT s.brand_id, s.platform, s.series, SUM(s.value), MAX(s.value), COUNT(*),
    (SELECT l.value FROM snapshots l
    WHERE l.guild_id = s.guild_id AND l.brand_id = s.brand_id
    AND l.day BETWEEN ?1 AND ?2 AND l.series = s.series AND l.platform = s.platform
    ORDER BY l.day DESC LIMIT 1)
    FROM snapshots s
    WHERE s.guild_id = ?3 AND s.brand_id IN (SELECT value FROM json_each(?4))
    AND s.day BETWEEN ?1 AND ?2 AND (?5 IS NULL OR s.platform = ?5)
    AND (?6 IS NULL OR s.series IN (SELECT value FROM json_each(?6)))
    GROUP BY s.brand_id, s.series, s.platform";

/// The latest value of a series before a day, for growth against the last stored value.
pub const PREVIOUS_VALUE: &str =
    "SELECT s.day, s.value FROM snapshots s JOIN brands b ON b.id = s.brand_id
    WHERE b.guild_id = ? AND b.name_key = ? AND s.guild_id = b.guild_id
    AND s.series = ? AND s.platform = ? AND s.day < ?
    ORDER BY s.day DESC LIMIT 1";

/// Stores a snapshot's values for a brand found by name, in one statement: `?1` guild, `?2`
/// brand key, `?3` platform, `?4` day, `?5` logged by, `?6` logged at, `?7` source, then a
/// `(series, value)` pair for each value in place of `{values}`. On conflict it keeps the value
/// it overwrites in `replaced_value`, and returns, for each row it wrote, the series, the value
/// it replaced (NULL for a new one) and the brand's name. No rows means no such brand.
/// (`WHERE` before `ON CONFLICT` is SQLite's way of telling an upsert from a join.)
const LOG_SNAPSHOT: &str = "INSERT INTO snapshots
        (guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source,
         replaced_value)
    SELECT b.guild_id, b.id, ?3, v.column1, ?4, v.column2, ?5, ?6, ?7, NULL
    FROM brands b, (VALUES {values}) v
    WHERE b.guild_id = ?1 AND b.name_key = ?2
    ON CONFLICT (guild_id, brand_id, day, series, platform) DO UPDATE SET
        replaced_value = snapshots.value, value = excluded.value,
        logged_by = excluded.logged_by, logged_at = excluded.logged_at, source = excluded.source
    RETURNING series, replaced_value, (SELECT name FROM brands WHERE id = brand_id)";

/// Rows staged per statement: SQLite allows 32,766 parameters, and fewer, larger statements
/// are what makes a million-row import quick.
const IMPORT_BATCH: usize = 500;

/// The staging insert of `rows` rows.
fn staging_sql(rows: usize) -> String {
    format!(
        "INSERT INTO temp.import_rows (brand_id, platform, series, day, value) VALUES {}",
        vec!["(?, ?, ?, ?, ?)"; rows].join(", ")
    )
}

/// The staging insert for a full batch, built once.
static IMPORT_BATCH_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| staging_sql(IMPORT_BATCH));

/// A digest schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: i64,
    pub guild_id: u64,
    pub channel_id: u64,
    pub cron: String,
    pub timezone: String,
    pub landscape: Option<String>,
    /// Unix seconds of the latest scheduled time claimed or skipped.
    pub last_fire: i64,
    pub failing: Option<String>,
}

/// A digest schedule to add.
#[derive(Debug, Clone)]
pub struct NewSchedule<'a> {
    pub guild_id: u64,
    pub channel_id: u64,
    pub cron: &'a str,
    pub timezone: &'a str,
    pub landscape: Option<&'a str>,
    pub created_by: u64,
    /// Unix seconds.
    pub created_at: i64,
}

/// A scheduled run claimed for posting.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub schedule: Schedule,
    /// Unix seconds.
    pub scheduled_at: i64,
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
            tokio::fs::create_dir_all(folder)
                .await
                .map_err(|source| Error::Write {
                    path: folder.to_path_buf(),
                    source,
                })?;
        }
        let synchronous = match settings.synchronous {
            Synchronous::Off => SqliteSynchronous::Off,
            Synchronous::Normal => SqliteSynchronous::Normal,
            Synchronous::Full => SqliteSynchronous::Full,
            Synchronous::Extra => SqliteSynchronous::Extra,
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(settings.busy_timeout_ms));
        // A SQLite connection is a file handle, not a network link that can drop: the ping sqlx
        // sends before lending one out would be a round trip for nothing.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!().run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Store { pool, writer })
    }

    /// Writes a consistent copy of the whole database to `path` (which must not exist yet),
    /// while other connections go on reading and writing.
    pub async fn backup(&self, path: &std::path::Path) -> Result<()> {
        if tokio::fs::try_exists(path).await.unwrap_or(true) {
            return Err(Error::Write {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the file already exists",
                ),
            });
        }
        sqlx::query("VACUUM INTO ?")
            .bind(path.display().to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `PRAGMA integrity_check`'s verdict: "ok" for a sound database.
    pub async fn integrity_check(&self) -> Result<String> {
        Ok(sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The connection pool, for measurements that compare metricord with SQLite itself.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Stores a snapshot's values atomically, creating the brand if `auto_create`. A value
    /// already stored for the same brand, platform, series and day is replaced, and reported.
    ///
    /// For a brand that exists, that is one statement ([`LOG_SNAPSHOT`]), which SQLite runs as
    /// a write transaction of its own: each statement is a trip to the connection's thread, and
    /// those trips, not SQLite, were most of a logged command's cost. A new brand takes an
    /// explicit transaction that creates it first.
    pub async fn log(&self, snapshot: &NewSnapshot<'_>, auto_create: bool) -> Result<Logged> {
        if snapshot.values.is_empty() {
            return Err(Error::Database(sqlx::Error::Protocol(
                "a snapshot without values".into(),
            )));
        }
        if let Some(logged) = log_snapshot(&self.writer, snapshot).await? {
            return Ok(logged);
        }
        let mut tx = self.begin_write().await?;
        // Another call may have created the brand since.
        if let Some(logged) = log_snapshot(&mut *tx, snapshot).await? {
            tx.commit().await?;
            return Ok(logged);
        }
        if !auto_create {
            return Err(UserError::BrandNotCreated {
                name: snapshot.brand.trim().to_string(),
            }
            .into());
        }
        let guild = guild_id(snapshot.guild_id);
        create_brand(&mut tx, guild, snapshot.brand, snapshot.logged_at).await?;
        let logged = log_snapshot(&mut *tx, snapshot)
            .await?
            .ok_or_else(|| Error::Database(sqlx::Error::RowNotFound))?;
        tx.commit().await?;
        Ok(Logged {
            brand_created: true,
            replaced: Vec::new(),
            ..logged
        })
    }

    /// What is stored for `brand` around `day`, as far as `needs` asks: each `previous` series'
    /// latest value before that day on the same platform, and each `peers` series summed over
    /// the guild's other brands on that day.
    pub async fn history(
        &self,
        guild_id: u64,
        brand: &str,
        platform: &str,
        day: NaiveDate,
        needs: &HistoryNeeds,
    ) -> Result<History> {
        let guild = self::guild_id(guild_id);
        let key = brand_key(brand);
        let day = day.to_string();
        let mut history = History::default();
        for &name in needs.previous {
            let previous = sqlx::query(PREVIOUS_VALUE)
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
        }
        for &name in needs.peers {
            let peers = sqlx::query(
                // Without statistics the planner prefers scanning the guild's whole primary
                // key range to this (covering) index, 300 times slower on a year of data.
                // The competitors are the brands that share a landscape with this one, or every
                // other brand of the guild while it is in no landscape.
                "WITH me AS (SELECT id FROM brands WHERE guild_id = ?1 AND name_key = ?2),
                      rivals AS (SELECT theirs.brand_id AS id FROM landscape_brands mine
                                   JOIN landscape_brands theirs ON theirs.landscape_id = mine.landscape_id
                                  WHERE mine.brand_id IN me)
                 SELECT COALESCE(SUM(value), 0), COUNT(*) FROM snapshots INDEXED BY snapshots_by_day
                 WHERE guild_id = ?1 AND series = ?3 AND platform = ?4 AND day = ?5
                   AND brand_id NOT IN me
                   AND (NOT EXISTS (SELECT 1 FROM rivals) OR brand_id IN rivals)",
            )
            .bind(guild)
            .bind(&key)
            .bind(name)
            .bind(platform)
            .bind(&day)
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

    /// Names of the guild's brands or landscapes containing `typed` (any case), those
    /// starting with it first: what autocomplete offers.
    pub async fn suggestions(
        &self,
        guild_id: u64,
        of: Suggest,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        let sql = match of {
            Suggest::Brands => {
                "SELECT name FROM brands WHERE guild_id = ? AND instr(name_key, ?) > 0
                 ORDER BY instr(name_key, ?) <> 1, name_key LIMIT ?"
            }
            Suggest::Landscapes => {
                "SELECT name FROM landscapes WHERE guild_id = ? AND instr(name_key, ?) > 0
                 ORDER BY instr(name_key, ?) <> 1, name_key LIMIT ?"
            }
        };
        Ok(sqlx::query_scalar(sql)
            .bind(self::guild_id(guild_id))
            .bind(brand_key(typed))
            .bind(brand_key(typed))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The guild's brand called `name` (any case).
    pub async fn brand(&self, guild_id: u64, name: &str) -> Result<Option<Brand>> {
        let row = sqlx::query(
            "SELECT id, name, competitor FROM brands WHERE guild_id = ? AND name_key = ?",
        )
        .bind(self::guild_id(guild_id))
        .bind(brand_key(name))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| brand_from_row(&row)).transpose()
    }

    /// Every brand of the guild, by name.
    pub async fn brands(&self, guild_id: u64) -> Result<Vec<Brand>> {
        let rows = sqlx::query(
            "SELECT id, name, competitor FROM brands WHERE guild_id = ? ORDER BY name_key",
        )
        .bind(self::guild_id(guild_id))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(brand_from_row).collect()
    }

    /// Adds a brand, or updates its competitor flag, and puts it in `landscape` (created if
    /// new). Returns whether the brand was new.
    pub async fn add_brand(
        &self,
        guild_id: u64,
        name: &str,
        competitor: Option<bool>,
        landscape: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let guild = self::guild_id(guild_id);
        let mut tx = self.begin_write().await?;
        let (brand_id, created) = match find_brand(&mut tx, guild, name).await? {
            Some((id, _)) => (id, false),
            None => (create_brand(&mut tx, guild, name, at).await?, true),
        };
        if let Some(competitor) = competitor {
            apply_setup(&mut tx, guild, brand_id, &Setup::Competitor(competitor)).await?;
        }
        if let Some(landscape) = landscape {
            let landscape = Setup::Landscape(landscape.to_string());
            apply_setup(&mut tx, guild, brand_id, &landscape).await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Every brand with its landscapes and how many values are stored for it.
    pub async fn brand_listing(&self, guild_id: u64) -> Result<Vec<BrandListing>> {
        let rows = sqlx::query(
            "SELECT b.id, b.name, b.competitor,
                    (SELECT group_concat(l.name, char(31)) FROM landscape_brands lb
                       JOIN landscapes l ON l.id = lb.landscape_id WHERE lb.brand_id = b.id),
                    (SELECT COUNT(*) FROM snapshots s WHERE s.guild_id = b.guild_id AND s.brand_id = b.id)
             FROM brands b WHERE b.guild_id = ? ORDER BY b.name_key",
        )
        .bind(self::guild_id(guild_id))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let landscapes: Option<String> = row.try_get(3)?;
                Ok(BrandListing {
                    brand: brand_from_row(row)?,
                    landscapes: landscapes
                        // A unit separator: no name typed in Discord contains one.
                        .map(|l| l.split('\u{1f}').map(str::to_string).collect())
                        .unwrap_or_default(),
                    snapshots: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Renames a brand; refuses a name another brand of the guild already has.
    pub async fn rename_brand(&self, guild_id: u64, brand: &Brand, to: &str) -> Result<()> {
        let guild = self::guild_id(guild_id);
        let mut tx = self.begin_write().await?;
        if let Some((id, existing)) = find_brand(&mut tx, guild, to).await?
            && id != brand.id
        {
            return Err(UserError::BrandExists { name: existing }.into());
        }
        sqlx::query("UPDATE brands SET name = ?, name_key = ? WHERE id = ? AND guild_id = ?")
            .bind(to.trim())
            .bind(brand_key(to))
            .bind(brand.id)
            .bind(guild)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many values are stored for a brand.
    pub async fn snapshot_count(&self, guild_id: u64, brand: &Brand) -> Result<i64> {
        Ok(
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM snapshots WHERE guild_id = ? AND brand_id = ?",
            )
            .bind(self::guild_id(guild_id))
            .bind(brand.id)
            .fetch_one(&self.pool)
            .await?,
        )
    }

    /// Removes a brand with all its values; returns how many values went with it.
    pub async fn remove_brand(&self, guild_id: u64, brand: &Brand) -> Result<u64> {
        let guild = self::guild_id(guild_id);
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM snapshots WHERE guild_id = ? AND brand_id = ?")
            .bind(guild)
            .bind(brand.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM brands WHERE guild_id = ? AND id = ?")
            .bind(guild)
            .bind(brand.id)
            .execute(&mut *tx)
            .await?;
        drop_empty_landscapes(&mut tx, guild).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Takes a brand out of a landscape; returns whether it was in it.
    pub async fn leave_landscape(
        &self,
        guild_id: u64,
        brand: &Brand,
        landscape: &str,
    ) -> Result<bool> {
        let guild = self::guild_id(guild_id);
        let mut tx = self.begin_write().await?;
        let left = sqlx::query(
            "DELETE FROM landscape_brands WHERE brand_id = ?
               AND landscape_id IN (SELECT id FROM landscapes WHERE guild_id = ? AND name_key = ?)",
        )
        .bind(brand.id)
        .bind(guild)
        .bind(brand_key(landscape))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        drop_empty_landscapes(&mut tx, guild).await?;
        tx.commit().await?;
        Ok(left > 0)
    }

    /// The brands of a landscape, by name; `None` if the guild has no such landscape.
    pub async fn landscape(
        &self,
        guild_id: u64,
        name: &str,
    ) -> Result<Option<(String, Vec<Brand>)>> {
        let guild = self::guild_id(guild_id);
        let Some(landscape): Option<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM landscapes WHERE guild_id = ? AND name_key = ?")
                .bind(guild)
                .bind(brand_key(name))
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT b.id, b.name, b.competitor FROM landscape_brands lb JOIN brands b ON b.id = lb.brand_id
             WHERE lb.landscape_id = ? AND b.guild_id = ? ORDER BY b.name_key",
        )
        .bind(landscape.0)
        .bind(guild)
        .fetch_all(&self.pool)
        .await?;
        let brands = rows.iter().map(brand_from_row).collect::<Result<_>>()?;
        Ok(Some((landscape.1, brands)))
    }

    /// The brands that share a landscape with `brand`: its competitive set.
    pub async fn peers(&self, guild_id: u64, brand: &Brand) -> Result<Vec<Brand>> {
        let rows = sqlx::query(
            "SELECT DISTINCT b.id, b.name, b.competitor FROM landscape_brands mine
               JOIN landscape_brands theirs ON theirs.landscape_id = mine.landscape_id
               JOIN brands b ON b.id = theirs.brand_id
             WHERE mine.brand_id = ? AND b.id <> ? AND b.guild_id = ? ORDER BY b.name_key",
        )
        .bind(brand.id)
        .bind(brand.id)
        .bind(self::guild_id(guild_id))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(brand_from_row).collect()
    }

    /// Each series of `brands` (or only `series`) over `period` on each platform (or only
    /// `platform`), aggregated.
    pub async fn aggregate(
        &self,
        guild_id: u64,
        brands: &[i64],
        period: Period,
        platform: Option<&str>,
        series: Option<&[&str]>,
    ) -> Result<Vec<Aggregated>> {
        // The brand list goes in as one JSON array, so that one prepared statement serves any
        // number of brands; the primary key then finds each brand's days as one range.
        let rows = sqlx::query(AGGREGATE)
            .bind(period.from.to_string())
            .bind(period.to.to_string())
            .bind(self::guild_id(guild_id))
            .bind(json_ids(brands))
            .bind(platform)
            .bind(series.map(json_strings))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Aggregated {
                    brand_id: row.try_get(0)?,
                    platform: row.try_get(1)?,
                    series: row.try_get(2)?,
                    sum: row.try_get(3)?,
                    max: row.try_get(4)?,
                    days: row.try_get(5)?,
                    last: row.try_get(6)?,
                })
            })
            .collect()
    }

    /// Every stored value of `brands` over `period` for the given series, oldest first.
    pub async fn values(
        &self,
        guild_id: u64,
        brands: &[i64],
        period: Period,
        platform: Option<&str>,
        series: &[&str],
    ) -> Result<Vec<Stored>> {
        let rows = sqlx::query(
            "SELECT brand_id, platform, series, day, value FROM snapshots
             WHERE guild_id = ?1 AND brand_id IN (SELECT value FROM json_each(?2))
               AND day BETWEEN ?3 AND ?4 AND (?5 IS NULL OR platform = ?5)
               AND series IN (SELECT value FROM json_each(?6))
             ORDER BY day",
        )
        .bind(self::guild_id(guild_id))
        .bind(json_ids(brands))
        .bind(period.from.to_string())
        .bind(period.to.to_string())
        .bind(platform)
        .bind(json_strings(series))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let day: String = row.try_get(3)?;
                Ok(Stored {
                    brand_id: row.try_get(0)?,
                    platform: row.try_get(1)?,
                    series: row.try_get(2)?,
                    day: NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                        .map_err(|e| Error::Database(sqlx::Error::Decode(e.into())))?,
                    value: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Every stored value of a guild, oldest first, as `(day, brand, platform, series, value)`;
    /// only of `brands` and within `period` when given.
    pub async fn snapshots(
        &self,
        guild_id: u64,
        brands: Option<&[i64]>,
        period: Option<Period>,
    ) -> Result<Vec<(String, String, String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT s.day, b.name, s.platform, s.series, s.value
             FROM snapshots s JOIN brands b ON b.id = s.brand_id
             WHERE s.guild_id = ?1
               AND (?2 IS NULL OR s.brand_id IN (SELECT value FROM json_each(?2)))
               AND (?3 IS NULL OR s.day BETWEEN ?3 AND ?4)
             ORDER BY s.day, b.name_key, s.platform, s.series",
        )
        .bind(self::guild_id(guild_id))
        .bind(brands.map(json_ids))
        .bind(period.map(|p| p.from.to_string()))
        .bind(period.map(|p| p.to.to_string()))
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

    /// Stores checked rows in one transaction, creating their brands: all of them or, on any
    /// failure, none.
    pub async fn import(
        &self,
        guild_id: u64,
        batch: &ImportBatch,
        logged_by: u64,
        at: DateTime<Utc>,
        auto_create: bool,
    ) -> Result<Imported> {
        let guild = self::guild_id(guild_id);
        let logged_at = at.to_rfc3339();
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(batch.brands.len());
        let mut brands_created = Vec::new();
        for name in &batch.brands {
            let id = match find_brand(&mut tx, guild, name).await? {
                Some((id, _)) => id,
                None if auto_create => {
                    brands_created.push(name.trim().to_string());
                    create_brand(&mut tx, guild, name, at).await?
                }
                None => {
                    return Err(UserError::BrandNotCreated {
                        name: name.trim().to_string(),
                    }
                    .into());
                }
            };
            ids.push(id);
        }
        // The rows go to a staging table first (no keys, no checks: the fastest writes SQLite
        // has), then into `snapshots` in one statement, which SQLite runs at its own pace: a
        // tenth of the time the same upsert takes as many multi-row statements.
        sqlx::query(
            "CREATE TEMP TABLE IF NOT EXISTS import_rows (
                 brand_id INTEGER, platform TEXT, series TEXT, day TEXT, value INTEGER)",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM temp.import_rows")
            .execute(&mut *tx)
            .await?;
        for chunk in batch.rows.chunks(IMPORT_BATCH) {
            let query = if chunk.len() == IMPORT_BATCH {
                sqlx::query(IMPORT_BATCH_SQL.as_str())
            } else {
                sqlx::query(sqlx::AssertSqlSafe(staging_sql(chunk.len())))
            };
            let mut query = query;
            for row in chunk {
                let brand = ids.get(row.brand).copied().ok_or_else(|| {
                    Error::Database(sqlx::Error::Protocol("an import row names no brand".into()))
                })?;
                query = query
                    .bind(brand)
                    .bind(row.platform)
                    .bind(row.series)
                    .bind(row.day.to_string())
                    .bind(row.value);
            }
            query.execute(&mut *tx).await?;
        }
        // CROSS JOIN fixes the loop order: each staged row looks up its one snapshot. Left to
        // itself the planner, with no statistics on the staging table, scans the guild's
        // snapshots and the staging table inside that, which is quadratic.
        let (existing, unchanged): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(s.value = i.value), 0) FROM temp.import_rows i
               CROSS JOIN snapshots s ON s.guild_id = ? AND s.brand_id = i.brand_id
                AND s.day = i.day AND s.series = i.series AND s.platform = i.platform",
        )
        .bind(guild)
        .fetch_one(&mut *tx)
        .await?;
        // A value already stored is left as it is, with who logged it and when.
        sqlx::query(
            "INSERT INTO snapshots
                 (guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source)
             SELECT ?, brand_id, platform, series, day, value, ?, ?, 'import'
             FROM temp.import_rows WHERE true
             ON CONFLICT (guild_id, brand_id, day, series, platform) DO UPDATE SET
                 replaced_value = snapshots.value, value = excluded.value,
                 logged_by = excluded.logged_by, logged_at = excluded.logged_at,
                 source = excluded.source
             WHERE snapshots.value <> excluded.value",
        )
        .bind(guild)
        .bind(logged_by as i64)
        .bind(&logged_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM temp.import_rows")
            .execute(&mut *tx)
            .await?;
        for (brand, setup) in &batch.setup {
            let brand = ids.get(*brand).copied().ok_or_else(|| {
                Error::Database(sqlx::Error::Protocol("a setup row names no brand".into()))
            })?;
            apply_setup(&mut tx, guild, brand, setup).await?;
        }
        tx.commit().await?;
        Ok(Imported {
            replaced: (existing - unchanged) as u64,
            unchanged: unchanged as u64,
            brands_created,
        })
    }

    /// Adds a digest schedule; it fires only after it was created.
    pub async fn add_schedule(&self, schedule: &NewSchedule<'_>) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = sqlx::query_scalar(
            "INSERT INTO digest_schedules
                 (guild_id, channel_id, cron, timezone, landscape, created_by, created_at, last_fire)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(self::guild_id(schedule.guild_id))
        .bind(schedule.channel_id as i64)
        .bind(schedule.cron)
        .bind(schedule.timezone)
        .bind(schedule.landscape)
        .bind(schedule.created_by as i64)
        .bind(schedule.created_at)
        .bind(schedule.created_at)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The guild's schedules, or every guild's with `None`.
    pub async fn schedules(&self, guild_id: Option<u64>) -> Result<Vec<Schedule>> {
        let rows = sqlx::query(
            "SELECT id, guild_id, channel_id, cron, timezone, landscape, last_fire, failing
             FROM digest_schedules WHERE ?1 IS NULL OR guild_id = ?1 ORDER BY id",
        )
        .bind(guild_id.map(self::guild_id))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(schedule_from_row).collect()
    }

    /// Removes one of the guild's schedules; returns whether it existed.
    pub async fn remove_schedule(&self, guild_id: u64, id: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM digest_schedules WHERE guild_id = ? AND id = ?")
            .bind(self::guild_id(guild_id))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(removed > 0)
    }

    /// Moves a schedule past its due runs in one transaction: records `skipped` ones (missed
    /// beyond the catch-up window) and claims `post`, if any. The claim is `None` when another
    /// process claimed that run first.
    pub async fn advance(
        &self,
        schedule: &Schedule,
        post: Option<i64>,
        skipped: &[i64],
        now: i64,
    ) -> Result<Option<Claim>> {
        let Some(latest) = skipped.iter().copied().chain(post).max() else {
            return Ok(None);
        };
        let mut tx = self.begin_write().await?;
        let runs = skipped
            .iter()
            .map(|at| (*at, "skipped"))
            .chain(post.map(|at| (at, "claimed")));
        let mut claimed = false;
        for (at, state) in runs {
            let inserted = sqlx::query(
                "INSERT INTO digest_runs (schedule_id, scheduled_at, state, claimed_at, detail)
                 VALUES (?, ?, ?, ?, CASE ? WHEN 'skipped' THEN 'missed by more than the catch-up window' END)
                 ON CONFLICT DO NOTHING",
            )
            .bind(schedule.id)
            .bind(at)
            .bind(state)
            .bind(now)
            .bind(state)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            claimed = state == "claimed" && inserted == 1;
        }
        sqlx::query("UPDATE digest_schedules SET last_fire = MAX(last_fire, ?) WHERE id = ?")
            .bind(latest)
            .bind(schedule.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(post.filter(|_| claimed).map(|scheduled_at| Claim {
            schedule: schedule.clone(),
            scheduled_at,
        }))
    }

    /// Runs claimed before `stale_before` and never finished: their process stopped between
    /// claiming and posting. Each is claimed afresh (its claim time moved to `now`) so that
    /// one process takes it over.
    /// Runs scheduled before `too_late` are given up as failed instead: a digest days late
    /// helps no one, and retrying it for ever would pile up.
    pub async fn reclaim_stale(
        &self,
        stale_before: i64,
        too_late: i64,
        now: i64,
    ) -> Result<Vec<Claim>> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE digest_runs SET state = 'failed', detail = 'not posted within the catch-up window'
             WHERE state = 'claimed' AND claimed_at < ? AND scheduled_at < ?",
        )
        .bind(stale_before)
        .bind(too_late)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "UPDATE digest_runs SET claimed_at = ?1
             WHERE state = 'claimed' AND claimed_at < ?2
             RETURNING schedule_id, scheduled_at",
        )
        .bind(now)
        .bind(stale_before)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let schedules = self.schedules(None).await?;
        let mut claims = Vec::new();
        for row in rows {
            let id: i64 = row.try_get(0)?;
            if let Some(schedule) = schedules.iter().find(|s| s.id == id && s.failing.is_none()) {
                claims.push(Claim {
                    schedule: schedule.clone(),
                    scheduled_at: row.try_get(1)?,
                });
            }
        }
        Ok(claims)
    }

    /// Marks a claimed run posted, or failed; a failure with `failing` set also stops the
    /// schedule, which `/digest list` then reports.
    pub async fn finish_run(
        &self,
        claim: &Claim,
        posted: bool,
        detail: Option<&str>,
        failing: bool,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE digest_runs SET state = ?, detail = ? WHERE schedule_id = ? AND scheduled_at = ?")
            .bind(if posted { "posted" } else { "failed" })
            .bind(detail)
            .bind(claim.schedule.id)
            .bind(claim.scheduled_at)
            .execute(&mut *tx)
            .await?;
        if failing {
            sqlx::query("UPDATE digest_schedules SET failing = ? WHERE id = ?")
                .bind(detail)
                .bind(claim.schedule.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every run of a schedule: `(scheduled_at, state)`, oldest first.
    pub async fn runs(&self, schedule_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT scheduled_at, state FROM digest_runs WHERE schedule_id = ? ORDER BY scheduled_at",
        )
        .bind(schedule_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

fn schedule_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Schedule> {
    Ok(Schedule {
        id: row.try_get(0)?,
        guild_id: row.try_get::<i64, _>(1)? as u64,
        channel_id: row.try_get::<i64, _>(2)? as u64,
        cron: row.try_get(3)?,
        timezone: row.try_get(4)?,
        landscape: row.try_get(5)?,
        last_fire: row.try_get(6)?,
        failing: row.try_get(7)?,
    })
}

fn brand_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Brand> {
    Ok(Brand {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        competitor: row.try_get(2)?,
    })
}

/// Brand ids as a JSON array, for `json_each`.
fn json_ids(ids: &[i64]) -> String {
    format!(
        "[{}]",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    )
}

/// Series names as a JSON array, for `json_each`; they are plugin-declared identifiers, never
/// user text, so they need no escaping.
fn json_strings(names: &[&str]) -> String {
    format!(
        "[{}]",
        names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Discord ids are below 2^63, so they fit SQLite's signed integers unchanged.
fn guild_id(id: u64) -> i64 {
    id as i64
}

/// Sets a brand's competitor flag, or puts it in a landscape (created if new).
async fn apply_setup(
    tx: &mut Transaction<'static, Sqlite>,
    guild: i64,
    brand_id: i64,
    setup: &Setup,
) -> Result<()> {
    match setup {
        Setup::Competitor(competitor) => {
            sqlx::query("UPDATE brands SET competitor = ? WHERE id = ? AND guild_id = ?")
                .bind(competitor)
                .bind(brand_id)
                .bind(guild)
                .execute(&mut **tx)
                .await?;
        }
        Setup::Landscape(landscape) => {
            sqlx::query(
                "INSERT INTO landscapes (guild_id, name, name_key) VALUES (?, ?, ?)
                 ON CONFLICT (guild_id, name_key) DO NOTHING",
            )
            .bind(guild)
            .bind(landscape.trim())
            .bind(brand_key(landscape))
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT OR IGNORE INTO landscape_brands (landscape_id, brand_id)
                 SELECT id, ? FROM landscapes WHERE guild_id = ? AND name_key = ?",
            )
            .bind(brand_id)
            .bind(guild)
            .bind(brand_key(landscape))
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// A landscape whose last brand left it is gone too.
async fn drop_empty_landscapes(tx: &mut Transaction<'static, Sqlite>, guild: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM landscapes WHERE guild_id = ?
           AND NOT EXISTS (SELECT 1 FROM landscape_brands WHERE landscape_id = landscapes.id)",
    )
    .bind(guild)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// [`LOG_SNAPSHOT`] for a snapshot's values: the rows it stored, with the brand's name and
/// what each replaced; `None` when the guild has no brand of that name.
async fn log_snapshot<'e, E>(db: E, snapshot: &NewSnapshot<'_>) -> Result<Option<Logged>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let values: Vec<String> = (0..snapshot.values.len())
        .map(|i| format!("(?{}, ?{})", 8 + 2 * i, 9 + 2 * i))
        .collect();
    let sql = LOG_SNAPSHOT.replace("{values}", &values.join(", "));
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(guild_id(snapshot.guild_id))
        .bind(brand_key(snapshot.brand))
        .bind(snapshot.platform)
        .bind(snapshot.day.to_string())
        .bind(snapshot.logged_by as i64)
        .bind(snapshot.logged_at.to_rfc3339())
        .bind(match snapshot.source {
            Source::Command => "command",
            Source::Import => "import",
        });
    for &(series, value) in snapshot.values {
        query = query.bind(series).bind(value);
    }
    let rows = query.fetch_all(db).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut replaced = Vec::new();
    for &(series, _) in snapshot.values {
        for row in &rows {
            let stored: String = row.try_get(0)?;
            let before: Option<i64> = row.try_get(1)?;
            if stored == series
                && let Some(before) = before
            {
                replaced.push((series, before));
            }
        }
    }
    Ok(Some(Logged {
        brand: first.try_get(2)?,
        brand_created: false,
        replaced,
    }))
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
        assert!(store.snapshots(1, None, None).await.unwrap().is_empty());
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
        let needs = HistoryNeeds {
            previous: &["mentions"],
            peers: &["mentions"],
        };
        let history = store
            .history(1, "Newcomer", "x", day, &needs)
            .await
            .unwrap();
        assert_eq!(history.peers.get("mentions"), Some(&(10, 1)));
        let later = day.succ_opt().unwrap();
        let history = store.history(2, "acme", "x", later, &needs).await.unwrap();
        assert!(history.previous.is_empty(), "guild 2 saw guild 1's Acme");
    }
}
