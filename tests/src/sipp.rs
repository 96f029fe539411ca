//! SIPp for the SIP suites: scenarios are written to a temporary directory and run with
//! `sipp -sf FILE -nostdin -i 127.0.0.1 -p PORT -m N -timeout …` under `timeout -s KILL`,
//! so every run is bounded. A run returns its exit status, the final statistics screen,
//! the message trace and the unexpected-message log.
//!
//! The scenarios below are the ones the suites use: a caller that lets the line ring and
//! CANCELs, a caller that expects a final status (603), a caller that expects an answer
//! from another device, an answering UAS, and a REGISTER (MD5 only: SIPp's limit).

use crate::kamailio::free_port;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The outcome of a SIPp run.
#[derive(Debug, Clone)]
pub struct SippRun {
    /// Exit status (0: every call succeeded; 1: some failed; -1: killed by the bound).
    pub status: i32,
    /// Final statistics screen.
    pub screen: String,
    /// Every message sent and received.
    pub messages: String,
    /// Unexpected messages.
    pub errors: String,
    /// SIPp's stdout and stderr.
    pub output: String,
}

impl SippRun {
    /// Whether SIPp reported success.
    pub fn ok(&self) -> bool {
        self.status == 0
    }

    /// Everything, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "sipp exit {}\n--- screen\n{}\n--- errors\n{}\n--- output\n{}\n--- messages\n{}",
            self.status, self.screen, self.errors, self.output, self.messages
        )
    }
}

/// A SIPp process running in the background.
pub struct SippProcess {
    child: Child,
    dir: tempfile::TempDir,
    name: String,
    /// Its SIP port on 127.0.0.1.
    pub port: u16,
}

impl SippProcess {
    /// Waits (bounded) for it to end and collects its logs.
    pub async fn finish(mut self, limit: Duration) -> SippRun {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(Ok(s)) => s.code().unwrap_or(-1),
            _ => {
                let _ = self.child.start_kill();
                let _ = self.child.wait().await;
                -1
            }
        };
        let mut output = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            use tokio::io::AsyncReadExt;
            let _ = out.read_to_string(&mut output).await;
        }
        collect(&self.dir, &self.name, status, output)
    }
}

impl Drop for SippProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn collect(dir: &tempfile::TempDir, name: &str, status: i32, output: String) -> SippRun {
    let mut run = SippRun {
        status,
        screen: String::new(),
        messages: String::new(),
        errors: String::new(),
        output,
    };
    if let Ok(entries) = std::fs::read_dir(dir.path()) {
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if !file.starts_with(name) {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if file.ends_with("_screen.log") || file.ends_with("_screens.log") {
                run.screen.push_str(&text);
            } else if file.ends_with("_messages.log") {
                run.messages.push_str(&text);
            } else if file.ends_with("_errors.log") {
                run.errors.push_str(&text);
            }
        }
    }
    run
}

/// Starts SIPp with `scenario` (XML text) against `target` (`127.0.0.1:port`).
/// `extra` are further arguments (`-s alice`, `-m 3`, `-au …`). The run is bounded by
/// `limit` (SIPp's `-timeout` and an outer SIGKILL).
pub fn spawn(scenario: &str, target: Option<&str>, extra: &[&str], limit: Duration) -> SippProcess {
    spawn_on(free_port(), scenario, target, extra, limit)
}

/// Like [`spawn`], on a given local SIP port.
pub fn spawn_on(
    port: u16,
    scenario: &str,
    target: Option<&str>,
    extra: &[&str],
    limit: Duration,
) -> SippProcess {
    let dir = tempfile::tempdir().expect("temp dir");
    let name = "scenario".to_owned();
    let path: PathBuf = dir.path().join(format!("{name}.xml"));
    std::fs::write(&path, scenario).expect("write scenario");
    let media = free_port();
    let secs = limit.as_secs().max(1);
    let mut cmd = Command::new("timeout");
    cmd.arg("-s")
        .arg("KILL")
        .arg(format!("{}", secs + 5))
        .arg("sipp")
        .arg("-sf")
        .arg(&path)
        .args(["-nostdin", "-i", "127.0.0.1", "-p"])
        .arg(port.to_string())
        .arg("-mp")
        .arg(media.to_string())
        .args(["-timeout", &format!("{secs}s"), "-timeout_error"])
        .args(["-trace_msg", "-trace_err", "-trace_screen"])
        .args(extra);
    if let Some(target) = target {
        cmd.arg(target);
    }
    let child = cmd
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("sipp is installed (apt-get install sip-tester)");
    SippProcess {
        child,
        dir,
        name,
        port,
    }
}

/// Runs SIPp to completion (bounded).
pub async fn run(scenario: &str, target: Option<&str>, extra: &[&str], limit: Duration) -> SippRun {
    spawn(scenario, target, extra, limit)
        .finish(limit + Duration::from_secs(10))
        .await
}

const SDP: &str = "v=0\r\no=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]\r\ns=-\r\nc=IN IP[media_ip_type] [media_ip]\r\nt=0 0\r\nm=audio [media_port] RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

