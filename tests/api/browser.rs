//! The reporter and the desk in a real headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `tests/browser/`): a report filed at a 390×844 phone viewport with
//! JavaScript off inside WeChat's user agent, the P7 warning flow, and the investigator
//! reading both — markup in a report stays text. Then the phones of SPEC §4 and issue 13:
//! every reporter page at 360×640 with text at 200%, a shared phone's Back and Forward after
//! a filing, and axe-core on every reporter and staff page; the desk's triage, filters and
//! confirmations at desk sizes. Screenshots go to `target/screenshots/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{
    spawn_app, TestApp, ADMIN, ADMIN_PASSWORD, INVESTIGATOR, INVESTIGATOR_PASSWORD,
};

const REPORT_BODY: &str = "镇里在工作群要求每天上报巡查照片。\n已经持续三个月，占用大量时间。";
const LONG_BODY: &str =
    "镇里要求每个网格员每天在政务APP上打卡三次并上传现场照片，漏一次就在工作群里通报批评，\
     已经持续了四个多月，占用了大量入户走访的时间，群众真正要办的事反而顾不上。";
const MARKUP_BODY: &str = "<script>alert(1)</script><img src=x onerror=alert(2)> 标记文本";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Installs the pinned driver and axe-core if needed; Chromium itself must come from apt.
fn ensure_driver() {
    assert!(
        Path::new("/usr/bin/chromium").exists() || std::env::var_os("CHROMIUM").is_some(),
        "the browser tests need Debian's chromium: apt-get install chromium fonts-noto-cjk \
         (tests/run.sh does this)"
    );
    let modules = browser_dir().join("node_modules");
    if !modules.join("playwright-core").exists() || !modules.join("axe-core").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(browser_dir())
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .status()
            .expect("npm (Node.js) is needed for the browser tests");
        assert!(status.success(), "npm ci in tests/browser failed");
    }
}

fn run_flow(app: &TestApp, flow: &str, card: &str) -> String {
    run_flow_with(app, flow, &[("CARD_CODE", card)])
}

fn run_flow_with(app: &TestApp, flow: &str, extra: &[(&str, &str)]) -> String {
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    let out = Command::new("node")
        .arg(browser_dir().join("flows.mjs"))
        .arg(flow)
        .envs(extra.iter().copied())
        .env("BASE_URL", &app.url)
        .env("REPORT_BODY", REPORT_BODY)
        .env("MARKUP_BODY", MARKUP_BODY)
        .env("INVESTIGATOR_USER", INVESTIGATOR)
        .env("INVESTIGATOR_PASSWORD", INVESTIGATOR_PASSWORD)
        .env("ADMIN_USER", ADMIN)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("PDF_PATH", app.dir.path().join("sheet.pdf"))
        .env("SCREENSHOT_DIR", &shots)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser flow `{flow}` failed:\n{stdout}\n{stderr}"
    );
    stdout.into_owned()
}

#[test]
fn a_phone_files_without_javascript_and_the_investigator_reads_it_in_chromium() {
    ensure_driver();
    let app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(3);
    // Forgiving entry: lower case, spaces instead of hyphens.
    let typed = cards[0].to_lowercase().replace('-', " ");
    run_flow(&app, "reporter", &typed);
    run_flow(&app, "warning", &cards[1]);
    assert_eq!(
        app.file(&cards[2], MARKUP_BODY).status,
        303,
        "a report whose text is markup"
    );
    let rows = app.wait_released(3);
    assert!(rows.iter().any(|r| r["body"] == REPORT_BODY));
    run_flow(&app, "desk", "");
    // P4: nothing of the browser's requests reached the server's output.
    let output = app.output();
    for needle in [
        cards[0].replace('-', ""),
        cards[0].clone(),
        typed,
        "巡查照片".to_string(),
        "MicroMessenger".to_string(),
        "138 1234 5678".to_string(),
    ] {
        assert!(!output.contains(&needle), "`{needle}` in the server output");
    }
}

