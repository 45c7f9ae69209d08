//! A realistic demo data set: brands in landscapes with daily numbers for every plugin's inputs,
//! generated deterministically from a seed. New users get something to `/report` and
//! `/compare` at once; the benchmarks use it at full size (50 brands, a year, about a million
//! values).

use chrono::{Duration, NaiveDate};

use crate::error::Result;
use crate::plugins::Registry;
use crate::storage::{ImportBatch, ImportRow, Store};

const LANDSCAPES: [&str; 5] = ["coffee", "ballet", "sneakers", "banking", "airlines"];
const NAMES: [&str; 10] = [
    "North", "Summit", "Harbor", "Meridian", "Lumen", "Cedar", "Atlas", "Juniper", "Orbit",
    "Willow",
];
pub const PLATFORMS: [&str; 5] = ["instagram", "facebook", "x", "tiktok", "linkedin"];

/// What the generator made.
#[derive(Debug, Clone, PartialEq)]
pub struct Seeded {
    pub brands: usize,
    pub values: usize,
}

/// A small deterministic random source (a 64-bit LCG): the same seed, the same data set.
struct Random(u64);

impl Random {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }
}

/// The name of brand `i`: landscape by `i % 5`, so every landscape gets brands.
pub fn brand_name(i: usize) -> (String, &'static str) {
    let landscape = LANDSCAPES[i % LANDSCAPES.len()];
    let word = NAMES[(i / LANDSCAPES.len()) % NAMES.len()];
    let round = i / (LANDSCAPES.len() * NAMES.len());
    let mut title = landscape.to_string();
    title[..1].make_ascii_uppercase();
    let name = if round == 0 {
        format!("{word} {title}")
    } else {
        format!("{word} {title} {}", round + 1)
    };
    (name, landscape)
}

/// Fills `guild` with `brands` brands and `days` days of numbers ending `today`. The first
/// brand of each landscape is the team's own; the others are competitors.
pub async fn seed(
    store: &Store,
    registry: &Registry,
    guild_id: u64,
    brands: usize,
    days: i64,
    seed: u64,
    today: NaiveDate,
) -> Result<Seeded> {
    let mut random = Random(seed.wrapping_add(0x9E37_79B9_7F4A_7C15));
    let now = chrono::Utc::now();
    let mut values = 0;
    for i in 0..brands {
        let (name, landscape) = brand_name(i);
        store
            .add_brand(
                guild_id,
                &name,
                Some(i >= LANDSCAPES.len()),
                Some(landscape),
                now,
            )
            .await?;
        let mut rows = Vec::with_capacity(PLATFORMS.len() * days as usize * 15);
        for platform in PLATFORMS {
            let mut followers = random.between(5_000.0, 500_000.0);
            let growth = random.between(0.000_2, 0.003);
            let engagement = random.between(0.004, 0.05);
            let ctr = random.between(0.004, 0.03);
            for d in 0..days {
                let day = today - Duration::days(days - 1 - d);
                followers *= 1.0 + growth * random.between(-0.5, 2.0);
                let impressions = followers * random.between(0.3, 1.6);
                let engagements = followers * engagement * random.between(0.6, 1.4);
                let mentions = random.between(5.0, 600.0);
                let clicks = impressions * ctr * random.between(0.7, 1.3);
                let visitors = clicks * random.between(0.6, 0.9);
                let positive = mentions * random.between(0.3, 0.7);
                let negative = mentions * random.between(0.05, 0.25);
                let day_values = [
                    ("followers", followers),
                    ("impressions", impressions),
                    ("reach", impressions * random.between(0.5, 0.85)),
                    ("mentions", mentions),
                    (
                        "potential_reach",
                        mentions * random.between(1_000.0, 25_000.0),
                    ),
                    ("engagements", engagements),
                    ("applause", engagements * 0.8),
                    ("conversation", engagements * 0.12),
                    ("amplification", engagements * 0.08),
                    ("positive", positive),
                    ("negative", negative),
                    ("neutral", (mentions - positive - negative).max(0.0)),
                    ("clicks", clicks),
                    ("visitors", visitors),
                    ("conversions", visitors * random.between(0.01, 0.08)),
                ];
                for (series, value) in day_values {
                    // Only the inputs of enabled plugins: the data set matches the commands.
                    if let Some(series) = registry.series(series) {
                        rows.push(ImportRow {
                            day,
                            brand: 0,
                            platform,
                            series: series.name,
                            value: value.round() as i64,
                        });
                    }
                }
            }
        }
        values += rows.len();
        let batch = ImportBatch {
            brands: vec![name],
            rows,
            setup: Vec::new(),
        };
        store.import(guild_id, &batch, 0, now, true).await?;
    }
    Ok(Seeded { brands, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brand_names_are_unique_and_spread_over_the_landscapes() {
        let names: std::collections::HashSet<String> = (0..120).map(|i| brand_name(i).0).collect();
        assert_eq!(names.len(), 120);
        assert_eq!(brand_name(0), ("North Coffee".to_string(), "coffee"));
        assert_eq!(brand_name(6).1, "ballet");
    }
}
