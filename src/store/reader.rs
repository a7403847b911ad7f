//! Quick reads on the request path, on a connection kept per thread: a reporter's card is
//! checked on the worker that parsed the form, without a hop to another thread (issue #12) and
//! without waiting for the writer (WAL readers never block on it).

use std::cell::RefCell;
use std::path::PathBuf;

use rusqlite::Connection;

use super::{Db, StoreError};

thread_local! {
    static READER: RefCell<Option<(PathBuf, Connection)>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's connection to `db`, opening it the first time.
pub fn with<T>(
    db: &Db,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    READER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(path, _)| path != db.path()) {
            *slot = Some((db.path().to_path_buf(), db.connect()?));
        }
        match slot.as_ref() {
            Some((_, conn)) => f(conn),
            None => Err(StoreError::Conflict("no reader connection".into())),
        }
    })
}
