//! `deskline_api::resident::SessionRunner` in process, against the sandbox provider and a
//! real Kamailio, SIPp placing the calls and a recording notifier: the synced soft
//! clients register, calls ring and are declined (from the runner and from the
//! notification), the missed calls not seen yet are counted again by the next start
//! (and the ones seen are not), shutdown returns only once every line is unregistered, and a SIP
//! password changed on the provider registers the line again after a sync.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_api::resident::{LineSummary, Registration, RunnerOptions, SessionRunner};
use deskline_api::{Deskline, OpenOptions};
use deskline_core::calls::tracker::TrackerEvent;
use deskline_core::calls::{CallEndReason, NotificationAction};
use deskline_core::sync::SyncScope;
use deskline_core::{CallDirection, CallOutcome, CallRecord};
use deskline_e2e::cli::{
    DEMO_PASSWORD, DEMO_SIP_PASSWORDS, DEMO_USER, Sandbox, SandboxConfig, Seed,
    demo_seed_with_registrar_port, demo_sip_users,
};
use deskline_e2e::kamailio::{self, Kamailio, KamailioConfig};
use deskline_e2e::sipp;
use deskline_notifier::RecordingNotifier;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

const WAIT: Duration = Duration::from_secs(20);
const PC: &str = "sip:dana-pc@deskline.example";
const MOBILE: &str = "sip:dana-mobile@deskline.example";

async fn signed_in(
    sandbox: &Sandbox,
    dir: &std::path::Path,
) -> (Arc<Deskline>, deskline_core::session::Session) {
    let deskline = Deskline::open(OpenOptions {
        data_dir: Some(dir.to_path_buf()),
        extra_ca_pem: None,
    })
    .await
    .unwrap();
    let session = deskline
        .accounts()
        .sign_in(
            sandbox.base_url().as_str(),
            DEMO_USER,
            secrecy::SecretString::from(DEMO_PASSWORD),
            true,
        )
        .await
        .unwrap();
    session.engine.sync(SyncScope::Full).await.unwrap();
    (Arc::new(deskline), session)
}

fn options(
    notifier: Arc<RecordingNotifier>,
    actions: mpsc::Receiver<(String, NotificationAction)>,
) -> RunnerOptions {
    RunnerOptions {
        first_sync: None,
        expires: 60,
        agent: kamailio::options(),
        tuning: kamailio::tuning(),
        ..RunnerOptions::new(notifier, actions)
    }
}

/// Another runner of `runner`'s session without the call side (it only reads the store).
fn sync_only(runner: &SessionRunner) -> SessionRunner {
    let (action_tx, action_rx) = mpsc::channel(16);
    SessionRunner::start(
        runner.deskline().clone(),
        runner.session().clone(),
        RunnerOptions {
            sip: false,
            first_sync: None,
            ..RunnerOptions::new(Arc::new(RecordingNotifier::new(action_tx)), action_rx)
        },
    )
}

async fn wait_summary(
    rx: &mut watch::Receiver<LineSummary>,
    what: &str,
    check: impl Fn(&LineSummary) -> bool,
) -> LineSummary {
    let found = match tokio::time::timeout(WAIT, rx.wait_for(|s| check(s))).await {
        Ok(Ok(s)) => Some(s.clone()),
        _ => None,
    };
    found.unwrap_or_else(|| panic!("the summary never showed {what}; last: {:#?}", *rx.borrow()))
}

fn state_of(summary: &LineSummary, line: &str) -> Option<Registration> {
    summary
        .lines
        .iter()
        .find(|l| l.line == line)
        .map(|l| l.state)
}

async fn next_event(
    events: &mut broadcast::Receiver<TrackerEvent>,
    what: &str,
    pred: impl Fn(&TrackerEvent) -> bool,
) -> TrackerEvent {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(event)) if pred(&event) => return event,
            Ok(Ok(_)) => {}
            other => panic!("no {what}: {other:?}"),
        }
    }
}

fn incoming_id(event: &TrackerEvent) -> String {
    match event {
        TrackerEvent::IncomingCall { call_id, .. } => call_id.clone(),
        other => panic!("not a call: {other:?}"),
    }
}

