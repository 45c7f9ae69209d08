//! Questions over stored data, as a team asks them in the console: comparisons, reports,
//! trends, benchmarks, and CSV import and export.

use std::fmt::Write;

use crate::support::{TestDb, on_both_backends};

/// Writes `text` into the test's folder and returns the path.
fn file(db: &TestDb, name: &str, text: &str) -> String {
    let path = db.dir.path().join(name);
    std::fs::write(&path, text).expect("the test file is written");
    path.display().to_string()
}

on_both_backends!(#[tokio::test] async fn compare_ranks_the_smaller_account_with_the_higher_engagement_rate_first);
async fn compare_ranks_the_smaller_account_with_the_higher_engagement_rate_first(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/brand add name:\"Big Co\" landscape:coffee competitor:true\n\
         /brand add name:\"Small Co\" landscape:coffee\n\
         /engagement-rate engagements:5730 followers:225600 brand:\"Big Co\" platform:instagram date:2026-11-01\n\
         /engagement-rate engagements:1990 followers:57200 brand:\"Small Co\" platform:instagram date:2026-11-01\n\
         /compare metric:engagement-rate landscape:coffee period:2026-10-01..2026-11-01\n",
    );
    let small = out.find("1. Small Co — 3.48%").expect(&out);
    let big = out.find("2. Big Co (competitor) — 2.54%").expect(&out);
    assert!(small < big);
    assert!(
        out.contains(
            "Competitor average: 2.54% over 1 competitor with data (our brands are not in it)"
        ),
        "{out}"
    );
    assert!(!out.contains("within the noise"), "{out}");
}

on_both_backends!(#[tokio::test] async fn compare_says_when_two_rates_are_within_the_noise);
async fn compare_says_when_two_rates_are_within_the_noise(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/ctr clicks:20 impressions:100 brand:A date:2026-11-01\n\
         /ctr clicks:18 impressions:100 brand:B date:2026-11-01\n\
         /compare metric:ctr period:2026-11-01..2026-11-01\n",
    );
    assert!(
        out.contains("1. A — 20.0% (95% CI 13.3-28.9%, n=100) · within the noise of B"),
        "{out}"
    );
    // Neither is a competitor: there is no competitor average to hold them against.
    assert!(
        out.contains("Competitor average: None: no competitor has data here"),
        "{out}"
    );
}

on_both_backends!(#[tokio::test] async fn a_report_over_days_takes_the_ratio_of_sums_not_the_mean_of_daily_rates);
async fn a_report_over_days_takes_the_ratio_of_sums_not_the_mean_of_daily_rates(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/ctr clicks:10 impressions:100 brand:Acme platform:x date:2026-11-01\n\
         /ctr clicks:10 impressions:1000 brand:Acme platform:x date:2026-11-02\n\
         /ctr clicks:5 impressions:100 brand:Acme platform:x date:2026-10-01\n\
         /report brand:acme period:2026-11-01..2026-11-02\n",
    );
    // 20 / 1,100 = 1.82%; the mean of 10% and 1% would be 5.5%. The previous two days hold
    // nothing, so the change reads "new".
    assert!(
        out.contains("CTR: x: 1.82% (95% CI 1.18-2.79%, n=1,100) · new"),
        "{out}"
    );
    assert!(out.contains("Report · Acme"), "{out}");
}

