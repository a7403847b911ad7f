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
