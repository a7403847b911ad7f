//! Cases (事项): one task that several reports are about, with what became of it. Published
//! cases are the public board (P6) — written by investigators, never the reporters' words.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::StoreError;

/// Whether the task is on the admission list.
pub const LISTED: &[(&str, &str)] = &[("off", "清单外"), ("on", "清单内"), ("unknown", "待核实")];
/// What became of the task.
pub const OUTCOMES: &[(&str, &str)] = &[
    ("open", "核查中"),
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

#[derive(Debug, Clone, Serialize, Default)]
pub struct Case {
    pub id: i64,
    pub title: String,
    pub department: String,
    pub listed: String,
    pub screening_code: String,
    pub outcome: String,
    pub month: String,
    pub public_text: String,
    pub published_on: Option<String>,
    pub reports: i64,
}

const SELECT: &str = "SELECT c.id, c.title, c.department, c.listed, c.screening_code, c.outcome,
    c.month, c.public_text, c.published_on,
    (SELECT COUNT(*) FROM reports r WHERE r.case_id = c.id)
    FROM cases c";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Case> {
    Ok(Case {
        id: r.get(0)?,
        title: r.get(1)?,
        department: r.get(2)?,
        listed: r.get(3)?,
        screening_code: r.get(4)?,
        outcome: r.get(5)?,
        month: r.get(6)?,
        public_text: r.get(7)?,
        published_on: r.get(8)?,
        reports: r.get(9)?,
    })
}

pub fn list(conn: &Connection) -> Result<Vec<Case>, StoreError> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY c.id DESC"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn published(conn: &Connection) -> Result<Vec<Case>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE c.published_on IS NOT NULL ORDER BY c.published_on DESC, c.id DESC"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Case, StoreError> {
    conn.query_row(&format!("{SELECT} WHERE c.id = ?1"), [id], from_row)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Creates a case or updates its fields (not its publication).
pub fn save(conn: &Connection, case: &Case) -> Result<i64, StoreError> {
    if case.id == 0 {
        conn.execute(
            "INSERT INTO cases (title, department, listed, screening_code, outcome, month)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                case.title,
                case.department,
                case.listed,
                case.screening_code,
                case.outcome,
                case.month
            ],
        )?;
        return Ok(conn.last_insert_rowid());
    }
    let n = conn.execute(
        "UPDATE cases SET title = ?1, department = ?2, listed = ?3, screening_code = ?4,
           outcome = ?5, month = ?6 WHERE id = ?7",
        params![
            case.title,
            case.department,
            case.listed,
            case.screening_code,
            case.outcome,
            case.month,
            case.id
        ],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(case.id)
}

/// Publishes a case on the public board with a text written for the public, or withdraws it.
pub fn publish(conn: &Connection, id: i64, public_text: Option<&str>) -> Result<(), StoreError> {
    let n = match public_text {
        Some(text) => conn.execute(
            "UPDATE cases SET public_text = ?1, published_on = ?2 WHERE id = ?3",
            params![text, super::today().to_string(), id],
        )?,
        None => conn.execute("UPDATE cases SET published_on = NULL WHERE id = ?1", [id])?,
    };
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
