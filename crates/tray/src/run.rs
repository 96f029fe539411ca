//! The tray's life: take the tray's bus name (or leave, when a tray or the app already
//! has the line), show the icon, open the data directory and resume the automatic
//! account (or the demo), wait for the app that started it to exit (`--after-app`),
//! run the session with [`SessionRunner`] and the desktop notifier, and follow the user
//! and the bus until Quit, a signal or `Handover()`; then unregister and leave.

use crate::TrayError;
use crate::control::{APP_NAME, Control, Request, TRAY_NAME, TRAY_PATH};
use crate::icons::Icons;
use crate::launch::open_app;
use crate::sni::{Sni, UiEvent};
use crate::view::{LineMode, TrayView};
use crate::wait::{AFTER_APP_LIMIT, wait_exit};
use deskline_api::demo::Demo;
use deskline_api::resident::{
    EXPIRES, LineSummary, RunnerOptions, SessionRunner, session_call_plan,
};
use deskline_api::{Deskline, OpenOptions};
use deskline_core::calls::NotificationAction;
use deskline_core::calls::tracker::TrackerEvent;
use deskline_core::session::Session;
use deskline_core::sync::{SyncEvent, SyncScope};
use deskline_notifier::DesktopNotifier;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use zbus::Connection;

/// How the tray was started.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Data directory (`--data-dir` or `DESKLINE_DATA_DIR`); the demo lives in its `demo`
    /// subdirectory, as in the app.
    pub data_dir: Option<PathBuf>,
    /// Run the built-in demo provider (`--demo`).
    pub demo: bool,
    /// The app that started the tray: register only once it has exited.
    pub after_app: Option<u32>,
    /// Register the soft-client lines (off with `DESKLINE_SIP=off`).
    pub sip: bool,
    /// An extra trusted CA (PEM) for the provider (`DESKLINE_CA_FILE`).
    pub extra_ca_pem: Option<String>,
    /// The app to open (`DESKLINE_APP_BIN`).
    pub app_bin: Option<PathBuf>,
}

/// Why the tray ended (each is a success).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Quit from the menu or a signal: the lines were unregistered.
    Quit,
    /// The app took the line over.
    HandedOver,
    /// Another tray has the line.
    AlreadyRunning,
    /// The app runs and has the line.
    AppRunning,
}

/// Runs the tray until it ends.
pub async fn run(options: Options) -> Result<Outcome, TrayError> {
    let icons = Arc::new(Icons::decode()?);
    let conn = Connection::session().await.map_err(TrayError::NoBus)?;
    let outcome = serve(&conn, options, icons).await;
    // Every reply (Handover's above all) leaves before the process does.
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.graceful_shutdown()).await;
    outcome
}

async fn app_running(conn: &Connection) -> Result<bool, TrayError> {
    let dbus = zbus::fdo::DBusProxy::new(conn).await?;
    let name = zbus::names::BusName::try_from(APP_NAME)?;
    Ok(dbus.name_has_owner(name).await.map_err(zbus::Error::from)?)
}

async fn serve(
    conn: &Connection,
    options: Options,
    icons: Arc<Icons>,
) -> Result<Outcome, TrayError> {
    let (requests_tx, mut requests) = mpsc::channel(8);
    let (diagnostics, summary_json) = watch::channel("{}".to_owned());
    conn.object_server()
        .at(
            TRAY_PATH,
            Control {
                requests: requests_tx,
                summary: summary_json,
            },
        )
        .await?;
    match conn
        .request_name_with_flags(TRAY_NAME, zbus::fdo::RequestNameFlags::DO_NOT_QUEUE)
        .await
    {
        Ok(_) => {}
        Err(zbus::Error::NameTaken) => return Ok(Outcome::AlreadyRunning),
        Err(e) => return Err(e.into()),
    }
    if options.after_app.is_none() && app_running(conn).await? {
        let _ = conn.release_name(TRAY_NAME).await;
        return Ok(Outcome::AppRunning);
    }
    let mut signals = Signals::new()?;
    let (ui_tx, mut ui) = mpsc::unbounded_channel();
    let sni = Sni::start(conn, icons, TrayView::starting(), ui_tx).await?;
    let mut tray = Tray {
        sni,
        diagnostics,
        account: String::new(),
        mode: if options.demo {
            LineMode::Demo
        } else if options.sip {
            LineMode::On
        } else {
            LineMode::Off
        },
        options,
        opened: None,
        summary: LineSummary::default(),
        runner: None,
    };
    let ended = tray.life(&mut requests, &mut ui, &mut signals).await;
    let (outcome, done) = match ended {
        Ok(Ended::Quit) => (Ok(Outcome::Quit), None),
        Ok(Ended::HandedOver(done)) => (Ok(Outcome::HandedOver), Some(done)),
        Err(e) => (Err(e), None),
    };
    tray.finish().await;
    let _ = conn.release_name(TRAY_NAME).await;
    if let Some(done) = done {
        let _ = done.send(());
        // The reply is sent by the handler's task: let it run before the bus closes.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    outcome
}

enum Ended {
    Quit,
    HandedOver(oneshot::Sender<()>),
}

/// The session the tray resumed.
struct Opened {
    deskline: Arc<Deskline>,
    session: Session,
    demo: Option<Demo>,
}

#[derive(Serialize)]
struct Diagnostics<'a> {
    pid: u32,
    signed_in: bool,
    account: &'a str,
    mode: &'static str,
    item: &'a str,
    #[serde(flatten)]
    summary: &'a LineSummary,
}

