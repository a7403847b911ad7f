//! The investigation desks (P11): the city's and the districts'. Each has its own key pair
//! (P5); this module stores their public halves and the wraps under the recovery codes.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::StoreError;
use crate::crypto::{PublicKey, WrappedKey};

/// The code of the desk every deployment has from `init`.
pub const CITY: &str = "city";
/// Its id (the schema creates it first).
pub const CITY_ID: i64 = 1;

/// A desk as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Desk {
    pub id: i64,
    pub code: String,
    pub name: String,
    #[serde(skip)]
    pub public_key: Option<PublicKey>,
    /// The digest of the desk as approved (src/desk/approval.rs); `None`: never approved.
    #[serde(skip)]
    pub approved: Option<String>,
}

impl Desk {
    pub fn is_city(&self) -> bool {
        self.code == CITY
    }
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Desk> {
    let key: Option<Vec<u8>> = r.get(3)?;
    Ok(Desk {
        id: r.get(0)?,
        code: r.get(1)?,
        name: r.get(2)?,
        public_key: key
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .map(PublicKey::from_bytes),
        approved: r.get(4)?,
    })
}

const SELECT: &str = "SELECT id, code, name, public_key, approved FROM desks";

/// Every desk, the city's first.
pub fn list(conn: &Connection) -> Result<Vec<Desk>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY id"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Desk, StoreError> {
    conn.prepare_cached(&format!("{SELECT} WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or(StoreError::NotFound)
}

pub fn by_code(conn: &Connection, code: &str) -> Result<Option<Desk>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE code = ?1"))?
        .query_row([code], from_row)
        .optional()?)
}

/// The city desk (it exists from `init`).
pub fn city(conn: &Connection) -> Result<Desk, StoreError> {
    by_code(conn, CITY)?.ok_or(StoreError::NotFound)
}

/// The desks whose cases an investigator of `desk_id` may see (P11): the city desk sees the
/// districts' too; a district desk only its own.
pub fn visible_from(conn: &Connection, desk_id: i64) -> Result<Vec<i64>, StoreError> {
    let desk = get(conn, desk_id)?;
    if desk.is_city() {
        Ok(list(conn)?.into_iter().map(|d| d.id).collect())
    } else {
        Ok(vec![desk.id])
    }
}

/// Adds a district desk; its key is made when its first investigator enrols.
pub fn add(conn: &Connection, code: &str, name: &str) -> Result<i64, StoreError> {
    let named: Option<i64> = conn
        .query_row("SELECT id FROM desks WHERE name = ?1", [name], |r| r.get(0))
        .optional()?;
    if named.is_some() {
        return Err(StoreError::Conflict(format!(
            "a desk named `{name}` already exists"
        )));
    }
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO desks (code, name) VALUES (?1, ?2)",
        params![code, name],
    )?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a desk with the code `{code}` already exists"
        )));
    }
    let id = conn.last_insert_rowid();
    super::meta::bump(conn, super::meta::CHOICES_VERSION)?;
    Ok(id)
}

/// The townships of each district desk, as (township, desk id), in the order they were given.
pub fn townships(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT name, desk_id FROM desk_townships ORDER BY rowid")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replaces the townships of district desk `desk_id`; a township already given to another
/// desk is refused, naming it.
pub fn set_townships(conn: &Connection, desk_id: i64, names: &[String]) -> Result<(), StoreError> {
    conn.execute("DELETE FROM desk_townships WHERE desk_id = ?1", [desk_id])?;
    let mut insert = conn
        .prepare_cached("INSERT OR IGNORE INTO desk_townships (name, desk_id) VALUES (?1, ?2)")?;
    for name in names {
        if insert.execute(params![name, desk_id])? == 0 {
            return Err(StoreError::Conflict(format!(
                "the township `{name}` already belongs to another desk"
            )));
        }
    }
    super::meta::bump(conn, super::meta::CHOICES_VERSION)
}

/// Records the digest of desk `id` as approved (`None`: not approved).
pub fn set_approved(conn: &Connection, id: i64, digest: Option<&str>) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE desks SET approved = ?1 WHERE id = ?2",
        params![digest, id],
    )?;
    super::meta::bump(conn, super::meta::CHOICES_VERSION)
}

/// The townships of desk `desk_id`, in the order they were given.
pub fn townships_of(conn: &Connection, desk_id: i64) -> Result<Vec<String>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT name FROM desk_townships WHERE desk_id = ?1 ORDER BY rowid")?;
    let rows = stmt.query_map([desk_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn set_public_key(conn: &Connection, id: i64, key: &PublicKey) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE desks SET public_key = ?1 WHERE id = ?2",
        params![&key.as_bytes()[..], id],
    )?;
    super::meta::bump(conn, super::meta::CHOICES_VERSION)
}

pub fn put_recovery(conn: &Connection, desk_id: i64, w: &WrappedKey) -> Result<(), StoreError> {
    // P5: the old wrap goes first, so `secure_delete` zeroes it rather than leave it in a page.
    conn.execute("DELETE FROM desk_recovery WHERE id = ?1", [desk_id])?;
    conn.execute(
        "INSERT INTO desk_recovery (id, salt, m_kib, t, p, nonce, wrapped)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            desk_id,
            &w.salt[..],
            w.params.m_kib,
            w.params.t,
            w.params.p,
            &w.nonce[..],
            &w.ciphertext
        ],
    )?;
    Ok(())
}

pub fn recovery(conn: &Connection, desk_id: i64) -> Result<Option<WrappedKey>, StoreError> {
    conn.query_row(
        "SELECT salt, m_kib, t, p, nonce, wrapped FROM desk_recovery WHERE id = ?1",
        [desk_id],
        |r| super::staff::wrap_from_row(r, 0),
    )
    .optional()?
    .map(super::staff::to_wrapped)
    .transpose()
}
