//! The `metricord` binary: parses the command line and runs it; everything else is in the
//! library (`src/lib.rs` describes the layout).

use std::process::ExitCode;

use clap::Parser;
use metricord::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("metricord: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
