//! Alert rules, goals, and the events each posts: the [`Alerts`] queries, written once for both
//! backends.
//!
//! An alert event is claimed as a digest run is (see `schedules.rs`): one transaction moves
//! the rule's `last_fired` forward only when its cooldown has run out (an `UPDATE ...
//! RETURNING` whose condition holds for one process only), then inserts the event keyed by
//! rule and day (and post, for a breakout) with `ON CONFLICT DO NOTHING RETURNING`; either failing rolls both back. The
//! event's message is stored with the claim, so a claim taken over after a restart posts the
//! same words. A goal has one closing event (met, or missed), claimed the same way.

use chrono::NaiveDate;

use super::{Postgres, Sqlite, for_each_backend, guild, retrying, storable};
use crate::error::Result;

/// An alert rule.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AlertRule {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub guild_id: u64,
    pub brand_id: i64,
    /// The brand's name, as first written.
    pub brand: String,
    #[sqlx(try_from = "i64")]
    pub channel_id: u64,
    pub metric: String,
    /// `spike`, `threshold` or `breakout`.
    pub kind: String,
    /// `up`, `down` or `both`.
    pub direction: String,
    /// A spike's robust z threshold `k`, or the value a threshold rule watches.
    pub level: f64,
    /// A breakout's scope: `brand` or `landscape`.
    pub scope: Option<String>,
    pub role_id: Option<i64>,
    pub cooldown_hours: i64,
    pub last_fired: Option<i64>,
    pub failing: Option<String>,
}

/// An alert rule to add.
#[derive(Debug, Clone)]
pub struct NewAlert<'a> {
    pub guild_id: u64,
    pub brand_id: i64,
    pub channel_id: u64,
    pub metric: &'a str,
    pub kind: &'a str,
    pub direction: &'a str,
    pub level: f64,
    pub scope: Option<&'a str>,
    pub role_id: Option<u64>,
    pub cooldown_hours: i64,
    pub created_by: u64,
    /// Unix seconds.
    pub created_at: i64,
}

/// A goal.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Goal {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub guild_id: u64,
    pub brand_id: i64,
    pub brand: String,
    #[sqlx(try_from = "i64")]
    pub channel_id: u64,
    pub metric: String,
    pub start_day: NaiveDate,
    pub start_value: f64,
    pub target: f64,
    pub deadline: NaiveDate,
    /// `met` or `missed` once the goal's closing event was claimed.
    pub closed: Option<String>,
}

/// A goal to add.
#[derive(Debug, Clone)]
pub struct NewGoal<'a> {
    pub guild_id: u64,
    pub brand_id: i64,
    pub channel_id: u64,
    pub metric: &'a str,
    pub start_day: NaiveDate,
    pub start_value: f64,
    pub target: f64,
    pub deadline: NaiveDate,
    pub created_by: u64,
    pub created_at: i64,
}

/// What a claimed event is: an alert rule's on a day (for a breakout, the post's day and the
/// post), or a goal's closing one.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKey {
    Alert {
        rule_id: i64,
        day: NaiveDate,
        /// The breakout post's id; empty for other rules.
        post: String,
    },
    Goal {
        goal_id: i64,
    },
}

/// An event claimed for posting, with everything posting it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct EventClaim {
    pub key: EventKey,
    pub guild_id: u64,
    pub channel_id: u64,
    /// The one role the message may ping.
    pub role_id: Option<u64>,
    pub message: String,
}