struct Tray {
    sni: Sni,
    diagnostics: watch::Sender<String>,
    account: String,
    mode: LineMode,
    options: Options,
    opened: Option<Opened>,
    summary: LineSummary,
    runner: Option<SessionRunner>,
}

/// The running session and what the tray follows of it.
struct Running {
    runner: SessionRunner,
    events: broadcast::Receiver<TrackerEvent>,
    summary: watch::Receiver<LineSummary>,
    sync: broadcast::Receiver<SyncEvent>,
}

impl Tray {
    fn view(&self) -> TrayView {
        match &self.opened {
            None => TrayView::signed_out(),
            Some(_) => TrayView::signed_in(&self.account, self.mode, &self.summary),
        }
    }

    async fn show(&self) {
        let view = self.view();
        let json = serde_json::to_string(&Diagnostics {
            pid: std::process::id(),
            signed_in: self.opened.is_some(),
            account: if self.opened.is_some() {
                &self.account
            } else {
                ""
            },
            mode: match self.mode {
                LineMode::On => "on",
                LineMode::Demo => "demo",
                LineMode::Off => "off",
            },
            item: self.sni.name(),
            summary: &self.summary,
        })
        .unwrap_or_else(|_| "{}".to_owned());
        self.diagnostics.send_replace(json);
        self.sni.update(view).await;
    }

    async fn refresh_account(&mut self) {
        let Some(opened) = &self.opened else { return };
        let status = opened
            .deskline
            .account_status(&opened.session.account.id)
            .await
            .ok()
            .flatten();
        self.account = match status {
            Some(s) => match (s.name, s.number) {
                (Some(name), Some(number)) => format!("{name} · {number}"),
                (Some(name), None) => name,
                (None, _) => s.user_id,
            },
            None => opened.session.account.user_id.to_string(),
        };
    }

    fn open_app(&self) {
        open_app(
            self.options.app_bin.as_deref(),
            self.options.data_dir.as_deref(),
            self.options.demo,
        );
    }

    async fn open_session(&self) -> Result<Option<Opened>, TrayError> {
        if self.options.demo {
            let (deskline, demo, session) = deskline_api::demo::open_demo(OpenOptions {
                data_dir: self.options.data_dir.as_ref().map(|d| d.join("demo")),
                extra_ca_pem: None,
            })
            .await?;
            return Ok(Some(Opened {
                deskline: Arc::new(deskline),
                session,
                demo: Some(demo),
            }));
        }
        let deskline = Deskline::open(OpenOptions {
            data_dir: self.options.data_dir.clone(),
            extra_ca_pem: self.options.extra_ca_pem.clone(),
        })
        .await?;
        match deskline.accounts().automatic().await {
            Ok(sessions) => Ok(sessions.into_iter().next().map(|session| Opened {
                deskline: Arc::new(deskline),
                session,
                demo: None,
            })),
            Err(e) => {
                tracing::warn!(error = %e, "the account could not be resumed; open Deskline to sign in");
                Ok(None)
            }
        }
    }

