//! A real Kamailio registrar and forking proxy on loopback for the SIP suites.
//!
//! [`Kamailio::start`] writes a configuration to a temporary directory (usrloc in memory,
//! registrar, auth + auth_db over db_text users, MD5 or SHA-256 digest with qop=auth, UDP
//! and TCP listeners on a free port, a TLS listener with a fresh lab CA when asked),
//! starts `kamailio -DD -E` in its own process group and waits until its control socket
//! answers. An INVITE to a registered AoR forks to every contact; when one answers,
//! Kamailio CANCELs the others with `Reason: SIP;cause=200;text="Call completed
//! elsewhere"`. [`Kamailio::contacts`] reads `kamcmd ul.dump`; [`Kamailio::pause`] /
//! [`Kamailio::resume`] SIGSTOP/SIGCONT the whole process group; dropping it kills
//! Kamailio and removes the directory.

use std::fmt::Write as _;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Digest algorithm the registrar challenges with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// `MD5` (Kamailio's default).
    Md5,
    /// `SHA-256` (`modparam("auth","algorithm","SHA-256")`).
    Sha256,
}

/// How to configure the registrar.
#[derive(Debug, Clone)]
pub struct KamailioConfig {
    /// Digest algorithm.
    pub digest: Digest,
    /// `(user, password)` subscribers.
    pub users: Vec<(String, String)>,
    /// registrar `min_expires`; shorter requests get 423.
    pub min_expires: u32,
    /// auth `nonce_expire` in seconds (a short value exercises stale nonces).
    pub nonce_expire: u32,
    /// Also listen on TLS (needs the `kamailio-tls-modules` package).
    pub tls: bool,
    /// A domain Kamailio treats as its own (for AoRs like `sip:u@deskline.test`).
    pub alias: Option<String>,
    /// tm `fr_inv_timer` in ms (how long an INVITE branch may ring).
    pub fr_inv_timer_ms: u32,
}

impl Default for KamailioConfig {
    fn default() -> Self {
        Self {
            digest: Digest::Md5,
            users: vec![
                ("alice".into(), "alice-secret".into()),
                ("bob".into(), "bob-secret".into()),
            ],
            min_expires: 2,
            nonce_expire: 300,
            tls: false,
            alias: None,
            fr_inv_timer_ms: 120_000,
        }
    }
}

/// One binding from `ul.dump`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UlContact {
    /// The AoR (user part).
    pub aor: String,
    /// Contact address.
    pub address: String,
    /// Seconds left.
    pub expires: i64,
    /// Call-ID of the REGISTERs.
    pub call_id: String,
    /// Last CSeq.
    pub cseq: u64,
    /// User-Agent.
    pub user_agent: String,
    /// Receiving socket (`udp:127.0.0.1:5070`).
    pub socket: String,
}

/// A running Kamailio.
pub struct Kamailio {
    dir: tempfile::TempDir,
    cfg: PathBuf,
    child: Option<Child>,
    /// UDP and TCP port.
    pub port: u16,
    /// TLS port, when enabled.
    pub tls_port: Option<u16>,
    /// PEM of the lab CA that signed the TLS certificate.
    pub ca_pem: Option<String>,
    /// The configuration it runs.
    pub config: KamailioConfig,
}

/// A loopback port free for both UDP and TCP right now.
pub fn free_port() -> u16 {
    for _ in 0..200 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair found");
}

/// Whether Kamailio's TLS module is installed.
pub fn tls_available() -> bool {
    Path::new("/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so").exists()
        || Path::new("/usr/lib/kamailio/modules/tls.so").exists()
}

fn module_path() -> &'static str {
    if Path::new("/usr/lib/x86_64-linux-gnu/kamailio/modules").exists() {
        "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
    } else {
        "/usr/lib/kamailio/modules/"
    }
}

/// A lab CA and a server certificate for 127.0.0.1; returns (ca_pem, cert_pem, key_pem).
pub fn lab_certificates(common_name: &str) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress(std::net::IpAddr::from([
            127, 0, 0, 1,
        ])));
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

