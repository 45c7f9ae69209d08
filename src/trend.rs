//! `/trend`: a metric over time as a line chart, one line per brand of a landscape or per
//! platform of one brand, and the chart data the weekly digest draws too.
//!
//! The points are made by [`lines`] from the stored values, a plain function, so that what the
//! chart shows is tested value by value; drawing the PNG is CPU work and runs on a blocking
//! thread.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};

use crate::analysis::{metric, metric_option, period, period_option, platform_option};
use crate::chart::{self, Chart, Line, Step};
use crate::command::{CommandSpec, Embed, File, OptionSpec, Options, Reply};
use crate::error::{Result, UserError};
use crate::handler;
use crate::period::Period;
use crate::plugin::{Aggregate, Plugin, Totals};
use crate::plugins::Registry;
use crate::services::{Command, Context};
use crate::storage::{Brand, Stored};
use crate::totals::sum_totals;
use crate::tracking::freshness;

/// Longer trends are drawn one point per week rather than per day.
pub const DAILY_POINTS_UP_TO: i64 = 92;

/// `/trend`.
pub fn command(registry: &Registry) -> Command {
    Command::new(
        CommandSpec {
            name: "trend",
            description: "A chart of a metric over time, per platform or per brand of a landscape",
            options: vec![
                metric_option(registry),
                OptionSpec::brand("brand", "One line per platform of this brand"),
                OptionSpec::landscape("One line per brand of this landscape"),
                period_option(),
                platform_option(),
            ],
            slow: true,
            ..CommandSpec::default()
        },
        handler!(trend),
    )
}

/// `/trend metric [brand] [landscape] [period] [platform]`
async fn trend(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let plugin = metric(ctx, options)?;
    let period = period(ctx, options)?;
    let platform = options.text("platform");
    let (title, brands, per_brand) = match (options.text("brand"), options.text("landscape")) {
        (Some(_), Some(_)) => {
            return Err(UserError::Exclusive {
                first: "brand",
                second: "landscape",
            }
            .into());
        }
        (Some(name), None) => {
            let brand = ctx.brand(name).await?;
            (brand.name.clone(), vec![brand], false)
        }
        (None, landscape) => {
            let (scope, brands) = ctx.scope(landscape).await?;
            (scope, brands, true)
        }
    };
    let mut lines = trend_lines(ctx, plugin, &brands, period, platform, per_brand).await?;
    if !per_brand && !lines.is_empty() {
        lines.extend(goal_lines(ctx, plugin, &brands, period).await?);
    }
    if lines.is_empty() {
        return Ok(Reply::text(format!(
            "No {} data for {title} from {} to {}.",
            plugin.label(),
            period.from,
            period.to
        )));
    }
    let chart = trend_chart(plugin, title, platform, period, lines);
    let step = match chart.step {
        Step::Day => "day",
        Step::Week => "week",
    };
    // The embed is titled as the chart is, filters and all.
    let chart_title = chart.title();
    let png = chart::draw(chart, ctx.settings.charts.theme)
        .await
        .map_err(crate::error::Error::Chart)?;
    let ids: Vec<i64> = brands.iter().map(|b| b.id).collect();
    Ok(Reply {
        embeds: vec![Embed {
            title: chart_title,
            description: format!("{period}, one point per {step}."),
            footer: freshness::summary(ctx, &ids, platform).await?,
            ..Embed::default()
        }],
        attachments: vec![File {
            name: "trend.png".to_string(),
            bytes: png,
        }],
        ..Reply::default()
    })
}

/// What `/trend` hands the chart renderer: the metric in its unit, whose lines, the period and
/// one point per day, or per week for long periods.
pub fn trend_chart(
    plugin: &dyn Plugin,
    scope: String,
    platform: Option<&str>,
    period: Period,
    lines: Vec<Line>,
) -> Chart {
    Chart {
        metric: plugin.label().to_string(),
        unit: plugin.unit(),
        scope,
        platform: platform.map(str::to_string),
        period,
        step: if period.days() <= DAILY_POINTS_UP_TO {
            Step::Day
        } else {
            Step::Week
        },
        lines,
    }
}

/// The chart's lines: per brand (across platforms, or the one platform asked for), or per
/// platform of a single brand; one point per day, or per week for long periods.
pub async fn trend_lines(
    ctx: &Context<'_>,
    plugin: &dyn Plugin,
    brands: &[Brand],
    period: Period,
    platform: Option<&str>,
    per_brand: bool,
) -> Result<Vec<Line>> {
    let ids: Vec<i64> = brands.iter().map(|b| b.id).collect();
    let series: Vec<&str> = plugin.series().iter().map(|s| s.name).collect();
    let values = ctx
        .store
        .values(ctx.guild_id, &ids, period, platform, &series)
        .await?;
    Ok(lines(
        ctx.registry,
        plugin,
        brands,
        period,
        per_brand,
        values,
    ))
}

