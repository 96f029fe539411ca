//! The first screen at once. While GTK and the web view start, a thread reads what the
//! main window shows first (who is signed in, the account at a glance, every setting with
//! its outbox status, the call history) from the local cache: read only, no network, no
//! keychain, nothing secret. The first main window hands it to the page in an
//! initialization script; the UI renders it in its first frame and then loads the live
//! state from the shell as usual, so the first screen waits for none of the start-up (a
//! tray handing the line over, the demo provider starting, the first sync).
//!
//! The reader is `deskline_api::cached::CachedView` (the cache alone, never created); it
//! chooses the account the start-up resumes as the shell does: the demo when started with
//! `--demo` or when the preferences say so, else the first account that signs in
//! automatically. When it cannot tell, or the cache holds no line yet, there is no
//! snapshot and the UI loads as before. (The shell also needs the saved password, which the
//! reader does not read: an account whose password was removed shows its cached line for
//! the moment the shell takes to say it is signed out.)

use crate::dto;
use crate::state::ShellOptions;
use deskline_api::cached::CachedView;
use deskline_core::Account;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The global the page finds the snapshot in (`ui/src/lib/backend/tauri.ts` takes it).
pub const GLOBAL: &str = "__DESKLINE_FIRST_SCREEN__";

/// `identifier` of `tauri.conf.json`: without a data directory the shell's preferences are
/// in the platform's config directory under it (Tauri's `app_config_dir`).
const IDENTIFIER: &str = "org.deskline.desktop";

/// Longest time the reader may take; later, it gives up (and the UI loads as before).
const READ_BUDGET: Duration = Duration::from_millis(1500);

/// What the main window shows first, from the cache, in the wire types of the commands the
/// UI calls right after for the live state.
#[derive(Debug, Clone, Serialize)]
pub struct FirstScreen {
    /// As `app_state` answers once start-up is over (without a start-up error).
    pub state: dto::AppState,
    /// As `account_status`.
    pub status: dto::AccountStatus,
    /// As `settings`.
    pub settings: Vec<dto::SettingView>,
    /// As `call_history`.
    pub history: dto::History,
    /// The line as the start-up shows it, when that is known without starting it (the
    /// demo's); `None` for an account, whose lines the start-up registers.
    pub line: Option<dto::LineState>,
    /// When it was read (Unix milliseconds): the UI ignores an old one.
    pub read_at_ms: u64,
}

enum Slot {
    Reading,
    Done(Option<Box<FirstScreen>>),
    Taken,
}

struct Prefetch {
    slot: Mutex<Slot>,
    done: Condvar,
    /// Where the reader looked for the preferences, when not in the data directory.
    config_dir: Option<PathBuf>,
}

static PREFETCH: OnceLock<Prefetch> = OnceLock::new();

fn lock(m: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts reading the first screen on a thread of its own; `main` calls it first, before
/// GTK starts. Nothing for a start hidden in the tray.
pub fn prefetch() {
    let options = ShellOptions::from_env();
    if options.minimized {
        return;
    }
    // Tauri's `app_config_dir` (checked again when the window takes the snapshot).
    let config_dir = match options.data_dir {
        Some(_) => None,
        None => dirs::config_dir().map(|d| d.join(IDENTIFIER)),
    };
    let prefetch = PREFETCH.get_or_init(|| Prefetch {
        slot: Mutex::new(Slot::Reading),
        done: Condvar::new(),
        config_dir: config_dir.clone(),
    });
    let spawned = std::thread::Builder::new()
        .name("deskline-first-screen".into())
        .spawn(move || {
            let started = Instant::now();
            let screen = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
                .and_then(|rt| {
                    rt.block_on(async {
                        tokio::time::timeout(READ_BUDGET, read(&options, config_dir.as_deref()))
                            .await
                            .ok()
                            .flatten()
                    })
                });
            tracing::debug!(
                found = screen.is_some(),
                ms = started.elapsed().as_millis() as u64,
                "first screen read from the cache"
            );
            *lock(&prefetch.slot) = Slot::Done(screen.map(Box::new));
            prefetch.done.notify_all();
        });
    if spawned.is_err() {
        *lock(&prefetch.slot) = Slot::Done(None);
    }
}

/// Takes the snapshot for the first main window, waiting at most `wait` for the reader.
/// `None` once taken, when there is none, and when the reader looked for the preferences
/// elsewhere than in `config_dir` (Tauri's app config directory).
pub fn take(wait: Duration, config_dir: Option<&Path>) -> Option<FirstScreen> {
    let prefetch = PREFETCH.get()?;
    let deadline = Instant::now() + wait;
    let mut slot = lock(&prefetch.slot);
    while matches!(*slot, Slot::Reading) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // Too late for this window: the UI loads the live state as before.
            return None;
        }
        slot = prefetch
            .done
            .wait_timeout(slot, left)
            .map(|(s, _)| s)
            .unwrap_or_else(|p| p.into_inner().0);
    }
    let Slot::Done(screen) = std::mem::replace(&mut *slot, Slot::Taken) else {
        return None;
    };
    let screen = screen?;
    match &prefetch.config_dir {
        Some(looked) if Some(looked.as_path()) != config_dir => None,
        _ => Some(*screen),
    }
}

