//! The schema, migrated by `PRAGMA user_version`. Every table is commented with the promise
//! that shapes it; a column that could tie a report to a card, batch, time or person is a bug.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

/// `user_version` of a database in the current format with no migration applied yet. A
/// version from 1 to `FORMAT_BASE - 1` is a data dir of the earlier format (cards stored with
/// their batch): it cannot be carried over and is refused with a message (issue #14).
const FORMAT_BASE: i64 = 100;

const MIGRATIONS: &[&str] = &[
    r#"
-- Small facts: the setup-link hash, the schedule in force (and, before the third migration,
-- how many scheduled releases the pending pool had waited: now `pool_waited`).
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;

-- P11: the investigation desks: the city's (code 'city', from the start) and one per district.
-- P5: each has its own X25519 key pair; `public_key` is what reports are sealed to, NULL until
-- the desk's first investigator enrols and creates it.
CREATE TABLE desks (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    public_key BLOB
);
INSERT INTO desks (id, code, name) VALUES (1, 'city', '市委社会工作部');

-- Card batches: the distribution side. Dates only, no per-card use. P1: `salt` and the key
-- file derive the batch's card-hash key; revoking or expiring a batch stops its key working.
CREATE TABLE batches (
    id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 32767),
    label TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    expires_on TEXT,
    revoked_on TEXT,
    issued INTEGER NOT NULL,
    salt BLOB NOT NULL
);

-- P1/P2: an unspent card is its keyed hash, nothing else: no batch, so two copies of the
-- database show only that the total went down. Spending deletes the row (secure_delete
-- zeroes it), so no flag, time or order of use is ever written.
CREATE TABLE cards (hash BLOB PRIMARY KEY) WITHOUT ROWID;

-- P2/P3: the pending pool. A random rowid (key order is not filing order; a 2 KiB sealed box
-- stays inside its row, no overflow chain) and the sealed report; nothing else. Emptied at
-- each release, when every report is sealed again.
CREATE TABLE pending (
    id INTEGER PRIMARY KEY,
    desk_id INTEGER NOT NULL REFERENCES desks(id),
    sealed BLOB NOT NULL
);

-- P2/P3: released reports, inserted in random order with random ids; the release day is
-- their only date. P5: the content is sealed to the desk key (`boxed` = 'public': sealed
-- again at the release to the desk public key; 'desk': boxed again by the first session that
-- opened it, under a key derived from the desk private key, src/crypto/desk_box.rs).
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    desk_id INTEGER NOT NULL REFERENCES desks(id),
    released_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    sealed BLOB NOT NULL,
    assignee INTEGER REFERENCES staff(id),
    case_id INTEGER REFERENCES cases(id),
    boxed TEXT NOT NULL DEFAULT 'public' CHECK (boxed IN ('public', 'desk'))
);

-- P8: staff accounts, Argon2id password hashes. P5: an account made in the console has no
-- password until its holder enrols through a one-time link; an investigator belongs to one
-- desk.
CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'investigator')),
    desk_id INTEGER REFERENCES desks(id),
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_on TEXT NOT NULL,
    last_login_on TEXT
);

-- P5: each investigator's own X25519 key, wrapped under a key derived from their password
-- (Argon2id). Grants of the desk key are sealed to its public half.
CREATE TABLE investigator_keys (
    staff_id INTEGER PRIMARY KEY REFERENCES staff(id),
    public BLOB NOT NULL,
    salt BLOB NOT NULL,
    m_kib INTEGER NOT NULL,
    t INTEGER NOT NULL,
    p INTEGER NOT NULL,
    nonce BLOB NOT NULL,
    wrapped BLOB NOT NULL
);

