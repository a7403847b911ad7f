//! The reporter and the desk in a real headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `tests/browser/`): a report filed at a 390×844 phone viewport with
//! JavaScript off inside WeChat's user agent, the P7 warning flow, and the investigator
//! reading both — markup in a report stays text. Screenshots go to `target/screenshots/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{
    spawn_app, TestApp, ADMIN, ADMIN_PASSWORD, INVESTIGATOR, INVESTIGATOR_PASSWORD,
};

const REPORT_BODY: &str = "镇里在工作群要求每天上报巡查照片。\n已经持续三个月，占用大量时间。";
const MARKUP_BODY: &str = "<script>alert(1)</script><img src=x onerror=alert(2)> 标记文本";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Installs the pinned driver if needed; Chromium itself must come from apt.
fn ensure_driver() {
    assert!(
        Path::new("/usr/bin/chromium").exists() || std::env::var_os("CHROMIUM").is_some(),
        "the browser tests need Debian's chromium: apt-get install chromium fonts-noto-cjk \
         (.ci/run does this)"
    );
    if !browser_dir().join("node_modules/playwright-core").exists() {
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
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    let out = Command::new("node")
        .arg(browser_dir().join("flows.mjs"))
        .arg(flow)
        .env("BASE_URL", &app.url)
        .env("CARD_CODE", card)
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
        .expect("pdftotext (apt-get install poppler-utils; .ci/run does this)");
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
