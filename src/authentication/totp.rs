//! The staff second factor (P8): RFC 6238 time-based one-time codes — six digits, 30-second
//! steps, HMAC-SHA1 as every authenticator app expects, one step of clock skew either way —
//! computed by the `totp-rs` crate. A code is accepted once: the step it matched is stored and
//! a code from the same or an earlier step is refused (RFC 6238 §5.2).
//!
//! The secret is stored sealed (ChaCha20-Poly1305, bound to the account id) under a key
//! derived from the data dir's key file, so a copy of the database alone does not hold it.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::{CryptoRng, RngCore};
use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::crypto::{CardHasher, CryptoError};

const SECRET_LEN: usize = 20;
const NONCE_LEN: usize = 12;
pub const ISSUER: &str = "jianfu";

/// A staff member's TOTP secret: zeroized on drop, never printed.
pub struct TotpSecret(Zeroizing<[u8; SECRET_LEN]>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// 160 random bits, the length RFC 4226 recommends.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> TotpSecret {
        let mut bytes = Zeroizing::new([0u8; SECRET_LEN]);
        rng.fill_bytes(bytes.as_mut());
        TotpSecret(bytes)
    }

    fn totp(&self, account: &str) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(30)
            .with_secret(Secret::new_stack(*self.0))
            .with_issuer(Some(ISSUER))
            .with_account_name(account.replace(':', "_"))
            .build_noncompliant()
    }

    /// The secret in base32 as authenticator apps take it when typed, in groups of four.
    pub fn base32(&self) -> Zeroizing<String> {
        let plain = Zeroizing::new(Secret::new_stack(*self.0).to_base32());
        let chars: Vec<char> = plain.chars().collect();
        Zeroizing::new(
            chars
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// The `otpauth://` address an authenticator app reads from a QR code.
    pub fn otpauth_url(&self, account: &str) -> Zeroizing<String> {
        Zeroizing::new(self.totp(account).to_url().unwrap_or_default())
    }

    /// The step `code` matches at `unix_time`, if any (spaces in the code are ignored).
    pub fn check(&self, code: &str, unix_time: u64) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.totp("").check(&code, unix_time)
    }

    /// The code for `unix_time` (tests and the development seed only need this).
    pub fn code_at(&self, unix_time: u64) -> String {
        self.totp("").generate(unix_time).to_string()
    }
}

/// Seals TOTP secrets at rest under a key derived from the key file in `DATA_DIR/keys/`.
#[derive(Clone)]
pub struct TotpSealer(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for TotpSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSealer(..)")
    }
}

fn label(staff_id: i64) -> Vec<u8> {
    format!("jianfu staff totp v1|staff:{staff_id}").into_bytes()
}

impl TotpSealer {
    pub fn new(server_key: &CardHasher) -> TotpSealer {
        TotpSealer(server_key.derive_key(b"jianfu staff totp key v1"))
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(self.0.as_ref()))
    }

    pub fn seal<R: RngCore + CryptoRng>(
        &self,
        staff_id: i64,
        secret: &TotpSecret,
        rng: &mut R,
    ) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let aad = label(staff_id);
        let ciphertext = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.0.as_ref(),
                    aad: &aad,
                },
            )
            // Invariant: ChaCha20-Poly1305 fails only past 256 GiB; this is 20 bytes.
            .expect("plaintext within the AEAD's length limit");
        [nonce.as_slice(), &ciphertext].concat()
    }

    pub fn open(&self, staff_id: i64, sealed: &[u8]) -> Result<TotpSecret, CryptoError> {
        if sealed.len() != NONCE_LEN + SECRET_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let aad = label(staff_id);
        let plain = Zeroizing::new(
            self.cipher()
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| CryptoError::Decrypt)?,
        );
        let mut bytes = Zeroizing::new([0u8; SECRET_LEN]);
        bytes.copy_from_slice(&plain);
        Ok(TotpSecret(bytes))
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it, which no code then matches).
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits), so 287082 with 6.
        let secret = TotpSecret(Zeroizing::new(*b"12345678901234567890"));
        assert_eq!(secret.code_at(59), "287082");
        assert_eq!(secret.check("287 082", 59), Some(1));
        assert_eq!(secret.check("287082", 59 + 30), Some(1), "one step of skew");
        assert_eq!(secret.check("287082", 59 + 90), None);
        assert_eq!(secret.check("28708", 59), None);
        assert_eq!(secret.check("２８７０８２", 59), None);
    }

    #[test]
    fn sealed_secrets_open_only_for_their_account_and_never_print() {
        let sealer = TotpSealer::new(&CardHasher::new(Zeroizing::new([7; 32])));
        let secret = TotpSecret::generate(&mut OsRng);
        let sealed = sealer.seal(3, &secret, &mut OsRng);
        assert_eq!(
            sealer.open(3, &sealed).unwrap().code_at(1000),
            secret.code_at(1000)
        );
        assert!(sealer.open(4, &sealed).is_err());
        let other = TotpSealer::new(&CardHasher::new(Zeroizing::new([8; 32])));
        assert!(other.open(3, &sealed).is_err());
        assert_eq!(
            format!("{secret:?} {sealer:?}"),
            "TotpSecret(..) TotpSealer(..)"
        );
        let url = secret.otpauth_url("desk");
        assert!(
            url.starts_with("otpauth://totp/jianfu:desk?"),
            "{}",
            url.as_str()
        );
        assert!(url.contains(&secret.base32().replace(' ', "")));
    }
}
