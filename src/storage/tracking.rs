//! Tracked accounts and the posts collected from them: the [`Tracking`] queries, written once
//! for both backends.
//!
//! A poll's results are stored in one transaction ([`Tracking::record_poll`]): the posts, each
//! affected day's totals recomputed from the stored posts (so a post read again on every poll
//! of its week is never counted twice), the followers, and the account's state. A crash
//! mid-poll leaves the day as it was, and the account due again once its claim lapses. A
//! collected value never replaces one a person typed or imported for the same brand, platform,
//! series and day: the upsert only updates rows whose source is `api`. Accounts are claimed
//! with one conditional `UPDATE ... RETURNING`, so of several processes sharing the database
//! exactly one polls each account; a claim lapses after the lease, when its process stopped.
//! Times are Unix seconds, computed by the caller.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Dialects, Postgres, Sqlite, for_each_backend, guild, instant, retrying, storable};
use crate::error::Result;

/// The series a poll stores, per day, with source `api`. Followers are an audience stock; the
/// others are what the posts published that day gathered (engagements is their sum, the input
/// of the engagement rate).
pub const COLLECTED_SERIES: [&str; 6] = [
    "followers",
    "posts",
    "applause",
    "conversation",
    "amplification",
    "engagements",
];

/// An account to track.
#[derive(Debug, Clone)]
pub struct NewTracked<'a> {
    pub guild_id: u64,
    pub brand_id: i64,
    pub network: &'a str,
    /// The stable key polled.
    pub account: &'a str,
    pub handle: &'a str,
    pub name: &'a str,
    pub link: &'a str,
    pub added_by: u64,
    /// Unix seconds.
    pub added_at: i64,
    /// Held by the caller until then (Unix seconds): it polls the account itself at once.
    pub claimed_until: i64,
}

/// A tracked account and how its polls went.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Tracked {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub guild_id: u64,
    pub brand_id: i64,
    pub brand: String,
    pub network: String,
    pub account: String,
    pub handle: String,
    pub display_name: String,
    pub link: String,
    pub followers: Option<i64>,
    pub added_at: i64,
    pub last_success: Option<i64>,
    pub last_failure: Option<i64>,
    /// Why the latest poll failed, while it does.
    pub failure: Option<String>,
    pub next_poll: i64,
}

/// A post as a poll read it.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectedPost {
    pub post_id: String,
    pub link: String,
    /// Unix seconds.
    pub published: i64,
    /// The day it counts on, in the configured timezone.
    pub day: NaiveDate,
    pub applause: Option<i64>,
    pub conversation: Option<i64>,
    pub amplification: Option<i64>,
}

/// What one successful poll stores.
#[derive(Debug, Clone)]
pub struct PollWrite<'a> {
    pub account: &'a Tracked,
    /// None when the account hides them: nothing is stored, never a 0.
    pub followers: Option<i64>,
    /// The day the followers count on: today in the configured timezone.
    pub today: NaiveDate,
    pub posts: &'a [CollectedPost],
    pub at: DateTime<Utc>,
    /// Unix seconds.
    pub next_poll: i64,
}

/// A stored post with what its engagement rate by follower needs.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PostRow {
    pub brand_id: i64,
    pub network: String,
    pub post_id: String,
    pub link: String,
    pub published: i64,
    pub day: NaiveDate,
    pub applause: Option<i64>,
    pub conversation: Option<i64>,
    pub amplification: Option<i64>,
    /// The brand's followers on that network on the post's day (the latest value on or before
    /// it); None when none was stored by then.
    pub followers: Option<i64>,
}

impl PostRow {
    /// Applause, conversation and amplification added up, of those the network publishes.
    pub fn engagements(&self) -> i64 {
        [self.applause, self.conversation, self.amplification]
            .into_iter()
            .flatten()
            .sum()
    }

    /// Engagement rate by follower, in percent: engagements over the followers on the day it
    /// was published (the published definition), not today's. None without followers.
    pub fn rate(&self) -> Option<f64> {
        let followers = self.followers.filter(|f| *f > 0)?;
        Some(self.engagements() as f64 / followers as f64 * 100.0)
    }
}

