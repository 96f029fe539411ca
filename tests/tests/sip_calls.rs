//! Incoming calls through a real Kamailio forking proxy, placed by SIPp: ring then
//! CANCEL (missed), answered on another device of the same line (Kamailio cancels us
//! with "Call completed elsewhere"), decline (the caller gets 603), ring timeout (480),
//! several calls at once, two Deskline agents on the same line, and TCP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::Transport;
use deskline_core::calls::{CallControl, CallEndReason, LineEvent};
use deskline_e2e::kamailio::{
    Events, Kamailio, KamailioConfig, free_port, is_incoming, is_registered, line, options, tuning,
};
use deskline_e2e::sipp;
use deskline_sip::{Agent, Tuning};
use std::collections::HashSet;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);
const LINE: &str = "sip:alice@127.0.0.1";

async fn registered_agent(k: &Kamailio, transport: Transport, tuning: Tuning) -> (Agent, Events) {
    let (agent, rx) = Agent::start_tuned(
        vec![line("alice", "alice-secret", &k.addr(), transport)],
        options(),
        tuning,
    )
    .await
    .unwrap();
    let mut events = Events::new(rx);
    events.wait("Registered", WAIT, is_registered).await;
    (agent, events)
}

fn ended(event: &LineEvent) -> Option<(String, CallEndReason)> {
    match event {
        LineEvent::CallEnded {
            call_id,
            reason,
            line,
            ..
        } => {
            assert_eq!(line, LINE);
            Some((call_id.clone(), *reason))
        }
        _ => None,
    }
}

