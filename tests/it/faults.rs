//! Faults of the database and the disk under it, each injected the way a clean clone can run:
//! a full disk (a file-size limit on the bot's process, raised again to free space), bytes
//! damaged on disk, the file deleted while the bot runs, another program's database, and
//! another process holding the write lock.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use chrono::NaiveDate;
use metricord::error::{
    DATABASE_DAMAGED, DATABASE_GONE, DatabaseFault, Error, STORAGE_BUSY, STORAGE_FULL,
};
use metricord::settings::{DatabaseSettings, IntegrityCheck};
use metricord::storage::{NewSnapshot, Source, Store};
use sqlx::Connection;

use crate::support::TestDb;

/// `metricord console` on a test database, typed into line by line.
struct Console {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Console {
    /// Starts the console; with `file_limit`, no file it writes may grow past that many bytes
    /// (`RLIMIT_FSIZE`, with SIGXFSZ ignored so that a write past it fails as on a full disk).
    fn start(db: &TestDb, file_limit: Option<u64>) -> Console {
        let mut command = Command::new(env!("CARGO_BIN_EXE_metricord"));
        command
            .args(["--database", &db.url(), "console"])
            .env("RUST_LOG", "off")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some(bytes) = file_limit {
            // SAFETY: between fork and exec only async-signal-safe calls are made.
            unsafe {
                command.pre_exec(move || {
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                    set_file_limit(0, bytes)
                });
            }
        }
        let mut child = command.spawn().expect("metricord starts");
        let input = child.stdin.take().expect("stdin");
        let output = BufReader::new(child.stdout.take().expect("stdout"));
        Console {
            child,
            input,
            output,
        }
    }

    /// Types `line` and returns the answer, up to its blank line.
    fn run(&mut self, line: &str) -> String {
        writeln!(self.input, "{line}").expect("the console reads");
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            if self
                .output
                .read_line(&mut line)
                .expect("the console answers")
                == 0
                || line == "\n"
            {
                return reply;
            }
            reply.push_str(&line);
        }
    }

    /// Sets how large a file the running console may write.
    fn limit_files(&self, bytes: u64) {
        set_file_limit(self.child.id() as libc::pid_t, bytes).expect("prlimit");
    }

    fn stop(mut self) {
        drop(self.input);
        self.child.wait().expect("the console ends");
    }
}

/// Sets `RLIMIT_FSIZE` of process `pid` (0: this one) to `bytes`.
fn set_file_limit(pid: libc::pid_t, bytes: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: `limit` outlives the call, and the old limit is not asked for.
    match unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &limit, std::ptr::null_mut()) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// A snapshot of `values` for `brand` in guild 1.
fn snapshot<'a>(brand: &'a str, values: &'a [(&'static str, i64)]) -> NewSnapshot<'a> {
    NewSnapshot {
        guild_id: 1,
        brand,
        platform: "x",
        day: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        values,
        logged_by: 7,
        logged_at: chrono::DateTime::UNIX_EPOCH,
        source: Source::Command,
    }
}

#[test]
fn a_full_disk_fails_each_write_clearly_and_writes_resume_once_space_is_back() {
    let db = TestDb::new();
    // The database, created and migrated, then a console that may not grow any file past
    // about 256 KiB: the write-ahead log reaches that after some writes, failing their commits.
    // The limit falls inside a write, not between two, so that the write fails part-way as
    // on a full disk (SQLITE_FULL) rather than not at all (EFBIG, an I/O error).
    Console::start(&db, None).stop();
    let mut console = Console::start(&db, Some(256 * 1024 + 1000));
    let log = |console: &mut Console, i: usize| {
        console.run(&format!(
            "/mentions mentions:{i} brand:\"Brand {i} with a name long enough to fill pages\" date:2026-11-02"
        ))
    };
    let mut stored = 0;
    let first_full = loop {
        let reply = log(&mut console, stored);
        if !reply.contains("Stored:") {
            break reply;
        }
        stored += 1;
        assert!(stored < 10_000, "the disk never filled");
    };
    assert!(first_full.contains(STORAGE_FULL), "{first_full}");
    // Still full: each later write fails the same clear way, not with a connection stuck in
    // the failed transaction.
    for i in 0..5 {
        let reply = log(&mut console, 100_000 + i);
        assert!(reply.contains(STORAGE_FULL), "{reply}");
    }
    // Space is back: the same process writes again, without a restart.
    console.limit_files(libc::RLIM_INFINITY);
    for i in 0..20 {
        let reply = log(&mut console, 200_000 + i);
        assert!(reply.contains("Stored:"), "after freeing: {reply}");
    }
    console.stop();

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (integrity, values) = runtime.block_on(async {
        let store = db.store().await;
        let integrity = store.integrity_check().await.expect("checks");
        let values = store.snapshots(0, None, None).await.expect("reads").len();
        store.close().await;
        (integrity, values)
    });
    assert_eq!(integrity, "ok");
    assert_eq!(
        values,
        stored + 20,
        "every acknowledged write, and no other"
    );
    println!("full disk: {stored} writes fitted, 6 refused as full, 20 stored after freeing");
}

