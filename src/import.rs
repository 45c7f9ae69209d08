//! `/import` and `/export`: snapshots in and out as CSV, one value a row:
//! `date,brand,platform,metric,value`, where `metric` is a stored series as the plugins name
//! their inputs (`clicks`, `followers`). Export then import reproduces the data exactly.
//!
//! An import is checked row by row before anything is written; any bad row and nothing is
//! stored, and the reply lists the first errors with their line numbers. A good file goes in as
//! one transaction.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::command::{CommandSpec, File, Kind, OptionSpec, Options, PLATFORMS, Reply};
use crate::error::{Error, Result, UserError};
use crate::handler;
use crate::limits::MAX_COUNT;
use crate::numbers::thousands;
use crate::period::Period;
use crate::services::{Command, Context};
use crate::storage::{ImportBatch, ImportRow, brand_key};

pub const HEADER: [&str; 5] = ["date", "brand", "platform", "metric", "value"];
/// Errors listed in a reply; the rest are counted.
const ERRORS_SHOWN: usize = 10;

/// `/import` and `/export`.
pub fn commands() -> Vec<Command> {
    vec![
        Command::new(
            CommandSpec {
                name: "import",
                description: "Import snapshots from a CSV file: date,brand,platform,metric,value",
                options: vec![
                    OptionSpec::new("file", "The CSV file, with a header row", Kind::Attachment)
                        .required(),
                ],
                manages_data: true,
                slow: true,
                ..CommandSpec::default()
            },
            handler!(import),
        ),
        Command::new(
            CommandSpec {
                name: "export",
                description: "Export snapshots as CSV, in the format /import reads",
                options: vec![
                    OptionSpec::brand("brand", "Only this brand"),
                    OptionSpec::landscape("Only the brands of this landscape"),
                    OptionSpec::new(
                        "period",
                        "7d, 30d, 90d, ytd or YYYY-MM-DD..YYYY-MM-DD (default: everything)",
                        Kind::Text { max_len: 25 },
                    ),
                ],
                slow: true,
                ..CommandSpec::default()
            },
            handler!(export),
        ),
    ]
}

/// `/import file`
pub async fn import(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let file = options.file("file").ok_or(UserError::MissingOption {
        option: "file",
        accepts: "a CSV file".to_string(),
    })?;
    // Checked here for the row-by-row report, and again inside the import's transaction.
    let known_brands: HashSet<String> = if ctx.settings.brands.auto_create {
        HashSet::new()
    } else {
        ctx.store
            .brands(ctx.guild_id)
            .await?
            .into_iter()
            .map(|b| brand_key(&b.name))
            .collect()
    };
    let rows = match read_rows(ctx, &file.bytes, |key| {
        ctx.settings.brands.auto_create || known_brands.contains(key)
    }) {
        Ok(rows) => rows,
        Err(errors) => return Ok(rejected(&file.name, errors)),
    };
    let outcome = ctx
        .store
        .import(
            ctx.guild_id,
            &rows,
            ctx.user_id,
            ctx.now,
            ctx.settings.brands.auto_create,
        )
        .await?;
    let rows = &rows.rows;
    let mut text = format!(
        "Imported {} values from {}: {} new, {} replaced an earlier value.",
        thousands(rows.len() as i64),
        file.name,
        thousands((rows.len() as u64 - outcome.replaced) as i64),
        thousands(outcome.replaced as i64)
    );
    if !outcome.brands_created.is_empty() {
        text.push_str(&format!(
            " New brands: {}.",
            outcome.brands_created.join(", ")
        ));
    }
    Ok(Reply::text(text))
}

/// A problem with one line of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

fn rejected(name: &str, errors: Vec<RowError>) -> Reply {
    let mut text = format!(
        "Nothing was imported: {} has {} problem{}.",
        name,
        thousands(errors.len() as i64),
        if errors.len() == 1 { "" } else { "s" }
    );
    for error in errors.iter().take(ERRORS_SHOWN) {
        text.push_str(&format!("\nline {}: {}", error.line, error.message));
    }
    if errors.len() > ERRORS_SHOWN {
        text.push_str(&format!(
            "\n… and {} more.",
            thousands((errors.len() - ERRORS_SHOWN) as i64)
        ));
    }
    Reply::error(text)
}

