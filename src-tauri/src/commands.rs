//! The Tauri commands: each one is a short delegation to `deskline-api`/the core, with the
//! values converted at the boundary ([`crate::dto`]) and errors as [`AppError`]. Their
//! TypeScript signatures are generated into `ui/src/lib/bindings.ts`.

use crate::dto::{self, from_wire, to_wire};
use crate::error::{AppError, ErrorCode};
use crate::state::Shell;
use deskline_core::sync::SyncScope;
use deskline_core::{CallDirection, CallOutcome, CallRecord, DirectoryScope};
use secrecy::SecretString;
use std::sync::Arc;
use tauri::{AppHandle, Manager as _, State};
use tauri_plugin_autostart::ManagerExt as _;

type Shared<'a> = State<'a, Arc<Shell>>;

/// Who is signed in, the known accounts and the preferences: the UI's first question.
#[tauri::command]
#[specta::specta]
pub async fn app_state(app: AppHandle, shell: Shared<'_>) -> Result<dto::AppState, AppError> {
    tracing::debug!(
        ms = crate::since_start_ms(),
        "the page asks for the app state"
    );
    let mut state = shell.app_state().await?;
    state.preferences.start_at_login = app.autolaunch().is_enabled().unwrap_or(false);
    Ok(state)
}

/// Signs in (checks the credentials with the provider, keeps the password in the
/// keychain) and starts the first full sync in the background (`sync-event` progress).
#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    app: AppHandle,
    shell: Shared<'_>,
    server: String,
    user_id: String,
    password: String,
    sign_in_automatically: bool,
) -> Result<dto::SignedIn, AppError> {
    let password = SecretString::from(password);
    let deskline = shell.real_deskline().await?;
    let session = deskline
        .accounts()
        .sign_in(&server, &user_id, password, sign_in_automatically)
        .await?;
    let signed = dto::SignedIn {
        account: session.account.id.0.clone(),
        user_id: session.account.user_id.to_string(),
        server: session.account.server.to_string(),
        demo: false,
    };
    shell.clear_start_error();
    shell
        .inner()
        .start_session(&app, deskline, None, session, Some(SyncScope::Full))
        .await;
    shell.remember_account().await;
    Ok(signed)
}

/// Opens the built-in demo provider and signs in to its demo account.
#[tauri::command]
#[specta::specta]
pub async fn try_demo(app: AppHandle, shell: Shared<'_>) -> Result<dto::SignedIn, AppError> {
    shell.clear_start_error();
    shell.inner().start_demo(&app).await
}

/// Signs out: the passwords leave the keychain; with `forget`, the cached line too.
/// Refuses while changes are unsent unless `discard_changes`.
#[tauri::command]
#[specta::specta]
pub async fn sign_out(
    app: AppHandle,
    shell: Shared<'_>,
    forget: bool,
    discard_changes: bool,
) -> Result<(), AppError> {
    shell.sign_out(&app, forget, discard_changes).await
}

/// The account at a glance, from the cache (no network).
#[tauri::command]
#[specta::specta]
pub async fn account_status(shell: Shared<'_>) -> Result<dto::AccountStatus, AppError> {
    let (session, deskline) = shell.session().await?;
    let account = deskline
        .account_status(&session.account.id)
        .await?
        .ok_or_else(AppError::not_signed_in)?;
    to_wire(&account)
}

/// Every setting as the user should see it, with its outbox status.
#[tauri::command]
#[specta::specta]
pub async fn settings(shell: Shared<'_>) -> Result<Vec<dto::SettingView>, AppError> {
    let (session, _) = shell.session().await?;
    to_wire(&session.engine.settings().await?)
}

/// Queues a change of one setting (validated by the core; durable when this returns) and
/// sends it in the background.
#[tauri::command]
#[specta::specta]
pub async fn edit_setting(
    shell: Shared<'_>,
    value: dto::Setting,
) -> Result<dto::SettingView, AppError> {
    let (session, _) = shell.session().await?;
    let edit = session.engine.edit(from_wire(&value)?).await?;
    spawn_flush(&session);
    to_wire(&session.engine.setting(edit.key).await?)
}

