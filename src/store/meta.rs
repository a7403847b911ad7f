//! Small key-value facts in the `meta` table.

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

pub const DESK_PUBLIC_KEY: &str = "desk_public_key";
pub const SETUP_TOKEN_HASH: &str = "setup_token_hash";
/// P3: the release schedule the service last started with, to audit every change.
pub const SCHEDULE: &str = "schedule_in_force";
/// Bumped whenever what the reporter form offers changes (a desk added, keyed or given
/// townships; a reference list imported), by this process or the command line, so the service
/// reads the lists again before the next form or submission uses them.
pub const CHOICES_VERSION: &str = "choices_version";

pub fn get(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn set(conn: &Connection, key: &str, value: &[u8]) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        rusqlite::params![key, value],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, key: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}

/// A number stored as its decimal text.
pub fn get_number(conn: &Connection, key: &str) -> Result<Option<i64>, StoreError> {
    Ok(get(conn, key)?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok()))
}

pub fn set_number(conn: &Connection, key: &str, value: i64) -> Result<(), StoreError> {
    set(conn, key, value.to_string().as_bytes())
}

/// Adds one to the number under `key`.
pub fn bump(conn: &Connection, key: &str) -> Result<(), StoreError> {
    let next = get_number(conn, key)?.unwrap_or(0) + 1;
    set_number(conn, key, next)
}

/// The version of what the form offers (`CHOICES_VERSION`), read with a cached statement:
/// every submission asks.
pub fn choices_version(conn: &Connection) -> Result<i64, StoreError> {
    let value: Option<Vec<u8>> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'choices_version'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(value
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}
