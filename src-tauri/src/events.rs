//! Streams the core's events to the web view: the sync engine's progress and outbox
//! changes become the `sync-event` event (and refresh the tray when something landed).

use crate::dto;
use deskline_core::sync::{SyncEngine, SyncEvent};
use std::sync::Arc;
use tauri::AppHandle;
use tauri_specta::Event as _;
use tokio::sync::{broadcast::error::RecvError, watch};

/// Forwards `engine`'s events to every window until `stop` turns true.
pub fn spawn_sync_forwarder(
    app: AppHandle,
    engine: Arc<SyncEngine>,
    mut stop: watch::Receiver<bool>,
) {
    let mut events = engine.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            let event = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                e = events.recv() => e,
            };
            match event {
                Ok(event) => {
                    let refresh_tray = matches!(
                        event,
                        SyncEvent::Finished { .. } | SyncEvent::EditChanged { .. }
                    );
                    match dto::to_wire::<_, dto::SyncEvent>(&event) {
                        Ok(wire) => {
                            let _ = wire.emit(&app);
                        }
                        Err(e) => tracing::warn!(error = %e, "sync event not forwarded"),
                    }
                    if refresh_tray {
                        crate::tray::refresh(&app).await;
                    }
                }
                // The UI re-reads everything on the next event; nothing is lost for good.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            }
        }
    });
}
