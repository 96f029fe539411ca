//! A private D-Bus session bus with a recording notification server, for the notifier
//! and `deskline listen` suites, and the desktop portal for the app's suite.
//!
//! [`PrivateBus::start`] runs `dbus-daemon --nofork --print-address` with a minimal
//! session configuration in a temporary directory (no service activation, so nothing
//! real can answer on it) and reads its address. [`NotificationDaemon::start`] then runs
//! python3-dbusmock's `notification_daemon` template on it (Debian's `/usr/bin/python3`,
//! with `--logfile`) and waits until `org.freedesktop.Notifications` is owned.
//!
//! What the server received is read back typed through dbusmock's own
//! `org.freedesktop.DBus.Mock.GetCalls` (no text parsing: summaries may contain quotes):
//! [`NotificationDaemon::notifies`] (app name, replaces id, icon, summary, body, actions,
//! hints, timeout) and [`NotificationDaemon::closes`]. The raw log is kept for failure
//! messages ([`NotificationDaemon::log`]). [`NotificationDaemon::invoke_action`] and
//! [`NotificationDaemon::dismiss`] make the server emit `ActionInvoked` /
//! `NotificationClosed` through `org.freedesktop.DBus.Mock.EmitSignal` — the same call as
//! `gdbus call … EmitSignal` in the lab notes, sent over zbus so no argument is quoted
//! through a shell. [`NotificationDaemon::click_before_replying`] makes every later
//! `Notify` emit `ActionInvoked` before its reply. Dropping either kills its processes.
//!
//! [`DesktopPortal::start`] runs the real desktop portal (`xdg-desktop-portal` with its
//! GTK backend) on such a bus, with GNOME's `color-scheme` set in a GSettings key file of
//! its own, for the app's dark-mode test.
//!
//! Packages: `dbus-daemon` (package `dbus`), `python3-dbusmock`, `xdg-desktop-portal`,
//! `xdg-desktop-portal-gtk`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use zbus::{OwnedVariant as OwnedValue, Variant as Value};

const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const MOCK: &str = "org.freedesktop.DBus.Mock";

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A private session bus.
pub struct PrivateBus {
    dir: tempfile::TempDir,
    daemon: Child,
    /// Its address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
}

impl PrivateBus {
    /// Starts `dbus-daemon` on a socket in a fresh temporary directory.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.path().display()
            ),
        )
        .unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon is installed (apt-get install dbus)");
        let stdout = daemon.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let address = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if !line.trim().is_empty() => line.trim().to_owned(),
            other => {
                kill(&mut daemon);
                panic!("dbus-daemon printed no address: {other:?}");
            }
        };
        Self {
            dir,
            daemon,
            address,
        }
    }

    /// A connection to this bus.
    pub async fn connect(&self) -> zbus::Connection {
        tokio::time::timeout(Duration::from_secs(10), async {
            zbus::connection::Builder::address(self.address.as_str())
                .build()
                .await
                .unwrap()
        })
        .await
        .expect("connected to the private bus in time")
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        kill(&mut self.daemon);
    }
}

/// One `Notify` call the server received.
#[derive(Debug, Clone)]
pub struct Notify {
    /// The server's id it answered (its position among new notifications, from 1; the
    /// `replaces_id` for replacements).
    pub id: u32,
    /// `app_name`.
    pub app_name: String,
    /// `replaces_id` (0: a new notification).
    pub replaces_id: u32,
    /// `app_icon`.
    pub icon: String,
    /// `summary`.
    pub summary: String,
    /// `body`.
    pub body: String,
    /// `actions`, flat: key, label, key, label…
    pub actions: Vec<String>,
    /// `hints`.
    pub hints: HashMap<String, OwnedValue>,
    /// `expire_timeout` in ms (-1 default, 0 never).
    pub timeout: i32,
}

impl Notify {
    /// A string hint.
    pub fn hint_str(&self, name: &str) -> Option<String> {
        self.hints
            .get(name)
            .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
    }

    /// A boolean hint.
    pub fn hint_bool(&self, name: &str) -> Option<bool> {
        self.hints.get(name).and_then(|v| bool::try_from(v).ok())
    }

    /// A byte hint (`urgency`).
    pub fn hint_u8(&self, name: &str) -> Option<u8> {
        self.hints.get(name).and_then(|v| u8::try_from(v).ok())
    }
}

