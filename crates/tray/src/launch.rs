//! Starting the desktop app ("Open Deskline", a click on the icon, Answer on a call):
//! `DESKLINE_APP_BIN`, else `deskline-app` beside this binary, else `deskline-app` on
//! `PATH`; with `--data-dir` and `--demo` passed on (the environment is inherited). The
//! tray keeps running: the app asks it to hand the line over when it is ready.

use std::path::{Path, PathBuf};

/// The app binary's name.
pub const APP_BIN: &str = "deskline-app";

/// Which program starts the app: `explicit` (`DESKLINE_APP_BIN`), else the sibling of
/// `current_exe`, else the bare name (looked up on `PATH`).
pub fn app_program(explicit: Option<&Path>, current_exe: Option<&Path>) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    if let Some(sibling) = current_exe
        .and_then(Path::parent)
        .map(|dir| dir.join(APP_BIN))
        .filter(|p| p.is_file())
    {
        return sibling;
    }
    PathBuf::from(APP_BIN)
}

/// The app's arguments.
pub fn app_args(data_dir: Option<&Path>, demo: bool) -> Vec<std::ffi::OsString> {
    let mut args = Vec::new();
    if let Some(dir) = data_dir {
        args.push("--data-dir".into());
        args.push(dir.as_os_str().to_owned());
    }
    if demo {
        args.push("--demo".into());
    }
    args
}

/// Starts the app and reaps it in the background. Failing is logged, never fatal.
pub fn open_app(explicit: Option<&Path>, data_dir: Option<&Path>, demo: bool) {
    let current = std::env::current_exe().ok();
    let program = app_program(explicit, current.as_deref());
    let spawned = tokio::process::Command::new(&program)
        .args(app_args(data_dir, demo))
        .stdin(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            tracing::info!(program = %program.display(), pid = child.id(), "opening the Deskline app");
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
        }
        Err(e) => tracing::error!(
            program = %program.display(),
            error = %e,
            "the Deskline app could not be started; install deskline-app or set DESKLINE_APP_BIN to its path"
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_app_is_found_by_override_then_beside_us_then_on_the_path() {
        let dir = std::env::temp_dir().join(format!("deskline-tray-launch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let me = dir.join("deskline-tray");
        assert_eq!(app_program(None, Some(&me)), PathBuf::from(APP_BIN));
        std::fs::write(dir.join(APP_BIN), b"").unwrap();
        assert_eq!(app_program(None, Some(&me)), dir.join(APP_BIN));
        assert_eq!(
            app_program(Some(Path::new("/opt/app")), Some(&me)),
            PathBuf::from("/opt/app")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_data_dir_and_the_demo_are_passed_on() {
        assert!(app_args(None, false).is_empty());
        assert_eq!(
            app_args(Some(Path::new("/d")), true),
            ["--data-dir", "/d", "--demo"]
                .map(std::ffi::OsString::from)
                .to_vec()
        );
    }
}
