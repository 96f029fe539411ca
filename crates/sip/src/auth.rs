//! Digest authentication of our own requests (RFC 3261 §22 with RFC 7616 / RFC 8760
//! algorithms): parsing `WWW-Authenticate` / `Proxy-Authenticate` challenges, computing
//! responses for MD5, SHA-256 and SHA-512/256 (and their `-sess` variants), qop `auth`
//! (preferred) and `auth-int`, nonce counts and client nonces.
//!
//! Written here rather than taken from a crate: rsipstack only accepts the spelling
//! `SHA256` (RFC 7616 says `SHA-256`), and `digest_auth` 0.3 indexes strings by character
//! count and panics on non-ASCII challenge text — input from the network must never do
//! that. The parser below is total and fuzzed (`crates/sip/fuzz`).

use md5::Md5;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256, Sha512_256};

/// A digest hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `MD5` (the default when a challenge names none).
    Md5,
    /// `SHA-256`.
    Sha256,
    /// `SHA-512-256`.
    Sha512_256,
}

impl Algorithm {
    fn hash_hex(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(data)),
            Algorithm::Sha256 => hex(&Sha256::digest(data)),
            Algorithm::Sha512_256 => hex(&Sha512_256::digest(data)),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha512_256 => "SHA-512-256",
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Quality of protection chosen for a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qop {
    /// `qop=auth`.
    Auth,
    /// `qop=auth-int` (integrity over the — for REGISTER empty — body).
    AuthInt,
}

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// Not a Digest challenge, or missing realm/nonce, or broken syntax.
    #[error("malformed authentication challenge ({0})")]
    Malformed(&'static str),
    /// An algorithm or qop this agent does not implement.
    #[error("the registrar requires digest {0}, which Deskline does not support")]
    Unsupported(String),
}

/// A parsed Digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `opaque`, echoed back.
    pub opaque: Option<String>,
    /// The hash algorithm.
    pub algorithm: Algorithm,
    /// Whether `-sess` was asked for.
    pub session: bool,
    /// The chosen qop, when the challenge offered one we implement.
    pub qop: Option<Qop>,
    /// `stale=true`: the nonce expired, the credentials were right.
    pub stale: bool,
}

/// Splits `auth-param` lists (`a=b, c="d, e"`) into pairs; total.
fn auth_params(input: &str) -> Result<Vec<(String, String)>, ChallengeError> {
    let mut out = Vec::new();
    let mut chars = input.char_indices().peekable();
    loop {
        // skip separators
        while let Some(&(_, c)) = chars.peek() {
            if c == ',' || c.is_whitespace() {
                chars.next();
            } else {
                break;
            }
        }
        let Some(&(start, _)) = chars.peek() else {
            return Ok(out);
        };
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if crate::addr::is_token_char(c) {
                end = i + c.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let name = input.get(start..end).unwrap_or_default();
        if name.is_empty() {
            return Err(ChallengeError::Malformed("expected a parameter name"));
        }
        while chars.peek().is_some_and(|&(_, c)| c == ' ' || c == '\t') {
            chars.next();
        }
        if chars.next().map(|(_, c)| c) != Some('=') {
            return Err(ChallengeError::Malformed(
                "expected '=' after a parameter name",
            ));
        }
        while chars.peek().is_some_and(|&(_, c)| c == ' ' || c == '\t') {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek().is_some_and(|&(_, c)| c == '"') {
            chars.next();
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, escaped)) => value.push(escaped),
                        None => break,
                    },
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(ChallengeError::Malformed("unterminated quoted value"));
            }
        } else {
            while let Some(&(_, c)) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((name.to_ascii_lowercase(), value));
        if out.len() > 64 {
            return Err(ChallengeError::Malformed("too many parameters"));
        }
    }
}

