//! Goals: the `/goal` commands, how far each goal is along its pace ([`progress`]), the weekly
//! digest's goals section, and the one message a goal's channel hears when it is met or its
//! deadline passes.
//!
//! A goal runs in a straight line from the metric's value at `from` to the target at `by`:
//! expected(t) = start + (target - start) x elapsed / duration. Whether it is an increase or a
//! decrease follows from the target being above or below the start. The value judged is the
//! metric's latest daily value (across platforms), and the projection is the least-squares line
//! through the last 28 days carried to the deadline, or "too little data to project".

use chrono::{Duration, NaiveDate};

use crate::analysis::{format_value, gap_text, metric_option};
use crate::command::{CommandSpec, Embed, Field, Kind, OptionSpec, Options, Reply};
use crate::error::{Result, UserError};
use crate::handler;
use crate::numbers::parse_decimal;
use crate::period::Period;
use crate::plugin::{Plugin, Unit};
use crate::plugins::Registry;
use crate::services::{Command, Context};
use crate::statistics::{expected, project};
use crate::storage::{Brand, EventClaim, Goal, NewGoal};
use crate::trend::{DAILY_POINTS_UP_TO, daily_values};

/// Days of values a projection is drawn through.
pub const TREND_DAYS: i64 = 28;

/// `/goal` and its subcommands.
pub fn command(registry: &Registry) -> Command {
    let id = || {
        OptionSpec::new(
            "id",
            "The goal's number, from /goal list",
            Kind::Integer {
                min: 1,
                max: i64::from(i32::MAX),
            },
        )
        .required()
    };
    Command::group(
        "goal",
        "Targets for a brand's metrics, and how each is pacing",
        vec![
            (
                CommandSpec {
                    name: "set",
                    description: "Set a target for a brand's metric by a day",
                    options: vec![
                        OptionSpec::brand("brand", "The brand").required(),
                        metric_option(registry),
                        OptionSpec::new(
                            "target",
                            "The value to reach, such as 15,000 or 2.5 (percent)",
                            Kind::Text { max_len: 24 },
                        )
                        .required(),
                        OptionSpec::new("by", "The deadline, YYYY-MM-DD", Kind::Date).required(),
                        OptionSpec::new(
                            "channel",
                            "The channel told when the goal is met or its deadline passes",
                            Kind::Channel,
                        )
                        .required(),
                        OptionSpec::new(
                            "from",
                            "The day the pace starts from, YYYY-MM-DD (default today)",
                            Kind::Date,
                        ),
                    ],
                    manages_data: true,
                    ..CommandSpec::default()
                },
                handler!(set),
            ),
            (
                CommandSpec {
                    name: "list",
                    description: "Each goal: where it is, where its pace says it should be, where it is heading",
                    ..CommandSpec::default()
                },
                handler!(list),
            ),
            (
                CommandSpec {
                    name: "remove",
                    description: "Remove a goal",
                    options: vec![
                        id(),
                        OptionSpec::new("confirm", "true to remove the goal", Kind::Boolean),
                    ],
                    manages_data: true,
                    ..CommandSpec::default()
                },
                handler!(remove),
            ),
        ],
    )
}

/// Where a goal stands on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The latest value on or before the day, and its day.
    pub current: Option<(NaiveDate, f64)>,
    /// Where the pace says the value should be on the day.
    pub expected: f64,
    /// How far ahead of the pace (negative: behind), in the goal's direction.
    pub ahead: Option<f64>,
    /// The value the last 28 days' trend reaches by the deadline.
    pub projection: Option<f64>,
    pub met: bool,
    /// The deadline passed without the target met.
    pub missed: bool,
}

/// Whether a goal asks for its value to rise.
pub fn increase(goal: &Goal) -> bool {
    goal.target > goal.start_value
}

/// Whether `value` is at or past the goal's target, in its direction.
fn reached(goal: &Goal, value: f64) -> bool {
    if increase(goal) {
        value >= goal.target
    } else {
        value <= goal.target
    }
}

