//! Alerts and goals end to end: rules judged on days of logged data with a hand-set clock, each
//! event claimed once and posted through the real serenity HTTP client to the fake Discord.

use std::sync::Arc;

use crate::support::fake_discord::*;
use crate::support::{TestDb, on_both_backends};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use metricord::clock::Clock;
use metricord::command::{Invocation, Reply};
use metricord::console::parse_line;
use metricord::discord::channel_poster;
use metricord::dispatcher::Dispatcher;
use metricord::limits;
use metricord::scheduler::Scheduler;
use metricord::services::{Outgoing, Post, PostError};
use metricord::settings::Settings;
use serde_json::json;
use serenity::http::HttpBuilder;

const GUILD: u64 = GUILD_ID;
const OTHER_GUILD: u64 = GUILD_ID + 1;
const CHANNEL: u64 = CHANNEL_ID;
const ROLE: u64 = 5555;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a test time")
        .with_timezone(&Utc)
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a test day")
}

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

    async fn run_in(&self, guild: u64, line: &str) -> Reply {
        let line = parse_line(line).expect("a valid line").expect("a command");
        self.dispatcher
            .dispatch(Invocation {
                guild_id: Some(guild),
                channel_id: CHANNEL,
                user_id: USER_ID,
                can_manage_guild: true,
                command: line.command,
                options: line.options,
                upload_limit: None,
            })
            .await
    }

    async fn run(&self, line: &str) -> Reply {
        self.run_in(GUILD, line).await
    }

    /// Runs a command that must succeed.
    async fn ok(&self, line: &str) -> Reply {
        let reply = self.run(line).await;
        assert!(!reply.ephemeral, "{line}: {}", reply.content);
        reply
    }

    fn poster(&self) -> Post {
        let http = HttpBuilder::new("fake-token")
            .proxy(&self.fake.base_url)
            .ratelimiter_disabled(true)
            .build();
        channel_poster(Arc::new(http))
    }

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

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn lease(&self) -> Duration {
        self.dispatcher.services().settings.digest.lease
    }

    fn posted(&self) -> Vec<Recorded> {
        self.fake.channel_messages(CHANNEL)
    }

    /// `values[i]` mentions for Bean on `first + i` days.
    async fn mentions(&self, first: &str, values: &[i64]) {
        for (i, value) in values.iter().enumerate() {
            let on = day(first) + Duration::days(i as i64);
            self.ok(&format!("/mentions mentions:{value} brand:Bean date:{on}"))
                .await;
        }
    }

    /// 28 days of Bean mentions from 2026-11-01, around 100 (median 100, MAD 5).
    async fn usual_month(&self) {
        let values: Vec<i64> = (0..28).map(|i| [90, 100, 110, 100][i % 4]).collect();
        self.mentions("2026-11-01", &values).await;
    }
}

