//! The call tracker (`deskline_core::calls::tracker`) against the real SQLite store in a
//! temporary directory and the recording notifier: caller names from the directory, the
//! history and the SIP display name; Do Not Disturb; records and their outcomes;
//! notifications shown and withdrawn per call; Decline reaching the agent; failures of
//! the notifier; the run loop and its shutdown.
//!
//! (These live here rather than in core's own tests: core cannot use the store or the
//! notifier in its unit tests without building a second copy of itself.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use async_trait::async_trait;
use deskline_core::calls::tracker::{CallTracker, NameSource, TrackedLine, TrackerEvent};
use deskline_core::calls::{
    CallControl, CallEndReason, LineEvent, NotificationAction, NotifyError,
};
use deskline_core::{
    Account, AccountId, CallDirection, CallOutcome, CallRecord, DirectoryIndexEntry,
    DirectorySource, DoNotDisturb, Setting, Store, UserId,
};
use deskline_notifier::{Recorded, RecordingNotifier};
use deskline_store::SqliteStore;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::sync::{broadcast, mpsc};

const LINE: &str = "sip:dana-pc@example.com";
const LABEL: &str = "Dana Demo (PC)";

/// The agent's side: records which calls were declined.
#[derive(Default)]
struct Control {
    declined: Mutex<Vec<String>>,
}

#[async_trait]
impl CallControl for Control {
    async fn decline(&self, call_id: &str) {
        self.declined.lock().unwrap().push(call_id.to_owned());
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    account: AccountId,
    notifier: Arc<RecordingNotifier>,
    actions: mpsc::Receiver<(String, NotificationAction)>,
    control: Arc<Control>,
}

impl World {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("deskline.sqlite3"))
                .await
                .unwrap(),
        );
        let user = UserId::parse("dana@example.com").unwrap();
        let server = url::Url::parse("https://xsp.example.com").unwrap();
        let account = AccountId::for_user(&user, &server);
        store
            .upsert_account(&Account {
                id: account.clone(),
                server,
                user_id: user,
                sign_in_automatically: false,
                added_at: datetime!(2026-01-01 0:00 UTC),
                last_sync_at: None,
            })
            .await
            .unwrap();
        let (tx, actions) = mpsc::channel(16);
        Self {
            _dir: dir,
            store,
            account,
            notifier: Arc::new(RecordingNotifier::new(tx)),
            actions,
            control: Arc::new(Control::default()),
        }
    }

    fn tracker(&self) -> CallTracker {
        CallTracker::new(
            self.store.clone(),
            self.notifier.clone(),
            self.control.clone(),
            vec![TrackedLine {
                aor: LINE.into(),
                account: self.account.clone(),
                label: LABEL.into(),
            }],
        )
    }

    async fn directory(&self, name: &str, number: &str) {
        self.store
            .replace_directory(
                &self.account,
                DirectorySource::Group,
                &[DirectoryIndexEntry {
                    source: DirectorySource::Group,
                    name: name.into(),
                    number: Some(number.into()),
                    extension: None,
                    mobile: None,
                    email: None,
                    department: None,
                    user_id: None,
                }],
            )
            .await
            .unwrap();
    }

    async fn dnd(&self, active: bool) {
        self.store
            .save_snapshot(
                &self.account,
                &Setting::DoNotDisturb(DoNotDisturb {
                    active,
                    ring_splash: false,
                }),
                datetime!(2026-01-01 0:00 UTC),
            )
            .await
            .unwrap();
    }

    async fn history(&self) -> Vec<CallRecord> {
        self.store.call_history(&self.account, 100).await.unwrap()
    }

    async fn record(&self, call_id: &str) -> CallRecord {
        self.history()
            .await
            .into_iter()
            .find(|c| c.id == call_id)
            .unwrap_or_else(|| panic!("call {call_id} not recorded"))
    }
}

fn at(second: u8) -> OffsetDateTime {
    datetime!(2026-03-02 9:00 UTC) + time::Duration::seconds(i64::from(second))
}

fn ring(call_id: &str, number: &str, name: Option<&str>, second: u8) -> LineEvent {
    LineEvent::IncomingCall {
        call_id: call_id.into(),
        line: LINE.into(),
        number: number.into(),
        name: name.map(str::to_owned),
        at: at(second),
    }
}

