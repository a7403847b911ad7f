//! Sealed boxes to the desk public key (P5), ECIES-style: an ephemeral X25519 key agreement
//! (RFC 7748), HKDF-SHA256 (RFC 5869) bound to both public keys, and ChaCha20-Poly1305
//! (RFC 8439). Each ephemeral key seals exactly one message, so, as in age, the AEAD key is
//! never reused and the fixed zero nonce is safe.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::{CryptoRng, RngCore};
use sha2::Sha256;
use x25519_dalek::{EphemeralSecret, PublicKey as X25519Public};
use zeroize::Zeroizing;

use super::{padding, CryptoError, PublicKey, SecretKey};

const EPHEMERAL_LEN: usize = 32;

/// What a sealed box is for: bound into the key derivation, so a box made for one purpose
/// never opens as another.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// A report, sealed to the desk key.
    Report,
    /// A grant: the desk private key, sealed to an investigator's own key.
    Grant,
    /// An investigator's note on a report, sealed to the desk key.
    Note,
    /// What investigators write about a task (a case's title, department, …), sealed to the
    /// desk key.
    Case,
    /// A report sealed again at its release (P2): the outer layer over the box it was filed
    /// in, under a fresh ephemeral key, so no byte of the pending ciphertext is released.
    Release,
}

impl Purpose {
    fn info(self) -> &'static [u8] {
        match self {
            Purpose::Report => b"jianfu report seal v1",
            Purpose::Grant => b"jianfu desk grant v1",
            Purpose::Note => b"jianfu desk note v1",
            Purpose::Release => b"jianfu report release v1",
            Purpose::Case => b"jianfu desk case v1",
        }
    }
}

/// Pads and seals `plaintext` to `recipient`: `ephemeral public key || ciphertext`.
pub fn seal<R: RngCore + CryptoRng>(
    recipient: &PublicKey,
    purpose: Purpose,
    plaintext: &[u8],
    rng: &mut R,
) -> Vec<u8> {
    seal_exact(recipient, purpose, &padding::pad(plaintext), rng)
}

/// Seals a report again at its release (P2): `sealed`, already padded and sealed to the desk,
/// goes inside a new box to `recipient` under a fresh ephemeral key, without more padding (its
/// size bucket stays one per filed bucket). Nothing of `sealed` can be found in the result.
pub fn reseal<R: RngCore + CryptoRng>(
    recipient: &PublicKey,
    sealed: &[u8],
    rng: &mut R,
) -> Vec<u8> {
    seal_exact(recipient, Purpose::Release, sealed, rng)
}

/// Opens a report sealed again at its release: the box it was filed in.
pub fn open_released(secret: &SecretKey, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    open_exact(secret, Purpose::Release, sealed)
}

fn seal_exact<R: RngCore + CryptoRng>(
    recipient: &PublicKey,
    purpose: Purpose,
    padded: &[u8],
    rng: &mut R,
) -> Vec<u8> {
    let ephemeral = EphemeralSecret::random_from_rng(rng);
    let ephemeral_public = X25519Public::from(&ephemeral);
    let shared = ephemeral.diffie_hellman(&recipient.0);
    let key = derive_key(
        purpose,
        shared.as_bytes(),
        ephemeral_public.as_bytes(),
        recipient.as_bytes(),
    );
    let ciphertext = ChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
        .encrypt(Nonce::from_slice(&[0u8; 12]), padded)
        // Invariant: ChaCha20-Poly1305 fails only past 256 GiB; a report is at most 64 KiB.
        .expect("plaintext within the AEAD's length limit");
    let mut out = Vec::with_capacity(EPHEMERAL_LEN + ciphertext.len());
    out.extend_from_slice(ephemeral_public.as_bytes());
    out.extend_from_slice(&ciphertext);
    out
}

/// Opens a sealed box with the desk secret key; returns the unpadded plaintext.
pub fn open(
    secret: &SecretKey,
    purpose: Purpose,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let padded = open_exact(secret, purpose, sealed)?;
    Ok(Zeroizing::new(padding::unpad(&padded)?.to_vec()))
}

