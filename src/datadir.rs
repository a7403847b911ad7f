//! The data dir: `jianfu.db`, `keys/card-hash.key`, and optionally `jianfu.toml`.
//! P1: the card-hash key lives in a key file, never in the database.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::crypto::CardHasher;
use crate::store::{Db, StoreError};

/// The example key shipped in `keys-example/`; `serve` refuses it outside a development run.
const EXAMPLE_CARD_KEY: &str = include_str!("../keys-example/card-hash.key");

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{0} already holds a jianfu database; refusing to overwrite it")]
    Exists(PathBuf),
    #[error("{0} is not initialized: run `jianfu init` (or `jianfu serve`, which initializes a fresh data dir)")]
    Missing(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {0} is not valid: expected 64 hexadecimal characters")]
    BadKey(PathBuf),
    #[error("key file {0} is the published example key; use it only with `dev = true` (JIANFU_DEV=1), never in production")]
    ExampleKey(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An opened data dir.
pub struct DataDir {
    pub root: PathBuf,
    pub db: Db,
    pub card_hasher: CardHasher,
}

pub fn db_path(root: &Path) -> PathBuf {
    root.join("jianfu.db")
}

pub fn card_key_path(root: &Path) -> PathBuf {
    root.join("keys").join("card-hash.key")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub fn is_initialized(root: &Path) -> bool {
    db_path(root).exists()
}

/// Creates a fresh data dir: database and key file. Refuses to overwrite either.
pub fn init(root: &Path) -> Result<DataDir, DataDirError> {
    if is_initialized(root) {
        return Err(DataDirError::Exists(root.to_path_buf()));
    }
    let keys = root.join("keys");
    fs::create_dir_all(&keys).map_err(io(&keys))?;
    restrict(root, 0o700)?;
    restrict(&keys, 0o700)?;
    let key_path = card_key_path(root);
    if !key_path.exists() {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        let text = Zeroizing::new(format!(
            "# jianfu card-hash key (HMAC-SHA256). Secret: keep it off the database's backups.\n{}\n",
            hex::encode(key.as_ref())
        ));
        let mut f = create_private(&key_path)?;
        f.write_all(text.as_bytes()).map_err(io(&key_path))?;
        f.sync_all().map_err(io(&key_path))?;
    }
    Db::open(&db_path(root))?;
    open(root, true)
}

/// Opens an initialized data dir. `allow_example_key` is set only for development runs.
pub fn open(root: &Path, allow_example_key: bool) -> Result<DataDir, DataDirError> {
    if !is_initialized(root) {
        return Err(DataDirError::Missing(root.to_path_buf()));
    }
    let key_path = card_key_path(root);
    let text = Zeroizing::new(fs::read_to_string(&key_path).map_err(io(&key_path))?);
    let key = parse_key(&text).ok_or_else(|| DataDirError::BadKey(key_path.clone()))?;
    if !allow_example_key && parse_key(EXAMPLE_CARD_KEY).is_some_and(|ex| *ex == *key) {
        return Err(DataDirError::ExampleKey(key_path));
    }
    Ok(DataDir {
        root: root.to_path_buf(),
        db: Db::open(&db_path(root))?,
        card_hasher: CardHasher::new(key),
    })
}

fn parse_key(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(line, key.as_mut()).ok()?;
    Some(key)
}

#[cfg(unix)]
fn create_private(path: &Path) -> Result<fs::File, DataDirError> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> Result<fs::File, DataDirError> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io(path))
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<(), DataDirError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> Result<(), DataDirError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_refuses_to_overwrite_and_open_refuses_the_example_key() {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path()).unwrap();
        assert!(matches!(init(dir.path()), Err(DataDirError::Exists(_))));
        open(dir.path(), false).unwrap();
        fs::write(card_key_path(dir.path()), EXAMPLE_CARD_KEY).unwrap();
        assert!(matches!(
            open(dir.path(), false),
            Err(DataDirError::ExampleKey(_))
        ));
        open(dir.path(), true).unwrap();
    }

    #[test]
    fn the_key_is_not_in_the_database() {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path()).unwrap();
        let text = fs::read_to_string(card_key_path(dir.path())).unwrap();
        let key = parse_key(&text).unwrap();
        let db = fs::read(db_path(dir.path())).unwrap();
        assert!(!db.windows(32).any(|w| w == key.as_ref()));
    }
}
