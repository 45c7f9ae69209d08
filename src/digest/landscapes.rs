//! The digest of all brands: the guild's brands grouped by landscape, every rank and competitor
//! average taken inside one landscape, so a coffee brand is never held against an average of
//! airlines and banks. It is kept short enough to read in a minute and to post as one Discord
//! message: what stood out across the landscapes first, then one compact embed per landscape on
//! a few headline metrics and our brands' top posts. A landscape's own digest has every metric
//! of every brand.

use std::collections::{BTreeMap, BTreeSet};

use super::{HIGHLIGHTS, Standing, in_sentence};
use crate::analysis::{COMPETITOR_AVERAGE, NEW, change_text, format_value};
use crate::command::Embed;
use crate::error::Result;
use crate::numbers::percent;
use crate::period::Period;
use crate::plugin::{Summary, Unit};
use crate::services::Context;
use crate::storage::Brand;
use crate::tracking::freshness;

/// Said once in the digest's first line, so the reader knows what the ranks are out of.
pub const NOTE: &str = "Ranks and averages are within each landscape; `/digest preview landscape:NAME` has every metric.";

/// The group of brands in no landscape. They are listed with their figures but never ranked or
/// averaged: nothing says what they compete with, and mixing them is what this digest avoids.
const NO_LANDSCAPE: &str = "Not in a landscape";

/// How many metrics a landscape's embed details: the plugins' headline metrics first (how large
/// the audience is, how engaged it is, how much the brand is talked about), others with data
/// filling in when those have none. Ten metrics for every landscape would not be read.
const DETAILS: usize = 3;

/// The largest week-on-week moves named first among the standouts.
const MOVES: usize = 3;

/// Brands compared with each other: a landscape's, or the brands in none.
struct Group {
    name: String,
    /// Our brands first, then the competitors', each by name.
    brands: Vec<Brand>,
    /// Whether ranks and the competitor average mean something here.
    ranked: bool,
}

impl Group {
    fn with_data<'a>(&'a self, standing: &Standing<'_>) -> Vec<&'a Brand> {
        self.brands
            .iter()
            .filter(|b| standing.now.contains_key(&b.id))
            .collect()
    }

    /// 1-based rank of `brand` among this group's brands with data, highest first.
    fn rank(&self, standing: &Standing<'_>, brand: &Brand) -> Option<(usize, usize)> {
        let own = standing.now.get(&brand.id)?.value;
        let values: Vec<f64> = self
            .with_data(standing)
            .iter()
            .filter_map(|b| standing.now.get(&b.id))
            .map(|s| s.value)
            .collect();
        let better = values.iter().filter(|v| **v > own).count();
        Some((better + 1, values.len()))
    }

    /// Our brands in this group.
    fn ours(&self) -> impl Iterator<Item = &Brand> {
        self.brands.iter().filter(|b| !b.competitor)
    }

    /// The embed's title: the landscape, with our brand when it is the only one, so that its
    /// lines need not repeat the name.
    fn title(&self) -> String {
        match self.sole_brand() {
            Some(brand) => format!("{} · {}", self.name, brand.name),
            None => self.name.clone(),
        }
    }

    fn sole_brand(&self) -> Option<&Brand> {
        let mut ours = self.ours();
        match (self.ranked, ours.next(), ours.next()) {
            (true, Some(brand), None) => Some(brand),
            _ => None,
        }
    }

    /// The mean of this group's competitors with data.
    fn competitor_average(&self, standing: &Standing<'_>) -> Option<f64> {
        let competitors: Vec<&Brand> = self.brands.iter().filter(|b| b.competitor).collect();
        standing.average(&competitors)
    }
}

/// The guild's brands by landscape (a brand in two landscapes is in both groups), landscapes
/// by name, the brands in none last.
async fn groups(ctx: &Context<'_>) -> Result<Vec<Group>> {
    let listing = ctx.store.brand_listing(ctx.guild_id).await?;
    let mut landscapes: BTreeMap<String, Group> = BTreeMap::new();
    let mut alone = Vec::new();
    for entry in listing {
        if entry.landscapes.is_empty() {
            alone.push(entry.brand.clone());
        }
        for name in &entry.landscapes {
            landscapes
                .entry(name.to_lowercase())
                .or_insert_with(|| Group {
                    name: name.clone(),
                    brands: Vec::new(),
                    ranked: true,
                })
                .brands
                .push(entry.brand.clone());
        }
    }
    let mut groups: Vec<Group> = landscapes.into_values().collect();
    if !alone.is_empty() {
        groups.push(Group {
            name: NO_LANDSCAPE.to_string(),
            brands: alone,
            ranked: false,
        });
    }
    for group in &mut groups {
        // Stable: the listing is by name already.
        group.brands.sort_by_key(|b| b.competitor);
    }
    Ok(groups)
}

