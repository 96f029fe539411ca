//! Printing: one JSON document (or object per line for streams) with `--json`, plain text
//! otherwise. Never prints a secret: nothing printed here holds one.

use serde::Serialize;
use std::io::Write;

/// Prints `value` as one line of JSON and flushes.
pub fn print_json<T: Serialize + ?Sized>(value: &T) {
    let mut out = std::io::stdout().lock();
    match serde_json::to_string(value) {
        Ok(text) => {
            let _ = writeln!(out, "{text}");
        }
        Err(e) => {
            let _ = writeln!(out, "{{\"type\":\"error\",\"message\":\"{e}\"}}");
        }
    }
    let _ = out.flush();
}

/// Prints a line of text and flushes.
pub fn line(text: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.as_ref());
    let _ = out.flush();
}

/// "on"/"off".
pub fn on_off(value: bool) -> &'static str {
    if value { "on" } else { "off" }
}
