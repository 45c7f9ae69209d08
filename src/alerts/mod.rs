//! Alerts: the `/alert` commands, and posting each event exactly once when data arrives or the
//! scheduler looks; what makes a day news is decided in [`judge`].
//!
//! A spike or dip rule compares the latest day (today's or yesterday's, never older news) with
//! the 28 days before it by robust z; a threshold rule fires when the latest day crosses a value
//! the day before had not; a breakout rule watches collected posts (see [`breakout`]). Every event is claimed in the database keyed by rule and day before
//! it is posted (and a rule's cooldown is checked in the same transaction), so a restart, a
//! second process or a repeated evaluation never posts it twice; a claim whose process stopped
//! is taken over after the lease. Goals' closing events ride the same path (see [`crate::goals`]).

pub mod breakout;
mod judge;
pub mod rates;

use chrono::{DateTime, Utc};

use crate::analysis::format_value;
use crate::command::{CommandSpec, Embed, Field, Kind, OptionSpec, Options, Reply};
use crate::error::{Result, UserError};
use crate::handler;
use crate::numbers::parse_decimal;
use crate::period::Period;
use crate::plugin::{Plugin, Unit};
use crate::plugins::Registry;
use crate::services::{Command, Context, Outgoing, Post, PostError, Services};
use crate::storage::{AlertRule, Brand, EventClaim, EventKey, NewAlert, Store};
use crate::trend::daily_values;
pub use judge::{
    DEFAULT_K, Direction, MIN_HISTORY, TRAILING_DAYS, Verdict, Watch, describe, judge, message,
    watch_of,
};

/// Hours after an event before the same rule may post again, when `cooldown` is not given.
pub const DEFAULT_COOLDOWN_HOURS: i64 = 24;
/// The largest `k` taken: beyond it a rule would never fire on anything real.
const MAX_K: f64 = 10.0;

/// `/alert` and its subcommands.
pub fn command(registry: &Registry) -> Command {
    let id = || {
        OptionSpec::new(
            "id",
            "The rule's number, from /alert list",
            Kind::Integer {
                min: 1,
                max: i64::from(i32::MAX),
            },
        )
        .required()
    };
    Command::group(
        "alert",
        "Tell a channel when a brand's metric spikes, dips or crosses a value",
        vec![
            (
                CommandSpec {
                    name: "add",
                    description: "Watch a brand's metric and post to a channel when it moves",
                    options: vec![
                        OptionSpec::brand("brand", "The brand to watch").required(),
                        OptionSpec::new(
                            "metric",
                            "The metric (spike, threshold); a breakout watches collected posts",
                            Kind::Choice(registry.names()),
                        ),
                        OptionSpec::new("channel", "The channel to post alerts in", Kind::Channel)
                            .required(),
                        OptionSpec::new(
                            "kind",
                            "spike: the day stands out; threshold: it crosses a value; breakout: a post stands out",
                            Kind::Choice(vec!["spike", "threshold", "breakout"]),
                        )
                        .required(),
                        OptionSpec::new(
                            "direction",
                            "up (spike, reaches), down (dip, falls below) or both (default both)",
                            Kind::Choice(vec!["up", "down", "both"]),
                        ),
                        OptionSpec::new(
                            "k",
                            "spike, breakout: how many standard deviations count (default 3, up to 10)",
                            Kind::Text { max_len: 12 },
                        ),
                        OptionSpec::new(
                            "value",
                            "threshold: the value to watch, such as 10,000 or 2.5 (percent)",
                            Kind::Text { max_len: 24 },
                        ),
                        OptionSpec::new(
                            "scope",
                            "breakout: the mean of the brand's posts, or its landscapes' (default brand)",
                            Kind::Choice(vec!["brand", "landscape"]),
                        ),
                        OptionSpec::new(
                            "cooldown",
                            "Hours before this rule may post again (default 24)",
                            Kind::Integer { min: 0, max: 720 },
                        ),
                        OptionSpec::new(
                            "role",
                            "A role to ping with each alert (default: ping nobody)",
                            Kind::Role,
                        ),
                    ],
                    manages_data: true,
                    ..CommandSpec::default()
                },
                handler!(add),
            ),
            (
                CommandSpec {
                    name: "list",
                    description: "List the alert rules",
                    ..CommandSpec::default()
                },
                handler!(list),
            ),
            (
                CommandSpec {
                    name: "remove",
                    description: "Remove an alert rule",
                    options: vec![
                        id(),
                        OptionSpec::new("confirm", "true to remove the rule", Kind::Boolean),
                    ],
                    manages_data: true,
                    ..CommandSpec::default()
                },
                handler!(remove),
            ),
            (
                CommandSpec {
                    name: "test",
                    description: "Would this rule fire on today's data? With the numbers behind it",
                    options: vec![id()],
                    ..CommandSpec::default()
                },
                handler!(test),
            ),
        ],
    )
}

