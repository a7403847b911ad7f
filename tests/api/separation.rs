//! P5 and P8 against the people who run the service: the admin who creates accounts and holds
//! copies of every file, and the investigator who leaves with their old password. Each test
//! gives the adversary exactly the access SECURITY.md grants it and asserts what it learns.

use std::path::{Path, PathBuf};

use crate::helpers::{
    all_files, contains, element_text, link_in, spawn_app, spawn_app_with, TestApp, ADMIN,
    ADMIN_PASSWORD, INVESTIGATOR, INVESTIGATOR_PASSWORD,
};

/// A copy of the data dir (database and key files), as a backup or an admin has it.
fn copy_data_dir(app: &TestApp, name: &str) -> PathBuf {
    let to = app.dir.path().join(name);
    for (path, bytes) in all_files(&app.data_dir()) {
        let rel = path.strip_prefix(app.data_dir()).unwrap();
        std::fs::create_dir_all(to.join(rel).parent().unwrap()).unwrap();
        std::fs::write(to.join(rel), bytes).unwrap();
    }
    to
}

fn jianfu(data: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(crate::helpers::bin())
        .args(args)
        .env("JIANFU_DATA_DIR", data)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn export(data: &Path, username: &str, password: &str) -> std::process::Output {
    jianfu(
        data,
        &[
            "reports",
            "export",
            "--username",
            username,
            "--password-stdin",
        ],
        &format!("{password}\n"),
    )
}

fn db(data: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data.join("jianfu.db")).unwrap()
}

fn staff_id(data: &Path, username: &str) -> i64 {
    db(data)
        .query_row(
            "SELECT id FROM staff WHERE username = ?1",
            [username],
            |r| r.get(0),
        )
        .unwrap()
}

/// A second investigator, invited, enrolled with their own password and granted by desk1.
fn second_investigator(app: &TestApp, password: &str) {
    assert_eq!(
        app.enrol(&app.invite("desk2", "investigator"), password)
            .status,
        200
    );
    let desk2 = app.login("desk2", password);
    let desk1 = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    assert_eq!(desk1.grant("desk2", &desk2.fingerprint_group()).status, 200);
}

#[test]
fn an_admin_posted_password_sets_nothing_and_the_account_has_no_key_until_it_enrols() {
    let app = spawn_app();
    app.add_staff();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    let r = admin.post_csrf(
        "/staff/accounts",
        &[
            ("username", "li4"),
            ("role", "investigator"),
            ("password", "chosen by the admin"),
            ("password2", "chosen by the admin"),
        ],
    );
    assert_eq!(r.status, 200);
    let conn = db(&app.data_dir());
    let id = staff_id(&app.data_dir(), "li4");
    let hash: Option<String> = conn
        .query_row("SELECT password_hash FROM staff WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(hash, None, "no password is set");
    let keys: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM investigator_keys WHERE staff_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(keys, 0, "no own key: it is made when li4 enrols");
    let audited: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action IN ('account.invite', 'account.link')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 2, "the link is audited when made");
    let login = app.post_form(
        "/staff/login",
        &[("username", "li4"), ("password", "chosen by the admin")],
    );
    assert_eq!(login.status, 401);
    // The link is stored only as its hash.
    let link = link_in(&r.body);
    let token = link.rsplit('/').next().unwrap();
    for (path, bytes) in all_files(&app.data_dir()) {
        assert!(!contains(&bytes, token.as_bytes()), "{}", path.display());
    }
}

#[test]
fn an_enrolment_link_works_once_and_expires() {
    let app = spawn_app();
    app.add_staff();
    let link = app.invite("once", "admin");
    assert_eq!(app.enrol(&link, "my own password 1").status, 200);
    let path = &link[link.find("/staff/enrol/").unwrap()..];
    assert_eq!(app.get(path).status, 404, "used");
    let again = app.post_form(
        path,
        &[
            ("password", "someone else's 1"),
            ("password2", "someone else's 1"),
        ],
    );
    assert_eq!(again.status, 404);
    app.login("once", "my own password 1");
    let used: i64 = db(&app.data_dir())
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'account.enrol'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(used, 1, "the use is audited");

    let late = app.invite("late", "investigator");
    db(&app.data_dir())
        .execute(
            "UPDATE enrolments SET expires_at = expires_at - 72 * 3600 - 1",
            [],
        )
        .unwrap();
    let path = &late[late.find("/staff/enrol/").unwrap()..];
    assert_eq!(app.get(path).status, 404, "expired after 72 hours");
}