#[test]
fn an_admin_issues_a_batch_in_chromium_and_a_printed_code_files() {
    ensure_driver();
    let app = spawn_app();
    app.add_staff();
    let out = run_flow(&app, "admin", "");
    let codes: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("CODE "))
        .collect();
    assert_eq!(codes.len(), 12);
    // The printed pages carry the codes as text.
    let text = Command::new("pdftotext")
        .arg(app.dir.path().join("sheet.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext (apt-get install poppler-utils; tests/run.sh does this)");
    let text = String::from_utf8_lossy(&text.stdout);
    for code in &codes {
        assert!(text.contains(code), "{code} is not on the printed sheet");
    }
    assert!(text.contains("凭证与内容不关联"));
    assert_eq!(
        app.file(codes[5], "用控制台发放并打印的凭证提交。").status,
        303
    );
}

/// Issue 13, the desk at 1280×800 and 1366×768: from a filtered queue, a report's status is
/// changed and it is grouped into a new case with one press, both saved and said so; back in
/// the queue (by its link and by Back) the filter still holds; a case lists its reports in the
/// queue; a publication refused on a stale page keeps its text and publishes once the outcome
/// is chosen beside it; withdrawing it and revoking a batch each ask on a second page first;
/// chart labels at 14 px and a category column that keeps its lines; axe-core on each new page.
#[test]
fn the_desk_saves_triage_in_one_go_keeps_filters_and_typed_text_in_chromium() {
    ensure_driver();
    let app = spawn_app();
    app.add_staff();
    let rows = crate::desk::file_three(&app);
    // A long account under the longest category: the excerpt then claims the queue's width,
    // which is what squeezed the category column to a few characters a line.
    let long = app.issue_cards(1).remove(0);
    let mut fields = crate::helpers::report_fields(&long, LONG_BODY);
    fields.retain(|(k, _)| *k != "category");
    fields.push(("category", "apps"));
    assert_eq!(app.post_form("/report", &fields).status, 303);
    app.wait_released(4);
    let spare = app.issue_cards(1);
    run_flow_with(&app, "triage", &[("REVOKE_BATCH", "3")]);
    // What the browser saved, as stored: one report with both its status and its case.
    let status = app.audited("report.status");
    let case = app.audited("report.case");
    assert_eq!(status.len(), 1, "{status:?}");
    let id = status[0].split_whitespace().next().unwrap();
    assert_eq!(status[0], format!("{id} investigating"));
    let created = app.audited("case.create");
    assert_eq!(created.len(), 1, "{created:?}");
    let case_id = created[0].trim_start_matches("case:");
    assert_eq!(case, [format!("{id} case:{case_id}")]);
    let exported = app.export();
    let triaged = exported
        .iter()
        .find(|r| format!("report:{}", r["id"].as_str().unwrap()) == id)
        .unwrap();
    assert_eq!(triaged["status"], "investigating");
    assert_eq!(triaged["category"], "certificate");
    assert!(rows.iter().any(|r| r["id"] == triaged["id"]));
    assert_eq!(app.audited("case.withdraw"), [format!("case:{case_id}")]);
    // The batch revoked in the browser, after its confirmation page, refuses its card.
    assert_eq!(app.audited("batch.revoke"), ["batch:3"]);
    assert_eq!(app.file(&spare[0], REPORT_BODY).status, 403);
}

/// A released report in a case whose outcome is published, so the public board and the
/// desk's report, case and statistics pages have something to show.
fn publish_a_case(app: &TestApp, card: &str) {
    assert_eq!(app.file(card, REPORT_BODY).status, 303);
    let rows = app.wait_released(1);
    let id = rows[0]["id"].as_str().unwrap().to_string();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let made = desk.post_csrf(
        &format!("/staff/reports/{id}"),
        &[("new_case", "镇里要求每天上报巡查照片")],
    );
    assert_eq!(made.status, 303);
    let case_id = desk.only_case();
    let steps: [(String, Vec<(&str, &str)>); 2] = [
        (
            format!("/staff/cases/{case_id}"),
            vec![
                ("title", "镇里要求每天上报巡查照片"),
                ("department", "城关镇"),
                ("listed", "off"),
                ("outcome", "stopped"),
                ("month", "2026-10"),
            ],
        ),
        (
            format!("/staff/cases/{case_id}/publish"),
            vec![(
                "public_text",
                "城关镇要求各村每天在工作群上报巡查照片的做法已叫停，改为每月汇总一次。",
            )],
        ),
    ];
    for (path, fields) in &steps {
        assert_eq!(desk.post_csrf(path, fields).status, 303, "{path}");
    }
}

