//! Staff accounts and the wraps of the desk key.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::StoreError;
use crate::crypto::{WrapParams, WrappedKey};

/// What a staff account may do (SPEC §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Investigator,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "investigator" => Some(Role::Investigator),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Investigator => "investigator",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// `None` until the holder has enrolled (P5: nobody else sets it).
    pub password_hash: Option<String>,
    pub disabled: bool,
    /// An investigator's desk.
    pub desk_id: Option<i64>,
}

/// Creates an account; `password_hash` is `None` for an account that will enrol.
pub fn create(
    conn: &Connection,
    username: &str,
    role: Role,
    password_hash: Option<&str>,
    desk_id: Option<i64>,
) -> Result<i64, StoreError> {
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO staff (username, role, password_hash, desk_id, created_on)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            username,
            role.code(),
            password_hash,
            desk_id,
            super::today().to_string()
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a staff account named `{username}` already exists"
        )));
    }
    Ok(conn.last_insert_rowid())
}

const ACCOUNT: &str = "SELECT id, username, role, password_hash, disabled, desk_id FROM staff";

fn account_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    let role: String = r.get(2)?;
    Ok(Account {
        id: r.get(0)?,
        username: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Admin),
        password_hash: r.get(3)?,
        disabled: r.get(4)?,
        desk_id: r.get(5)?,
    })
}

pub fn find(conn: &Connection, username: &str) -> Result<Option<Account>, StoreError> {
    Ok(conn
        .query_row(
            &format!("{ACCOUNT} WHERE username = ?1"),
            [username],
            account_from_row,
        )
        .optional()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Account, StoreError> {
    conn.query_row(&format!("{ACCOUNT} WHERE id = ?1"), [id], account_from_row)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// What a session compares with at every staff request: the account's password hash and
/// whether it is disabled, by primary key (`None`: no such account).
pub fn standing(conn: &Connection, id: i64) -> Result<Option<(Option<String>, bool)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT password_hash, disabled FROM staff WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub fn count(conn: &Connection, role: Option<Role>) -> Result<i64, StoreError> {
    Ok(match role {
        Some(role) => conn.query_row(
            "SELECT COUNT(*) FROM staff WHERE role = ?1",
            [role.code()],
            |r| r.get(0),
        )?,
        None => conn.query_row("SELECT COUNT(*) FROM staff", [], |r| r.get(0))?,
    })
}

pub fn touch_last_login(conn: &Connection, staff_id: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE staff SET last_login_on = ?1 WHERE id = ?2",
        params![super::today().to_string(), staff_id],
    )?;
    Ok(())
}

/// A key wrap's columns as read: salt, parameters, nonce, ciphertext.
pub(super) type WrapColumns = (Vec<u8>, WrapParams, Vec<u8>, Vec<u8>);

pub(super) fn wrap_from_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<WrapColumns> {
    Ok((
        r.get(at)?,
        WrapParams {
            m_kib: r.get(at + 1)?,
            t: r.get(at + 2)?,
            p: r.get(at + 3)?,
        },
        r.get(at + 4)?,
        r.get(at + 5)?,
    ))
}

pub(super) fn to_wrapped(
    (salt, params, nonce, ciphertext): WrapColumns,
) -> Result<WrappedKey, StoreError> {
    let corrupt = || StoreError::Conflict("a stored key wrap is corrupt".into());
    Ok(WrappedKey {
        salt: salt.try_into().map_err(|_| corrupt())?,
        params,
        nonce: nonce.try_into().map_err(|_| corrupt())?,
        ciphertext,
    })
}

/// An investigator's own key: its public half and its wrap under their password.
/// An investigator's own key: its public half and its wrap under their password. An earlier
/// key is deleted first, so `secure_delete` zeroes its wrap (P5).
pub fn put_investigator_key(
    conn: &Connection,
    staff_id: i64,
    public: &[u8; 32],
    w: &WrappedKey,
) -> Result<(), StoreError> {
    delete_investigator_key(conn, staff_id)?;
    conn.execute(
        "INSERT INTO investigator_keys (staff_id, public, salt, m_kib, t, p, nonce, wrapped)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            staff_id,
            &public[..],
            &w.salt[..],
            w.params.m_kib,
            w.params.t,
            w.params.p,
            &w.nonce[..],
            &w.ciphertext
        ],
    )?;
    Ok(())
}

pub fn delete_investigator_key(conn: &Connection, staff_id: i64) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM investigator_keys WHERE staff_id = ?1",
        [staff_id],
    )?;
    Ok(())
}

pub fn investigator_key(
    conn: &Connection,
    staff_id: i64,
) -> Result<Option<([u8; 32], WrappedKey)>, StoreError> {
    let row = conn
        .query_row(
            "SELECT public, salt, m_kib, t, p, nonce, wrapped FROM investigator_keys
             WHERE staff_id = ?1",
            [staff_id],
            |r| Ok((r.get::<_, Vec<u8>>(0)?, wrap_from_row(r, 1)?)),
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((public, wrap)) => {
            let public: [u8; 32] = public
                .try_into()
                .map_err(|_| StoreError::Conflict("a stored public key is corrupt".into()))?;
            Ok(Some((public, to_wrapped(wrap)?)))
        }
    }
}

pub fn put_grant(conn: &Connection, staff_id: i64, sealed: &[u8]) -> Result<(), StoreError> {
    delete_grant(conn, staff_id)?;
    conn.execute(
        "INSERT INTO desk_grants (staff_id, sealed) VALUES (?1, ?2)",
        params![staff_id, sealed],
    )?;
    Ok(())
}

