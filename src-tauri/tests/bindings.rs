//! The TypeScript bindings the UI uses (`ui/src/lib/bindings.ts`) are generated from the
//! Rust commands and events; this test fails when the committed file is stale. Run it
//! with `UPDATE_BINDINGS=1` to rewrite the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;

#[test]
fn the_committed_bindings_are_current() {
    let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(deskline_app::BINDINGS_PATH);
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("bindings.ts");
    deskline_app::export_bindings(&fresh).unwrap();
    let fresh_text = std::fs::read_to_string(&fresh).unwrap();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed, &fresh_text).unwrap();
        return;
    }
    let old = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        old == fresh_text,
        "{} is stale: run `UPDATE_BINDINGS=1 cargo test -p deskline-app --test bindings` \
         and commit the result",
        committed.display()
    );
}
