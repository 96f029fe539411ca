//! Offline and faults: with the provider failing a third of requests, stalling and dropping
//! connections (some after the change took effect), many edits from several concurrent
//! clients of the same account all end on the provider exactly as intended — none lost,
//! none applied twice — and the same holds with `deskline sync` killed (SIGKILL) mid-way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_api::{Deskline, OpenOptions};
use deskline_core::session::Session;
use deskline_core::sync::{RetryPolicy, SyncEngine, SyncScope};
use deskline_core::*;
use deskline_e2e::cli::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const CLIENTS: usize = 4;
const EDITS_PER_CLIENT: usize = 250;

/// What one client intends, leaf by leaf.
#[derive(Default, Debug)]
struct Intended {
    speed_dial: BTreeMap<String, Option<String>>,
    directory: BTreeMap<String, Option<String>>,
    toggle: Option<bool>,
}

fn toggle_key(client: usize) -> SettingKey {
    [
        SettingKey::DoNotDisturb,
        SettingKey::CallWaiting,
        SettingKey::AnonymousCallRejection,
        SettingKey::CallingLineIdDeliveryBlocking,
    ][client % 4]
}

async fn open_client(sandbox: &Sandbox, dir: &std::path::Path) -> (Deskline, Arc<SyncEngine>) {
    // Short timeouts so stalls show up as timeouts quickly; the retry delay of queued edits
    // is longer than a stall, so a stalled request has landed (or died) before the same
    // setting is sent again.
    let connector = deskline_provider_xsi::XsiConnector::new(deskline_provider_xsi::XsiOptions {
        request_timeout: Duration::from_millis(700),
        connect_timeout: Duration::from_millis(700),
        ..Default::default()
    })
    .unwrap();
    let deskline = Deskline::open_with(
        OpenOptions {
            data_dir: Some(dir.to_path_buf()),
            extra_ca_pem: None,
        },
        Arc::new(connector),
    )
    .await
    .unwrap();
    let session: Session = deskline
        .accounts()
        .sign_in(
            sandbox.base_url().as_ref(),
            DEMO_USER,
            secrecy::SecretString::from(DEMO_PASSWORD),
            true,
        )
        .await
        .unwrap();
    session.engine.sync(SyncScope::Incremental).await.unwrap();
    drop(session);
    // A fresh session with a test retry policy (2–4 s: longer than a stall).
    let account = deskline.accounts().list().await.unwrap().remove(0);
    let resumed = deskline.accounts().resume(&account).await.unwrap();
    let engine = Arc::new(
        SyncEngine::new(
            account.id.clone(),
            resumed.engine.provider().clone(),
            deskline.store(),
            deskline.vault(),
        )
        .with_retry(RetryPolicy {
            min: Duration::from_secs(2),
            max: Duration::from_secs(4),
        }),
    );
    (deskline, engine)
}

async fn random_edits(client: usize, engine: Arc<SyncEngine>, seed: u64) -> Intended {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut intended = Intended::default();
    for _ in 0..EDITS_PER_CLIENT {
        match rng.random_range(0..3) {
            0 => {
                let code = (client * 10 + rng.random_range(0..5)).to_string();
                let remove = rng.random_bool(0.3);
                let number = format!("21455{:05}", rng.random_range(0..100_000));
                let current = engine
                    .setting(SettingKey::SpeedDial100)
                    .await
                    .unwrap()
                    .value;
                let Setting::SpeedDial100(mut sd) = current else {
                    panic!()
                };
                if remove {
                    if sd.entries.remove(&code).is_none() {
                        continue;
                    }
                    intended.speed_dial.insert(code, None);
                } else {
                    sd.entries.insert(
                        code.clone(),
                        SpeedDialEntry {
                            number: Destination::parse(&number).unwrap(),
                            description: None,
                        },
                    );
                    intended.speed_dial.insert(code, Some(number));
                }
                engine.edit(Setting::SpeedDial100(sd)).await.unwrap();
            }
            1 => {
                let name = format!("Client{client} Person{}", rng.random_range(0..5));
                let current = engine
                    .setting(SettingKey::PersonalDirectory)
                    .await
                    .unwrap()
                    .value;
                let Setting::PersonalDirectory(mut dir) = current else {
                    panic!()
                };
                if dir.entries.remove(&name).is_some() {
                    intended.directory.insert(name, None);
                } else {
                    let number = format!("21456{:05}", rng.random_range(0..100_000));
                    dir.entries
                        .insert(name.clone(), Destination::parse(&number).unwrap());
                    intended.directory.insert(name, Some(number));
                }
                engine.edit(Setting::PersonalDirectory(dir)).await.unwrap();
            }
            _ => {
                let key = toggle_key(client);
                let current = engine.setting(key).await.unwrap().value;
                let value = match current {
                    Setting::DoNotDisturb(mut v) => {
                        v.active = !v.active;
                        intended.toggle = Some(v.active);
                        Setting::DoNotDisturb(v)
                    }
                    Setting::CallWaiting(mut v) => {
                        v.active = !v.active;
                        intended.toggle = Some(v.active);
                        Setting::CallWaiting(v)
                    }
                    Setting::AnonymousCallRejection(mut v) => {
                        v.active = !v.active;
                        intended.toggle = Some(v.active);
                        Setting::AnonymousCallRejection(v)
                    }
                    Setting::CallingLineIdDeliveryBlocking(mut v) => {
                        v.active = !v.active;
                        intended.toggle = Some(v.active);
                        Setting::CallingLineIdDeliveryBlocking(v)
                    }
                    other => panic!("unexpected {other:?}"),
                };
                engine.edit(value).await.unwrap();
            }
        }
        // Send what is due; failures leave edits queued.
        let _ = tokio::time::timeout(Duration::from_secs(5), engine.flush(false)).await;
    }
    intended
}

