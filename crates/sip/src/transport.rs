//! Flows: the single UDP socket or TCP/TLS connection a line registers over, opened
//! towards the outbound proxy (or the registrar). A flow owns its reader task, which runs
//! every received byte through [`wire::prevalidate`] and hands requests to
//! [`incoming`](crate::incoming) and responses to the waiting client transaction; it
//! also sends (responses go back to the packet's source, never to a Via address) and
//! runs client transactions with RFC 3261 retransmission timers.

use crate::config::{AgentOptions, LinePlan, Tuning};
use crate::ghost::Source;
use crate::incoming::{self, LineContext};
use crate::wire::{self, Frame, InResponse, Verdict};
use deskline_core::Transport;
use rand::Rng;
use rand::distr::Alphanumeric;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, UdpSocket};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};

/// Longest time a write to a stream may take before the flow is considered dead.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for DNS resolution of the next hop.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a flow could not be opened. The text is user-facing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// DNS failed.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// Host name.
        host: String,
        /// Why.
        reason: String,
    },
    /// Local socket problem.
    #[error("cannot open a local {transport} socket on {bind}: {reason}")]
    Bind {
        /// Transport name.
        transport: &'static str,
        /// Local address.
        bind: IpAddr,
        /// Why.
        reason: String,
    },
    /// TCP connect failed.
    #[error("cannot connect to {peer} over {transport}: {reason}")]
    Connect {
        /// Transport name.
        transport: &'static str,
        /// Remote address.
        peer: SocketAddr,
        /// Why.
        reason: String,
    },
    /// TLS handshake failed.
    #[error("TLS handshake with {host} ({peer}) failed: {reason}")]
    Tls {
        /// Server name checked.
        host: String,
        /// Remote address.
        peer: SocketAddr,
        /// Why, with a hint for certificate problems.
        reason: String,
    },
}

/// Why a client transaction ended without a final response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// No final response before the transaction timeout.
    #[error("no response within {0} s")]
    Timeout(u64),
    /// The request could not be sent.
    #[error("sending failed: {0}")]
    Send(String),
    /// The flow closed while waiting.
    #[error("the connection closed")]
    Closed,
}

/// Sends bytes on a flow.
#[derive(Clone)]
pub enum FlowSender {
    /// A UDP socket (responses go to the request's source).
    Udp(Arc<UdpSocket>),
    /// A TCP or TLS connection's write half.
    Stream(Arc<tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>>),
}

impl std::fmt::Debug for FlowSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlowSender::Udp(_) => f.write_str("FlowSender::Udp"),
            FlowSender::Stream(_) => f.write_str("FlowSender::Stream"),
        }
    }
}

impl FlowSender {
    /// Sends to `dest` (UDP) or down the connection (streams).
    pub async fn send_to(&self, bytes: &[u8], dest: SocketAddr) -> std::io::Result<()> {
        match self {
            FlowSender::Udp(socket) => socket.send_to(bytes, dest).await.map(|_| ()),
            FlowSender::Stream(writer) => {
                let mut w = writer.lock().await;
                match timeout(WRITE_TIMEOUT, async {
                    w.write_all(bytes).await?;
                    w.flush().await
                })
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "write timed out",
                    )),
                }
            }
        }
    }
}

/// The shared state of one flow.
pub struct FlowShared {
    /// The line this flow serves.
    pub ctx: Arc<LineContext>,
    /// Transport.
    pub transport: Transport,
    /// Our address as the peer sees it (used in Via and Contact).
    pub local: SocketAddr,
    /// The registrar/proxy address.
    pub remote: SocketAddr,
    /// The random contact user of the registration over this flow.
    pub contact_user: String,
    /// Sending side.
    pub sender: FlowSender,
    txns: Mutex<HashMap<String, mpsc::UnboundedSender<InResponse>>>,
    closed: AtomicBool,
    closed_notify: Notify,
    last_rx: Mutex<Instant>,
}

impl std::fmt::Debug for FlowShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowShared")
            .field("transport", &self.transport)
            .field("local", &self.local)
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}

