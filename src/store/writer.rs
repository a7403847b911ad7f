//! The one writer of reporter data. Submissions queue here and are committed many to a
//! transaction (group commit): each commit is on disk before any of its submitters hears
//! "stored". Spending a card and storing its report happen in one transaction, and the
//! single writer serializes them, so a card files exactly once (P1). Releases of the pending
//! pool run on the same thread, between groups. The writer does not wait for the disk itself:
//! the flusher (`flusher`) flushes each commit and then answers, while the writer commits the
//! next group.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use rusqlite::{params, Connection};
use tokio::sync::oneshot;

use super::file_times::FileClock;
use super::flusher::{self, Flush, Flusher};
use super::{Db, StoreError};
use crate::crypto::{sealing, CardHash, PublicKey};
use crate::domain::BatchNumber;

/// Submissions that may wait for the writer before `/report` answers 503, by default
/// (`writer_queue`).
pub const QUEUE: usize = 1024;
/// The writer connection's page cache, in KiB (SQLite's default is 2,000 KiB). Not larger:
/// a page split that reorders pages (`balance_nonroot`) parks a page under the number after
/// the lock-byte page, so at the next commit SQLite walks its whole page cache to drop pages
/// past the end of the file. With 16 MiB that walk cost the writer more than the reads the
/// cache saved (issue #12: writer CPU per submission 34 µs with 16 MiB, 25 µs with 2 MiB).
const WRITER_CACHE_KIB: u32 = 2 * 1024;
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

/// When a scheduled release releases a desk's pending copies (P3, P11): with at least `min`
/// of them pending, or once they have waited `hold_max` scheduled releases (`plan_release`).
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
        Writer::spawn_with_flush(db, group, queue, clock, flusher::wal(&db.file()?))
    }

    /// `spawn`, with `flush` standing for the flush of the WAL (tests).
    fn spawn_with_flush(
        db: &Db,
        group: usize,
        queue: usize,
        clock: FileClock,
        flush: Flush,
    ) -> Result<(Writer, JoinHandle<()>), StoreError> {
        let conn = db.connect()?;
        // Issue #12: a commit returns once its frames are written; the flusher makes them
        // durable before anyone is answered (`flusher`).
        conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
        // Issue #12: no checkpoint inside a commit of filings; the checkpointer copies the WAL
        // into the database off the request path (PASSIVE), and each release still truncates
        // the WAL (P2).
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
        // Issue #12: the upper levels of the card and pool b-trees stay in the writer's cache.
        conn.execute_batch(&format!("PRAGMA cache_size = -{WRITER_CACHE_KIB};"))?;
        let checkpointer = spawn_checkpointer(db.connect()?, clock.clone())?;
        let flusher = Flusher::spawn(flush)?;
        let (tx, rx) = mpsc::sync_channel(queue.max(1));
        let handle = std::thread::Builder::new()
            .name("jianfu-writer".into())
            .spawn(move || run(conn, rx, group.max(1), clock, checkpointer, flusher))
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

    /// A scheduled release (P3): moves the pending copies of each desk that `rule` says is due
    /// to the queue; returns how many copies.
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
    flusher: Flusher,
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
            commit_group(&mut conn, files, &clock, &flusher);
            // Full: a checkpoint is already due, which will include this commit.
            let _ = checkpointer.try_send(());
        }
        // A release or a retention is visible to the desk as soon as it commits: it is synced
        // in its own commit, as everything was before the flusher, so no one reads a release
        // that a power loss could undo. The answer still goes through the flusher, after the
        // groups before it.
        if upkeep.is_empty() {
            continue;
        }
        synchronous(&conn, "FULL");
        for job in upkeep {
            let (result, reply) = match job {
                Job::Release(rule, reply) => (release(&mut conn, rule), reply),
                Job::Retain(days, reply) => (retain(&mut conn, days), reply),
                Job::File(_) => continue,
            };
            let result = result.map_err(|e| {
                tracing::error!(error = %e, "pool upkeep failed");
                e.to_string()
            });
            flusher.after_flush(Box::new(move || {
                let _ = reply.send(result);
            }));
        }
        synchronous(&conn, "NORMAL");
    }
}

/// Sets the writer connection's `synchronous` level (NORMAL for filings, FULL for upkeep).
fn synchronous(conn: &Connection, level: &str) {
    if let Err(e) = conn.execute_batch(&format!("PRAGMA synchronous = {level};")) {
        tracing::error!(error = %e, level, "cannot set the writer's synchronous level");
    }
}

