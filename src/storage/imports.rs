//! Imports: many checked rows stored in one transaction, all or none ([`Imports`]), written once
//! for both backends. The rows go to a staging table first (each backend fills it its fastest
//! way, see `stage` in `sqlite.rs` and `postgres.rs`) before the write transaction begins, then
//! into `snapshots` in one statement: only finding the brands and that statement hold SQLite's
//! write lock, which another process waits for.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Dialects, Postgres, Sqlite, for_each_backend, guild, instant, retrying, storable};
use crate::error::{Error, Result, UserError};

/// Checked rows to import: each brand's name once, and rows that point at it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportBatch {
    /// Brand names as first written.
    pub brands: Vec<String>,
    pub rows: Vec<ImportRow>,
    /// The brands' setup: competitor flags and landscape memberships.
    pub setup: Vec<(usize, Setup)>,
}

/// One part of a brand's setup, as an export carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Setup {
    Competitor(bool),
    /// A landscape the brand is in (created if new); memberships are only ever added.
    Landscape(String),
}

/// One checked row of an import. No two rows of a batch share a key.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub day: NaiveDate,
    /// Index into the batch's `brands`.
    pub brand: usize,
    pub platform: &'static str,
    pub series: &'static str,
    pub value: i64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Rows that replaced a different value already stored.
    pub replaced: u64,
    /// Rows whose value was already stored: left as they were.
    pub unchanged: u64,
    pub brands_created: Vec<String>,
}

/// Storing imported rows.
#[async_trait::async_trait]
pub trait Imports: Send + Sync {
    /// Stores checked rows in one transaction, creating their brands: all of them or, on any
    /// failure, none.
    async fn import(
        &self,
        guild_id: u64,
        batch: &ImportBatch,
        logged_by: u64,
        at: DateTime<Utc>,
        auto_create: bool,
    ) -> Result<Imported>;
}

/// How many staged rows meet a stored value, and how many of those hold the same value. In SQLite, CROSS JOIN fixes the loop order:
/// each staged row looks up its one snapshot. Left to itself the planner, with no statistics
/// on the staging table, scans the guild's snapshots and the staging table inside that, which
/// is quadratic.
const IMPORT_EXISTING: Dialects = Dialects {
    sqlite: "SELECT COUNT(*), COALESCE(SUM(CASE WHEN s.value = i.value THEN 1 ELSE 0 END), 0)
        FROM import_rows i CROSS JOIN import_brands b ON b.brand = i.brand
        CROSS JOIN snapshots s ON s.guild_id = $1 AND s.brand_id = b.brand_id
         AND s.day = i.day AND s.series = i.series AND s.platform = i.platform",
    postgres:
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN s.value = i.value THEN 1 ELSE 0 END), 0)::BIGINT
        FROM import_rows i JOIN import_brands b ON b.brand = i.brand
        JOIN snapshots s ON s.guild_id = $1 AND s.brand_id = b.brand_id
         AND s.day = i.day AND s.series = i.series AND s.platform = i.platform",
};

/// Moves the staged rows into `snapshots` in one statement: a tenth of the time of the same
/// upsert as many multi-row statements. A value already stored is left as it is, with who
/// logged it and when. PostgreSQL takes them in key order, so that two imports
/// of the same keys lock them in the same order and cannot deadlock each other.
const IMPORT_UPSERT: Dialects = Dialects {
    sqlite: "INSERT INTO snapshots
            (guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source)
        SELECT $1, b.brand_id, i.platform, i.series, i.day, i.value, $2, $3, 'import'
        FROM import_rows i CROSS JOIN import_brands b ON b.brand = i.brand WHERE true
        ON CONFLICT (guild_id, brand_id, day, series, platform) DO UPDATE SET
            replaced_value = snapshots.value, value = excluded.value,
            logged_by = excluded.logged_by, logged_at = excluded.logged_at,
            source = excluded.source
        WHERE snapshots.value <> excluded.value",
    postgres: "INSERT INTO snapshots
            (guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source)
        SELECT $1, b.brand_id, i.platform, i.series, i.day, i.value, $2, $3, 'import'
        FROM import_rows i JOIN import_brands b ON b.brand = i.brand
        ORDER BY b.brand_id, i.day, i.series, i.platform
        ON CONFLICT (guild_id, brand_id, day, series, platform) DO UPDATE SET
            replaced_value = snapshots.value, value = excluded.value,
            logged_by = excluded.logged_by, logged_at = excluded.logged_at,
            source = excluded.source
        WHERE snapshots.value <> excluded.value",
};