/// The investigator who leaves keeps their old password and a copy of the files from before
/// they changed it; later they get a newer copy. The grant in the newer copy is sealed to the
/// new own key: the old wrap and the old password open nothing granted after the change.
#[test]
fn an_investigator_who_changed_password_cannot_open_a_later_grant_with_the_old_one() {
    let app = spawn_app();
    app.add_staff();
    second_investigator(&app, "desk2 old password");
    let card = &app.issue_cards(1)[0];
    assert_eq!(app.file(card, "换密码之前交付的反映。").status, 303);
    app.wait_released(1);
    let before = copy_data_dir(&app, "before");
    assert_eq!(
        export(&before, "desk2", "desk2 old password").status.code(),
        Some(0)
    );

    let desk2 = app.login("desk2", "desk2 old password");
    let changed = desk2.post_csrf(
        "/staff/password",
        &[
            ("current", "desk2 old password"),
            ("new", "desk2 new password"),
            ("new2", "desk2 new password"),
        ],
    );
    assert_eq!(changed.status, 200);
    let after = copy_data_dir(&app, "after");
    assert_eq!(
        export(&after, "desk2", "desk2 new password").status.code(),
        Some(0)
    );

    // The adversary's database: the newer copy with the old wrap and password hash put back.
    let id = staff_id(&after, "desk2");
    let old = db(&before);
    let (hash, wrap): (String, Vec<u8>) = old
        .query_row(
            "SELECT s.password_hash, k.wrapped FROM staff s JOIN investigator_keys k
             ON k.staff_id = s.id WHERE s.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let hybrid = db(&after);
    hybrid
        .execute_batch(&format!(
            "ATTACH '{}' AS old;
             DELETE FROM investigator_keys WHERE staff_id = {id};
             INSERT INTO investigator_keys SELECT * FROM old.investigator_keys WHERE staff_id = {id};",
            before.join("jianfu.db").display()
        ))
        .unwrap();
    hybrid
        .execute(
            "UPDATE staff SET password_hash = ?1 WHERE id = ?2",
            rusqlite::params![hash, id],
        )
        .unwrap();
    drop(hybrid);
    let out = export(&after, "desk2", "desk2 old password");
    assert!(!out.status.success(), "the old wrap opened the new grant");
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
    // And once the WAL is checkpointed, the old wrap is nowhere in the files (secure_delete).
    db(&app.data_dir())
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    for (path, bytes) in all_files(&app.data_dir()) {
        assert!(!contains(&bytes, &wrap), "{}", path.display());
    }
}

#[test]
fn disabling_an_account_deletes_its_key_and_grant_from_the_files() {
    let app = spawn_app();
    app.add_staff();
    second_investigator(&app, "desk2 password 1");
    let id = staff_id(&app.data_dir(), "desk2");
    let (wrap, grant): (Vec<u8>, Vec<u8>) = db(&app.data_dir())
        .query_row(
            "SELECT k.wrapped, g.sealed FROM investigator_keys k JOIN desk_grants g
             ON g.staff_id = k.staff_id WHERE k.staff_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    assert_eq!(
        admin
            .post_csrf(&format!("/staff/accounts/{id}/disable"), &[])
            .status,
        200
    );
    let gone: i64 = db(&app.data_dir())
        .query_row(
            "SELECT (SELECT COUNT(*) FROM investigator_keys WHERE staff_id = ?1)
                  + (SELECT COUNT(*) FROM desk_grants WHERE staff_id = ?1)",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(gone, 0);
    // A checkpoint moves the WAL into the file; secure_delete has zeroed the rows.
    db(&app.data_dir())
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    for (path, bytes) in all_files(&app.data_dir()) {
        assert!(!contains(&bytes, &wrap[..32]), "wrap in {}", path.display());
        assert!(
            !contains(&bytes, &grant[..32]),
            "grant in {}",
            path.display()
        );
    }
    let r = app.post_form(
        "/staff/login",
        &[("username", "desk2"), ("password", "desk2 password 1")],
    );
    assert_eq!(r.status, 401);
}

/// After a rotation, a copy of the files opens with the new desk key only: the test keeps the
/// old key (from the old recovery code) and tries it on every ciphertext of the later copy.
#[test]
fn after_a_rotation_a_later_copy_does_not_open_with_the_old_desk_key() {
    use jianfu::crypto::desk_box::BoxKey;
    use jianfu::crypto::{sealing, Purpose, RecoveryCode};

    // One report stays pending (two are needed for a release).
    let app = spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "1s"),
        ("JIANFU_POOL_RELEASE_MIN", "2"),
        ("JIANFU_POOL_HOLD_MAX", "100000"),
    ]);
    let out = app.cli_ok(
        &[
            "user",
            "add",
            "--username",
            INVESTIGATOR,
            "--role",
            "investigator",
            "--password-stdin",
        ],
        &format!("{INVESTIGATOR_PASSWORD}\n"),
    );
    let old_code = RecoveryCode::parse(out.lines().last().unwrap()).unwrap();
    let cards = app.issue_cards(3);
    for (i, c) in cards[..2].iter().enumerate() {
        assert_eq!(
            app.file(c, &format!("更换密钥之前的第 {i} 份。")).status,
            303
        );
    }
    let rows = app.wait_released(2);
    assert_eq!(
        app.file(&cards[2], "更换密钥时还在等待的一份。").status,
        303
    );
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let id = rows[0]["id"].as_str().unwrap().to_string();
    desk.post_csrf(&format!("/staff/reports/{id}"), &[("note", "备注内容")]);
    desk.post_csrf(&format!("/staff/reports/{id}"), &[("new_case", "事项标题")]);
    let before = copy_data_dir(&app, "before");
    let old_key = jianfu::desk::unlock_with_recovery(&db(&before), 1, &old_code).unwrap();

    let out = app.cli(
        &[
            "desk",
            "rotate",
            "--username",
            INVESTIGATOR,
            "--password-stdin",
        ],
        &format!("{INVESTIGATOR_PASSWORD}\n"),
    );
    assert!(out.status.success());
    let rotated = String::from_utf8(out.stdout).unwrap();
    let summary = String::from_utf8(out.stderr).unwrap();
    let new_code = RecoveryCode::parse(rotated.lines().last().unwrap()).unwrap();
    // P3: one report was pending; nothing the rotation wrote or printed counts it.
    assert!(
        summary.contains("pending reports sealed again") && !summary.contains("1 pending"),
        "{summary}"
    );
    assert_eq!(
        desk.get("/staff/reports").status,
        409,
        "the old session's key is stale"
    );
    let after = copy_data_dir(&app, "after");
    let conn = db(&after);
    assert!(jianfu::desk::unlock_with_recovery(&conn, 1, &old_code).is_err());
    let new_key = jianfu::desk::unlock_with_recovery(&conn, 1, &new_code).unwrap();

    let (old_box, new_box) = (BoxKey::derive(&old_key), BoxKey::derive(&new_key));
    let reports = jianfu::store::reports::of_desk(&conn, 1).unwrap();
    assert_eq!(reports.len(), 2);
    for r in &reports {
        assert!(jianfu::desk::open_report(&old_key, &old_box, r).is_err());
        assert!(jianfu::desk::open_report(&new_key, &new_box, r).is_ok());
    }
    let column = |sql: &str| -> Vec<Vec<u8>> {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows
    };
    for (sql, purpose) in [
        ("SELECT sealed FROM notes", Purpose::Note),
        ("SELECT sealed FROM cases", Purpose::Case),
        ("SELECT sealed FROM pending", Purpose::Report),
    ] {
        let sealed = column(sql);
        assert_eq!(sealed.len(), 1, "{sql}");
        assert!(
            sealing::open(&old_key, purpose, &sealed[0]).is_err(),
            "{sql}"
        );
        assert!(
            sealing::open(&new_key, purpose, &sealed[0]).is_ok(),
            "{sql}"
        );
    }
    // The investigator signs in again and reads everything, the pending one once released.
    let again = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let page = again.get(&format!("/staff/reports/{id}")).body;
    assert!(page.contains("备注内容") && page.contains("事项标题"));
    let audited: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'desk.rotate'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
    // P3: the audit log, as an admin reads and exports it, holds no count of pending reports.
    app.add_admin();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    for page in [
        admin.get("/staff/audit.csv").body,
        admin.get("/staff/audit").body,
    ] {
        let row = page
            .lines()
            .flat_map(|l| l.split("<tr>"))
            .find(|row| row.contains("desk.rotate"))
            .expect("the rotation is in the audit log");
        assert!(!row.contains("pending"), "a pending count: {row}");
    }
}

