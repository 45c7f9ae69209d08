//! Polling tracked accounts: one account ([`poll_account`]), and the rounds the scheduler runs
//! on due accounts ([`collect_due`]) and `metricord collect` runs on every account
//! ([`collect_all`]).
//!
//! A poll reads the account's posts of the last week (engagement keeps arriving after
//! publication), or on its first poll as far back as the backfill cap, and stores everything in
//! one transaction (see `storage/tracking.rs`). Each account is claimed in the database before
//! it is polled, so processes sharing the database poll it once; a poll that does not finish
//! within the lease is abandoned with nothing written, and its claim lapses for another try.
//! A round keeps a bounded number of polls in flight, each on its own task, and a smaller
//! bound per host (a Mastodon instance, the Bluesky AppView, the YouTube API): accounts on a host
//! whose slots are all taken wait in the round's queue without taking an overall slot, so a
//! stalled host holds only its own slots and one bad account only one. Each host's request pace
//! is kept by the HTTP client.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::clock::Clock;
use crate::collect::{Account, Collectors, Error as CollectError, Network, Post};
use crate::error::Result;
use crate::limits::MAX_COUNT;
use crate::numbers::plural;
use crate::services::Services;
use crate::settings::Settings;
use crate::storage::{CollectedPost, PollWrite, Store, Tracked};

/// Days of posts read again on every poll: their engagement is still growing.
pub const RE_READ_DAYS: i64 = 7;

/// Polls in flight at once in a round.
const CONCURRENCY: usize = 32;

/// Polls in flight at once per host, per HTTP connection allowed to that host: enough to keep
/// its connections busy while a poll reads its answer, few enough that a stalled host cannot
/// hold the round's other slots.
const POLLS_PER_CONNECTION: usize = 2;

/// The host an account's polls go to, for the per-host cap: a Mastodon account's own instance,
/// or the one API the other networks are read from. An account that does not parse is
/// grouped under its network; its poll fails at once anyway.
fn host(account: &Tracked) -> String {
    let parsed = Network::from_platform(&account.network)
        .and_then(|n| Account::parse(n, &account.account).ok());
    match parsed.as_ref().and_then(Account::instance) {
        Some(instance) => format!("mastodon:{}", instance.to_ascii_lowercase()),
        None => account.network.clone(),
    }
}

/// What one poll did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stored {
        posts: usize,
        days: usize,
        since: NaiveDate,
        first: bool,
    },
    Failed {
        reason: String,
        next_poll: DateTime<Utc>,
    },
}

impl Outcome {
    /// One line for the person who added the account.
    pub fn describe(&self, backfill_days: u32) -> String {
        match self {
            Outcome::Stored {
                posts,
                days,
                since,
                first,
            } => {
                let reach = if *first {
                    format!(" (as far back as the feed gives, up to {backfill_days} days)")
                } else {
                    String::new()
                };
                format!(
                    "Collected now: {} on {} since {since}{reach}, with their likes, replies and shares.",
                    plural(*posts, "post", "posts"),
                    plural(*days, "day", "days"),
                )
            }
            Outcome::Failed { reason, next_poll } => format!(
                "The first poll failed: {reason} It is tried again at {} UTC.",
                next_poll.format("%Y-%m-%d %H:%M")
            ),
        }
    }
}

/// A count as stored: never above the largest count a snapshot holds.
fn count(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(MAX_COUNT).min(MAX_COUNT))
}

fn stored_post(post: &Post, settings: &Settings) -> CollectedPost {
    CollectedPost {
        post_id: post.id.clone(),
        link: post.link.clone(),
        published: post.published.timestamp(),
        day: post
            .published
            .with_timezone(&settings.timezone)
            .date_naive(),
        applause: count(post.applause),
        conversation: count(post.conversation),
        amplification: count(post.amplification),
    }
}

/// When a failed account is tried again: a gone account, or one the platform refuses to show
/// (sign-in required, no key), at most daily; after a rate limit or the quota day, when the
/// platform said; after anything else, at the next interval.
fn retry_after(err: &CollectError, now: DateTime<Utc>, interval: Duration) -> DateTime<Utc> {
    let daily = now + interval.max(Duration::days(1));
    match err {
        CollectError::AccountGone { .. }
        | CollectError::SignInRequired { .. }
        | CollectError::NoApiKey
        | CollectError::KeyRefused { .. }
        | CollectError::BadAccount { .. }
        | CollectError::NeedsInstance { .. }
        | CollectError::WrongNetwork { .. } => daily,
        _ => match err.retry_at() {
            Some(at) => at.max(now + Duration::minutes(1)),
            None => now + interval,
        },
    }
}

