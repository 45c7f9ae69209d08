//! The Discord front end end to end: the real serenity client inside metricord, talking to a
//! fake Discord on 127.0.0.1 (tests/it/support/fake_discord.rs), as a team in a server would use it.

use crate::support::TestDb;
use crate::support::bot::Bot;
use crate::support::fake_discord::*;
use metricord::limits;
use serde_json::{Value, json};

fn embed_title(answer: &Recorded) -> String {
    answer.json["data"]["embeds"][0]["title"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

const EPHEMERAL: u64 = 1 << 6;
const MANAGE_GUILD: u64 = 1 << 5;

fn is_ephemeral(answer: &Recorded) -> bool {
    answer.json["data"]["flags"].as_u64().unwrap_or(0) & EPHEMERAL != 0
}

#[tokio::test]
async fn every_command_is_registered_within_discords_limits() {
    let bot = Bot::start().await;
    let put = bot
        .fake
        .wait_for_request(|r| r.method == "PUT" && r.path == "/api/v10/applications/1000/commands")
        .await;
    let commands = put.json.as_array().expect("a list of commands");
    let names: Vec<&str> = commands.iter().filter_map(|c| c["name"].as_str()).collect();
    for expected in [
        "audience",
        "ctr",
        "potential-reach",
        "conversion-rate",
        "help",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} not registered: {names:?}"
        );
    }
    for command in commands {
        check_command(command);
    }
    bot.stop().await;
}

fn check_command(command: &Value) {
    let name = command["name"].as_str().unwrap_or_default();
    let valid_name = |n: &str| {
        (1..=limits::COMMAND_NAME).contains(&n.chars().count())
            && n.chars()
                .all(|c| c == '-' || c == '_' || c.is_alphanumeric())
            && n.to_lowercase() == n
    };
    assert!(valid_name(name), "command name {name:?}");
    let description = command["description"].as_str().unwrap_or_default();
    assert!(
        (1..=limits::COMMAND_DESCRIPTION).contains(&description.chars().count()),
        "{name}"
    );
    assert_eq!(command["contexts"], json!([0]), "{name} must be guild-only");
    let options = command["options"].as_array().cloned().unwrap_or_default();
    assert!(options.len() <= limits::OPTIONS, "{name}");
    for option in options.iter().chain(
        options
            .iter()
            .flat_map(|o| o["options"].as_array().cloned().unwrap_or_default())
            .collect::<Vec<_>>()
            .iter(),
    ) {
        let option_name = option["name"].as_str().unwrap_or_default();
        assert!(valid_name(option_name), "{name}.{option_name}");
        let description = option["description"].as_str().unwrap_or_default();
        assert!(
            (1..=limits::COMMAND_DESCRIPTION).contains(&description.chars().count()),
            "{name}.{option_name}"
        );
        let choices = option["choices"].as_array().map_or(0, Vec::len);
        assert!(choices <= limits::CHOICES, "{name}.{option_name}");
        if option["type"] == 4 {
            // Discord's integers run from -2^53 to 2^53; metricord's counts start at 0.
            let (min, max) = (option["min_value"].as_i64(), option["max_value"].as_i64());
            assert!(
                min.is_some_and(|m| m >= 0) && max.is_some_and(|m| m <= 1 << 53) && min <= max,
                "{name}.{option_name}: {min:?}..{max:?}"
            );
        }
    }
}

