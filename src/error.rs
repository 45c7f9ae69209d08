//! The library's errors, and the one place where their wording for users is made.
//!
//! A [`UserError`] is something the person typing the command can fix: its `Display` text is the
//! reply they see, one short line naming the option and what it accepts. Every other failure is an
//! [`Error`]: logged in full for the operator, shown to users only as a short internal-error line
//! (see [`Error::user_message`]), because a database message means nothing to a marketing team
//! and may leak details of the deployment.

use std::path::PathBuf;

/// A mistake in what the user typed. Nothing has been written when one of these is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UserError {
    #[error("Unknown command `/{name}`. Type `/help` to see the commands.")]
    UnknownCommand { name: String },
    #[error("`/{command}` needs one of its subcommands: {choices}.")]
    MissingSubcommand { command: String, choices: String },
    #[error("`/{command}` has no option `{option}`; it takes {known}.")]
    UnknownOption {
        command: String,
        option: String,
        known: String,
    },
    #[error("`{option}` was given twice; give it once.")]
    DuplicateOption { option: String },
    #[error("`{option}` is required: {accepts}.")]
    MissingOption {
        option: &'static str,
        accepts: String,
    },
    #[error("`{option}` must be {accepts}.")]
    InvalidOption {
        option: &'static str,
        accepts: String,
    },
    #[error("`{option}` must be {accepts}: {problem}.")]
    InvalidCount {
        option: &'static str,
        accepts: String,
        problem: CountProblem,
    },
    #[error("`{option}` must be {accepts}: {problem}.")]
    InvalidName {
        option: &'static str,
        accepts: String,
        problem: NameProblem,
    },
    #[error("`{option}` must be above 0: {reason}.")]
    ZeroDenominator {
        option: &'static str,
        reason: &'static str,
    },
    #[error("Give either `{first}` or `{second}`, not both.")]
    Exclusive {
        first: &'static str,
        second: &'static str,
    },
    #[error("Give `{first}` or `{second}`.")]
    OneOf {
        first: &'static str,
        second: &'static str,
    },
    #[error("`{option}` is not stored with a brand: leave out `brand`, or log {instead}.")]
    NotStored {
        option: &'static str,
        instead: &'static str,
    },
    #[error("`/{command}` changes shared data and needs the Manage Server permission.")]
    NeedsManageServer { command: String },
    #[error("`/{command}` works inside a server, not in direct messages.")]
    GuildOnly { command: String },
    #[error("This server already has a brand named \"{name}\".")]
    BrandExists { name: String },
    #[error(
        "No landscape named \"{name}\" in this server; `/brand add name:... landscape:{name}` creates it."
    )]
    UnknownLandscape { name: String },
    #[error(
        "That file would be about {megabytes} MB, over this server's {limit} MB upload limit: narrow it with `brand:`, `landscape:` or `period:`, or ask an operator for `metricord export`."
    )]
    TooLargeForDiscord { megabytes: usize, limit: usize },
    #[error("{brand} is not in a landscape named \"{landscape}\".")]
    NotInLandscape { brand: String, landscape: String },
    #[error("No brand named \"{name}\" in this server yet.")]
    UnknownBrand { name: String },
    #[error("\"{name}\" is not a known brand, and `[brands] auto_create` is off: add it first.")]
    BrandNotCreated { name: String },
    #[error(
        "Could not read that line: {problem}. Write options as `name:value`, quoting values with spaces (`brand:\"Ballet West\"`)."
    )]
    Syntax { problem: String },
    #[error(
        "Posting needs the bot connected to Discord (`metricord run`); `/digest preview` shows the digest here."
    )]
    NeedsDiscord,
    #[error(
        "Digest #{id} already posts this to that channel at those times; `/digest list` shows it."
    )]
    DuplicateSchedule { id: i64 },
    #[error(
        "`timezone` must be a place's IANA name, such as {suggestion}: {name} {why}, so the digest would not follow the clocks there."
    )]
    LegacyTimezone {
        name: String,
        suggestion: &'static str,
        why: String,
    },
    #[error(
        "`cron` never runs in {timezone}: {time} does not exist on the days it names (clocks go forward at that time), and a skipped run is not moved. Pick a time outside the clock change, such as 04:00."
    )]
    OnlyInClockGap { timezone: String, time: String },
    #[error("`cron` never runs: `{expression}` names no time that exists, such as 30 February.")]
    NeverRuns { expression: String },
    #[error("This server has no digest #{id}; `/digest list` shows the schedules.")]
    UnknownSchedule { id: i64 },
    #[error("This server has no alert #{id}; `/alert list` shows the rules.")]
    UnknownAlert { id: i64 },
    #[error("This server has no goal #{id}; `/goal list` shows the goals.")]
    UnknownGoal { id: i64 },
    #[error("{brand} has no {metric} logged{when}; log some first, then set the {what}.")]
    NeverLogged {
        brand: String,
        metric: String,
        when: String,
        what: &'static str,
    },
    #[error(
        "{brand}'s {metric} is already {current}, at or past the target of {target}: set a target still to reach."
    )]
    GoalReached {
        brand: String,
        metric: String,
        current: String,
        target: String,
    },
    #[error("The file for `{option}` did not arrive; attach it again.")]
    AttachmentMissing { option: String },
    #[error("`{option}` is larger than {megabytes} MB; split the file.")]
    AttachmentTooLarge { option: String, megabytes: u32 },
    #[error(
        "`{option}` arrived as a kind of value metricord does not take; update the bot's commands (`metricord run` registers them)."
    )]
    UnsupportedOption { option: String },
    #[error("Could not download the file for `{option}`; try again.")]
    AttachmentUnreadable { option: String },
    #[error("Discord did not take the digest; the details are in the bot's log.")]
    PostFailed,
    #[error("Names cannot contain the NUL character (\\0); remove it and try again.")]
    NulInName,
    #[error("The command was refused; see the message above.")]
    Rejected,
    #[error(
        "That line is longer than {kib} KiB and was not run; data in bulk goes in with `/import`."
    )]
    LineTooLong { kib: usize },
    #[error("That line is not UTF-8 text and was not run.")]
    LineNotUtf8,
    #[error("The reply's file was not saved: {problem}.")]
    FileNotSaved { problem: String },
    /// A platform's answer about an account, already worded for the person (see
    /// `collect::Error`), with what was not done.
    #[error("{problem} Nothing was tracked.")]
    CannotTrack { problem: String },
    #[error("{account} is tracked already, for {brand}; `/track list` shows it.")]
    AlreadyTracked { account: String, brand: String },
    #[error(
        "This server does not track {account} on {network}; `/track list` shows what it tracks."
    )]
    NotTracked { account: String, network: String },
}

