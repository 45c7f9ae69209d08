//! What the integration tests share: a database of their own for each test (SQLite, or a fresh
//! database on the PostgreSQL test server), running a test on both backends, and the built
//! binary.

#![allow(dead_code)] // each test file uses its own part of this module

pub mod bot;
pub mod fake_discord;
pub mod fake_platforms;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use metricord::settings::DatabaseSettings;
use metricord::storage::Store;
use sqlx::Connection;

/// The PostgreSQL server the tests use, such as `postgres://postgres@127.0.0.1:5432/postgres`;
/// without it the PostgreSQL half of each test is skipped, and says so.
const POSTGRES_URL: &str = "METRICORD_TEST_POSTGRES_URL";
/// Set to 1 (as CI does) to fail instead of skipping when the server is not there.
const REQUIRE_POSTGRES: &str = "METRICORD_REQUIRE_POSTGRES";

/// Runs a storage-touching test once on each backend: `on_both_backends!(#[tokio::test] async
/// fn name);` above `async fn name(db: TestDb)` makes the tests `name::on_sqlite` and
/// `name::on_postgres`, each handing the function a fresh [`TestDb`] of its backend.
macro_rules! on_both_backends {
    (#[$attr:meta] async fn $name:ident) => {
        mod $name {
            #[$attr]
            async fn on_sqlite() {
                super::$name($crate::support::TestDb::new()).await
            }

            #[$attr]
            async fn on_postgres() {
                if let Some(db) = $crate::support::TestDb::postgres() {
                    super::$name(db).await
                }
            }
        }
    };
    (#[$attr:meta] fn $name:ident) => {
        mod $name {
            #[$attr]
            fn on_sqlite() {
                super::$name($crate::support::TestDb::new())
            }

            #[$attr]
            fn on_postgres() {
                if let Some(db) = $crate::support::TestDb::postgres() {
                    super::$name(db)
                }
            }
        }
    };
}
pub(crate) use on_both_backends;

/// Which database a test runs on.
enum Backend {
    Sqlite,
    /// A database of its own on the test server, dropped with the `TestDb`.
    Postgres {
        server: String,
        name: String,
    },
}

/// A fresh database, with a folder for the test's files; both are removed when the test ends.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    backend: Backend,
}

impl TestDb {
    /// A SQLite database in the test's folder.
    pub fn new() -> TestDb {
        TestDb {
            dir: tempfile::tempdir().expect("a temporary folder"),
            backend: Backend::Sqlite,
        }
    }

    /// A new database on the PostgreSQL server of `METRICORD_TEST_POSTGRES_URL`, or `None`
    /// (with a note on standard error, which the test harness does not capture) when the
    /// variable is not set. A server that is set but cannot be reached fails the test, and so
    /// does a missing variable under `METRICORD_REQUIRE_POSTGRES=1`.
    pub fn postgres() -> Option<TestDb> {
        let required = std::env::var(REQUIRE_POSTGRES).is_ok_and(|v| v == "1");
        let Some(server) = std::env::var(POSTGRES_URL).ok().filter(|u| !u.is_empty()) else {
            assert!(
                !required,
                "{REQUIRE_POSTGRES}=1 but {POSTGRES_URL} is not set: the PostgreSQL suite must run"
            );
            static NOTED: std::sync::Once = std::sync::Once::new();
            NOTED.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: the PostgreSQL suite was skipped: set {POSTGRES_URL} (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run it"
                );
            });
            return None;
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "metricord_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        server_statement(&server, format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|err| panic!("the test PostgreSQL server at {POSTGRES_URL}: {err}"));
        Some(TestDb {
            dir: tempfile::tempdir().expect("a temporary folder"),
            backend: Backend::Postgres { server, name },
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres { .. })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("metricord.db")
    }

