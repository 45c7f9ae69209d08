//! The command line: which front end to start, with which settings.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::clock::Clock;
use crate::console;
use crate::dispatcher::{Dispatcher, commands, usage};
use secrecy::SecretString;

use crate::discord;
use std::io::Write;

use crate::command::{Reply, Value};
use crate::error::{Error, Result, UserError};
use crate::plugins::Registry;
use crate::settings::{DatabaseSettings, Settings, redacted};
use crate::storage::Store;

#[derive(Debug, Parser)]
#[command(
    name = "metricord",
    version,
    about = "Social-media metrics for your team, in Discord"
)]
pub struct Cli {
    /// Settings file (default: config/metricord.toml, if present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH (default sqlite://data/metricord.db) or
    /// postgres://USER@HOST/DATABASE.
    #[arg(long, global = true, env = "METRICORD_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// What to do; without one, `run`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to Discord with the token in DISCORD_TOKEN and answer commands.
    Run {
        /// Run only these gateway shards, FIRST-LAST (both included, counted from 0), and leave
        /// the others to other processes sharing a PostgreSQL database; needs --total-shards.
        #[arg(long, value_name = "FIRST-LAST", value_parser = discord::shards::parse_range)]
        shards: Option<(u32, u32)>,
        /// The number of shards of the whole bot, the same in every process, or `auto` for
        /// Discord's recommendation; without --shards this process runs them all.
        #[arg(long, value_name = "N|auto", value_parser = discord::shards::parse_total)]
        total_shards: Option<discord::shards::Total>,
    },
    /// Type commands as in Discord, one per line, and read the replies here.
    Console {
        /// Act on this Discord server's data instead of the console's own local data.
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
        /// Where files in replies (charts, exports) are written.
        #[arg(long, value_name = "DIR", default_value = "attachments")]
        files: PathBuf,
    },
    /// Import snapshots from a CSV file (date,brand,platform,metric,value), all or nothing.
    Import {
        /// The CSV file, as `metricord export` writes it; at most 64 MB.
        file: PathBuf,
        /// The Discord server whose data this is (default: the console's local data).
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
    },
    /// Export snapshots and the brands' setup as CSV, in the format import reads.
    Export {
        /// The Discord server whose data to export (default: the console's local data).
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
        /// Only this brand.
        #[arg(long, value_name = "NAME")]
        brand: Option<String>,
        /// Only the brands of this landscape.
        #[arg(long, value_name = "NAME")]
        landscape: Option<String>,
        /// 7d, 30d, 90d, ytd or YYYY-MM-DD..YYYY-MM-DD (default: everything).
        #[arg(long)]
        period: Option<String>,
        /// Write the CSV to this new file instead of to standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace the --output file if it exists (a link there is replaced, not followed).
        #[arg(long, requires = "output")]
        force: bool,
    },
    /// Poll every tracked account once (see /track), store what the platforms show, and exit.
    Collect,
    /// Print the command reference in Markdown, as in the README.
    Commands,
    /// Fill a server (default: the console's local one) with a demo data set to try commands on.
    SeedDemo {
        /// How many brands, two to a landscape.
        #[arg(long, default_value_t = 10)]
        brands: usize,
        /// How many days of data, ending today.
        #[arg(long, default_value_t = 90)]
        days: i64,
        /// The same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The Discord server to fill (default: the console's local one).
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
    },
    /// Measure the performance targets on a fresh database in DIR (see BENCHMARKS.md); with
    /// --database postgres://..., on a fresh database of that server, dropped afterwards.
    Bench {
        /// Where the measured databases are made (and removed afterwards).
        #[arg(long, value_name = "DIR", default_value = "target/bench")]
        dir: PathBuf,
        /// Brands in the measured data set.
        #[arg(long, default_value_t = 50)]
        brands: usize,
        /// Days of data per brand.
        #[arg(long, default_value_t = 365)]
        days: i64,
        /// Repetitions of each timed query (writes and calculators run more).
        #[arg(long, default_value_t = 400)]
        iterations: usize,
        /// Rows in the measured CSV import.
        #[arg(long, default_value_t = 1_000_000)]
        import_rows: usize,
        /// Measure collection instead: one round of polls of `--accounts` tracked accounts
        /// against local fake platforms that answer after `--latency-ms`.
        #[arg(long)]
        collect: bool,
        /// With --collect: how many tracked accounts one round polls.
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        accounts: u32,
        /// With --collect: how long each fake platform takes to answer a request, in ms.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=10_000))]
        latency_ms: u64,
    },
    /// Resident memory settled and under 1,000 concurrent commands (used by bench).
    #[command(hide = true)]
    Memory,
    /// How often spike and dip rules at their defaults fire on the demo data set, per brand
    /// and month: the false-alarm rate (see BENCHMARKS.md). Works on a fresh database in DIR.
    AlertRates {
        /// Where the measured database is made (and removed afterwards).
        #[arg(long, value_name = "DIR", default_value = "target/alert-rates")]
        dir: PathBuf,
        /// Brands in the data set.
        #[arg(long, default_value_t = 10)]
        brands: usize,
        /// Days of data per brand; the first 28 are history only.
        #[arg(long, default_value_t = 393, value_parser = clap::value_parser!(i64).range(29..=3_650))]
        days: i64,
        /// The same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Write a consistent copy of the database to PATH, safe while the bot runs (SQLite; for
    /// PostgreSQL use pg_dump).
    Backup {
        /// Where the copy goes; it must not exist yet.
        path: PathBuf,
    },
    /// Copy every table from one database into another that holds no data yet, in one
    /// transaction checked row by row count, such as from SQLite to PostgreSQL.
    MigrateData {
        /// The database to copy from, such as sqlite://data/metricord.db.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The database to copy into, such as postgres://metricord@db-host/metricord.
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

/// Seeds the demo data set into a fresh SQLite database in `dir` and measures how often the
/// default alert rules fire on it.
async fn alert_rates(
    settings: &Settings,
    dir: &std::path::Path,
    brands: usize,
    days: i64,
    seed: u64,
) -> Result<String> {
    let database = crate::settings::DatabaseSettings {
        url: format!("sqlite://{}/alert-rates.db", dir.display()),
        synchronous: crate::settings::Synchronous::Off,
        ..crate::settings::DatabaseSettings::default()
    };
    let store = Store::open(&database).await?;
    let registry = Registry::new(&settings.plugins.enabled);
    let last = chrono::Utc::now()
        .with_timezone(&settings.timezone)
        .date_naive();
    let first = last - chrono::Duration::days(days - 1);
    let guild = console::LOCAL_GUILD;
    let measured = async {
        crate::demo::seed(&store, &registry, guild, brands, days, seed, last).await?;
        crate::alerts::rates::measure(&store, &registry, guild, first, last).await
    }
    .await;
    store.close().await;
    Ok(measured?.table())
}

/// Runs the command line's choice to the end.
pub async fn run(cli: Cli) -> Result<()> {
    let settings = Arc::new(Settings::load(cli.config.as_deref(), cli.database)?);
    init_logging(&settings);
    let run = Command::Run {
        shards: None,
        total_shards: None,
    };
    match cli.command.unwrap_or(run) {
        Command::Run {
            shards,
            total_shards,
        } => {
            let token = std::env::var("DISCORD_TOKEN").unwrap_or_default();
            if token.trim().is_empty() {
                return Err(Error::TokenMissing);
            }
            let api_proxy = std::env::var("DISCORD_API_PROXY")
                .ok()
                .or_else(|| Some(settings.discord.api_proxy.clone()))
                .filter(|url| !url.trim().is_empty());
            let connection = discord::Connection {
                token: SecretString::new(token.trim().to_string()),
                api_proxy,
                guild_ids: settings.discord.guild_ids.clone(),
                shards: discord::shards::Plan {
                    range: shards,
                    total: total_shards,
                },
                scheduler_every: discord::SCHEDULER_EVERY,
            };
            let store = Store::open(&settings.database).await?;
            let dispatcher = Arc::new(Dispatcher::new(settings, store.clone(), Clock::System)?);
            let result = discord::run(connection, dispatcher, shutdown_signal()).await;
            store.close().await;
            result
        }
        Command::Console { guild, files } => {
            let store = Store::open(&settings.database).await?;
            let dispatcher = Dispatcher::new(settings, store.clone(), Clock::System)?;
            let input = tokio::io::BufReader::new(tokio::io::stdin());
            let guild = guild.unwrap_or(console::LOCAL_GUILD);
            let result = console::run(&dispatcher, guild, &files, input, tokio::io::stdout()).await;
            store.close().await;
            result
        }
        Command::Import { file, guild } => {
            let options = vec![("file".to_string(), Value::Text(file.display().to_string()))];
            let reply = operator(settings, guild, "import", options).await?;
            print!("{}", console::render(&reply));
            if reply.ephemeral {
                return Err(UserError::Rejected.into());
            }
            Ok(())
        }
        Command::Export {
            guild,
            brand,
            landscape,
            period,
            output,
            force,
        } => {
            let options = [
                ("brand", brand),
                ("landscape", landscape),
                ("period", period),
            ]
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_string(), Value::Text(value?))))
            .collect();
            let mut reply = operator(settings, guild, "export", options).await?;
            let Some(file) = reply.attachments.pop() else {
                eprint!("{}", console::render(&reply));
                return Err(UserError::Rejected.into());
            };
            match output {
                Some(path) => write_export(path, file.bytes, force).await?,
                None => std::io::stdout().write_all(&file.bytes)?,
            }
            Ok(())
        }
        Command::SeedDemo {
            brands,
            days,
            seed,
            guild,
        } => {
            let store = Store::open(&settings.database).await?;
            let registry = Registry::new(&settings.plugins.enabled);
            let today = chrono::Utc::now()
                .with_timezone(&settings.timezone)
                .date_naive();
            let guild = guild.unwrap_or(console::LOCAL_GUILD);
            let seeded =
                crate::demo::seed(&store, &registry, guild, brands, days, seed, today).await;
            store.close().await;
            let seeded = seeded?;
            let (brand, landscape) = crate::demo::brand_name(0);
            let metric = registry.names().first().copied().unwrap_or_default();
            println!(
                "Seeded {} brands with {} values over {days} days. Try: /brand list, /report brand:\"{brand}\", /compare metric:{metric} landscape:{landscape}",
                seeded.brands, seeded.values,
            );
            Ok(())
        }
        Command::Bench {
            collect: true,
            accounts,
            latency_ms,
            ..
        } => {
            let plan = crate::bench::CollectPlan {
                accounts: accounts as usize,
                latency: std::time::Duration::from_millis(latency_ms),
            };
            print!("{}", crate::bench::collect(&settings, &plan).await?);
            Ok(())
        }
        Command::Bench {
            dir,
            brands,
            days,
            iterations,
            import_rows,
            ..
        } => {
            let dir = dir.join(format!("run-{}", std::process::id()));
            let plan = crate::bench::Plan {
                brands,
                days,
                iterations,
                import_rows,
            };
            let result = crate::bench::run(&settings, &dir, &plan).await;
            let _ = tokio::fs::remove_dir_all(&dir).await;
            print!("{}", result?);
            Ok(())
        }
        Command::AlertRates {
            dir,
            brands,
            days,
            seed,
        } => {
            let dir = dir.join(format!("run-{}", std::process::id()));
            let result = alert_rates(&settings, &dir, brands, days, seed).await;
            let _ = tokio::fs::remove_dir_all(&dir).await;
            print!("{}", result?);
            Ok(())
        }
        Command::Memory => {
            print!("{}", crate::bench::memory(settings).await?);
            Ok(())
        }
        Command::Backup { path } => {
            let store = Store::open(&settings.database).await?;
            let result = store.backup(&path).await;
            store.close().await;
            result?;
            println!("Backed up to {}", path.display());
            Ok(())
        }
        Command::Collect => {
            let store = Store::open(&settings.database).await?;
            let services = Arc::new(crate::services::Services::new(
                settings,
                store.clone(),
                Clock::System,
            )?);
            let round = crate::tracking::collect_all(services).await;
            store.close().await;
            let round = round?;
            println!(
                "Collected {} tracked accounts; {} failed (the log and /track list say why).",
                round.collected, round.failed
            );
            Ok(())
        }
        Command::Commands => {
            print!("{}", reference(&settings));
            Ok(())
        }
        Command::MigrateData { from, to } => {
            let counts = migrate_data(&from, &to).await?;
            println!(
                "Copied {} from {} to {}.",
                crate::storage::describe(&counts),
                redacted(&from),
                redacted(&to)
            );
            Ok(())
        }
    }
}

