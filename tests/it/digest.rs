//! Scheduled digests end to end: the worker's step driven with a hand-set clock over weeks of
//! simulated time, posting through the real serenity HTTP client to the fake Discord.

use std::sync::Arc;

use crate::support::fake_discord::*;
use crate::support::{TestDb, on_both_backends};
use chrono::{DateTime, Duration, Utc};
use metricord::clock::Clock;
use metricord::command::{Invocation, Reply};
use metricord::console::parse_line;
use metricord::discord::channel_poster;
use metricord::dispatcher::Dispatcher;
use metricord::limits;
use metricord::scheduler::Scheduler;
use metricord::services::{Outgoing, Post, PostError};
use metricord::settings::Settings;
use serenity::http::HttpBuilder;

const GUILD: u64 = GUILD_ID;
const CHANNEL: u64 = CHANNEL_ID;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a test time")
        .with_timezone(&Utc)
}

/// A dispatcher on its own database, a hand-set clock, and a fake Discord to post to.
struct World {
    db: TestDb,
    fake: FakeDiscord,
    clock: Clock,
    dispatcher: Arc<Dispatcher>,
}

impl World {
    async fn new(db: TestDb, start: &str) -> World {
        let fake = FakeDiscord::start().await;
        let clock = Clock::manual(utc(start));
        let settings = Settings {
            database: db.settings(),
            ..Settings::default()
        };
        let store = db.store().await;
        let dispatcher = Arc::new(
            Dispatcher::new(Arc::new(settings), store, clock.clone()).expect("dispatcher"),
        );
        World {
            db,
            fake,
            clock,
            dispatcher,
        }
    }

    /// Runs a command as a server admin, as typed in Discord.
    async fn run(&self, line: &str) -> Reply {
        let line = parse_line(line).expect("a valid line").expect("a command");
        self.dispatcher
            .dispatch(Invocation {
                guild_id: Some(GUILD),
                channel_id: CHANNEL,
                user_id: USER_ID,
                can_manage_guild: true,
                command: line.command,
                options: line.options,
                upload_limit: None,
            })
            .await
    }

    fn poster(&self) -> Post {
        let http = HttpBuilder::new("fake-token")
            .proxy(&self.fake.base_url)
            .ratelimiter_disabled(true)
            .build();
        channel_poster(Arc::new(http))
    }

    /// A freshly started worker, as after a restart.
    fn scheduler(&self, post: Post) -> Scheduler {
        Scheduler::new(
            self.dispatcher.services().clone(),
            post,
            self.clock.clone(),
            Duration::hours(6),
        )
    }

    fn set_time(&self, at: DateTime<Utc>) {
        if let Clock::Manual(now) = &self.clock {
            *now.lock().expect("the clock") = at;
        }
    }