/// A database of `rows` values of one brand in guild 1, closed (its WAL folded in).
async fn filled(db: &TestDb, rows: i64) {
    let store = db.store().await;
    for i in 0..rows {
        let day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(i);
        store
            .log(
                &NewSnapshot {
                    day,
                    ..snapshot("Acme", &[("clicks", i), ("impressions", 10 * i)])
                },
                true,
            )
            .await
            .expect("stored");
    }
    store.close().await;
}

/// The numbers of the pages that hold the snapshots table and its indexes (SQLite's `dbstat`).
async fn snapshot_pages(db: &TestDb) -> Vec<i64> {
    let pool = sqlx::SqlitePool::connect(&db.url()).await.expect("opens");
    let pages = sqlx::query_scalar(
        "SELECT pageno FROM dbstat WHERE name IN
             (SELECT name FROM sqlite_schema WHERE tbl_name = 'snapshots') ORDER BY pageno",
    )
    .fetch_all(&pool)
    .await
    .expect("dbstat");
    pool.close().await;
    pages
}

/// Writes pseudo-random bytes over whole pages of the file, in place (same inode), returning
/// what was there before.
fn damage(path: &std::path::Path, pages: &[i64]) -> Vec<u8> {
    let before = std::fs::read(path).expect("the database");
    let mut bytes = before.clone();
    let mut state: u64 = 14;
    for &page in pages {
        let start = (page as usize - 1) * 4096;
        for byte in &mut bytes[start..start + 4096] {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            *byte = (state >> 56) as u8;
        }
    }
    write_in_place(path, &bytes);
    before
}

fn write_in_place(path: &std::path::Path, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("the database");
    file.seek(SeekFrom::Start(0)).expect("seek");
    file.write_all(bytes).expect("write");
    file.sync_all().expect("sync");
}

/// `metricord --database URL ARGS` to its end: (exit code, standard error).
fn metricord(db: &TestDb, args: &[&str], settings: Option<&str>) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_metricord"));
    if let Some(toml) = settings {
        let file = db.dir.path().join("metricord.toml");
        std::fs::write(&file, toml).expect("settings");
        command.arg("--config").arg(file);
    }
    let output = command
        .arg("--database")
        .arg(db.url())
        .args(args)
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .output()
        .expect("metricord runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_damaged_database_is_refused_at_start_with_the_reason_unless_the_check_is_off() {
    let db = TestDb::new();
    filled(&db, 400).await;
    let pages = snapshot_pages(&db).await;
    assert!(pages.len() > 4, "{pages:?}");
    // 4 KB of random bytes over one page in the middle of the data.
    damage(&db.path(), &[pages[pages.len() / 2]]);
    let damaged = std::fs::read(db.path()).expect("the file");

    match Store::open(&db.settings()).await {
        Err(Error::Fault(DatabaseFault::Damaged { found, .. })) => {
            assert!(found.contains("quick_check"), "{found}")
        }
        other => panic!("a damaged database was opened: {other:?}"),
    }
    let (code, stderr) = metricord(&db, &["export", "--output", "-"], None);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is damaged") && stderr.contains("integrity_check = \"off\""),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(db.path()).expect("the file"),
        damaged,
        "refused untouched"
    );

    // The operator's way past the check on a huge database: the file opens.
    let settings = DatabaseSettings {
        integrity_check: IntegrityCheck::Off,
        ..db.settings()
    };
    Store::open(&settings)
        .await
        .expect("opens unchecked")
        .close()
        .await;
}

