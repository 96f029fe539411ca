//! The desktop notifier on Linux and the BSDs: freedesktop notifications over the D-Bus
//! session bus named by `DBUS_SESSION_BUS_ADDRESS` (zbus falls back to
//! `$XDG_RUNTIME_DIR/bus` when it is unset). notify-rust builds each notification (text,
//! hints, actions); it is sent, and the server's signals are read, on one shared zbus
//! connection of our own on tokio.
//!
//! Each ringing call gets its own notification (critical urgency, category
//! `call.incoming`, resident, never expiring, Answer and Decline buttons). The user's
//! choice is sent on the action channel tagged with the call ID.
//!
//! Signals before the reply: the connection subscribes to the server's `ActionInvoked`
//! and `NotificationClosed` once, when it connects, before any `Notify` is sent, and one
//! listener task routes them by the server's notification id. A signal for an id whose
//! `Notify` reply has not been handled yet (a click the moment the notification appears)
//! is held briefly and delivered once the id is known. (notify-rust's own handle only
//! subscribes after `Notify` returns, so such a click was lost.)
//!
//! Closing: when Deskline closes a notification (the call stopped ringing) nothing is
//! reported, and later signals for it are ignored. When the notification goes away for
//! any other reason (the user dismissed it, the server expired or replaced it)
//! [`NotificationAction::Dismissed`] is reported once; the call keeps ringing. A click on
//! the body (`default`) is not reported: it is not a choice about the call.
//!
//! Every D-Bus call is bounded by a timeout; a lost connection is made again on the next
//! notification.

use crate::text;
use deskline_core::calls::{
    IncomingCallView, NotificationAction, NotificationId, Notifier, NotifyError,
};
use futures_util::StreamExt as _;
use notify_rust::{Hint, Notification, Timeout, Urgency};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

const BUS_NAME: &str = "org.freedesktop.Notifications";
const OBJECT_PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";
/// Bound of every D-Bus call (connect, subscribe, show, close).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Signals held for an id not known yet: at most this many, for at most [`EARLY_FOR`].
const EARLY_MAX: usize = 64;
/// How long a signal for an unknown id is held (the `Notify` reply is due by then).
const EARLY_FOR: Duration = CALL_TIMEOUT;
/// How many ids Deskline closed are remembered, so their late signals are dropped.
const CLOSED_MAX: usize = 64;

/// What the server says about itself.
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
    /// Set by the listener when the connection's signal stream ended.
    lost: Arc<AtomicBool>,
    listener: AbortHandle,
}

/// A signal of the server about one of its notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ServerSignal {
    /// `ActionInvoked`: the key of the button (or `default` for the body).
    Action(String),
    /// `NotificationClosed`, with the server's reason.
    Closed(u32),
}

struct Shown {
    call_id: String,
    server_id: u32,
}

/// Which notification each of the server's signals is about.
#[derive(Default)]
struct Routing {
    /// Deskline's notification id → what is shown.
    shown: HashMap<u64, Shown>,
    /// The server's id → Deskline's id.
    by_server: HashMap<u32, u64>,
    /// Signals for server ids not shown yet, oldest first.
    early: VecDeque<(u32, ServerSignal, Instant)>,
    /// Server ids Deskline closed, newest last.
    closed: VecDeque<u32>,
}

impl Routing {
    /// What `signal` reports, if anything; a notification closed by the desktop is
    /// forgotten. A signal for an unknown id is held, unless Deskline closed that id.
    fn route(
        &mut self,
        server_id: u32,
        signal: ServerSignal,
        now: Instant,
    ) -> Option<(String, NotificationAction)> {
        let Some(&id) = self.by_server.get(&server_id) else {
            if !self.closed.contains(&server_id) {
                self.early
                    .retain(|(_, _, at)| now.duration_since(*at) < EARLY_FOR);
                if self.early.len() >= EARLY_MAX {
                    self.early.pop_front();
                }
                self.early.push_back((server_id, signal, now));
            }
            return None;
        };
        self.report(id, signal)
    }

    fn report(&mut self, id: u64, signal: ServerSignal) -> Option<(String, NotificationAction)> {
        let shown = self.shown.get(&id)?;
        match signal {
            ServerSignal::Action(key) => match text::action_for_key(&key) {
                Some(action) => Some((shown.call_id.clone(), action)),
                None => {
                    tracing::debug!(call_id = %shown.call_id, %key, "ignoring an action Deskline did not offer");
                    None
                }
            },
            ServerSignal::Closed(reason) => {
                tracing::debug!(call_id = %shown.call_id, reason, "notification closed by the desktop");
                let shown = self.shown.remove(&id)?;
                self.by_server.remove(&shown.server_id);
                Some((shown.call_id, NotificationAction::Dismissed))
            }
        }
    }

