//! Hostile and malformed input against a running agent, over a scripted registrar so
//! the exact bytes can be sent from the trusted address: the RFC 4475 torture messages
//! (tests/fixtures/sip/rfc4475), a flood of random and mutated datagrams, requests from
//! strangers (ghost calls, stranger CANCELs, a stranger's digest challenge). After each,
//! the agent must still answer OPTIONS, and nothing it should not ring rings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::Transport;
use deskline_core::calls::{CallEndReason, LineEvent};
use deskline_e2e::kamailio::{
    Events, FakeRegistrar, is_incoming, is_registered, line, options, tuning,
};
use deskline_sip::Agent;
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;

const WAIT: Duration = Duration::from_secs(10);

struct Setup {
    agent: Agent,
    events: Events,
    registrar: FakeRegistrar,
    /// The contact user the agent registered.
    user: String,
    /// The agent's UDP address.
    agent_addr: SocketAddr,
}

async fn setup() -> Setup {
    let mut registrar = FakeRegistrar::start().await;
    let (agent, rx) = Agent::start_tuned(
        vec![line("alice", "pw", &registrar.registrar(), Transport::Udp)],
        options(),
        tuning(),
    )
    .await
    .unwrap();
    let mut events = Events::new(rx);
    events.wait("Registered", WAIT, is_registered).await;
    let (contact, agent_addr) = registrar.registered(WAIT).await;
    let user = contact
        .strip_prefix("sip:")
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_owned();
    Setup {
        agent,
        events,
        registrar,
        user,
        agent_addr,
    }
}

fn status_of(response: &str) -> Option<u16> {
    let line = response.lines().next()?;
    let code = line.strip_prefix("SIP/2.0 ")?.get(..3)?;
    code.parse().ok()
}

