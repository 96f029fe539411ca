//! The real `deskline` binary against the sandbox provider over HTTP: sign in, sync, change
//! every setting and read it back from the provider itself, click-to-dial, sign out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_e2e::cli::*;

fn server(sandbox: &Sandbox) -> String {
    sandbox.base_url().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_sync_change_every_setting_read_back_and_sign_out() {
    let sandbox = demo_sandbox().await;
    let client = Client::new();
    let login = client
        .login(&server(&sandbox), DEMO_USER, DEMO_PASSWORD)
        .expect_code(0);
    assert!(
        login.stdout.contains("Signed in as Dana Demo"),
        "{}",
        login.stdout
    );

    let status = client.json(&["status"]);
    let account = &status["accounts"][0];
    assert_eq!(account["user_id"], DEMO_USER);
    assert_eq!(account["name"], "Dana Demo");
    assert_eq!(account["number"], "2145551000");
    assert_eq!(account["extension"], "1000");
    let soft: Vec<String> = account["soft_clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["line_port"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        soft,
        vec!["dana-mobile@deskline.example", "dana-pc@deskline.example"],
        "only the soft clients, not the desk phone"
    );
    let devices = client.json(&["devices"]);
    let pc = devices["soft_clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["line_port"] == "dana-pc@deskline.example")
        .unwrap()
        .clone();
    assert_eq!(pc["sip"]["aor"], "sip:dana-pc@deskline.example");
    assert_eq!(pc["sip"]["auth_user"], "dana-pc-auth");
    assert_eq!(pc["sip"]["registrar"], "127.0.0.1:5070");
    assert_eq!(pc["sip"]["transport"], "udp");

    let get = |path: &'static str| provider_get(&sandbox, DEMO_USER, DEMO_PASSWORD, path);

    // Forwarding of every kind.
    client
        .run(&["forward", "always", "--to", "2145550100"])
        .expect_code(0);
    let xml = get("services/CallForwardingAlways").await;
    assert_eq!(element(&xml, "active").as_deref(), Some("true"), "{xml}");
    assert_eq!(
        element(&xml, "forwardToPhoneNumber").as_deref(),
        Some("2145550100"),
        "{xml}"
    );
    client.run(&["forward", "always", "--off"]).expect_code(0);
    let xml = get("services/CallForwardingAlways").await;
    assert_eq!(element(&xml, "active").as_deref(), Some("false"), "{xml}");
    assert_eq!(
        element(&xml, "forwardToPhoneNumber").as_deref(),
        Some("2145550100"),
        "the number is kept: {xml}"
    );
    client
        .run(&["forward", "busy", "--to", "1002"])
        .expect_code(0);
    let xml = get("services/CallForwardingBusy").await;
    assert_eq!(
        element(&xml, "forwardToPhoneNumber").as_deref(),
        Some("1002"),
        "{xml}"
    );
    client
        .run(&["forward", "no-answer", "--on", "--rings", "5"])
        .expect_code(0);
    let xml = get("services/CallForwardingNoAnswer").await;
    assert_eq!(
        element(&xml, "numberOfRings").as_deref(),
        Some("5"),
        "{xml}"
    );
    assert_eq!(element(&xml, "active").as_deref(), Some("true"), "{xml}");
    client
        .run(&["forward", "not-reachable", "--to", "2145550177"])
        .expect_code(0);
    let xml = get("services/CallForwardingNotReachable").await;
    assert_eq!(element(&xml, "active").as_deref(), Some("true"), "{xml}");
    client
        .run(&["forward", "not-reachable", "--off", "--clear"])
        .expect_code(0);
    let xml = get("services/CallForwardingNotReachable").await;
    assert_eq!(element(&xml, "active").as_deref(), Some("false"), "{xml}");
    assert_eq!(
        element(&xml, "forwardToPhoneNumber"),
        None,
        "cleared with xsi:nil: {xml}"
    );

    // On/off services.
    client.run(&["dnd", "on"]).expect_code(0);
    assert_eq!(
        element(&get("services/DoNotDisturb").await, "active").as_deref(),
        Some("true")
    );
    client.run(&["anonymous-rejection", "on"]).expect_code(0);
    assert_eq!(
        element(&get("services/AnonymousCallRejection").await, "active").as_deref(),
        Some("true")
    );
    client.run(&["call-waiting", "off"]).expect_code(0);
    assert_eq!(
        element(&get("services/CallWaiting").await, "active").as_deref(),
        Some("false")
    );
    client.run(&["block-caller-id", "on"]).expect_code(0);
    assert_eq!(
        element(
            &get("services/CallingLineIDDeliveryBlocking").await,
            "active"
        )
        .as_deref(),
        Some("true")
    );
    client
        .run(&["remote-office", "on", "--number", "2145557777"])
        .expect_code(0);
    let xml = get("services/RemoteOffice").await;
    assert_eq!(
        element(&xml, "remoteOfficeNumber").as_deref(),
        Some("2145557777"),
        "{xml}"
    );

    // Rings.
    client
        .run(&[
            "simring",
            "on",
            "--add",
            "2145557001",
            "--add",
            "2145557002",
            "--confirm",
        ])
        .expect_code(0);
    let xml = get("services/SimultaneousRingPersonal").await;
    assert!(
        xml.contains("2145557001") && xml.contains("2145557002"),
        "{xml}"
    );
    assert_eq!(element(&xml, "active").as_deref(), Some("true"), "{xml}");
    client
        .run(&["simring", "--remove", "2145557001"])
        .expect_code(0);
    let xml = get("services/SimultaneousRingPersonal").await;
    assert!(
        !xml.contains("2145557001") && xml.contains("2145557002"),
        "{xml}"
    );
    client
        .run(&[
            "sequential-ring",
            "--slot",
            "1",
            "--to",
            "2145557003",
            "--rings",
            "3",
        ])
        .expect_code(0);
    let xml = get("services/SequentialRing").await;
    assert!(xml.contains("2145557003"), "{xml}");

    // Speed dial.
    client
        .run(&[
            "speed-dial",
            "set",
            "5",
            "2145550105",
            "--description",
            "Front desk",
        ])
        .expect_code(0);
    client.run(&["speed-dial", "rm", "2"]).expect_code(0);
    let xml = get("services/SpeedDial8").await;
    assert!(
        xml.contains("2145550105") && xml.contains("Front desk"),
        "{xml}"
    );
    assert!(!xml.contains("2145550002"), "code 2 cleared: {xml}");
    client
        .run(&["speed-dial-100", "set", "42", "2145550142"])
        .expect_code(0);
    client.run(&["speed-dial-100", "rm", "10"]).expect_code(0);
    let xml = get("services/SpeedDial100").await;
    assert!(
        xml.contains("2145550142") && !xml.contains("2145550010"),
        "{xml}"
    );

    // Call Notify and Anywhere.
    client
        .run(&["call-notify", "--email", "alerts@deskline.example"])
        .expect_code(0);
    assert!(
        get("services/CallNotify")
            .await
            .contains("alerts@deskline.example")
    );
    client
        .run(&["anywhere", "add", "2145557100", "--description", "Home"])
        .expect_code(0);
    client
        .run(&["anywhere", "set", "2145557000", "on"])
        .expect_code(0);
    let xml = get("services/BroadWorksAnywhere").await;
    assert!(xml.contains("2145557100") && xml.contains("Home"), "{xml}");

    // Personal directory.
    client
        .run(&["directory", "add", "Dee Tester", "2145552004"])
        .expect_code(0);
    client
        .run(&["directory", "rm", "Bo Builder"])
        .expect_code(0);
    let xml = get("directories/Personal").await;
    assert!(
        xml.contains("Dee Tester") && !xml.contains("Bo Builder"),
        "{xml}"
    );
    let found = client.json(&["directory", "search", "dee"]);
    assert_eq!(found[0]["name"], "Dee Tester", "{found}");

    // Everything reads back as synced, with the values set.
    let settings = client.json(&["settings"]);
    for view in settings.as_array().unwrap() {
        assert_eq!(view["status"]["status"], "synced", "{view}");
    }
    let dnd = settings
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == "do_not_disturb")
        .unwrap();
    assert_eq!(dnd["value"]["value"]["active"], true);

    // A fresh sync changes nothing: the cache already equals the provider.
    let before = client.json(&["settings"]);
    client.run(&["sync"]).expect_code(0);
    let after = client.json(&["settings"]);
    let strip = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| (s["key"].clone(), s["value"].clone(), s["version"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&before), strip(&after));

    // Call history and click-to-dial.
    let calls = client.json(&["calls", "--missed"]);
    assert_eq!(
        calls["provider_call_logs"].as_array().unwrap().len(),
        4,
        "{calls}"
    );
    let dialled = client.json(&["dial", "tel:+1-2145552001"]);
    assert!(
        dialled["call_id"]
            .as_str()
            .unwrap()
            .starts_with("callhalf-"),
        "{dialled}"
    );

    // Sign out: no saved password any more; with --forget, no account either.
    client.run(&["logout"]).expect_code(0);
    let sync = client.run(&["sync"]).expect_code(3);
    assert!(sync.stderr.contains("sign in again"), "{}", sync.stderr);
    client.run(&["logout", "--forget"]).expect_code(0);
    let status = client.json(&["status"]);
    assert!(
        status["accounts"].as_array().unwrap().is_empty(),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let sandbox = demo_sandbox().await;
    let client = Client::new();
    client
        .login(&server(&sandbox), DEMO_USER, DEMO_PASSWORD)
        .expect_code(0);
    let settings_before = client.json(&["settings"]);
    let mutations_before = mutations(&sandbox).await;

    // (arguments, exit code, words the message must contain)
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["forward", "no-answer", "--rings", "1"],
            5,
            "1 ring is not allowed",
        ),
        (
            &["forward", "no-answer", "--rings", "25"],
            5,
            "0 or 2 to 20",
        ),
        (
            &["forward", "always", "--to", "abc"],
            5,
            "not a phone number",
        ),
        (
            &["forward", "always", "--to", "sip:nohost"],
            5,
            "user and a host",
        ),
        (&["forward", "busy", "--on"], 5, "needs a number"),
        (
            &["forward", "busy", "--rings", "3"],
            2,
            "only for `forward no-answer`",
        ),
        (&["dnd", "maybe"], 2, "invalid value"),
        (&["speed-dial", "set", "1", "2145550000"], 5, "2 to 9"),
        (&["speed-dial", "rm", "7"], 5, "not set"),
        (
            &["speed-dial-100", "set", "100", "2145550000"],
            5,
            "0 to 99",
        ),
        (
            &[
                "speed-dial",
                "set",
                "5",
                "2145550000",
                "--description",
                &"x".repeat(81),
            ],
            5,
            "at most 80",
        ),
        (&["simring", "--add", "12x"], 5, "not a phone number"),
        (&["simring", "--remove", "2145550000"], 5, "not in the list"),
        (
            &["sequential-ring", "--slot", "6", "--to", "2145550000"],
            2,
            "6",
        ),
        (&["sequential-ring", "--slot", "2"], 5, "is empty"),
        (&["call-notify", "--email", "not-an-address"], 5, "e-mail"),
        (
            &["call-notify", "--criteria", "Nope=on"],
            5,
            "no criteria named",
        ),
        (&["anywhere", "add", "2145557000"], 5, "already a location"),
        (
            &["anywhere", "set", "2145550000", "on"],
            5,
            "not a location",
        ),
        (
            &["directory", "add", "", "2145550000"],
            5,
            "cannot be empty",
        ),
        (
            &["directory", "add", "Alex Example", "2145550000"],
            5,
            "already in your directory",
        ),
        (
            &["directory", "rm", "Nobody Here"],
            5,
            "not in your directory",
        ),
        (&["dial", "mailto:x@y"], 5, "not a phone number"),
        (&["changes", "discard", "9999"], 5, "no queued change"),
    ];
    for (args, code, words) in cases {
        let run = client.run(args);
        assert_eq!(
            run.code, *code,
            "{args:?}\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        assert!(
            run.stderr.contains(words),
            "{args:?}: expected '{words}' in:\n{}",
            run.stderr
        );
    }
    // A value Deskline accepts but the provider refuses (an unknown country code) is rolled
    // back with the provider's reason.
    let refused = client
        .run(&["forward", "always", "--to", "+999-1234567"])
        .expect_code(5);
    assert!(refused.stderr.contains("refused"), "{}", refused.stderr);

    let values = |v: serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["key"].clone(),
                    s["value"].clone(),
                    s["version"].clone(),
                    s["status"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        values(client.json(&["settings"])),
        values(settings_before),
        "nothing changed locally"
    );
    assert_eq!(
        mutations(&sandbox).await,
        mutations_before,
        "nothing changed on the provider"
    );
    let changes = client.json(&["changes"]);
    assert!(
        changes.as_array().unwrap().is_empty(),
        "nothing left queued: {changes}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_failures_are_distinct_and_clear() {
    let sandbox = demo_sandbox().await;
    let client = Client::new();
    let wrong = client
        .login(&server(&sandbox), DEMO_USER, "not-the-password")
        .expect_code(3);
    assert!(
        wrong
            .stderr
            .contains("user ID or password was not accepted"),
        "{}",
        wrong.stderr
    );
    let locked = client
        .login(
            &server(&sandbox),
            "locked@deskline.example",
            "Locked-password-1",
        )
        .expect_code(3);
    assert!(locked.stderr.contains("locked"), "{}", locked.stderr);
    let bad_user = client
        .login(&server(&sandbox), "not-an-id", "x")
        .expect_code(5);
    assert!(
        bad_user.stderr.contains("e-mail form"),
        "{}",
        bad_user.stderr
    );
    // Nothing listens on port 1 of loopback: no network to the provider.
    let offline = client
        .login("http://127.0.0.1:1/", DEMO_USER, DEMO_PASSWORD)
        .expect_code(4);
    assert!(
        offline.stderr.contains("could not be reached"),
        "{}",
        offline.stderr
    );
    let insecure = client
        .login("http://xsp.example.net/", DEMO_USER, DEMO_PASSWORD)
        .expect_code(5);
    assert!(
        insecure.stderr.to_lowercase().contains("http"),
        "{}",
        insecure.stderr
    );
    let status = client.json(&["status"]);
    assert!(
        status["accounts"].as_array().unwrap().is_empty(),
        "no account kept: {status}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_made_elsewhere_while_an_edit_is_pending_is_a_conflict() {
    let sandbox = demo_sandbox().await;
    let client = Client::new();
    client
        .login(&server(&sandbox), DEMO_USER, DEMO_PASSWORD)
        .expect_code(0);

    // The provider fails every request: the edit is queued, not lost.
    sandbox.faults().set(Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let queued = client
        .run(&["forward", "always", "--to", "2145550100"])
        .expect_code(0);
    assert!(queued.stdout.contains("queued"), "{}", queued.stdout);
    let status = client.json(&["status"]);
    assert_eq!(status["accounts"][0]["pending_changes"], 1);
    let always = &status["accounts"][0]["forwarding"][0];
    assert_eq!(
        always["to"], "2145550100",
        "the pending value is what the user sees"
    );
    assert_eq!(always["pending"], true);

    // Meanwhile someone changes the same setting on the portal.
    sandbox.faults().set(Faults::default());
    let body = r#"<?xml version="1.0" encoding="UTF-8"?><CallForwardingAlways xmlns="http://schema.broadsoft.com/xsi"><active>true</active><forwardToPhoneNumber>2145550199</forwardToPhoneNumber></CallForwardingAlways>"#;
    assert_eq!(
        provider_put(
            &sandbox,
            DEMO_USER,
            DEMO_PASSWORD,
            "services/CallForwardingAlways",
            body
        )
        .await,
        200
    );

    client.run(&["sync"]).expect_code(0);
    let changes = client.json(&["changes"]);
    let edit = &changes[0];
    assert_eq!(edit["state"]["state"], "conflict", "{changes}");
    assert!(
        edit["state"]["fields"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("forward_to"))
    );
    let xml = provider_get(
        &sandbox,
        DEMO_USER,
        DEMO_PASSWORD,
        "services/CallForwardingAlways",
    )
    .await;
    assert_eq!(
        element(&xml, "forwardToPhoneNumber").as_deref(),
        Some("2145550199"),
        "never silently overwritten"
    );

    // The user keeps theirs: it lands.
    let id = edit["id"].as_i64().unwrap().to_string();
    client
        .run(&["changes", "resolve", &id, "mine"])
        .expect_code(0);
    let xml = provider_get(
        &sandbox,
        DEMO_USER,
        DEMO_PASSWORD,
        "services/CallForwardingAlways",
    )
    .await;
    assert_eq!(
        element(&xml, "forwardToPhoneNumber").as_deref(),
        Some("2145550100")
    );
    assert!(client.json(&["changes"]).as_array().unwrap().is_empty());

    // Another conflict, resolved the other way.
    sandbox.faults().set(Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    client.run(&["dnd", "on"]).expect_code(0);
    sandbox.faults().set(Faults::default());
    let body = r#"<DoNotDisturb xmlns="http://schema.broadsoft.com/xsi"><active>false</active><ringSplash>true</ringSplash></DoNotDisturb>"#;
    assert_eq!(
        provider_put(
            &sandbox,
            DEMO_USER,
            DEMO_PASSWORD,
            "services/DoNotDisturb",
            body
        )
        .await,
        200
    );
    // Their change touched another field (ring splash) only: no conflict, both kept.
    client.run(&["sync"]).expect_code(0);
    let xml = provider_get(&sandbox, DEMO_USER, DEMO_PASSWORD, "services/DoNotDisturb").await;
    assert_eq!(element(&xml, "active").as_deref(), Some("true"), "{xml}");
    assert_eq!(
        element(&xml, "ringSplash").as_deref(),
        Some("true"),
        "{xml}"
    );

    sandbox.faults().set(Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    client.run(&["dnd", "off"]).expect_code(0);
    sandbox.faults().set(Faults::default());
    let body = r#"<DoNotDisturb xmlns="http://schema.broadsoft.com/xsi"><active>true</active><ringSplash>false</ringSplash></DoNotDisturb>"#;
    assert_eq!(
        provider_put(
            &sandbox,
            DEMO_USER,
            DEMO_PASSWORD,
            "services/DoNotDisturb",
            body
        )
        .await,
        200
    );
    client.run(&["sync"]).expect_code(0);
    let xml = provider_get(&sandbox, DEMO_USER, DEMO_PASSWORD, "services/DoNotDisturb").await;
    assert_eq!(
        element(&xml, "active").as_deref(),
        Some("false"),
        "our field applied: {xml}"
    );
    assert_eq!(
        element(&xml, "ringSplash").as_deref(),
        Some("false"),
        "their field kept: {xml}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_appear_nowhere_but_the_keychain() {
    let sandbox = demo_sandbox().await;
    let mut client = Client::new();
    client.log_level = "trace";
    let mut transcript = String::new();
    let mut record = |run: Run| {
        transcript.push_str(&run.stdout);
        transcript.push_str(&run.stderr);
        run
    };
    record(
        client
            .login(&server(&sandbox), DEMO_USER, DEMO_PASSWORD)
            .expect_code(0),
    );
    for args in [
        &["--json", "status"][..],
        &["--json", "devices"],
        &["devices"],
        &["sync"],
        &["forward", "always", "--to", "2145550100"],
        &["--json", "settings"],
        &["--json", "changes"],
        &["--json", "calls"],
        &["directory", "search", "al"],
        &["-v", "sync"],
    ] {
        record(client.run(args).expect_code(0));
    }
    // A failed sign-in with a wrong password logs nothing secret either.
    record(
        client
            .login(&server(&sandbox), DEMO_USER, "Wrong-secret-77")
            .expect_code(3),
    );

    let basic = |user: &str, pw: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    };
    let mut secrets: Vec<String> = vec![
        DEMO_PASSWORD.into(),
        "Wrong-secret-77".into(),
        basic(DEMO_USER, DEMO_PASSWORD),
    ];
    secrets.extend(DEMO_SIP_PASSWORDS.iter().map(|s| s.to_string()));
    secrets.extend(DEMO_DM_PASSWORDS.iter().map(|s| s.to_string()));

    for secret in &secrets {
        assert!(
            !transcript.contains(secret.as_str()),
            "a secret was printed or logged"
        );
    }
    let mut files = 0;
    let mut stack = vec![client.data_dir.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&path).unwrap();
            for secret in &secrets {
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "a secret is stored in {}", path.display());
            }
        }
    }
    assert!(files >= 1, "the data directory holds the database");
    // The SIP passwords are in the keychain, where they belong.
    let vault = deskline_vault::KeyringVault::platform_default();
    let account = deskline_core::AccountId::for_user(
        &deskline_core::UserId::parse(DEMO_USER).unwrap(),
        &sandbox.base_url(),
    );
    let sip = deskline_core::Vault::get(
        &vault,
        &deskline_core::SecretRef {
            account: account.clone(),
            kind: deskline_core::SecretKind::SipPassword {
                line_port: "dana-pc@deskline.example".into(),
            },
        },
    )
    .await
    .unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(
        sip.as_ref()
            .map(|s| s.expose_secret().to_owned())
            .as_deref(),
        Some(DEMO_SIP_PASSWORDS[0])
    );
    client.run(&["logout", "--forget"]).expect_code(0);
    let gone = deskline_core::Vault::get(
        &vault,
        &deskline_core::SecretRef {
            account,
            kind: deskline_core::SecretKind::SipPassword {
                line_port: "dana-pc@deskline.example".into(),
            },
        },
    )
    .await
    .unwrap();
    assert!(gone.is_none(), "sign-out removes every secret");
}

#[tokio::test(flavor = "multi_thread")]
async fn several_accounts_side_by_side() {
    let sandbox = demo_sandbox().await;
    let client = Client::new();
    client
        .login(&server(&sandbox), DEMO_USER, DEMO_PASSWORD)
        .expect_code(0);
    client
        .login(&server(&sandbox), "bob@deskline.example", "Bob-password-1")
        .expect_code(0);
    let status = client.json(&["status"]);
    let users: Vec<&str> = status["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["demo@deskline.example", "bob@deskline.example"]);
    // Bob's line has no Remote Office: his settings say so, Dana's do not.
    let ambiguous = client.run(&["dnd", "on"]).expect_code(2);
    assert!(
        ambiguous.stderr.contains("--account"),
        "{}",
        ambiguous.stderr
    );
    client
        .run(&["--account", "bob@deskline.example", "dnd", "on"])
        .expect_code(0);
    let bob_dnd = provider_get(
        &sandbox,
        "bob@deskline.example",
        "Bob-password-1",
        "services/DoNotDisturb",
    )
    .await;
    assert_eq!(element(&bob_dnd, "active").as_deref(), Some("true"));
    let dana_dnd = provider_get(&sandbox, DEMO_USER, DEMO_PASSWORD, "services/DoNotDisturb").await;
    assert_eq!(
        element(&dana_dnd, "active").as_deref(),
        Some("false"),
        "the other account is untouched"
    );
    let bob_ro = client
        .run(&["--account", "bob@deskline.example", "remote-office"])
        .expect_code(5);
    assert!(
        bob_ro.stderr.contains("not available on this line"),
        "{}",
        bob_ro.stderr
    );
    client
        .run(&["--account", DEMO_USER, "remote-office"])
        .expect_code(0);
    // Signing one out leaves the other signed in.
    client
        .run(&["--account", "bob@deskline.example", "logout", "--forget"])
        .expect_code(0);
    client.run(&["dnd"]).expect_code(0);
}
