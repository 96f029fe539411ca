//! The built-in demo provider: the sandbox server started in-process on loopback with the
//! demo seed, its state kept in the data directory, and a connector that sends the demo
//! account's stable address (`https://demo.deskline.invalid/`) to it. A newcomer sees
//! everything working without an account.

use crate::{ApiError, Deskline, OpenOptions};
use deskline_core::session::Session;
use deskline_core::sync::SyncScope;
use deskline_core::{Provider, ProviderConnector, ProviderError, UserId};
use secrecy::SecretString;
use std::sync::Arc;
use url::Url;

/// The demo account's server address as stored with the account.
pub const DEMO_SERVER: &str = "https://demo.deskline.invalid/";
/// The demo account's user ID.
pub const DEMO_USER: &str = "demo@deskline.example";
/// The demo account's password (public: it only opens the local demo provider).
pub const DEMO_PASSWORD: &str = "Deskline-demo-1";
const DEMO_HOST: &str = "demo.deskline.invalid";

/// A running demo provider. Dropping it stops the server.
pub struct Demo {
    sandbox: deskline_sandbox::Sandbox,
}

impl Demo {
    /// The sandbox's real address on loopback.
    pub fn url(&self) -> Url {
        self.sandbox.base_url()
    }

    /// Stops the demo provider.
    pub async fn shutdown(self) {
        self.sandbox.shutdown().await;
    }
}

struct DemoConnector {
    inner: Arc<dyn ProviderConnector>,
    target: Url,
}

impl ProviderConnector for DemoConnector {
    fn connect(
        &self,
        server: &Url,
        user: &UserId,
        password: SecretString,
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        if server.host_str() == Some(DEMO_HOST) {
            self.inner.connect(&self.target, user, password)
        } else {
            self.inner.connect(server, user, password)
        }
    }
}

/// Opens Deskline on the demo provider: data under `<data dir>/demo` unless a data
/// directory is given, the provider's state in `demo-provider.sqlite3` there, and the demo
/// account signed in (and fully synced) on first use.
pub async fn open_demo(options: OpenOptions) -> Result<(Deskline, Demo, Session), ApiError> {
    let data_dir = match options.data_dir.clone() {
        Some(d) => d,
        None => crate::default_data_dir()
            .map(|d| d.join("demo"))
            .ok_or_else(|| ApiError::DataDir {
                path: "(none)".into(),
                reason: "no home directory".into(),
            })?,
    };
    crate::create_private_dir(&data_dir).await?;
    let sandbox = deskline_sandbox::Sandbox::start(deskline_sandbox::SandboxConfig {
        db_path: Some(data_dir.join("demo-provider.sqlite3")),
        ..Default::default()
    })
    .await
    .map_err(|e| ApiError::Demo(e.to_string()))?;
    let xsi =
        deskline_provider_xsi::XsiConnector::new(deskline_provider_xsi::XsiOptions::default())?;
    let connector = Arc::new(DemoConnector {
        inner: Arc::new(xsi),
        target: sandbox.base_url(),
    });
    let deskline = Deskline::open_with(
        OpenOptions {
            data_dir: Some(data_dir),
            ..options
        },
        connector,
    )
    .await?;
    let demo = Demo { sandbox };
    let existing = deskline
        .accounts()
        .list()
        .await?
        .into_iter()
        .find(|a| a.user_id.as_str() == DEMO_USER);
    let session = match existing {
        Some(account) => match deskline.accounts().resume(&account).await {
            Ok(session) => session,
            Err(_) => sign_in_demo(&deskline).await?,
        },
        None => sign_in_demo(&deskline).await?,
    };
    Ok((deskline, demo, session))
}

async fn sign_in_demo(deskline: &Deskline) -> Result<Session, ApiError> {
    let session = deskline
        .accounts()
        .sign_in(
            DEMO_SERVER,
            DEMO_USER,
            SecretString::from(DEMO_PASSWORD),
            true,
        )
        .await?;
    session.engine.sync(SyncScope::Full).await?;
    Ok(session)
}
