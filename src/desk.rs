//! The investigation desk's key hierarchy (P5). The desk has one X25519 key pair: its public
//! half in the database, for sealing reports; its private half never stored in the clear.
//! Each investigator has a key pair of their own, wrapped under a key derived from their
//! password (Argon2id). A *grant* is the desk private key sealed to an investigator's own
//! public key, so an investigator with an open session can grant another without knowing
//! their password. The desk key is also wrapped once under the printed recovery code.

use rand::rngs::OsRng;
use rusqlite::Connection;
use zeroize::Zeroizing;

use crate::crypto::desk_box::{self, BoxKey};
use crate::crypto::{
    sealing, wrapping, CryptoError, KeyPair, PublicKey, Purpose, RecoveryCode, SecretKey,
    WrapParams,
};
use crate::store::reports::{Boxed, StoredReport};
use crate::store::{meta, staff, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("the desk key does not exist yet: create the first investigator")]
    NoDeskKey,
    #[error("the desk key already exists")]
    AlreadyExists,
    #[error("this account has no investigator key")]
    NotEnrolled,
    #[error("this investigator has not been granted the desk key yet")]
    NotGranted,
    #[error("wrong password or recovery code")]
    WrongSecret,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The public key that reports are sealed to, if the desk exists.
pub fn public_key(conn: &Connection) -> Result<Option<PublicKey>, StoreError> {
    Ok(meta::get(conn, meta::DESK_PUBLIC_KEY)?
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(PublicKey::from_bytes))
}

fn own_key_label(staff_id: i64) -> Vec<u8> {
    format!("jianfu investigator key v1|staff:{staff_id}").into_bytes()
}

const RECOVERY_LABEL: &[u8] = b"jianfu desk key v1|recovery";

/// Gives an investigator a fresh key pair of their own, wrapped under `password` (at creation
/// and at a password reset). An earlier grant is removed: it was sealed to the old key.
pub fn enrol(conn: &Connection, staff_id: i64, password: &str) -> Result<(), DeskError> {
    let pair = KeyPair::generate(&mut OsRng);
    let w = wrapping::wrap(
        password.as_bytes(),
        &pair.secret.to_bytes(),
        &own_key_label(staff_id),
        WrapParams::DESK,
        &mut OsRng,
    )?;
    staff::put_investigator_key(conn, staff_id, pair.public.as_bytes(), &w)?;
    staff::delete_grant(conn, staff_id)?;
    Ok(())
}

/// Re-wraps an investigator's own key under a new password; their grant stays valid.
pub fn rewrap(conn: &Connection, staff_id: i64, old: &str, new: &str) -> Result<(), DeskError> {
    let own = own_key(conn, staff_id, old)?;
    let w = wrapping::wrap(
        new.as_bytes(),
        &own.to_bytes(),
        &own_key_label(staff_id),
        WrapParams::DESK,
        &mut OsRng,
    )?;
    staff::put_investigator_key(conn, staff_id, own.public_key().as_bytes(), &w)?;
    Ok(())
}

/// Creates the desk key pair and grants it to `staff_id` (already enrolled); returns the
/// recovery code, to be shown once.
pub fn create(conn: &Connection, staff_id: i64) -> Result<RecoveryCode, DeskError> {
    if public_key(conn)?.is_some() {
        return Err(DeskError::AlreadyExists);
    }
    let pair = KeyPair::generate(&mut OsRng);
    let recovery = RecoveryCode::generate(&mut OsRng);
    let w = wrapping::wrap(
        recovery.expose().as_bytes(),
        &pair.secret.to_bytes(),
        RECOVERY_LABEL,
        WrapParams::DESK,
        &mut OsRng,
    )?;
    staff::put_recovery(conn, &w)?;
    meta::set(conn, meta::DESK_PUBLIC_KEY, pair.public.as_bytes())?;
    grant_to(conn, &pair.secret, staff_id)?;
    Ok(recovery)
}

/// Seals the desk key to an investigator's own public key.
pub fn grant_to(conn: &Connection, desk: &SecretKey, staff_id: i64) -> Result<(), DeskError> {
    let (public, _) = staff::investigator_key(conn, staff_id)?.ok_or(DeskError::NotEnrolled)?;
    let sealed = sealing::seal(
        &PublicKey::from_bytes(public),
        Purpose::Grant,
        desk.to_bytes().as_ref(),
        &mut OsRng,
    );
    staff::put_grant(conn, staff_id, &sealed)?;
    Ok(())
}

fn own_key(conn: &Connection, staff_id: i64, password: &str) -> Result<SecretKey, DeskError> {
    let (_, wrapped) = staff::investigator_key(conn, staff_id)?.ok_or(DeskError::NotEnrolled)?;
    let bytes = wrapping::unwrap(password.as_bytes(), &wrapped, &own_key_label(staff_id))
        .map_err(wrong_secret)?;
    Ok(SecretKey::from_bytes(bytes))
}

fn wrong_secret(e: CryptoError) -> DeskError {
    match e {
        CryptoError::Decrypt => DeskError::WrongSecret,
        e => DeskError::Crypto(e),
    }
}