fn content(message: &Recorded) -> String {
    message.json["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Whether a message may ping no role.
fn no_roles(message: &Recorded) -> bool {
    let roles = &message.json["allowed_mentions"]["roles"];
    roles.is_null() || roles == &json!([])
}

/// A post that reaches Discord but whose process "dies" before recording it.
fn dies_after_posting(post: Post) -> Post {
    Arc::new(move |outgoing: Outgoing| {
        let post = post.clone();
        Box::pin(async move {
            post(outgoing).await?;
            Err(PostError::Retry("the process stopped".to_string()))
        })
    })
}

on_both_backends!(#[tokio::test] async fn a_spike_fires_once_pings_only_its_role_and_waits_out_its_cooldown);
async fn a_spike_fires_once_pings_only_its_role_and_waits_out_its_cooldown(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    world.ok("/brand add name:Bean").await;
    world.usual_month().await;
    let reply = world
        .ok(&format!(
            "/alert add brand:Bean metric:mentions channel:{CHANNEL} kind:spike role:<@&{ROLE}>"
        ))
        .await;
    assert!(
        reply
            .content
            .starts_with("Alert #1: Bean Mentions spike or dip (robust z beyond 3)"),
        "{}",
        reply.content
    );
    world.mentions("2026-11-29", &[300]).await;

    let test = world.ok("/alert test id:1").await;
    let fields: Vec<(String, String)> = test.embeds[0]
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.value.clone()))
        .collect();
    // median 100, MAD 5: z = 200 / (1.4826 x 5) = 26.98.
    assert!(
        fields.contains(&("Value on 2026-11-29".into(), "300".into())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("Median of 28 days".into(), "100".into())),
        "{fields:?}"
    );
    assert!(fields.contains(&("MAD".into(), "5".into())), "{fields:?}");
    assert!(
        fields.contains(&("Robust z".into(), "+26.98".into())),
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|(n, v)| n == "Decision" && v.starts_with("Would fire")),
        "{fields:?}"
    );

    let scheduler = world.scheduler(world.poster());
    assert_eq!(scheduler.tick().await.expect("a step").alerts, 1);
    assert_eq!(
        scheduler.tick().await.expect("a step").alerts,
        0,
        "posted once"
    );
    let posted = world.posted();
    assert_eq!(posted.len(), 1);
    let text = content(&posted[0]);
    assert_eq!(
        text,
        format!(
            "<@&{ROLE}> 📈 **Spike** · Bean Mentions on 2026-11-29: 300, against a median of 100 over the 28 days before (MAD 5, robust z +27.0, threshold 3). Alert #1."
        )
    );
    assert!(text.chars().count() <= limits::CONTENT);
    assert_eq!(posted[0].json["allowed_mentions"]["parse"], json!([]));
    assert_eq!(
        posted[0].json["allowed_mentions"]["roles"],
        json!([ROLE.to_string()])
    );

    // Another spike the next morning is inside the 24-hour cooldown; after it, it posts.
    world.set_time(utc("2026-11-30T11:00:00Z"));
    world.mentions("2026-11-30", &[320]).await;
    assert_eq!(
        scheduler.tick().await.expect("a step").alerts,
        0,
        "inside the cooldown"
    );
    let test = world.ok("/alert test id:1").await;
    let cooldown = test.embeds[0]
        .fields
        .iter()
        .find(|f| f.name == "Cooldown")
        .map(|f| f.value.clone());
    assert_eq!(
        cooldown.as_deref(),
        Some("It alerted lately and posts again after 2026-11-30 12:00 UTC.")
    );
    world.set_time(utc("2026-11-30T12:30:00Z"));
    assert_eq!(scheduler.tick().await.expect("a step").alerts, 1);
    let events = world
        .db
        .store()
        .await
        .alert_events(1)
        .await
        .expect("events");
    assert_eq!(
        events,
        [
            (day("2026-11-29"), "posted".to_string()),
            (day("2026-11-30"), "posted".to_string())
        ]
    );
    // Rules and their events move with the rest of the data (`metricord migrate-data`).
    let dump = world.db.store().await.dump().await.expect("a dump");
    assert_eq!((dump.alert_rules.len(), dump.alert_events.len()), (1, 2));
    let copy = TestDb::new();
    let target = copy.store().await;
    target.load(&dump).await.expect("a load");
    assert_eq!(target.dump().await.expect("a dump"), dump);
}

