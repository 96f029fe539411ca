//! The offline-first sync engine of one account: full and incremental sync into the store,
//! the outbox of edits, and the effective view of every setting (the provider's value with
//! the user's pending edit on top).
//!
//! Edits: validated, then written durably to the outbox with the provider value (and its
//! version) they were based on, before anything is sent. Flushing an edit reads the
//! provider's current value and merges three ways ([`crate::merge`]): already there → done;
//! unchanged underneath → send only the difference; changed underneath on the same fields →
//! held as a conflict for the user. Transient failures keep the edit queued with an
//! exponential, jittered retry time; refusals roll it back with the provider's reason. A
//! crash at any point loses nothing and applies nothing twice: the next flush reads again.

use crate::domain::line::{CallLogEntry, DirectoryQuery, DirectoryScope, Profile, SoftClient};
use crate::domain::settings::{Setting, SettingKey};
use crate::merge::{self, MergeOutcome};
use crate::ports::{
    Provider, ProviderError, SecretKind, SecretRef, Store, StoreError, Vault, VaultError,
};
use crate::records::{
    AccountId, DirectoryIndexEntry, DirectorySource, EditState, OutboxEdit, SnapshotRecord,
};
use futures::future::join_all;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{Mutex, broadcast};

/// What went wrong in a sync or an edit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The value was refused before sending.
    #[error(transparent)]
    Invalid(#[from] crate::domain::values::ValidationError),
    /// The provider failed in a way that stops the whole operation.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The keychain failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The setting was never synced (or the service is not assigned to the user).
    #[error("{0} is not available on this line (not assigned, or not synced yet: run a sync)")]
    NotAvailable(SettingKey),
    /// No queued edit has that id.
    #[error("there is no queued change with id {0}")]
    NoSuchEdit(i64),
    /// The edit is not in conflict.
    #[error("change {0} is not in conflict")]
    NotInConflict(i64),
    /// A value could not be merged (a bug or corrupt data).
    #[error("the change could not be merged: {0}")]
    Merge(String),
}

/// What a sync fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncScope {
    /// Everything, including the group and enterprise directories.
    Full,
    /// Profile, services, settings, soft clients, personal directory and call logs.
    Incremental,
}

/// Progress and state changes, for the UI and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncEvent {
    /// A sync started with `total` steps.
    Started {
        /// The account.
        account: AccountId,
        /// Steps in all.
        total: u32,
    },
    /// One step finished.
    Progress {
        /// The account.
        account: AccountId,
        /// Steps done.
        done: u32,
        /// Steps in all.
        total: u32,
        /// What finished ("Call Forwarding Always", "enterprise directory").
        step: String,
    },
    /// The sync finished.
    Finished {
        /// The account.
        account: AccountId,
        /// Steps that failed with a transient error (the cache keeps the old value).
        failed_steps: Vec<String>,
    },
    /// An outbox edit changed state (sent, conflict, failed, retry scheduled).
    EditChanged {
        /// The account.
        account: AccountId,
        /// The edit.
        edit_id: i64,
        /// The setting.
        key: SettingKey,
        /// Sent and confirmed by the provider.
        done: bool,
    },
}

/// What a user sees for one setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingView {
    /// The setting.
    pub key: SettingKey,
    /// The value the user should see: their pending edit if any, else the provider's.
    pub value: Setting,
    /// The provider's value as last synced.
    pub provider_value: Setting,
    /// Snapshot version.
    pub version: i64,
    /// When the provider's value was read.
    #[serde(with = "time::serde::rfc3339")]
    pub fetched_at: OffsetDateTime,
    /// Synced, pending, conflict or failed.
    pub status: SettingStatus,
}

/// Where a setting stands relative to the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SettingStatus {
    /// The provider has the value shown.
    Synced,
    /// A change is waiting to be sent.
    Pending {
        /// The queued edit.
        edit_id: i64,
        /// Failed attempts so far.
        attempts: u32,
        /// Last transient error.
        last_error: Option<String>,
    },
    /// The provider changed the same fields; the user must choose.
    Conflict {
        /// The queued edit.
        edit_id: i64,
        /// The fields in conflict.
        fields: Vec<String>,
        /// The provider's value now.
        theirs: Box<Setting>,
    },
    /// The provider refused the last change; the provider's value is shown.
    Failed {
        /// The refused edit (dismiss it to clear the message).
        edit_id: i64,
        /// The provider's reason.
        reason: String,
    },
}

