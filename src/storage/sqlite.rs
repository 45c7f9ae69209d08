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

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite as Db, Transaction};

use super::{Dialects, Maintenance};
use crate::error::{Error, Result};
use crate::settings::{DatabaseSettings, Synchronous};

/// A SQLite database file.
#[derive(Clone)]
pub struct Sqlite {
    pool: SqlitePool,
    writer: SqlitePool,
    path: std::path::PathBuf,
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
        "INSERT INTO temp.import_rows (brand_id, platform, series, day, value) VALUES {}",
        vec!["(?, ?, ?, ?, ?)"; rows].join(", ")
    )
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
        Ok(Sqlite { pool, writer, path })
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

    /// Puts an import's rows, as `(brand id, row)`, into the staging table: no keys, no checks,
    /// the fastest writes SQLite has, in as few statements as its parameter limit allows.
    pub(super) async fn stage(
        tx: &mut Transaction<'static, Db>,
        rows: &[(i64, &super::ImportRow)],
    ) -> Result<()> {
        // Unqualified, the table's name finds it before any other in both databases.
        sqlx::query(
            "CREATE TEMP TABLE IF NOT EXISTS import_rows (
                 brand_id INTEGER, platform TEXT, series TEXT, day TEXT, value INTEGER)",
        )
        .execute(&mut **tx)
        .await?;
        for chunk in rows.chunks(IMPORT_BATCH) {
            let mut query = if chunk.len() == IMPORT_BATCH {
                sqlx::query(IMPORT_BATCH_SQL.as_str())
            } else {
                sqlx::query(sqlx::AssertSqlSafe(staging_sql(chunk.len())))
            };
            for (brand, row) in chunk {
                query = query
                    .bind(*brand)
                    .bind(row.platform)
                    .bind(row.series)
                    .bind(row.day)
                    .bind(row.value);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
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
}
