//! SQLite storage: one database file in the data dir, opened in WAL mode with full sync and
//! `secure_delete` (the writer's commits are synced by its flusher instead), its schema
//! migrated at open. All writes from reporters go through the one
//! writer thread (`writer`); staff pages and the CLI read and write through short-lived
//! connections.

pub mod audit;
pub mod board;
pub mod cards;
pub mod cases;
pub mod desks;
pub mod file_times;
pub mod flusher;
pub mod meta;
pub mod pending;
pub mod reader;
pub mod reference;
pub mod reports;
pub mod schema;
pub mod staff;
pub mod writer;

use std::ops::Range;
use std::path::{Path, PathBuf};

use rand::rngs::OsRng;
use rand::Rng;
use rusqlite::Connection;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database at {0} was made by a newer version of jianfu")]
    TooNew(PathBuf),
    #[error("the database at {0} was made by an earlier version of jianfu, whose cards were stored with their batch; it cannot be carried over. Start afresh: move its data dir aside and run `jianfu init` (or `jianfu serve`), then issue new cards")]
    PreviousFormat(PathBuf),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("the writer has stopped")]
    WriterGone,
}

/// Where the database lives; hands out configured connections.
#[derive(Debug, Clone)]
pub struct Db {
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Db, StoreError> {
        let db = Db {
            path: path.to_path_buf(),
        };
        let mut conn = db.connect()?;
        schema::migrate(&mut conn, path)?;
        Ok(db)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file SQLite really opened, symbolic links resolved: its `-wal` and `-shm` files
    /// are named after it, not after `path` (the flusher and the file clock need those).
    pub fn file(&self) -> Result<PathBuf, StoreError> {
        let conn = Connection::open(&self.path)?;
        match conn.path() {
            Some(file) if !file.is_empty() => Ok(PathBuf::from(file)),
            _ => Err(StoreError::Conflict(format!(
                "SQLite names no file for the database at {}",
                self.path.display()
            ))),
        }
    }

    /// A new connection with the pragmas every connection needs.
    pub fn connect(&self) -> Result<Connection, StoreError> {
        let mut conn = Connection::open(&self.path)?;
        // A transaction takes the write lock when it begins, so it waits its turn (busy
        // timeout) rather than failing when another connection wrote between its reads and
        // its first write.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Durability: a commit is on disk (WAL fsync'd) before it is acknowledged. (The
        // writer's connection leaves that to its flusher, which does the same off its thread.)
        // P2: deleted content (spent cards, released pending rows) is overwritten with zeros.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA secure_delete = ON;
             PRAGMA foreign_keys = ON;",
        )?;
        Ok(conn)
    }
}

/// Where random row ids are drawn from: eight digits, short enough to read out and type,
/// the range released reports' ids come from (`writer::release`).
pub const RANDOM_IDS: Range<i64> = 10_000_000..100_000_000;

/// A random row id from `RANDOM_IDS`, so that an id says nothing about how many rows were
/// made before it, nor by whom (P2 for reports; P11 for cases: one desk's ids say nothing
/// about another desk's). The caller draws again on a collision.
pub fn random_id() -> i64 {
    OsRng.gen_range(RANDOM_IDS)
}

/// Today's date in the server's time zone: the only kind of date a report carries.
pub fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}
