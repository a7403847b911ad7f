//! Secret types: zeroized on drop, never printed by `Debug`, exposed at the line that uses them.

use rand::{CryptoRng, RngCore};
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// An X25519 private key: the investigation desk's (unwrapped only in memory for a session,
/// P5) or an investigator's own (which receives grants of the desk key).
#[derive(Clone)]
pub struct SecretKey(StaticSecret, PublicKey);

impl SecretKey {
    pub fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> SecretKey {
        SecretKey::new(StaticSecret::from(*bytes))
    }

    /// The public half is computed once: opening many boxes needs it for each.
    fn new(secret: StaticSecret) -> SecretKey {
        let public = PublicKey(X25519Public::from(&secret));
        SecretKey(secret, public)
    }

    /// The raw key, for wrapping.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    pub fn public_key(&self) -> PublicKey {
        self.1
    }

    pub(crate) fn expose(&self) -> &StaticSecret {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// An X25519 public key. The desk's is all the submit path holds (P5).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub(crate) X25519Public);

impl PublicKey {
    pub fn from_bytes(bytes: [u8; 32]) -> PublicKey {
        PublicKey(X25519Public::from(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", hex::encode(&self.as_bytes()[..4]))
    }
}

/// A freshly generated key pair.
pub struct KeyPair {
    pub secret: SecretKey,
    pub public: PublicKey,
}

impl KeyPair {
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> KeyPair {
        let secret = SecretKey::new(StaticSecret::random_from_rng(rng));
        let public = secret.public_key();
        KeyPair { secret, public }
    }
}

/// The printed recovery code: 128 random bits, shown once, never stored.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> RecoveryCode {
        let mut bytes = Zeroizing::new([0u8; 16]);
        rng.fill_bytes(bytes.as_mut());
        let hex = Zeroizing::new(hex::encode_upper(bytes.as_ref()));
        let grouped: Vec<&str> = (0..8).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        RecoveryCode(grouped.join("-"))
    }

    /// Accepts the code with or without hyphens and spaces, in any case.
    pub fn parse(text: &str) -> Option<RecoveryCode> {
        let clean: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        );
        if clean.len() != 32 || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let grouped: Vec<&str> = (0..8).map(|i| &clean[i * 4..i * 4 + 4]).collect();
        Some(RecoveryCode(grouped.join("-")))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn debug_output_hides_secrets() {
        let pair = KeyPair::generate(&mut OsRng);
        let hex = hex::encode(pair.secret.to_bytes().as_ref());
        assert!(!format!("{:?}", pair.secret).contains(&hex[..8]));
        let code = RecoveryCode::generate(&mut OsRng);
        assert_eq!(format!("{code:?}"), "RecoveryCode(..)");
    }

    #[test]
    fn recovery_code_parses_loosely() {
        let code = RecoveryCode::generate(&mut OsRng);
        let typed = code.expose().replace('-', " ").to_lowercase();
        assert_eq!(RecoveryCode::parse(&typed).unwrap().expose(), code.expose());
        assert!(RecoveryCode::parse("1234").is_none());
    }
}
