//! The call path's ports and the call tracker: the SIP agent reports [`LineEvent`]s, the
//! tracker (in [`tracker`], once written) resolves callers against the directory and
//! history, applies Do Not Disturb, keeps the call history and drives the [`Notifier`];
//! the user's choice on a notification comes back as a [`NotificationAction`] and reaches
//! the agent through [`CallControl`].
//!
//! Types here are the contract between `deskline-sip` (producer of line events, implementor
//! of `CallControl`), `deskline-notifier` (implementor of `Notifier`) and the shells.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub mod tracker;

/// Why a ringing call stopped ringing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallEndReason {
    /// The caller hung up before anyone answered (CANCEL without "completed elsewhere").
    Missed,
    /// Another device of the line answered (CANCEL with `Reason: …;cause=200` /
    /// "Call completed elsewhere").
    AnsweredElsewhere,
    /// The user declined it here (we answered 603).
    Declined,
    /// The user answered it here.
    Answered,
}

/// What a line reports. `line` is the line's address of record (`sip:user@domain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LineEvent {
    /// A REGISTER succeeded (first time or after a failure); `expires` in seconds.
    Registered {
        /// The line.
        line: String,
        /// Granted expiry in seconds.
        expires: u32,
    },
    /// Registration failed; the agent keeps retrying with backoff unless `permanent`.
    RegistrationFailed {
        /// The line.
        line: String,
        /// A clear, user-facing reason ("SIP credentials rejected", "registrar not
        /// answering", …).
        reason: String,
        /// True when retrying cannot help without the user (credentials rejected).
        permanent: bool,
    },
    /// The line was unregistered (on quit or on request).
    Unregistered {
        /// The line.
        line: String,
    },
    /// An INVITE from the registrar/proxy flow is ringing the line.
    IncomingCall {
        /// The SIP Call-ID (unique per call).
        call_id: String,
        /// The line rung.
        line: String,
        /// The caller's number or URI user part, from P-Asserted-Identity or From.
        number: String,
        /// The caller's display name, when the request carried one.
        name: Option<String>,
        /// When the INVITE arrived.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A ringing call stopped ringing.
    CallEnded {
        /// The SIP Call-ID.
        call_id: String,
        /// The line.
        line: String,
        /// Why.
        reason: CallEndReason,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

/// What a notification shows for a ringing call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingCallView {
    /// The SIP Call-ID.
    pub call_id: String,
    /// The caller's name as resolved (directory, history, then the SIP display name).
    pub caller_name: Option<String>,
    /// The caller's number.
    pub caller_number: String,
    /// The line's label (e.g. "Dana Demo (PC)" or the AoR).
    pub line_label: String,
}

/// The action a user chose on a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationAction {
    /// Answer (comes with audio later; today it focuses the app).
    Answer,
    /// Decline: the agent answers 603 so every branch stops.
    Decline,
    /// The notification was dismissed without a choice.
    Dismissed,
}

/// A notification the notifier showed; opaque to the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NotificationId(pub u64);

/// What went wrong showing a notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// No notification service is running (no D-Bus session, no daemon).
    #[error("desktop notifications are not available ({reason})")]
    Unavailable {
        /// The platform's words.
        reason: String,
    },
    /// The notification service failed.
    #[error("the notification could not be shown ({reason})")]
    Failed {
        /// The platform's words.
        reason: String,
    },
}

/// Shows, updates and withdraws call notifications, and reports the chosen action.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Shows a notification for a ringing call with Answer/Decline actions. Chosen actions
    /// are reported through `actions` given to the notifier at construction, tagged with
    /// the call ID.
    async fn show_incoming(&self, call: &IncomingCallView) -> Result<NotificationId, NotifyError>;
    /// Withdraws a notification (the call stopped ringing).
    async fn close(&self, id: NotificationId) -> Result<(), NotifyError>;
}

/// Lets the tracker act on a ringing call.
#[async_trait]
pub trait CallControl: Send + Sync {
    /// Declines a ringing call (603 Decline). Unknown or already-ended calls are ignored.
    async fn decline(&self, call_id: &str);
}