/// Tracked accounts, their polls, and their posts.
#[async_trait::async_trait]
pub trait Tracking: Send + Sync {
    /// Starts tracking an account, due at once; returns its id, or None when the guild tracks
    /// it already.
    async fn track(&self, account: &NewTracked<'_>) -> Result<Option<i64>>;

    /// The guild's tracked accounts (or every guild's with None), by brand and network.
    async fn tracked(&self, guild_id: Option<u64>) -> Result<Vec<Tracked>>;

    /// Stops tracking; what was collected stays. Returns whether it was tracked.
    async fn untrack(&self, guild_id: u64, network: &str, account: &str) -> Result<bool>;

    /// Claims up to `limit` accounts due at `now` (and not claimed by a live process) until
    /// `until`, most overdue first: each is returned to one caller only.
    async fn claim_accounts(&self, now: i64, until: i64, limit: i64) -> Result<Vec<Tracked>>;

    /// Claims one account until `until`, whether due or not, unless a live process holds it.
    async fn claim_account(&self, id: i64, now: i64, until: i64) -> Result<Option<Tracked>>;

    /// Stores a successful poll, all or nothing; see the module documentation.
    async fn record_poll(&self, poll: &PollWrite<'_>) -> Result<()>;

    /// Records a failed poll with its reason, due again at `next_poll`.
    async fn record_failure(
        &self,
        account_id: i64,
        at: i64,
        reason: &str,
        next_poll: i64,
    ) -> Result<()>;

    /// The brand's posts published at or after `since` (Unix seconds), newest first, with the
    /// followers their rate divides by.
    async fn posts_since(&self, guild_id: u64, brand_id: i64, since: i64) -> Result<Vec<PostRow>>;
}

const TRACKED: &str = "SELECT t.id, t.guild_id, t.brand_id, b.name AS brand, t.network, t.account,
        t.handle, t.display_name, t.link, t.followers, t.added_at, t.last_success, t.last_failure,
        t.failure, t.next_poll
    FROM tracked_accounts t JOIN brands b ON b.id = t.brand_id";

/// Claims due accounts. PostgreSQL re-checks the outer condition on a row another transaction
/// just claimed, and skips rows being claimed, so two processes never get the same account.
const CLAIM: Dialects = Dialects {
    sqlite: "UPDATE tracked_accounts SET claimed_until = $1
        WHERE id IN (SELECT id FROM tracked_accounts
                     WHERE next_poll <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)
                     ORDER BY next_poll, id LIMIT $3)
        RETURNING id",
    postgres: "UPDATE tracked_accounts SET claimed_until = $1
        WHERE id IN (SELECT id FROM tracked_accounts
                     WHERE next_poll <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)
                     ORDER BY next_poll, id LIMIT $3 FOR UPDATE SKIP LOCKED)
          AND next_poll <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)
        RETURNING id",
};

/// A collected value; a row a person wrote is left as it is. `$1` guild, `$2` brand, `$3`
/// platform, `$4` series, `$5` day, `$6` value, `$7` collected at.
const UPSERT_COLLECTED: &str = "INSERT INTO snapshots
        (guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source)
    VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 'api')
    ON CONFLICT (guild_id, brand_id, day, series, platform) DO UPDATE SET
        replaced_value = snapshots.value, value = excluded.value, logged_at = excluded.logged_at
    WHERE snapshots.source = 'api'";

const UPSERT_POST: &str = "INSERT INTO collected_posts
        (guild_id, brand_id, network, post_id, link, published, day, applause, conversation,
         amplification, last_seen)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (guild_id, network, post_id) DO UPDATE SET
        link = excluded.link, applause = excluded.applause, conversation = excluded.conversation,
        amplification = excluded.amplification, last_seen = excluded.last_seen";

/// A day's totals over the brand's stored posts on one network.
const DAY_TOTALS: &str = "SELECT COUNT(*), CAST(SUM(applause) AS BIGINT),
        CAST(SUM(conversation) AS BIGINT), CAST(SUM(amplification) AS BIGINT)
    FROM collected_posts WHERE guild_id = $1 AND brand_id = $2 AND network = $3 AND day = $4";

