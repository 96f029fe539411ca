//! The real desktop app under test: a virtual screen ([`Xvfb`], with screenshots through
//! `xwd` and ImageMagick, since WebDriver's own screenshot call hangs under Xvfb), and the
//! app started by `tauri-driver` (which runs Debian's `WebKitWebDriver`) and driven over
//! WebDriver with fantoccini ([`DesktopApp`]).
//!
//! The app gets its own data directory, display and D-Bus session bus through the
//! environment, so runs never touch the user's files or desktop.

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A virtual X screen on a free display number.
pub struct Xvfb {
    child: Child,
    /// `:N`.
    pub display: String,
}

impl Xvfb {
    /// Starts `Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp`: Xvfb picks a free
    /// display itself (stale lock files of killed servers included) and prints its number
    /// once it accepts clients.
    pub fn start() -> Self {
        use std::io::BufRead as _;
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb (apt-get install xvfb)");
        let stdout = child.stdout.take().expect("Xvfb's stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) if line.trim().parse::<u32>().is_ok() => Self {
                child,
                display: format!(":{}", line.trim()),
            },
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("Xvfb did not start: {other:?}");
            }
        }
    }

    /// Saves what the screen shows as a PNG at `path`.
    pub fn screenshot(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "xwd -root -silent -display {} | convert xwd:- png:'{}'",
                self.display,
                path.display()
            ))
            .status()
            .unwrap();
        assert!(status.success(), "screenshot to {} failed", path.display());
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the screenshots of a run go: `$CARGO_TARGET_DIR/app-screenshots/` (or
/// `target/app-screenshots/`), kept after the run as test artefacts.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("app-screenshots")
}

fn tauri_driver() -> PathBuf {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let installed = home.join(".cargo/bin/tauri-driver");
    if installed.exists() {
        return installed;
    }
    PathBuf::from("tauri-driver")
}

/// The app, started through tauri-driver and driven over WebDriver.
pub struct DesktopApp {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    log_path: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl DesktopApp {
    /// Starts `tauri-driver` on free ports with `env` (display, bus, data directory…)
    /// and opens a session that launches `application`.
    pub async fn launch(application: &Path, env: &[(&str, String)]) -> Self {
        // Several rustls providers are linked into the tests; WebDriver (plain HTTP on
        // loopback) needs one chosen.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = crate::kamailio::free_port();
        let native = crate::kamailio::free_port();
        let log_dir = tempfile::tempdir().expect("temp dir");
        let log_path = log_dir.path().join("app.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut cmd = Command::new(tauri_driver());
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let driver = cmd
            .spawn()
            .expect("start tauri-driver (cargo install tauri-driver --version ^2 --locked)");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": application }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "no WebDriver session with the app: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        };
        Self {
            client,
            driver,
            log_path,
            _log_dir: log_dir,
        }
    }

    /// What the app and its drivers printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits for an element matching the CSS selector.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits until the page's text contains `text`.
    pub async fn wait_text(&self, text: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let body = self.body_text().await;
            if body.contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the app never showed {text:?}; it shows:\n{body}\n--- app log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the page's text no longer contains `text`.
    pub async fn wait_no_text(&self, text: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let body = self.body_text().await;
            if !body.contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the app still shows {text:?}:\n{body}\n--- app log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Runs axe-core (the front end's own copy, `ui/node_modules/axe-core/axe.min.js`) in
    /// the app's real web view, where pages have layout and colours (so colour contrast and
    /// target sizes are checked too, which jsdom cannot), and returns the violations of
    /// impact serious or critical, one line each.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("axe-core ({}; npm ci in ui/): {e}", path.display()));
        // The script itself defines `window.axe` (no eval: the CSP forbids it).
        let loaded = self
            .client
            .execute(
                &format!("if (!window.axe) {{\n{source}\n}}\nreturn typeof window.axe;"),
                vec![],
            )
            .await
            .expect("axe-core loads in the page");
        assert_eq!(loaded, serde_json::json!("object"), "axe-core did not load");
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ['violations'] }).then(
                  (r) => done(r.violations
                    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\s+/g, ' ')).join(' | ')}`)),
                  (e) => done(['axe-core failed: ' + e]));"#,
                vec![],
            )
            .await
            .expect("axe-core ran");
        serde_json::from_value(found).expect("a list of violations")
    }

    /// The page's performance marks named `deskline:…` (the start-up's milestones), with
    /// their times in ms since the page started loading, in the order they were made.
    pub async fn start_marks(&self) -> Vec<(String, f64)> {
        let found = self
            .client
            .execute(
                "return performance.getEntriesByType('mark')\
                   .filter((m) => m.name.startsWith('deskline:'))\
                   .map((m) => [m.name, m.startTime]);",
                vec![],
            )
            .await
            .expect("the page's performance marks");
        serde_json::from_value(found).expect("a list of [name, time]")
    }

    /// The visible text of the page.
    pub async fn body_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Ends the session (the app exits) and stops tauri-driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for DesktopApp {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The running processes of `application` whose `DESKLINE_DATA_DIR` is `data_dir` (other
/// tests' instances are left out).
pub fn running(application: &Path, data_dir: &Path) -> Vec<u32> {
    let wanted_env = format!("DESKLINE_DATA_DIR={}", data_dir.display());
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in procs.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(exe) = std::fs::read_link(entry.path().join("exe")) else {
            continue;
        };
        if exe != application {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ
            .split(|b| *b == 0)
            .any(|var| var == wanted_env.as_bytes())
        {
            found.push(pid);
        }
    }
    found
}

/// Waits until no process of `application` runs for `data_dir`.
pub async fn wait_gone(application: &Path, data_dir: &Path, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !running(application, data_dir).is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} is still running",
            application.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until a process of `application` runs for `data_dir`; returns its pid. `context`
/// says what was going on (a log) when it never starts.
pub async fn wait_running(
    application: &Path,
    data_dir: &Path,
    limit: Duration,
    context: impl Fn() -> String,
) -> u32 {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(pid) = running(application, data_dir).first() {
            return *pid;
        }
        assert!(
            Instant::now() < deadline,
            "{} never started:\n{}",
            application.display(),
            context()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends SIGTERM (as a logout or shutdown does) to the running `application` whose
/// `DESKLINE_DATA_DIR` is `data_dir`; other instances (other tests) are left alone.
/// Returns whether one was found.
pub fn terminate_app(application: &Path, data_dir: &Path) -> bool {
    let mut found = false;
    for pid in running(application, data_dir) {
        found |= Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
    }
    found
}