/// Parses one `WWW-Authenticate` / `Proxy-Authenticate` value.
pub fn parse_challenge(value: &str) -> Result<Challenge, ChallengeError> {
    let value = value.trim();
    let (scheme, rest) = match value.split_once(char::is_whitespace) {
        Some((s, r)) => (s, r),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(ChallengeError::Unsupported(format!(
            "authentication scheme '{}'",
            scheme.chars().take(32).collect::<String>()
        )));
    }
    let params = auth_params(rest)?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let realm = get("realm").ok_or(ChallengeError::Malformed("no realm"))?;
    let nonce = get("nonce").ok_or(ChallengeError::Malformed("no nonce"))?;
    if nonce.is_empty() {
        return Err(ChallengeError::Malformed("empty nonce"));
    }
    let (algorithm, session) = match get("algorithm").map(str::to_ascii_uppercase).as_deref() {
        None | Some("MD5") => (Algorithm::Md5, false),
        Some("MD5-SESS") => (Algorithm::Md5, true),
        // RFC 7616 spells it SHA-256; some servers write SHA256.
        Some("SHA-256" | "SHA256") => (Algorithm::Sha256, false),
        Some("SHA-256-SESS" | "SHA256-SESS") => (Algorithm::Sha256, true),
        Some("SHA-512-256" | "SHA512-256") => (Algorithm::Sha512_256, false),
        Some("SHA-512-256-SESS" | "SHA512-256-SESS") => (Algorithm::Sha512_256, true),
        Some(other) => {
            return Err(ChallengeError::Unsupported(format!(
                "algorithm '{}'",
                other.chars().take(32).collect::<String>()
            )));
        }
    };
    let qop = match get("qop") {
        None => None,
        Some(list) => {
            let offered: Vec<String> = list
                .split(',')
                .map(|q| q.trim().to_ascii_lowercase())
                .collect();
            if offered.iter().any(|q| q == "auth") {
                Some(Qop::Auth)
            } else if offered.iter().any(|q| q == "auth-int") {
                Some(Qop::AuthInt)
            } else {
                return Err(ChallengeError::Unsupported(format!(
                    "qop '{}'",
                    list.chars().take(32).collect::<String>()
                )));
            }
        }
    };
    Ok(Challenge {
        realm: realm.to_owned(),
        nonce: nonce.to_owned(),
        opaque: get("opaque").map(str::to_owned),
        algorithm,
        session,
        qop,
        stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
    })
}

/// Picks the challenge to answer among several (RFC 8760 §2.4: the first one whose
/// algorithm we support, servers list their preferred first).
pub fn choose_challenge<'a>(
    values: impl Iterator<Item = &'a str>,
) -> Result<Challenge, ChallengeError> {
    let mut first_error = None;
    for value in values {
        match parse_challenge(value) {
            Ok(c) => return Ok(c),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(ChallengeError::Malformed("no challenge in the response")))
}

/// The inputs of one response computation.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// SIP method (`REGISTER`).
    pub method: &'a str,
    /// The digest-uri: the Request-URI.
    pub uri: &'a str,
    /// The request body (empty for REGISTER), for `auth-int`.
    pub body: &'a [u8],
}

/// Computes the `response` value.
pub fn compute_response(
    challenge: &Challenge,
    user: &str,
    password: &SecretString,
    request: Request<'_>,
    nc: u32,
    cnonce: &str,
) -> String {
    let h = |data: &str| challenge.algorithm.hash_hex(data.as_bytes());
    let mut ha1 = h(&format!(
        "{user}:{}:{}",
        challenge.realm,
        password.expose_secret()
    ));
    if challenge.session {
        ha1 = h(&format!("{ha1}:{}:{cnonce}", challenge.nonce));
    }
    let ha2 = match challenge.qop {
        Some(Qop::AuthInt) => h(&format!(
            "{}:{}:{}",
            request.method,
            request.uri,
            challenge.algorithm.hash_hex(request.body)
        )),
        _ => h(&format!("{}:{}", request.method, request.uri)),
    };
    match challenge.qop {
        Some(qop) => {
            let qop = match qop {
                Qop::Auth => "auth",
                Qop::AuthInt => "auth-int",
            };
            h(&format!(
                "{ha1}:{}:{nc:08x}:{cnonce}:{qop}:{ha2}",
                challenge.nonce
            ))
        }
        None => h(&format!("{ha1}:{}:{ha2}", challenge.nonce)),
    }
}

/// Answers one challenge over several requests: keeps the nonce count and client nonce.
#[derive(Debug, Clone)]
pub struct DigestSession {
    challenge: Challenge,
    nc: u32,
    cnonce: String,
}

impl DigestSession {
    /// Starts answering a challenge.
    pub fn new(challenge: Challenge) -> Self {
        Self {
            challenge,
            nc: 0,
            cnonce: random_cnonce(),
        }
    }

    /// The challenge being answered.
    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// The header value (`Digest username=…`) for the next request; bumps the nonce count.
    pub fn authorization(
        &mut self,
        user: &str,
        password: &SecretString,
        request: Request<'_>,
    ) -> String {
        self.nc = self.nc.wrapping_add(1);
        let c = &self.challenge;
        let response = compute_response(c, user, password, request, self.nc, &self.cnonce);
        let q = crate::config::escape_quoted;
        let mut out = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm={}{}",
            q(user),
            q(&c.realm),
            q(&c.nonce),
            q(request.uri),
            c.algorithm.name(),
            if c.session { "-sess" } else { "" },
        );
        if let Some(opaque) = &c.opaque {
            out.push_str(&format!(", opaque=\"{}\"", q(opaque)));
        }
        if let Some(qop) = c.qop {
            let qop = match qop {
                Qop::Auth => "auth",
                Qop::AuthInt => "auth-int",
            };
            out.push_str(&format!(
                ", qop={qop}, nc={:08x}, cnonce=\"{}\"",
                self.nc, self.cnonce
            ));
        }
        out
    }
}

