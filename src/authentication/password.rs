//! Argon2id password hashes (P8), with a dummy hash so an unknown username costs the same.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

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
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false);
    ok && real
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
}
