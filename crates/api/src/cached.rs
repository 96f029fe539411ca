//! The cache on its own: what a data directory's store tells without a provider, a
//! keychain or the network, for a screen painted while everything else starts (the
//! desktop app's first window). [`CachedView::open_existing`] never creates a file, and
//! every answer is the one the live calls give from the same cache
//! ([`Deskline::account_status`](crate::Deskline::account_status),
//! `SyncEngine::settings`, the store's call history).
//!
//! Architecture invariant: it changes nothing a user has (opening may bring the file's
//! schema up to date, as every open does); anything that needs a provider or a secret goes
//! through [`Deskline`](crate::Deskline).

use crate::{ApiError, status};
use deskline_core::sync::{SettingView, cached_settings};
use deskline_core::{Account, AccountId, CallLogEntry, CallRecord, Store};
use std::path::Path;
use std::sync::Arc;

/// The file name of the store in a data directory.
pub(crate) const STORE_FILE: &str = "deskline.sqlite3";

/// A data directory's cache, read only.
pub struct CachedView {
    store: Arc<dyn Store>,
}

impl CachedView {
    /// The cache in `data_dir`, or `None` when it has none yet (nothing is created then).
    pub async fn open_existing(data_dir: &Path) -> Result<Option<Self>, ApiError> {
        let path = data_dir.join(STORE_FILE);
        if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(None);
        }
        let store = deskline_store::SqliteStore::open(&path).await?;
        Ok(Some(Self {
            store: Arc::new(store),
        }))
    }

    /// Every account the cache knows.
    pub async fn accounts(&self) -> Result<Vec<Account>, ApiError> {
        Ok(self.store.accounts().await?)
    }

    /// The account a start resumes: the demo's when `demo`, else the first that signs in
    /// automatically (as `Accounts::automatic` orders them; whether its password is still
    /// in the keychain is for the start-up to find out).
    pub async fn account_to_resume(&self, demo: bool) -> Result<Option<Account>, ApiError> {
        Ok(self.accounts().await?.into_iter().find(|a| {
            if demo {
                a.user_id.as_str() == crate::demo::DEMO_USER
            } else {
                a.sign_in_automatically
            }
        }))
    }

    /// One account at a glance (as `Deskline::account_status`).
    pub async fn account_status(
        &self,
        account: &AccountId,
    ) -> Result<Option<status::AccountStatus>, ApiError> {
        status::account_status_of(self.store.as_ref(), account).await
    }

    /// Every cached setting with its outbox status (as `SyncEngine::settings`).
    pub async fn settings(&self, account: &AccountId) -> Result<Vec<SettingView>, ApiError> {
        Ok(cached_settings(self.store.as_ref(), account).await?)
    }

    /// The provider's call logs as last synced.
    pub async fn call_logs(&self, account: &AccountId) -> Result<Vec<CallLogEntry>, ApiError> {
        Ok(self.store.call_logs(account).await?)
    }

    /// The calls this device saw, newest first, at most `limit`.
    pub async fn call_history(
        &self,
        account: &AccountId,
        limit: usize,
    ) -> Result<Vec<CallRecord>, ApiError> {
        Ok(self.store.call_history(account, limit).await?)
    }
}
