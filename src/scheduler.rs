//! Scheduled digests: the `/digest` commands, cron schedules in the team's timezone, and the
//! worker that posts each due digest exactly once.
//!
//! The worker's step is [`Scheduler::tick`]: find the runs that are due, claim each in the
//! database (keyed by schedule and scheduled time, so two processes or a restart never post the
//! same run twice), build the digest, post it with a Discord nonce (so a retried post cannot
//! duplicate it either), and record the outcome. The bot calls it every few seconds; tests call
//! it directly with a hand-set clock, running weeks of schedules in milliseconds.
//!
//! The same worker runs the collection of tracked accounts ([`crate::tracking`]): on each step
//! it starts a round over the accounts that are due, unless the previous round is still going,
//! on a task of its own so that a slow platform never delays a digest.
//!
//! The worker holds the [`Services`] it needs, not the dispatcher; the times themselves are
//! worked out in [`crate::cron`].

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::command::{CommandSpec, Embed, Field, Kind, OptionSpec, Options, Reply};
use crate::cron::{Cron, MAX_DUE};
use crate::error::{Error, Result, UserError};
use crate::handler;
use crate::period::Period;
use crate::services::{Command, Context, Outgoing, Post, PostError, Services};
use crate::storage::{Claim, NewSchedule, Schedule};
use crate::tracking::Round;

/// The default schedule: Mondays at 9:00.
pub const DEFAULT_CRON: &str = "0 0 9 * * Mon";

/// `/digest` and its subcommands.
pub fn command() -> Command {
    let id = || {
        OptionSpec::new(
            "id",
            "The schedule's number, from /digest list",
            Kind::Integer {
                min: 1,
                max: i64::from(i32::MAX),
            },
        )
        .required()
    };
    Command::group(
        "digest",
        "Weekly benchmark digests posted to a channel on a schedule",
        vec![
            (
                CommandSpec {
                    name: "schedule",
                    description: "Post a digest to a channel on a schedule (default Mondays 9:00)",
                    options: vec![
                        OptionSpec::new(
                            "channel",
                            "The channel to post the digest in",
                            Kind::Channel,
                        )
                        .required(),
                        OptionSpec::new(
                            "cron",
                            "When, seconds first (default `0 0 9 * * Mon`)",
                            Kind::Text { max_len: 100 },
                        ),
                        OptionSpec::new(
                            "timezone",
                            "IANA timezone, such as Europe/Bucharest",
                            Kind::Text { max_len: 64 },
                        ),
                        OptionSpec::landscape("The landscape to report (default: every brand)"),
                    ],
                    manages_data: true,
                    ..CommandSpec::default()
                },
                handler!(schedule),
            ),
            (
                CommandSpec {
                    name: "list",
                    description: "List the digest schedules and their next runs",
                    ..CommandSpec::default()
                },
                handler!(list),
            ),
            (
                CommandSpec {
                    name: "remove",
                    description: "Remove a digest schedule",
                    options: vec![id()],
                    manages_data: true,
                    ..CommandSpec::default()
                },
                handler!(remove),
            ),
            (
                CommandSpec {
                    name: "preview",
                    description: "The digest as it would be posted now, shown only to you",
                    options: vec![OptionSpec::landscape(
                        "The landscape (default: every brand)",
                    )],
                    slow: true,
                    ..CommandSpec::default()
                },
                handler!(preview),
            ),
            (
                CommandSpec {
                    name: "run",
                    description: "Post a scheduled digest now",
                    options: vec![id()],
                    manages_data: true,
                    slow: true,
                    ..CommandSpec::default()
                },
                handler!(run_now),
            ),
        ],
    )
}

