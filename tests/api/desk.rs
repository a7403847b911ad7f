//! Issue #3's desk: tabs and filters, triage (status, assignment, sealed notes), cases and
//! their publication on the public board (P5, P6, P8).

use crate::helpers::{spawn_app, ADMIN, ADMIN_PASSWORD, INVESTIGATOR, INVESTIGATOR_PASSWORD};

pub(crate) fn file_three(app: &crate::helpers::TestApp) -> Vec<serde_json::Value> {
    let cards = app.issue_cards(3);
    for (card, (category, body)) in cards.iter().zip([
        ("certificate", "要求开具生活困难证明，第一份。"),
        ("forms", "同一张表每周报三次，第二份。"),
        ("certificate", "又要求开证明，第三份。"),
    ]) {
        let mut fields = crate::helpers::report_fields(card, body);
        fields.retain(|(k, _)| *k != "category");
        fields.push(("category", category));
        assert_eq!(app.post_form("/report", &fields).status, 303);
    }
    app.wait_released(3)
}

pub(crate) fn id_of(rows: &[serde_json::Value], body_part: &str) -> String {
    rows.iter()
        .find(|r| r["body"].as_str().unwrap().contains(body_part))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn triage_moves_a_report_between_tabs_and_filters_narrow_the_queue() {
    let app = spawn_app();
    app.add_staff();
    let rows = file_three(&app);
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let queue = desk.get("/staff/reports").body;
    assert_eq!(queue.matches("href=\"/staff/reports/").count(), 3);
    let filtered = desk.queue_with(&[("category", "certificate")]);
    assert_eq!(filtered.matches("href=\"/staff/reports/").count(), 2);
    let searched = desk.queue_with(&[("q", "第二份")]);
    assert_eq!(searched.matches("href=\"/staff/reports/").count(), 1);
    // The filters stay with the session until cleared.
    assert_eq!(
        desk.get("/staff/reports")
            .body
            .matches("href=\"/staff/reports/")
            .count(),
        1
    );
    let cleared = desk.queue_with(&[("clear", "1")]);
    assert_eq!(cleared.matches("href=\"/staff/reports/").count(), 3);
    let id = id_of(&rows, "第一份");
    assert_eq!(
        desk.post(
            &format!("/staff/reports/{id}"),
            &[("csrf", "bad"), ("status", "investigating")]
        )
        .status,
        403
    );
    assert_eq!(
        desk.post_csrf(
            &format!("/staff/reports/{id}"),
            &[("status", "investigating")]
        )
        .status,
        303
    );
    let new_tab = desk.get("/staff/reports?tab=new").body;
    assert!(!new_tab.contains(&format!("/staff/reports/{id}\"")));
    let open_tab = desk.get("/staff/reports?tab=open").body;
    assert!(open_tab.contains(&format!("/staff/reports/{id}\"")));
    assert_eq!(
        app.export()
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap()["status"],
        "investigating"
    );
}

#[test]
fn notes_are_sealed_and_shown_only_to_investigators() {
    let app = spawn_app();
    app.add_staff();
    let rows = file_three(&app);
    let id = id_of(&rows, "第二份");
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let note = "已电话核实：镇统计站确有此要求，独特笔记标记。";
    assert_eq!(
        desk.post_csrf(&format!("/staff/reports/{id}"), &[("note", note)])
            .status,
        303
    );
    let page = desk.get(&format!("/staff/reports/{id}")).body;
    assert!(page.contains(note));
    let db = std::fs::read(app.data_dir().join("jianfu.db")).unwrap();
    let wal = std::fs::read(app.data_dir().join("jianfu.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !crate::helpers::contains(&bytes, "独特笔记标记".as_bytes()),
            "P5: notes are sealed"
        );
    }
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    assert_eq!(admin.get(&format!("/staff/reports/{id}")).status, 403);
    assert_eq!(
        admin
            .post_csrf(&format!("/staff/reports/{id}"), &[("note", "admin note")])
            .status,
        403
    );
}

#[test]
fn a_case_groups_reports_and_its_publication_shows_only_the_public_text() {
    let app = spawn_app();
    app.add_staff();
    let rows = file_three(&app);
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let first = id_of(&rows, "第一份");
    let third = id_of(&rows, "第三份");
    assert_eq!(
        desk.post_csrf(
            &format!("/staff/reports/{first}"),
            &[("new_case", "要求开具生活困难证明")]
        )
        .status,
        303
    );
    let case_id = desk.only_case();
    assert_eq!(
        desk.post_csrf(&format!("/staff/reports/{third}"), &[("case_id", &case_id)])
            .status,
        303
    );
    let case = desk.get(&format!("/staff/cases/{case_id}")).body;
    assert!(case.contains("归入的反映：2 条"));
    // Publishing needs an outcome of stopped or adjusted.
    let early = desk.post_csrf(
        &format!("/staff/cases/{case_id}/publish"),
        &[(
            "public_text",
            "县民政局要求村里开具生活困难证明的做法已叫停。",
        )],
    );
    assert_eq!(early.status, 422);
    assert_eq!(
        desk.post_csrf(
            &format!("/staff/cases/{case_id}"),
            &[
                ("title", "要求开具生活困难证明"),
                ("department", "县民政局"),
                ("listed", "off"),
                ("outcome", "stopped"),
                ("month", "2026-10")
            ]
        )
        .status,
        303
    );
    let public_text = "县民政局要求村（社区）开具生活困难证明的做法已叫停，改由部门自行核实。";
    assert_eq!(
        desk.post_csrf(
            &format!("/staff/cases/{case_id}/publish"),
            &[("public_text", public_text)]
        )
        .status,
        303
    );
    let board = app.get("/outcomes");
    assert_eq!(board.status, 200);
    assert!(board.body.contains(public_text));
    assert!(board.body.contains("叫停"));
    for r in &rows {
        let id = r["id"].as_str().unwrap();
        assert!(!board.body.contains(id), "P6: no report id on the board");
        assert!(
            !board.body.contains(r["body"].as_str().unwrap()),
            "P6: no report text"
        );
    }
    assert!(board.header("set-cookie").is_none());
    assert_eq!(
        desk.post_csrf(
            &format!("/staff/cases/{case_id}/publish"),
            &[("withdraw", "1"), ("confirm", "1")]
        )
        .status,
        303
    );
    assert!(!app.get("/outcomes").body.contains(public_text));
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    assert_eq!(admin.get("/staff/cases").status, 403);
    assert_eq!(admin.get(&format!("/staff/cases/{case_id}")).status, 403);
}

#[test]
fn statistics_count_released_reports_and_export_each_table() {
    let app = spawn_app();
    app.add_staff();
    file_three(&app);
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let page = desk.get("/staff/stats");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("受理匿名反映 <b>3</b> 件次"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<svg"));
    assert!(!page.body.to_lowercase().contains("<script"));
    let csv = desk.get("/staff/stats/category.csv");
    assert_eq!(csv.status, 200);
    assert!(
        csv.body.contains("违规要求出具证明或盖章,2\r\n"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("重复填表报数、多头台账,1\r\n"));
    let month = chrono::Local::now().format("%Y-%m").to_string();
    assert!(desk
        .get("/staff/stats/department.csv")
        .body
        .contains("县农业农村局,3\r\n"));
    assert!(desk
        .get("/staff/stats/month.csv")
        .body
        .contains(&format!("{month},3\r\n")));
    // A report released while the session is open, with another department and no
    // township, is counted once the session has caught up.
    let card = app.issue_cards(1).remove(0);
    let mut fields = crate::helpers::report_fields(&card, "另一个部门要求每天报数。");
    fields.retain(|(k, _)| !matches!(*k, "department" | "township"));
    fields.extend([("department", "县民政局"), ("township", "")]);
    assert_eq!(app.post_form("/report", &fields).status, 303);
    app.wait_released(4);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !desk
        .get("/staff/stats")
        .body
        .contains("受理匿名反映 <b>4</b> 件次")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the session never caught up"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let departments = desk.get("/staff/stats/department.csv").body;
    assert!(departments.contains("县农业农村局,3\r\n"), "{departments}");
    assert!(departments.contains("县民政局,1\r\n"), "{departments}");
    let townships = desk.get("/staff/stats/township.csv").body;
    assert!(townships.contains("城关镇,3\r\n"), "{townships}");
    assert_eq!(
        townships.lines().count(),
        2,
        "no row for an empty township: {townships}"
    );
    assert!(desk
        .get("/staff/stats/month.csv")
        .body
        .contains(&format!("{month},4\r\n")));
    assert_eq!(desk.get("/staff/stats/nope.csv").status, 404);
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    assert_eq!(admin.get("/staff/stats").status, 403);
    assert_eq!(admin.get("/staff/stats/category.csv").status, 403);
}

#[test]
fn changing_ones_password_keeps_the_desk_key() {
    let app = spawn_app();
    app.add_staff();
    let rows = file_three(&app);
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let wrong = desk.post_csrf(
        "/staff/password",
        &[
            ("current", "not my password"),
            ("new", "a brand new password"),
            ("new2", "a brand new password"),
        ],
    );
    assert_eq!(wrong.status, 422);
    let ok = desk.post_csrf(
        "/staff/password",
        &[
            ("current", INVESTIGATOR_PASSWORD),
            ("new", "a brand new password"),
            ("new2", "a brand new password"),
        ],
    );
    assert_eq!(ok.status, 200);
    let old = app.post_form(
        "/staff/login",
        &[
            ("username", INVESTIGATOR),
            ("password", INVESTIGATOR_PASSWORD),
        ],
    );
    assert_eq!(old.status, 401);
    let again = app.login(INVESTIGATOR, "a brand new password");
    let id = rows[0]["id"].as_str().unwrap();
    assert_eq!(
        again.get(&format!("/staff/reports/{id}")).status,
        200,
        "still granted"
    );
}

#[test]
fn closed_reports_past_retention_are_deleted_with_their_notes() {
    let app = crate::helpers::spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "1s"),
        ("JIANFU_RETENTION_DAYS", "30"),
    ]);
    app.add_staff();
    let rows = file_three(&app);
    let closed = id_of(&rows, "第一份");
    let recent_closed = id_of(&rows, "第二份");
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    for id in [&closed, &recent_closed] {
        assert_eq!(
            desk.post_csrf(
                &format!("/staff/reports/{id}"),
                &[("status", "substantiated")]
            )
            .status,
            303
        );
        assert_eq!(
            desk.post_csrf(&format!("/staff/reports/{id}"), &[("note", "核实完毕。")])
                .status,
            303
        );
    }
    // The deleted report's ciphertext, in its final (desk-boxed) form, must leave no trace.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sealed_sizes(&app, "desk").len() < 3 {
        assert!(std::time::Instant::now() < deadline, "never boxed");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let sealed: Vec<u8> = conn
        .query_row("SELECT sealed FROM reports WHERE id = ?1", [&closed], |r| {
            r.get(0)
        })
        .unwrap();
    conn.execute("UPDATE reports SET released_on = '2001-01-01'", [])
        .unwrap();
    conn.execute(
        "UPDATE reports SET released_on = date('now') WHERE id = ?1",
        [&recent_closed],
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let ids: Vec<String> = app
            .export()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        if !ids.contains(&closed) {
            assert_eq!(
                ids.len(),
                2,
                "the open old one and the recent closed one stay"
            );
            assert!(ids.contains(&recent_closed));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "retention never ran");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let notes: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM notes WHERE report_id = ?1",
            [&closed],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(notes, 0, "the notes went with the report");
    drop(conn);
    for (path, bytes) in crate::helpers::all_files(&app.data_dir()) {
        for piece in [
            &sealed[..32],
            &sealed[500..532],
            &sealed[sealed.len() - 32..],
        ] {
            assert!(
                !crate::helpers::contains(&bytes, piece),
                "{path:?} still holds the deleted report's ciphertext"
            );
        }
    }
}

#[test]
fn a_signed_in_investigator_sees_reports_released_after_the_login() {
    let app = spawn_app();
    app.add_staff();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    assert_eq!(
        desk.get("/staff/reports")
            .body
            .matches("href=\"/staff/reports/")
            .count(),
        0
    );
    let rows = file_three(&app);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let queue = desk.get("/staff/reports").body;
        if queue.matches("href=\"/staff/reports/").count() == 3 {
            assert!(queue.contains(rows[0]["id"].as_str().unwrap()));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the session never saw the release"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn sealed_sizes(app: &crate::helpers::TestApp, boxed: &str) -> Vec<usize> {
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT length(sealed) FROM reports WHERE boxed = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([boxed], |r| r.get::<_, i64>(0).map(|n| n as usize))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_first_unlock_boxes_reports_under_the_desk_key_and_later_sessions_read_them() {
    let app = spawn_app();
    app.add_staff();
    let rows = file_three(&app);
    // Sealed when filed and again when released: two ephemeral keys and two tags.
    assert_eq!(sealed_sizes(&app, "public"), [2 * (32 + 16) + 1024; 3]);
    let first = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    assert_eq!(
        first
            .get("/staff/reports")
            .body
            .matches("href=\"/staff/reports/")
            .count(),
        3
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sealed_sizes(&app, "desk").len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the session never stored the desk boxes"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        sealed_sizes(&app, "desk"),
        [24 + 1024 + 16; 3],
        "boxed again in the same size bucket"
    );
    let db = std::fs::read(app.data_dir().join("jianfu.db")).unwrap();
    let wal = std::fs::read(app.data_dir().join("jianfu.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!crate::helpers::contains(&bytes, "第一份".as_bytes()), "P5");
    }
    // A new session, the report page and the export all open the desk boxes.
    let second = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let searched = second.queue_with(&[("q", "第二份")]);
    assert_eq!(searched.matches("href=\"/staff/reports/").count(), 1);
    let id = id_of(&rows, "第三份");
    assert!(second
        .get(&format!("/staff/reports/{id}"))
        .body
        .contains("又要求开证明，第三份。"));
    let exported = app.export();
    assert_eq!(exported.len(), 3);
    for row in &rows {
        let again = exported.iter().find(|r| r["id"] == row["id"]).unwrap();
        assert_eq!(again["body"], row["body"]);
    }
}