fn random_cnonce() -> String {
    use rand::Rng;
    let bytes: [u8; 12] = rand::rng().random();
    hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7616 §3.9.1.
    const RFC7616_MD5: &str = r#"Digest
        realm="http-auth@example.org",
        qop="auth, auth-int",
        algorithm=MD5,
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

    fn rfc_request() -> Request<'static> {
        Request {
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
        }
    }

    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    #[test]
    fn rfc7616_md5_example() {
        let c = parse_challenge(RFC7616_MD5).unwrap();
        assert_eq!(c.algorithm, Algorithm::Md5);
        assert_eq!(c.qop, Some(Qop::Auth));
        let r = compute_response(
            &c,
            "Mufasa",
            &SecretString::from("Circle of Life"),
            rfc_request(),
            1,
            CNONCE,
        );
        assert_eq!(r, "8ca523f5e9506fed4657c9700eebdbec");
    }

    #[test]
    fn rfc7616_sha256_example() {
        let c =
            parse_challenge(&RFC7616_MD5.replace("algorithm=MD5", "algorithm=SHA-256")).unwrap();
        assert_eq!(c.algorithm, Algorithm::Sha256);
        let r = compute_response(
            &c,
            "Mufasa",
            &SecretString::from("Circle of Life"),
            rfc_request(),
            1,
            CNONCE,
        );
        assert_eq!(
            r,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn rfc2617_style_without_qop() {
        // RFC 2617 §3.5 example, computed without qop (RFC 2069 compatibility form).
        let c = parse_challenge(
            r#"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#,
        )
        .unwrap();
        assert_eq!(c.qop, None);
        let r = compute_response(
            &c,
            "Mufasa",
            &SecretString::from("Circle Of Life"),
            Request {
                method: "GET",
                uri: "/dir/index.html",
                body: b"",
            },
            1,
            "x",
        );
        // H(H(A1):nonce:H(A2)) with MD5, independently computed with md5sum.
        assert_eq!(r, "670fd8c2df070c60b045671b8b24ff02");
    }

    #[test]
    fn header_value_and_counting() {
        let c = parse_challenge(
            r#"Digest realm="kam", nonce="abc", qop="auth", algorithm=SHA-256, opaque="o""#,
        )
        .unwrap();
        let mut s = DigestSession::new(c);
        let req = Request {
            method: "REGISTER",
            uri: "sip:127.0.0.1:5070",
            body: b"",
        };
        let first = s.authorization("alice", &SecretString::from("pw"), req);
        assert!(first.starts_with("Digest username=\"alice\", realm=\"kam\", nonce=\"abc\", uri=\"sip:127.0.0.1:5070\", response=\""));
        assert!(first.contains("algorithm=SHA-256"));
        assert!(first.contains("opaque=\"o\""));
        assert!(first.contains("qop=auth, nc=00000001, cnonce=\""));
        let second = s.authorization("alice", &SecretString::from("pw"), req);
        assert!(second.contains("nc=00000002"));
        assert!(!first.contains("pw\""));
    }

    #[test]
    fn stale_and_unsupported() {
        let c = parse_challenge(r#"Digest realm="r", nonce="n", stale=TRUE"#).unwrap();
        assert!(c.stale);
        assert!(matches!(
            parse_challenge("Basic realm=\"x\""),
            Err(ChallengeError::Unsupported(_))
        ));
        assert!(matches!(
            parse_challenge("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-1"),
            Err(ChallengeError::Unsupported(_))
        ));
        assert!(matches!(
            parse_challenge("Digest nonce=\"n\""),
            Err(ChallengeError::Malformed(_))
        ));
        assert!(matches!(
            parse_challenge("Digest realm=\"x"),
            Err(ChallengeError::Malformed(_))
        ));
        let chosen = choose_challenge(
            [
                "Digest realm=\"x\", nonce=\"n\", algorithm=SHA-1",
                "Digest realm=\"x\", nonce=\"m\"",
            ]
            .into_iter(),
        )
        .unwrap();
        assert_eq!(chosen.nonce, "m");
    }

    #[test]
    fn multibyte_never_panics() {
        for s in [
            "Digest a\u{e9}=1",
            "Digest \u{e9}",
            "Digest realm=\"\u{e9}\\",
            "\u{e9}\u{e9}",
            "Digest realm=\u{e9},nonce=\u{e9}",
        ] {
            let _ = parse_challenge(s);
        }
    }
}
