//! Which gateway shards this process runs: the `--shards FIRST-LAST` and `--total-shards N|auto`
//! flags, read and checked before anything connects.
//!
//! Discord sends each server's events to shard `(guild_id >> 22) % total`, so every process of
//! one bot must agree on the total, and between them run every shard once. A process given a
//! range runs only those shards; without flags it runs the single shard a bot needs below 2,500
//! servers, as it always did.

use std::fmt;

use crate::error::{Error, Result};
use crate::settings::Backend;

/// The largest `--total-shards`: far above what any bot needs (one shard per 1,000 servers),
/// low enough that a typo cannot ask one process for millions of connections.
pub const MAX_TOTAL: u32 = 65_535;

/// How many shards the bot has in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// This many.
    Fixed(u32),
    /// Discord's recommendation from `GET /gateway/bot`, asked at start.
    Auto,
}

/// The shard flags as given; [`Plan::resolve`] turns them into the shards to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plan {
    /// `--shards`: the first and last shard (both run) of this process.
    pub range: Option<(u32, u32)>,
    /// `--total-shards`.
    pub total: Option<Total>,
}

/// The shards this process runs: `first..=last` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shards {
    pub first: u32,
    pub last: u32,
    pub total: u32,
}

impl Shards {
    /// One process, one shard: what runs without flags.
    pub const SINGLE: Shards = Shards {
        first: 0,
        last: 0,
        total: 1,
    };

    /// Whether other processes must run the shards this one leaves out.
    pub fn is_partial(&self) -> bool {
        self.first > 0 || self.last + 1 < self.total
    }
}

impl fmt::Display for Shards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shards {}-{} of {}", self.first, self.last, self.total)
    }
}

/// Reads `--shards`: `FIRST-LAST` or a single shard number, counted from 0.
pub fn parse_range(text: &str) -> std::result::Result<(u32, u32), String> {
    let usage = "takes FIRST-LAST, such as 0-3 (shard numbers count from 0), or one shard number";
    let number = |part: &str| part.trim().parse::<u32>().map_err(|_| usage.to_string());
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (number(first)?, number(last)?),
        None => {
            let only = number(text)?;
            (only, only)
        }
    };
    if first > last {
        return Err(format!(
            "runs from the first shard to the last: {first}-{last} is backwards, write {last}-{first}"
        ));
    }
    Ok((first, last))
}

/// Reads `--total-shards`: a number from 1 to [`MAX_TOTAL`], or `auto`.
pub fn parse_total(text: &str) -> std::result::Result<Total, String> {
    if text.trim().eq_ignore_ascii_case("auto") {
        return Ok(Total::Auto);
    }
    match text.trim().parse::<u32>() {
        Ok(total @ 1..=MAX_TOTAL) => Ok(Total::Fixed(total)),
        _ => Err(format!(
            "takes the number of shards of the whole bot, from 1 to {MAX_TOTAL}, or auto for Discord's recommendation"
        )),
    }
}

impl Plan {
    /// The shards to run, given Discord's recommended total when `--total-shards auto` asked for
    /// it (`recommended` is only called then). A range outside the total, or a partial range on
    /// SQLite, which one process alone may use, is refused with the flags named.
    pub async fn resolve<F, Fut>(self, backend: Backend, recommended: F) -> Result<Shards>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<u32>>,
    {
        let total = match self.total {
            None if self.range.is_some() => {
                return Err(flag(
                    "--shards",
                    "needs --total-shards too, the number of shards of the whole bot (or auto)",
                ));
            }
            None => return Ok(Shards::SINGLE),
            Some(Total::Fixed(total)) if (1..=MAX_TOTAL).contains(&total) => total,
            Some(Total::Fixed(total)) => {
                return Err(flag(
                    "--total-shards",
                    &format!("{total} is not a number of shards from 1 to {MAX_TOTAL}"),
                ));
            }
            Some(Total::Auto) => {
                let total = recommended().await?;
                if !(1..=MAX_TOTAL).contains(&total) {
                    return Err(Error::Discord(format!(
                        "GET /gateway/bot recommended {total} shards; give --total-shards a number instead of auto"
                    )));
                }
                total
            }
        };
        let (first, last) = self.range.unwrap_or((0, total - 1));
        if last >= total {
            let auto = if self.total == Some(Total::Auto) {
                " (Discord's recommendation)"
            } else {
                ""
            };
            return Err(flag(
                "--shards",
                &format!(
                    "{first}-{last} is outside the {total} shards of --total-shards{auto}: shard numbers run from 0 to {}",
                    total - 1
                ),
            ));
        }
        let shards = Shards { first, last, total };
        if shards.is_partial() && backend == Backend::Sqlite {
            return Err(flag(
                "--shards",
                &format!(
                    "{first}-{last} of {total} leaves the other shards to other processes, and processes cannot share a SQLite file: set the database to a postgres:// URL, or run every shard here"
                ),
            ));
        }
        Ok(shards)
    }
}

