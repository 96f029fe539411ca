//! The line-event sink: every part of the agent emits [`LineEvent`]s here. Emitting never
//! blocks and never waits on the consumer (the SIP receive path must stay fast); a
//! forwarding task moves events, in order, into the bounded channel handed to the caller.
//! [`EventSink::flush`] waits until everything emitted before it is in that channel (the
//! agent's shutdown uses it, so the last `Unregistered` events are never lost).

use deskline_core::calls::LineEvent;
use tokio::sync::{mpsc, oneshot};

/// Capacity of the channel returned by [`Agent::start`](crate::Agent::start).
pub const EVENT_CHANNEL_CAPACITY: usize = 256;

/// What goes through the internal channel.
#[derive(Debug)]
enum Item {
    Event(LineEvent),
    Flush(oneshot::Sender<()>),
}

/// Where events go. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EventSink {
    tx: mpsc::UnboundedSender<Item>,
}

impl EventSink {
    /// A sink and the receiver the caller gets. Must be called inside a Tokio runtime.
    pub fn channel() -> (Self, mpsc::Receiver<LineEvent>) {
        let (tx, mut internal) = mpsc::unbounded_channel::<Item>();
        let (out, rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        tokio::spawn(async move {
            let mut listening = true;
            while let Some(item) = internal.recv().await {
                match item {
                    Item::Event(event) => {
                        // Once nobody listens, keep draining so senders never notice.
                        if listening && out.send(event).await.is_err() {
                            listening = false;
                        }
                    }
                    Item::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        (Self { tx }, rx)
    }

    /// Emits an event; never blocks.
    pub fn emit(&self, event: LineEvent) {
        tracing::debug!(?event, "line event");
        let _ = self.tx.send(Item::Event(event));
    }

    /// Waits until every event emitted before this call is in the caller's channel (or
    /// nobody listens any more).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Item::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}
