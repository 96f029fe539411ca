//! [`RecordingNotifier`]: a test-only [`Notifier`] that shows nothing and records every
//! call in memory, so the call tracker's tests can check what would have been shown and
//! closed, make it fail on demand, and play the user choosing an action. Not for
//! production use: it never reaches a desktop.

use async_trait::async_trait;
use deskline_core::calls::{
    IncomingCallView, NotificationAction, NotificationId, Notifier, NotifyError,
};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::mpsc;

/// One call the notifier received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// `show_incoming` succeeded with this id.
    Shown {
        /// The id handed back.
        id: NotificationId,
        /// What would have been shown.
        call: IncomingCallView,
    },
    /// `show_incoming` was asked and failed (see [`RecordingNotifier::fail_with`]).
    ShowFailed {
        /// What would have been shown.
        call: IncomingCallView,
    },
    /// `close` was called with this id.
    Closed {
        /// The id.
        id: NotificationId,
    },
}

#[derive(Default)]
struct State {
    next: u64,
    log: Vec<Recorded>,
    open: BTreeMap<u64, IncomingCallView>,
    fail: Option<NotifyError>,
}

/// A [`Notifier`] for tests: records instead of showing. See the module docs.
pub struct RecordingNotifier {
    actions: mpsc::Sender<(String, NotificationAction)>,
    state: Mutex<State>,
}

impl RecordingNotifier {
    /// A recorder reporting chosen actions on `actions`, like the desktop notifier.
    pub fn new(actions: mpsc::Sender<(String, NotificationAction)>) -> Self {
        Self {
            actions,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread cannot leave the log half-written: recover it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every call so far, in order.
    pub fn log(&self) -> Vec<Recorded> {
        self.state().log.clone()
    }

    /// Every notification shown so far, in order.
    pub fn shown(&self) -> Vec<(NotificationId, IncomingCallView)> {
        self.state()
            .log
            .iter()
            .filter_map(|r| match r {
                Recorded::Shown { id, call } => Some((*id, call.clone())),
                _ => None,
            })
            .collect()
    }

    /// The ids closed so far, in order.
    pub fn closed(&self) -> Vec<NotificationId> {
        self.state()
            .log
            .iter()
            .filter_map(|r| match r {
                Recorded::Closed { id } => Some(*id),
                _ => None,
            })
            .collect()
    }

    /// The notifications shown and not closed yet, oldest first.
    pub fn open(&self) -> Vec<(NotificationId, IncomingCallView)> {
        self.state()
            .open
            .iter()
            .map(|(id, call)| (NotificationId(*id), call.clone()))
            .collect()
    }

    /// Makes every following `show_incoming` fail with `error` (`None`: succeed again).
    pub fn fail_with(&self, error: Option<NotifyError>) {
        self.state().fail = error;
    }

    /// Plays the user choosing `action` on the open notification of `call_id`: reports it
    /// on the action channel, as the desktop notifier would. Returns false (and reports
    /// nothing) when no notification of that call is open.
    pub async fn choose(&self, call_id: &str, action: NotificationAction) -> bool {
        let open = self.state().open.values().any(|c| c.call_id == call_id);
        if !open {
            return false;
        }
        self.actions
            .send((call_id.to_owned(), action))
            .await
            .is_ok()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn show_incoming(&self, call: &IncomingCallView) -> Result<NotificationId, NotifyError> {
        let mut state = self.state();
        if let Some(error) = state.fail.clone() {
            state.log.push(Recorded::ShowFailed { call: call.clone() });
            return Err(error);
        }
        state.next += 1;
        let id = state.next;
        state.open.insert(id, call.clone());
        state.log.push(Recorded::Shown {
            id: NotificationId(id),
            call: call.clone(),
        });
        Ok(NotificationId(id))
    }

    async fn close(&self, id: NotificationId) -> Result<(), NotifyError> {
        let mut state = self.state();
        state.open.remove(&id.0);
        state.log.push(Recorded::Closed { id });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn view(call_id: &str) -> IncomingCallView {
        IncomingCallView {
            call_id: call_id.into(),
            caller_name: None,
            caller_number: "100".into(),
            line_label: "Line".into(),
        }
    }

    #[tokio::test]
    async fn records_shows_closes_and_choices() {
        let (tx, mut rx) = mpsc::channel(4);
        let n = RecordingNotifier::new(tx);
        let a = n.show_incoming(&view("a")).await.unwrap();
        let b = n.show_incoming(&view("b")).await.unwrap();
        assert_ne!(a, b);
        assert_eq!(n.open().len(), 2);
        n.close(a).await.unwrap();
        assert_eq!(n.closed(), vec![a]);
        assert_eq!(n.open(), vec![(b, view("b"))]);
        // A closed notification cannot be clicked; an open one reports its call.
        assert!(!n.choose("a", NotificationAction::Decline).await);
        assert!(n.choose("b", NotificationAction::Decline).await);
        assert_eq!(
            rx.recv().await.unwrap(),
            ("b".to_owned(), NotificationAction::Decline)
        );
        n.fail_with(Some(NotifyError::Unavailable {
            reason: "test".into(),
        }));
        assert!(n.show_incoming(&view("c")).await.is_err());
        assert!(matches!(n.log().last(), Some(Recorded::ShowFailed { .. })));
    }
}
