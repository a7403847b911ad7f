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
    #[error("the desk key already exists, so a new investigator needs a grant: pass --grant-from an existing investigator")]
    GrantNeeded,
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

/// Creates an account. The first investigator creates the desk key and gets the recovery
/// code back; a later one must be granted the desk key by an existing investigator.
pub fn add(
    conn: &mut Connection,
    actor: &str,
    username: &str,
    role: Role,
    password: &str,
    grantor: Option<Grantor<'_>>,
) -> Result<Option<RecoveryCode>, AccountError> {
    if !valid_username(username) {
        return Err(AccountError::BadUsername);
    }
    password::check_policy(password)?;
    let hash = password::hash(password)?;
    // Unwrap the grantor's key before the transaction: Argon2 is slow.
    let granted = match (role, &grantor) {
        (Role::Investigator, Some(g)) => {
            let account = staff::find(conn, g.username)?
                .filter(|a| a.role == Role::Investigator && !a.disabled)
                .ok_or_else(|| AccountError::NoGrantor(g.username.to_string()))?;
            Some(desk::unlock(conn, account.id, g.password).map_err(AccountError::Grant)?)
        }
        _ => None,
    };
    let tx = conn.transaction().map_err(StoreError::from)?;
    let id = staff::create(&tx, username, role, &hash)?;
    let mut recovery = None;
    if role == Role::Investigator {
        match granted {
            Some(key) => desk::grant_to(&tx, &key, id, password)?,
            None if desk::public_key(&tx)?.is_none() => {
                recovery = Some(desk::create(&tx, id, password)?);
            }
            None => return Err(AccountError::GrantNeeded),
        }
    }
    audit::record(
        &tx,
        actor,
        "account.create",
        &format!("staff:{id} role:{}", role.code()),
    )?;
    tx.commit().map_err(StoreError::from)?;
    Ok(recovery)
}
