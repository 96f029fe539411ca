//! Validated value types: user IDs, phone numbers and SIP URIs, extensions, ring counts,
//! speed codes and the short texts the provider limits.
//!
//! Each type can only be built through `parse`/`new`, which applies the same rules the
//! provider enforces, so a bad value is refused with a clear reason before any request is
//! sent. They serialise as plain strings/numbers (for the store and the UI) and
//! deserialising re-validates.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value was refused. `field` names the thing the user typed, `reason` says what is
/// wrong and what would be right, in words a user understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    /// The field the value was meant for (e.g. `forward_to`, `number_of_rings`).
    pub field: String,
    /// What is wrong with it and what is accepted.
    pub reason: String,
}

impl ValidationError {
    /// A refusal of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same refusal, attributed to another field name.
    pub fn for_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

macro_rules! string_newtype_serde {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::str::FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }
    };
}

/// A BroadWorks user ID in e-mail form (`jdoe@example.com`), as typed at sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);
string_newtype_serde!(UserId);

impl UserId {
    /// Accepts `local@domain`: no spaces, no `/`, at most 161 characters.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        let err = |reason: &str| ValidationError::new("user_id", reason);
        if value.is_empty() {
            return Err(err("enter your user ID, for example jdoe@example.com"));
        }
        if value.len() > 161 {
            return Err(err("a user ID has at most 161 characters"));
        }
        if value
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c.is_control())
        {
            return Err(err("a user ID has no spaces or slashes"));
        }
        match value.split_once('@') {
            Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
            {
                Ok(Self(value.to_owned()))
            }
            _ => Err(err(
                "a user ID is in e-mail form, for example jdoe@example.com",
            )),
        }
    }
}

/// Where a call can be sent: a phone number (E.164 with `+`, national digits, with an
/// optional `+CC-` country-code separator), an extension of 2–6 digits, or a `sip:`/`tel:`
/// URI. Separators a user types (spaces, dots, brackets, dashes between digit groups) are
/// removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Destination(String);
string_newtype_serde!(Destination);

impl Destination {
    /// Validates and normalises a destination.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        let err = |reason: &str| ValidationError::new("number", reason);
        if value.is_empty() {
            return Err(err("enter a phone number, an extension or a SIP address"));
        }
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("sip:") || lower.starts_with("sips:") {
            let uri = SipUri::parse(value).map_err(|e| e.for_field("number"))?;
            return Ok(Self(uri.0));
        }
        if let Some(rest) = lower.strip_prefix("tel:") {
            let number = PhoneNumber::parse(rest).map_err(|e| e.for_field("number"))?;
            return Ok(Self(format!("tel:{}", number.0)));
        }
        PhoneNumber::parse(value)
            .map(|n| Self(n.0))
            .map_err(|e| e.for_field("number"))
    }
}

/// A dialable number: `+` and country code optionally followed by `-`, then digits; or
/// plain digits (which also covers extensions). 2 to 23 characters once normalised, the
/// provider's `DN` limit. `*` and `#` are allowed for feature codes after the first digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);
string_newtype_serde!(PhoneNumber);

impl PhoneNumber {
    /// Validates and normalises a phone number.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let err = |reason: &str| ValidationError::new("number", reason);
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(err("enter a phone number"));
        }
        // `+CC-NNN` is the provider's own form: keep the dash right after the country code.
        let (plus, body) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::new();
        let mut country_dash = None;
        for (index, c) in body.chars().enumerate() {
            match c {
                '0'..='9' | '*' | '#' => digits.push(c),
                ' ' | '.' | '(' | ')' => {}
                '-' => {
                    if plus && country_dash.is_none() && (1..=3).contains(&digits.len()) {
                        country_dash = Some(digits.len());
                    }
                }
                _ => {
                    let _ = index;
                    return Err(err(&format!(
                        "'{trimmed}' is not a phone number: only digits, an optional leading +, spaces, dashes, dots and brackets are allowed"
                    )));
                }
            }
        }
        if digits.starts_with(['*', '#']) && !plus {
            return Err(err("a phone number starts with a digit or +"));
        }
        if digits.len() < 2 {
            return Err(err("a phone number or extension has at least 2 digits"));
        }
        let mut normalised = String::with_capacity(digits.len() + 2);
        if plus {
            normalised.push('+');
        }
        match country_dash {
            Some(at) if at < digits.len() => {
                normalised.push_str(&digits[..at]);
                normalised.push('-');
                normalised.push_str(&digits[at..]);
            }
            _ => normalised.push_str(&digits),
        }
        if normalised.len() > 23 {
            return Err(err("a phone number has at most 23 characters"));
        }
        Ok(Self(normalised))
    }
}

