//! The tray-resident process for the `tray_resident` suite: [`TrayProcess`] runs the real
//! `deskline-tray` on a private session bus; [`SniWatcher`] is a minimal
//! `org.kde.StatusNotifierWatcher` (a zbus server in the test) that records the items
//! that register, so the suite can read an item's properties ([`SniItem`]: title, status,
//! tooltip, icon pixmap), its dbusmenu layout, and click it; [`tray_call`] calls
//! `org.deskline.Tray1`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zbus::object_server::SignalEmitter;
use zbus::{Connection, OwnedVariant, fdo};

/// The tray's well-known name and object.
pub const TRAY_NAME: &str = "org.deskline.desktop.Tray";
pub const TRAY_PATH: &str = "/org/deskline/Tray1";
pub const TRAY_INTERFACE: &str = "org.deskline.Tray1";
const ITEM_INTERFACE: &str = "org.kde.StatusNotifierItem";
const MENU_INTERFACE: &str = "com.canonical.dbusmenu";

/// A running `deskline-tray`.
pub struct TrayProcess {
    pub child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl TrayProcess {
    /// Starts `deskline-tray --data-dir DATA ARGS` on the bus at `bus`, with the kernel
    /// keyring as the keychain and `env` added.
    pub fn spawn(data_dir: &Path, bus: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let stdout = dir.path().join("stdout.txt");
        let stderr = dir.path().join("stderr.txt");
        let mut cmd = Command::new(crate::bins::tray());
        cmd.arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .env("DESKLINE_KEYCHAIN", "keyutils")
            .env("RUST_LOG", "info")
            .env_remove("DESKLINE_DATA_DIR")
            .env_remove("DESKLINE_SIP")
            .env_remove("DESKLINE_APP_BIN")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("run deskline-tray");
        Self {
            child,
            stdout,
            stderr,
            _dir: dir,
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// What it logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Everything it wrote, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "deskline-tray stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        )
    }

    /// Whether it still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits (bounded) until it exits; returns its exit code.
    pub async fn wait_exit(&mut self, limit: Duration) -> i32 {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "deskline-tray did not exit within {limit:?}\n{}",
                self.describe()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `signal` (`-TERM`, `-INT`, …).
    pub fn signal(&self, signal: &str) {
        assert!(
            Command::new("kill")
                .args([signal, &self.child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
    }
}

impl Drop for TrayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls `org.deskline.Tray1.METHOD` on the tray; the reply's body or the error.
pub async fn tray_call(
    conn: &Connection,
    method: &str,
    limit: Duration,
) -> Result<zbus::Message, zbus::Error> {
    tokio::time::timeout(
        limit,
        conn.call_method(
            Some(TRAY_NAME),
            TRAY_PATH,
            Some(TRAY_INTERFACE),
            method,
            &(),
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("{method} did not answer within {limit:?}"))
}

/// The tray's `GetSummary()`, parsed; `None` while no tray owns the name.
pub async fn tray_summary(conn: &Connection) -> Option<serde_json::Value> {
    let reply = tray_call(conn, "GetSummary", Duration::from_secs(10))
        .await
        .ok()?;
    let text: String = reply.body().deserialize().unwrap();
    Some(serde_json::from_str(&text).unwrap())
}

/// Waits until the tray's summary satisfies `check`; returns it.
pub async fn wait_summary(
    conn: &Connection,
    limit: Duration,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + limit;
    let mut last = None;
    loop {
        if let Some(summary) = tray_summary(conn).await {
            if check(&summary) {
                return summary;
            }
            last = Some(summary);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the tray's summary never matched; last: {last:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether a name has an owner on the bus.
pub async fn has_owner(conn: &Connection, name: &str) -> bool {
    let dbus = fdo::DBusProxy::new(conn).await.unwrap();
    dbus.name_has_owner(zbus::names::BusName::try_from(name).unwrap())
        .await
        .unwrap()
}

/// One item that registered with the watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The bus name to reach it (its well-known name, or the sender).
    pub bus: String,
    /// Its object path.
    pub path: String,
    /// The unique name of the connection that registered it.
    pub sender: String,
}

type Items = Arc<Mutex<Vec<Registered>>>;

struct Watcher {
    items: Items,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    async fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> fdo::Result<()> {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        let (bus, path) = if service.starts_with('/') {
            (sender.clone(), service.clone())
        } else {
            (service.clone(), "/StatusNotifierItem".to_owned())
        };
        self.items
            .lock()
            .unwrap()
            .push(Registered { bus, path, sender });
        Self::status_notifier_item_registered(&emitter, &service).await?;
        Ok(())
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.bus.clone())
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(signal)]
    async fn status_notifier_item_registered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;
}

/// A recording StatusNotifierWatcher on a bus.
pub struct SniWatcher {
    conn: Connection,
    items: Items,
}

impl SniWatcher {
    /// Owns `org.kde.StatusNotifierWatcher` on the bus at `address`.
    pub async fn start(address: &str) -> Self {
        let items = Items::default();
        let conn = tokio::time::timeout(Duration::from_secs(10), async {
            zbus::connection::Builder::address(address)
                .serve_at(
                    "/StatusNotifierWatcher",
                    Watcher {
                        items: items.clone(),
                    },
                )
                .name("org.kde.StatusNotifierWatcher")
                .build()
                .await
                .unwrap()
        })
        .await
        .expect("the watcher connected in time");
        Self { conn, items }
    }

    /// Every registration so far.
    pub fn registered(&self) -> Vec<Registered> {
        self.items.lock().unwrap().clone()
    }

    /// Waits for the first registration; returns the item.
    pub async fn wait_item(&self, limit: Duration) -> SniItem {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(r) = self.registered().into_iter().next() {
                return SniItem {
                    conn: self.conn.clone(),
                    registered: r,
                };
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no StatusNotifierItem registered within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One entry of the item's menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuEntry {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
    pub visible: bool,
    pub separator: bool,
}

/// An `(iiay)` pixmap.
pub type Pixmap = (i32, i32, Vec<u8>);

/// A dbusmenu node, `(ia{sv}av)`.
type Node = (i32, HashMap<String, OwnedVariant>, Vec<OwnedVariant>);

/// A registered StatusNotifierItem, read as a tray host would.
pub struct SniItem {
    conn: Connection,
    /// Where it is.
    pub registered: Registered,
}

impl SniItem {
    /// A property of the item.
    pub async fn property(&self, name: &str) -> OwnedVariant {
        let props = fdo::PropertiesProxy::builder(&self.conn)
            .destination(self.registered.bus.clone())
            .path(self.registered.path.clone())
            .build()
            .await
            .unwrap();
        tokio::time::timeout(
            Duration::from_secs(10),
            props.get(
                zbus::names::InterfaceName::try_from(ITEM_INTERFACE).unwrap(),
                name,
            ),
        )
        .await
        .expect("the item answered in time")
        .unwrap_or_else(|e| panic!("property {name}: {e}"))
    }

    /// A string property.
    pub async fn text(&self, name: &str) -> String {
        String::try_from(self.property(name).await).unwrap()
    }

    /// `IconPixmap`.
    pub async fn icon(&self) -> Vec<Pixmap> {
        Vec::<Pixmap>::try_from(self.property("IconPixmap").await).unwrap()
    }

    /// `ToolTip`: (icon name, pixmaps, title, text).
    pub async fn tooltip(&self) -> (String, Vec<Pixmap>, String, String) {
        <(String, Vec<Pixmap>, String, String)>::try_from(self.property("ToolTip").await).unwrap()
    }

    async fn method<B>(&self, path: &str, iface: &str, method: &str, body: &B) -> zbus::Message
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        tokio::time::timeout(
            Duration::from_secs(10),
            self.conn.call_method(
                Some(self.registered.bus.as_str()),
                path,
                Some(iface),
                method,
                body,
            ),
        )
        .await
        .expect("the item answered in time")
        .unwrap_or_else(|e| panic!("{iface}.{method}: {e}"))
    }

    /// A left click on the icon.
    pub async fn activate(&self) {
        self.method(
            &self.registered.path,
            ITEM_INTERFACE,
            "Activate",
            &(0i32, 0i32),
        )
        .await;
    }

    async fn menu_path(&self) -> String {
        zbus::OwnedObjectPath::try_from(self.property("Menu").await)
            .unwrap()
            .to_string()
    }

    /// The menu's entries, from `GetLayout(0, -1, [])`.
    pub async fn menu(&self) -> Vec<MenuEntry> {
        let path = self.menu_path().await;
        let reply = self
            .method(
                &path,
                MENU_INTERFACE,
                "GetLayout",
                &(0i32, -1i32, Vec::<String>::new()),
            )
            .await;
        let (_revision, (root, _props, children)): (u32, Node) =
            reply.body().deserialize().unwrap();
        assert_eq!(root, 0);
        children
            .into_iter()
            .map(|child| {
                let (id, props, _grandchildren): Node = child.try_into().unwrap();
                let text = |k: &str| {
                    props
                        .get(k)
                        .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
                };
                let flag = |k: &str| props.get(k).and_then(|v| bool::try_from(v).ok());
                MenuEntry {
                    id,
                    label: text("label").unwrap_or_default(),
                    enabled: flag("enabled").unwrap_or(true),
                    visible: flag("visible").unwrap_or(true),
                    separator: text("type").as_deref() == Some("separator"),
                }
            })
            .collect()
    }

    /// Clicks the menu entry labelled `label`.
    pub async fn click(&self, label: &str) {
        let menu = self.menu().await;
        let entry = menu
            .iter()
            .find(|e| e.label == label)
            .unwrap_or_else(|| panic!("no menu entry {label:?} in {menu:#?}"));
        let path = self.menu_path().await;
        self.method(
            &path,
            MENU_INTERFACE,
            "Event",
            &(entry.id, "clicked", zbus::Variant::from(0i32), 0u32),
        )
        .await;
    }
}