fn ended_as(event: &TrackerEvent) -> CallEndReason {
    match event {
        TrackerEvent::CallEnded { reason, .. } => *reason,
        other => panic!("not a call end: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_registers_the_synced_lines_rings_declines_and_unregisters_on_shutdown() {
    let k = Kamailio::start(KamailioConfig {
        users: demo_sip_users(),
        alias: Some("deskline.example".into()),
        ..KamailioConfig::default()
    });
    let sandbox = Sandbox::start(SandboxConfig {
        seed: Seed::Text(demo_seed_with_registrar_port(k.port)),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (deskline, session) = signed_in(&sandbox, dir.path()).await;
    let (action_tx, action_rx) = mpsc::channel(16);
    let notifier = Arc::new(RecordingNotifier::new(action_tx));
    let runner = SessionRunner::start(deskline, session, options(notifier.clone(), action_rx));
    let mut summary = runner.summary();
    let mut events = runner.subscribe();

    let s = wait_summary(
        &mut summary,
        "both lines registered",
        LineSummary::all_registered,
    )
    .await;
    assert!(s.calls_running);
    let labels: Vec<&str> = s.lines.iter().map(|l| l.label.as_str()).collect();
    assert!(labels.contains(&"Dana Demo (PC)"), "{labels:?}");
    k.wait_contacts("dana-pc", WAIT, |c| c.len() == 1).await;
    k.wait_contacts("dana-mobile", WAIT, |c| c.len() == 1).await;

    // A missed call: notified, withdrawn, counted.
    let caller = sipp::spawn(
        &sipp::caller_cancels(800),
        Some(&k.addr()),
        &["-s", "dana-pc", "-m", "1"],
        WAIT,
    );
    let call = incoming_id(
        &next_event(&mut events, "incoming call", |e| {
            matches!(e, TrackerEvent::IncomingCall { .. })
        })
        .await,
    );
    let ended = next_event(&mut events, "call end", |e| {
        matches!(e, TrackerEvent::CallEnded { .. })
    })
    .await;
    assert_eq!(ended_as(&ended), CallEndReason::Missed);
    let shown = notifier.shown();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].1.call_id, call);
    assert_eq!(shown[0].1.caller_number, "+15550001");
    assert_eq!(shown[0].1.line_label, "Dana Demo (PC)");
    assert_eq!(notifier.closed(), [shown[0].0]);
    let s = wait_summary(&mut summary, "the missed call", |s| s.missed == 1).await;
    assert!(s.ringing.is_empty());
    assert!(caller.finish(WAIT).await.ok());

    // Declined by the shell.
    let caller = sipp::spawn(
        &sipp::caller_expects(603),
        Some(&k.addr()),
        &["-s", "dana-pc", "-m", "1"],
        WAIT,
    );
    let call = incoming_id(
        &next_event(&mut events, "incoming call", |e| {
            matches!(e, TrackerEvent::IncomingCall { .. })
        })
        .await,
    );
    wait_summary(&mut summary, "the ringing call", |s| s.ringing.len() == 1).await;
    runner.decline(&call).await;
    let ended = next_event(&mut events, "call end", |e| {
        matches!(e, TrackerEvent::CallEnded { .. })
    })
    .await;
    assert_eq!(ended_as(&ended), CallEndReason::Declined);
    let run = caller.finish(WAIT).await;
    assert!(run.ok(), "{}", run.describe());

    // Declined on the notification: the action reaches the running call side.
    let caller = sipp::spawn(
        &sipp::caller_expects(603),
        Some(&k.addr()),
        &["-s", "dana-mobile", "-m", "1"],
        WAIT,
    );
    let call = incoming_id(
        &next_event(&mut events, "incoming call", |e| {
            matches!(e, TrackerEvent::IncomingCall { .. })
        })
        .await,
    );
    assert!(notifier.choose(&call, NotificationAction::Decline).await);
    let ended = next_event(&mut events, "call end", |e| {
        matches!(e, TrackerEvent::CallEnded { .. })
    })
    .await;
    assert_eq!(ended_as(&ended), CallEndReason::Declined);
    let run = caller.finish(WAIT).await;
    assert!(run.ok(), "{}", run.describe());
    assert_eq!(summary.borrow().missed, 1, "declined calls are not missed");

    // Another start on the same account (the tray taking the line over, the next login)
    // counts the missed call the user has not seen, from the call history.
    let later = sync_only(&runner);
    let mut later_summary = later.summary();
    let s = wait_summary(&mut later_summary, "the unseen missed call", |s| {
        s.missed > 0
    })
    .await;
    assert_eq!(s.missed, 1, "{s:#?}");
    later.shutdown().await;

    runner.missed_seen().await;
    assert_eq!(summary.borrow().missed, 0);
    // Seen is kept: after a call missed since, a start counts that one only.
    let now = time::OffsetDateTime::now_utc();
    runner
        .deskline()
        .store()
        .record_call(
            &runner.session().account.id,
            &CallRecord {
                id: "missed-later@host".into(),
                line: PC.into(),
                direction: CallDirection::Incoming,
                number: "+15550002".into(),
                name: None,
                started_at: now,
                ended_at: Some(now),
                outcome: CallOutcome::Missed,
                suppressed_by_dnd: false,
            },
        )
        .await
        .unwrap();
    let later = sync_only(&runner);
    let mut later_summary = later.summary();
    let s = wait_summary(&mut later_summary, "the call missed since", |s| {
        s.missed > 0
    })
    .await;
    assert_eq!(
        s.missed, 1,
        "the call seen before is not counted again: {s:#?}"
    );
    later.shutdown().await;

    // Shutdown returns once Kamailio has no binding left.
    runner.shutdown().await;
    assert!(k.contacts("dana-pc").is_empty(), "{:#?}", k.all_contacts());
    assert!(
        k.contacts("dana-mobile").is_empty(),
        "{:#?}",
        k.all_contacts()
    );
    let s = summary.borrow().clone();
    assert!(!s.calls_running);
    assert_eq!(state_of(&s, PC), Some(Registration::Unregistered), "{s:#?}");
    assert_eq!(
        state_of(&s, MOBILE),
        Some(Registration::Unregistered),
        "{s:#?}"
    );
    let mut unregistered = 0;
    while let Ok(event) = events.try_recv() {
        if matches!(event, TrackerEvent::Unregistered { .. }) {
            unregistered += 1;
        }
    }
    assert_eq!(unregistered, 2, "the last events reached the subscribers");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip_password_changed_on_the_provider_registers_the_line_again_after_a_sync() {
    const NEW_PASSWORD: &str = "Sip-secret-pc2";
    // The registrar already knows the PC line's new password.
    let k = Kamailio::start(KamailioConfig {
        users: vec![
            ("dana-pc-auth".into(), NEW_PASSWORD.into()),
            ("dana-mobile-auth".into(), DEMO_SIP_PASSWORDS[1].into()),
        ],
        alias: Some("deskline.example".into()),
        ..KamailioConfig::default()
    });
    let seed = demo_seed_with_registrar_port(k.port);
    let sandbox = Sandbox::start(SandboxConfig {
        seed: Seed::Text(seed.clone()),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let listen = sandbox.addr();
    let dir = tempfile::tempdir().unwrap();
    let (deskline, session) = signed_in(&sandbox, dir.path()).await;
    let (action_tx, action_rx) = mpsc::channel(16);
    let notifier = Arc::new(RecordingNotifier::new(action_tx));
    let runner = SessionRunner::start(deskline, session, options(notifier, action_rx));
    let mut summary = runner.summary();
    let s = wait_summary(
        &mut summary,
        "the PC line refused, the mobile registered",
        |s| {
            state_of(s, PC) == Some(Registration::Failed)
                && state_of(s, MOBILE) == Some(Registration::Registered)
        },
    )
    .await;
    let pc = s.lines.iter().find(|l| l.line == PC).unwrap();
    assert!(pc.permanent, "{pc:?}");
    assert!(k.contacts("dana-pc").is_empty());

    // The administrator changes the PC line's password on the provider; the next sync
    // brings it, and only the password changed.
    sandbox.shutdown().await;
    let changed = seed.replace(DEMO_SIP_PASSWORDS[0], NEW_PASSWORD);
    assert_ne!(changed, seed);
    let sandbox = Sandbox::start(SandboxConfig {
        seed: Seed::Text(changed),
        listen,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    runner.sync_now().await.unwrap();
    wait_summary(
        &mut summary,
        "both lines registered",
        LineSummary::all_registered,
    )
    .await;
    k.wait_contacts("dana-pc", WAIT, |c| c.len() == 1).await;
    k.wait_contacts("dana-mobile", WAIT, |c| c.len() == 1).await;

    // A sync that changes nothing registers nothing again.
    let before = k.contacts("dana-mobile")[0].call_id.clone();
    runner.sync_now().await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(summary.borrow().all_registered());
    assert_eq!(
        k.contacts("dana-mobile")[0].call_id,
        before,
        "the line was restarted"
    );

    runner.shutdown().await;
    assert!(k.all_contacts().is_empty(), "{:#?}", k.all_contacts());
    sandbox.shutdown().await;
}