    /// Everything up to the end; the runner is left in `self.runner` for [`Tray::finish`].
    async fn life(
        &mut self,
        requests: &mut mpsc::Receiver<Request>,
        ui: &mut mpsc::UnboundedReceiver<UiEvent>,
        signals: &mut Signals,
    ) -> Result<Ended, TrayError> {
        self.opened = self.open_session().await?;
        self.refresh_account().await;
        self.show().await;
        let Some(opened) = &self.opened else {
            tracing::info!("no account signs in automatically: open Deskline to sign in");
            return self.idle(requests, ui, signals).await;
        };
        let deskline = opened.deskline.clone();
        let session = opened.session.clone();
        let sip = self.mode == LineMode::On;

        let mut prepared = None;
        if let Some(pid) = self.options.after_app {
            // Ready to go the moment the app has let go of the line.
            if sip {
                prepared = match session_call_plan(&deskline, &session, EXPIRES, None).await {
                    Ok(plan) => plan,
                    Err(e) => {
                        tracing::warn!(error = %e, "soft-client lines unavailable");
                        None
                    }
                };
            }
            let wait = wait_exit(pid, AFTER_APP_LIMIT);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    r = &mut wait => { r?; break; }
                    () = signals.recv() => return Ok(Ended::Quit),
                    Some(Request::Handover(done)) = requests.recv() => return Ok(Ended::HandedOver(done)),
                    Some(event) = ui.recv() => match event {
                        UiEvent::Quit => return Ok(Ended::Quit),
                        UiEvent::Open => self.open_app(),
                        UiEvent::SyncNow => {}
                    },
                }
            }
        }

        let (action_tx, action_rx) = mpsc::channel(64);
        let notifier = DesktopNotifier::new(action_tx);
        match notifier.probe().await {
            Ok(info) => tracing::info!(server = %info.name, "notifications go to the desktop"),
            Err(e) => tracing::warn!(error = %e, "no desktop notifications"),
        }
        let sync = session.engine.subscribe();
        let runner = SessionRunner::start(
            deskline,
            session,
            RunnerOptions {
                sip,
                first_sync: Some(SyncScope::Incremental),
                prepared,
                ..RunnerOptions::new(Arc::new(notifier), action_rx)
            },
        );
        let mut running = Running {
            events: runner.subscribe(),
            summary: runner.summary(),
            sync,
            runner,
        };
        let ended = self.follow(&mut running, requests, ui, signals).await;
        self.runner = Some(running.runner);
        ended
    }

    /// Not signed in: only Open and Quit.
    async fn idle(
        &mut self,
        requests: &mut mpsc::Receiver<Request>,
        ui: &mut mpsc::UnboundedReceiver<UiEvent>,
        signals: &mut Signals,
    ) -> Result<Ended, TrayError> {
        loop {
            tokio::select! {
                () = signals.recv() => return Ok(Ended::Quit),
                Some(Request::Handover(done)) = requests.recv() => return Ok(Ended::HandedOver(done)),
                Some(event) = ui.recv() => match event {
                    UiEvent::Quit => return Ok(Ended::Quit),
                    UiEvent::Open => self.open_app(),
                    UiEvent::SyncNow => {}
                },
            }
        }
    }

    async fn follow(
        &mut self,
        running: &mut Running,
        requests: &mut mpsc::Receiver<Request>,
        ui: &mut mpsc::UnboundedReceiver<UiEvent>,
        signals: &mut Signals,
    ) -> Result<Ended, TrayError> {
        let mut events_open = true;
        let mut sync_open = true;
        loop {
            tokio::select! {
                () = signals.recv() => return Ok(Ended::Quit),
                Some(Request::Handover(done)) = requests.recv() => return Ok(Ended::HandedOver(done)),
                Some(event) = ui.recv() => match event {
                    UiEvent::Quit => return Ok(Ended::Quit),
                    UiEvent::Open => self.open_app(),
                    UiEvent::SyncNow => {
                        let engine = running.runner.session().engine.clone();
                        tokio::spawn(async move {
                            if let Err(e) = engine.sync(SyncScope::Incremental).await {
                                tracing::warn!(error = %e, "sync failed");
                            }
                        });
                    }
                },
                event = running.events.recv(), if events_open => match event {
                    Ok(TrackerEvent::Action { action: NotificationAction::Answer, .. }) => self.open_app(),
                    Ok(TrackerEvent::Problem { message, .. }) => tracing::warn!("{message}"),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => events_open = false,
                },
                changed = running.summary.changed() => {
                    if changed.is_err() {
                        return Ok(Ended::Quit);
                    }
                    self.summary = running.summary.borrow_and_update().clone();
                    self.show().await;
                }
                event = running.sync.recv(), if sync_open => match event {
                    Ok(SyncEvent::Finished { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.refresh_account().await;
                        self.show().await;
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Closed) => sync_open = false,
                },
            }
        }
    }

    /// Unregisters every line, stops syncing and the demo, takes the icon off the bus.
    async fn finish(mut self) {
        if let Some(runner) = self.runner.take() {
            runner.shutdown().await;
        }
        if let Some(demo) = self.opened.take().and_then(|o| o.demo) {
            demo.shutdown().await;
        }
        self.sni.stop().await;
    }
}

/// SIGTERM, SIGINT, SIGHUP (Ctrl-C elsewhere).
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self, TrayError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate()).map_err(TrayError::Signals)?,
                int: signal(SignalKind::interrupt()).map_err(TrayError::Signals)?,
                hup: signal(SignalKind::hangup()).map_err(TrayError::Signals)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.int.recv() => {}
                _ = self.hup.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
