//! The reference lists in SQLite: one table each, replaced whole on import.

use rusqlite::Connection;

use super::StoreError;
use crate::reference::{ListKind, Row};

fn table(kind: ListKind) -> &'static str {
    match kind {
        ListKind::Departments => "departments",
        ListKind::Townships => "townships",
        ListKind::Admission => "admission_items",
        ListKind::Certificates => "cancelled_certificates",
    }
}

pub fn rows(conn: &Connection, kind: ListKind) -> Result<Vec<Row>, StoreError> {
    let columns = kind.columns().join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT {columns} FROM {} ORDER BY position",
        table(kind)
    ))?;
    let n = kind.columns().len();
    let rows = stmt.query_map([], |r| (0..n).map(|i| r.get::<_, String>(i)).collect())?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replaces the whole list (inside the caller's transaction, if any).
pub fn replace(conn: &Connection, kind: ListKind, rows: &[Row]) -> Result<(), StoreError> {
    let t = table(kind);
    conn.execute(&format!("DELETE FROM {t}"), [])?;
    let columns = kind.columns();
    let placeholders: Vec<String> = (2..=columns.len() + 1).map(|i| format!("?{i}")).collect();
    let mut insert = conn.prepare(&format!(
        "INSERT INTO {t} (position, {}) VALUES (?1, {})",
        columns.join(", "),
        placeholders.join(", ")
    ))?;
    for (i, row) in (0i64..).zip(rows) {
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&i];
        values.extend(row.iter().map(|v| v as &dyn rusqlite::ToSql));
        insert.execute(values.as_slice())?;
    }
    super::meta::bump(conn, super::meta::CHOICES_VERSION)
}
