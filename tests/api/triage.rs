//! Issue 13, the desk side: one triage form that saves status, assignee, case and note
//! together and says so; queue filters that survive opening a report (and a case's "在队列中
//! 查看"), with the search still never in a URL (P8); a refused publication that keeps the
//! typed text; and a confirmation page before withdrawing a publication.

use crate::desk::{file_three, id_of};
use crate::helpers::{spawn_app, TestApp, INVESTIGATOR, INVESTIGATOR_PASSWORD};

fn staff_id(app: &TestApp, username: &str) -> String {
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    conn.query_row(
        "SELECT id FROM staff WHERE username = ?1",
        [username],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
    .to_string()
}

/// The `<form …>…</form>` of a page that holds `needle`.
fn form_with<'a>(page: &'a str, needle: &str) -> &'a str {
    let at = page.find(needle).expect("the field is on the page");
    let start = page[..at].rfind("<form").expect("inside a form");
    let end = at + page[at..].find("</form>").expect("the form ends");
    &page[start..end]
}

fn rows_in(queue: &str) -> usize {
    queue.matches("<td><a href=\"/staff/reports/").count()
}

#[test]
fn one_save_keeps_the_status_the_assignee_the_case_and_the_note_together() {
    let app = spawn_app();
    app.add_staff();
    let rows = file_three(&app);
    let id = id_of(&rows, "第一份");
    let path = format!("/staff/reports/{id}");
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let page = desk.get(&path).body;
    // One form holds every triage field, so no button leaves another field's choice behind.
    assert_eq!(page.matches(&format!("action=\"{path}\"")).count(), 1);
    let form = form_with(&page, "name=\"status\"");
    for field in [
        "csrf",
        "assignee",
        "case_id",
        "new_case",
        "note",
        "status_was",
    ] {
        assert!(form.contains(&format!("name=\"{field}\"")), "{field}");
    }
    let me = staff_id(&app, INVESTIGATOR);
    // What the browser sends when the status is changed and then 归入事项 is pressed.
    let saved = desk.post_csrf(
        &path,
        &[
            ("status_was", "new"),
            ("assignee_was", ""),
            ("case_id_was", ""),
            ("status", "investigating"),
            ("assignee", &me),
            ("case_id", ""),
            ("new_case", "要求开具生活困难证明"),
            ("note", "已电话联系镇民政办。"),
        ],
    );
    assert_eq!(saved.status, 303);
    let to = saved.header("location").unwrap().to_string();
    assert_eq!(to, format!("{path}?saved=status,assignee,case,note"));
    let case_id = desk.only_case();
    let after = desk.get(&to).body;
    assert!(
        after.contains("role=\"status\">已保存：状态、承办人、所属事项、笔记。</p>"),
        "{after}"
    );
    assert!(after.contains("<option value=\"investigating\" selected>"));
    assert!(after.contains(&format!("<option value=\"{me}\" selected>")));
    assert!(after.contains(&format!(
        "<option value=\"{case_id}\" selected>#{case_id} 要求开具生活困难证明"
    )));
    assert!(after.contains("已电话联系镇民政办。"));
    let exported = app.export();
    let row = exported.iter().find(|r| r["id"] == id.as_str()).unwrap();
    assert_eq!(row["status"], "investigating");
    assert!(desk
        .get(&format!("/staff/cases/{case_id}"))
        .body
        .contains("归入的反映：1 条"));
    // P8: each change audited on its own, by id and code only.
    assert_eq!(
        app.audited("report.status"),
        [format!("report:{id} investigating")]
    );
    assert_eq!(
        app.audited("report.assign"),
        [format!("report:{id} staff:{me}")]
    );
    assert_eq!(
        app.audited("report.case"),
        [format!("report:{id} case:{case_id}")]
    );
    assert_eq!(app.audited("note.add"), [format!("report:{id}")]);
    // The same form sent again unchanged changes nothing, and says so.
    let again = desk.post_csrf(
        &path,
        &[
            ("status_was", "investigating"),
            ("assignee_was", &me),
            ("case_id_was", "1"),
            ("status", "investigating"),
            ("assignee", &me),
            ("case_id", "1"),
            ("new_case", ""),
            ("note", ""),
        ],
    );
    assert_eq!(
        again.header("location").unwrap(),
        format!("{path}?saved=none")
    );
    assert!(desk
        .get(&format!("{path}?saved=none"))
        .body
        .contains("已保存（没有改动）。"));
    assert_eq!(app.audited("report.status").len(), 1);
    assert_eq!(app.audited("report.case").len(), 1);
}

