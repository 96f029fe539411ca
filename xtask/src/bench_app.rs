//! `cargo xtask bench-app [--runs N] [--cpu-seconds S] [--no-build] [--app PATH]
//! [--only deskline|linphone]`: Deskline's desktop app beside Linphone desktop (Debian's
//! `linphone-desktop`), measured in one run on the same virtual screen, and printed as one
//! table. `--app` measures another build of the app (implies `--no-build`); `--only`
//! measures one of the two (for trying a change quickly; the comparison needs both).
//!
//! # What it measures, for each app
//!
//! 1. **Start-up**, median of `--runs` (default 5) warm starts: from the moment the process
//!    is spawned to (a) its main window being mapped, (b) the first paint (any content, such
//!    as Deskline's "Opening Deskline…" placeholder) and (c) the content shown (the screen
//!    as it then stays). Deskline's warm start is a second start after a first one that
//!    opened the demo and synced, so the content it shows is the cached line and settings;
//!    Linphone's warm start reuses the HOME of its own first start (a seeded account, its
//!    database, Mesa's and Qt's shader caches). That first, cold start of each (fresh
//!    profile; Deskline signs in to the demo and does its full sync) is reported too.
//! 2. **Memory, idle, window open**: PSS (`Pss:` of `/proc/PID/smaps_rollup`, kB) summed
//!    over the app's whole process tree (Deskline: `deskline-app` and its
//!    `WebKitWebProcess`/`WebKitNetworkProcess` children; Linphone: `linphone` and
//!    whatever it spawns), read after the idle-CPU minute below, with the tree's USS (private
//!    pages) beside it. PSS splits a shared library's pages among every process mapping it:
//!    when processes outside the tree map the app's big libraries (another WebKitGTK app, a
//!    test suite running beside), the tree's PSS is lower than alone, and the run says so.
//! 3. **Memory, idle, closed to the tray**: the same after the main window was closed the
//!    way its close button does it (an ICCCM `WM_DELETE_WINDOW` client message: there is no
//!    window manager under bare Xvfb, `wmctrl -c` needs one, and this Debian's
//!    `xdotool windowclose` is an `XDestroyWindow`, not a close). The window must go away
//!    and the app keep running; for Deskline its WebKit processes must go away too (they
//!    are counted, and the run says if they stay).
//! 4. **Idle CPU, window open**: `utime + stime` (`/proc/PID/stat`) summed over the process
//!    tree, delta over `--cpu-seconds` (default 60) after 10 s of settling, as a percentage
//!    of one core. **Closed to the tray**: the same over the same time once the window is
//!    closed and the memory read (Deskline: the `deskline-tray` process that holds the
//!    line; Linphone: its process, still running).
//!
//! # How
//!
//! Both apps run on one `Xvfb :N -screen 0 1280x800x24 -nolisten tcp` (no window manager),
//! with one private D-Bus session bus (`dbus-daemon --session` on a socket of its own), each
//! with its own HOME and XDG directories under a scratch directory, and each in a network
//! namespace of its own that has only loopback (`unshare -n`, or `unshare -rn` without
//! root): the Deskline demo provider runs in-process on loopback, Linphone's account points
//! at 127.0.0.1 and never registers (`reg_sendregister=0`, as the demo has no SIP line
//! either), and neither app can send a packet anywhere else.
//!
//! Start-up is timed without instrumenting either app, the same way for both: from the
//! launch, every 20 ms, [`crate::screen`] (one X connection for the whole run) looks for
//! the app's top-level window by its title and grabs what the screen shows in the window's
//! area, through shared memory; [`crate::frames`] reduces each grab, on every second pixel
//! of every second row, to its number of distinct colours and a hash per 16×16-pixel
//! block. Both are built optimised even in this debug build: a grab and its reduction
//! then cost the machine about 3.5 ms of CPU (X server included), some 17% of one core at
//! 20 ms a grab, the same for both apps. (The Python/python-xlib helper used before, with
//! the reduction unoptimised, took about 24 ms of CPU a grab, close to a whole core of
//! this two-core machine while the apps started on it, and polled every 25 ms at best.)
//! - *Window mapped*: the first poll that finds the window viewable.
//! - *First paint*: the first grab with more than 32 distinct colours (an unpainted or
//!   blank window has 1 or 2; a line of antialiased text brings dozens) that still has more
//!   100 ms later.
//! - *Settled*: the start of a stretch of 2 s in which no grab differs from the first of
//!   the stretch in more than 1% of its blocks (a blinking caret changes one or two); for
//!   a first start, only once the app has made its profile (Deskline: its preferences say
//!   the demo runs).
//! - *Content shown*: the start of the last stretch of grabs, up to the settled one, that
//!   differ from the settled screen in at most 3% of blocks: a status line that changes
//!   late does not hold it back, a placeholder page or a half-drawn one does.
//!
//! Times are those at which a grab returned, so they are late by at most one poll (20 ms,
//! and the grab's 1–2 ms). `BENCH_APP_TRACE=1` prints every grab. A snapshot of each app's
//! settled screen is saved under `$CARGO_TARGET_DIR/bench-app/` with the apps' logs.
//!
//! Starts alternate between the apps, so a change of load on the machine hits both. Each
//! run stops the app with SIGTERM (Deskline quits as from its tray on it), then SIGKILLs
//! whatever of its process tree is left after 10 s.
//!
//! The app is built first (`npm ci` when `ui/node_modules` is missing, `npm run build` in
//! `ui/`, `cargo build --release --locked -p deskline-app -p deskline-tray` into
//! `$CARGO_TARGET_DIR`, by default `$HOME/.cache/deskline/target`: the same build as the
//! `.deb`'s); `--no-build` uses the binaries already there. Missing Debian packages are
//! installed with apt. A run takes 10 to 13 minutes on a two-core machine (`--runs 9`).

use anyhow::{Context, Result, anyhow, bail};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::background::{Xvfb, first_line_within, log_file, log_tail};
use crate::frames::{Analyser, Frame};
use crate::screen::Screen;

/// Debian packages the benchmark runs with, with why.
const RUN_PACKAGES: &[(&str, &str)] = &[
    ("xvfb", "the virtual screen both apps run on"),
    ("x11-apps", "xwd, for snapshots of the settled screens"),
    ("imagemagick", "turns the snapshots into PNG"),
    ("dbus", "a private D-Bus session bus for both apps"),
    (
        "iproute2",
        "brings loopback up in the apps' own network namespaces",
    ),
    (
        "linphone-desktop",
        "the desktop softphone Deskline is compared with",
    ),
];

/// Debian packages the release build of the app needs, with why.
const BUILD_PACKAGES: &[(&str, &str)] = &[
    (
        "build-essential",
        "the C toolchain of the app's system crates",
    ),
    ("pkg-config", "finds the system libraries the app links"),
    (
        "libwebkit2gtk-4.1-dev",
        "the web view the app's window shows",
    ),
    (
        "libayatana-appindicator3-dev",
        "the tray icon on Linux desktops",
    ),
    ("librsvg2-dev", "icons in the tray menu"),
    ("libxdo-dev", "keyboard shortcuts in menus"),
    ("libssl-dev", "TLS in the app's system crates"),
];