/// `/digest schedule channel [cron] [timezone] [landscape]`
pub async fn schedule(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let channel = options
        .text("channel")
        .and_then(|c| c.parse::<u64>().ok())
        .ok_or(UserError::MissingOption {
            option: "channel",
            accepts: "the channel to post in".to_string(),
        })?;
    let expression = options.text("cron").unwrap_or(DEFAULT_CRON);
    let cron = match options.text("timezone") {
        Some(timezone) => {
            crate::cron::refuse_legacy(timezone)?;
            Cron::parse(expression, timezone)?
        }
        None => Cron::new(expression, ctx.settings.timezone)?,
    };
    let next: Vec<DateTime<Utc>> = cron.after(ctx.now).take(3).collect();
    if next.is_empty() {
        return Err(cron.never_runs(expression, ctx.now).into());
    }
    if next.windows(2).any(|w| w[1] - w[0] < Duration::hours(1)) {
        return Err(UserError::InvalidOption {
            option: "cron",
            accepts: "a schedule that runs at most once an hour, such as `0 0 9 * * Mon`"
                .to_string(),
        }
        .into());
    }
    let landscape = match options.text("landscape") {
        Some(name) => Some(ctx.scope(Some(name)).await?.0),
        None => None,
    };
    let timezone = cron.tz().to_string();
    let existing = ctx.store.schedules(Some(ctx.guild_id)).await?;
    if let Some(twin) = existing.iter().find(|s| {
        s.channel_id == channel
            && s.cron == expression.trim()
            && s.timezone == timezone
            && s.landscape == landscape
    }) {
        return Err(UserError::DuplicateSchedule { id: twin.id }.into());
    }
    let id = ctx
        .store
        .add_schedule(&NewSchedule {
            guild_id: ctx.guild_id,
            channel_id: channel,
            cron: expression.trim(),
            timezone: &timezone,
            landscape: landscape.as_deref(),
            created_by: ctx.user_id,
            created_at: ctx.now.timestamp(),
        })
        .await?;
    let mut lines = vec![format!(
        "Digest #{id} of {} to <#{channel}>, `{}` in {}. Next runs:",
        landscape.as_deref().unwrap_or("every brand"),
        expression.trim(),
        cron.tz()
    )];
    lines.extend(next.iter().map(|at| format!("- {}", local(at, cron.tz()))));
    lines.extend(cron.notes(expression, ctx.now));
    Ok(Reply::text(lines.join("\n")))
}

fn local(at: &DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `/digest list`
pub async fn list(ctx: &Context<'_>, _: &Options) -> Result<Reply> {
    let schedules = ctx.store.schedules(Some(ctx.guild_id)).await?;
    if schedules.is_empty() {
        return Ok(Reply::text(
            "No digests scheduled: `/digest schedule channel:...` sets one up.".to_string(),
        ));
    }
    let fields = schedules
        .iter()
        .map(|s| {
            let mut value = format!(
                "{} to <#{}>, `{}` in {}",
                s.landscape.as_deref().unwrap_or("every brand"),
                s.channel_id,
                s.cron,
                s.timezone
            );
            match (&s.failing, Cron::parse(&s.cron, &s.timezone)) {
                (Some(reason), _) => value.push_str(&format!(
                    "\n⚠️ Stopped: {reason}. Give the bot access to the channel, or remove this schedule and set a new one."
                )),
                (None, Ok(cron)) => {
                    let from = DateTime::from_timestamp(s.last_fire, 0).unwrap_or(ctx.now).max(ctx.now);
                    if let Some(next) = cron.after(from).next() {
                        value.push_str(&format!("\nNext: {}", local(&next, cron.tz())));
                    }
                }
                (None, Err(err)) => value.push_str(&format!("\n⚠️ {err}")),
            }
            Field::new(format!("#{}", s.id), value)
        })
        .collect();
    Ok(Reply::embed(Embed {
        title: "Digest schedules".to_string(),
        fields,
        ..Embed::default()
    }))
}

/// `/digest remove id`
pub async fn remove(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let id = options.integer("id").unwrap_or_default();
    if !ctx.store.remove_schedule(ctx.guild_id, id).await? {
        return Err(UserError::UnknownSchedule { id }.into());
    }
    Ok(Reply::text(format!("Removed digest #{id}.")))
}

/// The timezone a schedule was stored with.
fn schedule_tz(schedule: &Schedule) -> Result<Tz> {
    Ok(crate::cron::timezone(&schedule.timezone)?)
}

/// The week a digest posted at `at` covers: the seven days ending the day before, in `tz`.
pub fn week_before(at: DateTime<Utc>, tz: Tz) -> Period {
    let day = at.with_timezone(&tz).date_naive();
    Period::ending(day.pred_opt().unwrap_or(day), 7)
}

/// `/digest preview [landscape]`
pub async fn preview(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let week = week_before(ctx.now, ctx.settings.timezone);
    let mut reply = crate::digest::build(ctx, options.text("landscape"), week).await?;
    reply.content.push('\n');
    reply
        .content
        .push_str(&crate::digest::preview_note(week, ctx.today));
    reply.ephemeral = true;
    Ok(reply)
}

/// `/digest run id`: posts now, outside the schedule.
pub async fn run_now(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let id = options.integer("id").unwrap_or_default();
    let schedules = ctx.store.schedules(Some(ctx.guild_id)).await?;
    let schedule = schedules
        .iter()
        .find(|s| s.id == id)
        .ok_or(UserError::UnknownSchedule { id })?;
    let post = ctx.poster.ok_or(UserError::NeedsDiscord)?;
    let tz = schedule_tz(schedule)?;
    let digest =
        crate::digest::build(ctx, schedule.landscape.as_deref(), week_before(ctx.now, tz)).await?;
    let outgoing = Outgoing {
        channel_id: schedule.channel_id,
        nonce: format!("m{}-{}", schedule.id, ctx.now.timestamp()),
        digest,
        ping_role: None,
    };
    match post(outgoing).await {
        Ok(()) => Ok(Reply::text(format!(
            "Posted digest #{id} to <#{}>.",
            schedule.channel_id
        ))),
        Err(PostError::Retry(reason) | PostError::Gone(reason)) => {
            tracing::warn!(schedule = id, %reason, "posting a digest on request failed");
            Err(UserError::PostFailed.into())
        }
    }
}

/// The worker that posts due digests.
pub struct Scheduler {
    services: Arc<Services>,
    post: Post,
    clock: Clock,
    catch_up: Duration,
}

/// What one step of the worker did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    pub posted: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Alert and goal messages posted.
    pub alerts: usize,
}

