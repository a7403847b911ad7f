//! The one CSV writer (P10) with any cells — what reporters typed ends up in the export, the
//! statistics and the audit log: it never fails or panics, a real CSV parser reads back exactly
//! the cells written, and no cell read back starts a formula.
#![no_main]

use jianfu::csv::{neutralize, to_string, BOM};
use libfuzzer_sys::fuzz_target;

/// What a spreadsheet may take as the start of a formula (as `src/csv.rs` lists them).
const FORMULA_STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

fuzz_target!(|text: &str| {
    // Records are separated by U+001E, cells by U+001F (the ASCII record and unit separators),
    // so a cell may hold anything else: commas, quotes, line breaks, a byte-order mark.
    // Every record as wide as the first, as every CSV the service writes is (the writer refuses
    // records of unequal length with an error).
    let mut rows: Vec<Vec<&str>> = text
        .split('\u{1e}')
        .map(|r| r.split('\u{1f}').collect())
        .collect();
    let width = rows[0].len();
    for row in &mut rows {
        row.resize(width, "");
    }
    let out = to_string(rows.iter()).expect("any cells are written");
    assert!(
        out.starts_with(BOM),
        "the file begins with the byte-order mark"
    );
    // The csv crate, like a spreadsheet, drops the byte-order mark that begins a file.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(out.as_bytes());
    let back: Vec<Vec<String>> = reader
        .records()
        .map(|r| {
            let r = r.expect("the output is valid CSV");
            r.iter().map(str::to_string).collect()
        })
        .collect();
    let written: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| neutralize(c).into_owned()).collect())
        .collect();
    assert_eq!(back, written, "cells read back differ from cells written");
    for cell in back.iter().flatten() {
        assert!(
            !cell.starts_with(FORMULA_STARTS),
            "{cell:?} starts a formula"
        );
    }
});
