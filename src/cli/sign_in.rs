//! Signing in as an investigator on the command line (`reports export`, `desk rotate`): the
//! password from the first stdin line (or a hidden prompt), then, when the account has a
//! second factor, its current code from the next line (P8). P9: the name is capped before any
//! work, each guess is counted in the audit log before it is evaluated (five per account per
//! fifteen minutes, shared by separate runs), and the Argon2 work runs behind a password gate.
//! Every refusal is audited, an unknown username as `unknown`.

use rusqlite::Connection;

use super::{password_input, CliError};
use crate::authentication::gate::{self, PasswordGate};
use crate::authentication::{password, totp};
use crate::crypto::SecretKey;
use crate::datadir::DataDir;
use crate::desk;
use crate::store::audit;
use crate::store::staff::{self, Account, Role};

/// An investigator signed in, with their desk's key unwrapped.
pub struct SignedIn {
    pub account: Account,
    pub desk_id: i64,
    pub key: SecretKey,
}

/// Signs `username` in for `action` (`export`, `desk.rotate`): audited as `{action}.attempt`
/// before the password is checked, `{action}.refused` on a refusal; the caller records
/// `done`, which gives the attempt back (`audit::count_guess`).
pub fn investigator(
    conn: &mut Connection,
    data: &DataDir,
    username: &str,
    from_stdin: bool,
    action: &str,
    done: &str,
) -> Result<SignedIn, CliError> {
    let typed = password_input::read(from_stdin, &[("password", false)])?;
    if username.len() > gate::MAX_USERNAME_BYTES {
        return Err(CliError::Usage(
            "no account has a name that long (at most 32 characters)".into(),
        ));
    }
    let refused = format!("{action}.refused");
    let found = staff::find(conn, username)?;
    let Some(account) = found
        .clone()
        .filter(|a| a.role == Role::Investigator && !a.disabled && a.desk_id.is_some())
    else {
        // P8: an unknown name is never written as typed.
        let actor = found
            .as_ref()
            .map_or_else(|| "unknown".into(), |a| format!("staff:{}", a.id));
        audit::record(conn, &actor, &refused, "not an active investigator")?;
        return Err(CliError::Usage(format!(
            "`{username}` is not an active investigator"
        )));
    };
    let actor = format!("staff:{}", account.id);
    let attempt = format!("{action}.attempt");
    if !audit::count_guess(conn, &actor, &attempt, done, gate::GUESSES, gate::WINDOW)? {
        audit::record(conn, &actor, &refused, "too many attempts")?;
        return Err(CliError::Usage(format!(
            "too many wrong passwords for `{username}` in the last 15 minutes: wait, then try again"
        )));
    }
    let gate = PasswordGate::with_threads(1, 1).map_err(CliError::io("password checker"))?;
    let (db, id, hash) = (data.db.clone(), account.id, account.password_hash.clone());
    let password = typed[0].clone();
    let checked = gate
        .check_blocking(username, move |_| -> Result<Option<SecretKey>, CliError> {
            if !password::verify(&password, hash.as_deref()) {
                return Ok(None);
            }
            let conn = db.connect()?;
            Ok(Some(
                desk::unlock(&conn, id, &password)?.ok_or(desk::DeskError::NotGranted)?,
            ))
        })
        .map_err(|refusal| CliError::Usage(refusal.to_string()))??;
    let Some(key) = checked else {
        audit::record(conn, &actor, &refused, "wrong password")?;
        return Err(CliError::Usage("wrong password".into()));
    };
    if let Some(sealed) = staff::totp(conn, account.id)? {
        let code = password_input::read(from_stdin, &[("second-factor code", false)])?;
        let secret = totp::TotpSealer::new(&data.card_hasher)
            .open(account.id, &sealed)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let accepted = match secret.check(code[0].trim(), totp::now()) {
            Some(step) => staff::claim_totp_step(conn, account.id, step)?,
            None => false,
        };
        if !accepted {
            audit::record(conn, &actor, &refused, "second factor")?;
            return Err(CliError::Usage("wrong second-factor code".into()));
        }
    }
    let desk_id = account.desk_id.unwrap_or_default();
    Ok(SignedIn {
        account,
        desk_id,
        key,
    })
}