/// The rule's verdict on the data as of `ctx.today`.
async fn verdict(ctx: &Context<'_>, rule: &AlertRule, plugin: &dyn Plugin) -> Result<Verdict> {
    let brand = Brand {
        id: rule.brand_id,
        name: rule.brand.clone(),
        competitor: false,
    };
    // The trailing days, the day judged, and today.
    let period = Period::ending(ctx.today, TRAILING_DAYS + 2);
    let points = daily_values(ctx, plugin, &brand, period).await?;
    let (watch, direction) = watch_of(rule);
    Ok(judge(watch, direction, plugin.unit(), &points, ctx.today))
}

/// `/alert add brand [metric] channel kind [direction] [k] [value] [scope] [cooldown] [role]`
pub async fn add(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let brand = ctx.brand(options.text("brand").unwrap_or_default()).await?;
    let kind = options.text("kind").unwrap_or("spike");
    let breakout = kind == "breakout";
    let plugin = if breakout {
        breakout::checks(ctx, options, &brand).await?
    } else {
        if options.text("scope").is_some() {
            return Err(UserError::InvalidOption {
                option: "scope",
                accepts: "left out for a spike or threshold rule; it is a breakout's".to_string(),
            }
            .into());
        }
        crate::analysis::metric(ctx, options)?
    };
    let channel = options
        .text("channel")
        .and_then(|c| c.parse::<u64>().ok())
        .ok_or(UserError::MissingOption {
            option: "channel",
            accepts: "the channel to post alerts in".to_string(),
        })?;
    let direction =
        Direction::parse(
            options
                .text("direction")
                .unwrap_or(if breakout { "up" } else { "both" }),
        );
    let level = if kind == "threshold" {
        if options.text("k").is_some() {
            return Err(UserError::InvalidOption {
                option: "k",
                accepts: "left out for a threshold rule, which takes `value`".to_string(),
            }
            .into());
        }
        options
            .text("value")
            .and_then(parse_decimal)
            .ok_or(UserError::MissingOption {
                option: "value",
                accepts: "the number a threshold rule watches, such as 10,000 or -0.5".to_string(),
            })?
    } else {
        if options.text("value").is_some() {
            return Err(UserError::InvalidOption {
                option: "value",
                accepts: format!("left out for a {kind} rule, which takes `k`"),
            }
            .into());
        }
        match options.text("k") {
            None => DEFAULT_K,
            Some(text) => parse_decimal(text)
                .filter(|k| *k > 0.0 && *k <= MAX_K)
                .ok_or(UserError::InvalidOption {
                    option: "k",
                    accepts: format!("a number above 0 and at most {MAX_K}, such as 3 or 2.5"),
                })?,
        }
    };
    let days = daily_values(
        ctx,
        plugin,
        &brand,
        Period::ending(ctx.today, crate::trend::DAILY_POINTS_UP_TO),
    )
    .await?;
    if days.is_empty() && !breakout {
        return Err(UserError::NeverLogged {
            brand: brand.name,
            metric: plugin.label().to_string(),
            when: format!(" in the last {} days", crate::trend::DAILY_POINTS_UP_TO),
            what: "alert",
        }
        .into());
    }
    let role = options.text("role").and_then(|r| r.parse::<u64>().ok());
    // @everyone's role id is the server's: an alert never pings the whole server.
    if role == Some(ctx.guild_id) {
        return Err(UserError::InvalidOption {
            option: "role",
            accepts: "a role other than @everyone".to_string(),
        }
        .into());
    }
    let cooldown = options
        .integer("cooldown")
        .unwrap_or(DEFAULT_COOLDOWN_HOURS);
    let id = ctx
        .store
        .add_alert(&NewAlert {
            guild_id: ctx.guild_id,
            brand_id: brand.id,
            channel_id: channel,
            metric: plugin.command().name,
            kind,
            direction: direction.name(),
            level,
            scope: breakout.then(|| options.text("scope").unwrap_or("brand")),
            role_id: role,
            cooldown_hours: cooldown,
            created_by: ctx.user_id,
            created_at: ctx.now.timestamp(),
        })
        .await?
        .ok_or_else(|| UserError::UnknownBrand {
            name: brand.name.clone(),
        })?;
    let rule = ctx
        .store
        .alerts(Some(ctx.guild_id))
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(UserError::UnknownAlert { id })?;
    let mut text = format!(
        "Alert #{id}: {} {} {}, posted to <#{channel}>{}, at most once every {}.",
        brand.name,
        plugin.label(),
        describe(&rule, plugin.unit()),
        role.map(|r| format!(" pinging <@&{r}>"))
            .unwrap_or_default(),
        hours(cooldown)
    );
    if kind == "spike" && days.len() < MIN_HISTORY + 1 {
        text.push_str(&format!(
            " It stays quiet until {} has {MIN_HISTORY} days of {} in the {TRAILING_DAYS} before the day judged (it has {} so far).",
            brand.name,
            plugin.label(),
            days.len()
        ));
    }
    Ok(Reply::text(text))
}

