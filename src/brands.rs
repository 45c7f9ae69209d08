//! `/brand`: the brands a server tracks, whether each is a competitor, and the landscapes
//! (named sets of brands compared together) each belongs to.
//!
//! Removing a brand deletes its stored numbers, so it asks for confirmation first and says how
//! many values would go; a command is the confirmation (`confirm:true`) so that the console and
//! Discord work alike.

use crate::command::{CommandSpec, Embed, Field, Kind, OptionSpec, Options, Reply};
use crate::dispatcher::Context;
use crate::error::{Result, UserError};
use crate::numbers::thousands;

pub fn command() -> CommandSpec {
    let name = || OptionSpec::brand("name", "The brand").required();
    CommandSpec {
        name: "brand",
        description: "The brands this server tracks and the landscapes they are compared in",
        subcommands: vec![
            CommandSpec {
                name: "add",
                description: "Add a brand, or put it in a landscape or mark it a competitor",
                options: vec![
                    OptionSpec::new("name", "The brand's name", Kind::Text { max_len: 100 })
                        .required(),
                    OptionSpec::new(
                        "competitor",
                        "Whether it is a competitor's brand",
                        Kind::Boolean,
                    ),
                    OptionSpec::landscape("A landscape to put it in (created if new)"),
                ],
                manages_data: true,
                ..CommandSpec::default()
            },
            CommandSpec {
                name: "list",
                description: "List the brands, their landscapes and how much data each has",
                ..CommandSpec::default()
            },
            CommandSpec {
                name: "rename",
                description: "Rename a brand, keeping its data",
                options: vec![
                    name(),
                    OptionSpec::new("to", "The new name", Kind::Text { max_len: 100 }).required(),
                ],
                manages_data: true,
                ..CommandSpec::default()
            },
            CommandSpec {
                name: "remove",
                description: "Remove a brand and its data, or take it out of one landscape",
                options: vec![
                    name(),
                    OptionSpec::landscape("Only take the brand out of this landscape"),
                    OptionSpec::new(
                        "confirm",
                        "true to remove the brand and all its data",
                        Kind::Boolean,
                    ),
                ],
                manages_data: true,
                ..CommandSpec::default()
            },
        ],
        ..CommandSpec::default()
    }
}

/// `/brand add name [competitor] [landscape]`
pub async fn add(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let name = options.text("name").unwrap_or_default();
    let landscape = options.text("landscape");
    let competitor = options.boolean("competitor");
    let created = ctx
        .store
        .add_brand(ctx.guild_id, name, competitor, landscape, ctx.now)
        .await?;
    let brand = ctx.brand(name).await?;
    let mut text = if created {
        format!("Added {}", brand.name)
    } else {
        format!("Updated {}", brand.name)
    };
    if brand.competitor {
        text.push_str(", a competitor");
    }
    if let Some(landscape) = landscape {
        text.push_str(&format!(", in landscape {}", landscape.trim()));
    }
    text.push('.');
    Ok(Reply::text(text))
}

/// `/brand list`
pub async fn list(ctx: &Context<'_>) -> Result<Reply> {
    let listing = ctx.store.brand_listing(ctx.guild_id).await?;
    if listing.is_empty() {
        return Ok(Reply::text(
            "No brands yet: `/brand add name:...`, or name a brand in any metric command."
                .to_string(),
        ));
    }
    let fields = listing
        .into_iter()
        .map(|entry| {
            let mut name = entry.brand.name;
            if entry.brand.competitor {
                name.push_str(" (competitor)");
            }
            let landscapes = if entry.landscapes.is_empty() {
                "no landscape".to_string()
            } else {
                entry.landscapes.join(", ")
            };
            Field::inline(
                name,
                format!(
                    "{landscapes} · {} value{}",
                    thousands(entry.snapshots),
                    if entry.snapshots == 1 { "" } else { "s" }
                ),
            )
        })
        .collect();
    Ok(Reply::embed(Embed {
        title: "Brands".to_string(),
        fields,
        ..Embed::default()
    }))
}

/// `/brand rename name to`
pub async fn rename(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let brand = ctx.brand(options.text("name").unwrap_or_default()).await?;
    let to = options.text("to").unwrap_or_default();
    ctx.store.rename_brand(ctx.guild_id, &brand, to).await?;
    Ok(Reply::text(format!(
        "Renamed {} to {}.",
        brand.name,
        to.trim()
    )))
}

/// `/brand remove name [landscape] [confirm]`
pub async fn remove(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let brand = ctx.brand(options.text("name").unwrap_or_default()).await?;
    if let Some(landscape) = options.text("landscape") {
        if !ctx
            .store
            .leave_landscape(ctx.guild_id, &brand, landscape)
            .await?
        {
            return Err(UserError::NotInLandscape {
                brand: brand.name,
                landscape: landscape.trim().to_string(),
            }
            .into());
        }
        return Ok(Reply::text(format!(
            "Took {} out of landscape {}; its data stays.",
            brand.name,
            landscape.trim()
        )));
    }
    if options.boolean("confirm") != Some(true) {
        let values = ctx.store.snapshot_count(ctx.guild_id, &brand).await?;
        return Ok(Reply {
            content: format!(
                "This removes {} and its {} stored values for good. To go ahead: `/brand remove name:\"{}\" confirm:true`",
                brand.name,
                thousands(values),
                brand.name
            ),
            ephemeral: true,
            ..Reply::default()
        });
    }
    let removed = ctx.store.remove_brand(ctx.guild_id, &brand).await?;
    Ok(Reply::text(format!(
        "Removed {} and its {} stored values.",
        brand.name,
        thousands(removed as i64)
    )))
}
