//! `metricord bench`: the performance targets, measured against SQLite itself, or with a
//! `postgres://` database against that server (`postgres`).
//!
//! Each workload runs through the same code the bot runs (the dispatcher, the storage layer,
//! the digest builder) on a database seeded with the demo data set, and where it makes sense
//! beside the same work written directly in SQL on the same connection pool and settings, so
//! that the figures say how much metricord spends beyond what SQLite needs. Results are checked
//! as they are measured (a wrong answer fails the run), which is what the smoke test in
//! `tests/it/bench.rs` relies on; the times themselves are only reported.

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::Row;

use crate::clock::Clock;
use crate::command::{File, Invocation, Reply, Value};
use crate::console::parse_line;
use crate::demo;
use crate::dispatcher::Dispatcher;
use crate::error::{Error, Result};
use crate::period::Period;
use crate::plugins::Registry;
use crate::settings::{DatabaseSettings, Settings};
use crate::storage::{AGGREGATE, HISTORY, Sqlite, Store, history_statement};

mod collect;
mod platforms;
mod postgres;
mod sqlite;

pub use collect::{CollectPlan, run as collect};

use sqlite::{DIRECT_COMPARE, DIRECT_REPORT, raw_bulk_insert};

/// How much to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    pub brands: usize,
    pub days: i64,
    pub iterations: usize,
    pub import_rows: usize,
}

const GUILD: u64 = 1;
/// Rounds the logging comparison alternates between metricord and C SQLite: many short ones,
/// so that a slow spell of the shared disk (another process's fsyncs) weighs on both sides
/// alike; with five, one side could take most of a spell and the ratio swung from 50% to 130%.
const ROUNDS: usize = 20;
const IMPORT_GUILD: u64 = 2;

/// Latencies of one workload.
struct Timings(Vec<Duration>);

impl Timings {
    fn percentile(&self, p: usize) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
    }

    fn total(&self) -> Duration {
        self.0.iter().sum()
    }
}

async fn timed<F, Fut, T>(iterations: usize, mut work: F) -> Result<(Timings, T)>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut times = Vec::with_capacity(iterations);
    let mut last = None;
    for i in 0..iterations.max(1) {
        let started = Instant::now();
        last = Some(work(i).await?);
        times.push(started.elapsed());
    }
    let last = last.ok_or_else(|| failed("nothing measured"))?;
    Ok((Timings(times), last))
}

fn failed(what: &str) -> Error {
    Error::Io(std::io::Error::other(format!(
        "benchmark check failed: {what}"
    )))
}

fn check(ok: bool, what: &str) -> Result<()> {
    if ok { Ok(()) } else { Err(failed(what)) }
}

async fn command(dispatcher: &Dispatcher, line: &str) -> Result<Reply> {
    let line = parse_line(line)?.ok_or_else(|| failed("empty command"))?;
    Ok(dispatcher
        .dispatch(Invocation {
            guild_id: Some(GUILD),
            channel_id: 1,
            user_id: 1,
            can_manage_guild: true,
            command: line.command,
            options: line.options,
            upload_limit: None,
        })
        .await)
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{:.0} µs", ms * 1000.0)
    } else {
        format!("{ms:.2} ms")
    }
}