fn hours(n: i64) -> String {
    if n == 1 {
        "hour".to_string()
    } else {
        format!("{n} hours")
    }
}

/// `/alert list`
pub async fn list(ctx: &Context<'_>, _: &Options) -> Result<Reply> {
    let rules = ctx.store.alerts(Some(ctx.guild_id)).await?;
    if rules.is_empty() {
        return Ok(Reply::text(
            "No alert rules: `/alert add` sets one up.".to_string(),
        ));
    }
    let fields = rules
        .iter()
        .map(|rule| {
            let (label, unit) = ctx
                .registry
                .by_name(&rule.metric)
                .map_or((rule.metric.as_str(), Unit::Count), |p| (p.label(), p.unit()));
            let mut value = format!(
                "{} {label}: {} to <#{}>, cooldown {}",
                rule.brand,
                describe(rule, unit),
                rule.channel_id,
                hours(rule.cooldown_hours)
            );
            if let Some(role) = rule.role_id {
                value.push_str(&format!(", pings <@&{role}>"));
            }
            if let Some(reason) = &rule.failing {
                value.push_str(&format!(
                    "\n⚠️ Stopped: {reason}. Give the bot access to the channel, or remove this rule and add it again."
                ));
            }
            Field::new(format!("#{}", rule.id), value)
        })
        .collect();
    Ok(Reply::embed(Embed {
        title: "Alert rules".to_string(),
        fields,
        ..Embed::default()
    }))
}

/// `/alert remove id confirm:true`
pub async fn remove(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let id = options.integer("id").unwrap_or_default();
    let rules = ctx.store.alerts(Some(ctx.guild_id)).await?;
    let rule = rules
        .iter()
        .find(|r| r.id == id)
        .ok_or(UserError::UnknownAlert { id })?;
    if options.boolean("confirm") != Some(true) {
        return Ok(Reply {
            content: format!(
                "This removes alert #{id} on {} {}. To go ahead: `/alert remove id:{id} confirm:true`",
                rule.brand, rule.metric
            ),
            ephemeral: true,
            ..Reply::default()
        });
    }
    if !ctx.store.remove_alert(ctx.guild_id, id).await? {
        return Err(UserError::UnknownAlert { id }.into());
    }
    Ok(Reply::text(format!("Removed alert #{id}.")))
}

