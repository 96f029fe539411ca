//! The ports: traits the core calls and adapters implement. `Provider` (a phone-line
//! portal such as BroadWorks Xsi-Actions), `ProviderConnector` (makes a signed-in provider
//! from a server address and credentials), `Vault` (secrets), `Store` (everything else that
//! persists). The call notification port lives in [`crate::calls`].
//!
//! Port errors are classified so the core can decide what to do: retry, roll back, ask the
//! user, or show a clear message. Adapters convert their own errors at their edge.

use crate::domain::line::{
    CallLogEntry, CallLogKind, DialStarted, DirectoryPage, DirectoryQuery, DirectoryScope, Profile,
    Registration, SoftClient,
};
use crate::domain::settings::{Setting, SettingKey};
use crate::domain::values::{Destination, UserId};
use crate::records::{
    Account, AccountId, CallRecord, DirectoryIndexEntry, DirectorySource, OutboxEdit,
    SnapshotRecord,
};
use async_trait::async_trait;
use secrecy::SecretString;
use std::sync::Arc;
use time::OffsetDateTime;
use url::Url;

/// What went wrong talking to a provider, classified for the core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// 401: wrong user ID or password.
    #[error("the user ID or password was not accepted; check them and sign in again")]
    Unauthorized,
    /// 403: the account is locked or not allowed to use this interface.
    #[error(
        "the provider refused access ({reason}); your account may be locked or not allowed to use this app: ask your administrator"
    )]
    Forbidden {
        /// The provider's reason, when it gave one.
        reason: String,
    },
    /// 404: the service is not assigned to the user, or the item does not exist.
    #[error("{what} was not found on the provider (the service may not be assigned to you)")]
    NotFound {
        /// What was asked for.
        what: String,
    },
    /// 400 (or a refusal with `ErrorInfo`): the provider refused the value.
    #[error("the provider refused the change: {reason}")]
    Invalid {
        /// The field concerned, when known.
        field: Option<String>,
        /// The provider's words.
        reason: String,
        /// The provider's error code (`ErrorInfo/errorCode`).
        code: Option<u32>,
    },
    /// 409: the item exists already or conflicts with another.
    #[error("the provider reported a conflict: {reason}")]
    Conflict {
        /// The provider's words.
        reason: String,
    },
    /// Network failure, timeout, 5xx, rate limiting: worth retrying later.
    #[error(
        "the provider could not be reached ({reason}); Deskline keeps your changes and retries"
    )]
    Unavailable {
        /// What happened.
        reason: String,
    },
    /// The server's name could not be resolved.
    #[error("no server named {host} could be found; check the server address")]
    UnknownServer {
        /// The host that did not resolve.
        host: String,
    },
    /// The server's TLS certificate was not trusted.
    #[error(
        "the server's certificate is not trusted ({reason}); check the server address, or ask your provider"
    )]
    Tls {
        /// The TLS error.
        reason: String,
    },
    /// The address is not allowed (plain `http://` to a non-loopback host, bad URL).
    #[error("{reason}")]
    BadAddress {
        /// What is wrong with the address.
        reason: String,
    },
    /// The provider answered with something Deskline does not understand.
    #[error("the provider answered something Deskline does not understand ({reason})")]
    Protocol {
        /// What could not be understood.
        reason: String,
    },
}

impl ProviderError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ProviderError::Unavailable { .. })
    }
}

/// A phone-line provider, signed in as one user. Implementations are cheap to share
/// (`Arc`), reuse connections, time out every request and retry idempotent ones.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Checks the credentials and returns the profile (BroadWorks: `GET profile`).
    async fn sign_in(&self) -> Result<Profile, ProviderError>;
    /// The user's profile.
    async fn profile(&self) -> Result<Profile, ProviderError>;
    /// Which of the services Deskline manages are assigned to the user.
    async fn assigned_services(&self) -> Result<Vec<SettingKey>, ProviderError>;
    /// The soft clients shared with the user, with their SIP settings and password where the
    /// provider gives them.
    async fn soft_clients(&self) -> Result<Vec<SoftClient>, ProviderError>;
    /// The line's live registrations.
    async fn registrations(&self) -> Result<Vec<Registration>, ProviderError>;
    /// One setting's current value. `NotFound` when the service is not assigned.
    async fn setting(&self, key: SettingKey) -> Result<Setting, ProviderError>;
    /// Changes a setting from `current` (the provider's value just read) to `desired`,
    /// sending only what differs (partial PUT, `xsi:nil` to clear, POST/DELETE for items).
    /// Both values have the same key.
    async fn apply_setting(
        &self,
        current: &Setting,
        desired: &Setting,
    ) -> Result<(), ProviderError>;
    /// Searches the group or enterprise directory.
    async fn search_directory(
        &self,
        scope: DirectoryScope,
        query: &DirectoryQuery,
    ) -> Result<DirectoryPage, ProviderError>;
    /// The provider's call logs (placed, received, missed).
    async fn call_logs(&self) -> Result<Vec<CallLogEntry>, ProviderError>;
    /// Deletes call logs: all, one list, or one entry of a list.
    async fn delete_call_logs(
        &self,
        kind: Option<CallLogKind>,
        id: Option<&str>,
    ) -> Result<(), ProviderError>;
    /// Click-to-dial: the provider rings the user's device, then the destination. With
    /// `line_port`, that shared soft client is the one rung.
    async fn dial(
        &self,
        destination: &Destination,
        line_port: Option<&str>,
    ) -> Result<DialStarted, ProviderError>;
}

