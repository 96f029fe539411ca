//! The running of one signed-in session, for every shell that keeps the line while it
//! runs (the desktop app, the tray-resident `deskline-tray`): [`SessionRunner::start`]
//! runs the session's outbox, a first sync and a periodic one, and the call side — the
//! account's soft-client lines ([`Deskline::account_call_plan`]) registered by
//! [`Calls`] — started at once and started again after every finished sync (or when sync
//! events were lost) if the lines changed: added, removed, or any setting of one changed,
//! its SIP password included (compared in memory, never written to a string, a log or a
//! file).
//!
//! The shell sees the tracker's events ([`SessionRunner::subscribe`], one stream across
//! restarts of the call side) and the lines folded into a [`LineSummary`]
//! ([`SessionRunner::summary`], a `watch`). It gives the notifier and the receiver of the
//! notifications' actions once ([`RunnerOptions`]); the runner routes the actions to the
//! call side running at the time. [`SessionRunner::shutdown`] stops syncing, unregisters
//! every line and returns only when that is done.
//!
//! Architecture invariant: no presentation and no shell here (no window, tray, IPC or
//! printing); every decision about a call is the tracker's, every sync the engine's.

use crate::calls::{CallPlan, Calls};
use crate::{ApiError, Deskline};
use deskline_core::calls::tracker::{TrackedLine, TrackerEvent};
use deskline_core::calls::{CallEndReason, NotificationAction, Notifier};
use deskline_core::session::Session;
use deskline_core::sync::{SyncEvent, SyncScope};
use deskline_core::{CallDirection, CallOutcome};
use deskline_sip::{AgentOptions, LineConfig, Tuning};
use secrecy::ExposeSecret;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{Mutex, broadcast, mpsc, watch};
use tokio::task::JoinHandle;

/// How often the line is read again from the provider while the session runs.
pub const PERIODIC_SYNC: Duration = Duration::from_secs(15 * 60);
/// Longest sleep of the outbox runner when nothing is due.
pub const OUTBOX_IDLE: Duration = Duration::from_secs(5 * 60);
/// Registration expiry asked for, in seconds.
pub const EXPIRES: u32 = 600;
/// How long [`SessionRunner::shutdown`] lets a sync or a send in flight finish before it
/// is dropped (both are safe to interrupt: the next run reads again).
const TASK_GRACE: Duration = Duration::from_secs(2);
/// Capacity of the runner's event broadcast.
const EVENT_CAPACITY: usize = 1024;
/// How many of the newest calls of the history are looked at for unseen missed ones.
const UNSEEN_SCAN: usize = 500;

/// How a session runs.
pub struct RunnerOptions {
    /// Register the account's soft-client lines (off: sync only, e.g. the demo, or
    /// `DESKLINE_SIP=off`).
    pub sip: bool,
    /// A sync to run at start, if any.
    pub first_sync: Option<SyncScope>,
    /// Time between periodic syncs.
    pub periodic_sync: Duration,
    /// Longest sleep of the outbox runner.
    pub outbox_idle: Duration,
    /// Registration expiry to ask for, in seconds.
    pub expires: u32,
    /// CA certificates (PEM) trusted for SIP over TLS instead of the system's.
    pub tls_ca_pem: Option<String>,
    /// The SIP agent's network options.
    pub agent: AgentOptions,
    /// The SIP agent's protocol timers.
    pub tuning: Tuning,
    /// Shows the calls; its chosen actions arrive on `actions`.
    pub notifier: Arc<dyn Notifier>,
    /// The notifier's actions (call ID, action).
    pub actions: mpsc::Receiver<(String, NotificationAction)>,
    /// The lines already read for this session (built while the shell waited for another
    /// process to let go of the line): used for the first start instead of reading them
    /// again.
    pub prepared: Option<CallPlan>,
}

impl RunnerOptions {
    /// The defaults: SIP on, an incremental sync at start, then every 15 minutes, 600 s
    /// registrations, the system's CAs, the agent's default options and timers.
    pub fn new(
        notifier: Arc<dyn Notifier>,
        actions: mpsc::Receiver<(String, NotificationAction)>,
    ) -> Self {
        Self {
            sip: true,
            first_sync: Some(SyncScope::Incremental),
            periodic_sync: PERIODIC_SYNC,
            outbox_idle: OUTBOX_IDLE,
            expires: EXPIRES,
            tls_ca_pem: None,
            agent: AgentOptions::default(),
            tuning: Tuning::default(),
            notifier,
            actions,
            prepared: None,
        }
    }
}

