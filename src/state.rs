//! What every request handler shares.

use std::collections::HashMap;
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

/// The desks that have a key: their public keys by id, their ids by code.
#[derive(Default)]
pub struct DeskKeys {
    pub by_id: HashMap<i64, PublicKey>,
    pub ids: HashMap<String, i64>,
}

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
    /// The desks' public keys, read from the database when first needed and again after a
    /// rotation (the writer refuses copies sealed to a key a desk no longer has).
    desk_keys: RwLock<Option<Arc<DeskKeys>>>,
    /// The reference lists and district desks the form offers, with the version of them they
    /// are (`meta::CHOICES_VERSION`): a desk added or keyed by the command line (another
    /// process) is offered from the next request on.
    choices: RwLock<(Arc<Choices>, Option<i64>)>,
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
            choices: RwLock::new((Arc::new(choices), None)),
            desk_generation: Arc::default(),
        })
    }

    /// Every desk's public key that exists.
    pub fn desk_keys(&self) -> Result<Arc<DeskKeys>, StoreError> {
        if let Some(keys) = self
            .desk_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return Ok(keys.clone());
        }
        let mut keys = DeskKeys::default();
        for d in crate::store::desks::list(&self.db.connect()?)? {
            if let Some(key) = d.public_key {
                keys.ids.insert(d.code, d.id);
                keys.by_id.insert(d.id, key);
            }
        }
        let keys = Arc::new(keys);
        // A desk without a key yet is looked up again next time.
        *self.desk_keys.write().unwrap_or_else(|e| e.into_inner()) = Some(keys.clone());
        Ok(keys)
    }

    /// Forgets the cached desk keys: a desk was added, created its key or rotated it.
    pub fn desk_keys_changed(&self) {
        *self.desk_keys.write().unwrap_or_else(|e| e.into_inner()) = None;
        // The form offers only desks with a key: read the desks again on its next view.
        self.choices.write().unwrap_or_else(|e| e.into_inner()).1 = None;
    }
}

impl AppState {
    /// The reference lists and district desks the reporter form offers, read again when they
    /// changed (one cached read of their version; if reading fails, the last ones read serve).
    pub fn choices(&self) -> Arc<Choices> {
        let (choices, version) = self
            .choices
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let current = crate::store::reader::with(&self.db, crate::store::meta::choices_version);
        if current.is_ok() && current.ok() == version {
            return choices;
        }
        match self.reload_choices() {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the reference lists again");
                choices
            }
        }
    }

    /// Reads the reference lists and desks again (after an import, a desk change).
    pub fn reload_choices(&self) -> Result<Arc<Choices>, StoreError> {
        let conn = self.db.connect()?;
        // The version first: a change made while the lists are read is read again next time.
        let version = crate::store::meta::choices_version(&conn)?;
        let fresh = Arc::new(Choices::load(&conn)?);
        *self.choices.write().unwrap_or_else(|e| e.into_inner()) = (fresh.clone(), Some(version));
        Ok(fresh)
    }
}
