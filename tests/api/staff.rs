//! SPEC §3.3, P5, P8: staff login, roles, CSRF, throttling and the one-time setup link.

use crate::helpers::{spawn_app, ADMIN, ADMIN_PASSWORD, INVESTIGATOR, INVESTIGATOR_PASSWORD};

#[test]
fn the_investigator_reads_a_released_report_and_the_view_is_audited() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    assert_eq!(
        app.file(card, "工作群里每天要求打卡三次，<script>alert(1)</script>")
            .status,
        303
    );
    let id = app.wait_released(1)[0]["id"].as_str().unwrap().to_string();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let queue = desk.get("/staff/reports");
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains(&format!("/staff/reports/{id}")));
    let page = desk.get(&format!("/staff/reports/{id}"));
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("工作群里每天要求打卡三次，&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(!page.body.contains("<script>alert(1)"));
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let views: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'report.view' AND object = ?1",
            [format!("report:{id}")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(views, 1);
    let content_in_audit: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE object LIKE '%打卡%' OR action LIKE '%打卡%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(content_in_audit, 0);
}

#[test]
fn admins_get_403_on_every_report_route() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    assert_eq!(
        app.file(card, "管理员不应看到的内容，独特标记。").status,
        303
    );
    let id = app.wait_released(1)[0]["id"].as_str().unwrap().to_string();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    for path in ["/staff/reports".to_string(), format!("/staff/reports/{id}")] {
        let r = admin.get(&path);
        assert_eq!(r.status, 403, "{path}");
        assert!(!r.body.contains("独特标记"));
    }
    assert!(!admin.get("/staff/batches").body.contains("独特标记"));
}

#[test]
fn without_a_session_staff_pages_redirect_to_login() {
    let app = spawn_app();
    for path in ["/staff/", "/staff/reports", "/staff/reports/12345678"] {
        let r = app.get(path);
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.header("location"), Some("/staff/login"));
    }
    let forged = app
        .agent
        .get(&format!("{}/staff/reports", app.url))
        .set("Cookie", "jianfu_staff=00ff")
        .call();
    assert!(matches!(forged, Ok(r) if r.status() == 303));
}

#[test]
fn the_session_cookie_is_httponly_strict_and_scoped_to_staff() {
    let app = spawn_app();
    app.add_staff();
    let r = app.post_form(
        "/staff/login",
        &[("username", ADMIN), ("password", ADMIN_PASSWORD)],
    );
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/staff"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
}

#[test]
fn logout_needs_the_csrf_token_and_ends_the_session() {
    let app = spawn_app();
    app.add_staff();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    assert_eq!(desk.post("/staff/logout", &[("csrf", "wrong")]).status, 403);
    assert_eq!(desk.get("/staff/reports").status, 200, "still signed in");
    let csrf = desk.csrf();
    assert_eq!(desk.post("/staff/logout", &[("csrf", &csrf)]).status, 303);
    assert_eq!(
        desk.get("/staff/reports").status,
        303,
        "the session is gone"
    );
}

#[test]
fn a_cross_site_login_post_is_refused() {
    let app = spawn_app();
    app.add_staff();
    let r = app
        .agent
        .post(&format!("{}/staff/login", app.url))
        .set("Origin", "https://evil.example")
        .send_form(&[("username", ADMIN), ("password", ADMIN_PASSWORD)]);
    assert!(matches!(r, Err(ureq::Error::Status(403, _))));
    let r = app
        .agent
        .post(&format!("{}/staff/login", app.url))
        .set("Sec-Fetch-Site", "cross-site")
        .send_form(&[("username", ADMIN), ("password", ADMIN_PASSWORD)]);
    assert!(matches!(r, Err(ureq::Error::Status(403, _))));
}

#[test]
fn logins_are_throttled_per_account() {
    let app = spawn_app();
    app.add_staff();
    for _ in 0..5 {
        let r = app.post_form(
            "/staff/login",
            &[("username", ADMIN), ("password", "wrong password!")],
        );
        assert_eq!(r.status, 401);
        assert!(r.header("set-cookie").is_none());
    }
    let r = app.post_form(
        "/staff/login",
        &[("username", ADMIN), ("password", ADMIN_PASSWORD)],
    );
    assert_eq!(r.status, 429, "even the right password waits");
    // Another account is not affected.
    app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
}

