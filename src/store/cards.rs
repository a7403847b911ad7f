//! Card batches: issue, list, revoke. P1: only keyed hashes of codes are stored.

use chrono::NaiveDate;
use rand::rngs::OsRng;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::StoreError;
use crate::crypto::{CardHash, CardHasher};
use crate::domain::CardCode;

/// A batch as staff see it. P3: no count of spent cards.
#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    pub id: i64,
    pub label: String,
    pub issued_on: String,
    pub expires_on: Option<String>,
    pub revoked_on: Option<String>,
    pub issued: i64,
}

/// Issues `count` fresh cards in one transaction; returns the batch id and the codes, which
/// exist nowhere else once the caller has printed them. `progress` is called now and then
/// with the number done.
pub fn issue_batch(
    conn: &mut Connection,
    hasher: &CardHasher,
    label: &str,
    expires_on: Option<NaiveDate>,
    count: u32,
    mut progress: impl FnMut(u32),
) -> Result<(i64, Vec<CardCode>), StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO batches (label, issued_on, expires_on, issued) VALUES (?1, ?2, ?3, ?4)",
        params![
            label,
            super::today().to_string(),
            expires_on.map(|d| d.to_string()),
            count
        ],
    )?;
    let batch_id = tx.last_insert_rowid();
    let mut codes = Vec::with_capacity(count as usize);
    {
        let mut insert =
            tx.prepare("INSERT OR IGNORE INTO cards (hash, batch_id) VALUES (?1, ?2)")?;
        while codes.len() < count as usize {
            let code = CardCode::generate(&mut OsRng);
            let CardHash(hash) = hasher.hash(&code);
            // A collision of 95 random bits is not expected; if one happens, draw again.
            if insert.execute(params![&hash[..], batch_id])? == 1 {
                codes.push(code);
                if codes.len().is_multiple_of(5000) {
                    progress(codes.len() as u32);
                }
            }
        }
    }
    tx.commit()?;
    progress(count);
    Ok((batch_id, codes))
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

/// Revokes every unused card of a batch (their rows are deleted) and marks the batch.
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
    let withdrawn = tx.execute("DELETE FROM cards WHERE batch_id = ?1", [batch_id])?;
    tx.execute(
        "UPDATE batches SET revoked_on = ?1, withdrawn = ?2 WHERE id = ?3",
        params![super::today().to_string(), withdrawn as i64, batch_id],
    )?;
    tx.commit()?;
    Ok(())
}

/// Cards issued and not revoked that are no longer in the table: the number of reports
/// filed. Used by consistency checks, never shown to staff (P3).
pub fn spent_total(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT (SELECT COALESCE(SUM(issued - withdrawn), 0) FROM batches)
              - (SELECT COUNT(*) FROM cards)",
        [],
        |r| r.get(0),
    )?)
}
