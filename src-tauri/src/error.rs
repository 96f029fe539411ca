//! The one error type every command returns: a machine-readable [`ErrorCode`] so the UI
//! can react (show the sign-in page, mark a field) without matching strings, the
//! user-facing message (the core's own words, which are written for users), and the field
//! a validation error is about.

use deskline_api::ApiError;
use deskline_core::session::SessionError;
use deskline_core::sync::SyncError;
use deskline_core::{ProviderError, StoreError, ValidationError, VaultError};
use serde::{Deserialize, Serialize};
use specta::Type;

/// What kind of failure, for the UI to decide what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A value was refused (by Deskline or the provider); `field` names it when known.
    Invalid,
    /// The user ID or password was not accepted.
    Unauthorized,
    /// The account is locked or not allowed.
    Forbidden,
    /// The provider could not be reached; changes are kept and retried.
    Network,
    /// The server address does not resolve.
    UnknownServer,
    /// The server's certificate is not trusted.
    Tls,
    /// The server address is not acceptable.
    BadAddress,
    /// The provider answered something Deskline does not understand.
    Protocol,
    /// Nobody is signed in.
    NotSignedIn,
    /// The keychain has no password: sign in again.
    NoSavedPassword,
    /// Signing out would drop changes the provider does not have.
    UnsentChanges,
    /// The service is not assigned, or not synced yet.
    NotAvailable,
    /// The change is not (or no longer) there / not in conflict.
    NoSuchChange,
    /// The provider reported a conflict.
    Conflict,
    /// The keychain failed.
    Keychain,
    /// The local data failed.
    Storage,
    /// The demo provider could not start.
    Demo,
    /// Anything else (a bug).
    Internal,
}

/// A failure as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// What to tell the user.
    pub message: String,
    /// The field a validation error is about (`number`, `forward_to`, `user_id`, …).
    pub field: Option<String>,
}

impl AppError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A bug or an impossible state; the detail is shown (it never holds a secret).
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorCode::Internal,
            format!("Something went wrong inside Deskline ({detail})."),
        )
    }

    /// A value from the UI the core refused while rebuilding it; `text` is the core's
    /// `field: reason`.
    pub fn invalid_input(text: &str) -> Self {
        match text.split_once(": ") {
            Some((field, reason))
                if !field.is_empty()
                    && field.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                Self {
                    code: ErrorCode::Invalid,
                    message: capitalise(reason),
                    field: Some(field.to_owned()),
                }
            }
            _ => Self::new(ErrorCode::Invalid, capitalise(text)),
        }
    }

    /// Nobody is signed in.
    pub fn not_signed_in() -> Self {
        Self::new(ErrorCode::NotSignedIn, "You are not signed in.")
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        Self {
            code: ErrorCode::Invalid,
            message: capitalise(&e.reason),
            field: Some(e.field),
        }
    }
}

