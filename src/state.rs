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
    /// The desks' public keys, by desk id, read from the database when first needed and again
    /// after a rotation (the writer refuses copies sealed to a key a desk no longer has).
    desk_keys: RwLock<Option<Arc<std::collections::HashMap<i64, PublicKey>>>>,
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
            desk_keys: RwLock::new(None),
            choices: RwLock::new(Arc::new(choices)),
            desk_generation: Arc::default(),
        })
    }

    /// Every desk's public key that exists, by desk id.
    pub fn desk_keys(&self) -> Result<Arc<std::collections::HashMap<i64, PublicKey>>, StoreError> {
        if let Some(keys) = self
            .desk_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return Ok(keys.clone());
        }
        let keys: std::collections::HashMap<i64, PublicKey> =
            crate::store::desks::list(&self.db.connect()?)?
                .into_iter()
                .filter_map(|d| Some((d.id, d.public_key?)))
                .collect();
        let keys = Arc::new(keys);
        // A desk without a key yet is looked up again next time.
        *self.desk_keys.write().unwrap_or_else(|e| e.into_inner()) = Some(keys.clone());
        Ok(keys)
    }

    /// Forgets the cached desk keys: a desk was added, created its key or rotated it.
    pub fn desk_keys_changed(&self) {
        *self.desk_keys.write().unwrap_or_else(|e| e.into_inner()) = None;
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
