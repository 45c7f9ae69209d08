//! The weekly benchmark digest: how each brand did last week, against itself the week before,
//! against the other brands of its landscape, and against industry benchmarks, with what stood
//! out and a chart.
//!
//! A landscape's digest gives every brand of it an embed with every metric (this file). The
//! digest of all brands (`landscapes.rs`) compares brands only within their landscapes and
//! stays short: what stood out across them, then a compact embed per landscape.
//!
//! Every figure comes from the plugins (each contributes its own lines through `summarize`), so
//! a new metric appears in the digest without a change here. The Discord front end splits a
//! reply too long for one message into several within Discord's limits.

mod landscapes;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::analysis::{
    COMPETITOR_AVERAGE, NEW, benchmark_value, change_text, format_value, gap_text, new_note,
};
use crate::chart;
use crate::command::{Embed, Field, File, Reply};
use crate::error::{Error, Result};
use crate::numbers::short;
use crate::period::Period;
use crate::plugin::{Plugin, Summary, Unit};
use crate::services::{Context, Services};
use crate::storage::Brand;
use crate::totals::breakdown;
use crate::tracking::freshness;
use crate::trend::trend_lines;

/// Lines in the "what stood out" list.
const HIGHLIGHTS: usize = 8;
/// Weeks of daily points in the digest's chart.
const CHART_DAYS: i64 = 28;

/// A metric's values across the landscape's brands for one week.
struct Standing<'a> {
    plugin: &'a dyn Plugin,
    now: BTreeMap<i64, Summary>,
    before: BTreeMap<i64, Summary>,
}

impl Standing<'_> {
    fn average(&self, brands: &[&Brand]) -> Option<f64> {
        let values: Vec<f64> = brands
            .iter()
            .filter_map(|b| self.now.get(&b.id))
            .map(|s| s.value)
            .collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }

    /// 1-based rank among the brands with data, highest first.
    fn rank(&self, brand: i64) -> Option<(usize, usize)> {
        let own = self.now.get(&brand)?.value;
        let better = self.now.values().filter(|s| s.value > own).count();
        Some((better + 1, self.now.len()))
    }
}

/// The digest of `week` for a guild's landscape (or all its brands), as of `now`: what the
/// scheduler posts.
pub async fn for_guild(
    services: &Services,
    guild_id: u64,
    landscape: Option<&str>,
    week: Period,
    now: DateTime<Utc>,
) -> Result<Reply> {
    let ctx = Context {
        now,
        ..services.context(guild_id, 0)
    };
    build(&ctx, landscape, week).await
}

/// The digest of `week` for a landscape (or every brand of the guild).
pub async fn build(ctx: &Context<'_>, landscape: Option<&str>, week: Period) -> Result<Reply> {
    let (scope, brands) = ctx.scope(landscape).await?;
    let ids: Vec<i64> = brands.iter().map(|b| b.id).collect();
    let (now, before) = tokio::try_join!(
        breakdown(ctx, &ids, week, None, None),
        breakdown(ctx, &ids, week.previous(), None, None),
    )?;
    let now_platforms = now.platforms;
    let (now, before) = (now.brands, before.brands);
    let standings: Vec<Standing> = ctx
        .registry
        .plugins()
        .map(|plugin| Standing {
            plugin,
            now: summaries(plugin, &now),
            before: summaries(plugin, &before),
        })
        .filter(|s| !s.now.is_empty())
        .collect();
    let (mut embeds, chart_brands, chart_scope) = match landscape {
        Some(_) => {
            let embeds = brand_embeds(ctx, &brands, &standings, &now_platforms, week).await?;
            (embeds, brands.clone(), scope.clone())
        }
        None => {
            let embeds = landscapes::embeds(ctx, &standings, week).await?;
            // Brands of different industries on one axis compare nothing: the chart follows
            // our own brands, or the brands of a server that marks none as its own.
            let ours: Vec<Brand> = brands.iter().filter(|b| !b.competitor).cloned().collect();
            if ours.is_empty() {
                (embeds, brands.clone(), scope.clone())
            } else {
                (embeds, ours, "our brands".to_string())
            }
        }
    };
    if let Some(first) = embeds.first_mut() {
        first.footer = freshness::summary(ctx, &ids, None).await?;
    }

    if let Some(goals) = crate::goals::digest_section(ctx, &brands).await? {
        embeds.push(goals);
    }

    let mut attachments = Vec::new();
    // The configured metric, or else the first rate among the plugins.
    let chart_metric = match ctx.settings.digest.chart_metric.as_str() {
        "" => ctx.registry.plugins().find(|p| p.unit() == Unit::Percent),
        name => ctx.registry.by_name(name),
    };
    if let Some(plugin) = chart_metric {
        let span = Period::ending(week.to, CHART_DAYS);
        let lines = trend_lines(ctx, plugin, &chart_brands, span, None, true).await?;
        if !lines.is_empty() {
            let chart = chart::Chart {
                metric: plugin.label().to_string(),
                unit: plugin.unit(),
                scope: chart_scope,
                platform: None,
                period: span,
                step: chart::Step::Day,
                lines,
            };
            let png = chart::draw(chart, ctx.settings.charts.theme)
                .await
                .map_err(Error::Chart)?;
            attachments.push(File {
                name: "digest.png".to_string(),
                bytes: png,
            });
        }
    }
    let mut content = format!("**Weekly digest · {scope}** · {week}, against the week before.");
    if landscape.is_none() {
        content.push_str(&format!(" {}", landscapes::NOTE));
    }
    let new = |f: &Field| f.value.contains(&format!(" · {NEW}"));
    let new_line = format!("({NEW})");
    if embeds
        .iter()
        .any(|e| e.fields.iter().any(new) || e.description.contains(&new_line))
    {
        content.push_str(&format!(" {}", new_note()));
    }
    Ok(Reply {
        content,
        embeds,
        attachments,
        ephemeral: false,
    })
}

