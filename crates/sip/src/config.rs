//! What the agent is told: the lines to register ([`LineConfig`]), how to behave
//! ([`AgentOptions`], [`Tuning`]) and the checked, ready-to-use form of a line's settings
//! ([`LinePlan`]) derived from them before anything touches the network.

use crate::error::SipError;
use deskline_core::{SipLine, Transport};
use secrecy::SecretString;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// One line to register: its settings, its SIP password and the expiry to ask for.
#[derive(Clone)]
pub struct LineConfig {
    /// The line's SIP settings.
    pub line: SipLine,
    /// The digest password. Never logged.
    pub password: SecretString,
    /// Registration expiry to request, in seconds (default 600).
    pub expires: u32,
    /// PEM certificates of the CAs trusted for TLS; `None` uses the system's roots.
    pub tls_ca_pem: Option<String>,
}

impl LineConfig {
    /// A line with the default expiry (600 s) and the system's TLS roots.
    pub fn new(line: SipLine, password: SecretString) -> Self {
        Self {
            line,
            password,
            expires: 600,
            tls_ca_pem: None,
        }
    }
}

impl std::fmt::Debug for LineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineConfig")
            .field("line", &self.line)
            .field("password", &"<redacted>")
            .field("expires", &self.expires)
            .field("tls_ca_pem", &self.tls_ca_pem.as_ref().map(|_| "<pem>"))
            .finish()
    }
}

/// How the agent behaves on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentOptions {
    /// Local address to bind (default `0.0.0.0`, the route's own address is then used in
    /// Via and Contact). Tests pass `127.0.0.1`.
    pub bind_ip: IpAddr,
    /// `User-Agent` header value.
    pub user_agent: String,
    /// First retry delay after a failed registration.
    pub retry_min: Duration,
    /// Longest retry delay (the exponential backoff stops growing here).
    pub retry_max: Duration,
}

impl Default for AgentOptions {
    fn default() -> Self {
        Self {
            bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            user_agent: format!("Deskline/{}", env!("CARGO_PKG_VERSION")),
            retry_min: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
        }
    }
}

/// Protocol timers. The defaults are RFC 3261's and sensible keepalive/ring values; tests
/// shorten them through [`Agent::start_tuned`](crate::Agent::start_tuned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// RFC 3261 T1 (retransmission base, 500 ms).
    pub t1: Duration,
    /// RFC 3261 T2 (retransmission cap, 4 s).
    pub t2: Duration,
    /// How long a request waits for a final response (64·T1 = 32 s).
    pub transaction_timeout: Duration,
    /// NAT keepalive period: CRLFCRLF on TCP/TLS, OPTIONS on UDP (30 s).
    pub keepalive_interval: Duration,
    /// A ringing call with no CANCEL is ended after this long with 480 (180 s).
    pub ring_timeout: Duration,
    /// How long shutdown waits for each line's un-REGISTER (3 s).
    pub unregister_timeout: Duration,
    /// Timeout to open a TCP/TLS connection (10 s).
    pub connect_timeout: Duration,
    /// How often the agent looks for a network change or a wake from sleep
    /// ([`crate::watch`]); zero turns the watch off (5 s).
    pub network_poll: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            transaction_timeout: Duration::from_secs(32),
            keepalive_interval: Duration::from_secs(30),
            ring_timeout: Duration::from_secs(180),
            unregister_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(10),
            network_poll: Duration::from_secs(5),
        }
    }
}

/// A line's settings, checked and split into what the protocol needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePlan {
    /// The address of record (`sip:user@domain`), as reported in events.
    pub aor: String,
    /// Digest user name.
    pub auth_user: String,
    /// The REGISTER Request-URI (`sip:registrar`).
    pub registrar_uri: String,
    /// Host of the next hop (the outbound proxy if set, else the registrar).
    pub next_hop_host: String,
    /// Port of the next hop.
    pub next_hop_port: u16,
    /// The outbound proxy's URI for the `Route` header, when one is set.
    pub route: Option<String>,
    /// Transport.
    pub transport: Transport,
    /// Display name for From/To.
    pub display_name: Option<String>,
}

fn default_port(transport: Transport) -> u16 {
    match transport {
        Transport::Tls => 5061,
        _ => 5060,
    }
}

/// Accepts `host`, `host:port`, `[v6]:port`, optionally written as a `sip:` URI with
/// parameters (`sip:proxy.example.com:5060;lr`), and returns host and port.
fn host_port(raw: &str) -> Result<(String, Option<u16>), String> {
    let mut s = raw.trim();
    for prefix in ["sips:", "sip:"] {
        if s.len() >= prefix.len()
            && s.get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        {
            s = s.get(prefix.len()..).unwrap_or_default();
        }
    }
    let s = s.split([';', '?']).next().unwrap_or_default();
    let Some((host, port)) = crate::wire::split_host_port(s) else {
        return Err(format!(
            "'{raw}' is not a host or host:port (e.g. sip.example.com or 192.0.2.1:5060)"
        ));
    };
    if host.contains('@') || host.is_empty() {
        return Err(format!("'{raw}' is not a host or host:port"));
    }
    if port == Some(0) {
        return Err(format!("'{raw}': the port must be 1 to 65535"));
    }
    Ok((host.trim_matches(['[', ']']).to_owned(), port))
}

