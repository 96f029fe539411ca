//! The public handle: [`Agent::start`] checks the lines and starts one registration task
//! per line and the network watch ([`crate::watch`]); [`Agent::network_changed`]
//! re-registers every line at once (the watch calls it on a network change or a wake);
//! [`Agent::shutdown`] ends ringing calls, unregisters every line and stops; the
//! [`CallControl`] implementation declines ringing calls.

use crate::config::{AgentOptions, LineConfig, LinePlan, Tuning};
use crate::error::SipError;
use crate::events::EventSink;
use crate::incoming::{Calls, LineContext};
use crate::registration::LineTask;
use async_trait::async_trait;
use deskline_core::Transport;
use deskline_core::calls::{CallControl, LineEvent};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

struct Inner {
    calls: Arc<Calls>,
    events: EventSink,
    stop_tx: watch::Sender<bool>,
    net_tx: watch::Sender<u64>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    tuning: Tuning,
}

/// The SIP agent: registers the configured lines and reports what happens on them.
/// Cloning gives another handle to the same agent.
#[derive(Clone)]
pub struct Agent {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("calls", &self.inner.calls.len())
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Starts registering `lines` with the default protocol timers. Returns at once; the
    /// receiver gets every [`LineEvent`]. Must be called inside a Tokio runtime.
    pub async fn start(
        lines: Vec<LineConfig>,
        options: AgentOptions,
    ) -> Result<(Agent, mpsc::Receiver<LineEvent>), SipError> {
        Self::start_tuned(lines, options, Tuning::default()).await
    }

    /// Like [`Agent::start`] with explicit protocol timers (tests shorten them).
    pub async fn start_tuned(
        lines: Vec<LineConfig>,
        options: AgentOptions,
        tuning: Tuning,
    ) -> Result<(Agent, mpsc::Receiver<LineEvent>), SipError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SipError::NoRuntime);
        }
        // Check everything before starting anything.
        let mut seen = HashSet::new();
        let mut prepared = Vec::with_capacity(lines.len());
        for config in &lines {
            let plan = LinePlan::from_line(&config.line)?;
            if !seen.insert(plan.aor.to_ascii_lowercase()) {
                return Err(SipError::DuplicateLine { line: plan.aor });
            }
            let tls = match plan.transport {
                Transport::Tls => Some(
                    crate::tls::client_config(config.tls_ca_pem.as_deref()).map_err(|reason| {
                        SipError::InvalidLine {
                            line: plan.aor.clone(),
                            reason,
                        }
                    })?,
                ),
                _ => None,
            };
            prepared.push((config, plan, tls));
        }
        let (events, rx) = EventSink::channel();
        let calls = Calls::new();
        let (stop_tx, stop_rx) = watch::channel(false);
        let (net_tx, net_rx) = watch::channel(0u64);
        let mut tasks = Vec::with_capacity(prepared.len());
        for (config, plan, tls) in prepared {
            let ctx = Arc::new(LineContext {
                aor: plan.aor.clone(),
                events: events.clone(),
                calls: calls.clone(),
                tuning: tuning.clone(),
            });
            let task = LineTask::new(config, plan, options.clone(), tuning.clone(), tls, ctx);
            tasks.push(tokio::spawn(task.run(stop_rx.clone(), net_rx.clone())));
        }
        tasks.push(tokio::spawn(crate::watch::run(
            tuning.network_poll,
            net_tx.clone(),
            stop_rx.clone(),
        )));
        let agent = Agent {
            inner: Arc::new(Inner {
                calls,
                events,
                stop_tx,
                net_tx,
                tasks: Mutex::new(tasks),
                tuning,
            }),
        };
        Ok((agent, rx))
    }

    /// The network changed (link change, wake from sleep): every line registers again at
    /// once over a new flow, including lines whose credentials were rejected.
    pub fn network_changed(&self) {
        self.inner
            .net_tx
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// Ends ringing calls (480), unregisters every line (Expires: 0) with a bounded wait,
    /// reports each line `Unregistered`, and stops; when it returns, those events are in
    /// the event channel. Other handles become inert.
    pub async fn shutdown(self) {
        self.inner.calls.end_all().await;
        let _ = self.inner.stop_tx.send(true);
        let tasks: Vec<JoinHandle<()>> = match self.inner.tasks.lock() {
            Ok(mut t) => t.drain(..).collect(),
            Err(p) => p.into_inner().drain(..).collect(),
        };
        let limit = self.inner.tuning.unregister_timeout + Duration::from_secs(2);
        for task in tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout(limit, task).await.is_err() {
                abort.abort();
            }
        }
        // Every event of the shutdown (the calls ended, each line's `Unregistered`) is in
        // the caller's channel when this returns.
        let _ = tokio::time::timeout(limit, self.inner.events.flush()).await;
    }
}

#[async_trait]
impl CallControl for Agent {
    async fn decline(&self, call_id: &str) {
        self.inner.calls.decline(call_id).await;
    }
}