impl FlowShared {
    /// The transport name for Via (`UDP`, `TCP`, `TLS`).
    pub fn via_transport(&self) -> &'static str {
        match self.transport {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// `ip:port` for Via and Contact, IPv6 in brackets.
    pub fn local_host_port(&self) -> String {
        self.local.to_string()
    }

    /// Our Contact URI for this flow.
    pub fn contact_uri(&self) -> String {
        let transport = match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        };
        format!(
            "sip:{}@{};transport={transport}",
            self.contact_user,
            self.local_host_port()
        )
    }

    /// Sends to the flow's peer.
    pub async fn send(&self, bytes: &[u8]) -> std::io::Result<()> {
        let r = self.sender.send_to(bytes, self.remote).await;
        if r.is_err() && self.transport != Transport::Udp {
            self.close();
        }
        r
    }

    /// Sends a response to where the request came from.
    pub async fn reply(&self, bytes: &[u8], dest: SocketAddr) {
        if let Err(e) = self.sender.send_to(bytes, dest).await {
            tracing::debug!(error = %e, "sending a response failed");
            if self.transport != Transport::Udp {
                self.close();
            }
        }
    }

    /// Marks the flow dead and wakes whoever waits on it.
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.closed_notify.notify_waiters();
        }
    }

    /// Whether the flow is dead.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Resolves when the flow dies.
    pub async fn closed(&self) {
        loop {
            let notified = self.closed_notify.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// When bytes last arrived on the flow.
    pub fn last_rx(&self) -> Instant {
        self.last_rx
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|p| *p.into_inner())
    }

    fn touch(&self) {
        if let Ok(mut t) = self.last_rx.lock() {
            *t = Instant::now();
        }
    }

    fn deliver(&self, response: InResponse) {
        let txns = match self.txns.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        match txns.get(&response.branch) {
            Some(tx) => {
                let _ = tx.send(response);
            }
            None => tracing::trace!(branch = %response.branch, "response to no transaction"),
        }
    }

    /// Runs a client transaction: sends `bytes` (whose top Via carries `branch`),
    /// retransmits on UDP (T1 doubling to T2, RFC 3261 §17.1.2), and returns the final
    /// response.
    pub async fn request(
        &self,
        bytes: &[u8],
        branch: &str,
        tuning: &Tuning,
    ) -> Result<InResponse, TxError> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        {
            let mut txns = match self.txns.lock() {
                Ok(t) => t,
                Err(p) => p.into_inner(),
            };
            txns.insert(branch.to_owned(), tx);
        }
        let _guard = TxnGuard {
            shared: self,
            branch,
        };
        self.send(bytes)
            .await
            .map_err(|e| TxError::Send(e.to_string()))?;
        let reliable = self.transport != Transport::Udp;
        let start = Instant::now();
        let deadline = start + tuning.transaction_timeout;
        let mut interval = tuning.t1;
        let mut next_retransmit = start + interval;
        loop {
            let wake = if reliable {
                deadline
            } else {
                next_retransmit.min(deadline)
            };
            tokio::select! {
                response = rx.recv() => match response {
                    Some(r) if r.code >= 200 => return Ok(r),
                    Some(_) => {
                        interval = tuning.t2;
                        next_retransmit = Instant::now() + interval;
                    }
                    None => return Err(TxError::Closed),
                },
                () = sleep_until(wake) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(TxError::Timeout(tuning.transaction_timeout.as_secs()));
                    }
                    self.send(bytes).await.map_err(|e| TxError::Send(e.to_string()))?;
                    interval = (interval * 2).min(tuning.t2);
                    next_retransmit = now + interval;
                }
                () = self.closed() => return Err(TxError::Closed),
            }
        }
    }
}

struct TxnGuard<'a> {
    shared: &'a FlowShared,
    branch: &'a str,
}

impl Drop for TxnGuard<'_> {
    fn drop(&mut self) {
        let mut txns = match self.shared.txns.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        txns.remove(self.branch);
    }
}

/// An open flow; dropping it stops its reader.
#[derive(Debug)]
pub struct Flow {
    /// Shared state.
    pub shared: Arc<FlowShared>,
    reader: JoinHandle<()>,
}

impl Drop for Flow {
    fn drop(&mut self) {
        self.shared.close();
        self.reader.abort();
    }
}

/// 16 random alphanumerics: the contact user of one registration.
pub fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