impl Kamailio {
    /// Writes the configuration and starts Kamailio; panics with its log if it fails.
    pub fn start(config: KamailioConfig) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let tls_port = config.tls.then(free_port);
        let db = dir.path().join("db");
        std::fs::create_dir_all(&db).unwrap();
        std::fs::write(
            db.join("version"),
            "table_name(string) table_version(int) \nsubscriber:7\n",
        )
        .unwrap();
        let mut subscribers = String::from(
            "id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null) \n",
        );
        for (i, (user, password)) in config.users.iter().enumerate() {
            writeln!(subscribers, "{}:{user}:127.0.0.1:{password}::", i + 1).unwrap();
        }
        std::fs::write(db.join("subscriber"), subscribers).unwrap();
        let mut ca_pem = None;
        if let Some(tls_port) = tls_port {
            let (ca, cert, key) = lab_certificates("Deskline SIP test CA");
            std::fs::write(dir.path().join("ca.pem"), &ca).unwrap();
            std::fs::write(dir.path().join("cert.pem"), cert).unwrap();
            std::fs::write(dir.path().join("key.pem"), key).unwrap();
            let tls_cfg = format!(
                "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n\
                 private_key = {d}/key.pem\ncertificate = {d}/cert.pem\nca_list = {d}/ca.pem\n\n\
                 [client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n",
                d = dir.path().display()
            );
            std::fs::write(dir.path().join("tls.cfg"), tls_cfg).unwrap();
            let _ = tls_port;
            ca_pem = Some(ca);
        }
        let cfg = dir.path().join("kamailio.cfg");
        std::fs::write(&cfg, render(&config, dir.path(), port, tls_port)).unwrap();
        let check = Command::new("kamailio")
            .args(["-c", "-f"])
            .arg(&cfg)
            .output()
            .expect("kamailio is installed (apt-get install kamailio)");
        assert!(
            check.status.success(),
            "kamailio rejected its configuration:\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let mut k = Self {
            dir,
            cfg,
            child: None,
            port,
            tls_port,
            ca_pem,
            config,
        };
        k.spawn();
        k
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("kamailio.log")
    }

    /// Kamailio's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn ctl(&self) -> String {
        format!("unix:{}/kamailio_ctl", self.dir.path().display())
    }

    fn spawn(&mut self) {
        use std::os::unix::process::CommandExt;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let child = Command::new("kamailio")
            .args(["-DD", "-E", "-m", "64", "-M", "8", "-f"])
            .arg(&self.cfg)
            .arg("-Y")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start kamailio");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if self.try_kamcmd(&["core.uptime"]).is_some() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("kamailio exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "kamailio did not come up:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The main process id (also the process group id).
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(Child::id)
            .expect("kamailio running")
    }

    fn signal_group(&self, signal: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args([signal, "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Stops every Kamailio process (SIGSTOP): it stays bound but answers nothing.
    pub fn pause(&self) {
        self.signal_group("-STOP");
    }

    /// Continues after [`Kamailio::pause`].
    pub fn resume(&self) {
        self.signal_group("-CONT");
    }

    /// Stops Kamailio (SIGTERM, then SIGKILL after 3 s). Bindings are lost (usrloc is
    /// in memory).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = format!("-{}", child.id());
        let kill = |signal: &str| {
            let _ = Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        kill("-CONT");
        kill("-TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        kill("-KILL");
        let _ = child.kill();
        let _ = child.wait();
        // The control socket file stays behind; remove it so readiness checks are real.
        let _ = std::fs::remove_file(self.dir.path().join("kamailio_ctl"));
    }

    /// Starts it again on the same ports (bindings were lost).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// `udp:`/`tcp:` host:port of the registrar.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// TLS host:port.
    pub fn tls_addr(&self) -> Option<String> {
        self.tls_port.map(|p| format!("127.0.0.1:{p}"))
    }

    fn try_kamcmd(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("kamcmd")
            .arg("-s")
            .arg(self.ctl())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs a kamcmd command; panics on failure.
    pub fn kamcmd(&self, args: &[&str]) -> String {
        self.try_kamcmd(args)
            .unwrap_or_else(|| panic!("kamcmd {args:?} failed:\n{}", self.log()))
    }

    /// `ul.dump` as text.
    pub fn ul_dump(&self) -> String {
        self.kamcmd(&["ul.dump"])
    }

    /// Every binding, parsed from `ul.dump`.
    pub fn all_contacts(&self) -> Vec<UlContact> {
        parse_ul_dump(&self.ul_dump())
    }

    /// The bindings of one AoR user.
    pub fn contacts(&self, aor_user: &str) -> Vec<UlContact> {
        self.all_contacts()
            .into_iter()
            .filter(|c| c.aor == aor_user)
            .collect()
    }

    /// Waits (polling ul.dump) until `check` holds for the AoR's bindings.
    pub async fn wait_contacts(
        &self,
        aor_user: &str,
        limit: Duration,
        check: impl Fn(&[UlContact]) -> bool,
    ) -> Vec<UlContact> {
        let deadline = Instant::now() + limit;
        loop {
            let contacts = self.contacts(aor_user);
            if check(&contacts) {
                return contacts;
            }
            assert!(
                Instant::now() < deadline,
                "bindings of {aor_user} never matched; last: {contacts:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Removes every binding of an AoR (test teardown of a SIPp UAS binding).
    pub fn remove_aor(&self, aor_user: &str) {
        let _ = self.try_kamcmd(&["ul.rm", "location", aor_user]);
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        self.stop();
    }
}

fn render(config: &KamailioConfig, dir: &Path, port: u16, tls_port: Option<u16>) -> String {
    let mut c = String::new();
    let d = dir.display();
    writeln!(c, "#!KAMAILIO").unwrap();
    writeln!(c, "debug=2\nlog_stderror=yes\nchildren=2\ntcp_children=2").unwrap();
    writeln!(
        c,
        "listen=udp:127.0.0.1:{port}\nlisten=tcp:127.0.0.1:{port}"
    )
    .unwrap();
    if let Some(tls_port) = tls_port {
        writeln!(c, "enable_tls=yes\nlisten=tls:127.0.0.1:{tls_port}").unwrap();
    }
    if let Some(alias) = &config.alias {
        writeln!(c, "alias=\"{alias}\"").unwrap();
    }
    writeln!(
        c,
        "auto_aliases=no\ntcp_accept_no_cl=yes\ntcp_connection_lifetime=3605"
    )
    .unwrap();
    writeln!(c, "mpath=\"{}\"", module_path()).unwrap();
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
        "xlog",
        "db_text",
        "auth",
        "auth_db",
    ] {
        writeln!(c, "loadmodule \"{m}.so\"").unwrap();
    }
    if tls_port.is_some() {
        writeln!(
            c,
            "loadmodule \"tls.so\"\nmodparam(\"tls\", \"config\", \"{d}/tls.cfg\")"
        )
        .unwrap();
    }
    writeln!(
        c,
        "modparam(\"ctl\", \"binrpc\", \"unix:{d}/kamailio_ctl\")"
    )
    .unwrap();
    writeln!(c, "modparam(\"usrloc\", \"db_mode\", 0)").unwrap();
    writeln!(
        c,
        "modparam(\"registrar\", \"min_expires\", {})",
        config.min_expires
    )
    .unwrap();
    writeln!(c, "modparam(\"registrar\", \"min_expires_mode\", 1)").unwrap();
    writeln!(c, "modparam(\"registrar\", \"max_expires\", 3600)").unwrap();
    writeln!(
        c,
        "modparam(\"tm\", \"fr_inv_timer\", {})",
        config.fr_inv_timer_ms
    )
    .unwrap();
    writeln!(
        c,
        "modparam(\"auth\", \"nonce_expire\", {})",
        config.nonce_expire
    )
    .unwrap();
    if config.digest == Digest::Sha256 {
        writeln!(c, "modparam(\"auth\", \"algorithm\", \"SHA-256\")").unwrap();
    }
    writeln!(c, "modparam(\"auth_db\", \"db_url\", \"text://{d}/db\")").unwrap();
    writeln!(c, "modparam(\"auth_db\", \"calculate_ha1\", yes)").unwrap();
    writeln!(
        c,
        "modparam(\"auth_db\", \"password_column\", \"password\")"
    )
    .unwrap();
    writeln!(c, "modparam(\"auth_db\", \"use_domain\", 0)").unwrap();
    writeln!(c, "modparam(\"auth_db\", \"load_credentials\", \"\")").unwrap();
    c.push_str(ROUTES);
    c
}

const ROUTES: &str = r#"
request_route {
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    # Keepalive OPTIONS to the registrar itself.
    if (is_method("OPTIONS") && uri==myself && $rU==$null) { sl_send_reply("200", "Keepalive"); exit; }
    if (has_totag()) {
        if (loose_route()) { t_relay(); exit; }
        if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
        sl_send_reply("404", "Not here"); exit;
    }
    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
    t_check_trans();
    # A Route to ourselves (we are the outbound proxy too): drop it.
    remove_hf("Route");
    if (is_method("REGISTER")) {
        if (!www_authorize("$td", "subscriber")) { www_challenge("$td", "1"); exit; }
        consume_credentials();
        if (!save("location")) { sl_reply_error(); }
        exit;
    }
    if (is_method("INVITE")) { record_route(); }
    # Forking proxy: every contact of the AoR rings in parallel.
    if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
    t_relay();
    exit;
}
"#;

/// Parses `kamcmd ul.dump` output.
pub fn parse_ul_dump(text: &str) -> Vec<UlContact> {
    let mut out = Vec::new();
    let mut aor = String::new();
    let mut current: Option<UlContact> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("AoR: ") {
            aor = v.to_owned();
        } else if line == "Contact: {" {
            if let Some(c) = current.take() {
                out.push(c);
            }
            current = Some(UlContact {
                aor: aor.clone(),
                ..UlContact::default()
            });
        } else if let Some(c) = current.as_mut() {
            if let Some(v) = line.strip_prefix("Address: ") {
                c.address = v.to_owned();
            } else if let Some(v) = line.strip_prefix("Expires: ") {
                c.expires = v.parse().unwrap_or(-1);
            } else if let Some(v) = line.strip_prefix("Call-ID: ") {
                c.call_id = v.to_owned();
            } else if let Some(v) = line.strip_prefix("CSeq: ") {
                c.cseq = v.parse().unwrap_or(0);
            } else if let Some(v) = line.strip_prefix("User-Agent: ") {
                c.user_agent = v.to_owned();
            } else if let Some(v) = line.strip_prefix("Socket: ") {
                c.socket = v.to_owned();
            } else if line.starts_with("Last-Modified:") {
                out.push(current.take().unwrap());
            }
        }
    }
    if let Some(c) = current.take() {
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Driving a Deskline agent in the suites.

use deskline_core::calls::LineEvent;
use deskline_core::{SipLine, SipUri, Transport};
use deskline_sip::{AgentOptions, LineConfig, Tuning};
use secrecy::SecretString;
use tokio::sync::mpsc;

/// A line registering as `user@127.0.0.1` with `registrar` (`127.0.0.1:port`).
pub fn line(user: &str, password: &str, registrar: &str, transport: Transport) -> LineConfig {
    LineConfig {
        line: SipLine {
            aor: SipUri::parse(&format!("sip:{user}@127.0.0.1")).unwrap(),
            auth_user: user.to_owned(),
            registrar: registrar.to_owned(),
            outbound_proxy: None,
            transport,
            display_name: Some(format!("{user} (Deskline test)")),
        },
        password: SecretString::from(password.to_owned()),
        expires: 60,
        tls_ca_pem: None,
    }
}

/// Options for tests: loopback, fast retries.
pub fn options() -> AgentOptions {
    AgentOptions {
        bind_ip: "127.0.0.1".parse().unwrap(),
        user_agent: "Deskline-test".into(),
        retry_min: Duration::from_millis(300),
        retry_max: Duration::from_secs(2),
    }
}

/// Timers for tests: short keepalives and transaction timeouts.
pub fn tuning() -> Tuning {
    Tuning {
        transaction_timeout: Duration::from_secs(3),
        keepalive_interval: Duration::from_secs(1),
        unregister_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(3),
        ..Tuning::default()
    }
}

/// The agent's event stream with a record of everything seen.
pub struct Events {
    rx: mpsc::Receiver<LineEvent>,
    /// Every event received so far.
    pub seen: Vec<LineEvent>,
}

impl Events {
    /// Wraps the receiver from `Agent::start`.
    pub fn new(rx: mpsc::Receiver<LineEvent>) -> Self {
        Self {
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits for the next event matching `pred`; panics with the history after `limit`.
    pub async fn wait(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&LineEvent) -> bool,
    ) -> LineEvent {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(event)) => {
                    self.seen.push(event.clone());
                    if pred(&event) {
                        return event;
                    }
                }
                Ok(None) => panic!(
                    "event stream ended waiting for {what}; seen {:#?}",
                    self.seen
                ),
                Err(_) => panic!("no {what} within {limit:?}; seen {:#?}", self.seen),
            }
        }
    }

    /// Collects whatever arrives within `period`.
    pub async fn collect(&mut self, period: Duration) -> Vec<LineEvent> {
        let deadline = tokio::time::Instant::now() + period;
        let mut got = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.seen.push(event.clone());
            got.push(event);
        }
        got
    }

    /// Drains until the stream ends (after shutdown), bounded.
    pub async fn drain(&mut self, limit: Duration) -> Vec<LineEvent> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut got = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.seen.push(event.clone());
            got.push(event);
        }
        got
    }
}

/// Whether an event is `Registered` for `line`.
pub fn is_registered(event: &LineEvent) -> bool {
    matches!(event, LineEvent::Registered { .. })
}

/// Whether an event is a `RegistrationFailed`.
pub fn is_failed(event: &LineEvent) -> bool {
    matches!(event, LineEvent::RegistrationFailed { .. })
}

/// Whether an event is an `IncomingCall`.
pub fn is_incoming(event: &LineEvent) -> bool {
    matches!(event, LineEvent::IncomingCall { .. })
}

/// A scripted registrar on a UDP socket: answers REGISTER and OPTIONS with 200 (echoing
/// the Contact with its expiry), records the contact, and passes everything else it
/// receives to the test. Lets a suite send exact bytes from the trusted address.
pub struct FakeRegistrar {
    /// The socket (send test input with it: it is the trusted source).
    pub socket: std::sync::Arc<tokio::net::UdpSocket>,
    /// Its address.
    pub addr: std::net::SocketAddr,
    contact: tokio::sync::watch::Receiver<Option<(String, std::net::SocketAddr)>>,
    other: mpsc::UnboundedReceiver<(String, std::net::SocketAddr)>,
    task: tokio::task::JoinHandle<()>,
}

fn header_lines<'a>(msg: &'a str, names: &[&str]) -> Vec<&'a str> {
    msg.split("\r\n")
        .filter(|l| {
            let name = l.split(':').next().unwrap_or_default().trim();
            names.iter().any(|n| name.eq_ignore_ascii_case(n))
        })
        .collect()
}

