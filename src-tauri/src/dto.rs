//! The wire types the web view sees: mirrors of the core's serialisable types with the
//! same JSON shape, plus the shell's own views. Only this module derives `specta::Type`,
//! so the generated `ui/src/lib/bindings.ts` describes exactly what crosses the IPC
//! boundary. Conversions go through `serde_json` ([`to_wire`], [`from_wire`]): a value
//! coming from the UI is rebuilt as a core value, which re-validates every field, and a
//! test checks that both sides keep the same JSON shape.
//!
//! Validated core values (numbers, SIP addresses, ring counts) are plain strings and
//! numbers here: the UI may type anything, the core decides.

use crate::error::AppError;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use specta::Type;
use std::collections::BTreeMap;

/// Converts a core value into its wire mirror (same JSON shape).
pub fn to_wire<A: Serialize, B: DeserializeOwned>(value: &A) -> Result<B, AppError> {
    let json = serde_json::to_value(value).map_err(AppError::internal)?;
    serde_json::from_value(json).map_err(AppError::internal)
}

/// Rebuilds a core value from what the UI sent; validation failures become
/// [`AppError::invalid_input`] with the core's words.
pub fn from_wire<A: Serialize, B: DeserializeOwned>(value: &A) -> Result<B, AppError> {
    let json = serde_json::to_value(value).map_err(AppError::internal)?;
    serde_json::from_value(json).map_err(|e| AppError::invalid_input(&e.to_string()))
}

/// Every personal service Deskline manages (`deskline_core::SettingKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum SettingKey {
    CallForwardingAlways,
    CallForwardingBusy,
    CallForwardingNoAnswer,
    CallForwardingNotReachable,
    DoNotDisturb,
    AnonymousCallRejection,
    CallWaiting,
    CallingLineIdDeliveryBlocking,
    RemoteOffice,
    SimultaneousRingPersonal,
    SequentialRing,
    #[serde(rename = "speed_dial_8")]
    SpeedDial8,
    #[serde(rename = "speed_dial_100")]
    SpeedDial100,
    CallNotify,
    #[serde(rename = "broadworks_anywhere")]
    BroadWorksAnywhere,
    PersonalDirectory,
}

/// Call Forwarding Busy / Not Reachable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct CallForwarding {
    /// On or off.
    pub active: bool,
    /// Where calls go.
    pub forward_to: Option<String>,
}

/// Call Forwarding Always.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct CallForwardingAlways {
    /// On or off.
    pub active: bool,
    /// Where calls go.
    pub forward_to: Option<String>,
    /// A short ring on the desk phone when a call is forwarded.
    pub ring_splash: bool,
}

/// Call Forwarding No Answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct CallForwardingNoAnswer {
    /// On or off.
    pub active: bool,
    /// Where calls go.
    pub forward_to: Option<String>,
    /// Rings before forwarding (0 or 2–20).
    pub number_of_rings: u8,
}

/// Do Not Disturb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct DoNotDisturb {
    /// On or off.
    pub active: bool,
    /// A short ring when a call is rejected.
    pub ring_splash: bool,
}

/// An on/off service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Toggle {
    /// On or off.
    pub active: bool,
}

/// Remote Office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct RemoteOffice {
    /// On or off.
    pub active: bool,
    /// The remote number.
    pub number: Option<String>,
}

/// Simultaneous Ring while on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum SimRingIncomingCalls {
    DoNotRingIfOnCall,
    RingForAllIncomingCalls,
}

/// One Simultaneous Ring number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SimRingLocation {
    /// Number or SIP address.
    pub address: String,
    /// The callee presses a key to take the call.
    pub answer_confirmation_required: bool,
}

/// Simultaneous Ring Personal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SimultaneousRing {
    /// On or off.
    pub active: bool,
    /// Behaviour while on a call.
    pub incoming_calls: SimRingIncomingCalls,
    /// Up to 10 numbers.
    pub locations: Vec<SimRingLocation>,
    /// Criteria by name with their activation flag.
    pub criteria: BTreeMap<String, bool>,
}

/// One Sequential Ring slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SequentialRingLocation {
    /// Number.
    pub address: String,
    /// Rings (0 or 2–20).
    pub number_of_rings: u8,
    /// The callee presses a key to take the call.
    pub answer_confirmation_required: bool,
}

