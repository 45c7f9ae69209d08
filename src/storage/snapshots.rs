//! Snapshots and every question over them: the [`Snapshots`] queries, written once for both
//! backends (logging a command, the history a plugin compares with, aggregates for reports,
//! comparisons and digests, values for charts, export, import, autocomplete).

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    Dialects, Postgres, Sqlite, brand_key, findable, for_each_backend, guild, instant, retrying,
    storable,
};
use crate::command::Suggest;
use crate::error::{Error, Result, UserError};
use crate::period::Period;
use crate::plugin::{History, HistoryNeeds};

/// Where a snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    Command,
    Import,
}

/// A stored value as an export lists it: `(day, brand, platform, series, value, source)`.
pub type SnapshotLine = (String, String, String, String, i64, String);

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
    pub brand_id: i64,
    /// The brand's name as first written.
    pub brand: String,
    pub brand_created: bool,
    /// Series whose earlier value for the same day was replaced, with that value.
    pub replaced: Vec<(&'static str, i64)>,
}

/// A series of one brand and platform over a period, aggregated every way a series can be: the
/// caller picks the one the series' rule asks for.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
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
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Stored {
    pub brand_id: i64,
    pub platform: String,
    pub series: String,
    pub day: NaiveDate,
    pub value: i64,
}