#[test]
fn case_titles_and_notes_typed_on_a_report_are_in_no_file_in_the_clear() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    assert_eq!(app.file(card, "读反映时新建事项。").status, 303);
    let id = app.wait_released(1)[0]["id"].as_str().unwrap().to_string();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let title = "某局要求村里出具居住证明的事项";
    assert_eq!(
        desk.post_csrf(&format!("/staff/reports/{id}"), &[("new_case", title)])
            .status,
        303
    );
    assert_eq!(
        desk.post_csrf(
            "/staff/cases",
            &[
                ("title", "另一个事项：迎检台账"),
                ("department", "县档案馆"),
                ("listed", "off"),
                ("outcome", "open"),
                ("month", "2026-10"),
            ],
        )
        .status,
        303
    );
    assert!(
        desk.get("/staff/cases").body.contains(title),
        "the desk reads it"
    );
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    for page in ["/staff/accounts", "/staff/audit", "/staff/audit.csv"] {
        assert!(!admin.get(page).body.contains(title));
    }
    db(&app.data_dir())
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    for (path, bytes) in all_files(&app.data_dir()) {
        for clear in [title, "迎检台账", "县档案馆"] {
            assert!(
                !contains(&bytes, clear.as_bytes()),
                "{clear} in {}",
                path.display()
            );
        }
    }
}