/// Sequential Ring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SequentialRing {
    /// Ring the line first.
    pub ring_base_location_first: bool,
    /// Rings on the line.
    pub base_location_number_of_rings: u8,
    /// Go on when the line is busy.
    pub continue_if_base_location_is_busy: bool,
    /// The caller may stop the search.
    pub caller_may_stop_search: bool,
    /// Slots "1" to "5".
    pub locations: BTreeMap<String, SequentialRingLocation>,
    /// Criteria by name with their activation flag.
    pub criteria: BTreeMap<String, bool>,
}

/// A speed dial entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SpeedDialEntry {
    /// Number dialled.
    pub number: String,
    /// What the user calls it.
    pub description: Option<String>,
}

/// Speed Dial 8 (codes 2–9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SpeedDial8 {
    /// Entries by code.
    pub entries: BTreeMap<String, SpeedDialEntry>,
}

/// Speed Dial 100 (codes 0–99).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SpeedDial100 {
    /// Dialling prefix, read-only.
    pub prefix: Option<String>,
    /// Entries by code.
    pub entries: BTreeMap<String, SpeedDialEntry>,
}

/// Call Notify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct CallNotify {
    /// Where e-mails go.
    pub email: Option<String>,
    /// Criteria by name with their activation flag.
    pub criteria: BTreeMap<String, bool>,
}

/// One BroadWorks Anywhere location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct AnywhereLocation {
    /// Its number (the key).
    pub phone_number: String,
    /// Country code.
    pub country_code: Option<String>,
    /// What the user calls it.
    pub description: Option<String>,
    /// Calls ring it.
    pub active: bool,
}

/// BroadWorks Anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct BroadWorksAnywhere {
    /// Ring all locations for click-to-dial calls.
    pub alert_all_locations_for_click_to_dial_calls: bool,
    /// Ring all locations for group paging.
    pub alert_all_locations_for_group_paging_calls: bool,
    /// Locations by number.
    pub locations: BTreeMap<String, AnywhereLocation>,
}

/// The personal phone list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct PersonalDirectory {
    /// Numbers by name.
    pub entries: BTreeMap<String, String>,
}

/// One setting's value, tagged by its key (`deskline_core::Setting`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(tag = "key", content = "value", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Setting {
    CallForwardingAlways(CallForwardingAlways),
    CallForwardingBusy(CallForwarding),
    CallForwardingNoAnswer(CallForwardingNoAnswer),
    CallForwardingNotReachable(CallForwarding),
    DoNotDisturb(DoNotDisturb),
    AnonymousCallRejection(Toggle),
    CallWaiting(Toggle),
    CallingLineIdDeliveryBlocking(Toggle),
    RemoteOffice(RemoteOffice),
    SimultaneousRingPersonal(SimultaneousRing),
    SequentialRing(SequentialRing),
    #[serde(rename = "speed_dial_8")]
    SpeedDial8(SpeedDial8),
    #[serde(rename = "speed_dial_100")]
    SpeedDial100(SpeedDial100),
    CallNotify(CallNotify),
    #[serde(rename = "broadworks_anywhere")]
    BroadWorksAnywhere(BroadWorksAnywhere),
    PersonalDirectory(PersonalDirectory),
}

/// Where a setting stands relative to the provider (`deskline_core::sync::SettingStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
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
    /// The provider changed the same fields; the user chooses.
    Conflict {
        /// The queued edit.
        edit_id: i64,
        /// Fields in conflict.
        fields: Vec<String>,
        /// The provider's value now.
        theirs: Box<Setting>,
    },
    /// The provider refused the last change.
    Failed {
        /// The refused edit.
        edit_id: i64,
        /// The provider's reason.
        reason: String,
    },
}

/// What the user sees for one setting (`deskline_core::sync::SettingView`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SettingView {
    /// The setting.
    pub key: SettingKey,
    /// The value to show (pending edit if any).
    pub value: Setting,
    /// The provider's value as last synced.
    pub provider_value: Setting,
    /// Snapshot version.
    pub version: i64,
    /// When the provider's value was read (RFC 3339).
    pub fetched_at: String,
    /// Synced, pending, conflict or failed.
    pub status: SettingStatus,
}

