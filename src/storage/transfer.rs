//! Every row of every table, out of one database and into another: what `metricord
//! migrate-data` moves between backends, and what tests compare after a backup is restored.
//!
//! A [`Dump`] is read in one consistent snapshot of the source, with the number of rows of each
//! table in each guild. Loading it writes every table in one transaction on the target, counts
//! the rows per table and guild again inside that transaction, and commits only if the counts
//! match; a target that already holds data is refused, so running the move twice cannot
//! duplicate anything.

use sqlx::QueryBuilder;

use super::dump::{Counts, Dump, check_counts, counts};
use super::{Dialects, Postgres, Sqlite, for_each_backend};
use crate::error::{Error, Result};

/// Rows per insert statement: up to 14 columns each keeps a statement under SQLite's 32,766
/// parameters and PostgreSQL's 65,535.
const BATCH: usize = 1_000;

/// Whole databases out and in.
#[async_trait::async_trait]
pub trait Transfer: Send + Sync {
    /// Every row of every table, read in one consistent snapshot.
    async fn dump(&self) -> Result<Dump>;

    /// Writes `dump` into this database, which must hold no data yet, in one transaction that
    /// commits only if the rows per table and guild match the dump's counts. Returns them.
    async fn load(&self, dump: &Dump) -> Result<Counts>;
}

/// The rows of each table in each guild; runs and landscape memberships count for the guild
/// of their schedule and landscape.
const COUNTS: &str = "SELECT CAST('brands' AS TEXT), guild_id, COUNT(*) FROM brands GROUP BY guild_id
    UNION ALL SELECT CAST('landscapes' AS TEXT), guild_id, COUNT(*) FROM landscapes GROUP BY guild_id
    UNION ALL SELECT CAST('landscape_brands' AS TEXT), l.guild_id, COUNT(*) FROM landscape_brands lb
        JOIN landscapes l ON l.id = lb.landscape_id GROUP BY l.guild_id
    UNION ALL SELECT CAST('snapshots' AS TEXT), guild_id, COUNT(*) FROM snapshots GROUP BY guild_id
    UNION ALL SELECT CAST('digest_schedules' AS TEXT), guild_id, COUNT(*) FROM digest_schedules
        GROUP BY guild_id
    UNION ALL SELECT CAST('digest_runs' AS TEXT), s.guild_id, COUNT(*) FROM digest_runs r
        JOIN digest_schedules s ON s.id = r.schedule_id GROUP BY s.guild_id
    UNION ALL SELECT CAST('tracked_accounts' AS TEXT), guild_id, COUNT(*) FROM tracked_accounts
        GROUP BY guild_id
    UNION ALL SELECT CAST('collected_posts' AS TEXT), guild_id, COUNT(*) FROM collected_posts
        GROUP BY guild_id
    UNION ALL SELECT CAST('alert_rules' AS TEXT), guild_id, COUNT(*) FROM alert_rules GROUP BY guild_id
    UNION ALL SELECT CAST('alert_events' AS TEXT), r.guild_id, COUNT(*) FROM alert_events e
        JOIN alert_rules r ON r.id = e.rule_id GROUP BY r.guild_id
    UNION ALL SELECT CAST('goals' AS TEXT), guild_id, COUNT(*) FROM goals GROUP BY guild_id
    UNION ALL SELECT CAST('goal_events' AS TEXT), g.guild_id, COUNT(*) FROM goal_events e
        JOIN goals g ON g.id = e.goal_id GROUP BY g.guild_id";

const TRACKED_COLUMNS: &str = "id, guild_id, brand_id, network, account, handle, display_name,
    link, followers, added_by, added_at, last_success, last_failure, failure, next_poll,
    claimed_until";

const POST_COLUMNS: &str = "guild_id, brand_id, network, post_id, link, published, day,
    applause, conversation, amplification, last_seen";

/// Any row at all in the tables that hold a guild's data.
const ANY_DATA: &str = "SELECT EXISTS (SELECT 1 FROM brands) OR EXISTS (SELECT 1 FROM landscapes)
    OR EXISTS (SELECT 1 FROM digest_schedules)";

/// A read that sees one moment of the database throughout.
const READ_SNAPSHOT: Dialects = Dialects {
    sqlite: "BEGIN",
    postgres: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
};