/// Resolves a conflict (keep mine or take theirs) and sends what is left.
#[tauri::command]
#[specta::specta]
pub async fn resolve_conflict(
    shell: Shared<'_>,
    edit_id: i64,
    resolution: dto::Resolution,
) -> Result<(), AppError> {
    let (session, _) = shell.session().await?;
    session
        .engine
        .resolve(edit_id, from_wire(&resolution)?)
        .await?;
    spawn_flush(&session);
    Ok(())
}

/// Drops a queued or refused change.
#[tauri::command]
#[specta::specta]
pub async fn discard_change(shell: Shared<'_>, edit_id: i64) -> Result<(), AppError> {
    let (session, _) = shell.session().await?;
    Ok(session.engine.discard(edit_id).await?)
}

/// Re-reads the line from the provider now; returns the steps that failed transiently.
#[tauri::command]
#[specta::specta]
pub async fn sync_now(shell: Shared<'_>, full: bool) -> Result<Vec<String>, AppError> {
    let (session, _) = shell.session().await?;
    let scope = if full {
        SyncScope::Full
    } else {
        SyncScope::Incremental
    };
    Ok(session.engine.sync(scope).await?)
}

/// Search as you type over the personal, group and enterprise directories (cache).
#[tauri::command]
#[specta::specta]
pub async fn search_directory(
    shell: Shared<'_>,
    text: String,
    limit: u32,
) -> Result<Vec<dto::DirectoryEntry>, AppError> {
    let (session, deskline) = shell.session().await?;
    let found = deskline
        .store()
        .search_directory(&session.account.id, &text, limit.clamp(1, 200) as usize)
        .await?;
    to_wire(&found)
}

/// Asks the provider's group or enterprise directory (when the cache has no match).
#[tauri::command]
#[specta::specta]
pub async fn search_remote_directory(
    shell: Shared<'_>,
    text: String,
    enterprise: bool,
) -> Result<Vec<dto::DirectoryEntry>, AppError> {
    let (session, _) = shell.session().await?;
    let scope = if enterprise {
        DirectoryScope::Enterprise
    } else {
        DirectoryScope::Group
    };
    let query = deskline_core::DirectoryQuery {
        name: Some(text),
        start: 1,
        results: 50,
        ..Default::default()
    };
    let page = session
        .engine
        .provider()
        .search_directory(scope, &query)
        .await?;
    let source = if enterprise {
        deskline_core::DirectorySource::Enterprise
    } else {
        deskline_core::DirectorySource::Group
    };
    let entries: Vec<deskline_core::DirectoryIndexEntry> = page
        .contacts
        .iter()
        .map(|c| deskline_core::DirectoryIndexEntry {
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
        })
        .collect();
    to_wire(&entries)
}

/// The provider's call logs and the calls Deskline saw, newest first (cache).
#[tauri::command]
#[specta::specta]
pub async fn call_history(shell: Shared<'_>) -> Result<dto::History, AppError> {
    let (session, deskline) = shell.session().await?;
    let store = deskline.store();
    Ok(dto::History {
        logs: to_wire(&store.call_logs(&session.account.id).await?)?,
        calls: to_wire(&store.call_history(&session.account.id, 200).await?)?,
    })
}

/// Click-to-dial: the provider rings the user's phone (or the given soft client), then
/// the destination. The call is kept in Deskline's history.
#[tauri::command]
#[specta::specta]
pub async fn dial(
    shell: Shared<'_>,
    destination: String,
    line_port: Option<String>,
) -> Result<(), AppError> {
    let (session, deskline) = shell.session().await?;
    let destination = crate::links::parse_link(&destination)
        .or_else(|_| deskline_core::Destination::parse(&destination))?;
    let started = session
        .engine
        .provider()
        .dial(&destination, line_port.as_deref())
        .await?;
    let record = CallRecord {
        id: started.call_id,
        line: line_port.unwrap_or_else(|| session.account.user_id.to_string()),
        direction: CallDirection::Outgoing,
        number: destination.to_string(),
        name: None,
        started_at: time::OffsetDateTime::now_utc(),
        ended_at: None,
        outcome: CallOutcome::Dialled,
        suppressed_by_dnd: false,
    };
    Ok(deskline
        .store()
        .record_call(&session.account.id, &record)
        .await?)
}

