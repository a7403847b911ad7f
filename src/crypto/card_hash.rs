//! P1: card codes are stored only as HMAC-SHA256 (RFC 2104) under a server secret that lives
//! in the data dir's key files, never in the database.

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

    pub fn hash(&self, code: &CardCode) -> CardHash {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref())
            // Invariant: HMAC accepts keys of any length.
            .expect("HMAC takes any key length");
        mac.update(b"jianfu card v1\0");
        mac.update(code.normalized().as_bytes());
        CardHash(mac.finalize().into_bytes().into())
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn hash_depends_on_key_and_spelling_does_not_matter() {
        let code = CardCode::generate(&mut OsRng);
        let again = CardCode::parse(&code.grouped().to_lowercase()).unwrap();
        let a = CardHasher::new(Zeroizing::new([1; 32]));
        let b = CardHasher::new(Zeroizing::new([2; 32]));
        assert_eq!(a.hash(&code), a.hash(&again));
        assert_ne!(a.hash(&code), b.hash(&code));
    }
}
