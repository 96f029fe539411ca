//! `deskline listen`, the real binary, end to end: it registers with a real Kamailio,
//! SIPp places the calls, and a recording notification server on a private D-Bus session
//! bus shows what the user saw. Two modes: one line set up by hand (`--line`), and the
//! soft clients synced from the sandbox provider for a signed-in account (their SIP
//! passwords from the keychain). With `--json`, every event is one JSON object per line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_e2e::cli::{
    Client, DEMO_PASSWORD, DEMO_USER, Sandbox, SandboxConfig, Seed, demo_seed_with_registrar_port,
    demo_sip_users,
};
use deskline_e2e::dbus::NotificationDaemon;
use deskline_e2e::kamailio::{Kamailio, KamailioConfig};
use deskline_e2e::sipp;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::time::Duration;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

/// A running `deskline --json listen …` and the events it printed so far.
struct Listen {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<Value>,
    stderr: std::path::PathBuf,
    _stderr_dir: tempfile::TempDir,
}

impl Listen {
    fn spawn(client: &Client, args: &[&str], stdin: Option<&str>, bus: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let stderr = dir.path().join("stderr.txt");
        let mut all = vec!["--json", "listen", "--bind", "127.0.0.1"];
        all.extend_from_slice(args);
        let mut child = client
            .command(&all)
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .stdin(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
            stderr,
            _stderr_dir: dir,
        }
    }

