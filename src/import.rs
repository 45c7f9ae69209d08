//! `/import` and `/export`: snapshots in and out as CSV, one value a row: `date,brand,platform,
//! metric,value` (an export adds each value's `source`), `metric` a stored series as plugins name
//! their inputs (`clicks`, `followers`). An export opens with each brand's setup, rows without a
//! date: `,Acme,,competitor,no` and `,Acme,,landscape,coffee`. Export then import reproduces the
//! data and the setup exactly; a cell a spreadsheet would run as a formula is written with a
//! leading `'`, which the import takes back.
//!
//! An import is checked row by row before anything is written; any bad row and nothing is
//! stored, and the reply lists the first errors with their line numbers. A good file goes in as
//! one transaction.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::command::{CommandSpec, File, Kind, OptionSpec, Options, PLATFORMS, Reply};
use crate::error::{CountProblem, Error, Result, UserError};
use crate::handler;
use crate::limits::MAX_COUNT;
use crate::names::check_name;
use crate::numbers::{parse_count, plural, thousands};
use crate::period::Period;
use crate::services::{Command, Context};
use crate::storage::{ImportBatch, ImportRow, Setup, brand_key};

pub const HEADER: [&str; 5] = ["date", "brand", "platform", "metric", "value"];
/// An export's columns: [`HEADER`] and each value's source, which an import ignores.
const EXPORT_HEADER: [&str; 6] = ["date", "brand", "platform", "metric", "value", "source"];
/// The metric of a setup row that says whether a brand is a competitor's ([`YES_NO`]).
const COMPETITOR: &str = "competitor";
const YES_NO: [&str; 2] = ["no", "yes"];
/// The metric of a setup row that puts a brand in a landscape (the value names it).
const LANDSCAPE: &str = "landscape";
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
                description: "Export snapshots and the brands' setup as CSV, in the format /import reads",
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
    let mut text = format!(
        "Imported {}{} from {name}",
        plural(rows.rows.len(), "value", "values"),
        setup_of(&rows.setup)
    );
    let new = rows.rows.len() as u64 - outcome.replaced - outcome.unchanged;
    let counts: Vec<String> = [
        (new, "new"),
        (outcome.replaced, "replaced an earlier value"),
        (outcome.unchanged, "unchanged"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{} {what}", thousands(n as i64)))
    .collect();
    if !counts.is_empty() {
        text.push_str(&format!(": {}", counts.join(", ")));
    }
    text.push('.');
    if !outcome.brands_created.is_empty() {
        text.push_str(&format!(
            " New brands: {}.",
            outcome.brands_created.join(", ")
        ));
    }
    crate::alerts::after_new_data(ctx, None).await;
    Ok(Reply::text(text))
}

/// " and the setup of 3 brands", for the brands that `setup` is about; nothing without setup.
fn setup_of<B: Ord>(setup: &[(B, Setup)]) -> String {
    let mut brands: Vec<&B> = setup.iter().map(|(brand, _)| brand).collect();
    brands.sort_unstable();
    brands.dedup();
    if brands.is_empty() {
        return String::new();
    }
    format!(
        " and the setup of {}",
        plural(brands.len(), "brand", "brands")
    )
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
        "Nothing was imported: {name} has {}.",
        plural(rejection.total, "problem", "problems")
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
    let mut rows = Rows {
        rules,
        batch: ImportBatch::default(),
        names: HashMap::new(),
        keys: HashMap::new(),
        seen: HashMap::new(),
        seen_setup: HashMap::new(),
    };
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
        let field = |i: usize| unescape_cell(record.get(columns[i]).unwrap_or_default());
        let fields = [field(0), field(1), field(2), field(3), field(4)];
        // Once a row is wrong nothing is imported: the rest is only checked.
        if let Err(message) = rows.add(line, fields, errors.total == 0) {
            errors.push(line, message);
        }
    }
    if errors.total == 0 {
        Ok(rows.batch)
    } else {
        Err(errors)
    }
}

/// The rows read so far, and what they are checked against.
struct Rows<'r> {
    rules: &'r Rules,
    batch: ImportBatch,
    /// Each brand as written in the file, to its index in the batch: a name is checked once.
    names: HashMap<String, usize>,
    /// Each brand's key to its index: two spellings of one brand are one brand.
    keys: HashMap<String, usize>,
    /// The line of each data row's key, and of each setup row's, to report repeats.
    seen: HashMap<(usize, &'static str, &'static str, NaiveDate), u64>,
    seen_setup: HashMap<(usize, String), u64>,
}