/// Polls one account (claimed by the caller) and stores what it found, or why it failed.
/// Errors are the database's only: a platform's failure is recorded on the account.
pub async fn poll_account(
    store: &Store,
    collectors: &Collectors,
    settings: &Settings,
    clock: &Clock,
    account: &Tracked,
) -> Result<Outcome> {
    let started = clock.now();
    let interval = settings.collect.poll_interval;
    let lease = settings.digest.lease;
    let failed = |reason: String, next_poll: DateTime<Utc>| async move {
        tracing::warn!(
            guild = account.guild_id,
            account = %account.handle,
            network = %account.network,
            %reason,
            "polling a tracked account failed"
        );
        store
            .record_failure(
                account.id,
                clock.now().timestamp(),
                &reason,
                next_poll.timestamp(),
            )
            .await?;
        Ok(Outcome::Failed { reason, next_poll })
    };
    let parsed = Network::from_platform(&account.network)
        .ok_or_else(|| format!("{} is not a platform metricord collects", account.network))
        .and_then(|n| Account::parse(n, &account.account).map_err(|e| e.to_string()));
    let key = match parsed {
        Ok(key) => key,
        Err(reason) => return failed(reason, started + Duration::days(1)).await,
    };
    let first = account.last_success.is_none();
    let since = if first {
        started - Duration::days(i64::from(settings.collect.backfill_days))
    } else {
        started - Duration::days(RE_READ_DAYS)
    };
    let poll = key.network();
    let limit = lease
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(300));
    let polled = tokio::time::timeout(limit, collectors.get(poll).poll(&key, since)).await;
    let found = match polled {
        Ok(Ok(found)) => found,
        Ok(Err(err)) => {
            let next = retry_after(&err, clock.now(), interval);
            return failed(err.to_string(), next).await;
        }
        Err(_) => {
            let reason = format!(
                "the poll did not finish within {} (a slow host, or YouTube's daily quota spent); nothing was stored",
                super::freshness::span(lease)
            );
            return failed(reason, clock.now() + lease).await;
        }
    };
    let posts: Vec<CollectedPost> = found
        .posts
        .iter()
        .map(|p| stored_post(p, settings))
        .collect();
    let done = clock.now();
    store
        .record_poll(&PollWrite {
            account,
            followers: count(found.followers),
            today: done.with_timezone(&settings.timezone).date_naive(),
            posts: &posts,
            at: done,
            next_poll: (done + interval).timestamp(),
        })
        .await?;
    let mut days: Vec<NaiveDate> = posts.iter().map(|p| p.day).collect();
    days.sort();
    days.dedup();
    tracing::info!(
        guild = account.guild_id,
        account = %account.handle,
        network = %account.network,
        posts = posts.len(),
        requests = found.cost.requests,
        complete = found.complete,
        "tracked account collected"
    );
    Ok(Outcome::Stored {
        posts: posts.len(),
        days: days.len(),
        since: since.with_timezone(&settings.timezone).date_naive(),
        first,
    })
}

/// What a round of polls did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub collected: usize,
    pub failed: usize,
}

/// Polls every account that is due and not being polled by another process.
pub async fn collect_due(services: Arc<Services>) -> Round {
    collect(services, None).await
}

/// Polls every tracked account once, due or not (`metricord collect`); accounts another
/// process is polling right now are left to it.
pub async fn collect_all(services: Arc<Services>) -> Result<Round> {
    let ids = services
        .store
        .tracked(None)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    Ok(collect(services, Some(ids)).await)
}

/// An account claimed by this round, waiting for a slot on its host and overall.
struct Queued {
    host: String,
    account: Tracked,
    /// Until when the claim holds (Unix seconds).
    claimed_until: i64,
}

