//! Deskline's library surface: [`Deskline`] opens the data directory, the store, the
//! keychain and the provider connector, and hands out the core's [`Accounts`] and
//! [`Session`]s. The command line, the desktop app and the end-to-end tests all go through
//! here, so they cannot drift apart. [`demo`] runs the built-in demo provider in-process;
//! [`calls`] runs the SIP agent and the call tracker on the account's soft clients (or a
//! line set up by hand); [`cached`] reads a data directory's cache alone, for a screen
//! painted before anything starts; [`resident`] runs one signed-in session (outbox, syncs,
//! the call side kept in step with the synced lines) for the shells that keep the line.
//!
//! Architecture invariant: no behaviour of its own beyond composition and read models
//! ([`status`]); everything a user can do is a core call.

pub mod cached;
pub mod calls;
pub mod demo;
pub mod resident;
pub mod status;

use deskline_core::session::{Accounts, Session, SessionError};
use deskline_core::{
    AccountId, ProviderConnector, SecretKind, SecretRef, SipLine, Store, StoreError, Vault,
    VaultError,
};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What went wrong opening Deskline or running a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No data directory could be found or created.
    #[error(
        "Deskline's data directory {path} could not be created ({reason}); choose another with --data-dir"
    )]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The keychain failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Signing in, choosing an account or syncing failed.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A sync or edit failed.
    #[error(transparent)]
    Sync(#[from] deskline_core::sync::SyncError),
    /// The provider failed.
    #[error(transparent)]
    Provider(#[from] deskline_core::ProviderError),
    /// The demo provider could not start.
    #[error("the demo provider could not start ({0})")]
    Demo(String),
    /// No account is signed in.
    #[error("no account is signed in: sign in first (`deskline login`)")]
    NotSignedIn,
    /// None of the soft clients shared with the user has a usable SIP line.
    #[error(
        "no line configured: no soft client with SIP settings and a saved SIP password is shared with you; sync again, check the devices your administrator shared, or set a line up by hand"
    )]
    NoLines,
    /// A line set up by hand cannot be used.
    #[error("SIP line {line}: {reason}")]
    InvalidLine {
        /// The line.
        line: String,
        /// What is wrong.
        reason: String,
    },
    /// The SIP agent refused the lines.
    #[error(transparent)]
    Sip(#[from] deskline_sip::SipError),
}

/// How to open Deskline.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Where every file goes; default: the platform's data directory for Deskline.
    pub data_dir: Option<PathBuf>,
    /// An extra trusted CA certificate (PEM) for providers with a private CA.
    pub extra_ca_pem: Option<String>,
}

/// An open Deskline: store, keychain and provider connector, and the accounts.
pub struct Deskline {
    data_dir: PathBuf,
    accounts: Accounts,
}

/// The platform's data directory for Deskline (`~/.local/share/deskline` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "Deskline").map(|d| d.data_dir().to_path_buf())
}

impl Deskline {
    /// Opens the data directory (creating it), the store in it and the keychain, with the
    /// BroadWorks Xsi-Actions connector.
    pub async fn open(options: OpenOptions) -> Result<Self, ApiError> {
        let connector =
            deskline_provider_xsi::XsiConnector::new(deskline_provider_xsi::XsiOptions {
                extra_root_ca_pem: options.extra_ca_pem.clone(),
                ..Default::default()
            })?;
        Self::open_with(options, Arc::new(connector)).await
    }

    /// Opens with another provider connector (the demo, tests).
    pub async fn open_with(
        options: OpenOptions,
        connector: Arc<dyn ProviderConnector>,
    ) -> Result<Self, ApiError> {
        let data_dir = match options.data_dir {
            Some(d) => d,
            None => default_data_dir().ok_or_else(|| ApiError::DataDir {
                path: "(none)".into(),
                reason: "no home directory".into(),
            })?,
        };
        create_private_dir(&data_dir).await?;
        let store = deskline_store::SqliteStore::open(&data_dir.join(cached::STORE_FILE)).await?;
        // Choosing the keychain may ask the session bus (a blocking call): not on an async
        // thread.
        let vault = tokio::task::spawn_blocking(deskline_vault::KeyringVault::platform_default)
            .await
            .map_err(|e| {
                ApiError::Vault(deskline_core::VaultError::Failed {
                    reason: e.to_string(),
                })
            })?;
        let accounts = Accounts::new(Arc::new(store), Arc::new(vault), connector);
        Ok(Self { data_dir, accounts })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The accounts: sign in, sign out, list, resume.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn Store> {
        self.accounts.store().clone()
    }

    /// The keychain.
    pub fn vault(&self) -> Arc<dyn Vault> {
        self.accounts.vault().clone()
    }

    /// A session for the chosen account (by id or user ID; the only one when `None`),
    /// with the password from the keychain. Sends nothing.
    pub async fn session(&self, account: Option<&str>) -> Result<Session, ApiError> {
        let chosen = self.accounts.choose(account).await?;
        Ok(self.accounts.resume(&chosen).await?)
    }

    /// One account at a glance, as the store has it now (its last sync included).
    pub async fn account_status(
        &self,
        account: &AccountId,
    ) -> Result<Option<status::AccountStatus>, ApiError> {
        status::account_status_of(self.store().as_ref(), account).await
    }

    /// The SIP lines of an account's soft clients with their passwords from the keychain.
    /// Soft clients without SIP settings or without a saved password are left out.
    pub async fn sip_lines(
        &self,
        account: &AccountId,
    ) -> Result<Vec<(SipLine, SecretString)>, ApiError> {
        let mut lines = Vec::new();
        for client in self.store().soft_clients(account).await? {
            let Some(line) = client.sip else { continue };
            let secret = SecretRef {
                account: account.clone(),
                kind: SecretKind::SipPassword {
                    line_port: client.line_port.clone(),
                },
            };
            if let Some(password) = self.vault().get(&secret).await? {
                lines.push((line, password));
            }
        }
        Ok(lines)
    }
}

pub(crate) async fn create_private_dir(dir: &Path) -> Result<(), ApiError> {
    let err = |e: std::io::Error| ApiError::DataDir {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    tokio::fs::create_dir_all(dir).await.map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .await
            .map_err(err)?;
    }
    Ok(())
}
