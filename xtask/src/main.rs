//! `cargo xtask`: the project's set-up and run commands, so a fresh Debian/Ubuntu machine
//! needs nothing but Rust.
//!
//! - `cargo xtask setup`: installs the system packages the tests need (apt), says what it
//!   does, skips what is there.
//! - `cargo xtask demo`: builds the front end and the desktop app and opens the app on the
//!   built-in demo provider (without a graphical session: a command-line tour);
//!   `cargo xtask demo -- ARGS` runs `deskline --demo ARGS`.
//! - `cargo xtask test`: setup, the front end's build, formatting, clippy, the front end's
//!   type check and unit tests, every test of the workspace, and last the `.deb` check.
//! - `cargo xtask bench`: the benchmarks (not part of `test`).
//! - `cargo xtask bench-app`: the desktop app beside Linphone under one Xvfb (time to first
//!   content, memory with the window open and in the tray, idle CPU).
//! - `cargo xtask bundle`: the `.deb` of the desktop app, built offline with the Tauri CLI.
//! - `cargo xtask deb-check`: that `.deb` installs (apt), starts on the demo under Xvfb and
//!   quits on SIGTERM, and is removed again ([`deb_check`]).
//! - `cargo xtask fuzz [SECONDS_PER_TARGET]`: a bounded coverage-guided fuzzing run (default
//!   60 s per target) of the SIP crate's parsers of network input (`crates/sip/fuzz`,
//!   cargo-fuzz on stable via `RUSTC_BOOTSTRAP`); not part of `test` or CI.

mod background;
mod bench_app;
mod deb_check;
mod frames;
mod screen;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian packages the tests use, with why.
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("pkg-config", "building crates that link system libraries"),
    (
        "keyutils",
        "keyctl, to inspect Deskline's entries in the kernel keyring",
    ),
    (
        "kamailio",
        "the SIP registrar and forking proxy of the SIP suites",
    ),
    (
        "kamailio-tls-modules",
        "Kamailio's TLS listener, for the SIP-over-TLS suite",
    ),
    (
        "sip-tester",
        "SIPp: the callers and bad callers of the SIP suites",
    ),
    (
        "stunnel4",
        "a TLS hop for SIPp, which Debian builds without TLS",
    ),
    (
        "dbus",
        "a private D-Bus session bus for the notification suites",
    ),
    (
        "python3-dbusmock",
        "a notification server that records what Deskline shows",
    ),
    (
        "xdg-desktop-portal",
        "the desktop portal, whose dark-mode setting the app's window follows",
    ),
    (
        "xdg-desktop-portal-gtk",
        "the portal's GTK backend, which reads that setting from GSettings",
    ),
];

/// Debian packages the desktop app needs to build, run and be tested, with why.
const APP_PACKAGES: &[(&str, &str)] = &[
    (
        "build-essential",
        "the C toolchain of the app's system crates",
    ),
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
    ("xvfb", "a virtual screen for the app's end-to-end tests"),
    ("xauth", "Xvfb's display authority"),
    ("x11-apps", "xwd, to take screenshots of the virtual screen"),
    ("imagemagick", "turns the screenshots into PNG"),
    (
        "webkit2gtk-driver",
        "WebKitWebDriver, to drive the app's web view in tests",
    ),
    ("dbus-x11", "a session bus for the app under test"),
    (
        "x11-utils",
        "xwininfo: the .deb check sees the installed app's window",
    ),
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest.to_vec()),
        None => ("help", Vec::new()),
    };
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match command {
        "setup" => setup(&all_packages()),
        "demo" => demo(&rest),
        "test" => test(&rest),
        "bench" => bench(&rest),
        "fuzz" => fuzz(&rest),
        "bundle" => bundle(),
        "deb-check" => deb_check::run(),
        "bench-app" => bench_app::run(&rest),
        "help" | "--help" | "-h" => {
            println!(
                "cargo xtask setup | demo [-- ARGS] | test | bench | bench-app | bundle | deb-check | fuzz [SECONDS_PER_TARGET]"
            );
            Ok(())
        }
        other => bail!(
            "unknown xtask command '{other}': use setup, demo, test, bench, bench-app, bundle, deb-check or fuzz"
        ),
    }
}

fn all_packages() -> Vec<(&'static str, &'static str)> {
    TEST_PACKAGES
        .iter()
        .chain(APP_PACKAGES.iter())
        .copied()
        .collect()
}

