//! Argon2id password hashes (P8), with a dummy hash so an unknown username costs the same.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// The shortest staff password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

/// A PHC-format Argon2id hash with the crate's defaults (OWASP: 19 MiB, 2 passes).
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Verifies `password` against `stored`, or against a dummy hash when there is no account,
/// so both paths take the same time.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash("no such account, dummy").unwrap_or_default());
    let (candidate, real) = match stored {
        Some(s) => (s, true),
        None => (DUMMY.as_str(), false),
    };
    let ok = PasswordHash::new(candidate)
        .map(|h| verify_phc(password.as_bytes(), &h))
        .unwrap_or(false);
    ok && real
}

/// Argon2 memory a thread keeps between checks: enough for the 19 MiB of our hashes.
const KEPT_BLOCKS: usize = 32 * 1024;

thread_local! {
    /// P9: this thread's Argon2 memory, allocated once and reused. Password checks run on the
    /// password gate's few threads (`gate::EVALUATORS`), so they hold that many × 19 MiB
    /// however many logins come; allocating and freeing 19 MiB per check instead leaves
    /// freed buffers scattered in the allocator's arenas (measured: ~57 MiB resident per
    /// thread after a few dozen checks).
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What `PasswordVerifier::verify_password` does, with this thread's kept memory; the
/// comparison is constant-time and the memory is zeroed after use.
fn verify_phc(password: &[u8], hash: &PasswordHash<'_>) -> bool {
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    let computed = MEMORY.with(|kept| match kept.try_borrow_mut() {
        Ok(mut memory) if blocks <= KEPT_BLOCKS => {
            if memory.len() < blocks {
                memory.resize(blocks, Block::default());
            }
            let r = argon2.hash_password_into_with_memory(
                password,
                salt,
                &mut out,
                &mut memory[..blocks],
            );
            memory[..blocks].iter_mut().for_each(Zeroize::zeroize);
            r
        }
        _ => argon2.hash_password_into(password, salt, &mut out),
    });
    computed.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_unknown_accounts_never_do() {
        let h = hash("a long enough password").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("a long enough password", Some(&h)));
        assert!(!verify("another password", Some(&h)));
        assert!(!verify("no such account, dummy", None));
        assert!(check_policy("short").is_err());
    }

    /// The kept-memory check agrees with the argon2 crate's own verifier, also for other
    /// parameters and a tampered hash.
    #[test]
    fn verify_agrees_with_the_crates_verifier() {
        use argon2::password_hash::PasswordVerifier;
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let small_hash = small.hash_password(b"pw one", &salt).unwrap().to_string();
        let default_hash = hash("pw two is long").unwrap();
        let tampered = default_hash.replace("$m=19456", "$m=19457");
        for (h, pw) in [
            (&small_hash, "pw one"),
            (&default_hash, "pw two is long"),
            (&tampered, "pw two is long"),
        ] {
            for candidate in [pw, "not it"] {
                let theirs = Argon2::default()
                    .verify_password(candidate.as_bytes(), &PasswordHash::new(h).unwrap())
                    .is_ok();
                assert_eq!(verify(candidate, Some(h)), theirs, "{h} {candidate}");
            }
        }
        assert!(verify("pw one", Some(&small_hash)));
        assert!(!verify("pw two is long", Some(&tampered)));
        assert!(!verify("pw one", Some("not a PHC string")));
    }
}
