//! The benchmark suite as a correctness check: `metricord bench` on a tiny data set must run
//! every workload and get every answer right. It asserts results, never times.

use sqlx::Connection;

/// What `metricord bench` with `args` printed, once it succeeded.
fn bench(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_metricord"))
        .arg("bench")
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("metricord runs");
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    report
}

#[test]
fn the_benchmarks_run_every_workload_and_check_its_answers() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let folder = dir.path().display().to_string();
    let report = bench(&[
        "--brands",
        "10",
        "--days",
        "15",
        "--iterations",
        "3",
        "--import-rows",
        "1500",
        "--dir",
        &folder,
    ]);
    for work in [
        "calculator command",
        "logging command",
        "`/report` of one brand",
        "`/compare` of a 10-brand landscape",
        "weekly digest",
        "importing 1,500 CSV rows",
        "start to ready",
        "time to each answer",
        "resident memory",
        "SEARCH s USING PRIMARY KEY (guild_id=? AND brand_id=? AND day>? AND day<?)",
    ] {
        assert!(report.contains(work), "{work} missing from\n{report}");
    }
    assert!(
        report.contains("10 brands in 5 landscapes, 5 platforms, 15 days: 11250 values"),
        "{report}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("the folder").count(),
        0,
        "the bench cleans up"
    );
}

#[test]
fn the_collection_benchmark_polls_every_account_within_the_limits_and_checks_its_answers() {
    let report = bench(&["--collect", "--accounts", "5", "--latency-ms", "5"]);
    assert!(
        report.starts_with("Collection: 5 accounts (2 on Bluesky's one AppView, 2 on 1 Mastodon instance, 1 on YouTube)"),
        "{report}"
    );
    // 2 Bluesky and 2 Mastodon polls of 2 requests, 1 YouTube poll of 3.
    assert!(
        report.contains("| one round of polls of every account |") && report.contains("| 11 |"),
        "{report}"
    );
}

#[test]
fn the_demo_data_set_is_ready_for_questions_in_the_console() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}/demo.db", dir.path().display());
    let bin = env!("CARGO_BIN_EXE_metricord");
    let seed = std::process::Command::new(bin)
        .args([
            "--database",
            &url,
            "seed-demo",
            "--brands",
            "10",
            "--days",
            "30",
        ])
        .output()
        .expect("metricord runs");
    let said = String::from_utf8_lossy(&seed.stdout);
    assert!(
        said.starts_with("Seeded 10 brands with 22500 values over 30 days."),
        "{said}"
    );
    let mut console = std::process::Command::new(bin)
        .args(["--database", &url, "console"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("metricord starts");
    use std::io::Write;
    console
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"/report brand:\"North Coffee\" period:7d\n/compare metric:engagement-rate landscape:coffee period:7d\n")
        .expect("the console reads");
    let out = console.wait_with_output().expect("the console ends");
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.contains("Report · North Coffee"), "{out}");
    assert!(out.contains("Engagement rate · coffee"), "{out}");
    assert!(out.contains("1. "), "{out}");
}

#[tokio::test]
async fn the_postgresql_benchmarks_run_on_a_database_of_their_own_and_check_their_answers() {
    let Some(db) = crate::support::TestDb::postgres() else {
        return;
    };
    let report = bench(&[
        "--database",
        &db.url(),
        "--brands",
        "10",
        "--days",
        "15",
        "--iterations",
        "3",
    ]);
    for work in [
        "logging command (`/mentions` with a brand, 1 row per transaction)",
        "logging command (`/ctr` with a brand, 2 rows per transaction)",
        "of the direct rate",
        "`/report` of one brand",
        "`/compare` of a 10-brand landscape",
    ] {
        assert!(report.contains(work), "{work} missing from\n{report}");
    }
    assert!(
        report.contains("10 brands in 5 landscapes, 5 platforms, 15 days: 11250 values"),
        "{report}"
    );
    // The bench's own database is gone, and the one it was pointed at holds nothing of it.
    let mut conn = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_database WHERE datname LIKE 'metricord_bench_%'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(left, 0, "the bench drops its database");
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, 0, "nothing written where the bench was pointed");
    conn.close().await.unwrap();
}
