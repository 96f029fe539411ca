//! Who is calling: the caller's number and display name from an INVITE, taken from
//! `P-Asserted-Identity` when the network asserted one (RFC 3325), else from `From`.
//! Numbers are the user part of a `sip:`/`sips:` URI (without user parameters, with
//! `%xx` escapes decoded) or the number of a `tel:` URI; display names are unquoted and
//! unescaped.

use crate::addr::{self, NameAddr};

/// The caller as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The number or URI user part (`+15551234567`, `1001`, `anonymous`).
    pub number: String,
    /// The display name, when one was sent.
    pub name: Option<String>,
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let (Some(h), Some(l)) = (bytes.get(i + 1), bytes.get(i + 2))
            && let (Some(h), Some(l)) = ((*h as char).to_digit(16), (*l as char).to_digit(16))
        {
            let decoded = (h * 16 + l) as u8;
            // Never let an escape smuggle in control characters.
            if !decoded.is_ascii_control() {
                out.push(decoded);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The number of an address: user part of sip/sips (before `;`), or a tel number; for
/// other schemes the whole URI.
pub fn number_of(uri: &str) -> String {
    let raw = match addr::uri_user(uri) {
        Some(user) => user.split(';').next().unwrap_or_default(),
        None => uri,
    };
    let decoded = percent_decode(raw);
    decoded
        .chars()
        .filter(|c| !c.is_control())
        .take(128)
        .collect()
}

fn clean_name(name: &Option<String>) -> Option<String> {
    let name: String = name
        .as_deref()?
        .chars()
        .filter(|c| !c.is_control())
        .take(128)
        .collect();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// Chooses the caller from P-Asserted-Identity values (any number of headers, each a
/// comma-separated list) and the parsed `From`.
pub fn caller<'a>(pai_values: impl Iterator<Item = &'a str>, from: &NameAddr) -> Caller {
    let mut asserted: Vec<NameAddr> = Vec::new();
    for value in pai_values {
        if let Ok(mut list) = addr::parse_list(value) {
            asserted.append(&mut list);
        }
    }
    // A tel: identity is the canonical number; else the first sip(s): with a user.
    let chosen = asserted
        .iter()
        .find(|a| {
            a.uri
                .get(..4)
                .is_some_and(|s| s.eq_ignore_ascii_case("tel:"))
        })
        .or_else(|| asserted.iter().find(|a| addr::uri_user(&a.uri).is_some()));
    let from_number = number_of(&from.uri);
    match chosen {
        Some(identity) => {
            let number = number_of(&identity.uri);
            let name = clean_name(&identity.display)
                .or_else(|| asserted.iter().find_map(|a| clean_name(&a.display)))
                // The From name only when From names the same number.
                .or_else(|| {
                    (from_number == number)
                        .then(|| clean_name(&from.display))
                        .flatten()
                });
            Caller { number, name }
        }
        None => Caller {
            number: from_number,
            name: clean_name(&from.display),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(v: &str) -> NameAddr {
        addr::parse(v).unwrap()
    }

    #[test]
    fn from_only() {
        let c = caller(
            std::iter::empty(),
            &from("\"Alice Smith\" <sip:+15551234567@example.com;user=phone>;tag=1"),
        );
        assert_eq!(c.number, "+15551234567");
        assert_eq!(c.name.as_deref(), Some("Alice Smith"));
        let c = caller(std::iter::empty(), &from("<sip:1001@pbx>;tag=1"));
        assert_eq!((c.number.as_str(), c.name), ("1001", None));
        let c = caller(
            std::iter::empty(),
            &from("\"\" <tel:+4930123;phone-context=x>"),
        );
        assert_eq!((c.number.as_str(), c.name), ("+4930123", None));
    }

    #[test]
    fn escapes_in_names_and_numbers() {
        let c = caller(
            std::iter::empty(),
            &from(r#""J \"Jo\" Rosenberg \\" <sip:%2B1555@x>;tag=1"#),
        );
        assert_eq!(c.name.as_deref(), Some(r#"J "Jo" Rosenberg \"#));
        assert_eq!(c.number, "+1555");
        let c = caller(std::iter::empty(), &from("Bob <sip:bob;npdi@example.com>"));
        assert_eq!((c.number.as_str(), c.name.as_deref()), ("bob", Some("Bob")));
        let c = caller(std::iter::empty(), &from("<sip:a%00b@x>"));
        assert_eq!(c.number, "a%00b");
    }

    #[test]
    fn asserted_identity_wins() {
        let f = from("\"Spoofed\" <sip:999@evil.example>;tag=1");
        let c = caller(
            ["\"Reception\" <sip:+15550001@example.com>"].into_iter(),
            &f,
        );
        assert_eq!(c.number, "+15550001");
        assert_eq!(c.name.as_deref(), Some("Reception"));
        // tel preferred, name taken from the sip entry; From's name not used (other number).
        let c = caller(
            ["\"Front Desk\" <sip:100@example.com>, <tel:+15550100>"].into_iter(),
            &f,
        );
        assert_eq!(c.number, "+15550100");
        assert_eq!(c.name.as_deref(), Some("Front Desk"));
        let c = caller(["<sip:999@x>"].into_iter(), &f);
        assert_eq!(
            (c.number.as_str(), c.name.as_deref()),
            ("999", Some("Spoofed"))
        );
        let c = caller(["<sip:1@x>"].into_iter(), &f);
        assert_eq!(c.name, None);
        // Unparsable PAI falls back to From.
        let c = caller(["garbage <<<"].into_iter(), &f);
        assert_eq!(c.number, "999");
    }
}
