//! The line-event sink: every part of the agent emits [`LineEvent`]s here. Emitting never
//! blocks and never waits on the consumer (the SIP receive path must stay fast); a
//! forwarding task moves events, in order, into the bounded channel handed to the caller.

use deskline_core::calls::LineEvent;
use tokio::sync::mpsc;

/// Capacity of the channel returned by [`Agent::start`](crate::Agent::start).
pub const EVENT_CHANNEL_CAPACITY: usize = 256;

/// Where events go. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EventSink {
    tx: mpsc::UnboundedSender<LineEvent>,
}

impl EventSink {
    /// A sink and the receiver the caller gets. Must be called inside a Tokio runtime.
    pub fn channel() -> (Self, mpsc::Receiver<LineEvent>) {
        let (tx, mut internal) = mpsc::unbounded_channel::<LineEvent>();
        let (out, rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        tokio::spawn(async move {
            while let Some(event) = internal.recv().await {
                if out.send(event).await.is_err() {
                    // Nobody listens any more; keep draining so senders never notice.
                    while internal.recv().await.is_some() {}
                    return;
                }
            }
        });
        (Self { tx }, rx)
    }

    /// Emits an event; never blocks.
    pub fn emit(&self, event: LineEvent) {
        tracing::debug!(?event, "line event");
        let _ = self.tx.send(event);
    }
}
