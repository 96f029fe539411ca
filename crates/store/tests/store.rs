//! The SQLite store on real files: accounts, snapshots and versions, the outbox's
//! coalescing and atomic completion, search as you type, caller lookup, removal, secrets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::*;
use deskline_store::SqliteStore;
use secrecy::SecretString;
use time::OffsetDateTime;

async fn open() -> (tempfile::TempDir, SqliteStore, AccountId) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("d/deskline.sqlite3"))
        .await
        .unwrap();
    let id = AccountId("jdoe@example.com@xsp.example.com".into());
    store
        .upsert_account(&Account {
            id: id.clone(),
            server: url::Url::parse("https://xsp.example.com/").unwrap(),
            user_id: UserId::parse("jdoe@example.com").unwrap(),
            sign_in_automatically: true,
            added_at: OffsetDateTime::now_utc(),
            last_sync_at: None,
        })
        .await
        .unwrap();
    (dir, store, id)
}

fn dnd(active: bool) -> Setting {
    Setting::DoNotDisturb(DoNotDisturb {
        active,
        ring_splash: false,
    })
}

fn entry(
    source: DirectorySource,
    name: &str,
    number: &str,
    ext: Option<&str>,
) -> DirectoryIndexEntry {
    DirectoryIndexEntry {
        source,
        name: name.into(),
        number: Some(number.into()),
        extension: ext.map(Into::into),
        mobile: None,
        email: Some(format!(
            "{}@example.com",
            name.split(' ').next().unwrap().to_lowercase()
        )),
        department: Some("Sales".into()),
        user_id: None,
    }
}

#[tokio::test]
async fn snapshot_versions_go_up_only_on_change_and_survive_reopening() {
    let (dir, store, id) = open().await;
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        store
            .save_snapshot(&id, &dnd(false), now)
            .await
            .unwrap()
            .version,
        1
    );
    assert_eq!(
        store
            .save_snapshot(&id, &dnd(false), now)
            .await
            .unwrap()
            .version,
        1
    );
    assert_eq!(
        store
            .save_snapshot(&id, &dnd(true), now)
            .await
            .unwrap()
            .version,
        2
    );
    drop(store);
    let store = SqliteStore::open(&dir.path().join("d/deskline.sqlite3"))
        .await
        .unwrap();
    let snap = store
        .snapshot(&id, SettingKey::DoNotDisturb)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((snap.value, snap.version), (dnd(true), 2));
    assert_eq!(store.accounts().await.unwrap().len(), 1);
    let wal = dir.path().join("d/deskline.sqlite3-wal");
    assert!(wal.exists(), "WAL mode");
}

#[tokio::test]
async fn edits_coalesce_per_setting_and_complete_atomically() {
    let (_dir, store, id) = open().await;
    let first = store
        .enqueue_edit(&id, &dnd(false), 1, &dnd(true))
        .await
        .unwrap();
    let mut e = first.clone();
    e.attempts = 3;
    e.next_attempt_at = Some(OffsetDateTime::now_utc());
    e.state = EditState::Pending {
        last_error: Some("down".into()),
    };
    store.update_edit(&e).await.unwrap();
    // A second change of the same setting: same edit, first base, new desired value,
    // retry schedule kept.
    let second = store
        .enqueue_edit(&id, &dnd(true), 2, &dnd(false))
        .await
        .unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.base, dnd(false));
    assert_eq!(second.base_version, 1);
    assert_eq!(second.desired, dnd(false));
    assert!(second.next_attempt_at.is_some());
    assert_eq!(second.state, EditState::Pending { last_error: None });
    let other = store
        .enqueue_edit(
            &id,
            &Setting::CallWaiting(Toggle { active: true }),
            1,
            &Setting::CallWaiting(Toggle { active: false }),
        )
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(store.edits(&id).await.unwrap().len(), 2);
    let snap = store
        .complete_edit(first.id, &id, &dnd(false), OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(snap.value, dnd(false));
    let left = store.edits(&id).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, other.id);
    assert!(
        store.update_edit(&second).await.is_err(),
        "a completed edit is gone"
    );
}