/// Makes a [`Provider`] for a server address and credentials. No request is sent until a
/// provider method is called.
pub trait ProviderConnector: Send + Sync {
    /// Builds the provider. Fails at once on an address Deskline will not use (plain
    /// `http://` to anything but loopback, unsupported scheme).
    fn connect(
        &self,
        server: &Url,
        user: &UserId,
        password: SecretString,
    ) -> Result<Arc<dyn Provider>, ProviderError>;
}

/// Which secret of an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// The My Phone portal password.
    PortalPassword,
    /// A soft client's SIP password, by line/port.
    SipPassword {
        /// The soft client's line/port.
        line_port: String,
    },
}

/// A secret's name in the vault.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretRef {
    /// The account the secret belongs to.
    pub account: AccountId,
    /// Which secret.
    pub kind: SecretKind,
}

impl SecretRef {
    /// A stable name for the keychain entry (`<account>/portal`, `<account>/sip/<line>`).
    pub fn entry_name(&self) -> String {
        match &self.kind {
            SecretKind::PortalPassword => format!("{}/portal", self.account),
            SecretKind::SipPassword { line_port } => format!("{}/sip/{line_port}", self.account),
        }
    }
}

/// What went wrong with the keychain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// No keychain is available (no Secret Service, no session keyring).
    #[error(
        "no keychain is available to keep your password ({reason}); on Linux, start a Secret Service (GNOME Keyring, KWallet) or run inside a session keyring"
    )]
    Unavailable {
        /// The platform's words.
        reason: String,
    },
    /// The keychain refused access (locked, denied).
    #[error("the keychain refused access ({reason}); unlock it and try again")]
    Denied {
        /// The platform's words.
        reason: String,
    },
    /// Anything else the platform reported.
    #[error("the keychain failed: {reason}")]
    Failed {
        /// The platform's words.
        reason: String,
    },
}

/// Secrets: portal and SIP passwords live here and nowhere else.
#[async_trait]
pub trait Vault: Send + Sync {
    /// Stores (or replaces) a secret.
    async fn put(&self, name: &SecretRef, secret: &SecretString) -> Result<(), VaultError>;
    /// Reads a secret; `None` if there is none.
    async fn get(&self, name: &SecretRef) -> Result<Option<SecretString>, VaultError>;
    /// Deletes a secret; deleting a missing one is not an error.
    async fn delete(&self, name: &SecretRef) -> Result<(), VaultError>;
}

/// What went wrong with the local store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("Deskline's data at {path} could not be opened ({reason})")]
    Open {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The database was written by a newer Deskline.
    #[error(
        "Deskline's data was written by a newer version of Deskline; update Deskline to use it"
    )]
    TooNew,
    /// A stored row could not be read back (corruption or a bug).
    #[error("stored data could not be read ({reason})")]
    Corrupt {
        /// What could not be read.
        reason: String,
    },
    /// The row asked for does not exist.
    #[error("{what} is not in the local store")]
    Missing {
        /// What was asked for.
        what: String,
    },
    /// Any other SQLite or I/O failure.
    #[error("the local store failed ({reason})")]
    Failed {
        /// Why.
        reason: String,
    },
}

