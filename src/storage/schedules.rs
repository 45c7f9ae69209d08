//! Digest schedules and their runs: the [`Schedules`] queries, written once for both backends.
//!
//! A run is claimed by inserting its row (`INSERT ... ON CONFLICT DO NOTHING RETURNING`): the
//! one process whose insert returns the row posts it, however many processes share the
//! database. A claim not finished within the lease is taken over by one process, which an
//! `UPDATE ... RETURNING` with the old claim time in its condition decides. Times are Unix
//! seconds, computed by the scheduler.

use super::{Dialects, Postgres, Sqlite, for_each_backend, guild, retrying, storable};
use crate::error::Result;

/// A digest schedule.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Schedule {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub guild_id: u64,
    #[sqlx(try_from = "i64")]
    pub channel_id: u64,
    pub cron: String,
    pub timezone: String,
    pub landscape: Option<String>,
    /// Unix seconds of the latest scheduled time claimed or skipped.
    pub last_fire: i64,
    pub failing: Option<String>,
}

/// A digest schedule to add.
#[derive(Debug, Clone)]
pub struct NewSchedule<'a> {
    pub guild_id: u64,
    pub channel_id: u64,
    pub cron: &'a str,
    pub timezone: &'a str,
    pub landscape: Option<&'a str>,
    pub created_by: u64,
    /// Unix seconds.
    pub created_at: i64,
}

/// A scheduled run claimed for posting.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub schedule: Schedule,
    /// Unix seconds.
    pub scheduled_at: i64,
}

/// Digest schedules, and the runs that post each exactly once.
#[async_trait::async_trait]
pub trait Schedules: Send + Sync {
    /// Adds a digest schedule; it fires only after it was created.
    async fn add_schedule(&self, schedule: &NewSchedule<'_>) -> Result<i64>;

    /// The guild's schedules, or every guild's with `None`.
    async fn schedules(&self, guild_id: Option<u64>) -> Result<Vec<Schedule>>;

    /// Removes one of the guild's schedules; returns whether it existed.
    async fn remove_schedule(&self, guild_id: u64, id: i64) -> Result<bool>;

    /// Moves a schedule past its due runs in one transaction: records `skipped` ones (missed
    /// beyond the catch-up window) and claims `post`, if any. The claim is `None` when another
    /// process claimed that run first.
    async fn advance(
        &self,
        schedule: &Schedule,
        post: Option<i64>,
        skipped: &[i64],
        now: i64,
    ) -> Result<Option<Claim>>;

    /// Runs claimed before `stale_before` and never finished: their process stopped between
    /// claiming and posting. Each is claimed afresh (its claim time moved to `now`) so that
    /// one process takes it over.
    /// Runs scheduled before `too_late` are given up as failed instead: a digest days late
    /// helps no one, and retrying it for ever would pile up.
    async fn reclaim_stale(&self, stale_before: i64, too_late: i64, now: i64)
    -> Result<Vec<Claim>>;

    /// Marks a claimed run posted, or failed; a failure with `failing` set also stops the
    /// schedule, which `/digest list` then reports.
    async fn finish_run(
        &self,
        claim: &Claim,
        posted: bool,
        detail: Option<&str>,
        failing: bool,
    ) -> Result<()>;

    /// Every run of a schedule: `(scheduled_at, state)`, oldest first.
    async fn runs(&self, schedule_id: i64) -> Result<Vec<(i64, String)>>;
}

/// Moves a schedule's last fire forward, never back.
const ADVANCE_LAST_FIRE: Dialects = Dialects {
    sqlite: "UPDATE digest_schedules SET last_fire = MAX(last_fire, $1) WHERE id = $2",
    postgres: "UPDATE digest_schedules SET last_fire = GREATEST(last_fire, $1) WHERE id = $2",
};

macro_rules! impl_schedules {
    ($backend:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl Schedules for $backend {
            async fn add_schedule(&self, schedule: &NewSchedule<'_>) -> Result<i64> {
                for text in [schedule.cron, schedule.timezone].into_iter().chain(schedule.landscape) {
                    storable(text)?;
                }
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let id = sqlx::query_scalar(
                        "INSERT INTO digest_schedules
                             (guild_id, channel_id, cron, timezone, landscape, created_by, created_at, last_fire)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                    )
                    .bind(guild(schedule.guild_id))
                    .bind(schedule.channel_id as i64)
                    .bind(schedule.cron)
                    .bind(schedule.timezone)
                    .bind(schedule.landscape)
                    .bind(schedule.created_by as i64)
                    .bind(schedule.created_at)
                    .fetch_one(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(id)
                })
            }

            async fn schedules(&self, guild_id: Option<u64>) -> Result<Vec<Schedule>> {
                Ok(sqlx::query_as(
                    "SELECT id, guild_id, channel_id, cron, timezone, landscape, last_fire, failing
                     FROM digest_schedules WHERE $1 IS NULL OR guild_id = $1 ORDER BY id",
                )
                .bind(guild_id.map(guild))
                .fetch_all(self.reader())
                .await?)
            }

            async fn remove_schedule(&self, guild_id: u64, id: i64) -> Result<bool> {
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let removed = sqlx::query("DELETE FROM digest_schedules WHERE guild_id = $1 AND id = $2")
                        .bind(guild(guild_id))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    tx.commit().await?;
                    Ok(removed > 0)
                })
            }

