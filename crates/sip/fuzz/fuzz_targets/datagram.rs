//! `wire::prevalidate` over arbitrary bytes, as a UDP datagram and as a framed stream
//! message: never a panic or a hang, and whatever it accepts is used the way the agent uses
//! it (header lookups, Request-URI user, transaction key, caller identity, CANCEL reason,
//! digest challenges, Contact lists, responses built from the request or the refusal),
//! checking that accepted requests are consistent with the header parsers and that every
//! response we would send is a single, well-framed message.
#![no_main]

use deskline_sip::addr;
use deskline_sip::auth;
use deskline_sip::caller;
use deskline_sip::reason;
use deskline_sip::wire::{self, Frame, InRequest, InResponse, Reject, ResponseBase, Verdict};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for stream in [false, true] {
        check(data, stream);
    }
});

fn check(data: &[u8], stream: bool) {
    match wire::prevalidate(data, stream) {
        Verdict::Drop(why) => assert!(!why.is_empty()),
        Verdict::Reject(reject) => check_reject(data, &reject),
        Verdict::Request(request) => check_request(data, &request),
        Verdict::Response(response) => check_response(data, &response),
    }
}

fn check_reject(data: &[u8], reject: &Reject) {
    assert!(data.len() <= wire::MAX_MESSAGE_BYTES);
    assert!(
        (400..=599).contains(&reject.code),
        "refusal with code {}",
        reject.code
    );
    assert!(!reject.phrase.is_empty());
    assert!(
        !reject.method.eq_ignore_ascii_case("ACK"),
        "an ACK must never be answered"
    );
    assert!(
        addr::is_token(&reject.method),
        "refusal of a non-token method"
    );
    let extra: &[(&str, &str)] = if reject.code == 501 || reject.code == 405 {
        &[("Allow", wire::ALLOW)]
    } else {
        &[]
    };
    check_built(
        &reject.base,
        reject.code,
        reject.phrase,
        Some("fuzzTag01"),
        extra,
    );
}

fn check_request(data: &[u8], req: &InRequest) {
    assert!(data.len() <= wire::MAX_MESSAGE_BYTES);
    let method = req.method.to_string();
    assert_eq!(req.sip.method, req.method);

    // The mandatory headers are there and agree with the parsed fields.
    let cseq = req.header("CSeq").expect("an accepted request has a CSeq");
    assert_eq!(wire::parse_cseq(cseq), Some((req.cseq, method.as_str())));
    assert!(req.cseq < 1 << 31);
    assert_eq!(req.header("Call-ID"), Some(req.call_id.as_str()));
    assert!(!req.call_id.is_empty());
    let from = req.header("From").expect("an accepted request has a From");
    assert_eq!(addr::parse(from).as_ref(), Ok(&req.from));
    let to = req.header("To").expect("an accepted request has a To");
    assert_eq!(addr::parse(to).as_ref(), Ok(&req.to));
    let top_via = req.header("Via").expect("an accepted request has a Via");
    let vias = wire::parse_via(top_via).expect("an accepted request's Via parses");
    assert_eq!(vias[0].branch, req.branch);

    // Lookups: `header` is the first of `header_values`, case-insensitively.
    for name in [
        "Via",
        "via",
        "CSeq",
        "Contact",
        "P-Asserted-Identity",
        "Reason",
        "Require",
        "Content-Type",
        "Max-Forwards",
    ] {
        assert_eq!(req.header(name), req.header_values(name).next());
        assert_eq!(
            req.header_values(name).count(),
            req.header_values(&name.to_ascii_uppercase()).count()
        );
    }
    for h in &req.headers {
        assert!(!h.value.contains('\n'), "a header value holds a line break");
    }

    // What the agent derives from it.
    if let Some(user) = req.ruri_user() {
        assert!(!user.is_empty());
        assert!(req.ruri.contains(user));
    }
    let key = req.transaction_key();
    assert!(key.contains(&req.call_id));
    let who = caller::caller(req.header_values("P-Asserted-Identity"), &req.from);
    check_caller_text(&who.number, who.name.as_deref());
    let _ = reason::classify_cancel(req.header_values("Reason"));
    for contact in req.header_values("Contact") {
        let list = addr::parse_list(contact).expect("an accepted request's Contact parses");
        for entry in &list {
            let _ = addr::uri_user(&entry.uri);
            let _ = addr::uri_host_port(&entry.uri);
        }
    }

    // The answers the agent gives: 100, 180, 200, and refusals with extra headers.
    let require: Vec<&str> = req
        .header_values("Require")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    let unsupported = require.join(", ");
    check_built(&req.base, 100, "Trying", None, &[]);
    let ringing = check_built(&req.base, 180, "Ringing", Some("fuzzTag01"), &[]);
    check_built(&req.base, 200, "OK", Some("fuzzTag01"), &[]);
    check_built(
        &req.base,
        420,
        "Bad Extension",
        Some("fuzzTag01"),
        &[("Unsupported", unsupported.as_str())],
    );
    check_built(
        &req.base,
        405,
        "Method Not Allowed",
        Some("fuzzTag01"),
        &[("Allow", wire::ALLOW)],
    );

    // A response to an RFC 3261 request comes back through our own pre-validation as a
    // response of the same transaction.
    if let Some(branch) = &req.branch
        && ringing.len() <= wire::MAX_MESSAGE_BYTES
    {
        match wire::prevalidate(&ringing, false) {
            Verdict::Response(resp) => {
                assert_eq!(resp.code, 180);
                assert_eq!(&resp.branch, branch);
                assert_eq!(resp.cseq_method, method);
            }
            other => panic!(
                "our 180 to an accepted request does not pre-validate: {other:?}\n{}",
                String::from_utf8_lossy(&ringing)
            ),
        }
    }
}

