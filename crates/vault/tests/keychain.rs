//! The real keychain of this machine (the kernel keyring on a headless Linux): round trips,
//! separation of accounts, deletion, and two separate processes seeing the same secret.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::{AccountId, SecretKind, SecretRef, Vault};
use deskline_vault::{KeyringVault, MemoryVault};
use secrecy::{ExposeSecret, SecretString};

fn name(account: &str, kind: SecretKind) -> SecretRef {
    SecretRef {
        account: AccountId(account.into()),
        kind,
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}@test", uuid::Uuid::new_v4())
}

async fn round_trip(vault: &dyn Vault) {
    let a = unique("a");
    let b = unique("b");
    let portal = name(&a, SecretKind::PortalPassword);
    let sip = name(
        &a,
        SecretKind::SipPassword {
            line_port: "pc@example.com".into(),
        },
    );
    let other = name(&b, SecretKind::PortalPassword);
    assert!(vault.get(&portal).await.unwrap().is_none());
    vault
        .put(&portal, &SecretString::from("first"))
        .await
        .unwrap();
    vault
        .put(&portal, &SecretString::from("second"))
        .await
        .unwrap();
    vault
        .put(&sip, &SecretString::from("sip-secret"))
        .await
        .unwrap();
    vault
        .put(&other, &SecretString::from("other"))
        .await
        .unwrap();
    assert_eq!(
        vault.get(&portal).await.unwrap().unwrap().expose_secret(),
        "second"
    );
    assert_eq!(
        vault.get(&sip).await.unwrap().unwrap().expose_secret(),
        "sip-secret"
    );
    assert_eq!(
        vault.get(&other).await.unwrap().unwrap().expose_secret(),
        "other"
    );
    vault.delete(&portal).await.unwrap();
    vault.delete(&portal).await.unwrap();
    assert!(vault.get(&portal).await.unwrap().is_none());
    assert_eq!(
        vault.get(&sip).await.unwrap().unwrap().expose_secret(),
        "sip-secret"
    );
    vault.delete(&sip).await.unwrap();
    vault.delete(&other).await.unwrap();
}

#[tokio::test]
async fn the_platform_keychain_keeps_and_forgets_secrets() {
    let vault = KeyringVault::platform_default();
    round_trip(&vault).await;
    assert!(!format!("{vault:?}").contains("second"));
}

#[tokio::test]
async fn the_memory_vault_behaves_the_same() {
    round_trip(&MemoryVault::default()).await;
}

#[test]
fn separate_processes_see_the_same_secret() {
    let probe = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let _ = probe;
    let exe = std::env::current_exe().unwrap();
    let examples = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("vault_probe");
    if !examples.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "deskline-vault",
                "--example",
                "vault_probe",
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let account = unique("proc");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&examples)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    run(&["put", &account, "Shared-secret-1"]);
    assert_eq!(run(&["get", &account]), "Shared-secret-1");
    run(&["delete", &account]);
    assert_eq!(run(&["get", &account]), "(none)");
}
