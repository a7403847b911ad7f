//! Adding district desks and naming their townships (P11), for the console and the command
//! line alike: parsed once, stored in one transaction, audited.

use rusqlite::Connection;

use super::approval;
use crate::store::{audit, desks, StoreError};

/// Why a desk was not added or its townships not changed: a message for the admin.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("the desk code is 2 to 32 lower-case letters, digits or `-`")]
    BadCode,
    #[error("the desk name is 1 to 40 characters")]
    BadName,
    #[error("a township name is 1 to 60 characters")]
    BadTownship,
    #[error("the city desk has no townships of its own: it receives every report")]
    CityTownships,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DirectoryError {
    /// The message in Chinese, for the console.
    pub fn message(&self) -> String {
        match self {
            DirectoryError::BadCode => "代码只能用 2 到 32 个小写字母、数字或“-”。".into(),
            DirectoryError::BadName => "名称需要 1 到 40 个字。".into(),
            DirectoryError::BadTownship => "每个乡镇（街道）名称需要 1 到 60 个字。".into(),
            DirectoryError::CityTownships => "市委社会工作部收到全部反映，不需要填写乡镇。".into(),
            DirectoryError::Store(StoreError::Conflict(m)) if m.contains("township") => {
                "有乡镇（街道）已经属于另一个区（县）调查组。".into()
            }
            DirectoryError::Store(StoreError::Conflict(m)) if m.contains("named") => {
                "这个名称已经有调查组在用。".into()
            }
            DirectoryError::Store(StoreError::Conflict(_)) => "这个代码已经有调查组在用。".into(),
            DirectoryError::Store(_) => "暂时无法保存，请稍后再试。".into(),
        }
    }
}

/// A desk code: 2 to 32 lower-case letters, digits or `-`.
fn valid_code(code: &str) -> bool {
    (2..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Township names from a text with one per line (or separated by commas, 、 or ，), trimmed,
/// blanks and repeats dropped.
pub fn parse_townships(text: &str) -> Result<Vec<String>, DirectoryError> {
    let mut names: Vec<String> = Vec::new();
    for name in text
        .split(['\n', ',', '，', '、'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if name.chars().count() > 60 {
            return Err(DirectoryError::BadTownship);
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// Who adds a desk: the command line's operator approves it as added (P5, P11:
/// src/desk/approval.rs); a desk added on the console waits for the city desk's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddedBy {
    Operator,
    Console,
}

/// Adds district desk `code` named `name` with its townships; returns its id.
pub fn add(
    conn: &mut Connection,
    actor: &str,
    by: AddedBy,
    code: &str,
    name: &str,
    townships: &[String],
) -> Result<i64, DirectoryError> {
    let (code, name) = (code.trim(), name.trim());
    if !valid_code(code) {
        return Err(DirectoryError::BadCode);
    }
    if name.is_empty() || name.chars().count() > 40 {
        return Err(DirectoryError::BadName);
    }
    let tx = conn.transaction().map_err(StoreError::from)?;
    let id = desks::add(&tx, code, name)?;
    desks::set_townships(&tx, id, townships)?;
    if by == AddedBy::Operator {
        approval::approve_by_operator(&tx, id)?;
    }
    audit::record(
        &tx,
        actor,
        "desk.add",
        &format!("desk:{id} code:{code} townships:{}", townships.join("、")),
    )?;
    tx.commit().map_err(StoreError::from)?;
    Ok(id)
}

/// Replaces the townships of district desk `desk_id`.
pub fn set_townships(
    conn: &mut Connection,
    actor: &str,
    desk_id: i64,
    townships: &[String],
) -> Result<(), DirectoryError> {
    let tx = conn.transaction().map_err(StoreError::from)?;
    if desks::get(&tx, desk_id)?.is_city() {
        return Err(DirectoryError::CityTownships);
    }
    let before = desks::townships_of(&tx, desk_id)?;
    desks::set_townships(&tx, desk_id, townships)?;
    // Staff configuration, not report content (P8): the change in full, old → new.
    audit::record(
        &tx,
        actor,
        "desk.townships",
        &format!(
            "desk:{desk_id} townships:{} → {}",
            before.join("、"),
            townships.join("、")
        ),
    )?;
    tx.commit().map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn townships_split_on_lines_and_commas_without_blanks_or_repeats() {
        assert_eq!(
            parse_townships("城关镇\n 河西街道 ,新桥乡、城关镇\n\n").unwrap(),
            vec!["城关镇", "河西街道", "新桥乡"]
        );
        assert!(parse_townships(&"镇".repeat(61)).is_err());
    }

    #[test]
    fn codes_are_short_lower_case_words() {
        assert!(valid_code("xihu"));
        assert!(valid_code("district-2"));
        for bad in ["x", "XiHu", "西湖", "a b", &"a".repeat(33)] {
            assert!(!valid_code(bad), "{bad}");
        }
    }
}
