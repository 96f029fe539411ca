//! Fault injection, switchable at run time: added latency, error answers (503 before any
//! effect), dropped connections (half before and half after the request took effect, so
//! clients see lost answers to changes that happened), and stalls.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// The faults in force.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Added to every answer.
    pub latency_ms: u64,
    /// Fraction answered 503 with an ErrorInfo, before any effect.
    pub error_rate: f64,
    /// Fraction whose connection is closed without an answer.
    pub drop_rate: f64,
    /// Fraction that hang for `stall_ms` before being served.
    pub stall_rate: f64,
    /// Length of a stall (0: a long stall of 10 minutes).
    pub stall_ms: u64,
    /// Seed for a reproducible pattern.
    pub seed: Option<u64>,
}

/// What happens to one request.
pub enum Decision {
    /// Serve it.
    Serve,
    /// Answer 503.
    Error,
    /// Close the connection without applying.
    DropBefore,
    /// Apply, then close the connection without answering.
    DropAfter,
    /// Wait, then serve.
    Stall(Duration),
}

/// A decision with the latency to add first.
pub struct Planned {
    /// Added latency.
    pub latency: Option<Duration>,
    /// What to do.
    pub kind: Decision,
}

struct Inner {
    faults: Faults,
    rng: StdRng,
}

/// A shared handle on the faults in force.
#[derive(Clone)]
pub struct FaultControl {
    inner: Arc<Mutex<Inner>>,
}

impl Default for FaultControl {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                faults: Faults::default(),
                rng: StdRng::from_os_rng(),
            })),
        }
    }
}

impl FaultControl {
    /// Sets the faults (and reseeds when a seed is given).
    pub fn set(&self, faults: Faults) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.rng = match faults.seed {
                Some(seed) => StdRng::seed_from_u64(seed),
                None => StdRng::from_os_rng(),
            };
            inner.faults = faults;
        }
    }

    /// The faults in force.
    pub fn get(&self) -> Faults {
        self.inner
            .lock()
            .map(|i| i.faults.clone())
            .unwrap_or_default()
    }

    /// Decides the fate of one request.
    pub fn decide(&self) -> Planned {
        let Ok(mut inner) = self.inner.lock() else {
            return Planned {
                latency: None,
                kind: Decision::Serve,
            };
        };
        let f = inner.faults.clone();
        let latency = (f.latency_ms > 0).then(|| Duration::from_millis(f.latency_ms));
        let roll: f64 = inner.rng.random();
        let kind = if roll < f.error_rate {
            Decision::Error
        } else if roll < f.error_rate + f.drop_rate {
            if inner.rng.random_bool(0.5) {
                Decision::DropBefore
            } else {
                Decision::DropAfter
            }
        } else if roll < f.error_rate + f.drop_rate + f.stall_rate {
            Decision::Stall(Duration::from_millis(if f.stall_ms == 0 {
                600_000
            } else {
                f.stall_ms
            }))
        } else {
            Decision::Serve
        };
        Planned { latency, kind }
    }
}

/// Lets a handler close its own connection without an answer.
#[derive(Clone, Default)]
pub struct KillSwitch(pub Arc<Notify>);

impl KillSwitch {
    /// Closes the connection; never returns an answer (the connection task drops it).
    pub async fn drop_connection(&self) -> axum::response::Response {
        self.0.notify_one();
        std::future::pending::<()>().await;
        axum::response::Response::default()
    }
}