impl LinePlan {
    /// Checks a line's settings.
    pub fn from_line(line: &SipLine) -> Result<Self, SipError> {
        let aor = line.aor.as_str().to_owned();
        let invalid = |reason: String| SipError::InvalidLine {
            line: aor.clone(),
            reason,
        };
        if line.auth_user.trim().is_empty()
            || line.auth_user.chars().any(|c| c.is_control() || c == '"')
        {
            return Err(invalid(
                "the SIP authentication user name is empty or contains quotes".into(),
            ));
        }
        let (reg_host, explicit_port) =
            host_port(&line.registrar).map_err(|e| invalid(format!("registrar {e}")))?;
        let reg_port = explicit_port.unwrap_or(default_port(line.transport));
        let registrar_host_port = match explicit_port {
            Some(port) => format!("{}:{port}", bracket(&reg_host)),
            None => bracket(&reg_host),
        };
        let registrar_uri = format!("sip:{registrar_host_port}");
        if rsipstack::sip::Uri::try_from(registrar_uri.as_str()).is_err() {
            return Err(invalid(format!(
                "registrar '{}' is not usable in a SIP URI",
                line.registrar
            )));
        }
        let (next_hop_host, next_hop_port, route) = match &line.outbound_proxy {
            Some(proxy) if !proxy.trim().is_empty() => {
                let (h, p) =
                    host_port(proxy).map_err(|e| invalid(format!("outbound proxy {e}")))?;
                let p = p.unwrap_or(default_port(line.transport));
                let transport_param = match line.transport {
                    Transport::Udp => "",
                    Transport::Tcp => ";transport=tcp",
                    Transport::Tls => ";transport=tls",
                };
                let route = format!("<sip:{}:{p}{transport_param};lr>", bracket(&h));
                (h, p, Some(route))
            }
            _ => (reg_host, reg_port, None),
        };
        let display_name = line
            .display_name
            .as_ref()
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty());
        Ok(Self {
            aor,
            auth_user: line.auth_user.trim().to_owned(),
            registrar_uri,
            next_hop_host,
            next_hop_port,
            route,
            transport: line.transport,
            display_name,
        })
    }

    /// `"Name" <aor>` or `<aor>` for From/To.
    pub fn name_addr(&self) -> String {
        match &self.display_name {
            Some(name) => format!("\"{}\" <{}>", escape_quoted(name), self.aor),
            None => format!("<{}>", self.aor),
        }
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Escapes `"` and `\` for a quoted string.
pub fn escape_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        if !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskline_core::SipUri;

    fn line(registrar: &str, proxy: Option<&str>, transport: Transport) -> SipLine {
        SipLine {
            aor: SipUri::parse("sip:alice@example.com").unwrap(),
            auth_user: "alice".into(),
            registrar: registrar.into(),
            outbound_proxy: proxy.map(str::to_owned),
            transport,
            display_name: Some("Alice \"A\"".into()),
        }
    }

    #[test]
    fn plans() {
        let p = LinePlan::from_line(&line("example.com", None, Transport::Udp)).unwrap();
        assert_eq!(p.registrar_uri, "sip:example.com");
        assert_eq!(
            (p.next_hop_host.as_str(), p.next_hop_port),
            ("example.com", 5060)
        );
        assert_eq!(p.name_addr(), "\"Alice \\\"A\\\"\" <sip:alice@example.com>");
        let p = LinePlan::from_line(&line(
            "127.0.0.1:5070",
            Some("sip:10.0.0.1:5080;lr"),
            Transport::Tcp,
        ))
        .unwrap();
        assert_eq!(p.registrar_uri, "sip:127.0.0.1:5070");
        assert_eq!(
            (p.next_hop_host.as_str(), p.next_hop_port),
            ("10.0.0.1", 5080)
        );
        assert_eq!(
            p.route.as_deref(),
            Some("<sip:10.0.0.1:5080;transport=tcp;lr>")
        );
        let p = LinePlan::from_line(&line("[::1]", None, Transport::Tls)).unwrap();
        assert_eq!(p.next_hop_host, "::1");
        assert_eq!(p.next_hop_port, 5061);
        assert!(LinePlan::from_line(&line("bad host", None, Transport::Udp)).is_err());
        assert!(LinePlan::from_line(&line("h:0", None, Transport::Udp)).is_err());
        assert!(LinePlan::from_line(&line("h:99999", None, Transport::Udp)).is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let cfg = LineConfig::new(
            line("example.com", None, Transport::Udp),
            SecretString::from("hunter2-secret"),
        );
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}