#[tokio::test]
async fn a_database_found_damaged_while_running_takes_no_more_writes_until_repaired_and_restarted()
{
    let db = TestDb::new();
    filled(&db, 400).await;
    let pages = snapshot_pages(&db).await;
    let settings = DatabaseSettings {
        integrity_check: IntegrityCheck::Off,
        ..db.settings()
    };
    let store = Store::open(&settings).await.expect("opens");
    let original = damage(&db.path(), &pages);
    let log = |day: u32| {
        let store = store.clone();
        async move { store.log(&snapshot_on("Acme", day), true).await.map(|_| ()) }
    };
    let err = log(1).await.expect_err("a write into damaged pages");
    assert_eq!(err.user_message(), DATABASE_DAMAGED, "{err}");
    // The file is whole again, but what was read from it while damaged may be wrong: writes
    // stay refused until an operator restarts the bot on a checked file.
    write_in_place(&db.path(), &original);
    let err = log(2).await.expect_err("writes stay stopped");
    assert_eq!(err.user_message(), DATABASE_DAMAGED, "{err}");
    let err = store
        .rename_brand(1, &store.brand(1, "Acme").await.unwrap().unwrap(), "Acme 2")
        .await
        .expect_err("every kind of write stays stopped");
    assert_eq!(err.user_message(), DATABASE_DAMAGED, "{err}");
    store.close().await;

    let store = db.store().await;
    store
        .log(&snapshot_on("Acme", 3), true)
        .await
        .expect("a restart on a sound file writes");
    store.close().await;
}

/// A snapshot of one value for `brand` in guild 1 on day `day` of December 2026.
fn snapshot_on(brand: &str, day: u32) -> NewSnapshot<'_> {
    NewSnapshot {
        day: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
        ..snapshot(brand, &[("clicks", 5)])
    }
}

#[test]
fn a_database_file_deleted_while_running_takes_no_more_writes() {
    let db = TestDb::new();
    let mut console = Console::start(&db, None);
    let reply = console.run("/mentions mentions:1 brand:Acme date:2026-11-01");
    assert!(reply.contains("Stored:"), "{reply}");
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.path().into_os_string();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
    for line in [
        "/mentions mentions:2 brand:Acme date:2026-11-02",
        "/brand add name:Newcomer",
        "/mentions mentions:3 brand:Acme date:2026-11-03",
    ] {
        let reply = console.run(line);
        assert!(reply.contains(DATABASE_GONE), "{line}: {reply}");
        assert!(!reply.contains("Stored"), "{line}: {reply}");
    }
    console.stop();
    assert!(
        !db.path().exists(),
        "nothing wrote a file where the database was"
    );
}

#[tokio::test]
async fn another_programs_database_is_refused_before_anything_touches_it() {
    for schema in [
        // An application's own tables.
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO customers (name) VALUES ('Ada'), ('Grace');",
        // Tables named like metricord's, without its record of migrations.
        "CREATE TABLE brands (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO brands (name) VALUES ('Acme');",
        // metricord's tables with one of another program's beside them.
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY);
         CREATE TABLE invoices (id INTEGER PRIMARY KEY);",
    ] {
        let db = TestDb::new();
        {
            let pool = sqlx::SqlitePool::connect(&format!("{}?mode=rwc", db.url()))
                .await
                .expect("creates");
            sqlx::raw_sql(sqlx::AssertSqlSafe(schema))
                .execute(&pool)
                .await
                .expect("the foreign schema");
            pool.close().await;
        }
        let before = std::fs::read(db.path()).expect("the file");
        match Store::open(&db.settings()).await {
            Err(Error::Fault(DatabaseFault::Foreign { why, .. })) => assert!(!why.is_empty()),
            other => panic!("a foreign database was opened: {other:?}"),
        }
        let (code, stderr) = metricord(&db, &["export", "--output", "-"], None);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("another program's database"), "{stderr}");
        assert_eq!(
            std::fs::read(db.path()).expect("the file"),
            before,
            "{schema}: the file changed"
        );
        let mut wal = db.path().into_os_string();
        wal.push("-wal");
        assert!(
            !std::path::Path::new(&wal).exists(),
            "{schema}: switched to WAL"
        );
    }
}

