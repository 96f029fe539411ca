//! Device management: `GET {deviceTypeUrl}config.xml` behind HTTP Digest (RFC 7616, MD5,
//! qop=auth, realm "BroadWorks") with the device's device-management credentials; nonces
//! expire after five minutes (`stale=true`). Renders the soft client's SIP settings.

use crate::Shared;
use crate::model::Device;
use crate::xml::escape;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use md5::{Digest, Md5};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const REALM: &str = "BroadWorks";
const NONCE_LIFETIME: Duration = Duration::from_secs(300);

fn md5_hex(text: &str) -> String {
    let digest = Md5::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A nonce carrying its issue time, signed with the server's secret.
fn nonce(secret: &str, issued: u64) -> String {
    format!(
        "{issued:x}-{}",
        &md5_hex(&format!("{issued}:{secret}"))[..16]
    )
}

fn nonce_state(secret: &str, nonce_text: &str) -> Option<bool> {
    let (issued, _) = nonce_text.split_once('-')?;
    let issued = u64::from_str_radix(issued, 16).ok()?;
    if nonce(secret, issued) != nonce_text {
        return None;
    }
    Some(now().saturating_sub(issued) <= NONCE_LIFETIME.as_secs())
}

fn challenge(shared: &Shared, stale: bool) -> Response {
    let mut r = StatusCode::UNAUTHORIZED.into_response();
    let value = format!(
        "Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{}\", opaque=\"{}\"{}",
        nonce(&shared.secret, now()),
        &md5_hex(&shared.secret)[..8],
        if stale { ", stale=true" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// Parses `Digest k=v, k="v", …`.
pub fn params(value: &str) -> Option<Vec<(String, String)>> {
    let rest = value.trim().strip_prefix("Digest")?.trim();
    let mut out = Vec::new();
    let bytes = rest;
    let mut start = 0;
    while start < bytes.len() {
        let eq = bytes[start..].find('=')? + start;
        let key = bytes[start..eq]
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let mut pos = eq + 1;
        let val;
        if bytes[pos..].starts_with('"') {
            let mut v = String::new();
            pos += 1;
            let mut escaped = false;
            let mut end = None;
            for (i, c) in bytes[pos..].char_indices() {
                if escaped {
                    v.push(c);
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    end = Some(pos + i + 1);
                    break;
                } else {
                    v.push(c);
                }
            }
            pos = end?;
            val = v;
        } else {
            let end = bytes[pos..]
                .find(',')
                .map(|e| e + pos)
                .unwrap_or(bytes.len());
            val = bytes[pos..end].trim().to_owned();
            pos = end;
        }
        out.push((key, val));
        start = bytes[pos..]
            .find(',')
            .map(|c| c + pos + 1)
            .unwrap_or(bytes.len());
    }
    Some(out)
}

/// Serves a `/dms/…` request.
pub async fn serve(shared: &Shared, method: &Method, path: &str, headers: &HeaderMap) -> Response {
    if *method != Method::GET || !path.to_ascii_lowercase().ends_with("/config.xml") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return challenge(shared, false);
    };
    let Some(p) = params(auth) else {
        return challenge(shared, false);
    };
    let get = |k: &str| {
        p.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let (user, nonce_text, uri, response) =
        (get("username"), get("nonce"), get("uri"), get("response"));
    let state = shared.state.lock().await;
    let Some(device) = state
        .users
        .iter()
        .flat_map(|u| u.devices.iter())
        .find(|d| d.dm_user.as_deref() == Some(user))
        .cloned()
    else {
        return challenge(shared, false);
    };
    drop(state);
    let expected_path = format!(
        "/dms/{}/config.xml",
        device.dms_path.clone().unwrap_or_default()
    );
    if !path.eq_ignore_ascii_case(&expected_path) || uri.split('?').next() != Some(path) {
        return challenge(shared, false);
    }
    let ha1 = md5_hex(&format!(
        "{user}:{REALM}:{}",
        device.dm_password.clone().unwrap_or_default()
    ));
    let ha2 = md5_hex(&format!("GET:{uri}"));
    let expected = if get("qop") == "auth" {
        md5_hex(&format!(
            "{ha1}:{nonce_text}:{}:{}:auth:{ha2}",
            get("nc"),
            get("cnonce")
        ))
    } else {
        md5_hex(&format!("{ha1}:{nonce_text}:{ha2}"))
    };
    if expected != response {
        return challenge(shared, false);
    }
    match nonce_state(&shared.secret, nonce_text) {
        Some(true) => {}
        Some(false) => return challenge(shared, true),
        None => return challenge(shared, false),
    }
    let mut r = (StatusCode::OK, render(&device)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=UTF-8"),
    );
    r
}

/// The rendered config.xml of a soft client.
pub fn render(device: &Device) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<config name=\"BroadSoft BroadTouch Business Communicator PC Config\" version=\"1\"><protocols><sip>",
    );
    if let Some(sip) = &device.sip {
        if let Some(host) = &sip.proxy_host {
            x.push_str(&format!(
                "<proxy address=\"{}\" port=\"{}\"/>",
                escape(host),
                sip.proxy_port.unwrap_or(5060)
            ));
        }
        x.push_str(&format!(
            "<transport>{}</transport><lines><line>",
            escape(&sip.transport)
        ));
        let label = sip.label.clone().unwrap_or_else(|| device.name.clone());
        x.push_str(&format!(
            "<label>{}</label><name>{}</name>",
            escape(&label),
            escape(&label)
        ));
        x.push_str(&format!("<domain>{}</domain>", escape(&sip.domain)));
        if let Some(host) = &sip.registrar_host {
            x.push_str(&format!(
                "<registrar address=\"{}\" port=\"{}\"/>",
                escape(host),
                sip.registrar_port.unwrap_or(5060)
            ));
        }
        x.push_str(&format!(
            "<credentials><username>{}</username><auth-username>{}</auth-username><password>{}</password><realm>{}</realm></credentials>",
            escape(&sip.username),
            escape(&sip.auth_user),
            escape(&sip.password),
            escape(sip.realm.as_deref().unwrap_or(&sip.domain))
        ));
        x.push_str("</line></lines>");
    }
    x.push_str("</sip></protocols></config>");
    x
}

#[cfg(test)]
mod tests {
    #[test]
    fn digest_params() {
        let p = super::params(r#"Digest username="a b", realm="BroadWorks", nonce="1-x", uri="/dms/bc/pc/config.xml", qop=auth, nc=00000001, cnonce="c", response="r""#).unwrap_or_default();
        assert_eq!(p[0], ("username".into(), "a b".into()));
        assert!(p.iter().any(|(k, v)| k == "qop" && v == "auth"));
        assert!(p.iter().any(|(k, v)| k == "response" && v == "r"));
        assert!(super::params("Basic x").is_none());
    }
}
