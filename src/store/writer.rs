//! The one writer of reporter data. Submissions queue here and are committed many to a
//! transaction (group commit): each commit is fsync'd before any of its submitters hears
//! "stored". Spending a card and storing its report happen in one transaction, and the
//! single writer serializes them, so a card files exactly once (P1). Releases of the pending
//! pool run on the same thread, between groups.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use rand::Rng;
use rusqlite::{params, Connection};
use tokio::sync::oneshot;

use super::file_times::FileClock;
use super::{meta, Db, StoreError};
use crate::crypto::{sealing, CardHash, PublicKey};
use crate::domain::BatchNumber;

/// Submissions that may wait for the writer before `/report` answers 503, by default
/// (`writer_queue`).
pub const QUEUE: usize = 1024;
/// The writer connection's page cache, in KiB (SQLite's default is 2,000 KiB).
const WRITER_CACHE_KIB: u32 = 16 * 1024;
/// How long the checkpointer waits after a commit before copying the WAL into the database:
/// the commits of a burst share one checkpoint.
const CHECKPOINT_AFTER: std::time::Duration = std::time::Duration::from_millis(200);
/// Submissions committed in one transaction at most.
pub const GROUP: usize = 256;

/// What became of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    Stored,
    /// Unknown, spent, expired or revoked: one answer for all (SPEC §3.2).
    CardRefused,
    /// A desk key was rotated since the report was sealed (by the console or the command
    /// line): nothing was stored and the card is unspent; seal again to the current keys.
    KeyChanged,
}

/// One sealed copy of a report, for one desk (P11).
pub struct SealedCopy {
    pub desk_id: i64,
    /// The desk public key it was sealed to, checked against the desk's key at the commit.
    pub sealed_to: PublicKey,
    pub sealed: Vec<u8>,
}

/// Why a submission was not stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the writer queue is full")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Submission {
    card: CardHash,
    batch: BatchNumber,
    copies: Vec<SealedCopy>,
    reply: oneshot::Sender<Result<Filed, String>>,
}

/// When a scheduled release happens (P3): with at least `min` reports pending, or once the
/// oldest has waited `hold_max` scheduled releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseRule {
    pub min: u32,
    pub hold_max: u32,
}

enum Job {
    File(Submission),
    Release(ReleaseRule, oneshot::Sender<Result<usize, String>>),
    /// Delete closed reports released more than this many days ago.
    Retain(u32, oneshot::Sender<Result<usize, String>>),
}

/// A handle to the writer thread; cheap to clone. The thread ends, after draining its
/// queue, when the last handle is dropped.
#[derive(Clone)]
pub struct Writer {
    tx: SyncSender<Job>,
}

impl Writer {
    /// Starts the writer thread and its checkpointer; `group` is the most submissions one
    /// commit may hold, `queue` how many may wait; `clock` puts the database files' times back
    /// after each filing and checkpoint (P3).
    pub fn spawn(
        db: &Db,
        group: usize,
        queue: usize,
        clock: FileClock,
    ) -> Result<(Writer, JoinHandle<()>), StoreError> {
        let conn = db.connect()?;
        // Issue #12: no checkpoint inside a commit of filings; the checkpointer copies the WAL
        // into the database off the request path (PASSIVE), and each release still truncates
        // the WAL (P2).
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
        // Issue #12: the card index and the pool's leaves stay in the writer's own cache
        // rather than being read again from the OS for every submission.
        conn.execute_batch(&format!("PRAGMA cache_size = -{WRITER_CACHE_KIB};"))?;
        let checkpointer = spawn_checkpointer(db.connect()?, clock.clone())?;
        let (tx, rx) = mpsc::sync_channel(queue.max(1));
        let handle = std::thread::Builder::new()
            .name("jianfu-writer".into())
            .spawn(move || run(conn, rx, group.max(1), clock, checkpointer))
            .map_err(|e| StoreError::Conflict(format!("cannot start the writer thread: {e}")))?;
        Ok((Writer { tx }, handle))
    }