fn flag(name: &str, message: &str) -> Error {
    Error::Flag {
        flag: name.to_string(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn resolve(plan: Plan, backend: Backend, recommended: u32) -> Result<Shards> {
        plan.resolve(backend, || async move { Ok(recommended) })
            .await
    }

    fn plan(range: Option<&str>, total: Option<&str>) -> Plan {
        Plan {
            range: range.map(|r| parse_range(r).expect("a range")),
            total: total.map(|t| parse_total(t).expect("a total")),
        }
    }

    #[test]
    fn ranges_and_totals_are_read_and_bad_ones_say_what_the_flag_takes() {
        assert_eq!(parse_range("0-3"), Ok((0, 3)));
        assert_eq!(parse_range(" 4 - 7 "), Ok((4, 7)));
        assert_eq!(parse_range("5"), Ok((5, 5)));
        for bad in ["", "-", "a-b", "1-", "-3", "1-2-3", "0..3", "99999999999"] {
            let err = parse_range(bad).unwrap_err();
            assert!(err.contains("FIRST-LAST"), "{bad}: {err}");
        }
        assert!(parse_range("3-1").unwrap_err().contains("write 1-3"));
        assert_eq!(parse_total("8"), Ok(Total::Fixed(8)));
        assert_eq!(parse_total("AUTO"), Ok(Total::Auto));
        for bad in ["0", "-1", "65536", "eight", ""] {
            let err = parse_total(bad).unwrap_err();
            assert!(err.contains("from 1 to 65535"), "{bad}: {err}");
        }
    }

    #[tokio::test]
    async fn without_flags_one_process_runs_the_single_shard_and_asks_discord_nothing() {
        let asked = Plan::default()
            .resolve(Backend::Sqlite, || async {
                panic!("GET /gateway/bot is not needed")
            })
            .await;
        assert_eq!(asked.unwrap(), Shards::SINGLE);
        assert!(!Shards::SINGLE.is_partial());
    }

    #[tokio::test]
    async fn a_total_alone_runs_every_shard_here_and_auto_takes_discords_count() {
        let all = resolve(plan(None, Some("8")), Backend::Sqlite, 0).await;
        assert_eq!(
            all.unwrap(),
            Shards {
                first: 0,
                last: 7,
                total: 8
            }
        );
        let auto = resolve(plan(None, Some("auto")), Backend::Sqlite, 3).await;
        assert_eq!(
            auto.unwrap(),
            Shards {
                first: 0,
                last: 2,
                total: 3
            }
        );
        let range = resolve(plan(Some("2-3"), Some("auto")), Backend::Postgres, 4).await;
        assert_eq!(
            range.unwrap(),
            Shards {
                first: 2,
                last: 3,
                total: 4
            }
        );
        let zero = resolve(plan(None, Some("auto")), Backend::Postgres, 0).await;
        assert!(zero.unwrap_err().to_string().contains("--total-shards"));
        let built = Plan {
            range: None,
            total: Some(Total::Fixed(0)),
        };
        let err = resolve(built, Backend::Postgres, 0).await.unwrap_err();
        assert!(
            err.to_string().starts_with("--total-shards: 0 is not"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_range_past_the_total_or_without_one_is_refused_naming_the_flags() {
        let err = resolve(plan(Some("4-8"), Some("8")), Backend::Postgres, 0)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--shards: 4-8 is outside the 8 shards of --total-shards: shard numbers run from 0 to 7"
        );
        let err = resolve(plan(Some("0-3"), Some("auto")), Backend::Postgres, 2)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Discord's recommendation") && err.contains("0 to 1"),
            "{err}"
        );
        let err = resolve(plan(Some("0-3"), None), Backend::Postgres, 0)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs --total-shards"), "{err}");
        let last = resolve(plan(Some("7"), Some("8")), Backend::Postgres, 0).await;
        assert_eq!(
            last.unwrap(),
            Shards {
                first: 7,
                last: 7,
                total: 8
            }
        );
    }

    #[tokio::test]
    async fn a_partial_range_on_sqlite_is_refused_and_every_shard_on_sqlite_is_not() {
        let err = resolve(plan(Some("0-3"), Some("8")), Backend::Sqlite, 0)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SQLite") && err.contains("postgres://"),
            "{err}"
        );
        let whole = resolve(plan(Some("0-7"), Some("8")), Backend::Sqlite, 0).await;
        assert!(!whole.unwrap().is_partial());
        let partial = resolve(plan(Some("0-3"), Some("8")), Backend::Postgres, 0).await;
        assert!(partial.unwrap().is_partial());
    }
}
