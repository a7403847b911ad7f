//! `jianfu.toml` as whoever edits it writes it: any text is read as settings or refused with a
//! message, never a panic — and settings that are accepted also run: the release schedule they
//! set gives a next and a previous release around any moment (the release timer, the desk page
//! and the writer's file times all compute them).
#![no_main]

use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use jianfu::configuration::Settings;
use jianfu::pool::{next_release, previous_release};
use libfuzzer_sys::fuzz_target;

fn moments() -> [NaiveDateTime; 3] {
    let at = |y, m, d, h| {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, 59, 59))
            .expect("a valid moment")
    };
    [at(2026, 11, 24, 8), at(2026, 12, 31, 23), at(2099, 1, 1, 0)]
}

fuzz_target!(|text: &str| {
    let Ok(settings) = Settings::check_file_text(Path::new("jianfu.toml"), text) else {
        return;
    };
    let _ = settings.pool.describe();
    for now in moments() {
        let next = next_release(&settings.pool, now);
        assert!(next > now, "the next release {next} is not after {now}");
        let previous = previous_release(&settings.pool, now);
        assert!(
            previous <= now,
            "the previous release {previous} is after {now}"
        );
    }
});
