//! How fresh collected figures are, in words every question shares: "collected 3 h ago", stale
//! when polls fail or are older than two intervals, and each network's honest caveat. Kept in
//! small functions so that `/report`, `/compare`, `/trend` and the digest word it alike.

use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::collect::Network;
use crate::error::Result;
use crate::numbers::{percent, thousands};
use crate::period::Period;
use crate::services::Context;
use crate::storage::Tracked;

/// A duration in the largest whole unit that fits: "6 h", "15 min", "2 d".
pub fn span(duration: Duration) -> String {
    let minutes = duration.num_minutes().max(0);
    match minutes {
        m if m >= 2 * 24 * 60 => format!("{} d", m / (24 * 60)),
        m if m >= 60 => format!("{} h", m / 60),
        m => format!("{m} min"),
    }
}

/// How long ago `then` was: "3 h ago", "just now".
pub fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let elapsed = now - then;
    if elapsed < Duration::minutes(1) {
        "just now".to_string()
    } else {
        format!("{} ago", span(elapsed))
    }
}

/// What to say instead of a change between two collected YouTube subscriber counts that is
/// smaller than YouTube's rounding step at that size (100 at 12,400; 10,000 at 1,234,000):
/// such a change may be rounding alone, so it is not reported as growth. None when the change
/// is at least a step, which is reported as it is.
pub fn youtube_rounding(before: i64, after: i64) -> Option<String> {
    let size = u64::try_from(before.max(after)).ok()?;
    let step = Network::YouTube.follower_resolution(size);
    (step > 1 && after.abs_diff(before) < step).then(|| {
        format!(
            "no change beyond YouTube's rounding (to {} at this size)",
            thousands(i64::try_from(step).unwrap_or(i64::MAX))
        )
    })
}

/// Whether an account's figures can no longer be taken as current: it was never collected,
/// its latest poll failed, or its latest success is older than two intervals.
pub fn is_stale(account: &Tracked, now: DateTime<Utc>, interval: Duration) -> bool {
    match account.last_success {
        None => true,
        Some(last) => {
            account.failure.is_some() || now.timestamp() - last > 2 * interval.num_seconds()
        }
    }
}

/// One line on an account's collected figures: when, and stale or not.
pub fn account_line(account: &Tracked, now: DateTime<Utc>, interval: Duration) -> String {
    let network = Network::from_platform(&account.network)
        .map_or_else(|| account.network.clone(), |n| n.to_string());
    let head = format!("{network} {}", account.handle);
    let Some(last) = account
        .last_success
        .and_then(|s| DateTime::from_timestamp(s, 0))
    else {
        return match &account.failure {
            Some(reason) => format!("{head}: not collected yet (failing: {reason})"),
            None => format!("{head}: not collected yet"),
        };
    };
    let mut line = format!("{head}: collected {}", ago(now, last));
    if let Some(followers) = account.followers.and_then(|f| u64::try_from(f).ok())
        && let Some(network) = Network::from_platform(&account.network)
        && network.follower_resolution(followers) > 1
    {
        line.push_str(&format!(
            " (at {} subscribers, a change under {} is rounding, not growth)",
            thousands(followers as i64),
            thousands(network.follower_resolution(followers) as i64)
        ));
    }
    if let Some(reason) = &account.failure {
        line.push_str(&format!(", stale: the latest poll failed ({reason})"));
    } else if is_stale(account, now, interval) {
        line.push_str(", stale: no poll has succeeded for over two intervals");
    }
    line
}

/// What a question about collected figures should say of `accounts`: one line per tracked
/// account, then each network's caveat once. Empty when there are none.
fn lines(accounts: &[Tracked], now: DateTime<Utc>, interval: Duration) -> Vec<String> {
    let several = accounts.iter().any(|t| t.brand_id != accounts[0].brand_id);
    let mut lines: Vec<String> = accounts
        .iter()
        .map(|t| {
            let line = account_line(t, now, interval);
            if several {
                format!("{} · {line}", t.brand)
            } else {
                line
            }
        })
        .collect();
    for network in Network::ALL {
        if accounts.iter().any(|t| t.network == network.platform())
            && let Some(caveat) = network.caveat()
        {
            lines.push(caveat.to_string());
        }
    }
    lines
}

