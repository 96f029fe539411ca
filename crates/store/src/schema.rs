//! The schema and its migrations (rusqlite_migration, tracked in `user_version`). Append
//! new migrations; never edit a released one.

use rusqlite_migration::{M, Migrations};

const V1: &str = r#"
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    json TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE profiles (
    account TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    json TEXT NOT NULL
);
CREATE TABLE services (
    account TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    json TEXT NOT NULL
);
CREATE TABLE snapshots (
    account TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    json TEXT NOT NULL,
    version INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (account, key)
);
CREATE TABLE soft_clients (
    account TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    json TEXT NOT NULL
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    base TEXT NOT NULL,
    base_version INTEGER NOT NULL,
    desired TEXT NOT NULL,
    sent TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (account, key)
);
CREATE TABLE directory (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    source_rank INTEGER NOT NULL,
    name TEXT NOT NULL,
    json TEXT NOT NULL,
    digits TEXT NOT NULL,
    extension TEXT
);
CREATE INDEX directory_account ON directory(account, source);
CREATE INDEX directory_extension ON directory(account, extension);
CREATE VIRTUAL TABLE directory_words USING fts5(
    name, email, department,
    content='', contentless_delete=1,
    tokenize='unicode61 remove_diacritics 2',
    prefix='1 2 3'
);
CREATE VIRTUAL TABLE directory_digits USING fts5(
    digits,
    content='', contentless_delete=1,
    tokenize='trigram'
);
CREATE TABLE call_logs (
    account TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    json TEXT NOT NULL
);
CREATE TABLE call_history (
    account TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE INDEX call_history_time ON call_history(account, started_at DESC);
"#;

/// When the user last saw the missed calls, per account.
const V2: &str = r#"
CREATE TABLE missed_seen (
    account TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    at TEXT NOT NULL
);
"#;

/// The schema version this build writes (`user_version` after the last migration).
pub const LATEST: i64 = 2;

/// Every migration, oldest first.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(V1), M::up(V2)])
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }
}
