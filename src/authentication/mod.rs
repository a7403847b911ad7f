//! Staff authentication: Argon2id passwords, the login throttle and in-memory sessions.

pub mod password;
pub mod session;
pub mod throttle;

pub use session::{Session, SessionStore};