/// Everything that persists except secrets. One writer; implementations never block an
/// async thread.
#[async_trait]
pub trait Store: Send + Sync {
    /// Inserts or updates an account (matched by id).
    async fn upsert_account(&self, account: &Account) -> Result<(), StoreError>;
    /// All accounts, oldest first.
    async fn accounts(&self) -> Result<Vec<Account>, StoreError>;
    /// Deletes an account and every row that belongs to it (cache, outbox, history).
    async fn remove_account(&self, account: &AccountId) -> Result<(), StoreError>;
    /// Records when the last full sync finished.
    async fn set_last_sync(
        &self,
        account: &AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Saves the profile.
    async fn save_profile(&self, account: &AccountId, profile: &Profile) -> Result<(), StoreError>;
    /// The cached profile.
    async fn profile(&self, account: &AccountId) -> Result<Option<Profile>, StoreError>;
    /// Saves which services are assigned.
    async fn save_services(
        &self,
        account: &AccountId,
        services: &[SettingKey],
    ) -> Result<(), StoreError>;
    /// The assigned services as last synced.
    async fn services(&self, account: &AccountId) -> Result<Vec<SettingKey>, StoreError>;

    /// Saves the provider's value of a setting; the version goes up by one when the value
    /// differs from the stored one, and stays otherwise.
    async fn save_snapshot(
        &self,
        account: &AccountId,
        value: &Setting,
        fetched_at: OffsetDateTime,
    ) -> Result<SnapshotRecord, StoreError>;
    /// The provider's last known value of one setting.
    async fn snapshot(
        &self,
        account: &AccountId,
        key: SettingKey,
    ) -> Result<Option<SnapshotRecord>, StoreError>;
    /// Every cached setting.
    async fn snapshots(&self, account: &AccountId) -> Result<Vec<SnapshotRecord>, StoreError>;

    /// Replaces the soft-client assignments (non-secret fields only).
    async fn save_soft_clients(
        &self,
        account: &AccountId,
        clients: &[SoftClient],
    ) -> Result<(), StoreError>;
    /// The cached soft-client assignments (without passwords).
    async fn soft_clients(&self, account: &AccountId) -> Result<Vec<SoftClient>, StoreError>;

    /// Queues an edit of `desired.key()`. If an edit of that key is already queued, it is
    /// updated in place: its base stays, its desired value is replaced, its state goes back
    /// to pending. Durable when this returns.
    async fn enqueue_edit(
        &self,
        account: &AccountId,
        base: &Setting,
        base_version: i64,
        desired: &Setting,
    ) -> Result<OutboxEdit, StoreError>;
    /// Every queued edit of the account (pending, conflicting, failed), oldest first.
    async fn edits(&self, account: &AccountId) -> Result<Vec<OutboxEdit>, StoreError>;
    /// Saves an edit's state, attempts, next attempt time and base.
    async fn update_edit(&self, edit: &OutboxEdit) -> Result<(), StoreError>;
    /// In one transaction: removes the edit and saves `applied` as the provider's value.
    async fn complete_edit(
        &self,
        edit_id: i64,
        account: &AccountId,
        applied: &Setting,
        at: OffsetDateTime,
    ) -> Result<SnapshotRecord, StoreError>;
    /// Removes an edit.
    async fn remove_edit(&self, edit_id: i64) -> Result<(), StoreError>;

    /// Replaces one source's entries in the directory index.
    async fn replace_directory(
        &self,
        account: &AccountId,
        source: DirectorySource,
        entries: &[DirectoryIndexEntry],
    ) -> Result<(), StoreError>;
    /// Search as you type over every source: each word of `text` must prefix-match a word
    /// of the name, number, extension or e-mail. Best matches first.
    async fn search_directory(
        &self,
        account: &AccountId,
        text: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryIndexEntry>, StoreError>;
    /// Finds the directory entry whose number matches the given digits (caller lookup).
    async fn lookup_number(
        &self,
        account: &AccountId,
        number: &str,
    ) -> Result<Option<DirectoryIndexEntry>, StoreError>;

    /// Replaces the cached provider call logs.
    async fn replace_call_logs(
        &self,
        account: &AccountId,
        logs: &[CallLogEntry],
    ) -> Result<(), StoreError>;
    /// The cached provider call logs, newest first.
    async fn call_logs(&self, account: &AccountId) -> Result<Vec<CallLogEntry>, StoreError>;
    /// Inserts or updates a call Deskline saw itself (by `call.id`).
    async fn record_call(&self, account: &AccountId, call: &CallRecord) -> Result<(), StoreError>;
    /// Calls Deskline saw itself, newest first.
    async fn call_history(
        &self,
        account: &AccountId,
        limit: usize,
    ) -> Result<Vec<CallRecord>, StoreError>;
    /// Records that the user saw the missed calls at `at`.
    async fn mark_missed_seen(
        &self,
        account: &AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// When the user last saw the missed calls (`None`: never).
    async fn missed_seen_at(
        &self,
        account: &AccountId,
    ) -> Result<Option<OffsetDateTime>, StoreError>;
}
