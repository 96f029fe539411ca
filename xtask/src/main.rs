//! `cargo xtask`: the project's set-up and run commands, so a fresh Debian/Ubuntu machine
//! needs nothing but Rust.
//!
//! - `cargo xtask setup`: installs the system packages the tests need (apt), says what it
//!   does, skips what is there.
//! - `cargo xtask demo [-- ARGS]`: runs `deskline --demo ARGS` (default: a tour) on the
//!   built-in demo provider.
//! - `cargo xtask test`: setup, then formatting, clippy, and every test of the workspace.
//! - `cargo xtask bench`: the benchmarks (not part of `test`).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian packages the tests use, with why.
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("pkg-config", "building crates that link system libraries"),
    ("kamailio", "the SIP registrar and forking proxy of the SIP tests"),
    ("kamailio-tls-modules", "Kamailio's TLS listener for the SIP-over-TLS tests"),
    ("sip-tester", "SIPp: callers and bad callers in the SIP tests"),
    ("stunnel4", "a TLS front for SIPp (Debian's SIPp has no TLS)"),
    ("dbus", "a private D-Bus session bus for the notification tests"),
    ("dbus-x11", "dbus-launch for the session bus"),
    ("python3-dbusmock", "a notification server that records what it receives"),
    ("libglib2.0-bin", "gdbus, to click notification actions in tests"),
    ("keyutils", "the Linux kernel keyring, Deskline's keychain where no Secret Service runs"),
    ("openssl", "lab certificates for the TLS tests"),
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
        "setup" => setup(TEST_PACKAGES),
        "demo" => demo(&rest),
        "test" => test(&rest),
        "bench" => bench(&rest),
        "help" | "--help" | "-h" => {
            println!("cargo xtask setup | demo [-- ARGS] | test | bench");
            Ok(())
        }
        other => bail!("unknown xtask command '{other}': use setup, demo, test or bench"),
    }
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
    let status = cmd.status().with_context(|| format!("could not start {cmd:?}"))?;
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

fn demo(args: &[String]) -> Result<()> {
    let args: Vec<String> = args.iter().filter(|a| *a != "--").cloned().collect();
    run(cargo().args(["build", "--quiet", "-p", "deskline-cli"]))?;
    let bin = target_dir().join("debug").join("deskline");
    let data_dir = target_dir().join("demo-data");
    let deskline = |extra: &[&str]| {
        let mut cmd = Command::new(&bin);
        cmd.arg("--demo").arg("--data-dir").arg(&data_dir).args(extra);
        cmd
    };
    if !args.is_empty() {
        let extra: Vec<&str> = args.iter().map(String::as_str).collect();
        return run(&mut deskline(&extra));
    }
    println!("Deskline on the built-in demo provider (data in {}).\n", data_dir.display());
    for tour in [&["status"][..], &["settings"], &["devices"], &["directory", "search", "al"]] {
        println!("$ deskline --demo {}", tour.join(" "));
        run(&mut deskline(tour))?;
        println!();
    }
    println!("Try more: cargo xtask demo -- forward always --to 2145550100");
    println!("          cargo xtask demo -- dnd on");
    println!("          cargo xtask demo -- --help");
    Ok(())
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

fn test(args: &[String]) -> Result<()> {
    setup(TEST_PACKAGES)?;
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
    if !has_nextest() {
        run(cargo().args(["install", "cargo-nextest", "--locked"]))?;
    }
    let mut cmd = cargo();
    cmd.args(["nextest", "run", "--workspace", "--locked", "--no-fail-fast"]);
    cmd.args(args);
    run(&mut cmd)?;
    run(cargo().args(["test", "--workspace", "--doc", "--locked"]))?;
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["bench", "--workspace"]);
    cmd.args(args);
    run(&mut cmd)
}
