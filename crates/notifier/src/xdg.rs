//! The desktop notifier on Linux and the BSDs: freedesktop notifications over the D-Bus
//! session bus named by `DBUS_SESSION_BUS_ADDRESS` (zbus falls back to
//! `$XDG_RUNTIME_DIR/bus` when it is unset), through notify-rust's pure-Rust zbus backend
//! on tokio.
//!
//! Each ringing call gets its own notification (critical urgency, category
//! `call.incoming`, resident, never expiring, Answer and Decline buttons). notify-rust's
//! async API waits for the user's choice on a tokio task per notification, so no thread
//! blocks; the choice is sent on the action channel tagged with the call ID.
//!
//! Closing: when Deskline closes a notification (the call stopped ringing) nothing is
//! reported. When the notification goes away for any other reason (the user dismissed
//! it, the server expired or replaced it) [`NotificationAction::Dismissed`] is reported
//! once; the call keeps ringing. A click on the body (`default`) is not reported: it is
//! not a choice about the call.
//!
//! One shared zbus connection asks the server's capabilities (the body is escaped when
//! the server reads markup) and sends `CloseNotification`, so those errors are typed;
//! every D-Bus call is bounded by a timeout.

use crate::text;
use deskline_core::calls::{
    IncomingCallView, NotificationAction, NotificationId, Notifier, NotifyError,
};
use notify_rust::{Hint, Notification, NotificationHandle, NotificationResponse, Timeout, Urgency};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

const BUS_NAME: &str = "org.freedesktop.Notifications";
const OBJECT_PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";
/// Bound of every D-Bus call (connect, show, close).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Most responses one notification may report (bounds the wait loop).
const MAX_RESPONSES: usize = 32;

/// What the notification service says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Its name (`gnome-shell`, `mock-notify`).
    pub name: String,
    /// Its vendor.
    pub vendor: String,
    /// Its version.
    pub version: String,
    /// The notification spec version it implements.
    pub spec_version: String,
    /// Its capabilities (`actions`, `body-markup`, `persistence`, …).
    pub capabilities: Vec<String>,
}

struct Bus {
    conn: zbus::Connection,
    markup: bool,
}

struct Shown {
    call_id: String,
    server_id: u32,
    closing: Arc<AtomicBool>,
    waiter: AbortHandle,
    // Kept alive while shown: some desktops drop the actions of a notification whose
    // sending connection went away.
    _handle: Arc<NotificationHandle>,
}

struct Inner {
    actions: mpsc::Sender<(String, NotificationAction)>,
    bus: tokio::sync::Mutex<Option<Bus>>,
    shown: Mutex<HashMap<u64, Shown>>,
    next: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let shown = self
            .shown
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for s in shown.values() {
            s.waiter.abort();
        }
    }
}

/// Shows call notifications on the desktop; see the module docs.
#[derive(Clone)]
pub struct DesktopNotifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DesktopNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesktopNotifier")
            .field("shown", &self.shown().len())
            .finish_non_exhaustive()
    }
}

fn unavailable(reason: impl Into<String>) -> NotifyError {
    NotifyError::Unavailable {
        reason: reason.into(),
    }
}

fn failed(reason: impl Into<String>) -> NotifyError {
    NotifyError::Failed {
        reason: reason.into(),
    }
}

/// Classifies a zbus error: no service or a lost bus is `Unavailable`.
fn classify(error: &zbus::Error) -> NotifyError {
    match error {
        zbus::Error::FDO(e)
            if matches!(
                **e,
                zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_)
            ) =>
        {
            unavailable(format!(
                "no notification service ({BUS_NAME}) is running on the D-Bus session bus"
            ))
        }
        zbus::Error::MethodError(name, _, _)
            if matches!(
                name.as_str(),
                "org.freedesktop.DBus.Error.ServiceUnknown"
                    | "org.freedesktop.DBus.Error.NameHasNoOwner"
            ) =>
        {
            unavailable(format!(
                "no notification service ({BUS_NAME}) is running on the D-Bus session bus"
            ))
        }
        zbus::Error::InputOutput(e) => {
            unavailable(format!("the D-Bus session bus connection failed: {e}"))
        }
        other => failed(other.to_string()),
    }
}

