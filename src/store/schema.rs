//! The schema, migrated by `PRAGMA user_version`. Every table is commented with the promise
//! that shapes it; a column that could tie a report to a card, batch, time or person is a bug.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    r#"
-- Small facts: schema details, the desk public key, the setup-link hash.
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;

-- Card batches: the distribution side. Dates only, no per-card use.
CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    expires_on TEXT,
    revoked_on TEXT,
    issued INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0
);

-- P1/P2: an unspent card is its keyed hash and its batch. Spending deletes the row
-- (secure_delete zeroes it), so no flag, time or order of use is ever written.
CREATE TABLE cards (
    hash BLOB PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES batches(id)
) WITHOUT ROWID;
CREATE INDEX cards_by_batch ON cards(batch_id);

-- P2/P3: the pending pool. A random key (so key order is not filing order) and the sealed
-- report; nothing else. Emptied at each release.
CREATE TABLE pending (id BLOB PRIMARY KEY, sealed BLOB NOT NULL) WITHOUT ROWID;

-- P2/P3: released reports, inserted in random order with random ids; the release day is
-- their only date. P5: the content is sealed to the desk key.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    released_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    sealed BLOB NOT NULL
);

-- P8: staff accounts, Argon2id password hashes.
CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'investigator')),
    password_hash TEXT NOT NULL,
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

-- P5: the desk private key, sealed to an investigator's own public key (a grant).
CREATE TABLE desk_grants (
    staff_id INTEGER PRIMARY KEY REFERENCES staff(id),
    sealed BLOB NOT NULL
);

-- P5: the desk private key, wrapped under the printed recovery code.
CREATE TABLE desk_recovery (
    id INTEGER PRIMARY KEY CHECK (id = 1),
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
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#,
    r#"
-- Reference lists (issue #4): the choices the reporter form offers. No report refers to a
-- row by id; a report carries the name it was given.
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
"#,
    r#"
-- The desk's own work (issue #3). Cases (事项) group reports about one task; their fields
-- are written by investigators, never copied from reports.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    department TEXT NOT NULL,
    listed TEXT NOT NULL CHECK (listed IN ('on', 'off', 'unknown')),
    screening_code TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT 'open'
        CHECK (outcome IN ('open', 'stopped', 'adjusted', 'upheld', 'unfounded')),
    month TEXT NOT NULL DEFAULT '',
    public_text TEXT NOT NULL DEFAULT '',
    published_on TEXT
);
-- Triage on a released report: who handles it and which case it belongs to.
ALTER TABLE reports ADD COLUMN assignee INTEGER REFERENCES staff(id);
ALTER TABLE reports ADD COLUMN case_id INTEGER REFERENCES cases(id);
-- P5: investigators' notes, sealed to the desk key like the reports.
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    author INTEGER NOT NULL REFERENCES staff(id),
    written_on TEXT NOT NULL,
    sealed BLOB NOT NULL
);
CREATE INDEX notes_by_report ON notes(report_id);
"#,
    r#"
-- P5, SPEC §4 (unlock ≤ 5 s): how `sealed` is boxed. 'public': as filed, sealed to the desk
-- public key. 'desk': boxed again by the first session that opened it, under a key derived
-- from the desk private key (src/crypto/desk_box.rs). Says no more about a report than its
-- release day does: reports released before an investigator last signed in are 'desk'.
ALTER TABLE reports ADD COLUMN boxed TEXT NOT NULL DEFAULT 'public'
    CHECK (boxed IN ('public', 'desk'));
"#,
    r#"
-- P8: the optional staff second factor (RFC 6238). The secret is sealed under a key derived
-- from the key file in DATA_DIR/keys, never stored in the clear; last_step is the time step
-- of the last code accepted, so no code is accepted twice.
CREATE TABLE staff_totp (
    staff_id INTEGER PRIMARY KEY REFERENCES staff(id),
    sealed BLOB NOT NULL,
    last_step INTEGER NOT NULL DEFAULT 0
);
"#,
];

/// Brings the schema up to date inside one transaction.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::TooNew(path.to_path_buf()));
    }
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)?;
        if i == 1 {
            seed_reference_lists(&tx)?;
        }
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
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