/// Why a text is not a count (see `numbers::parse_count`), worded to follow "must be a whole
/// number from 0 to ...:". Each holds the text as typed, shortened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CountProblem {
    #[error("\"{0}\" is not a count such as 12500, 12,500 or 12.5K")]
    NotANumber(String),
    #[error(
        "\"{0}\" has a decimal point, but a count is whole: write thousands with commas (1,000) or with K, M or B (1.5K)"
    )]
    Decimal(String),
    #[error("\"{0}\" has more decimals than make a whole number")]
    NotWhole(String),
    #[error(
        "\"{0}\" does not have three digits after each comma, as in 12,500 (a decimal comma is not read)"
    )]
    NotGrouped(String),
    #[error("\"{0}\" has a space in it: separate thousands with commas (12,500)")]
    Spaced(String),
    #[error("\"{0}\" is a percentage: give the count")]
    Percentage(String),
    #[error("\"{0}\" is negative")]
    Negative(String),
    #[error("\"{text}\" is above the largest count, {max}")]
    TooLarge { text: String, max: String },
}

/// Why a text cannot be a brand or landscape name (see `command::check_name`), worded to follow
/// "must be a name ...:". The name itself is not repeated: it may hold what makes it wrong.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum NameProblem {
    #[error("it is empty")]
    Empty,
    #[error("it is longer than {max} characters")]
    TooLong { max: usize },
    #[error("it holds a control character or a line break")]
    Control,
    #[error("it holds a character that turns the direction of the text around it")]
    DirectionOverride,
    #[error("it has nothing visible in it")]
    Invisible,
}

