//! Opening Deskline for one command: the data directory, the demo provider when asked, and
//! the chosen account's session.

use crate::GlobalOpts;
use anyhow::Context as _;
use deskline_api::demo::Demo;
use deskline_api::{Deskline, OpenOptions};
use deskline_core::session::Session;

/// What a command works with.
pub struct Context {
    /// Global options.
    pub global: GlobalOpts,
    /// The open library.
    pub deskline: Deskline,
    demo: Option<(Demo, Session)>,
}

/// Reads the extra CA file, if one was given.
pub async fn extra_ca(global: &GlobalOpts) -> anyhow::Result<Option<String>> {
    match &global.ca_file {
        Some(path) => Ok(Some(tokio::fs::read_to_string(path).await.with_context(
            || format!("could not read the CA file {}", path.display()),
        )?)),
        None => Ok(None),
    }
}

impl Context {
    /// Opens Deskline (and the demo provider with `--demo`).
    pub async fn open(global: &GlobalOpts) -> anyhow::Result<Self> {
        let options = OpenOptions {
            data_dir: global.data_dir.clone(),
            extra_ca_pem: extra_ca(global).await?,
        };
        if global.demo {
            let (deskline, demo, session) = deskline_api::demo::open_demo(options).await?;
            Ok(Self {
                global: global.clone(),
                deskline,
                demo: Some((demo, session)),
            })
        } else {
            Ok(Self {
                global: global.clone(),
                deskline: Deskline::open(options).await?,
                demo: None,
            })
        }
    }

    /// The chosen account's session (sends nothing).
    pub async fn session(&self) -> anyhow::Result<Session> {
        if let Some((_, session)) = &self.demo {
            return Ok(session.clone());
        }
        Ok(self
            .deskline
            .session(self.global.account.as_deref())
            .await?)
    }

    /// Stops the demo provider, if any.
    pub async fn close(self) {
        if let Some((demo, _)) = self.demo {
            demo.shutdown().await;
        }
    }
}
