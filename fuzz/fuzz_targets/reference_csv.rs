//! A reference list as an admin imports it (`/staff/lists/{list}`, the whole CSV file pasted or
//! edited in place): any text is taken or refused row by row, never a panic, and a list that
//! imports exports (through the one CSV writer, P10) and imports again as itself.
#![no_main]

use jianfu::reference::{parse_csv, to_csv, ListKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the list, the rest is the file.
    let Some((&which, file)) = data.split_first() else {
        return;
    };
    let kind = ListKind::ALL[usize::from(which) % ListKind::ALL.len()];
    let text = String::from_utf8_lossy(file);
    match parse_csv(kind, &text) {
        Ok(rows) => {
            assert!(rows.iter().all(|r| r.len() == kind.columns().len()));
            let exported = to_csv(kind, &rows).expect("a list that imported exports");
            assert_eq!(
                parse_csv(kind, &exported),
                Ok(rows),
                "the exported list does not import as itself:\n{exported:?}"
            );
        }
        Err(bad) => assert!(!bad.is_empty(), "refused without a reason"),
    }
});
