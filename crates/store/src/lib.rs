//! Deskline's local store: [`SqliteStore`] implements the core's `Store` port on SQLite
//! (bundled, WAL, migrations in [`schema`]) with one writer thread ([`writer`]). It holds the
//! accounts (no secrets), settings snapshots with versions, the outbox, the directory index
//! for search as you type ([`search`]), and call history.
//!
//! Architecture invariant: no secret is ever written here — `SoftClient`'s password is not
//! serialised, and nothing else carries one. Async callers never block: every SQLite call
//! runs on the writer thread.

pub mod schema;
pub mod search;
pub mod writer;

use async_trait::async_trait;
use deskline_core::*;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use writer::{Writer, corrupt, sql};

/// The SQLite store. Cheap to clone; all clones share the writer thread.
#[derive(Clone)]
pub struct SqliteStore {
    writer: Writer,
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt)
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(corrupt)
}

fn ts(t: OffsetDateTime) -> Result<String, StoreError> {
    t.format(&Rfc3339).map_err(|e| StoreError::Corrupt {
        reason: e.to_string(),
    })
}

fn parse_ts(text: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| StoreError::Corrupt {
        reason: format!("bad time '{text}': {e}"),
    })
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`: WAL, foreign keys, migrations.
    /// A database from a newer Deskline is refused, untouched.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        let connection = tokio::task::spawn_blocking(move || open_connection(&path))
            .await
            .map_err(|e| StoreError::Failed {
                reason: e.to_string(),
            })??;
        Ok(Self {
            writer: Writer::start(connection)?,
        })
    }

    /// Runs `work` on the writer thread.
    async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.call(work).await
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |reason: String| StoreError::Open {
        path: path.display().to_string(),
        reason,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| open_err(e.to_string()))?;
    }
    let mut conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| open_err(e.to_string()))?;
    // Reading the journal mode is the first read of the file: a file that is not a
    // database fails here with a clear message.
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(|e| open_err(format!("not a Deskline database? {e}")))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite did not switch to WAL");
    }
    // NORMAL is durable across application crashes in WAL mode (only a power loss may lose
    // the last transactions), and keeps writes fast.
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
        .map_err(|e| open_err(e.to_string()))?;
    let migrations = schema::migrations();
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| open_err(e.to_string()))?;
    if current > schema::LATEST {
        return Err(StoreError::TooNew);
    }
    migrations
        .to_latest(&mut conn)
        .map_err(|e| open_err(format!("could not update the database: {e}")))?;
    Ok(conn)
}

fn account_json(account: &Account) -> Result<String, StoreError> {
    to_json(account)
}

const EDIT_COLUMNS: &str =
    "id, account, base, desired, sent, state, base_version, attempts, next_attempt_at, created_at";

/// An outbox row as stored, before its JSON is read.
struct EditRow {
    id: i64,
    account: String,
    base: String,
    desired: String,
    sent: String,
    state: String,
    base_version: i64,
    attempts: i64,
    next_attempt_at: Option<String>,
    created_at: String,
}

fn edit_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<EditRow> {
    Ok(EditRow {
        id: row.get(0)?,
        account: row.get(1)?,
        base: row.get(2)?,
        desired: row.get(3)?,
        sent: row.get(4)?,
        state: row.get(5)?,
        base_version: row.get(6)?,
        attempts: row.get(7)?,
        next_attempt_at: row.get(8)?,
        created_at: row.get(9)?,
    })
}

fn build_edit(row: EditRow) -> Result<OutboxEdit, StoreError> {
    let base: Setting = from_json(&row.base)?;
    Ok(OutboxEdit {
        id: row.id,
        account: AccountId(row.account),
        key: base.key(),
        base,
        base_version: row.base_version,
        desired: from_json(&row.desired)?,
        sent: from_json(&row.sent)?,
        state: from_json(&row.state)?,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        next_attempt_at: row.next_attempt_at.as_deref().map(parse_ts).transpose()?,
        created_at: parse_ts(&row.created_at)?,
    })
}

fn load_edit(conn: &Connection, id: i64) -> Result<OutboxEdit, StoreError> {
    let row = conn
        .query_row(
            &format!("SELECT {EDIT_COLUMNS} FROM outbox WHERE id = ?1"),
            [id],
            edit_from_row,
        )
        .optional()
        .map_err(sql)?
        .ok_or_else(|| StoreError::Missing {
            what: format!("change {id}"),
        })?;
    build_edit(row)
}

fn save_snapshot_tx(
    conn: &Connection,
    account: &AccountId,
    value: &Setting,
    at: OffsetDateTime,
) -> Result<SnapshotRecord, StoreError> {
    let key = value.key().id();
    let json = to_json(value)?;
    let existing: Option<(String, i64)> = conn
        .query_row(
            "SELECT json, version FROM snapshots WHERE account = ?1 AND key = ?2",
            params![account.0, key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)?;
    let version = match existing {
        Some((old, v)) if old == json => v,
        Some((_, v)) => v + 1,
        None => 1,
    };
    conn.execute(
        "INSERT INTO snapshots (account, key, json, version, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account, key) DO UPDATE SET json = excluded.json, version = excluded.version, fetched_at = excluded.fetched_at",
        params![account.0, key, json, version, ts(at)?],
    )
    .map_err(sql)?;
    Ok(SnapshotRecord {
        value: value.clone(),
        version,
        fetched_at: at,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn upsert_account(&self, account: &Account) -> Result<(), StoreError> {
        let (id, json, added) = (
            account.id.0.clone(),
            account_json(account)?,
            ts(account.added_at)?,
        );
        self.call(move |c| {
            c.execute(
                "INSERT INTO accounts (id, json, added_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET json = excluded.json",
                params![id, json, added],
            )
            .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows: Vec<String> = self
            .call(|c| {
                let mut stmt = c
                    .prepare("SELECT json FROM accounts ORDER BY added_at, id")
                    .map_err(sql)?;
                let rows = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(sql)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(sql)?;
                Ok(rows)
            })
            .await?;
        rows.iter().map(|r| from_json(r)).collect()
    }

    async fn remove_account(&self, account: &AccountId) -> Result<(), StoreError> {
        let id = account.0.clone();
        self.call(move |c| {
            let tx = c.transaction().map_err(sql)?;
            search::delete_account(&tx, &id)?;
            tx.execute("DELETE FROM accounts WHERE id = ?1", [&id])
                .map_err(sql)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn set_last_sync(
        &self,
        account: &AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let id = account.0.clone();
        self.call(move |c| {
            let json: Option<String> = c
                .query_row("SELECT json FROM accounts WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql)?;
            let Some(json) = json else {
                return Err(StoreError::Missing {
                    what: format!("account {id}"),
                });
            };
            let mut account: Account = from_json(&json)?;
            account.last_sync_at = Some(at);
            c.execute(
                "UPDATE accounts SET json = ?2 WHERE id = ?1",
                params![id, to_json(&account)?],
            )
            .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn save_profile(&self, account: &AccountId, profile: &Profile) -> Result<(), StoreError> {
        self.put_json("profiles", account, to_json(profile)?).await
    }

    async fn profile(&self, account: &AccountId) -> Result<Option<Profile>, StoreError> {
        self.get_json("profiles", account).await
    }

    async fn save_services(
        &self,
        account: &AccountId,
        services: &[SettingKey],
    ) -> Result<(), StoreError> {
        self.put_json("services", account, to_json(&services)?)
            .await
    }

    async fn services(&self, account: &AccountId) -> Result<Vec<SettingKey>, StoreError> {
        Ok(self
            .get_json("services", account)
            .await?
            .unwrap_or_default())
    }

    async fn save_snapshot(
        &self,
        account: &AccountId,
        value: &Setting,
        fetched_at: OffsetDateTime,
    ) -> Result<SnapshotRecord, StoreError> {
        let (account, value) = (account.clone(), value.clone());
        self.call(move |c| save_snapshot_tx(c, &account, &value, fetched_at))
            .await
    }

    async fn snapshot(
        &self,
        account: &AccountId,
        key: SettingKey,
    ) -> Result<Option<SnapshotRecord>, StoreError> {
        let id = account.0.clone();
        let row: Option<(String, i64, String)> = self
            .call(move |c| {
                c.query_row(
                    "SELECT json, version, fetched_at FROM snapshots WHERE account = ?1 AND key = ?2",
                    params![id, key.id()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(sql)
            })
            .await?;
        row.map(|(json, version, at)| {
            Ok(SnapshotRecord {
                value: from_json(&json)?,
                version,
                fetched_at: parse_ts(&at)?,
            })
        })
        .transpose()
    }

    async fn snapshots(&self, account: &AccountId) -> Result<Vec<SnapshotRecord>, StoreError> {
        let id = account.0.clone();
        let rows: Vec<(String, i64, String)> = self
            .call(move |c| {
                let mut stmt = c
                    .prepare("SELECT json, version, fetched_at FROM snapshots WHERE account = ?1 ORDER BY key")
                    .map_err(sql)?;
                let rows = stmt
                    .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(sql)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(sql)?;
                Ok(rows)
            })
            .await?;
        rows.into_iter()
            .map(|(json, version, at)| {
                Ok(SnapshotRecord {
                    value: from_json(&json)?,
                    version,
                    fetched_at: parse_ts(&at)?,
                })
            })
            .collect()
    }

    async fn save_soft_clients(
        &self,
        account: &AccountId,
        clients: &[SoftClient],
    ) -> Result<(), StoreError> {
        // `SoftClient` never serialises its password.
        self.put_json("soft_clients", account, to_json(&clients)?)
            .await
    }

    async fn soft_clients(&self, account: &AccountId) -> Result<Vec<SoftClient>, StoreError> {
        Ok(self
            .get_json("soft_clients", account)
            .await?
            .unwrap_or_default())
    }

    async fn enqueue_edit(
        &self,
        account: &AccountId,
        base: &Setting,
        base_version: i64,
        desired: &Setting,
    ) -> Result<OutboxEdit, StoreError> {
        let id = account.0.clone();
        let key = desired.key().id();
        let (base, desired) = (to_json(base)?, to_json(desired)?);
        let pending = to_json(&EditState::Pending { last_error: None })?;
        let now = ts(OffsetDateTime::now_utc())?;
        self.call(move |c| {
            let tx = c.transaction().map_err(sql)?;
            // One open edit per setting: a new change keeps the first base (what the user
            // started from), its retry schedule (a request may still be in flight) and its
            // creation time; it replaces the desired value and clears a conflict/refusal.
            tx.execute(
                "INSERT INTO outbox (account, key, base, base_version, desired, state, attempts, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)
                 ON CONFLICT (account, key) DO UPDATE SET desired = excluded.desired, state = excluded.state",
                params![id, key, base, base_version, desired, pending, now],
            )
            .map_err(sql)?;
            let edit_id: i64 = tx
                .query_row("SELECT id FROM outbox WHERE account = ?1 AND key = ?2", params![id, key], |r| r.get(0))
                .map_err(sql)?;
            let edit = load_edit(&tx, edit_id)?;
            tx.commit().map_err(sql)?;
            Ok(edit)
        })
        .await
    }

    async fn edits(&self, account: &AccountId) -> Result<Vec<OutboxEdit>, StoreError> {
        let id = account.0.clone();
        let rows = self
            .call(move |c| {
                let mut stmt = c
                    .prepare(&format!("SELECT {EDIT_COLUMNS} FROM outbox WHERE account = ?1 ORDER BY created_at, id"))
                    .map_err(sql)?;
                let rows = stmt
                    .query_map([id], edit_from_row)
                    .map_err(sql)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(sql)?;
                Ok(rows)
            })
            .await?;
        rows.into_iter().map(build_edit).collect()
    }

    async fn update_edit(&self, edit: &OutboxEdit) -> Result<(), StoreError> {
        let (id, base, state) = (edit.id, to_json(&edit.base)?, to_json(&edit.state)?);
        let (version, attempts) = (edit.base_version, i64::from(edit.attempts));
        let next = edit.next_attempt_at.map(ts).transpose()?;
        let sent = to_json(&edit.sent)?;
        self.call(move |c| {
            let changed = c
                .execute(
                    "UPDATE outbox SET base = ?2, base_version = ?3, state = ?4, attempts = ?5, next_attempt_at = ?6, sent = ?7 WHERE id = ?1",
                    params![id, base, version, state, attempts, next, sent],
                )
                .map_err(sql)?;
            if changed == 0 {
                return Err(StoreError::Missing { what: format!("change {id}") });
            }
            Ok(())
        })
        .await
    }

    async fn complete_edit(
        &self,
        edit_id: i64,
        account: &AccountId,
        applied: &Setting,
        at: OffsetDateTime,
    ) -> Result<SnapshotRecord, StoreError> {
        let (account, applied) = (account.clone(), applied.clone());
        self.call(move |c| {
            let tx = c.transaction().map_err(sql)?;
            tx.execute("DELETE FROM outbox WHERE id = ?1", [edit_id])
                .map_err(sql)?;
            let snap = save_snapshot_tx(&tx, &account, &applied, at)?;
            if let Setting::PersonalDirectory(dir) = &applied {
                search::replace(
                    &tx,
                    &account.0,
                    DirectorySource::Personal,
                    &DirectoryIndexEntry::from_personal(dir),
                )?;
            }
            tx.commit().map_err(sql)?;
            Ok(snap)
        })
        .await
    }

    async fn remove_edit(&self, edit_id: i64) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute("DELETE FROM outbox WHERE id = ?1", [edit_id])
                .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn replace_directory(
        &self,
        account: &AccountId,
        source: DirectorySource,
        entries: &[DirectoryIndexEntry],
    ) -> Result<(), StoreError> {
        let (id, entries) = (account.0.clone(), entries.to_vec());
        self.call(move |c| {
            let tx = c.transaction().map_err(sql)?;
            search::replace(&tx, &id, source, &entries)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn search_directory(
        &self,
        account: &AccountId,
        text: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryIndexEntry>, StoreError> {
        let (id, text) = (account.0.clone(), text.to_owned());
        self.call(move |c| search::search(c, &id, &text, limit))
            .await
    }

    async fn lookup_number(
        &self,
        account: &AccountId,
        number: &str,
    ) -> Result<Option<DirectoryIndexEntry>, StoreError> {
        let (id, number) = (account.0.clone(), number.to_owned());
        self.call(move |c| search::lookup_number(c, &id, &number))
            .await
    }

    async fn replace_call_logs(
        &self,
        account: &AccountId,
        logs: &[CallLogEntry],
    ) -> Result<(), StoreError> {
        self.put_json("call_logs", account, to_json(&logs)?).await
    }

    async fn call_logs(&self, account: &AccountId) -> Result<Vec<CallLogEntry>, StoreError> {
        let mut logs: Vec<CallLogEntry> = self
            .get_json("call_logs", account)
            .await?
            .unwrap_or_default();
        logs.sort_by_key(|l| std::cmp::Reverse(l.time));
        Ok(logs)
    }

    async fn record_call(&self, account: &AccountId, call: &CallRecord) -> Result<(), StoreError> {
        let (id, call_id, started, json) = (
            account.0.clone(),
            call.id.clone(),
            ts(call.started_at)?,
            to_json(call)?,
        );
        self.call(move |c| {
            c.execute(
                "INSERT INTO call_history (account, id, started_at, json) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account, id) DO UPDATE SET json = excluded.json",
                params![id, call_id, started, json],
            )
            .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn call_history(
        &self,
        account: &AccountId,
        limit: usize,
    ) -> Result<Vec<CallRecord>, StoreError> {
        let id = account.0.clone();
        let rows: Vec<String> = self
            .call(move |c| {
                let mut stmt = c
                    .prepare("SELECT json FROM call_history WHERE account = ?1 ORDER BY started_at DESC LIMIT ?2")
                    .map_err(sql)?;
                let rows = stmt
                    .query_map(params![id, limit as i64], |r| r.get::<_, String>(0))
                    .map_err(sql)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(sql)?;
                Ok(rows)
            })
            .await?;
        rows.iter().map(|r| from_json(r)).collect()
    }

    async fn mark_missed_seen(
        &self,
        account: &AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (id, at) = (account.0.clone(), ts(at)?);
        self.call(move |c| {
            c.execute(
                "INSERT INTO missed_seen (account, at) VALUES (?1, ?2)
                 ON CONFLICT (account) DO UPDATE SET at = excluded.at",
                params![id, at],
            )
            .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn missed_seen_at(
        &self,
        account: &AccountId,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let id = account.0.clone();
        let at: Option<String> = self
            .call(move |c| {
                c.query_row("SELECT at FROM missed_seen WHERE account = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql)
            })
            .await?;
        at.map(|a| parse_ts(&a)).transpose()
    }
}

impl SqliteStore {
    async fn put_json(
        &self,
        table: &'static str,
        account: &AccountId,
        json: String,
    ) -> Result<(), StoreError> {
        let id = account.0.clone();
        self.call(move |c| {
            c.execute(
                &format!("INSERT INTO {table} (account, json) VALUES (?1, ?2) ON CONFLICT (account) DO UPDATE SET json = excluded.json"),
                params![id, json],
            )
            .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn get_json<T: DeserializeOwned + Send + 'static>(
        &self,
        table: &'static str,
        account: &AccountId,
    ) -> Result<Option<T>, StoreError> {
        let id = account.0.clone();
        let json: Option<String> = self
            .call(move |c| {
                c.query_row(
                    &format!("SELECT json FROM {table} WHERE account = ?1"),
                    [id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql)
            })
            .await?;
        json.map(|j| from_json(&j)).transpose()
    }
}