impl From<ProviderError> for AppError {
    fn from(e: ProviderError) -> Self {
        let code = match &e {
            ProviderError::Unauthorized => ErrorCode::Unauthorized,
            ProviderError::Forbidden { .. } => ErrorCode::Forbidden,
            ProviderError::NotFound { .. } => ErrorCode::NotAvailable,
            ProviderError::Invalid { .. } => ErrorCode::Invalid,
            ProviderError::Conflict { .. } => ErrorCode::Conflict,
            ProviderError::Unavailable { .. } => ErrorCode::Network,
            ProviderError::UnknownServer { .. } => ErrorCode::UnknownServer,
            ProviderError::Tls { .. } => ErrorCode::Tls,
            ProviderError::BadAddress { .. } => ErrorCode::BadAddress,
            ProviderError::Protocol { .. } => ErrorCode::Protocol,
        };
        let field = match &e {
            ProviderError::Invalid { field, .. } => field.clone(),
            ProviderError::UnknownServer { .. } | ProviderError::BadAddress { .. } => {
                Some("server".into())
            }
            _ => None,
        };
        Self {
            code,
            message: capitalise(&e.to_string()),
            field,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        Self::new(ErrorCode::Storage, capitalise(&e.to_string()))
    }
}

impl From<VaultError> for AppError {
    fn from(e: VaultError) -> Self {
        Self::new(ErrorCode::Keychain, capitalise(&e.to_string()))
    }
}

impl From<SyncError> for AppError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Invalid(v) => v.into(),
            SyncError::Provider(p) => p.into(),
            SyncError::Store(s) => s.into(),
            SyncError::Vault(v) => v.into(),
            SyncError::NotAvailable(key) => Self::new(
                ErrorCode::NotAvailable,
                format!(
                    "{key} is not available on your line (it is not assigned to you, or has not been synced yet)."
                ),
            ),
            SyncError::NoSuchEdit(_) | SyncError::NotInConflict(_) => Self::new(
                ErrorCode::NoSuchChange,
                "That change has already been sent or resolved.",
            ),
            SyncError::Merge(m) => Self::internal(m),
        }
    }
}

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Invalid(v) => v.into(),
            SessionError::Provider(p) => p.into(),
            SessionError::Vault(v) => v.into(),
            SessionError::Store(s) => s.into(),
            SessionError::Sync(s) => s.into(),
            // The core's own texts for these name CLI commands and flags; say it the
            // app's way.
            SessionError::NotSignedIn
            | SessionError::Ambiguous(_)
            | SessionError::UnknownAccount(_) => Self::not_signed_in(),
            SessionError::NoSavedPassword(account) => Self::new(
                ErrorCode::NoSavedPassword,
                format!("Deskline has no saved password for {account}: sign in again."),
            ),
            SessionError::UnsentChanges { count } => Self::new(
                ErrorCode::UnsentChanges,
                format!(
                    "{count} change(s) have not reached your provider yet. Wait until they are sent, or sign out anyway and drop them."
                ),
            ),
        }
    }
}

impl From<ApiError> for AppError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Store(s) => s.into(),
            ApiError::Vault(v) => v.into(),
            ApiError::Session(s) => s.into(),
            ApiError::Sync(s) => s.into(),
            ApiError::Provider(p) => p.into(),
            ApiError::Demo(reason) => Self::new(
                ErrorCode::Demo,
                format!("The demo could not start ({reason})."),
            ),
            other => Self::new(ErrorCode::Storage, capitalise(&other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_follow_the_core_classification() {
        let e: AppError = SessionError::Provider(ProviderError::Unauthorized).into();
        assert_eq!(e.code, ErrorCode::Unauthorized);
        assert!(e.message.starts_with("The user ID or password"));
        let e: AppError = ApiError::Session(SessionError::Invalid(ValidationError::new(
            "user_id",
            "enter your user ID, for example jdoe@example.com",
        )))
        .into();
        assert_eq!(e.code, ErrorCode::Invalid);
        assert_eq!(e.field.as_deref(), Some("user_id"));
        assert_eq!(
            e.message,
            "Enter your user ID, for example jdoe@example.com"
        );
        let e: AppError = SessionError::UnsentChanges { count: 2 }.into();
        assert_eq!(e.code, ErrorCode::UnsentChanges);
        assert!(!e.message.contains("--"), "no CLI flags in app texts");
        let e: AppError = ProviderError::UnknownServer {
            host: "nowhere.invalid".into(),
        }
        .into();
        assert_eq!(e.code, ErrorCode::UnknownServer);
        assert_eq!(e.field.as_deref(), Some("server"));
    }

    #[test]
    fn invalid_input_splits_field_and_reason() {
        let e = AppError::invalid_input("number: a phone number has at most 23 characters");
        assert_eq!(e.field.as_deref(), Some("number"));
        assert_eq!(e.message, "A phone number has at most 23 characters");
        let e = AppError::invalid_input("missing field `active`");
        assert_eq!(e.field, None);
    }
}
