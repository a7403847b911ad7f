//! P1: card codes are stored only as HMAC-SHA256 (RFC 2104) under a key of their batch, derived
//! (HKDF-SHA256, RFC 5869) from the server secret in the data dir's key file and the batch's
//! random salt. The secret is never in the database; the card table has no batch column, yet
//! revoking or expiring a batch stops accepting its key.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::domain::CardCode;

/// The keyed hash of one card code: the only form in which a card is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CardHash(pub [u8; 32]);

impl std::fmt::Debug for CardHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardHash(..)")
    }
}

/// Holds the card-hash key.
#[derive(Clone)]
pub struct CardHasher {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for CardHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardHasher(..)")
    }
}

impl CardHasher {
    pub fn new(key: Zeroizing<[u8; 32]>) -> CardHasher {
        CardHasher { key }
    }

    /// The key the cards of the batch with this salt are hashed under.
    pub fn batch_key(&self, salt: &[u8; 16]) -> BatchKey {
        let mut key = Zeroizing::new([0u8; 32]);
        hkdf::Hkdf::<Sha256>::new(Some(salt), self.key.as_ref())
            .expand(b"jianfu card batch v2", key.as_mut())
            // Invariant: 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
            .expect("HKDF output length is valid");
        BatchKey(key)
    }

    /// A key for another server-side secret, derived from the same key file (HKDF-SHA256
    /// with its own label), so the data dir keeps one key file outside the database.
    pub fn derive_key(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut key = Zeroizing::new([0u8; 32]);
        hkdf::Hkdf::<Sha256>::new(Some(b"jianfu server key"), self.key.as_ref())
            .expand(label, key.as_mut())
            // Invariant: 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
            .expect("HKDF output length is valid");
        key
    }
}

/// The card-hash key of one batch; zeroized on drop, never printed.
#[derive(Clone)]
pub struct BatchKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for BatchKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BatchKey(..)")
    }
}

impl BatchKey {
    pub fn hash(&self, code: &CardCode) -> CardHash {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_ref())
            // Invariant: HMAC accepts keys of any length.
            .expect("HMAC takes any key length");
        mac.update(b"jianfu card v2\0");
        mac.update(code.normalized().as_bytes());
        CardHash(mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn hash_depends_on_server_key_and_batch_salt_and_spelling_does_not_matter() {
        let batch = crate::domain::card_code::BatchNumber::new(3).unwrap();
        let code = CardCode::generate(batch, &mut OsRng);
        let again = CardCode::parse(&code.grouped().to_lowercase()).unwrap();
        let a = CardHasher::new(Zeroizing::new([1; 32]));
        let b = CardHasher::new(Zeroizing::new([2; 32]));
        let key = a.batch_key(&[9; 16]);
        assert_eq!(key.hash(&code), key.hash(&again));
        assert_ne!(key.hash(&code), b.batch_key(&[9; 16]).hash(&code));
        assert_ne!(key.hash(&code), a.batch_key(&[8; 16]).hash(&code));
        assert_eq!(format!("{key:?}"), "BatchKey(..)");
    }
}
