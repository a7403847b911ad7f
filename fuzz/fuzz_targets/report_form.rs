//! The report form as it arrives: any body decodes, and validation answers with a report or
//! with field errors, never a panic. A report that validates is within the limits and comes
//! back whole from the JSON that is sealed to the desk.
#![no_main]

use jianfu::domain::report::BODY_MAX_CHARS;
use jianfu::domain::{RawReport, Report};
use jianfu::reference::Choices;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).expect("a valid date");
    let raw = RawReport::from_form(bytes);
    if let Ok((_, report)) = raw.parse(today, &Choices::default()) {
        assert!(!report.department.is_empty());
        assert!(report.body.chars().count() <= BODY_MAX_CHARS);
        let json = serde_json::to_vec(&report).expect("a report serialises");
        let back: Report = serde_json::from_slice(&json).expect("and parses back");
        assert!(back == report);
    }
});