    /// Spends `card` (of batch `batch`) and stores its sealed copies in the pending pool,
    /// atomically and durably.
    pub async fn file(
        &self,
        card: CardHash,
        batch: BatchNumber,
        copies: Vec<SealedCopy>,
    ) -> Result<Filed, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .try_send(Job::File(Submission {
                card,
                batch,
                copies,
                reply,
            }))
            .map_err(|e| match e {
                TrySendError::Full(_) => WriteError::Busy,
                TrySendError::Disconnected(_) => WriteError::Store(StoreError::WriterGone),
            })?;
        answer
            .await
            .map_err(|_| StoreError::WriterGone)?
            .map_err(|e| WriteError::Store(StoreError::Conflict(e)))
    }

    /// A scheduled release (P3): moves every pending report to the queue if `rule` says so;
    /// returns how many.
    pub async fn release(&self, rule: ReleaseRule) -> Result<usize, WriteError> {
        self.maintain(|reply| Job::Release(rule, reply)).await
    }

    /// Deletes closed reports (and their notes) released more than `days` ago, then vacuums,
    /// so nothing of them is left in the files; returns how many.
    pub async fn retain(&self, days: u32) -> Result<usize, WriteError> {
        self.maintain(|reply| Job::Retain(days, reply)).await
    }

    async fn maintain(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<usize, String>>) -> Job,
    ) -> Result<usize, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(job(reply))
            .map_err(|_| StoreError::WriterGone)?;
        answer
            .await
            .map_err(|_| StoreError::WriterGone)?
            .map_err(|e| WriteError::Store(StoreError::Conflict(e)))
    }
}

/// The checkpointer: woken after commits of filings, it waits `CHECKPOINT_AFTER` so a burst
/// shares one, then copies what the WAL holds into the database without blocking the writer
/// (`wal_checkpoint(PASSIVE)`), and puts the files' times back (P3). It ends with the writer.
fn spawn_checkpointer(conn: Connection, clock: FileClock) -> Result<SyncSender<()>, StoreError> {
    let (tx, rx) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("jianfu-checkpoint".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                std::thread::sleep(CHECKPOINT_AFTER);
                while rx.try_recv().is_ok() {}
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "checkpoint failed; the next one retries");
                }
                clock.reset();
            }
        })
        .map_err(|e| StoreError::Conflict(format!("cannot start the checkpointer: {e}")))?;
    Ok(tx)
}