/// Where `goal` stands on `today`, from its metric's daily values (oldest first).
pub fn progress(goal: &Goal, points: &[(NaiveDate, f64)], today: NaiveDate) -> Progress {
    let duration = (goal.deadline - goal.start_day).num_days();
    let on = today.min(goal.deadline);
    let expected = expected(
        goal.start_value,
        goal.target,
        (on - goal.start_day).num_days(),
        duration,
    );
    let current = points.iter().rev().find(|(d, _)| *d <= today).copied();
    let ahead = current.map(|(_, value)| {
        if increase(goal) {
            value - expected
        } else {
            expected - value
        }
    });
    let recent: Vec<(i64, f64)> = points
        .iter()
        .filter(|(d, _)| *d <= today && *d > today - Duration::days(TREND_DAYS))
        .map(|(d, v)| ((*d - today).num_days(), *v))
        .collect();
    let projection = project(&recent, (goal.deadline - today).num_days().max(0));
    let met = current.is_some_and(|(_, value)| reached(goal, value));
    Progress {
        current,
        expected,
        ahead,
        projection,
        met,
        missed: !met && today > goal.deadline,
    }
}

/// The days of values a goal is judged on: enough for the current value and the trend.
async fn points(
    ctx: &Context<'_>,
    goal: &Goal,
    plugin: &dyn Plugin,
) -> Result<Vec<(NaiveDate, f64)>> {
    let brand = Brand {
        id: goal.brand_id,
        name: goal.brand.clone(),
        competitor: false,
    };
    daily_values(
        ctx,
        plugin,
        &brand,
        Period::ending(ctx.today, DAILY_POINTS_UP_TO),
    )
    .await
}

/// A goal and where it stands, in lines: what `/goal list` and the digest show.
pub fn describe(goal: &Goal, label: &str, unit: Unit, progress: &Progress) -> String {
    let value = |v: f64| format_value(unit, v);
    let mut text = format!(
        "{} {label} {} {} by {} (from {} on {})",
        goal.brand,
        if increase(goal) { "up to" } else { "down to" },
        value(goal.target),
        goal.deadline,
        value(goal.start_value),
        goal.start_day
    );
    match progress.current {
        Some((day, current)) => text.push_str(&format!("\nNow {} ({day})", value(current))),
        None => text.push_str("\nNo value in the last 92 days"),
    }
    if progress.met {
        text.push_str(" · met ✅");
        return text;
    }
    if progress.missed {
        text.push_str(" · deadline passed without it");
        return text;
    }
    text.push_str(&format!(" · pace says {} today", value(progress.expected)));
    if let Some(ahead) = progress.ahead {
        let gap = gap_text(unit, ahead.abs());
        let gap = gap.trim_start_matches('+');
        text.push_str(&if ahead >= 0.0 {
            format!(" · ahead by {gap}")
        } else {
            format!(" · behind by {gap}")
        });
    }
    text.push_str(&match progress.projection {
        Some(p) => format!(
            "\nOn pace for {} of {} by {}",
            value(p),
            value(goal.target),
            goal.deadline.format("%-d %b %Y")
        ),
        None => "\nToo little data to project".to_string(),
    });
    text
}

/// `/goal set brand metric target by channel [from]`
pub async fn set(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let brand = ctx.brand(options.text("brand").unwrap_or_default()).await?;
    let plugin = crate::analysis::metric(ctx, options)?;
    let target =
        options
            .text("target")
            .and_then(parse_decimal)
            .ok_or(UserError::InvalidOption {
                option: "target",
                accepts: "a number, such as 15,000 or 2.5".to_string(),
            })?;
    let by = options.date("by").ok_or(UserError::MissingOption {
        option: "by",
        accepts: "the deadline, YYYY-MM-DD".to_string(),
    })?;
    let from = options.date("from").unwrap_or(ctx.today);
    if by <= ctx.today {
        return Err(UserError::InvalidOption {
            option: "by",
            accepts: format!("a day after today ({})", ctx.today),
        }
        .into());
    }
    if from >= by {
        return Err(UserError::InvalidOption {
            option: "from",
            accepts: format!("a day before `by` ({by})"),
        }
        .into());
    }
    if from > ctx.today {
        return Err(UserError::InvalidOption {
            option: "from",
            accepts: format!("today ({}) or an earlier day", ctx.today),
        }
        .into());
    }
    let channel = options
        .text("channel")
        .and_then(|c| c.parse::<u64>().ok())
        .ok_or(UserError::MissingOption {
            option: "channel",
            accepts: "the channel told when the goal is met".to_string(),
        })?;
    let brand_ref = &brand;
    let start = daily_values(
        ctx,
        plugin,
        brand_ref,
        Period::ending(from, DAILY_POINTS_UP_TO),
    )
    .await?
    .last()
    .copied()
    .ok_or_else(|| UserError::NeverLogged {
        brand: brand.name.clone(),
        metric: plugin.label().to_string(),
        when: format!(" in the {DAILY_POINTS_UP_TO} days up to {from}"),
        what: "goal",
    })?;
    let current = daily_values(
        ctx,
        plugin,
        brand_ref,
        Period::ending(ctx.today, DAILY_POINTS_UP_TO),
    )
    .await?
    .last()
    .copied()
    .unwrap_or(start);
    let draft = Goal {
        id: 0,
        guild_id: ctx.guild_id,
        brand_id: brand.id,
        brand: brand.name.clone(),
        channel_id: channel,
        metric: plugin.command().name.to_string(),
        start_day: from,
        start_value: start.1,
        target,
        deadline: by,
        closed: None,
    };
    if target == start.1 || reached(&draft, current.1) {
        return Err(UserError::GoalReached {
            brand: brand.name.clone(),
            metric: plugin.label().to_string(),
            current: format_value(plugin.unit(), current.1),
            target: format_value(plugin.unit(), target),
        }
        .into());
    }
    let id = ctx
        .store
        .add_goal(&NewGoal {
            guild_id: ctx.guild_id,
            brand_id: brand.id,
            channel_id: channel,
            metric: plugin.command().name,
            start_day: from,
            start_value: start.1,
            target,
            deadline: by,
            created_by: ctx.user_id,
            created_at: ctx.now.timestamp(),
        })
        .await?
        .ok_or_else(|| UserError::UnknownBrand {
            name: brand.name.clone(),
        })?;
    let goal = Goal { id, ..draft };
    let progress = progress(&goal, &points(ctx, &goal, plugin).await?, ctx.today);
    Ok(Reply::text(format!(
        "Goal #{id}: {}\n<#{channel}> hears when it is met or its deadline passes.",
        describe(&goal, plugin.label(), plugin.unit(), &progress)
    )))
}