/// How the user resolves a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Apply my change over the provider's new value.
    KeepMine,
    /// Drop my change and keep the provider's value.
    TakeTheirs,
}

/// What one flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlushReport {
    /// Edits confirmed by the provider.
    pub applied: u32,
    /// Edits still queued (transient failure or not yet due).
    pub pending: u32,
    /// Edits held as conflicts.
    pub conflicts: u32,
    /// Edits refused and rolled back.
    pub failed: u32,
}

/// Retry timing for queued edits: exponential from `min` to `max`, with full jitter on the
/// upper half so many clients do not retry in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First delay.
    pub min: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            min: Duration::from_secs(2),
            max: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `attempts + 1`.
    pub fn delay(&self, attempts: u32) -> Duration {
        let exp = self
            .min
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(16));
        let capped = exp.min(self.max);
        let half = capped / 2;
        let jitter = rand::rng().random_range(0..=half.as_millis().max(1) as u64);
        half + Duration::from_millis(jitter)
    }
}

/// Page size for shared directory downloads.
const DIRECTORY_PAGE: u32 = 1000;

/// The sync engine of one signed-in account.
pub struct SyncEngine {
    account: AccountId,
    provider: Arc<dyn Provider>,
    store: Arc<dyn Store>,
    vault: Arc<dyn Vault>,
    events: broadcast::Sender<SyncEvent>,
    retry: RetryPolicy,
    flush_lock: Mutex<()>,
}

impl SyncEngine {
    /// An engine for `account` talking to `provider`.
    pub fn new(
        account: AccountId,
        provider: Arc<dyn Provider>,
        store: Arc<dyn Store>,
        vault: Arc<dyn Vault>,
    ) -> Self {
        let (events, _) = broadcast::channel(256);
        Self {
            account,
            provider,
            store,
            vault,
            events,
            retry: RetryPolicy::default(),
            flush_lock: Mutex::new(()),
        }
    }

