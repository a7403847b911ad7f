//! P9 on the staff side: nobody exhausts the server with logins, and no burst of guesses gets
//! more than five evaluated. The adversary is anyone who can reach `/staff/login`.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::helpers::{
    agent, spawn_app, TestApp, ADMIN, ADMIN_PASSWORD, INVESTIGATOR, INVESTIGATOR_PASSWORD,
};

/// SPEC §4: resident memory ≤ 256 MiB under a flood of 300 concurrent logins.
const RSS_BAR_KIB: u64 = 256 * 1024;

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

/// A login from a client of its own: (status, body, whether a cookie was set); status 0 when
/// no answer came within 60 s.
fn post_login(app: &TestApp, username: &str, password: &str) -> (u16, String, bool) {
    let r = agent()
        .post(&format!("{}/staff/login", app.url))
        .send_form(&[("username", username), ("password", password)]);
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return (0, e.to_string(), false),
    };
    let status = resp.status();
    let cookie = resp.header("set-cookie").is_some();
    (status, resp.into_string().unwrap_or_default(), cookie)
}

/// Stops the reporter's loop however the flood ends, a failed assertion included.
struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

fn audit(app: &TestApp) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT actor, action, object FROM audit ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn staff_id(app: &TestApp, username: &str) -> i64 {
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    conn.query_row(
        "SELECT id FROM staff WHERE username = ?1",
        [username],
        |r| r.get(0),
    )
    .unwrap()
}

/// Three waves of 300 concurrent logins with random usernames: the server's peak resident
/// memory stays under the bar, the entry page keeps answering meanwhile, the logins beyond
/// the bound get a fast 503 that keeps the username and never the password, and every
/// admitted one is audited as `unknown`.
#[test]
fn three_hundred_concurrent_logins_keep_memory_bounded_and_the_entry_page_answering() {
    let app = spawn_app();
    app.add_staff();
    let pid = app.pid();
    let flooding = std::sync::atomic::AtomicBool::new(true);
    let mut answers = Vec::new();
    let entry_latencies = std::thread::scope(|s| {
        let reporter = s.spawn(|| {
            // A reporter opening the entry page during the flood (bounded: two minutes).
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut latencies = Vec::new();
            while flooding.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
                let start = Instant::now();
                let r = app.agent.get(&format!("{}/", app.url)).call();
                latencies.push((r.map(|r| r.status()).unwrap_or(0), start.elapsed()));
                std::thread::sleep(Duration::from_millis(20));
            }
            latencies
        });
        let stop = StopOnDrop(&flooding);
        for wave in 0..3 {
            let barrier = Barrier::new(300);
            answers.extend(std::thread::scope(|s| {
                let threads: Vec<_> = (0..300)
                    .map(|i| {
                        let barrier = &barrier;
                        let app = &app;
                        s.spawn(move || {
                            let name = format!("flood{wave}x{i}x{}", rand_suffix());
                            let password = format!("secret-pw-{wave}-{i}");
                            barrier.wait();
                            let start = Instant::now();
                            let (status, body, cookie) = post_login(app, &name, &password);
                            (status, start.elapsed(), name, password, body, cookie)
                        })
                    })
                    .collect();
                threads
                    .into_iter()
                    .map(|t| t.join().unwrap())
                    .collect::<Vec<_>>()
            }));
        }
        drop(stop);
        reporter.join().unwrap()
    });
    let peak = peak_rss_kib(pid);
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    eprintln!(
        "peak RSS {} MiB; {} of {} logins answered 503; entry page max {:?} over {} requests",
        peak / 1024,
        statuses.iter().filter(|s| **s == 503).count(),
        statuses.len(),
        entry_latencies.iter().map(|l| l.1).max(),
        entry_latencies.len()
    );
    assert!(
        peak <= RSS_BAR_KIB,
        "peak RSS {} MiB > 256 MiB under 300 concurrent logins",
        peak / 1024
    );
    for (status, elapsed, name, password, body, cookie) in &answers {
        assert!(!cookie, "no session from a random name");
        assert!(!body.contains(password), "the password is never echoed");
        match status {
            401 => {}
            503 => {
                assert!(
                    body.contains(&format!("value=\"{name}\"")),
                    "the username is kept"
                );
                assert!(
                    *elapsed < Duration::from_secs(5),
                    "a refusal is fast: {elapsed:?}"
                );
            }
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert!(
        statuses.contains(&503),
        "the bound was reached: beyond it logins answer 503"
    );
    assert!(!entry_latencies.is_empty());
    for (status, latency) in &entry_latencies {
        assert_eq!(*status, 200, "the entry page answers during the flood");
        assert!(
            *latency < Duration::from_secs(2),
            "the entry page answered within 2 s throughout: {latency:?}"
        );
    }
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    assert!(evaluated > 0);
    // P8: each evaluated failure is audited as `unknown`, never with the name typed.
    let rows = audit(&app);
    let unknown = rows
        .iter()
        .filter(|(actor, action, _)| actor == "unknown" && action == "login.failed")
        .count();
    assert_eq!(unknown, evaluated);
    assert!(rows
        .iter()
        .all(|(a, _, o)| !a.contains("flood") && !o.contains("flood")));
}

fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    h.finish() as u32
}