on_both_backends!(#[tokio::test] async fn a_dip_fires_but_not_with_under_14_days_of_history);
async fn a_dip_fires_but_not_with_under_14_days_of_history(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    world.ok("/brand add name:Bean").await;
    world.mentions("2026-11-16", &[100; 13]).await;
    let reply = world
        .ok(&format!(
            "/alert add brand:Bean metric:mentions channel:{CHANNEL} kind:spike direction:down"
        ))
        .await;
    assert!(
        reply.content.contains("stays quiet until Bean has 14 days"),
        "{}",
        reply.content
    );
    world.mentions("2026-11-29", &[5]).await;
    let scheduler = world.scheduler(world.poster());
    assert_eq!(scheduler.tick().await.expect("a step").alerts, 0);
    let test = world.ok("/alert test id:1").await;
    let decision = &test.embeds[0].fields.last().expect("a decision").value;
    assert!(
        decision.contains(
            "only 13 of the 28 days before 2026-11-29 have data; a spike or dip needs at least 14"
        ),
        "{decision}"
    );

    // A day more of history, and the next day's drop is a dip.
    world.set_time(utc("2026-11-30T12:00:00Z"));
    world.mentions("2026-11-29", &[100, 5]).await;
    assert_eq!(scheduler.tick().await.expect("a step").alerts, 1);
    let text = content(&world.posted()[0]);
    assert!(
        text.starts_with("📉 **Dip** · Bean Mentions on 2026-11-30: 5, against a median of 100"),
        "{text}"
    );
    assert_eq!(
        world.posted()[0].json["allowed_mentions"]["parse"],
        json!([])
    );
    assert!(no_roles(&world.posted()[0]));
}

on_both_backends!(#[tokio::test] async fn a_threshold_fires_once_per_crossing);
async fn a_threshold_fires_once_per_crossing(db: TestDb) {
    let world = World::new(db, "2026-11-26T12:00:00Z").await;
    world.ok("/brand add name:Bean").await;
    world
        .ok("/audience followers:9,900 brand:Bean date:2026-11-26")
        .await;
    world
        .ok(&format!("/alert add brand:Bean metric:audience channel:{CHANNEL} kind:threshold value:10,000 direction:up"))
        .await;
    let scheduler = world.scheduler(world.poster());
    let mut fired = Vec::new();
    for (on, followers) in [
        ("2026-11-27", 10_050),
        ("2026-11-28", 10_100),
        ("2026-11-29", 9_950),
        ("2026-11-30", 10_020),
        ("2026-12-01", 10_400),
    ] {
        world.set_time(utc(&format!("{on}T12:00:00Z")));
        world
            .ok(&format!(
                "/audience followers:{followers} brand:Bean date:{on}"
            ))
            .await;
        if scheduler.tick().await.expect("a step").alerts > 0 {
            fired.push(on);
        }
    }
    assert_eq!(fired, ["2026-11-27", "2026-11-30"]);
    assert_eq!(
        content(&world.posted()[0]),
        "🔔 **Threshold** · Bean Audience reached 10,000 on 2026-11-27: 10,050 (was 9,900 on 2026-11-26). Alert #1."
    );
}

on_both_backends!(#[tokio::test] async fn a_restart_between_claim_and_post_neither_loses_nor_repeats_an_alert);
async fn a_restart_between_claim_and_post_neither_loses_nor_repeats_an_alert(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    world.ok("/brand add name:Bean").await;
    world.usual_month().await;
    world
        .ok(&format!(
            "/alert add brand:Bean metric:mentions channel:{CHANNEL} kind:spike"
        ))
        .await;
    world.mentions("2026-11-29", &[300]).await;
    let services = world.dispatcher.services().clone();

    // Claimed, then the process stops before posting.
    let claims = metricord::alerts::sweep(&services, world.now())
        .await
        .expect("a sweep");
    assert_eq!(claims.len(), 1);
    let claimed_at = world.now();
    let post = world.poster();
    world.set_time(claimed_at + world.lease() - Duration::minutes(1));
    assert_eq!(
        world
            .scheduler(post.clone())
            .tick()
            .await
            .expect("a step")
            .alerts,
        0,
        "inside the lease"
    );
    world.set_time(claimed_at + world.lease() + Duration::minutes(1));
    assert_eq!(
        world
            .scheduler(post.clone())
            .tick()
            .await
            .expect("a step")
            .alerts,
        1,
        "taken over"
    );
    assert_eq!(
        world
            .scheduler(post.clone())
            .tick()
            .await
            .expect("a step")
            .alerts,
        0
    );
    assert_eq!(world.posted().len(), 1);

    // Posted, then the process stops before recording it: the retry's nonce returns the first
    // message instead of a second.
    world.set_time(utc("2026-11-30T13:00:00Z"));
    world.mentions("2026-11-30", &[320]).await;
    world
        .scheduler(dies_after_posting(post.clone()))
        .tick()
        .await
        .expect("a step");
    assert_eq!(world.posted().len(), 2);
    world.set_time(world.now() + world.lease() + Duration::minutes(1));
    assert_eq!(
        world
            .scheduler(post.clone())
            .tick()
            .await
            .expect("a step")
            .alerts,
        1
    );
    assert_eq!(world.posted().len(), 2, "the nonce kept it to one message");
    let events = world
        .db
        .store()
        .await
        .alert_events(1)
        .await
        .expect("events");
    assert!(
        events.iter().all(|(_, state)| state == "posted"),
        "{events:?}"
    );
}

on_both_backends!(#[tokio::test] async fn data_logged_in_discord_alerts_at_once_and_a_gone_channel_stops_the_rule);
async fn data_logged_in_discord_alerts_at_once_and_a_gone_channel_stops_the_rule(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    world.ok("/brand add name:Bean").await;
    world.usual_month().await;
    world
        .ok(&format!(
            "/alert add brand:Bean metric:mentions channel:{CHANNEL} kind:spike"
        ))
        .await;
    world.dispatcher.services().set_poster(world.poster());
    world.mentions("2026-11-29", &[300]).await;
    assert_eq!(world.posted().len(), 1, "posted when the data arrived");

    world.fake.forbid_channel(CHANNEL, 404);
    world.set_time(utc("2026-11-30T13:00:00Z"));
    world.mentions("2026-11-30", &[320]).await;
    let list = world.ok("/alert list").await;
    let rule = &list.embeds[0].fields[0].value;
    assert!(
        rule.contains("⚠️ Stopped: the channel no longer exists (404)"),
        "{rule}"
    );
    world.set_time(utc("2026-12-02T13:00:00Z"));
    world.mentions("2026-12-02", &[400]).await;
    let attempts = world
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("/messages"))
        .count();
    assert_eq!(attempts, 2, "a stopped rule does not try again");
}

on_both_backends!(#[tokio::test] async fn goals_pace_project_and_close_once_in_the_list_the_digest_and_the_channel);
async fn goals_pace_project_and_close_once_in_the_list_the_digest_and_the_channel(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    world.ok("/brand add name:Bean").await;
    // Followers 10,000 on 2026-11-01, 20 more each day: 10,560 on 2026-11-29.
    for i in 0..29 {
        let on = day("2026-11-01") + Duration::days(i);
        world
            .ok(&format!(
                "/audience followers:{} brand:Bean date:{on}",
                10_000 + 20 * i
            ))
            .await;
    }
    world.usual_month().await;
    let reply = world
        .ok(&format!("/goal set brand:Bean metric:audience target:15,000 by:2027-03-09 channel:{CHANNEL} from:2026-11-01"))
        .await;
    assert!(
        reply.content.starts_with(
            "Goal #1: Bean Audience up to 15,000 by 2027-03-09 (from 10,000 on 2026-11-01)"
        ),
        "{}",
        reply.content
    );
    world
        .ok(&format!(
            "/goal set brand:Bean metric:mentions target:50 by:2026-12-05 channel:{CHANNEL}"
        ))
        .await;

    // 28 of 128 days: the pace says 10,000 + 5,000 x 28/128 = 11,094; 10,560 is 534 behind.
    // The trend of +20 a day reaches 10,560 + 20 x 100 = 12,560 by 9 Mar.
    let expected = "Bean Audience up to 15,000 by 2027-03-09 (from 10,000 on 2026-11-01)\nNow 10,560 (2026-11-29) · pace says 11,094 today · behind by 534\nOn pace for 12,560 of 15,000 by 9 Mar 2027";
    let list = world.ok("/goal list").await;
    assert_eq!(list.embeds[0].fields[0].value, expected);
    let digest = metricord::digest::for_guild(
        world.dispatcher.services(),
        GUILD,
        None,
        metricord::period::Period::ending(day("2026-11-28"), 7),
        world.now(),
    )
    .await
    .expect("a digest");
    let goals = digest
        .embeds
        .iter()
        .find(|e| e.title == "Goals")
        .expect("a goals section");
    assert_eq!(goals.fields[0].value, expected);
    assert!(
        goals.fields[1]
            .value
            .starts_with("Bean Mentions down to 50 by 2026-12-05 (from 100 on 2026-11-29)"),
        "{}",
        goals.fields[1].value
    );

    let scheduler = world.scheduler(world.poster());
    assert_eq!(scheduler.tick().await.expect("a step").alerts, 0);
    world.set_time(utc("2026-11-30T12:00:00Z"));
    world
        .ok("/audience followers:15,100 brand:Bean date:2026-11-30")
        .await;
    assert_eq!(scheduler.tick().await.expect("a step").alerts, 1);
    assert_eq!(
        scheduler.tick().await.expect("a step").alerts,
        0,
        "heard once"
    );
    world.set_time(utc("2026-12-06T12:00:00Z"));
    assert_eq!(scheduler.tick().await.expect("a step").alerts, 1);
    world.set_time(utc("2026-12-07T12:00:00Z"));
    assert_eq!(scheduler.tick().await.expect("a step").alerts, 0);
    let posted = world.posted();
    let texts: Vec<String> = posted.iter().map(content).collect();
    assert_eq!(
        texts,
        [
            "🎯 Goal #1 met: Bean Audience reached 15,100 on 2026-11-30 (target 15,000 by 2027-03-09).",
            "⌛ Goal #2: the deadline 2026-12-05 passed; Bean Mentions is at 100 of the target 50 (from 100).",
        ]
    );
    for message in &posted {
        assert_eq!(message.json["allowed_mentions"]["parse"], json!([]));
        assert!(no_roles(message));
    }
    let list = world.ok("/goal list").await;
    assert!(
        list.embeds[0].fields[0].value.ends_with("· met ✅"),
        "{}",
        list.embeds[0].fields[0].value
    );
    // Goals and their closing events move with the rest of the data.
    let dump = world.db.store().await.dump().await.expect("a dump");
    assert_eq!((dump.goals.len(), dump.goal_events.len()), (2, 2));
    let copy = TestDb::new();
    let target = copy.store().await;
    target.load(&dump).await.expect("a load");
    assert_eq!(target.dump().await.expect("a dump"), dump);
}

on_both_backends!(#[tokio::test] async fn bad_rules_and_goals_get_a_clear_reply_and_store_nothing);
async fn bad_rules_and_goals_get_a_clear_reply_and_store_nothing(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    world.ok("/brand add name:Bean").await;
    world.usual_month().await;
    world
        .ok("/audience followers:10,000 brand:Bean date:2026-11-01")
        .await;
    world
        .ok("/audience followers:10,600 brand:Bean date:2026-11-29")
        .await;
    let alert =
        |rest: &str| format!("/alert add brand:Bean metric:mentions channel:{CHANNEL} {rest}");
    let goal = |rest: &str| format!("/goal set brand:Bean channel:{CHANNEL} {rest}");
    for (line, said) in [
        (
            alert("kind:spike k:0"),
            "`k` must be a number above 0 and at most 10",
        ),
        (
            alert("kind:spike k:-2"),
            "`k` must be a number above 0 and at most 10",
        ),
        (
            alert("kind:spike k:11"),
            "`k` must be a number above 0 and at most 10",
        ),
        (
            alert("kind:spike k:lots"),
            "`k` must be a number above 0 and at most 10",
        ),
        (alert("kind:threshold"), "`value` is required"),
        (
            alert(&format!("kind:spike role:<@&{GUILD}>")),
            "`role` must be a role other than @everyone",
        ),
        (
            format!("/alert add brand:Bean metric:ctr channel:{CHANNEL} kind:spike"),
            "Bean has no CTR logged in the last 92 days",
        ),
        (
            goal("metric:audience target:10,500 by:2027-03-01 from:2026-11-01"),
            "Bean's Audience is already 10,600, at or past the target of 10,500",
        ),
        (
            goal("metric:audience target:15,000 by:2026-11-20"),
            "`by` must be a day after today (2026-11-29)",
        ),
        (
            goal("metric:audience target:15,000 by:2027-03-01 from:2027-03-05"),
            "`from` must be a day before `by` (2027-03-01)",
        ),
        (
            goal("metric:ctr target:5 by:2027-03-01"),
            "Bean has no CTR logged in the 92 days up to 2026-11-29",
        ),
        (
            goal("metric:audience target:many by:2027-03-01"),
            "`target` must be a number",
        ),
    ] {
        let reply = world.run(&line).await;
        assert!(
            reply.ephemeral && reply.content.contains(said),
            "{line}: {}",
            reply.content
        );
    }
    // The same rule from another server names a brand it does not have.
    let reply = world
        .run_in(
            OTHER_GUILD,
            &format!("/alert add brand:Bean metric:mentions channel:{CHANNEL} kind:spike"),
        )
        .await;
    assert!(reply.ephemeral, "{}", reply.content);
    let store = world.db.store().await;
    assert!(store.alerts(None).await.expect("rules").is_empty());
    assert!(store.goals(None).await.expect("goals").is_empty());

    // Removing a brand removes its rules and goals.
    world.ok(&alert("kind:spike")).await;
    world
        .ok(&goal("metric:audience target:15,000 by:2027-03-01"))
        .await;
    let unconfirmed = world.run("/alert remove id:1").await;
    assert!(unconfirmed.ephemeral && unconfirmed.content.contains("confirm:true"));
    world.ok("/brand remove name:Bean confirm:true").await;
    assert!(store.alerts(None).await.expect("rules").is_empty());
    assert!(store.goals(None).await.expect("goals").is_empty());
}

on_both_backends!(#[tokio::test] async fn the_false_alarm_measure_counts_each_day_a_default_rule_would_fire);
async fn the_false_alarm_measure_counts_each_day_a_default_rule_would_fire(db: TestDb) {
    let world = World::new(db, "2026-12-10T12:00:00Z").await;
    world.ok("/brand add name:Bean").await;
    // 40 days of 100 mentions, but 500 on 2026-12-01 (day 31).
    let values: Vec<i64> = (0..40).map(|i| if i == 30 { 500 } else { 100 }).collect();
    world.mentions("2026-11-01", &values).await;
    let services = world.dispatcher.services();
    let rates = metricord::alerts::rates::measure(
        &services.store,
        &services.registry,
        GUILD,
        day("2026-11-01"),
        day("2026-12-10"),
    )
    .await
    .expect("a measure");
    assert_eq!((rates.brands, rates.judged_days), (1, 12));
    let fires: Vec<(&str, [usize; 3])> = rates
        .metrics
        .iter()
        .filter(|m| m.fires != [0, 0, 0])
        .map(|m| (m.metric, m.fires))
        .collect();
    // The spike day fires as a spike and as either; the day after it does not.
    assert_eq!(fires, [("mentions", [1, 0, 1])]);
    // One alert in 12 days is 30.44 / 12 = 2.54 a month.
    assert!(
        rates.table().contains("| mentions | 2.54 | 0.00 | 2.54 |"),
        "{}",
        rates.table()
    );
}

on_both_backends!(#[tokio::test] async fn a_trend_of_a_brand_with_a_goal_draws_its_target_and_pace);
async fn a_trend_of_a_brand_with_a_goal_draws_its_target_and_pace(db: TestDb) {
    let world = World::new(db, "2026-11-29T12:00:00Z").await;
    world.ok("/brand add name:Bean").await;
    world
        .ok("/audience followers:10,000 brand:Bean date:2026-11-01")
        .await;
    world
        .ok(&format!("/goal set brand:Bean metric:audience target:15,000 by:2027-03-09 channel:{CHANNEL} from:2026-11-01"))
        .await;
    let services = world.dispatcher.services();
    let ctx = services.context(GUILD, USER_ID);
    let plugin = services.registry.by_name("audience").expect("audience");
    let bean = ctx.brand("Bean").await.expect("Bean");
    let period = metricord::period::Period::ending(day("2026-11-29"), 30);
    let lines = metricord::trend::goal_lines(&ctx, plugin, &[bean], period)
        .await
        .expect("lines");
    let drawn: Vec<(String, Vec<(NaiveDate, f64)>)> =
        lines.into_iter().map(|l| (l.label, l.points)).collect();
    // The pace from 10,000 on 2026-11-01 to 15,000 on 2027-03-09 (128 days), within the period:
    // 28 days in, 10,000 + 5,000 x 28 / 128 = 11,093.75.
    assert_eq!(
        drawn,
        [
            (
                "Goal #1 target".to_string(),
                vec![(day("2026-10-31"), 15_000.0), (day("2026-11-29"), 15_000.0)]
            ),
            (
                "Goal #1 pace".to_string(),
                vec![
                    (day("2026-11-01"), 10_000.0),
                    (day("2026-11-29"), 11_093.75)
                ]
            ),
        ]
    );
    // The chart itself is drawn with them.
    let reply = world
        .ok("/trend metric:audience brand:Bean period:30d")
        .await;
    assert_eq!(reply.attachments.len(), 1);
}
