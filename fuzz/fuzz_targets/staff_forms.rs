//! The forms staff post, as `web::Form` decodes them (`serde_urlencoded`) and each route then
//! parses them: login, triage of a report, the queue's filters, a case, the settings console and
//! enrolment. Any body decodes or is refused, and parsing never panics; what parses keeps the
//! limits the routes rely on. The first byte picks the form, the rest is the posted body.
#![no_main]

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveDateTime};
use jianfu::authentication::gate::MAX_USERNAME_BYTES;
use jianfu::authentication::password::check_policy;
use jianfu::authentication::totp::TotpSecret;
use jianfu::configuration::Settings;
use jianfu::pool::{next_release, previous_release};
use jianfu::queue::Filter;
use jianfu::routes::staff::forms::{CaseForm, EnrolForm, LoginForm, SettingsForm, TriageForm};
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use serde::de::DeserializeOwned;

fn decode<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_urlencoded::from_bytes(body).ok()
}

/// 2026-11-24 08:59:59, as Unix time and as a local wall-clock time.
const NOW: u64 = 1_795_510_799;

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 24)
        .and_then(|d| d.and_hms_opt(8, 59, 59))
        .expect("a valid moment")
}

fn login(body: &[u8]) {
    static SECRET: OnceLock<TotpSecret> = OnceLock::new();
    let Some(form) = decode::<LoginForm>(body) else {
        return;
    };
    if let Some(name) = form.username() {
        assert!(name.len() <= MAX_USERNAME_BYTES);
        assert_eq!(name, name.trim());
    }
    let secret =
        SECRET.get_or_init(|| TotpSecret::generate(&mut rand::rngs::StdRng::seed_from_u64(7)));
    let _ = secret.check(&form.code, NOW);
}

fn triage(body: &[u8]) {
    let Some(form) = decode::<TriageForm>(body) else {
        return;
    };
    let Ok(triage) = form.parse() else {
        return;
    };
    if let Some(title) = &triage.new_case {
        assert!(!title.is_empty() && title.chars().count() <= 100);
        assert!(triage.case_id.is_none(), "a new case and an existing one");
    }
    if let Some(note) = &triage.note {
        assert!(!note.is_empty() && note.trim() == note.as_str());
    }
}

fn filter(body: &[u8]) {
    let Some(form) = decode::<HashMap<String, String>>(body) else {
        return;
    };
    let filter = Filter::from_form(&form).at(form.get("tab").map(String::as_str), None);
    for text in [
        &filter.department,
        &filter.township,
        &filter.month,
        &filter.q,
    ] {
        assert!(text.chars().count() <= 100);
    }
    let _ = filter.field_names();
}

fn case(body: &[u8]) {
    let Some(form) = decode::<CaseForm>(body) else {
        return;
    };
    if let Ok(text) = form.parse() {
        assert!(!text.title.is_empty() && text.title.chars().count() <= 100);
        assert!(text.department.chars().count() <= 60);
        assert!(text.screening_code.chars().count() <= 40);
        assert!(text.month.chars().count() <= 7);
    }
}

fn settings(body: &[u8]) {
    let Some(form) = decode::<SettingsForm>(body) else {
        return;
    };
    let file = Path::new("jianfu.toml");
    let Ok(text) = form.file_text(toml::Table::new(), file) else {
        return;
    };
    // What the console wrote is what the service starts with, and its schedule runs.
    let settings = Settings::check_file_text(file, &text).expect("the written file is valid");
    assert!(
        settings.pool.release_every.as_secs() >= 3600,
        "P3: at least an hour"
    );
    let now = now();
    assert!(next_release(&settings.pool, now) > now);
    assert!(previous_release(&settings.pool, now) <= now);
}

fn enrol(body: &[u8]) {
    let Some(form) = decode::<EnrolForm>(body) else {
        return;
    };
    if let Some(password) = form.new_password() {
        let _ = check_policy(password);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 6 {
        0 => login(body),
        1 => triage(body),
        2 => filter(body),
        3 => case(body),
        4 => settings(body),
        _ => enrol(body),
    }
});
