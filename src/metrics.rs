//! The metric commands: one per enabled plugin, each the plugin's own options plus the `brand`,
//! `platform` and `date` every metric shares.
//!
//! Running one asks the plugin for its result and, when a brand is named, stores the inputs the
//! plugin declares as a snapshot for that brand, platform and day, then words the reply with
//! what was stored and what it replaced. The plugin decides the numbers; this module decides
//! what happens to them.

use chrono::NaiveDate;

use crate::command::{
    CommandSpec, DEFAULT_PLATFORM, Embed, Field, Kind, OptionSpec, Options, PLATFORMS, Reply,
};
use crate::error::{Result, UserError};
use crate::handler;
use crate::plugin::{Calculation, History, Plugin};
use crate::plugins::Registry;
use crate::services::{Command, Context};
use crate::storage::{Logged, NewSnapshot, Source};

/// A command for each enabled plugin.
pub fn commands(registry: &Registry) -> Vec<Command> {
    registry
        .plugins()
        .map(|plugin| Command::new(metric_command(plugin), handler!(run)))
        .collect()
}

/// A metric plugin's command with the options every metric shares.
fn metric_command(plugin: &dyn Plugin) -> CommandSpec {
    let mut spec = plugin.command();
    spec.options.extend([
        OptionSpec::brand(
            "brand",
            "Store the numbers for this brand (leave out to only calculate)",
        ),
        OptionSpec::new(
            "platform",
            "Social platform (default: other)",
            Kind::Choice(PLATFORMS.to_vec()),
        ),
        OptionSpec::new(
            "date",
            "Day the numbers are for, YYYY-MM-DD (default: today)",
            Kind::Date,
        ),
    ]);
    spec
}

/// A metric command: the plugin's result, stored as a snapshot when a brand is named.
async fn run(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let plugin = ctx
        .registry
        .by_name(ctx.command)
        .ok_or_else(|| UserError::UnknownCommand {
            name: ctx.command.to_string(),
        })?;
    let today = ctx.today;
    let day = options.date("date").unwrap_or(today);
    if day > today {
        return Err(UserError::InvalidOption {
            option: "date",
            accepts: format!("a date written YYYY-MM-DD, today ({today}) or earlier"),
        }
        .into());
    }
    let platform_given = options.text("platform").is_some();
    let platform = options.text("platform").unwrap_or(DEFAULT_PLATFORM);
    // Checked before anything is written: a plugin fails on its options alone.
    let checked = plugin.calculate(options, &History::default())?;
    let Some(brand) = options.text("brand") else {
        return Ok(metric_reply(checked, None, None, platform_given));
    };
    // What the new value is compared with lies before its day or with other brands, so the
    // write cannot change it: both go to the database at once, one round trip of waiting
    // instead of two.
    let needs = plugin.needs();
    let history = ctx
        .store
        .history(ctx.guild_id, brand, platform, day, &needs);
    let snapshot = NewSnapshot {
        guild_id: ctx.guild_id,
        brand,
        platform,
        day,
        values: &checked.store,
        logged_by: ctx.user_id,
        logged_at: ctx.now,
        source: Source::Command,
    };
    let log = async {
        if snapshot.values.is_empty() {
            return Ok(None);
        }
        let logged = ctx
            .store
            .log(&snapshot, ctx.settings.brands.auto_create)
            .await?;
        Ok::<_, crate::error::Error>(Some(logged))
    };
    let (history, logged) = tokio::join!(history, log);
    let logged = logged?;
    // The snapshot is committed by now: a failed read of what it is compared with leaves the
    // comparison out rather than saying nothing was stored.
    let calculation = match history {
        Ok(history) => plugin.calculate(options, &history).unwrap_or(checked),
        Err(err) if logged.is_some() => {
            tracing::warn!(error = %err, "reading a brand's history failed");
            checked
        }
        Err(err) => return Err(err),
    };
    // A brand created by a typo splits the data; point at the name that was probably meant.
    // The snapshot is committed by now, so this is best effort: a failed read must not turn the
    // reply into "nothing was stored".
    let lookalike = match &logged {
        Some(logged) if logged.brand_created => match ctx.store.brands(ctx.guild_id).await {
            Ok(brands) => {
                crate::brands::lookalike(&logged.brand, brands.iter().map(|b| b.name.as_str()))
                    .map(str::to_string)
            }
            Err(err) => {
                tracing::warn!(error = %err, "reading brands for a lookalike failed");
                None
            }
        },
        _ => None,
    };
    // Only today's or yesterday's numbers can be news (see `alerts::judge`).
    if let (Some(logged), true) = (&logged, day >= today - chrono::Duration::days(1)) {
        crate::alerts::after_new_data(ctx, Some(logged.brand_id)).await;
    }
    Ok(metric_reply(
        calculation,
        logged.map(|l| (l, platform, day)),
        lookalike,
        platform_given,
    ))
}

fn metric_reply(
    calculation: Calculation,
    logged: Option<(Logged, &str, NaiveDate)>,
    lookalike: Option<String>,
    platform_given: bool,
) -> Reply {
    let mut description = format!("`{}`", calculation.formula);
    for note in &calculation.notes {
        description.push_str(&format!("\n⚠️ {note}"));
    }
    let mut fields = calculation.fields;
    if let Some((logged, platform, day)) = logged {
        let mut stored = format!("{} · {platform} · {day}", logged.brand);
        match (logged.brand_created, lookalike) {
            (true, Some(other)) => stored.push_str(&format!(
                " (new brand: did you mean {other}? `/brand rename` or `/brand remove` mends a typo)"
            )),
            (true, None) => stored.push_str(" (new brand)"),
            _ => {}
        }
        if !logged.replaced.is_empty() {
            let earlier: Vec<String> = logged
                .replaced
                .iter()
                .map(|(series, value)| format!("{series} {}", crate::numbers::thousands(*value)))
                .collect();
            stored.push_str(&format!("; replaced the earlier {}", earlier.join(", ")));
        }
        if !platform_given {
            stored.push_str(&format!(
                "\nNo `platform` given: stored as {DEFAULT_PLATFORM}, which counts in the brand's all-platform totals."
            ));
        }
        fields.push(Field::new("Stored", stored));
    }
    Reply::embed(Embed {
        title: calculation.headline,
        description,
        fields,
        footer: None,
    })
}
