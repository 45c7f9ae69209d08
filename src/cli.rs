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
use crate::settings::Settings;
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
    /// Database URL, such as sqlite://data/metricord.db.
    #[arg(long, global = true, env = "METRICORD_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// What to do; without one, `run`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to Discord with the token in DISCORD_TOKEN and answer commands.
    Run,
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
        file: PathBuf,
        /// The Discord server whose data this is (default: the console's local data).
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
    },
    /// Export snapshots as CSV, in the format import reads.
    Export {
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
        #[arg(long)]
        brand: Option<String>,
        #[arg(long)]
        landscape: Option<String>,
        /// 7d, 30d, 90d, ytd or YYYY-MM-DD..YYYY-MM-DD (default: everything).
        #[arg(long)]
        period: Option<String>,
        /// Write the CSV here instead of to standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the command reference in Markdown, as in the README.
    Commands,
    /// Fill a server (default: the console's local one) with a demo data set to try commands on.
    SeedDemo {
        #[arg(long, default_value_t = 10)]
        brands: usize,
        #[arg(long, default_value_t = 90)]
        days: i64,
        /// The same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
    },
    /// Measure the performance targets on a fresh database in DIR (see BENCHMARKS.md).
    Bench {
        #[arg(long, value_name = "DIR", default_value = "target/bench")]
        dir: PathBuf,
        #[arg(long, default_value_t = 50)]
        brands: usize,
        #[arg(long, default_value_t = 365)]
        days: i64,
        /// Repetitions of each timed query (writes and calculators run more).
        #[arg(long, default_value_t = 400)]
        iterations: usize,
        #[arg(long, default_value_t = 1_000_000)]
        import_rows: usize,
        /// Measure collection instead: one round of polls of `--accounts` tracked accounts
        /// against local fake platforms that answer after `--latency-ms`.
        #[arg(long)]
        collect: bool,
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        accounts: u32,
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=10_000))]
        latency_ms: u64,
    },
    /// Resident memory settled and under 1,000 concurrent commands (used by bench).
    #[command(hide = true)]
    Memory,
    /// Write a consistent copy of the database to PATH, safe while the bot runs.
    Backup {
        /// Where the copy goes; it must not exist yet.
        path: PathBuf,
    },
}

/// Runs the command line's choice to the end.
pub async fn run(cli: Cli) -> Result<()> {
    let settings = Arc::new(Settings::load(cli.config.as_deref(), cli.database)?);
    init_logging(&settings);
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
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
        } => {
            let options = [
                ("brand", brand),
                ("landscape", landscape),
                ("period", period),
            ]
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_string(), Value::Text(value?))))
            .collect();
            let reply = operator(settings, guild, "export", options).await?;
            let Some(file) = reply.attachments.first() else {
                eprint!("{}", console::render(&reply));
                return Err(UserError::Rejected.into());
            };
            match output {
                Some(path) => tokio::fs::write(&path, &file.bytes)
                    .await
                    .map_err(|source| Error::Write { path, source })?,
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
        Command::Commands => {
            print!("{}", reference(&settings));
            Ok(())
        }
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