fn check_response(data: &[u8], resp: &InResponse) {
    assert!(data.len() <= wire::MAX_MESSAGE_BYTES);
    assert!((100..=699).contains(&resp.code));
    assert!(!resp.branch.is_empty());
    let cseq = resp
        .header("CSeq")
        .expect("an accepted response has a CSeq");
    let (_, method) = wire::parse_cseq(cseq).expect("an accepted response's CSeq parses");
    assert_eq!(method, resp.cseq_method);
    assert!(resp.header("Call-ID").is_some());
    assert_eq!(resp.header("Via"), resp.header_values("Via").next());
    // What registration does with a response: challenges and the Contact bindings.
    for name in ["WWW-Authenticate", "Proxy-Authenticate"] {
        if let Ok(challenge) = auth::choose_challenge(resp.header_values(name)) {
            assert!(!challenge.nonce.is_empty());
        }
    }
    for value in resp.header_values("Contact") {
        if let Ok(list) = addr::parse_list(value) {
            for entry in &list {
                let _ = addr::uri_user(&entry.uri);
                let _ = entry.param("expires");
            }
        }
    }
}

/// Builds a response and checks it is one message: status line, `Content-Length: 0` last,
/// no blank line before the end (no header value can break the framing).
fn check_built(
    base: &ResponseBase,
    code: u16,
    phrase: &str,
    to_tag: Option<&str>,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let bytes = base.build(code, phrase, to_tag, extra);
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.starts_with(&format!("SIP/2.0 {code} ")),
        "bad status line: {text:?}"
    );
    assert!(
        text.ends_with("\r\nContent-Length: 0\r\n\r\n"),
        "bad end: {text:?}"
    );
    let blank = bytes.windows(4).position(|w| w == b"\r\n\r\n");
    assert_eq!(
        blank,
        Some(bytes.len() - 4),
        "a blank line inside the header section: {text:?}"
    );
    if bytes.len() <= wire::MAX_MESSAGE_BYTES {
        assert_eq!(wire::frame(&bytes), Frame::Message(bytes.len()), "{text:?}");
    }
    bytes
}

fn check_caller_text(number: &str, name: Option<&str>) {
    assert!(number.chars().count() <= 128);
    assert!(!number.chars().any(char::is_control));
    if let Some(name) = name {
        assert!(!name.is_empty());
        assert_eq!(name, name.trim());
        assert!(name.chars().count() <= 128);
        assert!(!name.chars().any(char::is_control));
    }
}
