//! `CachedView` on real SQLite files: it answers what the live calls answer from the same
//! cache, pending edits included, and never creates a cache that is not there.
#![allow(clippy::unwrap_used)]

use deskline_api::OpenOptions;
use deskline_api::cached::CachedView;
use deskline_api::demo::{DEMO_USER, open_demo};
use deskline_core::sync::SettingStatus;
use deskline_core::{Setting, SettingKey};

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_directory_without_a_cache_has_none_and_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        CachedView::open_existing(dir.path())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        CachedView::open_existing(&dir.path().join("missing"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_as_the_live_calls_do_with_a_pending_edit() {
    let dir = tempfile::tempdir().unwrap();
    let (deskline, demo, session) = open_demo(OpenOptions {
        data_dir: Some(dir.path().to_path_buf()),
        extra_ca_pem: None,
    })
    .await
    .unwrap();
    // The provider goes away, then the user turns DND over: the edit waits in the outbox.
    demo.shutdown().await;
    let before = session
        .engine
        .setting(SettingKey::DoNotDisturb)
        .await
        .unwrap();
    let Setting::DoNotDisturb(dnd) = before.value.clone() else {
        panic!("not DND: {before:?}");
    };
    session
        .engine
        .update(SettingKey::DoNotDisturb, |s| {
            if let Setting::DoNotDisturb(d) = s {
                d.active = !dnd.active;
            }
            Ok(())
        })
        .await
        .unwrap();
    let account = session.account.id.clone();
    let want_settings = session.engine.settings().await.unwrap();
    let want_status = deskline.account_status(&account).await.unwrap().unwrap();
    let store = deskline.store();
    let want_logs = store.call_logs(&account).await.unwrap();
    let want_calls = store.call_history(&account, 200).await.unwrap();

    let cache = CachedView::open_existing(dir.path())
        .await
        .unwrap()
        .unwrap();
    let resumed = cache.account_to_resume(true).await.unwrap().unwrap();
    assert_eq!(resumed.id, account);
    assert_eq!(resumed.user_id.as_str(), DEMO_USER);
    assert_eq!(
        json(&cache.accounts().await.unwrap())
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let settings = cache.settings(&account).await.unwrap();
    assert_eq!(json(&settings), json(&want_settings));
    let shown = settings
        .iter()
        .find(|v| v.key == SettingKey::DoNotDisturb)
        .unwrap();
    assert!(
        matches!(shown.status, SettingStatus::Pending { .. }),
        "{shown:?}"
    );
    assert_eq!(
        shown.value,
        Setting::DoNotDisturb(deskline_core::DoNotDisturb {
            active: !dnd.active,
            ..dnd.clone()
        })
    );
    let status = cache.account_status(&account).await.unwrap().unwrap();
    assert_eq!(json(&status), json(&want_status));
    assert_eq!(status.pending_changes, 1);
    assert!(status.last_sync_at.is_some());
    assert_eq!(
        json(&cache.call_logs(&account).await.unwrap()),
        json(&want_logs)
    );
    assert_eq!(
        json(&cache.call_history(&account, 200).await.unwrap()),
        json(&want_calls)
    );
    // An account id the cache does not know.
    let other = deskline_core::AccountId("nobody".into());
    assert!(cache.account_status(&other).await.unwrap().is_none());
}
