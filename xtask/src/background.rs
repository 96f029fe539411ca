//! Programs the xtasks run in the background and wait for by their first line of output:
//! the virtual screen ([`Xvfb`]) that `bench-app`, `deb-check` and the screen's tests start,
//! [`first_line_within`] (also for their session buses), and the log helpers they share.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The first line `child` prints on its standard output (piped), trimmed, waiting at most
/// `limit` for it: a program that hangs before printing fails here instead of blocking
/// the task. The reading thread is left to end with the pipe.
pub(crate) fn first_line_within(child: &mut Child, what: &str, limit: Duration) -> Result<String> {
    let stdout = child
        .stdout
        .take()
        .with_context(|| format!("{what}'s output"))?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let line = match rx.recv_timeout(limit) {
        Ok(read) => read.with_context(|| format!("read {what}'s output"))?,
        Err(_) => bail!("{what} printed nothing within {limit:?}"),
    };
    let line = line.trim().to_owned();
    if line.is_empty() {
        bail!("{what} ended without printing anything");
    }
    Ok(line)
}

/// `path` opened for appending, twice (for a child's stdout and stderr).
pub(crate) fn log_file(path: &Path) -> Result<(Stdio, Stdio)> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("open the log {}", path.display()))?;
    let copy = file
        .try_clone()
        .with_context(|| format!("open the log {}", path.display()))?;
    Ok((Stdio::from(file), Stdio::from(copy)))
}

/// The last lines of a log, without terminal colours, for an error message.
pub(crate) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let lines: Vec<&str> = plain.lines().collect();
    let tail: Vec<String> = lines[lines.len().saturating_sub(8)..]
        .iter()
        .map(|l| format!("    | {l}"))
        .collect();
    if tail.is_empty() {
        "    | (empty)".to_owned()
    } else {
        tail.join("\n")
    }
}

/// `Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp`: Xvfb picks a free display
/// itself and says which once it accepts clients (no race with another server starting).
/// Killed when dropped.
pub(crate) struct Xvfb {
    server: Child,
    /// `:N`.
    pub(crate) display: String,
}

impl Xvfb {
    /// Starts one, with `extra` arguments (such as `-extension MIT-SHM`); its messages go
    /// to `log`.
    pub(crate) fn start(log: &Path, extra: &[&str]) -> Result<Self> {
        let (_, err) = log_file(log)?;
        let server = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .context("start Xvfb (apt-get install xvfb)")?;
        // Killed from here on, whatever happens next.
        let mut started = Self {
            server,
            display: String::new(),
        };
        match first_line_within(&mut started.server, "Xvfb", Duration::from_secs(10)) {
            Ok(number) if number.parse::<u32>().is_ok() => {
                started.display = format!(":{number}");
                Ok(started)
            }
            Ok(other) => bail!(
                "Xvfb printed {other:?}, not a display number; its messages:\n{}",
                log_tail(log)
            ),
            Err(e) => bail!(
                "Xvfb did not start (apt-get install xvfb): {e:#}; its messages:\n{}",
                log_tail(log)
            ),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn piped(script: &str) -> Child {
        Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    }

    #[test]
    fn the_first_line_is_read_and_trimmed() {
        let mut child = piped("echo ' :42 '; echo second");
        assert_eq!(
            first_line_within(&mut child, "echo", Duration::from_secs(10)).unwrap(),
            ":42"
        );
        child.wait().unwrap();
    }

    #[test]
    fn a_program_that_prints_nothing_in_time_fails_and_does_not_block() {
        let mut child = piped("exec sleep 30");
        let started = std::time::Instant::now();
        let error = first_line_within(&mut child, "sleeper", Duration::from_millis(200))
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(error, "sleeper printed nothing within 200ms");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn a_program_that_ends_silently_says_so() {
        let mut child = piped("exit 3");
        let error = first_line_within(&mut child, "quiet", Duration::from_secs(10))
            .unwrap_err()
            .to_string();
        assert_eq!(error, "quiet ended without printing anything");
        child.wait().unwrap();
    }

    #[test]
    fn xvfb_gives_its_display_and_a_bad_start_gives_its_messages() {
        let log = tempfile::NamedTempFile::new().unwrap();
        let xvfb = Xvfb::start(log.path(), &[]).unwrap();
        assert!(xvfb.display.starts_with(':'));
        let (conn, _) = x11rb::connect(Some(&xvfb.display)).unwrap();
        drop(conn);
        // An argument Xvfb refuses: it exits without a display number.
        let bad_log = tempfile::NamedTempFile::new().unwrap();
        let error = Xvfb::start(bad_log.path(), &["-no-such-option"])
            .err()
            .expect("Xvfb started with a bad option")
            .to_string();
        assert!(error.starts_with("Xvfb did not start"), "{error}");
        assert!(error.contains("-no-such-option"), "{error}");
    }
}
