//! What the views show, value by value: every line of a `/compare` (rank, value, gap to the
//! average, share of the total, the brands without data) and the data `/trend` hands the chart
//! renderer (each line's points, weekly buckets, the unit its axis is drawn in). A chart with
//! wrong points or a comparison with a wrong share must fail here, not only a missing reply.
//!
//! Assertions use the numbers and the formatting functions the replies use, not the wording
//! around them, so that a reworded reply keeps these tests meaningful.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use metricord::analysis::gap_text;
use metricord::chart::axes::value_axis;
use metricord::chart::{Line, Step};
use metricord::clock::Clock;
use metricord::command::{Invocation, Reply};
use metricord::console::parse_line;
use metricord::dispatcher::Dispatcher;
use metricord::numbers::{percent, thousands};
use metricord::period::Period;
use metricord::plugin::Unit;
use metricord::settings::Settings;
use metricord::storage::Brand;
use metricord::trend::{DAILY_POINTS_UP_TO, trend_chart, trend_lines};

use crate::support::{TestDb, on_both_backends};

const GUILD: u64 = 1;

/// A dispatcher on the test database whose today is 2026-12-01.
async fn bot(db: &TestDb) -> Dispatcher {
    let settings = Settings {
        database: db.settings(),
        ..Settings::default()
    };
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap());
    Dispatcher::new(Arc::new(settings), db.store().await, clock).expect("the dispatcher")
}

