//! Key wrapping (P5): the desk private key encrypted under a key derived from an
//! investigator's password or the recovery code with Argon2id (RFC 9106), then
//! ChaCha20-Poly1305 (RFC 8439) with a random nonce and an associated-data label that binds
//! the wrap to its holder.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use super::CryptoError;

/// Argon2id cost parameters, stored beside each wrap so they can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrapParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl WrapParams {
    /// For the desk key: 64 MiB, 3 passes, 1 lane — above OWASP's Argon2id minimum.
    pub const DESK: WrapParams = WrapParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };
}

/// A wrapped 32-byte key and everything needed to unwrap it but the secret.
#[derive(Debug, Clone)]
pub struct WrappedKey {
    pub salt: [u8; 16],
    pub params: WrapParams,
    pub nonce: [u8; 12],
    pub ciphertext: Vec<u8>,
}

fn derive(
    secret: &[u8],
    salt: &[u8; 16],
    params: WrapParams,
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let p = Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|e| CryptoError::Kdf(e.to_string()))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
        .hash_password_into(secret, salt, out.as_mut())
        .map_err(|e| CryptoError::Kdf(e.to_string()))?;
    Ok(out)
}

/// Wraps `key` under `secret` (a password or recovery code); `label` names the holder.
pub fn wrap<R: RngCore + CryptoRng>(
    secret: &[u8],
    key: &[u8; 32],
    label: &[u8],
    params: WrapParams,
    rng: &mut R,
) -> Result<WrappedKey, CryptoError> {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let kek = derive(secret, &salt, params)?;
    let ciphertext = ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: key,
                aad: label,
            },
        )
        .map_err(|_| CryptoError::Malformed)?;
    Ok(WrappedKey {
        salt,
        params,
        nonce,
        ciphertext,
    })
}

/// Unwraps a key; fails alike for a wrong secret, a wrong label and tampering.
pub fn unwrap(
    secret: &[u8],
    wrapped: &WrappedKey,
    label: &[u8],
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let kek = derive(secret, &wrapped.salt, wrapped.params)?;
    let plain = Zeroizing::new(
        ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()))
            .decrypt(
                Nonce::from_slice(&wrapped.nonce),
                Payload {
                    msg: &wrapped.ciphertext,
                    aad: label,
                },
            )
            .map_err(|_| CryptoError::Decrypt)?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if plain.len() != 32 {
        return Err(CryptoError::Malformed);
    }
    out.copy_from_slice(&plain);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    const LIGHT: WrapParams = WrapParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    #[test]
    fn wrap_unwrap_and_refuse_wrong_secret_or_label() {
        let key = [7u8; 32];
        let w = wrap(b"correct horse", &key, b"staff:1", LIGHT, &mut OsRng).unwrap();
        assert_eq!(*unwrap(b"correct horse", &w, b"staff:1").unwrap(), key);
        assert!(unwrap(b"wrong horse", &w, b"staff:1").is_err());
        assert!(unwrap(b"correct horse", &w, b"staff:2").is_err());
        assert!(!w.ciphertext.windows(32).any(|win| win == key));
    }
}
