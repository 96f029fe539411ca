//! Contract tests: the adapter against the sandbox XSP over real HTTP on loopback — every
//! service read, changed and read back, validation errors surfacing with the provider's
//! reason, partial PUT and nil rules, item resources, directories, call logs,
//! click-to-dial, soft clients over Digest, and the transport cases: redirect, TLS
//! verification, ISO-8859-1, timeouts, faults, refused plain HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::*;
use deskline_provider_xsi::{XsiConnector, XsiOptions};
use deskline_sandbox::{Charset, Faults, Sandbox, SandboxConfig};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEMO: &str = "demo@deskline.example";
const PASSWORD: &str = "Deskline-demo-1";

fn connect_with(
    sandbox: &Sandbox,
    options: XsiOptions,
    user: &str,
    password: &str,
) -> Arc<dyn Provider> {
    XsiConnector::new(options)
        .unwrap()
        .connect(
            &sandbox.base_url(),
            &UserId::parse(user).unwrap(),
            SecretString::from(password),
        )
        .unwrap()
}

fn connect(sandbox: &Sandbox) -> Arc<dyn Provider> {
    connect_with(sandbox, XsiOptions::default(), DEMO, PASSWORD)
}

async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.unwrap()
}

fn dest(s: &str) -> Destination {
    Destination::parse(s).unwrap()
}

#[tokio::test]
async fn sign_in_and_its_failures() {
    let sb = sandbox(SandboxConfig::default()).await;
    let profile = connect(&sb).sign_in().await.unwrap();
    assert_eq!(profile.display_name(), "Dana Demo");
    assert_eq!(profile.extension.as_deref(), Some("1000"));
    let alias = connect_with(
        &sb,
        XsiOptions::default(),
        "2145551000@deskline.example",
        PASSWORD,
    );
    assert_eq!(alias.sign_in().await.unwrap().user_id.as_str(), DEMO);
    let wrong = connect_with(&sb, XsiOptions::default(), DEMO, "nope");
    assert_eq!(wrong.sign_in().await, Err(ProviderError::Unauthorized));
    let locked = connect_with(
        &sb,
        XsiOptions::default(),
        "locked@deskline.example",
        "Locked-password-1",
    );
    assert!(
        matches!(locked.sign_in().await, Err(ProviderError::Forbidden { reason }) if reason.contains("locked"))
    );
}

