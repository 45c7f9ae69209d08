//! The rows a move between databases carries: a [`Dump`] of every table, one row type per
//! table, and the counts per table and guild that are checked on both sides before the move
//! commits (see `transfer.rs`, which reads and writes them).

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, Result};

/// Every row of every table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dump {
    pub brands: Vec<BrandRow>,
    pub landscapes: Vec<LandscapeRow>,
    pub landscape_brands: Vec<LandscapeBrandRow>,
    pub snapshots: Vec<SnapshotRow>,
    pub digest_schedules: Vec<ScheduleRow>,
    pub digest_runs: Vec<RunRow>,
    pub tracked_accounts: Vec<TrackedRow>,
    pub collected_posts: Vec<CollectedPostRow>,
    pub alert_rules: Vec<AlertRuleRow>,
    pub alert_events: Vec<AlertEventRow>,
    pub goals: Vec<GoalRow>,
    pub goal_events: Vec<GoalEventRow>,
    /// The rows of each table in each guild, counted in the same snapshot.
    pub counts: Counts,
}

/// `(table, guild, rows)` for every table and guild with rows, in that order.
pub type Counts = Vec<(String, i64, i64)>;

/// What `counts` add up to, for people: rows per table, and over how many guilds.
pub fn describe(counts: &Counts) -> String {
    let mut tables: Vec<(&str, i64)> = Vec::new();
    for (table, _, rows) in counts {
        match tables.iter_mut().find(|(t, _)| t == table) {
            Some((_, total)) => *total += rows,
            None => tables.push((table, *rows)),
        }
    }
    let mut guilds: Vec<i64> = counts.iter().map(|(_, guild, _)| *guild).collect();
    guilds.sort_unstable();
    guilds.dedup();
    let tables: Vec<String> = tables
        .iter()
        .map(|(table, rows)| format!("{rows} {table}"))
        .collect();
    if tables.is_empty() {
        return "nothing (the source holds no data)".to_string();
    }
    format!("{} of {} servers", tables.join(", "), guilds.len())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BrandRow {
    pub id: i64,
    pub guild_id: i64,
    pub name: String,
    pub name_key: String,
    pub created_at: DateTime<Utc>,
    pub competitor: bool,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LandscapeRow {
    pub id: i64,
    pub guild_id: i64,
    pub name: String,
    pub name_key: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LandscapeBrandRow {
    pub landscape_id: i64,
    pub brand_id: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SnapshotRow {
    pub guild_id: i64,
    pub brand_id: i64,
    pub platform: String,
    pub series: String,
    pub day: NaiveDate,
    pub value: i64,
    pub logged_by: i64,
    pub logged_at: DateTime<Utc>,
    pub source: String,
    pub replaced_value: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScheduleRow {
    pub id: i64,
    pub guild_id: i64,
    pub channel_id: i64,
    pub cron: String,
    pub timezone: String,
    pub landscape: Option<String>,
    pub created_by: i64,
    pub created_at: i64,
    pub last_fire: i64,
    pub failing: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RunRow {
    pub schedule_id: i64,
    pub scheduled_at: i64,
    pub state: String,
    pub claimed_at: i64,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TrackedRow {
    pub id: i64,
    pub guild_id: i64,
    pub brand_id: i64,
    pub network: String,
    pub account: String,
    pub handle: String,
    pub display_name: String,
    pub link: String,
    pub followers: Option<i64>,
    pub added_by: i64,
    pub added_at: i64,
    pub last_success: Option<i64>,
    pub last_failure: Option<i64>,
    pub failure: Option<String>,
    pub next_poll: i64,
    pub claimed_until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CollectedPostRow {
    pub guild_id: i64,
    pub brand_id: i64,
    pub network: String,
    pub post_id: String,
    pub link: String,
    pub published: i64,
    pub day: NaiveDate,
    pub applause: Option<i64>,
    pub conversation: Option<i64>,
    pub amplification: Option<i64>,
    pub last_seen: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AlertRuleRow {
    pub id: i64,
    pub guild_id: i64,
    pub brand_id: i64,
    pub channel_id: i64,
    pub metric: String,
    pub kind: String,
    pub direction: String,
    pub level: f64,
    pub scope: Option<String>,
    pub role_id: Option<i64>,
    pub cooldown_hours: i64,
    pub created_by: i64,
    pub created_at: i64,
    pub last_fired: Option<i64>,
    pub failing: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AlertEventRow {
    pub rule_id: i64,
    pub day: NaiveDate,
    pub state: String,
    pub claimed_at: i64,
    pub message: String,
    pub post_id: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct GoalRow {
    pub id: i64,
    pub guild_id: i64,
    pub brand_id: i64,
    pub channel_id: i64,
    pub metric: String,
    pub start_day: NaiveDate,
    pub start_value: f64,
    pub target: f64,
    pub deadline: NaiveDate,
    pub created_by: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct GoalEventRow {
    pub goal_id: i64,
    pub kind: String,
    pub state: String,
    pub claimed_at: i64,
    pub message: String,
}

/// Counts in one order whatever the database's collation.
pub(super) fn counts(mut counts: Counts) -> Counts {
    counts.sort();
    counts
}

/// The counts in the target must be the source's, and the source's must be the rows the dump
/// holds: a difference is a row lost or added on the way, and the move is not committed.
pub(super) fn check_counts(dump: &Dump, counts: &Counts) -> Result<()> {
    let total = |table: &str, counts: &Counts| -> i64 {
        counts
            .iter()
            .filter(|(t, _, _)| t == table)
            .map(|(_, _, n)| n)
            .sum()
    };
    for (table, rows) in [
        ("brands", dump.brands.len()),
        ("landscapes", dump.landscapes.len()),
        ("landscape_brands", dump.landscape_brands.len()),
        ("snapshots", dump.snapshots.len()),
        ("digest_schedules", dump.digest_schedules.len()),
        ("digest_runs", dump.digest_runs.len()),
        ("tracked_accounts", dump.tracked_accounts.len()),
        ("collected_posts", dump.collected_posts.len()),
        ("alert_rules", dump.alert_rules.len()),
        ("alert_events", dump.alert_events.len()),
        ("goals", dump.goals.len()),
        ("goal_events", dump.goal_events.len()),
    ] {
        if total(table, &dump.counts) != rows as i64 || total(table, counts) != rows as i64 {
            return Err(Error::CountMismatch {
                table: table.to_string(),
                guild: None,
            });
        }
    }
    if let Some((table, guild, _)) = counts
        .iter()
        .chain(&dump.counts)
        .find(|row| !(counts.contains(row) && dump.counts.contains(row)))
    {
        return Err(Error::CountMismatch {
            table: table.clone(),
            guild: Some(*guild),
        });
    }
    Ok(())
}
