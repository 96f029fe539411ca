//! Deskline's keychain: [`KeyringVault`] implements the core's `Vault` port with the OS
//! credential store through the keyring project's `keyring-core` and its platform stores —
//! macOS Keychain, Windows Credential Manager, the freedesktop Secret Service on Linux, and
//! the Linux kernel keyring (keyutils) where no Secret Service answers (headless machines,
//! CI). Portal and SIP passwords live only there. [`MemoryVault`] is for unit tests.
//!
//! Every keychain call runs on a blocking thread. Secrets never appear in errors, logs or
//! `Debug` output.

use async_trait::async_trait;
use deskline_core::{SecretRef, Vault, VaultError};
use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The service name of every Deskline entry.
pub const SERVICE: &str = "deskline";

/// Which credential store to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The platform's native store (macOS Keychain, Windows Credential Manager).
    Native,
    /// The freedesktop Secret Service (GNOME Keyring, KWallet) on the session bus.
    SecretService,
    /// The Linux kernel keyring (keyutils): the user keyring (`@u`), shared by every
    /// process of the user and needing no session keyring (headless machines, CI).
    Keyutils,
}

/// Where entries go.
#[derive(Clone)]
enum Target {
    /// A keyring-core credential store.
    Store(Arc<CredentialStore>),
    /// The Linux user keyring.
    #[cfg(target_os = "linux")]
    UserKeyring,
}

/// The OS keychain.
#[derive(Clone)]
pub struct KeyringVault {
    store: Result<Target, VaultError>,
    backend: Backend,
}

impl std::fmt::Debug for KeyringVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringVault")
            .field("backend", &self.backend)
            .field("available", &self.store.is_ok())
            .finish()
    }
}

fn platform_error(e: KeyringError) -> VaultError {
    // The keyring errors carry platform messages, never the secret (BadEncoding carries
    // bytes of a stored value: do not print those).
    match e {
        KeyringError::NoStorageAccess(p) => VaultError::Denied {
            reason: p.to_string(),
        },
        KeyringError::PlatformFailure(p) => VaultError::Failed {
            reason: p.to_string(),
        },
        KeyringError::NoDefaultStore => VaultError::Unavailable {
            reason: "no credential store".into(),
        },
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(_, _) => VaultError::Failed {
            reason: "a stored secret could not be read".into(),
        },
        other => VaultError::Failed {
            reason: other.to_string(),
        },
    }
}

impl KeyringVault {
    /// A vault on the given backend.
    pub fn new(backend: Backend) -> Self {
        let store = make_store(backend);
        if let Err(e) = &store {
            tracing::warn!(?backend, error = %e, "keychain unavailable");
        }
        Self { store, backend }
    }

    /// The platform's usual keychain. On Linux: the Secret Service when one answers on the
    /// session bus, else the kernel keyring. `DESKLINE_KEYCHAIN=secret-service|keyutils`
    /// overrides the choice.
    pub fn platform_default() -> Self {
        let backend = match std::env::var("DESKLINE_KEYCHAIN").ok().as_deref() {
            Some("secret-service") => Backend::SecretService,
            Some("keyutils") => Backend::Keyutils,
            Some("native") => Backend::Native,
            _ => default_backend(),
        };
        tracing::info!(?backend, "keychain");
        Self::new(backend)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn run<T, F>(&self, name: &SecretRef, work: F) -> Result<T, VaultError>
    where
        T: Send + 'static,
        F: FnOnce(Handle) -> Result<T, VaultError> + Send + 'static,
    {
        let target = self.store.clone()?;
        let user = name.entry_name();
        tokio::task::spawn_blocking(move || {
            let handle = match target {
                Target::Store(store) => Handle::Entry(
                    Entry::new_in_store(&store, SERVICE, &user).map_err(platform_error)?,
                ),
                #[cfg(target_os = "linux")]
                Target::UserKeyring => Handle::User(format!("{SERVICE}:{user}")),
            };
            work(handle)
        })
        .await
        .map_err(|e| VaultError::Failed {
            reason: e.to_string(),
        })?
    }
}

/// One entry, in whichever store.
enum Handle {
    Entry(Entry),
    #[cfg(target_os = "linux")]
    User(String),
}

impl Handle {
    fn put(self, secret: &str) -> Result<(), VaultError> {
        match self {
            Handle::Entry(entry) => entry.set_password(secret).map_err(platform_error),
            #[cfg(target_os = "linux")]
            Handle::User(description) => user_keyring::put(&description, secret),
        }
    }

    fn get(self) -> Result<Option<SecretString>, VaultError> {
        match self {
            Handle::Entry(entry) => match entry.get_password() {
                Ok(p) => Ok(Some(SecretString::from(p))),
                Err(KeyringError::NoEntry) => Ok(None),
                Err(e) => Err(platform_error(e)),
            },
            #[cfg(target_os = "linux")]
            Handle::User(description) => user_keyring::get(&description),
        }
    }

    fn delete(self) -> Result<(), VaultError> {
        match self {
            Handle::Entry(entry) => match entry.delete_credential() {
                Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
                Err(e) => Err(platform_error(e)),
            },
            #[cfg(target_os = "linux")]
            Handle::User(description) => user_keyring::delete(&description),
        }
    }
}

/// The Linux user keyring through `linux-keyutils`.
#[cfg(target_os = "linux")]
mod user_keyring {
    use deskline_core::VaultError;
    use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};
    use secrecy::SecretString;

    fn error(e: KeyError) -> VaultError {
        match e {
            KeyError::AccessDenied | KeyError::PermissionDenied => VaultError::Denied {
                reason: format!("{e:?}"),
            },
            other => VaultError::Failed {
                reason: format!("kernel keyring: {other:?}"),
            },
        }
    }

