//! Questions over stored snapshots: `/report`, `/compare` and `/benchmark`, and the totals that
//! `/trend` and the digest build on.
//!
//! Every question goes through the plugins: the storage layer aggregates each series every way
//! a series can be aggregated, this module keeps the way each series' plugin declares (sum,
//! last, largest), and the metric's plugin turns the totals into its value and words. So a new
//! plugin appears in every question without a line changed here. How totals add up across
//! platforms is in [`crate::totals`].

use std::collections::BTreeMap;

use crate::benchmarks::Benchmarks;
use crate::command::{CommandSpec, Embed, Field, Kind, OptionSpec, Options, PLATFORMS, Reply};
use crate::error::{Result, UserError};
use crate::handler;
use crate::numbers::{change, percent, plural, thousands};
use crate::period::Period;
use crate::plugin::{Plugin, Summary, Totals, Unit};
use crate::plugins::Registry;
use crate::services::{Command, Context};
use crate::storage::Brand;
use crate::totals::{breakdown, by_platform};
use crate::tracking::freshness;

/// The period a question covers when none is given.
const DEFAULT_PERIOD: i64 = 30;

/// The metric a question is about, offering the enabled metrics as choices.
pub fn metric_option(registry: &Registry) -> OptionSpec {
    OptionSpec::new("metric", "The metric", Kind::Choice(registry.names())).required()
}

/// The period a question covers.
pub fn period_option() -> OptionSpec {
    OptionSpec::new(
        "period",
        "7d, 30d, 90d, ytd or YYYY-MM-DD..YYYY-MM-DD (default 30d)",
        Kind::Text { max_len: 25 },
    )
}

/// One platform to narrow a question to.
pub fn platform_option() -> OptionSpec {
    OptionSpec::new(
        "platform",
        "Only this platform",
        Kind::Choice(PLATFORMS.to_vec()),
    )
}

/// `/report`, `/compare` and `/benchmark`.
pub fn commands(registry: &Registry) -> [Command; 3] {
    [
        Command::new(
            CommandSpec {
                name: "report",
                description: "Every metric of a brand over a period, against the period before",
                options: vec![
                    OptionSpec::brand("brand", "The brand").required(),
                    period_option(),
                    platform_option(),
                ],
                ..CommandSpec::default()
            },
            handler!(report),
        ),
        Command::new(
            CommandSpec {
                name: "compare",
                description: "Rank a landscape's brands on one metric, with the competitor average",
                options: vec![
                    metric_option(registry),
                    OptionSpec::landscape("The brands to compare (default: every brand)"),
                    period_option(),
                    platform_option(),
                    OptionSpec::new(
                        "rank",
                        "Rank by size (the default) or by growth on the period before",
                        Kind::Choice(vec!["size", "growth"]),
                    ),
                ],
                ..CommandSpec::default()
            },
            handler!(compare),
        ),
        Command::new(
            CommandSpec {
                name: "benchmark",
                description: "A brand against industry benchmarks and its competitor average",
                options: vec![
                    metric_option(registry),
                    platform_option(),
                    OptionSpec::brand("brand", "The brand to hold against the benchmarks"),
                    period_option(),
                ],
                ..CommandSpec::default()
            },
            handler!(benchmark),
        ),
    ]
}

/// `/report brand [period] [platform]`
pub async fn report(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let brand = ctx.brand(options.text("brand").unwrap_or_default()).await?;
    let period = period(ctx, options)?;
    let platform = options.text("platform");
    // The two periods, and what is collected for the brand, are read on connections of their
    // own at once: each read is a round trip.
    let ids = [brand.id];
    let (now, before, collected) = tokio::try_join!(
        breakdown(ctx, &ids, period, platform, None),
        breakdown(ctx, &ids, period.previous(), platform, None),
        freshness::for_brand(ctx, brand.id, platform),
    )?;
    let youtube_rounded = collected.youtube;
    let mut fields = Vec::new();
    for plugin in ctx.registry.plugins() {
        let mut lines = Vec::new();
        let platforms: Vec<&String> = now.platforms.keys().map(|(_, p)| p).collect();
        if platforms.len() > 1
            && let Some(line) = report_line(
                plugin,
                "All platforms",
                now.brands.get(&brand.id),
                before.brands.get(&brand.id),
                false,
            )
        {
            lines.push(line);
        }
        for platform in platforms {
            let key = (brand.id, platform.clone());
            if let Some(line) = report_line(
                plugin,
                platform,
                now.platforms.get(&key),
                before.platforms.get(&key),
                youtube_rounded && platform == "youtube" && plugin.command().name == "audience",
            ) {
                lines.push(line);
            }
        }
        if !lines.is_empty() {
            fields.push(Field::new(plugin.label(), lines.join("\n")));
        }
    }
    if fields.is_empty() {
        return Ok(Reply::text(format!(
            "No data for {} from {} to {}.",
            brand.name, period.from, period.to
        )));
    }
    let mut description = format!(
        "{period}, each against the {} before.",
        plural(period.days() as usize, "day", "days")
    );
    let text: String = fields.iter().map(|f| f.value.as_str()).collect();
    if text.contains(NEW) {
        description.push_str(&format!("\n{}", new_note()));
    }
    let platforms: Vec<&str> = now.platforms.keys().map(|(_, p)| p.as_str()).collect();
    if platforms.len() > 1 && platforms.contains(&crate::command::DEFAULT_PLATFORM) {
        description.push_str(&format!(
            "\nAll platforms includes {}: numbers logged without a `platform`.",
            crate::command::DEFAULT_PLATFORM
        ));
    }
    if let Some(note) = collected.note {
        fields.push(Field::new("Collected", note));
    }
    Ok(Reply::embed(Embed {
        title: heading("Report", &brand.name, platform),
        description,
        fields,
        footer: None,
    }))
}

