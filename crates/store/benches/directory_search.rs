//! Search as you type over 50,000 directory entries, keystroke by keystroke, and the cache
//! reads behind `deskline status`. Besides criterion's estimates, prints the median and
//! p99 over 2,000 measured keystrokes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use deskline_core::*;
use deskline_store::SqliteStore;
use std::time::{Duration, Instant};

const FIRST: [&str; 20] = [
    "John", "Joanna", "Zoë", "José", "Ana", "Mark", "Marta", "Li", "Priya", "Olu", "Sven", "Chloé",
    "Omar", "Yuki", "Grace", "Pedro", "Ingrid", "Tomás", "Fatima", "Noah",
];
const LAST: [&str; 20] = [
    "Smith", "Müller", "Peña", "García", "Nguyen", "O'Brien", "Kowalski", "Rossi", "Tanaka",
    "Okafor", "Larsen", "Dubois", "Haddad", "Sato", "Hopper", "Silva", "Berg", "Núñez", "Khan",
    "Walker",
];

fn entries(n: usize) -> Vec<DirectoryIndexEntry> {
    (0..n)
        .map(|i| DirectoryIndexEntry {
            source: DirectorySource::Enterprise,
            name: format!(
                "{} {}{}",
                FIRST[i % 20],
                LAST[(i / 20) % 20],
                if i >= 400 {
                    format!(" {}", i / 400)
                } else {
                    String::new()
                }
            ),
            number: Some(format!("+1-214{:07}", 5_000_000 + i)),
            extension: Some(format!("{:05}", i % 100_000)),
            mobile: None,
            email: Some(format!("user{i}@example.com")),
            department: Some(["Sales", "Support", "Engineering", "Finance"][i % 4].into()),
            user_id: Some(format!("user{i}@example.com")),
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(SqliteStore::open(&dir.path().join("bench.sqlite3")))
        .unwrap();
    let account = AccountId("bench@example.com@xsp".into());
    rt.block_on(async {
        store
            .upsert_account(&Account {
                id: account.clone(),
                server: url::Url::parse("https://xsp.example.com/").unwrap(),
                user_id: UserId::parse("bench@example.com").unwrap(),
                sign_in_automatically: true,
                added_at: time::OffsetDateTime::now_utc(),
                last_sync_at: None,
            })
            .await
            .unwrap();
        store
            .replace_directory(&account, DirectorySource::Enterprise, &entries(50_000))
            .await
            .unwrap();
        for key in SettingKey::ALL {
            let value = match key {
                SettingKey::DoNotDisturb => Setting::DoNotDisturb(DoNotDisturb::default()),
                SettingKey::CallForwardingAlways => {
                    Setting::CallForwardingAlways(CallForwardingAlways::default())
                }
                _ => continue,
            };
            store
                .save_snapshot(&account, &value, time::OffsetDateTime::now_utc())
                .await
                .unwrap();
        }
    });
    let typed: Vec<String> = [
        "joh", "john s", "zoe m", "pena", "5001", "214500", "ana gar", "engin", "mül", "12",
    ]
    .iter()
    .flat_map(|word| {
        (1..=word.len())
            .filter(|n| word.is_char_boundary(*n))
            .map(move |n| word[..n].to_owned())
    })
    .collect();
    let mut i = 0;
    c.bench_function("directory search per keystroke (50,000 entries)", |b| {
        b.iter(|| {
            let text = &typed[i % typed.len()];
            i += 1;
            rt.block_on(store.search_directory(&account, text, 20))
                .unwrap()
        })
    });
    let mut samples: Vec<Duration> = (0..2000)
        .map(|n| {
            let text = &typed[n % typed.len()];
            let start = Instant::now();
            let _ = rt
                .block_on(store.search_directory(&account, text, 20))
                .unwrap();
            start.elapsed()
        })
        .collect();
    samples.sort();
    println!(
        "directory search per keystroke over 50,000 entries: median {:?}, p99 {:?}, max {:?}",
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
        samples[samples.len() - 1]
    );
    c.bench_function("status reads from the cache", |b| {
        b.iter(|| {
            rt.block_on(async {
                let _ = store.accounts().await.unwrap();
                let _ = store.profile(&account).await.unwrap();
                let _ = store.snapshots(&account).await.unwrap();
                let _ = store.edits(&account).await.unwrap();
                let _ = store.soft_clients(&account).await.unwrap();
            })
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
