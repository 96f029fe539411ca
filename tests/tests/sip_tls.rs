//! SIP over TLS against Kamailio's TLS listener with a lab CA made for the test:
//! registration trusting the lab CA, a clear failure with the wrong CA, and a call that
//! reaches the line over its TLS connection (SIPp speaks TCP to stunnel, which speaks TLS
//! to Kamailio: Debian's SIPp is built without TLS). Skipped, with a message, when
//! `kamailio-tls-modules` or `stunnel4` is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::Transport;
use deskline_core::calls::{CallEndReason, LineEvent};
use deskline_e2e::kamailio::{
    Events, Kamailio, KamailioConfig, free_port, is_failed, is_incoming, is_registered,
    lab_certificates, line, options, tls_available, tuning,
};
use deskline_e2e::sipp;
use deskline_sip::{Agent, LineConfig};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

/// Outside CI a missing optional package skips the test with a note; in CI (where
/// `cargo xtask test` installs it) it is a failure, so the suite can never pass by
/// skipping.
fn missing(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} is not installed, and CI must run this test"
    );
    eprintln!("SKIPPED: {what} is not installed");
}

fn tls_kamailio() -> Option<Kamailio> {
    if !tls_available() {
        missing("kamailio-tls-modules");
        return None;
    }
    Some(Kamailio::start(KamailioConfig {
        tls: true,
        ..KamailioConfig::default()
    }))
}

fn tls_line(k: &Kamailio, ca_pem: Option<String>) -> LineConfig {
    let mut cfg = line(
        "alice",
        "alice-secret",
        &k.tls_addr().unwrap(),
        Transport::Tls,
    );
    cfg.tls_ca_pem = ca_pem;
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_over_tls_trusting_the_lab_ca() {
    let Some(k) = tls_kamailio() else { return };
    let (agent, rx) = Agent::start_tuned(vec![tls_line(&k, k.ca_pem.clone())], options(), tuning())
        .await
        .unwrap();
    let mut events = Events::new(rx);
    events.wait("Registered", WAIT, is_registered).await;
    let contacts = k.contacts("alice");
    assert_eq!(contacts.len(), 1, "{contacts:#?}");
    assert!(contacts[0].socket.starts_with("tls:"), "{contacts:?}");
    assert!(
        contacts[0].address.ends_with(";transport=tls"),
        "{contacts:?}"
    );
    agent.shutdown().await;
    assert!(k.contacts("alice").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrong_ca_is_a_clear_failure() {
    let Some(k) = tls_kamailio() else { return };
    let (other_ca, _, _) = lab_certificates("Some other CA");
    let (agent, rx) = Agent::start_tuned(vec![tls_line(&k, Some(other_ca))], options(), tuning())
        .await
        .unwrap();
    let mut events = Events::new(rx);
    let event = events.wait("RegistrationFailed", WAIT, is_failed).await;
    let LineEvent::RegistrationFailed {
        reason, permanent, ..
    } = event
    else {
        unreachable!()
    };
    assert!(!permanent);
    assert!(reason.contains("TLS handshake"), "{reason}");
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    assert!(reason.contains("CA certificate"), "{reason}");
    assert!(k.contacts("alice").is_empty());
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_ca_text_is_refused_at_start() {
    let port = free_port();
    let mut cfg = line("alice", "x", &format!("127.0.0.1:{port}"), Transport::Tls);
    cfg.tls_ca_pem =
        Some("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".into());
    let err = Agent::start_tuned(vec![cfg], options(), tuning())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS CA certificate"), "{err}");
}

struct Stunnel {
    child: Child,
    _dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Stunnel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// stunnel in client mode: plain TCP on `port` → TLS to Kamailio.
fn stunnel(k: &Kamailio) -> Option<Stunnel> {
    let binary = ["stunnel4", "stunnel"].into_iter().find(|b| {
        Command::new("which")
            .arg(b)
            .output()
            .is_ok_and(|o| o.status.success())
    })?;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(dir.path().join("ca.pem"), k.ca_pem.as_ref().unwrap()).unwrap();
    let conf = format!(
        "foreground = yes\npid =\n\n[sip]\nclient = yes\naccept = 127.0.0.1:{port}\nconnect = {}\nCAfile = {}/ca.pem\nverifyChain = yes\ncheckIP = 127.0.0.1\n",
        k.tls_addr().unwrap(),
        dir.path().display()
    );
    let path = dir.path().join("stunnel.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(binary)
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // Wait until it listens.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Stunnel {
                child,
                _dir: dir,
                port,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_reaches_the_line_over_tls() {
    let Some(k) = tls_kamailio() else { return };
    let Some(tunnel) = stunnel(&k) else {
        missing("stunnel4");
        return;
    };
    let (agent, rx) = Agent::start_tuned(vec![tls_line(&k, k.ca_pem.clone())], options(), tuning())
        .await
        .unwrap();
    let mut events = Events::new(rx);
    events.wait("Registered", WAIT, is_registered).await;
    let target = format!("127.0.0.1:{}", tunnel.port);
    let caller = sipp::spawn(
        &sipp::caller_cancels(1000),
        Some(&target),
        &["-s", "alice", "-m", "1", "-t", "t1"],
        Duration::from_secs(20),
    );
    let LineEvent::IncomingCall { call_id, .. } =
        events.wait("IncomingCall", WAIT, is_incoming).await
    else {
        unreachable!()
    };
    let end = events
        .wait("CallEnded", WAIT, |e| {
            matches!(e, LineEvent::CallEnded { .. })
        })
        .await;
    assert!(
        matches!(&end, LineEvent::CallEnded { call_id: id, reason: CallEndReason::Missed, .. } if *id == call_id),
        "{end:?}"
    );
    let run = caller.finish(Duration::from_secs(30)).await;
    assert!(run.ok(), "{}", run.describe());
    agent.shutdown().await;
}
