//! Sending Xsi requests: Basic auth on every request, redirects followed by hand with the
//! credentials sent again (never from https to http), a timeout on every request, the
//! response decoded by its charset, errors classified for the core (`ErrorInfo` parsed),
//! and retries with exponential backoff and jitter for idempotent requests only.
//! Authorization headers are never logged.

use crate::wire;
use backon::{ExponentialBuilder, Retryable};
use deskline_core::ProviderError;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use url::Url;

/// A decoded answer.
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// `Location` header, if any.
    pub location: Option<String>,
    /// Body, decoded by the charset of the answer.
    pub body: String,
}

/// Whether `url` may be used: https anywhere, http only to loopback.
pub fn check_scheme(url: &Url) -> Result<(), ProviderError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(ProviderError::BadAddress {
            reason: format!(
                "plain http:// is only used to reach this computer; use https://{} instead",
                url.host_str().unwrap_or("the server")
            ),
        }),
        other => Err(ProviderError::BadAddress {
            reason: format!("'{other}://' addresses are not supported; use https://"),
        }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Classifies a transport error.
pub fn transport_error(url: &Url, e: &reqwest::Error) -> ProviderError {
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        chain.push_str(&s.to_string());
        chain.push_str(" | ");
        source = s.source();
    }
    let lower = chain.to_lowercase();
    let host = url.host_str().unwrap_or("").to_owned();
    if e.is_timeout() {
        ProviderError::Unavailable {
            reason: "the request timed out".into(),
        }
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        ProviderError::UnknownServer { host }
    } else if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("invalid peer")
    {
        let reason = if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
            "the certificate was issued by an authority this computer does not trust".to_owned()
        } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
            "the certificate is for another server name".to_owned()
        } else {
            "the certificate could not be verified".to_owned()
        };
        ProviderError::Tls { reason }
    } else if e.is_connect() {
        ProviderError::Unavailable {
            reason: format!("could not connect to {host}"),
        }
    } else {
        ProviderError::Unavailable {
            reason: "the connection failed".into(),
        }
    }
}

/// Turns a non-success answer into the error the core sees.
pub fn status_error(status: StatusCode, body: &str, what: &str) -> ProviderError {
    let info = wire::error_info(body);
    let reason = info
        .as_ref()
        .map(|i| i.text.clone())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    match status.as_u16() {
        401 => ProviderError::Unauthorized,
        403 => ProviderError::Forbidden { reason },
        404 => ProviderError::NotFound {
            what: what.to_owned(),
        },
        409 => ProviderError::Conflict { reason },
        400 | 422 => ProviderError::Invalid {
            field: None,
            reason,
            code: info.and_then(|i| i.code),
        },
        408 | 429 | 500..=599 => ProviderError::Unavailable {
            reason: format!("the provider answered {status}: {reason}"),
        },
        _ => ProviderError::Protocol {
            reason: format!("unexpected answer {status}"),
        },
    }
}

/// What to send.
#[derive(Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Where.
    pub url: Url,
    /// XML body.
    pub body: Option<String>,
}

/// Sends requests for one signed-in user.
#[derive(Clone)]
pub struct Sender {
    /// The shared client (connection pool).
    pub client: reqwest::Client,
    /// User ID.
    pub user: String,
    /// Portal password.
    pub password: std::sync::Arc<SecretString>,
    /// Retries for idempotent requests.
    pub retries: usize,
}

impl Sender {
    /// Sends once, following up to three redirects (credentials sent again).
    pub async fn send_once(&self, request: &Request) -> Result<Answer, ProviderError> {
        let mut url = request.url.clone();
        for _ in 0..4 {
            let mut builder = self
                .client
                .request(request.method.clone(), url.clone())
                .basic_auth(&self.user, Some(self.password.expose_secret()));
            if let Some(body) = &request.body {
                builder = builder
                    .header("Content-Type", "application/xml; charset=UTF-8")
                    .body(body.clone());
            }
            let response = builder
                .send()
                .await
                .map_err(|e| transport_error(&url, &e))?;
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if status.is_redirection() {
                let target = location
                    .as_deref()
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| ProviderError::Protocol {
                        reason: "a redirect without a valid Location".into(),
                    })?;
                if url.scheme() == "https" && target.scheme() != "https" {
                    return Err(ProviderError::BadAddress {
                        reason: "the provider redirected from https to plain http; refused".into(),
                    });
                }
                check_scheme(&target)?;
                tracing::debug!(from = %url, to = %target, "following the XSP's redirect");
                url = target;
                continue;
            }
            let body = response
                .text()
                .await
                .map_err(|e| transport_error(&url, &e))?;
            return Ok(Answer {
                status,
                location,
                body,
            });
        }
        Err(ProviderError::Protocol {
            reason: "too many redirects".into(),
        })
    }

    /// Sends, retrying idempotent requests (GET, PUT, DELETE) on transient failures with
    /// exponential backoff and jitter.
    pub async fn send(&self, request: Request) -> Result<Answer, ProviderError> {
        let idempotent = matches!(request.method, Method::GET | Method::PUT | Method::DELETE);
        let attempt = || async {
            let answer = self.send_once(&request).await?;
            if matches!(answer.status.as_u16(), 429 | 500..=599) {
                return Err(status_error(
                    answer.status,
                    &answer.body,
                    request.url.path(),
                ));
            }
            Ok(answer)
        };
        if !idempotent || self.retries == 0 {
            return attempt().await;
        }
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_delay(Duration::from_secs(2))
                    .with_max_times(self.retries)
                    .with_jitter(),
            )
            .when(ProviderError::is_retryable)
            .notify(|e, after| tracing::debug!(error = %e, ?after, "retrying"))
            .await
    }

    /// Sends and expects a 2xx answer.
    pub async fn expect_ok(
        &self,
        method: Method,
        url: Url,
        body: Option<String>,
        what: &str,
    ) -> Result<Answer, ProviderError> {
        let answer = self.send(Request { method, url, body }).await?;
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(status_error(answer.status, &answer.body, what))
        }
    }
}
