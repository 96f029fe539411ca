//! One task per line: opens the line's flow, registers with digest authentication
//! (MD5/SHA-256, qop, stale nonces, 401 and 407), honours 423 Min-Expires, refreshes at
//! half the granted expiry, keeps the NAT binding open (CRLFCRLF pings on TCP/TLS with a
//! pong check, OPTIONS on UDP), retries with exponential backoff and jitter, re-registers
//! on a network change or a dead connection (removing the old contact), and unregisters
//! on shutdown. State changes are reported as [`LineEvent`]s.

use crate::addr;
use crate::auth::{self, ChallengeError, DigestSession};
use crate::config::{AgentOptions, LineConfig, LinePlan, Tuning};
use crate::incoming::LineContext;
use crate::transport::{self, Flow, FlowShared, TxError, random_token};
use crate::wire::InResponse;
use deskline_core::Transport;
use deskline_core::calls::LineEvent;
use rand::Rng;
use rsipstack::sip::{self as rsip, headers::make_header};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

/// Why one registration attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RegError {
    /// Retrying cannot help until the user acts (or the network changes).
    Permanent(String),
    /// Retry with backoff.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
        flow_dead: bool,
    },
}

fn transient(reason: impl Into<String>) -> RegError {
    RegError::Transient {
        reason: reason.into(),
        retry_after: None,
        flow_dead: false,
    }
}

/// What woke the line task.
enum Wake {
    Stop,
    NetworkChanged,
    FlowClosed,
    Timer,
}

/// The state of one line.
pub struct LineTask {
    plan: LinePlan,
    password: SecretString,
    expires: u32,
    options: AgentOptions,
    tuning: Tuning,
    tls: Option<Arc<rustls::ClientConfig>>,
    ctx: Arc<LineContext>,
    flow: Option<Flow>,
    call_id: String,
    from_tag: String,
    cseq: u32,
    www: Option<DigestSession>,
    proxy: Option<DigestSession>,
    /// The last state reported was Registered.
    registered: bool,
    /// The last failure reported (to avoid repeating the same event).
    last_failure: Option<String>,
    failures: u32,
    /// The contact bound over the current flow.
    bound_contact: Option<String>,
    /// Contacts of earlier flows that may still be bound; removed (Expires 0) with the
    /// next REGISTER.
    stale_contacts: Vec<String>,
    /// Every contact user this line has used (most recent last), to recognise our own
    /// leftover bindings in a registrar's 2xx.
    own_users: std::collections::VecDeque<String>,
}

/// How many earlier contact users are remembered.
const OWN_USERS_KEPT: usize = 32;

impl LineTask {
    /// Prepares a line (no network yet).
    pub fn new(
        config: &LineConfig,
        plan: LinePlan,
        options: AgentOptions,
        tuning: Tuning,
        tls: Option<Arc<rustls::ClientConfig>>,
        ctx: Arc<LineContext>,
    ) -> Self {
        Self {
            plan,
            password: config.password.clone(),
            expires: config.expires.max(1),
            options,
            tuning,
            tls,
            ctx,
            flow: None,
            call_id: format!("{}@deskline", random_token(20)),
            from_tag: random_token(12),
            cseq: rand::rng().random_range(1..10_000),
            www: None,
            proxy: None,
            registered: false,
            last_failure: None,
            failures: 0,
            bound_contact: None,
            stale_contacts: Vec::new(),
            own_users: std::collections::VecDeque::new(),
        }
    }

    fn emit(&self, event: LineEvent) {
        self.ctx.events.emit(event);
    }

    fn flow(&self) -> Option<Arc<FlowShared>> {
        self.flow.as_ref().map(|f| f.shared.clone())
    }

    /// Forgets the current flow; its binding is removed with the next REGISTER.
    fn drop_flow(&mut self) {
        if let Some(contact) = self.bound_contact.take()
            && !self.stale_contacts.contains(&contact)
        {
            self.stale_contacts.push(contact);
        }
        self.flow = None;
    }

