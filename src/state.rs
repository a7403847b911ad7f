//! What every request handler shares.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tera::Tera;

use crate::authentication::throttle::{AddressHasher, Throttle};
use crate::authentication::totp::TotpSealer;
use crate::authentication::{PasswordGate, SessionStore};
use crate::card_check::CardCheck;
use crate::configuration::Settings;
use crate::crypto::{CardHasher, PublicKey};
use crate::desk;
use crate::reference::Choices;
use crate::store::writer::Writer;
use crate::store::{Db, StoreError};

pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    pub writer: Writer,
    pub card_hasher: CardHasher,
    /// The card check before sealing (P1, P9), with the batch keys seen so far.
    pub card_check: CardCheck,
    /// Seals staff TOTP secrets under a key derived from the same key file.
    pub totp_sealer: TotpSealer,
    pub templates: Tera,
    pub sessions: SessionStore,
    /// Every staff password check passes here (P9): a few Argon2 evaluations at once, five
    /// guesses per account (no addresses) per 15 minutes, counted before they are evaluated.
    pub password_gate: PasswordGate,
    /// Refused card attempts per keyed network hash, in memory for ten minutes (P4, P9), at
    /// most `throttle::DEFAULT_CAPACITY` networks.
    pub report_throttle: Throttle<[u8; 16]>,
    pub address_hasher: AddressHasher,
    desk_public: RwLock<Option<PublicKey>>,
    choices: RwLock<Arc<Choices>>,
    /// Bumped whenever released reports change (a release, retention, a triage change), so
    /// sessions know to refresh what they decrypted.
    pub desk_generation: Arc<std::sync::atomic::AtomicU64>,
}

impl AppState {
    pub fn new(
        settings: Settings,
        db: Db,
        writer: Writer,
        card_hasher: CardHasher,
        templates: Tera,
        choices: Choices,
    ) -> std::io::Result<AppState> {
        let report_attempts = settings.report_attempts;
        Ok(AppState {
            settings,
            db,
            writer,
            totp_sealer: TotpSealer::new(&card_hasher),
            card_check: CardCheck::new(card_hasher.clone()),
            card_hasher,
            templates,
            sessions: SessionStore::default(),
            password_gate: PasswordGate::start()?,
            report_throttle: Throttle::new(report_attempts, Duration::from_secs(10 * 60)),
            address_hasher: AddressHasher::default(),
            desk_public: RwLock::new(None),
            choices: RwLock::new(Arc::new(choices)),
            desk_generation: Arc::default(),
        })
    }

    /// The desk public key, read from the database until it exists, then cached.
    pub fn desk_public_key(&self) -> Result<Option<PublicKey>, StoreError> {
        if let Some(k) = *self.desk_public.read().unwrap_or_else(|e| e.into_inner()) {
            return Ok(Some(k));
        }
        let key = desk::public_key(&self.db.connect()?)?;
        *self.desk_public.write().unwrap_or_else(|e| e.into_inner()) = key;
        Ok(key)
    }
}

impl AppState {
    /// The reference lists the reporter form offers.
    pub fn choices(&self) -> Arc<Choices> {
        self.choices
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reloads the reference lists after an import.
    pub fn reload_choices(&self) -> Result<(), StoreError> {
        let fresh = Choices::load(&self.db.connect()?)?;
        *self.choices.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }
}
