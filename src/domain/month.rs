//! The month a task was assigned (`YYYY-MM`): never in the future, never before 2000.

use chrono::Datelike;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: u16,
    month: u8,
}

impl Month {
    /// Parses `YYYY-MM` (also `YYYY-M`), no later than `today`'s month.
    pub fn parse(text: &str, today: chrono::NaiveDate) -> Result<Month, &'static str> {
        let m = Self::parse_shape(text)?;
        let now = Month {
            year: today.year() as u16,
            month: today.month() as u8,
        };
        if m > now {
            return Err("月份不能晚于本月。");
        }
        Ok(m)
    }

    fn parse_shape(text: &str) -> Result<Month, &'static str> {
        const SHAPE: &str = "请按“年-月”填写，例如 2026-05。";
        let (y, m) = text.trim().split_once('-').ok_or(SHAPE)?;
        let year: u16 = y.parse().map_err(|_| SHAPE)?;
        let month: u8 = m.parse().map_err(|_| SHAPE)?;
        if y.len() != 4 || !(1..=12).contains(&month) || m.is_empty() || m.len() > 2 {
            return Err(SHAPE);
        }
        if year < 2000 {
            return Err("月份太早了，请核对年份。");
        }
        Ok(Month { year, month })
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for Month {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Month::parse_shape(&s)
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn accepts_past_and_current_months() {
        assert_eq!(
            Month::parse("2026-11", today()).unwrap().to_string(),
            "2026-11"
        );
        assert_eq!(
            Month::parse("2025-3", today()).unwrap().to_string(),
            "2025-03"
        );
    }

    #[test]
    fn rejects_future_and_nonsense() {
        assert!(Month::parse("2026-12", today()).is_err());
        assert!(Month::parse("2026-13", today()).is_err());
        assert!(Month::parse("26-01", today()).is_err());
        assert!(Month::parse("1999-01", today()).is_err());
        assert!(Month::parse("", today()).is_err());
        assert!(Month::parse("2026/05", today()).is_err());
    }
}