impl Scheduler {
    pub fn new(services: Arc<Services>, post: Post, clock: Clock, catch_up: Duration) -> Scheduler {
        Scheduler {
            services,
            post,
            clock,
            catch_up,
        }
    }

    /// Claims every due run, then posts them; see the module documentation. Then looks at
    /// alerts and goals (see [`crate::alerts`]).
    pub async fn tick(&self) -> Result<Step> {
        let (claims, skipped) = self.claim_due().await?;
        let mut step = self.post_claims(claims).await;
        step.skipped = skipped;
        step.alerts = self.alerts().await?;
        Ok(step)
    }

    /// Claims and posts the alert and goal events due now, and those whose claim went stale;
    /// returns how many were posted.
    pub async fn alerts(&self) -> Result<usize> {
        let claims = crate::alerts::sweep(&self.services, self.clock.now()).await?;
        let mut posted = 0;
        for claim in claims {
            match crate::alerts::post_claim(&self.services.store, &self.post, claim).await {
                Ok(true) => posted += 1,
                Ok(false) => {}
                Err(err) => tracing::error!(error = %err, "posting an alert failed"),
            }
        }
        Ok(posted)
    }

    /// Claims the runs that are due now, and runs whose claim went stale; returns the claims
    /// and how many missed runs were skipped. Public so that tests can stop between claiming
    /// and posting, as a crash would.
    pub async fn claim_due(&self) -> Result<(Vec<Claim>, usize)> {
        let now = self.clock.now();
        let store = &self.services.store;
        // A claim not finished within the lease belongs to a process that stopped.
        let lease = self.services.settings.digest.lease;
        let mut claims = store
            .reclaim_stale(
                (now - lease).timestamp(),
                (now - self.catch_up).timestamp(),
                now.timestamp(),
            )
            .await?;
        let mut skipped_total = 0;
        for schedule in store.schedules(None).await? {
            if schedule.failing.is_some() {
                continue;
            }
            let cron = match Cron::parse(&schedule.cron, &schedule.timezone) {
                Ok(cron) => cron,
                Err(err) => {
                    tracing::error!(schedule = schedule.id, error = %err, "unreadable digest schedule");
                    continue;
                }
            };
            let last = DateTime::from_timestamp(schedule.last_fire, 0).unwrap_or(now);
            let due: Vec<DateTime<Utc>> = cron
                .after(last)
                .take(MAX_DUE)
                .take_while(|at| *at <= now)
                .collect();
            let Some(&latest) = due.last() else { continue };
            let post = (now - latest <= self.catch_up).then_some(latest);
            let skipped: Vec<i64> = due
                .iter()
                .filter(|at| Some(**at) != post)
                .map(|at| at.timestamp())
                .collect();
            for at in &skipped {
                tracing::warn!(schedule = schedule.id, scheduled_at = %at, "digest missed by more than the catch-up window: skipped");
            }
            skipped_total += skipped.len();
            if let Some(claim) = store
                .advance(
                    &schedule,
                    post.map(|at| at.timestamp()),
                    &skipped,
                    now.timestamp(),
                )
                .await?
            {
                tracing::info!(schedule = schedule.id, scheduled_at = %latest, late = %(now - latest), "digest due: claimed");
                claims.push(claim);
            }
        }
        Ok((claims, skipped_total))
    }

