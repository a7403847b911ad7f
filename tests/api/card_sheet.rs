//! Issue #4: the printable card sheet, printed to PDF by headless Chromium, holds every card
//! on A4 pages (ten a page), with the codes and the CJK promise as text; a code from it files.

use std::process::Command;

use crate::helpers::spawn_app;

fn tool(name: &str, package: &str) -> String {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{name}` is needed: apt-get install {package} (tests/run.sh does this)"
    );
    name.to_string()
}

#[test]
fn the_printed_sheet_shows_every_card_and_a_code_from_it_files() {
    let app = spawn_app();
    app.add_staff();
    let sheet = app.dir.path().join("sheet.html");
    app.cli_ok(
        &[
            "tokens",
            "issue",
            "--count",
            "25",
            "--label",
            "城关镇第一批",
            "--expires",
            "2099-06-30",
            "--format",
            "html",
            "--out",
            sheet.to_str().unwrap(),
        ],
        "",
    );
    let html = std::fs::read_to_string(&sheet).unwrap();
    let codes: Vec<String> = html
        .match_indices("<div class=\"code\">")
        .map(|(i, m)| html[i + m.len()..i + m.len() + 24].to_string())
        .collect();
    assert_eq!(codes.len(), 25);
    let pdf = app.dir.path().join("sheet.pdf");
    let status = Command::new(tool("chromium", "chromium"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", sheet.display()))
        .output()
        .unwrap();
    assert!(
        status.status.success() && pdf.exists(),
        "chromium printed nothing"
    );
    let info = Command::new(tool("pdfinfo", "poppler-utils"))
        .arg(&pdf)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 3")),
        "{info}"
    );
    assert!(info.contains("(A4)"), "A4 pages: {info}");
    // Ten whole cards a page, in order: every code on its own page, none split or lost.
    for (page, cards) in codes.chunks(10).enumerate() {
        let page = (page + 1).to_string();
        let text = Command::new(tool("pdftotext", "poppler-utils"))
            .args(["-f", &page, "-l", &page])
            .arg(&pdf)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        for code in cards {
            assert!(
                text.contains(code.as_str()),
                "{code} is not on printed page {page}"
            );
        }
        assert_eq!(
            text.matches("不反馈、不留痕、凭证与内容不关联").count(),
            cards.len(),
            "the promise prints as text (CJK fonts) on every card of page {page}"
        );
    }
    let page = app.dir.path().join("page");
    Command::new(tool("pdftoppm", "poppler-utils"))
        .args(["-png", "-r", "50", "-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg(&page)
        .status()
        .unwrap();
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let _ = std::fs::copy(
        app.dir.path().join("page-1.png"),
        shots.join("card-sheet-page-1.png"),
    );
    assert_eq!(
        app.file(&codes[7], "用打印出来的凭证提交的反映。").status,
        303
    );
}