/// What `/report` says of a brand's collected figures, from one read of the tracked accounts.
pub struct Collected {
    /// Whether its YouTube subscriber counts are collected: then they are YouTube's rounded
    /// figures, and growth between them is read with [`youtube_rounding`].
    pub youtube: bool,
    /// [`lines`] for its accounts on `platform` (or all) as one block, None when none is
    /// collected: followers, posts, likes, replies and shares come from the platforms; the rest
    /// was typed.
    pub note: Option<String>,
}

/// [`Collected`] for `brand_id`.
pub async fn for_brand(
    ctx: &Context<'_>,
    brand_id: i64,
    platform: Option<&str>,
) -> Result<Collected> {
    let accounts: Vec<Tracked> = ctx
        .store
        .tracked(Some(ctx.guild_id))
        .await?
        .into_iter()
        .filter(|t| t.brand_id == brand_id)
        .collect();
    let youtube = accounts
        .iter()
        .any(|t| t.network == Network::YouTube.platform());
    let shown: Vec<Tracked> = accounts
        .into_iter()
        .filter(|t| platform.is_none_or(|p| p == t.network))
        .collect();
    let lines = lines(&shown, ctx.now, ctx.settings.collect.poll_interval);
    let note = (!lines.is_empty()).then(|| {
        format!(
            "Followers, posts, applause, conversation and amplification of these accounts are collected automatically (a value someone typed for the same day wins):\n{}",
            lines.join("\n")
        )
    });
    Ok(Collected { youtube, note })
}

/// One short paragraph for a question over many brands (`/compare`, `/trend`, the digest):
/// how many tracked accounts its figures include, how old the oldest collection is, which are
/// stale, and each network's caveat. None when nothing of them is collected.
pub async fn summary(
    ctx: &Context<'_>,
    brands: &[i64],
    platform: Option<&str>,
) -> Result<Option<String>> {
    let accounts: Vec<Tracked> = ctx
        .store
        .tracked(Some(ctx.guild_id))
        .await?
        .into_iter()
        .filter(|t| brands.contains(&t.brand_id) && platform.is_none_or(|p| p == t.network))
        .collect();
    Ok(summarize(
        &accounts,
        ctx.now,
        ctx.settings.collect.poll_interval,
    ))
}

/// [`summary`] of accounts already read.
pub fn summarize(accounts: &[Tracked], now: DateTime<Utc>, interval: Duration) -> Option<String> {
    if accounts.is_empty() {
        return None;
    }
    let oldest = accounts
        .iter()
        .filter_map(|t| t.last_success)
        .min()
        .and_then(|s| DateTime::from_timestamp(s, 0));
    let mut text = format!(
        "Followers, posts and engagement of {} tracked {} are collected automatically",
        accounts.len(),
        if accounts.len() == 1 {
            "account"
        } else {
            "accounts"
        }
    );
    match oldest {
        Some(oldest) => text.push_str(&format!(" (the oldest collected {}).", ago(now, oldest))),
        None => text.push_str(" (none collected yet)."),
    }
    let stale: Vec<String> = accounts
        .iter()
        .filter(|t| is_stale(t, now, interval))
        .map(|t| format!("{} {}", t.brand, t.handle))
        .collect();
    if !stale.is_empty() {
        text.push_str(&format!(" Stale: {}.", stale.join(", ")));
    }
    for network in Network::ALL {
        if accounts.iter().any(|t| t.network == network.platform())
            && let Some(caveat) = network.caveat()
        {
            text.push(' ');
            text.push_str(caveat);
        }
    }
    Some(text)
}