/// How the user resolves a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Apply my change over the provider's value.
    KeepMine,
    /// Drop my change.
    TakeTheirs,
}

/// One forwarding at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ForwardingStatus {
    /// `always`, `busy`, `no_answer`, `not_reachable`.
    pub kind: String,
    /// On or off.
    pub active: bool,
    /// Where to.
    pub to: Option<String>,
    /// A change is waiting.
    pub pending: bool,
}

/// One soft client at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SoftClientStatus {
    /// Line/port.
    pub line_port: String,
    /// Device type.
    pub device_type: String,
    /// `primary` or `shared_call_appearance`.
    pub endpoint_type: String,
    /// SIP address of record.
    pub aor: Option<String>,
    /// Registrar.
    pub registrar: Option<String>,
    /// Transport.
    pub transport: Option<String>,
}

/// The signed-in account at a glance (`deskline_api::status::AccountStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct AccountStatus {
    /// Local id.
    pub account: String,
    /// User ID.
    pub user_id: String,
    /// Server address.
    pub server: String,
    /// Signs in automatically.
    pub sign_in_automatically: bool,
    /// The user's name.
    pub name: Option<String>,
    /// The line's number.
    pub number: Option<String>,
    /// The line's extension.
    pub extension: Option<String>,
    /// When the last sync finished (RFC 3339).
    pub last_sync_at: Option<String>,
    /// Do Not Disturb, when assigned.
    pub do_not_disturb: Option<bool>,
    /// Forwarding services.
    pub forwarding: Vec<ForwardingStatus>,
    /// Soft clients.
    pub soft_clients: Vec<SoftClientStatus>,
    /// Changes not yet on the provider.
    pub pending_changes: u32,
    /// Changes held as conflicts.
    pub conflicts: u32,
    /// Changes refused.
    pub failed_changes: u32,
}

/// Where a directory entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum DirectorySource {
    Personal,
    Group,
    Enterprise,
}

/// One directory search result (`deskline_core::DirectoryIndexEntry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct DirectoryEntry {
    /// Where it comes from.
    pub source: DirectorySource,
    /// Full name.
    pub name: String,
    /// Number.
    pub number: Option<String>,
    /// Extension.
    pub extension: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// User ID.
    pub user_id: Option<String>,
}

/// Which provider call log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum CallLogKind {
    Placed,
    Received,
    Missed,
}

/// One provider call log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct CallLogEntry {
    /// Provider's id.
    pub id: String,
    /// Placed, received or missed.
    pub kind: CallLogKind,
    /// The other party's number.
    pub number: String,
    /// Their name.
    pub name: Option<String>,
    /// When (RFC 3339).
    pub time: String,
}

/// Direction of a call Deskline saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum CallDirection {
    Incoming,
    Outgoing,
}

/// How a call Deskline saw ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum CallOutcome {
    Ringing,
    Missed,
    AnsweredElsewhere,
    Declined,
    Answered,
    Dialled,
}

/// A call Deskline saw itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct CallRecord {
    /// Id.
    pub id: String,
    /// Line.
    pub line: String,
    /// Direction.
    pub direction: CallDirection,
    /// Other party's number.
    pub number: String,
    /// Their name.
    pub name: Option<String>,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End (RFC 3339).
    pub ended_at: Option<String>,
    /// Outcome.
    pub outcome: CallOutcome,
    /// Logged but not shown because of DND.
    pub suppressed_by_dnd: bool,
}

/// Call history: the provider's logs and the calls Deskline saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct History {
    /// Provider call logs, newest first.
    pub logs: Vec<CallLogEntry>,
    /// Calls seen by Deskline, newest first.
    pub calls: Vec<CallRecord>,
}

/// How a device appears on the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum EndpointType {
    Primary,
    SharedCallAppearance,
    Other(String),
}

/// SIP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

/// A line's SIP settings, without password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SipLine {
    /// Address of record.
    pub aor: String,
    /// Digest user.
    pub auth_user: String,
    /// Registrar.
    pub registrar: String,
    /// Outbound proxy.
    pub outbound_proxy: Option<String>,
    /// Transport.
    pub transport: Transport,
    /// Display name.
    pub display_name: Option<String>,
}

