//! The registrar goes away and comes back: a restart (bindings lost, TCP connections
//! dropped) and a stall (SIGSTOP: bound but silent). The line must report
//! `RegistrationFailed` (not permanent) and become `Registered` again on its own, and
//! calls must reach it afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::Transport;
use deskline_core::calls::LineEvent;
use deskline_e2e::kamailio::{
    Events, Kamailio, KamailioConfig, is_failed, is_incoming, is_registered, line, options, tuning,
};
use deskline_e2e::sipp;
use deskline_sip::Agent;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

async fn registered(k: &Kamailio, transport: Transport) -> (Agent, Events) {
    let (agent, rx) = Agent::start_tuned(
        vec![line("alice", "alice-secret", &k.addr(), transport)],
        options(),
        tuning(),
    )
    .await
    .unwrap();
    let mut events = Events::new(rx);
    events.wait("Registered", WAIT, is_registered).await;
    (agent, events)
}

fn transient(event: &LineEvent) -> bool {
    matches!(
        event,
        LineEvent::RegistrationFailed {
            permanent: false,
            ..
        }
    )
}

async fn a_call_rings(k: &Kamailio, events: &mut Events) {
    let caller = sipp::spawn(
        &sipp::caller_cancels(500),
        Some(&k.addr()),
        &["-s", "alice", "-m", "1"],
        Duration::from_secs(20),
    );
    events.wait("IncomingCall", WAIT, is_incoming).await;
    let run = caller.finish(Duration::from_secs(30)).await;
    assert!(run.ok(), "{}", run.describe());
}

async fn survives_restart(transport: Transport) {
    let mut k = Kamailio::start(KamailioConfig::default());
    let (agent, mut events) = registered(&k, transport).await;
    k.stop();
    let failed = events.wait("RegistrationFailed", WAIT, is_failed).await;
    assert!(transient(&failed), "{failed:?}");
    // Down for a while: retries keep failing quietly (one event per distinct reason).
    tokio::time::sleep(Duration::from_secs(2)).await;
    k.restart();
    events.wait("Registered again", WAIT, is_registered).await;
    assert_eq!(
        k.contacts("alice").len(),
        1,
        "re-registered with the new instance"
    );
    a_call_rings(&k, &mut events).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrar_restart_udp() {
    survives_restart(Transport::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrar_restart_tcp() {
    survives_restart(Transport::Tcp).await;
}

async fn survives_stall(transport: Transport) {
    let k = Kamailio::start(KamailioConfig::default());
    let (agent, mut events) = registered(&k, transport).await;
    k.pause();
    let failed = events.wait("RegistrationFailed", WAIT, is_failed).await;
    assert!(transient(&failed), "{failed:?}");
    if let LineEvent::RegistrationFailed { reason, .. } = &failed {
        assert!(
            reason.contains("not answering")
                || reason.contains("closed")
                || reason.contains("connect"),
            "{reason}"
        );
    }
    k.resume();
    events.wait("Registered again", WAIT, is_registered).await;
    k.wait_contacts("alice", WAIT, |c| c.len() == 1).await;
    a_call_rings(&k, &mut events).await;
    agent.shutdown().await;
    assert!(k.contacts("alice").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrar_stall_udp() {
    survives_stall(Transport::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrar_stall_tcp() {
    survives_stall(Transport::Tcp).await;
}
