//! The header-value parsers one at a time: the first byte picks the parser (Via, CSeq,
//! host:port, name-addr, name-addr list, digest challenge, caller identity, Reason, URI
//! parts), the rest is the value. Never a panic or a hang, results within their documented
//! bounds, and round trips where the grammar allows one: a formatted CSeq, host:port or
//! address parses back to the same value, and our own digest `Authorization` value parses
//! back to the challenge it answers (so its quoting is sound).
#![no_main]

use deskline_sip::addr::{self, NameAddr};
use deskline_sip::auth::{self, Algorithm, Challenge, Qop};
use deskline_sip::{caller, reason, wire};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // Header values reach the parsers as text (lossily decoded by pre-validation).
    let value = String::from_utf8_lossy(rest);
    let value = value.as_ref();
    match selector % 9 {
        0 => via(value),
        1 => cseq(value),
        2 => host_port(value),
        3 => name_addr(value),
        4 => name_addr_list(value),
        5 => challenge(value),
        6 => caller_identity(value),
        7 => reason_header(value),
        _ => uri_parts(value),
    }
});

fn via(value: &str) {
    let Ok(vias) = wire::parse_via(value) else {
        return;
    };
    assert!(
        !vias.is_empty() && vias.len() <= 64,
        "{} Via entries",
        vias.len()
    );
    for v in &vias {
        assert!(addr::is_token(&v.transport), "transport {:?}", v.transport);
        assert_eq!(v.transport, v.transport.to_ascii_uppercase());
        assert!(!v.host.is_empty());
        assert!(v.branch.as_deref().is_none_or(|b| !b.is_empty()));
        // The sent-by round-trips through split_host_port.
        let sent_by = match v.port {
            Some(port) => format!("{}:{port}", v.host),
            None => v.host.clone(),
        };
        assert_eq!(
            wire::split_host_port(&sent_by),
            Some((v.host.as_str(), v.port)),
            "sent-by {sent_by:?}"
        );
    }
}

fn cseq(value: &str) {
    let Some((number, method)) = wire::parse_cseq(value) else {
        return;
    };
    assert!(number < 1 << 31);
    assert!(addr::is_token(method));
    let formatted = format!("{number} {method}");
    assert_eq!(wire::parse_cseq(&formatted), Some((number, method)));
}

