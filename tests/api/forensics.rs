//! P2 from a copy of the database files alone, taken after a release and a restart: the
//! stored order of reports says nothing about the filing order, no table or column ties a
//! report to a card, batch or time, the WAL is empty, and freed pages hold only zeros — the
//! same for a `jianfu backup` file.

use crate::helpers::{all_files, contains, spawn_app};

/// Spearman's rank correlation of two orderings of the same items.
fn spearman(a: &[usize], b: &[usize]) -> f64 {
    let n = a.len() as f64;
    let d2: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

/// Page numbers on the freelist of an SQLite file (trunk and leaf pages).
fn free_pages(db: &[u8]) -> (usize, Vec<u32>) {
    let page_size = match u16::from_be_bytes([db[16], db[17]]) {
        1 => 65536,
        n => n as usize,
    };
    let mut pages = Vec::new();
    let mut trunk = u32::from_be_bytes(db[32..36].try_into().unwrap());
    while trunk != 0 {
        let at = (trunk as usize - 1) * page_size;
        let page = &db[at..at + page_size];
        let next = u32::from_be_bytes(page[0..4].try_into().unwrap());
        let leaves = u32::from_be_bytes(page[4..8].try_into().unwrap()) as usize;
        for i in 0..leaves {
            let o = 8 + 4 * i;
            pages.push(u32::from_be_bytes(page[o..o + 4].try_into().unwrap()));
        }
        trunk = next;
    }
    (page_size, pages)
}

#[test]
fn a_copy_of_the_database_does_not_tell_filing_order_card_or_time() {
    let mut app = spawn_app();
    app.add_staff();
    let n = 60;
    let cards = app.issue_cards(n as u32);
    for (i, card) in cards.iter().enumerate() {
        assert_eq!(
            app.file(card, &format!("取证顺序测试，第 {i:03} 份。"))
                .status,
            303
        );
    }
    let rows = app.wait_released(n);
    app.terminate();
    app.start();
    let copy = app.dir.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for (path, bytes) in all_files(&app.data_dir()) {
        std::fs::write(copy.join(path.file_name().unwrap()), bytes).unwrap();
    }
    let db_bytes = std::fs::read(copy.join("jianfu.db")).unwrap();
    let wal_len = std::fs::metadata(copy.join("jianfu.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(wal_len, 0, "the WAL holds no frame of the filings");

    // Storage order (rowid order is the B-tree's order) against filing order.
    let conn = rusqlite::Connection::open(copy.join("jianfu.db")).unwrap();
    let stored: Vec<i64> = conn
        .prepare("SELECT id FROM reports ORDER BY rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let filing_index = |id: i64| -> usize {
        let body = rows
            .iter()
            .find(|r| r["id"] == id.to_string().as_str())
            .unwrap()["body"]
            .as_str()
            .unwrap()
            .to_string();
        let at = body.find("第 ").unwrap() + "第 ".len();
        body[at..at + 3].parse().unwrap()
    };
    let filed: Vec<usize> = stored.iter().map(|id| filing_index(*id)).collect();
    let position: Vec<usize> = (0..n).collect();
    let rho = spearman(&position, &filed);
    assert!(
        rho.abs() < 0.5,
        "storage order follows filing order (rho {rho:.2})"
    );

    // No table or column that could tie a report to a card, batch or time.
    let columns: Vec<(String, String)> = conn
        .prepare("SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let report_columns: Vec<&str> = columns
        .iter()
        .filter(|(t, _)| t == "reports")
        .map(|(_, c)| c.as_str())
        .collect();
    assert_eq!(
        report_columns,
        [
            "id",
            "desk_id",
            "released_on",
            "status",
            "sealed",
            "assignee",
            "case_id",
            "boxed"
        ],
        "a report carries its release day and the desk's own fields, nothing of its filing"
    );
    let card_columns: Vec<&str> = columns
        .iter()
        .filter(|(t, _)| t == "cards")
        .map(|(_, c)| c.as_str())
        .collect();
    assert_eq!(
        card_columns,
        ["hash"],
        "a card is its keyed hash, nothing else: not even its batch"
    );
    let pending: i64 = conn
        .query_row("SELECT COUNT(*) FROM pending", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0);
    assert!(
        !columns.iter().any(|(t, _)| t == "sqlite_sequence"),
        "no AUTOINCREMENT counter"
    );

    // Freed pages (the pending rows, the spent cards) hold nothing but zeros.
    let (page_size, free) = free_pages(&db_bytes);
    assert!(
        !free.is_empty(),
        "the release freed the pending pool's pages (else this checks nothing)"
    );
    for page in &free {
        let at = (*page as usize - 1) * page_size;
        assert!(
            db_bytes[at..at + page_size].iter().all(|b| *b == 0),
            "free page {page} is not zeroed"
        );
    }
    // And no card code, in any spelling, anywhere.
    for card in &cards {
        assert!(!contains(&db_bytes, card.replace('-', "").as_bytes()));
    }

    // A backup is as clean: no free pages, no pending rows.
    let backup = app.dir.path().join("backup.db");
    app.cli_ok(&["backup", "--out", backup.to_str().unwrap()], "");
    let backup_bytes = std::fs::read(&backup).unwrap();
    assert!(
        free_pages(&backup_bytes).1.is_empty(),
        "the backup carries no free pages"
    );
    let b = rusqlite::Connection::open(&backup).unwrap();
    let b_rows: Vec<i64> = b
        .prepare("SELECT id FROM reports ORDER BY rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(b_rows, stored, "the backup keeps the same (random) order");
}

#[test]
fn ciphertext_sizes_fall_in_buckets_whatever_was_written() {
    let app = spawn_app();
    app.add_staff();
    let bodies = [
        "短短几句话。".to_string(),
        "同一张表每周报三次。".repeat(10),
        "要求开证明。".repeat(300),
    ];
    let cards = app.issue_cards(bodies.len() as u32);
    for (card, body) in cards.iter().zip(&bodies) {
        assert_eq!(app.file(card, body).status, 303);
    }
    app.wait_released(bodies.len());
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let sizes: Vec<usize> = conn
        .prepare("SELECT length(sealed) FROM reports")
        .unwrap()
        .query_map([], |r| r.get::<_, i64>(0).map(|n| n as usize))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(sizes.len(), bodies.len());
    for size in &sizes {
        // Sealed when filed and again when released: twice an ephemeral key (32) and a tag
        // (16) around a padded plaintext of 2^k ≥ 1 KiB.
        let padded = size - 96;
        assert!(
            padded.is_power_of_two() && padded >= 1024,
            "ciphertext of {size} bytes is not in a bucket"
        );
    }
    let distinct: std::collections::BTreeSet<usize> = sizes.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        2,
        "a 6- and a 100-character report share the smallest bucket; 1,800 characters go higher ({sizes:?})"
    );
}

/// A copy of the data dir at one moment, as whoever keeps backups or host snapshots has it:
/// every file's bytes, the database opened from them, and the files' modification times.
struct Copy {
    files: Vec<(std::path::PathBuf, Vec<u8>)>,
    dir: tempfile::TempDir,
    modified: std::collections::HashMap<String, std::time::SystemTime>,
}

impl Copy {
    fn take(app: &crate::helpers::TestApp) -> Copy {
        let dir = tempfile::tempdir().unwrap();
        let files = all_files(&app.data_dir());
        let mut modified = std::collections::HashMap::new();
        for (path, bytes) in &files {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if let Ok(m) = std::fs::metadata(path).and_then(|m| m.modified()) {
                modified.insert(name.clone(), m);
            }
            std::fs::write(dir.path().join(&name), bytes).unwrap();
        }
        Copy {
            files,
            dir,
            modified,
        }
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("jianfu.db")).unwrap()
    }

    /// Per table and column, how many rows hold each value.
    fn value_counts(&self) -> BTreeMap<(String, String), BTreeMap<String, i64>> {
        let conn = self.db();
        let columns: Vec<(String, String)> = conn
            .prepare(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        columns
            .into_iter()
            .map(|(table, column)| {
                let counts = conn
                    .prepare(&format!(
                        "SELECT quote(\"{column}\"), COUNT(*) FROM \"{table}\" GROUP BY 1"
                    ))
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                ((table, column), counts)
            })
            .collect()
    }

    fn column(&self, sql: &str) -> Vec<Vec<u8>> {
        let conn = self.db();
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows
    }

    fn pending_ciphertexts(&self) -> Vec<Vec<u8>> {
        self.column("SELECT sealed FROM pending")
    }
}

use std::collections::BTreeMap;

/// What changed in each column between two copies, with the values that only ever occur once
/// (random ids, hashes, ciphertexts) told apart only by the direction of the change.
fn change_signature(before: &Copy, after: &Copy) -> BTreeMap<(String, String), Vec<(String, i64)>> {
    let (a, b) = (before.value_counts(), after.value_counts());
    b.iter()
        .map(|(column, counts)| {
            let old = a.get(column).cloned().unwrap_or_default();
            let mut values: std::collections::BTreeSet<&String> = counts.keys().collect();
            values.extend(old.keys());
            let mut changes: Vec<(String, i64)> = values
                .into_iter()
                .filter_map(|v| {
                    let (o, n) = (*old.get(v).unwrap_or(&0), *counts.get(v).unwrap_or(&0));
                    let value = if o.max(n) <= 1 {
                        "<unique>".into()
                    } else {
                        v.clone()
                    };
                    (o != n).then_some((value, n - o))
                })
                .collect();
            changes.sort();
            (column.clone(), changes)
        })
        .collect()
}

fn any_window_of(needle: &[u8], files: &[(std::path::PathBuf, Vec<u8>)]) -> Option<String> {
    needle.windows(32).step_by(16).find_map(|w| {
        files
            .iter()
            .find(|(_, bytes)| contains(bytes, w))
            .map(|(p, _)| p.display().to_string())
    })
}

/// P2 across copies, as whoever keeps two backups a day apart (or host snapshots) would
/// read them: filings from different batches change no column in a way that tells the
/// batches apart, a skipped release (pool below `release_min`) releases and rewrites nothing,
/// no 32-byte window of a pending ciphertext survives the release into any file, the batches
/// table never changes, and the files' times say nothing of the filings.
/// A server with no release during a test: a daily schedule at a time twelve hours away, so
/// the last scheduled release was twelve hours ago. Also when the test started.
fn spawn_between_releases(
    extra: &[(&str, &str)],
) -> (crate::helpers::TestApp, std::time::SystemTime) {
    let anchor = (chrono::Local::now() + chrono::Duration::hours(12))
        .format("%H:%M")
        .to_string();
    let started = std::time::SystemTime::now();
    let mut env = vec![
        ("JIANFU_POOL_RELEASE_EVERY", "24h"),
        ("JIANFU_POOL_RELEASE_AT", anchor.as_str()),
    ];
    env.extend_from_slice(extra);
    (crate::helpers::spawn_app_with(&env), started)
}

/// P3: a file's modification time `at` is the last scheduled release (twelve hours before the
/// test started), not a filing's.
fn assert_release_time(name: &str, at: std::time::SystemTime, started: std::time::SystemTime) {
    assert!(
        at + std::time::Duration::from_secs(11 * 3600) < started,
        "{name} was modified {:?} before the test started",
        started.duration_since(at)
    );
}

#[test]
fn copies_taken_at_many_moments_tie_no_report_to_a_batch_or_a_time() {
    let (mut app, started) = spawn_between_releases(&[("JIANFU_POOL_RELEASE_MIN", "3")]);
    app.add_staff();
    let a = app.issue_cards_with(3, &["--label", "甲村"]);
    let b = app.issue_cards_with(3, &["--label", "乙村"]);
    let c = app.issue_cards_with(1, &["--label", "丙村"]);
    let body = |i: usize| format!("跨备份取证测试，第 {i} 份。");
    // One report already waits, so a filing from A and one from B change the same columns
    // in the same way unless something ties them to their batch.
    assert_eq!(app.file(&c[0], "先到的一份。").status, 303);
    let mut copies = vec![Copy::take(&app)];
    for (i, card) in [&a[0], &b[0], &a[1]].into_iter().enumerate() {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(app.file(card, &body(i)).status, 303);
        copies.push(Copy::take(&app));
    }
    let batches = |c: &Copy| -> Vec<Vec<u8>> {
        c.column(
            "SELECT CAST(id || label || issued_on || quote(expires_on) || quote(revoked_on)
               || issued || hex(salt) AS BLOB) FROM batches ORDER BY id",
        )
    };
    for c in &copies[1..] {
        assert_eq!(
            batches(c),
            batches(&copies[0]),
            "no per-batch figure changes"
        );
    }
    let from_a = change_signature(&copies[0], &copies[1]);
    let from_b = change_signature(&copies[1], &copies[2]);
    let from_a_again = change_signature(&copies[2], &copies[3]);
    for (column, change) in &from_a {
        assert_eq!(
            Some(change),
            from_b.get(column),
            "{column:?} tells batch A from B"
        );
        assert_eq!(Some(change), from_a_again.get(column), "{column:?}");
    }
    assert!(
        from_a.values().any(|c| !c.is_empty()),
        "the copies differ at all (else this checks nothing)"
    );
    // P3: the files' times are the last scheduled release (twelve hours ago), not a filing's.
    for c in &copies[1..] {
        for name in ["jianfu.db", "jianfu.db-wal"] {
            assert_release_time(name, c.modified[name], started);
        }
    }

    // A skipped release: the schedule comes round with the pool below `release_min`.
    assert_eq!(copies[3].pending_ciphertexts().len(), 4);
    let set = |app: &mut crate::helpers::TestApp, key: &str, value: &str| {
        app.env.retain(|(k, _)| k != key);
        app.env.push((key.into(), value.into()));
    };
    set(&mut app, "JIANFU_POOL_RELEASE_EVERY", "1s");
    set(&mut app, "JIANFU_POOL_RELEASE_MIN", "5");
    set(&mut app, "JIANFU_POOL_HOLD_MAX", "100000");
    app.terminate();
    let restarted = std::time::SystemTime::now();
    app.start();
    let live = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (waited, released) = loop {
        let (waited, released): (Option<String>, i64) = live
            .query_row(
                "SELECT (SELECT CAST(MAX(releases) AS TEXT) FROM pool_waited),
                        (SELECT COUNT(*) FROM reports)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        if waited.is_some() || released > 0 || std::time::Instant::now() > deadline {
            break (waited, released);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    drop(live);
    assert_eq!(
        released, 0,
        "four pending, five needed: nothing is released"
    );
    assert!(waited.is_some(), "no release was skipped within 20 s");
    let skipped = Copy::take(&app);
    // The skip releases nothing and touches no pending row or card: what it records is a
    // count of periods waited (a number, not a time) in `pool_waited`.
    let sorted = |mut v: Vec<Vec<u8>>| {
        v.sort();
        v
    };
    assert_eq!(
        sorted(skipped.pending_ciphertexts()),
        sorted(copies[3].pending_ciphertexts()),
        "a skipped release rewrites no pending row"
    );
    assert_eq!(
        sorted(skipped.column("SELECT hash FROM cards")),
        sorted(copies[3].column("SELECT hash FROM cards"))
    );
    assert_eq!(
        batches(&skipped),
        batches(&copies[0]),
        "no per-batch figure"
    );
    let waited: i64 = waited
        .unwrap()
        .parse()
        .expect("a count of periods, not a time");
    assert!((1..100).contains(&waited), "{waited}");
    // P3: the files' times are scheduled releases of the new one-second period (the writer
    // puts them back to the last one when it starts; the skip writes the WAL): none is older
    // than one period before the restart.
    for name in ["jianfu.db", "jianfu.db-wal"] {
        assert!(
            skipped.modified[name] + std::time::Duration::from_secs(1) >= restarted,
            "{name} keeps a time from before the restart"
        );
    }
    copies.push(skipped);

    // The release, after a restart with a schedule that releases at once.
    let pending: Vec<Vec<u8>> = copies.iter().flat_map(Copy::pending_ciphertexts).collect();
    set(&mut app, "JIANFU_POOL_RELEASE_MIN", "3");
    app.terminate();
    app.start();
    app.wait_released(4);
    app.terminate();
    let released = Copy::take(&app);
    for ciphertext in &pending {
        assert_eq!(
            any_window_of(ciphertext, &released.files),
            None,
            "a piece of a pending ciphertext survived the release"
        );
    }
    assert_eq!(released.column("SELECT sealed FROM reports").len(), 4);
}

/// A database moved to a larger disk behind a symbolic link: SQLite names its WAL and shared
/// memory after the real file, so the flush before each answer and the reset of the files'
/// times (P3) must follow the link, not the link's name.
#[test]
fn a_database_behind_a_symbolic_link_keeps_its_times_and_its_flush() {
    let (mut app, started) = spawn_between_releases(&[]);
    app.add_staff();
    let cards = app.issue_cards(2);
    app.terminate();
    let disk = app.dir.path().join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let name = format!("jianfu.db{suffix}");
        let _ = std::fs::rename(app.data_dir().join(&name), disk.join(&name));
    }
    std::os::unix::fs::symlink(disk.join("jianfu.db"), app.data_dir().join("jianfu.db")).unwrap();
    app.start();
    for card in &cards {
        assert_eq!(app.file(card, "搬到另一块盘上的数据库。").status, 303);
    }
    assert!(
        !app.data_dir().join("jianfu.db-wal").exists(),
        "SQLite writes the WAL beside the real file"
    );
    for name in ["jianfu.db", "jianfu.db-wal"] {
        let at = std::fs::metadata(disk.join(name))
            .and_then(|m| m.modified())
            .unwrap();
        assert_release_time(&format!("the real {name}"), at, started);
    }
    assert!(
        app.output().find("flushed").is_none(),
        "no flush failed: {}",
        app.output()
    );
}
