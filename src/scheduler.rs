//! Scheduled digests: the `/digest` commands, cron schedules in the team's timezone, and the
//! worker that posts each due digest exactly once.
//!
//! The worker's step is [`Scheduler::tick`]: find the runs that are due, claim each in the
//! database (keyed by schedule and scheduled time, so two processes or a restart never post the
//! same run twice), build the digest, post it with a Discord nonce (so a retried post cannot
//! duplicate it either), and record the outcome. The bot calls it every few seconds; tests call
//! it directly with a hand-set clock, running weeks of schedules in milliseconds.
//!
//! cron 0.17 has traps this module handles: days of the week are numbered from Sunday = 1, so
//! replies spell out what a numeric day means; a 5-field crontab line is refused with the
//! 6-field form to use instead; the repeated hour when clocks fall back yields two instants with
//! the same wall-clock time, of which only the first fires; and wall-clock times that do not
//! exist when clocks spring forward are skipped, which the reply warns about.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::clock::Clock;
use crate::command::{CommandSpec, Embed, Field, Kind, OptionSpec, Options, Reply};
use crate::dispatcher::{Context, Dispatcher};
use crate::error::{Error, Result, UserError};
use crate::period::Period;
use crate::storage::{Claim, NewSchedule, Schedule};

/// The default schedule: Mondays at 9:00.
pub const DEFAULT_CRON: &str = "0 0 9 * * Mon";
/// A claim not finished within this time is taken to belong to a process that stopped.
pub const LEASE: Duration = Duration::minutes(2);
/// Due times examined per schedule and step, so that a schedule firing every second after a
/// long downtime cannot stall the worker.
const MAX_DUE: usize = 10_000;

/// Why a post failed.
#[derive(Debug, Clone, PartialEq)]
pub enum PostError {
    /// Worth trying again later (Discord was down or busy after every retry).
    Retry(String),
    /// The channel is gone or the bot may not post there: retrying will not help.
    Gone(String),
}

/// A digest on its way to a channel, with a nonce that makes a retried post return the first
/// message instead of posting again. The front end splits it into messages it can carry.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub channel_id: u64,
    pub nonce: String,
    pub digest: Reply,
}

/// Posts a digest. The Discord front end provides it; the core never talks to Discord.
pub type Post = Arc<
    dyn Fn(Outgoing) -> Pin<Box<dyn Future<Output = Result<(), PostError>> + Send>> + Send + Sync,
>;

/// A cron expression in a timezone.
#[derive(Debug, Clone)]
pub struct Cron {
    schedule: cron::Schedule,
    tz: Tz,
}

impl Cron {
    pub fn parse(expression: &str, timezone: &str) -> Result<Cron, UserError> {
        let tz = Tz::from_str(timezone.trim()).map_err(|_| UserError::InvalidOption {
            option: "timezone",
            accepts: "an IANA timezone name such as Europe/Bucharest or America/New_York"
                .to_string(),
        })?;
        let fields: Vec<&str> = expression.split_whitespace().collect();
        if fields.len() == 5 {
            return Err(UserError::InvalidOption {
                option: "cron",
                accepts: format!(
                    "6 fields with seconds first; for that crontab line write `0 {}`",
                    fields.join(" ")
                ),
            });
        }
        let schedule = cron::Schedule::from_str(&fields.join(" ")).map_err(|_| UserError::InvalidOption {
            option: "cron",
            accepts: "a cron expression with seconds first, such as `0 0 9 * * Mon` (Mondays at 9:00)".to_string(),
        })?;
        Ok(Cron { schedule, tz })
    }