/// P5, as the admin who runs the server would read it: the setup link makes the first admin
/// only and hands them a link for the head of the desk; nothing the admin fetches shows a
/// recovery code, and the investigator's password is set by the investigator alone.
#[test]
fn the_setup_link_makes_the_admin_and_hands_them_the_desk_heads_link_never_the_recovery_code() {
    let app = spawn_app();
    let output = app.wait_for_output("/staff/setup/");
    let link = output
        .lines()
        .find_map(|l| l.split_whitespace().find(|w| w.contains("/staff/setup/")))
        .expect("setup link printed")
        .to_string();
    let path = link.trim_start_matches(&app.url).to_string();
    let form = app.get(&path);
    assert_eq!(form.status, 200);
    assert!(
        !form.body.contains("investigator_password"),
        "the setup page sets no investigator's password"
    );
    let fields = [
        ("admin_username", "admin"),
        ("admin_password", "admin password 1"),
        ("admin_password2", "admin password 1"),
        ("investigator_username", "desk"),
        // Whatever else is posted, no investigator password is set.
        ("investigator_password", "admin chose this 1"),
        ("investigator_password2", "admin chose this 1"),
    ];
    let mismatch: Vec<_> = fields
        .iter()
        .map(|&(k, v)| {
            if k == "admin_password2" {
                (k, "other password")
            } else {
                (k, v)
            }
        })
        .collect();
    let r = app.post_form(&path, &mismatch);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("value=\"desk\""), "usernames kept");
    let done = app.post_form(&path, &fields);
    assert_eq!(done.status, 200);
    assert!(
        !done.body.contains("recovery-code"),
        "no recovery code for the admin"
    );
    let enrol = crate::helpers::link_in(&done.body);
    assert!(enrol.contains("/staff/enrol/"), "{enrol}");
    assert_eq!(app.get(&path).status, 404, "the setup link works once");
    assert_eq!(app.post_form(&path, &fields).status, 404);
    let refused = app.post_form(
        "/staff/login",
        &[("username", "desk"), ("password", "admin chose this 1")],
    );
    assert_eq!(refused.status, 401, "the admin's choice opens nothing");
    let admin = app.login("admin", "admin password 1");
    for page in [
        "/staff/batches",
        "/staff/accounts",
        "/staff/audit",
        "/staff/settings",
    ] {
        assert!(!admin.get(page).body.contains("recovery-code"), "{page}");
    }

    // The head of the desk opens the link on their own computer: their password, the desk
    // key, and the recovery code shown to them once.
    let enrolled = app.enrol(&enrol, "desk head's own password");
    assert_eq!(enrolled.status, 200);
    let code = crate::helpers::element_text(&enrolled.body, "recovery-code");
    assert_eq!(code.matches('-').count(), 7, "{code}");
    assert_eq!(
        app.get(&enrol[enrol.find("/staff/enrol/").unwrap()..])
            .status,
        404,
        "once"
    );
    let desk = app.login("desk", "desk head's own password");
    assert_eq!(desk.get("/staff/reports").status, 200);
    for page in ["/staff/accounts", "/staff/audit", "/staff/audit.csv"] {
        assert!(!admin.get(page).body.contains(&code), "{page}");
    }
    assert!(
        !app.output().contains(&code),
        "the recovery code is not logged"
    );
}

#[test]
fn the_audit_log_refuses_updates_and_deletes() {
    let app = spawn_app();
    app.add_staff();
    app.login(ADMIN, ADMIN_PASSWORD);
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let before: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    assert!(before >= 3, "account creations and the login are audited");
    assert!(conn
        .execute("UPDATE audit SET actor = 'nobody'", [])
        .is_err());
    assert!(conn.execute("DELETE FROM audit", []).is_err());
    let after: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(before, after);
}

#[test]
fn admins_read_and_export_the_audit_log_and_investigators_cannot() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    assert_eq!(app.file(card, "审计日志里不应出现的反映内容。").status, 303);
    let id = app.wait_released(1)[0]["id"].as_str().unwrap().to_string();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    assert_eq!(desk.get(&format!("/staff/reports/{id}")).status, 200);
    assert_eq!(desk.get("/staff/audit").status, 403);
    assert_eq!(desk.get("/staff/audit.csv").status, 403);
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    let page = admin.get("/staff/audit").body;
    assert!(page.contains("report.view") && page.contains(&format!("report:{id}")));
    let csv = admin.get("/staff/audit.csv");
    assert!(csv.body.starts_with("\u{feff}at,actor,action,object\r\n"));
    assert!(csv.body.contains("report.view"));
    assert!(!csv.body.contains("审计日志里不应出现"));
}
