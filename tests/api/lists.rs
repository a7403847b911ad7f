//! Issue #4's reference lists: CSV import that reports bad rows and changes nothing, export,
//! and the reporter form offering the lists as choices.

use crate::helpers::{
    report_fields, spawn_app, ADMIN, ADMIN_PASSWORD, INVESTIGATOR, INVESTIGATOR_PASSWORD,
};

#[test]
fn the_form_offers_the_starter_lists() {
    let app = spawn_app();
    let page = app.get("/").body;
    assert!(
        page.contains("<option value=\"生活困难证明\">"),
        "cancelled certificates"
    );
    assert!(
        page.contains("SAMPLE-A001 办理老年优待证"),
        "admission list"
    );
    let total = page.len() + app.get("/static/site.css").body.len();
    assert!(total <= 30 * 1024, "{total} bytes");
}

#[test]
fn a_bad_import_reports_each_row_and_leaves_the_list_unchanged() {
    let app = spawn_app();
    app.add_staff();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    let before = admin.get("/staff/lists/admission.csv");
    assert_eq!(before.status, 200);
    assert!(before.body.starts_with("\u{feff}code,name,kind,basis\r\n"));
    let bad = "code,name,kind,basis\nX-1,新事项,协助,\nX-1,重复编码,协助,\nX-3,,协助,\n";
    let r = admin.post_csrf("/staff/lists/admission", &[("csv", bad)]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("第 3 行"), "{}", r.body);
    assert!(r.body.contains("第 4 行"));
    assert!(!r.body.contains("第 2 行"));
    assert!(r.body.contains("X-1,重复编码,协助,"), "the text is kept");
    assert_eq!(admin.get("/staff/lists/admission.csv").body, before.body);
    let header = admin.post_csrf("/staff/lists/departments", &[("csv", "部门\n县民政局\n")]);
    assert_eq!(header.status, 422);
    assert!(header.body.contains("第 1 行"));
}

#[test]
fn an_import_replaces_the_list_and_the_form_follows() {
    let app = spawn_app();
    app.add_staff();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    let csv = "name\n县民政局\n\"县农业农村局\"\n县住房和城乡建设局\n";
    let r = admin.post_csrf("/staff/lists/departments", &[("csv", csv)]);
    assert_eq!(r.status, 303);
    assert_eq!(
        admin.get("/staff/lists/departments.csv").body,
        "\u{feff}name\r\n县民政局\r\n县农业农村局\r\n县住房和城乡建设局\r\n"
    );
    let page = app.get("/").body;
    assert!(page.contains("list=\"department-list\""));
    assert!(page.contains("<option value=\"县住房和城乡建设局\">"));
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let audited: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'list.import'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
}

#[test]
fn a_report_names_the_certificate_and_the_admission_item() {
    let app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(2);
    let mut fields = report_fields(&cards[0], "要求开具生活困难证明并盖章。");
    fields.push(("certificate", "生活困难证明"));
    fields.push(("admission_item", "SAMPLE-A002"));
    assert_eq!(app.post_form("/report", &fields).status, 303);
    let mut stale = report_fields(&cards[1], "不在列表里的证明。");
    stale.push(("certificate", "并不存在的证明"));
    let r = app.post_form("/report", &stale);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("请重新选择"));
    let rows = app.wait_released(1);
    assert_eq!(rows[0]["certificate"], "生活困难证明");
    assert_eq!(rows[0]["admission_item"], "SAMPLE-A002");
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let id = rows[0]["id"].as_str().unwrap();
    let page = desk.get(&format!("/staff/reports/{id}")).body;
    assert!(page.contains("SAMPLE-A002 办理养老服务补贴"));
}

#[test]
fn investigators_cannot_touch_the_lists() {
    let app = spawn_app();
    app.add_staff();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    for path in [
        "/staff/lists",
        "/staff/lists/departments",
        "/staff/lists/departments.csv",
    ] {
        assert_eq!(desk.get(path).status, 403, "{path}");
    }
    let csrf = desk.csrf();
    let r = desk.post(
        "/staff/lists/departments",
        &[("csrf", &csrf), ("csv", "name\n某局\n")],
    );
    assert_eq!(r.status, 403);
}
