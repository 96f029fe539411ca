//! The call tracker: turns the SIP agent's [`LineEvent`]s into what the user sees and
//! keeps. For a ringing call it resolves the caller's name (the account's directory via
//! [`Store::lookup_number`], then earlier calls with the same number in the call history,
//! then the name the caller sent), applies Do Not Disturb from the cached setting (a
//! suppressed call is logged but not shown), records the call (`Ringing`) and shows a
//! notification; when the call stops ringing it withdraws the notification and records
//! how it ended. The user's choice on a notification comes back as a
//! [`NotificationAction`]: Decline goes to the agent ([`CallControl::decline`]), whose
//! 603 then ends the call like any other.
//!
//! Everything that happened is re-emitted as a [`TrackerEvent`] on a broadcast channel
//! ([`CallTracker::subscribe`]) for the shells. Time comes from the events (`at`), so the
//! tracker is deterministic to test. Failures of the store or the notifier never stop it:
//! they are logged and reported as [`TrackerEvent::Problem`].

use crate::calls::{
    CallControl, CallEndReason, IncomingCallView, LineEvent, NotificationAction, NotificationId,
    Notifier,
};
use crate::domain::settings::{Setting, SettingKey};
use crate::ports::Store;
use crate::records::{AccountId, CallDirection, CallOutcome, CallRecord};
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc};

/// How many earlier calls are searched for a caller's name.
const HISTORY_DEPTH: usize = 500;
/// Capacity of the event broadcast (a subscriber this far behind loses events).
const EVENT_CAPACITY: usize = 1024;

/// A line the tracker watches: which account its calls belong to and how to name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedLine {
    /// The line's address of record, as the agent reports it (`sip:user@domain`).
    pub aor: String,
    /// The account whose directory, history and Do Not Disturb apply.
    pub account: AccountId,
    /// The line's name in notifications ("Dana Demo (PC)").
    pub label: String,
}

/// Where a caller's name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameSource {
    /// The account's directory index (personal, group or enterprise).
    Directory,
    /// An earlier call from the same number.
    History,
    /// The display name the caller sent.
    Caller,
}

