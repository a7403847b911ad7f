//! P1, P9: the card check before sealing. The code names its batch; the batch's key (derived
//! once from the key file and the batch's salt, then kept in memory) gives the card's keyed
//! hash; one read says whether that card would file. Refused cards cost neither a seal nor a
//! write, and a valid card is never refused by anything an earlier request did. The writer
//! spends the card for good, in the transaction that stores the report.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::crypto::{BatchKey, CardHash, CardHasher};
use crate::domain::{BatchNumber, CardCode};
use crate::store::{cards, reader, Db, StoreError};

/// What the check found.
#[derive(Debug, Clone, Copy)]
pub enum Card {
    /// Unused, of a batch neither revoked nor expired.
    Open { batch: BatchNumber, hash: CardHash },
    /// Unknown, used, expired or revoked: one answer for all (SPEC §3.2).
    Refused,
}

/// The card-hash keys of the batches seen so far.
pub struct CardCheck {
    hasher: CardHasher,
    keys: RwLock<HashMap<BatchNumber, BatchKey>>,
}

impl CardCheck {
    pub fn new(hasher: CardHasher) -> CardCheck {
        CardCheck {
            hasher,
            keys: RwLock::default(),
        }
    }

    /// The keyed hash of `code` under its batch's key; `None` if no such batch exists.
    pub fn hash(
        &self,
        db: &Db,
        code: &CardCode,
    ) -> Result<Option<(BatchNumber, CardHash)>, StoreError> {
        let Some(batch) = code.batch() else {
            return Ok(None);
        };
        if let Some(key) = self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&batch)
        {
            return Ok(Some((batch, key.hash(code))));
        }
        // Batches are never deleted and salts never change: a key found is good for ever.
        let Some(key) = reader::with(db, |conn| cards::batch_key(conn, &self.hasher, batch))?
        else {
            return Ok(None);
        };
        let hash = key.hash(code);
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(batch, key);
        Ok(Some((batch, hash)))
    }

    /// Whether `code` would file now.
    pub fn check(&self, db: &Db, code: &CardCode) -> Result<Card, StoreError> {
        let Some((batch, hash)) = self.hash(db, code)? else {
            return Ok(Card::Refused);
        };
        let open = reader::with(db, |conn| cards::would_file(conn, &hash, batch))?;
        Ok(if open {
            Card::Open { batch, hash }
        } else {
            Card::Refused
        })
    }
}
