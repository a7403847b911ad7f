//! The pending pool (P2, P3): reports filed and not yet released, each copy sealed to the desk
//! it goes to. A random rowid, so neither key order nor page order is filing order, and nothing
//! else: no time, no card, no batch. Written only by the writer thread; read by releases and
//! by a desk's key rotation.

use rand::rngs::OsRng;
use rand::RngCore;
use rusqlite::{params, Connection};

use super::StoreError;

/// A random positive rowid.
fn random_rowid() -> i64 {
    (OsRng.next_u64() >> 1).max(1) as i64
}

/// Adds one sealed copy for desk `desk_id`; a rowid collision draws again.
pub fn insert(conn: &Connection, desk_id: i64, sealed: &[u8]) -> Result<(), StoreError> {
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO pending (id, desk_id, sealed) VALUES (?1, ?2, ?3)",
    )?;
    while insert.execute(params![random_rowid(), desk_id, sealed])? == 0 {}
    Ok(())
}

/// Every pending copy: its desk and its sealed box.
pub fn all(conn: &Connection) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare("SELECT desk_id, sealed FROM pending")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Reports pending: every report has a copy for the city desk (P11), whichever district
/// desk also gets one.
pub fn reports(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM pending WHERE desk_id = (SELECT id FROM desks WHERE code = 'city')",
        [],
        |r| r.get(0),
    )?)
}

/// Every pending copy for one desk, by row.
pub fn of_desk(conn: &Connection, desk_id: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare("SELECT id, sealed FROM pending WHERE desk_id = ?1")?;
    let rows = stmt.query_map([desk_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn replace_sealed(conn: &Connection, id: i64, sealed: &[u8]) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE pending SET sealed = ?2 WHERE id = ?1",
        params![id, sealed],
    )?;
    Ok(())
}

/// Empties the pool (`secure_delete` zeroes the rows).
pub fn clear(conn: &Connection) -> Result<(), StoreError> {
    conn.execute("DELETE FROM pending", [])?;
    Ok(())
}