/// A private session bus with dbusmock's notification daemon on it.
pub struct NotificationDaemon {
    mock: Child,
    log: PathBuf,
    conn: zbus::Connection,
    /// The bus (dropped after the mock).
    pub bus: PrivateBus,
}

fn text(value: &OwnedValue) -> String {
    value
        .try_clone()
        .ok()
        .and_then(|v| String::try_from(v).ok())
        .unwrap_or_default()
}

impl NotificationDaemon {
    /// Starts a private bus and the notification daemon on it.
    pub async fn start() -> Self {
        Self::start_on(PrivateBus::start()).await
    }

    /// Starts the notification daemon on `bus`.
    pub async fn start_on(bus: PrivateBus) -> Self {
        let log = bus.dir.path().join("notifications.log");
        let mut mock = Command::new("/usr/bin/python3")
            .args([
                "-m",
                "dbusmock",
                "--session",
                "--template",
                "notification_daemon",
            ])
            .arg("--logfile")
            .arg(&log)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3-dbusmock is installed (apt-get install python3-dbusmock)");
        let conn = bus.connect().await;
        let dbus = zbus::fdo::DBusProxy::new(&conn).await.unwrap();
        let name = zbus::names::BusName::try_from(NOTIFICATIONS).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if dbus.name_has_owner(name.clone()).await.unwrap_or(false) {
                break;
            }
            if let Ok(Some(status)) = mock.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = mock.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("dbusmock exited ({status}): {err}");
            }
            if tokio::time::Instant::now() > deadline {
                kill(&mut mock);
                panic!("dbusmock never took {NOTIFICATIONS}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            mock,
            log,
            conn,
            bus,
        }
    }

    /// The bus address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.bus.address
    }

    /// dbusmock's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn mock_call<B>(&self, method: &str, body: &B) -> zbus::message::Message
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        tokio::time::timeout(
            Duration::from_secs(10),
            self.conn
                .call_method(Some(NOTIFICATIONS), PATH, Some(MOCK), method, body),
        )
        .await
        .expect("dbusmock answered in time")
        .unwrap_or_else(|e| panic!("{method} failed: {e}\nlog:\n{}", self.log()))
    }

    /// Every method call the server received: (method, arguments).
    pub async fn calls(&self) -> Vec<(String, Vec<OwnedValue>)> {
        let reply = self.mock_call("GetCalls", &()).await;
        let calls: Vec<(u64, String, Vec<OwnedValue>)> = reply.body().deserialize().unwrap();
        calls.into_iter().map(|(_, m, a)| (m, a)).collect()
    }

    /// Every `Notify` call, in order, with the id the server answered.
    pub async fn notifies(&self) -> Vec<Notify> {
        let mut next_id = 1u32;
        let mut out = Vec::new();
        for (method, args) in self.calls().await {
            if method != "Notify" {
                continue;
            }
            assert_eq!(args.len(), 8, "Notify arguments: {args:?}");
            let replaces_id = u32::try_from(&args[1]).unwrap();
            let id = if replaces_id != 0 {
                replaces_id
            } else {
                next_id += 1;
                next_id - 1
            };
            let actions: Vec<String> = args[5]
                .try_clone()
                .ok()
                .and_then(|v| Vec::<String>::try_from(v).ok())
                .unwrap_or_default();
            let hints: HashMap<String, OwnedValue> = args[6]
                .try_clone()
                .ok()
                .and_then(|v| HashMap::<String, OwnedValue>::try_from(v).ok())
                .unwrap_or_default();
            out.push(Notify {
                id,
                app_name: text(&args[0]),
                replaces_id,
                icon: text(&args[2]),
                summary: text(&args[3]),
                body: text(&args[4]),
                actions,
                hints,
                timeout: i32::try_from(&args[7]).unwrap_or(i32::MIN),
            });
        }
        out
    }

    /// The ids of every `CloseNotification` call, in order.
    pub async fn closes(&self) -> Vec<u32> {
        self.calls()
            .await
            .into_iter()
            .filter(|(m, _)| m == "CloseNotification")
            .filter_map(|(_, args)| {
                let arg = args.first()?;
                u32::try_from(arg)
                    .ok()
                    .or_else(|| i32::try_from(arg).ok().and_then(|i| u32::try_from(i).ok()))
            })
            .collect()
    }

    /// Waits until `count` `Notify` calls arrived; returns them all.
    pub async fn wait_notifies(&self, count: usize, limit: Duration) -> Vec<Notify> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let got = self.notifies().await;
            if got.len() >= count {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{count} notification(s) expected, got {}:\n{}",
                got.len(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until notification `id` was closed.
    pub async fn wait_closed(&self, id: u32, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.closes().await.contains(&id) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "notification {id} was never closed:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn emit(&self, name: &str, signature: &str, args: Vec<Value<'_>>) {
        self.mock_call("EmitSignal", &(NOTIFICATIONS, name, signature, args))
            .await;
    }

    /// From now on the server clicks `key` on every new notification before it answers
    /// `Notify` (dbusmock's `AddMethod` replaces the template's `Notify` with the same
    /// code plus the signal): the client gets `ActionInvoked` before the reply that tells
    /// it the notification's id — a click the instant the notification appears.
    pub async fn click_before_replying(&self, key: &str) {
        assert!(
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "a plain action key"
        );
        let code = format!(
            "if args[1]:\n    ret = args[1]\nelse:\n    ret = self.next_id\n    self.next_id += 1\n\
             self.EmitSignal('', 'ActionInvoked', 'us', [ret, '{key}'])\n"
        );
        self.mock_call(
            "AddMethod",
            &(NOTIFICATIONS, "Notify", "susssasa{sv}i", "u", code.as_str()),
        )
        .await;
    }

    /// The user clicks the button `key` of notification `id` (`ActionInvoked`).
    pub async fn invoke_action(&self, id: u32, key: &str) {
        self.emit(
            "ActionInvoked",
            "us",
            vec![Value::U32(id), Value::from(key)],
        )
        .await;
    }

    /// The user dismisses notification `id` (`NotificationClosed`, reason 2).
    pub async fn dismiss(&self, id: u32) {
        self.emit(
            "NotificationClosed",
            "uu",
            vec![Value::U32(id), Value::U32(2)],
        )
        .await;
    }
}

impl Drop for NotificationDaemon {
    fn drop(&mut self) {
        kill(&mut self.mock);
    }
}

/// The desktop portal's well-known name and object, and its GTK backend's name.
const PORTAL: &str = "org.freedesktop.portal.Desktop";
const PORTAL_PATH: &str = "/org/freedesktop/portal/desktop";
const PORTAL_GTK_BACKEND: &str = "org.freedesktop.impl.portal.desktop.gtk";
const PORTAL_BIN: &str = "/usr/libexec/xdg-desktop-portal";
const PORTAL_GTK_BIN: &str = "/usr/libexec/xdg-desktop-portal-gtk";

/// The appearance a desktop asks for, as GNOME's setting
/// (`org.gnome.desktop.interface color-scheme`) and as the portal reports it
/// (`org.freedesktop.appearance color-scheme`: 0 no preference, 1 dark, 2 light).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorScheme {
    /// `default`, 0.
    NoPreference,
    /// `prefer-dark`, 1.
    PreferDark,
    /// `prefer-light`, 2.
    PreferLight,
}