fn commit_group(
    conn: &mut Connection,
    files: Vec<Submission>,
    clock: &FileClock,
    flusher: &Flusher,
) {
    let stored = store_group(conn, &files);
    // P3: the files' times say when the last release was, not the last filing — already
    // when the submitters hear "stored".
    clock.reset();
    match stored {
        // Answered once the commit is on disk.
        Ok(outcomes) => {
            let replies: Vec<_> = files.into_iter().map(|s| s.reply).zip(outcomes).collect();
            flusher.after_flush(Box::new(move || {
                for (reply, outcome) in replies {
                    let _ = reply.send(Ok(outcome));
                }
            }))
        }
        // Rolled back: nothing to wait for.
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

/// Which desks release at one scheduled release, and the new wait counts of those whose
/// copies keep waiting (P3, P11). One schedule serves every desk, but each desk decides on
/// its own: a district desk releases its pending copies when it has at least `rule.min` of
/// them, or when they have waited `rule.hold_max` scheduled releases by its own count — so its
/// timing depends only on copies sealed to it, never on city-only reports or other desks'.
///
/// The city desk decides the same way and, besides, releases whenever any district desk does.
/// Every report sent to a district has a copy for the city, filed in the same transaction, so
/// this keeps the city's copy of a report from being released after the district's: at the
/// release where a district's copy goes, the city's copy is either still pending (and goes
/// now) or already released. Without it the city could lag (min 3: two district reports and
/// a city-only one release the city's three while the district's two wait; a third district
/// report then releases the district's three and would leave the city's copy of it pending).
/// The city's decision still depends only on reports it holds a copy of (every district
/// report), and no district's decision depends on the city's.
fn plan_release(
    rule: ReleaseRule,
    city: i64,
    pending: &BTreeMap<i64, i64>,
    waited: &BTreeMap<i64, i64>,
) -> (BTreeSet<i64>, BTreeMap<i64, i64>) {
    let mut release = BTreeSet::new();
    let mut waiting = BTreeMap::new();
    let due = |desk: i64, copies: i64| {
        let waited = waited.get(&desk).copied().unwrap_or(0) + 1;
        (
            copies >= i64::from(rule.min) || waited >= i64::from(rule.hold_max),
            waited,
        )
    };
    for (&desk, &copies) in pending.iter().filter(|(&desk, _)| desk != city) {
        match due(desk, copies) {
            (true, _) => {
                release.insert(desk);
            }
            (false, waited) => {
                waiting.insert(desk, waited);
            }
        }
    }
    if let Some(&copies) = pending.get(&city) {
        match due(city, copies) {
            (false, waited) if release.is_empty() => {
                waiting.insert(city, waited);
            }
            _ => {
                release.insert(city);
            }
        }
    }
    (release, waiting)
}

/// A scheduled release (P3, P2), decided desk by desk (`plan_release`). A desk whose copies
/// wait keeps one number, how many scheduled releases they have waited (never a filing time).
/// The copies of the desks that release move, all together and in shuffled order, to random
/// ids with the release day as the only date, each sealed again under a fresh ephemeral key;
/// then the WAL is checkpointed and truncated so no frame of the filing order is left on disk.
fn release(conn: &mut Connection, rule: ReleaseRule) -> Result<usize, StoreError> {
    let today = super::today().to_string();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let per_desk = super::pending::per_desk(&tx)?;
    if per_desk.is_empty() {
        return Ok(0);
    }
    let city = super::desks::city(&tx)?.id;
    let (releasing, waiting) = plan_release(rule, city, &per_desk, &super::pending::waited(&tx)?);
    for (desk_id, waited) in waiting {
        super::pending::set_waited(&tx, desk_id, waited)?;
    }
    if releasing.is_empty() {
        tx.commit()?;
        return Ok(0);
    }
    let keys = desk_keys(&tx)?;
    let mut pending = super::pending::of_desks(&tx, &releasing)?;
    pending.shuffle(&mut OsRng);
    // P11: the public board's count of what each desk received this release month (shown
    // once the month is over).
    let mut received = BTreeMap::<i64, i64>::new();
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
            while insert.execute(params![super::random_id(), desk_id, today, &released])? == 0 {}
        }
    }
    super::pending::clear(&tx, &releasing)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::cards;

    const CITY: i64 = 1;
    const XIHU: i64 = 2;
    const BINJIANG: i64 = 3;
    const RULE: ReleaseRule = ReleaseRule {
        min: 3,
        hold_max: 5,
    };

    fn map(pairs: &[(i64, i64)]) -> BTreeMap<i64, i64> {
        pairs.iter().copied().collect()
    }

    fn set(desks: &[i64]) -> BTreeSet<i64> {
        desks.iter().copied().collect()
    }

    #[test]
    fn a_submission_is_answered_only_after_the_flush_that_follows_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("jianfu.db")).unwrap();
        let mut conn = db.connect().unwrap();
        let hasher = crate::crypto::CardHasher::new(zeroize::Zeroizing::new([3; 32]));
        let (_, codes) = cards::issue_batch(&mut conn, &hasher, "t", None, 1, |_| {}).unwrap();
        let batch = codes[0].batch().unwrap();
        let card = cards::batch_key(&conn, &hasher, batch)
            .unwrap()
            .unwrap()
            .hash(&codes[0]);
        let schedule = crate::configuration::PoolSettings {
            release_every: std::time::Duration::from_secs(86_400),
            release_at: chrono::NaiveTime::MIN,
            release_min: 3,
            hold_max: 7,
        };
        let clock = FileClock::new(db.path(), schedule);
        // The stand-in flush reports whether the card is spent for another connection (the
        // commit came first), then waits until the test lets it end.
        let (entered_tx, entered) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let flush: Flush = Box::new(move || {
            let spent = !cards::would_file(&conn, &card, batch).unwrap();
            entered_tx.send(spent).ok();
            released.recv().ok();
            Ok(())
        });
        let (writer, _) = Writer::spawn_with_flush(&db, GROUP, QUEUE, clock, flush).unwrap();
        let (reply, mut answer) = oneshot::channel();
        let submission = Submission {
            card,
            batch,
            copies: Vec::new(),
            reply,
        };
        writer.tx.send(Job::File(submission)).unwrap();
        let spent = entered
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the writer's commit was never flushed");
        assert!(spent, "flushed before the commit");
        assert!(
            answer.try_recv().is_err(),
            "answered while the flush was under way"
        );
        release.send(()).unwrap();
        assert_eq!(answer.blocking_recv().unwrap(), Ok(Filed::Stored));
    }

    #[test]
    fn a_districts_release_depends_only_on_its_own_copies() {
        // One district report and two city-only ones: the city has three and goes; the
        // district's one copy waits, exactly as it does without the city-only reports.
        let with = plan_release(RULE, CITY, &map(&[(CITY, 3), (XIHU, 1)]), &map(&[]));
        let without = plan_release(RULE, CITY, &map(&[(CITY, 1), (XIHU, 1)]), &map(&[]));
        assert_eq!(with.0, set(&[CITY]));
        assert_eq!(with.1, map(&[(XIHU, 1)]));
        assert_eq!(without.0, set(&[]));
        assert_eq!(without.1, map(&[(CITY, 1), (XIHU, 1)]));
        // At the fifth scheduled release the district's copy goes either way.
        let with = plan_release(RULE, CITY, &map(&[(XIHU, 1)]), &map(&[(XIHU, 4)]));
        let without = plan_release(
            RULE,
            CITY,
            &map(&[(CITY, 1), (XIHU, 1)]),
            &map(&[(CITY, 4), (XIHU, 4)]),
        );
        assert_eq!(with.0, set(&[XIHU]));
        assert_eq!(without.0, set(&[CITY, XIHU]));
    }

    #[test]
    fn the_city_releases_whenever_a_district_does() {
        // The city's earlier release took the city copies of two district reports; a third
        // district report makes the district's three: the city's copy of it goes too, though
        // the city has only one pending and waited one period.
        let (release, waiting) = plan_release(
            RULE,
            CITY,
            &map(&[(CITY, 1), (XIHU, 3), (BINJIANG, 1)]),
            &map(&[(XIHU, 1), (BINJIANG, 2)]),
        );
        assert_eq!(release, set(&[CITY, XIHU]));
        assert_eq!(
            waiting,
            map(&[(BINJIANG, 3)]),
            "another district keeps its own count"
        );
        // The same holds when the district goes after hold_max.
        let (release, waiting) = plan_release(
            RULE,
            CITY,
            &map(&[(CITY, 1), (XIHU, 1)]),
            &map(&[(XIHU, 4)]),
        );
        assert_eq!(release, set(&[CITY, XIHU]));
        assert!(waiting.is_empty());
    }

    #[test]
    fn each_desk_counts_its_own_wait() {
        let (release, waiting) = plan_release(
            RULE,
            CITY,
            &map(&[(CITY, 2), (XIHU, 2)]),
            &map(&[(CITY, 4), (XIHU, 1)]),
        );
        // The city's oldest has waited five releases: it goes; the district's has waited two.
        assert_eq!(release, set(&[CITY]));
        assert_eq!(waiting, map(&[(XIHU, 2)]));
        // With nothing pending nothing is planned.
        let (release, waiting) = plan_release(RULE, CITY, &map(&[]), &map(&[]));
        assert!(release.is_empty() && waiting.is_empty());
    }
}
