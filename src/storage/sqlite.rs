//! The SQLite backend: one database file, set up explicitly rather than left to defaults.
//!
//! WAL so readers never wait for the writer, `synchronous = FULL` by default so an acknowledged
//! snapshot survives a power cut, foreign keys on, and a busy timeout so concurrent writes
//! queue instead of failing. Writes open with `BEGIN IMMEDIATE`, taking the write lock up
//! front: a transaction that reads first and upgrades later can fail with "database is locked"
//! no matter the busy timeout. Reads go through a pool of connections; writes through one
//! connection of their own. SQLite runs one write at a time anyway, so the single writer loses
//! nothing: writes queue in the pool instead of spinning on the busy timeout, and the one
//! connection keeps its page and statement caches warm.
//!
//! A file that is already there is looked at first, on a read-only connection, before anything
//! writes to it: another program's database is refused untouched, and a damaged one (by a
//! `PRAGMA quick_check` bounded in time) is refused with what the check found. While running,
//! writes stop for good once SQLite reports the file damaged, or once the file at the
//! configured path is no longer the one open (deleted or replaced): storing more then would
//! build on wrong data or go where no one will read it.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Sqlite as Db, Transaction};

use super::{Dialects, Maintenance};
use crate::error::{DatabaseFault, Error, Result, sqlite_code};
use crate::settings::{DatabaseSettings, IntegrityCheck, Synchronous};

/// A SQLite database file.
#[derive(Clone)]
pub struct Sqlite {
    pool: SqlitePool,
    writer: SqlitePool,
    path: PathBuf,
    /// The device and inode of the file opened, to notice it deleted or replaced.
    file: Option<(u64, u64)>,
    /// Why writes stopped, once they have; never cleared while the process runs.
    halted: Arc<OnceLock<DatabaseFault>>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.path).finish()
    }
}

/// Rows staged per statement: SQLite allows 32,766 parameters, and fewer, larger statements
/// are what makes a million-row import quick.
const IMPORT_BATCH: usize = 500;

/// The staging insert of `rows` rows.
fn staging_sql(rows: usize) -> String {
    format!(
        "INSERT INTO temp.import_rows (brand, platform, series, day, value) VALUES {}",
        vec!["(?, ?, ?, ?, ?)"; rows].join(", ")
    )
}

/// How long the check of an existing file at start may take: past it the bot starts unchecked,
/// and says so, rather than keep a huge database's users waiting.
const QUICK_CHECK_LIMIT: Duration = Duration::from_secs(10);

/// Problems `PRAGMA quick_check` lists at most; the first few say enough.
const QUICK_CHECK_PROBLEMS: usize = 5;

/// The device and inode of the file at `path`, if there is one.
#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Elsewhere the file is not followed: no inode to compare.
#[cfg(not(unix))]
fn identity(_path: &Path) -> Option<(u64, u64)> {
    None
}

/// The tables metricord's migrations make, read from a database migrated in memory, so that a
/// new migration's tables are known without a list to keep.
async fn our_tables() -> Result<Vec<String>> {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await?;
    sqlx::migrate!("migrations/sqlite").run(&mut conn).await?;
    let tables = tables(&mut conn).await?;
    conn.close().await?;
    Ok(tables)
}

/// The tables of a database, SQLite's own left out.
async fn tables(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT name FROM sqlite_schema
         WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(conn)
    .await?)
}

/// A damaged-file error for `path` from what SQLite said, or the error itself if it said
/// something else.
fn damaged(path: &Path, err: sqlx::Error) -> Error {
    match Error::from(err) {
        Error::Corrupt(err) => DatabaseFault::Damaged {
            path: path.to_path_buf(),
            found: err.to_string(),
        }
        .into(),
        other => other,
    }
}

/// Looks at the existing file at `path` on a read-only connection, which changes nothing in
/// it: refuses another program's database (tables metricord did not make, or no record of
/// its migrations) and, unless `check` is off, a damaged one.
async fn inspect(path: &Path, check: IntegrityCheck) -> Result<()> {
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|err| damaged(path, err))?;
    let found = tables(&mut conn).await.map_err(|err| match err {
        Error::Corrupt(err) => damaged(path, err),
        other => other,
    })?;
    if !found.is_empty() {
        let ours = our_tables().await?;
        let strange: Vec<&str> = found
            .iter()
            .filter(|t| !ours.contains(t))
            .map(String::as_str)
            .collect();
        let why = if !strange.is_empty() {
            let shown: Vec<&str> = strange.iter().take(5).copied().collect();
            Some(format!(
                "tables metricord did not make: {}{}",
                shown.join(", "),
                if strange.len() > shown.len() {
                    ", ..."
                } else {
                    ""
                }
            ))
        } else if !found.iter().any(|t| t == "_sqlx_migrations") {
            Some("no record of metricord's migrations".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            return Err(DatabaseFault::Foreign {
                path: path.to_path_buf(),
                why,
            }
            .into());
        }
    }
    if check == IntegrityCheck::Quick {
        quick_check(&mut conn, path, QUICK_CHECK_LIMIT).await?;
    }
    conn.close().await?;
    Ok(())
}

