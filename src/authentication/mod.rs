//! Staff authentication: Argon2id passwords, the optional TOTP second factor, the login
//! throttle and in-memory sessions.

pub mod password;
pub mod session;
pub mod throttle;
pub mod totp;

pub use session::{Session, SessionStore};