/// Copies every table of the database at `from` into the empty one at `to`; see
/// [`crate::storage::Transfer`].
async fn migrate_data(from: &str, to: &str) -> Result<crate::storage::Counts> {
    let open = |option: &'static str, url: &str| {
        let settings = DatabaseSettings {
            url: url.to_string(),
            ..DatabaseSettings::default()
        };
        async move {
            settings.backend().map_err(|message| Error::Settings {
                path: option.into(),
                message,
            })?;
            Store::open(&settings).await
        }
    };
    let source = open("--from", from).await?;
    let target = match open("--to", to).await {
        Ok(target) => target,
        Err(err) => {
            source.close().await;
            return Err(err);
        }
    };
    let copied = match source.dump().await {
        Ok(dump) => target.load(&dump).await,
        Err(err) => Err(err),
    };
    source.close().await;
    target.close().await;
    copied
}

/// Writes an export to a new file at `path`, or replaces what is there when `force` is given.
async fn write_export(path: PathBuf, bytes: Vec<u8>, force: bool) -> Result<()> {
    let (to, written) = tokio::task::spawn_blocking(move || {
        let written = crate::files::write_new(&path, &bytes, force);
        (path, written)
    })
    .await
    .map_err(std::io::Error::other)?;
    match written {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(Error::Exists { path: to })
        }
        Err(source) => Err(Error::Write { path: to, source }),
    }
}

