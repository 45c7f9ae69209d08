//! Tracking through the stored path: `/track` commands, polls and rounds against the fake
//! platforms (`support/fake_platforms.rs`), stored on both backends, and read back by `/report`
//! and the digest. The clock is set by hand; the fixtures are dated around 1 December 2026.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use metricord::clock::Clock;
use metricord::command::{Invocation, Reply};
use metricord::console::parse_line;
use metricord::dispatcher::Dispatcher;
use metricord::scheduler::Scheduler;
use metricord::services::Post;
use metricord::settings::{CollectSettings, Settings};
use metricord::storage::{CollectedPost, NewTracked, PollWrite};
use metricord::tracking::{Round, collect_all, collect_due};
use secrecy::SecretString;

use crate::support::fake_platforms::{Canned, DID, FakePlatforms, KEY, fixture};
use crate::support::{TestDb, on_both_backends};

const GUILD: u64 = 77;

/// Noon UTC on 1 December 2026, the fixtures' "now".
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

struct World {
    db: TestDb,
    fake: FakePlatforms,
    clock: Clock,
    dispatcher: Arc<Dispatcher>,
}

impl World {
    async fn new(db: TestDb) -> World {
        let fake = FakePlatforms::start().await;
        let clock = Clock::manual(start());
        let dispatcher = World::dispatcher(&db, &fake, &clock).await;
        World {
            db,
            fake,
            clock,
            dispatcher,
        }
    }

    /// A dispatcher of a process of its own on the same database and platforms, as after a
    /// restart.
    async fn dispatcher(db: &TestDb, fake: &FakePlatforms, clock: &Clock) -> Arc<Dispatcher> {
        let settings = Settings {
            database: db.settings(),
            collect: CollectSettings {
                bluesky_url: fake.url.clone(),
                mastodon_url: fake.url.clone(),
                youtube_url: format!("{}/youtube/v3", fake.url),
                youtube_api_key: SecretString::new(KEY.to_string()),
                bluesky_per_minute: 60_000,
                mastodon_per_minute: 60_000,
                youtube_per_minute: 60_000,
                ..CollectSettings::default()
            },
            ..Settings::default()
        };
        Arc::new(Dispatcher::new(Arc::new(settings), db.store().await, clock.clone()).unwrap())
    }

    /// Runs a command as a server admin.
    async fn run(&self, line: &str) -> Reply {
        let line = parse_line(line).unwrap().unwrap();
        self.dispatcher
            .dispatch(Invocation {
                guild_id: Some(GUILD),
                channel_id: 1,
                user_id: 2,
                can_manage_guild: true,
                command: line.command,
                options: line.options,
                upload_limit: None,
            })
            .await
    }

    /// Posts alerts to `discord` through the real serenity client.
    fn post_to(&self, discord: &crate::support::fake_discord::FakeDiscord) {
        let http = serenity::http::HttpBuilder::new("fake-token")
            .proxy(&discord.base_url)
            .ratelimiter_disabled(true)
            .build();
        self.dispatcher
            .services()
            .set_poster(metricord::discord::channel_poster(Arc::new(http)));
    }

    fn set_time(&self, at: DateTime<Utc>) {
        if let Clock::Manual(now) = &self.clock {
            *now.lock().unwrap() = at;
        }
    }

    async fn round(&self) -> Round {
        collect_due(self.dispatcher.services().clone()).await
    }

    /// The stored value of a series, as `(day, value)` pairs.
    async fn values(&self, platform: &str, series: &str) -> Vec<(String, i64)> {
        self.db
            .stored(GUILD)
            .await
            .into_iter()
            .filter(|(_, _, p, s, _)| p == platform && s == series)
            .map(|(day, _, _, _, value)| (day, value))
            .collect()
    }
}

/// All of a reply's text, embeds included.
fn text(reply: &Reply) -> String {
    let mut out = reply.content.clone();
    for embed in &reply.embeds {
        out.push_str(&format!("\n{}\n{}", embed.title, embed.description));
        for field in &embed.fields {
            out.push_str(&format!("\n{}: {}", field.name, field.value));
        }
        if let Some(footer) = &embed.footer {
            out.push_str(&format!("\n{footer}"));
        }
    }
    out
}

