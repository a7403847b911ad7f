//! Reports boxed again under the desk's own symmetric key (P5; SPEC §4, unlock ≤ 5 s).
//!
//! A report arrives sealed to the desk public key, and opening a sealed box costs an X25519
//! agreement: about 60 µs on the development machine, six seconds for 100,000 reports at every
//! unlock. So the first session that opens a sealed report boxes it again under a key derived
//! from the desk private key (HKDF-SHA256), with XChaCha20-Poly1305, a random nonce and the
//! report's id as associated data; later unlocks are symmetric only. The plaintext is padded to
//! the same size bucket as before. Whoever lacks the desk key opens neither form.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::{CryptoRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{padding, CryptoError, SecretKey};

const NONCE_LEN: usize = 24;
const INFO: &[u8] = b"jianfu desk box v1";

/// The symmetric key derived from the desk private key; zeroized on drop, never printed.
pub struct BoxKey(Zeroizing<[u8; 32]>);

impl BoxKey {
    pub fn derive(desk: &SecretKey) -> BoxKey {
        let secret = desk.to_bytes();
        let mut key = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, secret.as_ref())
            .expand(INFO, key.as_mut())
            // Invariant: 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
            .expect("HKDF output length is valid");
        BoxKey(key)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.0.as_ref()))
    }
}

impl std::fmt::Debug for BoxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxKey(..)")
    }
}

fn associated_data(id: i64) -> [u8; 8] {
    id.to_le_bytes()
}

/// Pads and boxes a report's plaintext for the row `id`: `nonce || ciphertext`.
pub fn seal<R: RngCore + CryptoRng>(
    key: &BoxKey,
    id: i64,
    plaintext: &[u8],
    rng: &mut R,
) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let padded = padding::pad(plaintext);
    let ciphertext = key
        .cipher()
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: padded.as_slice(),
                aad: &associated_data(id),
            },
        )
        // Invariant: XChaCha20-Poly1305 fails only past 256 GiB; a report is at most 64 KiB.
        .expect("plaintext within the AEAD's length limit");
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// Opens the box of row `id`; a box moved to another row does not open.
pub fn open(key: &BoxKey, id: i64, boxed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if boxed.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Malformed);
    }
    let (nonce, ciphertext) = boxed.split_at(NONCE_LEN);
    let padded = Zeroizing::new(
        key.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &associated_data(id),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?,
    );
    Ok(Zeroizing::new(padding::unpad(&padded)?.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;
    use rand::rngs::OsRng;

    #[test]
    fn boxes_open_for_their_row_under_the_desk_key_only() {
        let desk = KeyPair::generate(&mut OsRng);
        let key = BoxKey::derive(&desk.secret);
        let boxed = seal(&key, 42, "清单外事项".as_bytes(), &mut OsRng);
        assert_eq!(
            boxed.len(),
            24 + 1024 + 16,
            "the same size bucket as a sealed box"
        );
        assert_eq!(
            open(&key, 42, &boxed).unwrap().as_slice(),
            "清单外事项".as_bytes()
        );
        assert!(open(&key, 43, &boxed).is_err(), "moved to another row");
        let other = BoxKey::derive(&KeyPair::generate(&mut OsRng).secret);
        assert!(open(&other, 42, &boxed).is_err());
        let mut flipped = boxed.clone();
        flipped[30] ^= 1;
        assert!(open(&key, 42, &flipped).is_err());
        assert!(open(&key, 42, &boxed[..30]).is_err());
    }

    #[test]
    fn the_same_desk_key_derives_the_same_box_key() {
        let desk = KeyPair::generate(&mut OsRng);
        let again = SecretKey::from_bytes(desk.secret.to_bytes());
        let boxed = seal(&BoxKey::derive(&desk.secret), 7, b"report", &mut OsRng);
        assert!(open(&BoxKey::derive(&again), 7, &boxed).is_ok());
        assert_eq!(format!("{:?}", BoxKey::derive(&again)), "BoxKey(..)");
    }
}