fn request(method: &str, user: &str, agent: SocketAddr, call: &str) -> String {
    format!(
        "{method} sip:{user}@{agent} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-{call}\r\n\
         Max-Forwards: 70\r\n\
         From: \"Robust Test\" <sip:+4930555@example.com>;tag=f-{call}\r\n\
         To: <sip:alice@127.0.0.1>\r\n\
         Call-ID: {call}@robust\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

impl Setup {
    /// Sends from the registrar (the trusted address) and returns the status codes of the
    /// answers that arrive within `period`.
    async fn exchange(&mut self, bytes: &[u8], period: Duration) -> Vec<u16> {
        self.registrar
            .socket
            .send_to(bytes, self.agent_addr)
            .await
            .unwrap();
        self.registrar
            .collect(period)
            .await
            .iter()
            .filter_map(|m| status_of(m))
            .collect()
    }

    async fn still_answers_options(&mut self) {
        let options = request("OPTIONS", &self.user, self.agent_addr, "alive-check");
        let codes = self
            .exchange(options.as_bytes(), Duration::from_millis(500))
            .await;
        assert_eq!(codes, vec![200], "the agent stopped answering OPTIONS");
    }
}

fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sip/rfc4475")
}

/// What each RFC 4475 message must get when sent from the registrar to a user that is
/// not our contact: `None` = no answer at all (responses, which are never answered).
fn expected(file: &str) -> &'static [Option<u16>] {
    match file {
        // §3.1.1 valid: parsed, then refused by the ghost filter (not our user) or 501.
        "TC_WSINV.dat"
        | "TC_ESC01_V.dat"
        | "TC_ESCNULL_V.dat"
        | "TC_LWSDISP_V.dat"
        | "TC_LONGREQ_V.dat"
        | "TC_DBLREQ.dat"
        | "TC_SEMIURI_V.dat"
        | "TC_TRANSPORTS_V.dat"
        | "TC_MPART01.dat" => &[Some(404)],
        "TC_INTMETH.dat" | "TC_ESC02_V.dat" => &[Some(501)],
        // Responses: never answered.
        "TC_UNREASON_V.dat" | "TC_NOREASON_V.dat" | "TC_BCAST_V.dat" | "TC_BIGCODE_V.dat"
        | "TC_SCALARLG_V.dat" => &[None],
        // §3.1.2 invalid.
        "TC_BADINV01_I.dat"
        | "TC_CLERR_I.dat"
        | "TC_NCL_I.dat"
        | "TC_SCALAR02_V.dat"
        | "TC_QUOTBAL_I.dat"
        | "TC_LTGTRURI_I.dat"
        | "TC_LWSRURI_I.dat"
        | "TC_LWSSTART_V.dat"
        | "TC_TRWS_I.dat"
        | "TC_ESCRURI_V.dat"
        | "TC_REGBADCT_I.dat"
        | "TC_BADASPEC_I.dat"
        | "TC_BADDN_I.dat"
        | "TC_MISMATCH01_V.dat"
        | "TC_MISMATCH02_V.dat" => &[Some(400)],
        "TC_BADVERS_V.dat" => &[Some(505)],
        // §3.1.2.12: may be processed (the Date is not important to us) or refused.
        "TC_BADDATE_V.dat" => &[Some(404), Some(400)],
        // §3.3.1 missing From/To/Call-ID, §3.3.8 and §3.3.9 duplicates: 400.
        "TC_INSUF_I.dat" | "TC_MULTI01_I.dat" | "TC_MCL01_I.dat" => &[Some(400)],
        // §3.3.2/3: Request-URI schemes we do not serve.
        "TC_UNKSCM_V.dat" | "TC_NOVELSC_V.dat" => &[Some(416)],
        // §3.2.1, §3.3.x, §3.4.1: valid, not our user.
        "TC_BADBRANCH_V.dat" | "TC_UNKSM2_V.dat" | "TC_BEXT01_V.dat" | "TC_INVUT_V.dat"
        | "TC_REGAUT01_V.dat" | "TC_ZEROMF_V.dat" | "TC_CPARAM01_V.dat" | "TC_CPARAM02_V.dat"
        | "TC_REGESCRT_V.dat" | "TC_SDP01_V.dat" | "TC_INV2543_I.dat" => &[Some(404)],
        other => panic!("no expectation for {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4475_torture_messages() {
    let mut s = setup().await;
    let mut files: Vec<_> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dat"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 49, "the RFC 4475 fixtures are missing");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        let codes = s.exchange(&bytes, Duration::from_millis(250)).await;
        let got = codes.first().copied();
        let allowed = expected(&name);
        if !allowed.contains(&got) || codes.len() > 1 {
            failures.push(format!(
                "{name}: got {codes:?}, expected one of {allowed:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    s.still_answers_options().await;
    let rang: Vec<_> = s.events.collect(Duration::from_millis(200)).await;
    assert!(rang.iter().all(|e| !is_incoming(e)), "{rang:?}");
    s.agent.shutdown().await;
}

/// Replaces the Request-URI with our contact so the message reaches INVITE/OPTIONS
/// processing.
fn retarget(bytes: &[u8], user: &str, agent: SocketAddr) -> Vec<u8> {
    let end = bytes.windows(2).position(|w| w == b"\r\n").unwrap();
    let line = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let mut parts = line.splitn(3, ' ');
    let method = parts.next().unwrap();
    let _uri = parts.next().unwrap();
    let version = parts.next().unwrap();
    let mut out = format!("{method} sip:{user}@{agent} {version}").into_bytes();
    out.extend_from_slice(&bytes[end..]);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4475_messages_addressed_to_our_contact() {
    let mut s = setup().await;
    // (file, expected status, rings)
    let cases: &[(&str, u16, bool)] = &[
        // A To tag: a re-INVITE for a dialog we never made.
        ("TC_WSINV.dat", 481, false),
        ("TC_ESC01_V.dat", 180, true),
        ("TC_LONGREQ_V.dat", 180, true),
        ("TC_INV2543_I.dat", 180, true),
        ("TC_INVUT_V.dat", 415, false),
        ("TC_SDP01_V.dat", 406, false),
        ("TC_BEXT01_V.dat", 420, false),
        ("TC_ZEROMF_V.dat", 200, false),
        ("TC_LWSDISP_V.dat", 200, false),
        ("TC_MPART01.dat", 405, false),
        ("TC_DBLREQ.dat", 405, false),
    ];
    let mut rings = 0;
    for (file, code, ring) in cases {
        let bytes = retarget(
            &std::fs::read(fixtures_dir().join(file)).unwrap(),
            &s.user,
            s.agent_addr,
        );
        let codes = s.exchange(&bytes, Duration::from_millis(300)).await;
        let last = codes.iter().copied().rfind(|c| *c != 100);
        assert_eq!(last, Some(*code), "{file}: {codes:?}");
        if *ring {
            rings += 1;
            let event = s.events.wait("IncomingCall", WAIT, is_incoming).await;
            if *file == "TC_INV2543_I.dat" {
                assert!(
                    matches!(&event, LineEvent::IncomingCall { number, .. } if number == "+13035551111"),
                    "{event:?}"
                );
            }
        }
    }
    let extra = s.events.collect(Duration::from_millis(300)).await;
    assert!(
        extra.iter().all(|e| !is_incoming(e)),
        "unexpected rings: {extra:?}"
    );
    assert_eq!(rings, 3);
    s.still_answers_options().await;
    s.agent.shutdown().await;
}

fn mutate(rng: &mut impl Rng, base: &[u8]) -> Vec<u8> {
    let mut m = base.to_vec();
    for _ in 0..rng.random_range(1..8) {
        if m.is_empty() {
            break;
        }
        let i = rng.random_range(0..m.len());
        match rng.random_range(0..5) {
            0 => m[i] = rng.random(),
            1 => {
                m.remove(i);
            }
            2 => m.insert(i, rng.random()),
            3 => m.truncate(i),
            _ => {
                let chunk: Vec<u8> = m[i..].iter().take(40).copied().collect();
                m.splice(i..i, chunk);
            }
        }
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_of_garbage_and_mutations() {
    let mut s = setup().await;
    let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(4475);
    let good_for_us = request("INVITE", &s.user, s.agent_addr, "flood-base");
    let not_us = request("INVITE", "nobody", s.agent_addr, "flood-other");
    let fixtures: Vec<Vec<u8>> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    for i in 0..6000u32 {
        let (socket, bytes) = match i % 4 {
            // Random bytes from a stranger.
            0 => {
                let len = rng.random_range(0..1500);
                let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                (&stranger, bytes)
            }
            // Mutated INVITEs to our contact, from a stranger (must never ring).
            1 => (&stranger, mutate(&mut rng, good_for_us.as_bytes())),
            // Mutated requests from the registrar to another user, and mutated fixtures.
            2 => (&*s.registrar.socket, mutate(&mut rng, not_us.as_bytes())),
            _ => {
                let f = &fixtures[rng.random_range(0..fixtures.len())];
                (&*s.registrar.socket, mutate(&mut rng, f))
            }
        };
        let _ = socket.send_to(&bytes, s.agent_addr).await;
        if i % 200 == 0 {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = s.registrar.collect(Duration::from_millis(200)).await;
    s.still_answers_options().await;
    let during = s.events.collect(Duration::from_millis(300)).await;
    assert!(
        during.iter().all(|e| !is_incoming(e)),
        "the flood rang the line: {during:?}"
    );
    // And a real call still rings.
    let invite = request("INVITE", &s.user, s.agent_addr, "after-flood");
    let codes = s
        .exchange(invite.as_bytes(), Duration::from_millis(300))
        .await;
    assert!(codes.contains(&180), "{codes:?}");
    s.events.wait("IncomingCall", WAIT, is_incoming).await;
    s.agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_never_ring_or_cancel() {
    let mut s = setup().await;
    let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // The right contact user, straight to the contact address: refused, no ring.
    let ghost = request("INVITE", &s.user, s.agent_addr, "ghost-1");
    stranger
        .send_to(ghost.as_bytes(), s.agent_addr)
        .await
        .unwrap();
    let mut buf = vec![0u8; 65536];
    let (n, _) = tokio::time::timeout(WAIT, stranger.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert_eq!(status_of(&answer), Some(403), "{answer}");
    // Nothing else (no 180) follows.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), stranger.recv_from(&mut buf))
            .await
            .is_err()
    );
    // From the registrar, to a user that is not our contact: 404.
    let wrong_user = request("INVITE", "alice", s.agent_addr, "ghost-2");
    assert_eq!(
        s.exchange(wrong_user.as_bytes(), Duration::from_millis(300))
            .await,
        vec![404]
    );
    let quiet = s.events.collect(Duration::from_millis(300)).await;
    assert!(quiet.iter().all(|e| !is_incoming(e)), "{quiet:?}");

    // A real call rings; a stranger's CANCEL for it is refused and changes nothing.
    let real = request("INVITE", &s.user, s.agent_addr, "real-1");
    let codes = s
        .exchange(real.as_bytes(), Duration::from_millis(300))
        .await;
    assert_eq!(codes, vec![100, 180]);
    let LineEvent::IncomingCall { call_id, .. } =
        s.events.wait("IncomingCall", WAIT, is_incoming).await
    else {
        unreachable!()
    };
    let cancel = request("CANCEL", &s.user, s.agent_addr, "real-1");
    stranger
        .send_to(cancel.as_bytes(), s.agent_addr)
        .await
        .unwrap();
    let (n, _) = tokio::time::timeout(WAIT, stranger.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status_of(&String::from_utf8_lossy(&buf[..n])), Some(403));
    let quiet = s.events.collect(Duration::from_millis(300)).await;
    assert!(quiet.is_empty(), "a stranger ended the call: {quiet:?}");
    // The registrar's CANCEL (with the Reason of an answer elsewhere) ends it.
    let cancel = cancel.replace(
        "Content-Length: 0",
        "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\nContent-Length: 0",
    );
    let mut codes = s
        .exchange(cancel.as_bytes(), Duration::from_millis(300))
        .await;
    codes.sort_unstable();
    assert_eq!(codes, vec![200, 487]);
    let end = s
        .events
        .wait("CallEnded", WAIT, |e| {
            matches!(e, LineEvent::CallEnded { .. })
        })
        .await;
    assert!(
        matches!(&end, LineEvent::CallEnded { call_id: id, reason: CallEndReason::AnsweredElsewhere, .. } if *id == call_id),
        "{end:?}"
    );
    // Our ACK stops the 487's retransmissions.
    let ack = request("ACK", &s.user, s.agent_addr, "real-1");
    assert!(
        s.exchange(ack.as_bytes(), Duration::from_millis(1200))
            .await
            .is_empty()
    );
    // Out-of-dialog BYE: 481; an unknown method: 501; a known one we do not serve: 405.
    let bye = request("BYE", &s.user, s.agent_addr, "bye-1");
    assert_eq!(
        s.exchange(bye.as_bytes(), Duration::from_millis(300)).await,
        vec![481]
    );
    let info = request("FOO", &s.user, s.agent_addr, "foo-1");
    assert_eq!(
        s.exchange(info.as_bytes(), Duration::from_millis(300))
            .await,
        vec![501]
    );
    let sub = request("SUBSCRIBE", &s.user, s.agent_addr, "sub-1");
    assert_eq!(
        s.exchange(sub.as_bytes(), Duration::from_millis(300)).await,
        vec![405]
    );
    // An old contact user after a network change: 404.
    let old_user = s.user.clone();
    let old_addr = s.agent_addr;
    s.agent.network_changed();
    s.events.wait("Registered", WAIT, is_registered).await;
    let stale = request("INVITE", &old_user, old_addr, "old-contact");
    let _ = s.registrar.socket.send_to(stale.as_bytes(), old_addr).await;
    let quiet = s.events.collect(Duration::from_millis(500)).await;
    assert!(quiet.iter().all(|e| !is_incoming(e)), "{quiet:?}");
    s.agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_challenge_gets_no_credentials() {
    // We play the registrar by hand: hold the first REGISTER, let a stranger answer it
    // with a 401 for the same transaction, and check the agent never sends credentials.
    let registrar = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (agent, rx) = Agent::start_tuned(
        vec![line(
            "alice",
            "secret-pw",
            &registrar.local_addr().unwrap().to_string(),
            Transport::Udp,
        )],
        options(),
        tuning(),
    )
    .await
    .unwrap();
    let mut events = Events::new(rx);
    let mut buf = vec![0u8; 65536];
    let (n, agent_addr) = tokio::time::timeout(WAIT, registrar.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let first = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(first.starts_with("REGISTER"));
    let copy: String = first
        .split("\r\n")
        .filter(|l| {
            ["Via:", "From:", "To:", "Call-ID:", "CSeq:"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| format!("{l}\r\n"))
        .collect();
    let challenge = format!(
        "SIP/2.0 401 Unauthorized\r\n{copy}WWW-Authenticate: Digest realm=\"evil\", nonce=\"x\", qop=\"auth\"\r\nContent-Length: 0\r\n\r\n"
    );
    stranger
        .send_to(challenge.as_bytes(), agent_addr)
        .await
        .unwrap();
    // The agent keeps retransmitting its REGISTER, never with an Authorization.
    let mut retransmissions = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1800);
    while let Ok(Ok((n, _))) =
        tokio::time::timeout_at(deadline, registrar.recv_from(&mut buf)).await
    {
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(
            !text.contains("Authorization"),
            "credentials went out after a stranger's 401:\n{text}"
        );
        retransmissions += 1;
    }
    assert!(retransmissions >= 1);
    // The real registrar accepts: registered.
    let ok = format!("SIP/2.0 200 OK\r\n{copy}Expires: 60\r\nContent-Length: 0\r\n\r\n");
    registrar.send_to(ok.as_bytes(), agent_addr).await.unwrap();
    events.wait("Registered", WAIT, is_registered).await;
    drop(registrar);
    agent.shutdown().await;
}
