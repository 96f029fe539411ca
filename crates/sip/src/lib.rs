//! Deskline's SIP agent: it registers as the user's shared line(s) and reports, at once,
//! every incoming call as a [`LineEvent`](deskline_core::calls::LineEvent); the call
//! tracker answers back through [`CallControl`](deskline_core::calls::CallControl)
//! (decline).
//!
//! Built on rsipstack's SIP message types and parser (`rsipstack::sip`), with a small
//! transport and transaction layer of its own so that every received byte passes a total
//! pre-validation ([`wire`]) and the ghost-call filter ([`ghost`]) knows which flow each
//! request came from.
//!
//! Modules: [`config`] (settings), [`agent`] (the public handle), [`registration`] (one
//! task per line), [`auth`] (digest), [`transport`] and [`tls`] (flows), [`wire`]
//! (pre-validation, framing, responses), [`addr`] (address grammar), [`incoming`]
//! (ringing calls), [`ghost`] (who may ring), [`caller`] (who is calling), [`reason`]
//! (why a CANCEL came), [`events`] (the event sink), [`watch`] (network changes and wake
//! from sleep).

pub mod addr;
pub mod agent;
pub mod auth;
pub mod caller;
pub mod config;
pub mod error;
pub mod events;
pub mod ghost;
pub mod incoming;
pub mod reason;
pub mod registration;
pub mod tls;
pub mod transport;
pub mod watch;
pub mod wire;

pub use agent::Agent;
pub use config::{AgentOptions, LineConfig, Tuning};
pub use error::SipError;