/// What users see for any failure that is not theirs to fix.
pub const INTERNAL_ERROR: &str =
    "Something went wrong on our side; the details are in the bot's log. Nothing was stored.";

/// What users see while the database cannot be reached: the command did nothing, and the same
/// command will work once the connection is back.
pub const STORAGE_UNAVAILABLE: &str =
    "Storage is unavailable right now; try again in a moment. Nothing was stored.";

/// What users see while the disk under the database is full (or refuses writes): nothing more
/// can be stored until an operator frees space, and then writes work again without a restart.
pub const STORAGE_FULL: &str = "The bot's storage could not be written: its disk is full or failing, and an operator must free space. Nothing was stored.";

/// What users see when another process held SQLite's write lock past `busy_timeout_ms`: in
/// practice a long import from the command line, since every other write is short.
pub const STORAGE_BUSY: &str = "The database is busy with a long write by another process, such as an import; try again in a moment. Nothing was stored.";

/// What users see once SQLite found the database damaged: writes stop until an operator
/// repairs it, so that no more is stored on top of what may be wrong.
pub const DATABASE_DAMAGED: &str = "The bot's database is damaged, so nothing more is stored until an operator repairs it. Nothing was stored.";

/// What users see once the database file was deleted or replaced under the running bot.
pub const DATABASE_GONE: &str = "The bot's database file was removed while it ran, so nothing more is stored until an operator restarts it. Nothing was stored.";

/// Why metricord will not write to a SQLite database file: found at start, or while running.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DatabaseFault {
    #[error(
        "{path} is damaged ({found}); nothing more is written to it: restore a backup or recover it as RELIABILITY.md says (\"A damaged database\"); to start on it anyway, set [database] integrity_check = \"off\""
    )]
    Damaged { path: PathBuf, found: String },
    #[error(
        "{path} was deleted or replaced while metricord ran; nothing more is written, so that nothing goes into a file no one will read: restart metricord"
    )]
    Gone { path: PathBuf },
    #[error(
        "{path} is another program's database ({why}) and was left as it was; point [database] url at a file of metricord's own"
    )]
    Foreign { path: PathBuf, why: String },
}

/// Anything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    User(#[from] UserError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The database cannot be reached (the server is down, the network cut, no connection
    /// came free in time): nothing was done, and the pool reconnects by itself.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The disk under the database is full, or refused a write: the write was rolled back
    /// whole, and the next one works once there is room.
    #[error("the database could not be written, its disk is full or failing: {0}")]
    Full(sqlx::Error),
    /// Another connection held SQLite's write lock for longer than the busy timeout.
    #[error("the database is busy: another process held its write lock too long: {0}")]
    Busy(sqlx::Error),
    /// SQLite reported a damaged file (SQLITE_CORRUPT or SQLITE_NOTADB) during a command.
    #[error("the database is damaged: {0}")]
    Corrupt(sqlx::Error),
    #[error(transparent)]
    Fault(#[from] DatabaseFault),
    #[error(
        "the target database already holds data; migrate-data copies into an empty database only, so nothing was copied"
    )]
    TargetNotEmpty,
    #[error("{table}{} did not arrive whole in the target; nothing was copied", guild.map(|g| format!(" of guild {g}")).unwrap_or_default())]
    CountMismatch { table: String, guild: Option<i64> },
    #[error("{what} works with SQLite only; with PostgreSQL, {instead}")]
    SqliteOnly {
        what: &'static str,
        instead: &'static str,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} already exists; give --force to replace it")]
    Exists { path: PathBuf },
    #[error("invalid settings in {path}: {message}")]
    Settings { path: PathBuf, message: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(
        "DISCORD_TOKEN is not set: set it to the bot token from the Discord developer portal, or try `metricord console`, which needs none"
    )]
    TokenMissing,
    #[error(
        "Discord rejected the token in DISCORD_TOKEN (401 Unauthorized): copy the bot token again from the developer portal"
    )]
    TokenRejected,
    #[error("Discord: {0}")]
    Discord(String),
    /// A command-line flag whose value cannot work, such as a shard range outside the total.
    #[error("{flag}: {message}")]
    Flag { flag: String, message: String },
    #[error("drawing a chart failed: {0}")]
    Chart(String),
    #[error("cannot set up collection: {0}")]
    Collect(String),
}

