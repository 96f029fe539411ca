//! `cargo xtask deb-check` (also the last step of `cargo xtask test`): the `.deb` that
//! `cargo xtask bundle` makes installs on this Debian machine and starts.
//!
//! 1. Its contents: `/usr/bin/deskline-app` and `/usr/bin/deskline-tray`, a desktop entry
//!    that handles `tel:`, `sip:` and `callto:` links and hands the link to the app (`%u`;
//!    Tauri's own entry has no field code, so `src-tauri/linux/deskline.desktop` is the
//!    template), and the icon.
//! 2. `apt-get install ./Deskline_….deb` (its dependencies from the archive, as a user
//!    installs it), then the installed `/usr/bin/deskline-app --demo` on a virtual screen
//!    of its own (`Xvfb -displayfd`) and a session bus of its own: it must open the demo
//!    (its preferences say so) and map its window titled "Deskline" (`xwininfo`), and stay
//!    running; then SIGTERM, and it must exit.
//! 3. The package is removed again (`apt-get remove`), whatever happened.
//!
//! When the package is already installed (a user's own Deskline), steps 2 and 3 are
//! skipped with a message: the check never replaces or removes it.

use anyhow::{Context, Result, bail};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::background::{Xvfb, first_line_within};

/// How long the installed app may take to open its window on the demo.
const START_LIMIT: Duration = Duration::from_secs(60);

/// Builds the `.deb`, installs it, starts it, removes it.
pub fn run() -> Result<()> {
    if !Path::new("/usr/bin/apt-get").exists() {
        eprintln!("xtask: deb-check: not a Debian/Ubuntu machine, skipped");
        return Ok(());
    }
    super::bundle()?;
    let deb = newest_deb(&super::target_dir().join("release/bundle/deb"))?;
    let deb = std::fs::canonicalize(&deb).with_context(|| format!("{}", deb.display()))?;
    check_contents(&deb)?;
    let package = field(&deb, "Package")?;
    if super::installed(&package) {
        // Never replace (and then remove) a Deskline the user installed themselves.
        eprintln!(
            "xtask: deb-check: {package} is already installed on this machine; its contents were checked, \
             installing and starting it were skipped (apt-get remove {package} to run them)"
        );
        return Ok(());
    }
    eprintln!("xtask: deb-check: installing {} ({package})", deb.display());
    super::run(apt(&["install", "-y", "-q", "--no-install-recommends"]).arg(&deb))
        .context("the .deb does not install")?;
    let started = start_installed();
    let removed = super::run(&mut apt(&["remove", "-y", "-q", &package]));
    started?;
    removed.context("the installed package could not be removed")?;
    eprintln!("xtask: deb-check: the .deb installs, starts on the demo and is removed again");
    Ok(())
}

fn apt(args: &[&str]) -> Command {
    let mut cmd = if super::is_root() {
        Command::new("apt-get")
    } else {
        let mut c = Command::new("sudo");
        c.arg("apt-get");
        c
    };
    cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    cmd
}