#[test]
fn saving_the_form_does_not_undo_a_colleagues_change_in_a_field_left_alone() {
    let app = spawn_app();
    app.add_staff();
    let rows = file_three(&app);
    let path = format!("/staff/reports/{}", id_of(&rows, "第二份"));
    let me = staff_id(&app, INVESTIGATOR);
    let (mine, colleague) = (
        app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD),
        app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD),
    );
    // The page in `mine` shows the report new and unassigned; meanwhile it is assigned.
    assert_eq!(colleague.post_csrf(&path, &[("assignee", &me)]).status, 303);
    let r = mine.post_csrf(
        &path,
        &[
            ("status_was", "new"),
            ("assignee_was", ""),
            ("case_id_was", ""),
            ("status", "partly"),
            ("assignee", ""),
            ("case_id", ""),
        ],
    );
    assert_eq!(
        r.header("location").unwrap(),
        format!("{path}?saved=status")
    );
    let page = mine.get(&path).body;
    assert!(page.contains("<option value=\"partly\" selected>"));
    assert!(
        page.contains(&format!("<option value=\"{me}\" selected>")),
        "the colleague's assignment stays"
    );
}

#[test]
fn queue_filters_survive_opening_a_report_and_a_case_shows_its_reports_in_the_queue() {
    let app = spawn_app();
    app.add_staff();
    let rows = file_three(&app);
    let (first, second, third) = (
        id_of(&rows, "第一份"),
        id_of(&rows, "第二份"),
        id_of(&rows, "第三份"),
    );
    let me = staff_id(&app, INVESTIGATOR);
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let post = |id: &str, fields: &[(&str, &str)]| {
        assert_eq!(
            desk.post_csrf(&format!("/staff/reports/{id}"), fields)
                .status,
            303
        )
    };
    post(&first, &[("new_case", "要求开具生活困难证明")]);
    let case_id = desk.only_case();
    post(
        &third,
        &[("case_id", &case_id), ("status", "investigating")],
    );
    post(&second, &[("assignee", &me)]);

    // Filtered by assignee on the 全部 tab: one row, with its assignee shown.
    desk.get("/staff/reports?tab=all");
    let queue = desk.queue_with(&[("tab", "all"), ("assignee", &me)]);
    assert_eq!(rows_in(&queue), 1, "{queue}");
    assert!(queue.contains(&format!("/staff/reports/{second}\"")));
    assert!(queue.contains(&format!("<td class=\"assignee\">{INVESTIGATOR}</td>")));
    // Open the report, then "← 返回队列": the same tab, page and filter.
    let report = desk.get(&format!("/staff/reports/{second}")).body;
    let back = "/staff/reports?tab=all&amp;page=1";
    assert!(report.contains(&format!("href=\"{back}\">← 返回队列（保留筛选）")));
    let queue = desk.get(&back.replace("&amp;", "&")).body;
    assert_eq!(rows_in(&queue), 1);
    assert!(queue.contains("class=\"current\" aria-current=\"page\">全部"));

    // "在队列中查看" on the case: its two reports, across tabs, and which case it is.
    let case = desk.get(&format!("/staff/cases/{case_id}")).body;
    assert!(case.contains(&format!("href=\"/staff/reports?case={case_id}\"")));
    let queue = desk.get(&format!("/staff/reports?case={case_id}")).body;
    assert_eq!(rows_in(&queue), 2, "{queue}");
    assert!(!queue.contains(&format!("/staff/reports/{second}\"")));
    assert!(queue.contains(&format!(
        "只显示归入事项 <a href=\"/staff/cases/{case_id}\">#{case_id} 要求开具生活困难证明</a>"
    )));
    assert_eq!(app.audited("queue.filter").last().unwrap(), "case");
    // And it stays after opening one of them.
    desk.get(&format!("/staff/reports/{first}"));
    assert_eq!(rows_in(&desk.get("/staff/reports?tab=all&page=1").body), 2);

    // P8: a search still travels in the body and stays out of the URL and the audit log.
    let set = desk.post_csrf(
        "/staff/reports",
        &[("tab", "all"), ("q", "第二份"), ("category", "forms")],
    );
    let to = set.header("location").unwrap();
    assert_eq!(to, "/staff/reports?tab=all");
    assert_eq!(rows_in(&desk.get(to).body), 1);
    let report = desk.get(&format!("/staff/reports/{second}")).body;
    assert!(report.contains("href=\"/staff/reports?tab=all&amp;page=1\""));
    assert_eq!(app.audited("queue.search"), [""]);
    assert_eq!(app.audited("queue.filter").last().unwrap(), "category");
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let leaked: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE object LIKE '%第二份%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leaked, 0);
}