/// Runs each line as a command in the test's guild; a metric naming a brand must store it.
async fn run(bot: &Dispatcher, lines: &str) -> Reply {
    let mut last = Reply::default();
    for text in lines.lines().filter(|l| !l.trim().is_empty()) {
        let line = parse_line(text).expect(text).expect(text);
        last = bot
            .dispatch(Invocation {
                guild_id: Some(GUILD),
                channel_id: 1,
                user_id: 1,
                can_manage_guild: true,
                command: line.command,
                options: line.options,
                upload_limit: None,
            })
            .await;
        if text.contains("brand:") && !text.starts_with("/brand") && !text.starts_with("/trend") {
            assert!(
                last.embeds
                    .iter()
                    .any(|e| e.fields.iter().any(|f| f.name == "Stored")),
                "{text}: {last:?}"
            );
        }
    }
    last
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

fn span(from: &str, to: &str) -> Period {
    Period {
        from: day(from),
        to: day(to),
    }
}

/// The comparison's lines, one per brand and then the brands without data.
fn description_lines(reply: &Reply) -> Vec<String> {
    let embed = reply.embeds.first().unwrap_or_else(|| panic!("{reply:?}"));
    embed.description.lines().map(str::to_string).collect()
}

/// `line` has exactly these points, within rounding.
fn assert_points(line: &Line, expected: &[(&str, f64)]) {
    let got: Vec<(NaiveDate, f64)> = line.points.clone();
    assert_eq!(got.len(), expected.len(), "{}: {got:?}", line.label);
    for ((got_day, got_value), (day_text, value)) in got.iter().zip(expected) {
        assert_eq!(*got_day, day(day_text), "{}: {got:?}", line.label);
        assert!(
            (got_value - value).abs() < 1e-9,
            "{} on {day_text}: {got_value}, expected {value}",
            line.label
        );
    }
}

on_both_backends!(#[tokio::test] async fn compare_gives_each_brand_its_rank_gap_and_share_of_the_total_and_names_those_without_data);
async fn compare_gives_each_brand_its_rank_gap_and_share_of_the_total_and_names_those_without_data(
    db: TestDb,
) {
    let bot = bot(&db).await;
    // Alpha's 600 come from two platforms and two days; Delta is in the landscape, without data.
    let reply = run(
        &bot,
        "/brand add name:Alpha landscape:tea\n\
         /brand add name:Bravo landscape:tea\n\
         /brand add name:Charlie landscape:tea competitor:true\n\
         /brand add name:Delta landscape:tea\n\
         /impressions impressions:400 brand:Alpha platform:x date:2026-11-10\n\
         /impressions impressions:200 brand:Alpha platform:instagram date:2026-11-11\n\
         /impressions impressions:300 brand:Bravo platform:x date:2026-11-10\n\
         /impressions impressions:100 brand:Charlie platform:x date:2026-11-12\n\
         /compare metric:impressions landscape:tea period:2026-11-01..2026-11-30\n",
    )
    .await;
    let lines = description_lines(&reply);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    // Total 1,000; the competitor average is Charlie's alone, 100: our brands are not in it.
    let average = 100.0;
    for (i, (name, value, share)) in [
        ("Alpha", 600, 60.0),
        ("Bravo", 300, 30.0),
        ("Charlie", 100, 10.0),
    ]
    .into_iter()
    .enumerate()
    {
        let line = &lines[i];
        assert!(line.contains(&format!("{}. {name}", i + 1)), "{line}");
        assert!(line.contains(&thousands(value)), "{line}");
        if name != "Charlie" {
            let gap = gap_text(Unit::Count, value as f64 - average);
            assert!(line.contains(&gap), "{line} lacks the gap {gap}");
        }
        assert!(
            line.contains(&percent(share)),
            "{line} lacks the share {share}%"
        );
        // No other brand's share is on this line.
        for other in [60.0, 30.0, 10.0].into_iter().filter(|s| *s != share) {
            assert!(!line.contains(&percent(other)), "{line}");
        }
    }
    // Charlie is marked a competitor; Alpha is not (beyond the name of the average).
    let marked = |line: &str| {
        line.replace("competitor average", "")
            .contains("competitor")
    };
    assert!(marked(&lines[2]), "{}", lines[2]);
    assert!(!marked(&lines[0]), "{}", lines[0]);
    let missing = &lines[3];
    assert!(missing.contains("Delta"), "{missing}");
    for ranked in ["Alpha", "Bravo", "Charlie", "4."] {
        assert!(!missing.contains(ranked), "{missing}");
    }
    let average_field = &reply.embeds[0].fields[0].value;
    assert!(average_field.contains("100"), "{average_field}");
    assert!(average_field.contains("1 competitor"), "{average_field}");
}

on_both_backends!(#[tokio::test] async fn compare_of_rates_gives_no_share_of_a_total_and_no_missing_line_when_all_have_data);
async fn compare_of_rates_gives_no_share_of_a_total_and_no_missing_line_when_all_have_data(
    db: TestDb,
) {
    let bot = bot(&db).await;
    let reply = run(
        &bot,
        "/brand add name:Bravo competitor:true\n\
         /brand add name:Charlie competitor:true\n\
         /ctr clicks:20 impressions:100 brand:Alpha date:2026-11-10\n\
         /ctr clicks:10 impressions:100 brand:Bravo date:2026-11-10\n\
         /ctr clicks:30 impressions:100 brand:Charlie date:2026-11-10\n\
         /compare metric:ctr period:2026-11-01..2026-11-30\n",
    )
    .await;
    let lines = description_lines(&reply);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(lines[0].contains("1. Charlie"), "{}", lines[0]);
    assert!(lines[1].contains("2. Alpha"), "{}", lines[1]);
    assert!(lines[2].contains("3. Bravo"), "{}", lines[2]);
    // Rates do not add up: 30%, 20% and 10% are no half, third and sixth of anything.
    for line in &lines {
        for share in [50.0, 100.0 / 3.0, 100.0 / 6.0] {
            assert!(!line.contains(&percent(share)), "{line}");
        }
    }
    // The competitor average is of the competitors' rates: 20%, each 10 points from it.
    assert!(
        lines[0].contains(&gap_text(Unit::Percent, 10.0)),
        "{}",
        lines[0]
    );
    assert!(
        lines[2].contains(&gap_text(Unit::Percent, -10.0)),
        "{}",
        lines[2]
    );
    assert!(
        reply.embeds[0].fields[0].value.contains(&percent(20.0)),
        "{reply:?}"
    );
}

/// The guild's brands by name, as the trend handler finds them.
async fn brands(bot: &Dispatcher, names: &[&str]) -> Vec<Brand> {
    let mut out = Vec::new();
    for name in names {
        let brand = bot.services().store.brand(GUILD, name).await.unwrap();
        out.push(brand.unwrap_or_else(|| panic!("no brand {name}")));
    }
    out
}

on_both_backends!(#[tokio::test] async fn trend_lines_hold_each_days_rate_per_platform_and_per_brand_across_platforms);
async fn trend_lines_hold_each_days_rate_per_platform_and_per_brand_across_platforms(db: TestDb) {
    let bot = bot(&db).await;
    run(
        &bot,
        "/brand add name:Rival landscape:tea competitor:true\n\
         /brand add name:Acme landscape:tea\n\
         /ctr clicks:10 impressions:100 brand:Acme platform:x date:2026-11-01\n\
         /ctr clicks:30 impressions:200 brand:Acme platform:x date:2026-11-02\n\
         /ctr clicks:40 impressions:200 brand:Acme platform:instagram date:2026-11-01\n\
         /ctr clicks:5 impressions:100 brand:Rival platform:x date:2026-11-02\n",
    )
    .await;
    let services = bot.services();
    let ctx = services.context(GUILD, 1);
    let ctr = ctx.registry.by_name("ctr").unwrap();
    let period = span("2026-11-01", "2026-11-07");

    let acme = brands(&bot, &["Acme"]).await;
    let lines = trend_lines(&ctx, ctr, &acme, period, None, false)
        .await
        .unwrap();
    let labels: Vec<&str> = lines.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["instagram", "x"]);
    assert_points(&lines[0], &[("2026-11-01", 20.0)]);
    assert_points(&lines[1], &[("2026-11-01", 10.0), ("2026-11-02", 15.0)]);

    // Per brand, a day's rate is of the platforms' sums: 50 / 300, not the mean of 10% and 20%.
    let both = brands(&bot, &["Acme", "Rival"]).await;
    let lines = trend_lines(&ctx, ctr, &both, period, None, true)
        .await
        .unwrap();
    let labels: Vec<(&str, bool)> = lines
        .iter()
        .map(|l| (l.label.as_str(), l.competitor))
        .collect();
    assert_eq!(labels, [("Acme", false), ("Rival", true)]);
    assert_points(
        &lines[0],
        &[("2026-11-01", 50.0 / 300.0 * 100.0), ("2026-11-02", 15.0)],
    );
    assert_points(&lines[1], &[("2026-11-02", 5.0)]);

    // One platform asked for: only its values.
    let lines = trend_lines(&ctx, ctr, &both, period, Some("instagram"), true)
        .await
        .unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_points(&lines[0], &[("2026-11-01", 20.0)]);

    // What the renderer gets: the rate in percent, on a percent axis reaching its highest point.
    let chart = trend_chart(ctr, "tea".into(), None, period, lines);
    assert_eq!((chart.unit, chart.step), (Unit::Percent, Step::Day));
    let axis = value_axis(
        chart
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1)),
        chart.unit,
    );
    assert!(axis.high >= 20.0 && axis.high <= 25.0, "{axis:?}");
    assert!(
        axis.ticks.iter().all(|t| t.label.ends_with('%')),
        "{axis:?}"
    );
}

on_both_backends!(#[tokio::test] async fn long_trends_bucket_weeks_from_monday_each_series_by_its_own_rule);
async fn long_trends_bucket_weeks_from_monday_each_series_by_its_own_rule(db: TestDb) {
    let bot = bot(&db).await;
    // 2026-11-02 and 2026-11-09 are Mondays; 2026-11-08 is the Sunday between.
    run(
        &bot,
        "/impressions impressions:100 brand:Acme platform:x date:2026-11-03\n\
         /impressions impressions:50 brand:Acme platform:x date:2026-11-08\n\
         /impressions impressions:7 brand:Acme platform:x date:2026-11-09\n\
         /audience followers:1000 brand:Acme platform:x date:2026-11-03\n\
         /audience followers:1500 brand:Acme platform:x date:2026-11-04\n\
         /audience followers:1200 brand:Acme platform:x date:2026-11-05\n\
         /reach reach:10 brand:Acme platform:x date:2026-11-03\n\
         /reach reach:30 brand:Acme platform:x date:2026-11-04\n\
         /reach reach:20 brand:Acme platform:x date:2026-11-05\n",
    )
    .await;
    let services = bot.services();
    let ctx = services.context(GUILD, 1);
    let acme = brands(&bot, &["Acme"]).await;
    let long = span("2026-08-01", "2026-11-30");
    assert!(long.days() > DAILY_POINTS_UP_TO);
    let plugin = |name| ctx.registry.by_name(name).unwrap();

    // A sum adds the week's days; the week is dated by its Monday.
    let lines = trend_lines(&ctx, plugin("impressions"), &acme, long, None, false)
        .await
        .unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_points(&lines[0], &[("2026-11-02", 150.0), ("2026-11-09", 7.0)]);
    let chart = trend_chart(plugin("impressions"), "Acme".into(), None, long, lines);
    assert_eq!((chart.unit, chart.step), (Unit::Count, Step::Week));

    // An audience is the week's last figure; reach its largest day.
    let lines = trend_lines(&ctx, plugin("audience"), &acme, long, None, false)
        .await
        .unwrap();
    assert_points(&lines[0], &[("2026-11-02", 1200.0)]);
    let lines = trend_lines(&ctx, plugin("reach"), &acme, long, None, false)
        .await
        .unwrap();
    assert_points(&lines[0], &[("2026-11-02", 30.0)]);

    // Up to 92 days, one point per day, weekday or not.
    let short = span("2026-09-01", "2026-11-30");
    assert_eq!(short.days(), DAILY_POINTS_UP_TO - 1);
    let exactly = span("2026-08-31", "2026-11-30");
    assert_eq!(exactly.days(), DAILY_POINTS_UP_TO);
    let lines = trend_lines(&ctx, plugin("impressions"), &acme, exactly, None, false)
        .await
        .unwrap();
    assert_points(
        &lines[0],
        &[
            ("2026-11-03", 100.0),
            ("2026-11-08", 50.0),
            ("2026-11-09", 7.0),
        ],
    );
    let chart = trend_chart(plugin("impressions"), "Acme".into(), None, exactly, lines);
    assert_eq!(chart.step, Step::Day);
    let one_more = span("2026-08-30", "2026-11-30");
    let chart = trend_chart(
        plugin("impressions"),
        "Acme".into(),
        None,
        one_more,
        Vec::new(),
    );
    assert_eq!(chart.step, Step::Week);
}