const POSTS_SINCE: &str = "SELECT p.brand_id, p.network, p.post_id, p.link, p.published, p.day,
        p.applause, p.conversation, p.amplification,
        (SELECT s.value FROM snapshots s
         WHERE s.guild_id = p.guild_id AND s.brand_id = p.brand_id AND s.platform = p.network
           AND s.series = 'followers' AND s.day <= p.day
         ORDER BY s.day DESC LIMIT 1) AS followers
    FROM collected_posts p
    WHERE p.guild_id = $1 AND p.brand_id = $2 AND p.published >= $3
    ORDER BY p.published DESC, p.post_id";

macro_rules! impl_tracking {
    ($backend:ident, $db:ty) => {
        impl $backend {
            /// Writes one collected value inside a poll's transaction.
            async fn collected_value(
                tx: &mut sqlx::Transaction<'static, $db>,
                account: &Tracked,
                series: &str,
                day: NaiveDate,
                value: i64,
                at: DateTime<Utc>,
            ) -> Result<()> {
                sqlx::query(UPSERT_COLLECTED)
                    .bind(guild(account.guild_id))
                    .bind(account.brand_id)
                    .bind(&account.network)
                    .bind(series)
                    .bind(day)
                    .bind(value.max(0))
                    .bind(instant(at))
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl Tracking for $backend {
            async fn track(&self, account: &NewTracked<'_>) -> Result<Option<i64>> {
                for text in [account.account, account.handle, account.name, account.link] {
                    storable(text)?;
                }
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let id = sqlx::query_scalar(
                        "INSERT INTO tracked_accounts (guild_id, brand_id, network, account, handle,
                             display_name, link, added_by, added_at, next_poll, claimed_until)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)
                         ON CONFLICT (guild_id, network, account) DO NOTHING RETURNING id",
                    )
                    .bind(guild(account.guild_id))
                    .bind(account.brand_id)
                    .bind(account.network)
                    .bind(account.account)
                    .bind(account.handle)
                    .bind(account.name)
                    .bind(account.link)
                    .bind(account.added_by as i64)
                    .bind(account.added_at)
                    .bind(account.claimed_until)
                    .fetch_optional(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(id)
                })
            }

            async fn tracked(&self, guild_id: Option<u64>) -> Result<Vec<Tracked>> {
                let sql = format!(
                    "{TRACKED} WHERE $1 IS NULL OR t.guild_id = $1
                     ORDER BY t.guild_id, b.name_key, t.network, t.handle"
                );
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(guild_id.map(guild))
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn untrack(&self, guild_id: u64, network: &str, account: &str) -> Result<bool> {
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let removed = sqlx::query(
                        "DELETE FROM tracked_accounts
                         WHERE guild_id = $1 AND network = $2 AND account = $3",
                    )
                    .bind(guild(guild_id))
                    .bind(network)
                    .bind(account)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    tx.commit().await?;
                    Ok(removed > 0)
                })
            }

            async fn claim_accounts(&self, now: i64, until: i64, limit: i64) -> Result<Vec<Tracked>> {
                let ids: Vec<i64> = retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let ids = sqlx::query_scalar(Self::pick(&CLAIM))
                        .bind(until)
                        .bind(now)
                        .bind(limit)
                        .fetch_all(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(ids)
                })?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut claimed = Vec::with_capacity(ids.len());
                let sql = format!("{TRACKED} WHERE t.id = $1");
                for id in ids {
                    let row: Option<Tracked> = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await?;
                    claimed.extend(row);
                }
                claimed.sort_by_key(|t| (t.next_poll, t.id));
                Ok(claimed)
            }

            async fn claim_account(&self, id: i64, now: i64, until: i64) -> Result<Option<Tracked>> {
                let claimed: Option<i64> = retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let claimed = sqlx::query_scalar(
                        "UPDATE tracked_accounts SET claimed_until = $1
                         WHERE id = $2 AND (claimed_until IS NULL OR claimed_until <= $3)
                         RETURNING id",
                    )
                    .bind(until)
                    .bind(id)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(claimed)
                })?;
                let Some(id) = claimed else {
                    return Ok(None);
                };
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("{TRACKED} WHERE t.id = $1")))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn record_poll(&self, poll: &PollWrite<'_>) -> Result<()> {
                let account = poll.account;
                let at = poll.at.timestamp();
                for post in poll.posts {
                    storable(&post.post_id)?;
                    storable(&post.link)?;
                }
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    // Gone with its brand or untracked meanwhile: store nothing.
                    let still: Option<i64> = sqlx::query_scalar(
                        "SELECT id FROM tracked_accounts WHERE id = $1",
                    )
                    .bind(account.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if still.is_none() {
                        return Ok(());
                    }
                    let mut days: Vec<NaiveDate> = Vec::new();
                    for post in poll.posts {
                        sqlx::query(UPSERT_POST)
                            .bind(guild(account.guild_id))
                            .bind(account.brand_id)
                            .bind(&account.network)
                            .bind(&post.post_id)
                            .bind(&post.link)
                            .bind(post.published)
                            .bind(post.day)
                            .bind(post.applause)
                            .bind(post.conversation)
                            .bind(post.amplification)
                            .bind(at)
                            .execute(&mut *tx)
                            .await?;
                        if !days.contains(&post.day) {
                            days.push(post.day);
                        }
                    }
                    for day in days {
                        let (posts, applause, conversation, amplification): (
                            i64,
                            Option<i64>,
                            Option<i64>,
                            Option<i64>,
                        ) = sqlx::query_as(DAY_TOTALS)
                            .bind(guild(account.guild_id))
                            .bind(account.brand_id)
                            .bind(&account.network)
                            .bind(day)
                            .fetch_one(&mut *tx)
                            .await?;
                        let parts = [
                            ("applause", applause),
                            ("conversation", conversation),
                            ("amplification", amplification),
                        ];
                        Self::collected_value(&mut tx, account, "posts", day, posts, poll.at).await?;
                        for (series, value) in parts {
                            if let Some(value) = value {
                                Self::collected_value(&mut tx, account, series, day, value, poll.at)
                                    .await?;
                            }
                        }
                        // A day whose posts hide every count has no engagements to tell,
                        // which is missing, not 0.
                        if parts.iter().any(|(_, v)| v.is_some()) {
                            let engagements = parts.iter().filter_map(|(_, v)| *v).sum::<i64>();
                            Self::collected_value(
                                &mut tx,
                                account,
                                "engagements",
                                day,
                                engagements,
                                poll.at,
                            )
                            .await?;
                        }
                    }
                    sqlx::query(
                        "UPDATE tracked_accounts SET followers = $1, last_success = $2,
                             failure = NULL, next_poll = $3, claimed_until = NULL
                         WHERE id = $4",
                    )
                    .bind(poll.followers)
                    .bind(at)
                    .bind(poll.next_poll)
                    .bind(account.id)
                    .execute(&mut *tx)
                    .await?;
                    // The brand's audience on this network: every tracked account's followers.
                    let followers: Option<i64> = sqlx::query_scalar(
                        "SELECT CAST(SUM(followers) AS BIGINT) FROM tracked_accounts
                         WHERE guild_id = $1 AND brand_id = $2 AND network = $3",
                    )
                    .bind(guild(account.guild_id))
                    .bind(account.brand_id)
                    .bind(&account.network)
                    .fetch_one(&mut *tx)
                    .await?;
                    if let Some(followers) = followers {
                        Self::collected_value(&mut tx, account, "followers", poll.today, followers, poll.at)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                })
            }

            async fn record_failure(
                &self,
                account_id: i64,
                at: i64,
                reason: &str,
                next_poll: i64,
            ) -> Result<()> {
                let reason: String = reason.replace('\0', "");
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "UPDATE tracked_accounts SET last_failure = $1, failure = $2,
                             next_poll = $3, claimed_until = NULL
                         WHERE id = $4",
                    )
                    .bind(at)
                    .bind(&reason)
                    .bind(next_poll)
                    .bind(account_id)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                })
            }

            async fn posts_since(&self, guild_id: u64, brand_id: i64, since: i64) -> Result<Vec<PostRow>> {
                Ok(sqlx::query_as(POSTS_SINCE)
                    .bind(guild(guild_id))
                    .bind(brand_id)
                    .bind(since)
                    .fetch_all(self.reader())
                    .await?)
            }
        }
    };
}

for_each_backend!(impl_tracking);
