//! Raw SIP bytes in, checked messages out. Everything received goes through
//! [`prevalidate`] before any other code looks at it: a total scanner (no input panics,
//! every loop bounded by the input) that checks the framing, the start line and the
//! headers the agent relies on, the way RFC 3261 and the RFC 4475 torture tests ask, and
//! only then hands the bytes to rsipstack's message parser. Also stream framing
//! ([`frame`]) and response building ([`ResponseBase::build`]).

use crate::addr::{self, NameAddr, is_token, is_token_char};
use rsipstack::sip::{self as rsip, headers::make_header};

/// The largest message accepted (a UDP datagram's maximum payload).
pub const MAX_MESSAGE_BYTES: usize = 65_535;
/// At most this many header lines; more is refused.
const MAX_HEADER_LINES: usize = 256;

/// A header line after unfolding, its name expanded from the compact form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHeader {
    /// Canonical name (`Call-ID` for `i`), otherwise as written.
    pub name: String,
    /// The value, unfolded and trimmed.
    pub value: String,
}

/// The headers every response copies from its request (RFC 3261 §8.2.6.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseBase {
    vias: Vec<String>,
    from: Option<String>,
    to: Option<String>,
    call_id: Option<String>,
    cseq: Option<String>,
}

impl ResponseBase {
    fn from_headers(headers: &[RawHeader]) -> Self {
        let first = |name: &str| {
            headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value.clone())
        };
        Self {
            vias: headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("Via"))
                .map(|h| h.value.clone())
                .collect(),
            from: first("From"),
            to: first("To"),
            call_id: first("Call-ID"),
            cseq: first("CSeq"),
        }
    }

    /// Builds the response bytes: copied headers, `tag` added to `To` when given and
    /// absent, then `extra` headers and `Content-Length: 0`.
    pub fn build(
        &self,
        code: u16,
        phrase: &str,
        to_tag: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Vec<u8> {
        let mut headers = rsip::Headers::default();
        for via in &self.vias {
            headers.push(rsip::Header::Via(rsip::Via::new(via.clone())));
        }
        if let Some(from) = &self.from {
            headers.push(rsip::Header::From(rsip::From::new(from.clone())));
        }
        if let Some(to) = &self.to {
            let to = match to_tag {
                Some(tag) if !to_has_tag(to) => format!("{to};tag={tag}"),
                _ => to.clone(),
            };
            headers.push(rsip::Header::To(rsip::To::new(to)));
        }
        if let Some(call_id) = &self.call_id {
            headers.push(rsip::Header::CallId(rsip::CallId::new(call_id.clone())));
        }
        if let Some(cseq) = &self.cseq {
            headers.push(rsip::Header::CSeq(rsip::CSeq::new(cseq.clone())));
        }
        for (name, value) in extra {
            headers.push(make_header(name, (*value).to_owned()));
        }
        headers.push(rsip::Header::ContentLength(rsip::ContentLength::new("0")));
        let status_code = rsip::StatusCode::try_from((code, phrase))
            .unwrap_or(rsip::StatusCode::ServerInternalError);
        let response = rsip::Response {
            status_code,
            wire_reason: None,
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        };
        // rsip writes the standard phrase of a known code; keep ours for unknown ones.
        response.to_bytes()
    }
}

fn to_has_tag(to: &str) -> bool {
    addr::parse(to).map(|a| a.has_param("tag")).unwrap_or(false)
}

/// A request that passed pre-validation.
#[derive(Debug, Clone)]
pub struct InRequest {
    /// rsipstack's view of the request.
    pub sip: rsip::Request,
    /// The request method.
    pub method: rsip::Method,
    /// What responses copy.
    pub base: ResponseBase,
    /// All headers, unfolded.
    pub headers: Vec<RawHeader>,
    /// The top Via's branch, if it has one.
    pub branch: Option<String>,
    /// The top Via's sent-by (`host[:port]`).
    pub sent_by: String,
    /// The Call-ID.
    pub call_id: String,
    /// The CSeq number.
    pub cseq: u32,
    /// The parsed `From`.
    pub from: NameAddr,
    /// The parsed `To`.
    pub to: NameAddr,
    /// The Request-URI as written.
    pub ruri: String,
}

impl InRequest {
    /// First value of a header (case-insensitive, compact forms expanded).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Every value of a header, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// The user part of the Request-URI (our own parser: rsip's splits `user;param@host`
    /// at the first `;`).
    pub fn ruri_user(&self) -> Option<&str> {
        addr::uri_user(&self.ruri)
    }

