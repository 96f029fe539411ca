//! The tray icon as a StatusNotifierItem (freedesktop/KDE spec, version 0) with its menu
//! over `com.canonical.dbusmenu`, served on zbus — no GTK. The item is at
//! `/StatusNotifierItem` under the name `org.kde.StatusNotifierItem-PID-1`, the menu at
//! `/MenuBar`; the item registers with `org.kde.StatusNotifierWatcher` and registers
//! again whenever a watcher appears (none at start is fine: notifications work without
//! a tray, and the icon shows once a panel starts).
//!
//! Left click (`Activate`) and the menu's entries are reported as [`UiEvent`]s; what
//! the item shows is a [`TrayView`], changed with [`Sni::update`], which emits the
//! spec's `NewIcon`/`NewToolTip`/`NewStatus` signals and the menu's `LayoutUpdated`.

use crate::TrayError;
use crate::icons::{IconKind, Icons, Pixmap};
use crate::view::{MenuItem, TrayView, ids};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use zbus::object_server::SignalEmitter;
use zbus::wire::StructureBuilder;
use zbus::{Connection, OwnedObjectPath, OwnedVariant, Type, Variant, fdo};

/// The item's object path.
pub const ITEM_PATH: &str = "/StatusNotifierItem";
/// The menu's object path.
pub const MENU_PATH: &str = "/MenuBar";
/// The watcher's well-known name.
pub const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// What the user did with the tray.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiEvent {
    /// Left click on the icon, or "Open Deskline".
    Open,
    /// "Sync now".
    SyncNow,
    /// "Quit Deskline".
    Quit,
}

#[zbus::proxy(
    interface = "org.kde.StatusNotifierWatcher",
    default_service = "org.kde.StatusNotifierWatcher",
    default_path = "/StatusNotifierWatcher"
)]
trait StatusNotifierWatcher {
    fn register_status_notifier_item(&self, service: &str) -> zbus::Result<()>;
}

struct Shown {
    view: TrayView,
    revision: u32,
}

type SharedView = Arc<Mutex<Shown>>;

fn shown(view: &SharedView) -> MutexGuard<'_, Shown> {
    view.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Item {
    view: SharedView,
    icons: Arc<Icons>,
    events: mpsc::UnboundedSender<UiEvent>,
}

#[zbus::interface(name = "org.kde.StatusNotifierItem")]
impl Item {
    fn activate(&self, _x: i32, _y: i32) {
        let _ = self.events.send(UiEvent::Open);
    }

    fn secondary_activate(&self, _x: i32, _y: i32) {}

    /// Hosts show the dbusmenu themselves.
    fn context_menu(&self, _x: i32, _y: i32) -> fdo::Result<()> {
        Err(fdo::Error::UnknownMethod("the menu is at /MenuBar".into()))
    }

    fn scroll(&self, _delta: i32, _orientation: String) {}

    #[zbus(property)]
    fn category(&self) -> &str {
        "Communications"
    }

    #[zbus(property)]
    fn id(&self) -> &str {
        "deskline"
    }

    #[zbus(property)]
    fn title(&self) -> &str {
        "Deskline"
    }

    #[zbus(property)]
    fn status(&self) -> String {
        shown(&self.view).view.status().to_owned()
    }

    #[zbus(property)]
    fn window_id(&self) -> i32 {
        0
    }

    #[zbus(property)]
    fn icon_theme_path(&self) -> &str {
        ""
    }

    #[zbus(property)]
    fn menu(&self) -> OwnedObjectPath {
        OwnedObjectPath::from(zbus::ObjectPath::from_static_str_unchecked(MENU_PATH))
    }

