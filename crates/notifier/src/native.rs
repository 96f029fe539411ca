//! The desktop notifier on macOS and Windows, through notify-rust's native backends
//! (`NSUserNotificationCenter`, WinRT toasts). Their APIs block, so each notification is
//! shown and waited on by a dedicated thread, never on an async thread.
//!
//! Limits of these backends (not verified on those systems by Deskline's test suites,
//! which run on Linux): a notification cannot be withdrawn, so [`Notifier::close`] only
//! stops reporting its actions; macOS delivers the choice only while the application's
//! main run loop runs (the desktop app's, not the command line's); urgency and category
//! are freedesktop notions (Windows shows a critical call as a reminder toast).
//! A notification closed without a choice reports [`NotificationAction::Dismissed`],
//! unless Deskline closed it first.

use crate::text;
use deskline_core::calls::{
    IncomingCallView, NotificationAction, NotificationId, Notifier, NotifyError,
};
use notify_rust::{Notification, Timeout};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

const SHOW_TIMEOUT: Duration = Duration::from_secs(5);

/// What the notification service says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// The platform's notification service.
    pub name: String,
    /// Its vendor.
    pub vendor: String,
    /// Its version, when known.
    pub version: String,
    /// Not applicable outside freedesktop (empty).
    pub spec_version: String,
    /// What Deskline uses of it.
    pub capabilities: Vec<String>,
}

/// Shows call notifications on the desktop; see the module docs.
#[derive(Clone)]
pub struct DesktopNotifier {
    actions: mpsc::Sender<(String, NotificationAction)>,
    shown: Arc<Mutex<HashMap<u64, (String, Arc<AtomicBool>)>>>,
    next: Arc<AtomicU64>,
}

impl std::fmt::Debug for DesktopNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesktopNotifier").finish_non_exhaustive()
    }
}

fn build(call: &IncomingCallView) -> Notification {
    let mut n = Notification::new();
    n.appname(text::APP_NAME)
        .summary(&text::summary(call))
        .body(&text::body(call))
        .timeout(Timeout::Never);
    #[cfg(target_os = "windows")]
    n.urgency(notify_rust::Urgency::Critical);
    for (key, label) in text::ACTIONS {
        n.action(key, label);
    }
    n
}

impl DesktopNotifier {
    /// A notifier reporting chosen actions on `actions`.
    pub fn new(actions: mpsc::Sender<(String, NotificationAction)>) -> Self {
        Self {
            actions,
            shown: Arc::new(Mutex::new(HashMap::new())),
            next: Arc::new(AtomicU64::new(0)),
        }
    }

    fn shown(&self) -> MutexGuard<'_, HashMap<u64, (String, Arc<AtomicBool>)>> {
        self.shown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Describes the platform's notification service (always available here).
    pub async fn probe(&self) -> Result<ServerInfo, NotifyError> {
        Ok(ServerInfo {
            name: if cfg!(target_os = "macos") {
                "macOS notification center".into()
            } else {
                "Windows toast notifications".into()
            },
            vendor: "notify-rust".into(),
            version: String::new(),
            spec_version: String::new(),
            capabilities: vec!["actions".into()],
        })
    }

    /// Not supported by these backends: fails with `Failed`.
    pub async fn update(
        &self,
        id: NotificationId,
        _call: &IncomingCallView,
    ) -> Result<(), NotifyError> {
        Err(NotifyError::Failed {
            reason: format!("notification {} cannot be updated on this platform", id.0),
        })
    }

    /// Stops reporting the actions of every notification (they cannot be withdrawn).
    pub async fn close_all(&self) {
        for (_, (_, closing)) in self.shown().drain() {
            closing.store(true, Ordering::SeqCst);
        }
    }

    /// The call IDs of the notifications shown now.
    pub fn shown_calls(&self) -> Vec<String> {
        self.shown().values().map(|(c, _)| c.clone()).collect()
    }
}

#[async_trait::async_trait]
impl Notifier for DesktopNotifier {
    async fn show_incoming(&self, call: &IncomingCallView) -> Result<NotificationId, NotifyError> {
        let notification = build(call);
        let closing = Arc::new(AtomicBool::new(false));
        let (shown_tx, shown_rx) = oneshot::channel();
        let actions = self.actions.clone();
        let call_id = call.call_id.clone();
        let flag = closing.clone();
        std::thread::Builder::new()
            .name("deskline-notification".into())
            .spawn(move || match notification.show() {
                Err(e) => {
                    let _ = shown_tx.send(Err(e.to_string()));
                }
                Ok(handle) => {
                    let _ = shown_tx.send(Ok(()));
                    handle.wait_for_action(|key| {
                        if flag.load(Ordering::SeqCst) {
                            return;
                        }
                        let action = match key {
                            "__closed" => Some(NotificationAction::Dismissed),
                            other => text::action_for_key(other),
                        };
                        if let Some(action) = action {
                            let _ = actions.blocking_send((call_id, action));
                        }
                    });
                }
            })
            .map_err(|e| NotifyError::Failed {
                reason: format!("could not start a notification thread: {e}"),
            })?;
        match tokio::time::timeout(SHOW_TIMEOUT, shown_rx).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(reason))) => return Err(NotifyError::Failed { reason }),
            Ok(Err(_)) => {
                return Err(NotifyError::Failed {
                    reason: "the notification thread ended early".into(),
                });
            }
            Err(_) => {
                closing.store(true, Ordering::SeqCst);
                return Err(NotifyError::Failed {
                    reason: "the notification service did not answer within 5 s".into(),
                });
            }
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        self.shown().insert(id, (call.call_id.clone(), closing));
        Ok(NotificationId(id))
    }

    async fn close(&self, id: NotificationId) -> Result<(), NotifyError> {
        if let Some((_, closing)) = self.shown().remove(&id.0) {
            closing.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
}