#[tokio::test]
async fn search_as_you_type() {
    let (_dir, store, id) = open().await;
    store
        .replace_directory(
            &id,
            DirectorySource::Enterprise,
            &[
                entry(
                    DirectorySource::Enterprise,
                    "Zoë Müller",
                    "+1-214-555-1234",
                    Some("1234"),
                ),
                entry(
                    DirectorySource::Enterprise,
                    "John Smith",
                    "2145559876",
                    Some("9876"),
                ),
                entry(
                    DirectorySource::Enterprise,
                    "Johanna Peña",
                    "2145550001",
                    Some("1201"),
                ),
            ],
        )
        .await
        .unwrap();
    store
        .replace_directory(
            &id,
            DirectorySource::Personal,
            &[entry(
                DirectorySource::Personal,
                "John Personal",
                "2145550777",
                None,
            )],
        )
        .await
        .unwrap();
    let names = |v: Vec<DirectoryIndexEntry>| v.into_iter().map(|e| e.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.search_directory(&id, "zoe", 10).await.unwrap()),
        ["Zoë Müller"]
    );
    assert_eq!(
        names(store.search_directory(&id, "mull", 10).await.unwrap()),
        ["Zoë Müller"]
    );
    assert_eq!(
        names(store.search_directory(&id, "pena", 10).await.unwrap()),
        ["Johanna Peña"]
    );
    assert_eq!(
        names(store.search_directory(&id, "jo", 10).await.unwrap()),
        ["John Personal", "Johanna Peña", "John Smith"],
        "prefix matches, personal first"
    );
    assert_eq!(
        names(store.search_directory(&id, "john smi", 10).await.unwrap()),
        ["John Smith"]
    );
    assert_eq!(
        names(store.search_directory(&id, "5551", 10).await.unwrap()),
        ["Zoë Müller"]
    );
    assert_eq!(
        names(store.search_directory(&id, "555-98", 10).await.unwrap()),
        ["John Smith"]
    );
    assert_eq!(
        names(store.search_directory(&id, "12", 10).await.unwrap()),
        ["Johanna Peña", "Zoë Müller"]
    );
    assert_eq!(
        names(store.search_directory(&id, "sales zoe", 10).await.unwrap()),
        ["Zoë Müller"]
    );
    for hostile in [
        "\"",
        "*",
        "AND",
        "-",
        "NEAR(",
        "john\" OR \"x",
        "😀",
        "",
        "   ",
        ":",
        "^a",
        &"a".repeat(10_000),
    ] {
        let result = store.search_directory(&id, hostile, 10).await;
        assert!(result.is_ok(), "{hostile:?}: {result:?}");
    }
    assert!(
        store
            .search_directory(&id, "AND", 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Replacing a source replaces only it.
    store
        .replace_directory(&id, DirectorySource::Enterprise, &[])
        .await
        .unwrap();
    assert_eq!(
        names(store.search_directory(&id, "jo", 10).await.unwrap()),
        ["John Personal"]
    );
}

#[tokio::test]
async fn caller_lookup_by_digits() {
    let (_dir, store, id) = open().await;
    store
        .replace_directory(
            &id,
            DirectorySource::Group,
            &[entry(
                DirectorySource::Group,
                "Alex Example",
                "2145552001",
                Some("2001"),
            )],
        )
        .await
        .unwrap();
    for number in [
        "2145552001",
        "+12145552001",
        "+1-214-555-2001",
        "sip:+12145552001@x",
    ] {
        let found = store.lookup_number(&id, number).await.unwrap();
        assert_eq!(
            found.map(|e| e.name).as_deref(),
            Some("Alex Example"),
            "{number}"
        );
    }
    assert!(
        store
            .lookup_number(&id, "2145552002")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store.lookup_number(&id, "5552001").await.unwrap().is_none(),
        "a partial number is not a match"
    );
}

#[tokio::test]
async fn removing_an_account_removes_every_row() {
    let (dir, store, id) = open().await;
    let now = OffsetDateTime::now_utc();
    store.save_snapshot(&id, &dnd(true), now).await.unwrap();
    store
        .enqueue_edit(&id, &dnd(true), 1, &dnd(false))
        .await
        .unwrap();
    store
        .replace_directory(
            &id,
            DirectorySource::Group,
            &[entry(DirectorySource::Group, "Alex", "2001", None)],
        )
        .await
        .unwrap();
    store
        .record_call(
            &id,
            &CallRecord {
                id: "c1".into(),
                line: "sip:a@b".into(),
                direction: CallDirection::Incoming,
                number: "2001".into(),
                name: None,
                started_at: now,
                ended_at: None,
                outcome: CallOutcome::Missed,
                suppressed_by_dnd: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(store.call_history(&id, 10).await.unwrap().len(), 1);
    assert_eq!(store.missed_seen_at(&id).await.unwrap(), None);
    store.mark_missed_seen(&id, now).await.unwrap();
    let later = now + time::Duration::seconds(5);
    store.mark_missed_seen(&id, later).await.unwrap();
    assert_eq!(store.missed_seen_at(&id).await.unwrap(), Some(later));
    store.remove_account(&id).await.unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("d/deskline.sqlite3")).unwrap();
    for table in [
        "accounts",
        "snapshots",
        "outbox",
        "directory",
        "call_history",
        "missed_seen",
        "directory_words",
        "directory_digits",
    ] {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
}

#[tokio::test]
async fn a_sip_password_never_reaches_the_file() {
    let (dir, store, id) = open().await;
    let client = SoftClient {
        device_name: "pc".into(),
        device_type: "Business Communicator - PC".into(),
        endpoint_type: EndpointType::SharedCallAppearance,
        line_port: "pc@example.com".into(),
        sip: None,
        sip_password: Some(SecretString::from("Very-Secret-Sip-9")),
    };
    store.save_soft_clients(&id, &[client]).await.unwrap();
    assert_eq!(
        store.soft_clients(&id).await.unwrap()[0].line_port,
        "pc@example.com"
    );
    drop(store);
    for name in ["deskline.sqlite3", "deskline.sqlite3-wal"] {
        let path = dir.path().join("d").join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !bytes.windows(17).any(|w| w == b"Very-Secret-Sip-9"),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn bad_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-db.sqlite3");
    std::fs::write(
        &path,
        b"this is not a database, and it is longer than a header would be....",
    )
    .unwrap();
    let err = SqliteStore::open(&path).await.err().unwrap();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(std::fs::read(&path).unwrap().starts_with(b"this is not"));
    let newer = dir.path().join("newer.sqlite3");
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.execute_batch("PRAGMA user_version = 999;").unwrap();
    drop(conn);
    assert_eq!(
        SqliteStore::open(&newer).await.err(),
        Some(StoreError::TooNew)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn many_concurrent_callers() {
    let (_dir, store, id) = open().await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                let v = Setting::SpeedDial8(SpeedDial8::default());
                store
                    .save_snapshot(&id, &v, OffsetDateTime::now_utc())
                    .await
                    .unwrap();
                store
                    .save_snapshot(&id, &dnd(i % 2 == 0), OffsetDateTime::now_utc())
                    .await
                    .unwrap();
                store.snapshots(&id).await.unwrap().len()
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 2);
    }
}
