//! Deskline's call notifications: [`DesktopNotifier`] implements the core's
//! [`Notifier`](deskline_core::calls::Notifier) port with notify-rust — freedesktop
//! notifications over the D-Bus session bus on Linux and the BSDs ([`xdg`] module docs),
//! the native notification centers on macOS and Windows (`native` module). What a
//! notification says is in [`text`], the same everywhere.
//!
//! Chosen actions come back on the `mpsc::Sender<(call_id, NotificationAction)>` given to
//! [`DesktopNotifier::new`]. Closing a notification from Deskline reports nothing;
//! a notification that goes away otherwise reports `Dismissed` once.
//!
//! [`RecordingNotifier`] is a test-only notifier that records calls in memory.
//!
//! Architecture invariant: notify-rust and zbus types never leave this crate.

pub mod recording;
pub mod text;

#[cfg(all(unix, not(target_os = "macos")))]
pub mod xdg;
#[cfg(all(unix, not(target_os = "macos")))]
pub use xdg::{DesktopNotifier, ServerInfo};

#[cfg(any(target_os = "macos", target_os = "windows"))]
mod native;
#[cfg(any(target_os = "macos", target_os = "windows"))]
pub use native::{DesktopNotifier, ServerInfo};

pub use recording::{Recorded, RecordingNotifier};