impl ColorScheme {
    fn gsettings_value(self) -> &'static str {
        match self {
            Self::NoPreference => "default",
            Self::PreferDark => "prefer-dark",
            Self::PreferLight => "prefer-light",
        }
    }

    /// The number the portal's `Read` answers.
    pub fn portal_value(self) -> u32 {
        match self {
            Self::NoPreference => 0,
            Self::PreferDark => 1,
            Self::PreferLight => 2,
        }
    }
}

/// The real desktop portal on a private bus: `xdg-desktop-portal` (package
/// `xdg-desktop-portal`) with its GTK backend (`xdg-desktop-portal-gtk`), which reads
/// GNOME's `color-scheme` from GSettings. That is how a GNOME or KDE desktop in dark mode
/// tells applications, and what Tauri's windowing (tao) reads when it makes a window.
///
/// The setting lives in a GSettings key file of its own (`GSETTINGS_BACKEND=keyfile`,
/// `XDG_CONFIG_HOME` in a temporary directory), so nothing of the machine's is read or
/// changed. The private bus activates nothing, so both processes are started here (the
/// backend first: it needs `display`), and [`DesktopPortal::start`] returns once the
/// portal answers `Read` with the scheme it was given. Dropping it stops both.
pub struct DesktopPortal {
    backend: Child,
    portal: Child,
    dir: tempfile::TempDir,
}

impl DesktopPortal {
    /// Whether both programs are installed.
    pub fn installed() -> bool {
        std::path::Path::new(PORTAL_BIN).exists() && std::path::Path::new(PORTAL_GTK_BIN).exists()
    }