/// Alert rules and goals, and the events that post each exactly once.
#[async_trait::async_trait]
pub trait Alerts: Send + Sync {
    /// Adds an alert rule on one of the guild's brands; `None` when the brand is not the
    /// guild's (nothing is stored then).
    async fn add_alert(&self, alert: &NewAlert<'_>) -> Result<Option<i64>>;

    /// The guild's alert rules, or every guild's with `None`, oldest first.
    async fn alerts(&self, guild_id: Option<u64>) -> Result<Vec<AlertRule>>;

    /// Removes one of the guild's alert rules; returns whether it existed.
    async fn remove_alert(&self, guild_id: u64, id: i64) -> Result<bool>;

    /// Claims the event of `rule` on `day` (and `post`, a breakout's, else empty) at `now` (Unix
    /// seconds), with the message it posts:
    /// `None` when that event was claimed before, when the rule's cooldown (from its latest
    /// event) has not run out, or when the rule stopped.
    async fn claim_alert(
        &self,
        rule: &AlertRule,
        day: NaiveDate,
        post: &str,
        message: &str,
        now: i64,
    ) -> Result<Option<EventClaim>>;

    /// Adds a goal on one of the guild's brands; `None` when the brand is not the guild's.
    async fn add_goal(&self, goal: &NewGoal<'_>) -> Result<Option<i64>>;

    /// The guild's goals, or every guild's with `None`, oldest first.
    async fn goals(&self, guild_id: Option<u64>) -> Result<Vec<Goal>>;

    /// Removes one of the guild's goals; returns whether it existed.
    async fn remove_goal(&self, guild_id: u64, id: i64) -> Result<bool>;

    /// Claims a goal's closing event (`met` or `missed`); `None` when it was claimed before.
    async fn claim_goal(
        &self,
        goal: &Goal,
        kind: &str,
        message: &str,
        now: i64,
    ) -> Result<Option<EventClaim>>;

    /// Events claimed before `stale_before` and never finished: their process stopped between
    /// claiming and posting. Each is claimed afresh at `now`, so one process takes it over.
    async fn reclaim_events(&self, stale_before: i64, now: i64) -> Result<Vec<EventClaim>>;

    /// Marks a claimed event posted or failed; `stop` also stops the alert rule (its channel
    /// is gone), which `/alert list` then reports with `detail`.
    async fn finish_event(&self, key: EventKey, posted: bool, stop: Option<&str>) -> Result<()>;

    /// Every event of an alert rule: `(day, state)`, oldest first.
    async fn alert_events(&self, rule_id: i64) -> Result<Vec<(NaiveDate, String)>>;
}

const RULES: &str = "SELECT r.id, r.guild_id, r.brand_id, b.name AS brand, r.channel_id, r.metric,
        r.kind, r.direction, r.level, r.scope, r.role_id, r.cooldown_hours, r.last_fired, r.failing
    FROM alert_rules r JOIN brands b ON b.id = r.brand_id
    WHERE $1 IS NULL OR r.guild_id = $1 ORDER BY r.id";

const GOALS: &str = "SELECT g.id, g.guild_id, g.brand_id, b.name AS brand, g.channel_id, g.metric,
        g.start_day, g.start_value, g.target, g.deadline, e.kind AS closed
    FROM goals g JOIN brands b ON b.id = g.brand_id
    LEFT JOIN goal_events e ON e.goal_id = g.id
    WHERE $1 IS NULL OR g.guild_id = $1 ORDER BY g.id";

macro_rules! impl_alerts {
    ($backend:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl Alerts for $backend {
            async fn add_alert(&self, alert: &NewAlert<'_>) -> Result<Option<i64>> {
                storable(alert.metric)?;
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    // Selecting the brand by guild as well makes another server's brand a
                    // refusal, not a rule.
                    let id = sqlx::query_scalar(
                        "INSERT INTO alert_rules (guild_id, brand_id, channel_id, metric, kind,
                             direction, level, role_id, cooldown_hours, created_by, created_at, scope)
                         SELECT guild_id, id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
                         FROM brands WHERE guild_id = $1 AND id = $2 RETURNING id",
                    )
                    .bind(guild(alert.guild_id))
                    .bind(alert.brand_id)
                    .bind(alert.channel_id as i64)
                    .bind(alert.metric)
                    .bind(alert.kind)
                    .bind(alert.direction)
                    .bind(alert.level)
                    .bind(alert.role_id.map(|r| r as i64))
                    .bind(alert.cooldown_hours)
                    .bind(alert.created_by as i64)
                    .bind(alert.created_at)
                    .bind(alert.scope)
                    .fetch_optional(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(id)
                })
            }

            async fn alerts(&self, guild_id: Option<u64>) -> Result<Vec<AlertRule>> {
                Ok(sqlx::query_as(RULES)
                    .bind(guild_id.map(guild))
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn remove_alert(&self, guild_id: u64, id: i64) -> Result<bool> {
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let removed = sqlx::query("DELETE FROM alert_rules WHERE guild_id = $1 AND id = $2")
                        .bind(guild(guild_id))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    tx.commit().await?;
                    Ok(removed > 0)
                })
            }

            async fn claim_alert(
                &self,
                rule: &AlertRule,
                day: NaiveDate,
                post: &str,
                message: &str,
                now: i64,
            ) -> Result<Option<EventClaim>> {
                let cooled = now - rule.cooldown_hours.saturating_mul(3600);
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    // On PostgreSQL the row lock this takes makes a second process wait, then
                    // see the moved `last_fired` and claim nothing.
                    let open: Option<i64> = sqlx::query_scalar(
                        "UPDATE alert_rules SET last_fired = $1
                         WHERE id = $2 AND failing IS NULL AND (last_fired IS NULL OR last_fired <= $3)
                         RETURNING id",
                    )
                    .bind(now)
                    .bind(rule.id)
                    .bind(cooled)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if open.is_none() {
                        return Ok(None);
                    }
                    let claimed: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO alert_events (rule_id, day, state, claimed_at, message, post_id)
                         VALUES ($1, $2, 'claimed', $3, $4, $5)
                         ON CONFLICT DO NOTHING RETURNING rule_id",
                    )
                    .bind(rule.id)
                    .bind(day)
                    .bind(now)
                    .bind(message)
                    .bind(post)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if claimed.is_none() {
                        // Dropping the transaction rolls `last_fired` back: nothing fired.
                        return Ok(None);
                    }
                    tx.commit().await?;
                    Ok(Some(EventClaim {
                        key: EventKey::Alert {
                            rule_id: rule.id,
                            day,
                            post: post.to_string(),
                        },
                        guild_id: rule.guild_id,
                        channel_id: rule.channel_id,
                        role_id: rule.role_id.map(|r| r as u64),
                        message: message.to_string(),
                    }))
                })
            }

            async fn add_goal(&self, goal: &NewGoal<'_>) -> Result<Option<i64>> {
                storable(goal.metric)?;
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let id = sqlx::query_scalar(
                        "INSERT INTO goals (guild_id, brand_id, channel_id, metric, start_day,
                             start_value, target, deadline, created_by, created_at)
                         SELECT guild_id, id, $3, $4, $5, $6, $7, $8, $9, $10
                         FROM brands WHERE guild_id = $1 AND id = $2 RETURNING id",
                    )
                    .bind(guild(goal.guild_id))
                    .bind(goal.brand_id)
                    .bind(goal.channel_id as i64)
                    .bind(goal.metric)
                    .bind(goal.start_day)
                    .bind(goal.start_value)
                    .bind(goal.target)
                    .bind(goal.deadline)
                    .bind(goal.created_by as i64)
                    .bind(goal.created_at)
                    .fetch_optional(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(id)
                })
            }

            async fn goals(&self, guild_id: Option<u64>) -> Result<Vec<Goal>> {
                Ok(sqlx::query_as(GOALS)
                    .bind(guild_id.map(guild))
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn remove_goal(&self, guild_id: u64, id: i64) -> Result<bool> {
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let removed = sqlx::query("DELETE FROM goals WHERE guild_id = $1 AND id = $2")
                        .bind(guild(guild_id))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    tx.commit().await?;
                    Ok(removed > 0)
                })
            }

            async fn claim_goal(
                &self,
                goal: &Goal,
                kind: &str,
                message: &str,
                now: i64,
            ) -> Result<Option<EventClaim>> {
                let claimed: Option<i64> = retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let claimed = sqlx::query_scalar(
                        "INSERT INTO goal_events (goal_id, kind, state, claimed_at, message)
                         VALUES ($1, $2, 'claimed', $3, $4)
                         ON CONFLICT DO NOTHING RETURNING goal_id",
                    )
                    .bind(goal.id)
                    .bind(kind)
                    .bind(now)
                    .bind(message)
                    .fetch_optional(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(claimed)
                })?;
                Ok(claimed.map(|_| EventClaim {
                    key: EventKey::Goal { goal_id: goal.id },
                    guild_id: goal.guild_id,
                    channel_id: goal.channel_id,
                    role_id: None,
                    message: message.to_string(),
                }))
            }

            async fn reclaim_events(&self, stale_before: i64, now: i64) -> Result<Vec<EventClaim>> {
                // SQLite's RETURNING sees only the updated table, so rules and goals are read
                // after.
                let (alerts, goals): (Vec<(i64, NaiveDate, String, String)>, Vec<(i64, String)>) = retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let alerts = sqlx::query_as(
                        "UPDATE alert_events SET claimed_at = $1
                         WHERE state = 'claimed' AND claimed_at < $2
                           AND rule_id IN (SELECT id FROM alert_rules WHERE failing IS NULL)
                         RETURNING rule_id, day, post_id, message",
                    )
                    .bind(now)
                    .bind(stale_before)
                    .fetch_all(&mut *tx)
                    .await?;
                    let goals = sqlx::query_as(
                        "UPDATE goal_events SET claimed_at = $1
                         WHERE state = 'claimed' AND claimed_at < $2
                         RETURNING goal_id, message",
                    )
                    .bind(now)
                    .bind(stale_before)
                    .fetch_all(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok((alerts, goals))
                })?;
                let mut claims = Vec::new();
                if !alerts.is_empty() {
                    let rules = self.alerts(None).await?;
                    for (rule_id, day, post, message) in alerts {
                        if let Some(rule) = rules.iter().find(|r| r.id == rule_id) {
                            claims.push(EventClaim {
                                key: EventKey::Alert { rule_id, day, post },
                                guild_id: rule.guild_id,
                                channel_id: rule.channel_id,
                                role_id: rule.role_id.map(|r| r as u64),
                                message,
                            });
                        }
                    }
                }
                if !goals.is_empty() {
                    let all = self.goals(None).await?;
                    for (goal_id, message) in goals {
                        if let Some(goal) = all.iter().find(|g| g.id == goal_id) {
                            claims.push(EventClaim {
                                key: EventKey::Goal { goal_id },
                                guild_id: goal.guild_id,
                                channel_id: goal.channel_id,
                                role_id: None,
                                message,
                            });
                        }
                    }
                }
                Ok(claims)
            }

            async fn finish_event(
                &self,
                key: EventKey,
                posted: bool,
                stop: Option<&str>,
            ) -> Result<()> {
                let state = if posted { "posted" } else { "failed" };
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    match &key {
                        EventKey::Alert { rule_id, day, post } => {
                            sqlx::query("UPDATE alert_events SET state = $1 WHERE rule_id = $2 AND day = $3 AND post_id = $4")
                                .bind(state)
                                .bind(rule_id)
                                .bind(day)
                                .bind(post)
                                .execute(&mut *tx)
                                .await?;
                            if let Some(reason) = stop {
                                sqlx::query("UPDATE alert_rules SET failing = $1 WHERE id = $2")
                                    .bind(reason)
                                    .bind(rule_id)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                        }
                        EventKey::Goal { goal_id } => {
                            sqlx::query("UPDATE goal_events SET state = $1 WHERE goal_id = $2")
                                .bind(state)
                                .bind(goal_id)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    tx.commit().await?;
                    Ok(())
                })
            }

            async fn alert_events(&self, rule_id: i64) -> Result<Vec<(NaiveDate, String)>> {
                Ok(sqlx::query_as(
                    "SELECT day, state FROM alert_events WHERE rule_id = $1 ORDER BY day",
                )
                .bind(rule_id)
                .fetch_all(self.reader())
                .await?)
            }
        }
    };
}

for_each_backend!(impl_alerts);
