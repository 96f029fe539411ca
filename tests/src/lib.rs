//! End-to-end suites against real components: the real `deskline` binary against the
//! sandbox provider over HTTP, Kamailio and SIPp for SIP, a private D-Bus session bus with a
//! recording notification server and a recording StatusNotifierWatcher for the tray. This
//! library holds the harnesses; the suites are in `tests/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

pub mod bins;
pub mod cli;
pub mod dbus;
pub mod desktop;
pub mod kamailio;
pub mod sipp;
pub mod tray;