/// `PRAGMA quick_check`, interrupted after `limit` (then only a warning).
async fn quick_check(conn: &mut SqliteConnection, path: &Path, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    // Every hundred steps (of the virtual machine, or pages and cells checked): a clock read
    // costs far less than that many.
    conn.lock_handle()
        .await?
        .set_progress_handler(100, move || Instant::now() < deadline);
    let verdict: std::result::Result<Vec<String>, sqlx::Error> = sqlx::query_scalar(
        sqlx::AssertSqlSafe(format!("PRAGMA quick_check({QUICK_CHECK_PROBLEMS})")),
    )
    .fetch_all(&mut *conn)
    .await;
    conn.lock_handle().await?.remove_progress_handler();
    match verdict {
        Ok(rows) if rows.iter().all(|r| r == "ok") => Ok(()),
        Ok(rows) => Err(DatabaseFault::Damaged {
            path: path.to_path_buf(),
            found: format!("PRAGMA quick_check found: {}", rows.join("; ")),
        }
        .into()),
        Err(err) if sqlite_code(&err) == Some(9) => {
            tracing::warn!(
                path = %path.display(),
                "the integrity check at start did not finish in {} s and was left: check the file whole with `sqlite3 FILE 'PRAGMA integrity_check'`",
                limit.as_secs()
            );
            Ok(())
        }
        Err(err) => Err(damaged(path, err)),
    }
}

/// The staging insert for a full batch, built once.
static IMPORT_BATCH_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| staging_sql(IMPORT_BATCH));