/// A soft client shared with the user (never with its password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SoftClient {
    /// Device name.
    pub device_name: String,
    /// Device type.
    pub device_type: String,
    /// Primary or shared.
    pub endpoint_type: EndpointType,
    /// Line/port.
    pub line_port: String,
    /// SIP settings.
    pub sip: Option<SipLine>,
}

/// A live registration of one of the user's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Registration {
    /// Line/port.
    pub line_port: String,
    /// Contact.
    pub contact: String,
    /// Endpoint type.
    pub endpoint_type: String,
    /// User agent.
    pub user_agent: Option<String>,
    /// Expiry.
    pub expires: Option<String>,
}

/// Sync progress and outbox changes (`deskline_core::sync::SyncEvent`), streamed as the
/// `sync-event` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, tauri_specta::Event)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncEvent {
    /// A sync started.
    Started {
        /// Account.
        account: String,
        /// Steps.
        total: u32,
    },
    /// A step finished.
    Progress {
        /// Account.
        account: String,
        /// Steps done.
        done: u32,
        /// Steps in all.
        total: u32,
        /// What finished.
        step: String,
    },
    /// The sync finished.
    Finished {
        /// Account.
        account: String,
        /// Steps that failed transiently.
        failed_steps: Vec<String>,
    },
    /// An outbox edit changed state.
    EditChanged {
        /// Account.
        account: String,
        /// Edit.
        edit_id: i64,
        /// Setting.
        key: SettingKey,
        /// Confirmed by the provider.
        done: bool,
    },
}

/// Why a ringing call stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum CallEndReason {
    Missed,
    AnsweredElsewhere,
    Declined,
    Answered,
}

/// What a line reports (`deskline_core::calls::LineEvent`), streamed as `line-event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, tauri_specta::Event)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LineEvent {
    /// Registered.
    Registered {
        /// Line.
        line: String,
        /// Seconds.
        expires: u32,
    },
    /// Registration failed.
    RegistrationFailed {
        /// Line.
        line: String,
        /// Why, for the user.
        reason: String,
        /// Retrying cannot help.
        permanent: bool,
    },
    /// Unregistered.
    Unregistered {
        /// Line.
        line: String,
    },
    /// A call is ringing.
    IncomingCall {
        /// SIP Call-ID.
        call_id: String,
        /// Line rung.
        line: String,
        /// Caller's number.
        number: String,
        /// Caller's display name.
        name: Option<String>,
        /// When (RFC 3339).
        at: String,
    },
    /// A call stopped ringing.
    CallEnded {
        /// SIP Call-ID.
        call_id: String,
        /// Line.
        line: String,
        /// Why.
        reason: CallEndReason,
        /// When (RFC 3339).
        at: String,
    },
}

/// A known account, for the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct KnownAccount {
    /// Local id.
    pub account: String,
    /// User ID.
    pub user_id: String,
    /// Server.
    pub server: String,
    /// Signs in automatically.
    pub sign_in_automatically: bool,
}

impl From<deskline_core::Account> for KnownAccount {
    fn from(a: deskline_core::Account) -> Self {
        Self {
            account: a.id.0,
            user_id: a.user_id.to_string(),
            server: a.server.to_string(),
            sign_in_automatically: a.sign_in_automatically,
        }
    }
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SignedIn {
    /// Local id.
    pub account: String,
    /// User ID.
    pub user_id: String,
    /// Server.
    pub server: String,
    /// Running on the built-in demo provider.
    pub demo: bool,
}

/// The user's app preferences (kept by the shell in its config directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Preferences {
    /// Start Deskline (in the tray) when the user logs in.
    pub start_at_login: bool,
    /// Show a small ringing window for incoming calls.
    pub ring_window: bool,
    /// Keep the ringing window above other windows.
    pub ring_window_on_top: bool,
}