    /// A key identifying the server transaction: the RFC 3261 branch with the top Via's
    /// sent-by (§17.2.3) and the Call-ID, or for RFC 2543 peers Call-ID, CSeq and From tag.
    /// INVITE, its CANCEL and its ACK share the key.
    pub fn transaction_key(&self) -> String {
        match &self.branch {
            Some(b) if b.starts_with("z9hG4bK") => {
                format!("{b}|{}|{}", self.sent_by.to_ascii_lowercase(), self.call_id)
            }
            _ => format!(
                "2543:{}:{}:{}",
                self.call_id,
                self.cseq,
                self.from.param("tag").unwrap_or_default()
            ),
        }
    }
}

/// A response that passed pre-validation.
#[derive(Debug, Clone)]
pub struct InResponse {
    /// rsipstack's view of the response.
    pub sip: rsip::Response,
    /// The status code.
    pub code: u16,
    /// The reason phrase as received.
    pub phrase: String,
    /// All headers, unfolded.
    pub headers: Vec<RawHeader>,
    /// The top Via's branch.
    pub branch: String,
    /// The CSeq method.
    pub cseq_method: String,
}

impl InResponse {
    /// First value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Every value of a header, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

fn header<'a>(headers: &'a [RawHeader], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// A refusal that can be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Status code to answer with (400, 416, 505, 501, …).
    pub code: u16,
    /// Its reason phrase.
    pub phrase: &'static str,
    /// What the response copies.
    pub base: ResponseBase,
    /// The request's method as written (never answer an ACK).
    pub method: String,
}

/// What pre-validation decided about some bytes.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Nothing can be answered (garbage, a malformed response, not enough headers).
    Drop(&'static str),
    /// A request that must be refused with the given status.
    Reject(Box<Reject>),
    /// A request fit for processing.
    Request(Box<InRequest>),
    /// A response fit for the transaction layer.
    Response(Box<InResponse>),
}

/// The methods this agent implements (answered with their own logic).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS";

fn canonical_name(name: &str) -> &str {
    if name.len() != 1 {
        return name;
    }
    match name.to_ascii_lowercase().as_str() {
        "i" => "Call-ID",
        "m" => "Contact",
        "e" => "Content-Encoding",
        "l" => "Content-Length",
        "c" => "Content-Type",
        "f" => "From",
        "s" => "Subject",
        "k" => "Supported",
        "t" => "To",
        "v" => "Via",
        "o" => "Event",
        "r" => "Refer-To",
        "b" => "Referred-By",
        "u" => "Allow-Events",
        "x" => "Session-Expires",
        _ => name,
    }
}

enum Start<'a> {
    Request {
        method: &'a str,
        uri: &'a str,
        version: &'a str,
    },
    Response {
        version: &'a str,
        code: &'a str,
        phrase: &'a str,
    },
}

fn parse_start(line: &str) -> Result<Start<'_>, &'static str> {
    if line.len() > 4
        && line
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let code = parts.next().unwrap_or_default();
        let phrase = parts.next().unwrap_or_default();
        return Ok(Start::Response {
            version,
            code,
            phrase,
        });
    }
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err("malformed Request-Line");
    }
    Ok(Start::Request {
        method: parts[0],
        uri: parts[1],
        version: parts[2],
    })
}

/// The top Via of a message, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViaInfo {
    /// Transport token (`UDP`, `TCP`, …).
    pub transport: String,
    /// sent-by host.
    pub host: String,
    /// sent-by port.
    pub port: Option<u16>,
    /// `branch` parameter.
    pub branch: Option<String>,
    /// `received` parameter.
    pub received: Option<String>,
    /// `rport` parameter value.
    pub rport: Option<u16>,
}

/// Parses every via-parm of one Via header value; returns them in order.
pub fn parse_via(value: &str) -> Result<Vec<ViaInfo>, &'static str> {
    let mut out = Vec::new();
    for part in split_top_level(value, ',') {
        let part = part.trim();
        if part.is_empty() {
            return Err("empty Via entry");
        }
        out.push(parse_via_parm(part)?);
        if out.len() > 64 {
            return Err("too many Via entries");
        }
    }
    if out.is_empty() {
        return Err("empty Via");
    }
    Ok(out)
}