/// The brand's collected post with the most engagement published within `period`, as a line
/// with its link and its engagement rate by follower (over the followers on its day), for the
/// digest. None when no post of the brand was collected then.
pub async fn top_post(ctx: &Context<'_>, brand: i64, period: Period) -> Result<Option<String>> {
    // A day ago more than the period's first day in any timezone; the day filter is exact.
    let since = period
        .from
        .pred_opt()
        .unwrap_or(period.from)
        .and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp();
    let posts = ctx.store.posts_since(ctx.guild_id, brand, since).await?;
    let best = posts
        .iter()
        .filter(|p| p.day >= period.from && p.day <= period.to)
        .max_by_key(|p| (p.engagements(), std::cmp::Reverse(p.published)));
    Ok(best.map(|p| {
        let network =
            Network::from_platform(&p.network).map_or_else(|| p.network.clone(), |n| n.to_string());
        let rate = match p.rate() {
            Some(rate) => format!("{} engagement rate by follower", percent(rate)),
            None => "no follower count stored for its day, so no rate".to_string(),
        };
        format!(
            "{network}, {}: {} · {} engagements · {rate}",
            p.day,
            p.link,
            thousands(p.engagements())
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(last_success: Option<i64>, failure: Option<&str>) -> Tracked {
        Tracked {
            id: 1,
            guild_id: 1,
            brand_id: 1,
            brand: "Ballet West".into(),
            network: "bluesky".into(),
            account: "did:plc:x".into(),
            handle: "@ballet.bsky.social".into(),
            display_name: "Ballet West".into(),
            link: "https://bsky.app/profile/ballet.bsky.social".into(),
            followers: Some(10),
            added_at: 0,
            last_success,
            last_failure: failure.map(|_| 0),
            failure: failure.map(str::to_string),
            next_poll: 0,
        }
    }

    #[test]
    fn figures_say_how_old_they_are_and_turn_stale_after_two_intervals_or_a_failure() {
        let now = DateTime::from_timestamp(100_000, 0).unwrap();
        let interval = Duration::hours(6);
        let fresh = account(Some(100_000 - 3 * 3600), None);
        assert_eq!(
            account_line(&fresh, now, interval),
            "Bluesky @ballet.bsky.social: collected 3 h ago"
        );
        let old = account(Some(100_000 - 13 * 3600), None);
        assert!(account_line(&old, now, interval).contains("13 h ago, stale"));
        let failing = account(Some(100_000 - 3600), Some("the host did not answer"));
        assert!(is_stale(&failing, now, interval));
        assert!(account_line(&failing, now, interval).contains("the host did not answer"));
        assert_eq!(
            account_line(&account(None, None), now, interval),
            "Bluesky @ballet.bsky.social: not collected yet"
        );
    }

    #[test]
    fn a_youtube_change_under_the_rounding_step_is_not_growth() {
        assert_eq!(
            youtube_rounding(12_300, 12_400).as_deref(),
            None,
            "a whole step is a change"
        );
        assert_eq!(
            youtube_rounding(12_350, 12_400).as_deref(),
            Some("no change beyond YouTube's rounding (to 100 at this size)")
        );
        assert_eq!(
            youtube_rounding(1_240_000, 1_234_000).as_deref(),
            Some("no change beyond YouTube's rounding (to 10,000 at this size)")
        );
        assert_eq!(youtube_rounding(990, 994), None, "exact below 1,000");
        assert_eq!(youtube_rounding(-5, 3), None);
    }

    #[test]
    fn youtube_figures_say_how_much_change_is_rounding() {
        let now = DateTime::from_timestamp(100_000, 0).unwrap();
        let channel = Tracked {
            network: "youtube".into(),
            handle: "@balletwest".into(),
            followers: Some(1_234_000),
            ..account(Some(100_000), None)
        };
        assert_eq!(
            account_line(&channel, now, Duration::hours(6)),
            "YouTube @balletwest: collected just now (at 1,234,000 subscribers, a change under 10,000 is rounding, not growth)"
        );
    }

    #[test]
    fn spans_use_the_largest_whole_unit() {
        assert_eq!(span(Duration::hours(6)), "6 h");
        assert_eq!(span(Duration::minutes(15)), "15 min");
        assert_eq!(span(Duration::days(3)), "3 d");
        assert_eq!(span(Duration::hours(47)), "47 h");
    }
}
