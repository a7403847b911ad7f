//! SPEC §4 reliability and issue #6: no acknowledged report is lost across repeated
//! `kill -9` under load, every spent card has its stored report, SIGTERM lets in-flight
//! submissions finish, and a backup taken under load holds what was acknowledged before it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::{report_fields, spawn_app, TestApp};

/// Files reports from `threads` clients, one fresh card each, until told to stop or out of
/// cards; returns the bodies that were acknowledged with a 303.
fn load(
    url: &str,
    cards: Vec<String>,
    threads: usize,
    stop: &AtomicBool,
    round: usize,
) -> Vec<String> {
    let cards = Arc::new(Mutex::new(cards));
    let acked = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..threads {
            let cards = cards.clone();
            let acked = &acked;
            s.spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .redirects(0)
                    .timeout(Duration::from_secs(20))
                    .build();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let Some(card) = cards.lock().unwrap().pop() else {
                        break;
                    };
                    let body = format!("耐久测试第 {round} 轮，客户端 {t}，第 {n} 份。");
                    n += 1;
                    match agent
                        .post(&format!("{url}/report"))
                        .send_form(&report_fields(&card, &body))
                    {
                        Ok(r) if r.status() == 303 => acked.lock().unwrap().push(body),
                        Ok(r) => panic!("unexpected {}", r.status()),
                        Err(ureq::Error::Status(code, _)) => {
                            assert!(code == 503, "a fresh card answered {code}");
                        }
                        // The server is gone: connection refused or reset.
                        Err(_) => break,
                    }
                }
            });
        }
    });
    acked.into_inner().unwrap()
}

fn counts(app: &TestApp) -> (i64, i64, String) {
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let spent: i64 = conn
        .query_row(
            "SELECT (SELECT SUM(issued - withdrawn) FROM batches) - (SELECT COUNT(*) FROM cards)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let stored: i64 = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM pending) + (SELECT COUNT(*) FROM reports)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    (spent, stored, check)
}

#[test]
fn kill_minus_nine_under_load_loses_no_acknowledged_report() {
    let mut app = spawn_app();
    app.add_staff();
    let mut acknowledged = Vec::new();
    for round in 0..4 {
        let cards = app.issue_cards(300);
        let stop = AtomicBool::new(false);
        let url = app.url.clone();
        let acked = std::thread::scope(|s| {
            let loader = s.spawn(|| load(&url, cards, 8, &stop, round));
            std::thread::sleep(Duration::from_millis(250 + 150 * round as u64));
            app.kill();
            stop.store(true, Ordering::Relaxed);
            loader.join().unwrap()
        });
        assert!(
            !acked.is_empty(),
            "round {round}: nothing was filed before the kill"
        );
        acknowledged.extend(acked);
        app.start();
        let (spent, stored, check) = counts(&app);
        assert_eq!(check, "ok", "round {round}");
        assert_eq!(
            spent, stored,
            "round {round}: every spent card has its report"
        );
        assert!(stored as usize >= acknowledged.len());
    }
    let rows = app.wait_released(acknowledged.len());
    let bodies: std::collections::HashSet<&str> =
        rows.iter().map(|r| r["body"].as_str().unwrap()).collect();
    for body in &acknowledged {
        assert!(
            bodies.contains(body.as_str()),
            "acknowledged but lost: {body}"
        );
    }
}

#[test]
fn sigterm_lets_in_flight_submissions_finish() {
    let mut app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(400);
    let stop = AtomicBool::new(false);
    let url = app.url.clone();
    let (acked, status) = std::thread::scope(|s| {
        let loader = s.spawn(|| load(&url, cards, 8, &stop, 0));
        std::thread::sleep(Duration::from_millis(400));
        let status = app.terminate();
        stop.store(true, Ordering::Relaxed);
        (loader.join().unwrap(), status)
    });
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    assert!(!acked.is_empty());
    app.start();
    let rows = app.wait_released(acked.len());
    let bodies: std::collections::HashSet<&str> =
        rows.iter().map(|r| r["body"].as_str().unwrap()).collect();
    for body in &acked {
        assert!(
            bodies.contains(body.as_str()),
            "acknowledged but lost: {body}"
        );
    }
    let (spent, stored, check) = counts(&app);
    assert_eq!((spent, check.as_str()), (stored, "ok"));
}

#[test]
fn a_backup_under_load_holds_every_report_acknowledged_before_it() {
    let app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(600);
    let stop = AtomicBool::new(false);
    let url = app.url.clone();
    let backup = app.dir.path().join("under-load.db");
    let acked_before = Arc::new(Mutex::new(0usize));
    std::thread::scope(|s| {
        let loader = s.spawn(|| load(&url, cards, 6, &stop, 0));
        std::thread::sleep(Duration::from_millis(400));
        // What the server has acknowledged by now is at least what the database holds now.
        let (_, stored_before, _) = counts(&app);
        *acked_before.lock().unwrap() = stored_before as usize;
        app.cli_ok(&["backup", "--out", backup.to_str().unwrap()], "");
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Relaxed);
        loader.join().unwrap();
    });
    let conn = rusqlite::Connection::open(&backup).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let rows: i64 = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM pending) + (SELECT COUNT(*) FROM reports)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let before = *acked_before.lock().unwrap();
    assert!(before > 0, "load was running");
    assert!(
        rows as usize >= before,
        "backup has {rows}, {before} were stored before it"
    );
}

/// A small tmpfs mounted for one test, unmounted on drop.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(at: &std::path::Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .expect("mount");
        assert!(
            status.success(),
            "the full-disk test mounts a small tmpfs and needs root"
        );
        SmallDisk(at.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_disk_answers_503_with_the_values_kept_and_spends_no_card() {
    let dir = tempfile::tempdir().unwrap();
    let _disk = SmallDisk::mount(&dir.path().join("data"), "3m");
    let mut app = crate::helpers::spawn_app_in(dir, &[("JIANFU_POOL_RELEASE_EVERY", "24h")]);
    app.add_staff();
    let cards = app.issue_cards(400);
    let long = "满".repeat(4500);
    let mut full = None;
    for (i, card) in cards.iter().enumerate() {
        let body = format!("第 {i} 份：{long}");
        let r = app.file(card, &body);
        match r.status {
            303 => continue,
            503 => {
                full = Some((i, r, body));
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let (i, r, body) = full.expect("the disk never filled");
    assert!(r.body.contains(&body), "the values are kept");
    assert!(r.body.contains("无法保存"));
    // The refused card was not spent: once there is room it files (shown by the count).
    app.kill();
    let (spent, stored, check) = counts(&app);
    assert_eq!(check, "ok");
    assert_eq!(spent, stored, "no spent card without its report");
    assert_eq!(
        stored as usize, i,
        "every 303 before the full disk is stored"
    );
}
