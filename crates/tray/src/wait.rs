//! Waiting for the app that started the tray (`--after-app PID`) to exit before the tray
//! registers the lines: one registration per line at a time. Polls `/proc/PID/stat` (a
//! process that is gone, or a zombie waiting for its parent, has exited).

use crate::TrayError;
use std::time::Duration;

/// How long the app may take to exit.
pub const AFTER_APP_LIMIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(50);

/// Whether process `pid` has exited.
pub fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // `PID (COMM) STATE …`: COMM may hold spaces and parentheses.
        Ok(stat) => matches!(
            stat.rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next()),
            Some("Z" | "X" | "x") | None
        ),
    }
}

/// Resolves when `pid` has exited; fails after `limit`.
pub async fn wait_exit(pid: u32, limit: Duration) -> Result<(), TrayError> {
    let deadline = tokio::time::Instant::now() + limit;
    while !exited(pid) {
        if tokio::time::Instant::now() >= deadline {
            return Err(TrayError::AppStillRunning {
                pid,
                secs: limit.as_secs(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_running_process_has_not_exited_and_a_zombie_has() {
        assert!(!exited(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        // Not reaped yet: a zombie.
        let pid = child.id();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !exited(pid) {
            assert!(std::time::Instant::now() < deadline, "true never exited");
            std::thread::sleep(Duration::from_millis(10));
        }
        child.wait().unwrap();
        assert!(exited(pid));
    }

    #[tokio::test]
    async fn waiting_for_a_process_that_stays_times_out_with_a_clear_error() {
        let err = wait_exit(std::process::id(), Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("did not exit within"), "{err}");
    }
}
