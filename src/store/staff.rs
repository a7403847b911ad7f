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
    pub password_hash: String,
    pub disabled: bool,
}

/// The holder label of a wrap: bound into the AEAD so a wrap cannot be moved to another.
pub fn holder_for(staff_id: i64) -> String {
    format!("staff:{staff_id}")
}
pub const RECOVERY_HOLDER: &str = "recovery";

pub fn create(
    conn: &Connection,
    username: &str,
    role: Role,
    password_hash: &str,
) -> Result<i64, StoreError> {
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO staff (username, role, password_hash, created_on)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            username,
            role.code(),
            password_hash,
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

pub fn find(conn: &Connection, username: &str) -> Result<Option<Account>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, username, role, password_hash, disabled FROM staff WHERE username = ?1",
            [username],
            |r| {
                let role: String = r.get(2)?;
                Ok(Account {
                    id: r.get(0)?,
                    username: r.get(1)?,
                    role: Role::parse(&role).unwrap_or(Role::Admin),
                    password_hash: r.get(3)?,
                    disabled: r.get(4)?,
                })
            },
        )
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

pub fn put_wrap(
    conn: &Connection,
    holder: &str,
    staff_id: Option<i64>,
    w: &WrappedKey,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO desk_key_wraps (holder, staff_id, salt, m_kib, t, p, nonce, wrapped)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (holder) DO UPDATE SET salt = excluded.salt, m_kib = excluded.m_kib,
           t = excluded.t, p = excluded.p, nonce = excluded.nonce, wrapped = excluded.wrapped",
        params![
            holder,
            staff_id,
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

pub fn get_wrap(conn: &Connection, holder: &str) -> Result<Option<WrappedKey>, StoreError> {
    let row = conn
        .query_row(
            "SELECT salt, m_kib, t, p, nonce, wrapped FROM desk_key_wraps WHERE holder = ?1",
            [holder],
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    WrapParams {
                        m_kib: r.get(1)?,
                        t: r.get(2)?,
                        p: r.get(3)?,
                    },
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                ))
            },
        )
        .optional()?;
    Ok(match row {
        None => None,
        Some((salt, params, nonce, ciphertext)) => Some(WrappedKey {
            salt: salt
                .try_into()
                .map_err(|_| StoreError::Conflict("corrupt key wrap".into()))?,
            params,
            nonce: nonce
                .try_into()
                .map_err(|_| StoreError::Conflict("corrupt key wrap".into()))?,
            ciphertext,
        }),
    })
}
