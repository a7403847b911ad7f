//! Staff authentication: Argon2id passwords, the gate every password check passes (bounded
//! Argon2 work, guesses counted before they are evaluated), the optional TOTP second factor,
//! the throttles and in-memory sessions.

pub mod gate;
pub mod password;
pub mod session;
pub mod throttle;
pub mod totp;

pub use gate::PasswordGate;
pub use session::{Session, SessionStore};
