//! Finds the workspace's binaries (`deskline`, `deskline-sandbox`, `deskline-tray`, the
//! app) for suites that run them as a user would, built in a target directory of their own
//! ([`bins_target_dir`]). `cargo xtask test` builds them before any suite runs; a suite run
//! on its own builds them once here. `DESKLINE_BIN` / `DESKLINE_SANDBOX_BIN` /
//! `DESKLINE_TRAY_BIN` / `DESKLINE_APP_BIN` override the paths.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The workspace's target directory: the test executable is
/// `<target>/<profile>/deps/<name>-<hash>`.
fn target_root() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .and_then(|profile| profile.parent())
        .map(PathBuf::from)
        .expect("target directory")
}

/// Where the suites' binaries are built: a target directory of their own, so that
/// building one package alone (with its own feature set) never invalidates what nextest
/// built for the whole workspace, and the other way round. Otherwise every run would
/// rebuild the app and its dependencies while the other suites run beside it.
pub fn bins_target_dir() -> PathBuf {
    target_root().join(BINS_TARGET_SUBDIR)
}

/// The subdirectory of the target directory that [`bins_target_dir`] names (`cargo xtask
/// test` builds the binaries there before the suites start).
pub const BINS_TARGET_SUBDIR: &str = "e2e-bins";

/// The binaries the suites run, as `(package, binary)`; `cargo xtask test` builds each
/// with the same command as [`locate`] before any suite starts.
pub const SUITE_BINARIES: &[(&str, &str)] = &[
    ("deskline-cli", "deskline"),
    ("deskline-sandbox", "deskline-sandbox"),
    ("deskline-app", "deskline-app"),
    ("deskline-tray", "deskline-tray"),
];

fn locate(name: &str, package: &str, env_override: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env_override) {
        return PathBuf::from(path);
    }
    let target = bins_target_dir();
    let path = target.join("debug").join(name);
    // Make sure the binary is current: a no-op (well under a second) when it is, which
    // is the case under `cargo xtask test`.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            package,
            "--bin",
            name,
            "--target-dir",
        ])
        .arg(&target)
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build -p {package} failed");
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

/// The tray-resident process (`deskline-tray`).
pub fn tray() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| locate("deskline-tray", "deskline-tray", "DESKLINE_TRAY_BIN"))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::SUITE_BINARIES;

    /// `cargo xtask test` prebuilds the same list (in `xtask/src/main.rs`): a binary
    /// missing there would be compiled by a suite while the others run.
    #[test]
    fn xtask_prebuilds_every_suite_binary() {
        let xtask =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../xtask/src/main.rs"))
                .unwrap();
        let start = xtask.find("const SUITE_BINARIES").unwrap();
        let end = start + xtask[start..].find("];").unwrap();
        let listed = &xtask[start..end];
        for (package, bin) in SUITE_BINARIES {
            assert!(
                listed.contains(&format!("(\"{package}\", \"{bin}\")")),
                "xtask/src/main.rs SUITE_BINARIES lacks ({package}, {bin})"
            );
        }
        assert_eq!(
            listed.matches("(\"").count(),
            SUITE_BINARIES.len(),
            "the two lists differ"
        );
    }
}