    /// Starts the portal and its GTK backend on `bus`, the backend on X display
    /// `display`, with GNOME's `color-scheme` set to `scheme`.
    pub async fn start(bus: &PrivateBus, display: &str, scheme: ColorScheme) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = dir.path().join("config/glib-2.0/settings");
        std::fs::create_dir_all(&settings).unwrap();
        std::fs::write(
            settings.join("keyfile"),
            format!(
                "[org/gnome/desktop/interface]\ncolor-scheme='{}'\n",
                scheme.gsettings_value()
            ),
        )
        .unwrap();
        let spawn = |program: &str, log: &str| {
            let log = std::fs::File::create(dir.path().join(log)).unwrap();
            Command::new(program)
                .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
                .env("DISPLAY", display)
                .env_remove("WAYLAND_DISPLAY")
                .env("GDK_BACKEND", "x11")
                .env("XDG_CONFIG_HOME", dir.path().join("config"))
                .env("GSETTINGS_BACKEND", "keyfile")
                // Which backends the portal uses: the ones whose `UseIn` names this desktop.
                .env("XDG_CURRENT_DESKTOP", "GNOME")
                // No accessibility bus: it would be started on the machine's session.
                .env("NO_AT_BRIDGE", "1")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "{program} did not start ({e}): apt-get install xdg-desktop-portal xdg-desktop-portal-gtk"
                    )
                })
        };
        let conn = bus.connect().await;
        let dbus = zbus::fdo::DBusProxy::new(&conn).await.unwrap();
        let backend_name = zbus::names::BusName::try_from(PORTAL_GTK_BACKEND).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut backend = spawn(PORTAL_GTK_BIN, "backend.log");
        while !dbus
            .name_has_owner(backend_name.clone())
            .await
            .unwrap_or(false)
        {
            let exited = backend.try_wait().ok().flatten();
            if exited.is_some() || tokio::time::Instant::now() > deadline {
                kill(&mut backend);
                panic!(
                    "xdg-desktop-portal-gtk took no name on the bus ({}):\n{}",
                    exited.map_or("30 s".to_owned(), |status| format!("exited: {status}")),
                    logs_in(dir.path())
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let portal = spawn(PORTAL_BIN, "portal.log");
        let mut started = Self {
            backend,
            portal,
            dir,
        };
        loop {
            match color_scheme_on(&conn).await {
                Ok(answer) => {
                    assert_eq!(
                        answer,
                        scheme.portal_value(),
                        "the portal reports another color-scheme than its backend was given:\n{}",
                        started.logs()
                    );
                    return started;
                }
                Err(e) => {
                    let exited = started.portal.try_wait().ok().flatten();
                    assert!(
                        exited.is_none() && tokio::time::Instant::now() < deadline,
                        "the portal did not answer Read ({e}; {}):\n{}",
                        exited.map_or("30 s".to_owned(), |status| format!("exited: {status}")),
                        started.logs()
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// What the portal and its backend wrote, for failure messages.
    pub fn logs(&self) -> String {
        logs_in(self.dir.path())
    }
}

/// The portal's and its backend's logs in `dir`.
fn logs_in(dir: &std::path::Path) -> String {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    format!(
        "--- xdg-desktop-portal-gtk ---\n{}\n--- xdg-desktop-portal ---\n{}",
        read("backend.log"),
        read("portal.log")
    )
}

/// `Settings.Read("org.freedesktop.appearance", "color-scheme")` on `conn`, as an
/// application asks it.
async fn color_scheme_on(conn: &zbus::Connection) -> Result<u32, String> {
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        conn.call_method(
            Some(PORTAL),
            PORTAL_PATH,
            Some("org.freedesktop.portal.Settings"),
            "Read",
            &("org.freedesktop.appearance", "color-scheme"),
        ),
    )
    .await
    .map_err(|_| "no answer in 5 s".to_owned())?
    .map_err(|e| e.to_string())?;
    let value: OwnedValue = reply.body().deserialize().map_err(|e| e.to_string())?;
    fn number(value: &Value<'_>) -> Option<u32> {
        match value {
            Value::U32(n) => Some(*n),
            Value::Variant(inner) => number(inner),
            _ => None,
        }
    }
    number(&value).ok_or_else(|| format!("no number: {value:?}"))
}

impl Drop for DesktopPortal {
    fn drop(&mut self) {
        kill(&mut self.portal);
        kill(&mut self.backend);
    }
}
