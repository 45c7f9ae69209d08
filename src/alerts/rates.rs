//! `metricord alert-rates`: how often a spike or dip rule at its defaults fires on the demo data
//! set, per brand and month. The demo's days are noise around a steady level or trend, with no
//! event in them, so every alert counted is a false alarm: the rate a team should expect from a
//! rule when nothing happens. Each day is judged by the same [`judge`] the bot runs, on the
//! same daily values, as the scheduler would judge it that day.

use std::fmt::Write;

use chrono::{Duration, NaiveDate};

use super::judge::{DEFAULT_K, Direction, TRAILING_DAYS, Watch, judge};
use crate::error::Result;
use crate::period::Period;
use crate::plugins::Registry;
use crate::storage::Store;
use crate::trend::{DAILY_POINTS_UP_TO, lines};

/// Average days in a month.
const MONTH_DAYS: f64 = 30.436_875;

/// Fires per rule kind (spike up, dip down, both) for one metric, over all brands.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRates {
    pub metric: &'static str,
    pub fires: [usize; 3],
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    pub brands: usize,
    /// Days judged per brand (those with 28 days of history before them).
    pub judged_days: i64,
    pub metrics: Vec<MetricRates>,
}

impl Rates {
    /// Alerts per brand per month.
    pub fn per_brand_month(&self, fires: usize) -> f64 {
        let months = self.judged_days as f64 / MONTH_DAYS;
        if self.brands == 0 || months <= 0.0 {
            return 0.0;
        }
        fires as f64 / self.brands as f64 / months
    }

    /// The Markdown table BENCHMARKS.md shows.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} brands, {} days judged each (k = {DEFAULT_K}, 28 trailing days, at least 14 with data)\n\n| metric | spike (up) | dip (down) | spike or dip (both) |\n|---|---|---|---|\n",
            self.brands, self.judged_days
        );
        let mut total = [0usize; 3];
        for m in &self.metrics {
            let _ = writeln!(
                out,
                "| {} | {:.2} | {:.2} | {:.2} |",
                m.metric,
                self.per_brand_month(m.fires[0]),
                self.per_brand_month(m.fires[1]),
                self.per_brand_month(m.fires[2])
            );
            for (t, f) in total.iter_mut().zip(m.fires) {
                *t += f;
            }
        }
        let n = self.metrics.len().max(1);
        let _ = writeln!(
            out,
            "| mean of one rule | {:.2} | {:.2} | {:.2} |",
            self.per_brand_month(total[0]) / n as f64,
            self.per_brand_month(total[1]) / n as f64,
            self.per_brand_month(total[2]) / n as f64
        );
        out
    }
}

/// Judges every day of every brand and enabled metric of `guild` from `first` to `last` that
/// has [`TRAILING_DAYS`] days before it in the range, as a spike, a dip and a spike-or-dip rule
/// at the default `k`.
pub async fn measure(
    store: &Store,
    registry: &Registry,
    guild: u64,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Rates> {
    let brands = store.brands(guild).await?;
    let mut metrics = Vec::new();
    let start = first + Duration::days(TRAILING_DAYS);
    for plugin in registry.plugins() {
        let series: Vec<&str> = plugin.series().iter().map(|s| s.name).collect();
        let mut fires = [0usize; 3];
        for brand in &brands {
            // Daily points come in windows the chart code keeps daily.
            let mut points = Vec::new();
            let mut from = first;
            while from <= last {
                let to = (from + Duration::days(DAILY_POINTS_UP_TO - 1)).min(last);
                let period = Period { from, to };
                let values = store
                    .values(guild, &[brand.id], period, None, &series)
                    .await?;
                let drawn = lines(
                    registry,
                    plugin,
                    std::slice::from_ref(brand),
                    period,
                    true,
                    values,
                );
                points.extend(drawn.into_iter().flat_map(|l| l.points));
                from = to + Duration::days(1);
            }
            let mut day = start;
            while day <= last {
                let upto: Vec<(NaiveDate, f64)> =
                    points.iter().copied().filter(|(d, _)| *d <= day).collect();
                for (i, direction) in [Direction::Up, Direction::Down, Direction::Both]
                    .into_iter()
                    .enumerate()
                {
                    let verdict = judge(
                        Watch::Spike { k: DEFAULT_K },
                        direction,
                        plugin.unit(),
                        &upto,
                        day,
                    );
                    if verdict.fires.is_some() {
                        fires[i] += 1;
                    }
                }
                day += Duration::days(1);
            }
        }
        metrics.push(MetricRates {
            metric: plugin.command().name,
            fires,
        });
    }
    Ok(Rates {
        brands: brands.len(),
        judged_days: (last - start).num_days() + 1,
        metrics,
    })
}