    pub fn url(&self) -> String {
        match &self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.path().display()),
            Backend::Postgres { server, name } => database_url(server, name),
        }
    }

    /// The settings of this database.
    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: self.url(),
            ..DatabaseSettings::default()
        }
    }

    pub async fn store(&self) -> Store {
        Store::open(&self.settings())
            .await
            .expect("the test database opens")
    }

    /// A pool of its own on this database, for reading it whole (see [`Reader`]).
    pub async fn reader(&self) -> Reader {
        match &self.backend {
            Backend::Sqlite => Reader::Sqlite(
                sqlx::SqlitePool::connect(&self.url())
                    .await
                    .expect("the test database opens"),
            ),
            Backend::Postgres { .. } => Reader::Postgres(
                sqlx::PgPool::connect(&self.url())
                    .await
                    .expect("the test database opens"),
            ),
        }
    }

    /// Every value stored for a guild: `(day, brand, platform, series, value)`.
    pub async fn stored(&self, guild_id: u64) -> Vec<(String, String, String, String, i64)> {
        self.store()
            .await
            .snapshots(guild_id, None, None)
            .await
            .expect("the test database reads")
    }

    /// Pipes `input` into `metricord console` on this database; returns what it printed and its
    /// exit status.
    pub fn console(&self, args: &[&str], input: &str) -> (String, String, i32) {
        self.console_bytes(args, input.as_bytes())
    }

    /// [`TestDb::console`] with input that need not be text.
    pub fn console_bytes(&self, args: &[&str], input: &[u8]) -> (String, String, i32) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_metricord"))
            .arg("--database")
            .arg(self.url())
            .arg("console")
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("metricord starts");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input)
            .expect("the console reads its input");
        let output = child.wait_with_output().expect("metricord ends");
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            output.status.code().unwrap_or(-1),
        )
    }
}

/// Reads every row of every table of a test database, the tables found in its schema, so that
/// a table or column added later is covered without a change here.
pub enum Reader {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Reader {
    /// Every row of every table, every column, as one comparable text.
    pub async fn fingerprint(&self) -> String {
        let mut out = String::new();
        match self {
            Reader::Sqlite(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
                )
                .fetch_all(pool)
                .await
                .expect("the schema reads");
                for table in tables {
                    let columns: Vec<String> =
                        sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                            .bind(&table)
                            .fetch_all(pool)
                            .await
                            .expect("the columns read");
                    let row = columns
                        .iter()
                        .map(|c| format!("quote(\"{c}\")"))
                        .collect::<Vec<_>>()
                        .join(" || ',' || ");
                    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT {row} FROM \"{table}\" ORDER BY 1"
                    )))
                    .fetch_all(pool)
                    .await
                    .expect("the table reads");
                    out.push_str(&format!("{table} {columns:?}: {rows:?}\n"));
                }
            }
            Reader::Postgres(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
                     ORDER BY 1",
                )
                .fetch_all(pool)
                .await
                .expect("the schema reads");
                for table in tables {
                    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT row_to_json(t)::text FROM \"{table}\" t ORDER BY 1"
                    )))
                    .fetch_all(pool)
                    .await
                    .expect("the table reads");
                    out.push_str(&format!("{table}: {rows:?}\n"));
                }
            }
        }
        out
    }

    /// How many tables [`Reader::fingerprint`] covers.
    pub async fn tables(&self) -> usize {
        let text = self.fingerprint().await;
        text.lines().count()
    }

    pub async fn close(&self) {
        match self {
            Reader::Sqlite(pool) => pool.close().await,
            Reader::Postgres(pool) => pool.close().await,
        }
    }
}

impl Drop for TestDb {
    /// Drops a PostgreSQL test database, on a thread of its own: a test's runtime may be gone
    /// or busy by now, and `WITH (FORCE)` ends any connection the test left open.
    fn drop(&mut self) {
        if let Backend::Postgres { server, name } = &self.backend {
            let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            if let Err(err) = server_statement(server, statement) {
                let _ = writeln!(
                    std::io::stderr(),
                    "could not drop test database {name}: {err}"
                );
            }
        }
    }
}

/// The URL of database `name` on the server of `server` (a URL of another database there).
fn database_url(server: &str, name: &str) -> String {
    let authority = server.find("://").map_or(0, |i| i + 3);
    let path = server[authority..]
        .find('/')
        .map_or(server.len(), |i| authority + i);
    let query = server[path..].find('?').map_or("", |i| &server[path + i..]);
    format!("{}/{name}{query}", &server[..path])
}

/// Runs one statement on the server's maintenance database, on a thread and runtime of its own
/// so that it works inside a test's runtime and in `Drop` alike.
fn server_statement(server: &str, statement: String) -> Result<(), String> {
    let server = server.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&server)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            conn.close().await.map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "the database thread panicked".to_string())?
}