/// `/alert test id`: the decision on today's data, with its numbers; nothing is posted.
pub async fn test(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let id = options.integer("id").unwrap_or_default();
    let rules = ctx.store.alerts(Some(ctx.guild_id)).await?;
    let rule = rules
        .iter()
        .find(|r| r.id == id)
        .ok_or(UserError::UnknownAlert { id })?;
    let plugin = ctx
        .registry
        .by_name(&rule.metric)
        .ok_or(UserError::InvalidOption {
            option: "metric",
            accepts: format!("one of {}", ctx.registry.names().join(", ")),
        })?;
    let unit = plugin.unit();
    let mut fields = Vec::new();
    if rule.kind == "breakout" {
        breakout::test_fields(ctx, rule, &mut fields).await?;
    } else {
        test_fields(ctx, rule, plugin, &mut fields).await?;
    }
    let until = rule
        .last_fired
        .map(|at| at + rule.cooldown_hours.saturating_mul(3600))
        .filter(|until| *until > ctx.now.timestamp())
        .and_then(|until| chrono::DateTime::from_timestamp(until, 0));
    if let Some(until) = until {
        fields.push(Field::new(
            "Cooldown",
            format!(
                "It alerted lately and posts again after {} UTC.",
                until.format("%Y-%m-%d %H:%M")
            ),
        ));
    }
    if let Some(reason) = &rule.failing {
        fields.push(Field::new("Stopped", reason.clone()));
    }
    Ok(Reply::embed(Embed {
        title: format!(
            "Alert #{id} · {} {} · {}",
            rule.brand,
            plugin.label(),
            describe(rule, unit)
        ),
        fields,
        ..Embed::default()
    }))
}

/// `/alert test`'s numbers for a spike or threshold rule.
async fn test_fields(
    ctx: &Context<'_>,
    rule: &AlertRule,
    plugin: &dyn Plugin,
    fields: &mut Vec<Field>,
) -> Result<()> {
    let unit = plugin.unit();
    let verdict = verdict(ctx, rule, plugin).await?;
    if let (Some(day), Some(value)) = (verdict.day, verdict.value) {
        fields.push(Field::inline(
            format!("Value on {day}"),
            format_value(unit, value),
        ));
    }
    if let Some(r) = verdict.robust {
        fields.push(Field::inline(
            format!("Median of {} days", verdict.history),
            format_value(unit, r.median),
        ));
        fields.push(Field::inline("MAD", format_value(unit, r.mad)));
        fields.push(Field::inline("Robust z", format!("{:+.2}", r.z)));
    }
    if let Some((day, value)) = verdict.previous {
        fields.push(Field::inline(
            format!("Before, on {day}"),
            format_value(unit, value),
        ));
    }
    let decision = match verdict.fires {
        Some(_) => format!("Would fire: {}.", verdict.why),
        None => format!("Would not fire: {}.", verdict.why),
    };
    fields.push(Field::new("Decision", decision));
    Ok(())
}

/// Judges the guild's rules (only those on `brand`, when given) and claims each event that
/// fires; returns the claims, to post.
pub async fn claim_due(ctx: &Context<'_>, brand: Option<i64>) -> Result<Vec<EventClaim>> {
    let mut claims = Vec::new();
    for rule in ctx.store.alerts(Some(ctx.guild_id)).await? {
        if rule.failing.is_some() || brand.is_some_and(|b| b != rule.brand_id) {
            continue;
        }
        if rule.kind == "breakout" {
            let posts = breakout::posts_in_scope(ctx, &rule).await?;
            let judged = breakout::judge(rule.brand_id, &posts, rule.level, ctx.now);
            for standing in &judged.fires {
                let text = breakout::message(&rule, standing);
                if let Some(claim) = ctx
                    .store
                    .claim_alert(
                        &rule,
                        standing.day,
                        &standing.post_id,
                        &text,
                        ctx.now.timestamp(),
                    )
                    .await?
                {
                    tracing::info!(rule = rule.id, guild = rule.guild_id, post = %standing.post_id, "breakout fired: claimed");
                    claims.push(claim);
                }
            }
            continue;
        }
        let Some(plugin) = ctx.registry.by_name(&rule.metric) else {
            continue;
        };
        let verdict = verdict(ctx, &rule, plugin).await?;
        let (Some(fired), Some(day)) = (verdict.fires, verdict.day) else {
            continue;
        };
        let text = message(&rule, plugin, &verdict, fired);
        if let Some(claim) = ctx
            .store
            .claim_alert(&rule, day, "", &text, ctx.now.timestamp())
            .await?
        {
            tracing::info!(rule = rule.id, guild = rule.guild_id, %day, "alert fired: claimed");
            claims.push(claim);
        }
    }
    claims.extend(crate::goals::claim_due(ctx, brand).await?);
    Ok(claims)
}

