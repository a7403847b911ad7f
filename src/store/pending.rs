//! The pending pool (P2, P3): reports filed and not yet released, each copy sealed to the desk
//! it goes to. A random rowid, so neither key order nor page order is filing order, and nothing
//! else: no time, no card, no batch. Written only by the writer thread; read by releases and
//! by a desk's key rotation. Beside it, `pool_waited`: per desk with copies waiting, how many
//! scheduled releases they have waited (P3), a count and never a time.

use std::collections::{BTreeMap, BTreeSet};

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

/// Every pending copy of the desks in `desks`: its desk and its sealed box.
pub fn of_desks(
    conn: &Connection,
    desks: &BTreeSet<i64>,
) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT desk_id, sealed FROM pending WHERE desk_id = ?1")?;
    let mut all = Vec::new();
    for desk_id in desks {
        let rows = stmt.query_map([desk_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        for row in rows {
            all.push(row?);
        }
    }
    Ok(all)
}

/// How many copies are pending for each desk that has any (P11: each desk's release is
/// decided on its own copies).
pub fn per_desk(conn: &Connection) -> Result<BTreeMap<i64, i64>, StoreError> {
    let mut stmt = conn.prepare("SELECT desk_id, COUNT(*) FROM pending GROUP BY desk_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many scheduled releases each desk's pending copies have waited since that desk's
/// copies were last released (P3): one number per desk, never a filing time.
pub fn waited(conn: &Connection) -> Result<BTreeMap<i64, i64>, StoreError> {
    let mut stmt = conn.prepare("SELECT desk_id, releases FROM pool_waited")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Sets desk `desk_id`'s count of scheduled releases waited.
pub fn set_waited(conn: &Connection, desk_id: i64, releases: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO pool_waited (desk_id, releases) VALUES (?1, ?2)
         ON CONFLICT (desk_id) DO UPDATE SET releases = excluded.releases",
    )?
    .execute(params![desk_id, releases])?;
    Ok(())
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

/// Empties the pool of the desks in `desks`, and forgets how long they waited
/// (`secure_delete` zeroes the rows).
pub fn clear(conn: &Connection, desks: &BTreeSet<i64>) -> Result<(), StoreError> {
    for desk_id in desks {
        conn.execute("DELETE FROM pending WHERE desk_id = ?1", [desk_id])?;
        conn.execute("DELETE FROM pool_waited WHERE desk_id = ?1", [desk_id])?;
    }
    Ok(())
}