/// An attacker who knows a username sends 39 wrong guesses at once, then the right
/// password: five guesses are evaluated (counted before the hash, not after it), the rest
/// and the right password are refused unevaluated, and no session opens.
#[test]
fn thirty_nine_concurrent_wrong_guesses_then_the_right_password_open_no_session() {
    let app = spawn_app();
    app.add_staff();
    let barrier = Barrier::new(39);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..39)
            .map(|i| {
                let (barrier, app) = (&barrier, &app);
                s.spawn(move || {
                    let guess = format!("wrong guess {i}");
                    barrier.wait();
                    let (status, _, cookie) = post_login(app, ADMIN, &guess);
                    assert!(!cookie);
                    status
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let (status, body, cookie) = post_login(&app, ADMIN, ADMIN_PASSWORD);
    assert!(
        !cookie,
        "no session for the right password after 39 guesses"
    );
    assert_eq!(status, 429, "{body}");
    let id = staff_id(&app, ADMIN);
    let evaluated = audit(&app)
        .iter()
        .filter(|(a, action, _)| *a == format!("staff:{id}") && action == "login.failed")
        .count();
    assert_eq!(evaluated, 5, "exactly five guesses were evaluated");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 34);
    // Another account is not affected.
    app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
}

/// P8: a failed login with a name no account has is audited as `unknown`; the name typed is
/// in no file of the data dir. A known account's failure names it by id. The same holds for
/// `jianfu reports export`.
#[test]
fn unknown_usernames_are_audited_as_unknown_never_as_typed() {
    let app = spawn_app();
    app.add_staff();
    let typed = "nosuchperson42";
    assert_eq!(post_login(&app, typed, "some password").0, 401);
    assert_eq!(post_login(&app, ADMIN, "wrong password!").0, 401);
    let out = app.cli(
        &[
            "reports",
            "export",
            "--username",
            "nosuchexporter",
            "--password-stdin",
        ],
        "some password\n",
    );
    assert!(!out.status.success());
    let out = app.cli(
        &[
            "reports",
            "export",
            "--username",
            INVESTIGATOR,
            "--password-stdin",
        ],
        "wrong password!\n",
    );
    assert!(!out.status.success());
    let rows = audit(&app);
    let admin = format!("staff:{}", staff_id(&app, ADMIN));
    let desk = format!("staff:{}", staff_id(&app, INVESTIGATOR));
    assert!(rows.contains(&("unknown".into(), "login.failed".into(), "".into())));
    assert!(rows.contains(&(admin, "login.failed".into(), "".into())));
    assert!(rows
        .iter()
        .any(|(a, action, _)| a == "unknown" && action == "export.refused"));
    assert!(rows
        .iter()
        .any(|(a, action, o)| *a == desk && action == "export.refused" && o == "wrong password"));
    for (path, bytes) in crate::helpers::all_files(&app.data_dir()) {
        for name in [typed, "nosuchexporter"] {
            assert!(
                !crate::helpers::contains(&bytes, name.as_bytes()),
                "{name} found in {}",
                path.display()
            );
        }
    }
}

/// A 16 KiB username (over the form limit) and a 1 KiB one (over the longest name an
/// account can have) are refused before any work: not hashed, not counted, not audited, not
/// echoed — and twenty of them cost less than five real password checks.
#[test]
fn a_16_kib_username_is_refused_cheaply_and_never_audited() {
    let app = spawn_app();
    app.add_staff();
    let before = audit(&app).len();
    let huge = "u".repeat(16 * 1024);
    let (status, body, _) = post_login(&app, &huge, "some password");
    assert!((400..500).contains(&status), "{status}");
    assert!(!body.contains(&"u".repeat(64)));
    let long = "v".repeat(1024);
    let start = Instant::now();
    for _ in 0..20 {
        let (status, body, cookie) = post_login(&app, &long, "some password");
        assert_eq!(status, 422);
        assert!(!cookie);
        assert!(!body.contains(&"v".repeat(64)), "the name is not echoed");
    }
    let refusals = start.elapsed();
    let start = Instant::now();
    for i in 0..5 {
        assert_eq!(
            post_login(&app, &format!("other{i}"), "some password").0,
            401
        );
    }
    let checks = start.elapsed();
    assert!(
        refusals < checks,
        "20 refusals took {refusals:?}, 5 password checks {checks:?}"
    );
    let rows = audit(&app);
    assert_eq!(rows.len(), before + 5, "only the five checks were audited");
    for (path, bytes) in crate::helpers::all_files(&app.data_dir()) {
        for marker in ["u".repeat(64), "v".repeat(64)] {
            assert!(
                !crate::helpers::contains(&bytes, marker.as_bytes()),
                "a long name in {}",
                path.display()
            );
        }
    }
}

/// The password change and the second factor's set-up check the password behind the same
/// gate and count against the same five guesses as the login: an open session is not a way
/// to guess faster, and after five wrong guesses there the login waits too.
#[test]
fn password_change_and_second_factor_setup_count_against_the_same_five_guesses() {
    let app = spawn_app();
    app.add_staff();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    for _ in 0..3 {
        let r = admin.post_csrf(
            "/staff/password",
            &[
                ("current", "wrong password!"),
                ("new", "a new password 1"),
                ("new2", "a new password 1"),
            ],
        );
        assert_eq!(r.status, 422, "{}", r.body);
    }
    assert_eq!(admin.get("/staff/totp").status, 200);
    for _ in 0..2 {
        let r = admin.post_csrf(
            "/staff/totp",
            &[
                ("action", "enable"),
                ("password", "wrong password!"),
                ("code", "123456"),
            ],
        );
        assert_eq!(r.status, 422, "{}", r.body);
    }
    let r = admin.post_csrf(
        "/staff/password",
        &[
            ("current", ADMIN_PASSWORD),
            ("new", "a new password 1"),
            ("new2", "a new password 1"),
        ],
    );
    assert_eq!(r.status, 429, "even the right password waits: {}", r.body);
    let (status, _, cookie) = post_login(&app, ADMIN, ADMIN_PASSWORD);
    assert_eq!(status, 429);
    assert!(!cookie);
}

/// `jianfu reports export` counts its guesses in the audit log before evaluating them, so
/// separate runs share five per account per 15 minutes; a successful export gives its
/// attempt back.
#[test]
fn export_guesses_are_counted_across_runs() {
    let app = spawn_app();
    app.add_staff();
    let export = |password: &str| {
        app.cli(
            &[
                "reports",
                "export",
                "--username",
                INVESTIGATOR,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
    };
    for _ in 0..3 {
        assert!(export(INVESTIGATOR_PASSWORD).status.success());
    }
    for _ in 0..5 {
        let out = export("wrong password!");
        assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));
    }
    let out = export(INVESTIGATOR_PASSWORD);
    assert!(!out.status.success(), "the sixth guess is not evaluated");
    assert!(String::from_utf8_lossy(&out.stderr).contains("too many"));
}