/// Claims accounts (the listed ones, or the due ones) and polls them with at most
/// [`CONCURRENCY`] in flight overall and a per-host share of that, claiming more while overall
/// slots are free: accounts on a host with no free slot wait in the queue and do not keep
/// other hosts' accounts from being claimed.
async fn collect(services: Arc<Services>, mut listed: Option<VecDeque<i64>>) -> Round {
    let mut tasks = tokio::task::JoinSet::new();
    let mut hosts_of: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut running: HashMap<String, usize> = HashMap::new();
    let mut queue: Vec<Queued> = Vec::new();
    let per_host = POLLS_PER_CONNECTION
        * usize::try_from(services.settings.collect.connections_per_host.max(1)).unwrap_or(1);
    let mut round = Round::default();
    let mut exhausted = false;
    let lease = services.settings.digest.lease;
    loop {
        while !exhausted && tasks.len() < CONCURRENCY {
            let now = services.clock.now();
            let (now_s, until) = (now.timestamp(), (now + lease).timestamp());
            let room = CONCURRENCY - tasks.len();
            let claimed = match &mut listed {
                Some(ids) => match ids.pop_front() {
                    Some(id) => services
                        .store
                        .claim_account(id, now_s, until)
                        .await
                        .map(|t| t.into_iter().collect()),
                    None => Ok(Vec::new()),
                },
                None => {
                    services
                        .store
                        .claim_accounts(now_s, until, room as i64)
                        .await
                }
            };
            let batch = match claimed {
                Ok(batch) => batch,
                Err(err) => {
                    tracing::error!(error = %err, "claiming tracked accounts failed");
                    exhausted = true;
                    break;
                }
            };
            match &listed {
                Some(ids) => exhausted = ids.is_empty(),
                None => exhausted = batch.len() < room,
            }
            queue.extend(batch.into_iter().map(|account| Queued {
                host: host(&account),
                account,
                claimed_until: until,
            }));
            start_queued(
                &services,
                &mut queue,
                &mut tasks,
                &mut hosts_of,
                &mut running,
                per_host,
            )
            .await;
        }
        start_queued(
            &services,
            &mut queue,
            &mut tasks,
            &mut hosts_of,
            &mut running,
            per_host,
        )
        .await;
        let finished = match tasks.join_next_with_id().await {
            None => break,
            Some(Ok((id, outcome))) => {
                release(&mut hosts_of, &mut running, id);
                Ok(outcome)
            }
            Some(Err(err)) => {
                release(&mut hosts_of, &mut running, err.id());
                Err(err)
            }
        };
        match finished {
            Ok(Ok(Outcome::Stored { .. })) => round.collected += 1,
            Ok(Ok(Outcome::Failed { .. })) => round.failed += 1,
            Ok(Err(err)) => {
                round.failed += 1;
                tracing::error!(error = %err, "storing a poll failed; the account is polled again once its claim lapses");
            }
            Err(err) => {
                round.failed += 1;
                tracing::error!(error = %err, "a poll task panicked");
            }
        }
    }
    if round != Round::default() {
        tracing::info!(
            collected = round.collected,
            failed = round.failed,
            "collection round done"
        );
    }
    round
}

/// Starts queued polls, oldest first, while there is an overall slot and a slot on their host.
/// A claim that lapsed while waiting is taken again first; one another process took meanwhile is
/// left to it.
async fn start_queued(
    services: &Arc<Services>,
    queue: &mut Vec<Queued>,
    tasks: &mut tokio::task::JoinSet<Result<Outcome>>,
    hosts_of: &mut HashMap<tokio::task::Id, String>,
    running: &mut HashMap<String, usize>,
    per_host: usize,
) {
    let mut i = 0;
    while i < queue.len() && tasks.len() < CONCURRENCY {
        if running.get(&queue[i].host).copied().unwrap_or(0) >= per_host {
            i += 1;
            continue;
        }
        let Queued {
            host,
            account,
            claimed_until,
        } = queue.remove(i);
        let now = services.clock.now();
        let account = if claimed_until > now.timestamp() {
            account
        } else {
            let until = (now + services.settings.digest.lease).timestamp();
            match services
                .store
                .claim_account(account.id, now.timestamp(), until)
                .await
            {
                Ok(Some(account)) => account,
                Ok(None) => continue,
                Err(err) => {
                    tracing::error!(error = %err, "claiming a tracked account again failed");
                    continue;
                }
            }
        };
        let task = {
            let services = services.clone();
            tasks.spawn(async move {
                let outcome = poll_account(
                    &services.store,
                    &services.collectors,
                    &services.settings,
                    &services.clock,
                    &account,
                )
                .await;
                if let Ok(Outcome::Stored { .. }) = outcome {
                    // The poll has committed: its brand's rules see the new data now, not at
                    // the scheduler's next look. A failed alert is logged there and never
                    // fails the poll.
                    let ctx = services.context(account.guild_id, 0);
                    crate::alerts::after_new_data(&ctx, Some(account.brand_id)).await;
                }
                outcome
            })
        };
        *running.entry(host.clone()).or_default() += 1;
        hosts_of.insert(task.id(), host);
    }
}

/// Gives back the host slot of a finished poll.
fn release(
    hosts_of: &mut HashMap<tokio::task::Id, String>,
    running: &mut HashMap<String, usize>,
    task: tokio::task::Id,
) {
    if let Some(host) = hosts_of.remove(&task)
        && let Some(n) = running.get_mut(&host)
    {
        *n = n.saturating_sub(1);
    }
}