#[tokio::test]
async fn ctr_is_answered_publicly_with_twenty_percent_and_pings_nobody() {
    let bot = Bot::start().await;
    let answer = bot
        .interact(interaction("ctr").options(vec![opt("clicks", 20), opt("impressions", 100)]))
        .await;
    assert_eq!(answer.json["type"], 4);
    assert_eq!(embed_title(&answer), "CTR 20.0% (95% CI 13.3-28.9%, n=100)");
    assert_eq!(
        answer.json["data"]["flags"].as_u64().unwrap_or(0) & EPHEMERAL,
        0
    );
    assert_eq!(
        answer.json["data"]["allowed_mentions"],
        json!({"parse": [], "roles": [], "users": []})
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_snapshot_logged_with_a_brand_is_read_back_by_a_later_command() {
    let bot = Bot::start().await;
    bot.interact(interaction("audience").options(vec![
        opt("followers", 100_000),
        opt("brand", "@everyone"),
        opt("date", "2026-10-01"),
    ]))
    .await;
    let answer = bot
        .interact(interaction("audience").options(vec![
            opt("followers", 105_000),
            opt("brand", "@EVERYONE"),
            opt("date", "2026-11-01"),
        ]))
        .await;
    let fields = &answer.json["data"]["embeds"][0]["fields"];
    assert_eq!(fields[0]["name"], "Growth since 2026-10-01");
    assert_eq!(fields[0]["value"], "+5,000 (+5.00%)");
    assert_eq!(answer.json["data"]["allowed_mentions"]["parse"], json!([]));
    let stored = bot.db.stored(GUILD_ID).await;
    assert_eq!(stored.len(), 2);
    bot.stop().await;
}

#[tokio::test]
async fn bad_input_is_answered_with_an_ephemeral_error_and_nothing_is_stored() {
    let bot = Bot::start().await;
    let answer = bot
        .interact(interaction("ctr").options(vec![
            opt("clicks", 5),
            opt("impressions", 0),
            opt("brand", "Acme"),
        ]))
        .await;
    assert_eq!(answer.json["type"], 4);
    assert_eq!(
        answer.json["data"]["flags"].as_u64().unwrap_or(0) & EPHEMERAL,
        EPHEMERAL
    );
    assert_eq!(
        answer.json["data"]["content"],
        "`impressions` must be above 0: a click-through rate needs at least one impression."
    );
    assert!(bot.db.stored(GUILD_ID).await.is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn brand_autocomplete_offers_the_servers_own_brands() {
    let bot = Bot::start().await;
    for brand in ["Ballet West", "Ballet Austin", "Coffee Co"] {
        bot.interact(
            interaction("mentions").options(vec![opt("mentions", 3), opt("brand", brand)]),
        )
        .await;
    }
    let other_server = interaction("mentions")
        .guild(Some(GUILD_ID + 1))
        .options(vec![opt("mentions", 3), opt("brand", "Ballet Secret")]);
    bot.interact(other_server).await;
    let answer = bot
        .interact(autocomplete("ctr").options(vec![opt("clicks", 1), focused("brand", "ball")]))
        .await;
    assert_eq!(answer.json["type"], 8);
    let choices: Vec<&str> = answer.json["data"]["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .filter_map(|c| c["value"].as_str())
        .collect();
    assert_eq!(choices, ["Ballet Austin", "Ballet West"]);
    bot.stop().await;
}

#[tokio::test]
async fn the_bot_keeps_answering_after_the_gateway_drops_the_connection() {
    let bot = Bot::start().await;
    bot.fake.drop_connection().await;
    bot.fake.wait_reconnected().await;
    let answer = bot
        .interact(interaction("ctr").options(vec![opt("clicks", 1), opt("impressions", 4)]))
        .await;
    assert!(
        embed_title(&answer).starts_with("CTR 25.0%"),
        "{}",
        embed_title(&answer)
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_failing_discord_answer_is_retried_until_it_goes_through() {
    let bot = Bot::start().await;
    let ctr = interaction("ctr").options(vec![opt("clicks", 1), opt("impressions", 2)]);
    let callback = format!(
        "/api/v10/interactions/{}/{}/callback",
        ctr.id(),
        ctr.token()
    );
    bot.fake.fail_next(callback.as_str(), 503, 1);
    bot.fake.fail_next(callback.as_str(), 429, 1);
    bot.fake.dispatch("INTERACTION_CREATE", ctr.build()).await;
    let answered = bot
        .fake
        .wait_for_request(|r| r.path == callback && r.status == 204)
        .await;
    assert!(embed_title(&answered).starts_with("CTR 50.0%"));
    let attempts = bot
        .fake
        .requests()
        .iter()
        .filter(|r| r.path == callback)
        .count();
    assert_eq!(attempts, 3);
    bot.stop().await;
}

#[test]
fn without_a_token_the_bot_explains_and_exits_with_code_2() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_metricord"))
        .arg("run")
        .env_remove("DISCORD_TOKEN")
        .output()
        .expect("metricord runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DISCORD_TOKEN is not set"), "{stderr}");
}

#[tokio::test]
async fn a_rejected_token_is_a_clear_error_with_exit_code_2_and_no_retries() {
    let fake = FakeDiscord::start().await;
    fake.fail_next("/users/@me", 401, 10);
    let db = TestDb::new();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_metricord"))
        .args(["--database", &db.url(), "run"])
        .env("DISCORD_TOKEN", "not-a-real-token")
        .env("DISCORD_API_PROXY", &fake.base_url)
        .output()
        .await
        .expect("metricord runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Discord rejected the token"), "{stderr}");
    let attempts = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/users/@me"))
        .count();
    assert_eq!(attempts, 1);
}

#[tokio::test]
async fn a_slow_command_is_deferred_then_completed_by_editing_the_original_answer() {
    let bot = Bot::start().await;
    for day in 1..=5 {
        bot.interact(interaction("impressions").options(vec![
            opt("impressions", 1000 + day * 10),
            opt("brand", "Acme"),
            opt("date", format!("2026-11-{day:02}")),
        ]))
        .await;
    }
    let trend = interaction("trend").options(vec![
        opt("metric", "impressions"),
        opt("brand", "Acme"),
        opt("period", "2026-11-01..2026-11-05"),
    ]);
    let first = bot.interact(trend.clone()).await;
    assert_eq!(first.json["type"], 5, "a deferred answer comes first");
    let original = format!(
        "/api/v10/webhooks/1000/{}/messages/@original",
        trend.token()
    );
    let edit = bot.fake.wait_for_request(|r| r.path == original).await;
    assert_eq!(edit.method, "PATCH");
    assert_eq!(edit.json["embeds"][0]["title"], "Impressions · Acme");
    assert_eq!(edit.json["allowed_mentions"]["parse"], json!([]));
    let (name, png) = &edit.files[0];
    assert_eq!(name, "trend.png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    bot.stop().await;
}

#[tokio::test]
async fn a_slow_commands_errors_stay_private_before_and_after_deferring() {
    let bot = Bot::start().await;
    // Options that break their declared kind are refused before anything is deferred.
    let answer = bot
        .interact(interaction("trend").options(vec![opt("metric", "klout")]))
        .await;
    assert_eq!(answer.json["type"], 4);
    assert!(is_ephemeral(&answer));
    assert!(
        answer.json["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .starts_with("`metric` must be one of")
    );

    // A mistake found only while working replaces the public "thinking" answer with a private one.
    let trend =
        interaction("trend").options(vec![opt("metric", "impressions"), opt("period", "soon")]);
    let first = bot.interact(trend.clone()).await;
    assert_eq!(first.json["type"], 5);
    let original = format!(
        "/api/v10/webhooks/1000/{}/messages/@original",
        trend.token()
    );
    let deleted = bot.fake.wait_for_request(|r| r.path == original).await;
    assert_eq!(deleted.method, "DELETE");
    let followup = format!("/api/v10/webhooks/1000/{}", trend.token());
    let private = bot
        .fake
        .wait_for_request(|r| r.path == followup && r.method == "POST")
        .await;
    assert_eq!(
        private.json["flags"].as_u64().unwrap_or(0) & EPHEMERAL,
        EPHEMERAL
    );
    assert!(
        private.json["content"]
            .as_str()
            .unwrap_or_default()
            .starts_with("`period` must be")
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_member_without_manage_server_cannot_remove_a_brand_and_nothing_changes() {
    let bot = Bot::start().await;
    bot.interact(interaction("mentions").options(vec![opt("mentions", 5), opt("brand", "Acme")]))
        .await;
    let refused = bot
        .interact(interaction("brand").options(vec![sub(
            "remove",
            vec![opt("name", "Acme"), opt("confirm", true)],
        )]))
        .await;
    assert!(is_ephemeral(&refused));
    assert_eq!(
        refused.json["data"]["content"],
        "`/brand remove` changes shared data and needs the Manage Server permission."
    );
    assert_eq!(bot.db.stored(GUILD_ID).await.len(), 1);

    let allowed = bot
        .interact(
            interaction("brand")
                .permissions(DEFAULT_PERMISSIONS | MANAGE_GUILD)
                .options(vec![sub(
                    "remove",
                    vec![opt("name", "Acme"), opt("confirm", true)],
                )]),
        )
        .await;
    assert_eq!(
        allowed.json["data"]["content"],
        "Removed Acme and its 1 stored value."
    );
    assert!(bot.db.stored(GUILD_ID).await.is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn an_attached_csv_is_downloaded_and_imported() {
    let bot = Bot::start().await;
    let csv = "date,brand,platform,metric,value\n2026-11-01,Acme,x,clicks,20\n2026-11-01,Acme,x,impressions,100\n";
    let file = bot.fake.host_file("numbers.csv", csv.as_bytes().to_vec());
    let import = interaction("import")
        .permissions(DEFAULT_PERMISSIONS | MANAGE_GUILD)
        .attachment("file", file);
    let first = bot.interact(import.clone()).await;
    assert_eq!(first.json["type"], 5);
    let original = format!(
        "/api/v10/webhooks/1000/{}/messages/@original",
        import.token()
    );
    let edit = bot.fake.wait_for_request(|r| r.path == original).await;
    assert_eq!(
        edit.json["content"],
        "Imported 2 values from numbers.csv: 2 new. New brands: Acme."
    );
    assert_eq!(bot.db.stored(GUILD_ID).await.len(), 2);
    bot.stop().await;
}

#[tokio::test]
async fn every_message_the_bot_sends_pings_nobody() {
    let bot = Bot::start().await;
    bot.interact(
        interaction("mentions").options(vec![opt("mentions", 5), opt("brand", "<@&123> @here")]),
    )
    .await;
    bot.interact(interaction("brand").options(vec![sub("list", vec![])]))
        .await;
    bot.interact(interaction("ctr").options(vec![opt("clicks", 5), opt("impressions", 0)]))
        .await;
    let sent: Vec<Recorded> = bot
        .fake
        .requests()
        .into_iter()
        .filter(|r| {
            r.path.contains("/callback")
                || r.path.contains("/webhooks/")
                || r.path.contains("/messages")
        })
        .collect();
    assert_eq!(sent.len(), 3);
    for message in sent {
        let body = if message.path.ends_with("/callback") {
            &message.json["data"]
        } else {
            &message.json
        };
        assert_eq!(
            body["allowed_mentions"],
            json!({"parse": [], "roles": [], "users": []}),
            "{}",
            message.path
        );
    }
    bot.stop().await;
}

#[tokio::test]
async fn with_guild_ids_set_commands_register_in_those_servers_only() {
    let bot = Bot::start_with(vec![GUILD_ID, 2001]).await;
    for guild in [GUILD_ID, 2001] {
        let path = format!("/api/v10/applications/1000/guilds/{guild}/commands");
        let put = bot
            .fake
            .wait_for_request(|r| r.method == "PUT" && r.path == path)
            .await;
        assert!(put.json.as_array().is_some_and(|c| c.len() > 10));
    }
    assert!(
        !bot.fake
            .requests()
            .iter()
            .any(|r| r.path == "/api/v10/applications/1000/commands")
    );
    bot.stop().await;
}

#[tokio::test]
async fn sigterm_stops_the_bot_cleanly_with_exit_code_0() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new();
    let mut bot = tokio::process::Command::new(env!("CARGO_BIN_EXE_metricord"))
        .args(["--database", &db.url(), "run"])
        .env("DISCORD_TOKEN", "fake-token")
        .env("DISCORD_API_PROXY", &fake.base_url)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("metricord starts");
    fake.wait_identified().await;
    let ctr = interaction("ctr").options(vec![opt("clicks", 1), opt("impressions", 10)]);
    fake.dispatch("INTERACTION_CREATE", ctr.build()).await;
    fake.wait_for_request(|r| r.path.ends_with("/callback"))
        .await;
    let pid = bot.id().expect("a running bot has a pid").to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let status = tokio::time::timeout(WAIT_TIMEOUT, bot.wait())
        .await
        .expect("the bot stops after SIGTERM")
        .expect("the bot's status");
    assert_eq!(status.code(), Some(0));
    // The database was closed cleanly: its write-ahead log is checkpointed away.
    assert!(!db.dir.path().join("metricord.db-wal").exists());
}

#[tokio::test]
async fn a_digest_scheduled_in_discord_is_posted_to_its_channel_on_request() {
    let bot = Bot::start().await;
    let admin = DEFAULT_PERMISSIONS | MANAGE_GUILD;
    // The digest covers the week up to yesterday.
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    let mentions = vec![
        opt("mentions", 12),
        opt("brand", "Acme"),
        opt("date", yesterday.clone()),
    ];
    bot.interact(interaction("mentions").options(mentions))
        .await;
    let rate = vec![
        opt("engagements", 50),
        opt("followers", 1000),
        opt("brand", "Acme"),
        opt("date", yesterday),
    ];
    bot.interact(interaction("engagement-rate").options(rate))
        .await;
    let channel = typed_opt("channel", 7, CHANNEL_ID.to_string());
    let scheduled = bot
        .interact(
            interaction("digest")
                .permissions(admin)
                .options(vec![sub("schedule", vec![channel])]),
        )
        .await;
    let text = scheduled.json["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        text.starts_with("Digest #1 of every brand to <#3000>"),
        "{text}"
    );
    assert_eq!(
        scheduled.json["data"]["allowed_mentions"]["parse"],
        json!([])
    );

    let run = interaction("digest")
        .permissions(admin)
        .options(vec![sub("run", vec![opt("id", 1)])]);
    bot.interact(run.clone()).await;
    let original = format!("/api/v10/webhooks/1000/{}/messages/@original", run.token());
    let edit = bot.fake.wait_for_request(|r| r.path == original).await;
    assert_eq!(edit.json["content"], "Posted digest #1 to <#3000>.");
    let posted = bot.fake.channel_messages(CHANNEL_ID);
    assert_eq!(posted.len(), 1);
    let content = posted[0].json["content"].as_str().unwrap_or_default();
    assert!(
        content.starts_with("**Weekly digest · all brands**"),
        "{content}"
    );
    assert_eq!(posted[0].json["allowed_mentions"]["parse"], json!([]));
    assert_eq!(posted[0].files[0].0, "digest.png");
    bot.stop().await;
}