/// Time between two grabs of the screen.
const POLL: Duration = Duration::from_millis(20);
/// First paint: more distinct colours than this in the window…
const FIRST_PAINT_COLOURS: usize = 32;
/// …and still so this long after.
const FIRST_PAINT_HOLD: Duration = Duration::from_millis(100);
/// Two grabs differing in at most this share of blocks show the same screen.
const SAME_SCREEN: f64 = 0.01;
/// Content shown: the screen differs from its settled state in at most this share of
/// blocks (a status line updating late does not hold it back; a placeholder page does).
const CONTENT_SHOWN: f64 = 0.03;
/// The screen has settled once it stayed the same this long.
const SETTLED_FOR: Duration = Duration::from_secs(2);
/// Longest wait for a warm start to settle.
const WARM_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for a first start (Deskline signs in to the demo and syncs) to settle.
const COLD_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle time after the start settled, before the CPU is counted.
const IDLE_SETTLE: Duration = Duration::from_secs(10);
/// Longest wait for the window, then the WebKit processes, to go after the close.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(15);
/// Idle time after the close, before the memory is read.
const CLOSED_SETTLE: Duration = Duration::from_secs(5);
/// How long an app gets to quit on SIGTERM before its tree is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Runs the benchmark; `args` are what follows `cargo xtask bench-app`.
pub fn run(args: &[String]) -> Result<()> {
    let Some(options) = Options::parse(args)? else {
        return Ok(());
    };
    let root = workspace_root()?;
    let target = target_dir(&root)?;
    super::setup(RUN_PACKAGES)?;
    let app_bin = match &options.app {
        Some(p) => p.clone(),
        None => target.join("release").join("deskline-app"),
    };
    if options.build && options.app.is_none() {
        build_app(&root, &target)?;
    }
    if !app_bin.exists() {
        bail!(
            "{} is missing: run without --no-build, or build it with `cargo build --release -p deskline-app -p deskline-tray`",
            app_bin.display()
        );
    }
    let linphone = which("linphone").context(
        "the `linphone` binary is missing although linphone-desktop is installed (dpkg -L linphone-desktop | grep bin/)",
    )?;
    let out_dir = target.join("bench-app");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("create {}", out_dir.display()))?;
    // This run's logs only.
    for log in ["xvfb.log", "dbus.log", "deskline.log", "linphone.log"] {
        let _ = std::fs::remove_file(out_dir.join(log));
    }
    let work = ScratchDir::create()?;
    let netns = loopback_netns()?;
    let screen = Xvfb::start(&out_dir.join("xvfb.log"), &[])?;
    let bus = SessionBus::start(&work.path.join("bus"), &out_dir.join("dbus.log"))?;
    let mut helper = Screen::connect(&screen.display)?;
    let env = Env {
        display: screen.display.clone(),
        bus: bus.address.clone(),
        netns,
    };
    let deskline = AppSpec::deskline(&app_bin, &work.path.join("deskline"), &out_dir)?;
    let linphone = AppSpec::linphone(&linphone, &work.path.join("linphone"), &out_dir)?;
    let apps: Vec<&AppSpec> = [&deskline, &linphone]
        .into_iter()
        .filter(|a| options.only.as_ref().is_none_or(|o| o == a.id))
        .collect();
    eprintln!(
        "bench-app: Xvfb {} (1280x800x24, no window manager; grabs through {}), {} warm starts each, then {} s of idle CPU each",
        screen.display,
        if helper.shared_memory() {
            "shared memory"
        } else {
            "the X socket"
        },
        options.runs,
        options.cpu_secs
    );

    let mut reports: Vec<Report> = apps.iter().map(|a| Report::new(a.label)).collect();

    // First starts: Deskline opens the demo and syncs, Linphone makes its profile.
    for (app, report) in apps.iter().zip(reports.iter_mut()) {
        eprintln!("bench-app: {}: first start (fresh profile)", app.label);
        let shot = out_dir.join(format!("{}-first-start.png", app.id));
        match first_start(app, &env, &mut helper, &shot) {
            Ok(t) => report.cold = Some(t),
            Err(e) => report.fail("first start", &e),
        }
    }

    // Warm starts, alternating between the apps.
    for i in 0..options.runs {
        for (app, report) in apps.iter().zip(reports.iter_mut()) {
            eprintln!(
                "bench-app: {}: warm start {} of {}",
                app.label,
                i + 1,
                options.runs
            );
            let shot =
                (i + 1 == options.runs).then(|| out_dir.join(format!("{}-warm-start.png", app.id)));
            match warm_start(app, &env, &mut helper, shot.as_deref()) {
                Ok(t) => report.warm.push(t),
                Err(e) => report.fail(&format!("warm start {}", i + 1), &e),
            }
        }
    }

    // Idle: memory and CPU with the window open, memory closed to the tray.
    for (app, report) in apps.iter().zip(reports.iter_mut()) {
        eprintln!(
            "bench-app: {}: idle, window open ({} s of CPU), then closed to the tray",
            app.label, options.cpu_secs
        );
        if let Err(e) = idle(app, &env, &mut helper, options.cpu_secs, report) {
            report.fail("idle", &e);
        }
    }

    // Nothing of this run may outlive it (nor be taken for the next run's tray).
    let left = stop_processes_under(&work.path);
    if !left.is_empty() {
        let note = format!(
            "still running on this run's scratch directory at its end, and stopped: {}",
            left.join(", ")
        );
        if let Some(r) = reports.first_mut() {
            r.notes.push(note);
        }
    }
    print!("{}", table(&reports, &screen.display, &options, &out_dir));
    let failed = reports
        .iter()
        .find(|r| r.label == deskline.label && !r.errors.is_empty());
    if failed.is_some() {
        bail!("some of Deskline's figures could not be measured (see the notes above)");
    }
    Ok(())
}

/// The command line.
struct Options {
    runs: usize,
    cpu_secs: u64,
    build: bool,
    /// Another build of the app to measure.
    app: Option<PathBuf>,
    /// Only this app (`deskline` or `linphone`).
    only: Option<String>,
}