on_both_backends!(#[tokio::test] async fn a_report_sums_audiences_across_platforms_and_compares_with_the_previous_period);
async fn a_report_sums_audiences_across_platforms_and_compares_with_the_previous_period(
    db: TestDb,
) {
    let (out, _, _) = db.console(
        &[],
        "/audience followers:1000 brand:Acme platform:x date:2026-10-10\n\
         /audience followers:3000 brand:Acme platform:instagram date:2026-10-10\n\
         /audience followers:1100 brand:Acme platform:x date:2026-11-05\n\
         /audience followers:1200 brand:Acme platform:x date:2026-11-09\n\
         /audience followers:3300 brand:Acme platform:instagram date:2026-11-08\n\
         /report brand:Acme period:2026-11-01..2026-11-10\n",
    );
    // The period before is 2026-10-22..31, which holds nothing; the last value of the period
    // counts, not the sum of the days.
    assert!(out.contains("All platforms: 4,500 · new"), "{out}");
    assert!(out.contains("x: 1,200 · new"), "{out}");
    // 2026-10-20..11-10 against 2026-09-28..10-19, which holds the October counts.
    let (out, _, _) = db.console(&[], "/report brand:Acme period:2026-10-20..2026-11-10\n");
    assert!(
        out.contains("All platforms: 4,500 · +500 (+12.5%)"),
        "{out}"
    );
}

on_both_backends!(#[tokio::test] async fn a_trend_is_a_png_chart_written_next_to_the_console);
async fn a_trend_is_a_png_chart_written_next_to_the_console(db: TestDb) {
    let mut input = String::new();
    for day in 1..=20 {
        writeln!(
            input,
            "/impressions impressions:{} brand:Acme platform:x date:2026-11-{day:02}",
            1000 + day * 37
        )
        .unwrap();
        writeln!(
            input,
            "/impressions impressions:{} brand:Acme platform:instagram date:2026-11-{day:02}",
            3000 - day * 55
        )
        .unwrap();
    }
    input.push_str("/trend metric:impressions brand:Acme period:2026-11-01..2026-11-20\n");
    let folder = db.dir.path().join("files");
    let (out, _, _) = db.console(&["--files", &folder.display().to_string()], &input);
    assert!(out.contains("one point per day"), "{out}");
    let png = std::fs::read(folder.join("trend.png")).expect("the chart is written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 10_000,
        "the chart looks empty: {} bytes",
        png.len()
    );
}

/// How many pixels of `rgb` a column of the PNG holds, in the middle of the columns that hold
/// any: a flat line's thickness, whatever its markers and legend sample add.
fn thickness(png: &[u8], rgb: [u8; 3]) -> usize {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut bytes = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut bytes).unwrap();
    let (width, height) = (info.width as usize, info.height as usize);
    let near = |at: usize| (0..3).all(|c| bytes[at * 3 + c].abs_diff(rgb[c]) <= 12);
    let mut columns: Vec<usize> = (0..width)
        .map(|x| (0..height).filter(|y| near(y * width + x)).count())
        .filter(|n| *n > 0)
        .collect();
    columns.sort_unstable();
    columns.get(columns.len() / 2).copied().unwrap_or(0)
}

#[tokio::test]
async fn a_landscape_trend_draws_our_brand_in_the_first_colour_thicker_than_a_competitor() {
    let db = TestDb::new();
    let mut input = String::from(
        "/brand add name:Rival landscape:coffee competitor:true\n/brand add name:Acme landscape:coffee\n",
    );
    for day in 1..=20 {
        for (brand, impressions) in [("Acme", 1_000), ("Rival", 3_000)] {
            writeln!(
                input,
                "/impressions impressions:{impressions} brand:{brand} platform:x date:2026-11-{day:02}"
            )
            .unwrap();
        }
    }
    input.push_str("/trend metric:impressions landscape:coffee period:2026-11-01..2026-11-20\n");
    let folder = db.dir.path().join("files");
    let (out, _, _) = db.console(&["--files", &folder.display().to_string()], &input);
    let png = std::fs::read(folder.join("trend.png")).expect(&out);
    // The light theme's Okabe-Ito blue goes to our brand, listed first; vermillion to the next.
    let (ours, theirs) = (
        thickness(&png, [0x00, 0x72, 0xB2]),
        thickness(&png, [0xD5, 0x5E, 0x00]),
    );
    assert!(theirs >= 1, "the competitor's line is not drawn");
    assert!(
        ours > theirs,
        "ours is {ours} pixels thick, the competitor's {theirs}"
    );
}

on_both_backends!(#[tokio::test] async fn benchmarks_name_their_source_and_hold_a_brand_against_them);
async fn benchmarks_name_their_source_and_hold_a_brand_against_them(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/benchmark metric:engagement-rate platform:instagram\n\
         /engagement-rate engagements:1990 followers:57200 brand:Acme platform:instagram date:2026-11-01\n\
         /benchmark metric:engagement-rate brand:Acme period:2026-11-01..2026-11-01\n",
    );
    assert!(
        out.contains("instagram: 0.47% per post — median engagement rate per post by follower"),
        "{out}"
    );
    assert!(
        out.contains("Rival IQ, 2023 Social Media Industry Benchmark Report, 2023"),
        "{out}"
    );
    // The shipped figure is a median per post and Acme's a day's engagements over followers:
    // the old reply called Acme "3.01 pts above" a bar of another kind.
    assert!(
        out.contains("Industry: 0.47% — median engagement rate per post"),
        "{out}"
    );
    assert!(
        out.contains(
            "The industry engagement-rate benchmark is per post; metricord's figure is per day, \
             so they are not compared."
        ),
        "{out}"
    );
    assert!(!out.contains("above the benchmark"), "{out}");
}

on_both_backends!(#[tokio::test] async fn ad_benchmarks_are_not_held_against_everything_logged_but_like_ones_are);
async fn ad_benchmarks_are_not_held_against_everything_logged_but_like_ones_are(db: TestDb) {
    let input = "/ctr clicks:20 impressions:1000 brand:Acme platform:facebook date:2026-11-01\n\
                 /ctr clicks:20 impressions:1000 brand:Acme platform:x date:2026-11-01\n\
                 /benchmark metric:ctr brand:Acme period:2026-11-01..2026-11-01\n\
                 /benchmark metric:ctr\n";
    let (out, _, _) = db.console(&[], input);
    assert!(
        out.contains("facebook: 0.9% of paid ads only — average click-through rate"),
        "{out}"
    );
    assert!(
        out.contains(
            "The industry ctr benchmark is of paid ads only; metricord's figure is of everything \
             logged, organic and paid together, so they are not compared."
        ),
        "{out}"
    );
    assert!(!out.contains("the benchmark)"), "{out}");
    // A team's own figure of the same kind is held against the brand.
    let benchmarks = file(
        &db,
        "benchmarks.toml",
        "[[benchmark]]\nmetric = \"ctr\"\nplatform = \"x\"\nvalue = 1.5\nmeasures = \"all-logged\"\n\
         basis = \"organic and paid CTR of our agency's clients\"\nsource = \"Our agency\"\nyear = 2026\n",
    );
    let config = file(
        &db,
        "metricord.toml",
        &format!("benchmarks = \"{benchmarks}\"\n"),
    );
    let (out, _, _) = db.console(
        &["--config", &config],
        "/benchmark metric:ctr brand:Acme period:2026-11-01..2026-11-01\n",
    );
    assert!(
        out.contains("Industry: 1.5% (0.50 pts above the benchmark) — organic and paid CTR"),
        "{out}"
    );
    assert!(!out.contains("not compared"), "{out}");
}

on_both_backends!(#[tokio::test] async fn a_file_with_bad_rows_stores_nothing_and_names_each_line);
async fn a_file_with_bad_rows_stores_nothing_and_names_each_line(db: TestDb) {
    let path = file(
        &db,
        "bad.csv",
        "date,brand,platform,metric,value\n\
         2026-11-01,Acme,x,clicks,5\n\
         2026-11-31,Acme,x,clicks,5\n\
         2026-11-01,Acme,x,likes,5\n\
         2026-11-02,Acme,x,clicks,five\n",
    );
    let (out, _, _) = db.console(&[], &format!("/import file:{path}\n"));
    assert!(
        out.contains("Nothing was imported: bad.csv has 3 problems."),
        "{out}"
    );
    assert!(out.contains("line 3: date \"2026-11-31\""), "{out}");
    assert!(out.contains("line 4: metric \"likes\""), "{out}");
    assert!(out.contains("line 5: value \"five\""), "{out}");
    assert!(db.stored(0).await.is_empty());
}

on_both_backends!(#[tokio::test] async fn a_file_with_thousands_of_bad_rows_lists_ten_and_counts_the_rest);
async fn a_file_with_thousands_of_bad_rows_lists_ten_and_counts_the_rest(db: TestDb) {
    let mut csv = String::from("date,brand,platform,metric,value\n");
    for i in 0..5_000 {
        writeln!(csv, "2026-11-01,Acme,x,clicks,bad{i}").unwrap();
    }
    let path = file(&db, "many.csv", &csv);
    let (out, _, _) = db.console(&[], &format!("/import file:{path}\n"));
    assert!(
        out.contains("Nothing was imported: many.csv has 5,000 problems."),
        "{out}"
    );
    assert_eq!(out.matches("\nline ").count(), 10, "{out}");
    assert!(out.contains("line 11: value \"bad9\""), "{out}");
    assert!(out.contains("… and 4,990 more."), "{out}");
    assert!(db.stored(0).await.is_empty());
}

on_both_backends!(#[tokio::test] async fn an_export_larger_than_the_upload_limit_is_refused_with_its_size);
async fn an_export_larger_than_the_upload_limit_is_refused_with_its_size(db: TestDb) {
    use metricord::clock::Clock;
    use metricord::command::Invocation;
    use metricord::dispatcher::Dispatcher;
    use metricord::settings::{DatabaseSettings, Settings};

    let mut csv = String::from("date,brand,platform,metric,value\n");
    for day in 1..=28 {
        for brand in 0..100 {
            writeln!(csv, "2026-02-{day:02},Brand {brand},x,clicks,{day}").unwrap();
        }
    }
    let path = file(&db, "big.csv", &csv);
    db.console(&[], &format!("/import file:{path}\n"));
    let settings = Settings {
        database: DatabaseSettings {
            url: db.url(),
            ..DatabaseSettings::default()
        },
        ..Settings::default()
    };
    let dispatcher = Dispatcher::new(
        std::sync::Arc::new(settings),
        db.store().await,
        Clock::System,
    )
    .unwrap();
    let export = |upload_limit| Invocation {
        guild_id: Some(0),
        channel_id: 1,
        user_id: 1,
        can_manage_guild: true,
        command: "export".into(),
        options: Vec::new(),
        upload_limit,
    };
    // 2,800 rows of about 32 bytes: about 0.09 MB, over a limit of 64 KB.
    let reply = dispatcher.dispatch(export(Some(64 * 1024))).await;
    assert!(reply.ephemeral && reply.attachments.is_empty(), "{reply:?}");
    assert!(
        reply
            .content
            .starts_with("That file would be about 1 MB, over this server's 0 MB upload limit"),
        "{reply:?}"
    );
    let reply = dispatcher.dispatch(export(Some(1024 * 1024))).await;
    assert_eq!(
        reply.content,
        "Exported 2,800 values of every brand, every date and the setup of 100 brands."
    );
    assert!(reply.attachments[0].bytes.len() > 64 * 1024);
}

/// A full export: every brand's setup (competitor flag, landscapes), brands without data among
/// them, then the values; names a spreadsheet would run as formulas carry a leading `'`.
const FULL_EXPORT: &str = r#"date,brand,platform,metric,value,source
,''=already quoted,,competitor,no,
,'plain quote,,competitor,no,
,'+cmd|' /C calc'!A0,,competitor,no,
,'-2+3,,competitor,no,
,"'=HYPERLINK(""http://x"",""y"")",,competitor,no,
,'@SUM(A1),,competitor,yes,
,'@SUM(A1),,landscape,tea,
,"Comma, Inc",,competitor,no,
,"Comma, Inc",,landscape,tea,
,"Quote ""Q"" Co",,competitor,yes,
,"Quote ""Q"" Co",,landscape,'@coffee,
,"Quote ""Q"" Co",,landscape,tea,
,Ümlaut ☕,,competitor,no,
2026-10-01,"Comma, Inc",x,clicks,20,imported
2026-10-01,"Comma, Inc",x,impressions,100,imported
2026-10-02,"Quote ""Q"" Co",instagram,followers,99999999999999,imported
2026-10-02,Ümlaut ☕,tiktok,mentions,0,imported
2026-10-03,''=already quoted,x,mentions,1,imported
2026-10-03,'-2+3,x,mentions,2,imported
2026-10-03,"'=HYPERLINK(""http://x"",""y"")",x,mentions,3,imported
"#;

on_both_backends!(#[tokio::test] async fn export_then_import_reproduces_the_data_and_the_setup_exactly);
async fn export_then_import_reproduces_the_data_and_the_setup_exactly(db: TestDb) {
    let path = file(&db, "original.csv", FULL_EXPORT);
    let folder = db.dir.path().join("files");
    let files = folder.display().to_string();
    let (out, _, _) = db.console(
        &["--files", &files],
        &format!("/import file:{path}\n/export\n/brand list\n"),
    );
    assert!(
        out.contains("Imported 7 values and the setup of 9 brands from original.csv: 7 new."),
        "{out}"
    );
    assert!(
        out.contains("Exported 7 values of every brand, every date and the setup of 9 brands."),
        "{out}"
    );
    // The names as they were meant, without the escaping.
    for name in [
        "  =HYPERLINK(\"http://x\",\"y\"): no landscape · 1 value\n",
        "  '=already quoted: no landscape · 1 value\n",
        "  'plain quote: no landscape · 0 values\n",
        "  -2+3: no landscape · 1 value\n",
        "  @SUM(A1) (competitor): tea · 0 values\n",
        "  Quote \"Q\" Co (competitor): @coffee, tea · 1 value\n",
    ] {
        assert!(out.contains(name), "{name} missing from {out}");
    }
    let exported = std::fs::read_to_string(folder.join("metricord-export.csv")).unwrap();
    assert_eq!(exported, FULL_EXPORT);

    // Into a fresh server: the same data, the same landscapes and competitors, the same export.
    let again = file(&db, "again.csv", &exported);
    let (out, _, _) = db.console(
        &["--guild", "77", "--files", &files],
        &format!(
            "/import file:{again}\n/import file:{again}\n/export\n\
             /compare metric:ctr landscape:tea period:2026-10-01..2026-10-03\n"
        ),
    );
    assert!(out.contains("from again.csv: 7 new."), "{out}");
    assert!(out.contains("from again.csv: 7 unchanged."), "{out}");
    assert!(!out.contains("No landscape named"), "{out}");
    assert!(out.contains("CTR · tea\n1. Comma, Inc — 20.0%"), "{out}");
    assert_eq!(
        // A second export never overwrites the first.
        std::fs::read_to_string(folder.join("metricord-export-2.csv")).unwrap(),
        FULL_EXPORT
    );
}

#[tokio::test]
async fn a_reimport_counts_unchanged_values_apart_from_replaced_ones_and_keeps_who_logged_them() {
    let db = TestDb::new();
    let second = file(
        &db,
        "second.csv",
        "date,brand,platform,metric,value\n2026-10-01,Acme,x,clicks,2\n\
         2026-10-01,Acme,x,impressions,10\n2026-10-02,Acme,x,clicks,3\n",
    );
    let (out, _, _) = db.console(
        &[],
        &format!(
            "/ctr clicks:1 impressions:10 brand:Acme platform:x date:2026-10-01\n\
             /import file:{second}\n/export brand:Acme period:2026-10-02..2026-10-02\n"
        ),
    );
    assert!(
        out.contains(
            "Imported 3 values from second.csv: 1 new, 1 replaced an earlier value, 1 unchanged."
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "Exported 1 value of Acme, 2026-10-02 to 2026-10-02 (1 day) and the setup of 1 brand."
        ),
        "{out}"
    );
    // The unchanged value is still the one the command logged.
    let pool = sqlx::SqlitePool::connect(&db.url()).await.unwrap();
    let sources: Vec<(String, String)> =
        sqlx::query_as("SELECT series || ' ' || day, source FROM snapshots ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let expected = [
        ("clicks 2026-10-01", "import"),
        ("clicks 2026-10-02", "import"),
        ("impressions 2026-10-01", "command"),
    ];
    assert_eq!(
        sources,
        expected.map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

on_both_backends!(#[tokio::test] async fn a_hundred_thousand_rows_go_in_as_one_import);
async fn a_hundred_thousand_rows_go_in_as_one_import(db: TestDb) {
    let mut csv = String::from("date,brand,platform,metric,value\n");
    let platforms = ["instagram", "facebook", "x", "tiktok", "linkedin"];
    let series = ["clicks", "impressions", "followers", "mentions"];
    let mut rows = 0;
    'fill: for brand in 0..50 {
        for day in 0..100 {
            let date =
                chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(day);
            for platform in platforms {
                for s in series {
                    writeln!(
                        csv,
                        "{date},Brand {brand},{platform},{s},{}",
                        brand * 1000 + day
                    )
                    .unwrap();
                    rows += 1;
                    if rows == 100_000 {
                        break 'fill;
                    }
                }
            }
        }
    }
    let path = file(&db, "big.csv", &csv);
    let (out, _, _) = db.console(&[], &format!("/import file:{path}\n"));
    assert!(
        out.contains("Imported 100,000 values from big.csv: 100,000 new"),
        "{out}"
    );
    assert_eq!(db.stored(0).await.len(), 100_000);
}

on_both_backends!(#[test] fn the_operator_commands_import_and_export_a_servers_data);
fn the_operator_commands_import_and_export_a_servers_data(db: TestDb) {
    let csv = "date,brand,platform,metric,value\n2026-10-01,Acme,x,clicks,20\n";
    let path = file(&db, "ops.csv", csv);
    let bin = env!("CARGO_BIN_EXE_metricord");
    let import = std::process::Command::new(bin)
        .args(["--database", &db.url(), "import", &path, "--guild", "42"])
        .output()
        .expect("metricord runs");
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stdout)
    );
    let export = std::process::Command::new(bin)
        .args(["--database", &db.url(), "export", "--guild", "42"])
        .output()
        .expect("metricord runs");
    assert_eq!(
        String::from_utf8_lossy(&export.stdout),
        "date,brand,platform,metric,value,source\n,Acme,,competitor,no,\n2026-10-01,Acme,x,clicks,20,imported\n"
    );
    let other = std::process::Command::new(bin)
        .args(["--database", &db.url(), "export", "--guild", "43"])
        .output()
        .expect("metricord runs");
    assert_eq!(
        String::from_utf8_lossy(&other.stdout),
        "date,brand,platform,metric,value,source\n"
    );
}

#[tokio::test]
async fn the_largest_counts_over_the_longest_period_on_every_platform_add_up_without_overflow() {
    let db = TestDb::new();
    let max = "99999999999999";
    // Above the bound: refused in an option and in a file, before anything is stored.
    let over = file(
        &db,
        "over.csv",
        "date,brand,platform,metric,value\n2026-01-01,Acme,x,clicks,9007199254740991\n",
    );
    let (out, _, _) = db.console(
        &[],
        &format!("/ctr clicks:9007199254740991 impressions:1 brand:Acme\n/import file:{over}\n"),
    );
    assert!(
        out.contains("`clicks` must be a whole number from 0 to 99,999,999,999,999."),
        "{out}"
    );
    assert!(
        out.contains(
            "line 2: value \"9007199254740991\" is not a whole number from 0 to 99,999,999,999,999"
        ),
        "{out}"
    );
    // 3,660 days (the longest period) at the largest count, on all ten platforms.
    let mut csv = String::from("date,brand,platform,metric,value\n");
    let first = chrono::NaiveDate::from_ymd_opt(2016, 1, 1).unwrap();
    for day in first.iter_days().take(3660) {
        for platform in metricord::command::PLATFORMS {
            for series in ["clicks", "impressions", "engagements", "followers"] {
                writeln!(csv, "{day},Acme,{platform},{series},{max}").unwrap();
            }
        }
    }
    let last = first + chrono::Duration::days(3659);
    let path = file(&db, "max.csv", &csv);
    let period = format!("{first}..{last}");
    let (out, _, _) = db.console(
        &[],
        &format!(
            "/import file:{path}\n/brand add name:Acme landscape:all\n\
             /report brand:Acme period:{period}\n\
             /compare metric:impressions period:{period}\n\
             /benchmark metric:ctr brand:Acme period:{period}\n\
             /compare metric:engagement-rate landscape:all period:{period}\n"
        ),
    );
    assert!(out.contains("Imported 146,400 values"), "{out}");
    assert!(!out.contains("went wrong"), "{out}");
    // 10 × 3,660 × 99,999,999,999,999.
    assert!(
        out.contains("Impressions: All platforms: 3,659,999,999,999,963,400 ·"),
        "{out}"
    );
    assert!(
        out.contains("1. Acme — 3,659,999,999,999,963,400 ·"),
        "{out}"
    );
    assert!(out.contains("CTR: All platforms: 100.0% ·"), "{out}");
    assert!(out.contains("facebook: Acme: 100.0%"), "{out}");
    // Engagement rate: engagements over followers × days, both at the largest counts.
    assert!(
        out.contains("Engagement rate: All platforms: 100.0% ·"),
        "{out}"
    );
    assert!(
        out.contains("Engagement rate · all\n1. Acme — 100.0%"),
        "{out}"
    );
}

#[tokio::test]
async fn every_count_option_every_csv_value_and_every_list_reads_the_same_number_forms() {
    let db = TestDb::new();
    let csv = file(
        &db,
        "forms.csv",
        "date,brand,platform,metric,value\n\
         2026-11-01,Acme,x,followers,\"12,500\"\n\
         2026-11-02,Acme,x,followers,4.2K\n\
         2026-11-03,Acme,x,followers,1.25M\n",
    );
    let (out, _, _) = db.console(
        &[],
        &format!(
            "/audience followers:12,500\n\
             /audience followers:4.2K\n\
             /potential-reach followers:1,300,000, 250,000, 4.2K\n\
             /import file:{csv}\n"
        ),
    );
    assert!(out.contains("Audience 12,500"), "{out}");
    assert!(out.contains("Audience 4,200"), "{out}");
    assert!(out.contains("Potential reach 1,554,200"), "{out}");
    assert!(out.contains("Imported 3 values"), "{out}");
    let values: Vec<i64> = db.stored(0).await.into_iter().map(|s| s.4).collect();
    assert_eq!(values, [12_500, 4_200, 1_250_000]);

    // The same forms are refused everywhere, with the same reason.
    let reason = "\"1,5\" does not have three digits after each comma, as in 12,500 (a decimal comma is not read)";
    let bad = file(
        &db,
        "bad.csv",
        "date,brand,platform,metric,value\n2026-11-04,Acme,x,followers,\"1,5\"\n",
    );
    let (out, _, _) = db.console(
        &[],
        &format!(
            "/audience followers:1,5\n/potential-reach followers:\"1,5K\"\n/import file:{bad}\n"
        ),
    );
    assert!(
        out.contains(&format!(
            "`followers` must be a whole number from 0 to 99,999,999,999,999: {reason}."
        )),
        "{out}"
    );
    assert!(out.contains("\"1,5K\" does not have three digits"), "{out}");
    assert!(out.contains(&format!("line 2: value {reason}")), "{out}");
    assert_eq!(db.stored(0).await.len(), 3, "a refused value was stored");
}

#[tokio::test]
async fn a_rate_is_never_shown_as_zero_when_it_is_not() {
    let db = TestDb::new();
    let (out, _, _) = db.console(&[], "/ctr clicks:7 impressions:99999999999999\n");
    assert!(out.contains("CTR 0.0000000000070%"), "{out}");
}

#[tokio::test]
async fn a_period_the_calendar_cannot_hold_is_refused() {
    let db = TestDb::new();
    let (out, _, _) = db.console(
        &[],
        "/mentions mentions:3 brand:Acme\n/report brand:Acme period:2635249153387078803w\n",
    );
    assert!(
        out.contains("`period` must be a period such as 7d"),
        "{out}"
    );
    assert!(!out.contains("5 days"), "{out}");
}

#[tokio::test]
async fn a_setup_row_that_cannot_be_read_stores_nothing_and_says_why() {
    let db = TestDb::new();
    let bad = file(
        &db,
        "setup.csv",
        "date,brand,platform,metric,value\n\
         ,Acme,x,competitor,yes\n\
         ,Acme,,competitor,maybe\n\
         ,Acme,,landscape,\"\u{202e}aet\"\n\
         2026-10-01,Acme,x,competitor,1\n\
         2026-10-01,Acme,x,clicks,1\n",
    );
    let repeated = file(
        &db,
        "repeated.csv",
        "date,brand,platform,metric,value\n,Acme,,landscape,tea\n,ACME,,landscape,TEA\n",
    );
    let (out, _, _) = db.console(
        &[],
        &format!("/import file:{bad}\n/import file:{repeated}\n/brand list\n"),
    );
    for line in [
        "Nothing was imported: setup.csv has 4 problems.",
        "line 2: a competitor row applies to the brand on every platform: leave platform empty",
        "line 3: a competitor row's value is yes or no",
        "line 4: landscape name: it holds a character that turns the direction of the text around it",
        "line 5: metric \"competitor\" is not one of the stored inputs",
        "Nothing was imported: repeated.csv has 1 problem.\nline 3: repeats the landscape row of line 2",
    ] {
        assert!(out.contains(line), "{line} missing from {out}");
    }
    assert!(out.contains("No brands yet"), "{out}");
}

on_both_backends!(#[tokio::test] async fn reach_across_platforms_is_the_largest_day_of_the_sum_not_each_platforms_best_added);
async fn reach_across_platforms_is_the_largest_day_of_the_sum_not_each_platforms_best_added(
    db: TestDb,
) {
    // x peaks on the 1st (1,000), instagram on the 2nd (3,000): their best days added make
    // 4,000, a day that never happened; the best day of both together is the 2nd, 3,200.
    let (out, _, _) = db.console(
        &[],
        "/brand add name:Acme landscape:coffee\n\
         /brand add name:Bold landscape:coffee competitor:true\n\
         /reach reach:1000 brand:Acme platform:x date:2026-11-01\n\
         /reach reach:500 brand:Acme platform:instagram date:2026-11-01\n\
         /reach reach:200 brand:Acme platform:x date:2026-11-02\n\
         /reach reach:3000 brand:Acme platform:instagram date:2026-11-02\n\
         /reach reach:3100 brand:Bold platform:x date:2026-11-02\n\
         /report brand:Acme period:2026-11-01..2026-11-02\n\
         /compare metric:reach landscape:coffee period:2026-11-01..2026-11-02\n",
    );
    assert!(
        out.contains("All platforms: 3,200 (largest daily figure)"),
        "{out}"
    );
    assert!(!out.contains("4,000"), "{out}");
    let acme = out.find("1. Acme — 3,200").expect(&out);
    let bold = out.find("2. Bold (competitor) — 3,100").expect(&out);
    assert!(acme < bold, "{out}");
}

on_both_backends!(#[tokio::test] async fn numbers_logged_without_a_platform_are_said_to_go_to_other_and_into_the_totals);
async fn numbers_logged_without_a_platform_are_said_to_go_to_other_and_into_the_totals(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/mentions mentions:40 brand:Acme date:2026-11-01\n\
         /mentions mentions:60 brand:Acme platform:x date:2026-11-01\n\
         /report brand:Acme period:2026-11-01..2026-11-02\n",
    );
    assert!(
        out.contains(
            "No platform given: stored as other, which counts in the brand's all-platform totals."
        ),
        "{out}"
    );
    assert_eq!(out.matches("No platform given").count(), 1, "{out}");
    assert!(
        out.contains("All platforms includes other: numbers logged without a platform."),
        "{out}"
    );
}

on_both_backends!(#[tokio::test] async fn a_long_report_says_what_new_means_once_and_counts_days_in_words);
async fn a_long_report_says_what_new_means_once_and_counts_days_in_words(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/mentions mentions:40 brand:Acme platform:x date:2026-11-01\n\
         /mentions mentions:50 brand:Acme platform:instagram date:2026-11-01\n\
         /potential-reach followers:17 brand:Acme platform:x date:2026-11-01\n\
         /report brand:Acme period:2026-11-01..2026-11-01\n",
    );
    assert!(out.contains("Potential reach 17\n"), "{out}");
    assert!(!out.contains("17 (17)"), "{out}");
    assert!(out.contains("each against the 1 day before."), "{out}");
    assert!(out.contains("x: 40 · new"), "{out}");
    assert_eq!(out.matches("no data the period before").count(), 1, "{out}");
}

on_both_backends!(#[tokio::test] async fn filtered_views_name_their_platform_in_the_title);
async fn filtered_views_name_their_platform_in_the_title(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/brand add name:Acme landscape:coffee\n\
         /ctr clicks:10 impressions:100 brand:Acme platform:x date:2026-11-01\n\
         /ctr clicks:10 impressions:100 brand:Acme platform:tiktok date:2026-11-01\n\
         /compare metric:ctr landscape:coffee platform:x period:2026-11-01..2026-11-01\n\
         /report brand:Acme platform:tiktok period:2026-11-01..2026-11-01\n\
         /benchmark metric:ctr brand:Acme platform:x period:2026-11-01..2026-11-01\n\
         /trend metric:ctr landscape:coffee platform:tiktok period:2026-11-01..2026-11-01\n",
    );
    for title in [
        "CTR · coffee · x\n",
        "Report · Acme · tiktok\n",
        "CTR against benchmarks · Acme · x\n",
        "CTR · coffee · tiktok\n",
    ] {
        assert!(out.contains(title), "{title}: {out}");
    }
}

on_both_backends!(#[tokio::test] async fn benchmark_and_compare_share_one_competitor_average_without_our_brands);
async fn benchmark_and_compare_share_one_competitor_average_without_our_brands(db: TestDb) {
    let (out, _, _) = db.console(
        &[],
        "/brand add name:Acme landscape:coffee\n\
         /brand add name:Sister landscape:coffee\n\
         /brand add name:Rival landscape:coffee competitor:true\n\
         /ctr clicks:10 impressions:1000 brand:Acme platform:x date:2026-11-01\n\
         /ctr clicks:90 impressions:1000 brand:Sister platform:x date:2026-11-01\n\
         /ctr clicks:30 impressions:1000 brand:Rival platform:x date:2026-11-01\n\
         /benchmark metric:ctr brand:Acme period:2026-11-01..2026-11-01\n\
         /compare metric:ctr landscape:coffee period:2026-11-01..2026-11-01\n",
    );
    // Sister, ours, is left out: the average is Rival's 3.00%, in both views.
    assert!(
        out.contains("Competitors: competitor average 3.00% over 1 competitor (-2.00 pts vs competitor average)"),
        "{out}"
    );
    assert!(
        out.contains("Competitor average: 3.00% over 1 competitor with data"),
        "{out}"
    );
}

on_both_backends!(#[tokio::test] async fn compare_audience_shows_growth_beside_size_and_ranks_by_growth_on_request);
async fn compare_audience_shows_growth_beside_size_and_ranks_by_growth_on_request(db: TestDb) {
    // Big grows 1% (100,000 to 101,000), Small 50% (10,000 to 15,000).
    let (out, _, _) = db.console(
        &[],
        "/audience followers:100000 brand:Big platform:x date:2026-10-25\n\
         /audience followers:101000 brand:Big platform:x date:2026-11-05\n\
         /audience followers:10000 brand:Small platform:x date:2026-10-25\n\
         /audience followers:15000 brand:Small platform:x date:2026-11-05\n\
         /compare metric:audience period:2026-11-01..2026-11-10\n\
         /compare metric:audience period:2026-11-01..2026-11-10 rank:growth\n",
    );
    let (by_size, by_growth) = out.split_at(out.rfind("Audience").expect(&out));
    assert!(
        by_size.contains("1. Big — 101,000 · +1,000 (+1.00%) on the period before"),
        "{out}"
    );
    assert!(
        by_size.contains("2. Small — 15,000 · +5,000 (+50.0%) on the period before"),
        "{out}"
    );
    assert!(by_growth.contains("1. Small — 15,000"), "{out}");
    assert!(by_growth.contains("2. Big — 101,000"), "{out}");
    assert!(
        by_growth.contains("ranked by growth on 2026-10-22 to 2026-10-31"),
        "{out}"
    );
}