impl Rows<'_> {
    /// Checks one row's fields (`date, brand, platform, metric, value`) and, if `keep`, adds
    /// it to the batch. A row with no date whose metric is `competitor` or `landscape` is a
    /// setup row.
    fn add(&mut self, line: u64, fields: [&str; 5], keep: bool) -> Result<(), String> {
        let [date, brand, platform, metric, value] = fields;
        let setup_row = [COMPETITOR, LANDSCAPE]
            .into_iter()
            .find(|m| metric.eq_ignore_ascii_case(m));
        if let Some(setup_row) = setup_row
            && date.is_empty()
        {
            return self.add_setup(line, setup_row, brand, platform, value, keep);
        }
        let day = crate::command::parse_day(date)
            .ok_or_else(|| format!("date \"{date}\" is not a date written YYYY-MM-DD"))?;
        if day > self.rules.today {
            return Err(format!("date {day} is in the future"));
        }
        let brand = self.brand(brand)?;
        let platform = check_platform(platform)?;
        let series = self.series(metric)?;
        let value = parse_count(value).map_err(|problem| match problem {
            CountProblem::Negative(_) | CountProblem::TooLarge { .. } => format!(
                "value \"{value}\" is not a whole number from 0 to {}",
                thousands(MAX_COUNT)
            ),
            problem => format!("value {problem}"),
        })?;
        if !keep {
            return Ok(());
        }
        if let Some(first) = self.seen.insert((brand, platform, series, day), line) {
            return Err(format!(
                "repeats the date, brand, platform and metric of line {first}"
            ));
        }
        self.batch.rows.push(ImportRow {
            day,
            brand,
            platform,
            series,
            value,
        });
        Ok(())
    }

    /// A setup row: `,brand,,competitor,yes` or `,brand,,landscape,coffee`.
    fn add_setup(
        &mut self,
        line: u64,
        metric: &'static str,
        brand: &str,
        platform: &str,
        value: &str,
        keep: bool,
    ) -> Result<(), String> {
        let brand = self.brand(brand)?;
        if !platform.is_empty() {
            return Err(format!(
                "a {metric} row applies to the brand on every platform: leave platform empty"
            ));
        }
        let (setup, key) = if metric == COMPETITOR {
            let competitor = match value.to_lowercase().as_str() {
                "yes" | "true" => true,
                "no" | "false" => false,
                _ => return Err(format!("a {metric} row's value is yes or no")),
            };
            (Setup::Competitor(competitor), String::new())
        } else {
            let landscape =
                check_name(value).map_err(|problem| format!("landscape name: {problem}"))?;
            let key = brand_key(&landscape);
            (Setup::Landscape(landscape.into_owned()), key)
        };
        if !keep {
            return Ok(());
        }
        if let Some(first) = self.seen_setup.insert((brand, key), line) {
            return Err(format!("repeats the {metric} row of line {first}"));
        }
        self.batch.setup.push((brand, setup));
        Ok(())
    }

    /// The batch index of a brand, checked against the name rule and, when new brands may not
    /// be created, against the guild's brands.
    fn brand(&mut self, written: &str) -> Result<usize, String> {
        if let Some(index) = self.names.get(written) {
            return Ok(*index);
        }
        let name = check_name(written).map_err(|problem| format!("brand name: {problem}"))?;
        let key = brand_key(&name);
        if !self.rules.auto_create && !self.rules.known_brands.contains(&key) {
            return Err(format!(
                "brand \"{name}\" is not known and `[brands] auto_create` is off"
            ));
        }
        let next = self.keys.len();
        let index = *self.keys.entry(key).or_insert_with(|| {
            self.batch.brands.push(name.into_owned());
            next
        });
        self.names.insert(written.to_string(), index);
        Ok(index)
    }

    /// A stored series by the name a file gives it.
    fn series(&self, metric: &str) -> Result<&'static str, String> {
        // `potential-reach` as the command spells it, `potential_reach` as stored.
        let stored = metric.replace('-', "_");
        self.rules
            .series
            .iter()
            .copied()
            .find(|s| *s == stored)
            .ok_or_else(|| {
                format!(
                    "metric \"{metric}\" is not one of the stored inputs ({}), or competitor or landscape in a row without a date",
                    self.rules.series.join(", ")
                )
            })
    }
}