    /// Builds and posts each claimed digest, each guild on its own task so that a slow or
    /// failing guild never delays another, and records how each went.
    pub async fn post_claims(&self, claims: Vec<Claim>) -> Step {
        let mut tasks = tokio::task::JoinSet::new();
        for claim in claims {
            let services = self.services.clone();
            let post = self.post.clone();
            let now = self.clock.now();
            tasks.spawn(async move { post_one(&services, &post, claim, now).await });
        }
        let mut step = Step::default();
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(true)) => step.posted += 1,
                Ok(Ok(false)) => step.failed += 1,
                Ok(Err(err)) => {
                    step.failed += 1;
                    tracing::error!(error = %err, "posting a digest failed");
                }
                Err(err) => {
                    step.failed += 1;
                    tracing::error!(error = %err, "a digest task panicked");
                }
            }
        }
        step
    }

    /// Starts a collection round over the due tracked accounts, unless `running` (the
    /// previous one) is still going; returns the round in progress.
    pub fn collect(&self, running: Option<JoinHandle<Round>>) -> JoinHandle<Round> {
        match running {
            Some(round) if !round.is_finished() => round,
            _ => tokio::spawn(crate::tracking::collect_due(self.services.clone())),
        }
    }

    /// Runs the worker every `every` until `shutdown` completes. A collection round still
    /// going then is stopped: its unfinished polls wrote nothing, and are polled again once
    /// their claims lapse.
    pub async fn run(self, every: std::time::Duration, shutdown: impl Future<Output = ()>) {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        let mut collecting = None;
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = interval.tick() => {
                    if let Err(err) = self.tick().await {
                        tracing::error!(error = %err, "the digest worker's step failed");
                    }
                    collecting = Some(self.collect(collecting.take()));
                }
            }
        }
        if let Some(round) = collecting {
            round.abort();
        }
    }
}

/// Builds and posts one claimed digest; `Ok(true)` when posted.
async fn post_one(
    services: &Services,
    post: &Post,
    claim: Claim,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Schedule {
        id,
        guild_id,
        channel_id,
        ..
    } = claim.schedule;
    let at = DateTime::from_timestamp(claim.scheduled_at, 0).unwrap_or(now);
    let store = &services.store;
    let built = match schedule_tz(&claim.schedule) {
        Ok(tz) => {
            crate::digest::for_guild(
                services,
                guild_id,
                claim.schedule.landscape.as_deref(),
                week_before(at, tz),
                now,
            )
            .await
        }
        Err(err) => Err(err),
    };
    let digest = match built {
        Ok(digest) => digest,
        // A digest that cannot be built (its landscape is gone) never will be: stop the
        // schedule and say why in /digest list, rather than trying again every lease.
        Err(Error::User(err)) => {
            let reason = err.to_string();
            tracing::warn!(schedule = id, guild = guild_id, %reason, "digest cannot be built: schedule stopped");
            store.finish_run(&claim, false, Some(&reason), true).await?;
            return Ok(false);
        }
        Err(err) => return Err(err),
    };
    let outgoing = Outgoing {
        channel_id,
        // Discord keeps nonces of at most 25 characters.
        nonce: format!("d{id}-{}", claim.scheduled_at),
        digest,
        ping_role: None,
    };
    match post(outgoing).await {
        Ok(()) => {
            store.finish_run(&claim, true, None, false).await?;
            tracing::info!(schedule = id, guild = guild_id, "digest posted");
            Ok(true)
        }
        Err(PostError::Gone(reason)) => {
            tracing::warn!(schedule = id, guild = guild_id, %reason, "digest channel refused: schedule stopped");
            store.finish_run(&claim, false, Some(&reason), true).await?;
            Ok(false)
        }
        Err(PostError::Retry(reason)) => {
            // Left claimed: once the lease runs out a later step claims it again.
            tracing::warn!(schedule = id, guild = guild_id, %reason, "digest not posted yet: will retry");
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_monday_digest_covers_monday_to_sunday_of_the_week_before() {
        let week = week_before(utc("2026-11-30T07:00:00Z"), Tz::Europe__Bucharest);
        assert_eq!(
            (week.from.to_string(), week.to.to_string()),
            ("2026-11-23".into(), "2026-11-29".into())
        );
    }
}
