//! The `deskline-app` binary: starts the desktop app (see the library's docs).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    deskline_app::mark_start();
    web_view_environment();
    // While GTK and the web view start, read the first screen from the cache.
    deskline_app::tray::first_screen::prefetch();
    // And what the desktop portal says of dark and light.
    deskline_app::appearance::read_portal_in_background();
    deskline_app::run();
}

/// WebKitGTK's settings that only its environment can give, for this process and the web
/// view's processes it starts (each only when not set already, so a user can still choose;
/// `DESKLINE_WEBKIT_DEFAULTS=1` leaves WebKit's defaults alone):
/// - `WEBKIT_DISABLE_COMPOSITING_MODE=1`: the page is painted on the CPU into the window,
///   without GL compositing. Measured under Xvfb (`cargo xtask bench-app`): the first paint
///   comes about twice as soon, and the web process needs ~75 MiB less (no GL surfaces and
///   tiles). The app's pages have no animation or video that compositing would help.
/// - `WEBKIT_DISABLE_DMABUF_RENDERER=1`: without compositing there is nothing to share
///   as DMA-BUF; WebKit then does not set up GBM and its buffers in this process (~4.5 MiB).
/// - `JSC_useJIT=0`: JavaScriptCore interprets instead of compiling: ~8 MiB less in the web
///   process, and no JIT threads competing with the first paint; the app's scripts are
///   small and mostly wait on the core.
/// - `WEBKIT_WEB_RENDER_DEVICE_FILE=/dev/null`: painting on the CPU, the web view needs no
///   GPU device. Without a name for one, WebKit starts EGL in this process only to look the
///   device up, which loads the GL driver (under Xvfb Mesa's llvmpipe and LLVM): ~25 MiB
///   here for nothing. `/dev/null` is no DRM device, so the web process has none either,
///   as on a machine without a GPU. (WebKitGTK then no longer tells the page the GTK
///   theme is dark: `appearance` does.)
///
/// Set before any other thread starts (the environment is not safe to change once threads
/// may read it).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn web_view_environment() {
    if std::env::var_os("DESKLINE_WEBKIT_DEFAULTS").is_some_and(|v| v == "1") {
        return;
    }
    for (name, value) in [
        ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
        ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
        ("JSC_useJIT", "0"),
        ("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/null"),
    ] {
        if std::env::var_os(name).is_none() {
            // SAFETY: the first thing `main` does, while this is the only thread.
            unsafe { std::env::set_var(name, value) };
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn web_view_environment() {}
