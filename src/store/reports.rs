//! Released reports: what the investigators' queue reads. P3: the pending pool is never read
//! here.

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;
use crate::domain::ReportStatus;

/// A released report as stored: sealed content, release day, status.
#[derive(Debug, Clone)]
pub struct StoredReport {
    pub id: i64,
    pub released_on: String,
    pub status: ReportStatus,
    pub sealed: Vec<u8>,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredReport> {
    let status: String = r.get(2)?;
    Ok(StoredReport {
        id: r.get(0)?,
        released_on: r.get(1)?,
        status: ReportStatus::parse(&status).unwrap_or(ReportStatus::New),
        sealed: r.get(3)?,
    })
}

/// Every released report, newest release first.
pub fn all(conn: &Connection) -> Result<Vec<StoredReport>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, released_on, status, sealed FROM reports ORDER BY released_on DESC, id",
    )?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<StoredReport, StoreError> {
    conn.query_row(
        "SELECT id, released_on, status, sealed FROM reports WHERE id = ?1",
        [id],
        from_row,
    )
    .optional()?
    .ok_or(StoreError::NotFound)
}

/// Number of reports filed: pending and released. Consistency checks only (P3).
pub fn stored_total(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT (SELECT COUNT(*) FROM pending) + (SELECT COUNT(*) FROM reports)",
        [],
        |r| r.get(0),
    )?)
}
