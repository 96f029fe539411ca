//! Deskline in the tray: `deskline-tray` keeps the line registered and the calls
//! notified while the desktop app's window is closed, as a small process with no GTK,
//! WebKit or Tauri. When the app's window closes, the app lets go of the line and starts
//! `deskline-tray --after-app PID`; "Open Deskline" starts the app again, which asks the
//! tray over D-Bus to hand the line over (`org.deskline.Tray1.Handover`), and the tray
//! unregisters and exits.
//!
//! Parts: [`run`] (the life of the process), [`control`] (the bus name
//! `org.deskline.desktop.Tray` and `org.deskline.Tray1`), [`sni`] (the tray icon as a
//! StatusNotifierItem with a dbusmenu, on zbus), [`view`] (what the icon, tooltip and menu
//! say), [`icons`], [`launch`] (starting the app), [`wait`] (`--after-app`). The session
//! itself runs in `deskline_api::resident`; notifications are `deskline-notifier`'s.
//!
//! Architecture invariant: a shell like the app and the CLI — no behaviour of the line
//! here; it never links a GUI toolkit (the e2e suite checks the binary with `ldd`).

pub mod control;
pub mod icons;
pub mod launch;
pub mod run;
pub mod sni;
pub mod view;
pub mod wait;

pub use run::{Options, Outcome, run};

/// What can stop the tray.
#[derive(Debug, thiserror::Error)]
pub enum TrayError {
    /// No session bus.
    #[error(
        "no D-Bus session bus ({0}); deskline-tray runs in a desktop session (DBUS_SESSION_BUS_ADDRESS)"
    )]
    NoBus(#[source] zbus::Error),
    /// A D-Bus call failed.
    #[error("D-Bus: {0}")]
    Bus(#[from] zbus::Error),
    /// Opening the data directory, the keychain or the account failed.
    #[error(transparent)]
    Api(#[from] deskline_api::ApiError),
    /// `--after-app`: the app did not exit in time.
    #[error(
        "the Deskline app (process {pid}) did not exit within {secs} s; the tray does not take the line over while the app has it"
    )]
    AppStillRunning {
        /// The app's process id.
        pid: u32,
        /// The limit.
        secs: u64,
    },
    /// A built-in icon could not be decoded.
    #[error("a tray icon could not be decoded: {0}")]
    Icon(String),
    /// Signal handlers could not be installed.
    #[error("signal handlers could not be installed: {0}")]
    Signals(#[source] std::io::Error),
}
