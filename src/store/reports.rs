//! Released reports: what the investigators' queue reads. P3: the pending pool is never read
//! here.

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;
use crate::domain::ReportStatus;

/// How a released report's content is boxed (see `crypto::desk_box`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boxed {
    /// As filed: sealed to the desk public key.
    Public,
    /// Boxed again under the key derived from the desk private key.
    Desk,
}

/// A released report as stored: sealed content, release day, status.
#[derive(Debug, Clone)]
pub struct StoredReport {
    pub id: i64,
    /// The desk this copy was sealed to (P11).
    pub desk_id: i64,
    pub released_on: String,
    pub status: ReportStatus,
    pub sealed: Vec<u8>,
    pub boxed: Boxed,
    pub assignee: Option<i64>,
    pub case_id: Option<i64>,
}

const COLUMNS: &str = "id, released_on, status, sealed, assignee, case_id, boxed, desk_id";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredReport> {
    let status: String = r.get(2)?;
    Ok(StoredReport {
        id: r.get(0)?,
        released_on: r.get(1)?,
        status: ReportStatus::parse(&status).unwrap_or(ReportStatus::New),
        sealed: r.get(3)?,
        assignee: r.get(4)?,
        case_id: r.get(5)?,
        boxed: if r.get_ref(6)?.as_str()? == "desk" {
            Boxed::Desk
        } else {
            Boxed::Public
        },
        desk_id: r.get(7)?,
    })
}

/// Every report released to one desk, newest release first.
pub fn of_desk(conn: &Connection, desk_id: i64) -> Result<Vec<StoredReport>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM reports WHERE desk_id = ?1 ORDER BY released_on DESC, id"
    ))?;
    let rows = stmt.query_map([desk_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The ids of every report released to one desk.
pub fn ids_of_desk(conn: &Connection, desk_id: i64) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare("SELECT id FROM reports WHERE desk_id = ?1")?;
    let rows = stmt.query_map([desk_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stores a report boxed under a (new) desk key in place of its sealed form.
pub fn replace_sealed(conn: &Connection, id: i64, boxed: &[u8]) -> Result<(), StoreError> {
    changed(conn.execute(
        "UPDATE reports SET sealed = ?2, boxed = 'desk' WHERE id = ?1",
        rusqlite::params![id, boxed],
    )?)
}

/// Every note on the reports of one desk: its id and sealed text.
pub fn notes_of_desk(conn: &Connection, desk_id: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT n.id, n.sealed FROM notes n JOIN reports r ON r.id = n.report_id
         WHERE r.desk_id = ?1",
    )?;
    let rows = stmt.query_map([desk_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn replace_note(conn: &Connection, id: i64, sealed: &[u8]) -> Result<(), StoreError> {
    changed(conn.execute(
        "UPDATE notes SET sealed = ?2 WHERE id = ?1",
        rusqlite::params![id, sealed],
    )?)
}

pub fn get(conn: &Connection, id: i64) -> Result<StoredReport, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM reports WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or(StoreError::NotFound)
}

/// Stores reports boxed again under the desk key in place of their sealed form, a few
/// hundred per transaction so that filings never wait long for the write lock. A report
/// boxed meanwhile by another session, or deleted, is left alone.
pub fn store_desk_boxes(conn: &mut Connection, boxes: &[(i64, Vec<u8>)]) -> Result<(), StoreError> {
    for chunk in boxes.chunks(500) {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE reports SET sealed = ?2, boxed = 'desk' WHERE id = ?1 AND boxed = 'public'",
            )?;
            for (id, boxed) in chunk {
                stmt.execute(rusqlite::params![id, boxed])?;
            }
        }
        tx.commit()?;
    }
    Ok(())
}

/// Number of reports filed: pending and released. Consistency checks only (P3).
pub fn stored_total(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT (SELECT COUNT(*) FROM pending) + (SELECT COUNT(*) FROM reports)",
        [],
        |r| r.get(0),
    )?)
}

fn changed(n: usize) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub fn set_status(conn: &Connection, id: i64, status: ReportStatus) -> Result<(), StoreError> {
    changed(conn.execute(
        "UPDATE reports SET status = ?1 WHERE id = ?2",
        rusqlite::params![status.code(), id],
    )?)
}

pub fn set_assignee(conn: &Connection, id: i64, staff_id: Option<i64>) -> Result<(), StoreError> {
    changed(conn.execute(
        "UPDATE reports SET assignee = ?1 WHERE id = ?2",
        rusqlite::params![staff_id, id],
    )?)
}

pub fn set_case(conn: &Connection, id: i64, case_id: Option<i64>) -> Result<(), StoreError> {
    changed(conn.execute(
        "UPDATE reports SET case_id = ?1 WHERE id = ?2",
        rusqlite::params![case_id, id],
    )?)
}

/// A note as stored: sealed to the desk key.
pub struct StoredNote {
    pub author: String,
    pub written_on: String,
    pub sealed: Vec<u8>,
}

pub fn add_note(
    conn: &Connection,
    report_id: i64,
    author: i64,
    sealed: &[u8],
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO notes (report_id, author, written_on, sealed) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![report_id, author, super::today().to_string(), sealed],
    )?;
    Ok(())
}

