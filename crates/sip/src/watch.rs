//! Noticing that the network changed or that the machine woke from sleep, so that every
//! line registers again at once over a fresh flow (a NAT binding or TCP connection from
//! before is gone; the registrar may have dropped the binding while we slept).
//!
//! Two detectors, both pure and fed their inputs, so they are tested without waiting:
//! [`WakeDetector`] compares the monotonic clock, which stops while the machine sleeps,
//! with the wall clock, which does not; [`AddressWatch`] compares the set of the machine's
//! interface addresses between polls. [`run`] polls both every
//! [`Tuning::network_poll`](crate::Tuning::network_poll) and bumps the agent's
//! network generation.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio::time::Instant;

/// How far the wall clock must run ahead of the monotonic clock between two polls before
/// it counts as a sleep (well above scheduling jitter, well below any registration
/// expiry).
pub const WAKE_THRESHOLD: Duration = Duration::from_secs(10);

/// Detects a wake from sleep.
#[derive(Debug, Clone)]
pub struct WakeDetector {
    mono: Instant,
    wall: SystemTime,
    threshold: Duration,
}

impl WakeDetector {
    /// Starts from one reading of both clocks.
    pub fn new(mono: Instant, wall: SystemTime, threshold: Duration) -> Self {
        Self {
            mono,
            wall,
            threshold,
        }
    }

    /// Takes the next reading: `true` when the wall clock advanced by more than the
    /// monotonic clock plus the threshold (the machine slept, or the clock was set ahead
    /// by hand: either way a fresh registration is right). A wall clock set back is not
    /// a wake.
    pub fn observe(&mut self, mono: Instant, wall: SystemTime) -> bool {
        let mono_elapsed = mono.saturating_duration_since(self.mono);
        let wall_elapsed = wall.duration_since(self.wall).unwrap_or(Duration::ZERO);
        self.mono = mono;
        self.wall = wall;
        wall_elapsed > mono_elapsed + self.threshold
    }
}

/// Detects a change of the machine's interface addresses.
#[derive(Debug, Clone, Default)]
pub struct AddressWatch {
    last: Option<BTreeSet<IpAddr>>,
}

impl AddressWatch {
    /// Takes the next set of addresses: `true` when it differs from the previous one (the
    /// first set is only remembered).
    pub fn observe(&mut self, now: BTreeSet<IpAddr>) -> bool {
        let changed = self.last.as_ref().is_some_and(|last| *last != now);
        self.last = Some(now);
        changed
    }
}

/// The machine's addresses that a SIP flow could use: every interface address except
/// loopback and IPv6 link-local ones (those come and go with no effect on a route).
/// Empty when the system cannot be asked.
pub fn local_addresses() -> BTreeSet<IpAddr> {
    match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces
            .into_iter()
            .map(|i| i.ip())
            .filter(|ip| !ip.is_loopback())
            .filter(|ip| match ip {
                IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
                IpAddr::V4(_) => true,
            })
            .collect(),
        Err(e) => {
            tracing::debug!(error = %e, "could not list the interface addresses");
            BTreeSet::new()
        }
    }
}

/// Polls until `stop` turns true; bumps `generation` on every change or wake.
pub async fn run(poll: Duration, generation: watch::Sender<u64>, mut stop: watch::Receiver<bool>) {
    if poll.is_zero() {
        return;
    }
    let mut wake = WakeDetector::new(Instant::now(), SystemTime::now(), WAKE_THRESHOLD);
    let mut addresses = AddressWatch::default();
    addresses.observe(read_addresses().await);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let woke = wake.observe(Instant::now(), SystemTime::now());
        let moved = addresses.observe(read_addresses().await);
        if woke || moved {
            tracing::info!(woke, moved, "network changed: registering every line again");
            generation.send_modify(|g| *g = g.wrapping_add(1));
        }
    }
}

async fn read_addresses() -> BTreeSet<IpAddr> {
    tokio::task::spawn_blocking(local_addresses)
        .await
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn a_sleep_is_the_wall_clock_running_ahead() {
        let mono = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut d = WakeDetector::new(mono, wall, WAKE_THRESHOLD);
        // Five seconds on both clocks: awake.
        assert!(!d.observe(mono + Duration::from_secs(5), wall + Duration::from_secs(5)));
        // Jitter of a few seconds is not a sleep.
        assert!(!d.observe(
            mono + Duration::from_secs(10),
            wall + Duration::from_secs(13)
        ));
        // Five monotonic seconds but an hour of wall time: the machine slept.
        assert!(d.observe(
            mono + Duration::from_secs(15),
            wall + Duration::from_secs(13 + 3600)
        ));
        // The next poll is normal again.
        assert!(!d.observe(
            mono + Duration::from_secs(20),
            wall + Duration::from_secs(18 + 3600)
        ));
        // A clock set back is not a wake.
        assert!(!d.observe(mono + Duration::from_secs(25), wall));
    }

    #[test]
    fn an_address_change_is_noticed_once() {
        let a: BTreeSet<IpAddr> = [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))].into();
        let b: BTreeSet<IpAddr> = [
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        ]
        .into();
        let mut w = AddressWatch::default();
        assert!(!w.observe(a.clone()), "the first reading is a baseline");
        assert!(!w.observe(a.clone()));
        assert!(w.observe(b.clone()), "moved to another network");
        assert!(!w.observe(b));
        assert!(w.observe(BTreeSet::new()), "went offline");
        assert!(w.observe(a), "came back");
    }

    #[test]
    fn local_addresses_leave_out_loopback_and_link_local() {
        for ip in local_addresses() {
            assert!(!ip.is_loopback(), "{ip}");
            if let IpAddr::V6(v6) = ip {
                assert_ne!(v6.segments()[0] & 0xffc0, 0xfe80, "{ip}");
            }
        }
    }

    #[tokio::test]
    async fn the_poll_loop_stops_and_a_zero_poll_never_starts() {
        let (generation, _rx) = watch::channel(0u64);
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(Duration::from_millis(20), generation.clone(), stop_rx));
        tokio::time::sleep(Duration::from_millis(120)).await;
        stop_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap_or_else(|_| panic!("the watch did not stop"))
            .unwrap();
        let (_, never) = watch::channel(false);
        tokio::time::timeout(
            Duration::from_secs(1),
            run(Duration::ZERO, generation, never),
        )
        .await
        .unwrap_or_else(|_| panic!("a zero poll must return at once"));
    }
}
