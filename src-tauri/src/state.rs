//! The shell's state: which account runs (a [`Running`] session with its background
//! tasks: event streaming, the outbox, periodic sync, the SIP agent), the user's app
//! preferences, the line state for the tray and the ringing window, and a dial request
//! waiting for the UI. Every decision about the line is the core's; this is wiring.

use crate::dto::{self, AppEvent, LineState, Preferences, SipMode};
use crate::error::AppError;
use deskline_api::demo::Demo;
use deskline_api::resident::{RunnerOptions, SessionRunner};
use deskline_api::{Deskline, OpenOptions};
use deskline_core::session::Session;
use deskline_core::sync::SyncScope;
use deskline_notifier::DesktopNotifier;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tauri::{AppHandle, Manager};
use tauri_specta::Event as _;
use tokio::sync::{OnceCell, RwLock, watch};

/// How the shell was started.
#[derive(Debug, Clone, Default)]
pub struct ShellOptions {
    /// Data directory override (`--data-dir` or `DESKLINE_DATA_DIR`); the demo then lives
    /// in its `demo` subdirectory and the preferences file beside the data.
    pub data_dir: Option<PathBuf>,
    /// Started hidden in the tray (`--minimized`, used by start at login).
    pub minimized: bool,
    /// Register the soft-client lines over SIP (off with `DESKLINE_SIP=off`).
    pub sip: bool,
    /// An extra trusted CA (PEM) for providers with a private CA (`DESKLINE_CA_FILE`).
    pub extra_ca_pem: Option<String>,
    /// Open the built-in demo provider at start (`--demo` or `DESKLINE_DEMO=1`), whatever
    /// ran last.
    pub demo: bool,
}

impl ShellOptions {
    /// Reads the options from the command line and the environment.
    pub fn from_env() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let data_dir = args
            .iter()
            .position(|a| a == "--data-dir")
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("DESKLINE_DATA_DIR").map(PathBuf::from));
        let extra_ca_pem =
            std::env::var_os("DESKLINE_CA_FILE").and_then(|p| std::fs::read_to_string(p).ok());
        Self {
            data_dir,
            minimized: args.iter().any(|a| a == "--minimized"),
            sip: std::env::var("DESKLINE_SIP")
                .map(|v| v != "off")
                .unwrap_or(true),
            extra_ca_pem,
            demo: args.iter().any(|a| a == "--demo")
                || std::env::var("DESKLINE_DEMO").is_ok_and(|v| v == "1"),
        }
    }
}

/// Which provider the app used last, so the next start resumes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    #[default]
    None,
    Account,
    Demo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
struct PrefsFile {
    mode: Mode,
    ring_window: bool,
    ring_window_on_top: bool,
}

impl Default for PrefsFile {
    fn default() -> Self {
        Self {
            mode: Mode::None,
            ring_window: true,
            ring_window_on_top: true,
        }
    }
}

/// A signed-in account and what runs for it.
pub struct Running {
    /// The open library (store, vault, connector).
    pub deskline: Arc<Deskline>,
    /// The demo provider, when running the demo.
    pub demo: Option<Demo>,
    /// The session.
    pub session: Session,
    /// Its outbox, syncs and lines.
    runner: SessionRunner,
    /// Stops the shell's own tasks that follow it.
    stop: watch::Sender<bool>,
}

