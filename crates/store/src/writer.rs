//! The one writer: a dedicated thread owns the SQLite connection and runs jobs sent to it,
//! answering each through a oneshot channel, so async callers never block and every write
//! is serialised.

use deskline_core::StoreError;
use rusqlite::Connection;
use std::sync::mpsc;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A handle to the writer thread. Cloning shares the thread.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the thread with `connection`.
    pub fn start(mut connection: Connection) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("deskline-store".into())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job(&mut connection);
                }
            })
            .map_err(|e| StoreError::Failed {
                reason: format!("could not start the store thread: {e}"),
            })?;
        Ok(Self { jobs })
    }

    /// Runs `work` on the writer thread and waits for its result without blocking.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |conn| {
                let _ = tx.send(work(conn));
            }))
            .map_err(|_| StoreError::Failed {
                reason: "the store thread has stopped".into(),
            })?;
        rx.await.map_err(|_| StoreError::Failed {
            reason: "the store thread stopped during a request".into(),
        })?
    }
}

/// Converts a SQLite error.
pub fn sql(e: rusqlite::Error) -> StoreError {
    StoreError::Failed {
        reason: e.to_string(),
    }
}

/// Converts a JSON (de)serialisation error of a stored row.
pub fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        reason: e.to_string(),
    }
}
