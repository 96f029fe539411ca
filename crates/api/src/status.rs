//! The status read model: what `deskline status` and the app's home page show, built from
//! the cache alone (no network on this path), with pending edits shown as the values the
//! user will see.

use deskline_core::{
    Account, AccountId, EditState, EndpointType, Setting, SettingKey, Store, StoreError,
};
use serde::Serialize;
use time::OffsetDateTime;

/// Every account's status.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// One entry per account.
    pub accounts: Vec<AccountStatus>,
}

/// One account at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct AccountStatus {
    /// Local id.
    pub account: AccountId,
    /// The user ID.
    pub user_id: String,
    /// The provider's address.
    pub server: String,
    /// Signs in automatically at start.
    pub sign_in_automatically: bool,
    /// The user's name.
    pub name: Option<String>,
    /// The line's number.
    pub number: Option<String>,
    /// The line's extension.
    pub extension: Option<String>,
    /// When the last sync finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sync_at: Option<OffsetDateTime>,
    /// Do Not Disturb, when the service is there.
    pub do_not_disturb: Option<bool>,
    /// Each forwarding service that is there.
    pub forwarding: Vec<ForwardingStatus>,
    /// The soft clients shared with the user.
    pub soft_clients: Vec<SoftClientStatus>,
    /// Changes not yet on the provider.
    pub pending_changes: usize,
    /// Changes held as conflicts.
    pub conflicts: usize,
    /// Changes the provider refused.
    pub failed_changes: usize,
}

/// One forwarding service.
#[derive(Debug, Clone, Serialize)]
pub struct ForwardingStatus {
    /// `always`, `busy`, `no_answer`, `not_reachable`.
    pub kind: &'static str,
    /// On or off.
    pub active: bool,
    /// Where to.
    pub to: Option<String>,
    /// A change is waiting to be sent.
    pub pending: bool,
}

/// One soft client.
#[derive(Debug, Clone, Serialize)]
pub struct SoftClientStatus {
    /// Its line/port.
    pub line_port: String,
    /// Device type.
    pub device_type: String,
    /// `primary` or `shared_call_appearance`.
    pub endpoint_type: String,
    /// SIP address of record, when known.
    pub aor: Option<String>,
    /// Registrar.
    pub registrar: Option<String>,
    /// Transport.
    pub transport: Option<String>,
}

/// Builds the status of `accounts` from the store.
pub async fn status(store: &dyn Store, accounts: Vec<Account>) -> Result<Status, StoreError> {
    let mut out = Vec::with_capacity(accounts.len());
    for account in accounts {
        out.push(account_status(store, account).await?);
    }
    Ok(Status { accounts: out })
}

/// The status of the account `id`, when the store has it.
pub(crate) async fn account_status_of(
    store: &dyn Store,
    id: &AccountId,
) -> Result<Option<AccountStatus>, crate::ApiError> {
    let Some(account) = store.accounts().await?.into_iter().find(|a| &a.id == id) else {
        return Ok(None);
    };
    Ok(Some(account_status(store, account).await?))
}

async fn account_status(store: &dyn Store, account: Account) -> Result<AccountStatus, StoreError> {
    let id = account.id.clone();
    let profile = store.profile(&id).await?;
    let snapshots = store.snapshots(&id).await?;
    let edits = store.edits(&id).await?;
    let pending_keys: Vec<SettingKey> = edits
        .iter()
        .filter(|e| matches!(e.state, EditState::Pending { .. }))
        .map(|e| e.key)
        .collect();
    let effective = |key: SettingKey| -> Option<Setting> {
        edits
            .iter()
            .find(|e| e.key == key && !matches!(e.state, EditState::Failed { .. }))
            .map(|e| e.desired.clone())
            .or_else(|| {
                snapshots
                    .iter()
                    .find(|s| s.value.key() == key)
                    .map(|s| s.value.clone())
            })
    };
    let do_not_disturb = match effective(SettingKey::DoNotDisturb) {
        Some(Setting::DoNotDisturb(d)) => Some(d.active),
        _ => None,
    };
    let mut forwarding = Vec::new();
    for (kind, key) in [
        ("always", SettingKey::CallForwardingAlways),
        ("busy", SettingKey::CallForwardingBusy),
        ("no_answer", SettingKey::CallForwardingNoAnswer),
        ("not_reachable", SettingKey::CallForwardingNotReachable),
    ] {
        let (active, to) = match effective(key) {
            Some(Setting::CallForwardingAlways(v)) => (v.active, v.forward_to),
            Some(Setting::CallForwardingBusy(v)) | Some(Setting::CallForwardingNotReachable(v)) => {
                (v.active, v.forward_to)
            }
            Some(Setting::CallForwardingNoAnswer(v)) => (v.active, v.forward_to),
            _ => continue,
        };
        forwarding.push(ForwardingStatus {
            kind,
            active,
            to: to.map(|d| d.to_string()),
            pending: pending_keys.contains(&key),
        });
    }
    let soft_clients = store
        .soft_clients(&id)
        .await?
        .into_iter()
        .map(|c| SoftClientStatus {
            line_port: c.line_port,
            device_type: c.device_type,
            endpoint_type: match c.endpoint_type {
                EndpointType::Primary => "primary".into(),
                EndpointType::SharedCallAppearance => "shared_call_appearance".into(),
                EndpointType::Other(o) => o,
            },
            aor: c.sip.as_ref().map(|s| s.aor.to_string()),
            registrar: c.sip.as_ref().map(|s| s.registrar.clone()),
            transport: c.sip.as_ref().map(|s| s.transport.as_str().to_owned()),
        })
        .collect();
    Ok(AccountStatus {
        account: id,
        user_id: account.user_id.to_string(),
        server: account.server.to_string(),
        sign_in_automatically: account.sign_in_automatically,
        name: profile.as_ref().map(|p| p.display_name()),
        number: profile.as_ref().and_then(|p| p.number.clone()),
        extension: profile.as_ref().and_then(|p| p.extension.clone()),
        last_sync_at: account.last_sync_at,
        do_not_disturb,
        forwarding,
        soft_clients,
        pending_changes: pending_keys.len(),
        conflicts: edits
            .iter()
            .filter(|e| matches!(e.state, EditState::Conflict { .. }))
            .count(),
        failed_changes: edits
            .iter()
            .filter(|e| matches!(e.state, EditState::Failed { .. }))
            .count(),
    })
}