#[tokio::test]
async fn every_service_reads_changes_and_reads_back() {
    let sb = sandbox(SandboxConfig::default()).await;
    let p = connect(&sb);
    let services = p.assigned_services().await.unwrap();
    assert_eq!(services.len(), SettingKey::ALL.len(), "{services:?}");

    let mut changed = Vec::new();
    for key in SettingKey::ALL {
        let current = p.setting(key).await.unwrap();
        assert_eq!(current.key(), key);
        let desired = match current.clone() {
            Setting::CallForwardingAlways(mut v) => {
                v.active = true;
                v.forward_to = Some(dest("2145550100"));
                v.ring_splash = true;
                Setting::CallForwardingAlways(v)
            }
            Setting::CallForwardingBusy(mut v) => {
                v.active = true;
                v.forward_to = Some(dest("sip:busy@example.com"));
                Setting::CallForwardingBusy(v)
            }
            Setting::CallForwardingNoAnswer(mut v) => {
                v.number_of_rings = RingCount::new(6).unwrap();
                Setting::CallForwardingNoAnswer(v)
            }
            Setting::CallForwardingNotReachable(mut v) => {
                v.active = true;
                v.forward_to = Some(dest("+44-2071234567"));
                Setting::CallForwardingNotReachable(v)
            }
            Setting::DoNotDisturb(mut v) => {
                v.active = true;
                Setting::DoNotDisturb(v)
            }
            Setting::AnonymousCallRejection(mut v) => {
                v.active = true;
                Setting::AnonymousCallRejection(v)
            }
            Setting::CallWaiting(mut v) => {
                v.active = false;
                Setting::CallWaiting(v)
            }
            Setting::CallingLineIdDeliveryBlocking(mut v) => {
                v.active = true;
                Setting::CallingLineIdDeliveryBlocking(v)
            }
            Setting::RemoteOffice(mut v) => {
                v.active = true;
                v.number = Some(dest("2145557777"));
                Setting::RemoteOffice(v)
            }
            Setting::SimultaneousRingPersonal(mut v) => {
                v.active = true;
                v.incoming_calls = SimRingIncomingCalls::RingForAllIncomingCalls;
                v.locations = vec![SimRingLocation {
                    address: dest("2145557001"),
                    answer_confirmation_required: true,
                }];
                Setting::SimultaneousRingPersonal(v)
            }
            Setting::SequentialRing(mut v) => {
                v.caller_may_stop_search = true;
                v.locations.insert(
                    "2".into(),
                    SequentialRingLocation {
                        address: dest("2145557002"),
                        number_of_rings: RingCount::new(4).unwrap(),
                        answer_confirmation_required: false,
                    },
                );
                Setting::SequentialRing(v)
            }
            Setting::SpeedDial8(mut v) => {
                v.entries.remove("2");
                v.entries.insert(
                    "9".into(),
                    SpeedDialEntry {
                        number: dest("2145550009"),
                        description: Some(Description::parse("Nine").unwrap()),
                    },
                );
                Setting::SpeedDial8(v)
            }
            Setting::SpeedDial100(mut v) => {
                v.entries.insert(
                    "10".into(),
                    SpeedDialEntry {
                        number: dest("2145550011"),
                        description: None,
                    },
                );
                v.entries.insert(
                    "42".into(),
                    SpeedDialEntry {
                        number: dest("2145550042"),
                        description: Some(Description::parse("Answer").unwrap()),
                    },
                );
                Setting::SpeedDial100(v)
            }
            Setting::CallNotify(mut v) => {
                v.email = None;
                v.criteria.insert("After hours".into(), true);
                Setting::CallNotify(v)
            }
            Setting::BroadWorksAnywhere(mut v) => {
                v.alert_all_locations_for_click_to_dial_calls = true;
                v.locations.get_mut("2145557000").unwrap().active = true;
                let phone = PhoneNumber::parse("2145557100").unwrap();
                v.locations.insert(
                    "2145557100".into(),
                    AnywhereLocation {
                        phone_number: phone,
                        country_code: Some("1".into()),
                        description: Some(Description::parse("Home").unwrap()),
                        active: false,
                    },
                );
                Setting::BroadWorksAnywhere(v)
            }
            Setting::PersonalDirectory(mut v) => {
                v.entries.remove("Bo Builder");
                v.entries
                    .insert("Dee / Tester + Co".into(), dest("2145552009"));
                v.entries.insert("Alex Example".into(), dest("2145552099"));
                Setting::PersonalDirectory(v)
            }
        };
        p.apply_setting(&current, &desired)
            .await
            .unwrap_or_else(|e| panic!("{key:?}: {e}"));
        let back = p.setting(key).await.unwrap();
        assert_eq!(back, desired, "{key:?}");
        changed.push(key);
        // Nothing to change sends nothing and succeeds.
        p.apply_setting(&back, &back).await.unwrap();
    }
    assert_eq!(changed.len(), 16);
}

