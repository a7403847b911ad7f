//! The investigation desks' key hierarchy (P5, P11). Each desk has one X25519 key pair: its
//! public half in the database, for sealing reports; its private half never stored in the
//! clear. Each investigator has a key pair of their own, made when they enrol and again at
//! every password change, wrapped under a key derived from their password (Argon2id). A
//! *grant* is the desk private key sealed to an investigator's own public key, so an
//! investigator with an open session can grant another without knowing their password — after
//! checking the other's key fingerprint in person. The desk key is also wrapped once under the
//! printed recovery code, and it can be rotated: everything sealed to it is sealed again.

use rand::rngs::OsRng;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::crypto::desk_box::{self, BoxKey};
use crate::crypto::{
    sealing, wrapping, CryptoError, KeyPair, PublicKey, Purpose, RecoveryCode, SecretKey,
    WrapParams,
};
use crate::store::{desks, staff, StoreError};

pub mod approval;
mod cases;
pub mod directory;
mod reports;

pub use cases::{open_case, seal_case, CaseText};
use reports::open_plaintext;
pub use reports::{open_report, open_report_reboxing, OpenedReport};

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("the desk key does not exist yet: its first investigator must enrol")]
    NoDeskKey,
    #[error("the desk key already exists")]
    AlreadyExists,
    #[error("this account has no investigator key (it has not enrolled)")]
    NotEnrolled,
    #[error("this investigator has not been granted the desk key yet")]
    NotGranted,
    #[error("wrong password or recovery code")]
    WrongSecret,
    #[error("the desk key was rotated: sign in again")]
    Rotated,
    #[error("the fingerprint does not match the recipient's key")]
    FingerprintMismatch,
    #[error("the desk was changed after the page was shown")]
    Changed,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A public key's fingerprint as people read it aloud: 80 bits of SHA-256 in four groups of
/// four Crockford base-32 characters (no I, L, O or U).
pub fn fingerprint(key: &PublicKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let alphabet = crate::domain::card_code::ALPHABET;
    let mut bits = 0u32;
    let mut held = 0u32;
    let mut out = String::with_capacity(19);
    for &byte in &digest[..10] {
        bits = (bits << 8) | u32::from(byte);
        held += 8;
        while held >= 5 {
            held -= 5;
            if out.len() % 5 == 4 {
                out.push('-');
            }
            out.push(alphabet[((bits >> held) & 31) as usize] as char);
        }
    }
    out
}

/// The public key that reports to `desk_id` are sealed to, if the desk has one yet.
pub fn public_key(conn: &Connection, desk_id: i64) -> Result<Option<PublicKey>, StoreError> {
    Ok(desks::get(conn, desk_id)?.public_key)
}

fn own_key_label(staff_id: i64) -> Vec<u8> {
    format!("jianfu investigator key v1|staff:{staff_id}").into_bytes()
}

fn recovery_label(desk_id: i64) -> Vec<u8> {
    format!("jianfu desk key v2|recovery|desk:{desk_id}").into_bytes()
}

/// Gives an investigator a fresh key pair of their own, wrapped under `password` (when they
/// enrol); the old one, and any grant sealed to it, are deleted.
pub fn new_own_key(
    conn: &Connection,
    staff_id: i64,
    password: &str,
) -> Result<PublicKey, DeskError> {
    let pair = KeyPair::generate(&mut OsRng);
    let w = wrapping::wrap(
        password.as_bytes(),
        &pair.secret.to_bytes(),
        &own_key_label(staff_id),
        WrapParams::DESK,
        &mut OsRng,
    )?;
    staff::delete_grant(conn, staff_id)?;
    staff::put_investigator_key(conn, staff_id, pair.public.as_bytes(), &w)?;
    Ok(pair.public)
}

/// The fingerprint of an investigator's own key, if they have one.
pub fn own_fingerprint(conn: &Connection, staff_id: i64) -> Result<Option<String>, DeskError> {
    Ok(staff::investigator_key(conn, staff_id)?
        .map(|(public, _)| fingerprint(&PublicKey::from_bytes(public))))
}

/// P5: a password change gives the investigator a new own key. The desk key is granted again
/// to the new key in the caller's transaction, and the old wrap and grant are deleted, so the
/// old password and a copy of the files taken before open nothing granted afterwards.
pub fn change_password(
    conn: &Connection,
    staff_id: i64,
    old: &str,
    new: &str,
) -> Result<(), DeskError> {
    let desk_key = unlock(conn, staff_id, old)?;
    new_own_key(conn, staff_id, new)?;
    if let Some(key) = desk_key {
        grant_to(conn, &key, staff_id)?;
    }
    Ok(())
}

