//! P3 against the console: an admin cannot make reports reach the desk close to when they
//! were filed. The console refuses a period under an hour, every schedule change is audited
//! as old → new, and the desk shows the schedule in force, its last change and a red notice
//! when the period (from any source) is under an hour.

use crate::helpers::{spawn_app_with, ADMIN, ADMIN_PASSWORD, INVESTIGATOR, INVESTIGATOR_PASSWORD};

fn audit(app: &crate::helpers::TestApp, action: &str) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT actor, object FROM audit WHERE action = ?1 ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([action], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

fn settings<'a>(every: &'a str, min: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("public_url", ""),
        ("release_every", every),
        ("release_at", "09:00"),
        ("release_min", min),
        ("hold_max", "7"),
        ("retention_days", "365"),
    ]
}

#[test]
fn an_admin_cannot_set_a_period_under_an_hour_and_every_change_is_on_the_record() {
    let mut app = spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "24h"),
        ("JIANFU_POOL_RELEASE_MIN", "3"),
    ]);
    app.add_staff();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    for short in ["1s", "59m"] {
        let refused = admin.post_csrf("/staff/settings", &settings(short, "3"));
        assert_eq!(refused.status, 422, "{short}");
        assert!(refused.body.contains("不能短于 1 小时"));
        assert!(refused.body.contains(&format!("value=\"{short}\"")), "kept");
    }
    assert!(
        !app.data_dir().join("jianfu.toml").exists(),
        "nothing written"
    );
    assert!(audit(&app, "schedule.change")
        .iter()
        .all(|(actor, _)| actor == "config"));

    assert_eq!(
        admin
            .post_csrf("/staff/settings", &settings("2h", "5"))
            .status,
        303
    );
    let changes: Vec<String> = audit(&app, "schedule.change")
        .into_iter()
        .filter(|(actor, _)| actor.starts_with("staff:"))
        .map(|(_, object)| object)
        .collect();
    assert_eq!(
        changes,
        ["pool.release_every: 24h → 2h", "pool.release_min: 3 → 5"]
    );

    // What an admin with a shell does instead — the environment — is on the record too, at
    // the next start, and the desk warns.
    app.env
        .retain(|(k, _)| k != "JIANFU_POOL_RELEASE_EVERY" && k != "JIANFU_POOL_RELEASE_MIN");
    app.env
        .push(("JIANFU_POOL_RELEASE_EVERY".into(), "1s".into()));
    app.terminate();
    app.start();
    let at_start = audit(&app, "schedule.change");
    let (actor, last) = at_start.last().unwrap();
    assert_eq!(actor, "config");
    assert!(
        last.contains("每 24h") && last.contains("→ 每 1s") && last.contains("至少 5 份"),
        "old → new at the start: {last}"
    );
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let queue = desk.get("/staff/reports").body;
    assert!(queue.contains("交付周期短于一小时"), "the red notice");
    assert!(queue.contains("每 1s 交付一次"), "the schedule in force");
    assert!(queue.contains("最近一次更改"), "and its last change");
}

#[test]
fn a_daily_schedule_shows_no_notice() {
    let app = spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "24h"),
        ("JIANFU_POOL_RELEASE_MIN", "3"),
    ]);
    app.add_staff();
    let queue = app
        .login(INVESTIGATOR, INVESTIGATOR_PASSWORD)
        .get("/staff/reports")
        .body;
    assert!(queue.contains("每 24h 交付一次（09:00 起算），至少 3 份才交付，最多等 7 个周期"));
    assert!(!queue.contains("交付周期短于一小时"));
}
