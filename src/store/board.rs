//! The public board's record of each desk (P11): how many reports it received per release
//! month, and how many tasks it had stopped or adjusted per month of decision. A desk that
//! ignores its reports is visible to everyone. Counts per month only: nothing that pins a
//! filing, no report and no case id.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};
use serde::Serialize;

use super::StoreError;

/// One desk's figures for one month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeskMonth {
    pub desk_id: i64,
    /// `YYYY-MM`.
    pub month: String,
    /// Reports released to the desk that month.
    pub received: i64,
    /// Its cases decided as stopped (叫停) or adjusted (调整) that month.
    pub stopped: i64,
}

/// Counts `reports` released to desk `desk_id` in `month`; called by the release, in its
/// transaction.
pub fn add_received(
    conn: &Connection,
    desk_id: i64,
    month: &str,
    reports: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO board_received (desk_id, month, reports) VALUES (?1, ?2, ?3)
         ON CONFLICT (desk_id, month) DO UPDATE SET reports = reports + excluded.reports",
    )?
    .execute(params![desk_id, month, reports])?;
    Ok(())
}

/// Every desk's figures, newest month first, then by desk; a month appears for a desk when it
/// received a report or decided a case then.
pub fn record(conn: &Connection) -> Result<Vec<DeskMonth>, StoreError> {
    let received = counts(conn, "SELECT desk_id, month, reports FROM board_received")?;
    let stopped = counts(
        conn,
        "SELECT desk_id, decided_in, COUNT(*) FROM cases
         WHERE outcome IN ('stopped', 'adjusted') AND decided_in IS NOT NULL
         GROUP BY desk_id, decided_in",
    )?;
    let mut months: BTreeMap<(String, i64), DeskMonth> = BTreeMap::new();
    for (desk_id, month, n) in received {
        slot(&mut months, desk_id, month).received = n;
    }
    for (desk_id, month, n) in stopped {
        slot(&mut months, desk_id, month).stopped = n;
    }
    let mut all: Vec<DeskMonth> = months.into_values().collect();
    all.sort_by(|a, b| b.month.cmp(&a.month).then(a.desk_id.cmp(&b.desk_id)));
    Ok(all)
}

fn counts(conn: &Connection, sql: &str) -> Result<Vec<(i64, String, i64)>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn slot(
    months: &mut BTreeMap<(String, i64), DeskMonth>,
    desk_id: i64,
    month: String,
) -> &mut DeskMonth {
    months
        .entry((month.clone(), desk_id))
        .or_insert_with(|| DeskMonth {
            desk_id,
            month,
            ..DeskMonth::default()
        })
}