/// Unwraps the desk key for an investigator: password → own key → grant → desk key.
/// `Ok(None)` when the investigator has not been granted the desk key yet.
pub fn unlock(
    conn: &Connection,
    staff_id: i64,
    password: &str,
) -> Result<Option<SecretKey>, DeskError> {
    let own = own_key(conn, staff_id, password)?;
    let Some(sealed) = staff::grant(conn, staff_id)? else {
        return Ok(None);
    };
    let bytes = sealing::open(&own, Purpose::Grant, &sealed)?;
    let bytes: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::Malformed)?;
    checked(conn, SecretKey::from_bytes(Zeroizing::new(bytes))).map(Some)
}

/// Unwraps the desk key with the recovery code.
pub fn unlock_with_recovery(
    conn: &Connection,
    code: &RecoveryCode,
) -> Result<SecretKey, DeskError> {
    let wrapped = staff::recovery(conn)?.ok_or(DeskError::NoDeskKey)?;
    let bytes = wrapping::unwrap(code.expose().as_bytes(), &wrapped, RECOVERY_LABEL)
        .map_err(wrong_secret)?;
    checked(conn, SecretKey::from_bytes(bytes))
}

/// The unwrapped key must be the desk's.
fn checked(conn: &Connection, key: SecretKey) -> Result<SecretKey, DeskError> {
    let expected = public_key(conn)?.ok_or(DeskError::NoDeskKey)?;
    if key.public_key() != expected {
        return Err(DeskError::Crypto(CryptoError::Malformed));
    }
    Ok(key)
}

/// A released report, decrypted for an unlocked session or an export. Serializes with the
/// keys of `jianfu reports export` (SPEC §3.1).
#[derive(Debug, Clone, serde::Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_item: Option<String>,
    /// The desk's own fields; not part of the export (SPEC §3.1 keys).
    #[serde(skip)]
    pub assignee: Option<i64>,
    #[serde(skip)]
    pub case_id: Option<i64>,
    /// The strings statistics count by, as numbers into the session's `queue::Labels`.
    #[serde(skip)]
    pub facets: crate::queue::Facets,
}

impl Drop for OpenedReport {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.department.zeroize();
        self.township.zeroize();
        self.body.zeroize();
        self.certificate.zeroize();
        self.admission_item.zeroize();
    }
}

/// Opens one stored report with the desk key, in whichever box it is stored.
pub fn open_report(
    key: &SecretKey,
    box_key: &BoxKey,
    stored: &StoredReport,
) -> Result<OpenedReport, DeskError> {
    decode_report(&open_plaintext(key, box_key, stored)?, stored)
}

/// Opens a released report and, if it is still sealed to the desk public key as released, boxes
/// it again under the desk key (`crypto::desk_box`) so that later unlocks are quick.
pub fn open_report_reboxing(
    key: &SecretKey,
    box_key: &BoxKey,
    stored: &StoredReport,
) -> Result<(OpenedReport, Option<Vec<u8>>), DeskError> {
    let plain = open_plaintext(key, box_key, stored)?;
    let reboxed = (stored.boxed == Boxed::Public)
        .then(|| desk_box::seal(box_key, stored.id, &plain, &mut OsRng));
    Ok((decode_report(&plain, stored)?, reboxed))
}

fn open_plaintext(
    key: &SecretKey,
    box_key: &BoxKey,
    stored: &StoredReport,
) -> Result<Zeroizing<Vec<u8>>, DeskError> {
    Ok(match stored.boxed {
        Boxed::Desk => desk_box::open(box_key, stored.id, &stored.sealed)?,
        // Sealed again at the release (P2): the outer box holds the box it was filed in.
        Boxed::Public => {
            let filed = sealing::open_released(key, &stored.sealed)?;
            sealing::open(key, Purpose::Report, &filed)?
        }
    })
}

fn decode_report(plain: &[u8], stored: &StoredReport) -> Result<OpenedReport, DeskError> {
    let mut report: crate::domain::Report =
        serde_json::from_slice(plain).map_err(|_| DeskError::Crypto(CryptoError::Malformed))?;
    // Moved, not copied: `Report` zeroizes what is left in it when dropped.
    let take = std::mem::take::<String>;
    Ok(OpenedReport {
        id: stored.id.to_string(),
        category: report.category,
        channel: report.channel,
        department: take(&mut report.department),
        township: take(&mut report.township),
        occurred: report.occurred,
        listed: report.listed,
        body: take(&mut report.body),
        released: stored.released_on.clone(),
        status: stored.status,
        certificate: report.certificate.take(),
        admission_item: report.admission_item.take(),
        assignee: stored.assignee,
        case_id: stored.case_id,
        facets: Default::default(),
    })
}

/// Seals an investigator's note to the desk key (P5).
pub fn seal_note(conn: &Connection, text: &str) -> Result<Vec<u8>, DeskError> {
    let desk = public_key(conn)?.ok_or(DeskError::NoDeskKey)?;
    Ok(sealing::seal(
        &desk,
        Purpose::Note,
        text.as_bytes(),
        &mut OsRng,
    ))
}

/// Opens a note with the desk key.
pub fn open_note(key: &SecretKey, sealed: &[u8]) -> Result<String, DeskError> {
    let plain = sealing::open(key, Purpose::Note, sealed)?;
    String::from_utf8(plain.to_vec()).map_err(|_| DeskError::Crypto(CryptoError::Malformed))
}
