//! The call side, composed once for every shell: [`CallPlan`] says which lines to
//! register and where their calls are recorded — the soft clients synced for signed-in
//! accounts ([`Deskline::account_call_plan`]) or one line set up by hand
//! ([`manual_call_plan`], recorded under a pseudo-account in a store of its own, so it
//! never makes choosing an account ambiguous); [`Calls::start`] runs the SIP agent and the
//! core's call tracker with the notifier the shell gives; [`LineStates`] folds the
//! tracker's events into each line's registration state (the CLI's exit codes, the app's
//! tray and home page).
//!
//! Architecture invariant: no protocol or presentation here — the agent, the tracker and
//! the notifier do the work; this module only wires them.

use crate::{ApiError, Deskline, create_private_dir};
use deskline_core::calls::tracker::{CallTracker, TrackedLine, TrackerEvent};
use deskline_core::calls::{CallControl, NotificationAction, Notifier};
use deskline_core::{Account, AccountId, SipLine, SipUri, Store, UserId};
use deskline_sip::{Agent, AgentOptions, LineConfig};
use secrecy::SecretString;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

/// The file, in the data directory, that keeps the history of lines set up by hand.
pub const MANUAL_STORE: &str = "manual-lines.sqlite3";

/// Which lines to register and where their calls go.
pub struct CallPlan {
    /// The lines, with their passwords.
    pub lines: Vec<LineConfig>,
    /// How each line is named and which account its calls belong to.
    pub tracked: Vec<TrackedLine>,
    /// Where calls are recorded and callers looked up.
    pub store: Arc<dyn Store>,
}

impl std::fmt::Debug for CallPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallPlan")
            .field("lines", &self.lines)
            .field("tracked", &self.tracked.len())
            .finish_non_exhaustive()
    }
}

/// A line set up by hand (`deskline listen --line …`).
pub struct ManualLine {
    /// Its SIP settings.
    pub line: SipLine,
    /// Its digest password.
    pub password: SecretString,
    /// Registration expiry to ask for, in seconds.
    pub expires: u32,
    /// CA certificates (PEM) to trust for TLS instead of the system's.
    pub tls_ca_pem: Option<String>,
}

fn label_of(line: &SipLine) -> String {
    line.display_name
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| line.aor.as_str().to_owned())
}

impl Deskline {
    /// The soft-client lines of `accounts` (SIP settings synced from the provider,
    /// passwords from the keychain), recorded in the accounts' store.
    /// [`ApiError::NoLines`] when none of them has a usable line.
    pub async fn account_call_plan(
        &self,
        accounts: &[Account],
        expires: u32,
        tls_ca_pem: Option<String>,
    ) -> Result<CallPlan, ApiError> {
        if accounts.is_empty() {
            return Err(ApiError::NotSignedIn);
        }
        let mut lines = Vec::new();
        let mut tracked = Vec::new();
        for account in accounts {
            for (line, password) in self.sip_lines(&account.id).await? {
                tracked.push(TrackedLine {
                    aor: line.aor.as_str().to_owned(),
                    account: account.id.clone(),
                    label: label_of(&line),
                });
                lines.push(LineConfig {
                    line,
                    password,
                    expires,
                    tls_ca_pem: tls_ca_pem.clone(),
                });
            }
        }
        if lines.is_empty() {
            return Err(ApiError::NoLines);
        }
        Ok(CallPlan {
            lines,
            tracked,
            store: self.store(),
        })
    }
}

/// One line set up by hand, its calls recorded in [`MANUAL_STORE`] under `data_dir`.
pub async fn manual_call_plan(data_dir: &Path, manual: ManualLine) -> Result<CallPlan, ApiError> {
    create_private_dir(data_dir).await?;
    let store: Arc<dyn Store> =
        Arc::new(deskline_store::SqliteStore::open(&data_dir.join(MANUAL_STORE)).await?);
    let account = line_account(&manual.line.aor)?;
    if !store.accounts().await?.iter().any(|a| a.id == account.id) {
        store.upsert_account(&account).await?;
    }
    let tracked = TrackedLine {
        aor: manual.line.aor.as_str().to_owned(),
        account: account.id,
        label: label_of(&manual.line),
    };
    Ok(CallPlan {
        lines: vec![LineConfig {
            line: manual.line,
            password: manual.password,
            expires: manual.expires,
            tls_ca_pem: manual.tls_ca_pem,
        }],
        tracked: vec![tracked],
        store,
    })
}

/// The pseudo-account a hand-made line's calls are recorded under: `line:USER@HOST`.
fn line_account(aor: &SipUri) -> Result<Account, ApiError> {
    let invalid = |reason: String| ApiError::InvalidLine {
        line: aor.as_str().to_owned(),
        reason,
    };
    let user = format!("{}@{}", aor.user(), aor.host_port());
    let user_id = UserId::parse(&user).map_err(|e| invalid(e.to_string()))?;
    let server = url::Url::parse(aor.as_str()).map_err(|e| invalid(e.to_string()))?;
    Ok(Account {
        id: AccountId(format!("line:{user}")),
        server,
        user_id,
        sign_in_automatically: false,
        added_at: time::OffsetDateTime::now_utc(),
        last_sync_at: None,
    })
}

/// The SIP agent and the call tracker, running.
pub struct Calls {
    agent: Agent,
    events: broadcast::Receiver<TrackerEvent>,
    stop: oneshot::Sender<()>,
    tracker: JoinHandle<()>,
    lines: usize,
}

impl std::fmt::Debug for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calls")
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

