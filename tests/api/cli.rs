//! SPEC §3.1: the command line — one clear line on errors, never a panic trace.

use crate::helpers::{spawn_app, INVESTIGATOR, INVESTIGATOR_PASSWORD};

fn assert_one_line_error(out: &std::process::Output, mentions: &str) {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].contains(mentions), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn init_refuses_to_overwrite() {
    let app = spawn_app();
    assert_one_line_error(&app.cli(&["init"], ""), "refusing to overwrite");
}

#[test]
fn commands_on_a_missing_data_dir_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::helpers::bin())
        .args(["tokens", "list", "--data-dir"])
        .arg(dir.path().join("nothing"))
        .output()
        .unwrap();
    assert_one_line_error(&out, "jianfu init");
}

/// Issue #14: a data dir of the previous format kept cards with their batch; it cannot be
/// carried over, and every command says so and how to start afresh — nothing half-works.
#[test]
fn a_data_dir_of_the_previous_format_is_refused_with_a_way_forward() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("old");
    std::fs::create_dir_all(data.join("keys")).unwrap();
    std::fs::write(
        data.join("keys/card-hash.key"),
        format!("{}\n", "ab".repeat(32)),
    )
    .unwrap();
    let old = rusqlite::Connection::open(data.join("jianfu.db")).unwrap();
    old.execute_batch(
        "CREATE TABLE batches (id INTEGER PRIMARY KEY, label TEXT, issued_on TEXT,
           expires_on TEXT, revoked_on TEXT, issued INTEGER, withdrawn INTEGER);
         CREATE TABLE cards (hash BLOB PRIMARY KEY, batch_id INTEGER) WITHOUT ROWID;
         PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(old);
    for args in [&["tokens", "list"][..], &["serve", "--bind", "127.0.0.1:0"]] {
        let out = std::process::Command::new(crate::helpers::bin())
            .args(args)
            .env("JIANFU_DATA_DIR", &data)
            .output()
            .unwrap();
        assert_one_line_error(&out, "earlier version of jianfu");
        assert!(String::from_utf8_lossy(&out.stderr).contains("jianfu init"));
    }
    let conn = rusqlite::Connection::open(data.join("jianfu.db")).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 5, "the old database is left as it was");
}

#[test]
fn bad_configuration_names_the_key() {
    let app = spawn_app();
    let out = std::process::Command::new(crate::helpers::bin())
        .args(["tokens", "list"])
        .env("JIANFU_DATA_DIR", app.data_dir())
        .env("JIANFU_POOL_RELEASE_AT", "25:99")
        .output()
        .unwrap();
    assert_one_line_error(&out, "pool.release_at");
}

#[test]
fn a_later_investigator_reads_reports_only_once_granted() {
    let app = spawn_app();
    app.add_staff();
    let add = |name: &str, extra: &[&str], stdin: &str| {
        let mut args = vec![
            "user",
            "add",
            "--username",
            name,
            "--role",
            "investigator",
            "--password-stdin",
        ];
        args.extend_from_slice(extra);
        app.cli(&args, stdin)
    };
    let export = |name: &str| {
        app.cli(
            &["reports", "export", "--username", name, "--password-stdin"],
            "second password 1\n",
        )
    };
    // Without a grant the account exists but cannot open the desk.
    let out = add("desk2", &[], "second password 1\n");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("grants the desk key"));
    assert_one_line_error(&export("desk2"), "not been granted");
    // A wrong grantor password creates nothing.
    let out = add(
        "desk3",
        &["--grant-from", INVESTIGATOR],
        "second password 1\nwrong grantor password\n",
    );
    assert!(!out.status.success());
    let out = add(
        "desk3",
        &["--grant-from", INVESTIGATOR],
        &format!("second password 1\n{INVESTIGATOR_PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("Recovery code"),
        "only the first investigator gets one"
    );
    let card = &app.issue_cards(1)[0];
    assert_eq!(app.file(card, "第二位调查人员也能读到的反映。").status, 303);
    app.wait_released(1);
    let rows = export("desk3");
    assert!(rows.status.success());
    assert!(String::from_utf8_lossy(&rows.stdout).contains("第二位调查人员也能读到的反映。"));
}