    /// How long a claim holds before another process may take it over.
    fn lease(&self) -> Duration {
        self.dispatcher.services().settings.digest.lease
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn posted(&self, channel: u64) -> Vec<Recorded> {
        self.fake.channel_messages(channel)
    }
}

/// A post that reaches Discord but whose process "dies" before recording it: it reports a
/// failure after posting, so the run stays claimed as if the process had stopped.
fn dies_after_posting(post: Post) -> Post {
    Arc::new(move |outgoing: Outgoing| {
        let post = post.clone();
        Box::pin(async move {
            post(outgoing).await?;
            Err(PostError::Retry("the process stopped".to_string()))
        })
    })
}

async fn small_landscape(world: &World) {
    for line in [
        "/brand add name:Bean landscape:coffee",
        "/brand add name:Brew landscape:coffee competitor:true",
        "/brand add name:Cup landscape:coffee competitor:true",
        "/brand add name:Dunk landscape:coffee competitor:true",
        "/engagement applause:500 conversation:100 amplification:100 brand:Bean platform:instagram date:2026-11-17",
        "/engagement applause:700 conversation:100 amplification:200 brand:Bean platform:instagram date:2026-11-24",
        "/engagement applause:2000 conversation:300 amplification:400 brand:Brew platform:instagram date:2026-11-25",
        "/engagement applause:1500 conversation:200 amplification:200 brand:Cup platform:instagram date:2026-11-26",
        "/engagement-rate engagements:1000 followers:50000 brand:Bean platform:instagram date:2026-11-24",
        "/engagement-rate engagements:2700 followers:100000 brand:Brew platform:instagram date:2026-11-25",
        "/engagement-rate engagements:1900 followers:95000 brand:Cup platform:instagram date:2026-11-26",
    ] {
        let reply = world.run(line).await;
        assert!(!reply.ephemeral, "{line}: {}", reply.content);
    }
}

on_both_backends!(#[tokio::test] async fn the_digest_content_matches_hand_computed_numbers_for_a_small_landscape);
async fn the_digest_content_matches_hand_computed_numbers_for_a_small_landscape(db: TestDb) {
    let world = World::new(db, "2026-11-30T09:00:00Z").await;
    small_landscape(&world).await;
    let digest = metricord::digest::for_guild(
        world.dispatcher.services(),
        GUILD,
        Some("coffee"),
        metricord::period::Period::ending(utc("2026-11-29T00:00:00Z").date_naive(), 7),
        world.now(),
    )
    .await
    .expect("a digest");
    assert!(
        digest.content.contains("Weekly digest · coffee"),
        "{}",
        digest.content
    );
    assert_eq!(
        digest.content.matches("no data the period before").count(),
        1,
        "{}",
        digest.content
    );
    let highlights = &digest.embeds[0].description;
    // Bean's engagements went from 700 to 1,000; the competitors' amplification averages
    // (400 + 200) / 2 = 300 against Bean's 200.
    assert!(
        highlights.contains("Bean engagements rose to 1,000 (+300 (+42.9%))"),
        "{highlights}"
    );
    assert!(
        highlights.contains("Bean amplification 200, below the competitor average of 300"),
        "{highlights}"
    );
    assert!(
        highlights.contains("No data in the week: Dunk"),
        "{highlights}"
    );

    let bean = digest
        .embeds
        .iter()
        .find(|e| e.title == "Bean")
        .expect("Bean's embed");
    let field = |label: &str| {
        bean.fields
            .iter()
            .find(|f| f.name == label)
            .map(|f| f.value.clone())
            .unwrap_or_default()
    };
    // Engagements: 1,000 against the competitors' 2,700 and 1,900: third, 1,300 under their
    // mean of 2,300 (our own brand is not in the average).
    assert!(
        field("Engagements")
            .starts_with("1,000 · +300 (+42.9%) w/w · #3 of 3 · -1,300 vs competitor average"),
        "{}",
        field("Engagements")
    );
    assert!(field("Engagements").contains("applause 700 · conversation 100 · amplification 200"));
    // Engagement rate: 2.00% against 2.70% and 2.00%: second (tied), 0.35 points under the
    // competitors' 2.35%.
    let rate = field("Engagement rate");
    assert!(
        rate.starts_with(
            "2.00% (95% CI 1.88-2.13%, n=50,000) · new · #2 of 3 · -0.35 pts vs competitor average"
        ),
        "{rate}"
    );
    // The shipped engagement-rate benchmark is a median per post, Acme's figure a day's rate:
    // not a bar for it, so the digest holds Acme against no industry figure.
    assert!(!rate.contains("industry"), "{rate}");
    let dunk = digest
        .embeds
        .iter()
        .find(|e| e.title == "Dunk (competitor)")
        .expect("Dunk's embed");
    assert_eq!(
        dunk.description,
        "Dunk logged no data from 2026-11-23 to 2026-11-29."
    );
    assert_eq!(digest.attachments[0].name, "digest.png");
}

on_both_backends!(#[tokio::test] async fn simulated_weeks_with_restarts_at_awkward_moments_post_every_digest_exactly_once);
async fn simulated_weeks_with_restarts_at_awkward_moments_post_every_digest_exactly_once(
    db: TestDb,
) {
    let world = World::new(db, "2026-11-30T00:00:00Z").await;
    small_landscape(&world).await;
    let reply = world.run(&format!("/digest schedule channel:{CHANNEL} cron:\"0 0 9 * * Mon\" timezone:UTC landscape:coffee")).await;
    assert!(
        reply.content.starts_with("Digest #1 of coffee"),
        "{}",
        reply.content
    );
    let post = world.poster();
    let mut scheduler = world.scheduler(post.clone());
    let start = world.now();
    for hour in 1..=(6 * 7 * 24) {
        world.set_time(start + Duration::hours(hour));
        let week = hour / (7 * 24);
        let monday_nine = hour % (7 * 24) == 9;
        match (week, monday_nine) {
            // Restart just before the run is claimed.
            (1, true) => {
                scheduler = world.scheduler(post.clone());
                scheduler.tick().await.expect("a step");
            }
            // Crash after claiming, before posting: the next worker takes the run over once
            // the claim's lease runs out.
            (2, true) => {
                let (claims, _) = scheduler.claim_due().await.expect("claims");
                assert_eq!(claims.len(), 1);
                scheduler = world.scheduler(post.clone());
                let claimed_at = world.now();
                world.set_time(claimed_at + world.lease() - Duration::minutes(1));
                let step = scheduler.tick().await.expect("a step");
                assert_eq!(step.posted, 0, "a claim was taken over inside its lease");
                world.set_time(claimed_at + world.lease() + Duration::minutes(1));
                let step = scheduler.tick().await.expect("a step");
                assert_eq!(step.posted, 1);
            }
            // Crash after posting, before recording it: the retried post carries the same
            // nonce, so Discord returns the first message instead of a second one.
            (3, true) => {
                world
                    .scheduler(dies_after_posting(post.clone()))
                    .tick()
                    .await
                    .expect("a step");
                scheduler = world.scheduler(post.clone());
                world.set_time(world.now() + world.lease() + Duration::minutes(1));
                scheduler.tick().await.expect("a step");
            }
            _ => {
                scheduler.tick().await.expect("a step");
            }
        }
    }
    let posted = world.posted(CHANNEL);
    let digests: Vec<&Recorded> = posted
        .iter()
        .filter(|m| {
            m.json["content"]
                .as_str()
                .is_some_and(|c| c.contains("Weekly digest"))
        })
        .collect();
    assert_eq!(digests.len(), 6, "one digest a week for six weeks");
    let runs = world.db.store().await.runs(1).await.expect("runs");
    assert_eq!(runs.len(), 6);
    assert!(runs.iter().all(|(_, state)| state == "posted"), "{runs:?}");
    for message in posted {
        assert_eq!(
            message.json["allowed_mentions"]["parse"],
            serde_json::json!([])
        );
        assert_eq!(message.json["enforce_nonce"], true);
    }
}

on_both_backends!(#[tokio::test] async fn a_missed_digest_is_caught_up_inside_the_window_and_skipped_outside_it);
async fn a_missed_digest_is_caught_up_inside_the_window_and_skipped_outside_it(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    small_landscape(&world).await;
    world
        .run(&format!("/digest schedule channel:{CHANNEL} timezone:UTC"))
        .await;
    let scheduler = world.scheduler(world.poster());

    // Down from Sunday noon until Monday 14:00: five hours late, inside the six-hour window.
    world.set_time(utc("2026-11-30T14:00:00Z"));
    let step = scheduler.tick().await.expect("a step");
    assert_eq!((step.posted, step.skipped), (1, 0));
    assert_eq!(
        scheduler.tick().await.expect("a step").posted,
        0,
        "posted once"
    );

    // Down across the next Monday until 20:00: eleven hours late, so it is skipped.
    world.set_time(utc("2026-12-07T20:00:00Z"));
    let step = scheduler.tick().await.expect("a step");
    assert_eq!((step.posted, step.skipped), (0, 1));
    assert_eq!(world.posted(CHANNEL).len(), 1);

    // The week after runs as usual.
    world.set_time(utc("2026-12-14T09:00:30Z"));
    assert_eq!(scheduler.tick().await.expect("a step").posted, 1);
    let states: Vec<String> = world
        .db
        .store()
        .await
        .runs(1)
        .await
        .expect("runs")
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(states, ["posted", "skipped", "posted"]);
}

on_both_backends!(#[tokio::test] async fn server_errors_and_rate_limits_are_retried_into_a_single_post);
async fn server_errors_and_rate_limits_are_retried_into_a_single_post(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    small_landscape(&world).await;
    world
        .run(&format!("/digest schedule channel:{CHANNEL} timezone:UTC"))
        .await;
    let path = format!("/channels/{CHANNEL}/messages");
    world.fake.fail_next(path.as_str(), 502, 1);
    world.fake.fail_next(path.as_str(), 429, 1);
    world.set_time(utc("2026-11-30T09:00:00Z"));
    let step = world
        .scheduler(world.poster())
        .tick()
        .await
        .expect("a step");
    assert_eq!(step.posted, 1);
    let attempts = world
        .fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&path))
        .count();
    assert_eq!(attempts, 3);
    assert_eq!(world.posted(CHANNEL).len(), 1);
}

on_both_backends!(#[tokio::test] async fn a_forbidden_channel_stops_its_schedule_and_the_list_says_so);
async fn a_forbidden_channel_stops_its_schedule_and_the_list_says_so(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    small_landscape(&world).await;
    let closed = CHANNEL + 1;
    world
        .run(&format!("/digest schedule channel:{closed} timezone:UTC"))
        .await;
    world
        .run(&format!("/digest schedule channel:{CHANNEL} timezone:UTC"))
        .await;
    world.fake.forbid_channel(closed, 403);
    let scheduler = world.scheduler(world.poster());
    world.set_time(utc("2026-11-30T09:00:00Z"));
    let step = scheduler.tick().await.expect("a step");
    assert_eq!(
        (step.posted, step.failed),
        (1, 1),
        "the other guild's digest is not held up"
    );
    let attempts = || {
        world
            .fake
            .requests()
            .iter()
            .filter(|r| r.path.contains(&format!("/channels/{closed}/")))
            .count()
    };
    assert_eq!(attempts(), 1, "a 403 is not retried");
    world.set_time(utc("2026-12-07T09:00:00Z"));
    scheduler.tick().await.expect("a step");
    assert_eq!(attempts(), 1, "a stopped schedule is not tried again");
    let list = world.run("/digest list").await;
    let first = &list.embeds[0].fields[0].value;
    assert!(
        first.contains("Stopped: the bot may not post in that channel (403)"),
        "{first}"
    );
}

on_both_backends!(#[tokio::test] async fn a_thirty_brand_digest_is_split_within_discords_limits);
async fn a_thirty_brand_digest_is_split_within_discords_limits(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    for brand in 0..30 {
        let name = format!("Brand number {brand:02} with a fairly long name");
        world
            .run(&format!(
                "/brand add name:\"{name}\" landscape:big competitor:{}",
                brand % 3 != 0
            ))
            .await;
        for (day, scale) in [("2026-11-18", 1), ("2026-11-25", 2)] {
            for line in [
                format!(
                    "/engagement applause:{} conversation:{} amplification:{}",
                    1000 * scale + brand,
                    100 + brand,
                    50 * scale
                ),
                format!(
                    "/engagement-rate engagements:{} followers:{}",
                    900 + brand * scale,
                    40_000 + brand * 1000
                ),
                format!("/ctr clicks:{} impressions:{}", 40 + brand, 5000 * scale),
                format!("/audience followers:{}", 40_000 + brand * 1000 * scale),
                format!("/mentions mentions:{}", 10 + brand * scale),
            ] {
                let reply = world
                    .run(&format!(
                        "{line} brand:\"{name}\" platform:instagram date:{day}"
                    ))
                    .await;
                assert!(!reply.ephemeral, "{}", reply.content);
            }
        }
    }
    world
        .run(&format!(
            "/digest schedule channel:{CHANNEL} timezone:UTC landscape:big"
        ))
        .await;
    world.set_time(utc("2026-11-30T09:00:00Z"));
    assert_eq!(
        world
            .scheduler(world.poster())
            .tick()
            .await
            .expect("a step")
            .posted,
        1
    );
    let messages = world.posted(CHANNEL);
    assert!(messages.len() > 1, "thirty brands cannot fit one message");
    let mut brands_seen = 0;
    for message in &messages {
        let body = &message.json;
        assert!(body["content"].as_str().unwrap_or_default().chars().count() <= limits::CONTENT);
        let embeds = body["embeds"].as_array().cloned().unwrap_or_default();
        assert!(embeds.len() <= limits::EMBEDS_PER_MESSAGE);
        let mut total = 0;
        for embed in &embeds {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().chars().count();
            assert!(text(&embed["title"]) <= limits::TITLE);
            assert!(text(&embed["description"]) <= limits::DESCRIPTION);
            let fields = embed["fields"].as_array().cloned().unwrap_or_default();
            assert!(fields.len() <= limits::FIELDS);
            total += text(&embed["title"])
                + text(&embed["description"])
                + text(&embed["footer"]["text"]);
            for field in &fields {
                assert!(
                    text(&field["name"]) <= limits::FIELD_NAME
                        && text(&field["value"]) <= limits::FIELD_VALUE
                );
                total += text(&field["name"]) + text(&field["value"]);
            }
            if text(&embed["title"]) > 0
                && embed["title"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("Brand number")
            {
                brands_seen += 1;
            }
        }
        assert!(
            total <= limits::EMBED_TOTAL,
            "{total} characters of embeds in one message"
        );
    }
    assert_eq!(brands_seen, 30, "every brand appears");
    assert_eq!(
        messages[0].files.len(),
        1,
        "the chart rides with the first message"
    );
}

on_both_backends!(#[tokio::test] async fn digest_commands_validate_their_options_and_explain_numeric_days);
async fn digest_commands_validate_their_options_and_explain_numeric_days(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    let reply = world
        .run("/digest schedule channel:123 cron:\"0 9 * * 1\"")
        .await;
    assert_eq!(
        reply.content,
        "`cron` must be 6 fields with seconds first; for that crontab line write `0 0 9 * * 1`."
    );
    let reply = world
        .run("/digest schedule channel:123 timezone:Moon/Base")
        .await;
    assert!(
        reply.ephemeral
            && reply
                .content
                .starts_with("`timezone` must be an IANA timezone name")
    );
    let reply = world
        .run("/digest schedule channel:123 cron:\"0 * * * * *\"")
        .await;
    assert!(
        reply.content.contains("at most once an hour"),
        "{}",
        reply.content
    );
    let reply = world
        .run("/digest schedule channel:123 cron:\"0 0 9 * * 2-6\" timezone:Europe/Bucharest")
        .await;
    assert!(
        reply.content.contains("- Mon 2026-11-30 09:00 EET"),
        "{}",
        reply.content
    );
    assert!(
        reply.content.contains("so `2-6` is Monday to Friday"),
        "{}",
        reply.content
    );
    let reply = world.run("/digest run id:1").await;
    assert!(
        reply
            .content
            .starts_with("Posting needs the bot connected to Discord"),
        "{}",
        reply.content
    );
    let reply = world.run("/digest remove id:99").await;
    assert!(reply.ephemeral);
    assert_eq!(
        world.run("/digest remove id:1").await.content,
        "Removed digest #1."
    );
}

on_both_backends!(#[tokio::test] async fn a_digest_that_cannot_be_built_stops_its_schedule_instead_of_retrying);
async fn a_digest_that_cannot_be_built_stops_its_schedule_instead_of_retrying(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    small_landscape(&world).await;
    world
        .run(&format!(
            "/digest schedule channel:<#{CHANNEL}> timezone:UTC landscape:coffee"
        ))
        .await;
    // The landscape empties, and with its last brand it is gone.
    for brand in ["Bean", "Brew", "Cup", "Dunk"] {
        world
            .run(&format!("/brand remove name:{brand} landscape:coffee"))
            .await;
    }
    let scheduler = world.scheduler(world.poster());
    world.set_time(utc("2026-11-30T09:00:00Z"));
    let step = scheduler.tick().await.expect("a step");
    assert_eq!((step.posted, step.failed), (0, 1));
    world.set_time(utc("2026-11-30T09:30:00Z"));
    assert_eq!(
        scheduler.tick().await.expect("a step"),
        Default::default(),
        "not retried"
    );
    let list = world.run("/digest list").await;
    let first = &list.embeds[0].fields[0].value;
    assert!(
        first.contains("Stopped: No landscape named \"coffee\""),
        "{first}"
    );
    assert!(world.posted(CHANNEL).is_empty());
}

on_both_backends!(#[tokio::test] async fn the_same_digest_cannot_be_scheduled_twice);
async fn the_same_digest_cannot_be_scheduled_twice(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    assert!(
        !world
            .run(&format!("/digest schedule channel:{CHANNEL}"))
            .await
            .ephemeral
    );
    let twin = world
        .run(&format!("/digest schedule channel:<#{CHANNEL}>"))
        .await;
    assert_eq!(
        twin.content,
        "Digest #1 already posts this to that channel at those times; `/digest list` shows it."
    );
    let named = world.run("/digest schedule channel:#general").await;
    assert!(
        named
            .content
            .starts_with("`channel` must be a channel of this server"),
        "{}",
        named.content
    );
}

on_both_backends!(#[tokio::test] async fn a_digests_reach_across_platforms_is_the_largest_day_of_the_sum);
async fn a_digests_reach_across_platforms_is_the_largest_day_of_the_sum(db: TestDb) {
    let world = World::new(db, "2026-11-30T09:00:00Z").await;
    for line in [
        "/reach reach:1000 brand:Bean platform:x date:2026-11-24",
        "/reach reach:3000 brand:Bean platform:instagram date:2026-11-25",
        "/reach reach:100 brand:Bean platform:x date:2026-11-25",
    ] {
        assert!(!world.run(line).await.ephemeral, "{line}");
    }
    let digest = metricord::digest::for_guild(
        world.dispatcher.services(),
        GUILD,
        None,
        metricord::period::Period::ending(utc("2026-11-29T00:00:00Z").date_naive(), 7),
        world.now(),
    )
    .await
    .expect("a digest");
    // Bean is in no landscape, so the digest of all brands lists it unranked.
    let alone = digest
        .embeds
        .iter()
        .find(|e| e.title == "Not in a landscape")
        .expect("the brands in no landscape");
    // The best day of both platforms is the 25th, 3,100; their best days added would be 4,000.
    assert_eq!(alone.description, "**Reach**: Bean 3,100 (new)");
}

on_both_backends!(#[tokio::test] async fn a_schedule_made_inside_the_repeated_hour_does_not_post_at_once);
async fn a_schedule_made_inside_the_repeated_hour_does_not_post_at_once(db: TestDb) {
    // 06:15 UTC on 2027-11-07 is 01:15 EST, after 01:30 EDT (05:30 UTC) has passed.
    let world = World::new(db, "2027-11-07T06:15:00Z").await;
    let reply = world
        .run(&format!(
            "/digest schedule channel:{CHANNEL} cron:\"0 30 1 * * *\" timezone:America/New_York"
        ))
        .await;
    assert!(!reply.ephemeral, "{}", reply.content);
    assert!(
        reply
            .content
            .contains("Next runs:\n- Mon 2027-11-08 01:30 EST"),
        "{}",
        reply.content
    );
    let scheduler = world.scheduler(world.poster());
    let step = scheduler.tick().await.expect("a step");
    assert_eq!((step.posted, step.skipped), (0, 0));
    // The day after, it posts once.
    world.set_time(utc("2027-11-08T06:31:00Z"));
    assert_eq!(scheduler.tick().await.expect("a step").posted, 1);
    assert_eq!(world.posted(CHANNEL).len(), 1);
}

on_both_backends!(#[tokio::test] async fn a_schedule_refuses_legacy_timezones_and_says_why_a_gap_time_never_runs);
async fn a_schedule_refuses_legacy_timezones_and_says_why_a_gap_time_never_runs(db: TestDb) {
    let world = World::new(db, "2027-03-01T12:00:00Z").await;
    let est = world
        .run(&format!("/digest schedule channel:{CHANNEL} timezone:EST"))
        .await;
    assert!(est.ephemeral);
    assert!(
        est.content
            .starts_with("`timezone` must be a place's IANA name, such as America/New_York: EST is UTC-5 all year"),
        "{}",
        est.content
    );
    let gap = world
        .run(&format!(
            "/digest schedule channel:{CHANNEL} cron:\"0 30 2 14 3 * 2027\" timezone:America/New_York"
        ))
        .await;
    assert!(
        gap.content
            .starts_with("`cron` never runs in America/New_York: 02:30 does not exist"),
        "{}",
        gap.content
    );
    let utc_schedule = world
        .run(&format!(
            "/digest schedule channel:{CHANNEL} timezone:Etc/UTC"
        ))
        .await;
    assert!(!utc_schedule.ephemeral, "{}", utc_schedule.content);
    let listed = world.run("/digest list").await;
    assert_eq!(
        listed.embeds[0].fields.len(),
        1,
        "only the UTC schedule is stored"
    );
}

on_both_backends!(#[tokio::test] async fn a_preview_right_after_logging_today_names_its_week_and_why_today_is_not_in_it);
async fn a_preview_right_after_logging_today_names_its_week_and_why_today_is_not_in_it(db: TestDb) {
    let world = World::new(db, "2026-12-02T15:00:00Z").await;
    assert!(
        !world
            .run("/mentions mentions:40 brand:Bean platform:x")
            .await
            .ephemeral
    );
    let preview = world.run("/digest preview").await;
    assert!(
        preview.content.contains(
            "A digest posted now covers the 7 days before today, 2026-11-25 to 2026-12-01; numbers logged for today (2026-12-02) go into the next one."
        ),
        "{}",
        preview.content
    );
    // Bean logged only today, so the week has nothing of it.
    assert!(
        preview.embeds[0]
            .description
            .ends_with("No data in the week: Bean"),
        "{:?}",
        preview.embeds
    );
    let alone = preview
        .embeds
        .iter()
        .find(|e| e.title == "Not in a landscape")
        .expect("the brands in no landscape");
    assert_eq!(alone.description, "No data from 2026-11-25 to 2026-12-01.");
}

/// Every `#rank of n` in `text`.
fn ranks(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for piece in text.split('#').skip(1) {
        let mut words = piece.split_whitespace();
        let rank = words.next().and_then(|w| w.parse().ok());
        let of = words.next();
        let n = words
            .next()
            .and_then(|w| w.trim_end_matches([',', ')']).parse().ok());
        if let (Some(rank), Some("of"), Some(n)) = (rank, of, n) {
            found.push((rank, n));
        }
    }
    found
}

/// A compact figure as the digest writes it (`9,856`, `11.1K`, `1.85M`) read back.
fn figure(text: &str) -> f64 {
    let text = text.trim_end_matches([',', '.']);
    let (number, scale) = match text.chars().last() {
        Some('K') => (&text[..text.len() - 1], 1e3),
        Some('M') => (&text[..text.len() - 1], 1e6),
        _ => (text, 1.0),
    };
    number.replace(',', "").parse::<f64>().expect("a figure") * scale
}

on_both_backends!(#[tokio::test] async fn the_all_brands_digest_of_the_demo_data_compares_within_landscapes_and_posts_as_one_message);
async fn the_all_brands_digest_of_the_demo_data_compares_within_landscapes_and_posts_as_one_message(
    db: TestDb,
) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    let services = world.dispatcher.services();
    let today = utc("2026-11-29T00:00:00Z").date_naive();
    // Twelve brands in five landscapes (three in coffee and ballet), one of them in two.
    metricord::demo::seed(&services.store, &services.registry, GUILD, 12, 21, 1, today)
        .await
        .expect("the demo data");
    let (also, _) = metricord::demo::brand_name(5);
    assert_eq!(also, "Summit Coffee");
    let reply = world
        .run("/brand add name:\"Summit Coffee\" landscape:sneakers")
        .await;
    assert!(!reply.ephemeral, "{}", reply.content);

    let week = metricord::period::Period::ending(today, 7);
    let digest = metricord::digest::for_guild(services, GUILD, None, week, world.now())
        .await
        .expect("a digest");
    let text: Vec<&str> = digest
        .embeds
        .iter()
        .flat_map(|e| {
            let fields = e
                .fields
                .iter()
                .flat_map(|f| [f.name.as_str(), f.value.as_str()]);
            [e.title.as_str(), e.description.as_str()]
                .into_iter()
                .chain(fields)
                .chain(e.footer.as_deref())
        })
        .collect();
    let words = text
        .iter()
        .flat_map(|t| t.split_whitespace())
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    assert!(words <= 250, "{words} words:\n{}", text.join("\n"));

    // Every rank is out of the brands of one landscape: at most three here, never twelve.
    let listing = services.store.brand_listing(GUILD).await.expect("brands");
    let size = |landscape: &str| {
        listing
            .iter()
            .filter(|b| b.landscapes.iter().any(|l| l == landscape))
            .count()
    };
    assert_eq!((size("coffee"), size("sneakers")), (3, 3));
    for embed in &digest.embeds[1..] {
        let landscape = embed.title.split(" · ").next().unwrap_or_default();
        let found = ranks(&embed.description);
        assert!(!found.is_empty(), "{}: {}", embed.title, embed.description);
        for (rank, of) in found {
            assert!(
                rank <= of && of <= size(landscape),
                "#{rank} of {of} in {landscape}: {}",
                embed.description
            );
        }
    }
    let titles: Vec<&str> = digest.embeds.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "What stood out",
            "airlines · North Airlines",
            "ballet · North Ballet",
            "banking · North Banking",
            "coffee · North Coffee",
            "sneakers · North Sneakers",
        ]
    );
    let standouts = digest.embeds[0].description.lines().collect::<Vec<_>>();
    assert!(standouts.len() <= 8, "{standouts:?}");
    let landscapes = ["airlines", "ballet", "banking", "coffee", "sneakers"];
    for line in &standouts {
        assert!(
            landscapes.iter().any(|l| line.starts_with(l)),
            "a standout without its landscape: {line}"
        );
    }

    // Coffee's competitor average of mentions is the mean of the coffee competitors' week
    // (Summit Coffee, Harbor Coffee), not of every competitor of the server.
    let stored = world.db.stored(GUILD).await;
    let mentions = |brand: &str| -> f64 {
        stored
            .iter()
            .filter(|(day, b, _, series, _)| {
                b == brand
                    && series == "mentions"
                    && (week.from.to_string()..=week.to.to_string()).contains(day)
            })
            .map(|(_, _, _, _, value)| *value as f64)
            .sum()
    };
    let coffee = (mentions("Summit Coffee") + mentions("Harbor Coffee")) / 2.0;
    let competitors: Vec<&str> = listing
        .iter()
        .filter(|b| b.brand.competitor)
        .map(|b| b.brand.name.as_str())
        .collect();
    let everyone = competitors.iter().map(|b| mentions(b)).sum::<f64>() / competitors.len() as f64;
    let coffee_embed = &digest.embeds[4].description;
    let line = coffee_embed
        .lines()
        .find(|l| l.starts_with("**Mentions**"))
        .expect("coffee's mentions");
    let shown = figure(
        line.rsplit("competitor average ")
            .next()
            .expect("an average"),
    );
    assert!(
        (shown - coffee).abs() <= coffee * 0.005,
        "{line}: the coffee competitors average {coffee}"
    );
    assert!(
        (coffee - everyone).abs() > coffee * 0.01,
        "the data set must tell the two averages apart"
    );

    // Posted through the Discord front end, it is one message within every limit.
    world
        .run(&format!("/digest schedule channel:{CHANNEL} timezone:UTC"))
        .await;
    world.set_time(utc("2026-11-30T09:00:00Z"));
    let step = world
        .scheduler(world.poster())
        .tick()
        .await
        .expect("a step");
    assert_eq!(step.posted, 1);
    let messages = world.posted(CHANNEL);
    assert_eq!(messages.len(), 1, "the all-brands digest fits one message");
    let body = &messages[0].json;
    let chars = |v: &serde_json::Value| v.as_str().unwrap_or_default().chars().count();
    assert!(chars(&body["content"]) <= limits::CONTENT);
    let embeds = body["embeds"].as_array().cloned().unwrap_or_default();
    assert_eq!(embeds.len(), digest.embeds.len());
    assert!(embeds.len() <= limits::EMBEDS_PER_MESSAGE);
    let mut total = 0;
    for embed in &embeds {
        assert!(chars(&embed["title"]) <= limits::TITLE);
        assert!(chars(&embed["description"]) <= limits::DESCRIPTION);
        assert!(embed["fields"].as_array().is_none_or(|f| f.is_empty()));
        total +=
            chars(&embed["title"]) + chars(&embed["description"]) + chars(&embed["footer"]["text"]);
    }
    assert!(total <= limits::EMBED_TOTAL, "{total} characters of embeds");
    assert_eq!(messages[0].files.len(), 1, "the chart rides along");
}

on_both_backends!(#[tokio::test] async fn the_all_brands_digest_ranks_and_averages_each_landscape_apart);
async fn the_all_brands_digest_ranks_and_averages_each_landscape_apart(db: TestDb) {
    let world = World::new(db, "2026-11-30T09:00:00Z").await;
    small_landscape(&world).await;
    for line in [
        "/brand add name:Jet landscape:airlines",
        "/brand add name:Wing landscape:airlines competitor:true",
        "/engagement-rate engagements:10000 followers:100000 brand:Jet platform:x date:2026-11-24",
        "/engagement-rate engagements:20000 followers:100000 brand:Wing platform:x date:2026-11-24",
        "/mentions mentions:500 brand:Solo platform:x date:2026-11-25",
    ] {
        let reply = world.run(line).await;
        assert!(!reply.ephemeral, "{line}: {}", reply.content);
    }
    let digest = metricord::digest::for_guild(
        world.dispatcher.services(),
        GUILD,
        None,
        metricord::period::Period::ending(utc("2026-11-29T00:00:00Z").date_naive(), 7),
        world.now(),
    )
    .await
    .expect("a digest");
    let embed = |title: &str| {
        digest
            .embeds
            .iter()
            .find(|e| e.title == title)
            .map(|e| e.description.clone())
            .unwrap_or_else(|| panic!("no embed {title} in {:?}", digest.embeds))
    };
    // Bean's 2.00% against Brew's 2.70% and Cup's 2.00%: second of three, against the coffee
    // competitors' 2.35%. The airline Wing's 20% is in neither the rank nor the average.
    let coffee = embed("coffee · Bean");
    assert!(
        coffee.contains("**Engagement rate**: 2.00% (new) #2 of 3 · competitor average 2.35%"),
        "{coffee}"
    );
    let airlines = embed("airlines · Jet");
    assert!(
        airlines.contains("**Engagement rate**: 10.0% (new) #2 of 2 · competitor average 20.0%"),
        "{airlines}"
    );
    // A brand in no landscape is shown, never ranked or averaged against anyone.
    assert_eq!(embed("Not in a landscape"), "**Mentions**: Solo 500 (new)");
    let standouts = embed("What stood out");
    assert!(
        standouts.contains("coffee: Bean engagements rose to 1,000 (+43%)"),
        "{standouts}"
    );
    assert!(
        standouts.ends_with("No data in the week: Dunk"),
        "{standouts}"
    );
    assert!(
        digest.content.contains("new: no data the period before"),
        "{}",
        digest.content
    );
}
