//! Issue #12: the flush that makes a committed group durable, off the writer's thread.
//!
//! The writer commits each group with `synchronous = NORMAL` — SQLite appends the group's
//! frames to the WAL and returns without waiting for the disk — and hands the group's answers
//! here. This thread `fdatasync`s the WAL and only then sends them, while the writer already
//! commits the next group: the disk's flush of one group overlaps the work of the next, and
//! one flush covers every group committed before it began.
//!
//! Why an answer sent after this flush is as durable as one sent after a `synchronous = FULL`
//! commit: a commit's frames are written (`pwrite`) before the commit returns, so a later
//! `fdatasync` of the WAL's inode — through any descriptor — puts them on disk, commit frame
//! and WAL header included; at the next open SQLite recovers every commit whose frames are
//! on disk. Frames are only overwritten after a checkpoint has copied them into the database
//! and synced it (SQLite syncs checkpoints at `NORMAL`). The WAL flushed is the one SQLite
//! names after the file it opened (`Db::file`: through a symbolic link, not the link's name);
//! if it is missing, nothing can be vouched for. Readers may see a filing before its flush —
//! only the writer reads the pending pool, and anything a later commit builds on is synced
//! with it; releases and retention commit at `FULL` (the desk sees them at once).
//!
//! If a flush fails, the disk may have dropped pages the kernel now calls clean, so no later
//! flush could vouch for them: the service stops without answering (as PostgreSQL does), and
//! SQLite recovers at the next start what really is on disk. A submitter never hears "stored"
//! for a report that is not.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, SyncSender};

use super::StoreError;

/// What to do once the groups committed so far are on disk: answer their submitters.
pub type Answers = Box<dyn FnOnce() + Send>;

/// How the flusher puts what the writer committed on disk; `wal` in service, a stand-in in
/// tests.
pub type Flush = Box<dyn FnMut() -> io::Result<()> + Send>;

/// Committed groups that may wait for a flush before the writer itself waits: when the disk
/// falls behind, the writer stops taking submissions and the queue's 503 takes over.
const GROUPS_AHEAD: usize = 8;

/// A handle to the flusher thread; the thread ends, after answering what it holds, when the
/// handle is dropped.
pub struct Flusher {
    tx: SyncSender<Answers>,
}

impl Flusher {
    pub fn spawn(flush: Flush) -> Result<Flusher, StoreError> {
        let (tx, rx) = mpsc::sync_channel(GROUPS_AHEAD);
        std::thread::Builder::new()
            .name("jianfu-flush".into())
            .spawn(move || run(flush, rx))
            .map_err(|e| StoreError::Conflict(format!("cannot start the flusher: {e}")))?;
        Ok(Flusher { tx })
    }

    /// Runs `answers` once everything committed before this call is on disk.
    pub fn after_flush(&self, answers: Answers) {
        // The thread only ends when this handle is dropped, or by stopping the process.
        let _ = self.tx.send(answers);
    }
}

fn run(mut flush: Flush, rx: Receiver<Answers>) {
    while let Ok(first) = rx.recv() {
        let mut waiting = vec![first];
        waiting.extend(rx.try_iter());
        if let Err(e) = flush() {
            tracing::error!(
                error = %e,
                "the database's journal could not be flushed to disk; stopping so that no \
                 submission is answered as stored that might not be"
            );
            std::process::exit(1);
        }
        for answers in waiting {
            answers();
        }
    }
}

/// The real flush: `fdatasync` of the WAL of the database file `db` — the file SQLite opened
/// (`Db::file`), which a symbolic link to the database is not.
pub fn wal(db: &std::path::Path) -> Flush {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    let mut wal = WalFile {
        path: PathBuf::from(name),
        file: None,
    };
    Box::new(move || wal.flush())
}

struct WalFile {
    path: PathBuf,
    /// Kept open while it is the WAL (closing it cannot drop SQLite's POSIX locks: SQLite
    /// locks the database and `-shm` files, never the WAL).
    file: Option<File>,
}