/// A `sip:` or `sips:` URI with a user and a host (`sip:alice@example.com:5060`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SipUri(String);
string_newtype_serde!(SipUri);

impl SipUri {
    /// Validates a SIP URI of the form `sip:user@host[:port][;params]`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        let err = |reason: &str| ValidationError::new("sip_uri", reason);
        let lower = value.to_ascii_lowercase();
        let rest = if lower.starts_with("sips:") {
            &value[5..]
        } else if lower.starts_with("sip:") {
            &value[4..]
        } else {
            return Err(err(
                "a SIP address starts with sip:, e.g. sip:alice@example.com",
            ));
        };
        if value.len() > 161 {
            return Err(err("a SIP address has at most 161 characters"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("a SIP address has no spaces"));
        }
        let Some((user, host)) = rest.split_once('@') else {
            return Err(err(
                "a SIP address needs a user and a host, e.g. sip:alice@example.com",
            ));
        };
        let host_only = host.split([';', '?']).next().unwrap_or_default();
        let host_name = if let Some(v6) = host_only.strip_prefix('[') {
            v6.split(']').next().unwrap_or_default()
        } else {
            host_only.split(':').next().unwrap_or_default()
        };
        if user.is_empty() || host_name.is_empty() {
            return Err(err(
                "a SIP address needs a user and a host, e.g. sip:alice@example.com",
            ));
        }
        let port = match host_only.strip_prefix('[') {
            Some(v6) => v6.split_once("]:").map(|(_, p)| p),
            None => host_only.split_once(':').map(|(_, p)| p),
        };
        if port.is_some_and(|p| p.parse::<u16>().map(|p| p == 0).unwrap_or(true)) {
            return Err(err("the port of a SIP address is a number from 1 to 65535"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The part between `sip:` and `@`.
    pub fn user(&self) -> &str {
        let rest = self.0.split_once(':').map(|(_, r)| r).unwrap_or_default();
        rest.split_once('@').map(|(u, _)| u).unwrap_or_default()
    }

    /// Host and optional port (`example.com:5060`), without parameters.
    pub fn host_port(&self) -> &str {
        let rest = self.0.split_once('@').map(|(_, r)| r).unwrap_or_default();
        rest.split([';', '?']).next().unwrap_or_default()
    }
}

/// An extension: 2 to 6 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Extension(String);
string_newtype_serde!(Extension);

impl Extension {
    /// Validates an extension.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        if (2..=6).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new(
                "extension",
                "an extension has 2 to 6 digits",
            ))
        }
    }
}

/// How many times a phone rings before something happens: 0 or 2 to 20 (BroadWorks does not
/// accept 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RingCount(u8);

impl RingCount {
    /// Validates a ring count.
    pub fn new(value: u32) -> Result<Self, ValidationError> {
        match value {
            0 | 2..=20 => Ok(Self(value as u8)),
            1 => Err(ValidationError::new(
                "number_of_rings",
                "1 ring is not allowed: choose 0 or 2 to 20",
            )),
            _ => Err(ValidationError::new(
                "number_of_rings",
                "the number of rings is 0 or 2 to 20",
            )),
        }
    }

    /// The count.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for RingCount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RingCount::new(u32::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Default for RingCount {
    fn default() -> Self {
        Self(3)
    }
}

/// A Speed Dial 8 code: 2 to 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SpeedCode8(u8);

impl SpeedCode8 {
    /// Validates a Speed Dial 8 code.
    pub fn new(value: u32) -> Result<Self, ValidationError> {
        if (2..=9).contains(&value) {
            Ok(Self(value as u8))
        } else {
            Err(ValidationError::new(
                "speed_code",
                "a Speed Dial 8 code is a digit from 2 to 9",
            ))
        }
    }
    /// The code.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for SpeedCode8 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SpeedCode8::new(u32::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A Speed Dial 100 code: 0 to 99.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SpeedCode100(u8);

impl SpeedCode100 {
    /// Validates a Speed Dial 100 code.
    pub fn new(value: u32) -> Result<Self, ValidationError> {
        if value <= 99 {
            Ok(Self(value as u8))
        } else {
            Err(ValidationError::new(
                "speed_code",
                "a Speed Dial 100 code is a number from 0 to 99",
            ))
        }
    }
    /// The code.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for SpeedCode100 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SpeedCode100::new(u32::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A bounded, non-empty, single-line text (descriptions, directory names).
fn bounded_text(field: &str, raw: &str, max: usize) -> Result<String, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "this cannot be empty"));
    }
    if value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "no line breaks or control characters",
        ));
    }
    Ok(value.to_owned())
}