-- P5: the one-time enrolment links (`/staff/enrol/<token>`), as SHA-256 of the token only,
-- valid until `expires_at` (Unix seconds; 72 hours after it was made). Whoever opens one sets
-- the account's own password.
CREATE TABLE enrolments (
    token_hash BLOB PRIMARY KEY,
    staff_id INTEGER NOT NULL UNIQUE REFERENCES staff(id),
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- P5: the private key of the investigator's desk, sealed to their own public key (a grant).
CREATE TABLE desk_grants (
    staff_id INTEGER PRIMARY KEY REFERENCES staff(id),
    sealed BLOB NOT NULL
);

-- P5: each desk's private key, wrapped under its printed recovery code.
CREATE TABLE desk_recovery (
    id INTEGER PRIMARY KEY REFERENCES desks(id),
    salt BLOB NOT NULL,
    m_kib INTEGER NOT NULL,
    t INTEGER NOT NULL,
    p INTEGER NOT NULL,
    nonce BLOB NOT NULL,
    wrapped BLOB NOT NULL
);

-- P8: append-only audit log of staff actions; never report content.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL DEFAULT ''
);
-- The desk shows the last schedule change (P3) without reading the whole log.
CREATE INDEX audit_by_action ON audit(action, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Reference lists: the choices the reporter form offers. No report refers to a row by id; a
-- report carries the name it was given.
CREATE TABLE departments (position INTEGER NOT NULL, name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE townships (position INTEGER NOT NULL, name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE admission_items (
    position INTEGER NOT NULL,
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    basis TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE cancelled_certificates (
    position INTEGER NOT NULL,
    name TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    basis TEXT NOT NULL
) WITHOUT ROWID;

-- The desks' own work. Cases (事项) group reports about one task. P5: what investigators
-- write (title, department, screening code, month, whether it is listed) is sealed under the
-- desk's key in `sealed`; only the outcome, the month it was decided (the public board's
-- figure) and, once published, the text written for the public are plain.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    desk_id INTEGER NOT NULL REFERENCES desks(id),
    sealed BLOB NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'open'
        CHECK (outcome IN ('open', 'stopped', 'adjusted', 'upheld', 'unfounded')),
    decided_in TEXT,
    public_department TEXT NOT NULL DEFAULT '',
    public_month TEXT NOT NULL DEFAULT '',
    public_text TEXT NOT NULL DEFAULT '',
    published_on TEXT
);
-- P5: investigators' notes, sealed to the desk key like the reports.
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    author INTEGER NOT NULL REFERENCES staff(id),
    written_on TEXT NOT NULL,
    sealed BLOB NOT NULL
);
CREATE INDEX notes_by_report ON notes(report_id);

-- P8: the optional staff second factor (RFC 6238). The secret is sealed under a key derived
-- from the key file in DATA_DIR/keys, never stored in the clear; last_step is the time step
-- of the last code accepted, so no code is accepted twice.
CREATE TABLE staff_totp (
    staff_id INTEGER PRIMARY KEY REFERENCES staff(id),
    sealed BLOB NOT NULL,
    last_step INTEGER NOT NULL DEFAULT 0
);
"#,
    r#"
-- P11: the townships that belong to a district desk, so the form can send a report to the
-- desk of the township the reporter names. A public fact, like the township list itself.
CREATE TABLE desk_townships (
    name TEXT PRIMARY KEY,
    desk_id INTEGER NOT NULL REFERENCES desks(id)
);

-- P11, P5: a district desk's case fields, sealed also to the city desk's key, so the city
-- desk reads the districts' cases (NULL for the city's own cases).
ALTER TABLE cases ADD COLUMN sealed_city BLOB;

-- P11: the public board's record: how many reports each desk received per release month,
-- counted at each release (so retention deleting old reports does not rewrite the record).
-- Counts per release month only: nothing that pins a filing.
CREATE TABLE board_received (
    desk_id INTEGER NOT NULL REFERENCES desks(id),
    month TEXT NOT NULL,
    reports INTEGER NOT NULL,
    PRIMARY KEY (desk_id, month)
) WITHOUT ROWID;
"#,
    // 3. P3, P11: one wait count per desk.
    r#"
-- P3, P11: how many scheduled releases each desk's pending copies have waited since that
-- desk's copies were last released: one number per desk with copies waiting, never a filing
-- time. Each desk's release is decided on its own copies and its own count, so nothing in a
-- district desk's release timing depends on reports it was not sent (city-only ones).
CREATE TABLE pool_waited (
    desk_id INTEGER PRIMARY KEY REFERENCES desks(id),
    releases INTEGER NOT NULL
) WITHOUT ROWID;
-- A data dir of the previous version kept one count for the whole pool (in `meta`). Every
-- desk with copies waiting takes it over: no copy waits longer than that version would have
-- let it, and the count stays a number of periods, never a time.
INSERT INTO pool_waited (desk_id, releases)
    SELECT DISTINCT pending.desk_id, CAST(CAST(meta.value AS TEXT) AS INTEGER)
    FROM pending, meta
    WHERE meta.key = 'pool_releases_waited';