#[test]
fn reading_filtering_and_searching_the_queue_are_audited_without_the_search_text() {
    let app = spawn_app();
    app.add_staff();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    desk.get("/staff/reports?tab=all");
    desk.queue_with(&[("category", "certificate"), ("department", "县民政局")]);
    desk.queue_with(&[("q", "搜索的秘密词")]);
    let conn = db(&app.data_dir());
    let mut stmt = conn
        .prepare("SELECT action, object FROM audit WHERE action LIKE 'queue.%' ORDER BY id")
        .unwrap();
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        rows.contains(&("queue.read".into(), "tab:all page:1".into())),
        "{rows:?}"
    );
    assert!(rows.contains(&("queue.filter".into(), "category,department".into())));
    assert!(rows.iter().any(|(a, _)| a == "queue.search"));
    for (path, bytes) in all_files(&app.data_dir()) {
        for typed in ["搜索的秘密词", "县民政局"] {
            assert!(
                !contains(&bytes, typed.as_bytes()),
                "{typed} in {}",
                path.display()
            );
        }
    }
    assert!(!app.output().contains("搜索的秘密词"));
}

#[test]
fn the_fingerprint_of_the_desk_key_is_the_same_on_the_desk_the_console_and_the_command_line() {
    let app = spawn_app();
    app.add_staff();
    let printed = app.cli_ok(&["desk", "fingerprint"], "").trim().to_string();
    assert_eq!(printed.len(), 19, "{printed}");
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    assert_eq!(
        element_text(&desk.get("/staff/team").body, "desk-fingerprint"),
        printed
    );
    assert!(app
        .login(ADMIN, ADMIN_PASSWORD)
        .get("/staff/accounts")
        .body
        .contains(&printed));
}

