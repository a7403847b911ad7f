//! P2/P3: reports wait in the pool, are released on the schedule in random order with
//! random ids and the release day as their only date, and nothing staff can see changes at
//! the moment of filing.

use crate::helpers::{spawn_app, spawn_app_with, INVESTIGATOR, INVESTIGATOR_PASSWORD};

#[test]
fn pending_reports_are_invisible_until_the_release() {
    // Daily release at a time that is not now: nothing is released during this test.
    let app = spawn_app_with(&[("JIANFU_POOL_RELEASE_EVERY", "24h")]);
    app.add_staff();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let admin = app.login(crate::helpers::ADMIN, crate::helpers::ADMIN_PASSWORD);
    let queue_before = desk.get("/staff/reports").body;
    let admin_before = admin.get("/staff/batches").body;
    let cards = app.issue_cards(3);
    let admin_after_issue = admin.get("/staff/batches").body;
    for c in &cards[..2] {
        assert_eq!(
            app.file(c, "等待池里的反映，交付前谁也看不到。").status,
            303
        );
    }
    assert_eq!(desk.get("/staff/reports").body, queue_before);
    assert_eq!(admin.get("/staff/batches").body, admin_after_issue);
    assert_ne!(admin_before, admin_after_issue, "the new batch is listed");
    assert!(app.export().is_empty());
    assert_eq!(app.cli_ok(&["tokens", "list"], "").lines().count(), 2);
}

#[test]
fn released_reports_carry_random_ids_and_only_the_release_day() {
    let app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(12);
    for (i, c) in cards.iter().enumerate() {
        assert_eq!(app.file(c, &format!("第 {i} 份反映的内容。")).status, 303);
    }
    let rows = app.wait_released(12);
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 12, "ids are unique");
    // Random ids: the ids, in filing order, are not the ids in increasing order.
    let by_filing: Vec<i64> = (0..12)
        .map(|i| {
            let body = format!("第 {i} 份反映的内容。");
            let row = rows.iter().find(|r| r["body"] == body.as_str()).unwrap();
            row["id"].as_str().unwrap().parse().unwrap()
        })
        .collect();
    assert_ne!(by_filing, sorted, "ids follow filing order");
    for r in &rows {
        let released = r["released"].as_str().unwrap();
        assert!(chrono_like_date(released), "{released}");
    }
    let db = app.data_dir().join("jianfu.db");
    let conn = rusqlite::Connection::open(db).unwrap();
    let pending: i64 = conn
        .query_row("SELECT COUNT(*) FROM pending", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0);
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('reports')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        columns,
        [
            "id",
            "desk_id",
            "released_on",
            "status",
            "sealed",
            "assignee",
            "case_id",
            "boxed"
        ]
    );
}

fn chrono_like_date(s: &str) -> bool {
    s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-'
}

#[test]
fn after_a_release_the_wal_holds_no_frame_of_the_filings() {
    let app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(5);
    for c in &cards {
        assert_eq!(app.file(c, "检查预写日志的反映内容。").status, 303);
    }
    let db = app.data_dir().join("jianfu.db");
    let wal = app.data_dir().join("jianfu.db-wal");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let conn =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let released: i64 = conn
            .query_row("SELECT COUNT(*) FROM reports", [], |r| r.get(0))
            .unwrap();
        drop(conn);
        if released == 5 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not released");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The checkpoint retries while readers (like the loop above) hold snapshots.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the WAL was not truncated"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn pending_count(app: &crate::helpers::TestApp) -> i64 {
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    conn.query_row("SELECT COUNT(*) FROM pending", [], |r| r.get(0))
        .unwrap()
}

/// P3: below `pool.release_min` the scheduled releases pass by and the reports wait; the
/// report that reaches the threshold releases them all together.
#[test]
fn two_pending_reports_wait_across_releases_and_the_third_releases_all() {
    let app = spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "1s"),
        ("JIANFU_POOL_RELEASE_MIN", "3"),
        ("JIANFU_POOL_HOLD_MAX", "1000"),
    ]);
    app.add_staff();
    let cards = app.issue_cards(3);
    for (i, c) in cards[..2].iter().enumerate() {
        assert_eq!(
            app.file(c, &format!("等待凑够三份，第 {i} 份。")).status,
            303
        );
    }
    // Several scheduled releases pass.
    std::thread::sleep(std::time::Duration::from_millis(3500));
    assert_eq!(pending_count(&app), 2, "two reports are not released");
    assert!(app.export().is_empty());
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let waited: Vec<i64> = conn
        .prepare("SELECT releases FROM pool_waited")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        waited.len() == 1 && waited[0] >= 2,
        "the desk counts the releases it waited ({waited:?}), one number for its copies"
    );
    assert_eq!(
        app.file(&cards[2], "第三份到了，三份一起交付。").status,
        303
    );
    let rows = app.wait_released(3);
    assert_eq!(rows.len(), 3);
    let days: std::collections::BTreeSet<&str> = rows
        .iter()
        .map(|r| r["released"].as_str().unwrap())
        .collect();
    assert_eq!(days.len(), 1, "released together, with one date");
    assert_eq!(pending_count(&app), 0);
}

/// P3: a lone report is not held for ever: after `pool.hold_max` scheduled releases it goes.
#[test]
fn hold_max_releases_a_lone_report() {
    let app = spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "1s"),
        ("JIANFU_POOL_RELEASE_MIN", "3"),
        ("JIANFU_POOL_HOLD_MAX", "3"),
    ]);
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    assert_eq!(
        app.file(card, "只有这一份，等满三个周期后交付。").status,
        303
    );
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert_eq!(pending_count(&app), 1, "not released at the first release");
    let rows = app.wait_released(1);
    assert_eq!(rows[0]["body"], "只有这一份，等满三个周期后交付。");
}
