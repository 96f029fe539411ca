//! The `deskline-app` binary: starts the desktop app (see the library's docs).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    deskline_app::run();
}