/// A landscape's digest: "what stood out", then an embed per brand with every metric.
async fn brand_embeds(
    ctx: &Context<'_>,
    brands: &[Brand],
    standings: &[Standing<'_>],
    now_platforms: &BTreeMap<(i64, String), crate::plugin::Totals>,
    week: Period,
) -> Result<Vec<Embed>> {
    let competitors: Vec<&Brand> = brands.iter().filter(|b| b.competitor).collect();
    let mut embeds = vec![Embed {
        title: "What stood out".to_string(),
        description: highlights(brands, standings, &competitors).join("\n"),
        ..Embed::default()
    }];
    for brand in brands {
        let mut title = brand.name.clone();
        if brand.competitor {
            title.push_str(" (competitor)");
        }
        let mut fields: Vec<Field> = standings
            .iter()
            .filter_map(|s| brand_field(ctx, s, brand, &competitors, now_platforms))
            .collect();
        if let Some(top) = freshness::top_post(ctx, brand.id, week).await? {
            fields.push(Field::new("Top post of the week", top));
        }
        let description = if fields.is_empty() {
            format!(
                "{} logged no data from {} to {}.",
                brand.name, week.from, week.to
            )
        } else {
            String::new()
        };
        embeds.push(Embed {
            title,
            description,
            fields,
            footer: None,
        });
    }
    Ok(embeds)
}

/// What a preview covers and why today is not in it: a digest posted now reports the seven
/// whole days before it, so numbers logged for today wait for the next one.
pub fn preview_note(week: Period, today: chrono::NaiveDate) -> String {
    format!(
        "A digest posted now covers the 7 days before today, {} to {}; numbers logged for today ({today}) go into the next one.",
        week.from, week.to
    )
}

/// A label inside a sentence: "Engagement rate" becomes "engagement rate", "CTR" stays.
fn in_sentence(label: &str) -> String {
    if label.chars().filter(|c| c.is_uppercase()).count() > 1 {
        label.to_string()
    } else {
        label.to_lowercase()
    }
}

fn summaries(
    plugin: &dyn Plugin,
    totals: &BTreeMap<i64, crate::plugin::Totals>,
) -> BTreeMap<i64, Summary> {
    totals
        .iter()
        .filter_map(|(brand, t)| Some((*brand, plugin.summarize(t)?)))
        .collect()
}

/// One metric's line for one brand: value, change, rank, gap to the competitor average,
/// benchmarks.
fn brand_field(
    ctx: &Context<'_>,
    standing: &Standing<'_>,
    brand: &Brand,
    competitors: &[&Brand],
    by_platform: &BTreeMap<(i64, String), crate::plugin::Totals>,
) -> Option<Field> {
    let now = standing.now.get(&brand.id)?;
    let mut line = match standing.before.get(&brand.id) {
        Some(before) => format!("{} · {} w/w", now.text, change_text(Some(before), now)),
        None => format!("{} · {NEW}", now.text),
    };
    if let Some((rank, of)) = standing.rank(brand.id)
        && of > 1
    {
        line.push_str(&format!(" · #{rank} of {of}"));
        if let Some(average) = standing.average(competitors) {
            line.push_str(&format!(
                " · {} vs {COMPETITOR_AVERAGE}",
                gap_text(now.unit, now.value - average)
            ));
        }
    }
    if !now.parts.is_empty() {
        let parts: Vec<String> = now
            .parts
            .iter()
            .map(|(name, n)| format!("{name} {}", short(*n)))
            .collect();
        line.push_str(&format!("\n{}", parts.join(" · ")));
    }
    for ((id, platform), totals) in by_platform {
        let Some(benchmark) = ctx
            .benchmarks
            .find(standing.plugin.command().name, platform)
        else {
            continue;
        };
        // A benchmark of another kind (per post, paid ads) is not a bar for this figure;
        // `/benchmark` says why, the digest stays short and leaves it out.
        if *id != brand.id || benchmark.measures != standing.plugin.measures() {
            continue;
        }
        if let Some(own) = standing.plugin.summarize(totals) {
            let side = if own.value >= benchmark.value {
                "above"
            } else {
                "below"
            };
            line.push_str(&format!(
                "\n{platform}: {} {side} the industry's {} ({} {})",
                format_value(own.unit, own.value),
                benchmark_value(standing.plugin, benchmark.value),
                benchmark.source,
                benchmark.year
            ));
        }
    }
    Some(Field::new(standing.plugin.label(), line))
}

/// The short list at the top: the largest moves, what fell, our brands against the
/// competitors' average, and who logged nothing.
fn highlights(brands: &[Brand], standings: &[Standing<'_>], competitors: &[&Brand]) -> Vec<String> {
    let mut moves: Vec<(f64, String)> = Vec::new();
    for standing in standings {
        for brand in brands {
            let (Some(now), Some(before)) =
                (standing.now.get(&brand.id), standing.before.get(&brand.id))
            else {
                continue;
            };
            if before.value == 0.0 || now.value == before.value {
                continue;
            }
            let relative = (now.value - before.value) / before.value.abs();
            let verb = if relative < 0.0 { "fell" } else { "rose" };
            moves.push((
                relative.abs(),
                format!(
                    "{} {} {verb} to {} ({})",
                    brand.name,
                    in_sentence(standing.plugin.label()),
                    format_value(now.unit, now.value),
                    change_text(Some(before), now)
                ),
            ));
        }
    }
    moves.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut lines: Vec<String> = moves.into_iter().take(3).map(|(_, line)| line).collect();

    let mut gaps: Vec<(f64, String)> = Vec::new();
    let ours: Vec<&Brand> = brands.iter().filter(|b| !b.competitor).collect();
    for standing in standings {
        let with_data: Vec<&Summary> = competitors
            .iter()
            .filter_map(|c| standing.now.get(&c.id))
            .collect();
        if with_data.is_empty() {
            continue;
        }
        for brand in &ours {
            let Some(own) = standing.now.get(&brand.id) else {
                continue;
            };
            let average = with_data.iter().map(|s| s.value).sum::<f64>() / with_data.len() as f64;
            if average != 0.0 {
                let side = if own.value >= average {
                    "above"
                } else {
                    "below"
                };
                gaps.push((
                    ((own.value - average) / average).abs(),
                    format!(
                        "{} {} {}, {side} the competitor average of {}",
                        brand.name,
                        in_sentence(standing.plugin.label()),
                        format_value(own.unit, own.value),
                        format_value(own.unit, average)
                    ),
                ));
            }
            // The parts of a metric (applause, conversation, amplification) each get a line.
            for (name, value) in &own.parts {
                let theirs: Vec<i64> = with_data
                    .iter()
                    .filter_map(|s| s.parts.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
                    .collect();
                if theirs.is_empty() {
                    continue;
                }
                let average = theirs.iter().sum::<i64>() as f64 / theirs.len() as f64;
                if average == 0.0 {
                    continue;
                }
                let side = if *value as f64 >= average {
                    "above"
                } else {
                    "below"
                };
                gaps.push((
                    ((*value as f64 - average) / average).abs(),
                    format!(
                        "{} {name} {}, {side} the competitor average of {}",
                        brand.name,
                        short(*value),
                        short(average.round() as i64)
                    ),
                ));
            }
        }
    }
    gaps.sort_by(|a, b| b.0.total_cmp(&a.0));
    let room = HIGHLIGHTS.saturating_sub(lines.len() + 1);
    lines.extend(gaps.into_iter().take(room).map(|(_, line)| line));

    let silent: Vec<&str> = brands
        .iter()
        .filter(|b| !standings.iter().any(|s| s.now.contains_key(&b.id)))
        .map(|b| b.name.as_str())
        .collect();
    if !silent.is_empty() {
        lines.push(format!("No data in the week: {}", silent.join(", ")));
    }
    if lines.is_empty() {
        lines.push("Nothing logged this week or the week before.".to_string());
    }
    lines
}
