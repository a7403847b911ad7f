//! SPEC §4 reliability and issue #6: no acknowledged report is lost across repeated
//! `kill -9` under load and every spent card has its stored report; SIGTERM lets in-flight
//! submissions finish; a backup taken under load holds every report acknowledged before it
//! started; a full disk answers 503 with the values kept and spends no card.
//!
//! Every loop here is bounded in count and in time, and every client talks to loopback only.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::helpers::{report_fields, spawn_app_in, spawn_app_with, TestApp};

/// No client of a load runs longer than this, whatever happens to the server.
const LOAD_LIMIT: Duration = Duration::from_secs(20);

/// A server that releases every second, with the per-network throttle out of the way (all
/// clients share 127.0.0.1, and the kill test files acknowledged cards again on purpose).
fn app() -> TestApp {
    spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "1s"),
        ("JIANFU_REPORT_ATTEMPTS", "1000000"),
    ])
}

/// What a load of concurrent clients saw.
#[derive(Default)]
struct Seen {
    /// (card, body) of every submission answered 303.
    acked: Vec<(String, String)>,
    /// Submissions that got no answer: the connection was refused, reset or closed.
    cut: usize,
    /// Any answer other than 303, with its status.
    other: Vec<u16>,
}

/// Concurrent clients filing reports, one fresh card each, until `stop` is set, their cards
/// run out, the server goes away or [`LOAD_LIMIT`] passes. Each client stops at its first
/// unanswered submission (after a kill or a shutdown every later one would fail too).
struct Load {
    cards: Mutex<Vec<String>>,
    seen: Mutex<Seen>,
    acked: AtomicUsize,
    stop: AtomicBool,
    /// When the server was told to stop (set just before the signal).
    signalled: Mutex<Option<Instant>>,
    /// Submissions sent before that moment and answered 303 after it.
    finished_after_signal: AtomicUsize,
}

impl Load {
    fn new(cards: Vec<String>) -> Load {
        Load {
            cards: Mutex::new(cards),
            seen: Mutex::default(),
            acked: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            signalled: Mutex::new(None),
            finished_after_signal: AtomicUsize::new(0),
        }
    }