    /// Our own earlier contacts that the registrar still lists in a 2xx (e.g. REGISTERs
    /// from abandoned connections it processed late).
    fn leftovers(&self, response: &InResponse, flow: &FlowShared) -> Vec<String> {
        let mut out = Vec::new();
        for value in response.header_values("Contact") {
            let Ok(list) = addr::parse_list(value) else {
                continue;
            };
            for entry in list {
                let Some(user) = addr::uri_user(&entry.uri) else {
                    continue;
                };
                let ours = user != flow.contact_user && self.own_users.iter().any(|u| u == user);
                let alive = entry.param("expires") != Some("0");
                if ours && alive && !out.contains(&entry.uri) {
                    out.push(entry.uri.clone());
                }
            }
        }
        out
    }

    fn backoff(&mut self) -> Duration {
        let min = self.options.retry_min.max(Duration::from_millis(10));
        let max = self.options.retry_max.max(min);
        let exp = self.failures.min(20);
        let delay = min.saturating_mul(1u32 << exp.min(16)).min(max);
        self.failures = self.failures.saturating_add(1);
        // Jitter: between half and all of the delay.
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        let low = millis / 2;
        Duration::from_millis(rand::rng().random_range(low..=millis.max(low)))
    }

    /// Runs until `stop_rx` turns true (or its sender is dropped); `net_rx` changes on
    /// every network change.
    pub async fn run(
        mut self,
        mut stop_rx: watch::Receiver<bool>,
        mut net_rx: watch::Receiver<u64>,
    ) {
        let mut next_register = Instant::now();
        let mut next_keepalive: Option<Instant> = None;
        let mut ping_sent: Option<Instant> = None;
        let mut parked = false;
        loop {
            let wake = self
                .wait(
                    &mut stop_rx,
                    &mut net_rx,
                    parked,
                    next_register,
                    next_keepalive,
                )
                .await;
            match wake {
                Wake::Stop => break,
                Wake::NetworkChanged => {
                    tracing::info!(line = %self.plan.aor, "network changed: registering again");
                    self.drop_flow();
                    self.registered = false;
                    self.failures = 0;
                    parked = false;
                    next_register = Instant::now();
                    next_keepalive = None;
                    ping_sent = None;
                    continue;
                }
                Wake::FlowClosed => {
                    tracing::info!(line = %self.plan.aor, "connection to the registrar closed");
                    self.drop_flow();
                    next_keepalive = None;
                    ping_sent = None;
                    if !parked {
                        next_register = Instant::now();
                    }
                    continue;
                }
                Wake::Timer => {}
            }
            let now = Instant::now();
            if now >= next_register {
                let outcome = tokio::select! {
                    r = self.register_cycle() => Some(r),
                    () = changed(&mut stop_rx) => None,
                    () = changed_net(&mut net_rx) => {
                        // Re-run the loop as a network change.
                        self.drop_flow();
                        self.registered = false;
                        self.failures = 0;
                        parked = false;
                        next_register = Instant::now();
                        next_keepalive = None;
                        continue;
                    }
                };
                let Some(outcome) = outcome else { break };
                match outcome {
                    Ok(granted) => {
                        if !self.registered {
                            self.emit(LineEvent::Registered {
                                line: self.plan.aor.clone(),
                                expires: granted,
                            });
                        }
                        self.registered = true;
                        self.last_failure = None;
                        self.failures = 0;
                        let refresh = Duration::from_millis(u64::from(granted) * 500)
                            .max(Duration::from_secs(1));
                        next_register = Instant::now() + refresh;
                        if next_keepalive.is_none() {
                            next_keepalive = Some(Instant::now() + self.tuning.keepalive_interval);
                        }
                    }
                    Err(RegError::Permanent(reason)) => {
                        tracing::warn!(line = %self.plan.aor, %reason, "registration failed for good");
                        self.report_failure(reason, true);
                        self.drop_flow();
                        parked = true;
                        next_keepalive = None;
                    }
                    Err(RegError::Transient {
                        reason,
                        retry_after,
                        flow_dead,
                    }) => {
                        tracing::info!(line = %self.plan.aor, %reason, "registration failed; retrying");
                        self.report_failure(reason, false);
                        if flow_dead {
                            self.drop_flow();
                        }
                        let delay = self.backoff();
                        let delay =
                            retry_after.map_or(delay, |r| r.min(self.options.retry_max).max(delay));
                        next_register = Instant::now() + delay;
                        // Keep checking a connection that is still open; UDP waits for
                        // the next REGISTER.
                        next_keepalive = match self.flow() {
                            Some(f) if f.transport != Transport::Udp => next_keepalive
                                .or(Some(Instant::now() + self.tuning.keepalive_interval)),
                            _ => None,
                        };
                    }
                }
                continue;
            }
            if next_keepalive.is_some_and(|k| now >= k) {
                next_keepalive = Some(now + self.tuning.keepalive_interval);
                let Some(flow) = self.flow() else { continue };
                if flow.transport == Transport::Udp {
                    let alive = tokio::select! {
                        r = self.options_ping(&flow) => r,
                        () = changed(&mut stop_rx) => break,
                        () = changed_net(&mut net_rx) => {
                            self.drop_flow();
                            self.registered = false;
                            parked = false;
                            next_register = Instant::now();
                            next_keepalive = None;
                            continue;
                        }
                    };
                    if !alive {
                        tracing::info!(line = %self.plan.aor, "registrar did not answer the keepalive; registering again");
                        next_register = Instant::now();
                    }
                } else {
                    // A pong (or anything) must have arrived since the last ping.
                    if let Some(sent) = ping_sent
                        && flow.last_rx() < sent
                    {
                        tracing::info!(line = %self.plan.aor, "no keepalive answer on the connection; reconnecting");
                        flow.close();
                        continue;
                    }
                    ping_sent = Some(Instant::now());
                    if flow.send(b"\r\n\r\n").await.is_err() {
                        continue;
                    }
                }
            }
        }
        self.unregister().await;
    }