/// `/goal list`
pub async fn list(ctx: &Context<'_>, _: &Options) -> Result<Reply> {
    let goals = ctx.store.goals(Some(ctx.guild_id)).await?;
    if goals.is_empty() {
        return Ok(Reply::text("No goals: `/goal set` sets one.".to_string()));
    }
    Ok(Reply::embed(Embed {
        title: "Goals".to_string(),
        fields: fields(ctx, &goals).await?,
        ..Embed::default()
    }))
}

/// A field per goal, as `/goal list` and the digest show them.
async fn fields(ctx: &Context<'_>, goals: &[Goal]) -> Result<Vec<Field>> {
    let mut fields = Vec::new();
    for goal in goals {
        let Some(plugin) = ctx.registry.by_name(&goal.metric) else {
            continue;
        };
        let progress = progress(goal, &points(ctx, goal, plugin).await?, ctx.today);
        fields.push(Field::new(
            format!("#{}", goal.id),
            describe(goal, plugin.label(), plugin.unit(), &progress),
        ));
    }
    Ok(fields)
}

/// The weekly digest's goals section: the goals on `brands`, or `None` when there are none.
pub async fn digest_section(ctx: &Context<'_>, brands: &[Brand]) -> Result<Option<Embed>> {
    let goals: Vec<Goal> = ctx
        .store
        .goals(Some(ctx.guild_id))
        .await?
        .into_iter()
        .filter(|g| brands.iter().any(|b| b.id == g.brand_id))
        .collect();
    if goals.is_empty() {
        return Ok(None);
    }
    Ok(Some(Embed {
        title: "Goals".to_string(),
        fields: fields(ctx, &goals).await?,
        ..Embed::default()
    }))
}

/// `/goal remove id confirm:true`
pub async fn remove(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let id = options.integer("id").unwrap_or_default();
    let goals = ctx.store.goals(Some(ctx.guild_id)).await?;
    let goal = goals
        .iter()
        .find(|g| g.id == id)
        .ok_or(UserError::UnknownGoal { id })?;
    if options.boolean("confirm") != Some(true) {
        return Ok(Reply {
            content: format!(
                "This removes goal #{id} on {} {}. To go ahead: `/goal remove id:{id} confirm:true`",
                goal.brand, goal.metric
            ),
            ephemeral: true,
            ..Reply::default()
        });
    }
    if !ctx.store.remove_goal(ctx.guild_id, id).await? {
        return Err(UserError::UnknownGoal { id }.into());
    }
    Ok(Reply::text(format!("Removed goal #{id}.")))
}

