//! Property tests for the code that parses untrusted input: card codes, the report form and
//! the P7 detector never panic, and what they promise holds for generated inputs.

use jianfu::domain::identifying;
use jianfu::domain::{CardCode, RawReport};
use jianfu::reference::Choices;
use proptest::prelude::*;
use rand::rngs::OsRng;

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn card_parsing_never_panics(s in "\\PC{0,64}") {
        let _ = CardCode::parse(&s);
    }

    #[test]
    fn a_card_survives_any_case_and_separators(seps in proptest::collection::vec("[ \\-　]{0,2}", 20), upper in proptest::collection::vec(any::<bool>(), 20)) {
        let code = CardCode::generate(jianfu::domain::BatchNumber::new(1).unwrap(), &mut OsRng);
        let typed: String = code
            .normalized()
            .chars()
            .zip(seps.iter().zip(&upper))
            .map(|(c, (sep, up))| {
                let c = if *up { c } else { c.to_ascii_lowercase() };
                format!("{sep}{c}")
            })
            .collect();
        let parsed: Option<String> = CardCode::parse(&typed).ok().map(|c| c.normalized().to_string());
        let expected = code.normalized().to_string();
        prop_assert_eq!(parsed, Some(expected));
    }

    #[test]
    fn the_form_decoder_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let raw = RawReport::from_form(&bytes);
        let _ = raw.parse(today(), &Choices::default());
    }

    #[test]
    fn the_detector_takes_any_text(s in "\\PC{0,200}") {
        for f in identifying::scan("body", &s) {
            prop_assert!(s.contains(&f.found));
        }
    }

    #[test]
    fn a_mobile_number_in_chinese_text_is_always_found(
        before in "[\\u4e00-\\u9fa5，。]{0,10}",
        second in 3u8..=9,
        rest in "[0-9]{9}",
        after in "[\\u4e00-\\u9fa5，。]{0,10}",
    ) {
        let number = format!("1{second}{rest}");
        let text = format!("{before}{number}{after}");
        let found = identifying::scan("body", &text);
        prop_assert!(found.iter().any(|f| f.kind == "手机号码" && f.found == number), "{:?}", found);
    }
}