/// "What stood out" across the landscapes, then an embed per landscape.
pub(super) async fn embeds(
    ctx: &Context<'_>,
    standings: &[Standing<'_>],
    week: Period,
) -> Result<Vec<Embed>> {
    let groups = groups(ctx).await?;
    let mut embeds = vec![Embed {
        title: "What stood out".to_string(),
        description: highlights(&groups, standings).join("\n"),
        ..Embed::default()
    }];
    for group in &groups {
        let mut lines: Vec<String> = details(standings)
            .into_iter()
            .filter_map(|s| detail_line(group, s))
            .take(DETAILS)
            .collect();
        // Our brands' best collected post; the competitors' are in the landscape's digest.
        let sole = group.sole_brand().map(|b| b.id);
        for brand in group.ours() {
            if let Some(top) = freshness::top_post(ctx, brand.id, week).await? {
                let whose = if sole == Some(brand.id) {
                    String::new()
                } else {
                    format!("{}, ", brand.name)
                };
                lines.push(format!("**Top post of the week**: {whose}{top}"));
            }
        }
        let description = if lines.is_empty() {
            format!("No data from {} to {}.", week.from, week.to)
        } else {
            lines.join("\n")
        };
        embeds.push(Embed {
            title: group.title(),
            description,
            ..Embed::default()
        });
    }
    Ok(embeds)
}

/// The metrics in the order a landscape's embed considers them: the plugins' headline ones in
/// their order, then the rest in the plugins' order.
fn details<'a, 'b>(standings: &'a [Standing<'b>]) -> Vec<&'a Standing<'b>> {
    let mut ordered: Vec<&Standing> = standings
        .iter()
        .filter(|s| s.plugin.lead_rank().is_some())
        .collect();
    ordered.sort_by_key(|s| s.plugin.lead_rank());
    ordered.extend(standings.iter().filter(|s| s.plugin.lead_rank().is_none()));
    ordered
}

/// One metric of a group on one line: our brands' values, changes and ranks, and the
/// competitor average (the leader stands in for a landscape of competitors only). Brands in no
/// landscape are listed with their values and changes only. `None` without data.
fn detail_line(group: &Group, standing: &Standing<'_>) -> Option<String> {
    let with_data = group.with_data(standing);
    let ours: Vec<&Brand> = with_data
        .iter()
        .copied()
        .filter(|b| !b.competitor)
        .collect();
    let sole = group.sole_brand().map(|b| b.id);
    let shown: Vec<&Brand> = match (group.ranked, ours.is_empty()) {
        (false, _) => with_data,
        (true, false) => ours,
        (true, true) => with_data
            .iter()
            .copied()
            .filter(|b| group.rank(standing, b).is_some_and(|(r, _)| r == 1))
            .take(1)
            .collect(),
    };
    if shown.is_empty() {
        return None;
    }
    let mut entries: Vec<String> = shown
        .iter()
        .filter_map(|brand| {
            let now = standing.now.get(&brand.id)?;
            let mut entry = format!(
                "{} ({})",
                compact(now.unit, now.value),
                compact_change(standing.before.get(&brand.id), now)
            );
            if sole != Some(brand.id) {
                entry = format!("{} {entry}", brand.name);
            }
            if group.ranked
                && let Some((rank, of)) = group.rank(standing, brand)
                && of > 1
            {
                entry.push_str(&format!(" #{rank} of {of}"));
            }
            Some(entry)
        })
        .collect();
    if group.ranked
        && let Some(average) = group.competitor_average(standing)
    {
        let unit = standing.now.values().next()?.unit;
        entries.push(format!("{COMPETITOR_AVERAGE} {}", compact(unit, average)));
    }
    Some(format!(
        "**{}**: {}",
        standing.plugin.label(),
        entries.join(" · ")
    ))
}

