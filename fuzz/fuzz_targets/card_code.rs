//! Card codes as a reporter types them: any text parses or is refused without a panic, and a
//! code that parses reads back as itself once normalised.
#![no_main]

use jianfu::domain::CardCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(code) = CardCode::parse(input) {
        let again = CardCode::parse(code.normalized()).expect("a normalised code parses");
        assert_eq!(again.normalized(), code.normalized());
    }
});