impl Options {
    /// `None` when only the help was asked for.
    fn parse(args: &[String]) -> Result<Option<Self>> {
        let mut options = Self {
            runs: 5,
            cpu_secs: 60,
            build: true,
            app: None,
            only: None,
        };
        let mut args = args.iter().filter(|a| *a != "--");
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--runs" => {
                    let v = args.next().context("--runs needs a number")?;
                    options.runs = v
                        .parse()
                        .with_context(|| format!("--runs must be a whole number, not '{v}'"))?;
                    if options.runs == 0 {
                        bail!("--runs must be at least 1");
                    }
                }
                "--cpu-seconds" => {
                    let v = args.next().context("--cpu-seconds needs a number")?;
                    options.cpu_secs = v.parse().with_context(|| {
                        format!("--cpu-seconds must be a whole number, not '{v}'")
                    })?;
                    if options.cpu_secs == 0 {
                        bail!("--cpu-seconds must be at least 1");
                    }
                }
                "--no-build" => options.build = false,
                "--app" => {
                    let v = args
                        .next()
                        .context("--app needs the path of a deskline-app")?;
                    options.app = Some(
                        std::fs::canonicalize(v)
                            .with_context(|| format!("--app: {v} is not there"))?,
                    );
                }
                "--only" => {
                    let v = args.next().context("--only needs deskline or linphone")?;
                    if v != "deskline" && v != "linphone" {
                        bail!("--only takes deskline or linphone, not '{v}'");
                    }
                    options.only = Some(v.clone());
                }
                "--help" | "-h" => {
                    println!(
                        "cargo xtask bench-app [--runs N (5)] [--cpu-seconds S (60)] [--no-build] \
                         [--app PATH] [--only deskline|linphone]\n\
                         Deskline's desktop app beside Linphone desktop on one Xvfb: start-up, \
                         idle memory (window open and closed to the tray) and idle CPU."
                    );
                    return Ok(None);
                }
                other => bail!(
                    "unknown option '{other}' for bench-app: use --runs N, --cpu-seconds S, --no-build, --app PATH, --only deskline|linphone"
                ),
            }
        }
        Ok(Some(options))
    }
}

// ---------------------------------------------------------------------------------------
// Set-up: packages, the build, directories.

/// The workspace root: the nearest directory up from here with the app and its front end.
fn workspace_root() -> Result<PathBuf> {
    let here = std::env::current_dir().context("read the current directory")?;
    here.ancestors()
        .find(|d| d.join("src-tauri/Cargo.toml").exists() && d.join("ui/package.json").exists())
        .map(Path::to_path_buf)
        .with_context(|| {
            format!(
                "run this inside the Deskline workspace ({} is not)",
                here.display()
            )
        })
}

/// `$CARGO_TARGET_DIR`, else the project's `$HOME/.cache/deskline/target`.
fn target_dir(root: &Path) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return Ok(if dir.is_absolute() {
            dir
        } else {
            root.join(dir)
        });
    }
    let home = std::env::var_os("HOME").context("neither CARGO_TARGET_DIR nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cache/deskline/target"))
}

