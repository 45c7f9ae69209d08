//! The storage layer on both backends: what features rely on from `Store`, whatever database is
//! behind it, and what each backend promises of its own (migrations run once, passwords hidden).

use chrono::{DateTime, NaiveDate};
use metricord::error::{Error, UserError};
use metricord::plugin::HistoryNeeds;
use metricord::storage::{NewSnapshot, Source};

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