fn workspace_root() -> Result<PathBuf> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").context("run this through `cargo xtask`")?;
    Path::new(&manifest)
        .parent()
        .map(Path::to_path_buf)
        .context("xtask lives in the workspace root")
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn setup(packages: &[(&str, &str)]) -> Result<()> {
    if !Path::new("/usr/bin/apt-get").exists() {
        eprintln!("xtask: not a Debian/Ubuntu machine: install these yourself:");
        for (p, why) in packages {
            eprintln!("  {p}: {why}");
        }
        return Ok(());
    }
    let missing: Vec<&(&str, &str)> = packages.iter().filter(|(p, _)| !installed(p)).collect();
    if missing.is_empty() {
        eprintln!("xtask: system packages are all installed");
        return Ok(());
    }
    eprintln!("xtask: installing system packages:");
    for (p, why) in &missing {
        eprintln!("  {p}: {why}");
    }
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut cmd = Command::new(all[0]);
        cmd.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(&mut apt(&["update", "-q"]))?;
    let mut install: Vec<&str> = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend(missing.iter().map(|(p, _)| *p));
    run(&mut apt(&install))?;
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The release build of the app and of the tray process it hands the line to, as one
/// cargo invocation: the two resolve their dependencies' features together, so the shared
/// dependencies are built once rather than once per package (cold, on two cores: 15
/// minutes, against 8 for the tray and then 14 for the app), and the `.deb` ships the very
/// binaries `cargo xtask bench-app` measures.
/// `cargo xtask bundle` and `cargo xtask bench-app` both build with this command.
fn release_build_of_app() -> Command {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "--locked",
        "-p",
        "deskline-app",
        "-p",
        "deskline-tray",
    ]);
    cmd
}

fn demo(args: &[String]) -> Result<()> {
    let args: Vec<String> = args.iter().filter(|a| *a != "--").cloned().collect();
    if !args.is_empty() {
        return demo_cli(&args);
    }
    let graphical =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !graphical {
        eprintln!(
            "xtask: no graphical session (DISPLAY/WAYLAND_DISPLAY unset): showing the command-line tour instead of the app"
        );
        return demo_tour();
    }
    setup(&all_packages())?;
    build_ui()?;
    run(cargo().args(["build", "--quiet", "-p", "deskline-app"]))?;
    let app = target_dir().join("debug").join("deskline-app");
    let data_dir = target_dir().join("demo-app-data");
    println!(
        "Deskline on the built-in demo provider (data in {}).",
        data_dir.display()
    );
    run(Command::new(app)
        .arg("--demo")
        .arg("--data-dir")
        .arg(&data_dir))
}

/// `deskline --demo ARGS`.
fn demo_cli(args: &[String]) -> Result<()> {
    run(cargo().args(["build", "--quiet", "-p", "deskline-cli"]))?;
    let bin = target_dir().join("debug").join("deskline");
    run(Command::new(&bin)
        .arg("--demo")
        .arg("--data-dir")
        .arg(target_dir().join("demo-data"))
        .args(args))
}

fn demo_tour() -> Result<()> {
    run(cargo().args(["build", "--quiet", "-p", "deskline-cli"]))?;
    let bin = target_dir().join("debug").join("deskline");
    let data_dir = target_dir().join("demo-data");
    let deskline = |extra: &[&str]| {
        let mut cmd = Command::new(&bin);
        cmd.arg("--demo")
            .arg("--data-dir")
            .arg(&data_dir)
            .args(extra);
        cmd
    };
    println!(
        "Deskline on the built-in demo provider (data in {}).\n",
        data_dir.display()
    );
    for tour in [
        &["status"][..],
        &["settings"],
        &["devices"],
        &["directory", "search", "al"],
    ] {
        println!("$ deskline --demo {}", tour.join(" "));
        run(&mut deskline(tour))?;
        println!();
    }
    println!("Try more: cargo xtask demo -- forward always --to 2145550100");
    println!("          cargo xtask demo -- dnd on");
    println!("          cargo xtask demo -- --help");
    Ok(())
}

/// Node.js and npm for the front end: the machine's, or Debian's when there is none.
fn ensure_node() -> Result<()> {
    let found = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let version = match found {
        Some(v) => v,
        None => {
            setup(&[
                ("nodejs", "builds and tests the app's front end"),
                ("npm", "the front end's packages"),
            ])?;
            return Ok(());
        }
    };
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        eprintln!(
            "xtask: warning: Node.js {version} is older than the front end's tools need (20.19 or newer)"
        );
    }
    Ok(())
}

/// Installs the front end's packages (exactly as locked) when they changed, and builds
/// `ui/dist`, which the app embeds.
fn build_ui() -> Result<()> {
    ensure_node()?;
    let ui = Path::new("ui");
    let stamp = ui.join("node_modules/.package-lock.json");
    let stale = match (
        std::fs::metadata(ui.join("package-lock.json")).and_then(|m| m.modified()),
        std::fs::metadata(&stamp).and_then(|m| m.modified()),
    ) {
        (Ok(lock), Ok(installed)) => lock > installed,
        _ => true,
    };
    if stale {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(ui))?;
    }
    run(Command::new("npm").args(["run", "build"]).current_dir(ui))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn has_tauri_driver() -> bool {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cargo/bin/tauri-driver").exists()
        || Command::new("tauri-driver")
            .arg("--help")
            .output()
            .is_ok_and(|o| o.status.success())
}

