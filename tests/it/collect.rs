//! The collectors against the fake platforms (`support/fake_platforms.rs`, fixtures in
//! `tests/fixtures/`), with tokio's time paused: every wait (Retry-After, backoff, a host's pace,
//! YouTube's quota reset) passes instantly, and the tests measure the virtual time it took.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use metricord::clock::Clock;
use metricord::collect::http::{self, MAX_ATTEMPTS};
use metricord::collect::{
    Account, Bluesky, Collector, Error, Gone, Mastodon, Network, Poll, YouTube,
};
use metricord::settings::CollectSettings;
use secrecy::SecretString;
use tokio::time::Instant;

use crate::support::fake_platforms::{
    CHANNEL, Canned, DID, FakePlatforms, HIDDEN_CHANNEL, KEY, fixture_json,
};

/// Noon UTC on 1 December 2026: 04:00 in Los Angeles, whose midnight resets YouTube's quota.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

/// A week back: the window a poll reads.
fn since() -> DateTime<Utc> {
    now() - chrono::Duration::days(7)
}

fn settings(fake: &FakePlatforms) -> CollectSettings {
    CollectSettings {
        bluesky_url: fake.url.clone(),
        youtube_url: format!("{}/youtube/v3", fake.url),
        youtube_api_key: SecretString::new(KEY.to_string()),
        ..CollectSettings::default()
    }
}

fn bluesky_with(settings: &CollectSettings) -> Bluesky {
    Bluesky::new(
        http::client(settings).unwrap(),
        settings,
        Clock::manual(now()),
    )
}

fn mastodon_with(settings: &CollectSettings, url: &str) -> Mastodon {
    let url = url.to_string();
    Mastodon::new(
        http::client(settings).unwrap(),
        settings,
        Clock::manual(now()),
    )
    .with_instance_url(move |_| url.clone())
}

fn youtube_with(settings: &CollectSettings) -> YouTube {
    YouTube::new(
        http::client(settings).unwrap(),
        settings,
        Clock::manual(now()),
    )
}

fn account(network: Network, text: &str) -> Account {
    Account::parse(network, text).unwrap()
}

fn ids(poll: &Poll) -> Vec<&str> {
    poll.posts.iter().map(|p| p.id.as_str()).collect()
}