    /// Scheduled times after `after`, in UTC. A wall-clock time repeated when clocks fall back
    /// fires once, at its first instant.
    pub fn after(&self, after: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let mut previous: Option<NaiveDateTime> = None;
        self.schedule
            .after(&after.with_timezone(&self.tz))
            .filter(move |at| {
                let wall = at.naive_local();
                let repeated = previous == Some(wall);
                previous = Some(wall);
                !repeated
            })
            .map(|at| at.with_timezone(&Utc))
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Warnings worth a line in the reply: what numeric days mean, and runs that fall in a
    /// spring-forward gap in the coming year.
    pub fn notes(&self, expression: &str, now: DateTime<Utc>) -> Vec<String> {
        let mut notes = Vec::new();
        let day_of_week = expression.split_whitespace().nth(5).unwrap_or("*");
        if day_of_week.chars().any(|c| c.is_ascii_digit()) {
            notes.push(format!(
                "Days of the week are numbered from Sunday = 1 to Saturday = 7 here, so `{day_of_week}` is {}. Day names (Mon-Fri) avoid the doubt.",
                describe_days(day_of_week)
            ));
        }
        // Wall-clock times, computed as if in UTC, that do not exist in the timezone.
        let wall_now = Utc.from_utc_datetime(&now.with_timezone(&self.tz).naive_local());
        let year_later = wall_now + Duration::days(366);
        let gap = self
            .schedule
            .after(&wall_now)
            .take(MAX_DUE)
            .take_while(|wall| *wall < year_later)
            .find(|wall| {
                matches!(
                    self.tz.from_local_datetime(&wall.naive_utc()),
                    LocalResult::None
                )
            });
        if let Some(wall) = gap {
            notes.push(format!(
                "There is no {} on {} in {} (clocks go forward), so that run is skipped.",
                wall.format("%H:%M"),
                wall.format("%Y-%m-%d"),
                self.tz
            ));
        }
        notes
    }
}

/// What a numeric day-of-week field means, in day names.
fn describe_days(field: &str) -> String {
    const NAMES: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let name = |n: &str| {
        n.parse::<usize>()
            .ok()
            .and_then(|n| NAMES.get(n.wrapping_sub(1)))
            .copied()
    };
    field
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((from, to)) => match (name(from), name(to)) {
                (Some(from), Some(to)) => format!("{from} to {to}"),
                _ => part.to_string(),
            },
            None => name(part).map_or_else(|| part.to_string(), str::to_string),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn command() -> CommandSpec {
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
    CommandSpec {
        name: "digest",
        description: "Weekly benchmark digests posted to a channel on a schedule",
        subcommands: vec![
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
            CommandSpec {
                name: "list",
                description: "List the digest schedules and their next runs",
                ..CommandSpec::default()
            },
            CommandSpec {
                name: "remove",
                description: "Remove a digest schedule",
                options: vec![id()],
                manages_data: true,
                ..CommandSpec::default()
            },
            CommandSpec {
                name: "preview",
                description: "The digest as it would be posted now, shown only to you",
                options: vec![OptionSpec::landscape(
                    "The landscape (default: every brand)",
                )],
                slow: true,
                ..CommandSpec::default()
            },
            CommandSpec {
                name: "run",
                description: "Post a scheduled digest now",
                options: vec![id()],
                manages_data: true,
                slow: true,
                ..CommandSpec::default()
            },
        ],
        ..CommandSpec::default()
    }
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
    let timezone = options.text("timezone").unwrap_or(&ctx.settings.timezone);
    let cron = Cron::parse(expression, timezone)?;
    let next: Vec<DateTime<Utc>> = cron.after(ctx.now).take(3).collect();
    if next.windows(2).any(|w| w[1] - w[0] < Duration::hours(1)) || next.is_empty() {
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
pub async fn list(ctx: &Context<'_>) -> Result<Reply> {
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

/// The week a digest posted at `at` covers: the seven days ending the day before, in `tz`.
pub fn week_before(at: DateTime<Utc>, tz: Tz) -> Period {
    let day = at.with_timezone(&tz).date_naive();
    Period::ending(day.pred_opt().unwrap_or(day), 7)
}

/// `/digest preview [landscape]`
pub async fn preview(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let tz = ctx.settings.timezone().unwrap_or(Tz::UTC);
    let mut reply =
        crate::digest::build(ctx, options.text("landscape"), week_before(ctx.now, tz)).await?;
    reply.ephemeral = true;
    Ok(reply)
}

/// `/digest run id`: posts now, outside the schedule.
pub async fn run_now(ctx: &Context<'_>, options: &Options, post: Option<&Post>) -> Result<Reply> {
    let id = options.integer("id").unwrap_or_default();
    let schedules = ctx.store.schedules(Some(ctx.guild_id)).await?;
    let schedule = schedules
        .iter()
        .find(|s| s.id == id)
        .ok_or(UserError::UnknownSchedule { id })?;
    let post = post.ok_or(UserError::NeedsDiscord)?;
    let tz = Tz::from_str(&schedule.timezone).unwrap_or(Tz::UTC);
    let digest =
        crate::digest::build(ctx, schedule.landscape.as_deref(), week_before(ctx.now, tz)).await?;
    let outgoing = Outgoing {
        channel_id: schedule.channel_id,
        nonce: format!("m{}-{}", schedule.id, ctx.now.timestamp()),
        digest,
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
    dispatcher: Arc<Dispatcher>,
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
}

impl Scheduler {
    pub fn new(
        dispatcher: Arc<Dispatcher>,
        post: Post,
        clock: Clock,
        catch_up: Duration,
    ) -> Scheduler {
        Scheduler {
            dispatcher,
            post,
            clock,
            catch_up,
        }
    }

    /// Claims every due run, then posts them; see the module documentation.
    pub async fn tick(&self) -> Result<Step> {
        let (claims, skipped) = self.claim_due().await?;
        let mut step = self.post_claims(claims).await;
        step.skipped = skipped;
        Ok(step)
    }

    /// Claims the runs that are due now, and runs whose claim went stale; returns the claims
    /// and how many missed runs were skipped. Public so that tests can stop between claiming
    /// and posting, as a crash would.
    pub async fn claim_due(&self) -> Result<(Vec<Claim>, usize)> {
        let now = self.clock.now();
        let store = self.dispatcher.store();
        let mut claims = store
            .reclaim_stale(
                (now - LEASE).timestamp(),
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
            let dispatcher = self.dispatcher.clone();
            let post = self.post.clone();
            let now = self.clock.now();
            tasks.spawn(async move { post_one(&dispatcher, &post, claim, now).await });
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

    /// Runs the worker every `every` until `shutdown` completes.
    pub async fn run(self, every: std::time::Duration, shutdown: impl Future<Output = ()>) {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = interval.tick() => {
                    if let Err(err) = self.tick().await {
                        tracing::error!(error = %err, "the digest worker's step failed");
                    }
                }
            }
        }
    }
}

/// Builds and posts one claimed digest; `Ok(true)` when posted.
async fn post_one(
    dispatcher: &Dispatcher,
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
    let tz = Tz::from_str(&claim.schedule.timezone).unwrap_or(Tz::UTC);
    let at = DateTime::from_timestamp(claim.scheduled_at, 0).unwrap_or(now);
    let store = dispatcher.store();
    let built = dispatcher
        .digest(
            guild_id,
            claim.schedule.landscape.as_deref(),
            week_before(at, tz),
            now,
        )
        .await;
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
    fn mondays_at_nine_stay_at_nine_local_across_the_autumn_clock_change() {
        let cron = Cron::parse("0 0 9 * * Mon", "Europe/Bucharest").unwrap();
        let runs: Vec<_> = cron.after(utc("2026-10-13T00:00:00Z")).take(3).collect();
        // Summer time (UTC+3) until 25 October 2026, winter time (UTC+2) after.
        assert_eq!(
            runs,
            [
                utc("2026-10-19T06:00:00Z"),
                utc("2026-10-26T07:00:00Z"),
                utc("2026-11-02T07:00:00Z")
            ]
        );
    }

    #[test]
    fn the_repeated_fall_back_hour_fires_once() {
        let cron = Cron::parse("0 30 3 * * *", "Europe/Bucharest").unwrap();
        let runs: Vec<_> = cron.after(utc("2026-10-24T12:00:00Z")).take(3).collect();
        // 03:30 happens twice on 25 October (at 00:30 and 01:30 UTC); it fires at the first.
        assert_eq!(
            runs,
            [
                utc("2026-10-25T00:30:00Z"),
                utc("2026-10-26T01:30:00Z"),
                utc("2026-10-27T01:30:00Z")
            ]
        );
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_is_skipped_and_the_reply_says_so() {
        let cron = Cron::parse("0 30 3 * * *", "Europe/Bucharest").unwrap();
        let runs: Vec<_> = cron.after(utc("2027-03-27T12:00:00Z")).take(2).collect();
        // 03:30 does not exist on 28 March 2027: the next run is the 29th.
        assert_eq!(runs[0], utc("2027-03-29T00:30:00Z"));
        let notes = cron.notes("0 30 3 * * *", utc("2026-11-29T00:00:00Z"));
        assert_eq!(
            notes,
            [
                "There is no 03:30 on 2027-03-28 in Europe/Bucharest (clocks go forward), so that run is skipped."
            ]
        );
    }

    #[test]
    fn numeric_days_count_from_sunday_and_the_reply_spells_them_out() {
        let cron = Cron::parse("0 0 9 * * 1-5", "UTC").unwrap();
        let first = cron.after(utc("2026-11-28T12:00:00Z")).next().unwrap();
        assert_eq!(first, utc("2026-11-29T09:00:00Z"), "1 is Sunday");
        let notes = cron.notes("0 0 9 * * 1-5", utc("2026-11-28T12:00:00Z"));
        assert!(
            notes[0].contains("so `1-5` is Sunday to Thursday"),
            "{notes:?}"
        );
        assert!(
            Cron::parse("0 0 9 * * Mon-Fri", "UTC")
                .unwrap()
                .notes("0 0 9 * * Mon-Fri", utc("2026-11-28T12:00:00Z"))
                .is_empty()
        );
    }

    #[test]
    fn a_five_field_crontab_line_is_refused_with_the_six_field_form() {
        let err = Cron::parse("0 9 * * 1", "UTC").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`cron` must be 6 fields with seconds first; for that crontab line write `0 0 9 * * 1`."
        );
        assert!(Cron::parse("every monday", "UTC").is_err());
        let err = Cron::parse(DEFAULT_CRON, "Mars/Olympus").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`timezone` must be an IANA timezone name")
        );
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
