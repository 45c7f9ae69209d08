//! Breakout posts: a collected post of the brand whose engagement rate by follower (its
//! engagements over the followers on its publish day, x 100) stands more than `k` standard
//! deviations above the mean rate of the brand's (or its landscapes') posts of the last 28 days.
//!
//! The mean and standard deviation are those of the other posts (the post judged is left out,
//! so one huge post cannot raise its own bar), and at least [`MIN_POSTS`] of them must lie
//! behind it: fewer make the standard deviation noise, and the rule then says so and stays
//! quiet. Posts of the last [`CANDIDATE_DAYS`] are judged, the days a poll still re-reads
//! their counts; older posts are not news. A post without any count, or published before its
//! account had a follower count, has no rate and is left out of both.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::command::{Field, Options};
use crate::error::{Result, UserError};
use crate::plugin::Plugin;
use crate::services::Context;
use crate::storage::{AlertRule, Brand, PostRow};

/// Days of posts the mean and standard deviation are taken over.
pub const TRAILING_DAYS: i64 = 28;
/// Fewest other posts with a rate before a post is judged at all.
pub const MIN_POSTS: usize = 20;
/// Days back a post may be published and still be judged.
pub const CANDIDATE_DAYS: i64 = 7;

/// One post's standing against the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub post_id: String,
    pub link: String,
    pub network: String,
    pub day: NaiveDate,
    /// Engagements per follower, in percent.
    pub rate: f64,
    pub mean: f64,
    pub sd: f64,
    /// Standard deviations above the mean; None when the others do not vary at all.
    pub z: Option<f64>,
}

/// A breakout rule's decision, with its numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The recent posts that break out, highest z first.
    pub fires: Vec<Standing>,
    /// The recent post with the highest rate, for `/alert test`.
    pub best: Option<Standing>,
    /// Posts with a rate in the window.
    pub posts: usize,
    pub why: String,
}

/// A post's engagement rate by follower, in percent; None without counts or followers.
pub fn rate(post: &PostRow) -> Option<f64> {
    let followers = post.followers.filter(|f| *f > 0)?;
    let counts = [post.applause, post.conversation, post.amplification];
    if counts.iter().all(Option::is_none) {
        return None;
    }
    let engagements: i64 = counts.iter().flatten().sum();
    Some(engagements as f64 / followers as f64 * 100.0)
}

/// Judges the brand's recent posts in `posts` (every post in scope of the last
/// [`TRAILING_DAYS`] as of `now`) against the others, beyond `k` standard deviations.
pub fn judge(brand_id: i64, posts: &[PostRow], k: f64, now: DateTime<Utc>) -> Judgement {
    let since = (now - Duration::days(TRAILING_DAYS)).timestamp();
    let recent = (now - Duration::days(CANDIDATE_DAYS)).timestamp();
    let rated: Vec<(&PostRow, f64)> = posts
        .iter()
        .filter(|p| p.published >= since)
        .filter_map(|p| rate(p).map(|r| (p, r)))
        .collect();
    let mut standings: Vec<Standing> = rated
        .iter()
        .enumerate()
        .filter(|(_, (p, _))| p.brand_id == brand_id && p.published >= recent)
        .filter_map(|(i, (post, rate))| {
            let others: Vec<f64> = rated
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (_, r))| *r)
                .collect();
            if others.len() < MIN_POSTS {
                return None;
            }
            let n = others.len() as f64;
            let mean = others.iter().sum::<f64>() / n;
            let sd = (others.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            Some(Standing {
                post_id: post.post_id.clone(),
                link: post.link.clone(),
                network: post.network.clone(),
                day: post.day,
                rate: *rate,
                mean,
                sd,
                z: (sd > 0.0).then(|| (rate - mean) / sd),
            })
        })
        .collect();
    standings.sort_by(|a, b| b.rate.total_cmp(&a.rate));
    let best = standings.first().cloned();
    let fires: Vec<Standing> = standings
        .into_iter()
        .filter(|s| s.z.is_some_and(|z| z > k))
        .collect();
    let why = if rated.len() <= MIN_POSTS {
        format!(
            "only {} posts with a rate in the last {TRAILING_DAYS} days; a post is judged once {MIN_POSTS} others lie behind it",
            rated.len()
        )
    } else {
        match (&best, fires.first()) {
            (None, _) => format!("no post of the brand in the last {CANDIDATE_DAYS} days"),
            (Some(_), Some(f)) => format!(
                "a post rates {:.2}%, {:+.1} standard deviations from the mean, beyond {k}",
                f.rate,
                f.z.unwrap_or_default()
            ),
            (Some(b), None) => match b.z {
                Some(z) => format!(
                    "the best recent post is {z:+.1} standard deviations from the mean, within {k}"
                ),
                None => "the posts' rates do not vary, so nothing stands out".to_string(),
            },
        }
    };
    Judgement {
        fires,
        best,
        posts: rated.len(),
        why,
    }
}

/// Every collected post in the rule's scope published in the last [`TRAILING_DAYS`].
pub async fn posts_in_scope(ctx: &Context<'_>, rule: &AlertRule) -> Result<Vec<PostRow>> {
    let since = (ctx.now - Duration::days(TRAILING_DAYS)).timestamp();
    let mut brands = vec![rule.brand_id];
    if rule.scope.as_deref() == Some("landscape") {
        let brand = Brand {
            id: rule.brand_id,
            name: rule.brand.clone(),
            competitor: false,
        };
        brands.extend(
            ctx.store
                .peers(ctx.guild_id, &brand)
                .await?
                .iter()
                .map(|b| b.id),
        );
    }
    let mut posts = Vec::new();
    for brand in brands {
        posts.extend(ctx.store.posts_since(ctx.guild_id, brand, since).await?);
    }
    Ok(posts)
}

