//! INVITE→180 latency of Deskline's agent and of baresip under the same SIPp load, and
//! INVITE→`IncomingCall` event latency of Deskline, on loopback.
//!
//! `cargo bench -p deskline-sip --bench invite_latency` (not run in CI). Needs `kamailio`,
//! `sipp` (sip-tester), `baresip` (baresip-core) and `tshark`. Both user agents register
//! on the same AoR of a local Kamailio, so every INVITE of the SIPp caller is forked to
//! both at the same moment (the shared-line case). A tshark capture on the loopback
//! interface timestamps each INVITE arriving at a UA's port and the 180 leaving it (SIPp's
//! own statistics only have 1 ms resolution); the `IncomingCall` event is timestamped by
//! this process when it reads it from the agent's channel (same realtime clock).
//!
//! Environment: `BENCH_CALLS` (default 300), `BENCH_RATE` calls/s (default 20).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::calls::LineEvent;
use deskline_core::{SipLine, SipUri, Transport};
use deskline_sip::{Agent, AgentOptions, LineConfig, Tuning};
use secrecy::SecretString;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn require(tool: &str, package: &str) {
    let found = Command::new("which")
        .arg(tool)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("invite_latency needs `{tool}` (apt-get install {package})");
        std::process::exit(2);
    }
}

struct Killer(Vec<Child>);

impl Drop for Killer {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn_group(cmd: &mut Command) -> Child {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0).spawn().expect("spawn")
}

const KAMAILIO: &str = r#"
request_route {
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    if (is_method("OPTIONS") && uri==myself && $rU==$null) { sl_send_reply("200", "Keepalive"); exit; }
    if (has_totag()) {
        if (loose_route()) { t_relay(); exit; }
        if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
        sl_send_reply("404", "Not here"); exit;
    }
    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
    t_check_trans();
    if (is_method("REGISTER")) {
        if (!www_authorize("$td", "subscriber")) { www_challenge("$td", "1"); exit; }
        consume_credentials();
        if (!save("location")) { sl_reply_error(); }
        exit;
    }
    if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
    t_relay();
    exit;
}
"#;

