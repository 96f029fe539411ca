//! Runs the real `deskline` binary in a private data directory, against a sandbox provider
//! started in the test process (a real HTTP server on loopback), and reads the provider's
//! state back over its own wire protocol to check what landed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use deskline_sandbox::{Faults, Sandbox, SandboxConfig, Seed};

/// The demo seed's main user.
pub const DEMO_USER: &str = "demo@deskline.example";
/// Its password.
pub const DEMO_PASSWORD: &str = "Deskline-demo-1";
/// The demo soft clients' SIP passwords (they must never leave the keychain).
pub const DEMO_SIP_PASSWORDS: [&str; 2] = ["Sip-secret-pc1", "Sip-secret-mob1"];
/// The demo soft clients' device-management passwords.
pub const DEMO_DM_PASSWORDS: [&str; 2] = ["Dm-secret-pc1", "Dm-secret-mob1"];

/// What one run of `deskline` did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Fails the test with the whole output unless the run exited with `code`.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Stdout parsed as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// A `deskline` user: a data directory of their own.
pub struct Client {
    pub data_dir: PathBuf,
    _keep: Option<tempfile::TempDir>,
    pub log_level: &'static str,
}

impl Client {
    /// A client with a fresh temporary data directory.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            data_dir: dir.path().join("data"),
            _keep: Some(dir),
            log_level: "info",
        }
    }

    /// A client with a data directory at `path`.
    pub fn at(path: &Path) -> Self {
        Self {
            data_dir: path.to_path_buf(),
            _keep: None,
            log_level: "info",
        }
    }

    /// The command, ready to run with `args`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(crate::bins::deskline());
        cmd.arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .env("RUST_LOG", self.log_level)
            .env_remove("DESKLINE_DEMO")
            .env_remove("DESKLINE_ACCOUNT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `deskline ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }

    /// Runs `deskline ARGS` with `input` on stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self.command(args).stdin(Stdio::piped()).spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// Signs in to `server` as `user`.
    pub fn login(&self, server: &str, user: &str, password: &str) -> Run {
        self.run_with_stdin(
            &[
                "login",
                "--server",
                server,
                "--user",
                user,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
    }

    /// `deskline --json ARGS`, expecting success, parsed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run(&all).expect_code(0).json()
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

/// Starts a sandbox with the demo seed on a free loopback port.
pub async fn demo_sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig::default()).await.unwrap()
}

/// Reads `path` under the user's Xsi-Actions root straight from the provider, as the given
/// user, and returns the XML text.
pub async fn provider_get(sandbox: &Sandbox, user: &str, password: &str, path: &str) -> String {
    let url = format!("{}user/{user}/{path}", sandbox.xsi_url());
    let response = reqwest::Client::new()
        .get(url)
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "GET {path}: {}",
        response.status()
    );
    response.text().await.unwrap()
}

/// Writes `body` to `path` under the user's Xsi-Actions root on the provider (someone
/// changing the setting on the portal), returning the status code.
pub async fn provider_put(
    sandbox: &Sandbox,
    user: &str,
    password: &str,
    path: &str,
    body: &str,
) -> u16 {
    let url = format!("{}user/{user}/{path}", sandbox.xsi_url());
    reqwest::Client::new()
        .put(url)
        .basic_auth(user, Some(password))
        .header("Content-Type", "application/xml; charset=UTF-8")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The text of the first `<name>…</name>` element in `xml` (namespace-agnostic, for
/// checks of what the provider holds).
pub fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].to_owned())
}

/// The sandbox's count of state-changing requests.
pub async fn mutations(sandbox: &Sandbox) -> u64 {
    let url = format!("{}__sandbox/stats", sandbox.base_url());
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    let stats: serde_json::Value = serde_json::from_str(&text).unwrap();
    stats["mutations"].as_u64().unwrap()
}

/// The demo seed with its soft clients' registrar and proxy moved to `port` (a local
/// Kamailio), so signing in syncs lines that really register.
pub fn demo_seed_with_registrar_port(port: u16) -> String {
    let demo = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/sandbox/seeds/demo.toml"
    ))
    .unwrap();
    let seed = demo
        .replace("registrar_port = 5070", &format!("registrar_port = {port}"))
        .replace("proxy_port = 5070", &format!("proxy_port = {port}"));
    assert_ne!(
        seed, demo,
        "the demo seed's soft clients moved: update this helper"
    );
    seed
}

/// Kamailio users for the demo seed's two soft clients.
pub fn demo_sip_users() -> Vec<(String, String)> {
    vec![
        ("dana-pc-auth".into(), DEMO_SIP_PASSWORDS[0].into()),
        ("dana-mobile-auth".into(), DEMO_SIP_PASSWORDS[1].into()),
    ]
}