fn report_line(
    plugin: &dyn Plugin,
    label: &str,
    now: Option<&Totals>,
    before: Option<&Totals>,
    youtube_rounded: bool,
) -> Option<String> {
    let now = plugin.summarize(now?)?;
    let before = before.and_then(|t| plugin.summarize(t));
    let change = before
        .as_ref()
        .filter(|_| youtube_rounded)
        .and_then(|b| freshness::youtube_rounding(b.value as i64, now.value as i64))
        .unwrap_or_else(|| change_text(before.as_ref(), &now));
    Some(format!("{label}: {} · {change}", now.text))
}

/// `/compare metric [landscape] [period] [platform]`
pub async fn compare(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let plugin = metric(ctx, options)?;
    let (scope, brands) = ctx.scope(options.text("landscape")).await?;
    let period = period(ctx, options)?;
    let ids: Vec<i64> = brands.iter().map(|b| b.id).collect();
    let platform = options.text("platform");
    let by_growth = options.text("rank") == Some("growth");
    // The period before only when the reply shows growth (counts, or ranked by it); the reads
    // run side by side, each on a connection of its own.
    let growth = plugin.unit() == Unit::Count || by_growth;
    let (totals, before, fresh) = tokio::try_join!(
        breakdown(ctx, &ids, period, platform, Some(plugin)),
        async {
            match growth {
                true => breakdown(ctx, &ids, period.previous(), platform, Some(plugin)).await,
                false => Ok(Default::default()),
            }
        },
        freshness::summary(ctx, &ids, platform),
    )?;
    let (totals, before) = (totals.brands, before.brands);
    let mut ranked: Vec<(&Brand, Summary)> = brands
        .iter()
        .filter_map(|b| Some((b, plugin.summarize(totals.get(&b.id)?)?)))
        .collect();
    let before: BTreeMap<i64, Summary> = ranked
        .iter()
        .filter_map(|(b, _)| Some((b.id, plugin.summarize(before.get(&b.id)?)?)))
        .collect();
    if ranked.is_empty() {
        return Ok(Reply::text(format!(
            "No {} data for {scope} from {} to {}.",
            plugin.label(),
            period.from,
            period.to
        )));
    }
    ranked.sort_by(|a, b| b.1.value.total_cmp(&a.1.value));
    if by_growth {
        // Brands without a figure the period before have no growth, and come last.
        let growth = |id: i64, now: &Summary| {
            before
                .get(&id)
                .filter(|b| b.value != 0.0)
                .map_or(f64::NEG_INFINITY, |b| (now.value - b.value) / b.value.abs())
        };
        ranked.sort_by(|a, b| growth(b.0.id, &b.1).total_cmp(&growth(a.0.id, &a.1)));
    }
    let average = competitor_average(ranked.iter().map(|(b, s)| (*b, s.value)));
    let total: f64 = ranked.iter().map(|(_, s)| s.value).sum();
    let mut lines = Vec::new();
    for (i, (brand, summary)) in ranked.iter().enumerate() {
        let mut line = format!(
            "**{}. {}**{} — {}",
            i + 1,
            brand.name,
            if brand.competitor {
                " (competitor)"
            } else {
                ""
            },
            summary.text,
        );
        // Counts (an audience, mentions) grow: the growth stands beside the size.
        if summary.unit == Unit::Count || by_growth {
            match before.get(&brand.id) {
                Some(earlier) => line.push_str(&format!(
                    " · {} on the period before",
                    change_text(Some(earlier), summary)
                )),
                None => line.push_str(&format!(" · {NEW}")),
            }
        }
        if let Some((average, _)) = average {
            line.push_str(&format!(
                " · {} vs {COMPETITOR_AVERAGE}",
                gap_text(summary.unit, summary.value - average)
            ));
        }
        if summary.unit == Unit::Count && total > 0.0 {
            line.push_str(&format!(
                " · {} of the total",
                percent(summary.value / total * 100.0)
            ));
        }
        let noisy: Vec<&str> = ranked
            .iter()
            .filter(|(other, s)| other.id != brand.id && overlaps(summary, s))
            .map(|(other, _)| other.name.as_str())
            .collect();
        if !noisy.is_empty() {
            line.push_str(&format!(" · within the noise of {}", noisy.join(", ")));
        }
        lines.push(line);
    }
    let missing: Vec<&str> = brands
        .iter()
        .filter(|b| !ranked.iter().any(|(r, _)| r.id == b.id))
        .map(|b| b.name.as_str())
        .collect();
    if !missing.is_empty() {
        lines.push(format!("No data: {}", missing.join(", ")));
    }
    Ok(Reply::embed(Embed {
        title: heading(plugin.label(), &scope, options.text("platform")),
        description: lines.join("\n"),
        fields: vec![Field::new(
            "Competitor average",
            match average {
                Some((average, n)) => format!(
                    "{} over {} with data (our brands are not in it)",
                    format_value(ranked[0].1.unit, average),
                    plural(n, "competitor", "competitors")
                ),
                None => {
                    "None: no competitor has data here (`/brand add competitor:true` marks one)."
                        .to_string()
                }
            },
        )],
        footer: Some(
            [
                Some(format!(
                    "{period}{}.{}",
                    if by_growth {
                        format!(", ranked by growth on {}", period.previous())
                    } else {
                        String::new()
                    },
                    if ranked[0].1.interval.is_some() {
                        " Overlapping 95% intervals mean the gap may be noise."
                    } else {
                        ""
                    }
                )),
                fresh,
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        ),
    }))
}

/// Whether two rates' 95% intervals overlap: their gap is within the noise.
fn overlaps(a: &Summary, b: &Summary) -> bool {
    match (a.interval, b.interval) {
        (Some((a_low, a_high)), Some((b_low, b_high))) => a_low <= b_high && b_low <= a_high,
        _ => false,
    }
}

/// `/benchmark metric [platform] [brand] [period]`
pub async fn benchmark(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let plugin = metric(ctx, options)?;
    let platform = options.text("platform");
    let figures: Vec<_> = ctx
        .benchmarks
        .for_metric(plugin.command().name)
        .filter(|b| platform.is_none_or(|p| p == b.platform))
        .collect();
    let Some(name) = options.text("brand") else {
        if figures.is_empty() {
            return Ok(Reply::text(format!(
                "No industry benchmark for {} in {}; add one with its source.",
                plugin.label(),
                ctx.settings.benchmarks
            )));
        }
        let fields = figures
            .iter()
            .map(|b| {
                Field::new(
                    b.platform.clone(),
                    format!(
                        "{} {} — {} ({}, {})",
                        benchmark_value(plugin, b.value),
                        b.measures.wording(),
                        b.basis,
                        b.source,
                        b.year
                    ),
                )
            })
            .collect();
        return Ok(Reply::embed(Embed {
            title: format!("{} · industry benchmarks", plugin.label()),
            fields,
            ..Embed::default()
        }));
    };
    let brand = ctx.brand(name).await?;
    let period = period(ctx, options)?;
    let peers = ctx.store.peers(ctx.guild_id, &brand).await?;
    let mut ids: Vec<i64> = peers.iter().map(|b| b.id).collect();
    ids.push(brand.id);
    let rows = by_platform(ctx, &ids, period, platform, Some(plugin)).await?;
    let mut fields = Vec::new();
    let platforms: Vec<String> = rows
        .keys()
        .filter(|(id, _)| *id == brand.id)
        .map(|(_, p)| p.clone())
        .collect();
    for platform in platforms {
        let Some(own) = rows
            .get(&(brand.id, platform.clone()))
            .and_then(|t| plugin.summarize(t))
        else {
            continue;
        };
        let mut lines = vec![format!("{}: {}", brand.name, own.text)];
        match ctx.benchmarks.find(plugin.command().name, &platform) {
            Some(b) => match Benchmarks::unlike(b, plugin.measures(), plugin.command().name) {
                Some(why) => lines.push(format!(
                    "Industry: {} — {}, {} {}\n{why}",
                    benchmark_value(plugin, b.value),
                    b.basis,
                    b.source,
                    b.year
                )),
                None => lines.push(format!(
                    "Industry: {} ({} {} the benchmark) — {}, {} {}",
                    benchmark_value(plugin, b.value),
                    gap_text(own.unit, (own.value - b.value).abs()).trim_start_matches('+'),
                    if own.value >= b.value {
                        "above"
                    } else {
                        "below"
                    },
                    b.basis,
                    b.source,
                    b.year
                )),
            },
            None => lines.push("Industry: no benchmark for this platform".to_string()),
        }
        let peer_values: Vec<f64> = peers
            .iter()
            .filter(|p| p.competitor)
            .filter_map(|p| {
                rows.get(&(p.id, platform.clone()))
                    .and_then(|t| plugin.summarize(t))
            })
            .map(|s| s.value)
            .collect();
        if !peer_values.is_empty() {
            let average = peer_values.iter().sum::<f64>() / peer_values.len() as f64;
            lines.push(format!(
                "Competitors: {COMPETITOR_AVERAGE} {} over {} ({} vs {COMPETITOR_AVERAGE})",
                format_value(own.unit, average),
                plural(peer_values.len(), "competitor", "competitors"),
                gap_text(own.unit, own.value - average)
            ));
        }
        fields.push(Field::new(platform, lines.join("\n")));
    }
    if fields.is_empty() {
        return Ok(Reply::text(format!(
            "No {} data for {} from {} to {}.",
            plugin.label(),
            brand.name,
            period.from,
            period.to
        )));
    }
    Ok(Reply::embed(Embed {
        title: heading(
            &format!("{} against benchmarks", plugin.label()),
            &brand.name,
            platform,
        ),
        description: format!("{period}."),
        fields,
        footer: None,
    }))
}

/// A published figure as published: `0.47%`, `0.035%`, never padded or rounded.
pub fn benchmark_value(plugin: &dyn Plugin, value: f64) -> String {
    match plugin.unit() {
        Unit::Percent => format!("{value}%"),
        _ => value.to_string(),
    }
}

/// The metric a question names.
pub fn metric<'a>(ctx: &'a Context<'_>, options: &Options) -> Result<&'a dyn Plugin> {
    let name = options.text("metric").unwrap_or_default();
    Ok(ctx.registry.by_name(name).ok_or(UserError::InvalidOption {
        option: "metric",
        accepts: format!("one of {}", ctx.registry.names().join(", ")),
    })?)
}

pub fn period(ctx: &Context<'_>, options: &Options) -> Result<Period> {
    Ok(match options.text("period") {
        Some(text) => Period::parse(text, ctx.today)?,
        None => Period::ending(ctx.today, DEFAULT_PERIOD),
    })
}

/// A reply's title: what it shows, whose numbers, and the platform when narrowed to one, so a
/// filtered view is never titled as if it covered every platform. The period is in each
/// reply's description or footer.
pub fn heading(what: &str, scope: &str, platform: Option<&str>) -> String {
    match platform {
        Some(platform) => format!("{what} · {scope} · {platform}"),
        None => format!("{what} · {scope}"),
    }
}

/// The one average every view compares with, named so in every reply.
pub const COMPETITOR_AVERAGE: &str = "competitor average";

/// The mean of the competitors' values, with how many there are: the brands marked competitor,
/// never our own, so a brand is not held against an average it pulls up itself. `None`
/// without a competitor.
pub fn competitor_average<'a>(
    values: impl Iterator<Item = (&'a Brand, f64)>,
) -> Option<(f64, usize)> {
    let theirs: Vec<f64> = values
        .filter(|(b, _)| b.competitor)
        .map(|(_, v)| v)
        .collect();
    (!theirs.is_empty()).then(|| {
        (
            theirs.iter().sum::<f64>() / theirs.len() as f64,
            theirs.len(),
        )
    })
}

/// The change of a value with no data the period before; [`new_note`] explains it once per
/// reply rather than on every line.
pub const NEW: &str = "new";

/// What [`NEW`] means, said once.
pub fn new_note() -> String {
    format!("{NEW}: no data the period before to compare with.")
}

/// How a value changed from the period before: relative for counts, in points for rates.
pub fn change_text(before: Option<&Summary>, now: &Summary) -> String {
    let Some(before) = before else {
        return NEW.to_string();
    };
    match now.unit {
        Unit::Count => change(before.value as i64, now.value as i64),
        Unit::Percent => format!("{:+.2} pts", now.value - before.value),
        Unit::Score => format!("{:+.1}", now.value - before.value),
    }
}

/// A difference between two values of a metric, signed.
pub fn gap_text(unit: Unit, gap: f64) -> String {
    let sign = if gap < 0.0 { "-" } else { "+" };
    match unit {
        Unit::Count => format!("{sign}{}", thousands(gap.abs().round() as i64)),
        Unit::Percent => format!("{sign}{:.2} pts", gap.abs()),
        Unit::Score => format!("{sign}{:.1}", gap.abs()),
    }
}

/// A value of a metric on its own, such as an average.
pub fn format_value(unit: Unit, value: f64) -> String {
    match unit {
        Unit::Count => thousands(value.round() as i64),
        Unit::Percent => percent(value),
        Unit::Score => format!("{value:+.1}"),
    }
}

#[cfg(test)]
mod tests;