/// A description (speed dial, Anywhere location): 1 to 80 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Description(String);
string_newtype_serde!(Description);

impl Description {
    /// Validates a description.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        bounded_text("description", raw, 80).map(Self)
    }
}

/// A personal directory entry's name: 1 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirectoryName(String);
string_newtype_serde!(DirectoryName);

impl DirectoryName {
    /// Validates a personal directory name.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        bounded_text("name", raw, 50).map(Self)
    }
}

/// An e-mail address (Call Notify), loosely checked: `local@domain.tld`, at most 80
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);
string_newtype_serde!(EmailAddress);

impl EmailAddress {
    /// Validates an e-mail address.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = bounded_text("email", raw, 80)?;
        let ok = value
            .split_once('@')
            .map(|(l, d)| {
                !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
            })
            .unwrap_or(false)
            && !value.contains(char::is_whitespace);
        if ok {
            Ok(Self(value))
        } else {
            Err(ValidationError::new(
                "email",
                "an e-mail address looks like name@example.com",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids() {
        assert!(UserId::parse("jdoe@example.com").is_ok());
        assert_eq!(
            UserId::parse("  jdoe@example.com ").map(|u| u.0),
            Ok("jdoe@example.com".to_owned())
        );
        for bad in ["", "jdoe", "@x", "a@", "a b@x", "a/b@x", "a@b@c"] {
            assert!(UserId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phone_numbers_normalise_and_refuse() {
        let ok = |s: &str| PhoneNumber::parse(s).map(|p| p.0);
        assert_eq!(ok("+1-2145551234"), Ok("+1-2145551234".into()));
        assert_eq!(ok("+1 (214) 555-1234"), Ok("+12145551234".into()));
        assert_eq!(ok("+1-214-555-1234"), Ok("+1-2145551234".into()));
        assert_eq!(ok("214.555.1234"), Ok("2145551234".into()));
        assert_eq!(ok("1001"), Ok("1001".into()));
        assert_eq!(ok("+442071234567"), Ok("+442071234567".into()));
        for bad in [
            "",
            "1",
            "abc",
            "12a4",
            "+",
            "123456789012345678901234",
            "*12",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn destinations() {
        assert_eq!(
            Destination::parse("sip:bob@example.com").map(|d| d.0),
            Ok("sip:bob@example.com".into())
        );
        assert_eq!(
            Destination::parse("tel:+1-214 555 1234").map(|d| d.0),
            Ok("tel:+1-2145551234".into())
        );
        assert!(Destination::parse("sip:nohost").is_err());
        assert!(Destination::parse("sip:a@b:99999").is_err());
        assert!(Destination::parse("mailto:x@y").is_err());
    }

    #[test]
    fn sip_uri_parts() {
        let uri = SipUri::parse("sip:alice@example.com:5070;transport=tcp")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(uri.user(), "alice");
        assert_eq!(uri.host_port(), "example.com:5070");
        assert!(SipUri::parse("sip:alice@[::1]:5060").is_ok());
    }

    #[test]
    fn ring_counts_exclude_one() {
        assert!(RingCount::new(0).is_ok());
        assert!(RingCount::new(1).is_err());
        assert!(RingCount::new(2).is_ok());
        assert!(RingCount::new(20).is_ok());
        assert!(RingCount::new(21).is_err());
        assert!(serde_json::from_str::<RingCount>("1").is_err());
    }

    #[test]
    fn speed_codes_and_texts() {
        assert!(SpeedCode8::new(1).is_err());
        assert!(SpeedCode8::new(9).is_ok());
        assert!(SpeedCode100::new(99).is_ok());
        assert!(SpeedCode100::new(100).is_err());
        assert!(Description::parse(&"x".repeat(81)).is_err());
        assert!(DirectoryName::parse(&"é".repeat(50)).is_ok());
        assert!(DirectoryName::parse("a\nb").is_err());
        assert!(Extension::parse("1").is_err());
        assert!(Extension::parse("123456").is_ok());
        assert!(EmailAddress::parse("me@example.com").is_ok());
        assert!(EmailAddress::parse("me@example").is_err());
    }
}