    fn describe(&self) -> String {
        format!(
            "events so far:\n{}\nstderr:\n{}",
            self.seen
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// Reads events until one satisfies `pred`; every line must be one JSON object with
    /// a `type`.
    async fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.lines.recv()).await;
            match next {
                Ok(Some(line)) => {
                    let value: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
                        panic!(
                            "not one JSON object per line ({e}): {line}\n{}",
                            self.describe()
                        )
                    });
                    assert!(value["type"].is_string(), "an event without a type: {line}");
                    self.seen.push(value.clone());
                    if pred(&value) {
                        return value;
                    }
                }
                Ok(None) => panic!("deskline listen exited before {what}\n{}", self.describe()),
                Err(_) => panic!("no {what} within {WAIT:?}\n{}", self.describe()),
            }
        }
    }

    /// Ctrl-C: returns the exit code, every event printed until the process ended, and
    /// everything it wrote to stderr.
    async fn interrupt(mut self) -> (i32, Vec<Value>, String) {
        let pid = self.child.id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = tokio::time::Instant::now() + WAIT;
        while let Ok(Some(line)) = tokio::time::timeout_at(deadline, self.lines.recv()).await {
            self.seen.push(serde_json::from_str(&line).unwrap());
        }
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "deskline listen did not stop after SIGINT\n{}",
                self.describe()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        (code, std::mem::take(&mut self.seen), stderr)
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == kind
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_by_hand_rings_notifies_declines_and_unregisters() {
    let k = Kamailio::start(KamailioConfig::default());
    let daemon = NotificationDaemon::start().await;
    let mut client = Client::new();
    // Everything the agent logs, to check that no secret is in it.
    client.log_level = "trace";
    let line = format!("sip:alice@{}", k.addr());
    let mut listen = Listen::spawn(
        &client,
        &[
            "--line",
            &line,
            "--auth-user",
            "alice",
            "--password-stdin",
            "--label",
            "Front desk",
        ],
        Some("alice-secret\n"),
        daemon.address(),
    );
    let registered = listen.wait("registered", is("registered")).await;
    assert_eq!(registered["line"], line.as_str(), "{registered}");
    assert!(registered["expires"].as_u64().unwrap() > 0);
    k.wait_contacts("alice", WAIT, |c| c.len() == 1).await;

    // A call that rings, then the caller hangs up: shown, withdrawn, missed.
    let caller = sipp::spawn(
        &sipp::caller_cancels(1500),
        Some(&k.addr()),
        &["-s", "alice", "-m", "1"],
        WAIT,
    );
    let incoming = listen.wait("incoming_call", is("incoming_call")).await;
    assert_eq!(incoming["number"], "+15550001", "{incoming}");
    assert_eq!(incoming["name"], "Caller 1", "{incoming}");
    assert_eq!(incoming["line"], line.as_str(), "{incoming}");
    let call_id = incoming["call_id"].as_str().unwrap().to_owned();
    assert!(!call_id.is_empty());
    let shown = daemon.wait_notifies(1, WAIT).await;
    assert_eq!(shown[0].summary, "Incoming call — Caller 1");
    assert!(
        shown[0].body.contains("+15550001") && shown[0].body.contains("Front desk"),
        "{:?}",
        shown[0].body
    );
    assert!(shown[0].actions.contains(&"decline".to_owned()));
    let ended = listen.wait("call_ended", is("call_ended")).await;
    assert_eq!(ended["call_id"], call_id.as_str());
    assert_eq!(ended["reason"], "missed", "{ended}");
    daemon.wait_closed(shown[0].id, WAIT).await;
    let run = caller.finish(WAIT).await;
    assert!(run.ok(), "{}", run.describe());

    // A second call, declined from the notification: the caller hears 603.
    let caller = sipp::spawn(
        &sipp::caller_expects(603),
        Some(&k.addr()),
        &["-s", "alice", "-m", "1"],
        WAIT,
    );
    let incoming = listen.wait("incoming_call", is("incoming_call")).await;
    let shown = daemon.wait_notifies(2, WAIT).await;
    // Clicked the moment the server has it (the notifier listens before it sends).
    daemon.invoke_action(shown[1].id, "decline").await;
    let ended = listen.wait("call_ended", is("call_ended")).await;
    assert_eq!(ended["call_id"], incoming["call_id"]);
    assert_eq!(ended["reason"], "declined", "{ended}");
    let run = caller.finish(WAIT).await;
    assert!(run.ok(), "the caller did not get 603: {}", run.describe());

    // Ctrl-C unregisters before exiting.
    let (code, rest, stderr) = listen.interrupt().await;
    assert_eq!(code, 0, "{rest:?}");
    assert!(rest.iter().any(|v| v["type"] == "unregistered"), "{rest:?}");
    k.wait_contacts("alice", WAIT, |c| c.is_empty()).await;

    // The calls are in the history of the hand-made line, in the data directory.
    assert!(client.data_dir.join("manual-lines.sqlite3").exists());

    // The SIP password is in none of the files and none of the output (trace logs
    // included); the digest Authorization sent to the registrar is not logged either.
    assert!(
        stderr.contains("line event"),
        "the agent's debug logs were not captured:\n{stderr}"
    );
    assert!(!stderr.contains("alice-secret"), "the password was logged");
    assert!(
        !stderr.contains("Digest username"),
        "an Authorization header was logged"
    );
    assert!(
        !rest.iter().any(|v| v.to_string().contains("alice-secret")),
        "the password was printed"
    );
    let mut dirs = vec![client.data_dir.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(12).any(|w| w == b"alice-secret"),
                    "the password is in {}",
                    path.display()
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_sip_password_is_a_clear_failure_with_exit_code_3() {
    let k = Kamailio::start(KamailioConfig::default());
    let daemon = NotificationDaemon::start().await;
    let client = Client::new();
    let line = format!("sip:alice@{}", k.addr());
    let mut listen = Listen::spawn(
        &client,
        &["--line", &line, "--password-stdin"],
        Some("not-the-password\n"),
        daemon.address(),
    );
    let failed = listen
        .wait("registration_failed", is("registration_failed"))
        .await;
    assert_eq!(failed["line"], line.as_str());
    assert_eq!(failed["permanent"], true, "{failed}");
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("credentials"),
        "{failed}"
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = listen.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            listen.describe()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(3), "{}", listen.describe());
    assert!(k.contacts("alice").is_empty());
}

#[test]
fn bad_manual_lines_are_usage_errors() {
    let client = Client::new();
    for (args, needle) in [
        (
            &["--line", "alice@127.0.0.1", "--password-stdin"][..],
            "sip:",
        ),
        (
            &[
                "--line",
                "sip:alice@127.0.0.1",
                "--transport",
                "carrier-pigeon",
                "--password-stdin",
            ][..],
            "udp, tcp or tls",
        ),
    ] {
        let mut all = vec!["listen"];
        all.extend_from_slice(args);
        let run = client.run_with_stdin(&all, "secret\n").expect_code(2);
        assert!(
            run.stderr.to_lowercase().contains(needle),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_soft_clients_synced_for_the_account_register_and_ring() {
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
    let daemon = NotificationDaemon::start().await;
    let client = Client::new();
    client
        .login(sandbox.base_url().as_str(), DEMO_USER, DEMO_PASSWORD)
        .expect_code(0);

    let mut listen = Listen::spawn(&client, &[], None, daemon.address());
    let mut lines = Vec::new();
    while lines.len() < 2 {
        let registered = listen.wait("registered", is("registered")).await;
        lines.push(registered["line"].as_str().unwrap().to_owned());
    }
    lines.sort();
    assert_eq!(
        lines,
        [
            "sip:dana-mobile@deskline.example",
            "sip:dana-pc@deskline.example"
        ]
    );
    k.wait_contacts("dana-pc", WAIT, |c| c.len() == 1).await;
    k.wait_contacts("dana-mobile", WAIT, |c| c.len() == 1).await;

    // A known caller: the name comes from the user's directory, not the From header.
    let caller = sipp::spawn(
        &sipp::caller_cancels(1000),
        Some(&k.addr()),
        &["-s", "dana-pc", "-m", "1"],
        WAIT,
    );
    let incoming = listen.wait("incoming_call", is("incoming_call")).await;
    assert_eq!(incoming["line"], "sip:dana-pc@deskline.example");
    assert_eq!(incoming["line_label"], "Dana Demo (PC)", "{incoming}");
    assert_eq!(incoming["number"], "+15550001");
    let shown = daemon.wait_notifies(1, WAIT).await;
    assert!(shown[0].body.contains("Dana Demo (PC)"), "{:?}", shown[0]);
    let ended = listen.wait("call_ended", is("call_ended")).await;
    assert_eq!(ended["reason"], "missed");
    let run = caller.finish(WAIT).await;
    assert!(run.ok(), "{}", run.describe());

    let (code, rest, _) = listen.interrupt().await;
    assert_eq!(code, 0, "{rest:?}");
    k.wait_contacts("dana-pc", WAIT, |c| c.is_empty()).await;
    k.wait_contacts("dana-mobile", WAIT, |c| c.is_empty()).await;

    // The call is in the account's history.
    let history = client.json(&["calls"]);
    assert!(
        history.to_string().contains("+15550001"),
        "the missed call is not in the history: {history}"
    );
    sandbox.shutdown().await;
}