/// Classifies notify-rust's errors, which it only gives as text.
fn classify_text(error: &notify_rust::error::Error) -> NotifyError {
    let text = error.to_string();
    if text.contains("ServiceUnknown") || text.contains("NameHasNoOwner") {
        unavailable(format!(
            "no notification service ({BUS_NAME}) is running on the D-Bus session bus"
        ))
    } else {
        failed(text)
    }
}

async fn connect() -> Result<zbus::Connection, NotifyError> {
    let env_set = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty());
    let runtime_bus = std::env::var_os("XDG_RUNTIME_DIR")
        .map(|d| std::path::Path::new(&d).join("bus"))
        .is_some_and(|p| p.exists());
    if !env_set && !runtime_bus {
        return Err(unavailable(
            "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and there is no $XDG_RUNTIME_DIR/bus",
        ));
    }
    match tokio::time::timeout(CALL_TIMEOUT, zbus::Connection::session()).await {
        Err(_) => Err(unavailable(format!(
            "the D-Bus session bus did not answer within {} s",
            CALL_TIMEOUT.as_secs()
        ))),
        Ok(Err(e)) => Err(unavailable(format!(
            "the D-Bus session bus could not be reached ({e})"
        ))),
        Ok(Ok(conn)) => Ok(conn),
    }
}

async fn call<B>(
    conn: &zbus::Connection,
    method: &str,
    body: &B,
) -> Result<zbus::message::Message, NotifyError>
where
    B: serde::Serialize + zbus::zvariant::DynamicType,
{
    let sent = conn.call_method(Some(BUS_NAME), OBJECT_PATH, Some(INTERFACE), method, body);
    match tokio::time::timeout(CALL_TIMEOUT, sent).await {
        Err(_) => Err(failed(format!(
            "the notification service did not answer {method} within {} s",
            CALL_TIMEOUT.as_secs()
        ))),
        Ok(Err(e)) => Err(classify(&e)),
        Ok(Ok(reply)) => Ok(reply),
    }
}

fn build(call: &IncomingCallView, markup: bool) -> Notification {
    let body = text::body(call);
    let mut n = Notification::new();
    n.appname(text::APP_NAME)
        .summary(&text::summary(call))
        .body(&if markup {
            text::escape_markup(&body)
        } else {
            body
        })
        .icon(text::ICON)
        .urgency(Urgency::Critical)
        .hint(Hint::Category(text::CATEGORY.to_owned()))
        // Stays until Deskline withdraws it, even after a button is clicked.
        .hint(Hint::Resident(true))
        .timeout(Timeout::Never);
    for (key, label) in text::ACTIONS {
        n.action(key, label);
    }
    n
}

/// Waits for the user's choices on one notification until it closes (or the waiter is
/// aborted because Deskline closed it).
async fn wait_for_choices(
    handle: Arc<NotificationHandle>,
    call_id: String,
    closing: Arc<AtomicBool>,
    actions: mpsc::Sender<(String, NotificationAction)>,
) {
    for _ in 0..MAX_RESPONSES {
        let mut response = None;
        handle
            .wait_for_action_async(|r| response = Some(r.clone()))
            .await;
        if closing.load(Ordering::SeqCst) {
            return;
        }
        let action = match response {
            // The connection ended.
            None => return,
            Some(NotificationResponse::Action(key)) => match text::action_for_key(&key) {
                Some(action) => action,
                None => {
                    tracing::debug!(%call_id, %key, "ignoring an action Deskline did not offer");
                    continue;
                }
            },
            Some(NotificationResponse::Closed(reason)) => {
                tracing::debug!(%call_id, ?reason, "notification closed by the desktop");
                let _ = actions
                    .send((call_id.clone(), NotificationAction::Dismissed))
                    .await;
                return;
            }
            Some(NotificationResponse::Default | NotificationResponse::Reply(_)) => continue,
        };
        if actions.send((call_id.clone(), action)).await.is_err() {
            return;
        }
    }
}