impl Calls {
    /// Starts registering the plan's lines and tracking their calls; notifications go to
    /// `notifier`, whose chosen actions arrive on `actions`. The returned receiver gets
    /// every [`TrackerEvent`] from the first registration on.
    pub async fn start(
        plan: CallPlan,
        options: AgentOptions,
        notifier: Arc<dyn Notifier>,
        actions: mpsc::Receiver<(String, NotificationAction)>,
    ) -> Result<(Calls, broadcast::Receiver<TrackerEvent>), ApiError> {
        Self::start_tuned(
            plan,
            options,
            deskline_sip::Tuning::default(),
            notifier,
            actions,
        )
        .await
    }

    /// [`Calls::start`] with explicit protocol timers (tests shorten them).
    pub async fn start_tuned(
        plan: CallPlan,
        options: AgentOptions,
        tuning: deskline_sip::Tuning,
        notifier: Arc<dyn Notifier>,
        actions: mpsc::Receiver<(String, NotificationAction)>,
    ) -> Result<(Calls, broadcast::Receiver<TrackerEvent>), ApiError> {
        let lines = plan.tracked.len();
        let (agent, line_events) = Agent::start_tuned(plan.lines, options, tuning).await?;
        let tracker = CallTracker::new(plan.store, notifier, Arc::new(agent.clone()), plan.tracked);
        let events = tracker.subscribe();
        let first = events.resubscribe();
        let (stop, stopped) = oneshot::channel::<()>();
        let tracker = tokio::spawn(tracker.run(line_events, actions, async move {
            let _ = stopped.await;
        }));
        Ok((
            Calls {
                agent,
                events,
                stop,
                tracker,
                lines,
            },
            first,
        ))
    }

    /// Another receiver of the tracker's events, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<TrackerEvent> {
        self.events.resubscribe()
    }

    /// How many lines are registered (or trying).
    pub fn line_count(&self) -> usize {
        self.lines
    }

    /// Declines a ringing call (603 to the caller, so the proxy stops every branch).
    pub async fn decline(&self, call_id: &str) {
        self.agent.decline(call_id).await;
    }

    /// The network changed: every line registers again now.
    pub fn network_changed(&self) {
        self.agent.network_changed();
    }

    /// Ends ringing calls, unregisters every line, lets the tracker record and emit the
    /// last events, and stops.
    pub async fn shutdown(self) {
        self.agent.shutdown().await;
        let _ = self.stop.send(());
        if self.tracker.await.is_err() {
            tracing::warn!("the call tracker stopped abnormally");
        }
    }
}

/// The registration state of every line, folded from the tracker's events.
#[derive(Debug, Clone, Default)]
pub struct LineStates {
    count: usize,
    registered: HashMap<String, bool>,
    rejected: HashMap<String, String>,
    last_failure: Option<String>,
}

impl LineStates {
    /// The state of `count` lines, none registered yet.
    pub fn new(count: usize) -> Self {
        Self {
            count,
            ..Self::default()
        }
    }

    /// Takes one event into account.
    pub fn update(&mut self, event: &TrackerEvent) {
        match event {
            TrackerEvent::Registered { line, .. } => {
                self.registered.insert(line.clone(), true);
                self.rejected.remove(line);
            }
            TrackerEvent::RegistrationFailed {
                line,
                reason,
                permanent,
            } => {
                self.registered.insert(line.clone(), false);
                self.last_failure = Some(format!("{line}: {reason}"));
                if *permanent {
                    self.rejected.insert(line.clone(), reason.clone());
                } else {
                    self.rejected.remove(line);
                }
            }
            TrackerEvent::Unregistered { line } => {
                self.registered.insert(line.clone(), false);
            }
            _ => {}
        }
    }

    /// Whether any line is registered now.
    pub fn any_registered(&self) -> bool {
        self.registered.values().any(|r| *r)
    }

    /// The last registration failure, `LINE: REASON`.
    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_deref()
    }

    /// When every line was refused for good (credentials): the reasons, sorted.
    pub fn all_rejected(&self) -> Option<String> {
        (self.count > 0 && self.rejected.len() >= self.count).then(|| {
            let mut reasons: Vec<String> = self
                .rejected
                .iter()
                .map(|(line, reason)| format!("{line}: {reason}"))
                .collect();
            reasons.sort();
            reasons.join("; ")
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn failed(line: &str, permanent: bool) -> TrackerEvent {
        TrackerEvent::RegistrationFailed {
            line: line.into(),
            reason: "SIP credentials rejected".into(),
            permanent,
        }
    }

    #[test]
    fn every_line_rejected_for_good_is_reported_once_all_are() {
        let mut s = LineStates::new(2);
        s.update(&failed("sip:a@x", true));
        assert_eq!(s.all_rejected(), None, "one of two lines");
        s.update(&failed("sip:b@x", false));
        assert_eq!(s.all_rejected(), None, "the second may still register");
        s.update(&failed("sip:b@x", true));
        assert_eq!(
            s.all_rejected().unwrap(),
            "sip:a@x: SIP credentials rejected; sip:b@x: SIP credentials rejected"
        );
        s.update(&TrackerEvent::Registered {
            line: "sip:a@x".into(),
            expires: 600,
        });
        assert!(s.any_registered());
        assert_eq!(s.all_rejected(), None);
        s.update(&TrackerEvent::Unregistered {
            line: "sip:a@x".into(),
        });
        assert!(!s.any_registered());
        assert_eq!(s.last_failure(), Some("sip:b@x: SIP credentials rejected"));
    }

    #[test]
    fn a_hand_made_line_has_a_pseudo_account_of_its_own() {
        let aor = SipUri::parse("sip:alice@127.0.0.1:5070").unwrap();
        let account = line_account(&aor).unwrap();
        assert_eq!(account.id.0, "line:alice@127.0.0.1:5070");
        assert_eq!(account.user_id.as_str(), "alice@127.0.0.1:5070");
        assert!(!account.sign_in_automatically);
    }
}