impl Sqlite {
    /// Opens (creating it and its folder if needed) the file `settings.url` names, and applies
    /// the migrations in `migrations/sqlite/`.
    pub async fn open(settings: &DatabaseSettings) -> Result<Sqlite> {
        let url = settings.url.trim();
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let path = options.get_filename().to_path_buf();
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            inspect(&path, settings.integrity_check).await?;
        }
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
            .after_release(super::settled)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .test_before_acquire(false)
            .after_release(super::settled)
            .connect_with(options)
            .await?;
        Ok(Sqlite {
            pool,
            writer,
            file: identity(&path),
            path,
            halted: Arc::new(OnceLock::new()),
        })
    }

    /// Refuses a write once writes have stopped, or when the file at the configured path is
    /// no longer the one open (one `stat`, about a microsecond).
    pub(super) fn writable(&self) -> Result<()> {
        if let Some(fault) = self.halted.get() {
            return Err(fault.clone().into());
        }
        if self.file.is_some() && identity(&self.path) != self.file {
            return Err(self.halt(DatabaseFault::Gone {
                path: self.path.clone(),
            }));
        }
        Ok(())
    }

    /// A write's result, after stopping writes for good if SQLite found the file damaged.
    pub(super) fn noted<T>(&self, result: Result<T>) -> Result<T> {
        match result {
            Err(Error::Corrupt(err)) => Err(self.halt(DatabaseFault::Damaged {
                path: self.path.clone(),
                found: err.to_string(),
            })),
            other => other,
        }
    }

    /// Stops writes for `fault` (the first one found stays), with one log line.
    fn halt(&self, fault: DatabaseFault) -> Error {
        if self.halted.set(fault.clone()).is_ok() {
            tracing::error!(%fault, "writes stopped");
        }
        self.halted.get().cloned().unwrap_or(fault).into()
    }

    /// The connection pool reads use, for measurements that compare metricord with SQLite
    /// itself.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(super) fn reader(&self) -> &SqlitePool {
        &self.pool
    }

    pub(super) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, Db>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub(super) fn pick(sql: &Dialects) -> &'static str {
        sql.sqlite
    }

    /// Whether a read over a period keeps its prepared statement between calls: SQLite plans
    /// each run of a statement with its parameters anyway.
    pub(super) const KEEPS_PERIOD_PLANS: bool = true;

    /// Brand ids as a JSON array, for `json_each`: one prepared statement serves any number.
    pub(super) fn ids(ids: &[i64]) -> String {
        format!(
            "[{}]",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        )
    }

    /// Series names as a JSON array, for `json_each`; they are plugin-declared identifiers,
    /// never user text, so they need no escaping.
    pub(super) fn names(names: &[&str]) -> String {
        format!(
            "[{}]",
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(",")
        )
    }

    /// Puts an import's rows into the staging table, each with its brand's place in the batch
    /// (ids are only known under the write lock): no keys, no checks, the fastest writes SQLite
    /// has, in as few statements as its parameter limit allows. It runs before the write lock
    /// is taken: a temporary table is the connection's own, and writing it locks nothing.
    pub(super) async fn stage(
        conn: &mut sqlx::pool::PoolConnection<Db>,
        rows: &[super::ImportRow],
    ) -> Result<()> {
        let mut tx = conn.begin().await?;
        // Unqualified, the tables' names find them before any other in both databases.
        sqlx::raw_sql(
            "CREATE TEMP TABLE IF NOT EXISTS import_rows (
                 brand INTEGER, platform TEXT, series TEXT, day TEXT, value INTEGER);
             CREATE TEMP TABLE IF NOT EXISTS import_brands (
                 brand INTEGER PRIMARY KEY, brand_id INTEGER);
             DELETE FROM import_rows;",
        )
        .execute(&mut *tx)
        .await?;
        for chunk in rows.chunks(IMPORT_BATCH) {
            let mut query = if chunk.len() == IMPORT_BATCH {
                sqlx::query(IMPORT_BATCH_SQL.as_str())
            } else {
                sqlx::query(sqlx::AssertSqlSafe(staging_sql(chunk.len())))
            };
            for row in chunk {
                query = query
                    .bind(row.brand as i64)
                    .bind(row.platform)
                    .bind(row.series)
                    .bind(row.day)
                    .bind(row.value);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The write transaction of an import, on the connection its rows were staged on.
    pub(super) async fn begin_write_on(
        conn: &mut sqlx::pool::PoolConnection<Db>,
    ) -> Result<Transaction<'_, Db>> {
        Ok(conn.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// After rows were copied in with their ids: nothing to do, SQLite's next id follows the
    /// largest.
    pub(super) async fn after_copy(_tx: &mut Transaction<'static, Db>) -> Result<()> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl Maintenance for Sqlite {
    async fn backup(&self, path: &std::path::Path) -> Result<()> {
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

    /// `PRAGMA integrity_check`'s verdict.
    async fn integrity_check(&self) -> Result<String> {
        Ok(sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Closes every connection, checkpointing the WAL.
    async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_database_is_created_with_durable_settings_in_a_new_folder() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&DatabaseSettings {
            url: format!("sqlite://{}/nested/folder/m.db", dir.path().display()),
            ..DatabaseSettings::default()
        })
        .await
        .unwrap();
        let mut conn = db.pool.acquire().await.unwrap();
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
    async fn the_check_at_start_finds_damage_and_gives_up_without_refusing_once_its_time_is_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        {
            let mut conn = SqliteConnection::connect_with(
                &SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true),
            )
            .await
            .unwrap();
            sqlx::raw_sql(
                "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
                 INSERT INTO t SELECT i, printf('%040d', i) FROM n;",
            )
            .execute(&mut conn)
            .await
            .unwrap();
            conn.close().await.unwrap();
        }
        // The first leaf of the table (page 3, after the schema and the table's root), its
        // cells pointing nowhere; the check walks the tree from its last cells, so it meets
        // this page last.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[2 * 4096 + 8..3 * 4096].fill(0xff);
        std::fs::write(&path, bytes).unwrap();
        let check = |limit| {
            let path = path.clone();
            async move {
                let mut conn = SqliteConnection::connect_with(
                    &SqliteConnectOptions::new().filename(&path).read_only(true),
                )
                .await
                .unwrap();
                quick_check(&mut conn, &path, limit).await
            }
        };
        assert!(matches!(
            check(QUICK_CHECK_LIMIT).await,
            Err(Error::Fault(DatabaseFault::Damaged { .. }))
        ));
        let out_of_time = check(Duration::ZERO).await;
        assert!(
            out_of_time.is_ok(),
            "a check out of time starts unchecked: {out_of_time:?}"
        );
    }
}
