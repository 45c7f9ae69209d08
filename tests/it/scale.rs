//! Running at scale: several bot processes, each running a range of gateway shards, sharing one
//! PostgreSQL database, against the fake Discord that routes each server's events to its shard.
//! A "process" here is either the built binary (`metricord run`, which a test can SIGKILL) or
//! the Discord front end in this process with a database pool, a clock and a scheduler of its
//! own, which lets a test move its clock.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use metricord::clock::Clock;
use metricord::command::{Invocation, Reply};
use metricord::console::parse_line;
use metricord::discord::{self, Connection, shards};
use metricord::dispatcher::Dispatcher;
use metricord::settings::Settings;
use secrecy::SecretString;
use sqlx::Connection as _;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::TestDb;
use crate::support::fake_discord::*;

/// How long shards may take to connect: one process starts its shards 5 s apart.
const SHARDS_BOUND: Duration = Duration::from_secs(40);

/// Eight servers, two on each shard of four: guild `k` is on shard `k % 4`.
fn guilds() -> Vec<u64> {
    (0..8).map(|k| ((100 + k) << 22) | 0x2a).collect()
}

fn shard_of(guild: u64) -> u64 {
    (guild >> 22) % 4
}

/// The built binary running `metricord run` with `args`, its log in the test's folder.
fn bot_process(fake: &FakeDiscord, db: &TestDb, token: &str, args: &[&str]) -> Child {
    let log = std::fs::File::create(db.dir.path().join(format!("{token}.log"))).expect("a log");
    Command::new(env!("CARGO_BIN_EXE_metricord"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--database")
        .arg(db.url())
        .arg("run")
        .args(args)
        .env("DISCORD_TOKEN", token)
        .env("DISCORD_API_PROXY", &fake.base_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("metricord starts")
}

fn log_of(db: &TestDb, token: &str) -> String {
    std::fs::read_to_string(db.dir.path().join(format!("{token}.log"))).unwrap_or_default()
}

/// The Discord front end in this process, as one bot process: its own database pool and clock,
/// shards `first..=last` of `total`, the digest worker looking every 50 ms.
struct InProcess {
    clock: Clock,
    dispatcher: Arc<Dispatcher>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<metricord::error::Result<()>>,
}

impl InProcess {
    async fn start(
        fake: &FakeDiscord,
        db: &TestDb,
        token: &str,
        (first, last): (u32, u32),
        total: u32,
        now: DateTime<Utc>,
    ) -> InProcess {
        let clock = Clock::manual(now);
        let dispatcher = dispatcher(db, clock.clone()).await;
        let connection = Connection {
            token: SecretString::new(token.to_string()),
            api_proxy: Some(fake.base_url.clone()),
            guild_ids: Vec::new(),
            shards: shards::Plan {
                range: Some((first, last)),
                total: Some(shards::Total::Fixed(total)),
            },
            scheduler_every: Duration::from_millis(50),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(discord::run(connection, dispatcher.clone(), async {
            let _ = stopped.await;
        }));
        InProcess {
            clock,
            dispatcher,
            stop: Some(stop),
            task,
        }
    }

    fn set_time(&self, at: DateTime<Utc>) {
        if let Clock::Manual(now) = &self.clock {
            *now.lock().expect("the clock") = at;
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = (&mut self.task).await.expect("the bot task ends");
        assert!(result.is_ok(), "{result:?}");
    }
}

/// A dispatcher on a pool of its own of the test's database.
async fn dispatcher(db: &TestDb, clock: Clock) -> Arc<Dispatcher> {
    let settings = Settings {
        database: db.settings(),
        ..Settings::default()
    };
    Arc::new(Dispatcher::new(Arc::new(settings), db.store().await, clock).expect("dispatcher"))
}

/// Runs a command as an admin of `guild`, as typed in Discord.
async fn run(dispatcher: &Dispatcher, guild: u64, line: &str) -> Reply {
    let line = parse_line(line).expect("a valid line").expect("a command");
    dispatcher
        .dispatch(Invocation {
            guild_id: Some(guild),
            channel_id: channel_of(guild),
            user_id: USER_ID,
            can_manage_guild: true,
            command: line.command,
            options: line.options,
            upload_limit: None,
        })
        .await
}

/// A landscape of two brands with numbers on the days before `today`, and a digest of it
/// scheduled with `cron` in the server's channel.
async fn landscape_with_digest(
    dispatcher: &Dispatcher,
    guild: u64,
    today: DateTime<Utc>,
    cron: &str,
) {
    let day = |back: i64| (today - chrono::Duration::days(back)).format("%Y-%m-%d");
    let lines = [
        "/brand add name:Bean landscape:coffee".to_string(),
        "/brand add name:Brew landscape:coffee competitor:true".to_string(),
        format!(
            "/engagement applause:500 conversation:100 amplification:100 brand:Bean platform:instagram date:{}",
            day(9)
        ),
        format!(
            "/engagement applause:700 conversation:100 amplification:200 brand:Bean platform:instagram date:{}",
            day(2)
        ),
        format!(
            "/engagement applause:2000 conversation:300 amplification:400 brand:Brew platform:instagram date:{}",
            day(1)
        ),
        format!(
            "/digest schedule channel:{} cron:\"{cron}\" timezone:UTC landscape:coffee",
            channel_of(guild)
        ),
    ];
    for line in lines {
        let reply = run(dispatcher, guild, &line).await;
        assert!(!reply.ephemeral, "{line}: {}", reply.content);
    }
}

/// Sends `/ctr` in every server and returns, for each, the token of the process that answered.
async fn answered_by(fake: &FakeDiscord) -> Vec<(u64, String)> {
    let mut answers = Vec::new();
    for guild in guilds() {
        let ctr = interaction("ctr")
            .options(vec![opt("clicks", 3), opt("impressions", 100)])
            .guild(Some(guild))
            .channel(channel_of(guild));
        fake.dispatch("INTERACTION_CREATE", ctr.build()).await;
        let callback = format!(
            "/api/v10/interactions/{}/{}/callback",
            ctr.id(),
            ctr.token()
        );
        let answer = fake.wait_for_request(|r| r.path == callback).await;
        // Type 4: a message answering the command, not an error made of nothing.
        assert_eq!(answer.json["type"], 4, "{guild}: {}", answer.json);
        assert!(
            answer.json.to_string().contains("CTR"),
            "{guild}: {}",
            answer.json
        );
        let token = answer.authorization.trim_start_matches("Bot ").to_string();
        answers.push((guild, token));
    }
    answers
}

/// Posts to `channel` that reached the fake, answered or not: a second post deduplicated by
/// its nonce would still count here.
fn post_attempts(fake: &FakeDiscord, channel: u64) -> usize {
    let path = format!("/api/v10/channels/{channel}/messages");
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count()
}

/// Waits (bounded) until `check` holds, looking again every 20 ms.
async fn eventually<F, Fut>(what: &str, bound: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < bound,
            "timed out after {bound:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_of_two_shards_answer_every_server_once_and_post_a_due_digest_once() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let fake = FakeDiscord::start().await;
    fake.set_guilds(guilds());
    let monday_morning = DateTime::parse_from_rfc3339("2026-11-30T08:59:00Z")
        .expect("a time")
        .with_timezone(&Utc);
    let a = InProcess::start(&fake, &db, "token-a", (0, 1), 4, monday_morning).await;
    let b = InProcess::start(&fake, &db, "token-b", (2, 3), 4, monday_morning).await;
    fake.wait_shards(4, SHARDS_BOUND).await;
    let all_ready = std::time::Instant::now();

    for (guild, token) in answered_by(&fake).await {
        let owner = if shard_of(guild) < 2 {
            "token-a"
        } else {
            "token-b"
        };
        assert_eq!(token, owner, "guild {guild} on shard {}", shard_of(guild));
    }

    // Both workers look every 50 ms; the digest falls due for both at once.
    let guild = guilds()[5];
    landscape_with_digest(&a.dispatcher, guild, monday_morning, "0 0 9 * * Mon").await;
    let due = monday_morning + chrono::Duration::minutes(2);
    a.set_time(due);
    b.set_time(due);
    let nine = (monday_morning + chrono::Duration::minutes(1)).timestamp();
    let store = db.store().await;
    eventually(
        "the digest to be posted",
        Duration::from_secs(20),
        || async { store.runs(1).await.expect("runs") == [(nine, "posted".to_string())] },
    )
    .await;
    assert_eq!(fake.channel_messages(channel_of(guild)).len(), 1);
    assert_eq!(
        post_attempts(&fake, channel_of(guild)),
        1,
        "one process posted, once"
    );
    store.close().await;

    // serenity's range end is inclusive: 0..1 starts shards 0 and 1, and nothing else. A
    // process starting one shard too many would identify it 5 s after its second, so this
    // watches for 6 s past the moment every shard was ready.
    tokio::time::sleep(Duration::from_secs(6).saturating_sub(all_ready.elapsed())).await;
    let identified = fake.identified();
    let shards_of = |token: &str| {
        let mut ids: Vec<u64> = identified
            .iter()
            .filter(|(_, t)| t == token)
            .map(|(shard, _)| *shard)
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(shards_of("token-a"), [0, 1]);
    assert_eq!(shards_of("token-b"), [2, 3]);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_while_holding_a_digest_claim_leaves_it_to_another_after_the_lease() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let fake = FakeDiscord::start().await;
    fake.set_guilds(guilds());
    // The binary reads the system clock: schedule a daily digest two minutes ago.
    let now = Utc::now();
    let fire = now - chrono::Duration::minutes(2);
    let cron = format!("0 {} {} * * *", fire.minute(), fire.hour());
    let guild = guilds()[0];
    let setup = dispatcher(&db, Clock::manual(now - chrono::Duration::hours(1))).await;
    landscape_with_digest(&setup, guild, now, &cron).await;

    // Process A claims the digest at start and posts it into a network that never answers.
    fake.hold_channel_posts(true);
    let mut a = bot_process(
        &fake,
        &db,
        "token-a",
        &["--shards", "0-1", "--total-shards", "4"],
    );
    let channel = channel_of(guild);
    fake.wait_for_request(|r| {
        r.method == "POST" && r.path.ends_with(&format!("/channels/{channel}/messages"))
    })
    .await;

    // Process B runs the other shards, and sees the claim held.
    let b = InProcess::start(&fake, &db, "token-b", (2, 3), 4, now).await;
    let identified = fake.wait_shards(4, SHARDS_BOUND).await;
    let shards_of_a: Vec<u64> = identified
        .iter()
        .filter(|(_, t)| t == "token-a")
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(
        shards_of_a.len(),
        2,
        "{shards_of_a:?}\n{}",
        log_of(&db, "token-a")
    );
    for (guild, token) in answered_by(&fake).await {
        let owner = if shard_of(guild) < 2 {
            "token-a"
        } else {
            "token-b"
        };
        assert_eq!(token, owner, "guild {guild}\n{}", log_of(&db, "token-a"));
    }

    a.start_kill().expect("SIGKILL");
    a.wait().await.expect("A ends");
    fake.hold_channel_posts(false);
    let store = db.store().await;
    let runs = store.runs(1).await.expect("runs");
    assert_eq!(
        runs,
        [(
            fire.with_second(0).unwrap().timestamp(),
            "claimed".to_string()
        )]
    );
    assert!(fake.channel_messages(channel).is_empty());

    // Past the lease, B's worker takes the claim over and posts.
    let lease = b.dispatcher.services().settings.digest.lease;
    b.set_time(now + lease + chrono::Duration::minutes(2));
    eventually(
        "the digest to be posted by B",
        Duration::from_secs(20),
        || async { store.runs(1).await.expect("runs")[0].1 == "posted" },
    )
    .await;
    let posted = fake.channel_messages(channel);
    assert_eq!(posted.len(), 1, "posted exactly once");
    assert_eq!(posted[0].authorization, "Bot token-b");
    assert_eq!(post_attempts(&fake, channel), 2, "A's lost post and B's");
    store.close().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_flags_run_discords_recommended_count_and_refuse_what_cannot_work() {
    let db = TestDb::new();
    let fake = FakeDiscord::start().await;
    fake.set_guilds(guilds());
    fake.set_recommended_shards(2);
    let mut bot = bot_process(&fake, &db, "token-auto", &["--total-shards", "auto"]);
    let identified = fake.wait_shards(2, SHARDS_BOUND).await;
    let mut shards: Vec<u64> = identified.iter().map(|(shard, _)| *shard).collect();
    shards.sort_unstable();
    assert_eq!(shards, [0, 1], "{}", log_of(&db, "token-auto"));
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.path == "/api/v10/gateway/bot")
    );
    bot.start_kill().expect("SIGKILL");
    bot.wait().await.expect("the bot ends");

    for (args, expected) in [
        (
            &["--shards", "0-3", "--total-shards", "8"][..],
            "--shards: 0-3 of 8 leaves the other shards to other processes, and processes cannot share a SQLite file",
        ),
        (
            &["--shards", "0-8", "--total-shards", "8"][..],
            "--shards: 0-8 is outside the 8 shards of --total-shards: shard numbers run from 0 to 7",
        ),
        (
            &["--shards", "0-1"][..],
            "--shards: needs --total-shards too",
        ),
        (&["--shards", "3-1", "--total-shards", "8"][..], "write 1-3"),
        (&["--total-shards", "0"][..], "from 1 to 65535, or auto"),
    ] {
        let output = bot_process(&fake, &db, "token-refused", args)
            .wait()
            .await
            .expect("the bot ends");
        let log = log_of(&db, "token-refused");
        assert_eq!(output.code(), Some(2), "{args:?}: {log}");
        assert!(log.contains(expected), "{args:?}: {log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_logging_a_thousand_commands_each_into_one_server_store_every_write_once() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    // Both processes create the same brand and write the same days at once, one on each
    // platform: the brand row and the server's data are what they contend for.
    let day = |i: usize| {
        (chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a day") - chrono::Days::new(i as u64))
            .format("%Y-%m-%d")
            .to_string()
    };
    let lines = |platform: &'static str| {
        (0..1_000)
            .map(|i| {
                format!(
                    "/ctr clicks:{} impressions:1000 brand:Acme platform:{platform} date:{}\n",
                    i % 97,
                    day(i)
                )
            })
            .collect::<String>()
    };
    let guild = "77";
    let (x, instagram) = (lines("x"), lines("instagram"));
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| db.console(&["--guild", guild], &x));
        let second = scope.spawn(|| db.console(&["--guild", guild], &instagram));
        (
            first.join().expect("the first console"),
            second.join().expect("the second console"),
        )
    });
    for (out, err, code) in [first, second] {
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.matches("Stored").count(), 1_000, "{out}");
        for refusal in [
            "unavailable",
            "try again",
            "serializ",
            "deadlock",
            "went wrong",
        ] {
            assert!(!out.to_lowercase().contains(refusal), "{refusal}: {out}");
        }
    }
    let mut stored = db.stored(77).await;
    stored.sort();
    let mut expected: Vec<(String, String, String, String, i64)> = ["x", "instagram"]
        .into_iter()
        .flat_map(|platform| {
            (0..1_000).flat_map(move |i| {
                [("clicks", (i % 97) as i64), ("impressions", 1_000)].map(|(series, value)| {
                    (
                        day(i),
                        "Acme".to_string(),
                        platform.to_string(),
                        series.to_string(),
                        value,
                    )
                })
            })
        })
        .collect();
    expected.sort();
    assert_eq!(stored.len(), 4_000);
    assert_eq!(stored, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_answer_250_concurrent_interactions_each_inside_three_seconds() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let fake = FakeDiscord::start().await;
    fake.set_guilds(guilds());
    let now = Utc::now();
    let mut processes = Vec::new();
    for shard in 0..4 {
        let token = format!("token-{shard}");
        processes.push(InProcess::start(&fake, &db, &token, (shard, shard), 4, now).await);
    }
    fake.wait_shards(4, SHARDS_BOUND).await;

    // 250 for each process: on each of its two servers, half writes on days of their own,
    // half calculators; all sent before the first answer is awaited.
    let per_process = 250;
    let mut sent = Vec::with_capacity(4 * per_process);
    for i in 0..4 * per_process {
        let guild = guilds()[i % 8];
        let builder = if i % 2 == 0 {
            let day = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("a day")
                + chrono::Duration::days((i / 8) as i64);
            interaction("mentions").options(vec![
                opt("mentions", i as u64),
                opt("brand", "Acme"),
                opt("date", day.to_string()),
            ])
        } else {
            interaction("ctr").options(vec![
                opt("clicks", (i % 97) as u64),
                opt("impressions", 1000),
            ])
        };
        let builder = builder.guild(Some(guild)).channel(channel_of(guild));
        fake.dispatch("INTERACTION_CREATE", builder.build()).await;
        sent.push((std::time::Instant::now(), guild, builder));
    }
    let mut latencies = Vec::with_capacity(sent.len());
    let mut deferred = Vec::new();
    for (at, guild, builder) in &sent {
        let callback = format!(
            "/api/v10/interactions/{}/{}/callback",
            builder.id(),
            builder.token()
        );
        let answer = fake.wait_for_request(|r| r.path == callback).await;
        assert_eq!(
            answer.authorization,
            format!("Bot token-{}", shard_of(*guild)),
            "answered by the process of the server's shard"
        );
        let content = answer.json.to_string();
        assert!(
            !content.contains("went wrong") && !content.contains("try again"),
            "{content}"
        );
        latencies.push(answer.at.saturating_duration_since(*at));
        if answer.json["type"] == 5 {
            deferred.push(builder.token());
        }
    }
    for token in &deferred {
        let original = format!("/api/v10/webhooks/1000/{token}/messages/@original");
        fake.wait_for_request(|r| r.path == original).await;
    }
    latencies.sort();
    let total = latencies.len();
    let (p50, p99, max) = (
        latencies[total / 2],
        latencies[total * 99 / 100],
        latencies[total - 1],
    );
    println!(
        "4 processes x {per_process} interactions: first answers p50 {p50:?}, p99 {p99:?}, max {max:?}, {} deferred",
        deferred.len()
    );
    assert!(
        max < Duration::from_secs(3),
        "the slowest first answer took {max:?}"
    );
    for (k, guild) in guilds().into_iter().enumerate() {
        let writes = sent
            .iter()
            .enumerate()
            .filter(|(i, (_, g, _))| *g == guild && i % 2 == 0)
            .count();
        assert_eq!(
            db.stored(guild).await.len(),
            writes,
            "server {k}: every write stored exactly once"
        );
    }
    for process in processes {
        process.stop().await;
    }
}

#[test]
fn four_processes_starting_at_once_on_a_new_database_migrate_it_once() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    // Four real processes, each with its own connections, race to apply the migrations; sqlx's
    // advisory lock lets one apply them and the others find them applied.
    let outputs: Vec<(String, String, i32)> = std::thread::scope(|scope| {
        let started: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| db.console(&[], "/ctr clicks:1 impressions:4\n")))
            .collect();
        started
            .into_iter()
            .map(|process| process.join().expect("a console process"))
            .collect()
    });
    for (out, err, code) in outputs {
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("25.0%"), "{out}");
    }
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let applied: Vec<(i64, bool)> = runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&db.url())
            .await
            .expect("connects");
        let applied = sqlx::query_as("SELECT version, success FROM _sqlx_migrations")
            .fetch_all(&mut conn)
            .await
            .expect("the migrations table");
        conn.close().await.expect("closes");
        applied
    });
    let expected = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .expect("the migrations")
        .count();
    assert_eq!(applied.len(), expected, "each migration once: {applied:?}");
    assert!(applied.iter().all(|(_, success)| *success), "{applied:?}");
}
