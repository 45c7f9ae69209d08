//! `/track`: accounts on Bluesky, Mastodon and YouTube whose public numbers metricord collects
//! by itself, into the same snapshots a person logs (with source `api`).
//!
//! `/track add` resolves the account at once (a typo is reported now, not at 3 a.m.), stores it
//! and polls it once, so `/report` shows today's numbers straight after; [`poll`] holds what a
//! poll stores and the rounds the scheduler and `metricord collect` run; [`freshness`] says how
//! old collected figures are, for every question that shows them. The platform clients
//! themselves are in [`crate::collect`].

pub mod freshness;
pub mod poll;

use chrono::{DateTime, Duration, Utc};

use crate::collect::{Account, Network};
use crate::command::{CommandSpec, Embed, Field, Kind, OptionSpec, Options, Reply};
use crate::error::{Result, UserError};
use crate::handler;
use crate::numbers::plural;
use crate::services::{Command, Context};
use crate::storage::{NewTracked, Tracked};

pub use poll::{Round, collect_all, collect_due};

/// The platforms `/track` takes.
const NETWORKS: [&str; 3] = ["bluesky", "mastodon", "youtube"];

/// `/track` and its subcommands.
pub fn command() -> Command {
    let platform = || {
        OptionSpec::new(
            "platform",
            "bluesky, mastodon or youtube",
            Kind::Choice(NETWORKS.to_vec()),
        )
        .required()
    };
    let account = |description| {
        OptionSpec::new("account", description, Kind::Text { max_len: 300 }).required()
    };
    Command::group(
        "track",
        "Accounts whose public numbers metricord collects by itself",
        vec![
            (
                CommandSpec {
                    name: "add",
                    description: "Collect an account's followers and posts automatically",
                    options: vec![
                        OptionSpec::brand("brand", "The brand the account belongs to").required(),
                        platform(),
                        account(
                            "A handle (ballet.bsky.social, @ballet@mastodon.social, @balletwest) or a profile link",
                        ),
                    ],
                    manages_data: true,
                    slow: true,
                    ..CommandSpec::default()
                },
                handler!(add),
            ),
            (
                CommandSpec {
                    name: "list",
                    description: "The tracked accounts, when each was last collected, and any failing",
                    ..CommandSpec::default()
                },
                handler!(list),
            ),
            (
                CommandSpec {
                    name: "remove",
                    description: "Stop collecting an account (what was collected stays)",
                    options: vec![platform(), account("The account, as /track list shows it")],
                    manages_data: true,
                    ..CommandSpec::default()
                },
                handler!(remove),
            ),
        ],
    )
}

/// The network a checked `platform` option names.
fn network(options: &Options) -> Result<Network> {
    options
        .text("platform")
        .and_then(Network::from_platform)
        .ok_or_else(|| {
            UserError::InvalidOption {
                option: "platform",
                accepts: format!("one of {}", NETWORKS.join(", ")),
            }
            .into()
        })
}

/// A collector's answer, worded for the person, as the reply to a command.
fn cannot_track(err: &crate::collect::Error) -> crate::error::Error {
    UserError::CannotTrack {
        problem: err.to_string(),
    }
    .into()
}

/// `/track add brand platform account`
pub async fn add(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let network = network(options)?;
    let typed = options.text("account").unwrap_or_default();
    let account = Account::parse(network, typed).map_err(|e| cannot_track(&e))?;
    let brand_name = options.text("brand").unwrap_or_default();
    // The brand is checked before the network is asked: a refusal costs no request.
    let existing = ctx.store.brand(ctx.guild_id, brand_name).await?;
    if existing.is_none() && !ctx.settings.brands.auto_create {
        return Err(UserError::BrandNotCreated {
            name: brand_name.trim().to_string(),
        }
        .into());
    }
    let profile = ctx
        .collectors
        .get(network)
        .resolve(&account)
        .await
        .map_err(|e| cannot_track(&e))?;
    let key = profile.account.key();
    let tracked = ctx.store.tracked(Some(ctx.guild_id)).await?;
    if let Some(twin) = tracked
        .iter()
        .find(|t| t.network == network.platform() && t.account == key)
    {
        return Err(UserError::AlreadyTracked {
            account: profile.handle.clone(),
            brand: twin.brand.clone(),
        }
        .into());
    }
    let brand = match existing {
        Some(brand) => brand,
        None => {
            let (brand, _) = ctx
                .store
                .add_brand(ctx.guild_id, brand_name, None, None, ctx.now)
                .await?;
            brand
        }
    };
    let lease = ctx.settings.digest.lease;
    let id = ctx
        .store
        .track(&NewTracked {
            guild_id: ctx.guild_id,
            brand_id: brand.id,
            network: network.platform(),
            account: key,
            handle: &profile.handle,
            name: &profile.name,
            link: &profile.link,
            added_by: ctx.user_id,
            added_at: ctx.now.timestamp(),
            claimed_until: (ctx.now + lease).timestamp(),
        })
        .await?;
    let Some(id) = id else {
        return Err(UserError::AlreadyTracked {
            account: profile.handle.clone(),
            brand: brand.name.clone(),
        }
        .into());
    };
    let mut lines = vec![
        format!(
            "Now tracking {} for **{}**.",
            profile.describe(),
            brand.name
        ),
        "Audience history starts today: no platform publishes past follower counts.".to_string(),
    ];
    let account_row = ctx
        .store
        .tracked(Some(ctx.guild_id))
        .await?
        .into_iter()
        .find(|t| t.id == id);
    if let Some(account_row) = account_row {
        let outcome = poll::poll_account(
            ctx.store,
            ctx.collectors,
            ctx.settings,
            ctx.clock,
            &account_row,
        )
        .await?;
        if let poll::Outcome::Stored { .. } = outcome {
            crate::alerts::after_new_data(ctx, Some(account_row.brand_id)).await;
        }
        lines.push(outcome.describe(ctx.settings.collect.backfill_days));
    }
    lines.push(format!(
        "It is polled every {}; `/report brand:\"{}\"` shows the collected numbers.",
        freshness::span(ctx.settings.collect.poll_interval),
        brand.name
    ));
    lines.extend(network.caveat().map(str::to_string));
    Ok(Reply::text(lines.join("\n")))
}