#[async_trait::async_trait]
pub trait Snapshots: Send + Sync {
    /// Stores a snapshot's values atomically, creating the brand if `auto_create`: one statement
    /// for a known brand. A value stored for the same key is replaced, and reported.
    async fn log(&self, snapshot: &NewSnapshot<'_>, auto_create: bool) -> Result<Logged>;

    /// What is stored for `brand` around `day`, as far as `needs` asks: each `previous` series'
    /// latest value before that day on the same platform, and each `peers` series summed over
    /// the brand's competitors on that day.
    async fn history(
        &self,
        guild_id: u64,
        brand: &str,
        platform: &str,
        day: NaiveDate,
        needs: &HistoryNeeds,
    ) -> Result<History>;

    /// Names of the guild's brands or landscapes containing `typed` (any case), those
    /// starting with it first: what autocomplete offers.
    async fn suggestions(
        &self,
        guild_id: u64,
        of: Suggest,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<String>>;

    /// Each series of `brands` (or only `series`) over `period` on each platform (or only
    /// `platform`), aggregated.
    async fn aggregate(
        &self,
        guild_id: u64,
        brands: &[i64],
        period: Period,
        platform: Option<&str>,
        series: Option<&[&str]>,
    ) -> Result<Vec<Aggregated>>;

    /// Each `series` of `brands` summed over platforms (or only `platform`) day by day, and the
    /// largest of those daily sums over `period`, as `(brand, series, peak)`: what a series
    /// aggregated by its largest day adds up to across platforms, since each platform's
    /// largest day may fall on a different day.
    async fn peaks(
        &self,
        guild_id: u64,
        brands: &[i64],
        period: Period,
        platform: Option<&str>,
        series: &[&str],
    ) -> Result<Vec<(i64, String, i64)>>;

    /// Every stored value of `brands` over `period` for the given series, oldest first.
    async fn values(
        &self,
        guild_id: u64,
        brands: &[i64],
        period: Period,
        platform: Option<&str>,
        series: &[&str],
    ) -> Result<Vec<Stored>>;

    /// Every stored value of a guild, oldest first, as `(day, brand, platform, series, value,
    /// source)`, the source worded `typed`, `imported` or `collected`; only of `brands` and within
    /// `period` when given.
    async fn snapshots(
        &self,
        guild_id: u64,
        brands: Option<&[i64]>,
        period: Option<Period>,
    ) -> Result<Vec<SnapshotLine>>;
}

/// Each series of some brands over a period, aggregated every way a series can be; the
/// hottest query (reports, comparisons, digests). See BENCHMARKS.md for its plan. `$1`..`$2`
/// the period, `$3` the guild, `$4` the brands, `$5` a platform or NULL, `$6` series or NULL.
pub const AGGREGATE: Dialects = Dialects {
    sqlite: "SELECT s.brand_id, s.platform, s.series, SUM(s.value) AS sum, MAX(s.value) AS max,
        COUNT(*) AS days,
        (SELECT l.value FROM snapshots l
        WHERE l.guild_id = s.guild_id AND l.brand_id = s.brand_id
        AND l.day BETWEEN $1 AND $2 AND l.series = s.series AND l.platform = s.platform
        ORDER BY l.day DESC LIMIT 1) AS last
        FROM snapshots s
        WHERE s.guild_id = $3 AND s.brand_id IN (SELECT value FROM json_each($4))
        AND s.day BETWEEN $1 AND $2 AND ($5 IS NULL OR s.platform = $5)
        AND ($6 IS NULL OR s.series IN (SELECT value FROM json_each($6)))
        GROUP BY s.brand_id, s.series, s.platform",
    postgres: "SELECT s.brand_id, s.platform, s.series, CAST(SUM(s.value) AS BIGINT) AS sum,
        MAX(s.value) AS max, COUNT(*) AS days,
        (SELECT l.value FROM snapshots l
        WHERE l.guild_id = s.guild_id AND l.brand_id = s.brand_id
        AND l.day BETWEEN $1 AND $2 AND l.series = s.series AND l.platform = s.platform
        ORDER BY l.day DESC LIMIT 1) AS last
        FROM snapshots s
        WHERE s.guild_id = $3 AND s.brand_id = ANY($4)
        AND s.day BETWEEN $1 AND $2 AND ($5 IS NULL OR s.platform = $5)
        AND ($6 IS NULL OR s.series = ANY($6))
        GROUP BY s.guild_id, s.brand_id, s.series, s.platform",
};

/// Everything a plugin compares a new value with, in one statement (each statement is a round
/// trip to the database): for each series of `{previous}`, the brand's latest value before the
/// day `$4` on the platform `$3`, and for each series of `{peers}`, its sum over the brand's
/// competitors on that day with how many there are: the brands that share a landscape with it,
/// or every other brand of the guild while it is in no landscape. `$1` guild, `$2` brand key;
/// [`history_statement`] puts the series in as rows of parameters from `$5` on. Rows are
/// `(kind, series, day, value, brands)`, kind `previous` or `peers`.
///
/// The series are rows of parameters rather than one array parameter because PostgreSQL, after
/// five runs of a prepared statement, keeps one plan for any parameters only if it costs no
/// more than the plans made for each run: with an array of unknown length it never did, and
/// planning each run cost 0.4-0.5 ms, more than running it (0.1 ms). Each series is read in a
/// `LATERAL` subquery so that the kept plan finds it in an index (as joins, that plan sorted
/// the day's rows of every series: 2.6 ms). SQLite plans every run anyway; it is told its
/// (covering) index for the competitors, as without statistics its planner prefers scanning
/// the guild's whole primary key range, 300 times slower on a year of data, and finds the
/// latest day first, then its row by the primary key.
pub const HISTORY: Dialects = Dialects {
    sqlite: "WITH me AS (SELECT id FROM brands WHERE guild_id = $1 AND name_key = $2),
              rivals AS (SELECT theirs.brand_id AS id FROM landscape_brands mine
                           JOIN landscape_brands theirs ON theirs.landscape_id = mine.landscape_id
                          WHERE mine.brand_id IN (SELECT id FROM me))
         SELECT 'previous', p.series, s.day, s.value, 0
           FROM (SELECT n.column1 AS series,
                        (SELECT l.day FROM snapshots l
                          WHERE l.guild_id = $1 AND l.brand_id = (SELECT id FROM me)
                            AND l.series = n.column1 AND l.platform = $3 AND l.day < $4
                          ORDER BY l.day DESC LIMIT 1) AS day
                   FROM {previous} n) p
          CROSS JOIN snapshots s
          WHERE s.guild_id = $1 AND s.brand_id = (SELECT id FROM me) AND s.day = p.day
            AND s.series = p.series AND s.platform = $3
         UNION ALL
         SELECT 'peers', n.column1, NULL, COALESCE(SUM(s.value), 0), COUNT(s.value)
           FROM {peers} n
           LEFT JOIN snapshots s INDEXED BY snapshots_by_day
             ON s.guild_id = $1 AND s.series = n.column1 AND s.platform = $3 AND s.day = $4
            AND s.brand_id NOT IN (SELECT id FROM me)
            AND (NOT EXISTS (SELECT 1 FROM rivals) OR s.brand_id IN (SELECT id FROM rivals))
          GROUP BY n.column1",
    postgres:
        "WITH me AS (SELECT id FROM brands WHERE guild_id = $1 AND name_key = $2),
              rivals AS (SELECT theirs.brand_id AS id FROM landscape_brands mine
                           JOIN landscape_brands theirs ON theirs.landscape_id = mine.landscape_id
                          WHERE mine.brand_id IN (SELECT id FROM me))
         SELECT 'previous', n.column1, l.day, l.value, CAST(0 AS BIGINT)
           FROM {previous} n
           CROSS JOIN LATERAL (
             SELECT l.day, l.value FROM snapshots l
              WHERE l.guild_id = $1 AND l.brand_id = (SELECT id FROM me)
                AND l.series = n.column1 AND l.platform = $3 AND l.day < $4
              ORDER BY l.day DESC LIMIT 1) l
         UNION ALL
         SELECT 'peers', n.column1, NULL, t.total, t.brands
           FROM {peers} n
           CROSS JOIN LATERAL (
             SELECT CAST(COALESCE(SUM(s.value), 0) AS BIGINT) AS total, COUNT(s.value) AS brands
               FROM snapshots s
              WHERE s.guild_id = $1 AND s.series = n.column1 AND s.platform = $3 AND s.day = $4
                AND s.brand_id NOT IN (SELECT id FROM me)
                AND (NOT EXISTS (SELECT 1 FROM rivals) OR s.brand_id IN (SELECT id FROM rivals))) t",
};

/// [`HISTORY`] in one dialect for `previous` and `peers` series, whose names are bound from `$5`
/// on, the previous ones first.
pub fn history_statement(sql: &str, previous: usize, peers: usize) -> String {
    // A one-column table of parameters (`column1` in both dialects), or no rows.
    let rows = |first: usize, count: usize| {
        if count == 0 {
            return "(SELECT CAST(NULL AS TEXT) AS column1 WHERE 1 = 0)".to_string();
        }
        let rows: Vec<String> = (first..first + count).map(|i| format!("(${i})")).collect();
        format!("(VALUES {})", rows.join(", "))
    };
    sql.replace("{previous}", &rows(5, previous))
        .replace("{peers}", &rows(5 + previous, peers))
}

/// Stores a snapshot's values for a brand found by name, in one statement (each statement is a
/// round trip, and those trips were most of a logged command's cost): `$1` guild, `$2`
/// brand key, `$3` platform, `$4` day, `$5` logged by, `$6` logged at, `$7` source, then a
/// `(series, value)` pair for each value in place of `{values}`. On conflict it keeps the value
/// it overwrites in `replaced_value`, and returns, for each row it wrote, the series, the value
/// it replaced (NULL for a new one), the brand's name and id. No rows means no such brand.
/// (`WHERE` before `ON CONFLICT` is SQLite's way of telling an upsert from a join.)
const LOG_SNAPSHOT: &str = "INSERT INTO snapshots
        (guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source)
    SELECT b.guild_id, b.id, $3, v.column1, $4, v.column2, $5, $6, $7
    FROM brands b, (VALUES {values}) v
    WHERE b.guild_id = $1 AND b.name_key = $2
    ON CONFLICT (guild_id, brand_id, day, series, platform) DO UPDATE SET
        replaced_value = snapshots.value, value = excluded.value,
        logged_by = excluded.logged_by, logged_at = excluded.logged_at, source = excluded.source
    RETURNING series, replaced_value, (SELECT name FROM brands WHERE id = brand_id), brand_id";

/// Autocomplete: names containing what was typed, those starting with it first.
const SUGGEST_BRANDS: Dialects = Dialects {
    sqlite: "SELECT name FROM brands WHERE guild_id = $1 AND instr(name_key, $2) > 0
        ORDER BY instr(name_key, $2) <> 1, name_key LIMIT $3",
    postgres: "SELECT name FROM brands WHERE guild_id = $1 AND strpos(name_key, $2) > 0
        ORDER BY strpos(name_key, $2) <> 1, name_key LIMIT $3",
};

const SUGGEST_LANDSCAPES: Dialects = Dialects {
    sqlite: "SELECT name FROM landscapes WHERE guild_id = $1 AND instr(name_key, $2) > 0
        ORDER BY instr(name_key, $2) <> 1, name_key LIMIT $3",
    postgres: "SELECT name FROM landscapes WHERE guild_id = $1 AND strpos(name_key, $2) > 0
        ORDER BY strpos(name_key, $2) <> 1, name_key LIMIT $3",
};

/// The largest daily sum over platforms: `$1` guild, `$2` brands, `$3`..`$4` the period, `$5` a
/// platform or NULL, `$6` series.
const PEAKS: Dialects = Dialects {
    sqlite: "SELECT brand_id, series, MAX(total) FROM (
          SELECT brand_id, series, SUM(value) AS total FROM snapshots
          WHERE guild_id = $1 AND brand_id IN (SELECT value FROM json_each($2))
            AND day BETWEEN $3 AND $4 AND ($5 IS NULL OR platform = $5)
            AND series IN (SELECT value FROM json_each($6))
          GROUP BY brand_id, series, day) daily
        GROUP BY brand_id, series",
    postgres: "SELECT brand_id, series, MAX(total) FROM (
          SELECT brand_id, series, CAST(SUM(value) AS BIGINT) AS total FROM snapshots
          WHERE guild_id = $1 AND brand_id = ANY($2)
            AND day BETWEEN $3 AND $4 AND ($5 IS NULL OR platform = $5)
            AND series = ANY($6)
          GROUP BY brand_id, series, day) daily
        GROUP BY brand_id, series",
};

