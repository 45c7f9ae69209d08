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
                 /ctr clicks:100000000000000 impressions:10 brand:Acme\n\
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
        "`clicks` must be a whole number from 0 to 99,999,999,999,999.",
        "`impressions` is required: a whole number from 0 to 99,999,999,999,999.",
        "`date` must be a date written YYYY-MM-DD.",
        "`platform` must be one of instagram, facebook, x, tiktok, linkedin, youtube, threads, bluesky, mastodon, other.",
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
    let pipe = db.dir.path().join("fifo");
    fifo(&pipe);
    let (out, _, code) = db.console(
        &[],
        &format!(
            "/import file:/dev/zero\n/import file:{}\n/mentions mentions:3 brand:Acme date:2026-11-02\n",
            pipe.display()
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

#[test]
fn the_operator_import_refuses_a_device_or_a_fifo_with_exit_code_2() {
    let db = TestDb::new();
    let pipe = db.dir.path().join("fifo");
    fifo(&pipe);
    for path in ["/dev/zero", "/dev/urandom", &pipe.display().to_string()] {
        let (code, stderr) = metricord(&["--database", &db.url(), "import", path]);
        assert_eq!(code, Some(2), "{path}");
        assert!(
            stderr.contains(&format!("(cannot read {path}: it is not a regular file)")),
            "{path}: {stderr}"
        );
    }
}

/// Runs the binary with `args`: its exit code and standard error.
fn metricord(args: &[&str]) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_metricord"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("metricord runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A FIFO at `path`, which nobody writes to.
fn fifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
}

#[test]
fn a_settings_file_that_is_a_device_a_fifo_or_huge_is_refused_without_reading_it() {
    let db = TestDb::new();
    let pipe = db.dir.path().join("fifo.toml");
    fifo(&pipe);
    for path in ["/dev/zero", &pipe.display().to_string()] {
        let (code, stderr) = metricord(&["--config", path, "commands"]);
        assert_eq!(code, Some(2), "{path}");
        assert!(
            stderr.contains(&format!("cannot read {path}: it is not a regular file")),
            "{stderr}"
        );
    }
    let huge = db.dir.path().join("huge.toml");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(1 << 40))
        .expect("a sparse file");
    let (code, stderr) = metricord(&["--config", &huge.display().to_string(), "commands"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("it is larger than 1 MB"), "{stderr}");
}

#[test]
fn a_benchmarks_file_that_is_a_device_is_refused_at_start() {
    let db = TestDb::new();
    let config = db.dir.path().join("metricord.toml");
    std::fs::write(&config, "benchmarks = \"/dev/zero\"\n").expect("the config is written");
    let config = config.display().to_string();
    let (code, stderr) = metricord(&["--config", &config, "--database", &db.url(), "console"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("cannot read /dev/zero: it is not a regular file"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_line_too_long_or_not_utf8_is_refused_and_the_console_goes_on() {
    let db = TestDb::new();
    let mut input = b"/mentions mentions:1 brand:Acme date:2026-11-01\n".to_vec();
    // Ten megabytes without a line break, then an invalid byte in a line of its own.
    input.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    input.extend(b"\n/mentions mentions:2 brand:Acme date:2026-11-02 \xff\n");
    input.extend(b"/mentions mentions:3 brand:Acme date:2026-11-03\r\n");
    let (out, _, code) = db.console_bytes(&[], &input);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("That line is longer than 64 KiB and was not run"),
        "{out}"
    );
    assert!(
        out.contains("That line is not UTF-8 text and was not run."),
        "{out}"
    );
    assert!(out.len() < 10_000, "the long line was echoed");
    let days: Vec<String> = db.stored(0).await.into_iter().map(|s| s.0).collect();
    assert_eq!(days, ["2026-11-01", "2026-11-03"]);
}

#[tokio::test]
async fn exit_and_quit_end_the_console() {
    for word in ["exit", "quit", "/exit", "  QUIT  "] {
        let db = TestDb::new();
        let (out, _, code) = db.console(
            &[],
            &format!(
                "/mentions mentions:1 brand:Acme date:2026-11-01\n{word}\n/mentions mentions:2 brand:Acme date:2026-11-02\n"
            ),
        );
        assert_eq!(code, 0, "{word}: {out}");
        assert_eq!(db.stored(0).await.len(), 1, "{word}: the line after it ran");
    }
}

#[test]
fn the_console_reads_dev_zero_in_constant_memory() {
    let db = TestDb::new();
    let mut console = std::process::Command::new(env!("CARGO_BIN_EXE_metricord"))
        .args(["--database", &db.url(), "console"])
        .env("RUST_LOG", "off")
        .stdin(std::fs::File::open("/dev/zero").expect("/dev/zero opens"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("metricord starts");
    let mut stdout = std::io::BufReader::new(console.stdout.take().expect("stdout"));
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).expect("the console answers");
    // The answer is out; the console is now reading and dropping zeros. Until it has read a
    // thousand times the line limit, it holds no more than a line.
    let pid = console.id();
    let proc_field = |file: &str, field: &str| -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
        let value = text.lines().find_map(|l| l.strip_prefix(field))?;
        value.trim().trim_end_matches(" kB").parse().ok()
    };
    let mut largest = 0;
    while let Some(read) = proc_field("io", "rchar:") {
        largest = largest.max(proc_field("status", "VmRSS:").unwrap_or(0));
        if read > 64 * 1024 * 1024 || console.try_wait().expect("try_wait").is_some() {
            break;
        }
        std::thread::yield_now();
    }
    let still_running = console.try_wait().expect("try_wait").is_none();
    let _ = console.kill();
    let _ = console.wait();
    assert!(
        first.starts_with("That line is longer than 64 KiB"),
        "{first}"
    );
    assert!(still_running, "the console ended on an endless line");
    assert!(largest < 200 * 1024, "the console holds {largest} kB");
}

#[tokio::test]
async fn a_file_that_cannot_be_saved_fails_that_command_only() {
    let db = TestDb::new();
    // A file where the attachments folder should be.
    let blocked = db.dir.path().join("not-a-folder");
    std::fs::write(&blocked, "in the way").expect("the file is written");
    let (out, _, code) = db.console(
        &["--files", &blocked.display().to_string()],
        "/mentions mentions:1 brand:Acme date:2026-11-01\n/export\n/mentions mentions:2 brand:Acme date:2026-11-02\n",
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("The reply's file was not saved: cannot write"),
        "{out}"
    );
    assert_eq!(db.stored(0).await.len(), 2, "the line after it ran: {out}");
}

/// `metricord export` on this database with `args`: exit code and standard error.
fn export(db: &TestDb, args: &[&str]) -> (Option<i32>, String) {
    let url = db.url();
    metricord(&[&["--database", &url, "export"], args].concat())
}

#[test]
fn export_never_writes_through_a_link_and_replaces_a_file_only_with_force() {
    let db = TestDb::new();
    db.console(&[], "/mentions mentions:1 brand:Acme date:2026-11-01\n");
    let target = db.dir.path().join("elsewhere.csv");
    let out = db.dir.path().join("out.csv");
    let out_text = out.display().to_string();
    std::os::unix::fs::symlink(&target, &out).expect("a dangling link");

    let (code, stderr) = export(&db, &["--output", &out_text]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("out.csv already exists; give --force to replace it"),
        "{stderr}"
    );
    assert!(!target.exists(), "written through the link");

    let (code, stderr) = export(&db, &["--output", &out_text, "--force"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!target.exists(), "--force followed the link");
    let written = std::fs::symlink_metadata(&out).expect("the export");
    assert!(written.file_type().is_file(), "the link was not replaced");
    let exported = std::fs::read_to_string(&out).expect("the export reads");
    assert!(exported.contains("Acme"), "{exported}");

    std::fs::write(&out, "keep me").expect("a file in the way");
    let (code, _) = export(&db, &["--output", &out_text]);
    assert_eq!(code, Some(2));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
}

#[tokio::test]
async fn names_must_show_something_hold_no_controls_or_overrides_and_look_alike_means_same() {
    let db = TestDb::new();
    let csv = db.dir.path().join("names.csv");
    std::fs::write(
        &csv,
        "date,brand,platform,metric,value\n2026-11-01,\"Acme\nInc\",x,mentions,1\n",
    )
    .expect("the file is written");
    let refused = [
        "/mentions mentions:1 brand:\"Acme\0\" date:2026-11-01".to_string(),
        "/mentions mentions:1 brand:\"\u{200b}\u{200d}\" date:2026-11-01".to_string(),
        "/brand add name:\"\u{202e}emcA\"".to_string(),
        "/brand add name:Acme landscape:\"\u{2066}coffee\u{2069}\"".to_string(),
        format!("/import file:{}", csv.display()),
    ];
    let (out, _, _) = db.console(&[], &(refused.join("\n") + "\n"));
    assert!(out.contains("`brand` must be a name of 1 to 100 characters with something visible in it: it holds a control character or a line break."), "{out}");
    assert!(out.contains("`brand` must be a name of 1 to 100 characters with something visible in it: it has nothing visible in it."), "{out}");
    assert!(out.contains("`name` must be a name of 1 to 100 characters with something visible in it: it holds a character that turns the direction of the text around it."), "{out}");
    assert!(out.contains("`landscape` must be a name"), "{out}");
    assert!(
        out.contains("line 2: brand name: it holds a control character or a line break"),
        "{out}"
    );
    assert!(db.stored(0).await.is_empty());

    // "Café" typed with a combining accent and with a precomposed é is one brand, stored in NFC.
    let (out, _, _) = db.console(
        &[],
        "/mentions mentions:1 brand:\"Cafe\u{301} Co\" date:2026-11-01\n\
         /mentions mentions:2 brand:\"CAF\u{c9} CO\" date:2026-11-02\n\
         /brand rename name:\"café co\" to:\"\u{200b}\"\n",
    );
    assert!(out.contains("`to` must be a name"), "{out}");
    let stored = db.stored(0).await;
    assert_eq!(stored.len(), 2, "{out}");
    assert!(stored.iter().all(|s| s.1 == "Caf\u{e9} Co"), "{stored:?}");
}

#[test]
fn help_for_one_command_shows_only_that_command_and_its_options() {
    let db = TestDb::new();
    let (out, _, _) = db.console(&[], "/help command:ctr\n/help command:nosuch\n");
    assert!(
        out.contains("/ctr clicks impressions [brand] [platform] [date]"),
        "{out}"
    );
    assert!(out.contains("clicks (required):"), "{out}");
    assert!(!out.contains("/report"), "{out}");
    assert!(out.contains("Unknown command `/nosuch`"), "{out}");
    assert_eq!(
        out.matches("Click-through rate: clicks").count(),
        1,
        "{out}"
    );
}

/// The README's "What it looks like" transcripts: each block's first line is a command, the
/// rest what the console printed for it (only its start when the block ends in "…").
fn readme_transcripts() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("the README");
    let start = readme
        .find("<!-- The transcripts below")
        .expect("the transcripts' start");
    let end = readme
        .find("<!-- End of the transcripts. -->")
        .expect("the transcripts' end");
    readme[start..end]
        .split("```text\n")
        .skip(1)
        .map(|block| {
            let block = block.split("```").next().unwrap_or_default();
            let mut lines = block.lines().map(str::to_string);
            let command = lines.next().unwrap_or_default();
            let command = command
                .strip_prefix("metricord> ")
                .expect("a block starts with a command")
                .to_string();
            (command, lines.collect())
        })
        .collect()
}

#[tokio::test]
async fn the_readme_transcripts_are_what_the_console_prints_on_the_demo_data() {
    use chrono::TimeZone;
    use metricord::clock::Clock;
    use metricord::dispatcher::Dispatcher;
    use metricord::settings::Settings;
    use std::sync::Arc;

    let db = TestDb::new();
    let settings = Settings {
        database: db.settings(),
        ..Settings::default()
    };
    // The demo data seeded as `seed-demo` does, on the day the README's transcripts were made.
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 12, 1, 10, 0, 0)
        .single()
        .expect("a time");
    let dispatcher = Dispatcher::new(Arc::new(settings), db.store().await, Clock::manual(now))
        .expect("a dispatcher");
    let services = dispatcher.services();
    let guild = metricord::console::LOCAL_GUILD;
    metricord::demo::seed(
        &services.store,
        &services.registry,
        guild,
        10,
        90,
        1,
        now.date_naive(),
    )
    .await
    .expect("the demo data");
    let files = db.dir.path().join("attachments");
    let transcripts = readme_transcripts();
    assert_eq!(transcripts.len(), 3);
    let mut stale = Vec::new();
    for (command, shown) in transcripts {
        let mut out: Vec<u8> = Vec::new();
        let input = format!("{command}\n");
        metricord::console::run(&dispatcher, guild, &files, input.as_bytes(), &mut out)
            .await
            .expect("the console runs");
        let printed = String::from_utf8(out)
            .expect("text")
            .replace("metricord> ", "")
            .replace(&files.display().to_string(), "attachments");
        let printed: Vec<&str> = printed.trim_end().lines().collect();
        let compared = match shown.last().map(String::as_str) {
            Some("…") => &shown[..shown.len() - 1],
            _ => &shown[..],
        };
        let matches = if compared.len() < shown.len() {
            printed.len() >= compared.len() && printed[..compared.len()] == *compared
        } else {
            printed == *compared
        };
        if !matches {
            stale.push(format!("metricord> {command}\n{}", printed.join("\n")));
        }
    }
    assert!(
        stale.is_empty(),
        "README.md's transcripts are out of date; the console prints:\n\n{}",
        stale.join("\n\n")
    );
}
