//! The cryptography of the service, built only from audited RustCrypto and dalek crates:
//! sealing reports to the desk key (P5), wrapping the desk private key under passwords and the
//! recovery code (P5), and the keyed hash of card codes (P1).

pub mod card_hash;
pub mod desk_box;
pub mod padding;
pub mod sealing;
pub mod secret;
pub mod wrapping;

pub use card_hash::{BatchKey, CardHash, CardHasher};
pub use sealing::{open, seal, Purpose};
pub use secret::{KeyPair, PublicKey, RecoveryCode, SecretKey};
pub use wrapping::{WrapParams, WrappedKey};

/// Why a cryptographic operation failed. Deliberately without detail: a failed decryption
/// says nothing about why.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("decryption failed")]
    Decrypt,
    #[error("malformed ciphertext")]
    Malformed,
    #[error("key derivation failed: {0}")]
    Kdf(String),
}
