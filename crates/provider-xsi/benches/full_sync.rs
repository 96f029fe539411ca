//! A full sync's reads at 50 ms added latency, as a multiple of that latency: concurrent on
//! warm connections, concurrent on cold connections (a new connector), and a naive
//! sequential client. Prints the multiples besides criterion's estimates.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use deskline_core::*;
use deskline_provider_xsi::{XsiConnector, XsiOptions};
use deskline_sandbox::{Faults, Sandbox, SandboxConfig};
use futures::future::join_all;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LATENCY_MS: u64 = 50;

async fn concurrent(p: &Arc<dyn Provider>) {
    let settings = join_all(SettingKey::ALL.iter().map(|k| p.setting(*k)));
    let (a, b, c, d, e, f) = tokio::join!(
        p.profile(),
        p.assigned_services(),
        p.soft_clients(),
        p.registrations(),
        p.call_logs(),
        settings
    );
    a.unwrap();
    b.unwrap();
    assert_eq!(c.unwrap().len(), 2);
    d.unwrap();
    e.unwrap();
    assert!(f.iter().all(Result::is_ok));
}

async fn sequential(p: &Arc<dyn Provider>) {
    p.profile().await.unwrap();
    p.assigned_services().await.unwrap();
    p.soft_clients().await.unwrap();
    p.registrations().await.unwrap();
    p.call_logs().await.unwrap();
    for k in SettingKey::ALL {
        p.setting(k).await.unwrap();
    }
}

fn provider(connector: &XsiConnector, sandbox: &Sandbox) -> Arc<dyn Provider> {
    connector
        .connect(
            &sandbox.base_url(),
            &UserId::parse("demo@deskline.example").unwrap(),
            SecretString::from("Deskline-demo-1"),
        )
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sandbox = rt
        .block_on(Sandbox::start(SandboxConfig::default()))
        .unwrap();
    sandbox.faults().set(Faults {
        latency_ms: LATENCY_MS,
        ..Default::default()
    });
    let connector = XsiConnector::new(XsiOptions::default()).unwrap();
    let warm = provider(&connector, &sandbox);
    rt.block_on(concurrent(&warm));
    let multiple = |d: Duration| d.as_secs_f64() * 1000.0 / LATENCY_MS as f64;
    let time = |f: &dyn Fn() -> Duration| {
        let mut v: Vec<Duration> = (0..10).map(|_| f()).collect();
        v.sort();
        v[v.len() / 2]
    };
    let warm_t = time(&|| {
        let s = Instant::now();
        rt.block_on(concurrent(&warm));
        s.elapsed()
    });
    let cold_t = time(&|| {
        let fresh = provider(&XsiConnector::new(XsiOptions::default()).unwrap(), &sandbox);
        let s = Instant::now();
        rt.block_on(concurrent(&fresh));
        s.elapsed()
    });
    let seq_t = time(&|| {
        let s = Instant::now();
        rt.block_on(sequential(&warm));
        s.elapsed()
    });
    println!(
        "full sync at {LATENCY_MS} ms latency (median of 10): concurrent warm {:.1}x, concurrent cold {:.1}x, sequential {:.1}x the latency",
        multiple(warm_t),
        multiple(cold_t),
        multiple(seq_t)
    );
    let mut group = c.benchmark_group("full sync at 50 ms latency");
    group.sample_size(10);
    group.bench_function("concurrent, warm connections", |b| {
        b.iter(|| rt.block_on(concurrent(&warm)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
