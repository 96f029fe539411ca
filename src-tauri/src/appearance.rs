//! The system's light or dark preference, as the shell tells it to the web view. With the
//! web view's settings `main` gives WebKitGTK (no GPU device, so no EGL in this process),
//! WebKitGTK 2.50 no longer passes the GTK theme's darkness on to `prefers-color-scheme`.
//! The shell reads it from GTK the way WebKitGTK does (the dark preference in GTK's
//! settings, a `GTK_THEME` or theme name ending in `-dark`), hands it to every window in an
//! initialization script and sends [`AppEvent::SystemTheme`] when GTK's settings change;
//! the page also asks for it once it listens (the `system_dark` command, [`is_dark_now`]).
//! The UI shows it unless the user chose a theme (`ui/src/lib/theme.ts`).
//!
//! GNOME (42 and later) and KDE say "dark" through the desktop portal's `color-scheme`
//! and keep a light GTK theme. Tauri's windowing (tao) reads the portal while it makes a
//! window and sets GTK's dark preference from it, and follows the portal's changes the
//! same way, but only after the first window's script was made. So `main` starts reading
//! the portal in the background ([`read_portal_in_background`]) and the first read of
//! the preference counts the portal's answer too.

use crate::dto::AppEvent;
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(target_os = "linux")]
use std::sync::{Mutex, OnceLock, mpsc};
#[cfg(target_os = "linux")]
use std::time::Duration;
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

/// What the portal's `color-scheme` says: 1 is "prefer dark", 2 "prefer light", anything
/// else no preference (`None`).
pub fn portal_prefers_dark(color_scheme: u32) -> Option<bool> {
    match color_scheme {
        1 => Some(true),
        2 => Some(false),
        _ => None,
    }
}

/// The answer of the background read of the portal (one value, taken once).
#[cfg(target_os = "linux")]
static PORTAL_ANSWER: OnceLock<Mutex<mpsc::Receiver<Option<bool>>>> = OnceLock::new();

/// Longest the read of the portal may take (a portal that is not running answers at once
/// with an error; one being started by D-Bus activation may not).
#[cfg(target_os = "linux")]
const PORTAL_READ_BUDGET: Duration = Duration::from_millis(500);

/// Longest the first read of the preference waits for the portal's answer (it is usually
/// in long before: `main` starts the read before GTK).
#[cfg(target_os = "linux")]
const PORTAL_WAIT: Duration = Duration::from_millis(50);

/// Starts reading the desktop portal's `color-scheme` on a thread of its own; call early
/// in `main`. The first read of the preference ([`follow`]) takes the answer.
#[cfg(target_os = "linux")]
pub fn read_portal_in_background() {
    let (answer, answered) = mpsc::channel();
    if PORTAL_ANSWER.set(Mutex::new(answered)).is_err() {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("deskline-portal".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let dark = runtime.ok().and_then(|rt| {
                rt.block_on(async {
                    match tokio::time::timeout(PORTAL_READ_BUDGET, portal::color_scheme()).await {
                        Ok(Ok(scheme)) => portal_prefers_dark(scheme),
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "no color scheme from the desktop portal");
                            None
                        }
                        Err(_) => {
                            tracing::debug!("the desktop portal did not answer in time");
                            None
                        }
                    }
                })
            });
            let _ = answer.send(dark);
        });
}

#[cfg(not(target_os = "linux"))]
pub fn read_portal_in_background() {}

/// The portal's answer, waiting at most `wait`; `None` when it has none, did not answer,
/// or was not asked (or its answer was taken already).
#[cfg(target_os = "linux")]
fn portal_answer(wait: Duration) -> Option<bool> {
    answer_in(PORTAL_ANSWER.get(), wait)
}

/// The answer in `slot` (the background read's), waiting at most `wait` for it.
#[cfg(target_os = "linux")]
fn answer_in(slot: Option<&Mutex<mpsc::Receiver<Option<bool>>>>, wait: Duration) -> Option<bool> {
    let answered = slot?.lock().ok()?;
    answered.recv_timeout(wait).ok().flatten()
}

