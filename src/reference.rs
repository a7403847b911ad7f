//! Reference lists that make reports comparable: departments, townships, the admission list
//! (准入事项清单) and the cancelled-certificate list (出具证明事项取消清单). Each is imported
//! whole from CSV: every row is checked, and one bad row changes nothing.

use std::collections::HashSet;

use serde::Serialize;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    Departments,
    Townships,
    Admission,
    Certificates,
}

impl ListKind {
    pub const ALL: [ListKind; 4] = [
        ListKind::Departments,
        ListKind::Townships,
        ListKind::Admission,
        ListKind::Certificates,
    ];

    pub fn parse(slug: &str) -> Option<ListKind> {
        ListKind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    pub fn slug(self) -> &'static str {
        match self {
            ListKind::Departments => "departments",
            ListKind::Townships => "townships",
            ListKind::Admission => "admission",
            ListKind::Certificates => "certificates",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ListKind::Departments => "部门",
            ListKind::Townships => "乡镇（街道）",
            ListKind::Admission => "村（社区）工作事项准入清单",
            ListKind::Certificates => "不再由村（社区）出具的证明",
        }
    }

    /// The CSV header; the first column is the list's unique key.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ListKind::Departments | ListKind::Townships => &["name"],
            ListKind::Admission => &["code", "name", "kind", "basis"],
            ListKind::Certificates => &["name", "scope", "basis"],
        }
    }

    /// Columns that may be empty.
    fn optional(self, column: &str) -> bool {
        column == "basis"
    }

    /// The starter list, from `reference/`.
    pub fn defaults(self) -> &'static str {
        match self {
            ListKind::Departments | ListKind::Townships => "name\n",
            ListKind::Admission => include_str!("../reference/sample-admission-list.csv"),
            ListKind::Certificates => include_str!("../reference/cancelled-certificates.csv"),
        }
    }
}

/// One row: its values in the order of `columns()`.
pub type Row = Vec<String>;

/// A bad row: its line number in the file and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRow {
    pub line: u64,
    pub reason: String,
}

const MAX_ROWS: usize = 5000;
const MAX_FIELD_CHARS: usize = 500;

/// A cell as it is stored: trimmed, and a cell this service exported with a `'` before a
/// formula start (P10) comes back as it was. Until nothing changes, so that what is stored
/// exports and imports again as itself (a `'` may reach the front only once a `'` and a
/// carriage return before it are gone).
fn imported_cell(cell: &str) -> String {
    let mut cell = cell.trim();
    loop {
        // Each round that changes the cell makes it shorter.
        let restored = crate::csv::restore(cell).trim();
        if restored == cell {
            return cell.to_string();
        }
        cell = restored;
    }
}

/// Parses and checks a whole CSV file for `kind`; all bad rows are reported.
pub fn parse_csv(kind: ListKind, text: &str) -> Result<Vec<Row>, Vec<BadRow>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let columns = kind.columns();
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            return Err(vec![BadRow {
                line: 1,
                reason: format!("无法读取表头：{e}"),
            }])
        }
    };
    if header != columns {
        return Err(vec![BadRow {
            line: 1,
            reason: format!(
                "表头应为 {}，实际为 {}",
                columns.join(","),
                header.join(",")
            ),
        }]);
    }
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                bad.push(BadRow {
                    line,
                    reason: format!("无法解析：{e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != columns.len() {
            bad.push(BadRow {
                line,
                reason: format!("应有 {} 列，实际 {} 列", columns.len(), record.len()),
            });
            continue;
        }
        let row: Row = record.iter().map(imported_cell).collect();
        if let Some((col, _)) = columns
            .iter()
            .zip(&row)
            .find(|(c, v)| v.is_empty() && !kind.optional(c))
        {
            bad.push(BadRow {
                line,
                reason: format!("“{col}”不能为空"),
            });
            continue;
        }
        if let Some((col, _)) = columns
            .iter()
            .zip(&row)
            .find(|(_, v)| v.chars().count() > MAX_FIELD_CHARS)
        {
            bad.push(BadRow {
                line,
                reason: format!("“{col}”太长（最多 {MAX_FIELD_CHARS} 字）"),
            });
            continue;
        }
        if !seen.insert(row[0].clone()) {
            bad.push(BadRow {
                line,
                reason: format!("“{}”重复", row[0]),
            });
            continue;
        }
        rows.push(row);
    }
    if rows.len() > MAX_ROWS {
        bad.push(BadRow {
            line: 0,
            reason: format!("最多 {MAX_ROWS} 行"),
        });
    }
    if bad.is_empty() {
        Ok(rows)
    } else {
        Err(bad)
    }
}