#[tokio::test]
async fn partial_puts_leave_other_fields_and_nil_clears() {
    let sb = sandbox(SandboxConfig::default()).await;
    let p = connect(&sb);
    let Setting::CallForwardingNoAnswer(before) =
        p.setting(SettingKey::CallForwardingNoAnswer).await.unwrap()
    else {
        panic!()
    };
    // Someone else changes the rings between our read and our write…
    let mut theirs = before.clone();
    theirs.number_of_rings = RingCount::new(8).unwrap();
    p.apply_setting(
        &Setting::CallForwardingNoAnswer(before.clone()),
        &Setting::CallForwardingNoAnswer(theirs),
    )
    .await
    .unwrap();
    // …our write of another field (active) leaves their rings alone.
    let mut ours = before.clone();
    ours.active = true;
    p.apply_setting(
        &Setting::CallForwardingNoAnswer(before.clone()),
        &Setting::CallForwardingNoAnswer(ours),
    )
    .await
    .unwrap();
    let Setting::CallForwardingNoAnswer(now) =
        p.setting(SettingKey::CallForwardingNoAnswer).await.unwrap()
    else {
        panic!()
    };
    assert!(now.active);
    assert_eq!(
        now.number_of_rings.get(),
        8,
        "only the changed element was sent"
    );
    // Clearing the number (after turning it off) sends xsi:nil.
    let mut cleared = now.clone();
    cleared.active = false;
    cleared.forward_to = None;
    p.apply_setting(
        &Setting::CallForwardingNoAnswer(now),
        &Setting::CallForwardingNoAnswer(cleared.clone()),
    )
    .await
    .unwrap();
    assert_eq!(
        p.setting(SettingKey::CallForwardingNoAnswer).await.unwrap(),
        Setting::CallForwardingNoAnswer(cleared)
    );
}

#[tokio::test]
async fn validation_errors_carry_the_providers_reason() {
    let sb = sandbox(SandboxConfig::default()).await;
    let p = connect(&sb);
    let current = p.setting(SettingKey::CallForwardingAlways).await.unwrap();
    let bad = Setting::CallForwardingAlways(CallForwardingAlways {
        active: true,
        forward_to: Some(dest("+999-1234567")),
        ring_splash: false,
    });
    match p.apply_setting(&current, &bad).await {
        Err(ProviderError::Invalid { reason, code, .. }) => {
            assert!(reason.contains("country code"), "{reason}");
            assert_eq!(code, Some(4003));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        p.setting(SettingKey::CallForwardingAlways).await.unwrap(),
        current,
        "nothing changed"
    );
    // A duplicate Anywhere location: BroadWorks' 8251.
    let Setting::BroadWorksAnywhere(a) = p.setting(SettingKey::BroadWorksAnywhere).await.unwrap()
    else {
        panic!()
    };
    let mut without = a.clone();
    without.locations.clear();
    let err = p
        .apply_setting(
            &Setting::BroadWorksAnywhere(without),
            &Setting::BroadWorksAnywhere(a),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::Invalid {
                code: Some(8251),
                ..
            }
        ),
        "{err:?}"
    );
    // Bob has no Remote Office.
    let bob = connect_with(
        &sb,
        XsiOptions::default(),
        "bob@deskline.example",
        "Bob-password-1",
    );
    assert!(matches!(
        bob.setting(SettingKey::RemoteOffice).await,
        Err(ProviderError::NotFound { .. })
    ));
    let services = bob.assigned_services().await.unwrap();
    assert!(
        !services.contains(&SettingKey::RemoteOffice)
            && services.contains(&SettingKey::DoNotDisturb)
    );
}

#[tokio::test]
async fn soft_clients_with_sip_settings_from_device_management() {
    let sb = sandbox(SandboxConfig::default()).await;
    let provider = connect(&sb);
    let clients = provider.soft_clients().await.unwrap();
    // A second fetch answers the server's last Digest challenge up front.
    let again = provider.soft_clients().await.unwrap();
    assert_eq!(again.len(), clients.len());
    assert!(
        again
            .iter()
            .all(|c| c.sip.is_some() && c.sip_password.is_some())
    );
    let ports: Vec<&str> = clients.iter().map(|c| c.line_port.as_str()).collect();
    assert_eq!(
        ports,
        ["dana-mobile@deskline.example", "dana-pc@deskline.example"],
        "the desk phone is not a soft client"
    );
    let mobile = &clients[0];
    let sip = mobile.sip.as_ref().unwrap();
    assert_eq!(sip.aor.as_str(), "sip:dana-mobile@deskline.example");
    assert_eq!(sip.auth_user, "dana-mobile-auth");
    assert_eq!(sip.transport, Transport::Tcp);
    assert_eq!(sip.outbound_proxy.as_deref(), Some("127.0.0.1:5070"));
    use secrecy::ExposeSecret;
    assert_eq!(
        mobile.sip_password.as_ref().unwrap().expose_secret(),
        "Sip-secret-mob1"
    );
    assert_eq!(clients[1].endpoint_type, EndpointType::SharedCallAppearance);
}

