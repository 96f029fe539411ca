//! The offline-first sync engine: full and incremental sync, the outbox, retries.