fn start_kamailio(dir: &Path, port: u16) -> Child {
    let d = dir.display();
    std::fs::create_dir_all(dir.join("db")).unwrap();
    std::fs::write(
        dir.join("db/version"),
        "table_name(string) table_version(int) \nsubscriber:7\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("db/subscriber"),
        "id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null) \n1:alice:127.0.0.1:alice-secret::\n",
    )
    .unwrap();
    let modules = if Path::new("/usr/lib/x86_64-linux-gnu/kamailio/modules").exists() {
        "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
    } else {
        "/usr/lib/kamailio/modules/"
    };
    let mut cfg = format!(
        "#!KAMAILIO\ndebug=1\nlog_stderror=yes\nchildren=2\nlisten=udp:127.0.0.1:{port}\nauto_aliases=no\nmpath=\"{modules}\"\n"
    );
    for m in [
        "kex",
        "ctl",
        "tm",
        "sl",
        "rr",
        "pv",
        "maxfwd",
        "usrloc",
        "registrar",
        "textops",
        "siputils",
        "db_text",
        "auth",
        "auth_db",
    ] {
        writeln!(cfg, "loadmodule \"{m}.so\"").unwrap();
    }
    writeln!(cfg, "modparam(\"ctl\", \"binrpc\", \"unix:{d}/ctl\")").unwrap();
    writeln!(cfg, "modparam(\"usrloc\", \"db_mode\", 0)").unwrap();
    writeln!(cfg, "modparam(\"auth_db\", \"db_url\", \"text://{d}/db\")").unwrap();
    writeln!(cfg, "modparam(\"auth_db\", \"calculate_ha1\", yes)").unwrap();
    writeln!(
        cfg,
        "modparam(\"auth_db\", \"password_column\", \"password\")"
    )
    .unwrap();
    writeln!(cfg, "modparam(\"auth_db\", \"load_credentials\", \"\")").unwrap();
    cfg.push_str(KAMAILIO);
    std::fs::write(dir.join("kamailio.cfg"), cfg).unwrap();
    let log = std::fs::File::create(dir.join("kamailio.log")).unwrap();
    let mut child = spawn_group(
        Command::new("kamailio")
            .args(["-DD", "-E", "-m", "64", "-M", "8", "-f"])
            .arg(dir.join("kamailio.cfg"))
            .arg("-Y")
            .arg(dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if kamcmd(dir, &["core.uptime"]).is_some() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "kamailio did not start:\n{}",
        std::fs::read_to_string(dir.join("kamailio.log")).unwrap_or_default()
    );
}

fn kamcmd(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("kamcmd")
        .arg("-s")
        .arg(format!("unix:{}/ctl", dir.display()))
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn start_baresip(dir: &Path, kamailio_port: u16, sip_port: u16) -> Child {
    let conf = dir.join("baresip");
    std::fs::create_dir_all(&conf).unwrap();
    let ctrl = free_port();
    std::fs::write(
        conf.join("config"),
        format!(
            "poll_method epoll\nsip_listen 127.0.0.1:{sip_port}\nnet_interface 127.0.0.1\ncall_max_calls 500\n\
             audio_player aubridge,x\naudio_source aubridge,x\naudio_alert aubridge,x\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aubridge.so\nmodule ctrl_tcp.so\n\
             module_app account.so\nmodule_app menu.so\nctrl_tcp_listen 127.0.0.1:{ctrl}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        conf.join("accounts"),
        format!(
            "<sip:alice@127.0.0.1:{kamailio_port};transport=udp>;auth_user=alice;auth_pass=alice-secret;answermode=manual;regint=600\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("baresip.log")).unwrap();
    spawn_group(
        Command::new("baresip")
            .args(["-4", "-f"])
            .arg(&conf)
            .args(["-t", "3600"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log),
    )
}

fn scenario(ring_ms: u32) -> String {
    let invite = "
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
From: \"Bench [call_number]\" <sip:+1555000[call_number]@[local_ip]:[local_port]>;tag=[pid]-[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
";
    let same = |method: &str, tag: &str| {
        format!(
            "
{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
From: \"Bench [call_number]\" <sip:+1555000[call_number]@[local_ip]:[local_port]>;tag=[pid]-[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>{tag}
Call-ID: [call_id]
CSeq: 1 {method}
Max-Forwards: 70
Content-Length: 0

"
        )
    };
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench">
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
        cancel = same("CANCEL", ""),
        ack = same("ACK", "[peer_tag_param]"),
    )
}

fn nanos(epoch: &str) -> Option<u128> {
    let (s, frac) = epoch.trim().split_once('.').unwrap_or((epoch.trim(), "0"));
    let mut frac = frac.to_owned();
    frac.truncate(9);
    while frac.len() < 9 {
        frac.push('0');
    }
    Some(s.parse::<u128>().ok()? * 1_000_000_000 + frac.parse::<u128>().ok()?)
}

fn stats(name: &str, mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        println!("{name:<32} no samples");
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name:<32} n={:<5} median {:>8.3} ms   p90 {:>8.3} ms   p99 {:>8.3} ms   max {:>8.3} ms",
        v.len(),
        q(0.5),
        q(0.9),
        q(0.99),
        v[v.len() - 1]
    );
    Some(q(0.5))
}

fn main() {
    for (tool, package) in [
        ("kamailio", "kamailio"),
        ("kamcmd", "kamailio"),
        ("sipp", "sip-tester"),
        ("baresip", "baresip-core"),
        ("tshark", "tshark"),
    ] {
        require(tool, package);
    }
    let calls: u32 = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let rate: u32 = std::env::var("BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(calls, rate));
}

async fn run(calls: u32, rate: u32) {
    let dir = tempfile::tempdir().unwrap();
    let kport = free_port();
    let mut children = Killer(Vec::new());
    children.0.push(start_kamailio(dir.path(), kport));

    let line = LineConfig {
        line: SipLine {
            aor: SipUri::parse("sip:alice@127.0.0.1").unwrap(),
            auth_user: "alice".into(),
            registrar: format!("127.0.0.1:{kport}"),
            outbound_proxy: None,
            transport: Transport::Udp,
            display_name: None,
        },
        password: SecretString::from("alice-secret"),
        expires: 600,
        tls_ca_pem: None,
    };
    let options = AgentOptions {
        bind_ip: "127.0.0.1".parse().unwrap(),
        user_agent: "Deskline-bench".into(),
        ..AgentOptions::default()
    };
    let (agent, mut rx) = Agent::start_tuned(vec![line], options, Tuning::default())
        .await
        .unwrap();
    let event_times: Arc<Mutex<HashMap<String, u128>>> = Arc::default();
    let (registered_tx, registered_rx) = tokio::sync::oneshot::channel();
    let times = event_times.clone();
    tokio::spawn(async move {
        let mut registered = Some(registered_tx);
        while let Some(event) = rx.recv().await {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            match event {
                LineEvent::IncomingCall { call_id, .. } => {
                    times.lock().unwrap().insert(call_id, now);
                }
                LineEvent::Registered { .. } => {
                    if let Some(tx) = registered.take() {
                        let _ = tx.send(());
                    }
                }
                _ => {}
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), registered_rx)
        .await
        .expect("Deskline registered")
        .unwrap();

    let bport = free_port();
    children.0.push(start_baresip(dir.path(), kport, bport));
    // Both bindings present; find Deskline's port.
    let deadline = Instant::now() + Duration::from_secs(15);
    let aport = loop {
        let dump = kamcmd(dir.path(), &["ul.dump"]).unwrap_or_default();
        let addresses: Vec<&str> = dump
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Address: "))
            .collect();
        if addresses.len() >= 2 {
            let ours = addresses
                .iter()
                .find(|a| !a.contains(&format!(":{bport}")))
                .expect("Deskline's contact");
            let port = ours
                .rsplit(':')
                .next()
                .and_then(|p| p.split(';').next())
                .and_then(|p| p.parse::<u16>().ok())
                .expect("port");
            break port;
        }
        assert!(
            Instant::now() < deadline,
            "baresip did not register:\n{dump}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!("kamailio :{kport}  deskline :{aport}  baresip :{bport}  calls {calls} at {rate}/s");

    // Capture both UAs' ports on loopback.
    let pcap = dir.path().join("cap.pcapng");
    let mut tshark = Command::new("tshark")
        .args(["-i", "lo", "-q", "-f"])
        .arg(format!("udp port {aport} or udp port {bport}"))
        .arg("-w")
        .arg(&pcap)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tshark");
    if let Some(err) = tshark.stderr.take() {
        let mut lines = BufReader::new(err).lines();
        for line in lines.by_ref() {
            let line = line.unwrap_or_default();
            if line.contains("Capturing on") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let scenario_path = dir.path().join("bench.xml");
    std::fs::write(&scenario_path, scenario(300)).unwrap();
    let media = free_port();
    let limit = u64::from(calls / rate.max(1)) + 60;
    let sipp = tokio::process::Command::new("timeout")
        .args(["-s", "KILL", &format!("{}", limit + 10), "sipp", "-sf"])
        .arg(&scenario_path)
        .args(["-nostdin", "-i", "127.0.0.1", "-p"])
        .arg(free_port().to_string())
        .arg("-mp")
        .arg(media.to_string())
        .args([
            "-s",
            "alice",
            "-m",
            &calls.to_string(),
            "-r",
            &rate.to_string(),
            "-l",
            "200",
        ])
        .args(["-timeout", &format!("{limit}s")])
        .arg(format!("127.0.0.1:{kport}"))
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .status()
        .await
        .expect("sipp");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = Command::new("kill")
        .args(["-INT", &tshark.id().to_string()])
        .status();
    let _ = tshark.wait();
    println!("sipp exit status: {:?}", sipp.code());

    let decoded = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args(["-Y", "sip", "-T", "fields", "-E", "separator=|"])
        .args([
            "-e",
            "frame.time_epoch",
            "-e",
            "udp.srcport",
            "-e",
            "udp.dstport",
        ])
        .args([
            "-e",
            "sip.Method",
            "-e",
            "sip.Status-Code",
            "-e",
            "sip.Call-ID",
        ])
        .output()
        .expect("tshark -r");
    let text = String::from_utf8_lossy(&decoded.stdout);
    // call-id -> (invite at A, 180 from A, invite at B, 180 from B)
    let mut per_call: HashMap<String, [Option<u128>; 4]> = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('|').collect();
        if f.len() < 6 {
            continue;
        }
        let (Some(t), Ok(src), Ok(dst)) = (nanos(f[0]), f[1].parse::<u16>(), f[2].parse::<u16>())
        else {
            continue;
        };
        let entry = per_call.entry(f[5].to_owned()).or_default();
        let slot = match (f[3], f[4]) {
            ("INVITE", _) if dst == aport => 0,
            ("", "180") if src == aport => 1,
            ("INVITE", _) if dst == bport => 2,
            ("", "180") if src == bport => 3,
            _ => continue,
        };
        if entry[slot].is_none() {
            entry[slot] = Some(t);
        }
    }
    let events = event_times.lock().unwrap().clone();
    let ms = |a: u128, b: u128| (b as f64 - a as f64) / 1e6;
    let mut deskline_180 = Vec::new();
    let mut baresip_180 = Vec::new();
    let mut deskline_event = Vec::new();
    for (call_id, slots) in &per_call {
        if let [Some(inv), Some(ring), ..] = slots[..] {
            deskline_180.push(ms(inv, ring));
        }
        if let [_, _, Some(inv), Some(ring)] = slots[..] {
            baresip_180.push(ms(inv, ring));
        }
        if let (Some(inv), Some(event)) = (slots[0], events.get(call_id)) {
            deskline_event.push(ms(inv, *event));
        }
    }
    println!();
    let d = stats("Deskline INVITE -> 180", deskline_180);
    let b = stats("baresip  INVITE -> 180", baresip_180);
    stats("Deskline INVITE -> IncomingCall", deskline_event);
    if let (Some(d), Some(b)) = (d, b) {
        println!(
            "median ratio Deskline/baresip (INVITE -> 180): {:.2}",
            d / b
        );
    }
    agent.shutdown().await;
}