/// Posts a claimed event and records how it went; `Ok(true)` when posted. A channel that is
/// gone stops an alert rule (and `/alert list` says why); a passing failure leaves the claim
/// for a later step to take over once its lease runs out.
pub async fn post_claim(store: &Store, post: &Post, claim: EventClaim) -> Result<bool> {
    let nonce = match &claim.key {
        // Discord keeps nonces of at most 25 characters.
        EventKey::Alert { rule_id, day, post } if post.is_empty() => {
            format!("a{rule_id}-{}", day.format("%Y%m%d"))
        }
        // A post id can be long: a hash of it keeps the nonce unique per post and short.
        EventKey::Alert { rule_id, post, .. } => {
            format!("b{rule_id}-{:08x}", breakout::fnv32(post))
        }
        EventKey::Goal { goal_id } => format!("g{goal_id}"),
    };
    let outgoing = Outgoing {
        channel_id: claim.channel_id,
        nonce,
        digest: Reply::text(claim.message.clone()),
        ping_role: claim.role_id,
    };
    match post(outgoing).await {
        Ok(()) => {
            store.finish_event(claim.key.clone(), true, None).await?;
            Ok(true)
        }
        Err(PostError::Gone(reason)) => {
            tracing::warn!(guild = claim.guild_id, %reason, "alert channel refused: rule stopped");
            store
                .finish_event(claim.key.clone(), false, Some(&reason))
                .await?;
            Ok(false)
        }
        Err(PostError::Retry(reason)) => {
            tracing::warn!(guild = claim.guild_id, %reason, "alert not posted yet: will retry");
            Ok(false)
        }
    }
}

/// After data arrived for `brand` (a logged command, a collection poll), or for any of the
/// guild's brands (an import): judge their rules and goals and post what fires. Only a front end that can post
/// judges here; without one the scheduler's look does. Failing to alert never fails the command
/// that stored the data: it is logged, and the scheduler's next look tries again.
pub async fn after_new_data(ctx: &Context<'_>, brand: Option<i64>) {
    let Some(post) = ctx.poster else {
        return;
    };
    let claims = match claim_due(ctx, brand).await {
        Ok(claims) => claims,
        Err(err) => {
            tracing::error!(error = %err, "judging alerts after new data failed");
            return;
        }
    };
    for claim in claims {
        if let Err(err) = post_claim(ctx.store, post, claim).await {
            tracing::error!(error = %err, "posting an alert failed");
        }
    }
}

/// The scheduler's look at every guild: events whose claim went stale are taken over, then
/// every rule and goal is judged as of `now`. Returns the claims to post.
pub async fn sweep(services: &Services, now: DateTime<Utc>) -> Result<Vec<EventClaim>> {
    let lease = services.settings.digest.lease;
    let mut claims = services
        .store
        .reclaim_events((now - lease).timestamp(), now.timestamp())
        .await?;
    let mut guilds: Vec<u64> = services
        .store
        .alerts(None)
        .await?
        .iter()
        .map(|r| r.guild_id)
        .chain(services.store.goals(None).await?.iter().map(|g| g.guild_id))
        .collect();
    guilds.sort_unstable();
    guilds.dedup();
    for guild in guilds {
        let ctx = Context {
            now,
            today: now.with_timezone(&services.settings.timezone).date_naive(),
            ..services.context(guild, 0)
        };
        claims.extend(claim_due(&ctx, None).await?);
    }
    Ok(claims)
}