/// The soft clients shared with the user (cache).
#[tauri::command]
#[specta::specta]
pub async fn soft_clients(shell: Shared<'_>) -> Result<Vec<dto::SoftClient>, AppError> {
    let (session, deskline) = shell.session().await?;
    to_wire(&deskline.store().soft_clients(&session.account.id).await?)
}

/// The line's live registrations, asked from the provider now.
#[tauri::command]
#[specta::specta]
pub async fn registrations(shell: Shared<'_>) -> Result<Vec<dto::Registration>, AppError> {
    let (session, _) = shell.session().await?;
    to_wire(&session.engine.provider().registrations().await?)
}

/// Registration of the soft-client lines, ringing and missed calls.
#[tauri::command]
#[specta::specta]
pub async fn line_state(shell: Shared<'_>) -> Result<dto::LineState, AppError> {
    shell.wait_ready().await;
    Ok(shell.line_state())
}

/// Saves the app preferences (start at login goes to the OS).
#[tauri::command]
#[specta::specta]
pub async fn set_preferences(
    app: AppHandle,
    shell: Shared<'_>,
    preferences: dto::Preferences,
) -> Result<dto::Preferences, AppError> {
    let autolaunch = app.autolaunch();
    let result = if preferences.start_at_login {
        autolaunch.enable()
    } else {
        autolaunch.disable()
    };
    if let Err(e) = result {
        return Err(AppError::new(
            ErrorCode::Internal,
            format!("Start at login could not be changed ({e})."),
        ));
    }
    shell
        .set_ring_preferences(preferences.ring_window, preferences.ring_window_on_top)
        .await;
    Ok(shell.preferences_view(Some(autolaunch.is_enabled().unwrap_or(false))))
}

/// The number a tel:/sip:/callto: link asked to call, if one is waiting.
#[tauri::command]
#[specta::specta]
pub async fn take_pending_dial(shell: Shared<'_>) -> Result<Option<String>, AppError> {
    Ok(shell.take_pending_dial())
}

/// Whether the system asks for a dark theme now (the page asks once it listens for
/// changes: one made while the first window was being made would be lost to it).
#[tauri::command]
#[specta::specta]
pub async fn system_dark() -> Result<bool, AppError> {
    Ok(crate::appearance::is_dark_now())
}

/// Declines a ringing call (603) on every device of the line.
#[tauri::command]
#[specta::specta]
pub async fn decline_call(shell: Shared<'_>, call_id: String) -> Result<(), AppError> {
    shell.decline(&call_id).await;
    Ok(())
}

/// Shows the main window (from the ringing window), on `page` when given.
#[tauri::command]
#[specta::specta]
pub async fn open_main_window(app: AppHandle, page: Option<String>) -> Result<(), AppError> {
    crate::tray::show_main(&app, page.as_deref());
    Ok(())
}

/// Closes the main window as its close button does (Ctrl+W): Deskline goes on in the tray.
#[tauri::command]
#[specta::specta]
pub async fn close_main_window(app: AppHandle) -> Result<(), AppError> {
    if let Some(window) = app.get_webview_window(crate::tray::MAIN_WINDOW) {
        let _ = window.close();
    }
    Ok(())
}

/// The user has seen the missed calls: the tray stops showing them.
#[tauri::command]
#[specta::specta]
pub async fn missed_calls_seen(app: AppHandle, shell: Shared<'_>) -> Result<(), AppError> {
    shell.missed_calls_seen(&app).await;
    Ok(())
}

fn spawn_flush(session: &deskline_core::session::Session) {
    let engine = session.engine.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = engine.flush(false).await {
            tracing::warn!(error = %e, "sending the change failed; it stays queued");
        }
    });
}