    #[zbus(property)]
    fn item_is_menu(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn icon_name(&self) -> &str {
        ""
    }

    #[zbus(property)]
    fn icon_pixmap(&self) -> Vec<Pixmap> {
        let kind = shown(&self.view).view.icon;
        vec![self.icons.get(kind).clone()]
    }

    #[zbus(property)]
    fn overlay_icon_name(&self) -> &str {
        ""
    }

    #[zbus(property)]
    fn overlay_icon_pixmap(&self) -> Vec<Pixmap> {
        Vec::new()
    }

    #[zbus(property)]
    fn attention_icon_name(&self) -> &str {
        ""
    }

    #[zbus(property)]
    fn attention_icon_pixmap(&self) -> Vec<Pixmap> {
        vec![self.icons.get(IconKind::Alert).clone()]
    }

    #[zbus(property)]
    fn attention_movie_name(&self) -> &str {
        ""
    }

    /// `(icon name, icon pixmaps, title, text)`.
    #[zbus(property)]
    fn tool_tip(&self) -> (String, Vec<Pixmap>, String, String) {
        let text = shown(&self.view).view.tooltip();
        (String::new(), Vec::new(), "Deskline".to_owned(), text)
    }

    #[zbus(signal)]
    async fn new_title(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn new_icon(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn new_attention_icon(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn new_tool_tip(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn new_status(emitter: &SignalEmitter<'_>, status: &str) -> zbus::Result<()>;
}

/// One node of the dbusmenu layout, `(ia{sv}av)`.
#[derive(Debug, Serialize, Type)]
struct Layout {
    id: i32,
    properties: HashMap<String, OwnedVariant>,
    children: Vec<OwnedVariant>,
}

fn failed(e: impl std::fmt::Display) -> fdo::Error {
    fdo::Error::Failed(e.to_string())
}

fn owned(value: Variant<'_>) -> fdo::Result<OwnedVariant> {
    value.try_to_owned().map_err(failed)
}

/// An item's properties, limited to `names` when any are asked for.
fn properties(item: &MenuItem, names: &[String]) -> fdo::Result<HashMap<String, OwnedVariant>> {
    let mut all: Vec<(&str, Variant<'_>)> = Vec::new();
    if item.separator {
        all.push(("type", Variant::from("separator")));
    } else {
        all.push(("label", Variant::from(item.label.as_str())));
        all.push(("enabled", Variant::from(item.enabled)));
    }
    all.push(("visible", Variant::from(item.visible)));
    all.into_iter()
        .filter(|(name, _)| names.is_empty() || names.iter().any(|n| n == name))
        .map(|(name, value)| Ok((name.to_owned(), owned(value)?)))
        .collect()
}

fn root_properties(names: &[String]) -> fdo::Result<HashMap<String, OwnedVariant>> {
    let mut props = HashMap::new();
    if names.is_empty() || names.iter().any(|n| n == "children-display") {
        props.insert(
            "children-display".to_owned(),
            owned(Variant::from("submenu"))?,
        );
    }
    Ok(props)
}

fn child(item: &MenuItem, names: &[String]) -> fdo::Result<OwnedVariant> {
    let structure = StructureBuilder::new()
        .add_field(item.id)
        .add_field(properties(item, names)?)
        .add_field(Vec::<OwnedVariant>::new())
        .build()
        .map_err(failed)?;
    owned(Variant::from(structure))
}

struct Menu {
    view: SharedView,
    events: mpsc::UnboundedSender<UiEvent>,
}

impl Menu {
    fn items(&self) -> Vec<MenuItem> {
        shown(&self.view).view.menu()
    }

    fn clicked(&self, id: i32) -> bool {
        let event = match id {
            ids::OPEN => Some(UiEvent::Open),
            ids::SYNC => Some(UiEvent::SyncNow),
            ids::QUIT => Some(UiEvent::Quit),
            _ => None,
        };
        let known = id == 0 || self.items().iter().any(|i| i.id == id);
        let enabled = self
            .items()
            .iter()
            .any(|i| i.id == id && i.enabled && i.visible);
        if let Some(event) = event
            && enabled
        {
            let _ = self.events.send(event);
        }
        known
    }
}

#[zbus::interface(name = "com.canonical.dbusmenu")]
impl Menu {
    /// `(revision, layout)`: the root and its entries (the menu is one level deep).
    fn get_layout(
        &self,
        parent_id: i32,
        recursion_depth: i32,
        property_names: Vec<String>,
    ) -> fdo::Result<(u32, Layout)> {
        let revision = shown(&self.view).revision;
        let items = self.items();
        if parent_id == 0 {
            let children = if recursion_depth == 0 {
                Vec::new()
            } else {
                items
                    .iter()
                    .map(|i| child(i, &property_names))
                    .collect::<fdo::Result<Vec<_>>>()?
            };
            return Ok((
                revision,
                Layout {
                    id: 0,
                    properties: root_properties(&property_names)?,
                    children,
                },
            ));
        }
        let item = items
            .iter()
            .find(|i| i.id == parent_id)
            .ok_or_else(|| fdo::Error::InvalidArgs(format!("no menu item {parent_id}")))?;
        Ok((
            revision,
            Layout {
                id: item.id,
                properties: properties(item, &property_names)?,
                children: Vec::new(),
            },
        ))
    }

    fn get_group_properties(
        &self,
        ids: Vec<i32>,
        property_names: Vec<String>,
    ) -> fdo::Result<Vec<(i32, HashMap<String, OwnedVariant>)>> {
        let mut out = Vec::new();
        if ids.is_empty() || ids.contains(&0) {
            out.push((0, root_properties(&property_names)?));
        }
        for item in self.items() {
            if ids.is_empty() || ids.contains(&item.id) {
                out.push((item.id, properties(&item, &property_names)?));
            }
        }
        Ok(out)
    }

    fn get_property(&self, id: i32, name: String) -> fdo::Result<OwnedVariant> {
        let names = [name.clone()];
        let props = if id == 0 {
            root_properties(&names)?
        } else {
            let item = self
                .items()
                .into_iter()
                .find(|i| i.id == id)
                .ok_or_else(|| fdo::Error::InvalidArgs(format!("no menu item {id}")))?;
            properties(&item, &names)?
        };
        props
            .into_values()
            .next()
            .ok_or_else(|| fdo::Error::InvalidArgs(format!("no property {name}")))
    }

    fn event(
        &self,
        id: i32,
        event_id: String,
        _data: OwnedVariant,
        _timestamp: u32,
    ) -> fdo::Result<()> {
        let known = if event_id == "clicked" {
            self.clicked(id)
        } else {
            id == 0 || self.items().iter().any(|i| i.id == id)
        };
        if known {
            Ok(())
        } else {
            Err(fdo::Error::InvalidArgs(format!("no menu item {id}")))
        }
    }

    /// The ids not found.
    fn event_group(&self, events: Vec<(i32, String, OwnedVariant, u32)>) -> Vec<i32> {
        let mut not_found = Vec::new();
        for (id, event_id, _, _) in events {
            let known = if event_id == "clicked" {
                self.clicked(id)
            } else {
                id == 0 || self.items().iter().any(|i| i.id == id)
            };
            if !known {
                not_found.push(id);
            }
        }
        not_found
    }

    /// Nothing to update before showing: the menu is always current.
    fn about_to_show(&self, _id: i32) -> bool {
        false
    }

    /// `(ids to update, ids not found)`.
    fn about_to_show_group(&self, ids: Vec<i32>) -> (Vec<i32>, Vec<i32>) {
        let items = self.items();
        let not_found = ids
            .into_iter()
            .filter(|id| *id != 0 && !items.iter().any(|i| i.id == *id))
            .collect();
        (Vec::new(), not_found)
    }

    #[zbus(property)]
    fn version(&self) -> u32 {
        3
    }

    #[zbus(property)]
    fn text_direction(&self) -> &str {
        "ltr"
    }

    #[zbus(property)]
    fn status(&self) -> &str {
        "normal"
    }

    #[zbus(property)]
    fn icon_theme_path(&self) -> Vec<String> {
        Vec::new()
    }

    #[zbus(signal)]
    async fn layout_updated(
        emitter: &SignalEmitter<'_>,
        revision: u32,
        parent: i32,
    ) -> zbus::Result<()>;
}

/// The tray item, served.
pub struct Sni {
    conn: Connection,
    view: SharedView,
    name: String,
    watcher: JoinHandle<()>,
}

async fn register(conn: &Connection, name: &str) {
    let proxy = match StatusNotifierWatcherProxy::builder(conn)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
    {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "no StatusNotifierWatcher proxy");
            return;
        }
    };
    match proxy.register_status_notifier_item(name).await {
        Ok(()) => tracing::info!(name, "tray icon registered"),
        Err(e) => tracing::info!(
            error = %e,
            "no tray (StatusNotifierWatcher) on the bus yet: notifications still work, the icon shows when a tray starts"
        ),
    }
}

impl Sni {
    /// Serves the item and its menu on `conn` showing `view`, and registers it with the
    /// watcher now and whenever one appears. User actions go to `events`.
    pub async fn start(
        conn: &Connection,
        icons: Arc<Icons>,
        view: TrayView,
        events: mpsc::UnboundedSender<UiEvent>,
    ) -> Result<Self, TrayError> {
        let view = Arc::new(Mutex::new(Shown { view, revision: 1 }));
        let server = conn.object_server();
        server
            .at(
                ITEM_PATH,
                Item {
                    view: view.clone(),
                    icons,
                    events: events.clone(),
                },
            )
            .await?;
        server
            .at(
                MENU_PATH,
                Menu {
                    view: view.clone(),
                    events,
                },
            )
            .await?;
        let name = format!("org.kde.StatusNotifierItem-{}-1", std::process::id());
        conn.request_name(name.as_str()).await?;
        // Watch for watchers before the first registration, so none is missed between.
        let dbus = fdo::DBusProxy::new(conn).await?;
        let mut owners = dbus
            .receive_name_owner_changed_with_args(&[(0, WATCHER)])
            .await?;
        register(conn, &name).await;
        let watcher = {
            let conn = conn.clone();
            let name = name.clone();
            tokio::spawn(async move {
                use futures_util::StreamExt as _;
                while let Some(signal) = owners.next().await {
                    let appeared = signal
                        .args()
                        .map(|a| a.new_owner().is_some())
                        .unwrap_or(false);
                    if appeared {
                        register(&conn, &name).await;
                    }
                }
            })
        };
        Ok(Self {
            conn: conn.clone(),
            view,
            name,
            watcher,
        })
    }

    /// The item's bus name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Shows `view`, signalling what changed.
    pub async fn update(&self, view: TrayView) {
        let (old, revision) = {
            let mut shown = shown(&self.view);
            if shown.view == view {
                return;
            }
            let old = std::mem::replace(&mut shown.view, view.clone());
            if old.menu() != view.menu() {
                shown.revision = shown.revision.wrapping_add(1);
            }
            (old, shown.revision)
        };
        if let Err(e) = self.emit(&old, &view, revision).await {
            tracing::debug!(error = %e, "tray signals not sent");
        }
    }

    async fn emit(&self, old: &TrayView, new: &TrayView, revision: u32) -> zbus::Result<()> {
        let item = SignalEmitter::new(&self.conn, ITEM_PATH)?;
        if old.icon != new.icon {
            Item::new_icon(&item).await?;
        }
        if old.status() != new.status() {
            Item::new_status(&item, new.status()).await?;
        }
        if old.tooltip() != new.tooltip() {
            Item::new_tool_tip(&item).await?;
        }
        if old.menu() != new.menu() {
            let menu = SignalEmitter::new(&self.conn, MENU_PATH)?;
            Menu::layout_updated(&menu, revision, 0).await?;
        }
        Ok(())
    }

    /// Takes the item off the bus.
    pub async fn stop(self) {
        self.watcher.abort();
        let _ = self.conn.release_name(self.name.as_str()).await;
        let server = self.conn.object_server();
        let _ = server.remove::<Item, _>(ITEM_PATH).await;
        let _ = server.remove::<Menu, _>(MENU_PATH).await;
    }
}