/// Reads and checks every row; either all rows, or every problem found.
fn read_rows(
    ctx: &Context<'_>,
    bytes: &[u8],
    brand_allowed: impl Fn(&str) -> bool,
) -> Result<ImportBatch, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(|h| h.to_lowercase()).collect(),
        Err(err) => {
            return Err(vec![RowError {
                line: 1,
                message: csv_problem(&err),
            }]);
        }
    };
    let mut columns = [0usize; 5];
    for (i, name) in HEADER.iter().enumerate() {
        match header.iter().position(|h| h == name) {
            Some(at) => columns[i] = at,
            None => {
                return Err(vec![RowError {
                    line: 1,
                    message: format!("the header must name the columns {}", HEADER.join(",")),
                }]);
            }
        }
    }
    let mut batch = ImportBatch::default();
    let mut brands: HashMap<String, usize> = HashMap::new();
    let mut seen: HashMap<(usize, &'static str, &'static str, NaiveDate), u64> = HashMap::new();
    let mut errors = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    message: csv_problem(&err),
                });
                // A malformed record can leave the reader unable to go on.
                if !matches!(err.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(columns[i]).unwrap_or_default();
        let checked = check_row(
            ctx,
            [field(0), field(1), field(2), field(3), field(4)],
            &brand_allowed,
        );
        let (day, brand, platform, series, value) = match checked {
            Ok(checked) => checked,
            Err(message) => {
                errors.push(RowError { line, message });
                continue;
            }
        };
        let next = brands.len();
        let brand = *brands.entry(brand_key(brand)).or_insert_with(|| {
            batch.brands.push(brand.to_string());
            next
        });
        if let Some(first) = seen.insert((brand, platform, series, day), line) {
            errors.push(RowError {
                line,
                message: format!("repeats the date, brand, platform and metric of line {first}"),
            });
            continue;
        }
        batch.rows.push(ImportRow {
            day,
            brand,
            platform,
            series,
            value,
        });
    }
    if errors.is_empty() {
        Ok(batch)
    } else {
        Err(errors)
    }
}

/// One row's fields, checked: its day, brand name, platform, series and value.
fn check_row<'a>(
    ctx: &Context<'_>,
    [date, brand, platform, metric, value]: [&'a str; 5],
    brand_allowed: impl Fn(&str) -> bool,
) -> Result<(NaiveDate, &'a str, &'static str, &'static str, i64), String> {
    let day = crate::command::parse_day(date)
        .ok_or_else(|| format!("date \"{date}\" is not a date written YYYY-MM-DD"))?;
    if day > ctx.today {
        return Err(format!("date {day} is in the future"));
    }
    if brand.is_empty() || brand.chars().count() > 100 {
        return Err("brand must be 1 to 100 characters".to_string());
    }
    if !brand_allowed(&brand_key(brand)) {
        return Err(format!(
            "brand \"{brand}\" is not known and `[brands] auto_create` is off"
        ));
    }
    // Exports from other tools still say Twitter.
    let known = if platform.eq_ignore_ascii_case("twitter") {
        "x"
    } else {
        platform
    };
    let platform = PLATFORMS
        .iter()
        .copied()
        .find(|p| p.eq_ignore_ascii_case(known))
        .ok_or_else(|| {
            format!(
                "platform \"{platform}\" is not one of {}",
                PLATFORMS.join(", ")
            )
        })?;
    // `potential-reach` as the command spells it, `potential_reach` as stored.
    let series = ctx
        .registry
        .series(&metric.replace('-', "_"))
        .ok_or_else(|| {
            format!(
                "metric \"{metric}\" is not one of the stored inputs ({})",
                series_names(ctx).join(", ")
            )
        })?;
    let value: i64 = value
        .parse()
        .ok()
        .filter(|v| (0..=MAX_COUNT).contains(v))
        .ok_or_else(|| format!("value \"{value}\" is not a whole number from 0 to {MAX_COUNT}"))?;
    Ok((day, brand, platform, series.name, value))
}

fn series_names(ctx: &Context<'_>) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = ctx
        .registry
        .plugins()
        .flat_map(|p| p.series())
        .map(|s| s.name)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn csv_problem(err: &csv::Error) -> String {
    match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "the file is not UTF-8 text".to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("has {len} columns where the header has {expected_len}")
        }
        _ => "is not valid CSV".to_string(),
    }
}

/// `/export [brand] [landscape] [period]`
pub async fn export(ctx: &Context<'_>, options: &Options) -> Result<Reply> {
    let brands = match (options.text("brand"), options.text("landscape")) {
        (Some(_), Some(_)) => {
            return Err(UserError::Exclusive {
                first: "brand",
                second: "landscape",
            }
            .into());
        }
        (Some(name), None) => Some(vec![ctx.brand(name).await?]),
        (None, Some(landscape)) => Some(ctx.scope(Some(landscape)).await?.1),
        (None, None) => None,
    };
    let period = options
        .text("period")
        .map(|p| Period::parse(p, ctx.today))
        .transpose()?;
    let ids: Option<Vec<i64>> = brands.map(|b| b.iter().map(|b| b.id).collect());
    let rows = ctx
        .store
        .snapshots(ctx.guild_id, ids.as_deref(), period)
        .await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |e: csv::Error| Error::Io(std::io::Error::other(e));
    writer.write_record(HEADER).map_err(write)?;
    for (day, brand, platform, series, value) in &rows {
        writer
            .write_record([day.as_str(), brand, platform, series, &value.to_string()])
            .map_err(write)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
    Ok(Reply {
        content: format!("Exported {} values.", thousands(rows.len() as i64)),
        attachments: vec![File {
            name: "metricord-export.csv".to_string(),
            bytes,
        }],
        ..Reply::default()
    })
}
