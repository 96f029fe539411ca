//! `deskline-tray`, the real binary, end to end: signed in with the real CLI against the
//! sandbox provider, it registers the account's soft clients with a real Kamailio, shows
//! SIPp's calls through a recording notification server on a private session bus,
//! appears as a StatusNotifierItem to a recording watcher (tooltip, icon, menu, clicks),
//! hands the line over to the app over D-Bus, waits for the app that started it, and
//! links no GTK or WebKit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_e2e::cli::{
    Client, DEMO_PASSWORD, DEMO_USER, Sandbox, SandboxConfig, Seed, demo_seed_with_registrar_port,
    demo_sip_users,
};
use deskline_e2e::dbus::NotificationDaemon;
use deskline_e2e::kamailio::{Kamailio, KamailioConfig};
use deskline_e2e::sipp;
use deskline_e2e::tray::{
    SniItem, SniWatcher, TRAY_NAME, TrayProcess, has_owner, tray_call, wait_summary,
};
use deskline_tray::icons::{IconKind, Icons};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const LINES: [&str; 2] = ["dana-pc", "dana-mobile"];

/// `deskline login` with the real CLI, auto sign-in, the kernel keyring as keychain.
fn login(client: &Client, server: &str, bus: &str) {
    let mut child = client
        .command(&[
            "login",
            "--server",
            server,
            "--user",
            DEMO_USER,
            "--password-stdin",
        ])
        .env("DESKLINE_KEYCHAIN", "keyutils")
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{DEMO_PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "login failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A stand-in for `deskline-app` that records each start's arguments, one line each.
fn fake_app(dir: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join("app-starts.txt");
    let bin = dir.join("deskline-app");
    std::fs::write(
        &bin,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

async fn wait_app_starts(log: &Path, count: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let starts: Vec<String> = std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        if starts.len() >= count {
            return starts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the app was started {} time(s), {count} expected",
            starts.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_tooltip(item: &SniItem, what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, _, title, text) = item.tooltip().await;
        assert_eq!(title, "Deskline");
        if check(&text) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the tooltip never showed {what}; last: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn icon(kind: IconKind) -> Vec<(i32, i32, Vec<u8>)> {
    vec![Icons::decode().unwrap().get(kind).clone()]
}

fn all_registered(summary: &Value) -> bool {
    summary["lines"]
        .as_array()
        .is_some_and(|lines| lines.len() == 2 && lines.iter().all(|l| l["state"] == "registered"))
}

async fn registrar_and_provider() -> (Kamailio, Sandbox) {
    let k = Kamailio::start(KamailioConfig {
        users: demo_sip_users(),
        alias: Some("deskline.example".into()),
        ..KamailioConfig::default()
    });
    let sandbox = Sandbox::start(SandboxConfig {
        seed: Seed::Text(demo_seed_with_registrar_port(k.port)),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    (k, sandbox)
}

fn no_contacts(k: &Kamailio) -> bool {
    LINES.iter().all(|l| k.contacts(l).is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_keeps_the_line_shows_calls_and_hands_it_over_to_the_app() {
    let (k, sandbox) = registrar_and_provider().await;
    let daemon = NotificationDaemon::start().await;
    let conn = daemon.bus.connect().await;
    let client = Client::new();
    login(&client, sandbox.base_url().as_str(), daemon.address());
    let app_dir = tempfile::tempdir().unwrap();
    let (app_bin, app_log) = fake_app(app_dir.path());

    // No tray panel on the bus yet: the tray starts anyway.
    let mut tray = TrayProcess::spawn(
        &client.data_dir,
        daemon.address(),
        &[],
        &[("DESKLINE_APP_BIN", app_bin.to_str().unwrap())],
    );
    for line in LINES {
        k.wait_contacts(line, WAIT, |c| c.len() == 1).await;
    }
    let summary = wait_summary(&conn, WAIT, all_registered).await;
    assert_eq!(summary["signed_in"], true, "{summary}");
    assert_eq!(summary["mode"], "on", "{summary}");
    assert_eq!(summary["missed"], 0, "{summary}");

    // A panel starts: the item registers with it.
    let watcher = SniWatcher::start(daemon.address()).await;
    let item = watcher.wait_item(WAIT).await;
    assert_eq!(item.text("Id").await, "deskline");
    assert_eq!(item.text("Title").await, "Deskline");
    assert_eq!(item.text("Status").await, "Active");
    let tip = wait_tooltip(&item, "both lines connected", |t| {
        t.contains("Line: 2 of 2 connected")
    })
    .await;
    assert!(tip.contains("No missed calls"), "{tip:?}");
    assert_eq!(item.icon().await, icon(IconKind::Ok));

    // A call rings, the caller hangs up: shown with the caller, withdrawn, missed.
    let caller = sipp::spawn(
        &sipp::caller_cancels(1000),
        Some(&k.addr()),
        &["-s", "dana-pc", "-m", "1"],
        WAIT,
    );
    let shown = daemon.wait_notifies(1, WAIT).await;
    assert_eq!(
        shown[0].summary, "Incoming call — Caller 1",
        "{:?}",
        shown[0]
    );
    assert!(
        shown[0].body.contains("+15550001") && shown[0].body.contains("Dana Demo (PC)"),
        "{:?}",
        shown[0].body
    );
    assert!(shown[0].actions.contains(&"decline".to_owned()));
    daemon.wait_closed(shown[0].id, WAIT).await;
    let run = caller.finish(WAIT).await;
    assert!(run.ok(), "{}", run.describe());
    let tip = wait_tooltip(&item, "the missed call", |t| t.ends_with("1 missed call")).await;
    assert!(tip.contains("Line: 2 of 2 connected"), "{tip:?}");
    assert_eq!(item.icon().await, icon(IconKind::Alert));
    assert_eq!(item.text("Status").await, "NeedsAttention");
    let menu = item.menu().await;
    let visible: Vec<&str> = menu
        .iter()
        .filter(|e| e.visible && !e.separator)
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(visible.len(), 6, "{menu:#?}");
    assert_eq!(visible[0], "Open Deskline");
    assert!(visible[1].contains("Dana"), "the account: {menu:#?}");
    assert_eq!(
        visible[2..],
        [
            "Line: 2 of 2 connected",
            "1 missed call",
            "Sync now",
            "Quit Deskline"
        ]
    );
    let disabled: Vec<&str> = menu
        .iter()
        .filter(|e| !e.enabled)
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(
        disabled[1..],
        ["Line: 2 of 2 connected", "1 missed call"],
        "{menu:#?}"
    );

    // Decline on the notification: the caller hears 603.
    let caller = sipp::spawn(
        &sipp::caller_expects(603),
        Some(&k.addr()),
        &["-s", "dana-pc", "-m", "1"],
        WAIT,
    );
    let shown = daemon.wait_notifies(2, WAIT).await;
    // Clicked the moment the server has it (the notifier listens before it sends).
    daemon.invoke_action(shown[1].id, "decline").await;
    let run = caller.finish(WAIT).await;
    assert!(run.ok(), "the caller did not get 603: {}", run.describe());

    // A click on the icon, then "Open Deskline", start the app on the same data.
    item.activate().await;
    let starts = wait_app_starts(&app_log, 1).await;
    assert_eq!(
        starts[0],
        format!("--data-dir {}", client.data_dir.display())
    );
    item.click("Open Deskline").await;
    wait_app_starts(&app_log, 2).await;
    assert!(tray.running(), "opening the app must not end the tray");

    // "Sync now" syncs (and the lines stay registered).
    let before = sandbox_requests(&sandbox).await;
    item.click("Sync now").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while sandbox_requests(&sandbox).await <= before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Sync now sent nothing"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A second tray leaves the line to the first.
    let mut second = TrayProcess::spawn(&client.data_dir, daemon.address(), &[], &[]);
    assert_eq!(second.wait_exit(WAIT).await, 0, "{}", second.describe());
    assert!(
        second
            .stdout()
            .contains("Deskline is already running in the tray"),
        "{}",
        second.describe()
    );
    assert_eq!(
        watcher.registered().len(),
        1,
        "the second tray showed an icon"
    );

    // The app asks for the line: Handover answers once every line is unregistered.
    tray_call(&conn, "Handover", WAIT)
        .await
        .unwrap_or_else(|e| panic!("Handover failed: {e}\n{}", tray.describe()));
    assert!(
        no_contacts(&k),
        "Handover returned while Kamailio still had contacts: {:#?}",
        k.all_contacts()
    );
    assert_eq!(tray.wait_exit(WAIT).await, 0, "{}", tray.describe());
    assert!(!has_owner(&conn, TRAY_NAME).await);
    assert!(!has_owner(&conn, &watcher.registered()[0].bus).await);
    sandbox.shutdown().await;
}

async fn sandbox_requests(sandbox: &Sandbox) -> u64 {
    let url = format!("{}__sandbox/stats", sandbox.base_url());
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    let stats: Value = serde_json::from_str(&text).unwrap();
    stats["requests"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_app_it_registers_only_once_the_app_has_exited_and_sigterm_unregisters() {
    let (k, sandbox) = registrar_and_provider().await;
    let daemon = NotificationDaemon::start().await;
    let conn = daemon.bus.connect().await;
    let client = Client::new();
    login(&client, sandbox.base_url().as_str(), daemon.address());
    // The "app": a process that runs until the test ends it.
    let mut app = Command::new("sleep").arg("120").spawn().unwrap();
    let pid = app.id().to_string();
    let mut tray = TrayProcess::spawn(
        &client.data_dir,
        daemon.address(),
        &["--after-app", &pid],
        &[],
    );
    let summary = wait_summary(&conn, WAIT, |s| s["signed_in"] == true).await;
    assert_eq!(summary["lines"], serde_json::json!([]), "{summary}");
    // While the app runs, nothing registers.
    let quiet_until = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < quiet_until {
        assert!(
            no_contacts(&k),
            "registered while the app still ran: {:#?}\n{}",
            k.all_contacts(),
            tray.describe()
        );
        assert!(tray.running(), "{}", tray.describe());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The app exits (left unreaped for now: a zombie counts as exited).
    app.kill().unwrap();
    for line in LINES {
        k.wait_contacts(line, WAIT, |c| c.len() == 1).await;
    }
    wait_summary(&conn, WAIT, all_registered).await;
    app.wait().unwrap();

    // Logging out (SIGTERM) unregisters before exiting.
    tray.signal("-TERM");
    assert_eq!(tray.wait_exit(WAIT).await, 0, "{}", tray.describe());
    assert!(
        no_contacts(&k),
        "contacts left after SIGTERM: {:#?}",
        k.all_contacts()
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_app_that_does_not_exit_it_gives_up_with_a_clear_error() {
    // The demo seed's lines point at a registrar nobody runs: nothing could register.
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let daemon = NotificationDaemon::start().await;
    let client = Client::new();
    login(&client, sandbox.base_url().as_str(), daemon.address());
    let mut app = Command::new("sleep").arg("120").spawn().unwrap();
    let pid = app.id().to_string();
    let mut tray = TrayProcess::spawn(
        &client.data_dir,
        daemon.address(),
        &["--after-app", &pid],
        &[],
    );
    let code = tray.wait_exit(Duration::from_secs(30)).await;
    assert_eq!(code, 1, "{}", tray.describe());
    let stderr = tray.stderr();
    assert!(
        stderr.contains(&format!(
            "the Deskline app (process {pid}) did not exit within 15 s"
        )),
        "{stderr}"
    );
    let _ = app.kill();
    let _ = app.wait();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_account_it_offers_open_and_quit_and_leaves_the_line_to_a_running_app() {
    let daemon = NotificationDaemon::start().await;
    let conn = daemon.bus.connect().await;
    let watcher = SniWatcher::start(daemon.address()).await;
    let client = Client::new();
    let mut tray = TrayProcess::spawn(&client.data_dir, daemon.address(), &[], &[]);
    let item = watcher.wait_item(WAIT).await;
    wait_tooltip(&item, "Not signed in", |t| t == "Not signed in").await;
    assert_eq!(item.icon().await, icon(IconKind::Idle));
    let menu = item.menu().await;
    let offered: Vec<&str> = menu
        .iter()
        .filter(|e| e.visible && e.enabled && !e.separator)
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(offered, ["Open Deskline", "Quit Deskline"], "{menu:#?}");
    let summary = wait_summary(&conn, WAIT, |_| true).await;
    assert_eq!(summary["signed_in"], false, "{summary}");

    item.click("Quit Deskline").await;
    assert_eq!(tray.wait_exit(WAIT).await, 0, "{}", tray.describe());
    assert!(!has_owner(&conn, TRAY_NAME).await);

    // The app runs (it owns its single-instance name): the tray does not start.
    conn.request_name("org.deskline.desktop.SingleInstance")
        .await
        .unwrap();
    let mut tray = TrayProcess::spawn(&client.data_dir, daemon.address(), &[], &[]);
    assert_eq!(tray.wait_exit(WAIT).await, 0, "{}", tray.describe());
    assert!(
        tray.stdout().contains("The Deskline app is running"),
        "{}",
        tray.describe()
    );
    assert_eq!(watcher.registered().len(), 1, "a second icon appeared");
    assert!(!has_owner(&conn, TRAY_NAME).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_in_the_tray_without_calls() {
    let daemon = NotificationDaemon::start().await;
    let conn = daemon.bus.connect().await;
    let watcher = SniWatcher::start(daemon.address()).await;
    let client = Client::new();
    let mut tray = TrayProcess::spawn(&client.data_dir, daemon.address(), &["--demo"], &[]);
    let item = watcher.wait_item(WAIT).await;
    let tip = wait_tooltip(&item, "the demo", |t| t.contains("Line: demo (no calls)")).await;
    assert!(tip.starts_with("Dana Demo"), "{tip:?}");
    let summary = wait_summary(&conn, WAIT, |s| s["signed_in"] == true).await;
    assert_eq!(summary["mode"], "demo", "{summary}");
    assert_eq!(summary["calls_running"], false, "{summary}");
    assert!(
        client
            .data_dir
            .join("demo")
            .join("deskline.sqlite3")
            .exists()
    );
    tray.signal("-INT");
    assert_eq!(tray.wait_exit(WAIT).await, 0, "{}", tray.describe());
}

#[test]
fn the_binary_links_no_gtk_or_webkit() {
    let bin = deskline_e2e::bins::tray();
    let out = Command::new("ldd")
        .arg(&bin)
        .output()
        .expect("ldd is installed (libc-bin)");
    assert!(out.status.success(), "ldd failed: {out:?}");
    let libs = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(libs.contains("libc.so"), "ldd listed nothing real:\n{libs}");
    for banned in [
        "libgtk",
        "libgdk",
        "libwebkit",
        "libjavascriptcore",
        "libsoup",
        "libglib",
        "libgobject",
        "libayatana",
        "libappindicator",
    ] {
        assert!(
            !libs.contains(banned),
            "deskline-tray links {banned}:\n{libs}"
        );
    }
}