            async fn advance(
                &self,
                schedule: &Schedule,
                post: Option<i64>,
                skipped: &[i64],
                now: i64,
            ) -> Result<Option<Claim>> {
                let Some(latest) = skipped.iter().copied().chain(post).max() else {
                    return Ok(None);
                };
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    for &at in skipped {
                        sqlx::query(
                            "INSERT INTO digest_runs (schedule_id, scheduled_at, state, claimed_at, detail)
                             VALUES ($1, $2, 'skipped', $3, 'missed by more than the catch-up window')
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(schedule.id)
                        .bind(at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let mut claimed = None;
                    if let Some(at) = post {
                        // The row comes back only to the one process whose insert made it.
                        claimed = sqlx::query_scalar::<_, i64>(
                            "INSERT INTO digest_runs (schedule_id, scheduled_at, state, claimed_at)
                             VALUES ($1, $2, 'claimed', $3)
                             ON CONFLICT DO NOTHING RETURNING scheduled_at",
                        )
                        .bind(schedule.id)
                        .bind(at)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    }
                    sqlx::query(Self::pick(&ADVANCE_LAST_FIRE))
                        .bind(latest)
                        .bind(schedule.id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(claimed.map(|scheduled_at| Claim {
                        schedule: schedule.clone(),
                        scheduled_at,
                    }))
                })
            }

            async fn reclaim_stale(
                &self,
                stale_before: i64,
                too_late: i64,
                now: i64,
            ) -> Result<Vec<Claim>> {
                let rows: Vec<(i64, i64)> = retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "UPDATE digest_runs SET state = 'failed', detail = 'not posted within the catch-up window'
                         WHERE state = 'claimed' AND claimed_at < $1 AND scheduled_at < $2",
                    )
                    .bind(stale_before)
                    .bind(too_late)
                    .execute(&mut *tx)
                    .await?;
                    let rows = sqlx::query_as(
                        "UPDATE digest_runs SET claimed_at = $1
                         WHERE state = 'claimed' AND claimed_at < $2
                         RETURNING schedule_id, scheduled_at",
                    )
                    .bind(now)
                    .bind(stale_before)
                    .fetch_all(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(rows)
                })?;
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let schedules = self.schedules(None).await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(id, scheduled_at)| {
                        let schedule = schedules.iter().find(|s| s.id == id && s.failing.is_none())?;
                        Some(Claim {
                            schedule: schedule.clone(),
                            scheduled_at,
                        })
                    })
                    .collect())
            }

            async fn finish_run(
                &self,
                claim: &Claim,
                posted: bool,
                detail: Option<&str>,
                failing: bool,
            ) -> Result<()> {
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "UPDATE digest_runs SET state = $1, detail = $2
                         WHERE schedule_id = $3 AND scheduled_at = $4",
                    )
                    .bind(if posted { "posted" } else { "failed" })
                    .bind(detail)
                    .bind(claim.schedule.id)
                    .bind(claim.scheduled_at)
                    .execute(&mut *tx)
                    .await?;
                    if failing {
                        sqlx::query("UPDATE digest_schedules SET failing = $1 WHERE id = $2")
                            .bind(detail)
                            .bind(claim.schedule.id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                })
            }

            async fn runs(&self, schedule_id: i64) -> Result<Vec<(i64, String)>> {
                Ok(sqlx::query_as(
                    "SELECT scheduled_at, state FROM digest_runs WHERE schedule_id = $1 ORDER BY scheduled_at",
                )
                .bind(schedule_id)
                .fetch_all(self.reader())
                .await?)
            }
        }
    };
}

for_each_backend!(impl_schedules);
