//! What investigators write about a task (a case, 事项), sealed to their desk's key like notes
//! (P5): an admin with every file and every console power reads none of it. Only the text
//! written for the public, once published, is stored plain.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::DeskError;
use rand::rngs::OsRng;

use crate::crypto::{sealing, CryptoError, Purpose, SecretKey};
use crate::store::cases::SealedCase;
use crate::store::desks;

/// A case's own fields, as sealed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct CaseText {
    pub title: String,
    /// The department that assigned the task.
    pub department: String,
    /// Whether the task is on the admission list: `on`, `off` or `unknown`.
    pub listed: String,
    pub screening_code: String,
    /// The month the task was assigned (`YYYY-MM`), if known.
    pub month: String,
}

/// Seals a case's fields to desk `desk_id`'s current key and, for a district desk, to the city
/// desk's current key as well (P11), so the city desk reads the districts' cases.
pub fn seal_case(
    conn: &Connection,
    desk_id: i64,
    text: &CaseText,
) -> Result<SealedCase, DeskError> {
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(text).map_err(|_| DeskError::Crypto(CryptoError::Malformed))?,
    );
    let own = super::seal_text(conn, desk_id, Purpose::Case, &json)?;
    let city = desks::city(conn)?;
    let city = match city.public_key {
        Some(key) if city.id != desk_id => {
            Some(sealing::seal(&key, Purpose::Case, &json, &mut OsRng))
        }
        _ => None,
    };
    Ok(SealedCase { own, city })
}

/// Opens a case's fields with the desk key.
pub fn open_case(key: &SecretKey, sealed: &[u8]) -> Result<CaseText, DeskError> {
    let plain = sealing::open(key, Purpose::Case, sealed)?;
    serde_json::from_slice(&plain).map_err(|_| DeskError::Crypto(CryptoError::Malformed))
}
