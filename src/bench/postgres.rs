//! `metricord bench --database postgres://...`: the PostgreSQL column of BENCHMARKS.md.
//!
//! The run makes a fresh database of its own on the server the URL names (and drops it after),
//! seeds it with the demo data set, and measures the work whose cost moves with the backend:
//! logging commands against the same single-row upserts sent directly to the server in the same
//! run, alternating in rounds so that a busy spell weighs on both sides, and `/report` and
//! `/compare` against one hand-written query each. The direct side has a pool of its own with
//! the same settings, so it pays the same network round trips and nothing of metricord's.

use std::fmt::Write;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use super::{GUILD, Plan, ROUNDS, Timings, check, command, failed, ms, row, timed};
use crate::clock::Clock;
use crate::demo;
use crate::dispatcher::Dispatcher;
use crate::error::Result;
use crate::period::Period;
use crate::plugins::Registry;
use crate::settings::{DatabaseSettings, Settings};
use crate::storage::Store;

/// The report's aggregate as one hand-written query: both periods in one pass over the
/// brand's key range, the last value of each period found by the greatest `day|value`.
const DIRECT_REPORT: &str = "SELECT series, platform,
        SUM(CASE WHEN day >= $2 THEN value END), MAX(CASE WHEN day >= $2 THEN value END),
        MAX(CASE WHEN day >= $2 THEN day || '|' || value END),
        SUM(CASE WHEN day < $2 THEN value END), MAX(CASE WHEN day < $2 THEN value END),
        MAX(CASE WHEN day < $2 THEN day || '|' || value END)
    FROM snapshots WHERE guild_id = $4 AND brand_id = $5 AND day BETWEEN $1 AND $3
    GROUP BY series, platform";

/// The comparison's aggregate as one hand-written query: engagements summed and the last
/// followers per brand and platform.
const DIRECT_COMPARE: &str = "SELECT brand_id, platform,
        SUM(CASE WHEN series = 'engagements' THEN value END),
        MAX(CASE WHEN series = 'followers' THEN day || '|' || value END)
    FROM snapshots WHERE guild_id = $3 AND brand_id = ANY($4)
      AND day BETWEEN $1 AND $2 AND series IN ('engagements', 'followers')
    GROUP BY brand_id, platform";

/// A table shaped like `snapshots` (the same columns, key and index, no foreign key) for the
/// direct writes.
const DIRECT_TABLE: [&str; 2] = [
    "CREATE TABLE bench_writes (
        guild_id BIGINT NOT NULL, brand_id BIGINT NOT NULL, platform TEXT NOT NULL,
        series TEXT NOT NULL, day DATE NOT NULL, value BIGINT NOT NULL,
        logged_by BIGINT NOT NULL, logged_at TIMESTAMPTZ NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (guild_id, brand_id, day, series, platform))",
    "CREATE INDEX bench_writes_by_day ON bench_writes (guild_id, series, platform, day, value)",
];

const DIRECT_UPSERT: &str =
    "INSERT INTO bench_writes VALUES (1, $1, 'x', $2, $3, $4, 1, $5, 'command')
    ON CONFLICT (guild_id, brand_id, day, series, platform) DO UPDATE SET
        value = excluded.value, logged_by = excluded.logged_by,
        logged_at = excluded.logged_at, source = excluded.source";

/// The URL of database `name` on the server of `server` (a URL of another database there).
fn database_url(server: &str, name: &str) -> String {
    let authority = server.find("://").map_or(0, |i| i + 3);
    let path = server[authority..]
        .find('/')
        .map_or(server.len(), |i| authority + i);
    let query = server[path..].find('?').map_or("", |i| &server[path + i..]);
    format!("{}/{name}{query}", &server[..path])
}

/// Measures on a fresh database of the server of `settings.database.url`, dropped afterwards.
pub async fn run(settings: &Settings, plan: &Plan) -> Result<String> {
    let server = settings.database.url.trim().to_string();
    let name = format!("metricord_bench_{}", std::process::id());
    let mut admin = PgConnection::connect(&server).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    let measured = measure(settings, plan, &database_url(&server, &name)).await;
    let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    let _ = admin.close().await;
    let out = measured?;
    dropped?;
    Ok(out)
}

