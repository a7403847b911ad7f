//! Staff accounts (P5, P8): invitations by one-time enrolment link, enrolment, the admin's
//! reset, disabling — shared by the console, the first-run page and the command line.
//!
//! P5: an admin never chooses, sets or learns anyone's password. An account made by an admin
//! has no password until its holder opens the link and sets one; an investigator's own key
//! pair is made in that request; the first investigator of a desk to enrol creates the desk
//! key and is the only one shown its recovery code. `add` with a password (`jianfu user add
//! --password-stdin`) stays for scripted set-ups and tests: whoever runs it knows the password.

use rand::rngs::OsRng;
use rand::RngCore;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::authentication::password::{self, PasswordError};
use crate::crypto::RecoveryCode;
use crate::desk::{self, DeskError};
use crate::store::staff::{self, Role};
use crate::store::{audit, StoreError};

/// How long an enrolment link works.
pub const LINK_HOURS: i64 = 72;
/// The audit actor of the server's command line: the operator. A link it makes may create a
/// desk's first key that the operator's approval of the desk covers (src/desk/approval.rs).
pub const OPERATOR: &str = "cli";

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
    #[error("this enrolment link is not valid: it was used, replaced, or has expired")]
    DeadLink,
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

pub fn validate_username(username: &str) -> Result<(), AccountError> {
    if valid_username(username) {
        Ok(())
    } else {
        Err(AccountError::BadUsername)
    }
}

/// Checks a username and password before anything is created.
pub fn validate(username: &str, password: &str) -> Result<(), AccountError> {
    validate_username(username)?;
    password::check_policy(password)?;
    Ok(())
}

/// What `add` made.
pub struct Added {
    pub id: i64,
    /// The recovery code, when this account created its desk's key (shown once).
    pub recovery: Option<RecoveryCode>,
    /// Whether an investigator can read reports now (false: awaiting a grant).
    pub granted: bool,
}

/// The desk an investigator joins: `desk_id`, which must exist.
fn desk_for(conn: &Connection, role: Role, desk_id: i64) -> Result<Option<i64>, AccountError> {
    Ok(match role {
        Role::Investigator => Some(crate::store::desks::get(conn, desk_id)?.id),
        Role::Admin => None,
    })
}

/// Creates an account with a password its creator knows (`jianfu user add --password-stdin`,
/// for scripts and tests). An investigator gets a key pair of their own; the first of a desk
/// creates the desk key (and gets the recovery code back); a later one is granted the desk key
/// by `grantor`, or waits for a grant.
pub fn add(
    conn: &mut Connection,
    actor: &str,
    username: &str,
    role: Role,
    desk_id: i64,
    password: &str,
    grantor: Option<Grantor<'_>>,
) -> Result<Added, AccountError> {
    validate(username, password)?;
    let hash = password::hash(password)?;
    // Unlock the grantor's desk key before the transaction: Argon2 is slow.
    let granted_key = match (role, &grantor) {
        (Role::Investigator, Some(g)) => {
            let account = staff::find(conn, g.username)?
                .filter(|a| {
                    a.role == Role::Investigator && !a.disabled && a.desk_id == Some(desk_id)
                })
                .ok_or_else(|| AccountError::NoGrantor(g.username.to_string()))?;
            let key = desk::unlock(conn, account.id, g.password)
                .map_err(AccountError::Grant)?
                .ok_or(AccountError::Grant(DeskError::NotGranted))?;
            Some(key)
        }
        _ => None,
    };
    let tx = conn.transaction().map_err(StoreError::from)?;
    let desk = desk_for(&tx, role, desk_id)?;
    let id = staff::create(&tx, username, role, Some(&hash), desk)?;
    audit::record(
        &tx,
        actor,
        "account.create",
        &format!("staff:{id} role:{}", role.code()),
    )?;
    let mut added = Added {
        id,
        recovery: None,
        granted: false,
    };
    if let Some(desk_id) = desk {
        desk::new_own_key(&tx, id, password)?;
        match granted_key {
            Some(key) => {
                desk::grant_to(&tx, &key, id)?;
                audit::record(&tx, actor, "desk.grant", &format!("staff:{id}"))?;
                added.granted = true;
            }
            None if desk::public_key(&tx, desk_id)?.is_none() => {
                // `user add --password-stdin`: the operator's own account.
                added.recovery = Some(desk::create(&tx, desk_id, id, true)?);
                audit::record(
                    &tx,
                    actor,
                    "desk.create",
                    &format!("desk:{desk_id} staff:{id}"),
                )?;
                added.granted = true;
            }
            None => {}
        }
    }
    tx.commit().map_err(StoreError::from)?;
    Ok(added)
}

/// A one-time enrolment link's secret part, shown once; only its hash is stored.
pub struct LinkToken(zeroize::Zeroizing<String>);

impl LinkToken {
    /// The path to open: `/staff/enrol/<token>`.
    pub fn path(&self) -> String {
        format!("/staff/enrol/{}", self.0.as_str())
    }
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(..)")
    }
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A fresh link for account `id`, replacing any earlier one.
fn new_link(conn: &Connection, actor: &str, id: i64) -> Result<LinkToken, AccountError> {
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    let token = LinkToken(zeroize::Zeroizing::new(hex::encode(bytes)));
    staff::put_enrolment(
        conn,
        id,
        &token_hash(&token.0),
        now_unix() + LINK_HOURS * 3600,
        actor == OPERATOR,
    )?;
    audit::record(conn, actor, "account.link", &format!("staff:{id}"))?;
    Ok(token)
}