fn run_cmd(cmd: &mut Command) -> Result<()> {
    eprintln!("bench-app: running {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// Whether the command exits 0 (quietly).
fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The full path of a program on PATH.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Builds the front end and the release app into `target`.
fn build_app(root: &Path, target: &Path) -> Result<()> {
    super::setup(BUILD_PACKAGES)?;
    super::build_ui().context("build the front end (ui/dist, which the app embeds)")?;
    run_cmd(
        // The tray process too: closing the window hands the line to it.
        super::release_build_of_app()
            .env("CARGO_TARGET_DIR", target)
            .current_dir(root),
    )
    .context("build the release app")
}

/// A directory of this run (the apps' HOMEs and data, the bus socket), removed at the end.
struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    fn create() -> Result<Self> {
        let path = std::env::temp_dir().join(format!("deskline-bench-app-{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("remove the stale {}", path.display()))?;
        }
        std::fs::create_dir_all(&path).with_context(|| format!("create {}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // A run that failed half-way may leave an app's process on it.
        let _ = stop_processes_under(&self.path);
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The command prefix that runs a program in a network namespace of its own with only
/// loopback (up): `unshare -n`, or `unshare -rn` where only user namespaces are allowed.
fn loopback_netns() -> Result<Vec<String>> {
    let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .context("`ip` is missing (apt-get install iproute2)")?;
    for flags in [&["-n"][..], &["-r", "-n"]] {
        let works = succeeds(
            Command::new("unshare")
                .args(flags)
                .args(["--", ip, "link", "set", "lo", "up"]),
        );
        if works {
            let mut prefix: Vec<String> = vec!["unshare".into()];
            prefix.extend(flags.iter().map(|f| (*f).to_owned()));
            prefix.extend([
                "--".into(),
                "sh".into(),
                "-c".into(),
                format!("{ip} link set lo up && exec \"$0\" \"$@\""),
            ]);
            return Ok(prefix);
        }
    }
    bail!(
        "cannot give the apps a loopback-only network namespace (`unshare -n` and `unshare -rn` both fail); \
         the benchmark does not run Linphone where it could reach other hosts"
    )
}

// ---------------------------------------------------------------------------------------
// Processes: the tree of an app, its memory and CPU, stopping it.

/// One process, from `/proc/PID/stat`.
#[derive(Debug, Clone)]
struct Proc {
    pid: u32,
    ppid: u32,
    /// Start time since boot, in clock ticks (tells a reused PID apart).
    start: u64,
    /// utime + stime, in clock ticks.
    cpu_ticks: u64,
}

fn read_proc(pid: u32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`: the name may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state) of proc(5).
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some(Proc {
        pid,
        ppid: u32::try_from(field(4)?).ok()?,
        cpu_ticks: field(14)? + field(15)?,
        start: field(22)?,
    })
}

fn all_procs() -> Vec<Proc> {
    all_pids().into_iter().filter_map(read_proc).collect()
}

/// `root` and all its descendants that are alive.
fn process_tree(root: u32) -> Vec<Proc> {
    let procs = all_procs();
    let mut children: HashMap<u32, Vec<&Proc>> = HashMap::new();
    for p in &procs {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut tree: Vec<Proc> = procs.iter().filter(|p| p.pid == root).cloned().collect();
    let mut i = 0;
    while i < tree.len() {
        if let Some(kids) = children.get(&tree[i].pid) {
            tree.extend(kids.iter().map(|p| (*p).clone()));
        }
        i += 1;
    }
    tree
}

/// The process's program name (argv[0]'s file name, else its comm).
fn proc_name(pid: u32) -> String {
    let from_cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .ok()
        .and_then(|c| {
            let first = c.split(|b| *b == 0).next()?.to_vec();
            let first = String::from_utf8_lossy(&first).into_owned();
            let name = Path::new(&first)
                .file_name()?
                .to_string_lossy()
                .into_owned();
            (!name.is_empty()).then_some(name)
        });
    from_cmdline.unwrap_or_else(|| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|c| c.trim().to_owned())
            .unwrap_or_else(|_| format!("pid {pid}"))
    })
}

/// `Pss:` and `Private_Clean:` + `Private_Dirty:` (USS) of `/proc/PID/smaps_rollup`, in kB.
fn pss_uss_kb(pid: u32) -> Result<(u64, u64)> {
    let path = format!("/proc/{pid}/smaps_rollup");
    let text = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .with_context(|| format!("no {name} line in {path}"))
    };
    Ok((
        field("Pss:")?,
        field("Private_Clean:")? + field("Private_Dirty:")?,
    ))
}

/// PSS of a process tree: the total and each process's (with its USS, which does not move
/// when a process sharing its pages ends).
#[derive(Debug, Clone, Default)]
struct Memory {
    total_kb: u64,
    /// Name, PSS, USS.
    procs: Vec<(String, u64, u64)>,
}

/// Shared libraries mapped by the process tree of `root` (paths of `.so` files).
fn mapped_libraries(pids: &[u32]) -> HashSet<String> {
    let mut libs = HashSet::new();
    for pid in pids {
        let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) else {
            continue;
        };
        for line in maps.lines() {
            if let Some(path) = line.split_whitespace().nth(5)
                && path.starts_with('/')
                && path.contains(".so")
            {
                libs.insert(path.to_owned());
            }
        }
    }
    libs
}

/// Processes outside the tree of `root` that map one of the big libraries it maps (the web
/// view's, GL's, Qt's): PSS divides those pages among all of them, so the tree's PSS is lower
/// while they run (another WebKit app, a test suite) than it would be alone. USS is not.
fn sharers(root: u32) -> Vec<String> {
    let tree: Vec<u32> = process_tree(root).iter().map(|p| p.pid).collect();
    let big = |path: &str| {
        [
            "libwebkit2gtk",
            "libjavascriptcoregtk",
            "libLLVM",
            "libQt5Core",
            "libQt6Core",
        ]
        .iter()
        .any(|name| path.contains(name))
    };
    let ours: HashSet<String> = mapped_libraries(&tree)
        .into_iter()
        .filter(|p| big(p))
        .collect();
    let mut found = Vec::new();
    for p in all_procs() {
        if tree.contains(&p.pid) || p.pid == std::process::id() {
            continue;
        }
        let shared = mapped_libraries(&[p.pid])
            .into_iter()
            .any(|lib| ours.contains(&lib));
        if shared {
            found.push(format!("{} (pid {})", proc_name(p.pid), p.pid));
        }
    }
    found
}

fn tree_memory(root: u32) -> Result<Memory> {
    let mut memory = Memory::default();
    for p in process_tree(root) {
        // A process that ended between the listing and the read no longer counts.
        let Ok((pss, uss)) = pss_uss_kb(p.pid) else {
            continue;
        };
        memory.total_kb += pss;
        memory.procs.push((proc_name(p.pid), pss, uss));
    }
    if memory.procs.is_empty() {
        bail!("process {root} is gone: no memory to read");
    }
    Ok(memory)
}

/// Clock ticks a second (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

/// A program of the benchmark that is stopped (its whole tree) when dropped.
struct Running {
    child: Child,
    what: String,
    stopped: bool,
}

impl Running {
    fn spawn(cmd: &mut Command, what: &str) -> Result<Self> {
        let child = cmd
            .spawn()
            .with_context(|| format!("start {what}: {cmd:?}"))?;
        Ok(Self {
            child,
            what: what.to_owned(),
            stopped: false,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the program has exited.
    fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => bail!("{} exited ({status})", self.what),
            Err(e) => Err(anyhow!(e).context(format!("wait for {}", self.what))),
        }
    }

    /// SIGTERM, up to [`STOP_GRACE`] to exit, then SIGKILL for whatever is left of its tree.
    fn stop(&mut self) -> Result<()> {
        self.stop_within(STOP_GRACE)
    }

    fn stop_within(&mut self, grace: Duration) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let tree = process_tree(self.pid());
        if self.child.try_wait().ok().flatten().is_none() {
            signal("TERM", &[self.pid()]);
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline && self.child.try_wait().ok().flatten().is_none() {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Its children may outlive it (reparented): the same PID with the same start time.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left: Vec<u32> = tree
                .iter()
                .filter(|p| read_proc(p.pid).is_some_and(|now| now.start == p.start))
                .map(|p| p.pid)
                .collect();
            if left.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "processes {left:?} of {} survived SIGKILL for 5 s",
                    self.what
                );
            }
            signal("KILL", &left);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop_within(Duration::from_secs(3));
    }
}

fn signal(name: &str, pids: &[u32]) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .args(pids.iter().map(u32::to_string))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

// ---------------------------------------------------------------------------------------
// The session bus, snapshots of the screen.

/// A private D-Bus session bus on a socket of its own (reachable from other network
/// namespaces, unlike an abstract one); its activated services go with it.
struct SessionBus {
    _daemon: Running,
    address: String,
}

impl SessionBus {
    fn start(socket: &Path, log: &Path) -> Result<Self> {
        let (_, err) = log_file(log)?;
        let mut daemon = Running::spawn(
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address"])
                .arg(format!("--address=unix:path={}", socket.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(err),
            "dbus-daemon",
        )?;
        let address = first_line_within(&mut daemon.child, "dbus-daemon", Duration::from_secs(10))
            .with_context(|| format!("dbus-daemon did not start:\n{}", log_tail(log)))?;
        Ok(Self {
            _daemon: daemon,
            address,
        })
    }
}

/// Saves what the screen shows as a PNG (for a person to check the run); best effort.
fn snapshot(display: &str, path: &Path) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg("xwd -root -silent -display \"$0\" | convert xwd:- \"png:$1\"")
        .arg(display)
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("bench-app: could not save {}", path.display());
    }
}

// ---------------------------------------------------------------------------------------
// The two apps.

/// Where and how the apps run.
struct Env {
    display: String,
    bus: String,
    netns: Vec<String>,
}

struct AppSpec {
    /// For file names.
    id: &'static str,
    label: &'static str,
    /// The main window's title.
    title: &'static str,
    program: PathBuf,
    args: Vec<String>,
    home: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    /// Its data directory (Deskline).
    data_dir: Option<PathBuf>,
    /// Whether its window being closed should end these processes (Deskline's web view).
    web_view: bool,
}

impl AppSpec {
    fn deskline(program: &Path, dir: &Path, out_dir: &Path) -> Result<Self> {
        let data_dir = dir.join("data");
        let home = dir.join("home");
        make_home(&home)?;
        Ok(Self {
            id: "deskline",
            label: "Deskline",
            title: "Deskline",
            program: program.to_path_buf(),
            args: vec![
                "--demo".into(),
                "--data-dir".into(),
                data_dir.display().to_string(),
            ],
            home,
            env: vec![("DESKLINE_KEYCHAIN".into(), "keyutils".into())],
            log: out_dir.join("deskline.log"),
            data_dir: Some(data_dir),
            web_view: true,
        })
    }

    fn linphone(program: &Path, dir: &Path, out_dir: &Path) -> Result<Self> {
        let home = dir.join("home");
        make_home(&home)?;
        // An account on loopback that never registers: its home page instead of the
        // first-run assistant, and no SIP traffic (the Deskline demo has no SIP line).
        let config = home.join(".config/linphone");
        std::fs::create_dir_all(&config).with_context(|| format!("create {}", config.display()))?;
        std::fs::write(
            config.join("linphonerc"),
            "[sip]\ndefault_proxy=0\n\n\
             [proxy_0]\nreg_proxy=<sip:127.0.0.1:5099;transport=udp>\n\
             reg_identity=\"Dana Demo\" <sip:dana@127.0.0.1>\nreg_expires=3600\n\
             reg_sendregister=0\npublish=0\n\n\
             [auth_info_0]\nusername=dana\npasswd=demo\nrealm=127.0.0.1\ndomain=127.0.0.1\n",
        )
        .context("write Linphone's linphonerc")?;
        Ok(Self {
            id: "linphone",
            label: "Linphone",
            title: "Linphone",
            program: program.to_path_buf(),
            args: Vec::new(),
            home,
            env: Vec::new(),
            log: out_dir.join("linphone.log"),
            data_dir: None,
            web_view: false,
        })
    }

    fn launch(&self, env: &Env) -> Result<Running> {
        let (out, err) = log_file(&self.log)?;
        let Some((first, rest)) = env.netns.split_first() else {
            bail!("no network namespace command");
        };
        let mut cmd = Command::new(first);
        cmd.args(rest)
            .arg(&self.program)
            .args(&self.args)
            .env_remove("WAYLAND_DISPLAY")
            .env("DISPLAY", &env.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &env.bus)
            .env("GDK_BACKEND", "x11")
            .env("QT_QPA_PLATFORM", "xcb")
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_STATE_HOME", self.home.join(".local/state"))
            .env("XDG_RUNTIME_DIR", self.home.join("run"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        Running::spawn(&mut cmd, self.label)
    }

    /// Whether the first start is over: Deskline has opened the demo, and so synced (the
    /// demo's sign-in does a full sync before the session runs, and the app records the
    /// demo in its preferences after that).
    fn first_start_done(&self) -> bool {
        match &self.data_dir {
            Some(d) => std::fs::read_to_string(d.join("app-preferences.json"))
                .is_ok_and(|text| text.contains("\"demo\"")),
            None => true,
        }
    }
}

/// A HOME with the XDG directories inside it.
fn make_home(home: &Path) -> Result<()> {
    for d in [".config", ".local/share", ".local/state", ".cache", "run"] {
        let dir = home.join(d);
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let run = home.join("run");
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("chmod 700 {}", run.display()))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Start-up.

#[derive(Debug, Clone, Copy)]
struct LaunchTimes {
    mapped: Duration,
    first_paint: Duration,
    /// The screen within [`CONTENT_SHOWN`] of its settled state, from then on.
    content: Duration,
    settled: Duration,
}

/// The first start on a fresh profile, until the app has made it (Deskline: opened the
/// demo and synced); the app is stopped after.
fn first_start(app: &AppSpec, env: &Env, helper: &mut Screen, shot: &Path) -> Result<LaunchTimes> {
    let (mut running, times) =
        measure_launch(app, env, helper, COLD_TIMEOUT, &|| app.first_start_done())?;
    snapshot(&env.display, shot);
    running.stop()?;
    Ok(times)
}

/// A warm start; the app is stopped after.
fn warm_start(
    app: &AppSpec,
    env: &Env,
    helper: &mut Screen,
    shot: Option<&Path>,
) -> Result<LaunchTimes> {
    let (mut running, times) = measure_launch(app, env, helper, WARM_TIMEOUT, &|| true)?;
    if let Some(shot) = shot {
        snapshot(&env.display, shot);
    }
    running.stop()?;
    Ok(times)
}

/// Starts the app and times it (see the module's docs) until its screen settled (and, for a
/// first start, `ready` says the app has made it); returns it running.
fn measure_launch(
    app: &AppSpec,
    env: &Env,
    helper: &mut Screen,
    timeout: Duration,
    ready: &dyn Fn() -> bool,
) -> Result<(Running, LaunchTimes)> {
    if let Some(w) = helper.find(app.title)? {
        bail!(
            "a window titled {:?} ({w}) is already on the screen",
            app.title
        );
    }
    let trace = std::env::var_os("BENCH_APP_TRACE").is_some();
    let mut analyser = Analyser::new();
    let t0 = Instant::now();
    let mut running = app.launch(env)?;
    if trace {
        // To line the grabs up with the app's own log (its timestamps are wall-clock).
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        eprintln!(
            "  launched {} at {}.{:03} s since the epoch",
            app.label,
            wall.as_secs(),
            wall.subsec_millis()
        );
    }
    let mut window: Option<x11rb::protocol::xproto::Window> = None;
    let mut mapped: Option<Duration> = None;
    let mut candidate: Option<Duration> = None;
    let mut first_paint: Option<Duration> = None;
    // Every grab since the window appeared, and where the current same-screen stretch began.
    let mut frames: Vec<Frame> = Vec::new();
    let mut anchor: Option<usize> = None;
    let mut was_ready = false;
    loop {
        let tick = Instant::now();
        if t0.elapsed() > timeout {
            let last = frames.last().map_or(0, |f| f.colours);
            let state = match (mapped, first_paint) {
                (None, _) => format!("no window titled {:?} appeared", app.title),
                (Some(_), None) => format!(
                    "its window never showed more than {FIRST_PAINT_COLOURS} colours (last: {last})"
                ),
                (Some(_), Some(_)) if !was_ready => match &app.data_dir {
                    Some(d) => format!(
                        "it never opened the demo ({} does not say so)",
                        d.join("app-preferences.json").display()
                    ),
                    None => "it never finished its first start".to_owned(),
                },
                (Some(_), Some(_)) => {
                    format!("its screen never stayed the same for {SETTLED_FOR:?}")
                }
            };
            bail!(
                "{} did not settle in {timeout:?}: {state}; log {}:\n{}",
                app.label,
                app.log.display(),
                log_tail(&app.log)
            );
        }
        running.check_alive().with_context(|| {
            format!(
                "{} quit while starting; log {}:\n{}",
                app.label,
                app.log.display(),
                log_tail(&app.log)
            )
        })?;
        match window {
            None => {
                if let Some(w) = helper.find(app.title)? {
                    mapped.get_or_insert(t0.elapsed());
                    window = Some(w);
                }
            }
            Some(w) => match helper.grab(w)? {
                None => window = None,
                Some(grab) => {
                    let t = t0.elapsed();
                    let grabbed = tick.elapsed();
                    let frame = analyser.frame(&grab, t, first_paint.is_none());
                    if first_paint.is_none() {
                        if frame.colours > FIRST_PAINT_COLOURS {
                            match candidate {
                                None => candidate = Some(t),
                                Some(c) if t >= c + FIRST_PAINT_HOLD => first_paint = Some(c),
                                Some(_) => {}
                            }
                        } else {
                            candidate = None;
                        }
                    }
                    let changed = anchor.map_or(1.0, |a| frames[a].difference(&frame));
                    if trace {
                        eprintln!(
                            "  {:>6} ms  {}x{}  {:>5} colours  {:>5.1}% of blocks changed  (grab {} ms, analysis {} ms)",
                            t.as_millis(),
                            frame.width,
                            frame.height,
                            frame.colours,
                            changed * 100.0,
                            grabbed.as_millis(),
                            (tick.elapsed() - grabbed).as_millis()
                        );
                    }
                    frames.push(frame);
                    if changed > SAME_SCREEN {
                        anchor = Some(frames.len() - 1);
                    }
                    was_ready = was_ready || ready();
                    if let (Some(first_paint), Some(mapped), Some(a)) =
                        (first_paint, mapped, anchor)
                        && was_ready
                        && t.saturating_sub(frames[a].t) >= SETTLED_FOR
                    {
                        let settled = frames[a].t.max(first_paint);
                        let times = LaunchTimes {
                            mapped,
                            first_paint,
                            content: content_shown(&frames).max(first_paint).min(settled),
                            settled,
                        };
                        eprintln!(
                            "bench-app:   mapped {} ms, first paint {} ms, content {} ms, settled {} ms",
                            times.mapped.as_millis(),
                            times.first_paint.as_millis(),
                            times.content.as_millis(),
                            times.settled.as_millis()
                        );
                        return Ok((running, times));
                    }
                }
            },
        }
        std::thread::sleep(POLL.saturating_sub(tick.elapsed()));
    }
}

/// When the screen came within [`CONTENT_SHOWN`] of its final state and stayed there.
fn content_shown(frames: &[Frame]) -> Duration {
    let Some(last) = frames.last() else {
        return Duration::ZERO;
    };
    let mut since = last.t;
    for f in frames.iter().rev() {
        if f.difference(last) > CONTENT_SHOWN {
            break;
        }
        since = f.t;
    }
    since
}

// ---------------------------------------------------------------------------------------
// Idle.

/// The app's CPU over `secs`, as a percentage of one core, and how many processes ended
/// meanwhile (their last ticks are not counted).
fn idle_cpu(running: &mut Running, secs: u64) -> Result<(f64, usize)> {
    let root = running.pid();
    tree_cpu(root, secs, || running.check_alive())
}

/// The CPU the process tree of `root` uses over `secs`, in % of one core, and how many of
/// its processes ended meanwhile; `alive` fails the measurement when `root` is gone.
fn tree_cpu(root: u32, secs: u64, mut alive: impl FnMut() -> Result<()>) -> Result<(f64, usize)> {
    let ticks = clock_ticks();
    let before: HashMap<(u32, u64), u64> = process_tree(root)
        .into_iter()
        .map(|p| ((p.pid, p.start), p.cpu_ticks))
        .collect();
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(secs);
    while Instant::now() < end {
        alive()?;
        std::thread::sleep(
            end.saturating_duration_since(Instant::now())
                .min(Duration::from_secs(1)),
        );
    }
    let after = process_tree(root);
    let elapsed = t0.elapsed().as_secs_f64();
    let mut used = 0;
    let mut alive = HashSet::new();
    for p in &after {
        alive.insert((p.pid, p.start));
        // A process born during the minute counts from its birth.
        let was = before.get(&(p.pid, p.start)).copied().unwrap_or(0);
        used += p.cpu_ticks.saturating_sub(was);
    }
    let ended = before.keys().filter(|k| !alive.contains(k)).count();
    Ok((used as f64 / ticks as f64 / elapsed * 100.0, ended))
}

/// Processes of the tree that are the web view's.
fn web_view_procs(root: u32) -> Vec<String> {
    process_tree(root)
        .iter()
        .map(|p| proc_name(p.pid))
        .filter(|n| n.starts_with("WebKit"))
        .collect()
}

/// A warm start, idle CPU and memory with the window open, then closed to the tray.
fn idle(
    app: &AppSpec,
    env: &Env,
    helper: &mut Screen,
    cpu_secs: u64,
    report: &mut Report,
) -> Result<()> {
    let (mut running, _) = measure_launch(app, env, helper, WARM_TIMEOUT, &|| true)?;
    std::thread::sleep(IDLE_SETTLE);
    running.check_alive()?;
    let (cpu, ended) = idle_cpu(&mut running, cpu_secs)?;
    report.cpu = Some(cpu);
    if ended > 0 {
        report.notes.push(format!(
            "{ended} process(es) ended during the CPU minute; their last ticks are not counted"
        ));
    }
    report.open = Some(tree_memory(running.pid())?);
    let others = sharers(running.pid());
    if !others.is_empty() {
        report.notes.push(format!(
            "its PSS with the window open was read while {} other process(es) mapped the same big libraries ({}): shared pages were split with them, so it is lower than alone (USS is not)",
            others.len(),
            others.join(", ")
        ));
    }

    let window = helper
        .find(app.title)?
        .with_context(|| format!("{}'s window is not on the screen any more", app.label))?;
    let before = web_view_procs(running.pid());
    let closed_at = Instant::now();
    helper.close(window)?;
    let deadline = closed_at + CLOSE_TIMEOUT;
    let mut closed = false;
    while Instant::now() < deadline {
        if running.child.try_wait().ok().flatten().is_some() && app.web_view {
            // Deskline's window process exits on close and `deskline-tray`, beside it,
            // keeps the line: the tray's memory is Deskline's in the tray.
            return measure_tray(app, report, closed_at, cpu_secs);
        }
        if running.child.try_wait().ok().flatten().is_some() {
            report.closed_na = Some(format!(
                "{} quits when its main window closes (no tray without a tray host)",
                app.label
            ));
            return Ok(());
        }
        if helper.find(app.title)?.is_none() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !closed {
        report.closed_na = Some(format!(
            "its window did not close on WM_DELETE_WINDOW in {CLOSE_TIMEOUT:?}"
        ));
        return running.stop();
    }
    if app.web_view {
        note_tray_start(app, report, closed_at)?;
        // The web view's renderer should end with the window.
        let deadline = closed_at + CLOSE_TIMEOUT;
        let renderers = |pid| {
            web_view_procs(pid)
                .into_iter()
                .filter(|n| n == "WebKitWebProcess")
                .count()
        };
        while renderers(running.pid()) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if renderers(running.pid()) == 0 {
            report.notes.push(format!(
                "closing the window ended WebKitWebProcess within {} ms",
                closed_at.elapsed().as_millis()
            ));
        } else {
            report.notes.push(format!(
                "WebKitWebProcess did NOT end with the window: still running {CLOSE_TIMEOUT:?} after the close"
            ));
        }
    }
    std::thread::sleep(CLOSED_SETTLE);
    if running.child.try_wait().ok().flatten().is_some() && app.web_view {
        return measure_tray(app, report, closed_at, cpu_secs);
    }
    if running.child.try_wait().ok().flatten().is_some() {
        report.closed_na = Some(format!(
            "{} exited within {CLOSED_SETTLE:?} of its window closing",
            app.label
        ));
        return Ok(());
    }
    if app.web_view {
        let left = web_view_procs(running.pid());
        if !left.is_empty() {
            report.notes.push(format!(
                "still running {} s after the window closed: {} (of {} with the window open)",
                closed_at.elapsed().as_secs(),
                left.join(", "),
                before.join(", ")
            ));
        }
    }
    report.closed = Some(tree_memory(running.pid())?);
    let (cpu, _) = idle_cpu(&mut running, cpu_secs)?;
    report.cpu_closed = Some(cpu);
    running.stop()
}

/// The tray process beside `app`'s binary.
fn tray_binary(app: &AppSpec) -> Result<PathBuf> {
    app.program
        .parent()
        .map(|dir| dir.join("deskline-tray"))
        .context("the app has no directory")
}

/// The pid of the `deskline-tray` that `app` started: its binary, run on this run's data
/// directory (a tray another run left behind is not this one's).
fn tray_of(app: &AppSpec) -> Result<impl Fn() -> Option<u32>> {
    let program = tray_binary(app)?;
    let data_dir = app
        .data_dir
        .clone()
        .context("the app has no data directory")?;
    Ok(move || {
        all_pids().into_iter().find(|&pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == program)
                && command_line(pid).iter().any(|a| Path::new(a) == data_dir)
        })
    })
}

fn all_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

/// A process's arguments (empty once it is gone).
fn command_line(pid: u32) -> Vec<std::ffi::OsString> {
    use std::os::unix::ffi::OsStrExt as _;
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| std::ffi::OsStr::from_bytes(a).to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Stops (SIGTERM, then SIGKILL after 5 s) every process with an argument under `dir`, such
/// as a `deskline-tray` still running on the run's scratch directory; returns what it found.
fn stop_processes_under(dir: &Path) -> Vec<String> {
    let me = std::process::id();
    let under = |pid: u32| {
        pid != me
            && command_line(pid)
                .iter()
                .any(|a| Path::new(a).starts_with(dir))
    };
    let pids: Vec<u32> = all_pids().into_iter().filter(|&p| under(p)).collect();
    if pids.is_empty() {
        return Vec::new();
    }
    let found = pids
        .iter()
        .map(|&p| format!("{} (pid {p})", proc_name(p)))
        .collect();
    signal("TERM", &pids);
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|&p| under(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let left: Vec<u32> = pids.into_iter().filter(|&p| under(p)).collect();
    if !left.is_empty() {
        signal("KILL", &left);
    }
    found
}

/// Notes how soon after the close `deskline-tray` was running (the line's hand-over).
fn note_tray_start(app: &AppSpec, report: &mut Report, closed_at: Instant) -> Result<()> {
    let find = tray_of(app)?;
    let deadline = closed_at + CLOSE_TIMEOUT;
    while Instant::now() < deadline {
        if let Some(pid) = find() {
            report.notes.push(format!(
                "closing the window: deskline-tray (pid {pid}) was running {} ms after the close",
                closed_at.elapsed().as_millis()
            ));
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// The `deskline-tray` process the app started when its window closed: waits for it,
/// lets it settle, reads its memory and stops it (SIGTERM: it unregisters and exits).
fn measure_tray(
    app: &AppSpec,
    report: &mut Report,
    closed_at: Instant,
    cpu_secs: u64,
) -> Result<()> {
    let tray_bin = tray_binary(app)?;
    let find = tray_of(app)?;
    let deadline = closed_at + CLOSE_TIMEOUT;
    let tray = loop {
        if let Some(pid) = find() {
            break pid;
        }
        if Instant::now() >= deadline {
            report.closed_na = Some(format!(
                "{} exited when its window closed and no {} took over",
                app.label,
                tray_bin.display()
            ));
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    report.notes.push(format!(
        "closing the window: the window process (GTK, WebKit) exited; deskline-tray \
         (pid {tray}) holds the line ({} ms after the close, when measured)",
        closed_at.elapsed().as_millis()
    ));
    std::thread::sleep(CLOSED_SETTLE);
    if find() != Some(tray) {
        report.closed_na = Some(format!(
            "deskline-tray exited within {CLOSED_SETTLE:?} of starting"
        ));
        return Ok(());
    }
    report.closed = Some(tree_memory(tray)?);
    let others: Vec<String> = all_pids()
        .into_iter()
        .filter(|&p| {
            p != tray
                && std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|exe| exe == tray_bin)
        })
        .map(|p| format!("pid {p}"))
        .collect();
    if !others.is_empty() {
        report.notes.push(format!(
            "its memory in the tray was read while {} other deskline-tray process(es) ran ({}): \
             they share its code, so its PSS and USS were lower than alone",
            others.len(),
            others.join(", ")
        ));
    }
    let (cpu, _) = tree_cpu(tray, cpu_secs, || match find() == Some(tray) {
        true => Ok(()),
        false => bail!("deskline-tray exited while idle"),
    })?;
    report.cpu_closed = Some(cpu);
    let _ = Command::new("kill")
        .args(["-TERM", &tray.to_string()])
        .status();
    let stop_deadline = Instant::now() + Duration::from_secs(10);
    while find() == Some(tray) && Instant::now() < stop_deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The report.

struct Report {
    label: &'static str,
    cold: Option<LaunchTimes>,
    warm: Vec<LaunchTimes>,
    open: Option<Memory>,
    closed: Option<Memory>,
    /// Why the closed-to-tray memory does not apply.
    closed_na: Option<String>,
    cpu: Option<f64>,
    /// Idle CPU with the window closed (in the tray).
    cpu_closed: Option<f64>,
    notes: Vec<String>,
    errors: Vec<String>,
}

impl Report {
    fn new(label: &'static str) -> Self {
        Self {
            label,
            cold: None,
            warm: Vec::new(),
            open: None,
            closed: None,
            closed_na: None,
            cpu: None,
            cpu_closed: None,
            notes: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn fail(&mut self, phase: &str, e: &anyhow::Error) {
        eprintln!("bench-app: {}: {phase} failed: {e:#}", self.label);
        self.errors.push(format!("{phase}: {e:#}"));
    }
}

fn median(mut values: Vec<Duration>) -> Option<Duration> {
    values.sort();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2),
    }
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn table(reports: &[Report], display: &str, options: &Options, out_dir: &Path) -> String {
    let linphone_version = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "linphone-desktop"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let na = || "n/a".to_owned();
    let warm_row = |r: &Report, pick: fn(&LaunchTimes) -> Duration| {
        let m = median(r.warm.iter().map(pick).collect());
        match m {
            Some(m) if r.warm.len() == options.runs => ms(m),
            Some(m) => format!("{} ({} of {} runs)", ms(m), r.warm.len(), options.runs),
            None => na(),
        }
    };
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let runs = options.runs;
    rows.push((
        format!("start → window mapped (median of {runs}, warm)"),
        reports.iter().map(|r| warm_row(r, |t| t.mapped)).collect(),
    ));
    rows.push((
        format!("start → first paint (median of {runs}, warm)"),
        reports
            .iter()
            .map(|r| warm_row(r, |t| t.first_paint))
            .collect(),
    ));
    rows.push((
        format!("start → content shown (median of {runs}, warm)"),
        reports.iter().map(|r| warm_row(r, |t| t.content)).collect(),
    ));
    rows.push((
        "first start, fresh profile → content shown".into(),
        reports
            .iter()
            .map(|r| r.cold.map(|t| ms(t.content)).unwrap_or_else(na))
            .collect(),
    ));
    rows.push((
        "memory idle, window open (PSS, all processes)".into(),
        reports
            .iter()
            .map(|r| {
                r.open
                    .as_ref()
                    .map(|m| {
                        let uss: u64 = m.procs.iter().map(|(_, _, uss)| uss).sum();
                        format!(
                            "{} ({} proc; USS {})",
                            mib(m.total_kb),
                            m.procs.len(),
                            mib(uss)
                        )
                    })
                    .unwrap_or_else(na)
            })
            .collect(),
    ));
    rows.push((
        "memory idle, closed to the tray (PSS)".into(),
        reports
            .iter()
            .map(|r| {
                r.closed
                    .as_ref()
                    .map(|m| {
                        let uss: u64 = m.procs.iter().map(|(_, _, uss)| uss).sum();
                        format!(
                            "{} ({} proc; USS {})",
                            mib(m.total_kb),
                            m.procs.len(),
                            mib(uss)
                        )
                    })
                    .unwrap_or_else(na)
            })
            .collect(),
    ));
    let cpu_row = |state: &str, cpu: fn(&Report) -> Option<f64>| {
        (
            format!("idle CPU, {state}, over {} s", options.cpu_secs),
            reports
                .iter()
                .map(|r| {
                    cpu(r)
                        .map(|c| format!("{c:.2} % of a core"))
                        .unwrap_or_else(na)
                })
                .collect(),
        )
    };
    rows.push(cpu_row("window open", |r| r.cpu));
    rows.push(cpu_row("closed to the tray", |r| r.cpu_closed));

    let first = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let width = rows
        .iter()
        .flat_map(|(_, v)| v.iter().map(|c| c.chars().count()))
        .chain(reports.iter().map(|r| r.label.len()))
        .max()
        .unwrap_or(0)
        + 2;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nDeskline (release build, demo) beside Linphone desktop {linphone_version}: \
         Xvfb {display} 1280x800x24, no window manager, loopback-only network"
    );
    let _ = write!(out, "\n{:first$}", "");
    for r in reports {
        let _ = write!(out, "  {:>width$}", r.label);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", "-".repeat(first + reports.len() * (width + 2)));
    for (label, values) in &rows {
        let _ = write!(out, "{label:first$}");
        for v in values {
            let _ = write!(out, "  {v:>width$}");
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(
        out,
        "\nEach start (ms: window mapped / first paint / content shown / settled):"
    );
    for r in reports {
        let runs: Vec<String> = r
            .warm
            .iter()
            .map(|t| {
                format!(
                    "{}/{}/{}/{}",
                    t.mapped.as_millis(),
                    t.first_paint.as_millis(),
                    t.content.as_millis(),
                    t.settled.as_millis()
                )
            })
            .collect();
        let cold = r
            .cold
            .map(|t| {
                format!(
                    "{}/{}/{}/{}",
                    t.mapped.as_millis(),
                    t.first_paint.as_millis(),
                    t.content.as_millis(),
                    t.settled.as_millis()
                )
            })
            .unwrap_or_else(na);
        let _ = writeln!(
            out,
            "  {:<9} first start {cold}; warm {}",
            r.label,
            runs.join("  ")
        );
    }
    let _ = writeln!(out, "\nProcesses (PSS):");
    for r in reports {
        for (state, m) in [("open", &r.open), ("closed", &r.closed)] {
            if let Some(m) = m {
                let procs: Vec<String> = m
                    .procs
                    .iter()
                    .map(|(n, pss, uss)| format!("{n} {} (USS {})", mib(*pss), mib(*uss)))
                    .collect();
                let _ = writeln!(out, "  {:<9} {state:<7} {}", r.label, procs.join(", "));
            }
        }
    }
    let _ = writeln!(out, "\nNotes:");
    let _ = writeln!(
        out,
        "  - Deskline's warm starts show the demo line from its cache (a first start opened the demo \
         and synced); Linphone's reuse the HOME of its first start, with an account on 127.0.0.1 \
         that never registers."
    );
    for r in reports {
        if let Some(why) = &r.closed_na {
            let _ = writeln!(out, "  - {}: closed to the tray: n/a: {why}", r.label);
        }
        for n in &r.notes {
            let _ = writeln!(out, "  - {}: {n}", r.label);
        }
        for e in &r.errors {
            let _ = writeln!(out, "  - {}: NOT MEASURED: {e}", r.label);
        }
    }
    let _ = writeln!(
        out,
        "  - PSS splits each shared page among the processes that map it: when WebKitWebProcess ends, \
         the share of the other processes (GTK, WebKit's libraries) grows; USS (private pages) does not."
    );
    let _ = writeln!(
        out,
        "  - Snapshots of the screens and the apps' logs: {}",
        out_dir.display()
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::os::unix::process::ExitStatusExt as _;

    /// A child process that is killed and reaped when dropped, even when the test fails.
    struct Reaped(std::process::Child);

    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    impl Reaped {
        fn spawn(cmd: &mut Command) -> Self {
            Self(cmd.spawn().unwrap())
        }

        /// Waits up to 10 s for the process to end; the signal that ended it.
        fn ended_by(&mut self) -> Option<i32> {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Some(status) = self.0.try_wait().unwrap() {
                    return status.signal();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            None
        }
    }

    #[test]
    fn what_runs_on_the_scratch_directory_is_stopped_and_nothing_else() {
        let scratch = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        for dir in [scratch.path(), elsewhere.path()] {
            std::fs::write(dir.join("log"), "").unwrap();
        }
        // Stops at SIGTERM, as deskline-tray does.
        let mut polite = Reaped::spawn(
            Command::new("tail")
                .arg("-f")
                .arg(scratch.path().join("log")),
        );
        // Ignores SIGTERM: only SIGKILL, 5 s later, stops it.
        let mut stubborn = Reaped::spawn(
            Command::new("sh")
                .args(["-c", "trap '' TERM; while :; do sleep 0.1; done"])
                .arg(scratch.path().join("stubborn")),
        );
        // Runs on another directory: left alone.
        let mut other = Reaped::spawn(
            Command::new("tail")
                .arg("-f")
                .arg(elsewhere.path().join("log")),
        );
        // Wait until each one runs its own program (until its exec, a child shows the
        // test's command line).
        for (child, dir) in [
            (&polite, scratch.path()),
            (&stubborn, scratch.path()),
            (&other, elsewhere.path()),
        ] {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !command_line(child.0.id())
                .iter()
                .any(|a| Path::new(a).starts_with(dir))
            {
                assert!(Instant::now() < deadline, "a child did not start in 10 s");
                std::thread::sleep(Duration::from_millis(10));
            }
        }

        let mut found = stop_processes_under(scratch.path());
        found.sort();
        assert_eq!(
            found,
            [
                format!("sh (pid {})", stubborn.0.id()),
                format!("tail (pid {})", polite.0.id()),
            ]
        );
        assert_eq!(polite.ended_by(), Some(15), "not stopped by SIGTERM");
        assert_eq!(stubborn.ended_by(), Some(9), "not stopped by SIGKILL");
        assert_eq!(
            other.0.try_wait().unwrap(),
            None,
            "a process elsewhere was stopped"
        );
        assert!(stop_processes_under(scratch.path()).is_empty());
    }
}
