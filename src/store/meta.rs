//! Small key-value facts in the `meta` table.

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

pub const DESK_PUBLIC_KEY: &str = "desk_public_key";
pub const SETUP_TOKEN_HASH: &str = "setup_token_hash";
/// P3: how many scheduled releases the pending pool has waited since it was last emptied.
pub const POOL_WAITED: &str = "pool_releases_waited";
/// P3: the release schedule the service last started with, to audit every change.
pub const SCHEDULE: &str = "schedule_in_force";

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
