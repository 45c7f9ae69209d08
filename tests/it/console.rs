//! The console binary, driven the way an operator or a new user drives it: commands piped in,
//! replies read back, and the database checked afterwards.

use crate::support::{TestDb, on_both_backends};

fn snapshot(
    day: &str,
    brand: &str,
    platform: &str,
    series: &str,
    value: i64,
) -> (String, String, String, String, i64) {
    (
        day.into(),
        brand.into(),
        platform.into(),
        series.into(),
        value,
    )
}

on_both_backends!(#[tokio::test] async fn a_calculator_command_answers_with_the_rate_its_formula_and_interval_and_stores_nothing);
async fn a_calculator_command_answers_with_the_rate_its_formula_and_interval_and_stores_nothing(
    db: TestDb,
) {
    let (out, _, status) = db.console(&[], "/ctr clicks:20 impressions:100\n");
    assert_eq!(status, 0);
    assert!(
        out.contains("CTR 20.0% (95% CI 13.3-28.9%, n=100)"),
        "{out}"
    );
    assert!(
        out.contains("clicks / impressions × 100 = 20 / 100 × 100"),
        "{out}"
    );
    assert!(db.stored(0).await.is_empty());
}

on_both_backends!(#[tokio::test] async fn naming_a_brand_stores_a_snapshot_and_logging_it_again_replaces_it);
async fn naming_a_brand_stores_a_snapshot_and_logging_it_again_replaces_it(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/ctr clicks:20 impressions:100 brand:\"Ballet West\" platform:instagram date:2026-11-02\n\
         /ctr clicks:30 impressions:120 brand:\"  ballet WEST\" platform:instagram date:2026-11-02\n",
    );
    assert!(
        out.contains("Stored: Ballet West · instagram · 2026-11-02 (new brand)"),
        "{out}"
    );
    assert!(
        out.contains("replaced the earlier clicks 20, impressions 100"),
        "{out}"
    );
    assert_eq!(
        db.stored(0).await,
        vec![
            snapshot("2026-11-02", "Ballet West", "instagram", "clicks", 30),
            snapshot("2026-11-02", "Ballet West", "instagram", "impressions", 120),
        ]
    );
}

on_both_backends!(#[tokio::test] async fn audience_growth_is_measured_against_the_last_stored_value);
async fn audience_growth_is_measured_against_the_last_stored_value(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/audience followers:100000 brand:Acme platform:x date:2026-10-01\n\
         /audience followers:105000 brand:Acme platform:x date:2026-11-01\n",
    );
    assert!(
        out.contains("Growth since 2026-10-01: +5,000 (+5.00%)"),
        "{out}"
    );
}

on_both_backends!(#[tokio::test] async fn share_of_voice_appears_once_a_competitor_has_mentions_for_the_day);
async fn share_of_voice_appears_once_a_competitor_has_mentions_for_the_day(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/mentions mentions:60 brand:Rival date:2026-11-02\n\
         /mentions mentions:40 brand:Acme date:2026-11-02\n",
    );
    assert!(
        out.contains("Share of voice: 40.0% (against 1 other brand)"),
        "{out}"
    );
}

on_both_backends!(#[tokio::test] async fn a_new_brand_that_looks_like_a_typo_of_an_existing_one_is_pointed_out);
async fn a_new_brand_that_looks_like_a_typo_of_an_existing_one_is_pointed_out(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/mentions mentions:3 brand:\"Café ☕ Co\" date:2026-11-02\n\
         /mentions mentions:4 brand:\"Cafe Co\" date:2026-11-02\n",
    );
    assert!(
        out.contains("Cafe Co · other · 2026-11-02 (new brand: did you mean Café ☕ Co?"),
        "{out}"
    );
}

on_both_backends!(#[tokio::test] async fn share_of_voice_counts_only_the_brands_competitive_landscape);
async fn share_of_voice_counts_only_the_brands_competitive_landscape(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/brand add name:Acme landscape:coffee\n\
         /brand add name:Rival landscape:coffee\n\
         /mentions mentions:60 brand:Rival date:2026-11-02\n\
         /mentions mentions:900 brand:\"Other Industry\" date:2026-11-02\n\
         /mentions mentions:40 brand:Acme date:2026-11-02\n",
    );
    assert!(
        out.contains("Share of voice: 40.0% (against 1 other brand)"),
        "{out}"
    );
}

on_both_backends!(#[tokio::test] async fn bad_input_gets_a_one_line_error_stores_nothing_and_the_console_keeps_reading);
async fn bad_input_gets_a_one_line_error_stores_nothing_and_the_console_keeps_reading(db: TestDb) {
    let input = "/ctr clicks:1 impressions:0 brand:Acme\n\
                 /ctr clicks:-1 impressions:10 brand:Acme\n\
                 /ctr clicks:9007199254740992 impressions:10 brand:Acme\n\
                 /ctr clicks:3 brand:Acme\n\
                 /ctr clicks:3 impressions:9 date:2026-13-01 brand:Acme\n\
                 /ctr clicks:3 impressions:9 platform:myspace brand:Acme\n\
                 /ctr clicks:3 impressions:9 colour:red\n\
                 /frobnicate\n\
                 /ctr clicks:\"3\n\
                 /conversion-rate conversions:200 visitors:1000\n";
    let (out, _, status) = db.console(&[], input);
    assert_eq!(status, 0);
    let expected = [
        "`impressions` must be above 0: a click-through rate needs at least one impression.",
        "`clicks` must be a whole number from 0 to 9007199254740991.",
        "`clicks` must be a whole number from 0 to 9007199254740991.",
        "`impressions` is required: a whole number from 0 to 9007199254740991.",
        "`date` must be a date written YYYY-MM-DD.",
        "`platform` must be one of instagram, facebook, x, tiktok, linkedin, youtube, threads, other.",
        "`/ctr` has no option `colour`; it takes `clicks`, `impressions`, `brand`, `platform`, `date`.",
        "Unknown command `/frobnicate`. Type `/help` to see the commands.",
        "Could not read that line: a quote is not closed.",
    ];
    for line in expected {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert!(
        out.contains("Conversion rate 20.0%"),
        "the console stopped early:\n{out}"
    );
    assert!(db.stored(0).await.is_empty());
}

on_both_backends!(#[tokio::test] async fn dates_in_the_future_are_refused);
async fn dates_in_the_future_are_refused(db: TestDb) {
    let (out, _, _) = db.console(&[], "/mentions mentions:3 brand:Acme date:2999-01-01\n");
    assert!(
        out.contains("`date` must be a date written YYYY-MM-DD, today ("),
        "{out}"
    );
    assert!(db.stored(0).await.is_empty());
}

on_both_backends!(#[tokio::test] async fn the_guild_option_acts_on_that_servers_data_only);
async fn the_guild_option_acts_on_that_servers_data_only(db: TestDb) {
    db.console(
        &["--guild", "42"],
        "/mentions mentions:7 brand:Acme date:2026-11-02\n",
    );
    assert_eq!(db.stored(42).await.len(), 1);
    assert!(db.stored(0).await.is_empty());
}

#[tokio::test]
async fn help_lists_every_command_from_the_registry() {
    let db = TestDb::new();
    let (out, _, _) = db.console(&[], "/help\n");
    for command in [
        "/audience",
        "/impressions",
        "/reach",
        "/mentions",
        "/potential-reach",
        "/engagement ",
        "/engagement-rate",
        "/sentiment",
        "/ctr",
        "/conversion-rate",
    ] {
        assert!(out.contains(command), "{command} missing from\n{out}");
    }
}

#[test]
fn the_readme_command_reference_matches_the_registry() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_metricord"))
        .arg("commands")
        .output()
        .expect("metricord runs");
    let reference = String::from_utf8(output.stdout).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&reference),
        "README.md's command reference is out of date; paste the output of `cargo run -- commands`:\n{reference}"
    );
}

#[tokio::test]
async fn a_device_or_a_fifo_named_for_a_file_is_refused_and_the_next_line_runs() {
    let db = TestDb::new();
    let fifo = db.dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let (out, _, code) = db.console(
        &[],
        &format!(
            "/import file:/dev/zero\n/import file:{}\n/mentions mentions:3 brand:Acme date:2026-11-02\n",
            fifo.display()
        ),
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.matches("(cannot read").count(),
        2,
        "both refused: {out}"
    );
    assert!(out.contains("it is not a regular file"), "{out}");
    assert_eq!(db.stored(0).await.len(), 1, "the line after them ran");
}

#[test]
fn a_missing_config_file_is_a_clear_error_with_exit_code_2() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_metricord"))
        .args(["--config", "/nonexistent/metricord.toml", "commands"])
        .output()
        .expect("metricord runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read /nonexistent/metricord.toml"),
        "{stderr}"
    );
}
