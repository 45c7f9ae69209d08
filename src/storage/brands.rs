//! Brands and landscapes: the [`Brands`] queries, written once for both backends.
//!
//! A brand is found by its key (trimmed, lowercased name) within its guild; a landscape is a
//! named set of a guild's brands and disappears with its last brand.

use chrono::{DateTime, Utc};
use sqlx::Transaction;

use super::{
    Dialects, Postgres, Setup, Sqlite, brand_key, findable, for_each_backend, guild, instant,
    retrying, storable,
};
use crate::error::{Result, UserError};

/// A guild's brand.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Brand {
    pub id: i64,
    pub name: String,
    pub competitor: bool,
}

/// A brand as `/brand list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandListing {
    pub brand: Brand,
    pub landscapes: Vec<String>,
    pub snapshots: i64,
}

/// Brands and the landscapes they sit in.
#[async_trait::async_trait]
pub trait Brands: Send + Sync {
    /// The guild's brand called `name` (any case).
    async fn brand(&self, guild_id: u64, name: &str) -> Result<Option<Brand>>;

    /// Every brand of the guild, by name.
    async fn brands(&self, guild_id: u64) -> Result<Vec<Brand>>;

    /// Adds a brand, or updates its competitor flag, and puts it in `landscape` (created if
    /// new). Returns the brand as committed and whether it was new.
    async fn add_brand(
        &self,
        guild_id: u64,
        name: &str,
        competitor: Option<bool>,
        landscape: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(Brand, bool)>;

    /// Every brand with its landscapes and how many values are stored for it.
    async fn brand_listing(&self, guild_id: u64) -> Result<Vec<BrandListing>>;

    /// Renames a brand; refuses a name another brand of the guild already has.
    async fn rename_brand(&self, guild_id: u64, brand: &Brand, to: &str) -> Result<()>;

    /// How many values are stored for a brand.
    async fn snapshot_count(&self, guild_id: u64, brand: &Brand) -> Result<i64>;

    /// Removes a brand with all its values; returns how many values went with it.
    async fn remove_brand(&self, guild_id: u64, brand: &Brand) -> Result<u64>;

    /// Takes a brand out of a landscape; returns whether it was in it.
    async fn leave_landscape(&self, guild_id: u64, brand: &Brand, landscape: &str) -> Result<bool>;

    /// The brands of a landscape, by name; `None` if the guild has no such landscape.
    async fn landscape(&self, guild_id: u64, name: &str) -> Result<Option<(String, Vec<Brand>)>>;

    /// The brands that share a landscape with `brand`: its competitive set.
    async fn peers(&self, guild_id: u64, brand: &Brand) -> Result<Vec<Brand>>;
}

/// Each brand with its landscapes' names in name order, joined by a unit separator (no name typed in Discord
/// contains one) and its number of values.
const BRAND_LISTING: Dialects = Dialects {
    sqlite: "SELECT b.id, b.name, b.competitor,
            (SELECT group_concat(name, char(31)) FROM (SELECT l.name FROM landscape_brands lb
               JOIN landscapes l ON l.id = lb.landscape_id WHERE lb.brand_id = b.id
               ORDER BY l.name_key)),
            (SELECT COUNT(*) FROM snapshots s WHERE s.guild_id = b.guild_id AND s.brand_id = b.id)
        FROM brands b WHERE b.guild_id = $1 ORDER BY b.name_key",
    postgres: "SELECT b.id, b.name, b.competitor,
            (SELECT string_agg(l.name, chr(31) ORDER BY l.name_key) FROM landscape_brands lb
               JOIN landscapes l ON l.id = lb.landscape_id WHERE lb.brand_id = b.id),
            (SELECT COUNT(*) FROM snapshots s WHERE s.guild_id = b.guild_id AND s.brand_id = b.id)
        FROM brands b WHERE b.guild_id = $1 ORDER BY b.name_key",
};

macro_rules! impl_brands {
    ($backend:ident, $db:ty) => {
        impl $backend {
            pub(super) async fn find_brand(
                tx: &mut Transaction<'_, $db>,
                guild: i64,
                name: &str,
            ) -> Result<Option<(i64, String)>> {
                Ok(sqlx::query_as("SELECT id, name FROM brands WHERE guild_id = $1 AND name_key = $2")
                    .bind(guild)
                    .bind(brand_key(name))
                    .fetch_optional(&mut **tx)
                    .await?)
            }

            /// Creates a brand; `None` if another process created one of that name meanwhile
            /// (PostgreSQL runs such writes side by side; SQLite one after the other).
            pub(super) async fn create_brand(
                tx: &mut Transaction<'_, $db>,
                guild: i64,
                name: &str,
                at: DateTime<Utc>,
            ) -> Result<Option<i64>> {
                Ok(sqlx::query_scalar(
                    "INSERT INTO brands (guild_id, name, name_key, created_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (guild_id, name_key) DO NOTHING RETURNING id",
                )
                .bind(guild)
                .bind(name.trim())
                .bind(brand_key(name))
                .bind(instant(at))
                .fetch_optional(&mut **tx)
                .await?)
            }

            /// The brand's id, creating it if the guild has none of that name; and whether it
            /// was created.
            pub(super) async fn find_or_create_brand(
                tx: &mut Transaction<'_, $db>,
                guild: i64,
                name: &str,
                at: DateTime<Utc>,
            ) -> Result<(i64, bool)> {
                if let Some((id, _)) = Self::find_brand(tx, guild, name).await? {
                    return Ok((id, false));
                }
                if let Some(id) = Self::create_brand(tx, guild, name, at).await? {
                    return Ok((id, true));
                }
                let (id, _) = Self::find_brand(tx, guild, name)
                    .await?
                    .ok_or(sqlx::Error::RowNotFound)?;
                Ok((id, false))
            }

            /// Sets a brand's competitor flag, or puts it in a landscape (created if new).
            pub(super) async fn apply_setup(
                tx: &mut Transaction<'_, $db>,
                guild: i64,
                brand_id: i64,
                setup: &Setup,
            ) -> Result<()> {
                match setup {
                    Setup::Competitor(competitor) => {
                        sqlx::query("UPDATE brands SET competitor = $1 WHERE id = $2 AND guild_id = $3")
                            .bind(competitor)
                            .bind(brand_id)
                            .bind(guild)
                            .execute(&mut **tx)
                            .await?;
                    }
                    Setup::Landscape(landscape) => {
                        storable(landscape)?;
                        sqlx::query(
                            "INSERT INTO landscapes (guild_id, name, name_key) VALUES ($1, $2, $3)
                             ON CONFLICT (guild_id, name_key) DO NOTHING",
                        )
                        .bind(guild)
                        .bind(landscape.trim())
                        .bind(brand_key(landscape))
                        .execute(&mut **tx)
                        .await?;
                        sqlx::query(
                            "INSERT INTO landscape_brands (landscape_id, brand_id)
                             SELECT id, $1 FROM landscapes WHERE guild_id = $2 AND name_key = $3
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(brand_id)
                        .bind(guild)
                        .bind(brand_key(landscape))
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                Ok(())
            }

            /// A landscape whose last brand left it is gone too.
            async fn drop_empty_landscapes(
                tx: &mut Transaction<'_, $db>,
                guild: i64,
            ) -> Result<()> {
                sqlx::query(
                    "DELETE FROM landscapes WHERE guild_id = $1
                       AND NOT EXISTS (SELECT 1 FROM landscape_brands WHERE landscape_id = landscapes.id)",
                )
                .bind(guild)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl Brands for $backend {
            async fn brand(&self, guild_id: u64, name: &str) -> Result<Option<Brand>> {
                if !findable(name) {
                    return Ok(None);
                }
                Ok(sqlx::query_as(
                    "SELECT id, name, competitor FROM brands WHERE guild_id = $1 AND name_key = $2",
                )
                .bind(guild(guild_id))
                .bind(brand_key(name))
                .fetch_optional(self.reader())
                .await?)
            }

            async fn brands(&self, guild_id: u64) -> Result<Vec<Brand>> {
                Ok(sqlx::query_as(
                    "SELECT id, name, competitor FROM brands WHERE guild_id = $1 ORDER BY name_key",
                )
                .bind(guild(guild_id))
                .fetch_all(self.reader())
                .await?)
            }

            async fn add_brand(
                &self,
                guild_id: u64,
                name: &str,
                competitor: Option<bool>,
                landscape: Option<&str>,
                at: DateTime<Utc>,
            ) -> Result<(Brand, bool)> {
                storable(name)?;
                landscape.map(storable).transpose()?;
                let guild = guild(guild_id);
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let (brand_id, created) =
                        Self::find_or_create_brand(&mut tx, guild, name, at).await?;
                    if let Some(competitor) = competitor {
                        Self::apply_setup(&mut tx, guild, brand_id, &Setup::Competitor(competitor))
                            .await?;
                    }
                    if let Some(landscape) = landscape {
                        let landscape = Setup::Landscape(landscape.to_string());
                        Self::apply_setup(&mut tx, guild, brand_id, &landscape).await?;
                    }
                    // Read inside the transaction: once it is committed, the reply must not
                    // depend on another read that could fail.
                    let brand: Brand =
                        sqlx::query_as("SELECT id, name, competitor FROM brands WHERE id = $1")
                            .bind(brand_id)
                            .fetch_one(&mut *tx)
                            .await?;
                    tx.commit().await?;
                    Ok((brand, created))
                })
            }

            async fn brand_listing(&self, guild_id: u64) -> Result<Vec<BrandListing>> {
                let rows: Vec<(i64, String, bool, Option<String>, i64)> =
                    sqlx::query_as(Self::pick(&BRAND_LISTING))
                        .bind(guild(guild_id))
                        .fetch_all(self.reader())
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, name, competitor, landscapes, snapshots)| BrandListing {
                        brand: Brand { id, name, competitor },
                        landscapes: landscapes
                            .map(|l| l.split('\u{1f}').map(str::to_string).collect())
                            .unwrap_or_default(),
                        snapshots,
                    })
                    .collect())
            }

            async fn rename_brand(&self, guild_id: u64, brand: &Brand, to: &str) -> Result<()> {
                storable(to)?;
                let guild = guild(guild_id);
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    if let Some((id, existing)) = Self::find_brand(&mut tx, guild, to).await?
                        && id != brand.id
                    {
                        return Err(UserError::BrandExists { name: existing }.into());
                    }
                    sqlx::query("UPDATE brands SET name = $1, name_key = $2 WHERE id = $3 AND guild_id = $4")
                        .bind(to.trim())
                        .bind(brand_key(to))
                        .bind(brand.id)
                        .bind(guild)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                })
            }

            async fn snapshot_count(&self, guild_id: u64, brand: &Brand) -> Result<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM snapshots WHERE guild_id = $1 AND brand_id = $2",
                )
                .bind(guild(guild_id))
                .bind(brand.id)
                .fetch_one(self.reader())
                .await?)
            }

            async fn remove_brand(&self, guild_id: u64, brand: &Brand) -> Result<u64> {
                let guild = guild(guild_id);
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let removed = sqlx::query("DELETE FROM snapshots WHERE guild_id = $1 AND brand_id = $2")
                        .bind(guild)
                        .bind(brand.id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    sqlx::query("DELETE FROM brands WHERE guild_id = $1 AND id = $2")
                        .bind(guild)
                        .bind(brand.id)
                        .execute(&mut *tx)
                        .await?;
                    Self::drop_empty_landscapes(&mut tx, guild).await?;
                    tx.commit().await?;
                    Ok(removed)
                })
            }

            async fn leave_landscape(
                &self,
                guild_id: u64,
                brand: &Brand,
                landscape: &str,
            ) -> Result<bool> {
                if !findable(landscape) {
                    return Ok(false);
                }
                let guild = guild(guild_id);
                retrying!(self, async {
                    let mut tx = self.begin_write().await?;
                    let left = sqlx::query(
                        "DELETE FROM landscape_brands WHERE brand_id = $1
                           AND landscape_id IN (SELECT id FROM landscapes WHERE guild_id = $2 AND name_key = $3)",
                    )
                    .bind(brand.id)
                    .bind(guild)
                    .bind(brand_key(landscape))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    Self::drop_empty_landscapes(&mut tx, guild).await?;
                    tx.commit().await?;
                    Ok(left > 0)
                })
            }

            async fn landscape(
                &self,
                guild_id: u64,
                name: &str,
            ) -> Result<Option<(String, Vec<Brand>)>> {
                if !findable(name) {
                    return Ok(None);
                }
                // One statement (each is a round trip): the landscape's name with each of its
                // brands, or one row of NULLs beside the name when it has none.
                let rows: Vec<(String, Option<i64>, Option<String>, Option<bool>)> =
                    sqlx::query_as(
                        "SELECT l.name, b.id, b.name, b.competitor FROM landscapes l
                         LEFT JOIN landscape_brands lb ON lb.landscape_id = l.id
                         LEFT JOIN brands b ON b.id = lb.brand_id AND b.guild_id = l.guild_id
                         WHERE l.guild_id = $1 AND l.name_key = $2 ORDER BY b.name_key",
                    )
                    .bind(guild(guild_id))
                    .bind(brand_key(name))
                    .fetch_all(self.reader())
                    .await?;
                let Some((name, ..)) = rows.first() else {
                    return Ok(None);
                };
                let name = name.clone();
                let brands = rows
                    .into_iter()
                    .filter_map(|(_, id, name, competitor)| {
                        Some(Brand {
                            id: id?,
                            name: name?,
                            competitor: competitor?,
                        })
                    })
                    .collect();
                Ok(Some((name, brands)))
            }

            async fn peers(&self, guild_id: u64, brand: &Brand) -> Result<Vec<Brand>> {
                Ok(sqlx::query_as(
                    "SELECT DISTINCT b.id, b.name, b.competitor, b.name_key FROM landscape_brands mine
                       JOIN landscape_brands theirs ON theirs.landscape_id = mine.landscape_id
                       JOIN brands b ON b.id = theirs.brand_id
                     WHERE mine.brand_id = $1 AND b.id <> $1 AND b.guild_id = $2 ORDER BY b.name_key",
                )
                .bind(brand.id)
                .bind(guild(guild_id))
                .fetch_all(self.reader())
                .await?)
            }
        }
    };
}

for_each_backend!(impl_brands);
