//! Records the core keeps through the [`Store`](crate::ports::Store) port: accounts,
//! settings snapshots with versions, outbox edits, the directory index and call history.
//! None of them holds a secret.

use crate::domain::settings::{Setting, SettingKey};
use crate::domain::values::UserId;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use url::Url;

/// An account's local identifier: the user ID and the server host, which is unique and
/// readable (`jdoe@example.com@xsp.example.net`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub String);

impl AccountId {
    /// The id of `user` on `server`.
    pub fn for_user(user: &UserId, server: &Url) -> Self {
        let host = server.host_str().unwrap_or("local");
        match server.port() {
            Some(port) => Self(format!("{user}@{host}:{port}")),
            None => Self(format!("{user}@{host}")),
        }
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A signed-in account (no password: that is in the vault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Local identifier.
    pub id: AccountId,
    /// The provider's base address (`https://xsp.example.net`).
    pub server: Url,
    /// The user ID the user signed in with.
    pub user_id: UserId,
    /// Sign in automatically at start with the password from the vault.
    pub sign_in_automatically: bool,
    /// When the account was added.
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
    /// When the last full sync finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sync_at: Option<OffsetDateTime>,
}

/// The provider's value of one setting as last seen, with a local version that goes up each
/// time the provider's value is seen to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    /// The value.
    pub value: Setting,
    /// Local version (1 for the first value seen).
    pub version: i64,
    /// When it was read from the provider.
    #[serde(with = "time::serde::rfc3339")]
    pub fetched_at: OffsetDateTime,
}

/// Where an outbox edit stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EditState {
    /// Waiting to be sent (or to be retried).
    Pending {
        /// The last transient failure, if any.
        last_error: Option<String>,
    },
    /// The provider's value changed underneath the edit; the user must decide.
    Conflict {
        /// The provider's value now.
        theirs: Setting,
        /// Which fields differ three ways (`forward_to`, `entries/Bob`).
        fields: Vec<String>,
    },
    /// The provider refused the edit; it was rolled back. Kept so the user sees why.
    Failed {
        /// The provider's reason.
        reason: String,
    },
}

/// An edit the user made that the provider does not have yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEdit {
    /// Store-assigned id.
    pub id: i64,
    /// The account.
    pub account: AccountId,
    /// The setting edited.
    pub key: SettingKey,
    /// The provider's value the edit was based on.
    pub base: Setting,
    /// The snapshot version of `base`.
    pub base_version: i64,
    /// The value the user wants.
    pub desired: Setting,
    /// The values this edit wanted at earlier attempts whose outcome is not known (the
    /// answer was lost). The provider holding one of them is not a conflict: it is ours.
    #[serde(default)]
    pub sent: Vec<Setting>,
    /// Where it stands.
    pub state: EditState,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not to be retried before this time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// When the user made the (first) edit.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Where a directory index entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectorySource {
    /// The user's personal phone list.
    Personal,
    /// The group directory.
    Group,
    /// The enterprise directory.
    Enterprise,
}

impl DirectorySource {
    /// `personal`, `group` or `enterprise`.
    pub fn as_str(self) -> &'static str {
        match self {
            DirectorySource::Personal => "personal",
            DirectorySource::Group => "group",
            DirectorySource::Enterprise => "enterprise",
        }
    }
}

/// One searchable directory entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryIndexEntry {
    /// Where it comes from.
    pub source: DirectorySource,
    /// Full name as shown.
    pub name: String,
    /// Phone number.
    pub number: Option<String>,
    /// Extension.
    pub extension: Option<String>,
    /// Mobile number.
    pub mobile: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// User ID, for group and enterprise entries.
    pub user_id: Option<String>,
}

impl DirectoryIndexEntry {
    /// The personal directory's entries as index entries.
    pub fn from_personal(dir: &crate::domain::settings::PersonalDirectory) -> Vec<Self> {
        dir.entries
            .iter()
            .map(|(name, number)| Self {
                source: DirectorySource::Personal,
                name: name.clone(),
                number: Some(number.to_string()),
                extension: None,
                mobile: None,
                email: None,
                department: None,
                user_id: None,
            })
            .collect()
    }
}

/// Direction of a call Deskline saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    /// Someone called the line.
    Incoming,
    /// The user dialled out (click-to-dial).
    Outgoing,
}

/// How a call Deskline saw ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Still ringing.
    Ringing,
    /// The caller gave up before anyone answered.
    Missed,
    /// A colleague or another device of the line answered.
    AnsweredElsewhere,
    /// The user declined it.
    Declined,
    /// The user answered it here.
    Answered,
    /// An outgoing call was started.
    Dialled,
}

/// A call Deskline saw itself (incoming on a registered line, or dialled from the app).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Unique id (the SIP Call-ID for incoming calls).
    pub id: String,
    /// The line (AoR) it came in on or went out from.
    pub line: String,
    /// Incoming or outgoing.
    pub direction: CallDirection,
    /// The other party's number or URI.
    pub number: String,
    /// The other party's name, as resolved.
    pub name: Option<String>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When it ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// How it ended.
    pub outcome: CallOutcome,
    /// Do Not Disturb was on: it was logged but not shown.
    pub suppressed_by_dnd: bool,
}
