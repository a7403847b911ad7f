//! The public board's record of each desk (P11): how many reports it received per release
//! month, and how many tasks it had stopped or adjusted per month of decision. A desk that
//! ignores its reports is visible to everyone. Counts per month only: nothing that pins a
//! filing, no report and no case id. The count of reports received is counted at each release
//! but shown only once its month is over: a figure that grew at each release would show
//! everyone when each release happened and how many reports each brought to each desk.

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
    /// Reports released to the desk that month; `None` while the month is not over (it is
    /// published once the month has ended).
    pub received: Option<i64>,
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

/// What the public board shows, newest month first, then by desk. A month before
/// `this_month` (`YYYY-MM`, the server's current month) has a line for a desk when the desk
/// received a report or decided a case then, with both figures. `this_month` (and any later
/// month, should the clock have gone back) has no received count: it has a line for every desk
/// in `desks`, whatever was released, with its stopped/adjusted figure only — so nothing on it
/// changes when the pool is released (P11).
pub fn record(
    conn: &Connection,
    this_month: &str,
    desks: &[i64],
) -> Result<Vec<DeskMonth>, StoreError> {
    let received = counts(
        conn,
        "SELECT desk_id, month, reports FROM board_received WHERE month < ?1",
        [this_month],
    )?;
    let stopped = counts(
        conn,
        "SELECT desk_id, decided_in, COUNT(*) FROM cases
         WHERE outcome IN ('stopped', 'adjusted') AND decided_in IS NOT NULL
         GROUP BY desk_id, decided_in",
        params![],
    )?;
    let mut months: BTreeMap<(String, i64), DeskMonth> = BTreeMap::new();
    for &desk_id in desks {
        slot(&mut months, desk_id, this_month.to_string());
    }
    for (desk_id, month, n) in received {
        slot(&mut months, desk_id, month).received = Some(n);
    }
    for (desk_id, month, n) in stopped {
        let line = slot(&mut months, desk_id, month);
        line.stopped = n;
        if line.month.as_str() < this_month {
            line.received.get_or_insert(0);
        }
    }
    let mut all: Vec<DeskMonth> = months.into_values().collect();
    all.sort_by(|a, b| b.month.cmp(&a.month).then(a.desk_id.cmp(&b.desk_id)));
    Ok(all)
}

fn counts(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<(i64, String, i64)>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
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