    /// Uses another retry policy (tests use short delays).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The account this engine syncs.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The provider (for operations that are not cached: search, dial).
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.provider
    }

    /// Subscribes to progress and edit events.
    pub fn subscribe(&self) -> broadcast::Receiver<SyncEvent> {
        self.events.subscribe()
    }

    fn emit(&self, event: SyncEvent) {
        let _ = self.events.send(event);
    }

    /// Fetches the line from the provider into the store, every request at once, then
    /// flushes the outbox. Transient failures of single steps keep the cached value and are
    /// reported; authentication failures stop the sync.
    pub async fn sync(&self, scope: SyncScope) -> Result<Vec<String>, SyncError> {
        let keys = SettingKey::ALL;
        let mut total = keys.len() as u32 + 4;
        if scope == SyncScope::Full {
            total += 2;
        }
        self.emit(SyncEvent::Started {
            account: self.account.clone(),
            total,
        });
        let done = std::sync::atomic::AtomicU32::new(0);
        let step = |name: &str| {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            self.emit(SyncEvent::Progress {
                account: self.account.clone(),
                done: n,
                total,
                step: name.to_owned(),
            });
        };
        let provider = &self.provider;
        let profile = async {
            let r = provider.profile().await;
            step("profile");
            r
        };
        let services = async {
            let r = provider.assigned_services().await;
            step("services");
            r
        };
        let clients = async {
            let r = provider.soft_clients().await;
            step("soft clients");
            r
        };
        let logs = async {
            let r = provider.call_logs().await;
            step("call logs");
            r
        };
        let settings = join_all(keys.iter().map(|key| async {
            let r = provider.setting(*key).await;
            step(key.display_name());
            (*key, r)
        }));
        let directories = async {
            if scope == SyncScope::Full {
                let group = self.download_directory(DirectoryScope::Group).await;
                step("group directory");
                let enterprise = self.download_directory(DirectoryScope::Enterprise).await;
                step("enterprise directory");
                Some((group, enterprise))
            } else {
                None
            }
        };
        let (profile, services, clients, logs, settings, directories) =
            tokio::join!(profile, services, clients, logs, settings, directories);

        let mut failed = Vec::new();
        let now = OffsetDateTime::now_utc();
        self.save_profile(profile, &mut failed).await?;
        let mut assigned: Vec<SettingKey> = Vec::new();
        let services_known = match services {
            Ok(list) => {
                assigned = list;
                true
            }
            Err(e) => {
                stop_on_auth(&e)?;
                failed.push(format!("services: {e}"));
                false
            }
        };
        for (key, result) in settings {
            match result {
                Ok(value) => {
                    if !services_known && !assigned.contains(&key) {
                        assigned.push(key);
                    }
                    if key == SettingKey::PersonalDirectory {
                        self.index_personal(&value).await?;
                    }
                    self.store.save_snapshot(&self.account, &value, now).await?;
                }
                Err(ProviderError::NotFound { .. }) => {
                    assigned.retain(|k| *k != key);
                }
                Err(e) => {
                    stop_on_auth(&e)?;
                    failed.push(format!("{}: {e}", key.display_name()));
                }
            }
        }
        if services_known || !assigned.is_empty() {
            assigned.sort();
            assigned.dedup();
            self.store.save_services(&self.account, &assigned).await?;
        }
        self.save_soft_clients(clients, &mut failed).await?;
        self.save_call_logs(logs, &mut failed).await?;
        if let Some((group, enterprise)) = directories {
            for (source, result) in [
                (DirectorySource::Group, group),
                (DirectorySource::Enterprise, enterprise),
            ] {
                match result {
                    Ok(entries) => {
                        self.store
                            .replace_directory(&self.account, source, &entries)
                            .await?
                    }
                    Err(ProviderError::NotFound { .. }) => {}
                    Err(e) => {
                        stop_on_auth(&e)?;
                        failed.push(format!("{} directory: {e}", source.as_str()));
                    }
                }
            }
        }
        self.store.set_last_sync(&self.account, now).await?;
        self.emit(SyncEvent::Finished {
            account: self.account.clone(),
            failed_steps: failed.clone(),
        });
        self.flush(true).await?;
        Ok(failed)
    }

    async fn save_profile(
        &self,
        profile: Result<Profile, ProviderError>,
        failed: &mut Vec<String>,
    ) -> Result<(), SyncError> {
        match profile {
            Ok(p) => self.store.save_profile(&self.account, &p).await?,
            Err(e) => {
                stop_on_auth(&e)?;
                failed.push(format!("profile: {e}"));
            }
        }
        Ok(())
    }

    async fn save_soft_clients(
        &self,
        clients: Result<Vec<SoftClient>, ProviderError>,
        failed: &mut Vec<String>,
    ) -> Result<(), SyncError> {
        match clients {
            Ok(clients) => {
                let previous = self.store.soft_clients(&self.account).await?;
                for client in &clients {
                    if let Some(password) = &client.sip_password {
                        self.vault
                            .put(&self.sip_secret(&client.line_port), password)
                            .await?;
                    }
                }
                for gone in previous
                    .iter()
                    .filter(|p| !clients.iter().any(|c| c.line_port == p.line_port))
                {
                    self.vault.delete(&self.sip_secret(&gone.line_port)).await?;
                }
                self.store
                    .save_soft_clients(&self.account, &clients)
                    .await?;
            }
            Err(e) => {
                stop_on_auth(&e)?;
                failed.push(format!("soft clients: {e}"));
            }
        }
        Ok(())
    }

    async fn save_call_logs(
        &self,
        logs: Result<Vec<CallLogEntry>, ProviderError>,
        failed: &mut Vec<String>,
    ) -> Result<(), SyncError> {
        match logs {
            Ok(logs) => self.store.replace_call_logs(&self.account, &logs).await?,
            Err(ProviderError::NotFound { .. }) => {}
            Err(e) => {
                stop_on_auth(&e)?;
                failed.push(format!("call logs: {e}"));
            }
        }
        Ok(())
    }

    fn sip_secret(&self, line_port: &str) -> SecretRef {
        SecretRef {
            account: self.account.clone(),
            kind: SecretKind::SipPassword {
                line_port: line_port.to_owned(),
            },
        }
    }

    async fn index_personal(&self, value: &Setting) -> Result<(), SyncError> {
        if let Setting::PersonalDirectory(dir) = value {
            let entries = DirectoryIndexEntry::from_personal(dir);
            self.store
                .replace_directory(&self.account, DirectorySource::Personal, &entries)
                .await?;
        }
        Ok(())
    }

    async fn download_directory(
        &self,
        scope: DirectoryScope,
    ) -> Result<Vec<DirectoryIndexEntry>, ProviderError> {
        let source = match scope {
            DirectoryScope::Group => DirectorySource::Group,
            DirectoryScope::Enterprise => DirectorySource::Enterprise,
        };
        let first = self
            .provider
            .search_directory(scope, &page_query(1))
            .await?;
        let total = first.total;
        let mut entries: Vec<DirectoryIndexEntry> = first
            .contacts
            .iter()
            .map(|c| index_entry(source, c))
            .collect();
        let starts: Vec<u32> = (1..)
            .map(|i| 1 + i * DIRECTORY_PAGE)
            .take_while(|start| *start <= total)
            .take(200)
            .collect();
        let pages = join_all(starts.into_iter().map(|start| {
            let provider = self.provider.clone();
            async move { provider.search_directory(scope, &page_query(start)).await }
        }))
        .await;
        for page in pages {
            entries.extend(page?.contacts.iter().map(|c| index_entry(source, c)));
        }
        Ok(entries)
    }

    /// Every cached setting with the user's pending edit on top, and its status.
    pub async fn settings(&self) -> Result<Vec<SettingView>, SyncError> {
        cached_settings(self.store.as_ref(), &self.account).await
    }

    /// One setting as the user should see it.
    pub async fn setting(&self, key: SettingKey) -> Result<SettingView, SyncError> {
        let snap = self
            .store
            .snapshot(&self.account, key)
            .await?
            .ok_or(SyncError::NotAvailable(key))?;
        let mut v = view(snap);
        if let Some(edit) = self
            .store
            .edits(&self.account)
            .await?
            .iter()
            .find(|e| e.key == key)
        {
            apply_edit_status(&mut v, edit);
        }
        Ok(v)
    }

    /// Queues the user's change of a setting. The value is validated first (a bad value is
    /// refused with the reason and nothing is queued); the edit is durable when this
    /// returns. Call [`SyncEngine::flush`] to send it.
    pub async fn edit(&self, desired: Setting) -> Result<OutboxEdit, SyncError> {
        desired.validate()?;
        let key = desired.key();
        let snap = self
            .store
            .snapshot(&self.account, key)
            .await?
            .ok_or(SyncError::NotAvailable(key))?;
        let edit = self
            .store
            .enqueue_edit(&self.account, &snap.value, snap.version, &desired)
            .await?;
        self.emit(SyncEvent::EditChanged {
            account: self.account.clone(),
            edit_id: edit.id,
            key,
            done: false,
        });
        Ok(edit)
    }

    /// Changes one setting with a function of its current effective value (the pending
    /// edit's value if any), then queues it. Convenient for "turn DND on".
    pub async fn update<F>(&self, key: SettingKey, change: F) -> Result<OutboxEdit, SyncError>
    where
        F: FnOnce(&mut Setting) -> Result<(), crate::domain::values::ValidationError>,
    {
        let mut value = self.setting(key).await?.value;
        change(&mut value)?;
        self.edit(value).await
    }

    /// Sends queued edits that are due (all pending ones when `force`). Returns what
    /// happened; stops early on an authentication failure (the edits stay queued).
    pub async fn flush(&self, force: bool) -> Result<FlushReport, SyncError> {
        let _guard = self.flush_lock.lock().await;
        let mut report = FlushReport::default();
        let edits = self.store.edits(&self.account).await?;
        let now = OffsetDateTime::now_utc();
        let mut provider_down = false;
        for mut edit in edits {
            match edit.state {
                EditState::Conflict { .. } => {
                    report.conflicts += 1;
                    continue;
                }
                EditState::Failed { .. } => continue,
                EditState::Pending { .. } => {}
            }
            let due = edit.next_attempt_at.is_none_or(|t| t <= now);
            if provider_down || (!force && !due) {
                report.pending += 1;
                continue;
            }
            match self.flush_one(&mut edit).await {
                Ok(FlushStep::Applied) => report.applied += 1,
                Ok(FlushStep::Conflict) => report.conflicts += 1,
                Ok(FlushStep::Failed) => report.failed += 1,
                Ok(FlushStep::Retry) => {
                    report.pending += 1;
                    provider_down = true;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    async fn flush_one(&self, edit: &mut OutboxEdit) -> Result<FlushStep, SyncError> {
        let current = match self.provider.setting(edit.key).await {
            Ok(v) => v,
            Err(e) => return self.on_send_error(edit, e).await,
        };
        let outcome = merge::three_way_with_sent(&edit.base, &edit.sent, &edit.desired, &current)
            .map_err(|e| SyncError::Merge(e.to_string()))?;
        let now = OffsetDateTime::now_utc();
        match outcome {
            MergeOutcome::AlreadyApplied => {
                self.store
                    .complete_edit(edit.id, &self.account, &current, now)
                    .await?;
                self.emit_edit(edit, true);
                Ok(FlushStep::Applied)
            }
            MergeOutcome::Conflict { fields } => {
                self.store
                    .save_snapshot(&self.account, &current, now)
                    .await?;
                edit.state = EditState::Conflict {
                    theirs: current,
                    fields,
                };
                self.store.update_edit(edit).await?;
                self.emit_edit(edit, false);
                Ok(FlushStep::Conflict)
            }
            MergeOutcome::Apply(merged) => {
                if let Err(invalid) = merged.validate() {
                    return self.roll_back(edit, &current, format!("{invalid}")).await;
                }
                // Remember what this attempt wants before sending it: if the answer is
                // lost, the provider holding this value later is ours, not a conflict.
                if edit.sent.last() != Some(&edit.desired) {
                    edit.sent.push(edit.desired.clone());
                    if edit.sent.len() > 16 {
                        edit.sent.remove(0);
                    }
                    self.store.update_edit(edit).await?;
                }
                match self.provider.apply_setting(&current, &merged).await {
                    Ok(()) => {
                        // Read back what the provider stored (it may normalise values), so
                        // the next edit's base is exactly the provider's value.
                        let stored = match self.provider.setting(edit.key).await {
                            Ok(v) => v,
                            Err(_) => *merged,
                        };
                        self.store
                            .complete_edit(edit.id, &self.account, &stored, now)
                            .await?;
                        self.emit_edit(edit, true);
                        Ok(FlushStep::Applied)
                    }
                    Err(e) => self.on_send_error(edit, e).await,
                }
            }
        }
    }

    async fn on_send_error(
        &self,
        edit: &mut OutboxEdit,
        error: ProviderError,
    ) -> Result<FlushStep, SyncError> {
        match error {
            ProviderError::Unavailable { .. } => {
                edit.attempts += 1;
                edit.next_attempt_at =
                    Some(OffsetDateTime::now_utc() + self.retry.delay(edit.attempts));
                edit.state = EditState::Pending {
                    last_error: Some(error.to_string()),
                };
                self.store.update_edit(edit).await?;
                self.emit_edit(edit, false);
                Ok(FlushStep::Retry)
            }
            ProviderError::Invalid { .. }
            | ProviderError::Conflict { .. }
            | ProviderError::NotFound { .. } => {
                let current = self.provider.setting(edit.key).await.ok();
                let reason = match &error {
                    ProviderError::Invalid { reason, .. } => reason.clone(),
                    other => other.to_string(),
                };
                match current {
                    Some(current) => self.roll_back(edit, &current, reason).await,
                    None => {
                        edit.state = EditState::Failed { reason };
                        self.store.update_edit(edit).await?;
                        self.emit_edit(edit, false);
                        Ok(FlushStep::Failed)
                    }
                }
            }
            other => Err(SyncError::Provider(other)),
        }
    }

    async fn roll_back(
        &self,
        edit: &mut OutboxEdit,
        current: &Setting,
        reason: String,
    ) -> Result<FlushStep, SyncError> {
        self.store
            .save_snapshot(&self.account, current, OffsetDateTime::now_utc())
            .await?;
        edit.state = EditState::Failed { reason };
        self.store.update_edit(edit).await?;
        self.emit_edit(edit, false);
        Ok(FlushStep::Failed)
    }

    fn emit_edit(&self, edit: &OutboxEdit, done: bool) {
        self.emit(SyncEvent::EditChanged {
            account: self.account.clone(),
            edit_id: edit.id,
            key: edit.key,
            done,
        });
    }

    /// Resolves a conflict: keep mine (re-base my change on the provider's value and send
    /// it) or take theirs (drop my change).
    pub async fn resolve(&self, edit_id: i64, resolution: Resolution) -> Result<(), SyncError> {
        let mut edit = self.find_edit(edit_id).await?;
        let EditState::Conflict { theirs, .. } = edit.state.clone() else {
            return Err(SyncError::NotInConflict(edit_id));
        };
        match resolution {
            Resolution::TakeTheirs => self.store.remove_edit(edit_id).await?,
            Resolution::KeepMine => {
                let snap = self.store.snapshot(&self.account, edit.key).await?;
                edit.base = theirs;
                edit.base_version = snap.map(|s| s.version).unwrap_or(edit.base_version);
                edit.state = EditState::Pending { last_error: None };
                edit.sent.clear();
                edit.attempts = 0;
                edit.next_attempt_at = None;
                self.store.update_edit(&edit).await?;
            }
        }
        self.emit_edit(&edit, false);
        Ok(())
    }

    /// Removes a refused (failed) edit once the user has seen why, or discards a pending one.
    pub async fn discard(&self, edit_id: i64) -> Result<(), SyncError> {
        let edit = self.find_edit(edit_id).await?;
        self.store.remove_edit(edit_id).await?;
        self.emit_edit(&edit, false);
        Ok(())
    }

    async fn find_edit(&self, edit_id: i64) -> Result<OutboxEdit, SyncError> {
        self.store
            .edits(&self.account)
            .await?
            .into_iter()
            .find(|e| e.id == edit_id)
            .ok_or(SyncError::NoSuchEdit(edit_id))
    }

    /// Runs the outbox in the background until `shutdown` resolves: flushes due edits,
    /// sleeping until the next one is due (at most `idle`).
    pub async fn run_outbox(
        self: Arc<Self>,
        idle: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.flush(false).await {
                tracing::warn!(account = %self.account, error = %e, "sending queued changes failed");
            }
            let wait = self.next_due().await.unwrap_or(idle).min(idle);
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn next_due(&self) -> Option<Duration> {
        let edits = self.store.edits(&self.account).await.ok()?;
        let now = OffsetDateTime::now_utc();
        edits
            .iter()
            .filter(|e| matches!(e.state, EditState::Pending { .. }))
            .map(|e| {
                e.next_attempt_at
                    .map(|t| (t - now).try_into().unwrap_or(Duration::ZERO))
                    .unwrap_or(Duration::ZERO)
            })
            .min()
    }
}

enum FlushStep {
    Applied,
    Conflict,
    Failed,
    Retry,
}

fn view(snap: SnapshotRecord) -> SettingView {
    SettingView {
        key: snap.value.key(),
        value: snap.value.clone(),
        provider_value: snap.value,
        version: snap.version,
        fetched_at: snap.fetched_at,
        status: SettingStatus::Synced,
    }
}

/// Every cached setting of `account` as the user should see it (the value they will get,
/// with its outbox status), from `store` alone: what [`SyncEngine::settings`] answers,
/// for readers that have no provider (a first screen painted before anything starts).
pub async fn cached_settings(
    store: &dyn Store,
    account: &AccountId,
) -> Result<Vec<SettingView>, SyncError> {
    let snapshots = store.snapshots(account).await?;
    let edits = store.edits(account).await?;
    let mut views: Vec<SettingView> = snapshots.into_iter().map(view).collect();
    for v in &mut views {
        if let Some(edit) = edits.iter().find(|e| e.key == v.key) {
            apply_edit_status(v, edit);
        }
    }
    views.sort_by_key(|v| SettingKey::ALL.iter().position(|k| *k == v.key));
    Ok(views)
}

fn apply_edit_status(view: &mut SettingView, edit: &OutboxEdit) {
    match &edit.state {
        EditState::Pending { last_error } => {
            view.value = edit.desired.clone();
            view.status = SettingStatus::Pending {
                edit_id: edit.id,
                attempts: edit.attempts,
                last_error: last_error.clone(),
            };
        }
        EditState::Conflict { theirs, fields } => {
            view.value = edit.desired.clone();
            view.status = SettingStatus::Conflict {
                edit_id: edit.id,
                fields: fields.clone(),
                theirs: Box::new(theirs.clone()),
            };
        }
        EditState::Failed { reason } => {
            view.status = SettingStatus::Failed {
                edit_id: edit.id,
                reason: reason.clone(),
            };
        }
    }
}

fn stop_on_auth(error: &ProviderError) -> Result<(), SyncError> {
    match error {
        ProviderError::Unauthorized | ProviderError::Forbidden { .. } => {
            Err(SyncError::Provider(error.clone()))
        }
        _ => Ok(()),
    }
}

fn page_query(start: u32) -> DirectoryQuery {
    DirectoryQuery {
        start,
        results: DIRECTORY_PAGE,
        ..Default::default()
    }
}

fn index_entry(
    source: DirectorySource,
    c: &crate::domain::line::DirectoryContact,
) -> DirectoryIndexEntry {
    DirectoryIndexEntry {
        source,
        name: format!("{} {}", c.first_name, c.last_name)
            .trim()
            .to_owned(),
        number: c.number.clone(),
        extension: c.extension.clone(),
        mobile: c.mobile.clone(),
        email: c.email.clone(),
        department: c.department.clone(),
        user_id: c.user_id.clone(),
    }
}