impl std::fmt::Debug for RunnerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunnerOptions")
            .field("sip", &self.sip)
            .field("first_sync", &self.first_sync)
            .field("periodic_sync", &self.periodic_sync)
            .field("expires", &self.expires)
            .field("prepared", &self.prepared.is_some())
            .finish_non_exhaustive()
    }
}

/// The account's soft-client lines (those with SIP settings and a saved password), to
/// register with `expires`; `None` when there are none.
pub async fn session_call_plan(
    deskline: &Deskline,
    session: &Session,
    expires: u32,
    tls_ca_pem: Option<String>,
) -> Result<Option<CallPlan>, ApiError> {
    match deskline
        .account_call_plan(std::slice::from_ref(&session.account), expires, tls_ca_pem)
        .await
    {
        Ok(plan) => Ok(Some(plan)),
        Err(ApiError::NoLines) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Where a line's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// Registering (not answered yet, or retrying after a transient failure).
    Connecting,
    /// Registered.
    Registered,
    /// The last attempt failed.
    Failed,
    /// Unregistered (the call side stopped).
    Unregistered,
}

/// One line in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineStatus {
    /// The line's address of record.
    pub line: String,
    /// Its name for the user.
    pub label: String,
    /// Its registration.
    pub state: Registration,
    /// Why it failed, for the user.
    pub reason: Option<String>,
    /// The failure needs the user (credentials rejected): retrying cannot help.
    pub permanent: bool,
}

/// A call ringing now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RingingCall {
    /// The SIP Call-ID.
    pub call_id: String,
    /// The line rung.
    pub line: String,
    /// The caller's number.
    pub number: String,
    /// The caller's name as resolved.
    pub name: Option<String>,
    /// Do Not Disturb was on: not shown.
    pub suppressed_by_dnd: bool,
    /// When it started ringing.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The lines, the calls ringing and the calls missed, folded from the tracker's events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LineSummary {
    /// The call side runs (SIP on and the account has lines).
    pub calls_running: bool,
    /// Every line of the account, in the plan's order.
    pub lines: Vec<LineStatus>,
    /// Calls ringing now.
    pub ringing: Vec<RingingCall>,
    /// Calls missed since the runner started (or since [`SessionRunner::missed_seen`]).
    pub missed: u32,
}

impl LineSummary {
    /// Takes one tracker event into account.
    pub fn update(&mut self, event: &TrackerEvent) {
        match event {
            TrackerEvent::Registered { line, .. } => {
                self.set(line, Registration::Registered, None, false);
            }
            TrackerEvent::RegistrationFailed {
                line,
                reason,
                permanent,
            } => self.set(line, Registration::Failed, Some(reason.clone()), *permanent),
            TrackerEvent::Unregistered { line } => {
                self.set(line, Registration::Unregistered, None, false);
            }
            TrackerEvent::IncomingCall {
                call_id,
                line,
                number,
                name,
                suppressed_by_dnd,
                at,
                ..
            } => {
                if !self.ringing.iter().any(|c| &c.call_id == call_id) {
                    self.ringing.push(RingingCall {
                        call_id: call_id.clone(),
                        line: line.clone(),
                        number: number.clone(),
                        name: name.clone(),
                        suppressed_by_dnd: *suppressed_by_dnd,
                        at: *at,
                    });
                }
            }
            TrackerEvent::CallEnded {
                call_id, reason, ..
            } => {
                let was_ringing = self.ringing.iter().any(|c| &c.call_id == call_id);
                self.ringing.retain(|c| &c.call_id != call_id);
                if was_ringing && *reason == CallEndReason::Missed {
                    self.missed = self.missed.saturating_add(1);
                }
            }
            TrackerEvent::Action { .. } | TrackerEvent::Problem { .. } => {}
        }
    }

    fn set(&mut self, line: &str, state: Registration, reason: Option<String>, permanent: bool) {
        match self.lines.iter_mut().find(|l| l.line == line) {
            Some(l) => {
                l.state = state;
                l.reason = reason;
                l.permanent = permanent;
            }
            None => self.lines.push(LineStatus {
                line: line.to_owned(),
                label: line.to_owned(),
                state,
                reason,
                permanent,
            }),
        }
    }