/// Runs every measurement in `folder` (a fresh database is made there) and returns the report
/// in Markdown.
pub async fn run(settings: &Settings, folder: &Path, plan: &Plan) -> Result<String> {
    if settings.database.backend() == Ok(crate::settings::Backend::Postgres) {
        return postgres::run(settings, plan).await;
    }
    tokio::fs::create_dir_all(folder)
        .await
        .map_err(|source| Error::Write {
            path: folder.to_path_buf(),
            source,
        })?;
    let database = DatabaseSettings {
        url: format!("sqlite://{}", folder.join("bench.db").display()),
        ..settings.database.clone()
    };
    let settings = Arc::new(Settings {
        database: database.clone(),
        ..settings.clone()
    });
    // The direct side of each comparison runs on the same SQLite pool.
    let sqlite = Sqlite::open(&database).await?;
    let store = Store::new(sqlite.clone());
    let registry = Registry::new(&settings.plugins.enabled);
    let today = Utc::now().date_naive();
    let mut out = String::new();
    let started = Instant::now();
    let seeded = demo::seed(&store, &registry, GUILD, plan.brands, plan.days, 1, today).await?;
    writeln!(
        out,
        "Data set: {} brands in 5 landscapes, 5 platforms, {} days: {} values, seeded in {:.1} s.\n",
        seeded.brands,
        plan.days,
        seeded.values,
        started.elapsed().as_secs_f64()
    )
    .ok();
    let dispatcher = Arc::new(Dispatcher::new(
        settings.clone(),
        store.clone(),
        Clock::System,
    )?);
    let n = plan.iterations;
    writeln!(out, "| work | p50 | p99 | direct SQLite | metricord / SQLite | target |\n|---|---|---|---|---|---|").ok();

    // A calculator command: no storage at all.
    let (calc, reply) = timed(n * 20, |_| {
        command(&dispatcher, "/ctr clicks:20 impressions:100")
    })
    .await?;
    check(
        reply
            .embeds
            .first()
            .is_some_and(|e| e.title.starts_with("CTR 20.0%")),
        "the calculator's answer",
    )?;
    writeln!(
        out,
        "| calculator command (`/ctr`) through the dispatcher | {} | {} | - | - | p99 < 50 µs |",
        ms(calc.percentile(50)),
        ms(calc.percentile(99))
    )
    .ok();

    // Logging commands, stored durably, against C SQLite upserting the same number of rows per
    // transaction into a snapshots-shaped table of the same file. `/ctr` is the common case,
    // `/engagement` the command with the most inputs, `/mentions` the one that also reads the
    // competitors' share of voice first.
    let writes = n * 5;
    let path = folder.join("bench.db");
    for (name, rows, options) in [
        ("/ctr", 2, "clicks:{i} impressions:{j}"),
        (
            "/engagement",
            3,
            "applause:{i} conversation:{i} amplification:{j}",
        ),
        ("/mentions", 1, "mentions:{i}"),
    ] {
        // In rounds, alternating with C SQLite, so that a slow spell of the machine's disk
        // weighs on both sides alike.
        let mut logs = Timings(Vec::with_capacity(writes));
        let mut raw = Timings(Vec::with_capacity(writes));
        let per_round = writes.div_ceil(ROUNDS);
        for round in 0..ROUNDS {
            let (times, reply) = timed(per_round, |i| {
                let i = round * per_round + i;
                let day = today - chrono::Duration::days(i as i64);
                let options = options
                    .replace("{i}", &i.to_string())
                    .replace("{j}", &(i + 100).to_string());
                let dispatcher = dispatcher.clone();
                async move {
                    command(
                        &dispatcher,
                        &format!("{name} {options} brand:\"Bench Brand\" platform:x date:{day}"),
                    )
                    .await
                }
            })
            .await?;
            check(
                !reply.ephemeral
                    && reply
                        .embeds
                        .iter()
                        .any(|e| e.fields.iter().any(|f| f.name == "Stored")),
                "a stored snapshot",
            )?;
            logs.0.extend(times.0);
            let (path, synchronous) = (path.clone(), database.synchronous);
            let first = round * per_round;
            raw.0.extend(
                tokio::task::spawn_blocking(move || {
                    sqlite::sqlite_writes(&path, synchronous, rows, first..first + per_round)
                })
                .await
                .map_err(|e| failed(&e.to_string()))??,
            );
        }
        let writes = per_round * ROUNDS;
        let rate = writes as f64 / logs.total().as_secs_f64();
        let raw_rate = writes as f64 / raw.total().as_secs_f64();
        // The median's ratio too: the rates take every stall of a shared disk, the medians
        // none, so the two together say how much is metricord and how much the machine.
        let p50 = |t: &Timings| t.percentile(50).as_secs_f64();
        writeln!(
            out,
            "| logging command (`{name}` with a brand, {rows} row{} per transaction), `synchronous = {}` | {} | {} | {:.0}/s vs {:.0}/s; p50 {} | {:.0}% of C SQLite's rate, {:.0}% at p50 | p99 < 2 ms, ≥ 50% of C SQLite |",
            if rows == 1 { "" } else { "s" },
            database.synchronous,
            ms(logs.percentile(50)),
            ms(logs.percentile(99)),
            rate,
            raw_rate,
            ms(raw.percentile(50)),
            rate / raw_rate * 100.0,
            p50(&raw) / p50(&logs) * 100.0
        )
        .ok();
    }

    // /report over 90 days against one hand-written aggregate.
    let (brand, landscape) = demo::brand_name(0);
    let brand_id = store
        .brand(GUILD, &brand)
        .await?
        .ok_or_else(|| failed("the seeded brand"))?
        .id;
    let line = format!("/report brand:\"{brand}\" period:90d");
    let (report, reply) = timed(n, |_| command(&dispatcher, &line)).await?;
    check(
        reply.embeds.first().is_some_and(|e| e.fields.len() >= 5),
        "a report with every metric",
    )?;
    let period = Period::ending(today, 90);
    let (direct_report, rows) = timed(n, |_| {
        let pool = sqlite.pool().clone();
        async move {
            let rows = sqlx::query(DIRECT_REPORT)
                .bind(period.previous().from.to_string())
                .bind(period.from.to_string())
                .bind(period.to.to_string())
                .bind(GUILD as i64)
                .bind(brand_id)
                .fetch_all(&pool)
                .await?;
            Ok(rows.len())
        }
    })
    .await?;
    check(rows > 0, "the direct report's rows")?;
    row(
        &mut out,
        "`/report` of one brand over 90 days",
        &report,
        &direct_report,
        "p99 < 10 ms, within 2x",
    );

    // /compare over a 10-brand landscape for 30 days, against one hand-written aggregate.
    let line = format!("/compare metric:engagement-rate landscape:{landscape} period:30d");
    let (compare, reply) = timed(n, |_| command(&dispatcher, &line)).await?;
    check(
        reply
            .embeds
            .first()
            .is_some_and(|e| e.description.contains("1. ")),
        "a ranking",
    )?;
    let ids: Vec<i64> = store
        .landscape(GUILD, landscape)
        .await?
        .map(|(_, b)| b.iter().map(|b| b.id).collect())
        .unwrap_or_default();
    let ids = format!(
        "[{}]",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    );
    let month = Period::ending(today, 30);
    let (direct_compare, rows) = timed(n, |_| {
        let (pool, ids) = (sqlite.pool().clone(), ids.clone());
        async move {
            let rows = sqlx::query(DIRECT_COMPARE)
                .bind(month.from.to_string())
                .bind(month.to.to_string())
                .bind(GUILD as i64)
                .bind(ids)
                .fetch_all(&pool)
                .await?;
            Ok(rows.len())
        }
    })
    .await?;
    check(rows > 0, "the direct comparison's rows")?;
    row(
        &mut out,
        "`/compare` of a 10-brand landscape over 30 days",
        &compare,
        &direct_compare,
        "p99 < 10 ms, within 2x",
    );

    // A weekly digest of a 10-brand landscape, chart included.
    let week = Period::ending(today, 7);
    let (digest, reply) = timed(n.div_ceil(5), |_| {
        crate::digest::for_guild(
            dispatcher.services(),
            GUILD,
            Some(landscape),
            week,
            Utc::now(),
        )
    })
    .await?;
    check(
        !reply.attachments.is_empty() && reply.embeds.len() > 1,
        "a digest with its chart",
    )?;
    writeln!(
        out,
        "| weekly digest of a 10-brand landscape, chart included | {} | {} | - | - | < 150 ms |",
        ms(digest.percentile(50)),
        ms(digest.percentile(99))
    )
    .ok();

    // Importing CSV rows, against a raw bulk insert of the same rows in one transaction.
    let csv = import_csv(plan.import_rows, today);
    let file = File {
        name: "bench.csv".into(),
        bytes: csv.clone(),
    };
    let started = Instant::now();
    let reply = dispatcher
        .dispatch(Invocation {
            guild_id: Some(IMPORT_GUILD),
            channel_id: 1,
            user_id: 1,
            can_manage_guild: true,
            command: "import".into(),
            options: vec![("file".into(), Value::File(file))],
            upload_limit: None,
        })
        .await;
    let import = started.elapsed();
    check(
        reply.content.starts_with(&format!(
            "Imported {}",
            crate::numbers::thousands(plan.import_rows as i64)
        )),
        &reply.content,
    )?;
    let raw_import = raw_bulk_insert(sqlite.pool(), &csv).await?;
    writeln!(
        out,
        "| importing {} CSV rows | {:.2} s | - | {:.2} s | {:.1}x | < 10 s, within 3x |",
        crate::numbers::thousands(plan.import_rows as i64),
        import.as_secs_f64(),
        raw_import.as_secs_f64(),
        import.as_secs_f64() / raw_import.as_secs_f64()
    )
    .ok();

    // The direct sides' tables go before the database is opened again: metricord refuses a
    // file holding tables it did not make, as another program's.
    sqlx::raw_sql("DROP TABLE IF EXISTS bench_writes; DROP TABLE IF EXISTS bench_bulk")
        .execute(sqlite.pool())
        .await?;

    // Start to ready: opening the database (migrations applied) and building the dispatcher.
    let (start, _) = timed(n.div_ceil(5), |_| {
        let (settings, database) = (settings.clone(), database.clone());
        async move {
            let store = Store::open(&database).await?;
            Dispatcher::new(settings, store.clone(), Clock::System)?;
            store.close().await;
            Ok(())
        }
    })
    .await?;
    writeln!(
        out,
        "| start to ready on this database (migrations applied) | {} | {} | - | - | < 300 ms |",
        ms(start.percentile(50)),
        ms(start.percentile(99))
    )
    .ok();

    // Memory, in a fresh process of its own so that the benchmark's own allocations do not count.
    let exe = std::env::current_exe()?;
    let memory = tokio::process::Command::new(exe)
        .args(["--database", &database.url, "memory"])
        .env("RUST_LOG", "warn")
        .output()
        .await?;
    let line = String::from_utf8_lossy(&memory.stdout);
    check(memory.status.success() && line.contains("MB"), &line)?;
    writeln!(out, "{}", line.trim_end()).ok();

    writeln!(out, "\nQuery plans of the hot queries:\n").ok();
    for (name, sql) in [
        ("aggregate", AGGREGATE.sqlite.to_string()),
        (
            "history (previous values and competitors)",
            history_statement(HISTORY.sqlite, 1, 1),
        ),
    ] {
        let plan = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
            .bind("2026-01-01")
            .bind("2026-01-31")
            .bind(1_i64)
            .bind("[1]")
            .bind(None::<String>)
            .bind(None::<String>)
            .fetch_all(sqlite.pool())
            .await?;
        writeln!(out, "{name}:\n```").ok();
        for step in plan {
            let detail: String = step.try_get(3)?;
            writeln!(out, "{detail}").ok();
        }
        writeln!(out, "```").ok();
    }
    store.close().await;
    Ok(out)
}

