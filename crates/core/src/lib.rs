//! Deskline's core: the domain model ([`domain`]), the ports adapters implement
//! ([`ports`]: `Provider`, `ProviderConnector`, `Vault`, `Store`; [`calls`]: `Notifier`),
//! the records kept in the store ([`records`]), the three-way merge of edits ([`merge`]),
//! the offline-first sync engine with its outbox ([`sync`]), sessions and accounts
//! ([`session`]) and the call tracker ([`calls`]).
//!
//! Architecture invariant: this crate never names Tauri, reqwest, rusqlite, keyring,
//! notify-rust or any SIP type. Adapters convert.

pub mod calls;
pub mod domain;
pub mod merge;
pub mod ports;
pub mod records;
pub mod session;
pub mod sync;

pub use domain::line::*;
pub use domain::settings::*;
pub use domain::values::*;
pub use ports::*;
pub use records::*;