/// Resolves once the reader is done with the cache (at most its budget): the start-up opens
/// the database after it, so two first opens (and migrations) never run at once.
pub async fn settled() {
    let Some(prefetch) = PREFETCH.get() else {
        return;
    };
    let deadline = Instant::now() + READ_BUDGET;
    while matches!(*lock(&prefetch.slot), Slot::Reading) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The initialization script that hands `screen` to the page: a JSON literal with `<` and
/// the line and paragraph separators escaped, so it is the same value as JavaScript
/// whatever its strings hold.
pub fn script(screen: &FirstScreen) -> Option<String> {
    let json = serde_json::to_string(screen).ok()?;
    Some(format!(
        "Object.defineProperty(window, '{GLOBAL}', {{ value: {}, writable: true, configurable: true }});",
        js_literal(&json)
    ))
}

fn js_literal(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// The preferences file as far as the reader needs it (the shell's has the same fields).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Prefs {
    mode: Option<String>,
    ring_window: Option<bool>,
    ring_window_on_top: Option<bool>,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

async fn read(options: &ShellOptions, config_dir: Option<&Path>) -> Option<FirstScreen> {
    let prefs_path = match &options.data_dir {
        Some(d) => d.join("app-preferences.json"),
        None => config_dir?.join("preferences.json"),
    };
    let prefs: Prefs = match tokio::fs::read_to_string(&prefs_path).await {
        Ok(text) => serde_json::from_str(&text).ok()?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Prefs::default(),
        Err(_) => return None,
    };
    // As `Shell::start` decides.
    let demo = options.demo || prefs.mode.as_deref() == Some("demo");
    let real_dir = options
        .data_dir
        .clone()
        .or_else(deskline_api::default_data_dir)?;
    // The demo's account in its own directory, or the first that signs in automatically.
    let dir = if demo {
        real_dir.join("demo")
    } else {
        real_dir.clone()
    };
    let cache = CachedView::open_existing(&dir).await.ok()??;
    let account = cache.account_to_resume(demo).await.ok()??;
    // `app_state` lists the accounts of the real data directory, also for the demo.
    let known_accounts = if demo {
        match CachedView::open_existing(&real_dir).await.ok()? {
            Some(real) => known_accounts(&real).await?,
            None => Vec::new(),
        }
    } else {
        known_accounts(&cache).await?
    };
    let (status, settings, history) = cached(&cache, &account).await?;
    if status.last_sync_at.is_none() && settings.is_empty() {
        // Nothing read from the provider yet: that is the first sync's page.
        return None;
    }
    let line = demo.then(|| dto::LineState {
        sip: dto::SipMode::Demo,
        lines: Vec::new(),
        ringing: Vec::new(),
        missed: 0,
    });
    Some(FirstScreen {
        state: dto::AppState {
            signed_in: Some(dto::SignedIn {
                account: account.id.0.clone(),
                user_id: account.user_id.to_string(),
                server: if demo {
                    deskline_api::demo::DEMO_SERVER.into()
                } else {
                    account.server.to_string()
                },
                demo,
            }),
            known_accounts,
            preferences: dto::Preferences {
                // Asked from the OS by the window (`tray::show_main`).
                start_at_login: false,
                ring_window: prefs.ring_window.unwrap_or(true),
                ring_window_on_top: prefs.ring_window_on_top.unwrap_or(true),
            },
            version: env!("CARGO_PKG_VERSION").into(),
            start_error: None,
        },
        status,
        settings,
        history,
        line,
        read_at_ms: now_ms(),
    })
}

async fn known_accounts(cache: &CachedView) -> Option<Vec<dto::KnownAccount>> {
    let accounts = cache.accounts().await.ok()?;
    Some(accounts.into_iter().map(dto::KnownAccount::from).collect())
}

/// What `account_status`, `settings` and `call_history` answer, from the cache.
async fn cached(
    cache: &CachedView,
    account: &Account,
) -> Option<(dto::AccountStatus, Vec<dto::SettingView>, dto::History)> {
    let status = cache.account_status(&account.id).await.ok()??;
    let settings = cache.settings(&account.id).await.ok()?;
    let history = dto::History {
        logs: dto::to_wire(&cache.call_logs(&account.id).await.ok()?).ok()?,
        calls: dto::to_wire(&cache.call_history(&account.id, 200).await.ok()?).ok()?,
    };
    Some((
        dto::to_wire(&status).ok()?,
        dto::to_wire(&settings).ok()?,
        history,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use deskline_api::OpenOptions;

    fn files_in(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(files_in(&path));
            }
            found.push(path);
        }
        found.sort();
        found
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn reads_what_the_commands_answer_from_the_demo_cache() {
        let dir = tempfile::tempdir().unwrap();
        // A first start of the demo: signed in and fully synced, then stopped.
        let (deskline, demo, session) = deskline_api::demo::open_demo(OpenOptions {
            data_dir: Some(dir.path().join("demo")),
            extra_ca_pem: None,
        })
        .await
        .unwrap();
        let want_settings: Vec<dto::SettingView> =
            dto::to_wire(&session.engine.settings().await.unwrap()).unwrap();
        let want_status: dto::AccountStatus = dto::to_wire(
            &deskline
                .account_status(&session.account.id)
                .await
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        let store = deskline.store();
        let want_logs: Vec<dto::CallLogEntry> =
            dto::to_wire(&store.call_logs(&session.account.id).await.unwrap()).unwrap();
        demo.shutdown().await;
        drop((deskline, session, store));

        let options = ShellOptions {
            data_dir: Some(dir.path().to_path_buf()),
            demo: true,
            ..Default::default()
        };
        let screen = read(&options, None).await.unwrap();
        let signed = screen.state.signed_in.as_ref().unwrap();
        assert!(signed.demo);
        assert_eq!(signed.server, deskline_api::demo::DEMO_SERVER);
        assert_eq!(screen.status, want_status);
        assert!(screen.status.last_sync_at.is_some());
        assert_eq!(screen.settings, want_settings);
        assert!(!screen.settings.is_empty());
        assert_eq!(screen.history.logs, want_logs);
        assert_eq!(
            screen.line.as_ref().map(|l| l.sip),
            Some(dto::SipMode::Demo)
        );
        assert!(screen.state.start_error.is_none());
        // Nothing secret in what the page is given.
        let script = script(&screen).unwrap();
        assert!(!script.contains(deskline_api::demo::DEMO_PASSWORD));

        // The preferences choose the demo too.
        std::fs::write(
            dir.path().join("app-preferences.json"),
            r#"{"mode":"demo","ring_window":false}"#,
        )
        .unwrap();
        let by_prefs = ShellOptions {
            data_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let screen = read(&by_prefs, None).await.unwrap();
        assert!(!screen.state.preferences.ring_window);
        assert!(screen.state.signed_in.unwrap().demo);
        // Without the demo chosen, the real data directory has no account: no snapshot.
        std::fs::write(
            dir.path().join("app-preferences.json"),
            r#"{"mode":"account"}"#,
        )
        .unwrap();
        assert!(read(&by_prefs, None).await.is_none());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn without_a_cache_there_is_none_and_nothing_is_created() {
        let dir = tempfile::tempdir().unwrap();
        for demo in [false, true] {
            let options = ShellOptions {
                data_dir: Some(dir.path().to_path_buf()),
                demo,
                ..Default::default()
            };
            assert!(read(&options, None).await.is_none());
        }
        assert_eq!(files_in(dir.path()), Vec::<PathBuf>::new());
    }

    #[test]
    fn the_script_is_a_javascript_literal_whatever_the_strings_hold() {
        let json = serde_json::json!({ "name": "</script><b>\u{2028}\u{2029}'\"" }).to_string();
        let literal = js_literal(&json);
        assert!(!literal.contains('<'));
        assert!(!literal.contains('\u{2028}') && !literal.contains('\u{2029}'));
        // Still the same JSON value.
        let back: serde_json::Value = serde_json::from_str(&literal).unwrap();
        assert_eq!(back["name"], "</script><b>\u{2028}\u{2029}'\"");
    }
}