#[tokio::test]
async fn directories_call_logs_and_dialling() {
    let sb = sandbox(SandboxConfig::default()).await;
    let p = connect(&sb);
    let q = |name: &str, start: u32, results: u32| DirectoryQuery {
        name: Some(name.into()),
        start,
        results,
        ..Default::default()
    };
    let page = p
        .search_directory(DirectoryScope::Enterprise, &q("", 1, 10))
        .await
        .unwrap();
    assert_eq!(page.contacts.len(), 10);
    assert!(page.total > 30, "{}", page.total);
    let second = p
        .search_directory(DirectoryScope::Enterprise, &q("", 11, 10))
        .await
        .unwrap();
    assert_ne!(page.contacts[0], second.contacts[0]);
    let found = p
        .search_directory(DirectoryScope::Enterprise, &q("MÜLL", 1, 10))
        .await
        .unwrap();
    assert_eq!(found.contacts[0].last_name, "Müller");
    let group = p
        .search_directory(DirectoryScope::Group, &q("", 1, 100))
        .await
        .unwrap();
    assert!(group.total < page.total && group.total > 5);
    let logs = p.call_logs().await.unwrap();
    assert_eq!(
        logs.iter()
            .filter(|l| l.kind == CallLogKind::Missed)
            .count(),
        4
    );
    p.delete_call_logs(Some(CallLogKind::Missed), Some("301:0"))
        .await
        .unwrap();
    assert_eq!(
        p.call_logs()
            .await
            .unwrap()
            .iter()
            .filter(|l| l.kind == CallLogKind::Missed)
            .count(),
        3
    );
    p.delete_call_logs(Some(CallLogKind::Missed), None)
        .await
        .unwrap();
    assert_eq!(
        p.call_logs()
            .await
            .unwrap()
            .iter()
            .filter(|l| l.kind == CallLogKind::Missed)
            .count(),
        0
    );
    let started = p
        .dial(&dest("tel:+1-2145552001"), Some("dana-pc@deskline.example"))
        .await
        .unwrap();
    assert!(started.call_id.starts_with("callhalf-"));
}

