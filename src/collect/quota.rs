//! YouTube's daily quota, kept on metricord's side so that it is never exceeded.
//!
//! Google gives a key 10,000 units a day by default, charges every request (failed ones too) and
//! starts a new day at midnight Pacific time. Units are reserved before a request is sent, as
//! many as its tries may take, and what was not spent is given back. When the day's budget is
//! spent a caller either waits for the reset (a background poll; the log says so once a day) or
//! is told when it comes (a person waiting for an answer). When Google itself says the quota is
//! spent, that is believed for the rest of the day.

use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::America::Los_Angeles;

use super::{Error, Result};
use crate::clock::Clock;

#[derive(Debug)]
pub struct Quota {
    clock: Clock,
    day: Mutex<Day>,
}

/// The units of one quota day.
#[derive(Debug)]
struct Day {
    budget: u32,
    date: NaiveDate,
    used: u32,
    /// Whether the log has said that this day's budget is spent.
    announced: bool,
}

impl Day {
    /// Moves to `date` if it is a later one.
    fn start(&mut self, date: NaiveDate) {
        if date > self.date {
            *self = Day {
                budget: self.budget,
                date,
                used: 0,
                announced: false,
            };
        }
    }
}

/// Google's quota day of a moment.
fn pacific_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Los_Angeles).date_naive()
}

/// When the quota day after `date` starts.
fn reset_after(date: NaiveDate) -> DateTime<Utc> {
    let next = date.checked_add_days(Days::new(1)).unwrap_or(date);
    let midnight = next.and_time(NaiveTime::MIN);
    // Pacific time changes at 2 a.m., so midnight always exists, once.
    Los_Angeles
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

impl Quota {
    pub fn new(budget: u32, clock: Clock) -> Quota {
        Quota {
            day: Mutex::new(Day {
                budget,
                date: pacific_day(clock.now()),
                used: 0,
                announced: false,
            }),
            clock,
        }
    }

    fn day(&self) -> MutexGuard<'_, Day> {
        self.day.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves `units` of today's budget. When it is spent, waits for the reset (`wait`) or
    /// says when it comes.
    pub async fn reserve(&self, units: u32, wait: bool) -> Result<()> {
        loop {
            let now = self.clock.now();
            let (resets_at, first) = {
                let mut day = self.day();
                day.start(pacific_day(now));
                if day.used + units <= day.budget {
                    day.used += units;
                    return Ok(());
                }
                let first = !day.announced;
                day.announced = true;
                (reset_after(day.date), first)
            };
            if !wait {
                return Err(Error::QuotaSpent { resets_at });
            }
            if first {
                tracing::warn!(%resets_at, "YouTube's daily quota is spent; YouTube polling waits for the reset at midnight Pacific time");
            }
            tokio::time::sleep((resets_at - now).to_std().unwrap_or_default()).await;
            // The reset has come, whatever a hand-set clock says.
            self.day().start(pacific_day(resets_at));
        }
    }

    /// Gives back reserved units that were not spent.
    pub fn refund(&self, units: u32) {
        let mut day = self.day();
        day.used = day.used.saturating_sub(units);
    }

    /// Google says the quota is spent: nothing more today. Returns when it resets.
    pub fn spent(&self) -> DateTime<Utc> {
        let mut day = self.day();
        day.start(pacific_day(self.clock.now()));
        day.used = day.budget;
        reset_after(day.date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_day_ends_at_midnight_pacific_time() {
        // 2026-12-01 20:00 UTC is noon in Los Angeles (PST, UTC-8).
        let noon = Utc.with_ymd_and_hms(2026, 12, 1, 20, 0, 0).unwrap();
        let day = pacific_day(noon);
        assert_eq!(day, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(
            reset_after(day),
            Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 0).unwrap()
        );
        // In summer (PDT, UTC-7).
        let july = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(
            reset_after(july),
            Utc.with_ymd_and_hms(2026, 7, 2, 7, 0, 0).unwrap()
        );
        // 03:00 UTC on 2 December is still 1 December in Los Angeles.
        let late = Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).unwrap();
        assert_eq!(pacific_day(late), day);
    }

    #[tokio::test]
    async fn a_spent_budget_is_refused_with_its_reset_and_a_new_day_brings_it_back() {
        let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 12, 1, 20, 0, 0).unwrap());
        let quota = Quota::new(5, clock.clone());
        quota.reserve(3, false).await.unwrap();
        quota.refund(1);
        quota.reserve(3, false).await.unwrap();
        let reset = Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 0).unwrap();
        assert_eq!(
            quota.reserve(1, false).await,
            Err(Error::QuotaSpent { resets_at: reset })
        );
        if let Clock::Manual(at) = &clock {
            *at.lock().unwrap() = reset;
        }
        quota.reserve(5, false).await.unwrap();
        assert_eq!(
            quota.spent(),
            Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap()
        );
        assert!(quota.reserve(1, false).await.is_err());
    }
}
