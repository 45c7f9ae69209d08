//! Brands' totals over a period, per platform and across platforms: what `/report`,
//! `/compare`, `/benchmark`, `/trend` and the digest build on.
//!
//! The storage layer aggregates each series every way a series can be aggregated; this module
//! keeps the way each series' plugin declares (sum, last, largest). Across platforms, a brand's
//! totals are the sum of its platforms' totals (its audience is the sum of its followers on
//! each platform), except a series aggregated by its largest day: that is the largest day of
//! the platforms' daily sums, a day that happened, not each platform's best day added up.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::period::Period;
use crate::plugin::{Aggregate, Plugin, Totals};
use crate::plugins::Registry;
use crate::services::Context;
use crate::storage::Aggregated;

/// Brands' totals over a period, per platform and across platforms.
#[derive(Debug, Default)]
pub struct Breakdown {
    pub platforms: BTreeMap<(i64, String), Totals>,
    pub brands: BTreeMap<i64, Totals>,
}

/// Each brand's totals over `period`, on each platform (or only `platform`) and across them: of
/// every series, or only of `plugin`'s.
pub async fn breakdown(
    ctx: &Context<'_>,
    brands: &[i64],
    period: Period,
    platform: Option<&str>,
    plugin: Option<&dyn Plugin>,
) -> Result<Breakdown> {
    let mut peaked: Vec<&str> = match plugin {
        Some(plugin) => plugin.series().to_vec(),
        None => ctx
            .registry
            .plugins()
            .flat_map(|p| p.series().iter().copied())
            .collect(),
    }
    .into_iter()
    .filter(|s| s.aggregate == Aggregate::Max)
    .map(|s| s.name)
    .collect();
    peaked.sort_unstable();
    peaked.dedup();
    let peaks = async {
        if peaked.is_empty() {
            return Ok(Vec::new());
        }
        ctx.store
            .peaks(ctx.guild_id, brands, period, platform, &peaked)
            .await
    };
    let (platforms, peaks) =
        tokio::try_join!(by_platform(ctx, brands, period, platform, plugin), peaks)?;
    let brands = across(ctx.registry, &platforms, peaks);
    Ok(Breakdown { platforms, brands })
}

/// Each brand's totals on each platform over `period`: of every series, or only of
/// `plugin`'s.
pub async fn by_platform(
    ctx: &Context<'_>,
    brands: &[i64],
    period: Period,
    platform: Option<&str>,
    plugin: Option<&dyn Plugin>,
) -> Result<BTreeMap<(i64, String), Totals>> {
    let series: Option<Vec<&str>> = plugin.map(|p| p.series().iter().map(|s| s.name).collect());
    let rows = ctx
        .store
        .aggregate(ctx.guild_id, brands, period, platform, series.as_deref())
        .await?;
    Ok(totals(ctx.registry, rows))
}

/// Folds aggregated rows into totals per brand and platform, keeping for each series the
/// aggregate its plugin declares.
pub fn totals(registry: &Registry, rows: Vec<Aggregated>) -> BTreeMap<(i64, String), Totals> {
    let mut out: BTreeMap<(i64, String), Totals> = BTreeMap::new();
    for row in rows {
        let Some(series) = registry.series(&row.series) else {
            continue;
        };
        let value = match series.aggregate {
            Aggregate::Sum => row.sum,
            Aggregate::Max => row.max,
            Aggregate::Last => row.last,
        };
        out.entry((row.brand_id, row.platform))
            .or_default()
            .insert(series.name, value, row.days);
    }
    out
}

/// Each brand's totals across its platforms: the sum of its platforms' totals, except for a
/// series aggregated by its largest day, whose value is its largest daily sum over platforms
/// (`peaks`, as [`crate::storage::Snapshots::peaks`] gives them): each platform's best day
/// may fall on a different day, and their sum is a day that never happened.
pub fn across(
    registry: &Registry,
    by_platform: &BTreeMap<(i64, String), Totals>,
    peaks: Vec<(i64, String, i64)>,
) -> BTreeMap<i64, Totals> {
    let mut parts: BTreeMap<i64, Vec<&Totals>> = BTreeMap::new();
    for ((brand, _), totals) in by_platform {
        parts.entry(*brand).or_default().push(totals);
    }
    let mut out: BTreeMap<i64, Totals> = parts
        .into_iter()
        .map(|(brand, parts)| (brand, sum_totals(parts.into_iter())))
        .collect();
    for (brand, series, peak) in peaks {
        let (Some(rule), Some(totals)) = (registry.series(&series), out.get_mut(&brand)) else {
            continue;
        };
        if rule.aggregate == Aggregate::Max {
            let days = totals.days(rule.name).unwrap_or(0);
            totals.insert(rule.name, peak, days);
        }
    }
    out
}

pub fn sum_totals<'a>(parts: impl Iterator<Item = &'a Totals>) -> Totals {
    let mut sum = Totals::default();
    for part in parts {
        sum.add(part);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_largest_day_across_platforms_is_the_largest_daily_sum_and_other_series_add_up() {
        let names: Vec<String> = crate::plugins::names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let registry = Registry::new(&names);
        let mut x = Totals::default();
        x.insert("reach", 100, 2);
        x.insert("followers", 1_000, 2);
        let mut instagram = Totals::default();
        instagram.insert("reach", 300, 2);
        instagram.insert("followers", 3_000, 1);
        let platforms = BTreeMap::from([
            ((1, "x".to_string()), x),
            ((1, "instagram".to_string()), instagram),
        ]);
        let brands = across(&registry, &platforms, vec![(1, "reach".to_string(), 350)]);
        assert_eq!(brands[&1].get("reach"), Some(350));
        assert_eq!(brands[&1].get("followers"), Some(4_000));
        assert_eq!(brands[&1].days("reach"), Some(2));
    }
}