#[tokio::test]
async fn cluster_redirect_is_followed_with_credentials() {
    let sb = sandbox(SandboxConfig {
        redirect: true,
        ..Default::default()
    })
    .await;
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = raw
        .get(format!("{}user/{DEMO}/profile", sb.xsi_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302, "the cluster address redirects");
    assert_eq!(connect(&sb).profile().await.unwrap().first_name, "Dana");
    assert_eq!(
        connect(&sb).soft_clients().await.unwrap().len(),
        2,
        "device management too"
    );
}

#[tokio::test]
async fn tls_is_verified() {
    let sb = sandbox(SandboxConfig {
        tls: true,
        ..Default::default()
    })
    .await;
    assert_eq!(sb.base_url().scheme(), "https");
    let trusted = XsiOptions {
        extra_root_ca_pem: sb.ca_certificate_pem(),
        ..Default::default()
    };
    assert_eq!(
        connect_with(&sb, trusted, DEMO, PASSWORD)
            .profile()
            .await
            .unwrap()
            .last_name,
        "Demo"
    );
    let untrusted = connect_with(
        &sb,
        XsiOptions {
            retries: 0,
            ..Default::default()
        },
        DEMO,
        PASSWORD,
    );
    match untrusted.profile().await {
        Err(ProviderError::Tls { reason }) => {
            assert!(reason.contains("does not trust"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let other_ca = sandbox(SandboxConfig {
        tls: true,
        ..Default::default()
    })
    .await;
    let wrong = XsiOptions {
        extra_root_ca_pem: other_ca.ca_certificate_pem(),
        retries: 0,
        ..Default::default()
    };
    assert!(matches!(
        connect_with(&sb, wrong, DEMO, PASSWORD).profile().await,
        Err(ProviderError::Tls { .. })
    ));
}

#[tokio::test]
async fn iso_8859_1_answers_are_decoded() {
    let sb = sandbox(SandboxConfig {
        charset: Charset::Iso8859_1,
        ..Default::default()
    })
    .await;
    let raw = reqwest::Client::new()
        .get(format!(
            "{}user/{DEMO}/directories/Enterprise?lastName=M*/i",
            sb.xsi_url()
        ))
        .basic_auth(DEMO, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert!(
        raw.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("ISO-8859-1")
    );
    let bytes = raw.bytes().await.unwrap();
    assert!(
        bytes.windows(2).any(|w| w == [b'M', 0xFC]),
        "Müller in Latin-1 on the wire"
    );
    let page = connect(&sb)
        .search_directory(
            DirectoryScope::Enterprise,
            &DirectoryQuery {
                name: Some("müller".into()),
                start: 1,
                results: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.contacts[0].first_name, "Zoë");
}

#[tokio::test]
async fn stalls_time_out_and_transient_errors_are_retried() {
    let sb = sandbox(SandboxConfig::default()).await;
    sb.faults().set(Faults {
        stall_rate: 1.0,
        stall_ms: 5_000,
        ..Default::default()
    });
    let short = connect_with(
        &sb,
        XsiOptions {
            request_timeout: Duration::from_millis(300),
            retries: 0,
            ..Default::default()
        },
        DEMO,
        PASSWORD,
    );
    let start = Instant::now();
    assert!(
        matches!(short.profile().await, Err(ProviderError::Unavailable { reason }) if reason.contains("timed out"))
    );
    assert!(start.elapsed() < Duration::from_secs(3));
    // Half the requests fail with 503: reads get through on retries.
    sb.faults().set(Faults {
        error_rate: 0.5,
        seed: Some(7),
        ..Default::default()
    });
    let p = connect_with(
        &sb,
        XsiOptions {
            retries: 6,
            ..Default::default()
        },
        DEMO,
        PASSWORD,
    );
    for _ in 0..10 {
        p.setting(SettingKey::DoNotDisturb).await.unwrap();
    }
    // A POST is never retried: with every request failing it fails once, and nothing is
    // created.
    sb.faults().set(Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let before = sb.faults().get();
    assert_eq!(before.error_rate, 1.0);
    let err = p.dial(&dest("2145552001"), None).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    sb.faults().set(Faults::default());
    let stats = reqwest::get(format!("{}__sandbox/stats", sb.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    let requests_before = stats["requests"].as_u64().unwrap();
    sb.faults().set(Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let _ = p.dial(&dest("2145552001"), None).await;
    sb.faults().set(Faults::default());
    let stats = reqwest::get(format!("{}__sandbox/stats", sb.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(
        stats["requests"].as_u64().unwrap(),
        requests_before + 1,
        "exactly one POST was sent"
    );
}

#[test]
fn plain_http_to_another_host_is_refused_before_any_request() {
    let connector = XsiConnector::new(XsiOptions::default()).unwrap();
    let server = url::Url::parse("http://xsp.example.net/").unwrap();
    let err = connector
        .connect(
            &server,
            &UserId::parse(DEMO).unwrap(),
            SecretString::from("x"),
        )
        .err()
        .unwrap();
    assert!(
        matches!(err, ProviderError::BadAddress { reason } if reason.contains("https://xsp.example.net"))
    );
    let loopback = url::Url::parse("http://127.0.0.1:9/").unwrap();
    assert!(
        connector
            .connect(
                &loopback,
                &UserId::parse(DEMO).unwrap(),
                SecretString::from("x")
            )
            .is_ok()
    );
}