fn row(out: &mut String, work: &str, ours: &Timings, direct: &Timings, target: &str) {
    writeln!(
        out,
        "| {work} | {} | {} | {} / {} | {:.1}x at p50 | {target} |",
        ms(ours.percentile(50)),
        ms(ours.percentile(99)),
        ms(direct.percentile(50)),
        ms(direct.percentile(99)),
        ours.percentile(50).as_secs_f64() / direct.percentile(50).as_secs_f64()
    )
    .ok();
}

/// `rows` CSV rows with distinct keys, the way a team's export looks.
fn import_csv(rows: usize, today: chrono::NaiveDate) -> Vec<u8> {
    const SERIES: [&str; 15] = [
        "followers",
        "impressions",
        "reach",
        "mentions",
        "potential_reach",
        "engagements",
        "applause",
        "conversation",
        "amplification",
        "positive",
        "negative",
        "neutral",
        "clicks",
        "visitors",
        "conversions",
    ];
    let mut csv = String::from("date,brand,platform,metric,value\n");
    let per_day = SERIES.len() * crate::command::PLATFORMS.len();
    for i in 0..rows {
        let series = SERIES[i % SERIES.len()];
        let platform =
            crate::command::PLATFORMS[(i / SERIES.len()) % crate::command::PLATFORMS.len()];
        let day = today - chrono::Duration::days(((i / per_day) % 365) as i64);
        let brand = i / (per_day * 365);
        writeln!(
            csv,
            "{day},Import Brand {brand},{platform},{series},{}",
            i % 100_000
        )
        .ok();
    }
    csv.into_bytes()
}

