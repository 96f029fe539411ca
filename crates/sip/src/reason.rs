//! Why a CANCEL ended a ringing call: the `Reason` header (RFC 3326) says whether another
//! device of the line answered (`SIP;cause=200`, "Call completed elsewhere", RFC 3326 §2
//! and Kamailio/BroadWorks practice; also Q.850 cause 26, "non-selected user clearing")
//! or the caller gave up.

use deskline_core::calls::CallEndReason;

/// One `Reason` entry: protocol, cause and text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReasonEntry {
    /// `SIP`, `Q.850`, …
    pub protocol: String,
    /// `cause` parameter.
    pub cause: Option<u16>,
    /// `text` parameter, unquoted.
    pub text: Option<String>,
}

/// Parses a Reason header value (a comma-separated list); unparsable entries are skipped.
pub fn parse_reason(value: &str) -> Vec<ReasonEntry> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.trim().is_empty() && out.len() < 16 {
        // Split at the first comma outside quotes.
        let mut in_quotes = false;
        let mut escaped = false;
        let mut cut = rest.len();
        for (i, c) in rest.char_indices() {
            if in_quotes {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_quotes = false;
                }
            } else if c == '"' {
                in_quotes = true;
            } else if c == ',' {
                cut = i;
                break;
            }
        }
        let entry = rest.get(..cut).unwrap_or_default();
        rest = rest.get(cut + 1..).unwrap_or_default();
        let mut parts = entry.split(';');
        let protocol = parts.next().unwrap_or_default().trim().to_owned();
        let mut reason = ReasonEntry {
            protocol,
            ..ReasonEntry::default()
        };
        // `text` may contain ';' inside quotes: re-join everything after `text=`.
        let params = entry.get(reason.protocol.len()..).unwrap_or_default();
        for param in split_params(params) {
            let (name, value) = match param.split_once('=') {
                Some((n, v)) => (n.trim(), v.trim()),
                None => (param.trim(), ""),
            };
            if name.eq_ignore_ascii_case("cause") {
                reason.cause = value.parse().ok();
            } else if name.eq_ignore_ascii_case("text") {
                reason.text = Some(unquote(value));
            }
        }
        out.push(reason);
    }
    out
}

fn split_params(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == ';' {
            out.push(s.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    out.push(s.get(start..).unwrap_or_default());
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn unquote(v: &str) -> String {
    let Some(inner) = v.strip_prefix('"') else {
        return v.to_owned();
    };
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether one entry means "answered on another device".
fn answered_elsewhere(entry: &ReasonEntry) -> bool {
    let text = entry
        .text
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().contains("call completed elsewhere"));
    let sip200 = entry.protocol.eq_ignore_ascii_case("SIP") && entry.cause == Some(200);
    let q850_26 = entry.protocol.eq_ignore_ascii_case("Q.850") && entry.cause == Some(26);
    text || sip200 || q850_26
}

/// Classifies a CANCEL by its Reason header values.
pub fn classify_cancel<'a>(reason_values: impl Iterator<Item = &'a str>) -> CallEndReason {
    for value in reason_values {
        if parse_reason(value).iter().any(answered_elsewhere) {
            return CallEndReason::AnsweredElsewhere;
        }
    }
    CallEndReason::Missed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kamailio_completed_elsewhere() {
        let v = "SIP;cause=200;text=\"Call completed elsewhere\"";
        assert_eq!(
            classify_cancel([v].into_iter()),
            CallEndReason::AnsweredElsewhere
        );
        let e = parse_reason(v);
        assert_eq!(e[0].protocol, "SIP");
        assert_eq!(e[0].cause, Some(200));
        assert_eq!(e[0].text.as_deref(), Some("Call completed elsewhere"));
    }

    #[test]
    fn variants() {
        for v in [
            "SIP ; cause = 200",
            "Q.850;cause=16;text=\"normal\", SIP;cause=200",
            "SIP;cause=487;text=\"call completed elsewhere; really\"",
            "Q.850;cause=26",
        ] {
            assert_eq!(
                classify_cancel([v].into_iter()),
                CallEndReason::AnsweredElsewhere,
                "{v}"
            );
        }
        for v in [
            "Q.850;cause=16;text=\"Normal call clearing\"",
            "SIP;cause=487",
            "",
            ";;;",
            "\"unterminated",
        ] {
            assert_eq!(
                classify_cancel([v].into_iter()),
                CallEndReason::Missed,
                "{v}"
            );
        }
        assert_eq!(classify_cancel(std::iter::empty()), CallEndReason::Missed);
    }

    #[test]
    fn quoted_commas() {
        let e = parse_reason("SIP;cause=600;text=\"Busy, everywhere\", Q.850;cause=17");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].text.as_deref(), Some("Busy, everywhere"));
        assert_eq!(e[1].cause, Some(17));
    }
}
