//! The investigation desk's key hierarchy (P5): one X25519 key pair; its public half in the
//! database for sealing; its private half only wrapped (per investigator, and under the
//! printed recovery code) and, for an open session, in memory.

use rand::rngs::OsRng;
use rusqlite::Connection;

use crate::crypto::{
    wrapping, CryptoError, DeskKeyPair, DeskPublicKey, DeskSecretKey, RecoveryCode, WrapParams,
};
use crate::store::{meta, staff, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("the desk key does not exist yet: create the first investigator")]
    NoDeskKey,
    #[error("the desk key already exists")]
    AlreadyExists,
    #[error("no desk key is held for this account")]
    NotGranted,
    #[error("wrong password or recovery code")]
    WrongSecret,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The public key that reports are sealed to, if the desk exists.
pub fn public_key(conn: &Connection) -> Result<Option<DeskPublicKey>, StoreError> {
    Ok(meta::get(conn, meta::DESK_PUBLIC_KEY)?
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(DeskPublicKey::from_bytes))
}

fn label(holder: &str) -> Vec<u8> {
    format!("jianfu desk key v1|{holder}").into_bytes()
}

/// Creates the desk key pair for the first investigator; returns the recovery code, to be
/// shown once.
pub fn create(conn: &Connection, staff_id: i64, password: &str) -> Result<RecoveryCode, DeskError> {
    if public_key(conn)?.is_some() {
        return Err(DeskError::AlreadyExists);
    }
    let pair = DeskKeyPair::generate(&mut OsRng);
    let recovery = RecoveryCode::generate(&mut OsRng);
    grant_to(conn, &pair.secret, staff_id, password)?;
    let holder = staff::RECOVERY_HOLDER;
    let w = wrapping::wrap(
        recovery.expose().as_bytes(),
        &pair.secret.to_bytes(),
        &label(holder),
        WrapParams::DESK,
        &mut OsRng,
    )?;
    staff::put_wrap(conn, holder, None, &w)?;
    meta::set(conn, meta::DESK_PUBLIC_KEY, pair.public.as_bytes())?;
    Ok(recovery)
}

/// Wraps the desk key for `staff_id` under `password` (a grant, or a re-wrap).
pub fn grant_to(
    conn: &Connection,
    desk: &DeskSecretKey,
    staff_id: i64,
    password: &str,
) -> Result<(), DeskError> {
    let holder = staff::holder_for(staff_id);
    let w = wrapping::wrap(
        password.as_bytes(),
        &desk.to_bytes(),
        &label(&holder),
        WrapParams::DESK,
        &mut OsRng,
    )?;
    staff::put_wrap(conn, &holder, Some(staff_id), &w)?;
    Ok(())
}

/// Unwraps the desk key with an investigator's password.
pub fn unlock(
    conn: &Connection,
    staff_id: i64,
    password: &str,
) -> Result<DeskSecretKey, DeskError> {
    unlock_holder(conn, &staff::holder_for(staff_id), password.as_bytes())
}

/// Unwraps the desk key with the recovery code.
pub fn unlock_with_recovery(
    conn: &Connection,
    code: &RecoveryCode,
) -> Result<DeskSecretKey, DeskError> {
    unlock_holder(conn, staff::RECOVERY_HOLDER, code.expose().as_bytes())
}

fn unlock_holder(
    conn: &Connection,
    holder: &str,
    secret: &[u8],
) -> Result<DeskSecretKey, DeskError> {
    let expected = public_key(conn)?.ok_or(DeskError::NoDeskKey)?;
    let wrapped = staff::get_wrap(conn, holder)?.ok_or(DeskError::NotGranted)?;
    let bytes = wrapping::unwrap(secret, &wrapped, &label(holder)).map_err(|e| match e {
        CryptoError::Decrypt => DeskError::WrongSecret,
        e => DeskError::Crypto(e),
    })?;
    let key = DeskSecretKey::from_bytes(bytes);
    if key.public_key() != expected {
        return Err(DeskError::Crypto(CryptoError::Malformed));
    }
    Ok(key)
}

/// A released report, decrypted for an unlocked session or an export. Serializes with the
/// keys of `jianfu reports export` (SPEC §3.1).
#[derive(Debug, serde::Serialize)]
pub struct OpenedReport {
    pub id: String,
    pub category: crate::domain::Category,
    pub channel: crate::domain::Channel,
    pub department: String,
    pub township: String,
    pub occurred: crate::domain::Month,
    pub listed: crate::domain::Listed,
    pub body: String,
    pub released: String,
    pub status: crate::domain::ReportStatus,
}

impl Drop for OpenedReport {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.department.zeroize();
        self.township.zeroize();
        self.body.zeroize();
    }
}

/// Opens one stored report with the desk key.
pub fn open_report(
    key: &DeskSecretKey,
    stored: &crate::store::reports::StoredReport,
) -> Result<OpenedReport, DeskError> {
    let plain = crate::crypto::open(key, &stored.sealed)?;
    let report: crate::domain::Report =
        serde_json::from_slice(&plain).map_err(|_| DeskError::Crypto(CryptoError::Malformed))?;
    Ok(OpenedReport {
        id: stored.id.to_string(),
        category: report.category,
        channel: report.channel,
        department: report.department.clone(),
        township: report.township.clone(),
        occurred: report.occurred,
        listed: report.listed,
        body: report.body.clone(),
        released: stored.released_on.clone(),
        status: stored.status,
    })
}
