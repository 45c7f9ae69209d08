//! The storage layer on both backends: what features rely on from `Store`, whatever database is
//! behind it, and what each backend promises of its own (migrations run once, passwords hidden).

use chrono::{DateTime, NaiveDate};
use metricord::error::{Error, UserError};
use metricord::plugin::HistoryNeeds;
use metricord::settings::DatabaseSettings;
use metricord::storage::{Claim, ImportBatch, ImportRow, NewSchedule, NewSnapshot, Source, Store};
use sqlx::Connection;

use crate::support::{TestDb, on_both_backends};

fn snapshot<'a>(
    guild_id: u64,
    brand: &'a str,
    values: &'a [(&'static str, i64)],
) -> NewSnapshot<'a> {
    NewSnapshot {
        guild_id,
        brand,
        platform: "x",
        day: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        values,
        logged_by: 7,
        logged_at: DateTime::UNIX_EPOCH,
        source: Source::Command,
    }
}

on_both_backends!(#[tokio::test] async fn an_unknown_brand_is_refused_when_auto_create_is_off_and_nothing_is_written);
async fn an_unknown_brand_is_refused_when_auto_create_is_off_and_nothing_is_written(db: TestDb) {
    let store = db.store().await;
    let err = store
        .log(&snapshot(1, "Acme", &[("clicks", 3)]), false)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::User(UserError::BrandNotCreated { .. })
    ));
    assert!(store.snapshots(1, None, None).await.unwrap().is_empty());
}

on_both_backends!(#[tokio::test] async fn history_is_scoped_to_the_guild);
async fn history_is_scoped_to_the_guild(db: TestDb) {
    let store = db.store().await;
    store
        .log(&snapshot(1, "Acme", &[("mentions", 10)]), true)
        .await
        .unwrap();
    store
        .log(&snapshot(2, "Rival", &[("mentions", 90)]), true)
        .await
        .unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let needs = HistoryNeeds {
        previous: &["mentions"],
        peers: &["mentions"],
    };
    let history = store
        .history(1, "Newcomer", "x", day, &needs)
        .await
        .unwrap();
    assert_eq!(history.peers.get("mentions"), Some(&(10, 1)));
    let later = day.succ_opt().unwrap();
    let history = store.history(2, "acme", "x", later, &needs).await.unwrap();
    assert!(history.previous.is_empty(), "guild 2 saw guild 1's Acme");
    let history = store.history(1, "acme", "x", later, &needs).await.unwrap();
    assert_eq!(history.previous.get("mentions"), Some(&(day, 10)));
}

on_both_backends!(#[tokio::test] async fn history_reads_every_series_a_plugin_asks_for_at_once);
async fn history_reads_every_series_a_plugin_asks_for_at_once(db: TestDb) {
    let store = db.store().await;
    let on = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let log = |brand, platform, d, values: &'static [(&'static str, i64)]| {
        let store = store.clone();
        async move {
            let snapshot = NewSnapshot {
                platform,
                day: on(d),
                ..snapshot(1, brand, values)
            };
            store.log(&snapshot, true).await.unwrap();
        }
    };
    log("Acme", "x", 1, &[("followers", 100), ("reach", 40)]).await;
    log("Acme", "x", 3, &[("followers", 130)]).await;
    // The day asked about and another platform are no history.
    log("Acme", "x", 5, &[("followers", 999), ("reach", 999)]).await;
    log("Acme", "instagram", 4, &[("followers", 555)]).await;
    log("Rival", "x", 5, &[("mentions", 10), ("positive", 4)]).await;
    log("Other", "x", 5, &[("mentions", 5)]).await;
    log("Other", "instagram", 5, &[("positive", 70)]).await;
    let needs = HistoryNeeds {
        previous: &["followers", "reach", "clicks"],
        peers: &["mentions", "positive", "negative"],
    };
    let history = store.history(1, "acme", "x", on(5), &needs).await.unwrap();
    assert_eq!(history.previous.len(), 2, "{:?}", history.previous);
    assert_eq!(history.previous.get("followers"), Some(&(on(3), 130)));
    assert_eq!(history.previous.get("reach"), Some(&(on(1), 40)));
    assert_eq!(history.peers.len(), 2, "{:?}", history.peers);
    assert_eq!(history.peers.get("mentions"), Some(&(15, 2)));
    assert_eq!(history.peers.get("positive"), Some(&(4, 1)));
    // Nothing asked, nothing read; an unknown brand has no past, and every other brand is a peer.
    let none = HistoryNeeds {
        previous: &[],
        peers: &[],
    };
    let history = store.history(1, "acme", "x", on(5), &none).await.unwrap();
    assert!(history.previous.is_empty() && history.peers.is_empty());
    let history = store
        .history(1, "nobody", "x", on(5), &needs)
        .await
        .unwrap();
    assert!(history.previous.is_empty());
    assert_eq!(history.peers.get("mentions"), Some(&(15, 2)));
}

