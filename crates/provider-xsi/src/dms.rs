//! Device management: fetches a soft client's `config.xml` from its `deviceTypeUrl` with
//! HTTP Digest (RFC 7616, via the `digest_auth` crate), answering a stale nonce once more.
//! The last challenge of each server is kept and answered up front (with the next nonce
//! count), saving a round trip per fetch while the nonce lives. Plain HTTP only to loopback.

use crate::http::{check_scheme, status_error, transport_error};
use deskline_core::ProviderError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use url::Url;

/// The last Digest challenge of each device-management server.
pub type Challenges = Arc<Mutex<HashMap<String, digest_auth::WwwAuthenticateHeader>>>;

fn answer(
    prompt: &mut digest_auth::WwwAuthenticateHeader,
    url: &Url,
    user: &str,
    password: &str,
) -> Result<String, ProviderError> {
    let uri = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let context = digest_auth::AuthContext::new(user, password, uri);
    prompt
        .respond(&context)
        .map(|a| a.to_header_string())
        .map_err(|e| ProviderError::Protocol {
            reason: format!("cannot answer the Digest challenge ({e})"),
        })
}

/// GETs `{type_url}config.xml` with Digest credentials.
pub async fn fetch_config(
    client: &reqwest::Client,
    challenges: &Challenges,
    type_url: &str,
    user: &str,
    password: &str,
) -> Result<String, ProviderError> {
    let base = Url::parse(type_url).map_err(|e| ProviderError::Protocol {
        reason: format!("bad deviceTypeUrl ({e})"),
    })?;
    let url = base
        .join("config.xml")
        .map_err(|e| ProviderError::Protocol {
            reason: e.to_string(),
        })?;
    check_scheme(&url)?;
    let server = format!("{}://{}", url.scheme(), url.authority());
    // Answer the server's last challenge up front; a refusal falls back to a fresh one.
    let mut authorization: Option<String> = match challenges.lock() {
        Ok(mut cache) => cache
            .get_mut(&server)
            .and_then(|prompt| answer(prompt, &url, user, password).ok()),
        Err(_) => None,
    };
    let mut preemptive = authorization.is_some();
    for _ in 0..3 {
        let mut request = client.get(url.clone());
        if let Some(a) = &authorization {
            request = request.header("Authorization", a);
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&url, &e))?;
        let status = response.status();
        if status.as_u16() == 401 {
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or(ProviderError::Unauthorized)?;
            let stale = challenge.to_ascii_lowercase().contains("stale=true");
            if authorization.is_some() && !stale && !preemptive {
                return Err(ProviderError::Forbidden {
                    reason: "the device-management credentials were refused".into(),
                });
            }
            preemptive = false;
            let mut prompt =
                digest_auth::parse(&challenge).map_err(|e| ProviderError::Protocol {
                    reason: format!("bad Digest challenge ({e})"),
                })?;
            authorization = Some(answer(&mut prompt, &url, user, password)?);
            if let Ok(mut cache) = challenges.lock() {
                cache.insert(server.clone(), prompt);
            }
            continue;
        }
        let body = response
            .text()
            .await
            .map_err(|e| transport_error(&url, &e))?;
        if !status.is_success() {
            return Err(status_error(status, &body, "config.xml"));
        }
        return Ok(body);
    }
    Err(ProviderError::Protocol {
        reason: "device management kept refusing the Digest answer".into(),
    })
}
