//! Reads the top-level `tauri.conf.json` (paths in it are relative to the repository root)
//! and declares the app's commands, so the capability file can allow exactly those.

fn main() {
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(&[
            "app_state",
            "sign_in",
            "try_demo",
            "sign_out",
            "account_status",
            "settings",
            "edit_setting",
            "resolve_conflict",
            "discard_change",
            "sync_now",
            "search_directory",
            "search_remote_directory",
            "call_history",
            "dial",
            "soft_clients",
            "registrations",
            "line_state",
            "set_preferences",
            "take_pending_dial",
            "system_dark",
            "decline_call",
            "open_main_window",
            "missed_calls_seen",
            "close_main_window",
        ]));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