#[tokio::test]
async fn a_failed_read_after_a_logged_command_committed_never_says_nothing_was_stored() {
    let db = TestDb::new();
    let store = db.store().await;
    let long = "a name long enough to spread brands over several pages ";
    for i in 0..200 {
        store
            .log(&snapshot(&format!("{long}{i}"), &[("mentions", 1)]), true)
            .await
            .expect("stored");
    }
    store.close().await;
    // Damage the first leaf of the brands table: the lookup of one brand by its name never
    // reads it, the list of every brand (for the lookalike hint after a new brand) does.
    let pool = sqlx::SqlitePool::connect(&db.url()).await.expect("opens");
    let first_leaf: i64 = sqlx::query_scalar(
        "SELECT MIN(pageno) FROM dbstat WHERE name = 'brands' AND pagetype = 'leaf'",
    )
    .fetch_one(&pool)
    .await
    .expect("dbstat");
    pool.close().await;
    let original = damage(&db.path(), &[first_leaf]);

    let settings = metricord::settings::Settings {
        database: DatabaseSettings {
            integrity_check: IntegrityCheck::Off,
            ..db.settings()
        },
        ..Default::default()
    };
    let store = Store::open(&settings.database).await.expect("opens");
    assert!(
        store.brands(1).await.is_err(),
        "the brand list cannot be read"
    );
    let dispatcher = metricord::dispatcher::Dispatcher::new(
        std::sync::Arc::new(settings),
        store.clone(),
        metricord::clock::Clock::System,
    )
    .expect("a dispatcher");
    let line = metricord::console::parse_line(&format!(
        "/mentions mentions:42 brand:\"{long}199x\" date:2026-11-01"
    ))
    .expect("a line")
    .expect("a command");
    let reply = dispatcher
        .dispatch(metricord::command::Invocation {
            guild_id: Some(1),
            channel_id: 1,
            user_id: 7,
            can_manage_guild: true,
            command: line.command,
            options: line.options,
            upload_limit: None,
        })
        .await;
    let text = format!("{reply:?}");
    assert!(!reply.ephemeral && text.contains("Stored"), "{text}");
    assert!(!text.contains("Nothing was stored"), "{text}");
    store.close().await;

    // Mend the damaged page alone: the rest of the file holds the new write.
    let mut mended = std::fs::read(db.path()).expect("the file");
    let page = (first_leaf as usize - 1) * 4096..first_leaf as usize * 4096;
    mended[page.clone()].copy_from_slice(&original[page]);
    write_in_place(&db.path(), &mended);
    let stored = db.stored(1).await;
    assert!(
        stored
            .iter()
            .any(|(_, brand, _, _, value)| brand.ends_with("199x") && *value == 42),
        "the acknowledged value is stored"
    );
}

#[tokio::test]
async fn a_write_while_another_process_holds_the_write_lock_is_told_to_try_again() {
    let db = TestDb::new();
    db.store().await.close().await;
    let settings = metricord::settings::Settings {
        database: DatabaseSettings {
            busy_timeout_ms: 50,
            ..db.settings()
        },
        ..Default::default()
    };
    let store = Store::open(&settings.database).await.expect("opens");
    let dispatcher = metricord::dispatcher::Dispatcher::new(
        std::sync::Arc::new(settings),
        store.clone(),
        metricord::clock::Clock::System,
    )
    .expect("a dispatcher");
    let mentions = |value: u32| {
        let line = metricord::console::parse_line(&format!(
            "/mentions mentions:{value} brand:Acme date:2026-11-01"
        ))
        .expect("a line")
        .expect("a command");
        metricord::command::Invocation {
            guild_id: Some(1),
            channel_id: 1,
            user_id: 7,
            can_manage_guild: true,
            command: line.command,
            options: line.options,
            upload_limit: None,
        }
    };
    // Another process's import, as SQLite sees it: a connection of its own holding the write
    // lock from BEGIN IMMEDIATE to COMMIT.
    let mut import = sqlx::SqliteConnection::connect(&db.url())
        .await
        .expect("opens");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut import)
        .await
        .expect("the lock");
    let reply = dispatcher.dispatch(mentions(1)).await;
    assert_eq!(reply.content, STORAGE_BUSY);
    sqlx::query("COMMIT")
        .execute(&mut import)
        .await
        .expect("commits");
    let reply = dispatcher.dispatch(mentions(2)).await;
    assert!(format!("{reply:?}").contains("Stored"), "{reply:?}");
    store.close().await;
}