/// `/track list`
pub async fn list(ctx: &Context<'_>, _: &Options) -> Result<Reply> {
    let tracked = ctx.store.tracked(Some(ctx.guild_id)).await?;
    if tracked.is_empty() {
        return Ok(Reply::text(
            "No accounts tracked: `/track add brand:... platform:bluesky account:...` starts one."
                .to_string(),
        ));
    }
    let interval = ctx.settings.collect.poll_interval;
    let fields = tracked
        .iter()
        .map(|t| {
            Field::new(
                format!("{} · {} {}", t.brand, label(&t.network), t.handle),
                status(t, ctx.now, interval),
            )
        })
        .collect();
    Ok(Reply::embed(Embed {
        title: format!("Tracked accounts ({})", tracked.len()),
        description: format!(
            "Each is polled every {}; a figure older than two polls is marked stale.",
            freshness::span(interval)
        ),
        fields,
        footer: None,
    }))
}

/// A stored platform name as people read it.
fn label(platform: &str) -> String {
    Network::from_platform(platform).map_or_else(|| platform.to_string(), |n| n.to_string())
}

/// How an account's polls go, for `/track list`.
fn status(t: &Tracked, now: DateTime<Utc>, interval: Duration) -> String {
    let at = |seconds: i64| DateTime::from_timestamp(seconds, 0).unwrap_or(now);
    let mut lines = Vec::new();
    match t.last_success {
        Some(last) => {
            let mut line = format!("Last collected {}", freshness::ago(now, at(last)));
            if freshness::is_stale(t, now, interval) {
                line.push_str(" (stale)");
            }
            lines.push(line);
        }
        None => lines.push("Not collected yet".to_string()),
    }
    if let Some(failure) = &t.failure {
        let since = t
            .last_failure
            .map(|f| format!(" ({})", freshness::ago(now, at(f))))
            .unwrap_or_default();
        lines.push(format!("⚠️ Failing{since}: {failure}"));
        lines.push(format!(
            "Next try {}",
            at(t.next_poll).format("%Y-%m-%d %H:%M UTC")
        ));
    }
    lines.join("\n")
}

/// `/track remove platform account`
pub async fn remove(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let network = network(options)?;
    let typed = options.text("account").unwrap_or_default();
    let account = Account::parse(network, typed).map_err(|e| cannot_track(&e))?;
    let tracked = ctx.store.tracked(Some(ctx.guild_id)).await?;
    let found = tracked
        .iter()
        .find(|t| t.network == network.platform() && names(t, account.key()));
    let Some(found) = found else {
        return Err(UserError::NotTracked {
            account: account.to_string(),
            network: network.to_string(),
        }
        .into());
    };
    ctx.store
        .untrack(ctx.guild_id, &found.network, &found.account)
        .await?;
    let posts = ctx
        .store
        .posts_since(ctx.guild_id, found.brand_id, 0)
        .await?;
    let kept = posts.iter().filter(|p| p.network == found.network).count();
    Ok(Reply::text(format!(
        "Stopped collecting {} on {network} for {}. What was collected stays ({}).",
        found.handle,
        found.brand,
        plural(kept, "post", "posts")
    )))
}

/// Whether `key` (as typed and parsed) names the tracked account: its stable key or its handle.
fn names(t: &Tracked, key: &str) -> bool {
    let bare = |s: &str| s.trim_start_matches('@').to_lowercase();
    t.account == key || bare(&t.handle) == bare(key)
}