impl DesktopNotifier {
    /// A notifier reporting chosen actions on `actions`. Connects lazily: nothing is sent
    /// until the first notification or [`DesktopNotifier::probe`].
    pub fn new(actions: mpsc::Sender<(String, NotificationAction)>) -> Self {
        Self {
            inner: Arc::new(Inner {
                actions,
                bus: tokio::sync::Mutex::new(None),
                shown: Mutex::new(HashMap::new()),
                next: AtomicU64::new(0),
            }),
        }
    }

    fn shown(&self) -> MutexGuard<'_, HashMap<u64, Shown>> {
        self.inner
            .shown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The shared connection and whether the server reads markup; connects (and asks the
    /// capabilities) the first time, and again after the connection was lost.
    async fn bus(&self) -> Result<(zbus::Connection, bool), NotifyError> {
        let mut bus = self.inner.bus.lock().await;
        if let Some(b) = bus.as_ref() {
            return Ok((b.conn.clone(), b.markup));
        }
        let conn = connect().await?;
        let reply = call(&conn, "GetCapabilities", &()).await?;
        let caps: Vec<String> = reply
            .body()
            .deserialize()
            .map_err(|e| failed(format!("unreadable capabilities: {e}")))?;
        let markup = caps.iter().any(|c| c == "body-markup");
        *bus = Some(Bus {
            conn: conn.clone(),
            markup,
        });
        Ok((conn, markup))
    }

    /// Forgets the shared connection after a bus failure, so the next call reconnects.
    async fn forget_bus_on(&self, error: &NotifyError) {
        if matches!(error, NotifyError::Unavailable { .. }) {
            *self.inner.bus.lock().await = None;
        }
    }

    /// Checks that a notification service is reachable and describes it. `Unavailable`
    /// says whether the session bus or the service is missing.
    pub async fn probe(&self) -> Result<ServerInfo, NotifyError> {
        let result = self.probe_inner().await;
        if let Err(e) = &result {
            self.forget_bus_on(e).await;
        }
        result
    }

    async fn probe_inner(&self) -> Result<ServerInfo, NotifyError> {
        let (conn, _) = self.bus().await?;
        let caps: Vec<String> = call(&conn, "GetCapabilities", &())
            .await?
            .body()
            .deserialize()
            .map_err(|e| failed(format!("unreadable capabilities: {e}")))?;
        let (name, vendor, version, spec_version): (String, String, String, String) =
            call(&conn, "GetServerInformation", &())
                .await?
                .body()
                .deserialize()
                .map_err(|e| failed(format!("unreadable server information: {e}")))?;
        Ok(ServerInfo {
            name,
            vendor,
            version,
            spec_version,
            capabilities: caps,
        })
    }

    async fn send(
        &self,
        call: &IncomingCallView,
        replaces: Option<u32>,
    ) -> Result<NotificationHandle, NotifyError> {
        let (_, markup) = self.bus().await?;
        let mut notification = build(call, markup);
        if let Some(server_id) = replaces {
            notification.id(server_id);
        }
        match tokio::time::timeout(CALL_TIMEOUT, notification.show_async()).await {
            Err(_) => Err(failed(format!(
                "the notification service did not answer within {} s",
                CALL_TIMEOUT.as_secs()
            ))),
            Ok(Err(e)) => Err(classify_text(&e)),
            Ok(Ok(handle)) => Ok(handle),
        }
    }

    fn watch(&self, handle: NotificationHandle, call_id: &str) -> Shown {
        let handle = Arc::new(handle);
        let closing = Arc::new(AtomicBool::new(false));
        let waiter = tokio::spawn(wait_for_choices(
            handle.clone(),
            call_id.to_owned(),
            closing.clone(),
            self.inner.actions.clone(),
        ))
        .abort_handle();
        Shown {
            call_id: call_id.to_owned(),
            server_id: handle.id(),
            closing,
            waiter,
            _handle: handle,
        }
    }

    /// Replaces what a shown notification says (the caller's name was resolved later, …),
    /// keeping its place and its buttons. Fails when it is no longer shown.
    pub async fn update(
        &self,
        id: NotificationId,
        call: &IncomingCallView,
    ) -> Result<(), NotifyError> {
        let server_id = self
            .shown()
            .get(&id.0)
            .map(|s| s.server_id)
            .ok_or_else(|| failed(format!("notification {} is no longer shown", id.0)))?;
        let result = self.send(call, Some(server_id)).await;
        let handle = match result {
            Ok(handle) => handle,
            Err(e) => {
                self.forget_bus_on(&e).await;
                return Err(e);
            }
        };
        let fresh = self.watch(handle, &call.call_id);
        let old = self.shown().insert(id.0, fresh);
        if let Some(old) = old {
            // The replacement has its own waiter; the old one must not report again.
            old.closing.store(true, Ordering::SeqCst);
            old.waiter.abort();
        }
        Ok(())
    }

    /// Closes every notification still shown (on quit).
    pub async fn close_all(&self) {
        let ids: Vec<u64> = self.shown().keys().copied().collect();
        for id in ids {
            if let Err(e) = Notifier::close(self, NotificationId(id)).await {
                tracing::warn!(error = %e, "could not close a call notification");
            }
        }
    }

    /// The call IDs of the notifications shown now.
    pub fn shown_calls(&self) -> Vec<String> {
        self.shown().values().map(|s| s.call_id.clone()).collect()
    }
}

#[async_trait::async_trait]
impl Notifier for DesktopNotifier {
    async fn show_incoming(&self, call: &IncomingCallView) -> Result<NotificationId, NotifyError> {
        let handle = match self.send(call, None).await {
            Ok(handle) => handle,
            Err(e) => {
                self.forget_bus_on(&e).await;
                return Err(e);
            }
        };
        let id = self.inner.next.fetch_add(1, Ordering::SeqCst) + 1;
        let shown = self.watch(handle, &call.call_id);
        tracing::debug!(call_id = %call.call_id, server_id = shown.server_id, "call notification shown");
        self.shown().insert(id, shown);
        Ok(NotificationId(id))
    }