async fn measure(settings: &Settings, plan: &Plan, url: &str) -> Result<String> {
    let database = DatabaseSettings {
        url: url.to_string(),
        ..settings.database.clone()
    };
    let settings = Arc::new(Settings {
        database: database.clone(),
        ..settings.clone()
    });
    let store = Store::open(&database).await?;
    let direct = PgPoolOptions::new()
        .max_connections(database.max_connections)
        .connect_with(PgConnectOptions::from_str(url)?)
        .await?;
    let measured = measure_on(&settings, plan, &store, &direct).await;
    direct.close().await;
    store.close().await;
    measured
}

async fn measure_on(
    settings: &Arc<Settings>,
    plan: &Plan,
    store: &Store,
    direct: &PgPool,
) -> Result<String> {
    let registry = Registry::new(&settings.plugins.enabled);
    let today = Utc::now().date_naive();
    let mut out = String::new();
    let started = Instant::now();
    let seeded = demo::seed(store, &registry, GUILD, plan.brands, plan.days, 1, today).await?;
    writeln!(
        out,
        "PostgreSQL data set: {} brands in 5 landscapes, 5 platforms, {} days: {} values, seeded in {:.1} s.\n",
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
    writeln!(out, "| work | p50 | p99 | direct PostgreSQL | metricord / PostgreSQL | target |\n|---|---|---|---|---|---|").ok();
    for statement in DIRECT_TABLE {
        sqlx::query(statement).execute(direct).await?;
    }
    let n = plan.iterations;
    let writes = n * 5;
    for (name, rows, options) in [
        ("/mentions", 1, "mentions:{i}"),
        ("/ctr", 2, "clicks:{i} impressions:{j}"),
    ] {
        let mut logs = Timings(Vec::with_capacity(writes));
        let mut raw = Duration::ZERO;
        let per_round = writes.div_ceil(ROUNDS);
        for round in 0..ROUNDS {
            let first = round * per_round;
            let (times, reply) = timed(per_round, |i| {
                let i = first + i;
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
            raw += direct_writes(direct, today, rows, first..first + per_round).await?;
        }
        let writes = per_round * ROUNDS;
        let rate = writes as f64 / logs.total().as_secs_f64();
        let raw_rate = writes as f64 / raw.as_secs_f64();
        writeln!(
            out,
            "| logging command (`{name}` with a brand, {rows} row{} per transaction) | {} | {} | {:.0}/s vs {:.0}/s | {:.0}% of the direct rate | p99 < 2 ms, ≥ 50% of direct |",
            if rows == 1 { "" } else { "s" },
            ms(logs.percentile(50)),
            ms(logs.percentile(99)),
            rate,
            raw_rate,
            rate / raw_rate * 100.0
        )
        .ok();
    }

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
    let (direct_report, rows) = timed(n, |_| async move {
        let rows = sqlx::query(DIRECT_REPORT)
            .bind(period.previous().from)
            .bind(period.from)
            .bind(period.to)
            .bind(GUILD as i64)
            .bind(brand_id)
            .fetch_all(direct)
            .await?;
        Ok(rows.len())
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
    let month = Period::ending(today, 30);
    let (direct_compare, rows) = timed(n, |_| {
        let ids = ids.clone();
        async move {
            let rows = sqlx::query(DIRECT_COMPARE)
                .bind(month.from)
                .bind(month.to)
                .bind(GUILD as i64)
                .bind(ids)
                .fetch_all(direct)
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
    Ok(out)
}

/// One transaction for each day back from today in `days`, of `rows` upserted rows each (one
/// statement sent on its own when `rows` is 1, as the server commits it by itself): the least a
/// logged command with `rows` inputs costs on this server. Returns the total time.
async fn direct_writes(
    pool: &PgPool,
    today: NaiveDate,
    rows: usize,
    days: std::ops::Range<usize>,
) -> Result<Duration> {
    const SERIES: [&str; 2] = ["clicks", "impressions"];
    let started = Instant::now();
    for i in days {
        let day = today - chrono::Duration::days(i as i64);
        let upsert = |series: &'static str| {
            sqlx::query(DIRECT_UPSERT)
                .bind(rows as i64)
                .bind(series)
                .bind(day)
                .bind(i as i64)
                .bind(Utc::now())
        };
        if rows == 1 {
            upsert(SERIES[0]).execute(pool).await?;
            continue;
        }
        let mut tx = pool.begin().await?;
        for series in SERIES.iter().cycle().take(rows) {
            upsert(series).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(started.elapsed())
}
