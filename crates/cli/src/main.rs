//! `deskline`: the command line. A thin shell over `deskline-api`: parses arguments,
//! prints results (text or `--json`), maps errors to exit codes.

mod listen;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalOpts {
    /// Keep every file of this run under DIR (database, logs).
    #[arg(long, global = true, env = "DESKLINE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Parser)]
#[command(name = "deskline", version, about = "Deskline: your business phone line on the desktop")]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Register a line with SIP and show a notification for every incoming call.
    Listen(listen::ListenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("deskline: could not start: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Listen(args) => listen::run(args, &cli.global).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("deskline: {e:#}");
            ExitCode::from(1)
        }
    }
}