    /// How many lines are registered now.
    pub fn registered(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.state == Registration::Registered)
            .count()
    }

    /// Whether the call side runs and every line is registered.
    pub fn all_registered(&self) -> bool {
        self.calls_running && !self.lines.is_empty() && self.registered() == self.lines.len()
    }

    /// Whether a line's last registration attempt failed.
    pub fn any_failed(&self) -> bool {
        self.lines.iter().any(|l| l.state == Registration::Failed)
    }
}

/// The call side running now and the lines it registers.
struct Running {
    lines: Vec<LineConfig>,
    tracked: Vec<TrackedLine>,
    calls: Calls,
    forwarder: JoinHandle<()>,
}

impl Running {
    fn registers(&self, plan: &CallPlan) -> bool {
        same_tracked(&self.tracked, &plan.tracked) && same_lines(&self.lines, &plan.lines)
    }

    async fn shutdown(self) {
        self.calls.shutdown().await;
        // The tracker has stopped: the forwarder passes its last events on and ends.
        if self.forwarder.await.is_err() {
            tracing::warn!("the line event forwarder stopped abnormally");
        }
    }
}

fn by_aor<T>(items: &[T], aor: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut sorted: Vec<&T> = items.iter().collect();
    sorted.sort_by(|a, b| aor(a).cmp(aor(b)));
    sorted
}

fn same_tracked(a: &[TrackedLine], b: &[TrackedLine]) -> bool {
    a.len() == b.len()
        && by_aor(a, |t| t.aor.as_str())
            .into_iter()
            .zip(by_aor(b, |t| t.aor.as_str()))
            .all(|(x, y)| x == y)
}

/// Whether two sets of lines are the same in every setting, the password included. The
/// passwords are compared in place: never formatted, copied into a string or logged.
fn same_lines(a: &[LineConfig], b: &[LineConfig]) -> bool {
    a.len() == b.len()
        && by_aor(a, |l| l.line.aor.as_str())
            .into_iter()
            .zip(by_aor(b, |l| l.line.aor.as_str()))
            .all(|(x, y)| {
                x.line == y.line
                    && x.expires == y.expires
                    && x.tls_ca_pem == y.tls_ca_pem
                    && same_secret(x.password.expose_secret(), y.password.expose_secret())
            })
}

/// Byte-wise equality that does not stop at the first difference.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What the runner's tasks share.
struct Shared {
    deskline: Arc<Deskline>,
    session: Session,
    sip: bool,
    expires: u32,
    tls_ca_pem: Option<String>,
    agent: AgentOptions,
    tuning: Tuning,
    notifier: Arc<dyn Notifier>,
    calls: Mutex<Option<Running>>,
    actions: std::sync::Mutex<Option<mpsc::Sender<(String, NotificationAction)>>>,
    events: broadcast::Sender<TrackerEvent>,
    summary: watch::Sender<LineSummary>,
}

