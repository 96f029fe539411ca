//! Handing the line between this window process and the small tray process
//! (`deskline-tray`, no GTK or WebKit): the app takes the line over from a running tray at
//! start, gives it to a new tray when its last window closes (and then exits, so GTK's and
//! WebKit's memory goes with it), and a start at login (`--minimized`) becomes the tray
//! straight away. One process owns the line at a time; the D-Bus protocol is the tray
//! crate's.

use crate::state::Shell;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tauri::AppHandle;

/// How long the app waits for a running tray to unregister its lines and exit.
const HANDOVER_TIMEOUT: Duration = Duration::from_secs(10);

/// The `deskline-tray` binary: `DESKLINE_TRAY_BIN`, else beside this executable, else on
/// the `PATH`. `None` when there is none (the app then stays in the tray itself).
pub fn tray_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DESKLINE_TRAY_BIN") {
        return Some(PathBuf::from(path));
    }
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("deskline-tray")));
    if let Some(path) = sibling.filter(|p| p.is_file()) {
        return Some(path);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("deskline-tray"))
            .find(|p| p.is_file())
    })
}

/// The tray's arguments for the same data directory and provider as this app.
fn tray_command(tray: &PathBuf, data_dir: Option<&PathBuf>, demo: bool) -> Command {
    let mut cmd = Command::new(tray);
    if let Some(dir) = data_dir {
        cmd.arg("--data-dir").arg(dir);
    }
    if demo {
        cmd.arg("--demo");
    }
    cmd
}

/// A start at login: become the tray process at once (nothing of GTK or WebKit is loaded
/// yet). Returns only when that is impossible (no tray binary, or `exec` failed); the app
/// then starts hidden in its own tray as before.
pub fn become_tray(data_dir: Option<&PathBuf>, demo: bool) {
    let Some(tray) = tray_binary() else {
        return;
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let error = tray_command(&tray, data_dir, demo).exec();
        eprintln!(
            "Deskline: could not start {}: {error}; staying in the app's own tray",
            tray.display()
        );
    }
    #[cfg(not(unix))]
    {
        let _ = (tray, data_dir, demo);
    }
}

/// Asks a running tray process to hand the line over; returns once it has unregistered
/// and gone (or at once when none runs).
pub async fn take_over_from_tray() {
    match tokio::time::timeout(HANDOVER_TIMEOUT, deskline_tray::control::request_handover()).await {
        Ok(Ok(true)) => tracing::info!("took the line over from the tray"),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "the tray did not hand the line over"),
        Err(_) => tracing::warn!("the tray did not hand the line over in time"),
    }
}

/// Set once the app has started handing over, so the last window closing twice (the main
/// and the ringing window) hands over once.
static HANDING_OVER: AtomicBool = AtomicBool::new(false);

/// The last window closed: stop the call side (unregistering the lines), start the tray
/// process, which registers them once this process has exited, and exit. Returns `false`
/// (and does nothing) when there is no tray binary: the app then stays in its own tray.
pub fn hand_over_to_tray(app: &AppHandle, shell: &Arc<Shell>) -> bool {
    let Some(tray) = tray_binary() else {
        return false;
    };
    if HANDING_OVER.swap(true, Ordering::SeqCst) {
        return true;
    }
    let app = app.clone();
    let shell = shell.clone();
    tauri::async_runtime::spawn(async move {
        let demo = shell.is_demo().await;
        shell.stop_running().await;
        let mut cmd = tray_command(&tray, shell.options.data_dir.as_ref(), demo);
        cmd.arg("--after-app")
            .arg(std::process::id().to_string())
            .stdin(Stdio::null());
        // Its own process group: whatever ends this process's group (a terminal, a
        // session manager, a test driver) leaves the tray alone.
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt as _;
            cmd.process_group(0);
        }
        match cmd.spawn() {
            Ok(_) => {
                tracing::info!("the tray process keeps the line; the window process exits");
                app.exit(0);
            }
            Err(e) => {
                // The lines were unregistered: start them again here and stay in this
                // process's own tray.
                tracing::warn!(error = %e, tray = %tray.display(), "could not start the tray process");
                HANDING_OVER.store(false, Ordering::SeqCst);
                shell.start(&app).await;
                crate::tray::refresh(&app).await;
            }
        }
    });
    true
}