/// `/alert test`'s numbers for a breakout rule: the recent post rating best, against the mean
/// and standard deviation of the others.
pub async fn test_fields(
    ctx: &Context<'_>,
    rule: &AlertRule,
    fields: &mut Vec<Field>,
) -> Result<()> {
    let posts = posts_in_scope(ctx, rule).await?;
    let judged = judge(rule.brand_id, &posts, rule.level, ctx.now);
    fields.push(Field::inline(
        format!("Posts in {} days", TRAILING_DAYS),
        judged.posts.to_string(),
    ));
    if let Some(best) = &judged.best {
        fields.push(Field::inline(
            format!(
                "Best post since {}",
                ctx.today - chrono::Duration::days(CANDIDATE_DAYS)
            ),
            format!("{:.2}% · {}", best.rate, best.link),
        ));
        fields.push(Field::inline(
            "Mean of the others",
            format!("{:.2}%", best.mean),
        ));
        fields.push(Field::inline(
            "Standard deviation",
            format!("{:.2}", best.sd),
        ));
        if let Some(z) = best.z {
            fields.push(Field::inline("z", format!("{z:+.2}")));
        }
    }
    let decision = if judged.fires.is_empty() {
        format!("Would not fire: {}.", judged.why)
    } else {
        format!("Would fire: {}.", judged.why)
    };
    fields.push(Field::new("Decision", decision));
    Ok(())
}

/// A breakout rule's checks: it watches collected posts, so the brand needs a tracked account,
/// and the only metric it takes is the engagement rate it computes. Returns that metric.
pub async fn checks<'a>(
    ctx: &'a Context<'_>,
    options: &Options,
    brand: &Brand,
) -> Result<&'a dyn Plugin> {
    const RATE: &str = "engagement-rate";
    if options.text("metric").is_some_and(|m| m != RATE) {
        return Err(UserError::InvalidOption {
            option: "metric",
            accepts: format!("left out (or {RATE}) for a breakout rule, which watches each post's engagement rate by follower"),
        }
        .into());
    }
    let tracked = ctx.store.tracked(Some(ctx.guild_id)).await?;
    if !tracked.iter().any(|t| t.brand_id == brand.id) {
        return Err(UserError::InvalidOption {
            option: "kind",
            accepts: format!(
                "spike or threshold for {}: breakout needs collected posts, so track one of its accounts first (`/track add`)",
                brand.name
            ),
        }
        .into());
    }
    ctx.registry.by_name(RATE).ok_or_else(|| {
        UserError::InvalidOption {
            option: "metric",
            accepts: format!("one of {}", ctx.registry.names().join(", ")),
        }
        .into()
    })
}

/// FNV-1a: a short, stable stand-in for a post id in a Discord nonce.
pub fn fnv32(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The message a breakout posts: the post's link, its rate, the mean and sd.
pub fn message(rule: &AlertRule, s: &Standing) -> String {
    let whose = if rule.scope.as_deref() == Some("landscape") {
        "its landscapes' posts"
    } else {
        "its posts"
    };
    let mut text = format!(
        "🚀 **Breakout post** · {} on {}, {}: {:.2}% engagement by followers, against a mean of {:.2}% (sd {:.2}) over {whose} of the last {TRAILING_DAYS} days ({:+.1} sd, threshold {}). {} Alert #{}.",
        rule.brand,
        s.network,
        s.day,
        s.rate,
        s.mean,
        s.sd,
        s.z.unwrap_or_default(),
        rule.level,
        s.link,
        rule.id
    );
    if let Some(role) = rule.role_id {
        text = format!("<@&{role}> {text}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(brand_id: i64, id: usize, at: DateTime<Utc>, likes: i64) -> PostRow {
        PostRow {
            brand_id,
            network: "bluesky".into(),
            post_id: format!("p{id}"),
            link: format!("https://bsky.app/p{id}"),
            published: at.timestamp(),
            day: at.date_naive(),
            applause: Some(likes),
            conversation: None,
            amplification: None,
            followers: Some(1000),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000, 0).unwrap()
    }

    #[test]
    fn a_post_far_above_the_others_breaks_out_and_needs_twenty_behind_it() {
        let usual = |n: usize| -> Vec<PostRow> {
            (0..n)
                .map(|i| post(1, i, now() - Duration::days(20), [9, 11][i % 2]))
                .collect()
        };
        let mut posts = usual(20);
        posts.push(post(1, 99, now() - Duration::hours(2), 50));
        let j = judge(1, &posts, 3.0, now());
        assert_eq!(j.fires.len(), 1, "{}", j.why);
        let s = &j.fires[0];
        assert_eq!(s.post_id, "p99");
        assert!((s.rate - 5.0).abs() < 1e-9);
        assert!((s.mean - 1.0).abs() < 1e-9);
        let mut few = usual(19);
        few.push(post(1, 99, now() - Duration::hours(2), 50));
        let j = judge(1, &few, 3.0, now());
        assert!(j.fires.is_empty());
        assert!(j.why.contains("only 20 posts"), "{}", j.why);
    }

    #[test]
    fn posts_without_counts_or_followers_have_no_rate() {
        let mut p = post(1, 1, now(), 5);
        p.applause = None;
        assert_eq!(rate(&p), None);
        let mut p = post(1, 1, now(), 5);
        p.followers = Some(0);
        assert_eq!(rate(&p), None);
    }
}