async fn resolve(plan: &LinePlan, bind: IpAddr) -> Result<SocketAddr, FlowError> {
    let host = plan.next_hop_host.clone();
    let err = |reason: String| FlowError::Resolve {
        host: host.clone(),
        reason,
    };
    if let Ok(ip) = plan.next_hop_host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, plan.next_hop_port));
    }
    let addrs: Vec<SocketAddr> = match timeout(
        RESOLVE_TIMEOUT,
        tokio::net::lookup_host((plan.next_hop_host.as_str(), plan.next_hop_port)),
    )
    .await
    {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(e)) => return Err(err(e.to_string())),
        Err(_) => return Err(err("DNS did not answer in time".into())),
    };
    let want_v6 = bind.is_ipv6() && !bind.is_unspecified();
    addrs
        .iter()
        .find(|a| a.is_ipv6() == want_v6)
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| err("no address found".into()))
}

/// The local address the route to `remote` uses, when bound to the unspecified address.
fn route_source(bind: IpAddr, remote: SocketAddr) -> IpAddr {
    if !bind.is_unspecified() {
        return bind;
    }
    let probe = std::net::UdpSocket::bind(SocketAddr::new(bind, 0))
        .and_then(|s| s.connect(remote).map(|()| s))
        .and_then(|s| s.local_addr());
    match probe {
        Ok(a) => a.ip(),
        Err(_) => bind,
    }
}

/// Opens a flow for a line.
pub async fn open(
    plan: &LinePlan,
    options: &AgentOptions,
    tuning: &Tuning,
    tls: Option<Arc<rustls::ClientConfig>>,
    ctx: Arc<LineContext>,
) -> Result<Flow, FlowError> {
    let remote = resolve(plan, options.bind_ip).await?;
    let bind = match (options.bind_ip, remote) {
        (IpAddr::V4(b), SocketAddr::V6(_)) if b.is_unspecified() => {
            IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
        }
        (b, _) => b,
    };
    let contact_user = random_token(16);
    match plan.transport {
        Transport::Udp => {
            let socket = UdpSocket::bind(SocketAddr::new(bind, 0))
                .await
                .map_err(|e| FlowError::Bind {
                    transport: "UDP",
                    bind,
                    reason: e.to_string(),
                })?;
            let port = socket.local_addr().map(|a| a.port()).unwrap_or_default();
            let local = SocketAddr::new(route_source(bind, remote), port);
            let socket = Arc::new(socket);
            let shared = Arc::new(FlowShared {
                ctx,
                transport: Transport::Udp,
                local,
                remote,
                contact_user,
                sender: FlowSender::Udp(socket.clone()),
                txns: Mutex::new(HashMap::new()),
                closed: AtomicBool::new(false),
                closed_notify: Notify::new(),
                last_rx: Mutex::new(Instant::now()),
            });
            let reader = tokio::spawn(udp_reader(shared.clone(), socket));
            Ok(Flow { shared, reader })
        }
        Transport::Tcp | Transport::Tls => {
            let name = if plan.transport == Transport::Tls {
                "TLS"
            } else {
                "TCP"
            };
            let socket = if remote.is_ipv4() {
                TcpSocket::new_v4()
            } else {
                TcpSocket::new_v6()
            }
            .map_err(|e| FlowError::Bind {
                transport: name,
                bind,
                reason: e.to_string(),
            })?;
            if !bind.is_unspecified() {
                socket
                    .bind(SocketAddr::new(bind, 0))
                    .map_err(|e| FlowError::Bind {
                        transport: name,
                        bind,
                        reason: e.to_string(),
                    })?;
            }
            let connect_err = |reason: String| FlowError::Connect {
                transport: name,
                peer: remote,
                reason,
            };
            let stream = match timeout(tuning.connect_timeout, socket.connect(remote)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Err(connect_err(e.to_string())),
                Err(_) => return Err(connect_err("no answer (timed out)".into())),
            };
            let _ = stream.set_nodelay(true);
            let local = stream
                .local_addr()
                .map_err(|e| connect_err(e.to_string()))?;
            let (read, write): (
                Box<dyn AsyncRead + Send + Unpin>,
                Box<dyn AsyncWrite + Send + Unpin>,
            ) = if plan.transport == Transport::Tls {
                let config = tls.ok_or_else(|| FlowError::Tls {
                    host: plan.next_hop_host.clone(),
                    peer: remote,
                    reason: "no TLS configuration".into(),
                })?;
                let tls_stream = crate::tls::connect(
                    config,
                    &plan.next_hop_host,
                    remote,
                    stream,
                    tuning.connect_timeout,
                )
                .await?;
                let (r, w) = tokio::io::split(tls_stream);
                (Box::new(r), Box::new(w))
            } else {
                let (r, w) = stream.into_split();
                (Box::new(r), Box::new(w))
            };
            let shared = Arc::new(FlowShared {
                ctx,
                transport: plan.transport,
                local,
                remote,
                contact_user,
                sender: FlowSender::Stream(Arc::new(tokio::sync::Mutex::new(write))),
                txns: Mutex::new(HashMap::new()),
                closed: AtomicBool::new(false),
                closed_notify: Notify::new(),
                last_rx: Mutex::new(Instant::now()),
            });
            let reader = tokio::spawn(stream_reader(shared.clone(), read));
            Ok(Flow { shared, reader })
        }
    }
}