/// An account made with no password, and the link at which its holder sets one.
pub struct Invitation {
    pub id: i64,
    pub link: LinkToken,
}

/// Creates an account that has no password yet and a one-time link, valid 72 hours, at which
/// its holder sets their own (P5). An investigator joins desk `desk_id`.
pub fn invite(
    conn: &mut Connection,
    actor: &str,
    username: &str,
    role: Role,
    desk_id: i64,
) -> Result<Invitation, AccountError> {
    validate_username(username)?;
    let tx = conn.transaction().map_err(StoreError::from)?;
    let desk = desk_for(&tx, role, desk_id)?;
    let id = staff::create(&tx, username, role, None, desk)?;
    audit::record(
        &tx,
        actor,
        "account.invite",
        &format!("staff:{id} role:{}", role.code()),
    )?;
    let link = new_link(&tx, actor, id)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(Invitation { id, link })
}

/// An admin's reset of an account: a new enrolment link, and the account's password, own key
/// and grant destroyed (P5): whoever enrols through the link starts with no access to reports
/// until granted again in person. The caller ends the account's sessions.
pub fn reset(conn: &mut Connection, actor: &str, id: i64) -> Result<Invitation, AccountError> {
    let tx = conn.transaction().map_err(StoreError::from)?;
    staff::get(&tx, id)?;
    destroy_access(&tx, id)?;
    staff::set_disabled(&tx, id, false)?;
    audit::record(&tx, actor, "account.reset", &format!("staff:{id}"))?;
    let link = new_link(&tx, actor, id)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(Invitation { id, link })
}

/// The password, own key, grant and open links of an account, gone (`secure_delete` zeroes
/// their bytes).
fn destroy_access(conn: &Connection, id: i64) -> Result<(), AccountError> {
    staff::set_password_hash(conn, id, None)?;
    staff::delete_grant(conn, id)?;
    staff::delete_investigator_key(conn, id)?;
    staff::delete_enrolments(conn, id)?;
    Ok(())
}

/// The account an open link is for, if the link is live.
pub fn link_account(
    conn: &Connection,
    token: &str,
) -> Result<Option<staff::Account>, AccountError> {
    Ok(live_link(conn, token)?.map(|(account, _)| account))
}

/// The account a live link was made for, and whether the operator made the link.
fn live_link(
    conn: &Connection,
    token: &str,
) -> Result<Option<(staff::Account, bool)>, AccountError> {
    let Some(link) = staff::enrolment(conn, &token_hash(token))? else {
        return Ok(None);
    };
    if link.expires_at < now_unix() {
        return Ok(None);
    }
    Ok(Some(staff::get(conn, link.staff_id)?)
        .filter(|a| !a.disabled)
        .map(|a| (a, link.by_operator)))
}

/// What an enrolment did.
pub struct Enrolled {
    pub account: staff::Account,
    /// The recovery code, when this investigator created their desk's key: shown to them once.
    pub recovery: Option<RecoveryCode>,
    /// The fingerprint of their own new key (investigators), to read out to a colleague.
    pub fingerprint: Option<String>,
}

/// Enrols the account a live link was made for with the password its holder chose (P5): the
/// link dies; an investigator's own key pair is made here, and the first investigator of a
/// desk creates the desk key.
pub fn enrol(
    conn: &mut Connection,
    token: &str,
    new_password: &str,
) -> Result<Enrolled, AccountError> {
    password::check_policy(new_password)?;
    let hash = password::hash(new_password)?;
    let tx = conn.transaction().map_err(StoreError::from)?;
    let (account, by_operator) = live_link(&tx, token)?.ok_or(AccountError::DeadLink)?;
    let id = account.id;
    staff::delete_enrolments(&tx, id)?;
    staff::set_password_hash(&tx, id, Some(&hash))?;
    let actor = format!("staff:{id}");
    audit::record(&tx, &actor, "account.enrol", &actor)?;
    let mut enrolled = Enrolled {
        account,
        recovery: None,
        fingerprint: None,
    };
    if let Some(desk_id) = enrolled.account.desk_id {
        let public = desk::new_own_key(&tx, id, new_password)?;
        enrolled.fingerprint = Some(desk::fingerprint(&public));
        if desk::public_key(&tx, desk_id)?.is_none() {
            enrolled.recovery = Some(desk::create(&tx, desk_id, id, by_operator)?);
            audit::record(
                &tx,
                &actor,
                "desk.create",
                &format!("desk:{desk_id} staff:{id}"),
            )?;
        }
    }
    tx.commit().map_err(StoreError::from)?;
    Ok(enrolled)
}

/// Disables an account — its password, own key, grant and links are destroyed (P5), so
/// re-enabling it needs a new enrolment link — or re-enables one, returning that link.
pub fn set_disabled(
    conn: &mut Connection,
    actor: &str,
    id: i64,
    disabled: bool,
) -> Result<Option<Invitation>, AccountError> {
    let tx = conn.transaction().map_err(StoreError::from)?;
    staff::get(&tx, id)?;
    staff::set_disabled(&tx, id, disabled)?;
    let invitation = if disabled {
        destroy_access(&tx, id)?;
        audit::record(&tx, actor, "account.disable", &format!("staff:{id}"))?;
        None
    } else {
        audit::record(&tx, actor, "account.enable", &format!("staff:{id}"))?;
        Some(Invitation {
            id,
            link: new_link(&tx, actor, id)?,
        })
    };
    tx.commit().map_err(StoreError::from)?;
    Ok(invitation)
}