/// A line of /proc/self/status in KiB (Linux only).
fn resident_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `metricord memory`: resident memory of a process that has opened the database and built
/// its dispatcher (settled), then at its peak while 1,000 commands run at once, half of them
/// writes; and how long each of those commands took to be answered, from the moment it was
/// sent, against Discord's 3-second window. Prints two rows of the benchmark table.
pub async fn memory(settings: Arc<Settings>) -> Result<String> {
    let store = Store::open(&settings.database).await?;
    let dispatcher = Arc::new(Dispatcher::new(settings, store.clone(), Clock::System)?);
    command(&dispatcher, "/ctr clicks:1 impressions:2").await?;
    let settled = resident_kib("VmRSS");
    let today = Utc::now().date_naive();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let dispatcher = dispatcher.clone();
        let day = today - chrono::Duration::days(i / 2);
        let sent = Instant::now();
        tasks.spawn(async move {
            let line = if i % 2 == 0 {
                format!("/mentions mentions:{i} brand:\"Load Brand\" date:{day}")
            } else {
                format!(
                    "/report brand:\"{}\" period:30d",
                    demo::brand_name(i as usize % 10).0
                )
            };
            let reply = command(&dispatcher, &line).await;
            reply.map(|reply| (reply, sent.elapsed()))
        });
    }
    let mut answered = Vec::with_capacity(1000);
    while let Some(done) = tasks.join_next().await {
        let (reply, took) = done.map_err(|e| failed(&e.to_string()))??;
        check(!reply.content.contains("went wrong"), &reply.content)?;
        answered.push(took);
    }
    let answered = Timings(answered);
    let peak = resident_kib("VmHWM");
    store.close().await;
    let mb = |k: Option<u64>| {
        k.map_or("n/a".to_string(), |k| {
            format!("{:.1} MB", k as f64 / 1024.0)
        })
    };
    Ok(format!(
        "| 1,000 commands sent at once (half writes, half `/report`s): time to each answer (fresh process) | {} | {} | - | - | slowest {}, < 3 s (Discord's window) |\n\
         | resident memory: settled / peak with 1,000 commands in flight (fresh process) | {} | {} | - | - | < 30 MB / < 80 MB |\n",
        ms(answered.percentile(50)),
        ms(answered.percentile(99)),
        ms(answered.percentile(100)),
        mb(settled),
        mb(peak)
    ))
}