macro_rules! impl_imports {
    ($backend:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl Imports for $backend {
            async fn import(
                &self,
                guild_id: u64,
                batch: &ImportBatch,
                logged_by: u64,
                at: DateTime<Utc>,
                auto_create: bool,
            ) -> Result<Imported> {
                for name in &batch.brands {
                    storable(name)?;
                }
                let guild = guild(guild_id);
                retrying!(self, async {
                    // Staged first, on the connection the write will use, so that the write
                    // lock is held only for what needs it.
                    let mut conn = self.writer().acquire().await?;
                    Self::stage(&mut conn, &batch.rows).await?;
                    let mut tx = Self::begin_write_on(&mut conn).await?;
                    // Every row was parsed, checked and staged before this: what follows is
                    // the least an all-or-nothing import must do while holding the write lock.
                    let locked = std::time::Instant::now();
                    let mut ids = Vec::with_capacity(batch.brands.len());
                    let mut brands_created = Vec::new();
                    for name in &batch.brands {
                        let id = match Self::find_brand(&mut tx, guild, name).await? {
                            Some((id, _)) => id,
                            None if auto_create => {
                                let (id, created) =
                                    Self::find_or_create_brand(&mut tx, guild, name, at).await?;
                                if created {
                                    brands_created.push(name.trim().to_string());
                                }
                                id
                            }
                            None => {
                                return Err(UserError::BrandNotCreated {
                                    name: name.trim().to_string(),
                                }
                                .into());
                            }
                        };
                        ids.push(id);
                    }
                    sqlx::query("DELETE FROM import_brands")
                        .execute(&mut *tx)
                        .await?;
                    for (place, id) in ids.iter().enumerate() {
                        sqlx::query("INSERT INTO import_brands (brand, brand_id) VALUES ($1, $2)")
                            .bind(place as i64)
                            .bind(*id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    let (existing, unchanged): (i64, i64) =
                        sqlx::query_as(Self::pick(&IMPORT_EXISTING))
                            .bind(guild)
                            .fetch_one(&mut *tx)
                            .await?;
                    sqlx::query(Self::pick(&IMPORT_UPSERT))
                        .bind(guild)
                        .bind(logged_by as i64)
                        .bind(instant(at))
                        .execute(&mut *tx)
                        .await?;
                    for (brand, setup) in &batch.setup {
                        let brand = ids.get(*brand).copied().ok_or_else(|| {
                            Error::Database(sqlx::Error::Protocol(
                                "a setup row names no brand".into(),
                            ))
                        })?;
                        Self::apply_setup(&mut tx, guild, brand, setup).await?;
                    }
                    tx.commit().await?;
                    tracing::debug!(
                        rows = batch.rows.len(),
                        held_ms = locked.elapsed().as_millis() as u64,
                        "an import committed; other writers waited at most this long for it"
                    );
                    // The staged rows go after the commit, outside the lock; the import is
                    // stored whether or not this works, and the next one clears them anyway.
                    if let Err(err) = sqlx::query("DELETE FROM import_rows")
                        .execute(&mut *conn)
                        .await
                    {
                        tracing::warn!(error = %err, "clearing an import's staged rows failed");
                    }
                    Ok(Imported {
                        replaced: (existing - unchanged) as u64,
                        unchanged: unchanged as u64,
                        brands_created,
                    })
                })
            }
        }
    };
}

for_each_backend!(impl_imports);
