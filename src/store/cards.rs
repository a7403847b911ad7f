//! Card batches: issue, list, revoke. P1: only keyed hashes of codes are stored, each under
//! its batch's key, and the card table holds nothing but the hash — so no copy of the database
//! shows how many cards of one batch are left, only the total.

use chrono::NaiveDate;
use rand::rngs::OsRng;
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::StoreError;
use crate::crypto::{BatchKey, CardHash, CardHasher};
use crate::domain::{BatchNumber, CardCode};

/// A batch as staff see it. P3: no count of spent cards (none is stored).
#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    pub id: i64,
    pub label: String,
    pub issued_on: String,
    pub expires_on: Option<String>,
    pub revoked_on: Option<String>,
    pub issued: i64,
}

/// Issues `count` fresh cards in one transaction; returns the batch number and the codes,
/// which exist nowhere else once the caller has printed them. `progress` is called now and
/// then with the number done.
pub fn issue_batch(
    conn: &mut Connection,
    hasher: &CardHasher,
    label: &str,
    expires_on: Option<NaiveDate>,
    count: u32,
    mut progress: impl FnMut(u32),
) -> Result<(i64, Vec<CardCode>), StoreError> {
    let tx = conn.transaction()?;
    let next: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM batches", [], |r| {
        r.get(0)
    })?;
    let number = BatchNumber::new(next).ok_or_else(|| {
        StoreError::Conflict(format!(
            "all {} batch numbers a card can carry are used",
            BatchNumber::MAX
        ))
    })?;
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    tx.execute(
        "INSERT INTO batches (id, label, issued_on, expires_on, issued, salt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            next,
            label,
            super::today().to_string(),
            expires_on.map(|d| d.to_string()),
            count,
            &salt[..]
        ],
    )?;
    let key = hasher.batch_key(&salt);
    let mut codes = Vec::with_capacity(count as usize);
    {
        let mut insert = tx.prepare("INSERT OR IGNORE INTO cards (hash) VALUES (?1)")?;
        while codes.len() < count as usize {
            let code = CardCode::generate(number, &mut OsRng);
            let CardHash(hash) = key.hash(&code);
            // A collision of 80 random bits is not expected; if one happens, draw again.
            if insert.execute([&hash[..]])? == 1 {
                codes.push(code);
                if codes.len().is_multiple_of(5000) {
                    progress(codes.len() as u32);
                }
            }
        }
    }
    tx.commit()?;
    progress(count);
    Ok((next, codes))
}

pub fn list_batches(conn: &Connection) -> Result<Vec<Batch>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, label, issued_on, expires_on, revoked_on, issued FROM batches ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Batch {
            id: r.get(0)?,
            label: r.get(1)?,
            issued_on: r.get(2)?,
            expires_on: r.get(3)?,
            revoked_on: r.get(4)?,
            issued: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Revokes every unused card of a batch: its key stops working. Its rows stay, mixed with
/// everyone's — finding them would need the printed codes — and can never file.
pub fn revoke_batch(conn: &mut Connection, batch_id: i64) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    let revoked: Option<Option<String>> = tx
        .query_row(
            "SELECT revoked_on FROM batches WHERE id = ?1",
            [batch_id],
            |r| r.get(0),
        )
        .optional()?;
    match revoked {
        None => return Err(StoreError::NotFound),
        Some(Some(day)) => {
            return Err(StoreError::Conflict(format!(
                "batch {batch_id} was already revoked on {day}"
            )))
        }
        Some(None) => {}
    }
    tx.execute(
        "UPDATE batches SET revoked_on = ?1 WHERE id = ?2",
        params![super::today().to_string(), batch_id],
    )?;
    tx.commit()?;
    Ok(())
}

/// The key of a batch, if the batch exists (whatever its state: salts never change, so a
/// key may be cached for good).
pub fn batch_key(
    conn: &Connection,
    hasher: &CardHasher,
    batch: BatchNumber,
) -> Result<Option<BatchKey>, StoreError> {
    let salt: Option<Vec<u8>> = conn
        .query_row(
            "SELECT salt FROM batches WHERE id = ?1",
            [i64::from(batch.get())],
            |r| r.get(0),
        )
        .optional()?;
    Ok(salt
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
        .map(|s| hasher.batch_key(&s)))
}

/// The SQL condition that batch `?2` may file on day `?3`: not revoked, not expired.
pub const BATCH_OPEN: &str = "EXISTS (SELECT 1 FROM batches WHERE id = ?2 AND revoked_on IS NULL
     AND (expires_on IS NULL OR expires_on >= ?3))";

/// Whether a card would file now: unused, and its batch neither revoked nor expired. A read
/// that lets refused cards cost neither a seal nor a write; the writer decides for good.
pub fn would_file(
    conn: &Connection,
    hash: &CardHash,
    batch: BatchNumber,
) -> Result<bool, StoreError> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM cards WHERE hash = ?1) AND {BATCH_OPEN}");
    Ok(conn.prepare_cached(&sql)?.query_row(
        params![
            &hash.0[..],
            i64::from(batch.get()),
            super::today().to_string()
        ],
        |r| r.get(0),
    )?)
}

/// Cards issued that are no longer in the table: the number of reports filed. Revoked and
/// expired cards stay in the table, so this holds whatever was revoked. Used by consistency
/// checks, never shown to staff (P3).
pub fn spent_total(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT (SELECT COALESCE(SUM(issued), 0) FROM batches) - (SELECT COUNT(*) FROM cards)",
        [],
        |r| r.get(0),
    )?)
}