/// Splits on `sep` outside quoted strings and angle brackets.
fn split_top_level(value: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut depth = 0u32;
    for (i, c) in value.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '<' => depth = depth.saturating_add(1),
            '>' => depth = depth.saturating_sub(1),
            c if c == sep && depth == 0 => {
                out.push(value.get(start..i).unwrap_or_default());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(value.get(start..).unwrap_or_default());
    out
}

fn parse_via_parm(part: &str) -> Result<ViaInfo, &'static str> {
    // sent-protocol: name SWS "/" SWS version SWS "/" SWS transport
    let mut pieces = part.splitn(3, '/');
    let name = pieces.next().unwrap_or_default().trim();
    let version = pieces.next().unwrap_or_default().trim();
    let rest = pieces.next().ok_or("Via without a sent-protocol")?;
    if !is_token(name) || !is_token(version) {
        return Err("bad Via protocol");
    }
    let rest = rest.trim_start();
    let transport_end = rest
        .find(|c: char| !is_token_char(c))
        .ok_or("Via without a sent-by")?;
    let transport = rest.get(..transport_end).unwrap_or_default();
    if transport.is_empty() {
        return Err("bad Via transport");
    }
    let rest = rest.get(transport_end..).unwrap_or_default();
    if !rest.starts_with([' ', '\t']) {
        return Err("Via transport and sent-by not separated");
    }
    let rest = rest.trim_start();
    let (sent_by, params) = match rest.find(';') {
        Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i + 1..)),
        None => (rest, None),
    };
    let sent_by = sent_by.trim();
    let (host, port) = split_host_port(sent_by).ok_or("bad Via sent-by")?;
    let mut via = ViaInfo {
        transport: transport.to_ascii_uppercase(),
        host: host.to_owned(),
        port,
        ..ViaInfo::default()
    };
    if let Some(params) = params {
        for param in params.split(';') {
            let param = param.trim();
            let (name, value) = match param.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
                None => (param, None),
            };
            if !is_token(name) {
                return Err("empty or bad Via parameter");
            }
            if let Some(v) = value
                && (v.is_empty()
                    || !v
                        .chars()
                        .all(|c| is_token_char(c) || matches!(c, ':' | '[' | ']')))
            {
                return Err("bad Via parameter value");
            }
            if name.eq_ignore_ascii_case("branch") {
                via.branch = value.map(str::to_owned);
            } else if name.eq_ignore_ascii_case("received") {
                via.received = value.map(str::to_owned);
            } else if name.eq_ignore_ascii_case("rport") {
                via.rport = value.and_then(|v| v.parse().ok());
            }
        }
    }
    Ok(via)
}

/// Splits `host[:port]` (IPv6 in brackets); validates host characters and the port.
pub fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let end = v6.find(']')?;
        let host = s.get(..end + 2)?;
        let rest = v6.get(end + 1..)?;
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p),
            None if rest.is_empty() => None,
            None => return None,
        };
        (host, port)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':'))
    {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.trim().parse::<u16>().ok()?),
        None => None,
    };
    Some((host, port))
}

/// Parses `CSeq: number method`.
pub fn parse_cseq(value: &str) -> Option<(u32, &str)> {
    let mut parts = value.split_whitespace();
    let number = parts.next()?;
    let method = parts.next()?;
    if parts.next().is_some() || !number.chars().all(|c| c.is_ascii_digit()) || !is_token(method) {
        return None;
    }
    let n: u64 = number.parse().ok()?;
    // RFC 3261 §8.1.1.5: less than 2^31.
    if n >= 1 << 31 {
        return None;
    }
    Some((u32::try_from(n).ok()?, method))
}