/// `$1` guild, `$2` brands, `$3`..`$4` the period, `$5` a platform or NULL, `$6` series.
const VALUES: Dialects = Dialects {
    sqlite: "SELECT brand_id, platform, series, day, value FROM snapshots
        WHERE guild_id = $1 AND brand_id IN (SELECT value FROM json_each($2))
          AND day BETWEEN $3 AND $4 AND ($5 IS NULL OR platform = $5)
          AND series IN (SELECT value FROM json_each($6))
        ORDER BY day, brand_id, platform, series",
    postgres: "SELECT brand_id, platform, series, day, value FROM snapshots
        WHERE guild_id = $1 AND brand_id = ANY($2)
          AND day BETWEEN $3 AND $4 AND ($5 IS NULL OR platform = $5)
          AND series = ANY($6)
        ORDER BY day, brand_id, platform, series",
};

/// `$1` guild, `$2` brands or NULL, `$3`..`$4` the period or NULL.
const SNAPSHOTS: Dialects = Dialects {
    sqlite: "SELECT s.day, b.name, s.platform, s.series, s.value,
        CASE s.source WHEN 'api' THEN 'collected' WHEN 'import' THEN 'imported' ELSE 'typed' END
        FROM snapshots s JOIN brands b ON b.id = s.brand_id
        WHERE s.guild_id = $1
          AND ($2 IS NULL OR s.brand_id IN (SELECT value FROM json_each($2)))
          AND ($3 IS NULL OR s.day BETWEEN $3 AND $4)
        ORDER BY s.day, b.name_key, s.platform, s.series",
    postgres: "SELECT s.day, b.name, s.platform, s.series, s.value,
        CASE s.source WHEN 'api' THEN 'collected' WHEN 'import' THEN 'imported' ELSE 'typed' END
        FROM snapshots s JOIN brands b ON b.id = s.brand_id
        WHERE s.guild_id = $1
          AND ($2 IS NULL OR s.brand_id = ANY($2))
          AND ($3 IS NULL OR s.day BETWEEN $3 AND $4)
        ORDER BY s.day, b.name_key, s.platform, s.series",
};