impl WalFile {
    fn flush(&mut self) -> io::Result<()> {
        // While the writer's connection is open SQLite never deletes the WAL (it would need
        // the exclusive lock that the connection's shared lock denies): a missing WAL means
        // this is not the file SQLite writes, and nothing can be vouched for.
        let on_disk = std::fs::metadata(&self.path)?.ino();
        let open_one = match &self.file {
            Some(file) => file.metadata()?.ino() == on_disk,
            None => false,
        };
        if !open_one {
            self.file = Some(File::open(&self.path)?);
        }
        match &self.file {
            Some(file) => file.sync_data(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_wait_for_the_flush_and_one_flush_serves_every_group_before_it() {
        let (entered_tx, entered) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let flusher = Flusher::spawn(Box::new(move || {
            entered_tx.send(()).ok();
            released.recv().ok();
            Ok(())
        }))
        .unwrap();
        let (answered_tx, answered) = mpsc::channel();
        let answer = |n: u32| -> Answers {
            let tx = answered_tx.clone();
            Box::new(move || tx.send(n).unwrap())
        };
        let within = std::time::Duration::from_secs(10);
        flusher.after_flush(answer(1));
        entered.recv_timeout(within).expect("no flush began");
        // The first flush is under way: groups 2 and 3 are committed meanwhile.
        flusher.after_flush(answer(2));
        flusher.after_flush(answer(3));
        assert!(
            answered.try_recv().is_err(),
            "answered before the flush ended"
        );
        release.send(()).unwrap();
        assert_eq!(answered.recv_timeout(within).unwrap(), 1);
        // Groups 2 and 3 were committed after the first flush began: they wait for another,
        // which serves both.
        entered.recv_timeout(within).expect("no second flush");
        assert!(
            answered.try_recv().is_err(),
            "answered before their flush ended"
        );
        release.send(()).unwrap();
        assert_eq!(answered.recv_timeout(within).unwrap(), 2);
        assert_eq!(answered.recv_timeout(within).unwrap(), 3);
        assert!(entered.try_recv().is_err(), "one flush for both");
    }

    #[test]
    fn the_wal_flush_follows_a_new_wal_file_and_refuses_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db-wal");
        let mut wal = WalFile {
            path: path.clone(),
            file: None,
        };
        let open_one = |wal: &WalFile| wal.file.as_ref().map(|f| f.metadata().unwrap().ino());
        assert!(wal.flush().is_err(), "no WAL: nothing can be vouched for");
        std::fs::write(&path, b"one").unwrap();
        wal.flush().unwrap();
        let first = open_one(&wal);
        assert_eq!(first, Some(std::fs::metadata(&path).unwrap().ino()));
        // A new WAL file (another inode): the flush syncs that one, not the old.
        let keep = dir.path().join("old");
        std::fs::rename(&path, &keep).unwrap();
        std::fs::write(&path, b"two").unwrap();
        wal.flush().unwrap();
        assert_eq!(
            open_one(&wal),
            Some(std::fs::metadata(&path).unwrap().ino())
        );
        assert_ne!(open_one(&wal), first);
    }

    #[test]
    fn through_a_symbolic_link_the_flush_syncs_the_wal_sqlite_writes() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("disk");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&real).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        std::os::unix::fs::symlink(real.join("jianfu.db"), data.join("jianfu.db")).unwrap();
        let db = crate::store::Db::open(&data.join("jianfu.db")).unwrap();
        let _open = db.connect().unwrap();
        let file = db.file().unwrap();
        assert_eq!(
            file.canonicalize().unwrap(),
            real.join("jianfu.db").canonicalize().unwrap()
        );
        assert!(real.join("jianfu.db-wal").exists());
        assert!(!data.join("jianfu.db-wal").exists());
        wal(&file)().unwrap();
        assert!(
            wal(&data.join("jianfu.db"))().is_err(),
            "the link's name has no WAL"
        );
    }
}