fn digits_u32(value: &str) -> Option<u32> {
    let v = value.trim();
    if v.is_empty() || v.len() > 10 || !v.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Splits the header section into unfolded header lines. Returns the start line and the
/// headers, or why they are malformed (with whatever headers could be read, for a 400).
fn split_headers(section: &str) -> (Option<&str>, Vec<RawHeader>, Option<&'static str>) {
    let mut lines = section
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l));
    // RFC 3261 §7.5: ignore CRLFs before the start line.
    let mut start = None;
    for line in lines.by_ref() {
        if !line.is_empty() {
            start = Some(line);
            break;
        }
    }
    let mut headers: Vec<RawHeader> = Vec::new();
    let mut problem = None;
    let mut count = 0usize;
    for line in lines {
        count += 1;
        if count > MAX_HEADER_LINES {
            problem.get_or_insert("too many header lines");
            break;
        }
        if line.starts_with([' ', '\t']) {
            match headers.last_mut() {
                Some(last) => {
                    let more = line.trim();
                    if !more.is_empty() {
                        if !last.value.is_empty() {
                            last.value.push(' ');
                        }
                        last.value.push_str(more);
                    }
                }
                None => {
                    problem.get_or_insert("continuation line before any header");
                }
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            problem.get_or_insert("header line without a colon");
            continue;
        };
        let name = name.trim();
        if !is_token(name) {
            problem.get_or_insert("bad header name");
            continue;
        }
        headers.push(RawHeader {
            name: canonical_name(name).to_owned(),
            value: value.trim().to_owned(),
        });
    }
    (start, headers, problem)
}

/// Pre-validates one complete message (a datagram, or a framed stream message).
pub fn prevalidate(bytes: &[u8], stream: bool) -> Verdict {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Verdict::Drop("message too large");
    }
    let (head, body_bytes, framed) = match find(bytes, b"\r\n\r\n") {
        Some(i) => (
            bytes.get(..i).unwrap_or_default(),
            bytes.get(i + 4..).unwrap_or_default(),
            true,
        ),
        None => (bytes, &[][..], false),
    };
    let head_text = String::from_utf8_lossy(head);
    let utf8_ok = matches!(head_text, std::borrow::Cow::Borrowed(_));
    let (start, headers, mut problem) = split_headers(&head_text);
    let Some(start) = start else {
        return Verdict::Drop("empty message");
    };
    if !framed {
        problem.get_or_insert("no empty line after the headers");
    }
    if !utf8_ok {
        problem.get_or_insert("invalid UTF-8 in the headers");
    }
    if start.chars().any(|c| c.is_control() && c != '\t') {
        problem.get_or_insert("control characters in the start line");
    }
    let start = match parse_start(start) {
        Ok(s) => s,
        Err(why) => {
            // Not even a start line: answer only if it still looks like a request.
            return reject_or_drop(&headers, 400, "Bad Request", start.split(' ').next(), why);
        }
    };
    // Content-Length: digits only, all copies equal, not beyond the bytes received.
    let mut content_length: Option<u32> = None;
    for h in headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Content-Length"))
    {
        match digits_u32(&h.value) {
            Some(n) if content_length.is_none_or(|c| c == n) => content_length = Some(n),
            Some(_) => {
                problem.get_or_insert("conflicting Content-Length values");
            }
            None => {
                problem.get_or_insert("malformed Content-Length");
            }
        }
    }
    let body: &[u8] = match content_length {
        Some(n) => {
            let n = n as usize;
            if n > body_bytes.len() {
                problem.get_or_insert("Content-Length larger than the message");
                body_bytes
            } else {
                body_bytes.get(..n).unwrap_or_default()
            }
        }
        None => {
            if stream {
                problem.get_or_insert("no Content-Length on a stream transport");
            }
            body_bytes
        }
    };
    match start {
        Start::Response {
            version,
            code,
            phrase,
        } => check_response(version, code, phrase, headers, body, problem),
        Start::Request {
            method,
            uri,
            version,
        } => check_request(method, uri, version, headers, body, problem),
    }
}

fn reject_or_drop(
    headers: &[RawHeader],
    code: u16,
    phrase: &'static str,
    method: Option<&str>,
    why: &'static str,
) -> Verdict {
    let base = ResponseBase::from_headers(headers);
    let method = method.unwrap_or_default();
    // A response needs at least a Via to copy (it goes back to the packet's source, so
    // the Via need not parse), and ACKs are never answered.
    let via_ok = !base.vias.is_empty();
    if !via_ok || method.eq_ignore_ascii_case("ACK") || !is_token(method) {
        return Verdict::Drop(why);
    }
    tracing::debug!(why, code, "refusing a malformed request");
    Verdict::Reject(Box::new(Reject {
        code,
        phrase,
        base,
        method: method.to_owned(),
    }))
}

fn singleton_violation(headers: &[RawHeader]) -> bool {
    [
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Max-Forwards",
        "Content-Type",
    ]
    .iter()
    .any(|name| {
        headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .count()
            > 1
    })
}