#[test]
fn short_passwords_and_duplicate_users_are_refused() {
    let app = spawn_app();
    app.add_staff();
    assert_one_line_error(
        &app.cli(
            &[
                "user",
                "add",
                "--username",
                "x2",
                "--role",
                "admin",
                "--password-stdin",
            ],
            "short\n",
        ),
        "at least 10",
    );
    assert_one_line_error(
        &app.cli(
            &[
                "user",
                "add",
                "--username",
                crate::helpers::ADMIN,
                "--role",
                "admin",
                "--password-stdin",
            ],
            "long enough password\n",
        ),
        "already exists",
    );
}

#[test]
fn tokens_issue_txt_csv_and_html_and_revoke() {
    let app = spawn_app();
    let txt = app.issue_cards(5);
    assert_eq!(txt.len(), 5);
    for code in &txt {
        assert_eq!(code.len(), 24);
        assert_eq!(code.matches('-').count(), 4);
    }
    let out = app.dir.path().join("cards.csv");
    app.cli_ok(
        &[
            "tokens",
            "issue",
            "--count",
            "3",
            "--label",
            "镇,甲",
            "--format",
            "csv",
            "--expires",
            "2099-12-31",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.starts_with("\u{feff}batch,label,expires,code\r\n"));
    assert!(csv.contains("2,\"镇,甲\",2099-12-31,"));
    assert_eq!(csv.lines().count(), 4);
    let html = app.cli_ok(
        &[
            "tokens",
            "issue",
            "--count",
            "2",
            "--label",
            "<b>批</b>",
            "--format",
            "html",
        ],
        "",
    );
    assert!(html.contains("&lt;b&gt;批&lt;&#x2F;b&gt;"));
    assert_eq!(html.matches("class=\"code\"").count(), 2);
    assert_one_line_error(
        &app.cli(
            &[
                "tokens",
                "issue",
                "--count",
                "1",
                "--label",
                "x",
                "--expires",
                "2020-01-01",
            ],
            "",
        ),
        "past",
    );
    app.cli_ok(&["tokens", "revoke", "--batch", "1"], "");
    assert_one_line_error(
        &app.cli(&["tokens", "revoke", "--batch", "1"], ""),
        "already revoked",
    );
    assert_one_line_error(
        &app.cli(&["tokens", "revoke", "--batch", "99"], ""),
        "no batch 99",
    );
    let list = app.cli_ok(&["tokens", "list"], "");
    assert_eq!(list.lines().count(), 4);
    // P1: the database holds no code in any spelling.
    let db = std::fs::read(app.data_dir().join("jianfu.db")).unwrap();
    for code in &txt {
        assert!(!crate::helpers::contains(
            &db,
            code.replace('-', "").as_bytes()
        ));
    }
}

#[test]
fn backup_copies_the_database_consistently() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    assert_eq!(app.file(card, "备份里应当有的反映。").status, 303);
    app.wait_released(1);
    let backup = app.dir.path().join("backup.db");
    app.cli_ok(&["backup", "--out", backup.to_str().unwrap()], "");
    let conn = rusqlite::Connection::open(&backup).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM reports", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    assert_one_line_error(
        &app.cli(&["backup", "--out", backup.to_str().unwrap()], ""),
        "already exists",
    );
}

#[test]
fn usage_mistakes_are_one_line_too() {
    let app = spawn_app();
    assert_one_line_error(
        &app.cli(&["tokens", "issue", "--label", "x"], ""),
        "--count",
    );
    assert_one_line_error(
        &app.cli(&["tokens", "issue", "--count", "many", "--label", "x"], ""),
        "many",
    );
    assert_one_line_error(&app.cli(&["no-such-command"], ""), "no-such-command");
    let help = app.cli(&["--help"], "");
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("tokens"));
}