impl Shared {
    /// Adds the missed calls the user has not seen yet, from the call history: the count
    /// survives a restart and the hand-over between the app and the tray. Runs before the
    /// lines register, so no call is counted twice.
    async fn load_unseen_missed(&self) {
        let store = self.deskline.store();
        let account = &self.session.account.id;
        let seen = match store.missed_seen_at(account).await {
            Ok(seen) => seen,
            Err(e) => {
                tracing::warn!(error = %e, "could not read when the missed calls were seen");
                return;
            }
        };
        let history = match store.call_history(account, UNSEEN_SCAN).await {
            Ok(history) => history,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the call history");
                return;
            }
        };
        let unseen = history
            .iter()
            .filter(|c| c.direction == CallDirection::Incoming && c.outcome == CallOutcome::Missed)
            .filter(|c| seen.is_none_or(|seen| c.ended_at.unwrap_or(c.started_at) > seen))
            .count();
        let unseen = u32::try_from(unseen).unwrap_or(u32::MAX);
        self.summary.send_if_modified(|s| {
            s.missed = s.missed.saturating_add(unseen);
            unseen != 0
        });
    }

    /// (Re)starts the call side when the account's lines differ from the ones registered:
    /// the first start, or a sync that added, changed or removed a line.
    async fn refresh(self: &Arc<Self>, prepared: Option<CallPlan>, stop: &watch::Receiver<bool>) {
        let plan = match prepared {
            Some(plan) => Some(plan),
            None => {
                match session_call_plan(
                    &self.deskline,
                    &self.session,
                    self.expires,
                    self.tls_ca_pem.clone(),
                )
                .await
                {
                    Ok(plan) => plan,
                    Err(e) => {
                        tracing::warn!(error = %e, "soft-client lines unavailable");
                        return;
                    }
                }
            }
        };
        let mut guard = self.calls.lock().await;
        if *stop.borrow() {
            return;
        }
        match (guard.as_ref(), &plan) {
            (Some(running), Some(plan)) if running.registers(plan) => return,
            (None, None) => {
                self.summary.send_if_modified(|s| {
                    let changed = s.calls_running || !s.lines.is_empty();
                    s.calls_running = false;
                    s.lines.clear();
                    changed
                });
                return;
            }
            _ => {}
        }
        if let Some(old) = guard.take() {
            tracing::info!("the account's lines changed: registering them again");
            *lock(&self.actions) = None;
            old.shutdown().await;
        }
        let Some(plan) = plan else {
            self.summary.send_modify(|s| {
                s.calls_running = false;
                s.lines.clear();
            });
            return;
        };
        *guard = self.start_calls(plan).await;
    }

    async fn start_calls(self: &Arc<Self>, plan: CallPlan) -> Option<Running> {
        let statuses: Vec<LineStatus> = plan
            .tracked
            .iter()
            .map(|line| LineStatus {
                line: line.aor.clone(),
                label: line.label.clone(),
                state: Registration::Connecting,
                reason: None,
                permanent: false,
            })
            .collect();
        let lines = plan.lines.clone();
        let tracked = plan.tracked.clone();
        let (action_tx, action_rx) = mpsc::channel(64);
        match Calls::start_tuned(
            plan,
            self.agent.clone(),
            self.tuning.clone(),
            self.notifier.clone(),
            action_rx,
        )
        .await
        {
            Ok((calls, events)) => {
                self.summary.send_modify(|s| {
                    s.calls_running = true;
                    s.lines = statuses;
                });
                *lock(&self.actions) = Some(action_tx);
                let forwarder = tokio::spawn(forward(self.clone(), events));
                Some(Running {
                    lines,
                    tracked,
                    calls,
                    forwarder,
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "the lines could not start");
                let reason = e.to_string();
                self.summary.send_modify(|s| {
                    s.calls_running = false;
                    s.lines = statuses
                        .into_iter()
                        .map(|mut l| {
                            l.state = Registration::Failed;
                            l.reason = Some(reason.clone());
                            l
                        })
                        .collect();
                });
                None
            }
        }
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Passes one call side's events on to the runner's subscribers and the summary, until
/// its tracker stops.
async fn forward(shared: Arc<Shared>, mut events: broadcast::Receiver<TrackerEvent>) {
    loop {
        match events.recv().await {
            Ok(event) => {
                shared.summary.send_if_modified(|s| {
                    let before = s.clone();
                    s.update(&event);
                    *s != before
                });
                let _ = shared.events.send(event);
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(n, "line events were dropped");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// One signed-in session running: outbox, syncs and the call side. See the module docs.
pub struct SessionRunner {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    calls_task: Option<JoinHandle<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SessionRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRunner")
            .field("account", &self.shared.session.account.id)
            .finish_non_exhaustive()
    }
}

impl SessionRunner {
    /// Starts running `session` (within a tokio runtime): its outbox, the first sync and
    /// the periodic ones, and, with `options.sip`, its lines.
    pub fn start(deskline: Arc<Deskline>, session: Session, options: RunnerOptions) -> Self {
        let RunnerOptions {
            sip,
            first_sync,
            periodic_sync,
            outbox_idle,
            expires,
            tls_ca_pem,
            agent,
            tuning,
            notifier,
            mut actions,
            prepared,
        } = options;
        let (stop, stop_rx) = watch::channel(false);
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let engine = session.engine.clone();
        let shared = Arc::new(Shared {
            deskline,
            session,
            sip,
            expires,
            tls_ca_pem,
            agent,
            tuning,
            notifier,
            calls: Mutex::new(None),
            actions: std::sync::Mutex::new(None),
            events,
            summary: watch::Sender::new(LineSummary::default()),
        });
        let mut tasks = Vec::new();

        // The outbox.
        {
            let engine = engine.clone();
            let mut stop_rx = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                engine
                    .run_outbox(outbox_idle, async move {
                        let _ = stop_rx.wait_for(|s| *s).await;
                    })
                    .await;
            }));
        }

        // The call side: the lines at once, then again after every finished sync, whoever
        // started it (the soft clients shared with the user may have changed). Subscribed
        // before the first sync starts, so its end is seen.
        let calls_task = shared.sip.then(|| {
            let mut sync_events = engine.subscribe();
            let mut stop_rx = stop_rx.clone();
            let shared = shared.clone();
            tokio::spawn(async move {
                shared.load_unseen_missed().await;
                shared.refresh(prepared, &stop_rx).await;
                loop {
                    let event = tokio::select! {
                        _ = stop_rx.wait_for(|s| *s) => return,
                        e = sync_events.recv() => e,
                    };
                    match event {
                        Ok(SyncEvent::Finished { .. })
                        | Err(broadcast::error::RecvError::Lagged(_)) => {
                            shared.refresh(None, &stop_rx).await;
                        }
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
            })
        });

        // Without the call side, the unseen missed calls are still counted (from the
        // history).
        if !shared.sip {
            let shared = shared.clone();
            tasks.push(tokio::spawn(
                async move { shared.load_unseen_missed().await },
            ));
        }

        // The notifications' actions go to the call side running at the time.
        {
            let shared = shared.clone();
            let mut stop_rx = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let action = tokio::select! {
                        _ = stop_rx.wait_for(|s| *s) => return,
                        a = actions.recv() => a,
                    };
                    let Some(action) = action else { return };
                    let current = lock(&shared.actions).clone();
                    if let Some(tx) = current {
                        let _ = tx.send(action).await;
                    }
                }
            }));
        }

        // The first sync, then one every `periodic_sync`.
        {
            let mut stop_rx = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                if let Some(scope) = first_sync {
                    tokio::select! {
                        _ = stop_rx.wait_for(|s| *s) => return,
                        r = engine.sync(scope) => if let Err(e) = r {
                            tracing::warn!(error = %e, "sync failed");
                        },
                    }
                }
                loop {
                    tokio::select! {
                        _ = stop_rx.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(periodic_sync) => {}
                    }
                    tokio::select! {
                        _ = stop_rx.wait_for(|s| *s) => return,
                        r = engine.sync(SyncScope::Incremental) => if let Err(e) = r {
                            tracing::warn!(error = %e, "periodic sync failed");
                        },
                    }
                }
            }));
        }

        Self {
            shared,
            stop,
            calls_task,
            tasks,
        }
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.shared.session
    }

    /// The open library.
    pub fn deskline(&self) -> &Arc<Deskline> {
        &self.shared.deskline
    }

    /// The tracker's events from now on, across restarts of the call side.
    pub fn subscribe(&self) -> broadcast::Receiver<TrackerEvent> {
        self.shared.events.subscribe()
    }

    /// The lines and calls as they are, updated on every change.
    pub fn summary(&self) -> watch::Receiver<LineSummary> {
        self.shared.summary.subscribe()
    }

    /// The user has seen the missed calls: the count starts again from zero, also for
    /// the next start (kept in the store).
    pub async fn missed_seen(&self) {
        self.shared.summary.send_if_modified(|s| {
            let changed = s.missed != 0;
            s.missed = 0;
            changed
        });
        let store = self.shared.deskline.store();
        if let Err(e) = store
            .mark_missed_seen(&self.shared.session.account.id, OffsetDateTime::now_utc())
            .await
        {
            tracing::warn!(error = %e, "could not record that the missed calls were seen");
        }
    }

    /// Declines a ringing call (603), if the call side runs.
    pub async fn decline(&self, call_id: &str) {
        if let Some(running) = self.shared.calls.lock().await.as_ref() {
            running.calls.decline(call_id).await;
        }
    }

    /// The network changed: every line registers again now.
    pub async fn network_changed(&self) {
        if let Some(running) = self.shared.calls.lock().await.as_ref() {
            running.calls.network_changed();
        }
    }

    /// Syncs now (the lines are read again when it finishes).
    pub async fn sync_now(&self) -> Result<(), ApiError> {
        self.shared
            .session
            .engine
            .sync(SyncScope::Incremental)
            .await?;
        Ok(())
    }

    /// Stops syncing and sending, unregisters every line and returns when that is done
    /// (the last events have reached the subscribers and the summary).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.calls_task.take() {
            // A (re)start in progress finishes first, so nothing registers after this.
            if task.await.is_err() {
                tracing::warn!("the line task stopped abnormally");
            }
        }
        *lock(&self.shared.actions) = None;
        let running = self.shared.calls.lock().await.take();
        if let Some(running) = running {
            running.shutdown().await;
        }
        self.shared.summary.send_modify(|s| {
            s.calls_running = false;
            s.ringing.clear();
        });
        for mut task in std::mem::take(&mut self.tasks) {
            if tokio::time::timeout(TASK_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for SessionRunner {
    /// Without [`SessionRunner::shutdown`], the tasks stop and the lines are unregistered
    /// in the background (nobody waits for it).
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Ok(mut guard) = self.shared.calls.try_lock()
            && let Some(running) = guard.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(running.shutdown());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use deskline_core::{AccountId, SipLine, SipUri, Transport};
    use secrecy::SecretString;

    fn config(aor: &str, password: &str) -> LineConfig {
        LineConfig {
            line: SipLine {
                aor: SipUri::parse(aor).unwrap(),
                auth_user: "auth".into(),
                registrar: "127.0.0.1:5070".into(),
                outbound_proxy: None,
                transport: Transport::Udp,
                display_name: Some("Desk".into()),
            },
            password: SecretString::from(password.to_owned()),
            expires: 600,
            tls_ca_pem: None,
        }
    }

    #[test]
    fn a_changed_password_alone_makes_the_lines_differ() {
        let a = [config("sip:a@x", "one"), config("sip:b@x", "two")];
        let same = [config("sip:b@x", "two"), config("sip:a@x", "one")];
        assert!(same_lines(&a, &same), "order does not matter");
        let new_password = [config("sip:a@x", "one"), config("sip:b@x", "tw0")];
        assert!(!same_lines(&a, &new_password));
        // The redacted Debug forms are equal: the reason a text comparison never noticed.
        assert_eq!(format!("{a:?}"), format!("{new_password:?}"));
        let longer = [config("sip:a@x", "one"), config("sip:b@x", "two2")];
        assert!(!same_lines(&a, &longer));
        let mut other_registrar = a.clone();
        other_registrar[0].line.registrar = "127.0.0.1:5080".into();
        assert!(!same_lines(&a, &other_registrar));
        assert!(!same_lines(&a, &a[..1]));
    }

    #[test]
    fn a_renamed_line_differs() {
        let tracked = |label: &str| TrackedLine {
            aor: "sip:a@x".into(),
            account: AccountId("acct".into()),
            label: label.into(),
        };
        assert!(same_tracked(&[tracked("Desk")], &[tracked("Desk")]));
        assert!(!same_tracked(&[tracked("Desk")], &[tracked("Front desk")]));
    }

    #[test]
    fn the_summary_folds_registrations_calls_and_missed_calls() {
        let mut s = LineSummary {
            calls_running: true,
            lines: vec![LineStatus {
                line: "sip:a@x".into(),
                label: "Desk".into(),
                state: Registration::Connecting,
                reason: None,
                permanent: false,
            }],
            ..LineSummary::default()
        };
        assert!(!s.all_registered());
        s.update(&TrackerEvent::Registered {
            line: "sip:a@x".into(),
            expires: 600,
        });
        assert!(s.all_registered());
        assert_eq!(s.lines[0].label, "Desk", "the label stays");
        let at = OffsetDateTime::UNIX_EPOCH;
        s.update(&TrackerEvent::IncomingCall {
            call_id: "c1".into(),
            line: "sip:a@x".into(),
            line_label: "Desk".into(),
            number: "+15550001".into(),
            name: Some("Caller".into()),
            name_source: None,
            suppressed_by_dnd: false,
            notified: true,
            at,
        });
        assert_eq!(s.ringing.len(), 1);
        s.update(&TrackerEvent::CallEnded {
            call_id: "c1".into(),
            line: "sip:a@x".into(),
            reason: CallEndReason::Missed,
            at,
        });
        assert!(s.ringing.is_empty());
        assert_eq!(s.missed, 1);
        // An end seen twice counts once.
        s.update(&TrackerEvent::CallEnded {
            call_id: "c1".into(),
            line: "sip:a@x".into(),
            reason: CallEndReason::Missed,
            at,
        });
        assert_eq!(s.missed, 1);
        s.update(&TrackerEvent::RegistrationFailed {
            line: "sip:a@x".into(),
            reason: "SIP credentials rejected".into(),
            permanent: true,
        });
        assert!(s.any_failed());
        assert!(s.lines[0].permanent);
        assert_eq!(s.registered(), 0);
    }
}