fn check_request(
    method: &str,
    uri: &str,
    version: &str,
    headers: Vec<RawHeader>,
    body: &[u8],
    problem: Option<&'static str>,
) -> Verdict {
    let bad = |why: &'static str| reject_or_drop(&headers, 400, "Bad Request", Some(method), why);
    if !is_token(method) {
        return Verdict::Drop("bad method token");
    }
    if let Some(why) = problem {
        return bad(why);
    }
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return reject_or_drop(
            &headers,
            505,
            "Version Not Supported",
            Some(method),
            "unsupported SIP version",
        );
    }
    if singleton_violation(&headers) {
        return bad("a single-valued header appears more than once");
    }
    // Mandatory headers (RFC 3261 §8.1.1).
    let Some(cseq_raw) = header(&headers, "CSeq") else {
        return bad("missing CSeq");
    };
    let Some((cseq, cseq_method)) = parse_cseq(cseq_raw) else {
        return bad("malformed CSeq");
    };
    if cseq_method != method {
        return bad("CSeq method does not match the Request-Line");
    }
    let mut vias = Vec::new();
    for v in headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Via"))
    {
        match parse_via(&v.value) {
            Ok(mut list) => vias.append(&mut list),
            Err(why) => return bad(why),
        }
    }
    let Some(top_via) = vias.first().cloned() else {
        return Verdict::Drop("no Via");
    };
    let (Some(from_raw), Some(to_raw), Some(call_id)) = (
        header(&headers, "From"),
        header(&headers, "To"),
        header(&headers, "Call-ID"),
    ) else {
        return bad("missing From, To or Call-ID");
    };
    if call_id.is_empty() || call_id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("malformed Call-ID");
    }
    let (Ok(from), Ok(to)) = (addr::parse(from_raw), addr::parse(to_raw)) else {
        return bad("malformed From or To");
    };
    if let Some(mf) = header(&headers, "Max-Forwards")
        && digits_u32(mf).is_none_or(|n| n > 255)
    {
        return bad("malformed Max-Forwards");
    }
    for contact in headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Contact"))
    {
        if addr::parse_list(&contact.value).is_err() {
            return bad("malformed Contact");
        }
    }
    // Request-URI: no brackets, no headers after the host, a known scheme.
    if uri.contains(['<', '>']) {
        return bad("Request-URI enclosed in <>");
    }
    let after_user = uri.rsplit_once('@').map(|(_, h)| h).unwrap_or(uri);
    if after_user.contains('?') {
        return bad("headers in the Request-URI");
    }
    let scheme = uri.split_once(':').map(|(s, _)| s).unwrap_or_default();
    if !(scheme.eq_ignore_ascii_case("sip")
        || scheme.eq_ignore_ascii_case("sips")
        || scheme.eq_ignore_ascii_case("tel"))
    {
        return reject_or_drop(
            &headers,
            416,
            "Unsupported URI Scheme",
            Some(method),
            "unsupported Request-URI scheme",
        );
    }
    let Ok(parsed_method) = method.parse::<rsip::Method>() else {
        // Valid syntax, a method nobody here implements.
        return reject_or_drop(
            &headers,
            501,
            "Not Implemented",
            Some(method),
            "unknown method",
        );
    };
    if parsed_method.to_string() != method {
        // rsip matches methods case-insensitively; SIP methods are case-sensitive.
        return reject_or_drop(
            &headers,
            501,
            "Not Implemented",
            Some(method),
            "unknown method",
        );
    }
    // Rebuild a clean copy for rsip: the validated head plus exactly the body.
    let sip = match rsip::Request::try_from(reassemble(method, uri, &headers, body)) {
        Ok(r) => r,
        Err(_) => return bad("rsip could not parse the request"),
    };
    Verdict::Request(Box::new(InRequest {
        method: parsed_method,
        base: ResponseBase::from_headers(&headers),
        sent_by: match top_via.port {
            Some(port) => format!("{}:{port}", top_via.host),
            None => top_via.host.clone(),
        },
        branch: top_via.branch,
        call_id: call_id.to_owned(),
        cseq,
        from,
        to,
        ruri: uri.to_owned(),
        headers,
        sip,
    }))
}

