//! `tel:`, `sip:`/`sips:` and `callto:` links (from the browser, a mail client, the desktop
//! through the deep-link plugin, or a second start of the app) turned into a destination
//! the core validates. The app never dials from a link on its own: the UI asks first.

use deskline_core::{Destination, ValidationError};

/// The destination a link asks to call, validated by the core.
pub fn parse_link(raw: &str) -> Result<Destination, ValidationError> {
    let trimmed = raw.trim();
    let decoded = percent_decode(trimmed);
    let lower = decoded.to_ascii_lowercase();
    let refuse = || {
        ValidationError::new(
            "link",
            format!("'{trimmed}' is not a tel:, sip: or callto: link"),
        )
    };
    if let Some(rest) = strip_scheme(&decoded, &lower, "tel:") {
        // RFC 3966: parameters after ';' (phone-context, ext) are not part of the number.
        let number = rest.split(';').next().unwrap_or_default();
        return Destination::parse(number);
    }
    if let Some(rest) = strip_scheme(&decoded, &lower, "callto:") {
        let rest = rest.trim_start_matches('/');
        let rest = rest.split(['?', ';']).next().unwrap_or_default();
        return Destination::parse(rest);
    }
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        // Headers after '?' are never taken from a link.
        let uri = decoded.split('?').next().unwrap_or_default();
        return Destination::parse(uri);
    }
    Err(refuse())
}

/// The link among a process's arguments (a second start with `deskline-app tel:…`).
pub fn link_in_args<I: IntoIterator<Item = String>>(args: I) -> Option<String> {
    args.into_iter().find(|a| {
        let lower = a.to_ascii_lowercase();
        ["tel:", "sip:", "sips:", "callto:"]
            .iter()
            .any(|s| lower.starts_with(s))
    })
}

fn strip_scheme<'a>(original: &'a str, lower: &str, scheme: &str) -> Option<&'a str> {
    lower.starts_with(scheme).then(|| &original[scheme.len()..])
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ok(link: &str) -> String {
        parse_link(link).unwrap().to_string()
    }

    #[test]
    fn tel_links() {
        assert_eq!(ok("tel:+1-214-555-0100"), "+1-2145550100");
        assert_eq!(ok("TEL:2145550100;phone-context=example.com"), "2145550100");
        assert_eq!(ok("tel:%2B44%2020%207123%204567"), "+442071234567");
    }

    #[test]
    fn sip_and_callto_links() {
        assert_eq!(ok("sip:alice@example.com"), "sip:alice@example.com");
        assert_eq!(
            ok("sip:alice@example.com?subject=hi"),
            "sip:alice@example.com"
        );
        assert_eq!(ok("callto://+12145550100"), "+12145550100");
        assert_eq!(ok("callto:1001"), "1001");
    }

    #[test]
    fn other_links_are_refused() {
        assert!(parse_link("https://example.com").is_err());
        assert!(parse_link("tel:call-me").is_err());
        assert!(parse_link("sip:nohost").is_err());
        assert!(parse_link("mailto:a@b.c").is_err());
    }

    #[test]
    fn finds_the_link_among_arguments() {
        let args = ["deskline-app", "--minimized", "tel:1001"].map(String::from);
        assert_eq!(link_in_args(args), Some("tel:1001".into()));
        let args = ["deskline-app", "--minimized"].map(String::from);
        assert_eq!(link_in_args(args), None);
    }
}