/// A value as short as it reads: counts from 10,000 on to three significant digits (`1.85M`,
/// `634K`), rates and scores as always.
fn compact(unit: Unit, value: f64) -> String {
    let count = value.round() as i64;
    let (scaled, suffix) = match count.unsigned_abs() {
        _ if unit != Unit::Count => return format_value(unit, value),
        n if n >= 1_000_000_000 => (value / 1e9, "B"),
        n if n >= 1_000_000 => (value / 1e6, "M"),
        n if n >= 10_000 => (value / 1e3, "K"),
        _ => return format_value(unit, value),
    };
    let places = match scaled.abs() {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    format!("{scaled:.places$}{suffix}")
}

/// A change in short: relative for counts (`+0.81%`), in points for rates.
fn compact_change(before: Option<&Summary>, now: &Summary) -> String {
    match (before, now.unit) {
        (Some(before), Unit::Count) if before.value != 0.0 => {
            signed_percent((now.value - before.value) / before.value.abs() * 100.0)
        }
        (Some(_), Unit::Count) if now.value == 0.0 => "no change".to_string(),
        (Some(_), Unit::Count) => NEW.to_string(),
        _ => change_text(before, now),
    }
}

/// A relative change or gap in whole percent, or one decimal under 10%: a week's move reads as
/// "-18%", not "-18.04%".
fn rounded_percent(value: f64) -> String {
    match value.abs() {
        v if v >= 10.0 => format!("{v:.0}%"),
        v if v >= 0.1 => format!("{v:.1}%"),
        v => percent(v),
    }
}

fn signed_percent(value: f64) -> String {
    let sign = if value < 0.0 { "-" } else { "+" };
    format!("{sign}{}", rounded_percent(value))
}

/// The standouts across landscapes: the largest moves of the week, then for each landscape the
/// widest gap of one of our brands to that landscape's competitor average, then who logged
/// nothing. Each line names the landscape it comes from.
fn highlights(groups: &[Group], standings: &[Standing<'_>]) -> Vec<String> {
    // Each brand once, with the landscapes it is in.
    let mut brands: BTreeMap<i64, (&Brand, Vec<&str>)> = BTreeMap::new();
    for group in groups {
        for brand in &group.brands {
            let (_, homes) = brands.entry(brand.id).or_insert((brand, Vec::new()));
            if group.ranked {
                homes.push(&group.name);
            }
        }
    }
    let where_ = |homes: &[&str]| {
        if homes.is_empty() {
            String::new()
        } else {
            format!("{}: ", homes.join(", "))
        }
    };

    // A brand's largest move, one per brand so that one brand does not fill the list.
    let mut moves: Vec<(f64, String)> = brands
        .values()
        .filter_map(|(brand, homes)| {
            standings
                .iter()
                .filter_map(|standing| {
                    let now = standing.now.get(&brand.id)?;
                    let before = standing.before.get(&brand.id)?;
                    if before.value == 0.0 || now.value == before.value {
                        return None;
                    }
                    let relative = (now.value - before.value) / before.value.abs();
                    let verb = if relative < 0.0 { "fell" } else { "rose" };
                    let line = format!(
                        "{}{} {} {verb} to {} ({})",
                        where_(homes),
                        brand.name,
                        in_sentence(standing.plugin.label()),
                        compact(now.unit, now.value),
                        signed_percent(relative * 100.0)
                    );
                    Some((relative.abs(), line))
                })
                .max_by(|a, b| a.0.total_cmp(&b.0))
        })
        .collect();
    moves.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut lines: Vec<String> = moves.into_iter().take(MOVES).map(|(_, l)| l).collect();

    // Each landscape's widest gap between one of our brands and its competitor average.
    let mut gaps: Vec<(f64, String)> = groups
        .iter()
        .filter(|g| g.ranked)
        .filter_map(|group| {
            let mut best: Option<(f64, String)> = None;
            for standing in standings {
                let Some(average) = group.competitor_average(standing) else {
                    continue;
                };
                if average == 0.0 {
                    continue;
                }
                for brand in group.brands.iter().filter(|b| !b.competitor) {
                    let Some(own) = standing.now.get(&brand.id) else {
                        continue;
                    };
                    let relative = (own.value - average) / average.abs();
                    if best.as_ref().is_some_and(|(b, _)| *b >= relative.abs()) {
                        continue;
                    }
                    let side = if relative >= 0.0 { "above" } else { "below" };
                    let line = format!(
                        "{}: {} {} {}, {} {side} the {COMPETITOR_AVERAGE}",
                        group.name,
                        brand.name,
                        in_sentence(standing.plugin.label()),
                        compact(own.unit, own.value),
                        rounded_percent(relative.abs() * 100.0),
                    );
                    best = Some((relative.abs(), line));
                }
            }
            best
        })
        .collect();
    gaps.sort_by(|a, b| b.0.total_cmp(&a.0));

    let silent: BTreeSet<&str> = brands
        .values()
        .map(|(b, _)| *b)
        .filter(|b| !standings.iter().any(|s| s.now.contains_key(&b.id)))
        .map(|b| b.name.as_str())
        .collect();
    let room = HIGHLIGHTS.saturating_sub(lines.len() + usize::from(!silent.is_empty()));
    lines.extend(gaps.into_iter().take(room).map(|(_, l)| l));
    if !silent.is_empty() {
        let silent: Vec<&str> = silent.into_iter().collect();
        lines.push(format!("No data in the week: {}", silent.join(", ")));
    }
    if lines.is_empty() {
        lines.push("Nothing logged this week or the week before.".to_string());
    }
    lines
}
