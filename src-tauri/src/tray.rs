//! The tray icon and its menu (line state, Do Not Disturb, forwarding, missed calls, sync,
//! quit), and the main window's life: created on demand, destroyed when closed (the web
//! view's memory is released; the core keeps running in the tray). The first main window
//! shows the [`first_screen`] read from the cache at start at once.

pub mod first_screen;

use crate::dto::{AppEvent, Registering, SipMode};
use crate::state::Shell;
use deskline_core::{Setting, SettingKey};
use std::sync::Arc;
use std::time::Duration;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder, Wry};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_specta::Event as _;

/// Label of the main window.
pub const MAIN_WINDOW: &str = "main";

const ICON_IDLE: &[u8] = include_bytes!("../../icons/tray/idle.png");
const ICON_OK: &[u8] = include_bytes!("../../icons/tray/ok.png");
const ICON_FAILED: &[u8] = include_bytes!("../../icons/tray/failed.png");
const ICON_ALERT: &[u8] = include_bytes!("../../icons/tray/alert.png");

/// The tray's live parts, managed by Tauri.
pub struct Tray {
    icon: TrayIcon<Wry>,
    account: MenuItem<Wry>,
    line: MenuItem<Wry>,
    dnd: CheckMenuItem<Wry>,
    forwarding: MenuItem<Wry>,
    missed: MenuItem<Wry>,
}

/// Builds the tray icon and menu.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Deskline", true, None::<&str>)?;
    let account = MenuItem::with_id(app, "account", "Not signed in", false, None::<&str>)?;
    let line = MenuItem::with_id(app, "line", "Line: not connected", false, None::<&str>)?;
    let dnd = CheckMenuItem::with_id(app, "dnd", "Do Not Disturb", false, false, None::<&str>)?;
    let forwarding = MenuItem::with_id(app, "forwarding", "Forwarding: off", false, None::<&str>)?;
    let missed = MenuItem::with_id(app, "missed", "No missed calls", false, None::<&str>)?;
    let sync = MenuItem::with_id(app, "sync", "Sync now", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Deskline", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &open,
            &PredefinedMenuItem::separator(app)?,
            &account,
            &line,
            &PredefinedMenuItem::separator(app)?,
            &dnd,
            &forwarding,
            &missed,
            &PredefinedMenuItem::separator(app)?,
            &sync,
            &quit,
        ],
    )?;
    let icon = TrayIconBuilder::with_id("deskline")
        .icon(Image::from_bytes(ICON_IDLE)?)
        .tooltip("Deskline")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_main(tray.app_handle(), None);
            }
        })
        .build(app)?;
    app.manage(Tray {
        icon,
        account,
        line,
        dnd,
        forwarding,
        missed,
    });
    Ok(())
}

fn on_menu(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        "open" => show_main(app, None),
        "forwarding" => show_main(app, Some("forwarding")),
        "missed" => show_main(app, Some("history")),
        "dnd" => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move { toggle_dnd(&app).await });
        }
        "sync" => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let shell = app.state::<Arc<Shell>>().inner().clone();
                if let Ok((session, _)) = shell.session().await {
                    let _ = session
                        .engine
                        .sync(deskline_core::sync::SyncScope::Incremental)
                        .await;
                }
            });
        }
        "quit" => quit(app),
        _ => {}
    }
}

async fn toggle_dnd(app: &AppHandle) {
    let shell = app.state::<Arc<Shell>>().inner().clone();
    let Ok((session, _)) = shell.session().await else {
        return;
    };
    let edited = session
        .engine
        .update(SettingKey::DoNotDisturb, |s| {
            if let Setting::DoNotDisturb(d) = s {
                d.active = !d.active;
            }
            Ok(())
        })
        .await;
    if let Err(e) = edited {
        tracing::warn!(error = %e, "Do Not Disturb could not be changed from the tray");
    }
    let _ = session.engine.flush(false).await;
    refresh(app).await;
}

/// Unregisters the lines, stops the demo and quits.
pub fn quit(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Arc<Shell>>().inner().clone();
        shell.stop_running().await;
        app.exit(0);
    });
}

/// Shows (creating it if needed) the main window, on `page` when given.
pub fn show_main<R: Runtime>(app: &AppHandle<R>, page: Option<&str>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        if let Some(page) = page {
            let _ = AppEvent::Navigate { page: page.into() }.emit(app);
        }
        return;
    }
    let url = match page {
        Some(p) => format!("index.html#{p}"),
        None => "index.html".into(),
    };
    let mut builder = WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App(url.into()))
        .title("Deskline")
        .inner_size(1040.0, 720.0)
        .min_inner_size(560.0, 480.0)
        // Shown once its page has loaded (below). A window shown before makes WebKitGTK
        // wait, on the main thread, up to 500 ms for a first frame that needs that thread
        // to serve the page's files: half of the starts under load then painted ~0.5 s late.
        .visible(false)
        .on_page_load(|window, payload| {
            if matches!(payload.event(), PageLoadEvent::Finished) {
                reveal(&window);
            }
        });
    builder = builder.initialization_script(crate::appearance::script());
    if let Some(script) = first_screen_script(app) {
        builder = builder.initialization_script(&script);
    }
    match builder.build() {
        Ok(_) => {
            // Shown anyway if the page never says it has loaded.
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(REVEAL_AT_THE_LATEST).await;
                if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
                    reveal(&window);
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "main window could not open"),
    }
}

