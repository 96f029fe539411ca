//! `deskline-tray [--data-dir DIR] [--demo] [--after-app PID]`: Deskline in the tray
//! (see the library docs). Exits 0 after Quit, a signal or a handover, and when a tray or
//! the app already has the line; 1 on failure.

use anyhow::Context as _;
use clap::Parser;
use deskline_tray::{Options, Outcome};
use std::path::PathBuf;
use std::process::ExitCode;

/// Deskline in the tray: keeps your line registered and shows your calls while the app's
/// window is closed.
#[derive(Debug, Parser)]
#[command(name = "deskline-tray", version)]
struct Args {
    /// Keep every file under DIR.
    #[arg(long, value_name = "DIR", env = "DESKLINE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Run the built-in demo provider.
    #[arg(long)]
    demo: bool,
    /// Started by the app with this process id: take the line only once it has exited.
    #[arg(long, value_name = "PID")]
    after_app: Option<u32>,
}

fn options(args: Args) -> anyhow::Result<Options> {
    let extra_ca_pem = match std::env::var_os("DESKLINE_CA_FILE") {
        Some(path) => Some(std::fs::read_to_string(&path).with_context(|| {
            format!(
                "could not read DESKLINE_CA_FILE {}",
                PathBuf::from(&path).display()
            )
        })?),
        None => None,
    };
    Ok(Options {
        data_dir: args.data_dir,
        demo: args.demo,
        after_app: args.after_app,
        sip: std::env::var("DESKLINE_SIP").map_or(true, |v| v != "off"),
        extra_ca_pem,
        app_bin: std::env::var_os("DESKLINE_APP_BIN").map(PathBuf::from),
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,deskline_tray=info,deskline_api=info")
            }),
        )
        .with_writer(std::io::stderr)
        .try_init();
    match start(args) {
        Ok(Outcome::Quit | Outcome::HandedOver) => ExitCode::SUCCESS,
        Ok(Outcome::AlreadyRunning) => {
            println!("Deskline is already running in the tray");
            ExitCode::SUCCESS
        }
        Ok(Outcome::AppRunning) => {
            println!("The Deskline app is running and has the line; the tray is not needed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("deskline-tray: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: Args) -> anyhow::Result<Outcome> {
    let options = options(args)?;
    // One thread: the tray idles nearly all the time (SQLite and the keychain have their
    // own threads).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the runtime")?;
    Ok(runtime.block_on(deskline_tray::run(options))?)
}