/// Writes a normalised message (unfolded headers, exact body) for rsip's parser.
fn reassemble(method: &str, uri: &str, headers: &[RawHeader], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + body.len());
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(uri.as_bytes());
    out.extend_from_slice(b" SIP/2.0\r\n");
    for h in headers {
        if h.name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

fn check_response(
    version: &str,
    code: &str,
    phrase: &str,
    headers: Vec<RawHeader>,
    body: &[u8],
    problem: Option<&'static str>,
) -> Verdict {
    if let Some(why) = problem {
        return Verdict::Drop(why);
    }
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Verdict::Drop("unsupported SIP version in a response");
    }
    if code.len() != 3 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Verdict::Drop("malformed status code");
    }
    let Ok(code_n) = code.parse::<u16>() else {
        return Verdict::Drop("malformed status code");
    };
    if !(100..=699).contains(&code_n) {
        return Verdict::Drop("status code out of range");
    }
    if phrase.chars().any(|c| c.is_control() && c != '\t') || singleton_violation(&headers) {
        return Verdict::Drop("malformed response");
    }
    let Some((_, cseq_method)) = header(&headers, "CSeq").and_then(parse_cseq) else {
        return Verdict::Drop("response without a valid CSeq");
    };
    let cseq_method = cseq_method.to_owned();
    let Some(top_via) = header(&headers, "Via").and_then(|v| parse_via(v).ok()?.into_iter().next())
    else {
        return Verdict::Drop("response without a valid Via");
    };
    let Some(branch) = top_via.branch else {
        return Verdict::Drop("response without a branch");
    };
    if header(&headers, "Call-ID").is_none() {
        return Verdict::Drop("response without a Call-ID");
    }
    let mut raw = Vec::with_capacity(512);
    raw.extend_from_slice(format!("SIP/2.0 {code_n} {phrase}\r\n").as_bytes());
    for h in &headers {
        if h.name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        raw.extend_from_slice(format!("{}: {}\r\n", h.name, h.value).as_bytes());
    }
    raw.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    raw.extend_from_slice(body);
    let sip = match rsip::SipMessage::try_from(raw.as_slice()) {
        Ok(rsip::SipMessage::Response(r)) => r,
        _ => return Verdict::Drop("rsip could not parse the response"),
    };
    Verdict::Response(Box::new(InResponse {
        sip,
        code: code_n,
        phrase: phrase.trim().to_owned(),
        headers,
        branch,
        cseq_method,
    }))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What the start of a stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// More bytes are needed.
    Incomplete,
    /// `n` bytes of CRLF keepalive (`\r\n\r\n` ping is 4, `\r\n` pong is 2).
    Keepalive(usize),
    /// A complete message of `n` bytes.
    Message(usize),
    /// The stream cannot be framed (too large, bad Content-Length): close it.
    Broken(&'static str),
}