#[tokio::test(start_paused = true)]
async fn bluesky_resolves_a_pasted_profile_link_to_its_did_name_and_followers() {
    let fake = FakePlatforms::start().await;
    let bluesky = bluesky_with(&settings(&fake));
    let typed = account(
        Network::Bluesky,
        "https://bsky.app/profile/ballet.bsky.social",
    );
    let profile = bluesky.resolve(&typed).await.unwrap();
    assert_eq!(profile.account.key(), DID);
    assert_eq!(profile.handle, "@ballet.bsky.social");
    assert_eq!(profile.name, "Ballet West");
    assert_eq!(profile.followers, Some(4821));
    assert_eq!(profile.link, "https://bsky.app/profile/ballet.bsky.social");
    let seen = fake.seen("/xrpc/app.bsky.actor.getProfile");
    assert_eq!(seen[0].query["actor"], "ballet.bsky.social");
    assert_eq!(
        seen[0].user_agent,
        concat!("metricord/", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_bluesky_poll_reads_three_pages_of_own_posts_each_once_and_stops_at_older_ones() {
    let fake = FakePlatforms::start().await;
    let bluesky = bluesky_with(&settings(&fake));
    let poll = bluesky
        .poll(&account(Network::Bluesky, DID), since())
        .await
        .unwrap();
    assert_eq!(poll.followers, Some(4821));
    let post = |rkey: &str| format!("at://{DID}/app.bsky.feed.post/{rkey}");
    // Newest first; the repost of another account's post is not the account's; the pinned post
    // (on top of page 1 and again on page 2) counts once; the future-dated post counts when it
    // was indexed; the post older than the week stops the reading.
    assert_eq!(
        ids(&poll),
        [
            post("3lcnewest0a2x"),
            post("3lcreply00a2x"),
            post("3lcthird00a2x"),
            post("3lcfuture0a2x"),
            post("3lbpinned0a2x"),
            post("3lcfourth0a2x"),
        ]
    );
    let newest = &poll.posts[0];
    assert_eq!(
        newest.link,
        format!("https://bsky.app/profile/{DID}/post/3lcnewest0a2x")
    );
    assert_eq!(
        (newest.applause, newest.conversation, newest.amplification),
        (Some(12), Some(2), Some(4)),
        "amplification is reposts plus quotes"
    );
    assert_eq!(
        poll.posts[3].published,
        Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap()
    );
    assert!(poll.complete);
    assert_eq!((poll.cost.requests, poll.cost.pages), (4, 3));
    let pages = fake.seen("/xrpc/app.bsky.feed.getAuthorFeed");
    assert_eq!(pages.len(), 3, "page 3's cursor is not followed");
    assert_eq!(pages[1].query["cursor"], "2026-11-29T18:30:00.000Z");
}

#[tokio::test(start_paused = true)]
async fn the_page_cap_ends_a_poll_and_says_it_did_not_reach_since() {
    let fake = FakePlatforms::start().await;
    let bluesky = bluesky_with(&CollectSettings {
        max_pages: 2,
        ..settings(&fake)
    });
    let poll = bluesky
        .poll(&account(Network::Bluesky, DID), since())
        .await
        .unwrap();
    assert!(!poll.complete);
    assert_eq!(poll.posts.len(), 5);
    assert_eq!(fake.seen("/xrpc/app.bsky.feed.getAuthorFeed").len(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_or_suspended_bluesky_account_is_gone() {
    let fake = FakePlatforms::start().await;
    let bluesky = bluesky_with(&settings(&fake));
    let err = bluesky
        .resolve(&account(Network::Bluesky, "balet.bsky.social"))
        .await
        .unwrap_err();
    assert!(err.is_gone(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "The Bluesky account balet.bsky.social does not exist; check the spelling."
    );
    fake.push(
        "/xrpc/app.bsky.actor.getProfile",
        Canned::fixture(400, "bluesky/error-takedown.json"),
    );
    let err = bluesky
        .poll(&account(Network::Bluesky, DID), since())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::AccountGone {
            reason: Gone::Suspended,
            ..
        }
    ));
    // A 404 page that is no XRPC answer is a wrong AppView URL, not a missing account.
    fake.push(
        "/xrpc/app.bsky.actor.getProfile",
        Canned::json(404, "<html>Not Found</html>"),
    );
    let err = bluesky
        .resolve(&account(Network::Bluesky, DID))
        .await
        .unwrap_err();
    assert!(!err.is_gone());
    assert!(
        err.to_string()
            .contains("refused the request (404): no reason given"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn mastodon_resolves_and_polls_three_linked_pages_of_statuses_without_boosts() {
    let fake = FakePlatforms::start().await;
    let mastodon = mastodon_with(&settings(&fake), &fake.url);
    let typed = account(Network::Mastodon, "https://mastodon.social/@ballet");
    let profile = mastodon.resolve(&typed).await.unwrap();
    assert_eq!(profile.account.key(), "ballet@mastodon.social");
    assert_eq!(profile.handle, "@ballet@mastodon.social");
    assert_eq!(profile.followers, Some(1523));
    assert_eq!(profile.link, "https://mastodon.social/@ballet");
    assert_eq!(
        fake.seen("/api/v1/accounts/lookup")[0].query["acct"],
        "ballet"
    );

    let poll = mastodon.poll(&profile.account, since()).await.unwrap();
    assert_eq!(poll.followers, Some(1523));
    assert_eq!(
        ids(&poll),
        [
            "113560000000000005",
            "113550000000000004",
            "113540000000000003",
            "113530000000000002"
        ]
    );
    let first = &poll.posts[0];
    assert_eq!(
        first.link,
        "https://mastodon.social/@ballet/113560000000000005"
    );
    assert_eq!(
        (first.applause, first.conversation, first.amplification),
        (Some(21), Some(4), Some(6))
    );
    assert!(poll.complete);
    let pages = fake.seen("/api/v1/accounts/109412345678901234/statuses");
    assert_eq!(pages.len(), 3, "the fourth page's link is not followed");
    assert!(pages.iter().all(|p| p.query["exclude_reblogs"] == "true"));
    assert_eq!(pages[2].query["max_id"], "113540000000000003");
}

#[tokio::test(start_paused = true)]
async fn requests_to_one_host_keep_its_pace() {
    let fake = FakePlatforms::start().await;
    // Mastodon's published limit: 300 requests per 5 minutes, one a second.
    let mastodon = mastodon_with(&settings(&fake), &fake.url);
    let started = Instant::now();
    mastodon
        .poll(
            &account(Network::Mastodon, "ballet@mastodon.social"),
            since(),
        )
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(3));
    let seen = fake.seen("/api/v1/");
    assert_eq!(seen.len(), 4);
    for pair in seen.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_secs(1),
            "{seen:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn no_more_requests_are_in_flight_to_one_host_than_its_connection_cap() {
    let fake = FakePlatforms::start().await;
    fake.delay(Duration::from_secs(5));
    let bluesky = bluesky_with(&CollectSettings {
        connections_per_host: 2,
        ..settings(&fake)
    });
    let handle = account(Network::Bluesky, "ballet.bsky.social");
    let resolves = (0..6).map(|_| bluesky.resolve(&handle));
    for result in futures::future::join_all(resolves).await {
        result.unwrap();
    }
    assert_eq!(fake.peak_in_flight(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_mastodon_instance_that_refuses_anonymous_reads_is_named_plainly() {
    let fake = FakePlatforms::start().await;
    fake.push(
        "/api/v1/accounts/lookup",
        Canned::fixture(401, "mastodon/error-401.json"),
    );
    let mastodon = mastodon_with(&settings(&fake), &fake.url);
    let err = mastodon
        .resolve(&account(Network::Mastodon, "@ballet@private.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SignInRequired { .. }));
    assert!(!err.is_gone());
    let text = err.to_string();
    assert!(
        text.contains("only answers people signed in to it (401)")
            && text.contains("@ballet@private.example"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unknown_mastodon_account_is_gone_and_a_moved_one_says_where() {
    let fake = FakePlatforms::start().await;
    let mastodon = mastodon_with(&settings(&fake), &fake.url);
    let err = mastodon
        .resolve(&account(Network::Mastodon, "@nobody@mastodon.social"))
        .await
        .unwrap_err();
    assert!(err.is_gone());
    let mut moved = fixture_json("mastodon/account.json");
    moved["moved"] = serde_json::json!({"acct": "ballet@balletwest.social"});
    fake.push(
        "/api/v1/accounts/lookup",
        Canned::json(200, moved.to_string()),
    );
    let err = mastodon
        .poll(
            &account(Network::Mastodon, "@ballet@mastodon.social"),
            since(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "The Mastodon account @ballet@mastodon.social has moved to @ballet@balletwest.social; track that account instead."
    );
}

#[tokio::test(start_paused = true)]
async fn youtube_resolves_a_handle_and_polls_uploads_with_likes_and_comments_but_no_shares() {
    let fake = FakePlatforms::start().await;
    let youtube = youtube_with(&settings(&fake));
    let profile = youtube
        .resolve(&account(
            Network::YouTube,
            "https://www.youtube.com/@BalletWest",
        ))
        .await
        .unwrap();
    assert_eq!(profile.account.key(), CHANNEL);
    assert_eq!(profile.handle, "@balletwest");
    assert_eq!(profile.name, "Ballet West");
    assert_eq!(profile.followers, Some(12_400));
    assert_eq!(
        fake.seen("/youtube/v3/channels")[0].query["forHandle"],
        "@balletwest"
    );

    let poll = youtube.poll(&profile.account, since()).await.unwrap();
    assert_eq!(poll.followers, Some(12_400));
    // The private video (no publish time) is left out; the week-old one stops the reading.
    assert_eq!(
        ids(&poll),
        ["vNutcr4ck3r", "vR3hearsal1", "vPr1ncipal1", "vCostume001"]
    );
    let counts: Vec<_> = poll
        .posts
        .iter()
        .map(|p| (p.applause, p.conversation, p.amplification))
        .collect();
    assert_eq!(
        counts,
        [
            (Some(310), Some(42), None),
            (Some(57), None, None),
            (None, Some(12), None),
            (Some(31), Some(4), None),
        ],
        "hidden likes and closed comments are missing, not 0; YouTube has no share count"
    );
    assert_eq!(
        poll.posts[0].link,
        "https://www.youtube.com/watch?v=vNutcr4ck3r"
    );
    assert!(poll.complete);
    // channels + three pages of uploads + one videos call, a unit each.
    assert_eq!(
        (poll.cost.requests, poll.cost.pages, poll.cost.quota_units),
        (5, 3, 5)
    );
    assert_eq!(fake.seen("/youtube/v3/playlistItems").len(), 3);
    let videos = fake.seen("/youtube/v3/videos");
    assert_eq!(
        videos[0].query["id"],
        "vNutcr4ck3r,vR3hearsal1,vPr1ncipal1,vCostume001"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hidden_subscriber_count_is_none_never_zero() {
    let fake = FakePlatforms::start().await;
    let youtube = youtube_with(&settings(&fake));
    let profile = youtube
        .resolve(&account(Network::YouTube, "@quietcompany"))
        .await
        .unwrap();
    assert_eq!(profile.account.key(), HIDDEN_CHANNEL);
    assert_eq!(profile.followers, None);
    assert!(profile.describe().contains("hidden"));
    // Its uploads playlist does not exist (404 playlistNotFound): no posts, not an error.
    let poll = youtube.poll(&profile.account, since()).await.unwrap();
    assert_eq!((poll.followers, poll.posts.len()), (None, 0));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_youtube_channel_is_gone() {
    let fake = FakePlatforms::start().await;
    let youtube = youtube_with(&settings(&fake));
    let err = youtube
        .resolve(&account(Network::YouTube, "@balletwset"))
        .await
        .unwrap_err();
    assert!(err.is_gone(), "{err:?}");
    assert!(err.to_string().contains("@balletwset does not exist"));
}

#[tokio::test(start_paused = true)]
async fn youtube_quota_exceeded_says_when_to_resolve_and_makes_a_poll_wait_for_midnight_pacific() {
    let fake = FakePlatforms::start().await;
    let youtube = youtube_with(&settings(&fake));
    let channel = account(Network::YouTube, CHANNEL);
    let midnight_pacific = Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 0).unwrap();

    fake.push(
        "/youtube/v3/channels",
        Canned::fixture(403, "youtube/error-quota.json"),
    );
    let err = youtube.resolve(&channel).await.unwrap_err();
    assert_eq!(
        err,
        Error::QuotaSpent {
            resets_at: midnight_pacific
        }
    );
    assert_eq!(err.retry_at(), Some(midnight_pacific));

    // The budget is now spent for today, so a poll waits for the reset before any request.
    let started = Instant::now();
    let poll = youtube.poll(&channel, since()).await.unwrap();
    assert_eq!(poll.posts.len(), 4);
    assert_eq!(
        started.elapsed().as_secs() / 60,
        (midnight_pacific - now()).num_minutes() as u64
    );
    let calls = fake.seen("/youtube/v3/");
    assert!(
        calls[1..]
            .iter()
            .all(|c| c.at - started >= Duration::from_secs(20 * 3600))
    );
}

#[tokio::test(start_paused = true)]
async fn the_daily_quota_is_never_exceeded_a_poll_waits_for_the_reset_instead() {
    let fake = FakePlatforms::start().await;
    let youtube = youtube_with(&CollectSettings {
        youtube_daily_quota: 4,
        ..settings(&fake)
    });
    let started = Instant::now();
    let poll = youtube
        .poll(&account(Network::YouTube, CHANNEL), since())
        .await
        .unwrap();
    assert_eq!(poll.cost.quota_units, 5);
    let reset = Duration::from_secs(20 * 3600);
    let calls = fake.seen("/youtube/v3/");
    let before_reset = calls.iter().filter(|c| c.at - started < reset).count();
    assert!(before_reset <= 4, "{before_reset} requests on a 4-unit day");
    assert_eq!(calls.len(), 5);
    assert!(started.elapsed() >= reset);
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_in_seconds_is_waited_out_then_the_call_succeeds() {
    let fake = FakePlatforms::start().await;
    fake.push(
        "/xrpc/app.bsky.actor.getProfile",
        Canned::json(
            429,
            r#"{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}"#,
        )
        .header("retry-after", "120"),
    );
    let bluesky = bluesky_with(&settings(&fake));
    let started = Instant::now();
    let profile = bluesky
        .resolve(&account(Network::Bluesky, "ballet.bsky.social"))
        .await
        .unwrap();
    assert_eq!(profile.followers, Some(4821));
    let seen = fake.seen("/xrpc/app.bsky.actor.getProfile");
    assert_eq!(seen.len(), 2);
    assert!(seen[1].at - seen[0].at >= Duration::from_secs(120));
    assert!(started.elapsed() < Duration::from_secs(121));
}

#[tokio::test(start_paused = true)]
async fn a_429_holds_back_every_request_to_that_host_not_only_the_one_refused() {
    let fake = FakePlatforms::start().await;
    fake.push(
        "/xrpc/app.bsky.actor.getProfile",
        Canned::status(429).header("retry-after", "120"),
    );
    let bluesky = bluesky_with(&settings(&fake));
    let handle = account(Network::Bluesky, "ballet.bsky.social");
    let started = Instant::now();
    let (first, second) = tokio::join!(bluesky.resolve(&handle), bluesky.resolve(&handle));
    first.unwrap();
    second.unwrap();
    let seen = fake.seen("/xrpc/");
    assert_eq!(seen.len(), 3);
    let early = seen
        .iter()
        .filter(|s| s.at - started < Duration::from_secs(120))
        .count();
    assert_eq!(
        early, 1,
        "only the refused request went before the pause ended"
    );
}

#[tokio::test(start_paused = true)]
async fn a_503_with_an_http_date_retry_after_is_waited_out_then_the_call_succeeds() {
    let fake = FakePlatforms::start().await;
    let at = (now() + chrono::Duration::seconds(90)).to_rfc2822();
    let http_date = at.replace("+0000", "GMT");
    fake.push(
        "/api/v1/accounts/lookup",
        Canned::status(503).header("retry-after", &http_date),
    );
    let mastodon = mastodon_with(&settings(&fake), &fake.url);
    let started = Instant::now();
    mastodon
        .resolve(&account(Network::Mastodon, "@ballet@mastodon.social"))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(90) && elapsed < Duration::from_secs(91),
        "{elapsed:?} for {http_date}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_too_long_to_hold_a_poll_ends_it_saying_when_to_ask_again() {
    let fake = FakePlatforms::start().await;
    fake.push(
        "/api/v1/accounts/lookup",
        Canned::fixture(429, "mastodon/error-404.json").header("retry-after", "86400"),
    );
    let mastodon = mastodon_with(&settings(&fake), &fake.url);
    let err = mastodon
        .poll(
            &account(Network::Mastodon, "@ballet@mastodon.social"),
            since(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.retry_at(), Some(now() + chrono::Duration::days(1)));
    assert_eq!(fake.seen("/api/v1/").len(), 1);
    // Every other poll of that host ends at once too, without asking it.
    let started = Instant::now();
    let err = mastodon
        .resolve(&account(Network::Mastodon, "@other@mastodon.social"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(fake.seen("/api/v1/").len(), 1);
    // Any number a server sends is taken without overflowing, and believed up to a week.
    fake.push(
        "/api/v1/accounts/lookup",
        Canned::status(429).header("retry-after", "18446744073709551615"),
    );
    let later = mastodon_with(&settings(&fake), &fake.url);
    let err = later
        .resolve(&account(Network::Mastodon, "@ballet@mastodon.social"))
        .await
        .unwrap_err();
    assert_eq!(err.retry_at(), Some(now() + chrono::Duration::days(7)));
}

#[tokio::test(start_paused = true)]
async fn a_500_is_retried_after_a_jittered_backoff_then_the_call_succeeds() {
    let fake = FakePlatforms::start().await;
    fake.push("/xrpc/app.bsky.actor.getProfile", Canned::status(500));
    let bluesky = bluesky_with(&settings(&fake));
    let started = Instant::now();
    bluesky
        .resolve(&account(Network::Bluesky, "ballet.bsky.social"))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed <= Duration::from_secs(1),
        "{elapsed:?}"
    );
    assert_eq!(fake.seen("/xrpc/").len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_host_that_keeps_failing_is_given_up_on_after_a_few_tries() {
    let fake = FakePlatforms::start().await;
    for _ in 0..MAX_ATTEMPTS {
        fake.push("/xrpc/app.bsky.actor.getProfile", Canned::status(502));
    }
    let bluesky = bluesky_with(&settings(&fake));
    let err = bluesky
        .resolve(&account(Network::Bluesky, "ballet.bsky.social"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Unavailable {
            attempts: MAX_ATTEMPTS,
            ..
        }
    ));
    assert!(err.to_string().contains("HTTP 502"), "{err}");
    assert_eq!(fake.seen("/xrpc/").len(), MAX_ATTEMPTS as usize);
}

#[tokio::test(start_paused = true)]
async fn malformed_json_fails_the_poll_naming_the_host() {
    let fake = FakePlatforms::start().await;
    fake.push(
        "/xrpc/app.bsky.feed.getAuthorFeed",
        Canned::json(200, r#"{"feed": [{"post": "#),
    );
    let bluesky = bluesky_with(&settings(&fake));
    let err = bluesky
        .poll(&account(Network::Bluesky, DID), since())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Malformed { .. }));
    assert!(err.to_string().starts_with("127.0.0.1:"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_missing_field_fails_the_poll_naming_the_field() {
    let fake = FakePlatforms::start().await;
    let mut account_json = fixture_json("mastodon/account.json");
    account_json
        .as_object_mut()
        .unwrap()
        .remove("followers_count");
    fake.push(
        "/api/v1/accounts/lookup",
        Canned::json(200, account_json.to_string()),
    );
    let mastodon = mastodon_with(&settings(&fake), &fake.url);
    let err = mastodon
        .poll(
            &account(Network::Mastodon, "@ballet@mastodon.social"),
            since(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("missing field `followers_count`"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn counts_that_went_down_are_reported_as_the_platform_shows_them() {
    let fake = FakePlatforms::start().await;
    let mastodon = mastodon_with(&settings(&fake), &fake.url);
    let ballet = account(Network::Mastodon, "@ballet@mastodon.social");
    let first = mastodon.poll(&ballet, since()).await.unwrap();
    let mut fewer = fixture_json("mastodon/account.json");
    fewer["followers_count"] = 1519.into();
    fake.push(
        "/api/v1/accounts/lookup",
        Canned::json(200, fewer.to_string()),
    );
    let mut unliked = fixture_json("mastodon/statuses-1.json");
    unliked[0]["favourites_count"] = 19.into();
    fake.push(
        "/api/v1/accounts/109412345678901234/statuses",
        Canned::json(200, unliked.to_string()),
    );
    let second = mastodon.poll(&ballet, since()).await.unwrap();
    assert_eq!(
        (first.followers, second.followers),
        (Some(1523), Some(1519))
    );
    assert_eq!(
        (first.posts[0].applause, second.posts[0].applause),
        (Some(21), Some(19))
    );
}

#[tokio::test(start_paused = true)]
async fn a_10_mb_answer_is_refused_whether_announced_or_streamed_and_not_retried() {
    let fake = FakePlatforms::start().await;
    fake.push(
        "/xrpc/app.bsky.actor.getProfile",
        Canned::huge(10 * 1024 * 1024, true),
    );
    fake.push(
        "/xrpc/app.bsky.actor.getProfile",
        Canned::huge(10 * 1024 * 1024, false),
    );
    fake.push("/xrpc/app.bsky.actor.getProfile", Canned::endless());
    let bluesky = bluesky_with(&settings(&fake));
    let handle = account(Network::Bluesky, "ballet.bsky.social");
    for _ in 0..3 {
        let err = bluesky.resolve(&handle).await.unwrap_err();
        assert!(
            matches!(err, Error::TooLarge { megabytes: 4, .. }),
            "{err:?}"
        );
    }
    assert_eq!(fake.seen("/xrpc/").len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_comes_times_out_instead_of_hanging_the_poll() {
    let fake = FakePlatforms::start().await;
    fake.stall("/api/v1/accounts/lookup");
    let mastodon = mastodon_with(&settings(&fake), &fake.url);
    let started = Instant::now();
    let err = mastodon
        .poll(
            &account(Network::Mastodon, "@ballet@mastodon.social"),
            since(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no answer within the request timeout"),
        "{err}"
    );
    // Three tries of 30 s, and two backoffs of at most 1 and 2 s.
    assert!(started.elapsed() >= Duration::from_secs(90));
    assert!(started.elapsed() <= Duration::from_secs(94));
}

#[tokio::test(start_paused = true)]
async fn a_slow_host_does_not_delay_polls_of_other_hosts() {
    let slow = FakePlatforms::start().await;
    slow.stall("/api/");
    let quick = FakePlatforms::start().await;
    let (slow_url, quick_url) = (slow.url.clone(), quick.url.clone());
    let settings = settings(&quick);
    let mastodon = std::sync::Arc::new(mastodon_with(&settings, "").with_instance_url(
        move |instance| match instance {
            "slow.example" => slow_url.clone(),
            _ => quick_url.clone(),
        },
    ));
    let stuck = tokio::spawn({
        let mastodon = mastodon.clone();
        async move {
            mastodon
                .poll(&account(Network::Mastodon, "@ballet@slow.example"), since())
                .await
        }
    });
    let started = Instant::now();
    mastodon
        .poll(
            &account(Network::Mastodon, "@ballet@mastodon.social"),
            since(),
        )
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!stuck.is_finished());
    assert!(stuck.await.unwrap().is_err());
}

#[tokio::test(start_paused = true)]
async fn the_youtube_key_never_shows_in_errors_or_debug_output() {
    let fake = FakePlatforms::start().await;
    let youtube = youtube_with(&settings(&fake));
    let channel = account(Network::YouTube, CHANNEL);
    fake.push("/youtube/v3/channels", Canned::json(200, "{not json"));
    for _ in 0..MAX_ATTEMPTS {
        fake.push("/youtube/v3/playlistItems", Canned::status(500));
    }
    let mut errors = vec![
        youtube.poll(&channel, since()).await.unwrap_err(),
        youtube.poll(&channel, since()).await.unwrap_err(),
    ];
    let wrong_key = youtube_with(&CollectSettings {
        youtube_api_key: SecretString::new("AIzaSyWRONG-KEY-9876543210".to_string()),
        ..settings(&fake)
    });
    errors.push(wrong_key.resolve(&channel).await.unwrap_err());
    fake.stall("/youtube/v3/channels");
    errors.push(youtube.resolve(&channel).await.unwrap_err());
    assert!(matches!(errors[0], Error::Malformed { .. }));
    assert!(matches!(errors[1], Error::Unavailable { .. }));
    assert!(matches!(errors[3], Error::Unavailable { .. }));
    assert_eq!(
        errors[2].to_string(),
        "YouTube refused the API key (API key not valid. Please pass a valid API key); check it in the Google Cloud console."
    );
    for err in &errors {
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(KEY) && !text.contains("WRONG-KEY"), "{text}");
        }
    }
    for text in [format!("{youtube:?}"), format!("{wrong_key:?}")] {
        assert!(!text.contains(KEY) && !text.contains("WRONG-KEY"), "{text}");
    }
}

#[tokio::test(start_paused = true)]
async fn without_an_api_key_youtube_says_how_to_set_one_and_sends_nothing() {
    let fake = FakePlatforms::start().await;
    let youtube = youtube_with(&CollectSettings {
        youtube_api_key: SecretString::new(String::new()),
        ..settings(&fake)
    });
    let err = youtube
        .resolve(&account(Network::YouTube, CHANNEL))
        .await
        .unwrap_err();
    assert_eq!(err, Error::NoApiKey);
    assert!(err.to_string().contains("METRICORD_YOUTUBE_API_KEY"));
    assert!(fake.seen("/").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_collector_refuses_another_networks_account() {
    let fake = FakePlatforms::start().await;
    let bluesky = bluesky_with(&settings(&fake));
    let err = bluesky
        .resolve(&account(Network::YouTube, CHANNEL))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WrongNetwork { .. }));
    assert!(fake.seen("/").is_empty());
}
