//! `org.deskline.Tray1` at `/org/deskline/Tray1`, under the well-known name
//! `org.deskline.desktop.Tray`: the one owner of the line while the app's window is
//! closed. `Handover()` stops the call side (every line unregistered) and syncing, and
//! answers only once that is done; the tray then exits. `Summary` (property) and
//! `GetSummary()` give the account and the line summary as JSON, for tests and
//! diagnostics.

use tokio::sync::{mpsc, oneshot, watch};
use zbus::fdo;

/// The tray's well-known name.
pub const TRAY_NAME: &str = "org.deskline.desktop.Tray";
/// The control object's path.
pub const TRAY_PATH: &str = "/org/deskline/Tray1";
/// The control interface.
pub const TRAY_INTERFACE: &str = "org.deskline.Tray1";
/// The name the running desktop app owns (tauri-plugin-single-instance).
pub const APP_NAME: &str = "org.deskline.desktop.SingleInstance";

/// A request from the bus to the tray's main loop.
#[derive(Debug)]
pub enum Request {
    /// Let go of the line; answer when every line is unregistered.
    Handover(oneshot::Sender<()>),
}

/// The served object.
pub struct Control {
    /// Where requests go.
    pub requests: mpsc::Sender<Request>,
    /// The summary as JSON.
    pub summary: watch::Receiver<String>,
}

#[zbus::interface(name = "org.deskline.Tray1")]
impl Control {
    /// Unregisters every line and stops syncing; returns once done, then the tray exits.
    async fn handover(&self) -> fdo::Result<()> {
        let (done, finished) = oneshot::channel();
        self.requests
            .send(Request::Handover(done))
            .await
            .map_err(|_| fdo::Error::Failed("the tray is already stopping".into()))?;
        finished
            .await
            .map_err(|_| fdo::Error::Failed("the tray stopped before it let go of the line".into()))
    }

    /// The account and the line summary, as JSON.
    fn get_summary(&self) -> String {
        self.summary.borrow().clone()
    }

    /// The account and the line summary, as JSON.
    #[zbus(property)]
    fn summary(&self) -> String {
        self.summary.borrow().clone()
    }
}

/// The client side, for the app: `Handover()` on a running tray, which returns once its
/// lines are unregistered. `Ok(false)` when no tray runs on this session bus.
pub async fn request_handover() -> zbus::Result<bool> {
    let connection = zbus::Connection::session().await?;
    let bus = fdo::DBusProxy::new(&connection).await?;
    if !bus
        .name_has_owner(zbus::names::BusName::try_from(TRAY_NAME)?)
        .await?
    {
        return Ok(false);
    }
    connection
        .call_method(
            Some(TRAY_NAME),
            TRAY_PATH,
            Some(TRAY_INTERFACE),
            "Handover",
            &(),
        )
        .await?;
    Ok(true)
}
