//! The call side in the window process: `deskline-api`'s [`SessionRunner`] registers the
//! soft-client lines shared with the user and tracks their calls (caller names, Do Not
//! Disturb, the call history and the notifications are its tracker's); this module turns
//! its line summary into the line state (tray, home page), its events into the
//! `line-event` UI event, and opens and closes the optional ringing window. Answer on a
//! notification brings the window forward (there is no audio yet).

use crate::dto::{self, LineStatus, Registering, RingingCall, SipMode};
use crate::state::Shell;
use deskline_api::resident::{LineSummary, Registration, SessionRunner};
use deskline_core::calls::NotificationAction;
use deskline_core::calls::tracker::TrackerEvent;
use std::sync::Arc;
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};
use tauri_specta::Event as _;
use tokio::sync::{broadcast, watch};

/// Label of the ringing window.
pub const RING_WINDOW: &str = "ring";

/// Follows `runner` until `stop`: its summary becomes the line state, its events go to the
/// UI and the ringing window.
pub fn follow(
    app: &AppHandle,
    shell: &Arc<Shell>,
    runner: &SessionRunner,
    stop: &watch::Receiver<bool>,
) {
    {
        let mut events = runner.subscribe();
        let mut stop = stop.clone();
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
    }
    let mut summary = runner.summary();
    let mut stop = stop.clone();
    let app = app.clone();
    let shell = shell.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let now = summary.borrow_and_update().clone();
            shell.update_line(&app, |s| apply_summary(s, &now));
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                changed = summary.changed() => if changed.is_err() { return },
            }
        }
    });
}

/// The runner's summary as the line state the UI and the tray show.
fn apply_summary(state: &mut dto::LineState, summary: &LineSummary) {
    state.sip = if summary.calls_running {
        SipMode::On
    } else {
        SipMode::Off
    };
    state.lines = summary
        .lines
        .iter()
        .map(|l| LineStatus {
            line: l.line.clone(),
            label: l.label.clone(),
            state: match l.state {
                Registration::Connecting => Registering::Connecting,
                Registration::Registered => Registering::Registered,
                Registration::Failed => Registering::Failed,
                Registration::Unregistered => Registering::Unregistered,
            },
            reason: l.reason.clone(),
        })
        .collect();
    state.ringing = summary
        .ringing
        .iter()
        .map(|c| RingingCall {
            call_id: c.call_id.clone(),
            line: c.line.clone(),
            number: c.number.clone(),
            name: c.name.clone(),
            at: rfc3339(c.at),
        })
        .collect();
    state.missed = summary.missed;
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
    let open_ring = matches!(
        &event,
        TrackerEvent::IncomingCall { suppressed_by_dnd, .. } if !*suppressed_by_dnd
    );
    // The call that ended was the last one ringing (the summary no longer lists it).
    let close_ring = matches!(&event, TrackerEvent::CallEnded { .. })
        && shell.line_state().ringing.iter().all(
            |c| matches!(&event, TrackerEvent::CallEnded { call_id, .. } if *call_id == c.call_id),
        );
    let (wanted, on_top) = shell.ring_window();
    if open_ring && wanted {
        open_ring_window(app, on_top);
    }
    if close_ring && let Some(window) = app.get_webview_window(RING_WINDOW) {
        let _ = window.destroy();
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
            .initialization_script(crate::appearance::script())
            .build();
    if let Err(e) = built {
        tracing::warn!(error = %e, "ringing window could not open");
    }
}
