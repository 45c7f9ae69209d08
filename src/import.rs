//! `/import` and `/export`: snapshots in and out as CSV, one value a row:
//! `date,brand,platform,metric,value`, where `metric` is a stored series as the plugins name
//! their inputs (`clicks`, `followers`). Export then import reproduces the data exactly.
//!
//! An import is checked row by row before anything is written; any bad row and nothing is
//! stored, and the reply lists the first errors with their line numbers. A good file goes in as
//! one transaction.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::command::{CommandSpec, File, Kind, OptionSpec, Options, PLATFORMS, Reply, check_name};
use crate::error::{CountProblem, Error, Result, UserError};
use crate::handler;
use crate::limits::MAX_COUNT;
use crate::numbers::{parse_count, thousands};
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
            handler!(owned import),
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
pub async fn import(ctx: &Context<'_>, mut options: Options) -> Result<Reply> {
    let file = options.take_file("file").ok_or(UserError::MissingOption {
        option: "file",
        accepts: "a CSV file".to_string(),
    })?;
    let auto_create = ctx.settings.brands.auto_create;
    // Checked here for the row-by-row report, and again inside the import's transaction.
    let known_brands: HashSet<String> = if auto_create {
        HashSet::new()
    } else {
        ctx.store
            .brands(ctx.guild_id)
            .await?
            .into_iter()
            .map(|b| brand_key(&b.name))
            .collect()
    };
    // Parsing up to a million rows is CPU work: it runs on a blocking thread, which the file
    // moves to rather than being copied.
    let rules = Rules {
        today: ctx.today,
        series: series_names(ctx),
        auto_create,
        known_brands,
    };
    let name = file.name.clone();
    let read = tokio::task::spawn_blocking(move || read_rows(&rules, &file.bytes))
        .await
        .map_err(|err| Error::Io(std::io::Error::other(err)))?;
    let rows = match read {
        Ok(rows) => rows,
        Err(rejection) => return Ok(rejected(&name, &rejection)),
    };
    let outcome = ctx
        .store
        .import(ctx.guild_id, &rows, ctx.user_id, ctx.now, auto_create)
        .await?;
    let rows = &rows.rows;
    let mut text = format!(
        "Imported {} values from {name}: {} new, {} replaced an earlier value.",
        thousands(rows.len() as i64),
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

/// What a row is checked against, owned so that the check can run on another thread.
struct Rules {
    today: NaiveDate,
    /// Every stored series of the enabled plugins.
    series: Vec<&'static str>,
    auto_create: bool,
    /// The guild's brand keys, when new brands may not be created.
    known_brands: HashSet<String>,
}

/// A problem with one line of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// Why a file was refused: the first problems, as many as a reply lists, and how many there
/// were in all. Only those shown are kept, however many rows are wrong.
#[derive(Debug, Default)]
struct Rejection {
    shown: Vec<RowError>,
    total: usize,
}

impl Rejection {
    fn push(&mut self, line: u64, message: String) {
        self.total += 1;
        if self.shown.len() < ERRORS_SHOWN {
            self.shown.push(RowError { line, message });
        }
    }

    fn one(line: u64, message: String) -> Rejection {
        let mut rejection = Rejection::default();
        rejection.push(line, message);
        rejection
    }
}

fn rejected(name: &str, rejection: &Rejection) -> Reply {
    let mut text = format!(
        "Nothing was imported: {} has {} problem{}.",
        name,
        thousands(rejection.total as i64),
        if rejection.total == 1 { "" } else { "s" }
    );
    for error in &rejection.shown {
        text.push_str(&format!("\nline {}: {}", error.line, error.message));
    }
    if rejection.total > rejection.shown.len() {
        text.push_str(&format!(
            "\n… and {} more.",
            thousands((rejection.total - rejection.shown.len()) as i64)
        ));
    }
    Reply::error(text)
}

/// Reads and checks every row; either all rows, or the problems found.
fn read_rows(rules: &Rules, bytes: &[u8]) -> Result<ImportBatch, Rejection> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(|h| h.to_lowercase()).collect(),
        Err(err) => return Err(Rejection::one(1, csv_problem(&err))),
    };
    let mut columns = [0usize; 5];
    for (i, name) in HEADER.iter().enumerate() {
        match header.iter().position(|h| h == name) {
            Some(at) => columns[i] = at,
            None => {
                return Err(Rejection::one(
                    1,
                    format!("the header must name the columns {}", HEADER.join(",")),
                ));
            }
        }
    }
    let mut batch = ImportBatch::default();
    let mut brands: HashMap<String, usize> = HashMap::new();
    let mut seen: HashMap<(usize, &'static str, &'static str, NaiveDate), u64> = HashMap::new();
    let mut errors = Rejection::default();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                errors.push(line, csv_problem(&err));
                // A malformed record can leave the reader unable to go on.
                if !matches!(err.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(columns[i]).unwrap_or_default();
        let checked = check_row(rules, [field(0), field(1), field(2), field(3), field(4)]);
        let (day, brand, platform, series, value) = match checked {
            Ok(checked) => checked,
            Err(message) => {
                errors.push(line, message);
                continue;
            }
        };
        // Once a row is wrong nothing is imported: the rest is only checked.
        if errors.total > 0 {
            continue;
        }
        let next = brands.len();
        let brand = *brands.entry(brand_key(&brand)).or_insert_with(|| {
            batch.brands.push(brand.into_owned());
            next
        });
        if let Some(first) = seen.insert((brand, platform, series, day), line) {
            errors.push(
                line,
                format!("repeats the date, brand, platform and metric of line {first}"),
            );
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
    if errors.total == 0 {
        Ok(batch)
    } else {
        Err(errors)
    }
}

/// One row's fields, checked: its day, brand name, platform, series and value.
fn check_row<'a>(
    rules: &Rules,
    [date, brand, platform, metric, value]: [&'a str; 5],
) -> Result<(NaiveDate, Cow<'a, str>, &'static str, &'static str, i64), String> {
    let day = crate::command::parse_day(date)
        .ok_or_else(|| format!("date \"{date}\" is not a date written YYYY-MM-DD"))?;
    if day > rules.today {
        return Err(format!("date {day} is in the future"));
    }
    let brand = check_name(brand).map_err(|problem| format!("brand name: {problem}"))?;
    if !rules.auto_create && !rules.known_brands.contains(&brand_key(&brand)) {
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
    let stored = metric.replace('-', "_");
    let series = rules
        .series
        .iter()
        .copied()
        .find(|s| *s == stored)
        .ok_or_else(|| {
            format!(
                "metric \"{metric}\" is not one of the stored inputs ({})",
                rules.series.join(", ")
            )
        })?;
    let value = parse_count(value).map_err(|problem| match problem {
        CountProblem::Negative(_) | CountProblem::TooLarge { .. } => format!(
            "value \"{value}\" is not a whole number from 0 to {}",
            thousands(MAX_COUNT)
        ),
        problem => format!("value {problem}"),
    })?;
    Ok((day, brand, platform, series, value))
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
    // Written into memory, so the size is checked as it grows: a file the front end could
    // not carry stops being written as soon as it is too large.
    let limit = ctx.upload_limit.unwrap_or(usize::MAX);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |e: csv::Error| Error::Io(std::io::Error::other(e));
    writer.write_record(HEADER).map_err(write)?;
    for (written, (day, brand, platform, series, value)) in rows.iter().enumerate() {
        writer
            .write_record([day.as_str(), brand, platform, series, &value.to_string()])
            .map_err(write)?;
        let size = writer.get_ref().len();
        if size > limit {
            // The rest of the rows are about as long as those written so far.
            let estimate = size as f64 / (written + 1) as f64 * rows.len() as f64;
            return Err(UserError::TooLargeForDiscord {
                megabytes: (estimate / (1024.0 * 1024.0)).ceil() as usize,
                limit: limit / (1024 * 1024),
            }
            .into());
        }
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
