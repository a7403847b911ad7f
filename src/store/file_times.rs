//! P3: between releases, the modification time of `jianfu.db-wal` would be the time of the last
//! filing. After every commit of filings the writer sets the access and modification times of
//! the database's files back to the last scheduled release, which anyone may know. (A file's
//! change time, ctime, cannot be set; see SECURITY.md for what that leaves.)

use std::path::{Path, PathBuf};

use filetime::FileTime;

use crate::configuration::PoolSettings;

/// Puts the database files' times back to the last scheduled release.
#[derive(Clone)]
pub struct FileClock {
    files: Vec<PathBuf>,
    schedule: PoolSettings,
}

impl FileClock {
    pub fn new(db: &Path, schedule: PoolSettings) -> FileClock {
        let with = |suffix: &str| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        FileClock {
            files: vec![db.to_path_buf(), with("-wal"), with("-shm")],
            schedule,
        }
    }

    /// Sets every file's times to the last scheduled release. A file that is missing or cannot
    /// be touched is skipped: this hides a time, it never stops a filing.
    pub fn reset(&self) {
        let now = chrono::Local::now();
        let last = crate::pool::previous_release(&self.schedule, now.naive_local());
        let at = FileTime::from_unix_time(crate::pool::local(last).timestamp(), 0);
        for file in &self.files {
            // By path (utimensat), never through a file descriptor: closing any descriptor of
            // a database file would drop this process's POSIX locks on it, which SQLite holds
            // (`set_file_times` opens and closes the file on this toolchain). The files are
            // never symlinks, so not following one changes nothing.
            if let Err(e) = filetime::set_symlink_file_times(file, at, at) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(error = %e, "could not reset a database file's times");
                }
            }
        }
    }
}
