//! Staff sessions, in memory only. An investigator's session holds the unwrapped desk key;
//! it is dropped (and so zeroized) at logout, on idle timeout and at the absolute limit (P5).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::crypto::SecretKey;
use crate::store::staff::Role;

pub const IDLE_LIMIT: Duration = Duration::from_secs(30 * 60);
pub const ABSOLUTE_LIMIT: Duration = Duration::from_secs(12 * 3600);
pub const COOKIE: &str = "jianfu_staff";

/// One signed-in staff member.
pub struct Session {
    pub staff_id: i64,
    pub username: String,
    pub role: Role,
    /// An investigator's desk (P11).
    pub desk_id: Option<i64>,
    pub csrf: String,
    pub desk: Option<SecretKey>,
    /// The reports this session has decrypted; dropped with the session (P5).
    pub reports: Mutex<Option<Arc<crate::queue::Snapshot>>>,
    /// The queue's filters and search (P8: never in a URL), dropped with the session.
    pub filter: Mutex<crate::queue::Filter>,
    /// Set at login when a second factor is required and the account has none yet: every
    /// page but the set-up page sends the user there.
    pub second_factor_due: std::sync::atomic::AtomicBool,
    /// A TOTP secret shown for set-up, kept until a code from it confirms it.
    pub pending_totp: Mutex<Option<crate::authentication::totp::TotpSecret>>,
    /// What the account was when this session began (`AccountStamp`): every request compares
    /// it with the database, so a reset or a disabling by another process (the command line)
    /// ends the session and drops its desk key (P5).
    stamp: Mutex<AccountStamp>,
    created: Instant,
    last_seen: Mutex<Instant>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("staff_id", &self.staff_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// An account as a session knows it: SHA-256 of its password hash (an Argon2id PHC string,
/// with a fresh salt every time a password is set, and none after a reset), so any reset or
/// password change — which also replaces an investigator's own key — changes it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccountStamp([u8; 32]);

impl AccountStamp {
    pub fn of(password_hash: Option<&str>) -> AccountStamp {
        match password_hash {
            Some(hash) => AccountStamp(Sha256::digest(hash.as_bytes()).into()),
            // No password (a reset account waiting for its link) matches no session.
            None => AccountStamp([0; 32]),
        }
    }
}

impl Session {
    /// Whether the account, as the database has it now (`None`: gone), is still the one this
    /// session signed in as: present, enabled, with the same password hash.
    pub fn still_matches(&self, now: Option<(Option<&str>, bool)>) -> bool {
        let held = *self.stamp.lock().unwrap_or_else(|e| e.into_inner());
        match now {
            Some((hash, disabled)) => !disabled && hash.is_some() && AccountStamp::of(hash) == held,
            None => false,
        }
    }

    /// After this session changed its own password: it stays, the account's other sessions
    /// end at their next request.
    pub fn renew_stamp(&self, password_hash: &str) {
        *self.stamp.lock().unwrap_or_else(|e| e.into_inner()) =
            AccountStamp::of(Some(password_hash));
    }
}

/// Sessions by SHA-256 of their cookie value: the store never holds a usable cookie.
#[derive(Default)]
pub struct SessionStore {
    sessions: Mutex<HashMap<[u8; 32], Arc<Session>>>,
}

fn key_of(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

impl SessionStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session; returns the cookie value.
    pub fn start(
        &self,
        staff_id: i64,
        username: String,
        role: Role,
        desk_id: Option<i64>,
        desk: Option<SecretKey>,
        stamp: AccountStamp,
    ) -> String {
        let token = random_token();
        let now = Instant::now();
        let session = Session {
            staff_id,
            username,
            role,
            desk_id,
            csrf: random_token(),
            desk,
            reports: Mutex::new(None),
            filter: Mutex::default(),
            second_factor_due: Default::default(),
            pending_totp: Mutex::new(None),
            stamp: Mutex::new(stamp),
            created: now,
            last_seen: Mutex::new(now),
        };
        self.lock().insert(key_of(&token), Arc::new(session));
        token
    }

    /// The live session for a cookie value, refreshing its idle timer.
    pub fn get(&self, token: &str) -> Option<Arc<Session>> {
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, s| live(s, now));
        let s = sessions.get(&key_of(token))?;
        *s.last_seen.lock().unwrap_or_else(|e| e.into_inner()) = now;
        Some(s.clone())
    }

    pub fn end(&self, token: &str) {
        self.lock().remove(&key_of(token));
    }

    /// Ends every session of one account (disabled, or its password reset).
    pub fn end_all_for(&self, staff_id: i64) {
        self.lock().retain(|_, s| s.staff_id != staff_id);
    }

    /// Ends every session of a desk's investigators (its key was rotated: each held the old
    /// key, dropped and so zeroized here).
    pub fn end_all_of_desk(&self, desk_id: i64) {
        self.lock().retain(|_, s| s.desk_id != Some(desk_id));
    }
}

fn live(s: &Session, now: Instant) -> bool {
    let last_seen = *s.last_seen.lock().unwrap_or_else(|e| e.into_inner());
    now.duration_since(last_seen) < IDLE_LIMIT && now.duration_since(s.created) < ABSOLUTE_LIMIT
}