pub fn notes(conn: &Connection, report_id: i64) -> Result<Vec<StoredNote>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT s.username, n.written_on, n.sealed FROM notes n JOIN staff s ON s.id = n.author
         WHERE n.report_id = ?1 ORDER BY n.id",
    )?;
    let rows = stmt.query_map([report_id], |r| {
        Ok(StoredNote {
            author: r.get(0)?,
            written_on: r.get(1)?,
            sealed: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The desk's own fields of a released report, without its sealed content.
pub struct DeskFields {
    pub id: i64,
    pub status: ReportStatus,
    pub assignee: Option<i64>,
    pub case_id: Option<i64>,
}

/// The desk fields of every report released to one desk, in queue order.
pub fn desk_fields(conn: &Connection, desk_id: i64) -> Result<Vec<DeskFields>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, status, assignee, case_id FROM reports WHERE desk_id = ?1
         ORDER BY released_on DESC, id",
    )?;
    let rows = stmt.query_map([desk_id], |r| {
        let status: String = r.get(1)?;
        Ok(DeskFields {
            id: r.get(0)?,
            status: ReportStatus::parse(&status).unwrap_or(ReportStatus::New),
            assignee: r.get(2)?,
            case_id: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The stored reports with these ids, handed to `f` at most `batch` at a time, so that a
/// session opening 100,000 reports never holds all their ciphertexts at once. A long list is
/// read in one pass over the table, in storage order.
pub fn with_ids_in_batches<E: From<StoreError>>(
    conn: &Connection,
    ids: &[i64],
    batch: usize,
    mut f: impl FnMut(Vec<StoredReport>) -> Result<(), E>,
) -> Result<(), E> {
    if ids.len() <= 1000 {
        for chunk in ids.chunks(batch.max(1)) {
            f(chunk
                .iter()
                .map(|&id| get(conn, id))
                .collect::<Result<_, _>>()?)?;
        }
        return Ok(());
    }
    let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
    let mut stmt = conn
        .prepare(&format!("SELECT {COLUMNS} FROM reports"))
        .map_err(StoreError::from)?;
    let mut rows = stmt.query([]).map_err(StoreError::from)?;
    let mut pending = Vec::with_capacity(batch);
    while let Some(row) = rows.next().map_err(StoreError::from)? {
        let id: i64 = row.get(0).map_err(StoreError::from)?;
        if !wanted.contains(&id) {
            continue;
        }
        pending.push(from_row(row).map_err(StoreError::from)?);
        if pending.len() >= batch {
            f(std::mem::replace(&mut pending, Vec::with_capacity(batch)))?;
        }
    }
    if !pending.is_empty() {
        f(pending)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_only_the_wanted_reports_and_at_most_batch_of_them() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        for id in 1..=3000i64 {
            conn.execute(
                "INSERT INTO reports (id, desk_id, released_on, sealed)
                 VALUES (?1, 1, '2026-11-24', x'00')",
                [id],
            )
            .unwrap();
        }
        for wanted in [(1..=1500).collect::<Vec<i64>>(), vec![7, 2999]] {
            let mut seen = Vec::new();
            with_ids_in_batches(&conn, &wanted, 400, |batch| -> Result<(), StoreError> {
                assert!(!batch.is_empty() && batch.len() <= 400);
                seen.extend(batch.iter().map(|r| r.id));
                Ok(())
            })
            .unwrap();
            seen.sort_unstable();
            assert_eq!(seen, wanted);
        }
    }
}