on_both_backends!(#[tokio::test] async fn logging_a_value_again_reports_the_one_it_replaced);
async fn logging_a_value_again_reports_the_one_it_replaced(db: TestDb) {
    let store = db.store().await;
    let first = store
        .log(
            &snapshot(1, " Acme ", &[("clicks", 3), ("impressions", 9)]),
            true,
        )
        .await
        .unwrap();
    assert!(first.brand_created && first.replaced.is_empty());
    assert_eq!(first.brand, "Acme");
    let again = store
        .log(
            &snapshot(1, "ACME", &[("clicks", 4), ("impressions", 9)]),
            true,
        )
        .await
        .unwrap();
    assert!(!again.brand_created);
    assert_eq!(again.replaced, [("clicks", 3), ("impressions", 9)]);
}

/// `n` stores on one database, as `n` processes sharing it would open it.
async fn processes(db: &TestDb, n: usize) -> Vec<Store> {
    let mut stores = Vec::new();
    for _ in 0..n {
        stores.push(db.store().await);
    }
    stores
}

on_both_backends!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn a_digest_run_is_claimed_by_exactly_one_of_several_processes_and_taken_over_by_one);
async fn a_digest_run_is_claimed_by_exactly_one_of_several_processes_and_taken_over_by_one(
    db: TestDb,
) {
    let stores = processes(&db, 4).await;
    let id = stores[0]
        .add_schedule(&NewSchedule {
            guild_id: 1,
            channel_id: 2,
            cron: "0 0 9 * * Mon",
            timezone: "UTC",
            landscape: None,
            created_by: 3,
            created_at: 1_000,
        })
        .await
        .unwrap();
    let schedule = stores[0].schedules(Some(1)).await.unwrap().remove(0);
    assert_eq!(schedule.id, id);
    let claims = futures::future::join_all(
        stores
            .iter()
            .map(|store| store.advance(&schedule, Some(2_000), &[], 2_000)),
    )
    .await;
    let claimed: Vec<Claim> = claims.into_iter().filter_map(|c| c.unwrap()).collect();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].scheduled_at, 2_000);

    // Its process stops; once the lease is over (claims before 2,300 are stale), one process
    // takes the run over, however many look at once.
    let taken = futures::future::join_all(
        stores
            .iter()
            .map(|store| store.reclaim_stale(2_300, 0, 2_400)),
    )
    .await;
    let taken: Vec<Claim> = taken.into_iter().flat_map(|c| c.unwrap()).collect();
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(
        stores[0].runs(id).await.unwrap(),
        [(2_000, "claimed".into())]
    );
    for store in stores {
        store.close().await;
    }
}

on_both_backends!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn two_processes_importing_the_same_rows_in_opposite_orders_both_succeed);
async fn two_processes_importing_the_same_rows_in_opposite_orders_both_succeed(db: TestDb) {
    // Upserts of the same keys in opposite orders are what deadlocks PostgreSQL, and then
    // deadlocked again on every retry: imports now take their keys in order.
    let stores = processes(&db, 2).await;
    let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let rows: Vec<ImportRow> = (0..2_000)
        .map(|i| ImportRow {
            day: day + chrono::Duration::days(i % 365),
            brand: 0,
            platform: ["x", "instagram"][(i / 365) as usize % 2],
            series: ["clicks", "impressions", "mentions"][(i / 730) as usize % 3],
            value: i,
        })
        .collect();
    let forward = ImportBatch {
        brands: vec!["Acme".into()],
        rows: rows.clone(),
        setup: Vec::new(),
    };
    let backward = ImportBatch {
        brands: vec!["Acme".into()],
        rows: rows.into_iter().rev().collect(),
        setup: Vec::new(),
    };
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            stores[0].import(1, &forward, 7, DateTime::UNIX_EPOCH, true),
            stores[1].import(1, &backward, 7, DateTime::UNIX_EPOCH, true),
        );
        a.unwrap();
        b.unwrap();
    }
    assert_eq!(
        stores[0].snapshots(1, None, None).await.unwrap().len(),
        2_000
    );
    for store in stores {
        store.close().await;
    }
}

#[tokio::test]
async fn four_processes_starting_at_once_migrate_a_new_postgresql_database_once() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let settings = db.settings();
    let opened = futures::future::join_all((0..4).map(|_| Store::open(&settings))).await;
    for store in opened {
        store.expect("every process starts").close().await;
    }
    let mut conn = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    let applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        applied,
        [
            (1, true),
            (2, true),
            (3, true),
            (4, true),
            (5, true),
            (6, true)
        ],
        "one set of migrations"
    );
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_postgresql_password_never_shows_in_the_stores_debug_output_or_its_errors() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    // The test server trusts every local user, so a password is accepted and ignored.
    let url = db.url().replacen("://postgres@", "://postgres:hunter2@", 1);
    let settings = DatabaseSettings {
        url: url.clone(),
        ..DatabaseSettings::default()
    };
    let store = Store::open(&settings).await.expect("the database opens");
    let shown = format!("{store:?} {settings:?}");
    assert!(
        !shown.contains("hunter2") && shown.contains("***"),
        "{shown}"
    );
    store.close().await;
    // An unreachable server: the error names the failure, never the password.
    let settings = DatabaseSettings {
        url: "postgres://bot:hunter2@127.0.0.1:1/metricord".into(),
        busy_timeout_ms: 200,
        ..DatabaseSettings::default()
    };
    let err = Store::open(&settings).await.unwrap_err().to_string();
    assert!(!err.contains("hunter2"), "{err}");
}
