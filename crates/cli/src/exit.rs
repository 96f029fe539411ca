//! Exit codes, so scripts can tell kinds of failure apart: 0 success, 1 other failure,
//! 2 usage, 3 authentication, 4 network (provider unreachable), 5 validation (a value was
//! refused, by Deskline or by the provider), 6 conflict (a change is held for you to decide).

use deskline_api::ApiError;
use deskline_core::ProviderError;
use deskline_core::session::SessionError;
use deskline_core::sync::SyncError;

/// Any other failure.
pub const FAILURE: u8 = 1;
/// Bad command line.
pub const USAGE: u8 = 2;
/// Credentials refused, locked account, not signed in.
pub const AUTH: u8 = 3;
/// The provider could not be reached.
pub const NETWORK: u8 = 4;
/// A value was refused.
pub const VALIDATION: u8 = 5;
/// A change is held as a conflict.
pub const CONFLICT: u8 = 6;

/// A failure that carries its exit code explicitly.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Coded {
    /// The exit code.
    pub code: u8,
    /// What to tell the user.
    pub message: String,
}

/// Fails with `code` and `message`.
pub fn fail(code: u8, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Coded {
        code,
        message: message.into(),
    })
}

fn provider_code(e: &ProviderError) -> u8 {
    match e {
        ProviderError::Unauthorized | ProviderError::Forbidden { .. } => AUTH,
        ProviderError::Unavailable { .. }
        | ProviderError::UnknownServer { .. }
        | ProviderError::Tls { .. } => NETWORK,
        ProviderError::Invalid { .. }
        | ProviderError::NotFound { .. }
        | ProviderError::BadAddress { .. } => VALIDATION,
        ProviderError::Conflict { .. } => CONFLICT,
        ProviderError::Protocol { .. } => FAILURE,
    }
}

fn sync_code(e: &SyncError) -> u8 {
    match e {
        SyncError::Invalid(_) | SyncError::NotAvailable(_) | SyncError::NoSuchEdit(_) => VALIDATION,
        SyncError::NotInConflict(_) => USAGE,
        SyncError::Provider(p) => provider_code(p),
        _ => FAILURE,
    }
}

fn session_code(e: &SessionError) -> u8 {
    match e {
        SessionError::Invalid(_) => VALIDATION,
        SessionError::Provider(p) => provider_code(p),
        SessionError::Sync(s) => sync_code(s),
        SessionError::NotSignedIn | SessionError::NoSavedPassword(_) => AUTH,
        SessionError::Ambiguous(_) | SessionError::UnknownAccount(_) => USAGE,
        SessionError::UnsentChanges { .. } => CONFLICT,
        _ => FAILURE,
    }
}

/// The exit code for an error.
pub fn classify(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(c) = cause.downcast_ref::<Coded>() {
            return c.code;
        }
        if let Some(e) = cause.downcast_ref::<ApiError>() {
            return match e {
                ApiError::Session(s) => session_code(s),
                ApiError::Sync(s) => sync_code(s),
                ApiError::Provider(p) => provider_code(p),
                ApiError::NotSignedIn => AUTH,
                _ => FAILURE,
            };
        }
        if let Some(e) = cause.downcast_ref::<SessionError>() {
            return session_code(e);
        }
        if let Some(e) = cause.downcast_ref::<SyncError>() {
            return sync_code(e);
        }
        if let Some(e) = cause.downcast_ref::<ProviderError>() {
            return provider_code(e);
        }
        if cause
            .downcast_ref::<deskline_core::ValidationError>()
            .is_some()
        {
            return VALIDATION;
        }
    }
    FAILURE
}

/// A word for the exit code, for `--json` error objects.
pub fn kind_name(code: u8) -> &'static str {
    match code {
        USAGE => "usage",
        AUTH => "auth",
        NETWORK => "network",
        VALIDATION => "validation",
        CONFLICT => "conflict",
        _ => "failure",
    }
}
