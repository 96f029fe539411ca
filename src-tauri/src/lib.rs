//! Deskline's desktop app: a thin Tauri 2 shell over `deskline-api`. It owns windows, the
//! tray, deep links, start at login and single-instance behaviour; everything a user can do
//! is a core call made by a command in [`commands`]. Wire types live in [`dto`], errors in
//! [`error`]; [`events`] and [`line`] stream the core's sync and line events to the UI;
//! [`state`] keeps the running session; [`tray`] the tray icon and the main window's life;
//! [`links`] parses `tel:`/`sip:`/`callto:` links.
//!
//! Architecture invariant: only this crate knows IPC, Tauri and the web view; it holds no
//! behaviour of the line.

pub mod appearance;
pub mod commands;
pub mod dto;
pub mod error;
pub mod events;
pub mod handoff;
pub mod line;
pub mod links;
pub mod state;
pub mod tray;

use state::{Shell, ShellOptions};
use std::sync::Arc;
use tauri::{Manager, RunEvent};
use tauri_specta::Event as _;

static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Marks the start of the process (`main` calls it first); start-up milestones are logged
/// at debug level in milliseconds since then.
pub fn mark_start() {
    STARTED.get_or_init(std::time::Instant::now);
}

/// Milliseconds since [`mark_start`] (for the start-up milestones in the log).
pub fn since_start_ms() -> u64 {
    STARTED.get().map_or(0, |t| {
        u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
    })
}

/// Where the generated TypeScript bindings live, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/lib/bindings.ts";

/// The typed command and event set; also exports `ui/src/lib/bindings.ts`.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            commands::app_state,
            commands::sign_in,
            commands::try_demo,
            commands::sign_out,
            commands::account_status,
            commands::settings,
            commands::edit_setting,
            commands::resolve_conflict,
            commands::discard_change,
            commands::sync_now,
            commands::search_directory,
            commands::search_remote_directory,
            commands::call_history,
            commands::dial,
            commands::soft_clients,
            commands::registrations,
            commands::line_state,
            commands::set_preferences,
            commands::take_pending_dial,
            commands::system_dark,
            commands::decline_call,
            commands::open_main_window,
            commands::missed_calls_seen,
            commands::close_main_window,
        ])
        .events(tauri_specta::collect_events![
            dto::SyncEvent,
            dto::LineEvent,
            dto::AppEvent
        ])
        .typ::<error::ErrorCode>()
        .dangerously_cast_bigints_to_number()
        .disable_serde_phases()
}

/// Writes the TypeScript bindings to `path`.
pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    specta_builder()
        .export(
            specta_typescript::Typescript::default()
                .header("// Generated from src-tauri by `cargo test -p deskline-app --test bindings` with UPDATE_BINDINGS=1. Do not edit.\n/* eslint-disable */"),
            path,
        )
        .map_err(|e| e.to_string())
}

/// A link from the desktop or a second start: ask the UI to confirm the call.
pub fn handle_link(app: &tauri::AppHandle, raw: &str) {
    match links::parse_link(raw) {
        Ok(destination) => {
            let destination = destination.to_string();
            let shell = app.state::<Arc<Shell>>();
            shell.set_pending_dial(Some(destination.clone()));
            let had_window = app.get_webview_window(tray::MAIN_WINDOW).is_some();
            tray::show_main(app, None);
            if had_window {
                let _ = dto::AppEvent::DialRequest { destination }.emit(app);
            }
        }
        Err(e) => tracing::warn!(error = %e, "ignored a link Deskline cannot call"),
    }
}

/// Resolves on SIGTERM, SIGINT or SIGHUP (Unix), or Ctrl-C elsewhere.
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the app.
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,deskline=info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let options = ShellOptions::from_env();
    let minimized = options.minimized;
    if minimized {
        // Start at login: the small tray process is all that is needed until the window
        // is opened (returns only when it cannot be started).
        handoff::become_tray(options.data_dir.as_ref(), options.demo);
    }
    let shell = Arc::new(Shell::new(options));
    let shell_at_exit = shell.clone();
    let builder = specta_builder();
    let app = tauri::Builder::default()
        // First: a second start hands its arguments (and links) to this instance.
        .plugin(tauri_plugin_single_instance::init(
            |app, args, _cwd| match links::link_in_args(args) {
                Some(link) => handle_link(app, &link),
                None => tray::show_main(app, None),
            },
        ))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--minimized"]),
        ))
        .manage(shell.clone())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            tracing::debug!(ms = since_start_ms(), "start-up: setup");
            builder.mount_events(app);
            appearance::follow(app.handle());
            // The window first: its web view's processes start while the rest is set up.
            if !minimized {
                tray::show_main(app.handle(), None);
                tracing::debug!(ms = since_start_ms(), "start-up: main window made");
            }
            tray::create(app.handle())?;
            tracing::debug!(ms = since_start_ms(), "start-up: tray icon made");
            {
                use tauri_plugin_deep_link::DeepLinkExt as _;
                let handle = app.handle().clone();
                app.deep_link().on_open_url(move |event| {
                    for url in event.urls() {
                        handle_link(&handle, url.as_str());
                    }
                });
                if let Ok(Some(urls)) = app.deep_link().get_current() {
                    for url in urls {
                        handle_link(app.handle(), url.as_str());
                    }
                }
            }
            if let Some(link) = links::link_in_args(std::env::args()) {
                handle_link(app.handle(), &link);
            }
            let handle = app.handle().clone();
            let shell = shell.clone();
            tauri::async_runtime::spawn(async move {
                shell.start(&handle).await;
                tray::refresh(&handle).await;
            });
            // Logging out, shutting down or `kill`: quit as from the tray, so the lines
            // are unregistered (a binding left behind keeps ringing nobody).
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                termination().await;
                tray::quit(&handle);
            });
            Ok(())
        })
        .build(tauri::generate_context!("../tauri.conf.json"));
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("Deskline could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(move |app, event| {
        // Closing the last window keeps Deskline in the tray (the small tray process
        // when there is one); only Quit exits.
        if let RunEvent::ExitRequested { api, code, .. } = event
            && code.is_none()
        {
            api.prevent_exit();
            handoff::hand_over_to_tray(app, &shell_at_exit);
        }
    });
}