    fn run(&self, url: &str, clients: usize, label: &str) {
        let started = Instant::now();
        std::thread::scope(|s| {
            for client in 0..clients {
                s.spawn(move || {
                    let agent = ureq::AgentBuilder::new()
                        .redirects(0)
                        .timeout(Duration::from_secs(20))
                        .build();
                    for n in 0.. {
                        if self.stop.load(Ordering::Relaxed) || started.elapsed() > LOAD_LIMIT {
                            break;
                        }
                        let Some(card) = self.cards.lock().unwrap().pop() else {
                            break;
                        };
                        let body = format!("耐久测试{label}，客户端 {client}，第 {n} 份。");
                        let sent = Instant::now();
                        let answer = agent
                            .post(&format!("{url}/report"))
                            .send_form(&report_fields(&card, &body));
                        let mut seen = self.seen.lock().unwrap();
                        match answer {
                            Ok(r) if r.status() == 303 => {
                                seen.acked.push((card, body));
                                self.acked.fetch_add(1, Ordering::Relaxed);
                                if self.signalled.lock().unwrap().is_some_and(|at| sent < at) {
                                    self.finished_after_signal.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Ok(r) => seen.other.push(r.status()),
                            Err(ureq::Error::Status(code, _)) => seen.other.push(code),
                            Err(ureq::Error::Transport(_)) => {
                                seen.cut += 1;
                                break;
                            }
                        }
                    }
                });
            }
        });
    }

    /// Waits (bounded) until at least `n` submissions have been acknowledged.
    fn wait_acked(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.acked.load(Ordering::Relaxed) < n {
            assert!(
                Instant::now() < deadline,
                "only {} submissions acknowledged in 15 s",
                self.acked.load(Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn cards_left(&self) -> usize {
        self.cards.lock().unwrap().len()
    }

    fn into_seen(self) -> Seen {
        self.seen.into_inner().unwrap()
    }
}

/// A delay that differs from run to run and round to round: 0..`max_ms` milliseconds.
fn jitter(max_ms: u64) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Duration::from_millis(u64::from(nanos) % max_ms.max(1))
}

/// What a database file holds: cards spent (issued minus still in the table),
/// reports stored (pending pool and released queue) and `PRAGMA integrity_check`.
struct Counts {
    spent: i64,
    stored: i64,
    integrity: String,
}

fn counts(db: &Path) -> Counts {
    let conn = rusqlite::Connection::open(db).unwrap();
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let spent =
        one("SELECT (SELECT COALESCE(SUM(issued), 0) FROM batches) - (SELECT COUNT(*) FROM cards)");
    let stored = one("SELECT (SELECT COUNT(*) FROM pending) + (SELECT COUNT(*) FROM reports)");
    let integrity = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    Counts {
        spent,
        stored,
        integrity,
    }
}

fn db_file(app: &TestApp) -> std::path::PathBuf {
    app.data_dir().join("jianfu.db")
}

/// Every body in `bodies` is among the released reports, exactly once.
fn assert_released_once<'a>(app: &TestApp, bodies: impl IntoIterator<Item = &'a str>) {
    let bodies: Vec<&str> = bodies.into_iter().collect();
    let rows = app.wait_released(bodies.len());
    let mut times: HashMap<&str, usize> = HashMap::new();
    for row in &rows {
        *times.entry(row["body"].as_str().unwrap()).or_default() += 1;
    }
    for body in bodies {
        match times.get(body) {
            Some(1) => {}
            Some(n) => panic!("stored {n} times: {body}"),
            None => panic!("acknowledged but lost: {body}"),
        }
    }
}

#[test]
fn kill_minus_nine_under_load_loses_no_acknowledged_report() {
    let mut app = app();
    app.add_staff();
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    for round in 0..4u64 {
        // Far more cards than can be filed before the kill: the load is still running when
        // the server dies.
        let load = Load::new(app.issue_cards(3000));
        let url = app.url.clone();
        std::thread::scope(|s| {
            s.spawn(|| load.run(&url, 8, &format!("第 {round} 轮")));
            // Kill at a different point each round: after 10 to 130 acknowledgements, then
            // a random-ish pause inside a group commit's few milliseconds.
            load.wait_acked(10 + 40 * round as usize);
            std::thread::sleep(jitter(40));
            app.kill();
        });
        let left = load.cards_left();
        let seen = load.into_seen();
        eprintln!(
            "kill -9 round {round}: {} acknowledged, {} cut off, {left} cards unused",
            seen.acked.len(),
            seen.cut
        );
        assert!(left > 0, "round {round}: the load ended before the kill");
        assert!(seen.cut > 0, "round {round}: no submission was cut off");
        assert!(
            seen.other.is_empty(),
            "round {round}: answers other than 303 under load: {:?}",
            seen.other
        );

        // Straight after the crash, before anything restarts: what SQLite recovers.
        let c = counts(&db_file(&app));
        assert_eq!(c.integrity, "ok", "round {round}");
        assert_eq!(
            c.spent, c.stored,
            "round {round}: every spent card has its stored report"
        );
        acknowledged.extend(seen.acked);
        assert!(
            c.stored as usize >= acknowledged.len(),
            "round {round}: {} stored, {} acknowledged",
            c.stored,
            acknowledged.len()
        );

        app.start();
        let c = counts(&db_file(&app));
        assert_eq!(
            (c.integrity.as_str(), c.spent),
            ("ok", c.stored),
            "round {round}, after the restart"
        );
        // An acknowledged card stays spent across the crash (P1: it files exactly once).
        let (card, _) = &acknowledged[acknowledged.len() - 1];
        let again = app.file(card, "同一张凭证在重启后再交一次。");
        assert_eq!(again.status, 403, "round {round}: a spent card filed again");
    }
    let c = counts(&db_file(&app));
    assert_eq!((c.integrity.as_str(), c.spent), ("ok", c.stored));
    assert_released_once(&app, acknowledged.iter().map(|(_, b)| b.as_str()));
}

#[test]
fn sigterm_lets_in_flight_submissions_finish() {
    let mut app = app();
    app.add_staff();
    let load = Load::new(app.issue_cards(3000));
    let url = app.url.clone();
    let (status, took) = std::thread::scope(|s| {
        s.spawn(|| load.run(&url, 8, "（SIGTERM）"));
        load.wait_acked(50);
        let at = Instant::now();
        *load.signalled.lock().unwrap() = Some(at);
        let status = app.terminate();
        let took = at.elapsed();
        load.stop.store(true, Ordering::Relaxed);
        (status, took)
    });
    let left = load.cards_left();
    let in_flight = load.finished_after_signal.load(Ordering::Relaxed);
    let seen = load.into_seen();
    eprintln!(
        "SIGTERM: {status:?} after {took:?}; {} acknowledged ({in_flight} of them sent \
         before the signal and answered after it), {} cut off, {left} cards unused",
        seen.acked.len(),
        seen.cut
    );
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    assert!(took < Duration::from_secs(14), "the shutdown took {took:?}");
    assert!(left > 0, "the load ended before the SIGTERM");
    // Every answer is the 303 of a stored report; a client that got no answer was cut off
    // cleanly (refused or closed), never half-answered.
    assert!(
        seen.other.is_empty(),
        "answers other than 303 around the shutdown: {:?}",
        seen.other
    );
    // The writer drained before the exit: nothing acknowledged is missing, and every spent
    // card has its report, in the files as the process left them.
    let c = counts(&db_file(&app));
    assert_eq!(c.integrity, "ok");
    assert_eq!(c.spent, c.stored, "every spent card has its stored report");
    // And the other way round: nothing was stored without its 303 reaching the client, so no
    // submission was dropped half-way by the shutdown.
    assert_eq!(
        c.stored as usize,
        seen.acked.len(),
        "stored reports against 303s received ({} cut off)",
        seen.cut
    );
    assert!(
        in_flight > 0,
        "no submission was in flight at the SIGTERM (the test proves nothing)"
    );
    app.start();
    assert_released_once(&app, seen.acked.iter().map(|(_, b)| b.as_str()));
}

#[test]
fn backup_under_load_holds_every_report_acknowledged_before_it_started() {
    let app = app();
    app.add_staff();
    let load = Load::new(app.issue_cards(3000));
    let url = app.url.clone();
    let backup = app.dir.path().join("under-load.db");
    let (before, during) = std::thread::scope(|s| {
        s.spawn(|| load.run(&url, 6, "（备份）"));
        load.wait_acked(50);
        let before: Vec<String> = load
            .seen
            .lock()
            .unwrap()
            .acked
            .iter()
            .map(|(_, b)| b.clone())
            .collect();
        app.cli_ok(&["backup", "--out", backup.to_str().unwrap()], "");
        let during = load.acked.load(Ordering::Relaxed) - before.len();
        // Keep filing a little after the copy, then stop.
        load.wait_acked(load.acked.load(Ordering::Relaxed) + 20);
        load.stop.store(true, Ordering::Relaxed);
        (before, during)
    });
    let seen = load.into_seen();
    assert!(
        seen.other.is_empty(),
        "answers other than 303 under load: {:?}",
        seen.other
    );
    assert_eq!(seen.cut, 0, "the server stayed up");
    eprintln!(
        "backup: {} acknowledged before it, {during} while it ran, {} in all",
        before.len(),
        seen.acked.len()
    );

    let c = counts(&backup);
    assert_eq!(c.integrity, "ok");
    assert_eq!(c.spent, c.stored, "the copy is one consistent snapshot");
    assert!(
        c.stored as usize >= before.len(),
        "the backup holds {}, {} were acknowledged before it started",
        c.stored,
        before.len()
    );

    // Restore it next to a copy of the key files and read it as the investigator: every
    // report acknowledged before the backup started is in it.
    let restored = tempfile::tempdir().unwrap();
    let data = restored.path().join("data");
    copy_dir(&app.data_dir(), &data, &|name| {
        !name.starts_with("jianfu.db")
    });
    std::fs::copy(&backup, data.join("jianfu.db")).unwrap();
    let restored = spawn_app_in(restored, &[("JIANFU_POOL_RELEASE_EVERY", "1s")]);
    let rows = restored.wait_released(c.stored as usize);
    assert_eq!(rows.len(), c.stored as usize);
    let bodies: HashSet<&str> = rows.iter().map(|r| r["body"].as_str().unwrap()).collect();
    for body in &before {
        assert!(
            bodies.contains(body.as_str()),
            "acknowledged before the backup but not in it: {body}"
        );
    }
}

/// Copies `from` to `to` recursively, files whose name passes `keep` only.
fn copy_dir(from: &Path, to: &Path, keep: &dyn Fn(&str) -> bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name), keep);
        } else if keep(&name) {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// A small tmpfs mounted for one test, unmounted on drop. Mounting needs root (CI runs as
/// root); without it the test fails rather than passing unchecked.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let status = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .expect("mount");
        assert!(
            status.success(),
            "the full-disk test mounts a small tmpfs and needs root"
        );
        SmallDisk(at.to_path_buf())
    }

    fn resize(&self, size: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .expect("mount");
        assert!(status.success(), "cannot grow the tmpfs");
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
    let disk = SmallDisk::mount(&dir.path().join("data"), "3m");
    let mut app = spawn_app_in(
        dir,
        &[
            ("JIANFU_POOL_RELEASE_EVERY", "24h"),
            ("JIANFU_REPORT_ATTEMPTS", "1000000"),
        ],
    );
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
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    let (i, r, body) = full.expect("the disk never filled");
    assert!(r.body.contains(&body), "the account is kept");
    assert!(r.body.contains("县农业农村局"), "the department is kept");
    assert!(r.body.contains("无法保存"), "the reporter is told");
    let c = counts(&db_file(&app));
    assert_eq!(c.integrity, "ok");
    assert_eq!(c.spent, c.stored, "no spent card without its report");
    assert_eq!(
        c.stored as usize, i,
        "every 303 before the full disk is stored"
    );

    // Room again: the refused card was never spent, and files now, without a restart.
    disk.resize("64m");
    let again = app.file(&cards[i], &body);
    assert_eq!(again.status, 303, "after the disk had room: {}", again.body);
    app.kill();
    let c = counts(&db_file(&app));
    assert_eq!(c.integrity, "ok");
    assert_eq!(c.spent, c.stored);
    assert_eq!(c.stored as usize, i + 1);
    drop(app);
}

/// Issue #12: a writer that cannot keep up (here: another connection holds the database's
/// write lock for a while) fills its queue; past it, `/report` answers 503 at once with every
/// value kept, and spends nothing. Once the lock goes, what was queued is stored and
/// acknowledged; each refused card still files.
#[test]
fn a_saturated_writer_answers_503_with_the_values_kept_and_stores_nothing_half() {
    let app = spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "24h"),
        ("JIANFU_REPORT_ATTEMPTS", "1000000"),
        ("JIANFU_WRITER_QUEUE", "2"),
    ]);
    app.add_staff();
    let cards = app.issue_cards(12);
    let lock = rusqlite::Connection::open(db_file(&app)).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let answers: Vec<(usize, u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = cards
            .iter()
            .enumerate()
            .map(|(i, card)| {
                let app = &app;
                s.spawn(move || {
                    // Staggered, so the writer takes the first while the rest queue behind it.
                    std::thread::sleep(Duration::from_millis(50 * i as u64));
                    let r = app.file(card, &format!("排队的第 {i} 份反映，写入被挡住了。"));
                    (i, r.status, r.body)
                })
            })
            .collect();
        // The lock holds until the queue has overflowed, then goes.
        std::thread::sleep(Duration::from_millis(50 * cards.len() as u64 + 1500));
        lock.execute_batch("COMMIT").unwrap();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let stored: Vec<usize> = answers.iter().filter(|a| a.1 == 303).map(|a| a.0).collect();
    let refused: Vec<&(usize, u16, String)> = answers.iter().filter(|a| a.1 == 503).collect();
    assert_eq!(stored.len() + refused.len(), cards.len(), "only 303 or 503");
    assert!(
        !stored.is_empty(),
        "what was queued is stored once the lock goes"
    );
    assert!(
        refused.len() >= 3,
        "the queue of 2 overflowed: {} refused",
        refused.len()
    );
    for (i, _, body) in &refused {
        assert!(
            body.contains(&format!("排队的第 {i} 份反映")),
            "the account is kept"
        );
        assert!(body.contains("县农业农村局") && body.contains("无法保存"));
    }
    let c = counts(&db_file(&app));
    assert_eq!(c.integrity, "ok");
    assert_eq!(
        (c.spent, c.stored),
        (stored.len() as i64, stored.len() as i64)
    );
    // Nothing of a refused submission was spent: each card files now.
    for (i, _, _) in &refused {
        let r = app.file(&cards[*i], &format!("排队的第 {i} 份反映，写入被挡住了。"));
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let c = counts(&db_file(&app));
    assert_eq!(
        (c.spent, c.stored),
        (cards.len() as i64, cards.len() as i64)
    );
}