fn newest_deb(dir: &Path) -> Result<PathBuf> {
    let mut debs: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("no bundle directory {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    debs.sort();
    debs.pop()
        .map(|(_, p)| p)
        .with_context(|| format!("no .deb in {}", dir.display()))
}

fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn field(deb: &Path, name: &str) -> Result<String> {
    Ok(
        output(Command::new("dpkg-deb").arg("-f").arg(deb).arg(name))?
            .trim()
            .to_owned(),
    )
}

fn check_contents(deb: &Path) -> Result<()> {
    let listing = output(Command::new("dpkg-deb").arg("-c").arg(deb))?;
    // As listed ("usr/bin/…" or "./usr/bin/…", depending on the tar that made it).
    let listed: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .collect();
    let path_of = |p: &str| p.trim_start_matches("./").to_owned();
    let paths: Vec<String> = listed.iter().map(|p| path_of(p)).collect();
    for wanted in ["usr/bin/deskline-app", "usr/bin/deskline-tray"] {
        if !paths.iter().any(|p| p == wanted) {
            bail!("the .deb has no {wanted}:\n{listing}");
        }
    }
    if !paths
        .iter()
        .any(|p| p.starts_with("usr/share/icons/") && p.ends_with(".png"))
    {
        bail!("the .deb has no icon:\n{listing}");
    }
    let desktop = *listed
        .iter()
        .find(|p| {
            let p = path_of(p);
            p.starts_with("usr/share/applications/") && p.ends_with(".desktop")
        })
        .with_context(|| format!("the .deb has no desktop entry:\n{listing}"))?;
    let mut tar = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("dpkg-deb --fsys-tarfile")?;
    let stdout = tar.stdout.take().context("dpkg-deb's output")?;
    let entry = output(
        Command::new("tar")
            .args(["-xO", desktop])
            .stdin(Stdio::from(stdout)),
    )?;
    let _ = tar.wait();
    // The link reaches the app only through a field code on Exec.
    let exec = entry
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .with_context(|| format!("{desktop} has no Exec:\n{entry}"))?;
    if !exec.split_whitespace().any(|w| w == "%u" || w == "%U") {
        bail!("{desktop} starts `{exec}`: without %u a clicked link never reaches the app");
    }
    let mime = entry
        .lines()
        .find_map(|l| l.strip_prefix("MimeType="))
        .with_context(|| format!("{desktop} has no MimeType:\n{entry}"))?;
    for scheme in ["tel", "sip", "callto"] {
        if !mime
            .split(';')
            .any(|m| m == format!("x-scheme-handler/{scheme}"))
        {
            bail!("{desktop} does not handle {scheme}: links (MimeType={mime})");
        }
    }
    Ok(())
}

/// Kills the child (and waits for it) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_installed() -> Result<()> {
    let app = Path::new("/usr/bin/deskline-app");
    if !app.exists() {
        bail!("the package did not install {}", app.display());
    }
    let scratch = tempfile_dir()?;
    let home = scratch.join("home");
    let data = scratch.join("data");
    let runtime = home.join("run");
    std::fs::create_dir_all(&runtime)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))?;
    }
    let result = (|| {
        let xvfb = Xvfb::start(&scratch.join("xvfb.log"), &[])?;
        let display = xvfb.display.clone();
        let mut bus = Killed(
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .context("start dbus-daemon")?,
        );
        let address = first_line_within(&mut bus.0, "dbus-daemon", Duration::from_secs(10))?;
        let log = scratch.join("app.log");
        let mut app = Killed(
            Command::new(app)
                .args(["--demo", "--data-dir"])
                .arg(&data)
                .env_remove("WAYLAND_DISPLAY")
                .env("DISPLAY", &display)
                .env("GDK_BACKEND", "x11")
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join(".config"))
                .env("XDG_DATA_HOME", home.join(".local/share"))
                .env("XDG_CACHE_HOME", home.join(".cache"))
                .env("XDG_RUNTIME_DIR", &runtime)
                .env("DESKLINE_KEYCHAIN", "keyutils")
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&log)?)
                .stderr(std::fs::File::create(scratch.join("app.err"))?)
                .spawn()
                .context("start the installed deskline-app")?,
        );
        let app_log = || {
            let mut text = String::new();
            for name in ["app.log", "app.err"] {
                if let Ok(mut f) = std::fs::File::open(scratch.join(name)) {
                    let _ = f.read_to_string(&mut text);
                }
            }
            text
        };
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if let Some(status) = app.0.try_wait()? {
                bail!("the installed app exited ({status}):\n{}", app_log());
            }
            let demo = std::fs::read_to_string(data.join("app-preferences.json"))
                .is_ok_and(|t| t.contains("\"demo\""));
            let window = Command::new("xwininfo")
                .args(["-display", &display, "-name", "Deskline"])
                .output()
                .is_ok_and(|o| {
                    o.status.success()
                        && String::from_utf8_lossy(&o.stdout).contains("Map State: IsViewable")
                });
            if demo && window {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "the installed app did not open the demo in a window within {START_LIMIT:?} (demo: {demo}, window: {window}):\n{}",
                    app_log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        // Still running a moment later, then it quits on SIGTERM (as at logout).
        std::thread::sleep(Duration::from_secs(2));
        if let Some(status) = app.0.try_wait()? {
            bail!("the installed app exited ({status}):\n{}", app_log());
        }
        super::run(Command::new("kill").args(["-TERM", &app.0.id().to_string()]))?;
        let deadline = Instant::now() + Duration::from_secs(15);
        while app.0.try_wait()?.is_none() {
            if Instant::now() > deadline {
                bail!("the installed app did not quit on SIGTERM:\n{}", app_log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("deskline-deb-check-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
