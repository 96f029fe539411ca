//! The sandbox's state in SQLite: one row per user (its JSON) plus the directory, written
//! in a transaction after each change, read back at start when the file already holds a
//! state (so the demo provider keeps its changes between runs).

use crate::Shared;
use crate::errors::XsiError;
use crate::model::{State, User};
use rusqlite::{Connection, params};
use std::path::Path;

fn db_error(e: impl std::fmt::Display) -> XsiError {
    XsiError::new(500, 5000, format!("the provider's database failed: {e}"))
}

/// Opens the database and returns the stored state, if any.
pub fn open(path: &Path) -> Result<(Connection, Option<State>), String> {
    let conn = Connection::open(path).map_err(|e| e.to_string())?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, json TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS people (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);",
    )
    .map_err(|e| e.to_string())?;
    let mut users = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT json FROM users ORDER BY rowid")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| e.to_string())?;
        for row in rows {
            let json = row.map_err(|e| e.to_string())?;
            users.push(serde_json::from_str::<User>(&json).map_err(|e| e.to_string())?);
        }
    }
    if users.is_empty() {
        return Ok((conn, None));
    }
    let people: String = conn
        .query_row("SELECT json FROM people WHERE id = 1", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let people = serde_json::from_str(&people).map_err(|e| e.to_string())?;
    Ok((
        conn,
        Some(State {
            users,
            people,
            enterprise_generated: 0,
        }),
    ))
}

/// Writes the whole state (at seeding).
pub fn save_all(conn: &mut Connection, state: &State) -> Result<(), String> {
    let tx = conn.transaction().map_err(|e| e.to_string())?;
    tx.execute("DELETE FROM users", [])
        .map_err(|e| e.to_string())?;
    for u in &state.users {
        let json = serde_json::to_string(u).map_err(|e| e.to_string())?;
        tx.execute(
            "INSERT INTO users (user_id, json) VALUES (?1, ?2)",
            params![u.user_id, json],
        )
        .map_err(|e| e.to_string())?;
    }
    let people = serde_json::to_string(&state.people).map_err(|e| e.to_string())?;
    tx.execute(
        "INSERT OR REPLACE INTO people (id, json) VALUES (1, ?1)",
        [people],
    )
    .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())
}

/// Writes one user after a change, off the async threads.
pub async fn save_user(shared: &Shared, user: &User) -> Result<(), XsiError> {
    let json = serde_json::to_string(user).map_err(db_error)?;
    let id = user.user_id.clone();
    let db = shared.db.clone();
    tokio::task::spawn_blocking(move || {
        let conn = db.lock().map_err(db_error)?;
        conn.execute(
            "INSERT OR REPLACE INTO users (user_id, json) VALUES (?1, ?2)",
            params![id, json],
        )
        .map_err(db_error)?;
        Ok::<(), XsiError>(())
    })
    .await
    .map_err(db_error)?
}