/// Every database error passes through here, so a lost connection or a full disk is told apart
/// from a failed query wherever it happens.
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Error {
        if connection_lost(&err) {
            Error::Unavailable(err)
        } else if disk_full(&err) {
            Error::Full(err)
        } else if matches!(sqlite_code(&err).map(|c| c & 0xff), Some(11 | 26)) {
            // SQLITE_CORRUPT and SQLITE_NOTADB, of any kind.
            Error::Corrupt(err)
        } else if sqlite_code(&err).map(|c| c & 0xff) == Some(5) {
            // SQLITE_BUSY, of any kind: the busy timeout ran out.
            Error::Busy(err)
        } else {
            Error::Database(err)
        }
    }
}

/// SQLite's extended result code of an error, if SQLite raised it; its low byte is the
/// primary code.
pub(crate) fn sqlite_code(err: &sqlx::Error) -> Option<i32> {
    use sqlx::error::DatabaseError;
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    sqlite.code()?.parse::<i32>().ok()
}

/// Whether the disk refused to take the database's writes: SQLITE_FULL; SQLITE_IOERR's write,
/// fsync and truncate kinds (what a write past a file-size limit or quota gives, where a full
/// disk gives SQLITE_FULL); PostgreSQL's disk_full (53100).
fn disk_full(err: &sqlx::Error) -> bool {
    const FULL: i32 = 13;
    const IOERR_WRITE: i32 = 10 | (3 << 8);
    const IOERR_FSYNC: i32 = 10 | (4 << 8);
    const IOERR_TRUNCATE: i32 = 10 | (6 << 8);
    matches!(
        sqlite_code(err),
        Some(FULL | IOERR_WRITE | IOERR_FSYNC | IOERR_TRUNCATE)
    ) || matches!(err, sqlx::Error::Database(db) if db.code().is_some_and(|c| c == "53100"))
}

/// Whether an error means the database could not be reached, rather than that it refused what
/// was asked: no connection in time, a broken socket, or PostgreSQL's connection-exception
/// (08xxx) and shutting-down (57P01-57P03) states.
fn connection_lost(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

impl Error {
    /// What a user is shown for this error: the user error's own words, or a short line that
    /// says the fault is ours without showing its details.
    pub fn user_message(&self) -> String {
        match self {
            Error::User(err) => err.to_string(),
            Error::Unavailable(_) => STORAGE_UNAVAILABLE.to_string(),
            Error::Full(_) => STORAGE_FULL.to_string(),
            Error::Busy(_) => STORAGE_BUSY.to_string(),
            Error::Corrupt(_) | Error::Fault(DatabaseFault::Damaged { .. }) => {
                DATABASE_DAMAGED.to_string()
            }
            Error::Fault(DatabaseFault::Gone { .. }) => DATABASE_GONE.to_string(),
            _ => INTERNAL_ERROR.to_string(),
        }
    }

    /// The process exit code for this error when it ends a command-line run: 2 for what the
    /// operator must fix (settings, files, usage), 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::User(_)
            | Error::Settings { .. }
            | Error::Flag { .. }
            | Error::Read { .. }
            | Error::SqliteOnly { .. }
            | Error::TargetNotEmpty
            | Error::Exists { .. }
            | Error::Fault(_)
            | Error::TokenMissing
            | Error::TokenRejected => 2,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
