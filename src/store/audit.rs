//! P8: the append-only audit log. Entries name the actor, the action and an object id; never
//! report content.

use rusqlite::Connection;
use serde::Serialize;

use super::StoreError;

pub fn record(
    conn: &Connection,
    actor: &str,
    action: &str,
    object: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit (at, actor, action, object) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            actor,
            action,
            object
        ],
    )?;
    Ok(())
}

/// P9, for checks that run outside the server (the command line): counts a password guess
/// of `actor` *before* it is evaluated, in the append-only log itself, so that separate
/// runs share one limit. Within one write transaction, the guesses recorded as `attempt`
/// in the last `window`, less the `right` ones, must be under `limit`; then an `attempt`
/// row is added and `true` returned. `false`: nothing added, the guess must not be made.
pub fn count_guess(
    conn: &mut Connection,
    actor: &str,
    attempt: &str,
    right: &str,
    limit: u32,
    window: std::time::Duration,
) -> Result<bool, StoreError> {
    let since = chrono::Local::now()
        - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::zero());
    let since = since.format("%Y-%m-%d %H:%M:%S").to_string();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let count = |action: &str| -> Result<i64, StoreError> {
        Ok(tx.query_row(
            "SELECT COUNT(*) FROM audit WHERE actor = ?1 AND action = ?2 AND at >= ?3",
            rusqlite::params![actor, action, since],
            |r| r.get(0),
        )?)
    };
    let open = count(attempt)? - count(right)?;
    if open >= i64::from(limit) {
        return Ok(false);
    }
    record(&tx, actor, attempt, "")?;
    tx.commit()?;
    Ok(true)
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: String,
}

/// The latest entry of one action.
pub fn last(conn: &Connection, action: &str) -> Result<Option<Entry>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT at, actor, action, object FROM audit WHERE action = ?1
             ORDER BY id DESC LIMIT 1",
            [action],
            |r| {
                Ok(Entry {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    object: r.get(3)?,
                })
            },
        )
        .optional()?)
}

pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<Entry>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT at, actor, action, object FROM audit ORDER BY id DESC LIMIT ?1")?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Entry {
            at: r.get(0)?,
            actor: r.get(1)?,
            action: r.get(2)?,
            object: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