/// The target and the pacing line of each goal the brand has on the metric, within `period`:
/// the target flat across it, the pace from the goal's start to its deadline. Drawn in the
/// lighter style of competitors' lines, since they are references rather than data.
pub async fn goal_lines(
    ctx: &Context<'_>,
    plugin: &dyn Plugin,
    brands: &[Brand],
    period: Period,
) -> Result<Vec<Line>> {
    let goals = ctx.store.goals(Some(ctx.guild_id)).await?;
    let mut lines = Vec::new();
    for goal in goals
        .iter()
        .filter(|g| g.metric == plugin.command().name && brands.iter().any(|b| b.id == g.brand_id))
    {
        lines.push(Line {
            label: format!("Goal #{} target", goal.id),
            competitor: true,
            points: vec![(period.from, goal.target), (period.to, goal.target)],
        });
        let from = goal.start_day.max(period.from);
        let to = goal.deadline.min(period.to);
        if from <= to {
            let duration = (goal.deadline - goal.start_day).num_days();
            let pace = |day: NaiveDate| {
                crate::statistics::expected(
                    goal.start_value,
                    goal.target,
                    (day - goal.start_day).num_days(),
                    duration,
                )
            };
            lines.push(Line {
                label: format!("Goal #{} pace", goal.id),
                competitor: true,
                points: vec![(from, pace(from)), (to, pace(to))],
            });
        }
    }
    Ok(lines)
}

/// A metric's daily values for one brand over `period` (at most [`DAILY_POINTS_UP_TO`] days),
/// across its platforms, oldest first: what alerts and goals judge.
pub async fn daily_values(
    ctx: &Context<'_>,
    plugin: &dyn Plugin,
    brand: &Brand,
    period: Period,
) -> Result<Vec<(NaiveDate, f64)>> {
    let lines = trend_lines(ctx, plugin, std::slice::from_ref(brand), period, None, true).await?;
    Ok(lines
        .into_iter()
        .next()
        .map(|l| l.points)
        .unwrap_or_default())
}

/// The chart's lines from the stored values they are drawn from: what the chart renderer is
/// handed, and what the tests check point by point.
pub fn lines(
    registry: &Registry,
    plugin: &dyn Plugin,
    brands: &[Brand],
    period: Period,
    per_brand: bool,
    values: Vec<Stored>,
) -> Vec<Line> {
    let weekly = period.days() > DAILY_POINTS_UP_TO;
    let bucket = |day: NaiveDate| {
        if weekly {
            day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
        } else {
            day
        }
    };
    // (line, bucket) -> (brand, platform) -> totals within the bucket
    let mut buckets: BTreeMap<(String, NaiveDate), BTreeMap<(i64, String), Totals>> =
        BTreeMap::new();
    // A series aggregated by its largest day is the largest of its daily sums over the line's
    // platforms: (line, bucket, series) -> day -> sum.
    let mut daily: BTreeMap<(String, NaiveDate, &'static str), BTreeMap<NaiveDate, i64>> =
        BTreeMap::new();
    for Stored {
        brand_id,
        platform,
        series,
        day,
        value,
    } in values
    {
        let Some(rule) = registry.series(&series) else {
            continue;
        };
        let line = if per_brand {
            brands
                .iter()
                .find(|b| b.id == brand_id)
                .map(|b| b.name.clone())
                .unwrap_or_default()
        } else {
            platform.clone()
        };
        if rule.aggregate == Aggregate::Max {
            let sum = daily
                .entry((line.clone(), bucket(day), rule.name))
                .or_default()
                .entry(day)
                .or_insert(0);
            *sum = sum.saturating_add(value);
        }
        let totals = buckets
            .entry((line, bucket(day)))
            .or_default()
            .entry((brand_id, platform))
            .or_default();
        // Values arrive oldest first, so the last one seen is the bucket's last.
        let (so_far, days) = (totals.get(rule.name), totals.days(rule.name).unwrap_or(0));
        let value = match (rule.aggregate, so_far) {
            (Aggregate::Sum, Some(sum)) => sum.saturating_add(value),
            (Aggregate::Max, Some(max)) => max.max(value),
            _ => value,
        };
        totals.insert(rule.name, value, days + 1);
    }
    let mut lines: BTreeMap<String, Vec<(NaiveDate, f64)>> = BTreeMap::new();
    for ((line, day), parts) in buckets {
        let mut combined = sum_totals(parts.values());
        let peaks = daily
            .range((line.clone(), day, "")..)
            .take_while(|((l, d, _), _)| *l == line && *d == day);
        for ((_, _, series), sums) in peaks {
            if let Some(peak) = sums.values().max() {
                let days = combined.days(series).unwrap_or(0);
                combined.insert(series, *peak, days);
            }
        }
        if let Some(summary) = plugin.summarize(&combined) {
            lines.entry(line).or_default().push((day, summary.value));
        }
    }
    lines
        .into_iter()
        .map(|(label, points)| Line {
            competitor: per_brand && brands.iter().any(|b| b.name == label && b.competitor),
            label,
            points,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(platform: &str, day: u32, value: i64) -> Stored {
        Stored {
            brand_id: 1,
            platform: platform.to_string(),
            series: "reach".to_string(),
            day: NaiveDate::from_ymd_opt(2026, 11, day).expect("a valid day"),
            value,
        }
    }

    #[test]
    fn a_weeks_reach_across_platforms_is_its_largest_daily_sum_not_each_platforms_best_added() {
        let names: Vec<String> = crate::plugins::names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let registry = Registry::new(&names);
        let plugin = registry.by_name("reach").expect("reach is a plugin");
        let brand = Brand {
            id: 1,
            name: "Acme".to_string(),
            competitor: false,
        };
        // Monday 2026-11-02 .. Sunday 2026-11-08 is one weekly point. x's best day is the 2nd
        // (100), instagram's the 3rd (300); the best day of both together is the 3rd, 350.
        let values = vec![
            stored("x", 2, 100),
            stored("instagram", 2, 10),
            stored("x", 3, 50),
            stored("instagram", 3, 300),
        ];
        let period = Period::ending(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(), 120);
        let lines = lines(&registry, plugin, &[brand], period, true, values);
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0].points,
            vec![(NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(), 350.0)]
        );
    }
}