/// A platform by the name a file gives it.
fn check_platform(platform: &str) -> Result<&'static str, String> {
    // Exports from other tools still say Twitter.
    let known = if platform.eq_ignore_ascii_case("twitter") {
        "x"
    } else {
        platform
    };
    PLATFORMS
        .iter()
        .copied()
        .find(|p| p.eq_ignore_ascii_case(known))
        .ok_or_else(|| {
            format!(
                "platform \"{platform}\" is not one of {}",
                PLATFORMS.join(", ")
            )
        })
}

/// What makes a spreadsheet read a cell as a formula (OWASP, "CSV injection"): a cell that
/// starts with one of these, possibly after apostrophes.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn formula_like(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_START)
}

/// A cell as exported: one a spreadsheet would run as a formula gets a leading `'`, which
/// spreadsheets show as text. A cell that already starts with `'` before such a character gets
/// one more, so that [`unescape_cell`] takes back exactly what was added.
fn escape_cell(cell: &str) -> Cow<'_, str> {
    if formula_like(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell as imported: the `'` [`escape_cell`] added, taken away.
fn unescape_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
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
    // What the reply names as exported: the brand, the landscape, or the whole server.
    let scope = match (&brands, options.text("landscape")) {
        (Some(brands), None) => brands.first().map(|b| b.name.clone()).unwrap_or_default(),
        (_, Some(landscape)) => format!("landscape {}", landscape.trim()),
        (None, None) => "every brand".to_string(),
    };
    let period = options
        .text("period")
        .map(|p| Period::parse(p, ctx.today))
        .transpose()?;
    let ids: Option<Vec<i64>> = brands.map(|b| b.iter().map(|b| b.id).collect());
    let (setup, rows) = tokio::try_join!(
        ctx.store.brand_listing(ctx.guild_id),
        ctx.store.snapshots(ctx.guild_id, ids.as_deref(), period),
    )?;
    // Every brand in scope, data or not, with its competitor flag and landscapes: an export
    // restores a server's setup as well as its numbers.
    let setup: Vec<(String, Setup)> = setup
        .into_iter()
        .filter(|entry| ids.as_ref().is_none_or(|ids| ids.contains(&entry.brand.id)))
        .flat_map(|entry| {
            let competitor = (
                entry.brand.name.clone(),
                Setup::Competitor(entry.brand.competitor),
            );
            let mut landscapes = entry.landscapes;
            landscapes.sort_by_cached_key(|l| brand_key(l));
            let landscapes = landscapes
                .into_iter()
                .map(move |l| (entry.brand.name.clone(), Setup::Landscape(l)));
            std::iter::once(competitor).chain(landscapes)
        })
        .collect();
    // Written into memory, so the size is checked as it grows: a file the front end could
    // not carry stops being written as soon as it is too large.
    let limit = ctx.upload_limit.unwrap_or(usize::MAX);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let total = setup.len() + rows.len();
    let mut write = |written: usize, record: [&str; 6]| -> Result<()> {
        let record = record.map(escape_cell);
        writer
            .write_record(record.iter().map(|cell| cell.as_ref()))
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        let size = writer.get_ref().len();
        if size > limit {
            // The rest of the rows are about as long as those written so far.
            let estimate = size as f64 / (written + 1) as f64 * total as f64;
            return Err(UserError::TooLargeForDiscord {
                megabytes: (estimate / (1024.0 * 1024.0)).ceil() as usize,
                limit: limit / (1024 * 1024),
            }
            .into());
        }
        Ok(())
    };
    write(0, EXPORT_HEADER)?;
    for (written, (brand, setup)) in setup.iter().enumerate() {
        let record = match setup {
            Setup::Competitor(yes) => ["", brand, "", COMPETITOR, YES_NO[usize::from(*yes)], ""],
            Setup::Landscape(landscape) => ["", brand, "", LANDSCAPE, landscape, ""],
        };
        write(written, record)?;
    }
    for (written, (day, brand, platform, series, value, src)) in rows.iter().enumerate() {
        let (at, value) = (setup.len() + written, value.to_string());
        write(at, [day, brand, platform, series, &value, src])?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
    Ok(Reply {
        content: format!(
            "Exported {} of {}, {}{}.",
            plural(rows.len(), "value", "values"),
            scope,
            match period {
                Some(period) => period.to_string(),
                None => "every date".to_string(),
            },
            setup_of(&setup)
        ),
        attachments: vec![File {
            name: "metricord-export.csv".to_string(),
            bytes,
        }],
        ..Reply::default()
    })
}

#[cfg(test)]
mod tests;