/// What the tracker reports, for the command line and the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TrackerEvent {
    /// A line registered.
    Registered {
        /// The line.
        line: String,
        /// Granted expiry in seconds.
        expires: u32,
    },
    /// A line failed to register.
    RegistrationFailed {
        /// The line.
        line: String,
        /// Why, for the user.
        reason: String,
        /// Retrying cannot help without the user.
        permanent: bool,
    },
    /// A line was unregistered.
    Unregistered {
        /// The line.
        line: String,
    },
    /// A call is ringing.
    IncomingCall {
        /// The SIP Call-ID.
        call_id: String,
        /// The line rung.
        line: String,
        /// The line's label.
        line_label: String,
        /// The caller's number.
        number: String,
        /// The caller's name as resolved.
        name: Option<String>,
        /// Where the name came from.
        name_source: Option<NameSource>,
        /// Do Not Disturb was on: not shown.
        suppressed_by_dnd: bool,
        /// A notification is showing for it.
        notified: bool,
        /// When it started ringing.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A call stopped ringing.
    CallEnded {
        /// The SIP Call-ID.
        call_id: String,
        /// The line.
        line: String,
        /// Why.
        reason: CallEndReason,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The user chose an action on a ringing call's notification.
    Action {
        /// The SIP Call-ID.
        call_id: String,
        /// What they chose.
        action: NotificationAction,
    },
    /// Something failed on the way (store, notifier); the tracker carries on.
    Problem {
        /// The call concerned, if any.
        call_id: Option<String>,
        /// What failed, for the user.
        message: String,
    },
}

struct Ringing {
    account: Option<AccountId>,
    record: CallRecord,
    notification: Option<NotificationId>,
}

/// The call tracker; see the module docs.
pub struct CallTracker {
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    control: Arc<dyn CallControl>,
    lines: HashMap<String, TrackedLine>,
    ringing: HashMap<String, Ringing>,
    events: broadcast::Sender<TrackerEvent>,
}

fn outcome(reason: CallEndReason) -> CallOutcome {
    match reason {
        CallEndReason::Missed => CallOutcome::Missed,
        CallEndReason::AnsweredElsewhere => CallOutcome::AnsweredElsewhere,
        CallEndReason::Declined => CallOutcome::Declined,
        CallEndReason::Answered => CallOutcome::Answered,
    }
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// Whether two caller numbers are the same line: equal digits, or equal last ten digits
/// when both have at least ten (`+1 214 555 2001` and `2145552001`); numbers without
/// digits (SIP user names) compare as text, ignoring case.
pub fn same_number(a: &str, b: &str) -> bool {
    let (da, db) = (digits(a), digits(b));
    if da.is_empty() || db.is_empty() {
        return !a.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim());
    }
    if da == db {
        return true;
    }
    da.len() >= 10 && db.len() >= 10 && da[da.len() - 10..] == db[db.len() - 10..]
}

fn non_empty(name: Option<&str>) -> Option<String> {
    name.map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

impl CallTracker {
    /// A tracker over `lines`, recording to `store`, showing through `notifier`, and
    /// declining through `control`.
    pub fn new(
        store: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
        control: Arc<dyn CallControl>,
        lines: Vec<TrackedLine>,
    ) -> Self {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Self {
            store,
            notifier,
            control,
            lines: lines
                .into_iter()
                .map(|l| (l.aor.to_ascii_lowercase(), l))
                .collect(),
            ringing: HashMap::new(),
            events,
        }
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<TrackerEvent> {
        self.events.subscribe()
    }

    /// The Call-IDs of the calls ringing now.
    pub fn ringing(&self) -> Vec<String> {
        self.ringing.keys().cloned().collect()
    }

    fn emit(&self, event: TrackerEvent) {
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }

    fn problem(&self, call_id: Option<&str>, message: String) {
        tracing::warn!(call_id = call_id.unwrap_or(""), "{message}");
        self.emit(TrackerEvent::Problem {
            call_id: call_id.map(str::to_owned),
            message,
        });
    }

    fn line(&self, aor: &str) -> Option<&TrackedLine> {
        self.lines.get(&aor.to_ascii_lowercase())
    }

    /// Processes events and actions until `events` ends or `shutdown` completes; then
    /// handles what is already queued, withdraws any notification still showing, and
    /// returns.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<LineEvent>,
        mut actions: mpsc::Receiver<(String, NotificationAction)>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut actions_open = true;
        loop {
            tokio::select! {
                biased;
                event = events.recv() => match event {
                    Some(event) => self.handle_line_event(event).await,
                    None => break,
                },
                action = actions.recv(), if actions_open => match action {
                    Some((call_id, action)) => self.handle_action(&call_id, action).await,
                    None => actions_open = false,
                },
                () = &mut shutdown => {
                    while let Ok(event) = events.try_recv() {
                        self.handle_line_event(event).await;
                    }
                    break;
                }
            }
        }
        self.finish().await;
    }

    /// Withdraws the notifications of calls still ringing (their records stay `Ringing`:
    /// how they ended is unknown).
    pub async fn finish(&mut self) {
        let ringing: Vec<(String, Option<NotificationId>)> = self
            .ringing
            .drain()
            .map(|(id, r)| (id, r.notification))
            .collect();
        for (call_id, notification) in ringing {
            if let Some(id) = notification
                && let Err(e) = self.notifier.close(id).await
            {
                self.problem(
                    Some(&call_id),
                    format!("could not withdraw the notification: {e}"),
                );
            }
        }
    }

    /// Handles one event from the agent.
    pub async fn handle_line_event(&mut self, event: LineEvent) {
        match event {
            LineEvent::Registered { line, expires } => {
                self.emit(TrackerEvent::Registered { line, expires });
            }
            LineEvent::RegistrationFailed {
                line,
                reason,
                permanent,
            } => self.emit(TrackerEvent::RegistrationFailed {
                line,
                reason,
                permanent,
            }),
            LineEvent::Unregistered { line } => self.emit(TrackerEvent::Unregistered { line }),
            LineEvent::IncomingCall {
                call_id,
                line,
                number,
                name,
                at,
            } => self.incoming(call_id, line, number, name, at).await,
            LineEvent::CallEnded {
                call_id,
                line,
                reason,
                at,
            } => self.ended(call_id, line, reason, at).await,
        }
    }

    /// Resolves a caller's name for `account`: directory, then history, then `sent`.
    pub async fn resolve_name(
        &self,
        account: Option<&AccountId>,
        number: &str,
        sent: Option<&str>,
    ) -> (Option<String>, Option<NameSource>) {
        if let Some(account) = account {
            match self.store.lookup_number(account, number).await {
                Ok(Some(entry)) => {
                    if let Some(name) = non_empty(Some(&entry.name)) {
                        return (Some(name), Some(NameSource::Directory));
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "directory lookup failed"),
            }
            match self.store.call_history(account, HISTORY_DEPTH).await {
                Ok(history) => {
                    let earlier = history
                        .iter()
                        .filter(|c| same_number(&c.number, number))
                        .find_map(|c| non_empty(c.name.as_deref()));
                    if let Some(name) = earlier {
                        return (Some(name), Some(NameSource::History));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "call history lookup failed"),
            }
        }
        match non_empty(sent) {
            Some(name) => (Some(name), Some(NameSource::Caller)),
            None => (None, None),
        }
    }

    async fn do_not_disturb(&self, account: &AccountId) -> bool {
        match self.store.snapshot(account, SettingKey::DoNotDisturb).await {
            Ok(Some(snapshot)) => {
                matches!(snapshot.value, Setting::DoNotDisturb(ref d) if d.active)
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "could not read Do Not Disturb; showing the call");
                false
            }
        }
    }

    async fn incoming(
        &mut self,
        call_id: String,
        line: String,
        number: String,
        sent_name: Option<String>,
        at: OffsetDateTime,
    ) {
        if self.ringing.contains_key(&call_id) {
            tracing::debug!(%call_id, "call already ringing");
            return;
        }
        let tracked = self.line(&line).cloned();
        if tracked.is_none() {
            tracing::warn!(%line, "a call rang a line the tracker does not know; not recorded");
        }
        let account = tracked.as_ref().map(|t| t.account.clone());
        let label = tracked
            .as_ref()
            .map(|t| t.label.clone())
            .unwrap_or_else(|| line.clone());
        let (name, name_source) = self
            .resolve_name(account.as_ref(), &number, sent_name.as_deref())
            .await;
        let suppressed = match &account {
            Some(a) => self.do_not_disturb(a).await,
            None => false,
        };
        let record = CallRecord {
            id: call_id.clone(),
            line: line.clone(),
            direction: CallDirection::Incoming,
            number: number.clone(),
            name: name.clone(),
            started_at: at,
            ended_at: None,
            outcome: CallOutcome::Ringing,
            suppressed_by_dnd: suppressed,
        };
        if let Some(account) = &account
            && let Err(e) = self.store.record_call(account, &record).await
        {
            self.problem(Some(&call_id), format!("could not record the call: {e}"));
        }
        let mut notification = None;
        if !suppressed {
            let view = IncomingCallView {
                call_id: call_id.clone(),
                caller_name: name.clone(),
                caller_number: number.clone(),
                line_label: label.clone(),
            };
            match self.notifier.show_incoming(&view).await {
                Ok(id) => notification = Some(id),
                Err(e) => self.problem(Some(&call_id), format!("could not show the call: {e}")),
            }
        }
        self.ringing.insert(
            call_id.clone(),
            Ringing {
                account,
                record,
                notification,
            },
        );
        self.emit(TrackerEvent::IncomingCall {
            call_id,
            line,
            line_label: label,
            number,
            name,
            name_source,
            suppressed_by_dnd: suppressed,
            notified: notification.is_some(),
            at,
        });
    }

    async fn ended(
        &mut self,
        call_id: String,
        line: String,
        reason: CallEndReason,
        at: OffsetDateTime,
    ) {
        if let Some(ringing) = self.ringing.remove(&call_id) {
            if let Some(id) = ringing.notification
                && let Err(e) = self.notifier.close(id).await
            {
                self.problem(
                    Some(&call_id),
                    format!("could not withdraw the notification: {e}"),
                );
            }
            let record = CallRecord {
                ended_at: Some(at),
                outcome: outcome(reason),
                ..ringing.record
            };
            if let Some(account) = &ringing.account
                && let Err(e) = self.store.record_call(account, &record).await
            {
                self.problem(Some(&call_id), format!("could not record the call: {e}"));
            }
        } else {
            tracing::debug!(%call_id, "a call the tracker did not see ringing ended");
        }
        self.emit(TrackerEvent::CallEnded {
            call_id,
            line,
            reason,
            at,
        });
    }

    /// Handles the user's choice on a notification.
    pub async fn handle_action(&mut self, call_id: &str, action: NotificationAction) {
        if !self.ringing.contains_key(call_id) {
            tracing::debug!(%call_id, ?action, "action on a call that is not ringing; ignored");
            return;
        }
        self.emit(TrackerEvent::Action {
            call_id: call_id.to_owned(),
            action,
        });
        match action {
            NotificationAction::Decline => self.control.decline(call_id).await,
            // Answer has no audio yet: the shell brings itself forward on the event.
            // Dismissed: the call keeps ringing; nothing to do.
            NotificationAction::Answer | NotificationAction::Dismissed => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_by_digits() {
        assert!(same_number("+1 (214) 555-2001", "2145552001"));
        assert!(same_number("12145552001", "+12145552001"));
        assert!(same_number("1001", "1001"));
        assert!(!same_number("1001", "2001"));
        assert!(!same_number("5552001", "2145552001"));
        assert!(same_number("Alice", "alice"));
        assert!(!same_number("", ""));
        assert!(!same_number("alice", "bob"));
    }

    #[test]
    fn end_reasons_become_outcomes() {
        assert_eq!(outcome(CallEndReason::Missed), CallOutcome::Missed);
        assert_eq!(
            outcome(CallEndReason::AnsweredElsewhere),
            CallOutcome::AnsweredElsewhere
        );
        assert_eq!(outcome(CallEndReason::Declined), CallOutcome::Declined);
        assert_eq!(outcome(CallEndReason::Answered), CallOutcome::Answered);
    }

    #[test]
    fn events_serialize_with_a_type() {
        let event = TrackerEvent::CallEnded {
            call_id: "c".into(),
            line: "sip:a@b".into(),
            reason: CallEndReason::AnsweredElsewhere,
            at: OffsetDateTime::UNIX_EPOCH,
        };
        let json = serde_json::to_value(&event).unwrap_or_default();
        assert_eq!(json["type"], "call_ended");
        assert_eq!(json["reason"], "answered_elsewhere");
        assert_eq!(json["at"], "1970-01-01T00:00:00Z");
    }
}