impl FakeRegistrar {
    /// Starts it on 127.0.0.1.
    pub async fn start() -> Self {
        let socket = std::sync::Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = socket.local_addr().unwrap();
        let (contact_tx, contact) = tokio::sync::watch::channel(None);
        let (other_tx, other) = mpsc::unbounded_channel();
        let s = socket.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            loop {
                let Ok((n, from)) = s.recv_from(&mut buf).await else {
                    return;
                };
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                let is_register = text.starts_with("REGISTER ");
                if is_register || text.starts_with("OPTIONS ") {
                    let mut resp = String::from("SIP/2.0 200 OK\r\n");
                    for h in header_lines(&text, &["Via", "From", "Call-ID", "CSeq"]) {
                        resp.push_str(h);
                        resp.push_str("\r\n");
                    }
                    for h in header_lines(&text, &["To"]) {
                        resp.push_str(h);
                        resp.push_str(";tag=fake\r\n");
                    }
                    if is_register {
                        let contact = header_lines(&text, &["Contact"])
                            .first()
                            .map(|l| l.split_once(':').unwrap().1.trim().to_owned())
                            .unwrap_or_default();
                        // The first entry is ours; an `expires=0` entry is a removal.
                        let first = contact
                            .split(',')
                            .next()
                            .unwrap_or_default()
                            .trim()
                            .to_owned();
                        resp.push_str(&format!("Contact: {first}\r\n"));
                        let uri = first
                            .trim_start_matches('<')
                            .split('>')
                            .next()
                            .unwrap_or_default()
                            .to_owned();
                        if !first.contains("expires=0") {
                            let _ = contact_tx.send(Some((uri, from)));
                        }
                    }
                    resp.push_str("Content-Length: 0\r\n\r\n");
                    let _ = s.send_to(resp.as_bytes(), from).await;
                } else {
                    let _ = other_tx.send((text, from));
                }
            }
        });
        Self {
            socket,
            addr,
            contact,
            other,
            task,
        }
    }

    /// `127.0.0.1:port`, for a line's registrar setting.
    pub fn registrar(&self) -> String {
        self.addr.to_string()
    }

    /// Waits for a REGISTER; returns the contact URI and the agent's address.
    pub async fn registered(&mut self, limit: Duration) -> (String, std::net::SocketAddr) {
        let got = tokio::time::timeout(limit, self.contact.wait_for(Option::is_some))
            .await
            .expect("the agent registered with the fake registrar")
            .unwrap()
            .clone();
        got.unwrap()
    }

    /// The next non-REGISTER/OPTIONS message the agent sent (responses to test input).
    pub async fn next(&mut self, limit: Duration) -> Option<(String, std::net::SocketAddr)> {
        tokio::time::timeout(limit, self.other.recv())
            .await
            .ok()
            .flatten()
    }

    /// Everything that arrives within `period`.
    pub async fn collect(&mut self, period: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + period;
        let mut out = Vec::new();
        while let Ok(Some((m, _))) = tokio::time::timeout_at(deadline, self.other.recv()).await {
            out.push(m);
        }
        out
    }
}

impl Drop for FakeRegistrar {
    fn drop(&mut self) {
        self.task.abort();
    }
}