    /// Records a shown notification; returns what its held signals report.
    fn show(&mut self, id: u64, shown: Shown) -> Vec<(String, NotificationAction)> {
        let server_id = shown.server_id;
        self.closed.retain(|c| *c != server_id);
        self.by_server.insert(server_id, id);
        self.shown.insert(id, shown);
        let (held, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.early)
            .into_iter()
            .partition(|(s, _, _)| *s == server_id);
        self.early = rest.into();
        held.into_iter()
            .filter_map(|(_, signal, _)| self.report(id, signal))
            .collect()
    }

    /// Forgets a notification Deskline closes; its later signals are dropped.
    fn close(&mut self, id: u64) -> Option<Shown> {
        let shown = self.shown.remove(&id)?;
        self.by_server.remove(&shown.server_id);
        self.early.retain(|(s, _, _)| *s != shown.server_id);
        if self.closed.len() >= CLOSED_MAX {
            self.closed.pop_front();
        }
        self.closed.push_back(shown.server_id);
        Some(shown)
    }
}

struct Inner {
    actions: mpsc::Sender<(String, NotificationAction)>,
    bus: tokio::sync::Mutex<Option<Bus>>,
    routing: Mutex<Routing>,
    next: AtomicU64,
}

impl Inner {
    fn routing(&self) -> MutexGuard<'_, Routing> {
        self.routing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn send_all(&self, reports: Vec<(String, NotificationAction)>) {
        for report in reports {
            if self.actions.send(report).await.is_err() {
                return;
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(bus) = self.bus.get_mut() {
            bus.listener.abort();
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
            .field("shown", &self.inner.routing().shown.len())
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

/// Reads the server's signals on `stream` until the connection ends, routing each to its
/// notification.
async fn listen(mut stream: zbus::MessageStream, inner: Weak<Inner>, lost: Arc<AtomicBool>) {
    while let Some(message) = stream.next().await {
        let Ok(message) = message else { continue };
        let header = message.header();
        let member = header.member().map(|m| m.as_str().to_owned());
        let body = message.body();
        let parsed = match member.as_deref() {
            Some("ActionInvoked") => body
                .deserialize::<(u32, String)>()
                .ok()
                .map(|(id, key)| (id, ServerSignal::Action(key))),
            Some("NotificationClosed") => body
                .deserialize::<(u32, u32)>()
                .ok()
                .map(|(id, reason)| (id, ServerSignal::Closed(reason))),
            _ => None,
        };
        let Some((server_id, signal)) = parsed else {
            continue;
        };
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let report = inner.routing().route(server_id, signal, Instant::now());
        if let Some(report) = report {
            inner.send_all(vec![report]).await;
        }
    }
    tracing::debug!("the notification service's signals ended (the bus connection closed)");
    lost.store(true, Ordering::SeqCst);
}

/// Sends `notification` (replacing the server's `replaces` when given); the server's id.
async fn notify(
    conn: &zbus::Connection,
    notification: &Notification,
    replaces: Option<u32>,
) -> Result<u32, NotifyError> {
    let hints: HashMap<&str, zbus::Variant<'_>> =
        notification.hints.iter().map(Into::into).collect();
    let reply = call(
        conn,
        "Notify",
        &(
            notification.appname.as_str(),
            replaces.unwrap_or(0),
            notification.icon.as_str(),
            notification.summary.as_str(),
            notification.body.as_str(),
            &notification.actions,
            hints,
            i32::from(notification.timeout),
        ),
    )
    .await?;
    reply
        .body()
        .deserialize::<u32>()
        .map_err(|e| failed(format!("unreadable Notify reply: {e}")))
}

impl DesktopNotifier {
    /// A notifier reporting chosen actions on `actions`. Connects lazily: nothing is sent
    /// until the first notification or [`DesktopNotifier::probe`].
    pub fn new(actions: mpsc::Sender<(String, NotificationAction)>) -> Self {
        Self {
            inner: Arc::new(Inner {
                actions,
                bus: tokio::sync::Mutex::new(None),
                routing: Mutex::new(Routing::default()),
                next: AtomicU64::new(0),
            }),
        }
    }

    /// The shared connection and whether the server reads markup; connects, subscribes to
    /// the server's signals and asks its capabilities the first time, and again after the
    /// connection was lost.
    async fn bus(&self) -> Result<(zbus::Connection, bool), NotifyError> {
        let mut bus = self.inner.bus.lock().await;
        if let Some(b) = bus.as_ref() {
            if !b.lost.load(Ordering::SeqCst) {
                return Ok((b.conn.clone(), b.markup));
            }
            b.listener.abort();
            *bus = None;
        }
        let conn = connect().await?;
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(INTERFACE)
            .path(OBJECT_PATH)
            .build()
            .map_err(|e| failed(format!("match rule: {e}")))?;
        let stream = match tokio::time::timeout(
            CALL_TIMEOUT,
            zbus::MessageStream::for_match_rule(rule, &conn, None),
        )
        .await
        {
            Err(_) => {
                return Err(failed(format!(
                    "the D-Bus session bus did not accept a subscription within {} s",
                    CALL_TIMEOUT.as_secs()
                )));
            }
            Ok(Err(e)) => return Err(classify(&e)),
            Ok(Ok(stream)) => stream,
        };
        let lost = Arc::new(AtomicBool::new(false));
        let listener =
            tokio::spawn(listen(stream, Arc::downgrade(&self.inner), lost.clone())).abort_handle();
        let caps = match call(&conn, "GetCapabilities", &()).await {
            Ok(reply) => reply.body().deserialize::<Vec<String>>(),
            Err(e) => {
                listener.abort();
                return Err(e);
            }
        };
        let caps = match caps {
            Ok(caps) => caps,
            Err(e) => {
                listener.abort();
                return Err(failed(format!("unreadable capabilities: {e}")));
            }
        };
        let markup = caps.iter().any(|c| c == "body-markup");
        *bus = Some(Bus {
            conn: conn.clone(),
            markup,
            lost,
            listener,
        });
        Ok((conn, markup))
    }

    /// Forgets the shared connection after a bus failure, so the next call reconnects.
    async fn forget_bus_on(&self, error: &NotifyError) {
        if matches!(error, NotifyError::Unavailable { .. })
            && let Some(bus) = self.inner.bus.lock().await.take()
        {
            bus.listener.abort();
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

    /// Sends the notification for `call`; the server's id.
    async fn send(
        &self,
        call: &IncomingCallView,
        replaces: Option<u32>,
    ) -> Result<u32, NotifyError> {
        let result = match self.bus().await {
            Ok((conn, markup)) => notify(&conn, &build(call, markup), replaces).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            self.forget_bus_on(e).await;
        }
        result
    }

    /// Replaces what a shown notification says (the caller's name was resolved later, …),
    /// keeping its place and its buttons. Fails when it is no longer shown.
    pub async fn update(
        &self,
        id: NotificationId,
        call: &IncomingCallView,
    ) -> Result<(), NotifyError> {
        let server_id = self
            .inner
            .routing()
            .shown
            .get(&id.0)
            .map(|s| s.server_id)
            .ok_or_else(|| failed(format!("notification {} is no longer shown", id.0)))?;
        let new_server_id = self.send(call, Some(server_id)).await?;
        let reports = {
            let mut routing = self.inner.routing();
            if routing.shown.contains_key(&id.0) {
                if new_server_id != server_id {
                    // The server made a new one instead: the old id reports nothing more.
                    routing.close(id.0);
                }
                routing.show(
                    id.0,
                    Shown {
                        call_id: call.call_id.clone(),
                        server_id: new_server_id,
                    },
                )
            } else {
                Vec::new()
            }
        };
        self.inner.send_all(reports).await;
        Ok(())
    }

    /// Closes every notification still shown (on quit).
    pub async fn close_all(&self) {
        let ids: Vec<u64> = self.inner.routing().shown.keys().copied().collect();
        for id in ids {
            if let Err(e) = Notifier::close(self, NotificationId(id)).await {
                tracing::warn!(error = %e, "could not close a call notification");
            }
        }
    }

    /// The call IDs of the notifications shown now.
    pub fn shown_calls(&self) -> Vec<String> {
        self.inner
            .routing()
            .shown
            .values()
            .map(|s| s.call_id.clone())
            .collect()
    }
}

#[async_trait::async_trait]
impl Notifier for DesktopNotifier {
    async fn show_incoming(&self, call: &IncomingCallView) -> Result<NotificationId, NotifyError> {
        let server_id = self.send(call, None).await?;
        let id = self.inner.next.fetch_add(1, Ordering::SeqCst) + 1;
        tracing::debug!(call_id = %call.call_id, server_id, "call notification shown");
        let reports = self.inner.routing().show(
            id,
            Shown {
                call_id: call.call_id.clone(),
                server_id,
            },
        );
        // A click that came before the reply.
        self.inner.send_all(reports).await;
        Ok(NotificationId(id))
    }

    async fn close(&self, id: NotificationId) -> Result<(), NotifyError> {
        let Some(shown) = self.inner.routing().close(id.0) else {
            // Closed already (or never shown): nothing to do.
            return Ok(());
        };
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
