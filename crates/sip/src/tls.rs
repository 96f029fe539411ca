//! TLS for SIP over TLS: a rustls client configuration per line (the line's own CA
//! certificates when given, else the operating system's roots) and the handshake, with
//! certificate failures turned into a message that says what to check.

use crate::transport::FlowError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Builds a client configuration trusting `ca_pem` (one or more PEM certificates), or the
/// system's roots when `None`.
pub fn client_config(ca_pem: Option<&str>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            let mut added = 0usize;
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert =
                    cert.map_err(|e| format!("the TLS CA certificate is not valid PEM ({e})"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("the TLS CA certificate cannot be used ({e})"))?;
                added += 1;
            }
            if added == 0 {
                return Err("the TLS CA certificate text holds no PEM certificate".into());
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed ({e})"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Performs the TLS handshake, checking the certificate against `host`.
pub async fn connect(
    config: Arc<rustls::ClientConfig>,
    host: &str,
    peer: SocketAddr,
    tcp: TcpStream,
    limit: Duration,
) -> Result<TlsStream<TcpStream>, FlowError> {
    let err = |reason: String| FlowError::Tls {
        host: host.to_owned(),
        peer,
        reason,
    };
    let name = match host.parse::<IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(host.to_owned())
            .map_err(|_| err(format!("'{host}' is not a valid TLS server name")))?,
    };
    let connector = TlsConnector::from(config);
    match tokio::time::timeout(limit, connector.connect(name, tcp)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => {
            let text = e.to_string();
            let hint = if text.contains("certificate") || text.contains("UnknownIssuer") {
                " — the server's certificate is not trusted: check the line's TLS CA certificate and the server name"
            } else {
                ""
            };
            Err(err(format!("{text}{hint}")))
        }
        Err(_) => Err(err("the handshake timed out".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_explained() {
        let Err(e) = client_config(Some("not a certificate")) else {
            panic!("accepted");
        };
        assert!(e.contains("no PEM certificate"), "{e}");
        assert!(client_config(None).is_ok());
    }
}
