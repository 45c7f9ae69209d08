//! The other side of each comparison in `metricord bench`: the same work written directly,
//! without metricord. Writes go through C SQLite itself (rusqlite over the same libsqlite3 that
//! sqlx links), on the same database file and settings, so a logged command is measured
//! against what SQLite needs for the same rows per transaction and nothing else; the reads are
//! hand-written queries on the same pool.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::IMPORT_GUILD;
use crate::error::{Error, Result};
use crate::settings::Synchronous;

/// The report's aggregate as one hand-written query: both periods in one pass over the
/// brand's key range, the last value of each period found by the greatest `day|value`.
pub const DIRECT_REPORT: &str = "SELECT series, platform,
        SUM(CASE WHEN day >= ?2 THEN value END), MAX(CASE WHEN day >= ?2 THEN value END),
        MAX(CASE WHEN day >= ?2 THEN day || '|' || value END),
        SUM(CASE WHEN day < ?2 THEN value END), MAX(CASE WHEN day < ?2 THEN value END),
        MAX(CASE WHEN day < ?2 THEN day || '|' || value END)
    FROM snapshots WHERE guild_id = ?4 AND brand_id = ?5 AND day BETWEEN ?1 AND ?3
    GROUP BY series, platform";

/// The comparison's aggregate as one hand-written query: engagements summed and the last
/// followers per brand and platform.
pub const DIRECT_COMPARE: &str = "SELECT brand_id, platform,
        SUM(CASE WHEN series = 'engagements' THEN value END),
        MAX(CASE WHEN series = 'followers' THEN day || '|' || value END)
    FROM snapshots WHERE guild_id = ?3 AND brand_id IN (SELECT value FROM json_each(?4))
      AND day BETWEEN ?1 AND ?2 AND series IN ('engagements', 'followers')
    GROUP BY brand_id, platform";

/// A write transaction for each day back from today in `days`, of `rows` upserted rows each, in C SQLite on the database
/// at `path` with metricord's settings (WAL, `synchronous`, `BEGIN IMMEDIATE`), into a table
/// shaped like `snapshots` (the same columns, key and index) with statements prepared once:
/// the least a logged command with `rows` inputs could cost. Returns each transaction's time.
pub fn sqlite_writes(
    path: &Path,
    synchronous: Synchronous,
    rows: usize,
    days: std::ops::Range<usize>,
) -> Result<Vec<Duration>> {
    let failed = |err: rusqlite::Error| Error::Io(std::io::Error::other(err));
    let db = rusqlite::Connection::open(path).map_err(failed)?;
    db.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = 5000;
         CREATE TABLE IF NOT EXISTS bench_writes (
             guild_id INTEGER, brand_id INTEGER, platform TEXT, series TEXT, day TEXT, value INTEGER,
             logged_by INTEGER, logged_at TEXT, source TEXT,
             PRIMARY KEY (guild_id, brand_id, day, series, platform)) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS bench_writes_by_day
             ON bench_writes (guild_id, series, platform, day, value);"
    ))
    .map_err(failed)?;
    let series = [
        "applause",
        "conversation",
        "amplification",
        "clicks",
        "impressions",
    ];
    let today = Utc::now().date_naive();
    let logged_at = Utc::now().to_rfc3339();
    let mut insert = db
        .prepare(
            "INSERT INTO bench_writes VALUES (1, ?1, 'x', ?2, ?3, ?4, 1, ?5, 'command')
             ON CONFLICT (guild_id, brand_id, day, series, platform) DO UPDATE SET
                 value = excluded.value, logged_by = excluded.logged_by,
                 logged_at = excluded.logged_at, source = excluded.source",
        )
        .map_err(failed)?;
    let mut times = Vec::with_capacity(days.len());
    for i in days {
        let day = (today - chrono::Duration::days(i as i64)).to_string();
        let started = Instant::now();
        db.execute_batch("BEGIN IMMEDIATE").map_err(failed)?;
        for name in series.iter().cycle().take(rows) {
            insert
                .execute(rusqlite::params![
                    rows as i64,
                    name,
                    day,
                    i as i64,
                    logged_at
                ])
                .map_err(failed)?;
        }
        db.execute_batch("COMMIT").map_err(failed)?;
        times.push(started.elapsed());
    }
    Ok(times)
}

/// The same rows written directly in one transaction, in 500-row statements, into a table
/// shaped like `snapshots` (the same columns, key and index): what SQLite needs to store these
/// rows, without reading, checking or resolving anything.
pub async fn raw_bulk_insert(pool: &sqlx::SqlitePool, csv: &[u8]) -> Result<Duration> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_bulk (
             guild_id INTEGER, brand_id INTEGER, platform TEXT, series TEXT, day TEXT, value INTEGER,
             logged_by INTEGER, logged_at TEXT, source TEXT,
             PRIMARY KEY (guild_id, brand_id, day, series, platform)) WITHOUT ROWID",
    )
    .execute(pool)
    .await?;
    sqlx::query("CREATE INDEX IF NOT EXISTS bench_bulk_by_day ON bench_bulk (guild_id, series, platform, day, value)")
        .execute(pool)
        .await?;
    let text = String::from_utf8_lossy(csv);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let logged_at = Utc::now().to_rfc3339();
    const BATCH: usize = 500;
    let statement = |n: usize| {
        format!(
            "INSERT INTO bench_bulk VALUES {}",
            vec!["(?, ?, ?, ?, ?, ?, ?, ?, 'import')"; n].join(", ")
        )
    };
    let full = statement(BATCH);
    let started = Instant::now();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for chunk in rows.chunks(BATCH) {
        let sql = if chunk.len() == BATCH {
            full.clone()
        } else {
            statement(chunk.len())
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            // The brand's number stands in for its id, as the import resolves names to ids.
            let brand: i64 = row[1]
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            query = query
                .bind(IMPORT_GUILD as i64)
                .bind(brand)
                .bind(row[2])
                .bind(row[3])
                .bind(row[0])
                .bind(row[4].parse::<i64>().unwrap_or(0))
                .bind(1_i64)
                .bind(&logged_at);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(started.elapsed())
}
