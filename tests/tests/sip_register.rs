//! Registration against a real Kamailio: MD5 over UDP and TCP, SHA-256, refresh before
//! expiry, 423 Min-Expires, stale nonces, rejected credentials, network change,
//! unregistration on shutdown, outbound proxy routing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::Transport;
use deskline_core::calls::LineEvent;
use deskline_e2e::kamailio::{
    Digest, Events, Kamailio, KamailioConfig, is_failed, is_registered, line, options, tuning,
};
use deskline_sip::Agent;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn registers(k: &Kamailio, transport: Transport) {
    let (agent, rx) = Agent::start_tuned(
        vec![line("alice", "alice-secret", &k.addr(), transport)],
        options(),
        tuning(),
    )
    .await
    .unwrap();
    let mut events = Events::new(rx);
    let event = events.wait("Registered", WAIT, is_registered).await;
    assert_eq!(
        event,
        LineEvent::Registered {
            line: "sip:alice@127.0.0.1".into(),
            expires: 60
        }
    );
    let contacts = k.contacts("alice");
    assert_eq!(contacts.len(), 1, "{contacts:#?}");
    let contact = &contacts[0];
    // A random 16-character contact user, on our loopback address, over the transport.
    let user = contact
        .address
        .strip_prefix("sip:")
        .unwrap()
        .split('@')
        .next()
        .unwrap();
    assert_eq!(user.len(), 16, "{contact:?}");
    assert!(user.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(contact.address.contains("@127.0.0.1:"), "{contact:?}");
    let t = transport.as_str();
    assert!(
        contact.address.ends_with(&format!(";transport={t}")),
        "{contact:?}"
    );
    assert!(contact.socket.starts_with(&format!("{t}:")), "{contact:?}");
    assert_eq!(contact.user_agent, "Deskline-test");
    assert!(contact.expires > 50, "{contact:?}");

    agent.shutdown().await;
    let rest = events.drain(WAIT).await;
    assert!(
        rest.contains(&LineEvent::Unregistered {
            line: "sip:alice@127.0.0.1".into()
        }),
        "{rest:?}"
    );
    assert!(
        k.contacts("alice").is_empty(),
        "the binding outlived shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_over_udp() {
    let k = Kamailio::start(KamailioConfig::default());
    registers(&k, Transport::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_over_tcp() {
    let k = Kamailio::start(KamailioConfig::default());
    registers(&k, Transport::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha256_over_udp_and_tcp() {
    let k = Kamailio::start(KamailioConfig {
        digest: Digest::Sha256,
        ..KamailioConfig::default()
    });
    registers(&k, Transport::Udp).await;
    // Kamailio computes HA1 with SHA-256 in this configuration: an MD5 answer would
    // have been refused, so success proves the SHA-256 path.
    registers(&k, Transport::Tcp).await;
}

async fn start(lines: Vec<deskline_sip::LineConfig>) -> (Agent, Events) {
    let (agent, rx) = Agent::start_tuned(lines, options(), tuning())
        .await
        .unwrap();
    (agent, Events::new(rx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_before_expiry() {
    let k = Kamailio::start(KamailioConfig::default());
    let mut cfg = line("alice", "alice-secret", &k.addr(), Transport::Udp);
    cfg.expires = 4;
    let (agent, mut events) = start(vec![cfg]).await;
    let event = events.wait("Registered", WAIT, is_registered).await;
    assert!(
        matches!(event, LineEvent::Registered { expires: 4, .. }),
        "{event:?}"
    );
    let first = k.contacts("alice");
    assert_eq!(first.len(), 1);
    // Four seconds granted, refreshed every two: after 7 s the binding is still there
    // (it would have expired) with a higher CSeq and the same Call-ID.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let later = k.contacts("alice");
    assert_eq!(later.len(), 1, "{later:#?}");
    assert_eq!(later[0].address, first[0].address);
    assert_eq!(
        later[0].call_id, first[0].call_id,
        "RFC 3261 §10.2: one Call-ID per line"
    );
    assert!(later[0].cseq >= first[0].cseq + 3, "{first:?} -> {later:?}");
    // Refreshes are silent: no second Registered, no failure.
    let quiet = events.collect(Duration::from_millis(100)).await;
    assert!(quiet.is_empty(), "{quiet:?}");
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_too_brief_retries_with_min_expires() {
    let k = Kamailio::start(KamailioConfig {
        min_expires: 30,
        ..KamailioConfig::default()
    });
    let mut cfg = line("alice", "alice-secret", &k.addr(), Transport::Udp);
    cfg.expires = 5;
    let (agent, mut events) = start(vec![cfg]).await;
    let event = events.wait("Registered", WAIT, is_registered).await;
    assert!(
        matches!(event, LineEvent::Registered { expires: 30, .. }),
        "{event:?}"
    );
    assert!(
        events.seen.iter().all(|e| !is_failed(e)),
        "{:?}",
        events.seen
    );
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_nonces_are_answered_without_failing() {
    // Nonces live 3 s, refreshes come every 2 s with the cached nonce: Kamailio answers
    // a new 401 and the agent re-authenticates silently.
    let k = Kamailio::start(KamailioConfig {
        nonce_expire: 3,
        ..KamailioConfig::default()
    });
    let mut cfg = line("alice", "alice-secret", &k.addr(), Transport::Udp);
    cfg.expires = 4;
    let (agent, mut events) = start(vec![cfg]).await;
    events.wait("Registered", WAIT, is_registered).await;
    let first = k.contacts("alice");
    tokio::time::sleep(Duration::from_secs(9)).await;
    let later = k.contacts("alice");
    assert_eq!(later.len(), 1, "{later:#?}");
    assert!(later[0].cseq >= first[0].cseq + 4, "{first:?} -> {later:?}");
    let quiet = events.collect(Duration::from_millis(100)).await;
    assert!(
        quiet.is_empty(),
        "stale nonces must not surface as events: {quiet:?}"
    );
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_permanent_until_the_network_changes() {
    let k = Kamailio::start(KamailioConfig::default());
    let (agent, mut events) = start(vec![line(
        "alice",
        "not-the-password",
        &k.addr(),
        Transport::Udp,
    )])
    .await;
    let event = events.wait("RegistrationFailed", WAIT, is_failed).await;
    let LineEvent::RegistrationFailed {
        line,
        reason,
        permanent,
    } = event
    else {
        unreachable!()
    };
    assert_eq!(line, "sip:alice@127.0.0.1");
    assert!(permanent, "{reason}");
    assert!(reason.starts_with("SIP credentials rejected"), "{reason}");
    assert!(
        !reason.contains("not-the-password"),
        "the password leaked: {reason}"
    );
    // No more attempts (retry_min is 300 ms): nothing happens for 3 s.
    let quiet = events.collect(Duration::from_secs(3)).await;
    assert!(quiet.is_empty(), "{quiet:?}");
    assert!(k.contacts("alice").is_empty());
    // A network change tries again (and fails the same way).
    agent.network_changed();
    let again = events.wait("RegistrationFailed", WAIT, is_failed).await;
    assert!(matches!(
        again,
        LineEvent::RegistrationFailed {
            permanent: true,
            ..
        }
    ));
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_is_rejected_too() {
    let k = Kamailio::start(KamailioConfig::default());
    let (agent, mut events) = start(vec![line("mallory", "x", &k.addr(), Transport::Tcp)]).await;
    let event = events.wait("RegistrationFailed", WAIT, is_failed).await;
    assert!(
        matches!(&event, LineEvent::RegistrationFailed { permanent: true, reason, .. } if reason.contains("SIP credentials rejected")),
        "{event:?}"
    );
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_change_registers_a_new_contact_and_removes_the_old() {
    for transport in [Transport::Udp, Transport::Tcp] {
        let k = Kamailio::start(KamailioConfig::default());
        let (agent, mut events) =
            start(vec![line("alice", "alice-secret", &k.addr(), transport)]).await;
        events.wait("Registered", WAIT, is_registered).await;
        let before = k.contacts("alice");
        assert_eq!(before.len(), 1);
        agent.network_changed();
        events.wait("Registered again", WAIT, is_registered).await;
        let after = k
            .wait_contacts("alice", WAIT, |c| {
                c.len() == 1 && c[0].address != before[0].address
            })
            .await;
        let user = |a: &str| a.split('@').next().unwrap().to_owned();
        assert_ne!(
            user(&after[0].address),
            user(&before[0].address),
            "new contact user"
        );
        agent.shutdown().await;
        events.drain(WAIT).await;
        assert!(k.contacts("alice").is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_through_the_outbound_proxy() {
    // The registrar's name does not resolve: only the outbound proxy can carry it.
    let k = Kamailio::start(KamailioConfig {
        alias: Some("deskline.test".into()),
        ..KamailioConfig::default()
    });
    let mut cfg = line("alice", "alice-secret", "deskline.test", Transport::Udp);
    cfg.line.aor = deskline_core::SipUri::parse("sip:alice@deskline.test").unwrap();
    cfg.line.outbound_proxy = Some(format!("sip:{};lr", k.addr()));
    let (agent, mut events) = start(vec![cfg]).await;
    let event = events.wait("Registered", WAIT, is_registered).await;
    assert!(
        matches!(&event, LineEvent::Registered { line, .. } if line == "sip:alice@deskline.test")
    );
    assert_eq!(k.contacts("alice").len(), 1);
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_registrar_is_a_transient_failure() {
    // Nothing listens on this TCP port: connection refused, retried with backoff.
    let port = deskline_e2e::kamailio::free_port();
    let (agent, mut events) = start(vec![line(
        "alice",
        "x",
        &format!("127.0.0.1:{port}"),
        Transport::Tcp,
    )])
    .await;
    let event = events.wait("RegistrationFailed", WAIT, is_failed).await;
    assert!(
        matches!(&event, LineEvent::RegistrationFailed { permanent: false, reason, .. } if reason.contains("cannot connect")),
        "{event:?}"
    );
    agent.shutdown().await;
    let rest = events.drain(WAIT).await;
    assert!(
        matches!(rest.last(), Some(LineEvent::Unregistered { .. })),
        "{rest:?}"
    );
}

/// A scripted registrar: 401 (nonce n1) → 401 `stale=true` (nonce n2) even to a correct
/// answer → 200. Treating the second 401 as a rejection would be wrong (RFC 7616 §3.3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_true_after_a_fresh_answer_is_not_a_rejection() {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let registrar = socket.local_addr().unwrap().to_string();
    let (agent, mut events) = start(vec![line("alice", "pw", &registrar, Transport::Udp)]).await;
    let mut buf = vec![0u8; 65536];
    let mut nonces_seen = Vec::new();
    let mut step = 0;
    while step < 3 {
        let (n, from) = tokio::time::timeout(WAIT, socket.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if !text.starts_with("REGISTER") {
            continue;
        }
        let copy: String = text
            .split("\r\n")
            .filter(|l| {
                ["Via:", "From:", "To:", "Call-ID:", "CSeq:"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .map(|l| format!("{l}\r\n"))
            .collect();
        let nonce = text
            .split("nonce=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(str::to_owned);
        nonces_seen.push(nonce.clone());
        let reply = match step {
            0 => format!(
                "SIP/2.0 401 Unauthorized\r\n{copy}WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", qop=\"auth\", algorithm=MD5\r\nContent-Length: 0\r\n\r\n"
            ),
            1 => format!(
                "SIP/2.0 401 Unauthorized\r\n{copy}WWW-Authenticate: Digest realm=\"r\", nonce=\"n2\", qop=\"auth\", algorithm=MD5, stale=true\r\nContent-Length: 0\r\n\r\n"
            ),
            _ => format!("SIP/2.0 200 OK\r\n{copy}Expires: 60\r\nContent-Length: 0\r\n\r\n"),
        };
        socket.send_to(reply.as_bytes(), from).await.unwrap();
        step += 1;
    }
    assert_eq!(
        nonces_seen,
        vec![None, Some("n1".into()), Some("n2".into())]
    );
    let event = events.wait("Registered", WAIT, is_registered).await;
    assert!(matches!(event, LineEvent::Registered { expires: 60, .. }));
    assert!(
        events.seen.iter().all(|e| !is_failed(e)),
        "{:?}",
        events.seen
    );
    drop(socket);
    agent.shutdown().await;
}
