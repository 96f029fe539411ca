//! Finds the workspace's binaries (`deskline`, `deskline-sandbox`) for suites that run them
//! as a user would. `cargo xtask test` (nextest over the workspace) builds them before any
//! test runs; a suite run on its own builds them once here (nextest holds no cargo lock
//! while tests run). `DESKLINE_BIN` / `DESKLINE_SANDBOX_BIN` override the paths.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn target_debug_dir() -> PathBuf {
    // The test executable is target/<profile>/deps/<name>-<hash>.
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .expect("target directory")
}

fn locate(name: &str, package: &str, env_override: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env_override) {
        return PathBuf::from(path);
    }
    let path = target_debug_dir().join(name);
    // Under nextest no cargo lock is held while tests run, so make sure the binary is
    // current (a no-op when it is); under `cargo test` build only when missing.
    if !path.exists() || std::env::var_os("NEXTEST").is_some() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--bin", name])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build -p {package} failed");
    }
    assert!(
        path.exists(),
        "{} was not built at {}",
        name,
        path.display()
    );
    path
}

/// The `deskline` command line.
pub fn deskline() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| locate("deskline", "deskline-cli", "DESKLINE_BIN"))
        .clone()
}

/// The `deskline-sandbox` provider.
pub fn sandbox() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        locate(
            "deskline-sandbox",
            "deskline-sandbox",
            "DESKLINE_SANDBOX_BIN",
        )
    })
    .clone()
}

/// The desktop app (`deskline-app`; its front end must be built first: `cargo xtask test`
/// does, or `npm run build` in `ui/`).
pub fn app() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| locate("deskline-app", "deskline-app", "DESKLINE_APP_BIN"))
        .clone()
}
