//! `jianfu serve` and `jianfu init`.

use std::io::Write;
use std::path::Path;

use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::CliError;
use crate::configuration::Settings;
use crate::datadir;
use crate::startup::Application;
use crate::store::{meta, staff};

pub fn init(dir: &Path) -> Result<(), CliError> {
    datadir::init(dir)?;
    println!(
        "Initialized {}: database and keys/card-hash.key.",
        dir.display()
    );
    println!("Next: `jianfu serve --data-dir {}`", dir.display());
    Ok(())
}

pub fn run(dir: &Path, config: Option<&Path>, bind: Option<&str>) -> Result<(), CliError> {
    let settings = Settings::load(dir, config, bind)?;
    let fresh = !datadir::is_initialized(dir);
    if fresh {
        datadir::init(dir)?;
    }
    let data = datadir::open(dir, settings.dev)?;
    let setup_token = new_setup_token_if_needed(&data.db)?;
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings, data)?;
        let url = app.settings.public_url.clone();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "jianfu is serving on http://{}", app.settings.bind);
        if fresh {
            let _ = writeln!(out, "Initialized a new data dir at {}", dir.display());
        }
        let _ = writeln!(out, "Entry page (the URL on the poster): {url}/");
        let _ = writeln!(out, "Staff login: {url}/staff/login");
        if let Some(token) = setup_token {
            let _ = writeln!(
                out,
                "First run: open {url}/staff/setup/{token} to create the first admin and investigator (the link works once)."
            );
        } else {
            let _ = writeln!(
                out,
                "Next: issue cards with `jianfu tokens issue --count 50 --label 第一批 --data-dir {}`",
                dir.display()
            );
        }
        let _ = out.flush();
        drop(out);
        app.run().await
    })?;
    Ok(())
}

/// While no staff account exists, each start makes a new one-time setup link (only its hash
/// is stored).
fn new_setup_token_if_needed(db: &crate::store::Db) -> Result<Option<String>, CliError> {
    let conn = db.connect()?;
    if staff::count(&conn, None)? > 0 {
        return Ok(None);
    }
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    meta::set(
        &conn,
        meta::SETUP_TOKEN_HASH,
        &Sha256::digest(token.as_bytes()),
    )?;
    Ok(Some(token))
}
