//! The P7 detector on any text: no panic, and every spot it marks is really in the text,
//! with its context around it.
#![no_main]

use jianfu::domain::identifying;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for f in identifying::scan("body", text) {
        let spot = format!("{}{}{}", f.before, f.found, f.after);
        assert!(!f.found.is_empty());
        assert!(text.contains(&spot), "{spot:?} is not in the text");
    }
});