fn host_port(value: &str) {
    let Some((host, port)) = wire::split_host_port(value) else {
        return;
    };
    assert!(!host.is_empty());
    assert!(value.starts_with(host));
    let formatted = match port {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    assert_eq!(
        wire::split_host_port(&formatted),
        Some((host, port)),
        "{formatted:?}"
    );
}

/// Writes an address back in the grammar `addr` reads: quoted display name, `<uri>`,
/// parameters with quoted values.
fn format_addr(a: &NameAddr) -> String {
    let mut out = String::new();
    if let Some(display) = &a.display {
        out.push('"');
        out.push_str(&escape(display));
        out.push_str("\" ");
    }
    out.push('<');
    out.push_str(&a.uri);
    out.push('>');
    for (name, value) in &a.params {
        out.push(';');
        out.push_str(name);
        if let Some(value) = value {
            out.push_str("=\"");
            out.push_str(&escape(value));
            out.push('"');
        }
    }
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn check_addr(a: &NameAddr) {
    assert!(a.uri.contains(':'), "a URI without a scheme: {:?}", a.uri);
    assert!(a.params.len() <= 64);
    for (name, _) in &a.params {
        assert!(addr::is_token(name), "parameter name {name:?}");
        assert!(a.has_param(name));
    }
    assert!(
        !a.uri.chars().any(|c| c.is_whitespace() || c.is_control()),
        "whitespace or a control character in a URI: {:?}",
        a.uri
    );
    uri_parts(&a.uri);
    let number = caller::number_of(&a.uri);
    assert!(number.chars().count() <= 128);
    assert!(!number.chars().any(char::is_control));
}

fn name_addr(value: &str) {
    let Ok(a) = addr::parse(value) else {
        return;
    };
    check_addr(&a);
    let formatted = format_addr(&a);
    assert_eq!(addr::parse(&formatted).as_ref(), Ok(&a), "{formatted:?}");
    // A single address is also a one-entry list (Contact and P-Asserted-Identity).
    assert_eq!(addr::parse_list(value), Ok(vec![a]));
}

fn name_addr_list(value: &str) {
    let Ok(list) = addr::parse_list(value) else {
        return;
    };
    assert!(
        !list.is_empty() && list.len() <= 32,
        "{} entries",
        list.len()
    );
    if list.len() == 1 && list[0].uri == "*" {
        return;
    }
    for a in &list {
        check_addr(a);
    }
    let formatted: Vec<String> = list.iter().map(format_addr).collect();
    let formatted = formatted.join(", ");
    assert_eq!(addr::parse_list(&formatted), Ok(list), "{formatted:?}");
}

fn challenge(value: &str) {
    // Several challenges, one a line, as a 401 may carry them.
    let _ = auth::choose_challenge(value.split('\n'));
    let Ok(c) = auth::parse_challenge(value) else {
        return;
    };
    assert!(!c.nonce.is_empty());
    let password = SecretString::from("fuzz-password");
    let request = auth::Request {
        method: "REGISTER",
        uri: "sip:registrar.example.com",
        body: b"",
    };
    let response = auth::compute_response(&c, "1001", &password, request, 1, "0a4f113b");
    let digits = match c.algorithm {
        Algorithm::Md5 => 32,
        Algorithm::Sha256 | Algorithm::Sha512_256 => 64,
    };
    assert_eq!(response.len(), digits);
    assert!(
        response
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    // Our Authorization value quotes realm, nonce and opaque: read back with the challenge
    // parser it gives the same challenge (control characters are dropped when quoting).
    let mut session = auth::DigestSession::new(c.clone());
    let authorization = session.authorization("1001", &password, request);
    assert!(authorization.starts_with("Digest username=\"1001\", "));
    let clean = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>();
    let expected = Challenge {
        realm: clean(&c.realm),
        nonce: clean(&c.nonce),
        opaque: c.opaque.as_deref().map(clean),
        stale: false,
        ..c.clone()
    };
    match auth::parse_challenge(&authorization) {
        Ok(back) => assert_eq!(back, expected, "{authorization:?}"),
        Err(e) => assert!(
            expected.nonce.is_empty(),
            "our Authorization does not parse back ({e}): {authorization:?}"
        ),
    }
    if let Some(qop) = c.qop {
        let qop = match qop {
            Qop::Auth => ", qop=auth, nc=00000001, ",
            Qop::AuthInt => ", qop=auth-int, nc=00000001, ",
        };
        assert!(authorization.contains(qop), "{authorization:?}");
    }
}

fn caller_identity(value: &str) {
    // First line: the From value; further lines: P-Asserted-Identity values.
    let mut lines = value.split('\n');
    let from_raw = lines.next().unwrap_or_default();
    let from = addr::parse(from_raw).unwrap_or_else(|_| NameAddr {
        display: Some(from_raw.to_owned()),
        uri: from_raw.to_owned(),
        params: Vec::new(),
    });
    let pai: Vec<&str> = lines.collect();
    let who = caller::caller(pai.iter().copied(), &from);
    assert!(who.number.chars().count() <= 128);
    assert!(!who.number.chars().any(char::is_control));
    if let Some(name) = &who.name {
        assert!(!name.is_empty());
        assert_eq!(name, name.trim());
        assert!(name.chars().count() <= 128);
        assert!(!name.chars().any(char::is_control));
    }
    if pai.iter().all(|v| addr::parse_list(v).is_err()) {
        // Nothing asserted: the caller is whoever From names.
        assert_eq!(who.number, caller::number_of(&from.uri));
    }
}

fn reason_header(value: &str) {
    let entries = reason::parse_reason(value);
    assert!(entries.len() <= 16, "{} Reason entries", entries.len());
    for e in &entries {
        assert_eq!(e.protocol, e.protocol.trim());
    }
    // Several Reason headers, one a line: the CANCEL is "answered elsewhere" when any is.
    let lines: Vec<&str> = value.split('\n').collect();
    let missed = reason::classify_cancel(std::iter::empty());
    let any = lines
        .iter()
        .any(|l| reason::classify_cancel(std::iter::once(*l)) != missed);
    assert_eq!(
        reason::classify_cancel(lines.iter().copied()) != missed,
        any
    );
}

fn uri_parts(uri: &str) {
    if let Some(user) = addr::uri_user(uri) {
        assert!(!user.is_empty());
        assert!(uri.contains(user));
    }
    if let Some(host_port) = addr::uri_host_port(uri) {
        assert!(!host_port.is_empty());
        assert!(uri.contains(host_port));
        let _ = wire::split_host_port(host_port);
    }
    let _ = caller::number_of(uri);
}