fn run(
    mut conn: Connection,
    rx: Receiver<Job>,
    group: usize,
    clock: FileClock,
    checkpointer: SyncSender<()>,
) {
    clock.reset();
    while let Ok(first) = rx.recv() {
        let mut files = Vec::new();
        let mut upkeep = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next {
            match job {
                Job::File(s) => files.push(s),
                job => upkeep.push(job),
            }
            next = if files.len() < group {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if !files.is_empty() {
            commit_group(&mut conn, files, &clock);
            // Full: a checkpoint is already due, which will include this commit.
            let _ = checkpointer.try_send(());
        }
        for job in upkeep {
            let (result, reply) = match job {
                Job::Release(rule, reply) => (release(&mut conn, rule), reply),
                Job::Retain(days, reply) => (retain(&mut conn, days), reply),
                Job::File(_) => continue,
            };
            let _ = reply.send(result.map_err(|e| {
                tracing::error!(error = %e, "pool upkeep failed");
                e.to_string()
            }));
        }
    }
}

fn commit_group(conn: &mut Connection, files: Vec<Submission>, clock: &FileClock) {
    let stored = store_group(conn, &files);
    // P3: the files' times say when the last release was, not the last filing — already
    // when the submitters hear "stored".
    clock.reset();
    match stored {
        Ok(outcomes) => {
            for (s, outcome) in files.into_iter().zip(outcomes) {
                let _ = s.reply.send(Ok(outcome));
            }
        }
        Err(e) => {
            // Logged without content: the error comes from SQLite, not from the report.
            tracing::error!(error = %e, submissions = files.len(), "storing submissions failed");
            for s in files {
                let _ = s.reply.send(Err("cannot store now".into()));
            }
        }
    }
}

fn store_group(conn: &mut Connection, files: &[Submission]) -> Result<Vec<Filed>, StoreError> {
    let today = super::today().to_string();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Read inside the write transaction: a rotation committed by another connection is seen.
    let keys = desk_keys(&tx)?;
    let mut outcomes = Vec::with_capacity(files.len());
    {
        let mut spend = tx.prepare_cached(&format!(
            "DELETE FROM cards WHERE hash = ?1 AND {}",
            super::cards::BATCH_OPEN
        ))?;
        for s in files {
            // P5: a copy sealed to a key the desk no longer has would be lost for good.
            if s.copies
                .iter()
                .any(|c| keys.get(&c.desk_id) != Some(&c.sealed_to))
            {
                outcomes.push(Filed::KeyChanged);
                continue;
            }
            if spend.execute(params![&s.card.0[..], i64::from(s.batch.get()), today])? == 1 {
                for copy in &s.copies {
                    super::pending::insert(&tx, copy.desk_id, &copy.sealed)?;
                }
                outcomes.push(Filed::Stored);
            } else {
                outcomes.push(Filed::CardRefused);
            }
        }
    }
    tx.commit()?;
    Ok(outcomes)
}

/// Every desk's current public key, by desk id.
fn desk_keys(conn: &Connection) -> Result<std::collections::HashMap<i64, PublicKey>, StoreError> {
    Ok(super::desks::list(conn)?
        .into_iter()
        .filter_map(|d| Some((d.id, d.public_key?)))
        .collect())
}

/// A scheduled release (P3, P2). With fewer than `rule.min` reports pending, they wait, and
/// the one number kept is how many scheduled releases the pool has waited (never a filing
/// time); after `rule.hold_max` of them, everything goes anyway. A release moves the pool in
/// shuffled order to random ids with the release day as the only date, sealing each report
/// again under a fresh ephemeral key; then the WAL is checkpointed and truncated so no frame
/// of the filing order is left on disk.
fn release(conn: &mut Connection, rule: ReleaseRule) -> Result<usize, StoreError> {
    let today = super::today().to_string();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let waiting = super::pending::reports(&tx)?;
    if waiting == 0 {
        return Ok(0);
    }
    let waited = meta::get_number(&tx, meta::POOL_WAITED)?.unwrap_or(0) + 1;
    if waiting < i64::from(rule.min) && waited < i64::from(rule.hold_max) {
        meta::set_number(&tx, meta::POOL_WAITED, waited)?;
        tx.commit()?;
        return Ok(0);
    }
    let keys = desk_keys(&tx)?;
    let mut pending = super::pending::all(&tx)?;
    pending.shuffle(&mut OsRng);
    // P11: the public board's count of what each desk received this release month.
    let mut received = std::collections::BTreeMap::<i64, i64>::new();
    for (desk_id, _) in &pending {
        *received.entry(*desk_id).or_default() += 1;
    }
    let month = &today[..7];
    for (desk_id, n) in received {
        super::board::add_received(&tx, desk_id, month, n)?;
    }
    {
        let mut insert = tx.prepare(
            "INSERT OR IGNORE INTO reports (id, desk_id, released_on, status, sealed)
             VALUES (?1, ?2, ?3, 'new', ?4)",
        )?;
        for (desk_id, filed) in &pending {
            let key = keys
                .get(desk_id)
                .ok_or_else(|| StoreError::Conflict("a pending report's desk has no key".into()))?;
            // P2: no byte of the pending ciphertext reaches `reports`.
            let released = sealing::reseal(key, filed, &mut OsRng);
            // P2: random ids; a collision draws again.
            while insert.execute(params![
                OsRng.gen_range(10_000_000i64..100_000_000),
                desk_id,
                today,
                &released
            ])? == 0
            {}
        }
    }
    super::pending::clear(&tx)?;
    meta::delete(&tx, meta::POOL_WAITED)?;
    tx.commit()?;
    checkpoint(conn)?;
    Ok(pending.len())
}

/// Retention: closed reports released more than `days` days ago go, with their notes
/// (`ON DELETE CASCADE`); `secure_delete` zeroes them and `VACUUM` rebuilds the file without
/// their pages. Cases keep only their own fields.
fn retain(conn: &mut Connection, days: u32) -> Result<usize, StoreError> {
    let cutoff = (super::today() - chrono::Duration::days(i64::from(days))).to_string();
    let deleted = conn.execute(
        "DELETE FROM reports WHERE released_on < ?1 AND status NOT IN ('new', 'investigating')",
        [cutoff],
    )?;
    if deleted > 0 {
        conn.execute_batch("VACUUM")?;
        checkpoint(conn)?;
    }
    Ok(deleted)
}

/// `wal_checkpoint(TRUNCATE)`, retried briefly while readers hold old snapshots.
pub fn checkpoint(conn: &Connection) -> Result<(), StoreError> {
    for _ in 0..50 {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    tracing::warn!("WAL checkpoint stayed busy; it will be retried at the next release");
    Ok(())
}
