//! Imports: many checked rows stored in one transaction, all or none ([`Imports`]), written once
//! for both backends. The rows go to a staging table first (each backend fills it its fastest
//! way, see `stage` in `sqlite.rs` and `postgres.rs`), then into `snapshots` in one statement.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Dialects, Postgres, Sqlite, for_each_backend, guild, instant, retrying, storable};
use crate::error::{Error, Result, UserError};

/// Checked rows to import: each brand's name once, and rows that point at it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportBatch {
    /// Brand names as first written.
    pub brands: Vec<String>,
    pub rows: Vec<ImportRow>,
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
    /// Rows that replaced a value already stored.
    pub replaced: u64,
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

/// How many staged rows replace a stored value. In SQLite, CROSS JOIN fixes the loop order:
/// each staged row looks up its one snapshot. Left to itself the planner, with no statistics
/// on the staging table, scans the guild's snapshots and the staging table inside that, which
/// is quadratic.
const IMPORT_REPLACED: Dialects = Dialects {
    sqlite: "SELECT COUNT(*) FROM import_rows i
        CROSS JOIN snapshots s ON s.guild_id = $1 AND s.brand_id = i.brand_id
         AND s.day = i.day AND s.series = i.series AND s.platform = i.platform",
    postgres: "SELECT COUNT(*) FROM import_rows i
        JOIN snapshots s ON s.guild_id = $1 AND s.brand_id = i.brand_id
         AND s.day = i.day AND s.series = i.series AND s.platform = i.platform",
};

/// Moves the staged rows into `snapshots` in one statement: a tenth of the time of the same
/// upsert as many multi-row statements. PostgreSQL takes them in key order, so that two imports
/// of the same keys lock them in the same order and cannot deadlock each other.
const IMPORT_UPSERT: Dialects = Dialects {
    sqlite: "INSERT INTO snapshots
            (guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source)
        SELECT $1, brand_id, platform, series, day, value, $2, $3, 'import'
        FROM import_rows WHERE true
        ON CONFLICT (guild_id, brand_id, day, series, platform) DO UPDATE SET
            replaced_value = snapshots.value, value = excluded.value,
            logged_by = excluded.logged_by, logged_at = excluded.logged_at,
            source = excluded.source",
    postgres: "INSERT INTO snapshots
            (guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source)
        SELECT $1, brand_id, platform, series, day, value, $2, $3, 'import'
        FROM import_rows ORDER BY brand_id, day, series, platform
        ON CONFLICT (guild_id, brand_id, day, series, platform) DO UPDATE SET
            replaced_value = snapshots.value, value = excluded.value,
            logged_by = excluded.logged_by, logged_at = excluded.logged_at,
            source = excluded.source",
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
                retrying!(async {
                    let mut tx = self.begin_write().await?;
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
                    let rows = batch
                        .rows
                        .iter()
                        .map(|row| {
                            let brand = ids.get(row.brand).copied().ok_or_else(|| {
                                Error::Database(sqlx::Error::Protocol(
                                    "an import row names no brand".into(),
                                ))
                            })?;
                            Ok((brand, row))
                        })
                        .collect::<Result<Vec<_>>>()?;
                    Self::stage(&mut tx, &rows).await?;
                    let replaced: i64 = sqlx::query_scalar(Self::pick(&IMPORT_REPLACED))
                        .bind(guild)
                        .fetch_one(&mut *tx)
                        .await?;
                    sqlx::query(Self::pick(&IMPORT_UPSERT))
                        .bind(guild)
                        .bind(logged_by as i64)
                        .bind(instant(at))
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM import_rows")
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(Imported {
                        replaced: replaced as u64,
                        brands_created,
                    })
                })
            }
        }
    };
}

for_each_backend!(impl_imports);