/// Longest a new main window stays hidden waiting for its page.
const REVEAL_AT_THE_LATEST: Duration = Duration::from_secs(2);

/// Shows a main window made hidden (a shown one is left as it is).
fn reveal<R: Runtime>(window: &tauri::WebviewWindow<R>) {
    if let Ok(false) = window.is_visible() {
        let _ = window.show();
        let _ = window.set_focus();
        tracing::debug!(ms = crate::since_start_ms(), "start-up: main window shown");
    }
}

/// Longest the first main window waits for the cache's first screen (read since `main`
/// began, usually done by the time the window is made).
const FIRST_SCREEN_WAIT: Duration = Duration::from_millis(100);

/// The script that hands the page the first screen read from the cache, for the first
/// main window of this start (later windows load the running shell's state at once).
fn first_screen_script<R: Runtime>(app: &AppHandle<R>) -> Option<String> {
    let config_dir = app.path().app_config_dir().ok();
    let mut screen = first_screen::take(FIRST_SCREEN_WAIT, config_dir.as_deref())?;
    screen.state.preferences.start_at_login = app.autolaunch().is_enabled().unwrap_or(false);
    first_screen::script(&screen)
}

/// Brings the tray up to date with the account, the line and the missed calls.
pub async fn refresh(app: &AppHandle) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let shell = app.state::<Arc<Shell>>().inner().clone();
    let line = shell.line_state();
    let status = match shell.is_signed_in().await {
        true => match shell.session_now().await {
            Ok((session, deskline)) => deskline
                .account_status(&session.account.id)
                .await
                .ok()
                .flatten(),
            Err(_) => None,
        },
        false => None,
    };
    let mut tooltip = vec!["Deskline".to_owned()];
    match &status {
        Some(s) => {
            let who = match (&s.name, &s.number) {
                (Some(n), Some(num)) => format!("{n} · {num}"),
                (Some(n), None) => n.clone(),
                _ => s.user_id.clone(),
            };
            let _ = tray.account.set_text(&who);
            tooltip.push(who);
            let dnd = s.do_not_disturb.unwrap_or(false);
            let _ = tray.dnd.set_enabled(s.do_not_disturb.is_some());
            let _ = tray.dnd.set_checked(dnd);
            if dnd {
                tooltip.push("Do Not Disturb".into());
            }
            let forward = s
                .forwarding
                .iter()
                .find(|f| f.kind == "always" && f.active)
                .and_then(|f| f.to.clone());
            let text = match &forward {
                Some(to) => format!("Forwarding all calls to {to}"),
                None => "Forwarding: off".into(),
            };
            let _ = tray.forwarding.set_text(&text);
            let _ = tray.forwarding.set_enabled(true);
            if forward.is_some() {
                tooltip.push(text);
            }
        }
        None => {
            let _ = tray.account.set_text("Not signed in");
            let _ = tray.dnd.set_enabled(false);
            let _ = tray.dnd.set_checked(false);
            let _ = tray.forwarding.set_enabled(false);
        }
    }
    let line_text = match line.sip {
        SipMode::Off => "Line: not connected".to_owned(),
        SipMode::Demo => "Line: demo (no calls)".to_owned(),
        SipMode::On => {
            let up = line
                .lines
                .iter()
                .filter(|l| l.state == Registering::Registered)
                .count();
            format!("Line: {up} of {} connected", line.lines.len())
        }
    };
    let _ = tray.line.set_text(&line_text);
    tooltip.push(line_text);
    let missed = match line.missed {
        0 => "No missed calls".to_owned(),
        1 => "1 missed call".to_owned(),
        n => format!("{n} missed calls"),
    };
    let _ = tray.missed.set_text(&missed);
    let _ = tray.missed.set_enabled(status.is_some());
    if line.missed > 0 {
        tooltip.push(missed);
    }
    let failed =
        line.sip == SipMode::On && line.lines.iter().any(|l| l.state == Registering::Failed);
    let icon = if line.missed > 0 || !line.ringing.is_empty() {
        ICON_ALERT
    } else if status.is_none() {
        ICON_IDLE
    } else if failed {
        ICON_FAILED
    } else {
        ICON_OK
    };
    if let Ok(image) = Image::from_bytes(icon) {
        let _ = tray.icon.set_icon(Some(image));
    }
    let _ = tray.icon.set_tooltip(Some(tooltip.join("\n")));
}