fn test(args: &[String]) -> Result<()> {
    setup(&all_packages())?;
    // The app embeds ui/dist: build it before anything compiles the app.
    build_ui()?;
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    let ui = Path::new("ui");
    run(Command::new("npm").args(["run", "check"]).current_dir(ui))?;
    run(Command::new("npm").args(["test"]).current_dir(ui))?;
    if !has_nextest() {
        run(cargo().args(["install", "cargo-nextest", "--locked"]))?;
    }
    if !has_tauri_driver() {
        // The WebDriver server the app's end-to-end tests drive it through (it runs
        // Debian's WebKitWebDriver).
        run(cargo().args(["install", "tauri-driver", "--version", "^2", "--locked"]))?;
    }
    prebuild_suite_binaries()?;
    let mut cmd = cargo();
    cmd.args([
        "nextest",
        "run",
        "--workspace",
        "--locked",
        "--no-fail-fast",
    ]);
    cmd.args(args);
    run(&mut cmd)?;
    run(cargo().args(["test", "--workspace", "--doc", "--locked"]))?;
    // Last: the .deb installs and starts (a release build).
    deb_check::run()?;
    Ok(())
}

/// The binaries the end-to-end suites run, built the way `tests/src/bins.rs` builds them
/// (one package at a time, in `<target>/e2e-bins`), so that no suite compiles while the
/// others run beside it. Keep in step with `SUITE_BINARIES` there.
const SUITE_BINARIES: &[(&str, &str)] = &[
    ("deskline-cli", "deskline"),
    ("deskline-sandbox", "deskline-sandbox"),
    ("deskline-app", "deskline-app"),
    ("deskline-tray", "deskline-tray"),
];

fn prebuild_suite_binaries() -> Result<()> {
    let mut target = target_dir();
    if target.is_relative() {
        target = std::env::current_dir()?.join(target);
    }
    let bins_target = target.join("e2e-bins");
    for (package, bin) in SUITE_BINARIES {
        run(cargo()
            .args([
                "build",
                "--quiet",
                "-p",
                package,
                "--bin",
                bin,
                "--target-dir",
            ])
            .arg(&bins_target))?;
    }
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    // Criterion benches of the libraries (directory search over 50,000 entries, full sync
    // at 50 ms latency, SIP INVITE latency where its tools are installed).
    let mut cmd = cargo();
    cmd.args(["bench", "--workspace"]);
    cmd.args(args);
    run(&mut cmd)?;
    bench_cli_status()
}

/// `deskline status` from the cache, as a user runs it: a release build signed in to a
/// local sandbox, timed by hyperfine over many runs.
fn bench_cli_status() -> Result<()> {
    setup(&[("hyperfine", "times whole commands over repeated runs")])?;
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "deskline-cli",
        "-p",
        "deskline-sandbox",
    ]))?;
    let release = target_dir().join("release");
    let data_dir = target_dir().join("bench-status-data");
    let _ = std::fs::remove_dir_all(&data_dir);
    let mut sandbox = Command::new(release.join("deskline-sandbox"))
        .args(["--listen", "127.0.0.1:0", "--seed", "demo"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("start the sandbox")?;
    let stdout = sandbox.stdout.take().context("sandbox stdout")?;
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.strip_prefix("listening on ") {
                    break url.to_owned();
                }
            }
            _ => bail!("the sandbox did not start"),
        }
    };
    let deskline = release.join("deskline");
    let mut login = Command::new(&deskline);
    login
        .arg("--data-dir")
        .arg(&data_dir)
        .args([
            "login",
            "--server",
            &url,
            "--user",
            "demo@deskline.example",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped());
    let mut child = login.spawn().context("start deskline login")?;
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, b"Deskline-demo-1\n")?;
    }
    let ok = child.wait()?.success();
    let result = if ok {
        let status = format!(
            "{} --data-dir {} status",
            deskline.display(),
            data_dir.display()
        );
        let json = format!(
            "{} --data-dir {} --json status",
            deskline.display(),
            data_dir.display()
        );
        run(Command::new("hyperfine")
            .args(["--warmup", "5", "--runs", "200", "-N", &status, &json]))
    } else {
        Err(anyhow::anyhow!("deskline login failed"))
    };
    let _ = sandbox.kill();
    let _ = sandbox.wait();
    result
}

