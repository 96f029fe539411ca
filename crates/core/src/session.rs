//! Sessions: sign in (check the credentials with the provider, keep the password in the
//! vault, remember the account, first full sync), sign in automatically from the vault,
//! sign out (every secret removed; the cache too when asked). Several accounts live side by
//! side, each with its own [`SyncEngine`].

use crate::domain::values::{UserId, ValidationError};
use crate::ports::{
    ProviderConnector, ProviderError, SecretKind, SecretRef, Store, StoreError, Vault, VaultError,
};
use crate::records::{Account, AccountId, EditState};
use crate::sync::{SyncEngine, SyncError};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use time::OffsetDateTime;
use url::Url;

/// What went wrong signing in or out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Something the user typed is not valid.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The provider refused or could not be reached.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The keychain failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The first sync failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// No account is signed in.
    #[error("you are not signed in: run `deskline login` first")]
    NotSignedIn,
    /// Several accounts are signed in and none was chosen.
    #[error("several accounts are signed in ({0}); choose one with --account")]
    Ambiguous(String),
    /// No account matches what was asked for.
    #[error("no signed-in account matches {0}")]
    UnknownAccount(String),
    /// The keychain has no password for the account.
    #[error("no saved password for {0}: sign in again with `deskline login`")]
    NoSavedPassword(AccountId),
    /// Signing out would throw away changes the provider does not have yet.
    #[error(
        "{count} change(s) have not reached the provider yet; run `deskline sync` first, or sign out with --discard-changes"
    )]
    UnsentChanges {
        /// How many.
        count: usize,
    },
}

/// A signed-in account with its sync engine.
#[derive(Clone)]
pub struct Session {
    /// The account.
    pub account: Account,
    /// Its sync engine.
    pub engine: Arc<SyncEngine>,
}

/// Parses what a user typed as the server address: a bare host gets `https://`.
pub fn parse_server(raw: &str) -> Result<Url, ValidationError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(
            "server",
            "enter your provider's server address, for example https://xsp.example.net",
        ));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| {
        ValidationError::new(
            "server",
            format!("'{trimmed}' is not a server address ({e})"),
        )
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(ValidationError::new(
            "server",
            "the server address starts with https:// and names a host",
        ));
    }
    Ok(url)
}

/// The accounts on this machine, and signing in and out.
pub struct Accounts {
    store: Arc<dyn Store>,
    vault: Arc<dyn Vault>,
    connector: Arc<dyn ProviderConnector>,
}