/// Runs one command as the operator (an admin of `guild`, or of the console's local guild).
async fn operator(
    settings: Arc<Settings>,
    guild: Option<u64>,
    command: &str,
    options: Vec<(String, Value)>,
) -> Result<Reply> {
    let store = Store::open(&settings.database).await?;
    let dispatcher = Dispatcher::new(settings, store.clone(), Clock::System)?;
    let line = console::Line {
        command: command.to_string(),
        options,
    };
    let invocation =
        console::invocation(&dispatcher, guild.unwrap_or(console::LOCAL_GUILD), line).await?;
    let reply = dispatcher.dispatch(invocation).await;
    store.close().await;
    Ok(reply)
}

/// The Markdown command reference, generated from the registry.
pub fn reference(settings: &Settings) -> String {
    let registry = Registry::new(&settings.plugins.enabled);
    let mut out = String::from("| command | what it does |\n|---|---|\n");
    for (line, description) in usage(&commands(&registry)) {
        out.push_str(&format!("| `{line}` | {description} |\n"));
    }
    out
}

/// Completes on Ctrl-C or SIGTERM, the signals service managers stop a process with.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

fn init_logging(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.logging.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_flag_and_argument_of_every_subcommand_says_what_it_is_for() {
        let cli = Cli::command();
        let mut missing = Vec::new();
        for command in std::iter::once(&cli).chain(cli.get_subcommands()) {
            for arg in command.get_arguments() {
                let generated = ["help", "version"].contains(&arg.get_id().as_str());
                if !generated && !arg.is_hide_set() && arg.get_help().is_none() {
                    missing.push(format!("{} {}", command.get_name(), arg.get_id()));
                }
            }
        }
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }
}