/// SPEC §4 and issue 13: every reporter page (entry, the 422 page, the calm answer to a code
/// alone, the P7 warning, 403, thanks, the public board, 404) at 360×640 with text at 200%
/// and JavaScript off: nothing cut off or wider than the screen, the whole card code, every
/// tap target at least 44 px, borders and focus ring at 3:1; the form pages also at 390×844,
/// 100% and 150%, and at 200% page zoom. Then axe-core finds no WCAG 2.1 AA violation on any
/// reporter page or any staff page.
#[test]
fn every_reporter_page_fits_a_phone_at_200_percent_text_and_axe_finds_nothing() {
    ensure_driver();
    let app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(2);
    // cards[0] files (and so answers 403 afterwards); cards[1] stays unused for the 422s.
    publish_a_case(&app, &cards[0]);
    let codes = cards.join(",");
    run_flow_with(&app, "phones", &[("CARD_CODES", &codes)]);
    run_flow_with(&app, "axe", &[("CARD_CODES", &codes)]);
}

/// A shared phone (issue 13): Back and Forward after a filing show nothing of the report,
/// with Chromium's back/forward cache on as in a real browser, JavaScript off and on, after a
/// straight filing and after error → fix → filing; Enter in a one-line field sends nothing.
#[test]
fn back_after_a_filing_shows_nothing_of_the_report_on_a_shared_phone() {
    ensure_driver();
    let app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(4);
    run_flow_with(&app, "history", &[("CARD_CODES", &cards.join(","))]);
    // Four filings stored (two per mode), nothing of them in the server's output (P4).
    assert_eq!(app.wait_released(4).len(), 4);
    let output = app.output();
    for needle in ["子丑寅卯", "辰巳午未", &cards[0]] {
        assert!(!output.contains(needle), "`{needle}` in the server output");
    }
}

/// Issue 10 (P5): the whole first run as the people who do it, each in their own browser —
/// the admin opens the setup link and is handed the desk head's enrolment link (never a
/// recovery code); the head enrols and alone sees the recovery code; the admin invites a
/// second investigator, who enrols and reads out their fingerprint; the head grants after a
/// wrong group is refused; the second investigator reads a released report.
#[test]
fn the_first_run_in_chromium_as_an_admin_and_two_investigators() {
    ensure_driver();
    let app = spawn_app();
    let output = app.wait_for_output("/staff/setup/");
    let setup = output
        .lines()
        .find_map(|l| l.split_whitespace().find(|w| w.contains("/staff/setup/")))
        .expect("setup link printed")
        .to_string();
    run_flow_with(&app, "firstRun", &[("SETUP_URL", &setup)]);
    let card = &app.issue_cards(1)[0];
    assert_eq!(app.file(card, REPORT_BODY).status, 303);
    app.wait_released(1);
    run_flow_with(&app, "firstRead", &[]);
    let output = app.output();
    assert!(!output.contains("desk2 own password"));
}

/// P11 in Chromium: a reporter at 360×640 with text at 200% and JavaScript off files one
/// report to a district and, separately, one for the city desk only; the district
/// investigator and the city investigator each sign in and see what they should; the public
/// board shows each desk's record.
#[test]
fn a_phone_files_to_a_district_and_city_only_and_each_desk_sees_its_own_in_chromium() {
    use crate::districts::{
        city_and_district, wait_city, DISTRICT, DISTRICT_NAME, DISTRICT_PASSWORD, DISTRICT_USER,
    };
    ensure_driver();
    let app = spawn_app();
    city_and_district(&app);
    let cards = app.issue_cards(2).join(",");
    let bodies = [
        (
            "DISTRICT_BODY",
            "区里在工作群要求各村每天上报巡查照片，已经三个月。",
        ),
        (
            "CITY_ONLY_BODY",
            "区领导要求村里开具生活困难证明，所以只交给市里。",
        ),
        ("DISTRICT_CODE", DISTRICT),
        ("DISTRICT_NAME", DISTRICT_NAME),
        ("DISTRICT_USER", DISTRICT_USER),
        ("DISTRICT_PASSWORD", DISTRICT_PASSWORD),
    ];
    let mut env = bodies.to_vec();
    env.push(("CARD_CODES", &cards));
    run_flow_with(&app, "districtsFile", &env);
    wait_city(&app, 2);
    run_flow_with(&app, "districtsRead", &env);
}