async fn ring_then_cancel(transport: Transport) {
    let k = Kamailio::start(KamailioConfig::default());
    let (agent, mut events) = registered_agent(&k, transport, tuning()).await;
    let caller = sipp::spawn(
        &sipp::caller_cancels(1500),
        Some(&k.addr()),
        &["-s", "alice", "-m", "1"],
        Duration::from_secs(20),
    );
    let incoming = events.wait("IncomingCall", WAIT, is_incoming).await;
    let LineEvent::IncomingCall {
        call_id,
        line,
        number,
        name,
        ..
    } = incoming
    else {
        unreachable!()
    };
    assert_eq!(line, LINE);
    assert_eq!(number, "+15550001");
    assert_eq!(name.as_deref(), Some("Caller 1"));
    let end = events.wait("CallEnded", WAIT, |e| ended(e).is_some()).await;
    assert_eq!(ended(&end), Some((call_id, CallEndReason::Missed)));
    let run = caller.finish(Duration::from_secs(30)).await;
    assert!(run.ok(), "{}", run.describe());
    // The caller really heard our 180 and got 487 for its INVITE.
    assert!(
        run.messages.contains("SIP/2.0 180 Ringing"),
        "{}",
        run.describe()
    );
    assert!(run.messages.contains("SIP/2.0 487"), "{}", run.describe());
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ring_then_cancel_is_missed_udp() {
    ring_then_cancel(Transport::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ring_then_cancel_is_missed_tcp() {
    ring_then_cancel(Transport::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_on_another_device_of_the_line() {
    let k = Kamailio::start(KamailioConfig::default());
    let (agent, mut events) = registered_agent(&k, Transport::Udp, tuning()).await;
    // The other device: a SIPp UAS registered on the same AoR, answering after 1.5 s.
    let uas_port = free_port();
    let reg = sipp::register_from(uas_port, &k.addr(), "alice", "alice-secret", 60).await;
    assert!(reg.ok(), "{}", reg.describe());
    assert_eq!(k.contacts("alice").len(), 2);
    let uas = sipp::spawn_on(
        uas_port,
        &sipp::uas_answers(1500),
        None,
        &["-m", "1"],
        Duration::from_secs(20),
    );
    let caller = sipp::spawn(
        &sipp::caller_answered(),
        Some(&k.addr()),
        &["-s", "alice", "-m", "1"],
        Duration::from_secs(20),
    );
    let incoming = events.wait("IncomingCall", WAIT, is_incoming).await;
    let LineEvent::IncomingCall { call_id, .. } = incoming else {
        unreachable!()
    };
    let end = events.wait("CallEnded", WAIT, |e| ended(e).is_some()).await;
    assert_eq!(
        ended(&end),
        Some((call_id, CallEndReason::AnsweredElsewhere))
    );
    let caller_run = caller.finish(Duration::from_secs(30)).await;
    let uas_run = uas.finish(Duration::from_secs(30)).await;
    assert!(caller_run.ok(), "{}", caller_run.describe());
    assert!(uas_run.ok(), "{}", uas_run.describe());
    k.remove_aor("alice");
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decline_sends_603_to_the_caller() {
    let k = Kamailio::start(KamailioConfig::default());
    let (agent, mut events) = registered_agent(&k, Transport::Udp, tuning()).await;
    let caller = sipp::spawn(
        &sipp::caller_expects(603),
        Some(&k.addr()),
        &["-s", "alice", "-m", "1"],
        Duration::from_secs(20),
    );
    let incoming = events.wait("IncomingCall", WAIT, is_incoming).await;
    let LineEvent::IncomingCall { call_id, .. } = incoming else {
        unreachable!()
    };
    agent.decline(&call_id).await;
    let end = events.wait("CallEnded", WAIT, |e| ended(e).is_some()).await;
    assert_eq!(
        ended(&end),
        Some((call_id.clone(), CallEndReason::Declined))
    );
    let run = caller.finish(Duration::from_secs(30)).await;
    assert!(run.ok(), "{}", run.describe());
    // Declining again, or an unknown call, does nothing.
    agent.decline(&call_id).await;
    agent.decline("no-such-call").await;
    let quiet = events.collect(Duration::from_millis(500)).await;
    assert!(quiet.is_empty(), "{quiet:?}");
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_nobody_cancels_times_out_as_missed() {
    let k = Kamailio::start(KamailioConfig::default());
    let short = Tuning {
        ring_timeout: Duration::from_secs(2),
        ..tuning()
    };
    let (agent, mut events) = registered_agent(&k, Transport::Udp, short).await;
    let caller = sipp::spawn(
        &sipp::caller_expects(480),
        Some(&k.addr()),
        &["-s", "alice", "-m", "1"],
        Duration::from_secs(20),
    );
    let incoming = events.wait("IncomingCall", WAIT, is_incoming).await;
    let LineEvent::IncomingCall { call_id, .. } = incoming else {
        unreachable!()
    };
    let end = events.wait("CallEnded", WAIT, |e| ended(e).is_some()).await;
    assert_eq!(ended(&end), Some((call_id, CallEndReason::Missed)));
    let run = caller.finish(Duration::from_secs(30)).await;
    assert!(run.ok(), "{}", run.describe());
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_calls_ring_and_end_separately() {
    let k = Kamailio::start(KamailioConfig::default());
    let (agent, mut events) = registered_agent(&k, Transport::Udp, tuning()).await;
    let calls = 5;
    let caller = sipp::spawn(
        &sipp::caller_cancels(2500),
        Some(&k.addr()),
        &["-s", "alice", "-m", "5", "-l", "5", "-r", "20"],
        Duration::from_secs(30),
    );
    let mut ringing = HashSet::new();
    while ringing.len() < calls {
        let LineEvent::IncomingCall { call_id, .. } =
            events.wait("IncomingCall", WAIT, is_incoming).await
        else {
            unreachable!()
        };
        assert!(ringing.insert(call_id), "a call rang twice");
    }
    let mut done = HashSet::new();
    while done.len() < calls {
        let end = events.wait("CallEnded", WAIT, |e| ended(e).is_some()).await;
        let (id, reason) = ended(&end).unwrap();
        assert_eq!(reason, CallEndReason::Missed);
        assert!(ringing.contains(&id));
        assert!(done.insert(id), "a call ended twice");
    }
    let run = caller.finish(Duration::from_secs(40)).await;
    assert!(run.ok(), "{}", run.describe());
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_on_the_same_line_both_ring() {
    let k = Kamailio::start(KamailioConfig::default());
    let (a, mut a_events) = registered_agent(&k, Transport::Udp, tuning()).await;
    let (b, mut b_events) = registered_agent(&k, Transport::Tcp, tuning()).await;
    assert_eq!(k.contacts("alice").len(), 2);
    let caller = sipp::spawn(
        &sipp::caller_cancels(1500),
        Some(&k.addr()),
        &["-s", "alice", "-m", "1"],
        Duration::from_secs(20),
    );
    let LineEvent::IncomingCall { call_id: id_a, .. } =
        a_events.wait("IncomingCall on A", WAIT, is_incoming).await
    else {
        unreachable!()
    };
    let LineEvent::IncomingCall { call_id: id_b, .. } =
        b_events.wait("IncomingCall on B", WAIT, is_incoming).await
    else {
        unreachable!()
    };
    assert_eq!(id_a, id_b, "the same call rings both");
    let end_a = a_events
        .wait("CallEnded on A", WAIT, |e| ended(e).is_some())
        .await;
    let end_b = b_events
        .wait("CallEnded on B", WAIT, |e| ended(e).is_some())
        .await;
    assert_eq!(ended(&end_a).unwrap().1, CallEndReason::Missed);
    assert_eq!(ended(&end_b).unwrap().1, CallEndReason::Missed);
    let run = caller.finish(Duration::from_secs(30)).await;
    assert!(run.ok(), "{}", run.describe());
    a.shutdown().await;
    b.shutdown().await;
    assert!(k.contacts("alice").is_empty());
}
