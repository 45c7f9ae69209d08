//! The command line: which front end to start, with which settings.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::clock::Clock;
use crate::console;
use crate::dispatcher::{Dispatcher, commands, usage};
use crate::error::Result;
use crate::plugin::Registry;
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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Type commands as in Discord, one per line, and read the replies here.
    Console {
        /// Act on this Discord server's data instead of the console's own local data.
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
    },
    /// Print the command reference in Markdown, as in the README.
    Commands,
}

/// Runs the command line's choice to the end.
pub async fn run(cli: Cli) -> Result<()> {
    let settings = Arc::new(Settings::load(cli.config.as_deref(), cli.database)?);
    init_logging(&settings);
    match cli.command {
        Command::Console { guild } => {
            let store = Store::open(&settings.database).await?;
            let dispatcher = Dispatcher::new(settings, store.clone(), Clock::System);
            let input = tokio::io::BufReader::new(tokio::io::stdin());
            let result = console::run(
                &dispatcher,
                guild.unwrap_or(console::LOCAL_GUILD),
                input,
                tokio::io::stdout(),
            )
            .await;
            store.close().await;
            result
        }
        Command::Commands => {
            print!("{}", reference(&settings));
            Ok(())
        }
    }
}

/// The Markdown command reference, generated from the registry.
pub fn reference(settings: &Settings) -> String {
    let registry = Registry::new(&settings.plugins.enabled);
    let mut out = String::from("| command | what it does |\n|---|---|\n");
    for spec in commands(&registry) {
        out.push_str(&format!("| `{}` | {} |\n", usage(&spec), spec.description));
    }
    out
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