    fn ring() -> Result<KeyRing, VaultError> {
        KeyRing::from_special_id(KeyRingIdentifier::User, false).map_err(|e| {
            VaultError::Unavailable {
                reason: format!("no user keyring ({e:?})"),
            }
        })
    }

    pub fn put(description: &str, secret: &str) -> Result<(), VaultError> {
        ring()?
            .add_key(description, secret.as_bytes())
            .map_err(error)?;
        Ok(())
    }

    /// A key being invalidated stays visible to searches until the kernel collects it:
    /// treat revoked and expired keys as absent.
    fn gone(e: &KeyError) -> bool {
        matches!(
            e,
            KeyError::KeyDoesNotExist | KeyError::KeyRevoked | KeyError::KeyExpired
        )
    }

    pub fn get(description: &str) -> Result<Option<SecretString>, VaultError> {
        match ring()?.search(description) {
            Ok(key) => {
                let bytes = match key.read_to_vec() {
                    Ok(b) => b,
                    Err(e) if gone(&e) => return Ok(None),
                    Err(e) => return Err(error(e)),
                };
                let text = String::from_utf8(bytes).map_err(|_| VaultError::Failed {
                    reason: "a stored secret is not text".into(),
                })?;
                Ok(Some(SecretString::from(text)))
            }
            Err(e) if gone(&e) => Ok(None),
            Err(e) => Err(error(e)),
        }
    }

    pub fn delete(description: &str) -> Result<(), VaultError> {
        match ring()?.search(description) {
            Ok(key) => match key.invalidate() {
                Ok(()) => Ok(()),
                Err(e) if gone(&e) => Ok(()),
                Err(e) => Err(error(e)),
            },
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(error(e)),
        }
    }
}

#[cfg(target_os = "linux")]
fn default_backend() -> Backend {
    if secret_service_answers() {
        Backend::SecretService
    } else {
        Backend::Keyutils
    }
}

#[cfg(not(target_os = "linux"))]
fn default_backend() -> Backend {
    Backend::Native
}

/// Whether a Secret Service answers on the session bus within a short time.
#[cfg(target_os = "linux")]
fn secret_service_answers() -> bool {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return false;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let answered = zbus_secret_service_keyring_store::Store::new()
            .ok()
            .and_then(|store| {
                let store: Arc<CredentialStore> = store;
                Entry::new_in_store(&store, SERVICE, "deskline-probe").ok()
            })
            .map(|entry| matches!(entry.get_password(), Ok(_) | Err(KeyringError::NoEntry)))
            .unwrap_or(false);
        let _ = tx.send(answered);
    });
    rx.recv_timeout(std::time::Duration::from_secs(2))
        .unwrap_or(false)
}

fn make_store(backend: Backend) -> Result<Target, VaultError> {
    let unavailable = |reason: String| VaultError::Unavailable { reason };
    match backend {
        #[cfg(target_os = "linux")]
        Backend::Keyutils => Ok(Target::UserKeyring),
        #[cfg(target_os = "linux")]
        Backend::SecretService => {
            let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()
                .map_err(|e| unavailable(e.to_string()))?;
            Ok(Target::Store(store))
        }
        #[cfg(target_os = "macos")]
        Backend::Native => {
            let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()
                .map_err(|e| unavailable(e.to_string()))?;
            Ok(Target::Store(store))
        }
        #[cfg(target_os = "windows")]
        Backend::Native => {
            let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()
                .map_err(|e| unavailable(e.to_string()))?;
            Ok(Target::Store(store))
        }
        #[allow(unreachable_patterns)]
        other => Err(unavailable(format!(
            "{other:?} is not available on this platform"
        ))),
    }
}

#[async_trait]
impl Vault for KeyringVault {
    async fn put(&self, name: &SecretRef, secret: &SecretString) -> Result<(), VaultError> {
        let secret = SecretString::from(secret.expose_secret().to_owned());
        self.run(name, move |h| h.put(secret.expose_secret())).await
    }

    async fn get(&self, name: &SecretRef) -> Result<Option<SecretString>, VaultError> {
        self.run(name, Handle::get).await
    }

    async fn delete(&self, name: &SecretRef) -> Result<(), VaultError> {
        self.run(name, Handle::delete).await
    }
}

/// An in-memory vault for unit tests of other crates. Not persistent; never use it in the
/// app.
#[derive(Default, Clone)]
pub struct MemoryVault {
    secrets: Arc<Mutex<HashMap<String, SecretString>>>,
}

impl std::fmt::Debug for MemoryVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.secrets.lock().map(|s| s.len()).unwrap_or(0);
        f.debug_struct("MemoryVault")
            .field("entries", &count)
            .finish()
    }
}

#[async_trait]
impl Vault for MemoryVault {
    async fn put(&self, name: &SecretRef, secret: &SecretString) -> Result<(), VaultError> {
        let mut map = self.secrets.lock().map_err(|_| VaultError::Failed {
            reason: "poisoned".into(),
        })?;
        map.insert(
            name.entry_name(),
            SecretString::from(secret.expose_secret().to_owned()),
        );
        Ok(())
    }

    async fn get(&self, name: &SecretRef) -> Result<Option<SecretString>, VaultError> {
        let map = self.secrets.lock().map_err(|_| VaultError::Failed {
            reason: "poisoned".into(),
        })?;
        Ok(map
            .get(&name.entry_name())
            .map(|s| SecretString::from(s.expose_secret().to_owned())))
    }

    async fn delete(&self, name: &SecretRef) -> Result<(), VaultError> {
        let mut map = self.secrets.lock().map_err(|_| VaultError::Failed {
            reason: "poisoned".into(),
        })?;
        map.remove(&name.entry_name());
        Ok(())
    }
}