macro_rules! impl_snapshots {
    ($backend:ident, $db:ty) => {
        impl $backend {
            /// [`LOG_SNAPSHOT`] for a snapshot's values: the rows it stored, with the brand's
            /// name and what each replaced; `None` when the guild has no brand of that name.
            async fn log_snapshot<'e, E>(
                db: E,
                snapshot: &NewSnapshot<'_>,
            ) -> Result<Option<Logged>>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let values: Vec<String> = (0..snapshot.values.len())
                    .map(|i| format!("(${}, ${})", 8 + 2 * i, 9 + 2 * i))
                    .collect();
                let sql = LOG_SNAPSHOT.replace("{values}", &values.join(", "));
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(guild(snapshot.guild_id))
                    .bind(brand_key(snapshot.brand))
                    .bind(snapshot.platform)
                    .bind(snapshot.day)
                    .bind(snapshot.logged_by as i64)
                    .bind(instant(snapshot.logged_at))
                    .bind(match snapshot.source {
                        Source::Command => "command",
                        Source::Import => "import",
                    });
                for &(series, value) in snapshot.values {
                    query = query.bind(series).bind(value);
                }
                let rows: Vec<(String, Option<i64>, String, i64)> = query.fetch_all(db).await?;
                let Some((_, _, brand, brand_id)) = rows.first() else {
                    return Ok(None);
                };
                let mut replaced = Vec::new();
                for &(series, _) in snapshot.values {
                    for (stored, before, ..) in &rows {
                        if stored == series
                            && let Some(before) = before
                        {
                            replaced.push((series, *before));
                        }
                    }
                }
                Ok(Some(Logged {
                    brand_id: *brand_id,
                    brand: brand.clone(),
                    brand_created: false,
                    replaced,
                }))
            }
        }

        #[async_trait::async_trait]
        impl Snapshots for $backend {
            async fn log(&self, snapshot: &NewSnapshot<'_>, auto_create: bool) -> Result<Logged> {
                if snapshot.values.is_empty() {
                    return Err(Error::Database(sqlx::Error::Protocol(
                        "a snapshot without values".into(),
                    )));
                }
                storable(snapshot.brand)?;
                retrying!(self, async {
                    if let Some(logged) = Self::log_snapshot(self.writer(), snapshot).await? {
                        return Ok(logged);
                    }
                    let mut tx = self.begin_write().await?;
                    // Another call may have created the brand since.
                    if let Some(logged) = Self::log_snapshot(&mut *tx, snapshot).await? {
                        tx.commit().await?;
                        return Ok(logged);
                    }
                    if !auto_create {
                        return Err(UserError::BrandNotCreated {
                            name: snapshot.brand.trim().to_string(),
                        }
                        .into());
                    }
                    let guild = guild(snapshot.guild_id);
                    let created =
                        Self::create_brand(&mut tx, guild, snapshot.brand, snapshot.logged_at)
                            .await?
                            .is_some();
                    let logged = Self::log_snapshot(&mut *tx, snapshot)
                        .await?
                        .ok_or_else(|| Error::Database(sqlx::Error::RowNotFound))?;
                    tx.commit().await?;
                    Ok(if created {
                        Logged {
                            brand_created: true,
                            replaced: Vec::new(),
                            ..logged
                        }
                    } else {
                        logged
                    })
                })
            }

            async fn history(
                &self,
                guild_id: u64,
                brand: &str,
                platform: &str,
                day: NaiveDate,
                needs: &HistoryNeeds,
            ) -> Result<History> {
                let guild = guild(guild_id);
                let key = brand_key(brand);
                let mut history = History::default();
                if !findable(&key) {
                    return Ok(history);
                }
                if needs.previous.is_empty() && needs.peers.is_empty() {
                    return Ok(history);
                }
                let sql = history_statement(
                    Self::pick(&HISTORY),
                    needs.previous.len(),
                    needs.peers.len(),
                );
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(guild)
                    .bind(&key)
                    .bind(platform)
                    .bind(day);
                for name in needs.previous.iter().chain(needs.peers) {
                    query = query.bind(*name);
                }
                let rows: Vec<(String, String, Option<NaiveDate>, i64, i64)> =
                    query.fetch_all(self.reader()).await?;
                // The names are looked up in `needs` so that the history holds the plugin's own
                // `&'static str`s, and only what it asked for.
                for (kind, series, on, value, brands) in rows {
                    match (kind.as_str(), on) {
                        ("previous", Some(on)) => {
                            if let Some(&name) = needs.previous.iter().find(|n| **n == series) {
                                history.previous.insert(name, (on, value));
                            }
                        }
                        ("peers", _) if brands > 0 => {
                            if let Some(&name) = needs.peers.iter().find(|n| **n == series) {
                                history.peers.insert(name, (value, brands as usize));
                            }
                        }
                        _ => {}
                    }
                }
                Ok(history)
            }

            async fn suggestions(
                &self,
                guild_id: u64,
                of: Suggest,
                typed: &str,
                limit: usize,
            ) -> Result<Vec<String>> {
                if !findable(typed) {
                    return Ok(Vec::new());
                }
                let sql = match of {
                    Suggest::Brands => &SUGGEST_BRANDS,
                    Suggest::Landscapes => &SUGGEST_LANDSCAPES,
                };
                Ok(sqlx::query_scalar(Self::pick(sql))
                    .bind(guild(guild_id))
                    .bind(brand_key(typed))
                    .bind(limit as i64)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn aggregate(
                &self,
                guild_id: u64,
                brands: &[i64],
                period: Period,
                platform: Option<&str>,
                series: Option<&[&str]>,
            ) -> Result<Vec<Aggregated>> {
                Ok(sqlx::query_as(Self::pick(&AGGREGATE))
                    .bind(period.from)
                    .bind(period.to)
                    .bind(guild(guild_id))
                    .bind(Self::ids(brands))
                    .bind(platform)
                    .bind(series.map(Self::names))
                    .persistent(Self::KEEPS_PERIOD_PLANS)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn peaks(
                &self,
                guild_id: u64,
                brands: &[i64],
                period: Period,
                platform: Option<&str>,
                series: &[&str],
            ) -> Result<Vec<(i64, String, i64)>> {
                Ok(sqlx::query_as(Self::pick(&PEAKS))
                    .bind(guild(guild_id))
                    .bind(Self::ids(brands))
                    .bind(period.from)
                    .bind(period.to)
                    .bind(platform)
                    .bind(Self::names(series))
                    .persistent(Self::KEEPS_PERIOD_PLANS)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn values(
                &self,
                guild_id: u64,
                brands: &[i64],
                period: Period,
                platform: Option<&str>,
                series: &[&str],
            ) -> Result<Vec<Stored>> {
                Ok(sqlx::query_as(Self::pick(&VALUES))
                    .bind(guild(guild_id))
                    .bind(Self::ids(brands))
                    .bind(period.from)
                    .bind(period.to)
                    .bind(platform)
                    .bind(Self::names(series))
                    .persistent(Self::KEEPS_PERIOD_PLANS)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn snapshots(
                &self,
                guild_id: u64,
                brands: Option<&[i64]>,
                period: Option<Period>,
            ) -> Result<Vec<SnapshotLine>> {
                let rows: Vec<(NaiveDate, String, String, String, i64, String)> =
                    sqlx::query_as(Self::pick(&SNAPSHOTS))
                        .bind(guild(guild_id))
                        .bind(brands.map(Self::ids))
                        .bind(period.map(|p| p.from))
                        .bind(period.map(|p| p.to))
                        .persistent(Self::KEEPS_PERIOD_PLANS)
                        .fetch_all(self.reader())
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|(day, brand, platform, series, value, source)| {
                        (day.to_string(), brand, platform, series, value, source)
                    })
                    .collect())
            }
        }
    };
}

for_each_backend!(impl_snapshots);
