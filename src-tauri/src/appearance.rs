//! The system's light or dark preference, as the shell tells it to the web view. With the
//! web view's settings `main` gives WebKitGTK (no GPU device, so no EGL in this process),
//! WebKitGTK 2.50 no longer passes the GTK theme's darkness on to `prefers-color-scheme`.
//! The shell reads it from GTK the way WebKitGTK does (the dark preference in GTK's
//! settings, a `GTK_THEME` or theme name ending in `-dark`), hands it to every window in an
//! initialization script and sends [`AppEvent::SystemTheme`] when GTK's settings change.
//! The UI shows it unless the user chose a theme (`ui/src/lib/theme.ts`).

use crate::dto::AppEvent;
use std::sync::atomic::{AtomicBool, Ordering};
use tauri::{AppHandle, Runtime};

/// The global the page finds the preference in (`ui/src/main.ts` reads it).
pub const GLOBAL: &str = "__DESKLINE_SYSTEM_DARK__";

/// The preference last read from GTK (on its main thread), for windows made anywhere.
static DARK: AtomicBool = AtomicBool::new(false);

/// Whether GTK's settings ask for dark, by WebKitGTK's rules: the application's dark
/// preference, else `GTK_THEME` (when set, it decides), else the theme's name.
pub fn is_dark(prefer_dark: bool, gtk_theme_env: Option<&str>, theme_name: Option<&str>) -> bool {
    let dark_name = |n: &str| n.ends_with("-dark") || n.ends_with("-Dark");
    if prefer_dark {
        return true;
    }
    if let Some(env) = gtk_theme_env {
        return dark_name(env) || env.ends_with(":dark");
    }
    theme_name.is_some_and(dark_name)
}

/// The initialization script that gives a page the preference as it is now.
pub fn script() -> String {
    format!(
        "Object.defineProperty(window, '{GLOBAL}', {{ value: {}, writable: true, configurable: true }});",
        DARK.load(Ordering::Relaxed)
    )
}

/// Reads the preference from GTK and follows its changes; call once on the main thread,
/// before the first window is made.
#[cfg(target_os = "linux")]
pub fn follow<R: Runtime>(app: &AppHandle<R>) {
    use gtk::prelude::*;
    let Some(settings) = gtk::Settings::default() else {
        return;
    };
    fn read(settings: &gtk::Settings) -> bool {
        let env = std::env::var("GTK_THEME").ok();
        let name = settings.gtk_theme_name();
        is_dark(
            settings.is_gtk_application_prefer_dark_theme(),
            env.as_deref(),
            name.as_deref(),
        )
    }
    DARK.store(read(&settings), Ordering::Relaxed);
    let changed = {
        let app = app.clone();
        move |settings: &gtk::Settings| {
            let dark = read(settings);
            if DARK.swap(dark, Ordering::Relaxed) != dark {
                use tauri_specta::Event as _;
                let _ = AppEvent::SystemTheme { dark }.emit(&app);
            }
        }
    };
    settings.connect_gtk_theme_name_notify(changed.clone());
    settings.connect_gtk_application_prefer_dark_theme_notify(changed);
}

/// Elsewhere the web view follows the system itself.
#[cfg(not(target_os = "linux"))]
pub fn follow<R: Runtime>(_app: &AppHandle<R>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dark_by_webkitgtks_rules() {
        assert!(is_dark(true, None, Some("Adwaita")));
        assert!(is_dark(false, Some("Adwaita:dark"), Some("Adwaita")));
        assert!(is_dark(false, Some("Arc-Dark"), None));
        // GTK_THEME decides when set, whatever the theme's name.
        assert!(!is_dark(false, Some("Adwaita"), Some("Adwaita-dark")));
        assert!(is_dark(false, None, Some("Yaru-dark")));
        assert!(!is_dark(false, None, Some("Adwaita")));
        assert!(!is_dark(false, None, None));
    }

    #[test]
    fn the_script_sets_a_boolean() {
        DARK.store(true, Ordering::Relaxed);
        assert!(script().contains(&format!("'{GLOBAL}', {{ value: true")));
        DARK.store(false, Ordering::Relaxed);
        assert!(script().contains("value: false"));
    }
}