/// The shell's state, managed by Tauri.
pub struct Shell {
    /// How the shell was started.
    pub options: ShellOptions,
    ready: watch::Sender<bool>,
    running: RwLock<Option<Running>>,
    real: OnceCell<Arc<Deskline>>,
    prefs: Mutex<PrefsFile>,
    prefs_path: Mutex<Option<PathBuf>>,
    /// Line registration, ringing calls, missed calls.
    pub line: Mutex<LineState>,
    pending_dial: Mutex<Option<String>>,
    start_error: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shell {
    /// A shell that has not started anything yet.
    pub fn new(options: ShellOptions) -> Self {
        let (ready, _) = watch::channel(false);
        Self {
            options,
            ready,
            running: RwLock::new(None),
            real: OnceCell::new(),
            prefs: Mutex::new(PrefsFile::default()),
            prefs_path: Mutex::new(None),
            line: Mutex::new(LineState {
                sip: SipMode::Off,
                lines: Vec::new(),
                ringing: Vec::new(),
                missed: 0,
            }),
            pending_dial: Mutex::new(None),
            start_error: Mutex::new(None),
        }
    }

    /// Waits until the start-up sign-in has finished (commands see a settled state).
    pub async fn wait_ready(&self) {
        let mut rx = self.ready.subscribe();
        let _ = rx.wait_for(|r| *r).await;
    }

    /// Start-up: read the preferences, resume the last account (or the demo) from the
    /// cache, then refresh it from the provider in the background.
    pub async fn start(self: &Arc<Self>, app: &AppHandle) {
        // A tray process may hold the line: it unregisters and exits first.
        crate::handoff::take_over_from_tray().await;
        // The first screen's reader opens the cache first: never two first opens at once.
        crate::tray::first_screen::settled().await;
        let path = match &self.options.data_dir {
            Some(d) => Some(d.join("app-preferences.json")),
            None => app
                .path()
                .app_config_dir()
                .ok()
                .map(|d| d.join("preferences.json")),
        };
        if let Some(p) = &path
            && let Ok(text) = tokio::fs::read_to_string(p).await
        {
            match serde_json::from_str::<PrefsFile>(&text) {
                Ok(prefs) => *lock(&self.prefs) = prefs,
                Err(e) => tracing::warn!(error = %e, "preferences file unreadable; using defaults"),
            }
        }
        *lock(&self.prefs_path) = path;
        let mode = lock(&self.prefs).mode;
        let result = match mode {
            _ if self.options.demo => self.start_demo(app).await.map(|_| ()),
            Mode::Demo => self.start_demo(app).await.map(|_| ()),
            Mode::Account | Mode::None => self.resume_automatic(app).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not resume at start");
            *lock(&self.start_error) = Some(e.message);
        }
        // `send` would not store the value while nobody waits yet.
        self.ready.send_replace(true);
        tracing::debug!(ms = crate::since_start_ms(), "start-up: shell started");
    }

    async fn resume_automatic(self: &Arc<Self>, app: &AppHandle) -> Result<(), AppError> {
        let deskline = self.real_deskline().await?;
        let sessions = deskline.accounts().automatic().await?;
        if let Some(session) = sessions.into_iter().next() {
            self.start_session(app, deskline, None, session, Some(SyncScope::Incremental))
                .await;
        }
        Ok(())
    }

    /// The library on the user's real data directory, opened once.
    pub async fn real_deskline(&self) -> Result<Arc<Deskline>, AppError> {
        self.real
            .get_or_try_init(|| async {
                let deskline = Deskline::open(OpenOptions {
                    data_dir: self.options.data_dir.clone(),
                    extra_ca_pem: self.options.extra_ca_pem.clone(),
                })
                .await?;
                Ok::<_, AppError>(Arc::new(deskline))
            })
            .await
            .cloned()
    }

    /// Opens (or resumes) the built-in demo and makes it the running session.
    pub async fn start_demo(self: &Arc<Self>, app: &AppHandle) -> Result<dto::SignedIn, AppError> {
        let (deskline, demo, session) = deskline_api::demo::open_demo(OpenOptions {
            data_dir: self.options.data_dir.as_ref().map(|d| d.join("demo")),
            extra_ca_pem: None,
        })
        .await?;
        let signed_in = signed_in(&session, true);
        self.start_session(
            app,
            Arc::new(deskline),
            Some(demo),
            session,
            Some(SyncScope::Incremental),
        )
        .await;
        self.set_mode(Mode::Demo).await;
        Ok(signed_in)
    }

    /// Remembers that the next start resumes a real account.
    pub async fn remember_account(&self) {
        self.set_mode(Mode::Account).await;
    }

    /// Makes `session` the running one: stops the previous one, streams its events to the
    /// UI, runs its outbox, syncs it (`first_sync`) and periodically, registers its lines.
    pub async fn start_session(
        self: &Arc<Self>,
        app: &AppHandle,
        deskline: Arc<Deskline>,
        demo: Option<Demo>,
        session: Session,
        first_sync: Option<SyncScope>,
    ) {
        self.stop_running().await;
        let (stop, stop_rx) = watch::channel(false);
        crate::events::spawn_sync_forwarder(app.clone(), session.engine.clone(), stop_rx.clone());
        let is_demo = demo.is_some();
        let (action_tx, action_rx) = tokio::sync::mpsc::channel(64);
        let notifier = DesktopNotifier::new(action_tx);
        let sip = !is_demo && self.options.sip;
        if sip && let Err(e) = notifier.probe().await {
            tracing::warn!(error = %e, "no desktop notifications; calls still show in the app");
        }
        let mut options = RunnerOptions::new(Arc::new(notifier), action_rx);
        options.sip = sip;
        options.first_sync = first_sync;
        let runner = SessionRunner::start(deskline.clone(), session.clone(), options);
        if sip {
            crate::line::follow(app, self, &runner, &stop_rx);
        } else {
            lock(&self.line).sip = if is_demo { SipMode::Demo } else { SipMode::Off };
        }
        *self.running.write().await = Some(Running {
            deskline,
            demo,
            session,
            runner,
            stop,
        });
        let _ = AppEvent::SessionChanged.emit(app);
        crate::tray::refresh(app).await;
    }

    /// The user has seen the missed calls.
    pub async fn missed_calls_seen(&self, app: &AppHandle) {
        if let Some(running) = self.running.read().await.as_ref() {
            running.runner.missed_seen().await;
        }
        self.update_line(app, |s| s.missed = 0);
    }

    /// Whether the running session is the demo's.
    pub async fn is_demo(&self) -> bool {
        self.running
            .read()
            .await
            .as_ref()
            .is_some_and(|r| r.demo.is_some())
    }

    /// Stops the running session's tasks, unregisters its lines and stops the demo.
    pub async fn stop_running(&self) -> Option<Arc<Deskline>> {
        let running = self.running.write().await.take()?;
        let _ = running.stop.send(true);
        running.runner.shutdown().await;
        if let Some(demo) = running.demo {
            demo.shutdown().await;
        }
        *lock(&self.line) = LineState {
            sip: SipMode::Off,
            lines: Vec::new(),
            ringing: Vec::new(),
            missed: 0,
        };
        Some(running.deskline)
    }

    /// Signs the running account out (and forgets its cache with `forget`).
    pub async fn sign_out(
        &self,
        app: &AppHandle,
        forget: bool,
        discard_changes: bool,
    ) -> Result<(), AppError> {
        let (deskline, account) = {
            let guard = self.running.read().await;
            let running = guard.as_ref().ok_or_else(AppError::not_signed_in)?;
            (running.deskline.clone(), running.session.account.id.clone())
        };
        deskline
            .accounts()
            .sign_out(&account, forget, discard_changes)
            .await?;
        self.stop_running().await;
        self.set_mode(Mode::None).await;
        let _ = AppEvent::SessionChanged.emit(app);
        crate::tray::refresh(app).await;
        Ok(())
    }

    /// The running session and its library, once start-up is over (the UI's commands ask
    /// this, so they never see a half-started shell).
    pub async fn session(&self) -> Result<(Session, Arc<Deskline>), AppError> {
        self.wait_ready().await;
        self.session_now().await
    }

    /// The running session and its library as they are now, without waiting for start-up
    /// (for the shell's own tasks during start-up, such as the tray: waiting there would
    /// wait for itself).
    pub async fn session_now(&self) -> Result<(Session, Arc<Deskline>), AppError> {
        let guard = self.running.read().await;
        let running = guard.as_ref().ok_or_else(AppError::not_signed_in)?;
        Ok((running.session.clone(), running.deskline.clone()))
    }

    /// Declines a ringing call of the running session (603), if it has lines.
    pub async fn decline(&self, call_id: &str) {
        if let Some(running) = self.running.read().await.as_ref() {
            running.runner.decline(call_id).await;
        }
    }

    /// What the UI needs for its first screen.
    pub async fn app_state(&self) -> Result<dto::AppState, AppError> {
        self.wait_ready().await;
        let signed = {
            let guard = self.running.read().await;
            guard
                .as_ref()
                .map(|r| signed_in(&r.session, r.demo.is_some()))
        };
        let known_accounts = match self.real_deskline().await {
            Ok(d) => d
                .accounts()
                .list()
                .await?
                .into_iter()
                .map(dto::KnownAccount::from)
                .collect(),
            Err(_) => Vec::new(),
        };
        Ok(dto::AppState {
            signed_in: signed,
            known_accounts,
            preferences: self.preferences_view(None),
            version: env!("CARGO_PKG_VERSION").into(),
            start_error: lock(&self.start_error).clone(),
        })
    }

    /// The preferences as the UI sees them; `start_at_login` comes from the OS.
    pub fn preferences_view(&self, start_at_login: Option<bool>) -> Preferences {
        let p = lock(&self.prefs).clone();
        Preferences {
            start_at_login: start_at_login.unwrap_or(false),
            ring_window: p.ring_window,
            ring_window_on_top: p.ring_window_on_top,
        }
    }

    /// Saves the ringing-window preferences.
    pub async fn set_ring_preferences(&self, ring_window: bool, on_top: bool) {
        {
            let mut p = lock(&self.prefs);
            p.ring_window = ring_window;
            p.ring_window_on_top = on_top;
        }
        self.save_prefs().await;
    }

    async fn set_mode(&self, mode: Mode) {
        lock(&self.prefs).mode = mode;
        self.save_prefs().await;
    }

    async fn save_prefs(&self) {
        let Some(path) = lock(&self.prefs_path).clone() else {
            return;
        };
        let text = match serde_json::to_string_pretty(&*lock(&self.prefs)) {
            Ok(t) => t,
            Err(_) => return,
        };
        if let Some(dir) = path.parent() {
            let _ = tokio::fs::create_dir_all(dir).await;
        }
        if let Err(e) = tokio::fs::write(&path, text).await {
            tracing::warn!(error = %e, path = %path.display(), "could not save preferences");
        }
    }

    /// Whether the ringing window is wanted, and on top.
    pub fn ring_window(&self) -> (bool, bool) {
        let p = lock(&self.prefs);
        (p.ring_window, p.ring_window_on_top)
    }

    /// Keeps a dial request until the UI takes it.
    pub fn set_pending_dial(&self, destination: Option<String>) {
        *lock(&self.pending_dial) = destination;
    }

    /// Takes the waiting dial request.
    pub fn take_pending_dial(&self) -> Option<String> {
        lock(&self.pending_dial).take()
    }

    /// The line state now.
    pub fn line_state(&self) -> LineState {
        lock(&self.line).clone()
    }

    /// Changes the line state and tells the UI and the tray.
    pub fn update_line(&self, app: &AppHandle, change: impl FnOnce(&mut LineState)) {
        let state = {
            let mut line = lock(&self.line);
            change(&mut line);
            line.clone()
        };
        let _ = AppEvent::LineChanged { state }.emit(app);
        let app = app.clone();
        tauri::async_runtime::spawn(async move { crate::tray::refresh(&app).await });
    }

    /// Clears the start-up error once the user has signed in.
    pub fn clear_start_error(&self) {
        *lock(&self.start_error) = None;
    }

    /// Whether a session runs (without waiting for start-up).
    pub async fn is_signed_in(&self) -> bool {
        self.running.read().await.is_some()
    }
}

fn signed_in(session: &Session, demo: bool) -> dto::SignedIn {
    dto::SignedIn {
        account: session.account.id.0.clone(),
        user_id: session.account.user_id.to_string(),
        server: if demo {
            deskline_api::demo::DEMO_SERVER.into()
        } else {
            session.account.server.to_string()
        },
        demo,
    }
}
