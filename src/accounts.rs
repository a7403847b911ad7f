//! Creating staff accounts: shared by `jianfu user add` and the first-run setup page.

use rusqlite::Connection;

use crate::authentication::password::{self, PasswordError};
use crate::crypto::RecoveryCode;
use crate::desk::{self, DeskError};
use crate::store::staff::{self, Role};
use crate::store::{audit, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("a username is 2 to 32 letters, digits, `.`, `_` or `-`")]
    BadUsername,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("investigator `{0}` does not exist")]
    NoGrantor(String),
    #[error("granting the desk key: {0}")]
    Grant(DeskError),
    #[error(transparent)]
    Desk(#[from] DeskError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who grants a new investigator the desk key.
pub struct Grantor<'a> {
    pub username: &'a str,
    pub password: &'a str,
}

fn valid_username(u: &str) -> bool {
    (2..=32).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// What `add` made.
pub struct Added {
    pub id: i64,
    /// The recovery code, when this account created the desk key (shown once).
    pub recovery: Option<RecoveryCode>,
    /// Whether an investigator can read reports now (false: awaiting a grant).
    pub granted: bool,
}

/// Checks a username and password before anything is created.
pub fn validate(username: &str, password: &str) -> Result<(), AccountError> {
    if !valid_username(username) {
        return Err(AccountError::BadUsername);
    }
    password::check_policy(password)?;
    Ok(())
}

/// Creates an account. An investigator gets a key pair of their own; the first investigator
/// also creates the desk key (and gets the recovery code back); a later one is granted the
/// desk key by `grantor`, or waits for a grant from the desk.
pub fn add(
    conn: &mut Connection,
    actor: &str,
    username: &str,
    role: Role,
    password: &str,
    grantor: Option<Grantor<'_>>,
) -> Result<Added, AccountError> {
    validate(username, password)?;
    let hash = password::hash(password)?;
    // Unlock the grantor's desk key before the transaction: Argon2 is slow.
    let granted_key = match (role, &grantor) {
        (Role::Investigator, Some(g)) => {
            let account = staff::find(conn, g.username)?
                .filter(|a| a.role == Role::Investigator && !a.disabled)
                .ok_or_else(|| AccountError::NoGrantor(g.username.to_string()))?;
            let key = desk::unlock(conn, account.id, g.password)
                .map_err(AccountError::Grant)?
                .ok_or(AccountError::Grant(DeskError::NotGranted))?;
            Some(key)
        }
        _ => None,
    };
    let tx = conn.transaction().map_err(StoreError::from)?;
    let id = staff::create(&tx, username, role, &hash)?;
    let mut added = Added {
        id,
        recovery: None,
        granted: false,
    };
    if role == Role::Investigator {
        desk::enrol(&tx, id, password)?;
        match granted_key {
            Some(key) => {
                desk::grant_to(&tx, &key, id)?;
                audit::record(&tx, actor, "desk.grant", &format!("staff:{id}"))?;
                added.granted = true;
            }
            None if desk::public_key(&tx)?.is_none() => {
                added.recovery = Some(desk::create(&tx, id)?);
                audit::record(&tx, actor, "desk.create", &format!("staff:{id}"))?;
                added.granted = true;
            }
            None => {}
        }
    }
    audit::record(
        &tx,
        actor,
        "account.create",
        &format!("staff:{id} role:{}", role.code()),
    )?;
    tx.commit().map_err(StoreError::from)?;
    Ok(added)
}

/// An admin's reset of someone's password. An investigator gets a new key pair of their
/// own, so the old grant (sealed to the old key) is gone: another investigator must grant
/// the desk key again, or the recovery code be used.
pub fn reset_password(
    conn: &mut Connection,
    actor: &str,
    id: i64,
    new_password: &str,
) -> Result<staff::Account, AccountError> {
    password::check_policy(new_password)?;
    let hash = password::hash(new_password)?;
    let tx = conn.transaction().map_err(StoreError::from)?;
    let account = staff::get(&tx, id)?;
    staff::set_password_hash(&tx, id, &hash)?;
    if account.role == Role::Investigator {
        desk::enrol(&tx, id, new_password)?;
    }
    audit::record(&tx, actor, "account.password_reset", &format!("staff:{id}"))?;
    tx.commit().map_err(StoreError::from)?;
    Ok(account)
}

/// Disables or re-enables an account.
pub fn set_disabled(
    conn: &Connection,
    actor: &str,
    id: i64,
    disabled: bool,
) -> Result<(), AccountError> {
    staff::get(conn, id)?;
    staff::set_disabled(conn, id, disabled)?;
    let action = if disabled {
        "account.disable"
    } else {
        "account.enable"
    };
    audit::record(conn, actor, action, &format!("staff:{id}"))?;
    Ok(())
}
