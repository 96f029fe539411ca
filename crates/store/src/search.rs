//! The directory index and search as you type.
//!
//! Each entry is a row of `directory` plus two contentless FTS5 rows with the same rowid:
//! `directory_words` (name, e-mail, department; unicode61 with diacritics removed and
//! prefix indexes, so "zoe" finds "Zoë" and "mul" finds "Müller") and `directory_digits`
//! (every digit run of number, extension and mobile, trigram-tokenised, so three or more
//! digits typed match anywhere inside a number). A query is split into words: a word with
//! three or more digits matches digits, a two-digit word matches extensions that start
//! with it, any other word must prefix-match a word of the name, e-mail or department. All
//! words must match. User text never reaches FTS5 syntax unquoted. Work per keystroke is
//! bounded (see [`search`]).

use crate::writer::{corrupt, sql};
use deskline_core::{DirectoryIndexEntry, DirectorySource, StoreError};
use rusqlite::{Connection, OptionalExtension, Transaction, params, params_from_iter};

fn rank(source: DirectorySource) -> i64 {
    match source {
        DirectorySource::Personal => 0,
        DirectorySource::Group => 1,
        DirectorySource::Enterprise => 2,
    }
}

fn digits_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Removes an account's index rows (FTS rows first: they have no foreign key).
pub fn delete_account(tx: &Transaction<'_>, account: &str) -> Result<(), StoreError> {
    for table in ["directory_words", "directory_digits"] {
        tx.execute(
            &format!(
                "DELETE FROM {table} WHERE rowid IN (SELECT id FROM directory WHERE account = ?1)"
            ),
            [account],
        )
        .map_err(sql)?;
    }
    tx.execute("DELETE FROM directory WHERE account = ?1", [account])
        .map_err(sql)?;
    Ok(())
}