/// Everything the UI needs to choose its first screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct AppState {
    /// The signed-in account, if any.
    pub signed_in: Option<SignedIn>,
    /// Accounts known on this machine (for the sign-in page).
    pub known_accounts: Vec<KnownAccount>,
    /// Preferences.
    pub preferences: Preferences,
    /// The app's version.
    pub version: String,
    /// A sign-in at start failed (e.g. the saved password was refused): why.
    pub start_error: Option<String>,
}

/// Registration state of one line, as the shell tracks it from line events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Registering {
    /// Not yet answered.
    Connecting,
    /// Registered.
    Registered,
    /// Failed (retrying unless permanent).
    Failed,
    /// Unregistered.
    Unregistered,
}

/// One line's registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct LineStatus {
    /// Address of record.
    pub line: String,
    /// Label (display name or AoR).
    pub label: String,
    /// State.
    pub state: Registering,
    /// Why it failed.
    pub reason: Option<String>,
}

/// A call ringing now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct RingingCall {
    /// SIP Call-ID.
    pub call_id: String,
    /// Line rung.
    pub line: String,
    /// Caller's number.
    pub number: String,
    /// Caller's name as known.
    pub name: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// Whether the SIP agent runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum SipMode {
    /// Not signed in, or no soft client with SIP settings.
    Off,
    /// The demo provider (no real lines).
    Demo,
    /// Registering the soft-client lines.
    On,
}

/// The call side at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct LineState {
    /// Whether the SIP agent runs.
    pub sip: SipMode,
    /// Each line.
    pub lines: Vec<LineStatus>,
    /// Calls ringing now.
    pub ringing: Vec<RingingCall>,
    /// Calls missed since the user last looked.
    pub missed: u32,
}

