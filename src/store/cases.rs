//! Cases (事项): one task that several reports are about, with what became of it. Published
//! cases are the public board (P6) — written by investigators, never the reporters' words.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::StoreError;

/// Whether the task is on the admission list.
pub const LISTED: &[(&str, &str)] = &[("off", "清单外"), ("on", "清单内"), ("unknown", "待核实")];
/// What became of the task.
pub const OUTCOMES: &[(&str, &str)] = &[
    ("open", "尚无结论"),
    ("stopped", "叫停"),
    ("adjusted", "调整"),
    ("upheld", "属实未调整"),
    ("unfounded", "不属实"),
];

pub fn label(table: &[(&str, &'static str)], code: &str) -> &'static str {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or("")
}

/// A case as stored: its fields sealed to the desk key (P5), its outcome and public side plain.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StoredCase {
    pub id: i64,
    pub desk_id: i64,
    #[serde(skip)]
    pub sealed: Vec<u8>,
    /// A district case's fields sealed to the city desk (P11).
    #[serde(skip)]
    pub sealed_city: Option<Vec<u8>>,
    pub outcome: String,
    /// The month (`YYYY-MM`) the outcome was recorded: what the public board counts by.
    pub decided_in: Option<String>,
    pub public_department: String,
    pub public_month: String,
    pub public_text: String,
    pub published_on: Option<String>,
    /// Reports grouped into it.
    pub reports: i64,
}

const SELECT: &str = "SELECT c.id, c.desk_id, c.sealed, c.outcome, c.decided_in,
    c.public_department, c.public_month, c.public_text, c.published_on,
    (SELECT COUNT(*) FROM reports r WHERE r.case_id = c.id), c.sealed_city
    FROM cases c";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCase> {
    Ok(StoredCase {
        id: r.get(0)?,
        desk_id: r.get(1)?,
        sealed: r.get(2)?,
        outcome: r.get(3)?,
        decided_in: r.get(4)?,
        public_department: r.get(5)?,
        public_month: r.get(6)?,
        public_text: r.get(7)?,
        published_on: r.get(8)?,
        reports: r.get(9)?,
        sealed_city: r.get(10)?,
    })
}

fn query(
    conn: &Connection,
    filter: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<StoredCase>, StoreError> {
    let mut stmt = conn.prepare(&format!("{SELECT} {filter}"))?;
    let rows = stmt.query_map(p, from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The cases of the given desks, in no meaningful order: ids are random, and the titles a
/// desk would sort by are sealed (the desk's pages sort them once opened).
pub fn of_desks(conn: &Connection, desk_ids: &[i64]) -> Result<Vec<StoredCase>, StoreError> {
    let all = query(conn, "", [])?;
    Ok(all
        .into_iter()
        .filter(|c| desk_ids.contains(&c.desk_id))
        .collect())
}

/// Every published case, newest publication first (the public board); cases published the
/// same day in the order of their random ids.
pub fn published(conn: &Connection) -> Result<Vec<StoredCase>, StoreError> {
    query(
        conn,
        "WHERE c.published_on IS NOT NULL ORDER BY c.published_on DESC, c.id DESC",
        [],
    )
}

pub fn get(conn: &Connection, id: i64) -> Result<StoredCase, StoreError> {
    query(conn, "WHERE c.id = ?1", [id])?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// A case's fields sealed to its desk's key and, for a district desk's case, to the city
/// desk's key too (P11: the city desk reads the districts' cases).
pub struct SealedCase {
    pub own: Vec<u8>,
    pub city: Option<Vec<u8>>,
}

/// Creates a case of desk `desk_id` with its sealed fields; returns its id. P11: a random id,
/// not the next of one sequence all desks share, so a desk that makes two cases learns
/// nothing from their ids about how many cases other desks made in between. A collision
/// draws again (any other refusal, such as an unknown outcome, is an error).
pub fn create(
    conn: &Connection,
    desk_id: i64,
    sealed: &SealedCase,
    outcome: &str,
) -> Result<i64, StoreError> {
    let mut insert = conn.prepare(
        "INSERT INTO cases (id, desk_id, sealed, sealed_city, outcome, decided_in)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6
         WHERE NOT EXISTS (SELECT 1 FROM cases WHERE id = ?1)",
    )?;
    loop {
        let id = super::random_id();
        let made = insert.execute(params![
            id,
            desk_id,
            sealed.own,
            sealed.city,
            outcome,
            decided_in(outcome)
        ])?;
        if made == 1 {
            return Ok(id);
        }
    }
}

/// The month an outcome is recorded in, for the public board: none while the case is open.
fn decided_in(outcome: &str) -> Option<String> {
    (outcome != "open").then(|| super::today().format("%Y-%m").to_string())
}

/// Updates a case's sealed fields and outcome (not its publication). The month of the
/// decision moves only when the outcome changes.
pub fn update(
    conn: &Connection,
    id: i64,
    sealed: &SealedCase,
    outcome: &str,
) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE cases SET sealed = ?1, sealed_city = ?5,
           decided_in = CASE WHEN outcome = ?2 THEN decided_in ELSE ?3 END, outcome = ?2
         WHERE id = ?4",
        params![sealed.own, outcome, decided_in(outcome), id, sealed.city],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Sets a case's outcome alone (publishing with the outcome chosen beside the text); the
/// month of the decision moves as in `update`.
pub fn set_outcome(conn: &Connection, id: i64, outcome: &str) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE cases SET decided_in = CASE WHEN outcome = ?1 THEN decided_in ELSE ?2 END,
           outcome = ?1
         WHERE id = ?3",
        params![outcome, decided_in(outcome), id],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Whether a case with this outcome may be published: only a task stopped or adjusted goes
/// on the public board (P6).
pub fn publishable(outcome: &str) -> bool {
    matches!(outcome, "stopped" | "adjusted")
}

/// Every case's sealed fields of one desk (for a key rotation).
pub fn sealed_of_desk(conn: &Connection, desk_id: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare("SELECT id, sealed FROM cases WHERE desk_id = ?1")?;
    let rows = stmt.query_map([desk_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn replace_sealed(conn: &Connection, id: i64, sealed: &[u8]) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE cases SET sealed = ?2 WHERE id = ?1",
        params![id, sealed],
    )?;
    Ok(())
}

/// Every district case's fields as sealed to the city desk (for the city's key rotation).
pub fn sealed_for_city(conn: &Connection) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT id, sealed_city FROM cases WHERE sealed_city IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn replace_sealed_city(conn: &Connection, id: i64, sealed: &[u8]) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE cases SET sealed_city = ?2 WHERE id = ?1",
        params![id, sealed],
    )?;
    Ok(())
}

/// What a published case shows the public (P6): written for the public by an investigator.
pub struct Publication<'a> {
    pub department: &'a str,
    pub month: &'a str,
    pub text: &'a str,
}

/// Publishes a case on the public board, or withdraws it (`None`).
pub fn publish(
    conn: &Connection,
    id: i64,
    publication: Option<Publication<'_>>,
) -> Result<(), StoreError> {
    let n = match publication {
        Some(p) => conn.execute(
            "UPDATE cases SET public_department = ?1, public_month = ?2, public_text = ?3,
               published_on = ?4 WHERE id = ?5",
            params![
                p.department,
                p.month,
                p.text,
                super::today().to_string(),
                id
            ],
        )?,
        None => conn.execute("UPDATE cases SET published_on = NULL WHERE id = ?1", [id])?,
    };
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: a case that has no outcome yet must not read like a report under
    /// investigation (the report status 核查中), nor share any other report status word
    /// that means something else.
    #[test]
    fn the_open_outcome_has_a_word_of_its_own() {
        let open = label(OUTCOMES, "open");
        assert_eq!(open, "尚无结论");
        for status in crate::domain::ReportStatus::ALL {
            assert_ne!(open, status.label(), "{status:?}");
        }
        assert!(OUTCOMES.iter().all(|(_, l)| *l != "核查中"));
    }

    #[test]
    fn only_stopped_and_adjusted_are_published() {
        let yes: Vec<&str> = OUTCOMES
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| publishable(c))
            .collect();
        assert_eq!(yes, ["stopped", "adjusted"]);
    }
}