fn invite(caller: &str) -> String {
    format!(
        r#"
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
From: "{caller} [call_number]" <sip:+1555000[call_number]@[local_ip]:[local_port]>;tag=[pid]-[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Subject: Deskline test
Content-Type: application/sdp
Content-Length: [len]

{SDP}"#
    )
}

fn same_branch(method: &str, with_peer_tag: bool) -> String {
    let to_tag = if with_peer_tag {
        "[peer_tag_param]"
    } else {
        ""
    };
    format!(
        r#"
{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
From: "Caller [call_number]" <sip:+1555000[call_number]@[local_ip]:[local_port]>;tag=[pid]-[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>{to_tag}
Call-ID: [call_id]
CSeq: 1 {method}
Max-Forwards: 70
Content-Length: 0

"#
    )
}

/// A caller that INVITEs `-s USER` through the target, waits for the first 180, lets it
/// ring `ring_ms` (absorbing further 180s from forks), then CANCELs and expects 200 + 487
/// in either order, and ACKs the 487.
pub fn caller_cancels(ring_ms: u32) -> String {
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller cancels">
  <send retrans="500"><![CDATA[{invite}]]></send>
  <label id="trying"/>
  <recv response="100" optional="true" next="trying"/>
  <recv response="180" timeout="10000"/>
  <label id="ring"/>
  <recv response="180" timeout="{ring_ms}" ontimeout="cancel" next="ring"/>
  <label id="cancel"/>
  <send retrans="500"><![CDATA[{cancel}]]></send>
  <recv response="200" optional="true" next="cancel_ok"/>
  <recv response="487" timeout="10000"/>
  <send><![CDATA[{ack}]]></send>
  <recv response="200" timeout="5000"/>
  <nop next="done"/>
  <label id="cancel_ok"/>
  <recv response="487" timeout="10000"/>
  <send><![CDATA[{ack}]]></send>
  <label id="done"/>
</scenario>
"#,
        invite = invite("Caller"),
        cancel = same_branch("CANCEL", false),
        ack = same_branch("ACK", true),
    )
}

/// A caller that INVITEs `-s USER` and expects the final status `code` (after any 1xx),
/// then ACKs it.
pub fn caller_expects(code: u16) -> String {
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller expects {code}">
  <send retrans="500"><![CDATA[{invite}]]></send>
  <label id="ringing"/>
  <recv response="100" optional="true" next="ringing"/>
  <recv response="180" optional="true" next="ringing"/>
  <recv response="{code}" timeout="30000"/>
  <send><![CDATA[{ack}]]></send>
</scenario>
"#,
        invite = invite("Caller"),
        ack = same_branch("ACK", true),
    )
}

/// A caller that expects another device to answer (200), ACKs, waits and hangs up.
pub fn caller_answered() -> String {
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller answered">
  <send retrans="500"><![CDATA[{invite}]]></send>
  <label id="ringing"/>
  <recv response="100" optional="true" next="ringing"/>
  <recv response="180" optional="true" next="ringing"/>
  <recv response="200" rrs="true" timeout="20000"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: "Caller [call_number]" <sip:+1555000[call_number]@[local_ip]:[local_port]>;tag=[pid]-[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="500"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: "Caller [call_number]" <sip:+1555000[call_number]@[local_ip]:[local_port]>;tag=[pid]-[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" timeout="5000"/>
</scenario>
"#,
        invite = invite("Caller"),
    )
}

/// A UAS (another device of the line) that rings for `ring_ms`, answers 200, and takes
/// the caller's BYE.
pub fn uas_answers(ring_ms: u32) -> String {
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas answers">
  <recv request="INVITE"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]uas[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:uas@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
  <pause milliseconds="{ring_ms}"/>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]uas[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:uas@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

{SDP}]]></send>
  <recv request="ACK"/>
  <recv request="BYE" timeout="20000"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"#
    )
}

/// REGISTERs `user` with MD5 digest (`-au`/`-ap` give the credentials) for `expires`
/// seconds, the contact being SIPp's own address. Expires 0 removes it.
pub fn register(user: &str, expires: u32) -> String {
    let msg = |cseq: u32, auth: &str| {
        format!(
            r#"
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{user}@[remote_ip]>;tag=[pid]-[call_number]
To: <sip:{user}@[remote_ip]>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:uas@[local_ip]:[local_port]>
{auth}Expires: {expires}
Max-Forwards: 70
Content-Length: 0

"#
        )
    };
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register">
  <send retrans="500"><![CDATA[{first}]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[{second}]]></send>
  <recv response="200"/>
</scenario>
"#,
        first = msg(1, ""),
        second = msg(2, "[authentication]\n"),
    )
}

/// Runs [`register`] from a given local port (so a later UAS on that port is reachable).
pub async fn register_from(
    port: u16,
    target: &str,
    user: &str,
    password: &str,
    expires: u32,
) -> SippRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("register.xml");
    std::fs::write(&path, register(user, expires)).expect("write scenario");
    let media = free_port();
    let out = Command::new("timeout")
        .args(["-s", "KILL", "20", "sipp", "-sf"])
        .arg(&path)
        .args(["-nostdin", "-i", "127.0.0.1", "-p"])
        .arg(port.to_string())
        .arg("-mp")
        .arg(media.to_string())
        .args([
            "-m",
            "1",
            "-timeout",
            "15s",
            "-timeout_error",
            "-trace_err",
            "-trace_msg",
        ])
        .args(["-au", user, "-ap", password, target])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run sipp");
    collect(
        &dir,
        "register",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