/// The cargo-fuzz project of the SIP crate, and its targets with read-only seed corpora
/// (passed to libFuzzer after the target's own corpus, which is the one it writes to).
const FUZZ_DIR: &str = "crates/sip/fuzz";
const FUZZ_TARGETS: &[(&str, &[&str])] = &[
    // The RFC 4475 torture messages, one datagram a file.
    ("datagram", &["tests/fixtures/sip/rfc4475"]),
    ("stream_framing", &[]),
    ("headers", &[]),
];

fn has_cargo_fuzz() -> bool {
    cargo()
        .args(["fuzz", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs every SIP fuzz target for a bounded time; fails if any finds a crash (libFuzzer
/// leaves the reproducer in `crates/sip/fuzz/artifacts/TARGET/`).
fn fuzz(args: &[String]) -> Result<()> {
    let seconds: u64 = match args.first() {
        Some(s) => s
            .parse()
            .with_context(|| format!("SECONDS_PER_TARGET must be a whole number, not '{s}'"))?,
        None => 60,
    };
    if !has_cargo_fuzz() {
        run(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    // Never the workspace's target directory: other builds hold its lock, and the
    // instrumented build shares nothing with them anyway.
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    let target = PathBuf::from(home).join(".cache/deskline/fuzz-target");
    let root = std::env::current_dir()?;
    let fuzz_dir = root.join(FUZZ_DIR);
    let mut crashed = Vec::new();
    for (name, seeds) in FUZZ_TARGETS {
        let corpus = fuzz_dir.join("corpus").join(name);
        std::fs::create_dir_all(&corpus).with_context(|| format!("create {}", corpus.display()))?;
        let mut cmd = cargo();
        cmd.current_dir(&fuzz_dir)
            // cargo-fuzz passes nightly-only flags (-Z sanitizer, sancov passes); the
            // project pins no nightly, so let the stable compiler accept them.
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_DIR", &target)
            .args(["fuzz", "run", name])
            .arg(&corpus)
            .args(seeds.iter().map(|s| root.join(s)))
            .args([
                "--".to_owned(),
                format!("-max_total_time={seconds}"),
                "-rss_limit_mb=2048".to_owned(),
            ]);
        if let Err(e) = run(&mut cmd) {
            eprintln!("xtask: fuzz target {name} failed: {e:#}");
            crashed.push(*name);
        }
    }
    if !crashed.is_empty() {
        bail!(
            "fuzz targets failed: {} (reproducers in {FUZZ_DIR}/artifacts/)",
            crashed.join(", ")
        );
    }
    eprintln!(
        "xtask: {} fuzz targets ran {seconds} s each without a crash",
        FUZZ_TARGETS.len()
    );
    Ok(())
}

/// The `.deb` of the desktop app. The Tauri CLI looks for its configuration beside the
/// app crate and resolves the bundle's paths from there, while plain cargo builds read
/// the top-level file with paths from the repository root; for the run, links
/// `src-tauri/tauri.conf.json`, `src-tauri/ui` and `src-tauri/icons` make both readings
/// find the same files (and are removed after).
fn bundle() -> Result<()> {
    setup(&all_packages())?;
    build_ui()?;
    let links = [
        ("src-tauri/tauri.conf.json", "../tauri.conf.json"),
        ("src-tauri/ui", "../ui"),
        ("src-tauri/icons", "../icons"),
    ];
    let mut made = Vec::new();
    for (link, target) in links {
        if std::fs::symlink_metadata(link).is_err() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(target, link).with_context(|| format!("link {link}"))?;
            made.push(link);
        }
    }
    // The tray process ships beside the app (`/usr/bin/deskline-tray`), where the app
    // looks for it. Both are built here, in one invocation; `tauri bundle` then only
    // packages them.
    run(&mut release_build_of_app())?;
    let mut target = target_dir();
    if target.is_relative() {
        target = std::env::current_dir()?.join(target);
    }
    let tray = target.join("release/deskline-tray");
    let tray_json = tray
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let extra = format!(
        r#"{{"bundle":{{"linux":{{"deb":{{"files":{{"/usr/bin/deskline-tray":"{tray_json}"}}}}}}}}}}"#
    );
    let result = run(Command::new("npx")
        .current_dir("ui")
        .env("TAURI_APP_PATH", "../src-tauri")
        .env("TAURI_FRONTEND_PATH", ".")
        .args(["tauri", "bundle", "--bundles", "deb", "--config"])
        .arg(extra));
    for link in made {
        let _ = std::fs::remove_file(link);
    }
    result?;
    let debs = target_dir().join("release/bundle/deb");
    eprintln!("xtask: the .deb is in {}", debs.display());
    Ok(())
}