/// Claims the closing event of each of the guild's open goals (only those on `brand`, when
/// given) that was met or whose deadline passed; returns the claims, to post.
pub async fn claim_due(ctx: &Context<'_>, brand: Option<i64>) -> Result<Vec<EventClaim>> {
    let mut claims = Vec::new();
    for goal in ctx.store.goals(Some(ctx.guild_id)).await? {
        if goal.closed.is_some() || brand.is_some_and(|b| b != goal.brand_id) {
            continue;
        }
        let Some(plugin) = ctx.registry.by_name(&goal.metric) else {
            continue;
        };
        let progress = progress(&goal, &points(ctx, &goal, plugin).await?, ctx.today);
        let value = |v: f64| format_value(plugin.unit(), v);
        let label = plugin.label().to_string();
        let (kind, text) = match progress.current {
            Some((day, current)) if progress.met => (
                "met",
                format!(
                    "🎯 Goal #{} met: {} {label} reached {} on {day} (target {} by {}).",
                    goal.id,
                    goal.brand,
                    value(current),
                    value(goal.target),
                    goal.deadline
                ),
            ),
            _ if progress.missed => (
                "missed",
                format!(
                    "⌛ Goal #{}: the deadline {} passed; {} {label} is at {} of the target {} (from {}).",
                    goal.id,
                    goal.deadline,
                    goal.brand,
                    progress
                        .current
                        .map_or("no recent value".to_string(), |(_, v)| value(v)),
                    value(goal.target),
                    value(goal.start_value)
                ),
            ),
            _ => continue,
        };
        if let Some(claim) = ctx
            .store
            .claim_goal(&goal, kind, &text, ctx.now.timestamp())
            .await?
        {
            tracing::info!(
                goal = goal.id,
                guild = goal.guild_id,
                kind,
                "goal closed: claimed"
            );
            claims.push(claim);
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn goal(start: f64, target: f64) -> Goal {
        Goal {
            id: 1,
            guild_id: 1,
            brand_id: 1,
            brand: "Bean".to_string(),
            channel_id: 1,
            metric: "audience".to_string(),
            start_day: day("2027-01-01"),
            start_value: start,
            target,
            deadline: day("2027-04-11"),
            closed: None,
        }
    }

    #[test]
    fn an_increase_goal_at_its_start_middle_and_end() {
        let g = goal(10_000.0, 15_000.0);
        let start = progress(&g, &[(day("2027-01-01"), 10_000.0)], day("2027-01-01"));
        assert_eq!((start.expected, start.ahead), (10_000.0, Some(0.0)));
        // 50 of 100 days: the pace is at 12,500; 12,000 is 500 behind.
        let middle = progress(&g, &[(day("2027-02-19"), 12_000.0)], day("2027-02-20"));
        assert_eq!((middle.expected, middle.ahead), (12_500.0, Some(-500.0)));
        let end = progress(&g, &[(day("2027-04-11"), 15_100.0)], day("2027-04-11"));
        assert_eq!((end.expected, end.met, end.missed), (15_000.0, true, false));
    }

    #[test]
    fn a_decrease_goal_counts_ahead_downward_and_a_passed_deadline_is_missed() {
        let g = goal(8.0, 5.0);
        // 30 of 100 days: the pace says 7.1; 6.5 is 0.6 ahead.
        let p = progress(&g, &[(day("2027-01-31"), 6.5)], day("2027-01-31"));
        assert!((p.expected - 7.1).abs() < 1e-9 && (p.ahead.unwrap() - 0.6).abs() < 1e-9);
        assert!(!increase(&g));
        let late = progress(&g, &[(day("2027-04-10"), 5.5)], day("2027-04-12"));
        assert_eq!((late.met, late.missed, late.expected), (false, true, 5.0));
    }

    #[test]
    fn the_projection_follows_the_last_28_days_or_says_too_little_data() {
        let g = goal(10_000.0, 15_000.0);
        // +20 a day from 10,000 on 2027-01-01; the deadline is day 100: 10,000 + 20 x 100.
        let points: Vec<(NaiveDate, f64)> = (0..=31)
            .map(|i| {
                (
                    day("2027-01-01") + Duration::days(i),
                    10_000.0 + 20.0 * i as f64,
                )
            })
            .collect();
        let p = progress(&g, &points, day("2027-02-01"));
        assert!(
            (p.projection.unwrap() - 12_000.0).abs() < 1e-6,
            "{:?}",
            p.projection
        );
        let text = describe(&g, "Audience", Unit::Count, &p);
        assert!(
            text.contains("On pace for 12,000 of 15,000 by 11 Apr 2027"),
            "{text}"
        );
        let few = progress(&g, &points[..3], day("2027-01-03"));
        assert_eq!(few.projection, None);
        assert!(describe(&g, "Audience", Unit::Count, &few).contains("Too little data to project"));
    }
}
