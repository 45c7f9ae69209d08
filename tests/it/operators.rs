//! What operators do with the database, on both backends: moving the data from one backend to
//! the other (`metricord migrate-data`), backing up and restoring, and riding out an outage of
//! the PostgreSQL server.

use std::process::Command;

use metricord::storage::{CollectedPost, Dump, NewTracked, PollWrite};

use crate::support::TestDb;

/// Runs the built binary; returns what it printed and its exit code.
fn metricord(args: &[&str]) -> (String, String, i32) {
    let output = Command::new(env!("CARGO_BIN_EXE_metricord"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("metricord runs");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

/// Two servers' worth of everything a database holds: brands, landscapes, snapshots logged and
/// imported, replaced values, digest schedules, alert rules and goals.
fn seed(db: &TestDb) {
    for guild in ["5", "6"] {
        let (out, err, status) = db.console(
            &["--guild", guild],
            &format!(
                "/brand add name:Acme landscape:coffee\n\
                 /brand add name:Rival landscape:coffee competitor:true\n\
                 /ctr clicks:20 impressions:100 brand:Acme platform:x date:2026-11-01\n\
                 /ctr clicks:25 impressions:120 brand:Acme platform:x date:2026-11-01\n\
                 /mentions mentions:{guild}00 brand:Rival platform:instagram date:2026-11-02\n\
                 /digest schedule channel:12{guild}\n\
                 /ctr clicks:5 impressions:100 brand:Acme platform:x\n\
                 /mentions mentions:10 brand:Rival platform:x\n\
                 /alert add brand:Rival metric:mentions channel:12{guild} kind:threshold value:50\n\
                 /goal set brand:Acme metric:ctr target:40 by:2100-01-01 channel:12{guild}\n"
            ),
        );
        assert_eq!(status, 0, "{out}{err}");
        assert!(!out.contains("went wrong"), "{out}");
    }
}

/// A tracked account of guild 5 with one poll stored: the tracking tables and collected values.
async fn seed_tracking(db: &TestDb) {
    let store = db.store().await;
    let acme = store
        .brand(5, "Acme")
        .await
        .unwrap()
        .expect("Acme is seeded");
    let at = chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap();
    store
        .track(&NewTracked {
            guild_id: 5,
            brand_id: acme.id,
            network: "bluesky",
            account: "did:plc:acme",
            handle: "@acme.bsky.social",
            name: "Acme",
            link: "https://bsky.app/profile/acme.bsky.social",
            added_by: 1,
            added_at: at.timestamp(),
            claimed_until: at.timestamp() + 300,
        })
        .await
        .unwrap();
    let account = store.tracked(Some(5)).await.unwrap().remove(0);
    let day = at.date_naive();
    let posts = [CollectedPost {
        post_id: "at://did:plc:acme/app.bsky.feed.post/1".into(),
        link: "https://bsky.app/profile/acme.bsky.social/post/1".into(),
        published: at.timestamp(),
        day,
        applause: Some(4),
        conversation: Some(1),
        amplification: None,
    }];
    store
        .record_poll(&PollWrite {
            account: &account,
            followers: Some(900),
            today: day,
            posts: &posts,
            at,
            next_poll: at.timestamp() + 6 * 3600,
        })
        .await
        .unwrap();
    store.close().await;
}

async fn dump(db: &TestDb) -> Dump {
    let store = db.store().await;
    let dump = store.dump().await.expect("the database reads");
    store.close().await;
    dump
}

/// Copies `from` into `to` with `metricord migrate-data`, checks every row arrived, and that a
/// second run refuses and changes nothing.
async fn migrate_and_compare(from: &TestDb, to: &TestDb) {
    seed(from);
    seed_tracking(from).await;
    let (out, err, status) = metricord(&["migrate-data", "--from", &from.url(), "--to", &to.url()]);
    assert_eq!(status, 0, "{out}{err}");
    // The poll stored followers, posts, applause, conversation and engagements: 5 more values.
    assert!(
        out.contains("Copied 2 alert_rules, 4 brands, 1 collected_posts, 2 digest_schedules, 2 goals, 4 landscape_brands, 2 landscapes, 17 snapshots, 1 tracked_accounts of 2 servers"),
        "{out}"
    );
    let source = dump(from).await;
    assert_eq!(
        (
            source.brands.len(),
            source.alert_rules.len(),
            source.goals.len()
        ),
        (4, 2, 2)
    );
    assert_eq!(source.tracked_accounts[0].followers, Some(900));
    assert_eq!(source.collected_posts.len(), 1);
    assert_eq!(source, dump(to).await, "the copy differs from its source");

    let (out, err, status) = metricord(&["migrate-data", "--from", &from.url(), "--to", &to.url()]);
    assert_eq!(status, 2, "{out}{err}");
    assert!(err.contains("already holds data"), "{err}");
    assert_eq!(source, dump(to).await, "a second run changed the target");

    // The copy is a working database: new rows get ids past the copied ones.
    let (out, _, _) = to.console(
        &["--guild", "5"],
        "/brand add name:Newcomer landscape:tea\n",
    );
    assert!(!out.contains("went wrong"), "{out}");
    assert_eq!(dump(to).await.brands.len(), 5);
}

#[tokio::test]
async fn migrate_data_copies_two_servers_from_sqlite_to_postgresql_exactly_once() {
    let Some(to) = TestDb::postgres() else {
        return;
    };
    migrate_and_compare(&TestDb::new(), &to).await;
}

#[tokio::test]
async fn migrate_data_copies_two_servers_from_postgresql_to_sqlite_exactly_once() {
    let Some(from) = TestDb::postgres() else {
        return;
    };
    migrate_and_compare(&from, &TestDb::new()).await;
}

#[tokio::test]
async fn migrate_data_refuses_an_unsupported_url_without_touching_anything() {
    let from = TestDb::new();
    let (_, err, status) = metricord(&[
        "migrate-data",
        "--from",
        &from.url(),
        "--to",
        "mysql://root:hunter2@127.0.0.1/db",
    ]);
    assert_eq!(status, 2, "{err}");
    assert!(
        err.contains("--to") && err.contains("\"mysql://\""),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[tokio::test]
async fn a_sqlite_backup_restores_to_the_same_data() {
    let db = TestDb::new();
    seed(&db);
    let backup = db.dir.path().join("backup.db");
    let (out, err, status) = metricord(&[
        "--database",
        &db.url(),
        "backup",
        &backup.display().to_string(),
    ]);
    assert_eq!(status, 0, "{out}{err}");
    let restored = TestDb::new();
    std::fs::copy(&backup, restored.path()).expect("the backup is copied into place");
    let store = restored.store().await;
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    store.close().await;
    assert_eq!(dump(&db).await, dump(&restored).await);
}

#[tokio::test]
async fn a_postgresql_dump_restores_to_the_same_data() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let tools = ["pg_dump", "pg_restore"];
    if tools
        .iter()
        .any(|tool| Command::new(tool).arg("--version").output().is_err())
    {
        println!("skipped: pg_dump and pg_restore are not on PATH");
        return;
    }
    seed(&db);
    // The commands the README gives for backing up and restoring.
    let backup = db.dir.path().join("metricord.dump");
    let dumped = Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&backup)
        .arg(db.url())
        .output()
        .expect("pg_dump runs");
    assert!(
        dumped.status.success(),
        "{}",
        String::from_utf8_lossy(&dumped.stderr)
    );
    let restored = TestDb::postgres().expect("a second test database");
    let loaded = Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &restored.url()])
        .arg(&backup)
        .output()
        .expect("pg_restore runs");
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let store = restored.store().await;
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    store.close().await;
    assert_eq!(dump(&db).await, dump(&restored).await);
    // The restored database takes new data.
    let (out, _, _) = restored.console(&["--guild", "5"], "/brand add name:Newcomer\n");
    assert!(out.contains("Newcomer"), "{out}");
}

/// A TCP proxy on 127.0.0.1 between metricord and the PostgreSQL server, which the test cuts
/// (every open connection dropped, new ones closed at once, as when the server goes away) and
/// restores.
struct Proxy {
    port: u16,
    up: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let (up, _) = tokio::sync::watch::channel(true);
        let watch = up.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut up = watch.subscribe();
                if !*up.borrow_and_update() {
                    continue; // dropped: the client sees its connection closed
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = up.wait_for(|up| !up) => {}
                    }
                });
            }
        });
        Proxy { port, up, task }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_postgresql_connection_is_answered_try_again_and_the_bot_reconnects_by_itself() {
    use metricord::command::Invocation;
    use metricord::console::parse_line;
    use metricord::error::STORAGE_UNAVAILABLE;
    use sqlx::postgres::PgConnectOptions;

    let Some(db) = TestDb::postgres() else {
        return;
    };
    let direct: PgConnectOptions = db.url().parse().expect("the test URL");
    let proxy = Proxy::start(format!("{}:{}", direct.get_host(), direct.get_port())).await;
    let through_proxy = db.url().replacen(
        &format!("{}:{}", direct.get_host(), direct.get_port()),
        &format!("127.0.0.1:{}", proxy.port),
        1,
    );
    assert_ne!(through_proxy, db.url(), "the URL names host and port");
    let settings = metricord::settings::Settings {
        database: metricord::settings::DatabaseSettings {
            url: through_proxy,
            busy_timeout_ms: 1_000,
            ..metricord::settings::DatabaseSettings::default()
        },
        ..metricord::settings::Settings::default()
    };
    let store = metricord::storage::Store::open(&settings.database)
        .await
        .expect("the database opens through the proxy");
    let dispatcher = metricord::dispatcher::Dispatcher::new(
        std::sync::Arc::new(settings),
        store,
        metricord::clock::Clock::System,
    )
    .expect("a dispatcher");
    let run = |line: String| {
        let line = parse_line(&line).expect("a line").expect("a command");
        dispatcher.dispatch(Invocation {
            guild_id: Some(1),
            channel_id: 1,
            user_id: 7,
            can_manage_guild: true,
            command: line.command,
            options: line.options,
            upload_limit: None,
        })
    };
    let log =
        |day: u32| format!("/mentions mentions:{day} brand:Acme platform:x date:2026-11-{day:02}");
    let stored = |reply: &metricord::command::Reply| {
        reply
            .embeds
            .iter()
            .any(|e| e.fields.iter().any(|f| f.name == "Stored"))
    };
    for day in 1..=3 {
        assert!(stored(&run(log(day)).await), "day {day}");
    }

    proxy.cut();
    for line in [
        log(4),
        "/report brand:Acme period:2026-11-01..2026-11-30".to_string(),
    ] {
        let reply = run(line.clone()).await;
        assert!(reply.ephemeral, "{line}");
        assert_eq!(reply.content, STORAGE_UNAVAILABLE, "{line}");
    }

    proxy.restore();
    assert!(stored(&run(log(5)).await), "the pool did not reconnect");
    let report = run("/report brand:Acme period:2026-11-01..2026-11-30".to_string()).await;
    assert!(!report.ephemeral, "{}", report.content);

    // Every acknowledged write is there, and the one answered "try again" is not.
    let days: Vec<String> = db
        .stored(1)
        .await
        .into_iter()
        .map(|(day, ..)| day)
        .collect();
    assert_eq!(
        days,
        ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-05"]
    );
}