/// The list as CSV, header first, through the one safe writer (P10); `parse_csv` reads it
/// back as it was.
pub fn to_csv(kind: ListKind, rows: &[Row]) -> Result<String, crate::csv::CsvError> {
    let header: Vec<&str> = kind.columns().to_vec();
    let rows = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect::<Vec<_>>());
    crate::csv::to_string(std::iter::once(header).chain(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_lists_parse() {
        for kind in ListKind::ALL {
            parse_csv(kind, kind.defaults()).unwrap();
        }
        assert_eq!(
            parse_csv(ListKind::Certificates, ListKind::Certificates.defaults())
                .unwrap()
                .len(),
            22
        );
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let text = "code,name,kind,basis\nA1,办理,协助,\nA1,重复,协助,\n,无编码,协助,\nA3,缺列\n";
        let bad = parse_csv(ListKind::Admission, text).unwrap_err();
        let lines: Vec<u64> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(bad[0].reason.contains("重复"));
        assert!(bad[2].reason.contains("4 列"));
    }

    #[test]
    fn a_wrong_header_is_line_one() {
        let bad = parse_csv(ListKind::Departments, "部门\n县民政局\n").unwrap_err();
        assert_eq!(bad[0].line, 1);
    }

    #[test]
    fn export_round_trips() {
        let rows = parse_csv(ListKind::Certificates, ListKind::Certificates.defaults()).unwrap();
        let again = parse_csv(
            ListKind::Certificates,
            &to_csv(ListKind::Certificates, &rows).unwrap(),
        );
        assert_eq!(again.unwrap(), rows);
    }

    /// P10: names that look like formulas are neutralized in the file and come back as they
    /// were when the file is imported again.
    #[test]
    fn formula_looking_names_are_neutralized_and_round_trip() {
        let rows: Vec<Row> = ["=1+1", "-县局", "@x", "＝y", "+86 局", "普通局"]
            .iter()
            .map(|n| vec![n.to_string()])
            .collect();
        let text = to_csv(ListKind::Departments, &rows).unwrap();
        assert!(text.starts_with("\u{feff}name\r\n'=1+1\r\n'-县局\r\n'@x\r\n'＝y\r\n"));
        assert_eq!(parse_csv(ListKind::Departments, &text).unwrap(), rows);
    }

    /// Found by fuzzing (`reference_csv`): a cell whose `'` before a formula start came to the
    /// front only once a `'` and a carriage return before it were taken off was stored with its
    /// `'`, then lost it when the list was exported and imported again.
    #[test]
    fn a_list_that_imported_exports_and_imports_as_itself() {
        for cell in ["'\r'=1+1", "'\t'\r'@x", "\u{3000}'\r县民政局", "'\t"] {
            let text = format!("name\n\"{cell}\"\n");
            let rows = parse_csv(ListKind::Departments, &text).unwrap();
            let exported = to_csv(ListKind::Departments, &rows).unwrap();
            assert_eq!(
                parse_csv(ListKind::Departments, &exported).unwrap(),
                rows,
                "{cell:?}"
            );
        }
    }
}

/// The district desks that can receive reports: every desk but the city's, with a key, as the
/// city desk approved it (P5, P11: src/desk/approval.rs).
fn load_districts(conn: &rusqlite::Connection) -> Result<Vec<District>, crate::store::StoreError> {
    use crate::store::desks;
    let townships = desks::townships(conn)?;
    Ok(desks::list(conn)?
        .into_iter()
        .filter(|d| !d.is_city())
        .filter_map(|d| {
            let own: Vec<String> = townships
                .iter()
                .filter(|(_, id)| *id == d.id)
                .map(|(name, _)| name.clone())
                .collect();
            if !crate::desk::approval::is_routable(&d, &own) {
                return None;
            }
            Some(District {
                townships: own,
                code: d.code,
                name: d.name,
            })
        })
        .collect())
}

/// What the reporter form offers, loaded once and reloaded after an import or when the desks
/// change.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Choices {
    pub departments: Vec<String>,
    pub townships: Vec<String>,
    /// (screening code, name)
    pub admission: Vec<(String, String)>,
    pub certificates: Vec<String>,
    /// P11: the district desks a report can be sent to (those whose key exists), with their
    /// townships; empty where only the city desk exists.
    pub districts: Vec<District>,
}

/// A district desk as the reporter form offers it.
#[derive(Debug, Clone, Serialize)]
pub struct District {
    pub code: String,
    pub name: String,
    pub townships: Vec<String>,
}

/// The `desk` value of a report sent to the city desk itself (tasks from city departments).
pub const CITY_DESK: &str = crate::store::desks::CITY;

/// The `admission_item` value that says the task is not on the list.
pub const NOT_ON_LIST: &str = "none";

impl Choices {
    pub fn load(conn: &rusqlite::Connection) -> Result<Choices, crate::store::StoreError> {
        use crate::store::reference::rows;
        let first = |kind| -> Result<Vec<String>, crate::store::StoreError> {
            Ok(rows(conn, kind)?
                .into_iter()
                .map(|mut r| r.swap_remove(0))
                .collect())
        };
        Ok(Choices {
            departments: first(ListKind::Departments)?,
            townships: first(ListKind::Townships)?,
            admission: rows(conn, ListKind::Admission)?
                .into_iter()
                .map(|r| (r[0].clone(), r[1].clone()))
                .collect(),
            certificates: first(ListKind::Certificates)?,
            districts: load_districts(conn)?,
        })
    }

    /// The district desk `code`, if the form offers it.
    pub fn district(&self, code: &str) -> Option<&District> {
        self.districts.iter().find(|d| d.code == code)
    }

    /// The district desk a township belongs to, if any.
    pub fn district_of_township(&self, township: &str) -> Option<&District> {
        self.districts
            .iter()
            .find(|d| d.townships.iter().any(|t| t == township))
    }

    pub fn has_certificate(&self, name: &str) -> bool {
        self.certificates.iter().any(|c| c == name)
    }

    pub fn has_admission_item(&self, code: &str) -> bool {
        code == NOT_ON_LIST || self.admission.iter().any(|(c, _)| c == code)
    }

    /// A label for an admission item as a report names it.
    pub fn admission_label(&self, code: &str) -> String {
        if code == NOT_ON_LIST {
            return "说不在清单内".into();
        }
        match self.admission.iter().find(|(c, _)| c == code) {
            Some((c, name)) => format!("{c} {name}"),
            None => code.to_string(),
        }
    }
}
