//! Stores, reads or deletes one secret in the platform keychain, for checking by hand (and
//! by the tests) that separate processes see the same secrets:
//! `vault_probe put|get|delete ACCOUNT [SECRET]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_core::{AccountId, SecretKind, SecretRef, Vault};
use deskline_vault::KeyringVault;
use secrecy::{ExposeSecret, SecretString};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = SecretRef {
        account: AccountId(args[2].clone()),
        kind: SecretKind::PortalPassword,
    };
    let vault = KeyringVault::platform_default();
    match args[1].as_str() {
        "put" => vault
            .put(&name, &SecretString::from(args[3].clone()))
            .await
            .unwrap(),
        "get" => match vault.get(&name).await.unwrap() {
            Some(s) => println!("{}", s.expose_secret()),
            None => println!("(none)"),
        },
        "delete" => vault.delete(&name).await.unwrap(),
        other => panic!("unknown {other}"),
    }
}