on_both_backends!(#[tokio::test] async fn track_add_then_report_shows_collected_numbers_on_each_platform);
async fn track_add_then_report_shows_collected_numbers_on_each_platform(db: TestDb) {
    let world = World::new(db).await;
    // (platform, account as pasted, what the reply says, the newest day's engagements)
    let cases = [
        (
            "bluesky",
            "https://bsky.app/profile/ballet.bsky.social",
            "4,821 followers",
            18,
        ),
        ("mastodon", "@ballet@mastodon.social", "1,523 followers", 31),
        (
            "youtube",
            "youtube.com/@balletwest",
            "12,400 subscribers",
            352,
        ),
    ];
    for (platform, account, audience, engagements) in cases {
        let reply = world
            .run(&format!(
                "/track add brand:\"Ballet West\" platform:{platform} account:{account}"
            ))
            .await;
        let said = text(&reply);
        assert!(!reply.ephemeral, "{said}");
        assert!(said.contains(audience), "{said}");
        assert!(said.contains("Audience history starts today"), "{said}");
        assert!(said.contains("Collected now:"), "{said}");
        assert_eq!(
            world.values(platform, "engagements").await.last(),
            Some(&("2026-11-30".to_string(), engagements)),
            "{platform}"
        );
        let report = text(
            &world
                .run(&format!(
                    "/report brand:\"Ballet West\" platform:{platform} period:7d"
                ))
                .await,
        );
        assert!(report.contains("collected just now"), "{report}");
        assert!(
            report.contains(
                &audience
                    .replace(" followers", "")
                    .replace(" subscribers", "")
            ),
            "{report}"
        );
    }
    // Bluesky: the pinned post counted once, the repost of another account not at all.
    assert_eq!(
        world.values("bluesky", "applause").await,
        [
            ("2026-11-20".to_string(), 25),
            ("2026-11-25".to_string(), 3),
            ("2026-11-26".to_string(), 40),
            ("2026-11-27".to_string(), 2),
            ("2026-11-28".to_string(), 7),
            ("2026-11-29".to_string(), 1),
            ("2026-11-30".to_string(), 12),
        ]
    );
    assert_eq!(
        world.values("bluesky", "followers").await,
        [("2026-12-01".to_string(), 4821)]
    );
    // YouTube publishes no share count: amplification is missing, not 0.
    assert!(world.values("youtube", "amplification").await.is_empty());
    let report = text(&world.run("/report brand:\"Ballet West\"").await);
    assert!(
        report.contains("Mastodon counts are what the account's own instance knows"),
        "{report}"
    );
    assert!(
        report.contains("YouTube rounds subscriber counts"),
        "{report}"
    );
}

on_both_backends!(#[tokio::test] async fn a_poll_reads_three_pages_and_re_reads_the_week_without_counting_twice);
async fn a_poll_reads_three_pages_and_re_reads_the_week_without_counting_twice(db: TestDb) {
    let world = World::new(db).await;
    world
        .run("/track add brand:Ballet platform:bluesky account:ballet.bsky.social")
        .await;
    // The first poll reads back to the end of the feed (three pages, then an empty one).
    assert_eq!(
        world.fake.seen("/xrpc/app.bsky.feed.getAuthorFeed").len(),
        4
    );
    let before = world.values("bluesky", "engagements").await;
    // Not due yet: nothing is polled.
    assert_eq!(world.round().await, Round::default());
    world.set_time(start() + Duration::hours(6));
    assert_eq!(
        world.round().await,
        Round {
            collected: 1,
            failed: 0
        }
    );
    // Later polls read the week: three pages, up to the post older than it.
    assert_eq!(
        world.fake.seen("/xrpc/app.bsky.feed.getAuthorFeed").len(),
        7
    );
    assert_eq!(world.values("bluesky", "engagements").await, before);
    assert_eq!(
        world.values("bluesky", "posts").await.last(),
        Some(&("2026-11-30".to_string(), 1))
    );
}

on_both_backends!(#[tokio::test] async fn rate_limits_and_server_errors_are_waited_out_then_stored);
async fn rate_limits_and_server_errors_are_waited_out_then_stored(db: TestDb) {
    let world = World::new(db).await;
    world.fake.push(
        "/api/v1/accounts/lookup",
        Canned::status(429).header("retry-after", "1"),
    );
    let reply = world
        .run("/track add brand:Ballet platform:mastodon account:https://mastodon.social/@ballet")
        .await;
    assert!(text(&reply).contains("1,523 followers"), "{}", text(&reply));
    world.set_time(start() + Duration::hours(6));
    let statuses = format!(
        "/api/v1/accounts/{}/statuses",
        crate::support::fake_platforms::MASTODON_ID
    );
    world.fake.push(&statuses, Canned::status(500));
    assert_eq!(world.round().await.collected, 1);
    assert_eq!(
        world.values("mastodon", "followers").await,
        [("2026-12-01".to_string(), 1523)]
    );
    let list = text(&world.run("/track list").await);
    assert!(list.contains("Last collected just now"), "{list}");
    assert!(!list.contains("Failing"), "{list}");
}

on_both_backends!(#[tokio::test] async fn unknown_accounts_and_bad_input_are_refused_and_nothing_is_stored);
async fn unknown_accounts_and_bad_input_are_refused_and_nothing_is_stored(db: TestDb) {
    let world = World::new(db).await;
    let cases = [
        ("mastodon", "@nobody@mastodon.social", "does not exist"),
        ("mastodon", "@ballet", "write `@ballet@instance`"),
        ("bluesky", "ballet bsky social", "is not a Bluesky account"),
        ("youtube", "@nobody-here", "does not exist"),
    ];
    for (platform, account, says) in cases {
        let reply = world
            .run(&format!(
                "/track add brand:Ballet platform:{platform} account:\"{account}\""
            ))
            .await;
        assert!(reply.ephemeral, "{reply:?}");
        assert!(reply.content.contains(says), "{}", reply.content);
        assert!(
            reply.content.ends_with("Nothing was tracked."),
            "{}",
            reply.content
        );
    }
    assert!(world.db.stored(GUILD).await.is_empty());
    assert!(text(&world.run("/track list").await).contains("No accounts tracked"));
}

on_both_backends!(#[tokio::test] async fn gone_and_sign_in_only_accounts_are_marked_failing_and_retried_daily);
async fn gone_and_sign_in_only_accounts_are_marked_failing_and_retried_daily(db: TestDb) {
    let world = World::new(db).await;
    world
        .run("/track add brand:Ballet platform:mastodon account:@ballet@mastodon.social")
        .await;
    world
        .run(&format!(
            "/track add brand:Ballet platform:bluesky account:{DID}"
        ))
        .await;
    world.set_time(start() + Duration::hours(6));
    world.fake.push(
        "/api/v1/accounts/lookup",
        Canned::fixture(401, "mastodon/error-401.json"),
    );
    world.fake.push(
        "/xrpc/app.bsky.actor.getProfile",
        Canned::json(400, fixture("bluesky/error-not-found.json")),
    );
    assert_eq!(
        world.round().await,
        Round {
            collected: 0,
            failed: 2
        }
    );
    let list = text(&world.run("/track list").await);
    assert!(
        list.contains("only answers people signed in to it (401)"),
        "{list}"
    );
    assert!(list.contains("does not exist"), "{list}");
    assert!(list.contains("Next try 2026-12-02 18:00 UTC"), "{list}");
    // A day less a minute later they are not tried again; a day later they are.
    world.set_time(start() + Duration::hours(6) + Duration::days(1) - Duration::minutes(1));
    assert_eq!(world.round().await, Round::default());
    world.set_time(start() + Duration::hours(6) + Duration::days(1));
    assert_eq!(world.round().await.collected, 2);
    // The digest names the accounts that were stale, and the top post of the week.
    let digest = text(&world.run("/digest preview").await);
    assert!(digest.contains("Top post of the week"), "{digest}");
}

on_both_backends!(#[tokio::test] async fn a_hidden_subscriber_count_is_missing_never_zero);
async fn a_hidden_subscriber_count_is_missing_never_zero(db: TestDb) {
    let world = World::new(db).await;
    let reply = text(
        &world
            .run("/track add brand:Quiet platform:youtube account:@quietcompany")
            .await,
    );
    assert!(reply.contains("hidden by the channel"), "{reply}");
    assert!(world.values("youtube", "followers").await.is_empty());
}

on_both_backends!(#[tokio::test] async fn a_spent_youtube_quota_or_malformed_json_fails_the_add_with_the_reason);
async fn a_spent_youtube_quota_or_malformed_json_fails_the_add_with_the_reason(db: TestDb) {
    let world = World::new(db).await;
    world.fake.push(
        "/youtube/v3/channels",
        Canned::fixture(403, "youtube/error-quota.json"),
    );
    let reply = world
        .run("/track add brand:Ballet platform:youtube account:@balletwest")
        .await;
    assert!(reply.ephemeral);
    assert!(reply.content.contains("daily quota"), "{}", reply.content);
    assert!(!reply.content.contains(KEY));
    world.fake.push(
        "/xrpc/app.bsky.actor.getProfile",
        Canned::json(200, "{\"did\": 12, "),
    );
    let reply = world
        .run("/track add brand:Ballet platform:bluesky account:ballet.bsky.social")
        .await;
    assert!(reply.ephemeral);
    assert!(
        reply.content.contains("does not understand"),
        "{}",
        reply.content
    );
    assert!(world.db.stored(GUILD).await.is_empty());
}

on_both_backends!(#[tokio::test] async fn a_poll_cut_by_a_crash_writes_nothing_and_is_redone_after_a_restart);
async fn a_poll_cut_by_a_crash_writes_nothing_and_is_redone_after_a_restart(db: TestDb) {
    let world = World::new(db).await;
    world
        .run("/track add brand:Ballet platform:bluesky account:ballet.bsky.social")
        .await;
    let before = world.db.stored(GUILD).await;
    // The next day, the second page of the feed never finishes: the process "dies" there.
    let next_day = start() + Duration::days(1);
    world.set_time(next_day);
    let feed = "/xrpc/app.bsky.feed.getAuthorFeed";
    world
        .fake
        .push(feed, Canned::fixture(200, "bluesky/feed-1.json"));
    world.fake.push(feed, Canned::stall());
    let round = tokio::spawn(collect_due(world.dispatcher.services().clone()));
    while world.fake.seen(feed).len() < 6 {
        tokio::task::yield_now().await;
    }
    round.abort();
    assert!(round.await.unwrap_err().is_cancelled());
    assert_eq!(world.db.stored(GUILD).await, before, "nothing half-written");
    // A restarted process leaves the claim alone while it may still be live, then redoes it.
    let restarted = World::dispatcher(&world.db, &world.fake, &world.clock).await;
    assert_eq!(
        collect_due(restarted.services().clone()).await,
        Round::default()
    );
    world.set_time(next_day + Duration::minutes(6));
    assert_eq!(collect_due(restarted.services().clone()).await.collected, 1);
    assert_eq!(
        world.values("bluesky", "followers").await,
        [
            ("2026-12-01".to_string(), 4821),
            ("2026-12-02".to_string(), 4821)
        ]
    );
}

on_both_backends!(#[tokio::test] async fn a_typed_value_is_never_overwritten_by_a_collected_one);
async fn a_typed_value_is_never_overwritten_by_a_collected_one(db: TestDb) {
    let world = World::new(db).await;
    world.run("/brand add name:Ballet").await;
    let typed = world
        .run("/engagement applause:500 conversation:50 amplification:5 brand:Ballet platform:bluesky date:2026-11-30")
        .await;
    assert!(!typed.ephemeral, "{typed:?}");
    world
        .run("/track add brand:Ballet platform:bluesky account:ballet.bsky.social")
        .await;
    world.set_time(start() + Duration::hours(7));
    assert_eq!(world.round().await.collected, 1);
    let collect_every = collect_all(world.dispatcher.services().clone())
        .await
        .unwrap();
    assert_eq!(collect_every.collected, 1);
    assert_eq!(
        world.values("bluesky", "applause").await.last(),
        Some(&("2026-11-30".to_string(), 500))
    );
    assert_eq!(
        world.values("bluesky", "conversation").await.last(),
        Some(&("2026-11-30".to_string(), 50))
    );
    // Series nobody typed are collected for that day.
    assert_eq!(
        world.values("bluesky", "posts").await.last(),
        Some(&("2026-11-30".to_string(), 1))
    );
    // The export says which values were typed and which collected.
    let export = world.run("/export brand:Ballet").await;
    let csv = String::from_utf8(export.attachments[0].bytes.clone()).unwrap();
    assert!(
        csv.starts_with("date,brand,platform,metric,value,source\n"),
        "{csv}"
    );
    assert!(
        csv.contains("2026-11-30,Ballet,bluesky,applause,500,typed\n"),
        "{csv}"
    );
    assert!(
        csv.contains("2026-11-30,Ballet,bluesky,posts,1,collected\n"),
        "{csv}"
    );
    assert!(
        csv.contains("2026-12-01,Ballet,bluesky,followers,4821,collected\n"),
        "{csv}"
    );
    // Removing the account keeps what was collected.
    let removed = text(
        &world
            .run("/track remove platform:bluesky account:@ballet.bsky.social")
            .await,
    );
    assert!(
        removed.contains("What was collected stays (7 posts)"),
        "{removed}"
    );
    assert!(!world.values("bluesky", "posts").await.is_empty());
}

on_both_backends!(#[tokio::test] async fn the_scheduler_polls_due_accounts_and_a_stalled_host_delays_no_other);
async fn the_scheduler_polls_due_accounts_and_a_stalled_host_delays_no_other(db: TestDb) {
    let world = World::new(db).await;
    // Mastodon first: it is due first, and claimed first.
    world
        .run("/track add brand:Ballet platform:mastodon account:@ballet@mastodon.social")
        .await;
    world
        .run("/track add brand:Ballet platform:bluesky account:ballet.bsky.social")
        .await;
    let post: Post = Arc::new(|_| Box::pin(async { Ok(()) }));
    let scheduler = Scheduler::new(
        world.dispatcher.services().clone(),
        post,
        world.clock.clone(),
        Duration::hours(6),
    );
    // More accounts on the Mastodon instance than a round polls at once, all due before the
    // Bluesky account: the stalled instance holds only its own slots.
    let store = world.db.store().await;
    let brand_id = store.tracked(Some(GUILD)).await.unwrap()[0].brand_id;
    for i in 0..40 {
        let key = format!("fan{i}@mastodon.social");
        let tracked = store
            .track(&NewTracked {
                guild_id: GUILD,
                brand_id,
                network: "mastodon",
                account: &key,
                handle: &format!("@{key}"),
                name: "Fan",
                link: "https://mastodon.social/@fan",
                added_by: 1,
                added_at: start().timestamp(),
                claimed_until: 0,
            })
            .await
            .unwrap();
        assert!(tracked.is_some());
    }
    // The next day the Mastodon instance stops answering; Bluesky is collected all the same.
    world.set_time(start() + Duration::days(1));
    world.fake.stall("/api/v1/accounts/lookup");
    let round = scheduler.collect(None);
    let mut checks = 0;
    while world.values("bluesky", "followers").await.len() < 2 {
        checks += 1;
        assert!(checks < 10_000, "Bluesky was held up by the stalled host");
        tokio::task::yield_now().await;
    }
    // The round is still going (the stalled polls hold only their host's slots): the scheduler's
    // next step does not start another one over it.
    assert!(!round.is_finished());
    let same = scheduler.collect(Some(round));
    assert!(!same.is_finished());
    same.abort();
    assert!(world.values("mastodon", "followers").await.len() == 1);
}

on_both_backends!(#[tokio::test] async fn tracking_an_account_twice_is_refused_and_creates_no_brand);
async fn tracking_an_account_twice_is_refused_and_creates_no_brand(db: TestDb) {
    let world = World::new(db).await;
    world
        .run("/track add brand:Ballet platform:bluesky account:ballet.bsky.social")
        .await;
    // The same account by its DID, for another brand.
    let reply = world
        .run(&format!(
            "/track add brand:Other platform:bluesky account:{DID}"
        ))
        .await;
    assert!(reply.ephemeral);
    assert_eq!(
        reply.content,
        "@ballet.bsky.social is tracked already, for Ballet; `/track list` shows it."
    );
    let brands = text(&world.run("/brand list").await);
    assert!(!brands.contains("Other"), "{brands}");
}

on_both_backends!(#[tokio::test] async fn a_day_whose_posts_hide_every_count_has_no_engagements_not_zero);
async fn a_day_whose_posts_hide_every_count_has_no_engagements_not_zero(db: TestDb) {
    let world = World::new(db).await;
    world
        .run("/track add brand:Quiet platform:youtube account:@quietcompany")
        .await;
    let store = world.db.store().await;
    let account = store.tracked(Some(GUILD)).await.unwrap().remove(0);
    let day = start().date_naive();
    let hidden = CollectedPost {
        post_id: "vHidden0001".into(),
        link: "https://www.youtube.com/watch?v=vHidden0001".into(),
        published: start().timestamp(),
        day,
        applause: None,
        conversation: None,
        amplification: None,
    };
    store
        .record_poll(&PollWrite {
            account: &account,
            followers: None,
            today: day,
            posts: &[hidden],
            at: start(),
            next_poll: start().timestamp() + 3600,
        })
        .await
        .unwrap();
    assert_eq!(
        world.values("youtube", "posts").await,
        [("2026-12-01".to_string(), 1)]
    );
    assert!(world.values("youtube", "engagements").await.is_empty());
    assert!(world.values("youtube", "applause").await.is_empty());
}

on_both_backends!(#[tokio::test] async fn a_collected_youtube_count_moving_less_than_its_rounding_is_not_growth);
async fn a_collected_youtube_count_moving_less_than_its_rounding_is_not_growth(db: TestDb) {
    let world = World::new(db).await;
    // 12,400 subscribers collected today, as YouTube shows them: to the nearest 100.
    world
        .run("/track add brand:Ballet platform:youtube account:@balletwest")
        .await;
    world
        .run("/audience followers:12350 brand:Ballet platform:youtube date:2026-11-28")
        .await;
    let report = text(
        &world
            .run("/report brand:Ballet platform:youtube period:2026-11-30..2026-12-01")
            .await,
    );
    assert!(
        report.contains(
            "youtube: 12,400 · no change beyond YouTube's rounding (to 100 at this size)"
        ),
        "{report}"
    );
    // A whole step is reported as the change it is.
    world
        .run("/audience followers:12300 brand:Ballet platform:youtube date:2026-11-29")
        .await;
    let report = text(
        &world
            .run("/report brand:Ballet platform:youtube period:2026-11-30..2026-12-01")
            .await,
    );
    assert!(
        report.contains("youtube: 12,400 · +100 (+0.813%)"),
        "{report}"
    );
}

on_both_backends!(#[tokio::test] async fn a_poll_that_stores_data_judges_the_brands_alerts_at_once);
async fn a_poll_that_stores_data_judges_the_brands_alerts_at_once(db: TestDb) {
    use crate::support::fake_discord::{CHANNEL_ID, FakeDiscord};
    let world = World::new(db).await;
    world
        .run(&format!(
            "/track add brand:Ballet platform:bluesky account:{DID}"
        ))
        .await;
    let added = world
        .run(&format!(
            "/alert add brand:Ballet metric:audience channel:{CHANNEL_ID} kind:threshold direction:up value:5,000"
        ))
        .await;
    assert!(!added.ephemeral, "{}", text(&added));
    let discord = FakeDiscord::start().await;
    world.post_to(&discord);

    // The next day's poll finds 5,100 followers: the rule fires as the poll stores them.
    world.set_time(start() + Duration::days(1));
    let grown = fixture("bluesky/profile.json")
        .replace("\"followersCount\": 4821", "\"followersCount\": 5100");
    world
        .fake
        .push("/xrpc/app.bsky.actor.getProfile", Canned::json(200, grown));
    assert_eq!(world.round().await.collected, 1);
    let posted = discord.channel_messages(CHANNEL_ID);
    assert_eq!(posted.len(), 1, "the crossing is posted by the poll");
    let said = posted[0].json["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        said.contains("Threshold") && said.contains("5,100"),
        "{said}"
    );

    // A later poll with no new crossing posts nothing more.
    world.set_time(start() + Duration::days(1) + Duration::hours(6));
    assert_eq!(world.round().await.collected, 1);
    assert_eq!(discord.channel_messages(CHANNEL_ID).len(), 1);
}

on_both_backends!(#[tokio::test] async fn a_breakout_post_fires_once_with_its_link_and_only_with_20_posts_behind_it);
async fn a_breakout_post_fires_once_with_its_link_and_only_with_20_posts_behind_it(db: TestDb) {
    use crate::support::fake_discord::{CHANNEL_ID, FakeDiscord};
    let world = World::new(db).await;
    world
        .run(&format!(
            "/track add brand:Ballet platform:bluesky account:{DID}"
        ))
        .await;
    let discord = FakeDiscord::start().await;
    world.post_to(&discord);
    let added = world
        .run(&format!(
            "/alert add brand:Ballet channel:{CHANNEL_ID} kind:breakout k:3"
        ))
        .await;
    assert!(!added.ephemeral, "{}", text(&added));
    // A brand without collected posts, and a scope on a spike rule: refused, nothing stored.
    world.run("/brand add name:Untracked").await;
    let refused = world
        .run(&format!(
            "/alert add brand:Untracked channel:{CHANNEL_ID} kind:breakout"
        ))
        .await;
    assert!(
        refused.ephemeral && text(&refused).contains("track one of its accounts first"),
        "{}",
        text(&refused)
    );
    let refused = world
        .run(&format!(
            "/alert add brand:Ballet metric:audience channel:{CHANNEL_ID} kind:spike scope:landscape"
        ))
        .await;
    assert!(
        refused.ephemeral && text(&refused).contains("scope"),
        "{}",
        text(&refused)
    );
    let store = world.db.store().await;
    assert_eq!(store.alerts(Some(GUILD)).await.unwrap().len(), 1);
    let account = store.tracked(Some(GUILD)).await.unwrap().remove(0);
    // Posts of today, 1,000 followers: 9 or 11 likes (0.9% or 1.1%), and one of 50 (5%).
    let day = start().date_naive();
    let post = |i: i64, likes: Option<i64>| CollectedPost {
        post_id: format!("at://did:plc:test/app.bsky.feed.post/p{i}"),
        link: format!("https://bsky.app/profile/ballet.bsky.social/post/p{i}"),
        published: (start() - Duration::hours(11) + Duration::minutes(i)).timestamp(),
        day,
        applause: Some(likes.unwrap_or([9, 11][i as usize % 2])),
        conversation: None,
        amplification: None,
    };
    let mut posts: Vec<CollectedPost> = (0..19).map(|i| post(i, None)).collect();
    posts.push(post(99, Some(50)));
    let write = |posts: Vec<CollectedPost>| {
        let store = store.clone();
        let account = account.clone();
        async move {
            store
                .record_poll(&PollWrite {
                    account: &account,
                    followers: Some(1000),
                    today: day,
                    posts: &posts,
                    at: start(),
                    next_poll: start().timestamp() + 3600,
                })
                .await
                .unwrap();
        }
    };
    write(posts).await;
    let judge = || async {
        let services = world.dispatcher.services();
        metricord::alerts::after_new_data(&services.context(GUILD, 0), None).await;
    };
    judge().await;
    assert!(
        discord.channel_messages(CHANNEL_ID).is_empty(),
        "19 posts behind it are too few"
    );
    let test = text(&world.run("/alert test id:1").await);
    assert!(test.contains("Would not fire: only 20 posts"), "{test}");

    write(vec![post(19, None)]).await;
    judge().await;
    let posted = discord.channel_messages(CHANNEL_ID);
    assert_eq!(posted.len(), 1);
    let said = posted[0].json["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(said.contains("Breakout post"), "{said}");
    assert!(
        said.contains("https://bsky.app/profile/ballet.bsky.social/post/p99"),
        "{said}"
    );
    // 20 others, ten at 0.9% and ten at 1.1%: mean 1%, sd 0.10.
    assert!(
        said.contains("5.00% engagement by followers, against a mean of 1.00% (sd 0.10)"),
        "{said}"
    );

    // After the cooldown the same post is still far above the rest, and stays told once.
    world.set_time(start() + Duration::hours(25));
    judge().await;
    assert_eq!(discord.channel_messages(CHANNEL_ID).len(), 1);
    let test = text(&world.run("/alert test id:1").await);
    assert!(
        test.contains("Would fire") && test.contains("5.00%"),
        "{test}"
    );
}
