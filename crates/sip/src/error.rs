//! The agent's error type: what can go wrong when starting it. Everything that goes wrong
//! later (registrar down, credentials rejected) is reported as a
//! [`LineEvent`](deskline_core::calls::LineEvent), not an error.

/// Why the agent could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    /// A line's settings cannot be used as they are.
    #[error("SIP line {line}: {reason}")]
    InvalidLine {
        /// The line's address of record.
        line: String,
        /// What is wrong and what to change.
        reason: String,
    },
    /// The same address of record was configured twice.
    #[error("SIP line {line} is configured twice: remove one of them")]
    DuplicateLine {
        /// The line's address of record.
        line: String,
    },
    /// The agent must run inside a Tokio runtime.
    #[error("the SIP agent must be started inside a Tokio runtime")]
    NoRuntime,
}
