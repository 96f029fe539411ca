//! `DesktopNotifier` on a session bus where no notification server runs: showing fails
//! with `Unavailable` saying so (not a hang, not a panic); once a server appears on the
//! same bus, the same notifier works again.
//!
//! One test per file: it sets `DBUS_SESSION_BUS_ADDRESS` before any other thread exists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::calls::{IncomingCallView, Notifier, NotifyError};
use deskline_e2e::dbus::{NotificationDaemon, PrivateBus};
use deskline_notifier::DesktopNotifier;
use std::time::Duration;
use tokio::sync::mpsc;

#[test]
fn no_notification_server_is_unavailable_then_recovers() {
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
    runtime.block_on(async move {
        let (tx, _rx) = mpsc::channel(4);
        let notifier = DesktopNotifier::new(tx);
        let call = IncomingCallView {
            call_id: "c1".into(),
            caller_name: None,
            caller_number: "100".into(),
            line_label: "Line".into(),
        };
        let err = tokio::time::timeout(Duration::from_secs(15), notifier.show_incoming(&call))
            .await
            .expect("fails fast")
            .unwrap_err();
        match &err {
            NotifyError::Unavailable { reason } => {
                assert!(reason.contains("no notification service"), "{reason}")
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("desktop notifications are not available")
        );
        assert!(matches!(
            notifier.probe().await,
            Err(NotifyError::Unavailable { .. })
        ));

        let daemon = NotificationDaemon::start_on(bus).await;
        notifier.show_incoming(&call).await.unwrap();
        let shown = daemon.wait_notifies(1, Duration::from_secs(10)).await;
        assert_eq!(shown[0].summary, "Incoming call — 100");
    });
}