/// Wraps a desk key under a fresh recovery code; returns the code, to be shown once.
fn new_recovery(
    conn: &Connection,
    desk_id: i64,
    key: &SecretKey,
) -> Result<RecoveryCode, DeskError> {
    let recovery = RecoveryCode::generate(&mut OsRng);
    let w = wrapping::wrap(
        recovery.expose().as_bytes(),
        &key.to_bytes(),
        &recovery_label(desk_id),
        WrapParams::DESK,
        &mut OsRng,
    )?;
    desks::put_recovery(conn, desk_id, &w)?;
    Ok(recovery)
}

/// Creates desk `desk_id`'s key pair and grants it to `staff_id` (already enrolled); returns
/// the recovery code, to be shown once, to that investigator only. `by_operator`: the account
/// was made, or its link, on the server's command line — an operator's approval of the desk
/// then covers this key (P5, P11: a console link's first key needs the city desk's approval).
pub fn create(
    conn: &Connection,
    desk_id: i64,
    staff_id: i64,
    by_operator: bool,
) -> Result<RecoveryCode, DeskError> {
    if public_key(conn, desk_id)?.is_some() {
        return Err(DeskError::AlreadyExists);
    }
    let pair = KeyPair::generate(&mut OsRng);
    let recovery = new_recovery(conn, desk_id, &pair.secret)?;
    desks::set_public_key(conn, desk_id, &pair.public)?;
    if by_operator {
        approval::key_created(conn, desk_id, &pair.public)?;
    }
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

/// P5: a grant after the check in person: `typed` must be the first group of the recipient's
/// own key fingerprint, as they read it from their own screen.
pub fn grant_checked(
    conn: &Connection,
    desk: &SecretKey,
    staff_id: i64,
    typed: &str,
) -> Result<(), DeskError> {
    let expected = own_fingerprint(conn, staff_id)?.ok_or(DeskError::NotEnrolled)?;
    if !first_group_matches(&expected, typed) {
        return Err(DeskError::FingerprintMismatch);
    }
    grant_to(conn, desk, staff_id)
}

/// Whether `typed` is the first group of `fingerprint`, as a person reads it out: case,
/// spaces and hyphens ignored, O read as 0 and I or L as 1.
fn first_group_matches(fingerprint: &str, typed: &str) -> bool {
    let typed: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    typed.len() == 4 && fingerprint.starts_with(&typed)
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

/// The desk an investigator belongs to.
fn desk_of(conn: &Connection, staff_id: i64) -> Result<i64, DeskError> {
    staff::get(conn, staff_id)?
        .desk_id
        .ok_or(DeskError::NotEnrolled)
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
    checked(
        conn,
        desk_of(conn, staff_id)?,
        SecretKey::from_bytes(Zeroizing::new(bytes)),
    )
    .map(Some)
}

/// Unwraps a desk's key with its recovery code.
pub fn unlock_with_recovery(
    conn: &Connection,
    desk_id: i64,
    code: &RecoveryCode,
) -> Result<SecretKey, DeskError> {
    let wrapped = desks::recovery(conn, desk_id)?.ok_or(DeskError::NoDeskKey)?;
    let bytes = wrapping::unwrap(code.expose().as_bytes(), &wrapped, &recovery_label(desk_id))
        .map_err(wrong_secret)?;
    checked(conn, desk_id, SecretKey::from_bytes(bytes))
}

/// The unwrapped key must be the desk's current one.
fn checked(conn: &Connection, desk_id: i64, key: SecretKey) -> Result<SecretKey, DeskError> {
    is_current(conn, desk_id, &key)?;
    Ok(key)
}

/// Whether `key` is still desk `desk_id`'s key: a session unlocked before a rotation holds the
/// old one, which opens nothing released since (`DeskError::Rotated`).
pub fn is_current(conn: &Connection, desk_id: i64, key: &SecretKey) -> Result<(), DeskError> {
    let expected = public_key(conn, desk_id)?.ok_or(DeskError::NoDeskKey)?;
    if key.public_key() != expected {
        return Err(DeskError::Rotated);
    }
    Ok(())
}

/// What a rotation sealed again.
#[derive(Debug, Default, Clone, Copy)]
pub struct Rotated {
    pub reports: usize,
    pub notes: usize,
    pub cases: usize,
    // P3: no count of the pending reports sealed again — the audit row and the outputs that
    // report a rotation would otherwise be a live counter of the pending pool.
    pub grants: usize,
}

/// P5: rotates desk `desk_id`'s key (after an investigator leaves, or on suspicion), in the
/// caller's transaction: a new key pair; every released report boxed under the new key, every
/// note and case sealed to it, every pending report sealed to its public half (so filings
/// switch with the commit); the grants of every enabled investigator who held one renewed; a
/// new recovery code, returned to be shown once. `old` is dropped, and so zeroized, by the
/// caller. `progress(done, total)` is called now and then.
pub fn rotate(
    conn: &Connection,
    desk_id: i64,
    old: &SecretKey,
    mut progress: impl FnMut(usize, usize),
) -> Result<(RecoveryCode, Rotated), DeskError> {
    is_current(conn, desk_id, old)?;
    let new = KeyPair::generate(&mut OsRng);
    let (old_box, new_box) = (BoxKey::derive(old), BoxKey::derive(&new.secret));
    let mut done = Rotated::default();
    let ids = crate::store::reports::ids_of_desk(conn, desk_id)?;
    let total = ids.len();
    for chunk in ids.chunks(500) {
        for &id in chunk {
            let stored = crate::store::reports::get(conn, id)?;
            let plain = open_plaintext(old, &old_box, &stored)?;
            let boxed = desk_box::seal(&new_box, id, &plain, &mut OsRng);
            crate::store::reports::replace_sealed(conn, id, &boxed)?;
        }
        done.reports += chunk.len();
        progress(done.reports, total);
    }
    for (id, sealed) in crate::store::reports::notes_of_desk(conn, desk_id)? {
        let text = sealing::open(old, Purpose::Note, &sealed)?;
        let again = sealing::seal(&new.public, Purpose::Note, &text, &mut OsRng);
        crate::store::reports::replace_note(conn, id, &again)?;
        done.notes += 1;
    }
    for (id, sealed) in crate::store::cases::sealed_of_desk(conn, desk_id)? {
        let text = sealing::open(old, Purpose::Case, &sealed)?;
        let again = sealing::seal(&new.public, Purpose::Case, &text, &mut OsRng);
        crate::store::cases::replace_sealed(conn, id, &again)?;
        done.cases += 1;
    }
    // P11: the districts' cases as sealed to the city desk follow the city desk's key.
    if desks::get(conn, desk_id)?.is_city() {
        for (id, sealed) in crate::store::cases::sealed_for_city(conn)? {
            let text = sealing::open(old, Purpose::Case, &sealed)?;
            let again = sealing::seal(&new.public, Purpose::Case, &text, &mut OsRng);
            crate::store::cases::replace_sealed_city(conn, id, &again)?;
            done.cases += 1;
        }
    }
    for (id, filed) in crate::store::pending::of_desk(conn, desk_id)? {
        let plain = sealing::open(old, Purpose::Report, &filed)?;
        let again = sealing::seal(&new.public, Purpose::Report, &plain, &mut OsRng);
        crate::store::pending::replace_sealed(conn, id, &again)?;
    }
    for member in staff::desk_members(conn, desk_id)? {
        if member.granted {
            grant_to(conn, &new.secret, member.id)?;
            done.grants += 1;
        }
    }
    let recovery = new_recovery(conn, desk_id, &new.secret)?;
    desks::set_public_key(conn, desk_id, &new.public)?;
    approval::key_rotated(conn, desk_id, &old.public_key(), &new.public)?;
    Ok((recovery, done))
}

/// Seals what an investigator writes (a note, a case's fields) to their desk's current
/// public key (P5): read from the database, so text written after a rotation is sealed to the
/// new key whatever the writer's session holds.
pub fn seal_text(
    conn: &Connection,
    desk_id: i64,
    purpose: Purpose,
    text: &[u8],
) -> Result<Vec<u8>, DeskError> {
    let desk = public_key(conn, desk_id)?.ok_or(DeskError::NoDeskKey)?;
    Ok(sealing::seal(&desk, purpose, text, &mut OsRng))
}

/// Opens a note with the desk key.
pub fn open_note(key: &SecretKey, sealed: &[u8]) -> Result<String, DeskError> {
    let plain = sealing::open(key, Purpose::Note, sealed)?;
    String::from_utf8(plain.to_vec()).map_err(|_| DeskError::Crypto(CryptoError::Malformed))
}