/// Frames the next message on a stream transport (RFC 3261 §18.3, RFC 5626 §3.5.1).
pub fn frame(buf: &[u8]) -> Frame {
    if buf.starts_with(b"\r\n\r\n") {
        return Frame::Keepalive(4);
    }
    if buf.starts_with(b"\r\n") {
        if buf.len() < 4 && b"\r\n\r\n".starts_with(buf) {
            // Could still become a ping; a lone pong is complete only once something
            // else follows or nothing more arrives — treat 2 bytes as a pong.
            return Frame::Keepalive(2);
        }
        return Frame::Keepalive(2);
    }
    let Some(end) = find(buf, b"\r\n\r\n") else {
        if buf.len() > MAX_MESSAGE_BYTES {
            return Frame::Broken("header section too large");
        }
        return Frame::Incomplete;
    };
    let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default());
    let mut length: usize = 0;
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim();
            if name.eq_ignore_ascii_case("Content-Length") || name.eq_ignore_ascii_case("l") {
                match digits_u32(value) {
                    Some(n) => length = n as usize,
                    None => return Frame::Broken("malformed Content-Length on a stream"),
                }
            }
        }
    }
    let total = end + 4 + length;
    if total > MAX_MESSAGE_BYTES {
        return Frame::Broken("message too large");
    }
    if buf.len() < total {
        Frame::Incomplete
    } else {
        Frame::Message(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:abc@127.0.0.1:5062 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n\
        Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-0\r\n\
        From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n\
        To: <sip:line@example.com>\r\n\
        Call-ID: c1@x\r\n\
        CSeq: 1 INVITE\r\n\
        Max-Forwards: 69\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    fn a_good_invite_passes() {
        let Verdict::Request(r) = prevalidate(INVITE.as_bytes(), false) else {
            panic!("refused");
        };
        assert_eq!(r.method, rsip::Method::Invite);
        assert_eq!(r.branch.as_deref(), Some("z9hG4bK-1"));
        assert_eq!(r.ruri_user(), Some("abc"));
        assert_eq!(r.call_id, "c1@x");
        assert_eq!(r.from.param("tag"), Some("a1"));
        let resp = String::from_utf8(r.base.build(180, "Ringing", Some("t9"), &[])).unwrap();
        assert!(resp.starts_with("SIP/2.0 180 Ringing\r\n"), "{resp}");
        assert!(resp.contains("To: <sip:line@example.com>;tag=t9\r\n"));
        assert!(resp.contains("Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n"));
        assert!(resp.contains("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-0\r\n"));
        assert!(resp.ends_with("Content-Length: 0\r\n\r\n"));
    }

    #[test]
    fn refusals() {
        let mismatch = INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS");
        assert!(
            matches!(prevalidate(mismatch.as_bytes(), false), Verdict::Reject(r) if r.code == 400)
        );
        let version = INVITE.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia");
        assert!(
            matches!(prevalidate(version.as_bytes(), false), Verdict::Reject(r) if r.code == 505)
        );
        let unknown = INVITE
            .replace("INVITE sip", "FOO sip")
            .replace("1 INVITE", "1 FOO");
        assert!(
            matches!(prevalidate(unknown.as_bytes(), false), Verdict::Reject(r) if r.code == 501)
        );
        let lower = INVITE
            .replace("INVITE sip", "invite sip")
            .replace("1 INVITE", "1 invite");
        assert!(
            matches!(prevalidate(lower.as_bytes(), false), Verdict::Reject(r) if r.code == 501)
        );
        let no_via: String = INVITE
            .lines()
            .filter(|l| !l.starts_with("Via"))
            .map(|l| format!("{l}\r\n"))
            .collect();
        assert!(matches!(
            prevalidate(no_via.as_bytes(), false),
            Verdict::Drop(_)
        ));
        let ack = INVITE
            .replace("INVITE sip", "ACK sip")
            .replace("1 INVITE", "1 ACK")
            .replace("Max-Forwards: 69", "Max-Forwards: 999");
        assert!(matches!(
            prevalidate(ack.as_bytes(), false),
            Verdict::Drop(_)
        ));
        assert!(matches!(prevalidate(b"", false), Verdict::Drop(_)));
        assert!(matches!(
            prevalidate(b"\x00\xff\xfe garbage", false),
            Verdict::Drop(_)
        ));
    }

    #[test]
    fn content_length_rules() {
        let longer = INVITE.replace("Content-Length: 0", "Content-Length: 10");
        assert!(matches!(
            prevalidate(longer.as_bytes(), false),
            Verdict::Reject(_)
        ));
        let with_body = INVITE.replace("Content-Length: 0", "Content-Length: 3");
        let mut bytes = with_body.into_bytes();
        bytes.extend_from_slice(b"abcdef");
        let Verdict::Request(r) = prevalidate(&bytes, false) else {
            panic!("refused");
        };
        assert_eq!(r.sip.body, b"abc");
    }

    #[test]
    fn vias() {
        let v = parse_via("SIP  /   2.0 /UDP    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v[0].host, "192.0.2.2");
        assert_eq!(v[0].branch.as_deref(), Some("390skdjuw"));
        let v =
            parse_via("SIP/2.0/TCP [::1]:5060;rport=4000;received=1.2.3.4, SIP/2.0/UDP h").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].port, Some(5060));
        assert_eq!(v[0].rport, Some(4000));
        assert!(parse_via("SIP/2.0/UDP 192.0.2.15;;,;,,").is_err());
        assert!(parse_via("garbage").is_err());
    }

    #[test]
    fn framing() {
        assert_eq!(frame(b"\r\n\r\nINVITE"), Frame::Keepalive(4));
        assert_eq!(frame(b"\r\nX"), Frame::Keepalive(2));
        assert_eq!(
            frame(b"OPTIONS sip:x SIP/2.0\r\nl: 2\r\n\r\nab"),
            Frame::Message(33)
        );
        assert_eq!(
            frame(b"OPTIONS sip:x SIP/2.0\r\nl: 2\r\n\r\na"),
            Frame::Incomplete
        );
        assert!(matches!(
            frame(b"X\r\nContent-Length: -1\r\n\r\n"),
            Frame::Broken(_)
        ));
    }
}