fn end(call_id: &str, reason: CallEndReason, second: u8) -> LineEvent {
    LineEvent::CallEnded {
        call_id: call_id.into(),
        line: LINE.into(),
        reason,
        at: at(second),
    }
}

fn drain(rx: &mut broadcast::Receiver<TrackerEvent>) -> Vec<TrackerEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

/// What one `IncomingCall` event said: call ID, name, where the name came from,
/// suppressed by DND, notified.
type IncomingSeen = (String, Option<String>, Option<NameSource>, bool, bool);

fn incoming(events: &[TrackerEvent]) -> Vec<IncomingSeen> {
    events
        .iter()
        .filter_map(|e| match e {
            TrackerEvent::IncomingCall {
                call_id,
                name,
                name_source,
                suppressed_by_dnd,
                notified,
                ..
            } => Some((
                call_id.clone(),
                name.clone(),
                *name_source,
                *suppressed_by_dnd,
                *notified,
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_missed_call_is_shown_recorded_and_withdrawn() {
    let w = World::new().await;
    let mut tracker = w.tracker();
    let mut events = tracker.subscribe();
    tracker
        .handle_line_event(ring("c1", "2145552001", Some("ALEX EX"), 1))
        .await;

    let shown = w.notifier.shown();
    assert_eq!(shown.len(), 1);
    let (id, view) = &shown[0];
    assert_eq!(view.call_id, "c1");
    assert_eq!(view.caller_number, "2145552001");
    assert_eq!(view.caller_name.as_deref(), Some("ALEX EX"));
    assert_eq!(view.line_label, LABEL);
    let ringing = w.record("c1").await;
    assert_eq!(ringing.outcome, CallOutcome::Ringing);
    assert_eq!(ringing.direction, CallDirection::Incoming);
    assert_eq!(ringing.line, LINE);
    assert_eq!(ringing.started_at, at(1));
    assert_eq!(ringing.ended_at, None);
    assert!(!ringing.suppressed_by_dnd);

    tracker
        .handle_line_event(end("c1", CallEndReason::Missed, 9))
        .await;
    assert_eq!(w.notifier.closed(), vec![*id]);
    assert!(w.notifier.open().is_empty());
    let missed = w.record("c1").await;
    assert_eq!(missed.outcome, CallOutcome::Missed);
    assert_eq!(missed.ended_at, Some(at(9)));
    assert_eq!(missed.name.as_deref(), Some("ALEX EX"));

    let got = drain(&mut events);
    assert_eq!(
        incoming(&got),
        vec![(
            "c1".into(),
            Some("ALEX EX".into()),
            Some(NameSource::Caller),
            false,
            true
        )]
    );
    assert!(got.contains(&TrackerEvent::CallEnded {
        call_id: "c1".into(),
        line: LINE.into(),
        reason: CallEndReason::Missed,
        at: at(9),
    }));
}

#[tokio::test]
async fn names_come_from_the_directory_then_history_then_the_caller() {
    let w = World::new().await;
    let mut tracker = w.tracker();
    let mut events = tracker.subscribe();

    // Nothing known, no display name: no name.
    tracker
        .handle_line_event(ring("a", "2145550000", None, 1))
        .await;
    // Only the caller's display name.
    tracker
        .handle_line_event(ring("b", "2145551111", Some("Sent Name"), 2))
        .await;
    tracker
        .handle_line_event(end("b", CallEndReason::Missed, 3))
        .await;
    // The same number again, written differently, without a display name: the history
    // remembers the name.
    tracker
        .handle_line_event(ring("c", "+1 214 555 1111", None, 4))
        .await;
    // A directory entry beats both the history and the display name.
    w.directory("Alex Example", "2145551111").await;
    tracker
        .handle_line_event(ring("d", "2145551111", Some("Sent Name"), 5))
        .await;

    let got = incoming(&drain(&mut events));
    let names: Vec<_> = got
        .iter()
        .map(|g| (g.0.as_str(), g.1.as_deref(), g.2))
        .collect();
    assert_eq!(
        names,
        vec![
            ("a", None, None),
            ("b", Some("Sent Name"), Some(NameSource::Caller)),
            ("c", Some("Sent Name"), Some(NameSource::History)),
            ("d", Some("Alex Example"), Some(NameSource::Directory)),
        ]
    );
    let shown = w.notifier.shown();
    assert_eq!(
        shown.last().unwrap().1.caller_name.as_deref(),
        Some("Alex Example")
    );
    assert_eq!(w.record("d").await.name.as_deref(), Some("Alex Example"));
}

#[tokio::test]
async fn do_not_disturb_logs_without_showing() {
    let w = World::new().await;
    w.dnd(true).await;
    let mut tracker = w.tracker();
    let mut events = tracker.subscribe();
    tracker
        .handle_line_event(ring("q", "2145552001", None, 1))
        .await;
    assert!(w.notifier.log().is_empty(), "{:?}", w.notifier.log());
    assert!(w.record("q").await.suppressed_by_dnd);
    tracker
        .handle_line_event(end("q", CallEndReason::Missed, 2))
        .await;
    assert!(w.notifier.log().is_empty());
    let record = w.record("q").await;
    assert_eq!(record.outcome, CallOutcome::Missed);
    assert!(record.suppressed_by_dnd);
    assert_eq!(
        incoming(&drain(&mut events)),
        vec![("q".into(), None, None, true, false)]
    );

    // Do Not Disturb off again: shown.
    w.dnd(false).await;
    tracker
        .handle_line_event(ring("r", "2145552001", None, 3))
        .await;
    assert_eq!(w.notifier.shown().len(), 1);
    assert!(!w.record("r").await.suppressed_by_dnd);
}

#[tokio::test]
async fn decline_goes_to_the_agent_and_its_end_is_recorded() {
    let mut w = World::new().await;
    let mut tracker = w.tracker();
    let mut events = tracker.subscribe();
    tracker.handle_line_event(ring("x", "100", None, 1)).await;
    assert!(w.notifier.choose("x", NotificationAction::Decline).await);
    let (call_id, action) = w.actions.recv().await.unwrap();
    tracker.handle_action(&call_id, action).await;
    assert_eq!(*w.control.declined.lock().unwrap(), vec!["x".to_owned()]);
    // The agent's 603 ends the call.
    tracker
        .handle_line_event(end("x", CallEndReason::Declined, 2))
        .await;
    assert_eq!(w.record("x").await.outcome, CallOutcome::Declined);
    assert!(w.notifier.open().is_empty());
    // A late action on the ended call does nothing.
    tracker
        .handle_action("x", NotificationAction::Decline)
        .await;
    assert_eq!(w.control.declined.lock().unwrap().len(), 1);
    let got = drain(&mut events);
    assert!(got.contains(&TrackerEvent::Action {
        call_id: "x".into(),
        action: NotificationAction::Decline
    }));
    // Answer and Dismissed do not decline.
    tracker.handle_line_event(ring("y", "100", None, 3)).await;
    tracker.handle_action("y", NotificationAction::Answer).await;
    tracker
        .handle_action("y", NotificationAction::Dismissed)
        .await;
    assert_eq!(w.control.declined.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn simultaneous_calls_have_their_own_notifications() {
    let w = World::new().await;
    let mut tracker = w.tracker();
    for (i, id) in ["p1", "p2", "p3"].into_iter().enumerate() {
        tracker
            .handle_line_event(ring(id, &format!("21455500{i}0"), None, i as u8))
            .await;
    }
    let shown = w.notifier.shown();
    assert_eq!(shown.len(), 3);
    let id_of = |call: &str| shown.iter().find(|(_, v)| v.call_id == call).unwrap().0;
    tracker
        .handle_line_event(end("p2", CallEndReason::AnsweredElsewhere, 5))
        .await;
    assert_eq!(w.notifier.closed(), vec![id_of("p2")]);
    assert_eq!(w.notifier.open().len(), 2);
    tracker
        .handle_line_event(end("p1", CallEndReason::Missed, 6))
        .await;
    assert_eq!(w.notifier.closed(), vec![id_of("p2"), id_of("p1")]);
    assert_eq!(w.record("p2").await.outcome, CallOutcome::AnsweredElsewhere);
    assert_eq!(w.record("p1").await.outcome, CallOutcome::Missed);
    assert_eq!(w.record("p3").await.outcome, CallOutcome::Ringing);
    let mut ringing = tracker.ringing();
    ringing.sort();
    assert_eq!(ringing, vec!["p3".to_owned()]);
}

#[tokio::test]
async fn a_failing_notifier_does_not_lose_the_call() {
    let w = World::new().await;
    w.notifier.fail_with(Some(NotifyError::Unavailable {
        reason: "no session bus".into(),
    }));
    let mut tracker = w.tracker();
    let mut events = tracker.subscribe();
    tracker.handle_line_event(ring("f", "100", None, 1)).await;
    tracker
        .handle_line_event(end("f", CallEndReason::Missed, 2))
        .await;
    assert_eq!(w.record("f").await.outcome, CallOutcome::Missed);
    assert!(w.notifier.closed().is_empty());
    assert!(matches!(w.notifier.log()[0], Recorded::ShowFailed { .. }));
    let got = drain(&mut events);
    assert_eq!(incoming(&got), vec![("f".into(), None, None, false, false)]);
    assert!(got.iter().any(|e| matches!(
        e,
        TrackerEvent::Problem { call_id: Some(c), message } if c == "f" && message.contains("no session bus")
    )));
}

#[tokio::test]
async fn registration_events_pass_through_and_unknown_lines_still_ring() {
    let w = World::new().await;
    let mut tracker = w.tracker();
    let mut events = tracker.subscribe();
    tracker
        .handle_line_event(LineEvent::Registered {
            line: LINE.into(),
            expires: 600,
        })
        .await;
    tracker
        .handle_line_event(LineEvent::RegistrationFailed {
            line: LINE.into(),
            reason: "SIP credentials rejected".into(),
            permanent: true,
        })
        .await;
    tracker
        .handle_line_event(LineEvent::IncomingCall {
            call_id: "u".into(),
            line: "sip:other@example.com".into(),
            number: "100".into(),
            name: None,
            at: at(1),
        })
        .await;
    let got = drain(&mut events);
    assert_eq!(
        got[0],
        TrackerEvent::Registered {
            line: LINE.into(),
            expires: 600
        }
    );
    assert!(matches!(
        &got[1],
        TrackerEvent::RegistrationFailed {
            permanent: true,
            ..
        }
    ));
    // Shown under the line's address, but not recorded (no account).
    assert_eq!(w.notifier.shown()[0].1.line_label, "sip:other@example.com");
    assert!(w.history().await.is_empty());
}

#[tokio::test]
async fn the_run_loop_handles_events_actions_and_shutdown() {
    let w = World::new().await;
    let tracker = w.tracker();
    let mut events = tracker.subscribe();
    let (line_tx, line_rx) = mpsc::channel(16);
    let (action_tx, action_rx) = mpsc::channel(16);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(tracker.run(line_rx, action_rx, async {
        let _ = stop_rx.await;
    }));
    line_tx.send(ring("r1", "100", None, 1)).await.unwrap();
    line_tx.send(ring("r2", "200", None, 2)).await.unwrap();
    let wait = |pred: fn(&TrackerEvent) -> bool| {
        let mut rx = events.resubscribe();
        async move {
            tokio::time::timeout(Duration::from_secs(5), async {
                loop {
                    let e = rx.recv().await.unwrap();
                    if pred(&e) {
                        return e;
                    }
                }
            })
            .await
            .expect("event in time")
        }
    };
    let declined = wait(|e| matches!(e, TrackerEvent::Action { .. }));
    action_tx
        .send(("r1".into(), NotificationAction::Decline))
        .await
        .unwrap();
    declined.await;
    assert_eq!(*w.control.declined.lock().unwrap(), vec!["r1".to_owned()]);
    // An event queued before the stop is still handled; r2 still rings at the stop and
    // its notification is withdrawn.
    line_tx
        .send(end("r1", CallEndReason::Declined, 3))
        .await
        .unwrap();
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.record("r1").await.outcome, CallOutcome::Declined);
    assert!(w.notifier.open().is_empty(), "{:?}", w.notifier.open());
    assert_eq!(w.notifier.closed().len(), 2);
    let got = drain(&mut events);
    assert!(
        got.iter()
            .any(|e| matches!(e, TrackerEvent::CallEnded { call_id, .. } if call_id == "r1"))
    );
}