pub fn grant(conn: &Connection, staff_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT sealed FROM desk_grants WHERE staff_id = ?1",
            [staff_id],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn delete_grant(conn: &Connection, staff_id: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM desk_grants WHERE staff_id = ?1", [staff_id])?;
    Ok(())
}

/// An account as the console lists it.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_on: String,
    pub last_login_on: Option<String>,
    /// Whether the holder has enrolled (set their own password).
    pub enrolled: bool,
    /// Whether an enrolment link is open.
    pub invited: bool,
    /// Investigators: their desk, its code and name.
    pub desk_id: Option<i64>,
    pub desk_code: Option<String>,
    pub desk_name: Option<String>,
    /// Investigators: whether they hold a grant of their desk's key.
    pub granted: bool,
    /// Whether a second factor (TOTP) is set up.
    pub second_factor: bool,
}

pub fn list(conn: &Connection) -> Result<Vec<Listed>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT s.id, s.username, s.role, s.disabled, s.created_on, s.last_login_on,
                s.password_hash IS NOT NULL, e.staff_id IS NOT NULL, d.id, d.code, d.name,
                g.staff_id IS NOT NULL, t.staff_id IS NOT NULL
         FROM staff s LEFT JOIN desk_grants g ON g.staff_id = s.id
         LEFT JOIN staff_totp t ON t.staff_id = s.id
         LEFT JOIN enrolments e ON e.staff_id = s.id
         LEFT JOIN desks d ON d.id = s.desk_id
         ORDER BY s.role, s.username",
    )?;
    let rows = stmt.query_map([], |r| {
        let role: String = r.get(2)?;
        Ok(Listed {
            id: r.get(0)?,
            username: r.get(1)?,
            role: Role::parse(&role).unwrap_or(Role::Admin),
            disabled: r.get(3)?,
            created_on: r.get(4)?,
            last_login_on: r.get(5)?,
            enrolled: r.get(6)?,
            invited: r.get(7)?,
            desk_id: r.get(8)?,
            desk_code: r.get(9)?,
            desk_name: r.get(10)?,
            granted: r.get(11)?,
            second_factor: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The enabled investigators of one desk.
pub fn desk_members(conn: &Connection, desk_id: i64) -> Result<Vec<Listed>, StoreError> {
    Ok(list(conn)?
        .into_iter()
        .filter(|a| a.role == Role::Investigator && !a.disabled && a.desk_id == Some(desk_id))
        .collect())
}

/// A one-time enrolment link for an account, replacing any earlier one; `by_operator`: made
/// on the server's command line, not the console.
pub fn put_enrolment(
    conn: &Connection,
    staff_id: i64,
    token_hash: &[u8; 32],
    expires_at: i64,
    by_operator: bool,
) -> Result<(), StoreError> {
    conn.execute("DELETE FROM enrolments WHERE staff_id = ?1", [staff_id])?;
    conn.execute(
        "INSERT INTO enrolments (token_hash, staff_id, expires_at, by_operator)
         VALUES (?1, ?2, ?3, ?4)",
        params![&token_hash[..], staff_id, expires_at, by_operator],
    )?;
    Ok(())
}

/// A live or expired enrolment link as stored.
pub struct Enrolment {
    pub staff_id: i64,
    /// Unix seconds.
    pub expires_at: i64,
    pub by_operator: bool,
}

/// The enrolment link with this token hash.
pub fn enrolment(
    conn: &Connection,
    token_hash: &[u8; 32],
) -> Result<Option<Enrolment>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT staff_id, expires_at, by_operator FROM enrolments WHERE token_hash = ?1",
            [&token_hash[..]],
            |r| {
                Ok(Enrolment {
                    staff_id: r.get(0)?,
                    expires_at: r.get(1)?,
                    by_operator: r.get(2)?,
                })
            },
        )
        .optional()?)
}

pub fn delete_enrolments(conn: &Connection, staff_id: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM enrolments WHERE staff_id = ?1", [staff_id])?;
    Ok(())
}

pub fn set_disabled(conn: &Connection, id: i64, disabled: bool) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE staff SET disabled = ?1 WHERE id = ?2",
        params![disabled, id],
    )?;
    Ok(())
}

pub fn set_password_hash(conn: &Connection, id: i64, hash: Option<&str>) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE staff SET password_hash = ?1 WHERE id = ?2",
        params![hash, id],
    )?;
    Ok(())
}

/// The sealed TOTP secret of an account, if it has set one up.
pub fn totp(conn: &Connection, staff_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT sealed FROM staff_totp WHERE staff_id = ?1",
            [staff_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Sets up (or replaces) an account's second factor; `step` is the step of the code that
/// confirmed it, which is thereby used.
pub fn put_totp(
    conn: &Connection,
    staff_id: i64,
    sealed: &[u8],
    step: u64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO staff_totp (staff_id, sealed, last_step) VALUES (?1, ?2, ?3)",
        params![staff_id, sealed, step as i64],
    )?;
    Ok(())
}

/// Removes an account's second factor; whether it had one.
pub fn delete_totp(conn: &Connection, staff_id: i64) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM staff_totp WHERE staff_id = ?1", [staff_id])? == 1)
}

/// Marks the time step of an accepted code as used; false if it (or a later one) already was.
pub fn claim_totp_step(conn: &Connection, staff_id: i64, step: u64) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE staff_totp SET last_step = ?2 WHERE staff_id = ?1 AND last_step < ?2",
        params![staff_id, step as i64],
    )? == 1)
}