fn open_exact(
    secret: &SecretKey,
    purpose: Purpose,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < EPHEMERAL_LEN + 16 {
        return Err(CryptoError::Malformed);
    }
    let (eph, ciphertext) = sealed.split_at(EPHEMERAL_LEN);
    let eph: [u8; 32] = eph.try_into().map_err(|_| CryptoError::Malformed)?;
    let ephemeral_public = X25519Public::from(eph);
    let shared = secret.expose().diffie_hellman(&ephemeral_public);
    if !shared.was_contributory() {
        return Err(CryptoError::Malformed);
    }
    let recipient = secret.public_key();
    let key = derive_key(purpose, shared.as_bytes(), &eph, recipient.as_bytes());
    Ok(Zeroizing::new(
        ChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
            .decrypt(Nonce::from_slice(&[0u8; 12]), ciphertext)
            .map_err(|_| CryptoError::Decrypt)?,
    ))
}

fn derive_key(
    purpose: Purpose,
    shared: &[u8; 32],
    ephemeral: &[u8; 32],
    recipient: &[u8; 32],
) -> Zeroizing<[u8; 32]> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(ephemeral);
    salt[32..].copy_from_slice(recipient);
    let mut key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(&salt), shared)
        .expand(purpose.info(), key.as_mut())
        // Invariant: 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
        .expect("HKDF output length is valid");
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;
    use rand::rngs::OsRng;

    #[test]
    fn seal_then_open() {
        let desk = KeyPair::generate(&mut OsRng);
        let sealed = seal(
            &desk.public,
            Purpose::Report,
            "口头布置".as_bytes(),
            &mut OsRng,
        );
        assert_eq!(sealed.len(), 32 + 1024 + 16);
        assert_eq!(
            open(&desk.secret, Purpose::Report, &sealed)
                .unwrap()
                .as_slice(),
            "口头布置".as_bytes()
        );
    }

    #[test]
    fn another_key_or_a_flipped_bit_fails() {
        let desk = KeyPair::generate(&mut OsRng);
        let other = KeyPair::generate(&mut OsRng);
        let mut sealed = seal(&desk.public, Purpose::Report, b"report", &mut OsRng);
        assert!(open(&other.secret, Purpose::Report, &sealed).is_err());
        assert!(open(&desk.secret, Purpose::Grant, &sealed).is_err());
        sealed[40] ^= 1;
        assert!(open(&desk.secret, Purpose::Report, &sealed).is_err());
        assert!(open(&desk.secret, Purpose::Report, &sealed[..20]).is_err());
    }

    #[test]
    fn a_released_box_holds_no_byte_window_of_the_filed_one_and_opens_to_it() {
        let desk = KeyPair::generate(&mut OsRng);
        let filed = seal(
            &desk.public,
            Purpose::Report,
            "清单外事项".as_bytes(),
            &mut OsRng,
        );
        let released = reseal(&desk.public, &filed, &mut OsRng);
        assert_eq!(
            released.len(),
            filed.len() + 48,
            "one size per filed bucket"
        );
        assert!(!filed
            .windows(16)
            .any(|w| released.windows(16).any(|r| r == w)));
        let inner = open_released(&desk.secret, &released).unwrap();
        assert_eq!(inner.as_slice(), filed.as_slice());
        assert!(
            open_released(&desk.secret, &filed).is_err(),
            "purposes do not mix"
        );
        let other = KeyPair::generate(&mut OsRng);
        assert!(open_released(&other.secret, &released).is_err());
    }

    #[test]
    fn same_plaintext_seals_differently() {
        let desk = KeyPair::generate(&mut OsRng);
        assert_ne!(
            seal(&desk.public, Purpose::Report, b"x", &mut OsRng),
            seal(&desk.public, Purpose::Report, b"x", &mut OsRng)
        );
    }
}
