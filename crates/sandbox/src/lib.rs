//! A local BroadWorks XSP for tests and the demo: [`Sandbox`] serves Xsi-Actions
//! (`/com.broadsoft.xsi-actions/v2.0/…`, [`routes`] and [`services`]) and device management
//! (`/dms/…/config.xml` behind HTTP Digest, [`dms`]) on loopback, with the same paths,
//! XML, status codes and `ErrorInfo` bodies as a real XSP, state in SQLite ([`persist`]),
//! seeded from a TOML file ([`model`]). Test modes: cluster redirect, ISO-8859-1 answers,
//! TLS with a generated CA, and fault injection switchable at run time ([`faults`]).
//!
//! Architecture invariant: independent of Deskline's client code — it shares no wire types
//! with the Xsi adapter, so contract tests compare two separate readings of the protocol.

pub mod dms;
pub mod errors;
pub mod faults;
pub mod model;
pub mod persist;
pub mod routes;
pub mod services;
pub mod validate;
pub mod xml;

pub use faults::{FaultControl, Faults};

use faults::KillSwitch;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, watch};
use tower::ServiceExt;
use url::Url;

/// The charset of profile, service and directory answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    /// UTF-8.
    #[default]
    Utf8,
    /// ISO-8859-1 (as XSPs answer for users with Western European locales).
    Iso8859_1,
}

/// Where the initial state comes from.
#[derive(Debug, Clone, Default)]
pub enum Seed {
    /// The demo seed (`seeds/demo.toml`).
    #[default]
    Demo,
    /// A seed file.
    File(PathBuf),
    /// A seed file's contents.
    Text(String),
}

/// How to run the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where to listen: a loopback address; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The initial state (ignored when `db_path` already holds a state).
    pub seed: Seed,
    /// Serve HTTPS with a freshly generated test CA.
    pub tls: bool,
    /// Cluster redirect mode: this listener answers 302 to a second one.
    pub redirect: bool,
    /// Charset of localised answers.
    pub charset: Charset,
    /// SQLite file for the state; a temporary file when `None`.
    pub db_path: Option<PathBuf>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Seed::Demo,
            tls: false,
            redirect: false,
            charset: Charset::Utf8,
            db_path: None,
        }
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Only loopback addresses are served.
    #[error("{0} is not a loopback address: the sandbox only listens on 127.0.0.0/8 or ::1")]
    NotLoopback(SocketAddr),
    /// The seed could not be read.
    #[error("the seed could not be read: {0}")]
    Seed(String),
    /// The database could not be opened.
    #[error("the sandbox database could not be opened: {0}")]
    Database(String),
    /// The address could not be bound.
    #[error("could not listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// The test certificates could not be made.
    #[error("could not make the test certificates: {0}")]
    Tls(String),
}

/// Request counters.
#[derive(Default)]
pub struct Stats {
    /// Xsi/DMS requests received.
    pub requests: AtomicU64,
    /// Requests that changed state.
    pub mutations: AtomicU64,
    /// Click-to-dial calls started.
    pub calls: AtomicU64,
}

/// What every handler shares.
#[derive(Clone)]
pub struct Shared {
    /// The provider's state.
    pub state: Arc<Mutex<model::State>>,
    /// The database.
    pub db: Arc<std::sync::Mutex<rusqlite::Connection>>,
    /// Faults in force.
    pub faults: FaultControl,
    /// Counters.
    pub stats: Arc<Stats>,
    /// Localised answers' charset.
    pub charset: Charset,
    /// Serving HTTPS.
    pub tls: bool,
    /// Redirect everything here (cluster mode, first listener only).
    pub redirect_to: Option<String>,
    /// Secret for nonces.
    pub secret: String,
}

/// A running sandbox.
pub struct Sandbox {
    base_url: Url,
    addr: SocketAddr,
    ca_pem: Option<String>,
    faults: FaultControl,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _temp: Option<tempfile_dir::TempDir>,
}

mod tempfile_dir {
    //! A temporary directory removed on drop (for the default database).
    use std::path::{Path, PathBuf};

    /// The directory.
    pub struct TempDir(pub PathBuf);

    impl TempDir {
        /// Creates a fresh directory under the system's temporary directory.
        pub fn new() -> std::io::Result<Self> {
            let dir = std::env::temp_dir().join(format!(
                "deskline-sandbox-{}-{}",
                std::process::id(),
                rand::random::<u64>()
            ));
            std::fs::create_dir_all(&dir)?;
            Ok(Self(dir))
        }

        /// Its path.
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn load_seed(seed: &Seed) -> Result<model::State, SandboxError> {
    let text = match seed {
        Seed::Demo => model::DEMO_SEED.to_owned(),
        Seed::File(path) => std::fs::read_to_string(path)
            .map_err(|e| SandboxError::Seed(format!("{}: {e}", path.display())))?,
        Seed::Text(t) => t.clone(),
    };
    model::State::from_toml(&text).map_err(|e| SandboxError::Seed(e.to_string()))
}

struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
    ca_pem: String,
}

fn make_tls() -> Result<Tls, SandboxError> {
    let err = |e: &dyn std::fmt::Display| SandboxError::Tls(e.to_string());
    let ca_key = rcgen::KeyPair::generate().map_err(|e| err(&e))?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| err(&e))?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Deskline sandbox test CA");
    let ca = ca_params.self_signed(&ca_key).map_err(|e| err(&e))?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().map_err(|e| err(&e))?;
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).map_err(|e| err(&e))?;
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress(std::net::IpAddr::from([
            127, 0, 0, 1,
        ])));
    let cert = params.signed_by(&key, &issuer).map_err(|e| err(&e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(&e))?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .map_err(|e| err(&e))?;
    Ok(Tls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        ca_pem: ca.pem(),
    })
}