async fn drain(engine: &SyncEngine) {
    for _ in 0..40 {
        let report = engine.flush(true).await.unwrap();
        if report.pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the outbox did not drain once the provider was healthy");
}

async fn check_provider(sandbox: &Sandbox, client: usize, intended: &Intended) {
    let speed = provider_get(sandbox, DEMO_USER, DEMO_PASSWORD, "services/SpeedDial100").await;
    for (code, number) in &intended.speed_dial {
        let entry = format!("<speedCode>{code}</speedCode>");
        match number {
            Some(n) => {
                let at = speed
                    .find(&entry)
                    .unwrap_or_else(|| panic!("code {code} missing: {speed}"));
                let rest = &speed[at..];
                let end = rest.find("</speedDial100Entry>").unwrap();
                assert!(
                    rest[..end].contains(n.as_str()),
                    "code {code} should be {n}: {speed}"
                );
            }
            None => assert!(
                !speed.contains(&entry),
                "code {code} should be gone: {speed}"
            ),
        }
    }
    let dir = provider_get(sandbox, DEMO_USER, DEMO_PASSWORD, "directories/Personal").await;
    for (name, number) in &intended.directory {
        let count = dir.matches(&format!("<name>{name}</name>")).count();
        match number {
            Some(n) => {
                assert_eq!(count, 1, "{name} exactly once: {dir}");
                assert!(dir.contains(n.as_str()), "{name} → {n}: {dir}");
            }
            None => assert_eq!(count, 0, "{name} removed: {dir}"),
        }
    }
    if let Some(active) = intended.toggle {
        let path = match toggle_key(client) {
            SettingKey::DoNotDisturb => "services/DoNotDisturb",
            SettingKey::CallWaiting => "services/CallWaiting",
            SettingKey::AnonymousCallRejection => "services/AnonymousCallRejection",
            _ => "services/CallingLineIDDeliveryBlocking",
        };
        let xml = provider_get(sandbox, DEMO_USER, DEMO_PASSWORD, path).await;
        assert_eq!(
            element(&xml, "active"),
            Some(active.to_string()),
            "{path}: {xml}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_edits_from_concurrent_clients_under_faults_land_exactly_once() {
    let sandbox = demo_sandbox().await;
    let dirs: Vec<tempfile::TempDir> = (0..CLIENTS).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut clients = Vec::new();
    for dir in &dirs {
        clients.push(open_client(&sandbox, dir.path()).await);
    }
    sandbox.faults().set(Faults {
        error_rate: 0.33,
        drop_rate: 0.1,
        stall_rate: 0.05,
        stall_ms: 1000,
        latency_ms: 2,
        seed: Some(4475),
    });
    let tasks: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, (_, engine))| tokio::spawn(random_edits(i, engine.clone(), 1000 + i as u64)))
        .collect();
    let mut intended = Vec::new();
    for task in tasks {
        intended.push(task.await.unwrap());
    }
    // Let any stalled request finish before healing, then drain every outbox.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    sandbox.faults().set(Faults::default());
    for (_, engine) in &clients {
        drain(engine).await;
    }
    for (deskline, engine) in &clients {
        let edits = deskline.store().edits(engine.account()).await.unwrap();
        assert!(
            edits.is_empty(),
            "no conflicts and no refusals between disjoint edits: {edits:?}"
        );
    }
    for (i, want) in intended.iter().enumerate() {
        check_provider(&sandbox, i, want).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_killed_mid_way_loses_nothing_and_applies_nothing_twice() {
    let sandbox = demo_sandbox().await;
    let client = Client::new();
    client
        .login(sandbox.base_url().as_ref(), DEMO_USER, DEMO_PASSWORD)
        .expect_code(0);
    // The provider is down: edits queue up.
    sandbox.faults().set(Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let mut rng = StdRng::seed_from_u64(7);
    let mut intended = Intended::default();
    for i in 0..12 {
        let code = (20 + i % 6).to_string();
        let number = format!("21457{:05}", rng.random_range(0..100_000));
        client
            .run(&["speed-dial-100", "set", &code, &number])
            .expect_code(0);
        intended.speed_dial.insert(code, Some(number));
        let name = format!("Killed Person{}", i % 4);
        let number = format!("21458{:05}", rng.random_range(0..100_000));
        let had = intended.directory.get(&name).cloned().flatten();
        if had.is_some() {
            client.run(&["directory", "rm", &name]).expect_code(0);
            intended.directory.insert(name, None);
        } else {
            client
                .run(&["directory", "add", &name, &number])
                .expect_code(0);
            intended.directory.insert(name, Some(number));
        }
    }
    let queued = client.json(&["changes"]);
    assert_eq!(
        queued.as_array().unwrap().len(),
        2,
        "one coalesced edit per setting: {queued}"
    );

    // The provider comes back slow and flaky; sync is killed mid-way, several times.
    sandbox.faults().set(Faults {
        latency_ms: 40,
        drop_rate: 0.2,
        seed: Some(99),
        ..Default::default()
    });
    for round in 0..6 {
        let mut child = client.command(&["sync"]).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(60 + 70 * round)).await;
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    sandbox.faults().set(Faults::default());
    client.run(&["sync"]).expect_code(0);
    let left = client.json(&["changes"]);
    assert!(
        left.as_array().unwrap().is_empty(),
        "everything delivered: {left}"
    );
    check_provider(&sandbox, 99, &intended).await;
}