/// Something the shell tells the UI (streamed as `app-event`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, tauri_specta::Event)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    /// Signed in or out: reload everything.
    SessionChanged,
    /// Show a page (from the tray menu).
    Navigate {
        /// Page id (`home`, `forwarding`, `history`, …).
        page: String,
    },
    /// A tel:/sip:/callto: link asks to call someone: confirm with the user.
    DialRequest {
        /// The number or address, as parsed from the link.
        destination: String,
    },
    /// The line state changed.
    LineChanged {
        /// The new state.
        state: LineState,
    },
    /// The system's light or dark preference changed.
    SystemTheme {
        /// Dark.
        dark: bool,
    },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use deskline_core as core;

    fn d(s: &str) -> core::Destination {
        core::Destination::parse(s).unwrap()
    }

    /// Every core setting survives the trip through its mirror with the same JSON.
    fn samples() -> Vec<core::Setting> {
        let mut seq = core::SequentialRing::default();
        seq.locations.insert(
            "2".into(),
            core::SequentialRingLocation {
                address: d("2145550101"),
                number_of_rings: core::RingCount::new(4).unwrap(),
                answer_confirmation_required: true,
            },
        );
        seq.criteria.insert("Weekdays".into(), true);
        let mut sd8 = core::SpeedDial8::default();
        sd8.entries.insert(
            "2".into(),
            core::SpeedDialEntry {
                number: d("+1-2145550100"),
                description: Some(core::Description::parse("Mum").unwrap()),
            },
        );
        let mut sd100 = core::SpeedDial100 {
            prefix: Some("#".into()),
            ..Default::default()
        };
        sd100.entries.insert(
            "17".into(),
            core::SpeedDialEntry {
                number: d("sip:bob@example.com"),
                description: None,
            },
        );
        let mut anywhere = core::BroadWorksAnywhere::default();
        anywhere.locations.insert(
            "2145550123".into(),
            core::AnywhereLocation {
                phone_number: core::PhoneNumber::parse("2145550123").unwrap(),
                country_code: Some("1".into()),
                description: Some(core::Description::parse("Mobile").unwrap()),
                active: true,
            },
        );
        let mut dir = core::PersonalDirectory::default();
        dir.entries.insert("Alice".into(), d("1001"));
        let mut notify = core::CallNotify {
            email: Some(core::EmailAddress::parse("me@example.com").unwrap()),
            ..Default::default()
        };
        notify.criteria.insert("VIP".into(), false);
        vec![
            core::Setting::CallForwardingAlways(core::CallForwardingAlways {
                active: true,
                forward_to: Some(d("2145550100")),
                ring_splash: true,
            }),
            core::Setting::CallForwardingBusy(core::CallForwarding::default()),
            core::Setting::CallForwardingNoAnswer(core::CallForwardingNoAnswer::default()),
            core::Setting::CallForwardingNotReachable(core::CallForwarding {
                active: false,
                forward_to: Some(d("tel:+1-2145550100")),
            }),
            core::Setting::DoNotDisturb(core::DoNotDisturb::default()),
            core::Setting::AnonymousCallRejection(core::Toggle { active: true }),
            core::Setting::CallWaiting(core::Toggle::default()),
            core::Setting::CallingLineIdDeliveryBlocking(core::Toggle::default()),
            core::Setting::RemoteOffice(core::RemoteOffice::default()),
            core::Setting::SimultaneousRingPersonal(core::SimultaneousRing {
                active: true,
                incoming_calls: core::SimRingIncomingCalls::RingForAllIncomingCalls,
                locations: vec![core::SimRingLocation {
                    address: d("2145550199"),
                    answer_confirmation_required: false,
                }],
                criteria: Default::default(),
            }),
            core::Setting::SequentialRing(seq),
            core::Setting::SpeedDial8(sd8),
            core::Setting::SpeedDial100(sd100),
            core::Setting::CallNotify(notify),
            core::Setting::BroadWorksAnywhere(anywhere),
            core::Setting::PersonalDirectory(dir),
        ]
    }

    #[test]
    fn every_setting_round_trips_through_its_mirror() {
        let all = samples();
        assert_eq!(all.len(), core::SettingKey::ALL.len());
        for setting in all {
            let wire: Setting = to_wire(&setting).unwrap();
            assert_eq!(
                serde_json::to_value(&wire).unwrap(),
                serde_json::to_value(&setting).unwrap()
            );
            let back: core::Setting = from_wire(&wire).unwrap();
            assert_eq!(back, setting);
        }
    }

    #[test]
    fn keys_match_the_core() {
        for key in core::SettingKey::ALL {
            let wire: SettingKey = to_wire(&key).unwrap();
            let back: core::SettingKey = from_wire(&wire).unwrap();
            assert_eq!(back, key);
        }
    }

    #[test]
    fn a_bad_number_from_the_ui_is_refused_with_the_core_reason() {
        let wire = Setting::CallForwardingAlways(CallForwardingAlways {
            active: true,
            forward_to: Some("call me maybe".into()),
            ring_splash: false,
        });
        let err = from_wire::<_, core::Setting>(&wire).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::Invalid);
        assert!(
            err.message.contains("not a phone number"),
            "{}",
            err.message
        );
        assert_eq!(err.field.as_deref(), Some("number"));
        let wire = Setting::CallForwardingNoAnswer(CallForwardingNoAnswer {
            active: false,
            forward_to: None,
            number_of_rings: 1,
        });
        let err = from_wire::<_, core::Setting>(&wire).unwrap_err();
        assert!(err.message.contains("1 ring"), "{}", err.message);
    }

    #[test]
    fn events_and_statuses_keep_their_shape() {
        let ev = core::sync::SyncEvent::EditChanged {
            account: core::AccountId("a@b@c".into()),
            edit_id: 7,
            key: core::SettingKey::SpeedDial8,
            done: true,
        };
        let wire: SyncEvent = to_wire(&ev).unwrap();
        assert_eq!(
            serde_json::to_value(&wire).unwrap(),
            serde_json::to_value(&ev).unwrap()
        );
        let status = core::sync::SettingStatus::Conflict {
            edit_id: 3,
            fields: vec!["forward_to".into()],
            theirs: Box::new(samples().remove(0)),
        };
        let wire: SettingStatus = to_wire(&status).unwrap();
        assert_eq!(
            serde_json::to_value(&wire).unwrap(),
            serde_json::to_value(&status).unwrap()
        );
        let line = core::calls::LineEvent::CallEnded {
            call_id: "x".into(),
            line: "sip:a@b".into(),
            reason: core::calls::CallEndReason::AnsweredElsewhere,
            at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let wire: LineEvent = to_wire(&line).unwrap();
        assert_eq!(
            serde_json::to_value(&wire).unwrap(),
            serde_json::to_value(&line).unwrap()
        );
    }
}