    async fn close(&self, id: NotificationId) -> Result<(), NotifyError> {
        let Some(shown) = self.shown().remove(&id.0) else {
            // Closed already (or never shown): nothing to do.
            return Ok(());
        };
        shown.closing.store(true, Ordering::SeqCst);
        shown.waiter.abort();
        let (conn, _) = self.bus().await?;
        let result = call(&conn, "CloseNotification", &(shown.server_id,)).await;
        if let Err(e) = &result {
            self.forget_bus_on(e).await;
        }
        result.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_service_is_unavailable() {
        let err = classify(&zbus::Error::InputOutput(Arc::new(std::io::Error::other(
            "broken pipe",
        ))));
        assert!(matches!(err, NotifyError::Unavailable { .. }), "{err:?}");
        let err = classify(&zbus::Error::FDO(Box::new(
            zbus::fdo::Error::ServiceUnknown("not provided by any .service files".into()),
        )));
        assert!(
            matches!(&err, NotifyError::Unavailable { reason } if reason.contains("no notification service")),
            "{err:?}"
        );
        let err = classify(&zbus::Error::Failure("odd".into()));
        assert!(matches!(err, NotifyError::Failed { .. }), "{err:?}");
    }

    #[test]
    fn the_notification_is_a_critical_resident_call() {
        let view = IncomingCallView {
            call_id: "c1".into(),
            caller_name: Some("Smith & Co".into()),
            caller_number: "2145552001".into(),
            line_label: "Dana Demo (PC)".into(),
        };
        let n = build(&view, true);
        assert_eq!(n.appname, "Deskline");
        assert_eq!(n.summary, "Incoming call — Smith & Co");
        assert_eq!(n.body, "2145552001 · on Dana Demo (PC)");
        assert_eq!(n.actions, ["answer", "Answer", "decline", "Decline"]);
        let plain = build(
            &IncomingCallView {
                line_label: "A & B".into(),
                ..view
            },
            false,
        );
        assert_eq!(plain.body, "2145552001 · on A & B");
        let marked = build(
            &IncomingCallView {
                line_label: "A & B".into(),
                call_id: "c2".into(),
                caller_name: None,
                caller_number: "1".into(),
            },
            true,
        );
        assert_eq!(marked.body, "1 · on A &amp; B");
    }
}