async fn udp_reader(shared: Arc<FlowShared>, socket: Arc<UdpSocket>) {
    let mut buf = vec![0u8; wire::MAX_MESSAGE_BYTES + 1];
    let mut errors = 0u32;
    loop {
        let (n, source) = match socket.recv_from(&mut buf).await {
            Ok(r) => {
                errors = 0;
                r
            }
            Err(e) => {
                errors += 1;
                tracing::debug!(error = %e, "UDP receive error");
                if errors > 100 {
                    shared.close();
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let bytes = buf.get(..n).unwrap_or_default();
        // Single CRLF(s) are keepalives from the peer; ignore them.
        if bytes.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            continue;
        }
        if source == shared.remote {
            shared.touch();
        }
        on_message(&shared, bytes, Source::Datagram(source), source, false).await;
    }
}

async fn stream_reader(shared: Arc<FlowShared>, mut read: Box<dyn AsyncRead + Send + Unpin>) {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        // Handle every complete frame in the buffer.
        loop {
            match wire::frame(&buf) {
                Frame::Incomplete => break,
                Frame::Keepalive(n) => {
                    if n == 4 {
                        // A ping from the peer: pong (RFC 5626 §3.5.1).
                        let _ = shared.send(b"\r\n").await;
                    }
                    buf.drain(..n.min(buf.len()));
                }
                Frame::Message(n) => {
                    let message: Vec<u8> = buf.drain(..n.min(buf.len())).collect();
                    on_message(
                        &shared,
                        &message,
                        Source::OwnConnection,
                        shared.remote,
                        true,
                    )
                    .await;
                }
                Frame::Broken(why) => {
                    tracing::warn!(why, peer = %shared.remote, "closing an unframeable SIP connection");
                    shared.close();
                    return;
                }
            }
        }
        let n = tokio::select! {
            r = read.read(&mut chunk) => match r {
                Ok(0) | Err(_) => {
                    shared.close();
                    return;
                }
                Ok(n) => n,
            },
            () = shared.closed() => return,
        };
        shared.touch();
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

async fn on_message(
    shared: &Arc<FlowShared>,
    bytes: &[u8],
    source: Source,
    reply_to: SocketAddr,
    stream: bool,
) {
    let at = time::OffsetDateTime::now_utc();
    let from_flow = match source {
        Source::OwnConnection => true,
        Source::Datagram(a) => a == shared.remote,
    };
    match wire::prevalidate(bytes, stream) {
        Verdict::Response(response) => {
            if from_flow {
                shared.deliver(*response);
            } else {
                tracing::debug!(%reply_to, "dropping a response from a stranger");
            }
        }
        Verdict::Request(request) => {
            incoming::handle_request(shared, *request, source, reply_to, at).await
        }
        Verdict::Reject(reject) => {
            // Malformed requests are answered only on the registered flow; strangers get
            // nothing for their garbage.
            if from_flow && !reject.method.eq_ignore_ascii_case("ACK") {
                let extra: &[(&str, &str)] = if reject.code == 501 || reject.code == 405 {
                    &[("Allow", wire::ALLOW)]
                } else {
                    &[]
                };
                let bytes =
                    reject
                        .base
                        .build(reject.code, reject.phrase, Some(&random_token(10)), extra);
                shared.reply(&bytes, reply_to).await;
            }
        }
        Verdict::Drop(why) => tracing::trace!(why, %reply_to, "dropped input"),
    }
}