impl Accounts {
    /// Accounts kept in `store`, secrets in `vault`, providers made by `connector`.
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<dyn Vault>,
        connector: Arc<dyn ProviderConnector>,
    ) -> Self {
        Self {
            store,
            vault,
            connector,
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The vault.
    pub fn vault(&self) -> &Arc<dyn Vault> {
        &self.vault
    }

    /// Every account, oldest first.
    pub async fn list(&self) -> Result<Vec<Account>, SessionError> {
        Ok(self.store.accounts().await?)
    }

    /// Checks the credentials with the provider, keeps the password in the vault and the
    /// account in the store. Does not sync: call `session.engine.sync(…)` next (so the
    /// caller can show progress).
    pub async fn sign_in(
        &self,
        server: &str,
        user: &str,
        password: SecretString,
        sign_in_automatically: bool,
    ) -> Result<Session, SessionError> {
        let server = parse_server(server)?;
        let user = UserId::parse(user)?;
        if password.expose_secret().is_empty() {
            return Err(ValidationError::new("password", "enter your password").into());
        }
        let provider = self.connector.connect(&server, &user, password.clone())?;
        provider.sign_in().await?;
        let id = AccountId::for_user(&user, &server);
        self.vault.put(&portal_secret(&id), &password).await?;
        let existing = self
            .store
            .accounts()
            .await?
            .into_iter()
            .find(|a| a.id == id);
        let account = Account {
            id: id.clone(),
            server,
            user_id: user,
            sign_in_automatically,
            added_at: existing
                .as_ref()
                .map(|a| a.added_at)
                .unwrap_or_else(OffsetDateTime::now_utc),
            last_sync_at: existing.and_then(|a| a.last_sync_at),
        };
        self.store.upsert_account(&account).await?;
        let engine = SyncEngine::new(id, provider, self.store.clone(), self.vault.clone());
        Ok(Session {
            account,
            engine: Arc::new(engine),
        })
    }

    /// Picks an account: by id or user ID when given, else the only one.
    pub async fn choose(&self, wanted: Option<&str>) -> Result<Account, SessionError> {
        let accounts = self.store.accounts().await?;
        match wanted {
            Some(w) => accounts
                .into_iter()
                .find(|a| a.id.0 == w || a.user_id.as_str() == w)
                .ok_or_else(|| SessionError::UnknownAccount(w.to_owned())),
            None => match accounts.len() {
                0 => Err(SessionError::NotSignedIn),
                1 => accounts.into_iter().next().ok_or(SessionError::NotSignedIn),
                _ => Err(SessionError::Ambiguous(
                    accounts
                        .iter()
                        .map(|a| a.user_id.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                )),
            },
        }
    }

    /// Opens a session for a known account with the password from the vault. No request
    /// is sent: the cache is usable offline, and the provider is contacted on sync.
    pub async fn resume(&self, account: &Account) -> Result<Session, SessionError> {
        let password = self
            .vault
            .get(&portal_secret(&account.id))
            .await?
            .ok_or_else(|| SessionError::NoSavedPassword(account.id.clone()))?;
        let provider = self
            .connector
            .connect(&account.server, &account.user_id, password)?;
        let engine = SyncEngine::new(
            account.id.clone(),
            provider,
            self.store.clone(),
            self.vault.clone(),
        );
        Ok(Session {
            account: account.clone(),
            engine: Arc::new(engine),
        })
    }

    /// The accounts to sign in automatically at start (those with a saved password).
    pub async fn automatic(&self) -> Result<Vec<Session>, SessionError> {
        let mut sessions = Vec::new();
        for account in self.store.accounts().await? {
            if account.sign_in_automatically {
                match self.resume(&account).await {
                    Ok(s) => sessions.push(s),
                    Err(SessionError::NoSavedPassword(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(sessions)
    }

    /// Signs out: removes the portal password and every SIP password of the account from
    /// the vault; with `forget`, also every cached row. Refuses while changes are unsent
    /// unless `discard_changes`.
    pub async fn sign_out(
        &self,
        account: &AccountId,
        forget: bool,
        discard_changes: bool,
    ) -> Result<(), SessionError> {
        let unsent = self
            .store
            .edits(account)
            .await?
            .iter()
            .filter(|e| !matches!(e.state, EditState::Failed { .. }))
            .count();
        if unsent > 0 && !discard_changes {
            return Err(SessionError::UnsentChanges { count: unsent });
        }
        for client in self.store.soft_clients(account).await? {
            self.vault
                .delete(&SecretRef {
                    account: account.clone(),
                    kind: SecretKind::SipPassword {
                        line_port: client.line_port,
                    },
                })
                .await?;
        }
        self.vault.delete(&portal_secret(account)).await?;
        if forget {
            self.store.remove_account(account).await?;
        } else if let Some(mut a) = self
            .store
            .accounts()
            .await?
            .into_iter()
            .find(|a| &a.id == account)
        {
            a.sign_in_automatically = false;
            self.store.upsert_account(&a).await?;
            for edit in self.store.edits(account).await? {
                self.store.remove_edit(edit.id).await?;
            }
        }
        Ok(())
    }
}

/// The vault name of an account's portal password.
pub fn portal_secret(account: &AccountId) -> SecretRef {
    SecretRef {
        account: account.clone(),
        kind: SecretKind::PortalPassword,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        assert_eq!(
            parse_server("xsp.example.net").unwrap().as_str(),
            "https://xsp.example.net/"
        );
        assert_eq!(
            parse_server("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert!(parse_server("").is_err());
        assert!(parse_server("ftp://x").is_err());
        assert!(parse_server("https://").is_err());
    }
}
