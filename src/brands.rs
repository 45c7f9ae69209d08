//! `/brand`: the brands a server tracks, whether each is a competitor, and the landscapes
//! (named sets of brands compared together) each belongs to.
//!
//! Removing a brand deletes its stored numbers, so it asks for confirmation first and says how
//! many values would go; a command is the confirmation (`confirm:true`) so that the console and
//! Discord work alike.

use crate::command::{CommandSpec, Embed, Field, Kind, OptionSpec, Options, Reply};
use crate::error::{Result, UserError};
use crate::handler;
use crate::numbers::{plural, thousands};
use crate::services::{Command, Context};

/// `/brand` and its subcommands.
pub fn command() -> Command {
    let name = || OptionSpec::brand("name", "The brand").required();
    Command::group(
        "brand",
        "The brands this server tracks and the landscapes they are compared in",
        vec![
            (
                CommandSpec {
                    name: "add",
                    description: "Add a brand, or put it in a landscape or mark it a competitor",
                    options: vec![
                        OptionSpec::new("name", "The brand's name", Kind::Name).required(),
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
                handler!(add),
            ),
            (
                CommandSpec {
                    name: "list",
                    description: "List the brands, their landscapes and how much data each has",
                    ..CommandSpec::default()
                },
                handler!(list),
            ),
            (
                CommandSpec {
                    name: "rename",
                    description: "Rename a brand, keeping its data",
                    options: vec![
                        name(),
                        OptionSpec::new("to", "The new name", Kind::Name).required(),
                    ],
                    manages_data: true,
                    ..CommandSpec::default()
                },
                handler!(rename),
            ),
            (
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
                handler!(remove),
            ),
        ],
    )
}

/// Another brand whose name is one or two typing slips from `name` (case, accents, spacing and
/// punctuation aside), if any: "Cafe Co" for "Café ☕ Co".
pub fn lookalike<'a>(name: &str, others: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let folded = fold(name);
    if folded.len() < 4 {
        return None;
    }
    others
        .filter(|other| !other.trim().eq_ignore_ascii_case(name.trim()))
        .map(|other| (edit_distance(&folded, &fold(other)), other))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, other)| other)
}

/// Letters and digits only, lowercased, with common Latin accents removed.
fn fold(name: &str) -> Vec<char> {
    name.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            c => c,
        })
        .collect()
}

/// Levenshtein distance: insertions, deletions and substitutions.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// `/brand add name [competitor] [landscape]`
pub async fn add(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let name = options.text("name").unwrap_or_default();
    let landscape = options.text("landscape");
    let competitor = options.boolean("competitor");
    let (brand, created) = ctx
        .store
        .add_brand(ctx.guild_id, name, competitor, landscape, ctx.now)
        .await?;
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
pub async fn list(ctx: &Context<'_>, _: &Options) -> Result<Reply> {
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
                "This removes {} and its {} for good. To go ahead: `/brand remove name:\"{}\" confirm:true`",
                brand.name,
                plural(values as usize, "stored value", "stored values"),
                brand.name
            ),
            ephemeral: true,
            ..Reply::default()
        });
    }
    let removed = ctx.store.remove_brand(ctx.guild_id, &brand).await?;
    Ok(Reply::text(format!(
        "Removed {} and its {}.",
        brand.name,
        plural(removed as usize, "stored value", "stored values")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookalike_is_found_across_accents_case_and_small_typos() {
        let brands = ["Café ☕ Co", "Ballet West", "Joffrey"];
        assert_eq!(
            lookalike("Cafe Co", brands.iter().copied()),
            Some("Café ☕ Co")
        );
        assert_eq!(
            lookalike("Balet West", brands.iter().copied()),
            Some("Ballet West")
        );
        assert_eq!(lookalike("Houston Ballet", brands.iter().copied()), None);
        assert_eq!(
            lookalike("ballet west", brands.iter().copied()),
            None,
            "the same brand"
        );
        assert_eq!(
            lookalike("Acm", ["Acme"].into_iter()),
            None,
            "too short to guess"
        );
    }
}