DELETE FROM meta WHERE key = 'pool_releases_waited';
"#,
    // 4. P5, P11: a district desk receives reports only as the city desk approved it.
    r#"
-- P5, P11: the digest of a district desk as approved — its code, name, townships and public
-- key (src/desk/approval.rs). Reports are routed to a district desk only while the digest of
-- the desk as it is equals this one: a desk added or changed on the console receives nothing
-- until an investigator holding the city desk key approves it, after checking its key
-- fingerprint with the district's head. NULL: never approved.
ALTER TABLE desks ADD COLUMN approved TEXT;
-- Two desks of one name would let a desk pass for another on the form and the board. A data
-- dir of the previous version may hold two: the later ones take their code into their name.
UPDATE desks SET name = name || '（' || code || '）'
    WHERE EXISTS (SELECT 1 FROM desks AS e WHERE e.name = desks.name AND e.id < desks.id);
CREATE UNIQUE INDEX desks_by_name ON desks(name);
-- P5, P11: a link made by the operator on the server (`jianfu user invite`), not the console.
-- A desk the operator added is approved with the first key made by the operator's own
-- accounts only: a first key made through a console link needs the city desk's approval.
ALTER TABLE enrolments ADD COLUMN by_operator INTEGER NOT NULL DEFAULT 0;
"#,
];

/// Brings the schema up to date inside one transaction.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if (1..FORMAT_BASE).contains(&version) {
        return Err(StoreError::PreviousFormat(path.to_path_buf()));
    }
    let applied = usize::try_from((version - FORMAT_BASE).max(0)).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::TooNew(path.to_path_buf()));
    }
    if version != 0 && applied == MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(sql)?;
        if i == 0 {
            seed_reference_lists(&tx)?;
        }
    }
    tx.pragma_update(None, "user_version", FORMAT_BASE + MIGRATIONS.len() as i64)?;
    tx.commit()?;
    Ok(())
}

/// The starter admission and cancelled-certificate lists from `reference/`.
fn seed_reference_lists(conn: &Connection) -> Result<(), StoreError> {
    use crate::reference::{parse_csv, ListKind};
    for kind in ListKind::ALL {
        let rows = parse_csv(kind, kind.defaults()).map_err(|bad| {
            StoreError::Conflict(format!("starter list {}: {bad:?}", kind.slug()))
        })?;
        super::reference::replace(conn, kind, &rows)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data dir made by the previous version (two migrations, one wait count for the whole
    /// pool in `meta`) is migrated: each desk with copies waiting takes the pool's count over.
    #[test]
    fn the_pools_one_wait_count_becomes_each_waiting_desks() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(&format!(
            "PRAGMA user_version = {};
             INSERT INTO desks (id, code, name) VALUES (2, 'xihu', '西湖区'), (3, 'binjiang', '滨江区');
             INSERT INTO pending (id, desk_id, sealed) VALUES (17, 1, x'00'), (5, 2, x'01'), (9, 1, x'02');
             INSERT INTO meta (key, value) VALUES ('pool_releases_waited', CAST('4' AS BLOB));",
            FORMAT_BASE + 2
        ))
        .unwrap();
        migrate(&mut conn, Path::new("test.db")).unwrap();
        let waited: Vec<(i64, i64)> = conn
            .prepare("SELECT desk_id, releases FROM pool_waited ORDER BY desk_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(waited, vec![(1, 4), (2, 4)]);
        let old: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM meta WHERE key = 'pool_releases_waited'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old, 0);
        let pending: i64 = conn
            .query_row("SELECT COUNT(*) FROM pending", [], |r| r.get(0))
            .unwrap();
        assert_eq!(pending, 3, "the pending copies are kept");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, FORMAT_BASE + MIGRATIONS.len() as i64);
    }

    #[test]
    fn two_desks_of_one_name_from_the_previous_version_are_told_apart_by_code() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(&format!(
            "PRAGMA user_version = {};
             INSERT INTO desks (id, code, name) VALUES (2, 'xihu', '西湖区'), (3, 'xihu2', '西湖区');",
            FORMAT_BASE + 3
        ))
        .unwrap();
        migrate(&mut conn, Path::new("test.db")).unwrap();
        let names: Vec<String> = conn
            .prepare("SELECT name FROM desks WHERE id > 1 ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(names, vec!["西湖区", "西湖区（xihu2）"]);
    }
}