#[test]
fn a_refused_publication_comes_back_with_the_typed_text_and_a_way_to_publish() {
    let app = spawn_app();
    app.add_staff();
    let rows = file_three(&app);
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let first = id_of(&rows, "第一份");
    desk.post_csrf(
        &format!("/staff/reports/{first}"),
        &[("new_case", "要求开具生活困难证明")],
    );
    let case_id = desk.only_case();
    // While the outcome is 尚无结论 the page offers no publish button, only the way there.
    let page = desk.get(&format!("/staff/cases/{case_id}")).body;
    assert!(page.contains("id=\"publish-later\""));
    assert!(!page.contains("id=\"publish\""));
    assert!(!page.contains(&format!("action=\"/staff/cases/{case_id}/publish\"")));
    // A publication sent anyway (a stale page, a colleague's change) is refused with the
    // text as typed, the reason, and the outcome to choose right there.
    let text = "县民政局要求村里开具生活困难证明的做法已叫停，改由部门自行核实。";
    let refused = desk.post_csrf(
        &format!("/staff/cases/{case_id}/publish"),
        &[("public_text", text)],
    );
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains(&format!(">{text}</textarea>")),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("role=\"alert\""));
    let form = form_with(&refused.body, "name=\"public_text\"");
    assert!(form.contains("id=\"publish-outcome\" name=\"outcome\" required"));
    assert!(form.contains("<option value=\"stopped\">叫停</option>"));
    assert!(!form.contains("value=\"upheld\""));
    assert!(!app.get("/outcomes").body.contains(text));
    assert!(app.audited("case.publish").is_empty());
    // An empty text is refused too, and whatever was there stays.
    let empty = desk.post_csrf(
        &format!("/staff/cases/{case_id}/publish"),
        &[("public_text", "  "), ("outcome", "stopped")],
    );
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("请为公众写一段公示文字"));
    assert!(app.audited("case.update").is_empty(), "nothing was changed");
    // The refusal page's form works: the outcome chosen and the text published together.
    let done = desk.post_csrf(
        &format!("/staff/cases/{case_id}/publish"),
        &[("public_text", text), ("outcome", "stopped")],
    );
    assert_eq!(done.status, 303);
    assert_eq!(
        done.header("location").unwrap(),
        format!("/staff/cases/{case_id}?saved=published")
    );
    assert!(desk
        .get(&format!("/staff/cases/{case_id}?saved=published"))
        .body
        .contains("已保存并公示。"));
    assert!(app.get("/outcomes").body.contains(text));
    assert_eq!(
        app.audited("case.update"),
        [format!("case:{case_id} outcome:stopped")]
    );
    assert_eq!(app.audited("case.publish"), [format!("case:{case_id}")]);
}

#[test]
fn withdrawing_a_publication_asks_first_and_the_first_post_changes_nothing() {
    let app = spawn_app();
    app.add_staff();
    let rows = file_three(&app);
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    desk.post_csrf(
        &format!("/staff/reports/{}", id_of(&rows, "第一份")),
        &[("new_case", "每天上报巡查照片")],
    );
    let case_id = desk.only_case();
    let text = "城关镇要求各村每天上报巡查照片的做法已叫停。";
    let done = desk.post_csrf(
        &format!("/staff/cases/{case_id}/publish"),
        &[("public_text", text), ("outcome", "stopped")],
    );
    assert_eq!(done.status, 303);
    let page = desk.get(&format!("/staff/cases/{case_id}")).body;
    assert!(page.contains("name=\"withdraw\" value=\"1\""));
    // The first press only asks, with a form that confirms and a way back.
    let ask = desk.post_csrf(
        &format!("/staff/cases/{case_id}/publish"),
        &[("withdraw", "1")],
    );
    assert_eq!(ask.status, 200);
    // (Tera writes the `/` of a value into an attribute as `&#x2F;`.)
    let body = ask.body.replace("&#x2F;", "/");
    assert!(body.contains("确认撤回公示"));
    assert!(body.contains("每天上报巡查照片"), "names the case");
    let form = form_with(&body, "name=\"confirm\"");
    assert!(form.contains(&format!("action=\"/staff/cases/{case_id}/publish\"")));
    assert!(form.contains("name=\"withdraw\" value=\"1\""));
    assert!(form.contains("name=\"csrf\""));
    assert!(body.contains(&format!(
        "href=\"/staff/cases/{case_id}\" class=\"cancel\">取消"
    )));
    assert!(app.get("/outcomes").body.contains(text), "still published");
    assert!(app.audited("case.withdraw").is_empty());
    // A forged confirmation is refused like any forged form.
    let forged = desk.post(
        &format!("/staff/cases/{case_id}/publish"),
        &[("csrf", "forged"), ("withdraw", "1"), ("confirm", "1")],
    );
    assert_eq!(forged.status, 403);
    assert!(app.get("/outcomes").body.contains(text));
    // Confirmed, it is gone from the board, audited, and the page says so.
    let confirmed = desk.post_csrf(
        &format!("/staff/cases/{case_id}/publish"),
        &[("withdraw", "1"), ("confirm", "1")],
    );
    assert_eq!(confirmed.status, 303);
    assert_eq!(
        confirmed.header("location").unwrap(),
        format!("/staff/cases/{case_id}?saved=withdrawn")
    );
    assert!(!app.get("/outcomes").body.contains(text));
    assert_eq!(app.audited("case.withdraw"), [format!("case:{case_id}")]);
    assert!(desk
        .get(&format!("/staff/cases/{case_id}?saved=withdrawn"))
        .body
        .contains("已撤回公示。"));
}