/// An admin resets an investigator with the command line — another process than the server,
/// which holds the sessions in memory — while that investigator's session is open with the
/// desk key unlocked: the session's next request is refused and the session is gone (P5).
/// A password change in the console keeps the session that made it and ends the others.
#[test]
fn a_reset_on_the_command_line_ends_the_open_session_at_its_next_request() {
    let app = spawn_app();
    app.add_staff();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    assert_eq!(desk.get("/staff/reports").status, 200, "unlocked");

    let link = app.cli_ok(&["user", "reset", "--username", INVESTIGATOR], "");
    assert!(link.contains("/staff/enrol/"), "{link}");
    let refused = desk.get("/staff/reports");
    assert_eq!(refused.status, 303);
    assert_eq!(refused.header("location"), Some("/staff/login"));
    // Ended (the server says so), not refused once: its desk key was dropped with it.
    app.wait_for_output("staff session ended: the account was reset");
    assert_eq!(desk.get("/staff/team").status, 303);

    // The console's own password change: the session that made it goes on, an older one ends.
    let other = app.login(ADMIN, ADMIN_PASSWORD);
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    let changed = admin.post_csrf(
        "/staff/password",
        &[
            ("current", ADMIN_PASSWORD),
            ("new", "admin password 13"),
            ("new2", "admin password 13"),
        ],
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(admin.get("/staff/accounts").status, 200);
    assert_eq!(other.get("/staff/accounts").status, 303);
}

/// The rotation button on the team page (P5), with two granted investigators: the one who
/// rotates is shown the new recovery code once, every session of the desk ends, and the
/// other investigator's grant is renewed — they sign in and read a report released before.
/// The audit row counts no pending report (P3).
#[test]
fn rotating_from_the_team_page_renews_the_other_investigators_grant() {
    let app = spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "1s"),
        ("JIANFU_POOL_RELEASE_MIN", "2"),
        ("JIANFU_POOL_HOLD_MAX", "100000"),
    ]);
    app.add_staff();
    let cards = app.issue_cards(3);
    assert_eq!(app.file(&cards[0], "更换密钥之前发布的一份。").status, 303);
    assert_eq!(app.file(&cards[1], "同一天发布的另一份。").status, 303);
    let rows = app.wait_released(2);
    assert_eq!(app.file(&cards[2], "更换密钥时还在等待。").status, 303);
    second_investigator(&app, "desk2 password 1");
    let desk2 = app.login("desk2", "desk2 password 1");
    let id = rows
        .iter()
        .find(|r| r["body"] == "更换密钥之前发布的一份。")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(desk2
        .get(&format!("/staff/reports/{id}"))
        .body
        .contains("更换密钥之前发布的一份。"));

    let desk1 = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let old_fingerprint = element_text(&desk1.get("/staff/team").body, "desk-fingerprint");
    let wrong = desk1.post_csrf("/staff/team/rotate", &[("password", "not my password")]);
    assert_eq!(wrong.status, 422, "a wrong password rotates nothing");
    let rotated = desk1.post_csrf("/staff/team/rotate", &[("password", INVESTIGATOR_PASSWORD)]);
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let code = element_text(&rotated.body, "recovery-code");
    assert!(
        jianfu::crypto::RecoveryCode::parse(&code).is_some(),
        "{code}"
    );
    let new_fingerprint = element_text(&rotated.body, "desk-fingerprint");
    assert_ne!(new_fingerprint, old_fingerprint);
    assert_eq!(
        desk2.get("/staff/reports").status,
        303,
        "every session of the desk ended"
    );

    // desk2 did nothing: their grant was renewed to the new key.
    let desk2 = app.login("desk2", "desk2 password 1");
    assert_eq!(
        element_text(&desk2.get("/staff/team").body, "desk-fingerprint"),
        new_fingerprint
    );
    let page = desk2.get(&format!("/staff/reports/{id}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("更换密钥之前发布的一份。"));

    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    let audit = admin.get("/staff/audit.csv").body;
    let row = audit
        .lines()
        .find(|l| l.contains(",desk.rotate,"))
        .expect("the rotation is audited");
    assert!(!row.contains("pending"), "a pending count: {row}");
}