/// The desktop portal's `org.freedesktop.portal.Settings`, over the session bus.
#[cfg(target_os = "linux")]
mod portal {
    use zbus::Variant;

    /// `Read("org.freedesktop.appearance", "color-scheme")`.
    pub async fn color_scheme() -> Result<u32, zbus::Error> {
        let connection = zbus::Connection::session().await?;
        let reply = connection
            .call_method(
                Some("org.freedesktop.portal.Desktop"),
                "/org/freedesktop/portal/desktop",
                Some("org.freedesktop.portal.Settings"),
                "Read",
                &("org.freedesktop.appearance", "color-scheme"),
            )
            .await?;
        let value: zbus::OwnedVariant = reply.body().deserialize()?;
        scheme_of(&value).ok_or_else(|| {
            zbus::Error::Failure(format!("the portal's color-scheme is no number: {value:?}"))
        })
    }

    /// The number in `Read`'s answer: a `u32` in a variant (some portals leave out the
    /// second variant `Read` is documented to add).
    pub fn scheme_of(value: &Variant<'_>) -> Option<u32> {
        match value {
            Variant::U32(n) => Some(*n),
            Variant::Variant(inner) => scheme_of(inner),
            _ => None,
        }
    }
}

/// The preference as last read, for a page that asks (`system_dark`).
pub fn is_dark_now() -> bool {
    DARK.load(Ordering::Relaxed)
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
    // Before tao has made a window, GTK does not know yet what the portal says.
    let portal_dark = portal_answer(PORTAL_WAIT) == Some(true);
    DARK.store(portal_dark || read(&settings), Ordering::Relaxed);
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
    fn the_portals_color_scheme() {
        assert_eq!(portal_prefers_dark(1), Some(true));
        assert_eq!(portal_prefers_dark(2), Some(false));
        assert_eq!(portal_prefers_dark(0), None);
        assert_eq!(portal_prefers_dark(7), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_number_in_the_portals_answer() {
        use zbus::Variant;
        let wrapped = Variant::Variant(Box::new(Variant::U32(1)));
        assert_eq!(portal::scheme_of(&wrapped), Some(1));
        assert_eq!(portal::scheme_of(&Variant::U32(2)), Some(2));
        assert_eq!(portal::scheme_of(&Variant::from("dark")), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_first_read_waits_for_the_portal_only_so_long() {
        use std::time::Instant;
        // Not asked (no background read started): no answer, no wait.
        assert_eq!(answer_in(None, Duration::from_secs(5)), None);

        // An answer in time is taken, once.
        let (answer, answered) = mpsc::channel();
        let slot = Mutex::new(answered);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let _ = answer.send(Some(true));
        });
        assert_eq!(answer_in(Some(&slot), Duration::from_secs(5)), Some(true));
        sender.join().unwrap();
        // The read's thread is gone: later reads return at once.
        let started = Instant::now();
        assert_eq!(answer_in(Some(&slot), Duration::from_secs(5)), None);
        assert!(started.elapsed() < Duration::from_secs(1));

        // An answer later than the wait is not waited for (GTK's rules decide).
        let (late, answered) = mpsc::channel::<Option<bool>>();
        let slot = Mutex::new(answered);
        let started = Instant::now();
        assert_eq!(answer_in(Some(&slot), Duration::from_millis(30)), None);
        assert!(started.elapsed() >= Duration::from_millis(30));
        drop(late);

        // The portal said nothing usable (an error, no setting): no answer.
        let (answer, answered) = mpsc::channel();
        answer.send(None).unwrap();
        assert_eq!(
            answer_in(Some(&Mutex::new(answered)), Duration::from_secs(5)),
            None
        );
    }

    #[test]
    fn the_script_sets_a_boolean() {
        DARK.store(true, Ordering::Relaxed);
        assert!(script().contains(&format!("'{GLOBAL}', {{ value: true")));
        DARK.store(false, Ordering::Relaxed);
        assert!(script().contains("value: false"));
    }
}
