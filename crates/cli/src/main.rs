//! `deskline`: the command line. A thin shell over `deskline-api`: parses arguments,
//! prints results (text, or JSON with `--json`), maps errors to exit codes. Behaviour lives
//! in the libraries.

mod account;
mod context;
mod exit;
mod listen;
mod lists;
mod output;
mod settings;

use clap::{CommandFactory, Parser, Subcommand};
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
    /// Use the built-in demo provider (no account needed).
    #[arg(long, global = true, env = "DESKLINE_DEMO")]
    pub demo: bool,
    /// The account to use when several are signed in (user ID or account id).
    #[arg(long, global = true, env = "DESKLINE_ACCOUNT", value_name = "USER_ID")]
    pub account: Option<String>,
    /// Also trust this CA certificate (PEM) for the provider's HTTPS.
    #[arg(long, global = true, env = "DESKLINE_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Log details to stderr (also RUST_LOG).
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Parser)]
#[command(
    name = "deskline",
    version,
    about = "Deskline: your business phone line on the desktop",
    long_about = "Deskline signs in to your provider's My Phone portal, keeps your line's settings in a local cache that works offline, and registers your shared soft-client line so incoming calls show as desktop notifications.\n\nTry it without an account: deskline --demo status"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in with your My Phone user ID and password, then sync your line.
    Login(account::LoginArgs),
    /// Sign out: remove your passwords from the keychain (and the cache with --forget).
    Logout(account::LogoutArgs),
    /// Show your line at a glance, from the cache (works offline).
    Status,
    /// Fetch everything from the provider and send queued changes.
    Sync(account::SyncArgs),
    /// List the soft clients shared with you (and live registrations with --live).
    Devices(account::DevicesArgs),
    /// Show every setting with its state (synced, pending, conflict, failed).
    Settings,
    /// Call forwarding: always, busy, no-answer, not-reachable.
    Forward(settings::ForwardArgs),
    /// Do Not Disturb.
    Dnd(settings::DndArgs),
    /// Simultaneous Ring: ring other numbers together with your line.
    Simring(settings::SimRingArgs),
    /// Sequential Ring: ring up to five numbers one after another.
    SequentialRing(settings::SequentialRingArgs),
    /// Speed Dial 8 (codes 2–9).
    SpeedDial(settings::SpeedDialArgs),
    /// Speed Dial 100 (codes 0–99).
    #[command(name = "speed-dial-100")]
    SpeedDial100(settings::SpeedDialArgs),
    /// Anonymous Call Rejection.
    AnonymousRejection(settings::ToggleArgs),
    /// Call Waiting.
    CallWaiting(settings::ToggleArgs),
    /// Block my caller ID (Calling Line ID Delivery Blocking).
    BlockCallerId(settings::ToggleArgs),
    /// Remote Office: ring another number instead of your line.
    RemoteOffice(settings::RemoteOfficeArgs),
    /// Call Notify: e-mail when calls match your criteria.
    CallNotify(settings::CallNotifyArgs),
    /// BroadWorks Anywhere locations.
    Anywhere(settings::AnywhereArgs),
    /// Your personal directory, and search across every directory.
    Directory(lists::DirectoryArgs),
    /// Call history.
    Calls(lists::CallsArgs),
    /// Click-to-dial: your phone rings, then the number is called.
    Dial(lists::DialArgs),
    /// Register your line and show incoming calls as desktop notifications until Ctrl-C.
    Listen(listen::ListenArgs),
    /// Changes waiting for the provider: list, resolve conflicts, discard.
    Changes(lists::ChangesArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn init_logging(verbose: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if verbose { "info" } else { "warn" })
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("deskline: could not start: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let global = cli.global;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Completions { shell } => {
                clap_complete::generate(
                    shell,
                    &mut Cli::command(),
                    "deskline",
                    &mut std::io::stdout(),
                );
                Ok(ExitCode::SUCCESS)
            }
            other => run(other, &global).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            let code = exit::classify(&e);
            if global.json {
                output::print_json(&serde_json::json!({
                    "type": "error",
                    "kind": exit::kind_name(code),
                    "message": format!("{e:#}"),
                }));
            }
            eprintln!("deskline: {e:#}");
            ExitCode::from(code)
        }
    }
}

async fn run(command: Command, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    if let Command::Login(args) = command {
        return account::login(args, global).await;
    }
    if let Command::Listen(args) = command {
        return listen::run(args, global).await;
    }
    let ctx = context::Context::open(global).await?;
    let result = match command {
        Command::Logout(args) => account::logout(&ctx, args).await,
        Command::Status => account::status(&ctx).await,
        Command::Sync(args) => account::sync(&ctx, args).await,
        Command::Devices(args) => account::devices(&ctx, args).await,
        Command::Settings => settings::show_all(&ctx).await,
        Command::Forward(args) => settings::forward(&ctx, args).await,
        Command::Dnd(args) => settings::dnd(&ctx, args).await,
        Command::Simring(args) => settings::simring(&ctx, args).await,
        Command::SequentialRing(args) => settings::sequential_ring(&ctx, args).await,
        Command::SpeedDial(args) => settings::speed_dial(&ctx, args, false).await,
        Command::SpeedDial100(args) => settings::speed_dial(&ctx, args, true).await,
        Command::AnonymousRejection(args) => {
            settings::toggle(
                &ctx,
                deskline_core::SettingKey::AnonymousCallRejection,
                args,
            )
            .await
        }
        Command::CallWaiting(args) => {
            settings::toggle(&ctx, deskline_core::SettingKey::CallWaiting, args).await
        }
        Command::BlockCallerId(args) => {
            settings::toggle(
                &ctx,
                deskline_core::SettingKey::CallingLineIdDeliveryBlocking,
                args,
            )
            .await
        }
        Command::RemoteOffice(args) => settings::remote_office(&ctx, args).await,
        Command::CallNotify(args) => settings::call_notify(&ctx, args).await,
        Command::Anywhere(args) => settings::anywhere(&ctx, args).await,
        Command::Directory(args) => lists::directory(&ctx, args).await,
        Command::Calls(args) => lists::calls(&ctx, args).await,
        Command::Dial(args) => lists::dial(&ctx, args).await,
        Command::Changes(args) => lists::changes(&ctx, args).await,
        Command::Login(_) | Command::Listen(_) | Command::Completions { .. } => {
            Ok(ExitCode::SUCCESS)
        }
    };
    ctx.close().await;
    result
}