macro_rules! impl_transfer {
    ($backend:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl Transfer for $backend {
            async fn dump(&self) -> Result<Dump> {
                let mut tx = self.reader().begin_with(Self::pick(&READ_SNAPSHOT)).await?;
                let dump = Dump {
                    brands: sqlx::query_as(
                        "SELECT id, guild_id, name, name_key, created_at, competitor FROM brands ORDER BY id",
                    )
                    .fetch_all(&mut *tx)
                    .await?,
                    landscapes: sqlx::query_as(
                        "SELECT id, guild_id, name, name_key FROM landscapes ORDER BY id",
                    )
                    .fetch_all(&mut *tx)
                    .await?,
                    landscape_brands: sqlx::query_as(
                        "SELECT landscape_id, brand_id FROM landscape_brands ORDER BY landscape_id, brand_id",
                    )
                    .fetch_all(&mut *tx)
                    .await?,
                    snapshots: sqlx::query_as(
                        "SELECT guild_id, brand_id, platform, series, day, value, logged_by, logged_at,
                                source, replaced_value
                         FROM snapshots ORDER BY guild_id, brand_id, day, series, platform",
                    )
                    .fetch_all(&mut *tx)
                    .await?,
                    digest_schedules: sqlx::query_as(
                        "SELECT id, guild_id, channel_id, cron, timezone, landscape, created_by,
                                created_at, last_fire, failing
                         FROM digest_schedules ORDER BY id",
                    )
                    .fetch_all(&mut *tx)
                    .await?,
                    digest_runs: sqlx::query_as(
                        "SELECT schedule_id, scheduled_at, state, claimed_at, detail
                         FROM digest_runs ORDER BY schedule_id, scheduled_at",
                    )
                    .fetch_all(&mut *tx)
                    .await?,
                    tracked_accounts: sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {TRACKED_COLUMNS} FROM tracked_accounts ORDER BY id"
                    )))
                    .fetch_all(&mut *tx)
                    .await?,
                    collected_posts: sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {POST_COLUMNS} FROM collected_posts ORDER BY guild_id, network, post_id"
                    )))
                    .fetch_all(&mut *tx)
                    .await?,
                    alert_rules: sqlx::query_as(
                        "SELECT id, guild_id, brand_id, channel_id, metric, kind, direction, level, scope,
                                role_id, cooldown_hours, created_by, created_at, last_fired, failing
                         FROM alert_rules ORDER BY id",
                    )
                    .fetch_all(&mut *tx)
                    .await?,
                    alert_events: sqlx::query_as(
                        "SELECT rule_id, day, state, claimed_at, message, post_id
                         FROM alert_events ORDER BY rule_id, day, post_id",
                    )
                    .fetch_all(&mut *tx)
                    .await?,
                    goals: sqlx::query_as(
                        "SELECT id, guild_id, brand_id, channel_id, metric, start_day, start_value,
                                target, deadline, created_by, created_at
                         FROM goals ORDER BY id",
                    )
                    .fetch_all(&mut *tx)
                    .await?,
                    goal_events: sqlx::query_as(
                        "SELECT goal_id, kind, state, claimed_at, message FROM goal_events ORDER BY goal_id",
                    )
                    .fetch_all(&mut *tx)
                    .await?,
                    counts: counts(sqlx::query_as(COUNTS).fetch_all(&mut *tx).await?),
                };
                tx.commit().await?;
                Ok(dump)
            }

            async fn load(&self, dump: &Dump) -> Result<Counts> {
                self.writable()?;
                let mut tx = self.begin_write().await?;
                let holds_data: bool = sqlx::query_scalar(ANY_DATA).fetch_one(&mut *tx).await?;
                if holds_data {
                    return Err(Error::TargetNotEmpty);
                }
                for chunk in dump.brands.chunks(BATCH) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO brands (id, guild_id, name, name_key, created_at, competitor) ",
                    );
                    insert.push_values(chunk, |mut row, b| {
                        row.push_bind(b.id)
                            .push_bind(b.guild_id)
                            .push_bind(b.name.clone())
                            .push_bind(b.name_key.clone())
                            .push_bind(b.created_at)
                            .push_bind(b.competitor);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in dump.landscapes.chunks(BATCH) {
                    let mut insert =
                        QueryBuilder::<$db>::new("INSERT INTO landscapes (id, guild_id, name, name_key) ");
                    insert.push_values(chunk, |mut row, l| {
                        row.push_bind(l.id)
                            .push_bind(l.guild_id)
                            .push_bind(l.name.clone())
                            .push_bind(l.name_key.clone());
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in dump.landscape_brands.chunks(BATCH) {
                    let mut insert =
                        QueryBuilder::<$db>::new("INSERT INTO landscape_brands (landscape_id, brand_id) ");
                    insert.push_values(chunk, |mut row, lb| {
                        row.push_bind(lb.landscape_id).push_bind(lb.brand_id);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in dump.snapshots.chunks(BATCH) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO snapshots (guild_id, brand_id, platform, series, day, value,
                             logged_by, logged_at, source, replaced_value) ",
                    );
                    insert.push_values(chunk, |mut row, s| {
                        row.push_bind(s.guild_id)
                            .push_bind(s.brand_id)
                            .push_bind(s.platform.clone())
                            .push_bind(s.series.clone())
                            .push_bind(s.day)
                            .push_bind(s.value)
                            .push_bind(s.logged_by)
                            .push_bind(s.logged_at)
                            .push_bind(s.source.clone())
                            .push_bind(s.replaced_value);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in dump.digest_schedules.chunks(BATCH) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO digest_schedules (id, guild_id, channel_id, cron, timezone,
                             landscape, created_by, created_at, last_fire, failing) ",
                    );
                    insert.push_values(chunk, |mut row, s| {
                        row.push_bind(s.id)
                            .push_bind(s.guild_id)
                            .push_bind(s.channel_id)
                            .push_bind(s.cron.clone())
                            .push_bind(s.timezone.clone())
                            .push_bind(s.landscape.clone())
                            .push_bind(s.created_by)
                            .push_bind(s.created_at)
                            .push_bind(s.last_fire)
                            .push_bind(s.failing.clone());
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in dump.digest_runs.chunks(BATCH) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO digest_runs (schedule_id, scheduled_at, state, claimed_at, detail) ",
                    );
                    insert.push_values(chunk, |mut row, r| {
                        row.push_bind(r.schedule_id)
                            .push_bind(r.scheduled_at)
                            .push_bind(r.state.clone())
                            .push_bind(r.claimed_at)
                            .push_bind(r.detail.clone());
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                // 16 and 11 columns: a batch of 1,000 stays within both backends' parameters.
                for chunk in dump.tracked_accounts.chunks(BATCH) {
                    let mut insert = QueryBuilder::<$db>::new(format!(
                        "INSERT INTO tracked_accounts ({TRACKED_COLUMNS}) "
                    ));
                    insert.push_values(chunk, |mut row, t| {
                        row.push_bind(t.id)
                            .push_bind(t.guild_id)
                            .push_bind(t.brand_id)
                            .push_bind(t.network.clone())
                            .push_bind(t.account.clone())
                            .push_bind(t.handle.clone())
                            .push_bind(t.display_name.clone())
                            .push_bind(t.link.clone())
                            .push_bind(t.followers)
                            .push_bind(t.added_by)
                            .push_bind(t.added_at)
                            .push_bind(t.last_success)
                            .push_bind(t.last_failure)
                            .push_bind(t.failure.clone())
                            .push_bind(t.next_poll)
                            .push_bind(t.claimed_until);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in dump.collected_posts.chunks(BATCH) {
                    let mut insert = QueryBuilder::<$db>::new(format!(
                        "INSERT INTO collected_posts ({POST_COLUMNS}) "
                    ));
                    insert.push_values(chunk, |mut row, p| {
                        row.push_bind(p.guild_id)
                            .push_bind(p.brand_id)
                            .push_bind(p.network.clone())
                            .push_bind(p.post_id.clone())
                            .push_bind(p.link.clone())
                            .push_bind(p.published)
                            .push_bind(p.day)
                            .push_bind(p.applause)
                            .push_bind(p.conversation)
                            .push_bind(p.amplification)
                            .push_bind(p.last_seen);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in dump.alert_rules.chunks(BATCH) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO alert_rules (id, guild_id, brand_id, channel_id, metric, kind,
                             direction, level, role_id, cooldown_hours, created_by, created_at,
                             last_fired, failing, scope) ",
                    );
                    insert.push_values(chunk, |mut row, r| {
                        row.push_bind(r.id)
                            .push_bind(r.guild_id)
                            .push_bind(r.brand_id)
                            .push_bind(r.channel_id)
                            .push_bind(r.metric.clone())
                            .push_bind(r.kind.clone())
                            .push_bind(r.direction.clone())
                            .push_bind(r.level)
                            .push_bind(r.role_id)
                            .push_bind(r.cooldown_hours)
                            .push_bind(r.created_by)
                            .push_bind(r.created_at)
                            .push_bind(r.last_fired)
                            .push_bind(r.failing.clone())
                            .push_bind(r.scope.clone());
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in dump.alert_events.chunks(BATCH) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO alert_events (rule_id, day, state, claimed_at, message, post_id) ",
                    );
                    insert.push_values(chunk, |mut row, e| {
                        row.push_bind(e.rule_id)
                            .push_bind(e.day)
                            .push_bind(e.state.clone())
                            .push_bind(e.claimed_at)
                            .push_bind(e.message.clone())
                            .push_bind(e.post_id.clone());
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in dump.goals.chunks(BATCH) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO goals (id, guild_id, brand_id, channel_id, metric, start_day,
                             start_value, target, deadline, created_by, created_at) ",
                    );
                    insert.push_values(chunk, |mut row, g| {
                        row.push_bind(g.id)
                            .push_bind(g.guild_id)
                            .push_bind(g.brand_id)
                            .push_bind(g.channel_id)
                            .push_bind(g.metric.clone())
                            .push_bind(g.start_day)
                            .push_bind(g.start_value)
                            .push_bind(g.target)
                            .push_bind(g.deadline)
                            .push_bind(g.created_by)
                            .push_bind(g.created_at);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in dump.goal_events.chunks(BATCH) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO goal_events (goal_id, kind, state, claimed_at, message) ",
                    );
                    insert.push_values(chunk, |mut row, e| {
                        row.push_bind(e.goal_id)
                            .push_bind(e.kind.clone())
                            .push_bind(e.state.clone())
                            .push_bind(e.claimed_at)
                            .push_bind(e.message.clone());
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                Self::after_copy(&mut tx).await?;
                let counts = counts(sqlx::query_as(COUNTS).fetch_all(&mut *tx).await?);
                check_counts(dump, &counts)?;
                tx.commit().await?;
                Ok(counts)
            }
        }
    };
}

for_each_backend!(impl_transfer);