    async fn wait(
        &self,
        stop_rx: &mut watch::Receiver<bool>,
        net_rx: &mut watch::Receiver<u64>,
        parked: bool,
        next_register: Instant,
        next_keepalive: Option<Instant>,
    ) -> Wake {
        if *stop_rx.borrow() || stop_rx.has_changed().is_err() {
            return Wake::Stop;
        }
        let wake_at = if parked {
            None
        } else {
            Some(next_keepalive.map_or(next_register, |k| k.min(next_register)))
        };
        let flow = self.flow();
        tokio::select! {
            biased;
            () = changed(stop_rx) => Wake::Stop,
            () = changed_net(net_rx) => Wake::NetworkChanged,
            () = async {
                match &flow {
                    Some(f) => f.closed().await,
                    None => std::future::pending().await,
                }
            } => Wake::FlowClosed,
            () = async {
                match wake_at {
                    Some(at) => sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => Wake::Timer,
        }
    }

    fn report_failure(&mut self, reason: String, permanent: bool) {
        let repeat = !self.registered && self.last_failure.as_deref() == Some(reason.as_str());
        self.registered = false;
        if !repeat || permanent {
            self.emit(LineEvent::RegistrationFailed {
                line: self.plan.aor.clone(),
                reason: reason.clone(),
                permanent,
            });
        }
        self.last_failure = Some(reason);
    }

    async fn ensure_flow(&mut self) -> Result<Arc<FlowShared>, RegError> {
        if let Some(flow) = self.flow()
            && !flow.is_closed()
        {
            return Ok(flow);
        }
        self.drop_flow();
        let flow = transport::open(
            &self.plan,
            &self.options,
            &self.tuning,
            self.tls.clone(),
            self.ctx.clone(),
        )
        .await
        .map_err(|e| RegError::Transient {
            reason: e.to_string(),
            retry_after: None,
            flow_dead: true,
        })?;
        let shared = flow.shared.clone();
        self.own_users.push_back(shared.contact_user.clone());
        while self.own_users.len() > OWN_USERS_KEPT {
            self.own_users.pop_front();
        }
        self.flow = Some(flow);
        Ok(shared)
    }

    fn next_cseq(&mut self) -> u32 {
        self.cseq = self.cseq.wrapping_add(1).max(1) % (1 << 31);
        self.cseq
    }

    /// Builds a REGISTER; returns its bytes and branch.
    fn build_register(
        &mut self,
        flow: &FlowShared,
        contact_value: &str,
        expires: u32,
    ) -> (Vec<u8>, String) {
        let branch = format!("z9hG4bK{}", random_token(20));
        let cseq = self.next_cseq();
        let uri = rsip::Uri::try_from(self.plan.registrar_uri.as_str()).unwrap_or_default();
        let mut headers = rsip::Headers::default();
        let mut push = |name: &str, value: String| headers.push(make_header(name, value));
        push(
            "Via",
            format!(
                "SIP/2.0/{} {};rport;branch={branch}",
                flow.via_transport(),
                flow.local_host_port()
            ),
        );
        push("Max-Forwards", "70".into());
        if let Some(route) = &self.plan.route {
            push("Route", route.clone());
        }
        push(
            "From",
            format!("{};tag={}", self.plan.name_addr(), self.from_tag),
        );
        push("To", self.plan.name_addr());
        push("Call-ID", self.call_id.clone());
        push("CSeq", format!("{cseq} REGISTER"));
        push("Contact", contact_value.to_owned());
        push("Expires", expires.to_string());
        push("Allow", crate::wire::ALLOW.into());
        push("User-Agent", self.options.user_agent.clone());
        let request = auth::Request {
            method: "REGISTER",
            uri: &self.plan.registrar_uri,
            body: b"",
        };
        if let Some(session) = &mut self.www {
            push(
                "Authorization",
                session.authorization(&self.plan.auth_user, &self.password, request),
            );
        }
        if let Some(session) = &mut self.proxy {
            push(
                "Proxy-Authorization",
                session.authorization(&self.plan.auth_user, &self.password, request),
            );
        }
        push("Content-Length", "0".into());
        let register = rsip::Request {
            method: rsip::Method::Register,
            uri,
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        };
        (register.to_bytes(), branch)
    }

    /// The expiry granted for our contact in a 2xx.
    fn granted(&self, response: &InResponse, flow: &FlowShared, requested: u32) -> u32 {
        for value in response.header_values("Contact") {
            let Ok(list) = addr::parse_list(value) else {
                continue;
            };
            for entry in list {
                if addr::uri_user(&entry.uri) == Some(flow.contact_user.as_str())
                    && let Some(e) = entry.param("expires").and_then(|e| e.parse::<u32>().ok())
                {
                    return e;
                }
            }
        }
        response
            .header("Expires")
            .and_then(|e| e.trim().parse::<u32>().ok())
            .unwrap_or(requested)
    }

    /// One full registration: as many round trips as authentication and 423 need.
    async fn register_cycle(&mut self) -> Result<u32, RegError> {
        let flow = self.ensure_flow().await?;
        let contact = flow.contact_uri();
        let mut fresh_www = false;
        let mut fresh_proxy = false;
        let mut stale_rounds = 0;
        let mut brief_rounds = 0;
        let mut cleanup_rounds = 0;
        for _round in 0..10 {
            let expires = self.expires;
            let mut contact_value = format!("<{contact}>;expires={expires}");
            for old in self
                .stale_contacts
                .iter()
                .filter(|c| **c != contact)
                .take(10)
            {
                contact_value.push_str(&format!(", <{old}>;expires=0"));
            }
            let sent_credentials = self.www.is_some() || self.proxy.is_some();
            let (bytes, branch) = self.build_register(&flow, &contact_value, expires);
            let response = flow
                .request(&bytes, &branch, &self.tuning)
                .await
                .map_err(|e| self.tx_failure(&flow, e))?;
            let code = response.code;
            let phrase = response.phrase.clone();
            match code {
                200..=299 => {
                    let granted = self.granted(&response, &flow, expires);
                    if granted == 0 {
                        return Err(transient(
                            "the registrar accepted the REGISTER but kept no binding",
                        ));
                    }
                    self.bound_contact = Some(contact.clone());
                    self.stale_contacts = self.leftovers(&response, &flow);
                    if !self.stale_contacts.is_empty() && cleanup_rounds < 3 {
                        // Remove our own leftover bindings right away.
                        cleanup_rounds += 1;
                        continue;
                    }
                    return Ok(granted);
                }
                401 | 407 => {
                    let (header, fresh) = if code == 401 {
                        ("WWW-Authenticate", &mut fresh_www)
                    } else {
                        ("Proxy-Authenticate", &mut fresh_proxy)
                    };
                    let challenge = match auth::choose_challenge(response.header_values(header)) {
                        Ok(c) => c,
                        Err(ChallengeError::Unsupported(what)) => {
                            return Err(RegError::Permanent(format!(
                                "the registrar requires {what}, which Deskline does not support"
                            )));
                        }
                        Err(ChallengeError::Malformed(why)) => {
                            return Err(transient(format!(
                                "the registrar sent an unusable authentication challenge ({why})"
                            )));
                        }
                    };
                    if challenge.stale {
                        // Right credentials, expired nonce: answer the new nonce.
                        stale_rounds += 1;
                        if stale_rounds > 3 {
                            return Err(transient("the registrar keeps declaring our nonce stale"));
                        }
                    } else if *fresh && sent_credentials {
                        return Err(RegError::Permanent(format!(
                            "SIP credentials rejected ({code} {phrase}): check the line's SIP user name and password"
                        )));
                    }
                    *fresh = true;
                    let session = Some(DigestSession::new(challenge));
                    if code == 401 {
                        self.www = session;
                    } else {
                        self.proxy = session;
                    }
                }
                403 => {
                    if sent_credentials {
                        return Err(RegError::Permanent(format!(
                            "SIP credentials rejected ({code} {phrase}): check the line's SIP user name and password"
                        )));
                    }
                    return Err(transient(format!(
                        "the registrar refused the registration ({code} {phrase})"
                    )));
                }
                423 => {
                    let min = response
                        .header("Min-Expires")
                        .and_then(|m| m.trim().parse::<u32>().ok());
                    match min {
                        Some(min) if min > expires && brief_rounds < 3 => {
                            brief_rounds += 1;
                            self.expires = min;
                        }
                        _ => {
                            return Err(transient(
                                "the registrar answered 423 Interval Too Brief without a usable Min-Expires",
                            ));
                        }
                    }
                }
                _ => {
                    let retry_after = response
                        .header("Retry-After")
                        .and_then(|r| r.split([';', ' ', '(']).next()?.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    return Err(RegError::Transient {
                        reason: format!("the registrar answered {code} {phrase}"),
                        retry_after,
                        flow_dead: false,
                    });
                }
            }
        }
        Err(transient(
            "the registration did not complete (too many challenges)",
        ))
    }

    fn tx_failure(&self, flow: &FlowShared, e: TxError) -> RegError {
        let peer = flow.remote;
        match e {
            TxError::Timeout(s) => RegError::Transient {
                reason: format!("registrar not answering ({peer} sent no response within {s} s)"),
                retry_after: None,
                // A connection stays: the keepalive pong check closes a dead one, and a
                // slow registrar answers on it later.
                flow_dead: false,
            },
            TxError::Send(why) => RegError::Transient {
                reason: format!("cannot send to the registrar {peer}: {why}"),
                retry_after: None,
                flow_dead: true,
            },
            TxError::Closed => RegError::Transient {
                reason: format!("the connection to the registrar {peer} closed"),
                retry_after: None,
                flow_dead: true,
            },
        }
    }

    /// UDP keepalive: any final response to an OPTIONS proves the path works.
    async fn options_ping(&mut self, flow: &FlowShared) -> bool {
        let branch = format!("z9hG4bK{}", random_token(20));
        let target = format!(
            "sip:{}",
            if flow.remote.is_ipv6() {
                format!("[{}]:{}", flow.remote.ip(), flow.remote.port())
            } else {
                flow.remote.to_string()
            }
        );
        let uri = rsip::Uri::try_from(target.as_str()).unwrap_or_default();
        let mut headers = rsip::Headers::default();
        let mut push = |name: &str, value: String| headers.push(make_header(name, value));
        push(
            "Via",
            format!(
                "SIP/2.0/{} {};rport;branch={branch}",
                flow.via_transport(),
                flow.local_host_port()
            ),
        );
        push("Max-Forwards", "70".into());
        push(
            "From",
            format!("{};tag={}", self.plan.name_addr(), random_token(10)),
        );
        push("To", format!("<{target}>"));
        push("Call-ID", format!("{}@deskline", random_token(20)));
        push("CSeq", "1 OPTIONS".into());
        push("User-Agent", self.options.user_agent.clone());
        push("Content-Length", "0".into());
        let options = rsip::Request {
            method: rsip::Method::Options,
            uri,
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        };
        flow.request(&options.to_bytes(), &branch, &self.tuning)
            .await
            .is_ok()
    }

    /// Removes our binding (Expires: 0), bounded by the unregister timeout, then reports
    /// the line unregistered.
    async fn unregister(&mut self) {
        if let (Some(flow), Some(contact)) = (self.flow(), self.bound_contact.clone())
            && !flow.is_closed()
        {
            let limit = self.tuning.unregister_timeout;
            let done = tokio::time::timeout(limit, async {
                let mut fresh = false;
                for _ in 0..4 {
                    let mut value = format!("<{contact}>;expires=0");
                    for old in self
                        .stale_contacts
                        .iter()
                        .filter(|c| **c != contact)
                        .take(10)
                    {
                        value.push_str(&format!(", <{old}>;expires=0"));
                    }
                    let (bytes, branch) = self.build_register(&flow, &value, 0);
                    let Ok(response) = flow.request(&bytes, &branch, &self.tuning).await else {
                        return false;
                    };
                    match response.code {
                        200..=299 => return true,
                        401 | 407 if !fresh => {
                            let header = if response.code == 401 {
                                "WWW-Authenticate"
                            } else {
                                "Proxy-Authenticate"
                            };
                            let Ok(challenge) =
                                auth::choose_challenge(response.header_values(header))
                            else {
                                return false;
                            };
                            fresh = !challenge.stale;
                            let session = Some(DigestSession::new(challenge));
                            if response.code == 401 {
                                self.www = session;
                            } else {
                                self.proxy = session;
                            }
                        }
                        _ => return false,
                    }
                }
                false
            })
            .await;
            if !matches!(done, Ok(true)) {
                tracing::info!(line = %self.plan.aor, "un-REGISTER got no confirmation");
            }
        }
        self.bound_contact = None;
        self.flow = None;
        self.emit(LineEvent::Unregistered {
            line: self.plan.aor.clone(),
        });
    }
}

/// Resolves when the stop flag changes or its sender is gone (the agent was dropped).
async fn changed(rx: &mut watch::Receiver<bool>) {
    let _ = rx.changed().await;
}

/// Resolves when the network generation changes.
async fn changed_net(rx: &mut watch::Receiver<u64>) {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}