/// Replaces one source's entries of an account.
pub fn replace(
    tx: &Transaction<'_>,
    account: &str,
    source: DirectorySource,
    entries: &[DirectoryIndexEntry],
) -> Result<(), StoreError> {
    for table in ["directory_words", "directory_digits"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE rowid IN (SELECT id FROM directory WHERE account = ?1 AND source = ?2)"),
            params![account, source.as_str()],
        )
        .map_err(sql)?;
    }
    tx.execute(
        "DELETE FROM directory WHERE account = ?1 AND source = ?2",
        params![account, source.as_str()],
    )
    .map_err(sql)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO directory (account, source, source_rank, name, json, digits, extension) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(sql)?;
    let mut words = tx
        .prepare_cached(
            "INSERT INTO directory_words (rowid, name, email, department) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(sql)?;
    let mut digits = tx
        .prepare_cached("INSERT INTO directory_digits (rowid, digits) VALUES (?1, ?2)")
        .map_err(sql)?;
    for entry in entries {
        let all_digits = [&entry.number, &entry.extension, &entry.mobile]
            .iter()
            .filter_map(|v| v.as_deref())
            .map(digits_of)
            .filter(|d| !d.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let json = serde_json::to_string(entry).map_err(corrupt)?;
        insert
            .execute(params![
                account,
                source.as_str(),
                rank(source),
                entry.name,
                json,
                all_digits,
                entry.extension
            ])
            .map_err(sql)?;
        let id = tx.last_insert_rowid();
        words
            .execute(params![
                id,
                entry.name,
                entry.email.as_deref().unwrap_or(""),
                entry.department.as_deref().unwrap_or("")
            ])
            .map_err(sql)?;
        digits.execute(params![id, all_digits]).map_err(sql)?;
    }
    Ok(())
}

/// An FTS5 string literal: the text in double quotes, quotes doubled.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// What one typed word asks for.
enum Term {
    Word(String),
    Digits(String),
    ExtensionPrefix(String),
}

fn terms(text: &str) -> Vec<Term> {
    let mut out = Vec::new();
    for raw in text.split_whitespace().take(8) {
        let digits = digits_of(raw);
        let only_digits_and_separators = raw
            .chars()
            .all(|c| c.is_ascii_digit() || "+-().".contains(c));
        if only_digits_and_separators && digits.len() >= 3 {
            out.push(Term::Digits(digits));
        } else if only_digits_and_separators && digits.len() == 2 {
            out.push(Term::ExtensionPrefix(digits));
        } else {
            // Keep letters and digits of the word; FTS5 tokenises the same way.
            let word: String = raw
                .chars()
                .filter(|c| c.is_alphanumeric())
                .take(64)
                .collect();
            if !word.is_empty() {
                out.push(Term::Word(word));
            }
        }
    }
    out
}

/// How many candidates one phase of a search reads at most: the work per keystroke stays
/// bounded however many entries match a short prefix.
const WINDOW: usize = 200;

/// Search as you type; see the module doc. Two bounded phases: names that start with the
/// first word typed, then any entry matching every word; each reads at most [`WINDOW`]
/// candidates, sorted personal → group → enterprise, then by name.
pub fn search(
    conn: &Connection,
    account: &str,
    text: &str,
    limit: usize,
) -> Result<Vec<DirectoryIndexEntry>, StoreError> {
    let terms = terms(text);
    if terms.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let limit = limit.min(WINDOW);
    let words: Vec<&str> = terms
        .iter()
        .filter_map(|t| match t {
            Term::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    let mut found: Vec<(i64, i64, String, String)> = Vec::new();
    if let Some((first, rest)) = words.split_first() {
        let mut anchored = vec![format!("{{name}} : ^{}*", quoted(first))];
        anchored.extend(rest.iter().map(|w| format!("{}*", quoted(w))));
        found.extend(phase(
            conn,
            account,
            Some(&anchored.join(" AND ")),
            &terms,
            &[],
        )?);
        if found.len() < limit {
            let all: Vec<String> = words.iter().map(|w| format!("{}*", quoted(w))).collect();
            let seen: Vec<i64> = found.iter().map(|f| f.0).collect();
            found.extend(phase(
                conn,
                account,
                Some(&all.join(" AND ")),
                &terms,
                &seen,
            )?);
        }
    } else {
        found.extend(phase(conn, account, None, &terms, &[])?);
    }
    // Anchored matches come first: each phase was sorted on its own.
    let mut out = Vec::with_capacity(limit);
    for (_, _, _, json) in found.into_iter().take(limit) {
        out.push(serde_json::from_str(&json).map_err(corrupt)?);
    }
    Ok(out)
}

/// One bounded phase: candidates from the word index (or the digit/extension filters when
/// no word was typed), filtered by every digit and extension term, sorted.
fn phase(
    conn: &Connection,
    account: &str,
    word_query: Option<&str>,
    terms: &[Term],
    exclude: &[i64],
) -> Result<Vec<(i64, i64, String, String)>, StoreError> {
    let mut args: Vec<String> = vec![account.to_owned()];
    // Drive from an index so the phase stops after the window: the word index, else the
    // digit index (first digit term), else the extension column.
    let driving_digits = match word_query {
        Some(_) => None,
        None => terms.iter().position(|t| matches!(t, Term::Digits(_))),
    };
    let mut sql_text = match (word_query, driving_digits) {
        (Some(q), _) => {
            args.push(q.to_owned());
            String::from(
                "SELECT d.id, d.source_rank, d.name, d.json FROM directory_words w JOIN directory d ON d.id = w.rowid \
                 WHERE directory_words MATCH ?2 AND d.account = ?1",
            )
        }
        (None, Some(i)) => {
            let Term::Digits(d) = &terms[i] else {
                return Ok(Vec::new());
            };
            args.push(quoted(d));
            String::from(
                "SELECT d.id, d.source_rank, d.name, d.json FROM directory_digits g JOIN directory d ON d.id = g.rowid \
                 WHERE directory_digits MATCH ?2 AND d.account = ?1",
            )
        }
        (None, None) => String::from(
            "SELECT d.id, d.source_rank, d.name, d.json FROM directory d WHERE d.account = ?1",
        ),
    };
    for (i, term) in terms.iter().enumerate() {
        match term {
            Term::Digits(_) if Some(i) == driving_digits => {}
            Term::Digits(d) => {
                args.push(quoted(d));
                sql_text.push_str(&format!(
                    " AND d.id IN (SELECT rowid FROM directory_digits WHERE directory_digits MATCH ?{})",
                    args.len()
                ));
            }
            Term::ExtensionPrefix(d) => {
                args.push(format!("{d}%"));
                sql_text.push_str(&format!(" AND d.extension LIKE ?{}", args.len()));
            }
            Term::Word(_) => {}
        }
    }
    sql_text.push_str(&format!(" LIMIT {}", WINDOW + exclude.len()));
    let mut stmt = conn.prepare_cached(&sql_text).map_err(sql)?;
    let mut rows = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(sql)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql)?;
    rows.retain(|r| !exclude.contains(&r.0));
    rows.truncate(WINDOW);
    rows.sort_by_key(|a| (a.1, a.2.to_lowercase()));
    Ok(rows)
}

/// The entry whose number, extension or mobile has the same digits; national and
/// country-code forms of a 10-digit number match each other (last 10 digits).
pub fn lookup_number(
    conn: &Connection,
    account: &str,
    number: &str,
) -> Result<Option<DirectoryIndexEntry>, StoreError> {
    let digits = digits_of(number);
    if digits.len() < 2 {
        return Ok(None);
    }
    let tail = if digits.len() > 10 {
        &digits[digits.len() - 10..]
    } else {
        &digits[..]
    };
    let candidates: Vec<String> = if tail.len() >= 3 {
        let mut stmt = conn
            .prepare_cached(
                "SELECT d.json, d.digits FROM directory d WHERE d.account = ?1 AND d.id IN (SELECT rowid FROM directory_digits WHERE directory_digits MATCH ?2) ORDER BY d.source_rank LIMIT 50",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map(params![account, quoted(tail)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)?;
        rows.into_iter()
            .filter(|(_, all)| {
                all.split(' ').any(|d| {
                    let t = if d.len() > 10 { &d[d.len() - 10..] } else { d };
                    t == tail
                })
            })
            .map(|(json, _)| json)
            .collect()
    } else {
        conn.query_row(
            "SELECT json FROM directory WHERE account = ?1 AND extension = ?2 ORDER BY source_rank LIMIT 1",
            params![account, tail],
            |r| r.get::<_, String>(0),
        )
        .optional()
        .map_err(sql)?
        .into_iter()
        .collect()
    };
    candidates
        .first()
        .map(|j| serde_json::from_str(j).map_err(corrupt))
        .transpose()
}
