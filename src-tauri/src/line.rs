//! The call side: starts `deskline-api`'s [`Calls`] (the SIP agent and the core's call
//! tracker, with the desktop notifier) on the soft-client lines shared with the user, and
//! turns the tracker's events into the line state (tray, home page), the `line-event` UI
//! event and the optional ringing window. Caller names, Do Not Disturb, the call history
//! and the notifications are the tracker's; Answer on a notification brings the window
//! forward (there is no audio yet).

use crate::dto::{self, LineStatus, Registering, RingingCall, SipMode};
use crate::state::Shell;
use deskline_api::calls::{CallPlan, Calls};
use deskline_api::{ApiError, Deskline};
use deskline_core::calls::tracker::TrackerEvent;
use deskline_core::calls::{CallEndReason, NotificationAction};
use deskline_core::session::Session;
use deskline_notifier::DesktopNotifier;
use std::sync::Arc;
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};
use tauri_specta::Event as _;
use tokio::sync::{broadcast, mpsc, watch};

/// Label of the ringing window.
pub const RING_WINDOW: &str = "ring";

/// Registration expiry the app asks for, in seconds.
const EXPIRES: u32 = 600;

/// The account's soft-client lines (those with SIP settings and a saved password);
/// `None` when there are none.
pub async fn plan(deskline: &Deskline, session: &Session) -> Result<Option<CallPlan>, ApiError> {
    match deskline
        .account_call_plan(std::slice::from_ref(&session.account), EXPIRES, None)
        .await
    {
        Ok(plan) => Ok(Some(plan)),
        Err(ApiError::NoLines) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Starts registering `plan`'s lines and tracking their calls. Returns `None` when it
/// cannot start (the reason is shown as the line state).
pub async fn start_calls(
    app: &AppHandle,
    shell: &Arc<Shell>,
    plan: CallPlan,
    mut stop: watch::Receiver<bool>,
) -> Option<Calls> {
    let statuses: Vec<LineStatus> = plan
        .tracked
        .iter()
        .map(|line| LineStatus {
            line: line.aor.clone(),
            label: line.label.clone(),
            state: Registering::Connecting,
            reason: None,
        })
        .collect();
    let (action_tx, action_rx) = mpsc::channel(64);
    let notifier = DesktopNotifier::new(action_tx);
    if let Err(e) = notifier.probe().await {
        tracing::warn!(error = %e, "no desktop notifications; calls still show in the app");
    }
    match Calls::start(
        plan,
        deskline_sip::AgentOptions::default(),
        Arc::new(notifier),
        action_rx,
    )
    .await
    {
        Ok((calls, mut events)) => {
            shell.update_line(app, |s| {
                s.sip = SipMode::On;
                s.lines = statuses;
            });
            let app = app.clone();
            let shell = shell.clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    let event = tokio::select! {
                        _ = stop.wait_for(|s| *s) => return,
                        e = events.recv() => e,
                    };
                    match event {
                        Ok(event) => on_tracker_event(&app, &shell, event),
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(n, "line events were dropped");
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
            });
            Some(calls)
        }
        Err(e) => {
            let reason = e.to_string();
            shell.update_line(app, |s| {
                s.sip = SipMode::On;
                s.lines = statuses
                    .into_iter()
                    .map(|mut l| {
                        l.state = Registering::Failed;
                        l.reason = Some(reason.clone());
                        l
                    })
                    .collect();
            });
            None
        }
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// One tracker event: line state, UI event, ringing window.
pub fn on_tracker_event(app: &AppHandle, shell: &Arc<Shell>, event: TrackerEvent) {
    let wire = match &event {
        TrackerEvent::Registered { line, expires } => Some(dto::LineEvent::Registered {
            line: line.clone(),
            expires: *expires,
        }),
        TrackerEvent::RegistrationFailed {
            line,
            reason,
            permanent,
        } => Some(dto::LineEvent::RegistrationFailed {
            line: line.clone(),
            reason: reason.clone(),
            permanent: *permanent,
        }),
        TrackerEvent::Unregistered { line } => {
            Some(dto::LineEvent::Unregistered { line: line.clone() })
        }
        TrackerEvent::IncomingCall {
            call_id,
            line,
            number,
            name,
            at,
            ..
        } => Some(dto::LineEvent::IncomingCall {
            call_id: call_id.clone(),
            line: line.clone(),
            number: number.clone(),
            name: name.clone(),
            at: rfc3339(*at),
        }),
        TrackerEvent::CallEnded {
            call_id,
            line,
            reason,
            at,
        } => match dto::to_wire::<_, dto::CallEndReason>(reason) {
            Ok(reason) => Some(dto::LineEvent::CallEnded {
                call_id: call_id.clone(),
                line: line.clone(),
                reason,
                at: rfc3339(*at),
            }),
            Err(e) => {
                tracing::warn!(error = ?e, "call end not forwarded");
                None
            }
        },
        TrackerEvent::Action { action, .. } => {
            if *action == NotificationAction::Answer {
                crate::tray::show_main(app, Some("home"));
            }
            None
        }
        TrackerEvent::Problem { message, .. } => {
            tracing::warn!("{message}");
            None
        }
    };
    if let Some(wire) = wire {
        let _ = wire.emit(app);
    }
    let mut open_ring = false;
    let mut close_ring = false;
    shell.update_line(app, |s| match &event {
        TrackerEvent::Registered { line, .. } => set_line(s, line, Registering::Registered, None),
        TrackerEvent::RegistrationFailed { line, reason, .. } => {
            set_line(s, line, Registering::Failed, Some(reason.clone()))
        }
        TrackerEvent::Unregistered { line } => set_line(s, line, Registering::Unregistered, None),
        TrackerEvent::IncomingCall {
            call_id,
            line,
            number,
            name,
            at,
            suppressed_by_dnd,
            ..
        } => {
            if !s.ringing.iter().any(|c| &c.call_id == call_id) {
                s.ringing.push(RingingCall {
                    call_id: call_id.clone(),
                    line: line.clone(),
                    number: number.clone(),
                    name: name.clone(),
                    at: rfc3339(*at),
                });
            }
            // Do Not Disturb: logged and listed, but nothing pops up.
            open_ring = !*suppressed_by_dnd;
        }
        TrackerEvent::CallEnded {
            call_id, reason, ..
        } => {
            s.ringing.retain(|c| &c.call_id != call_id);
            if *reason == CallEndReason::Missed {
                s.missed = s.missed.saturating_add(1);
            }
            close_ring = s.ringing.is_empty();
        }
        TrackerEvent::Action { .. } | TrackerEvent::Problem { .. } => {}
    });
    let (wanted, on_top) = shell.ring_window();
    if open_ring && wanted {
        open_ring_window(app, on_top);
    }
    if close_ring && let Some(window) = app.get_webview_window(RING_WINDOW) {
        let _ = window.destroy();
    }
}

fn set_line(s: &mut dto::LineState, line: &str, state: Registering, reason: Option<String>) {
    match s.lines.iter_mut().find(|l| l.line == line) {
        Some(l) => {
            l.state = state;
            l.reason = reason;
        }
        None => s.lines.push(LineStatus {
            line: line.to_owned(),
            label: line.to_owned(),
            state,
            reason,
        }),
    }
}

/// Shows the small ringing window (the UI's `#ring` view), on top when asked.
pub fn open_ring_window(app: &AppHandle, on_top: bool) {
    if let Some(window) = app.get_webview_window(RING_WINDOW) {
        let _ = window.set_always_on_top(on_top);
        let _ = window.show();
        return;
    }
    let built =
        WebviewWindowBuilder::new(app, RING_WINDOW, WebviewUrl::App("index.html#ring".into()))
            .title("Incoming call — Deskline")
            .inner_size(380.0, 170.0)
            .resizable(false)
            .minimizable(false)
            .maximizable(false)
            .always_on_top(on_top)
            .skip_taskbar(true)
            .focused(false)
            .build();
    if let Err(e) = built {
        tracing::warn!(error = %e, "ringing window could not open");
    }
}
