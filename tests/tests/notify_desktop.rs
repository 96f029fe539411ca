//! `DesktopNotifier` against a recording notification server (python3-dbusmock) on a
//! private D-Bus session bus: what a call notification carries (app name, summary, body,
//! Answer/Decline actions, urgency, category, resident, no expiry), markup escaping,
//! replacing it, closing it, and the user's choices coming back on the action channel
//! with the right call ID (Decline, Answer, Dismissed; nothing after Deskline closed it;
//! a click that reaches the client before the reply to `Notify`).
//!
//! notify-rust reaches the bus named by `DBUS_SESSION_BUS_ADDRESS`, a process-wide
//! setting: this file holds exactly one test, which sets it before any other thread
//! exists. Keep it that way (add scenarios to the one test, or a new file).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::calls::{IncomingCallView, NotificationAction, NotificationId, Notifier};
use deskline_e2e::dbus::{NotificationDaemon, PrivateBus};
use deskline_notifier::DesktopNotifier;
use std::time::Duration;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

fn view(call_id: &str, name: Option<&str>, number: &str, label: &str) -> IncomingCallView {
    IncomingCallView {
        call_id: call_id.into(),
        caller_name: name.map(str::to_owned),
        caller_number: number.into(),
        line_label: label.into(),
    }
}

/// The user clicks `key` on notification `id`; what the notifier reports (once).
async fn click(
    daemon: &NotificationDaemon,
    rx: &mut mpsc::Receiver<(String, NotificationAction)>,
    id: u32,
    key: &str,
) -> (String, NotificationAction) {
    daemon.invoke_action(id, key).await;
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no action came back for notification {id}:\n{}",
                daemon.log()
            )
        })
        .unwrap()
}

async fn quiet(
    rx: &mut mpsc::Receiver<(String, NotificationAction)>,
) -> Vec<(String, NotificationAction)> {
    let mut got = Vec::new();
    while let Ok(Some(a)) = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
        got.push(a);
    }
    got
}

#[test]
fn desktop_notifier_against_a_recording_daemon() {
    let bus = PrivateBus::start();
    // SAFETY: the only test of this binary, before the runtime starts: no other thread
    // reads the environment now.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(scenario(bus));
}

async fn scenario(bus: PrivateBus) {
    let daemon = NotificationDaemon::start_on(bus).await;
    let (tx, mut rx) = mpsc::channel(16);
    let notifier = DesktopNotifier::new(tx);

    let info = notifier.probe().await.unwrap();
    assert_eq!(info.name, "mock-notify");
    assert!(
        info.capabilities.iter().any(|c| c == "body-markup"),
        "{info:?}"
    );

    // A ringing call.
    let first = notifier
        .show_incoming(&view(
            "call-1@host",
            Some("Alex Example"),
            "2145552001",
            "Dana Demo (PC)",
        ))
        .await
        .unwrap();
    let shown = daemon.wait_notifies(1, WAIT).await;
    let n = &shown[0];
    assert_eq!(n.app_name, "Deskline");
    assert_eq!(n.replaces_id, 0);
    assert_eq!(n.summary, "Incoming call — Alex Example");
    assert_eq!(n.body, "2145552001 · on Dana Demo (PC)");
    assert_eq!(n.actions, ["answer", "Answer", "decline", "Decline"]);
    assert_eq!(n.hint_u8("urgency"), Some(2), "critical: {:?}", n.hints);
    assert_eq!(n.hint_str("category").as_deref(), Some("call.incoming"));
    assert_eq!(n.hint_bool("resident"), Some(true));
    assert_eq!(n.timeout, 0, "never expires");
    let first_server_id = n.id;

    // A second call at the same time, without a name, on a line whose label needs
    // escaping for a markup-reading server.
    let second = notifier
        .show_incoming(&view(
            "call-2@host",
            None,
            "+15550002",
            "Sales <Front> & Co",
        ))
        .await
        .unwrap();
    assert_ne!(first, second);
    let shown = daemon.wait_notifies(2, WAIT).await;
    let n2 = &shown[1];
    assert_eq!(n2.summary, "Incoming call — +15550002");
    assert_eq!(n2.body, "+15550002 · on Sales &lt;Front&gt; &amp; Co");
    assert_ne!(n2.id, first_server_id);
    let mut calls = notifier.shown_calls();
    calls.sort();
    assert_eq!(calls, ["call-1@host", "call-2@host"]);

    // Decline on the first reaches the channel with the first call's ID.
    assert_eq!(
        click(&daemon, &mut rx, first_server_id, "decline").await,
        ("call-1@host".to_owned(), NotificationAction::Decline)
    );
    // An action Deskline did not offer is not reported.
    daemon.invoke_action(first_server_id, "default").await;
    daemon
        .invoke_action(first_server_id, "launch-missiles")
        .await;
    assert_eq!(quiet(&mut rx).await, []);

    // The user dismisses the second: Dismissed, for the second call.
    daemon.dismiss(n2.id).await;
    let got = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        ("call-2@host".to_owned(), NotificationAction::Dismissed)
    );

    // Deskline closes the first (the call stopped ringing): CloseNotification with its
    // id; nothing is reported, and a late click is not reported either.
    notifier.close(first).await.unwrap();
    daemon.wait_closed(first_server_id, WAIT).await;
    daemon.invoke_action(first_server_id, "decline").await;
    assert_eq!(quiet(&mut rx).await, []);
    // Closing again, or an unknown id, is fine.
    notifier.close(first).await.unwrap();
    notifier.close(NotificationId(999)).await.unwrap();
    assert_eq!(daemon.closes().await, [first_server_id]);

    // Replacing a notification keeps its id; its buttons still report its call.
    let third = notifier
        .show_incoming(&view("call-3@host", None, "2145553003", "Dana Demo (PC)"))
        .await
        .unwrap();
    let third_server_id = daemon.wait_notifies(3, WAIT).await[2].id;
    notifier
        .update(
            third,
            &view(
                "call-3@host",
                Some("Resolved Later"),
                "2145553003",
                "Dana Demo (PC)",
            ),
        )
        .await
        .unwrap();
    let shown = daemon.wait_notifies(4, WAIT).await;
    assert_eq!(shown[3].replaces_id, third_server_id);
    assert_eq!(shown[3].summary, "Incoming call — Resolved Later");
    assert_eq!(
        click(&daemon, &mut rx, third_server_id, "answer").await,
        ("call-3@host".to_owned(), NotificationAction::Answer)
    );
    assert!(
        notifier
            .update(first, &view("call-1@host", None, "1", "x"))
            .await
            .is_err()
    );

    // On quit every notification still shown is withdrawn.
    notifier.close_all().await;
    daemon.wait_closed(third_server_id, WAIT).await;
    assert!(notifier.shown_calls().is_empty());

    // A click the instant a notification appears: the server sends `ActionInvoked` before
    // the reply to `Notify`. It is reported once, for the right call, with no retry.
    daemon.click_before_replying("decline").await;
    let fourth = notifier
        .show_incoming(&view("call-4@host", None, "2145553004", "Dana Demo (PC)"))
        .await
        .unwrap();
    let got = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("the early click was lost:\n{}", daemon.log()))
        .unwrap();
    assert_eq!(got, ("call-4@host".to_owned(), NotificationAction::Decline));
    assert_eq!(quiet(&mut rx).await, []);
    notifier.close(fourth).await.unwrap();
    assert!(notifier.shown_calls().is_empty());
}