async fn serve_loop(
    listener: TcpListener,
    shared: Shared,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let router = axum::Router::new()
        .fallback(routes::handle)
        .with_state(shared);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let Ok((tcp, _)) = accepted else { continue };
        let router = router.clone();
        let tls = tls.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let kill = KillSwitch::default();
            let signal = kill.0.clone();
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let mut req = req.map(axum::body::Body::new);
                    req.extensions_mut().insert(kill.clone());
                    router.clone().oneshot(req)
                });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            match tls {
                Some(acceptor) => {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    tokio::select! { _ = conn => {}, _ = signal.notified() => {}, _ = stop.changed() => {} }
                }
                None => {
                    let conn = builder.serve_connection(TokioIo::new(tcp), service);
                    tokio::select! { _ = conn => {}, _ = signal.notified() => {}, _ = stop.changed() => {} }
                }
            }
        });
    }
}

impl Sandbox {
    /// Starts the sandbox.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        if !config.listen.ip().is_loopback() {
            return Err(SandboxError::NotLoopback(config.listen));
        }
        let temp = match &config.db_path {
            Some(_) => None,
            None => Some(
                tempfile_dir::TempDir::new().map_err(|e| SandboxError::Database(e.to_string()))?,
            ),
        };
        let db_path = match (&config.db_path, &temp) {
            (Some(p), _) => p.clone(),
            (None, Some(t)) => t.path().join("sandbox.sqlite3"),
            (None, None) => return Err(SandboxError::Database("no database path".into())),
        };
        let seed = config.seed.clone();
        let (conn, state) = tokio::task::spawn_blocking(move || -> Result<_, SandboxError> {
            let (mut conn, stored) = persist::open(&db_path).map_err(SandboxError::Database)?;
            let state = match stored {
                Some(s) => s,
                None => {
                    let s = load_seed(&seed)?;
                    persist::save_all(&mut conn, &s).map_err(SandboxError::Database)?;
                    s
                }
            };
            Ok((conn, state))
        })
        .await
        .map_err(|e| SandboxError::Database(e.to_string()))??;
        let tls = if config.tls { Some(make_tls()?) } else { None };
        let faults = FaultControl::default();
        let (stop, stop_rx) = watch::channel(false);
        let shared = Shared {
            state: Arc::new(Mutex::new(state)),
            db: Arc::new(std::sync::Mutex::new(conn)),
            faults: faults.clone(),
            stats: Arc::new(Stats::default()),
            charset: config.charset,
            tls: config.tls,
            redirect_to: None,
            secret: format!("{:x}", rand::random::<u128>()),
        };
        let scheme = if config.tls { "https" } else { "http" };
        let mut tasks = Vec::new();
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| SandboxError::Bind(config.listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| SandboxError::Bind(config.listen, e))?;
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        if config.redirect {
            let second = TcpListener::bind(SocketAddr::new(addr.ip(), 0))
                .await
                .map_err(|e| SandboxError::Bind(config.listen, e))?;
            let second_addr = second
                .local_addr()
                .map_err(|e| SandboxError::Bind(config.listen, e))?;
            tasks.push(tokio::spawn(serve_loop(
                second,
                shared.clone(),
                acceptor.clone(),
                stop_rx.clone(),
            )));
            let front = Shared {
                redirect_to: Some(format!("{scheme}://{second_addr}")),
                ..shared.clone()
            };
            tasks.push(tokio::spawn(serve_loop(listener, front, acceptor, stop_rx)));
        } else {
            tasks.push(tokio::spawn(serve_loop(
                listener, shared, acceptor, stop_rx,
            )));
        }
        let host = if addr.is_ipv6() {
            format!("[{}]", addr.ip())
        } else {
            addr.ip().to_string()
        };
        let base_url = Url::parse(&format!("{scheme}://{host}:{}/", addr.port()))
            .map_err(|e| SandboxError::Database(e.to_string()))?;
        Ok(Sandbox {
            base_url,
            addr,
            ca_pem: tls.map(|t| t.ca_pem),
            faults,
            stop,
            tasks,
            _temp: temp,
        })
    }

    /// What a user types as the server address (`http://127.0.0.1:PORT/`).
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// The Xsi-Actions root (`…/com.broadsoft.xsi-actions/v2.0/`).
    pub fn xsi_url(&self) -> Url {
        self.base_url
            .join("com.broadsoft.xsi-actions/v2.0/")
            .unwrap_or_else(|_| self.base_url.clone())
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The test CA's certificate (PEM) in TLS mode.
    pub fn ca_certificate_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The fault control.
    pub fn faults(&self) -> FaultControl {
        self.faults.clone()
    }

    /// Stops serving.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
