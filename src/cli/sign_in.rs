//! Signing in as an investigator on the command line (`reports export`, `desk rotate`): the
//! password from the first stdin line (or a hidden prompt), then, when the account has a
//! second factor, its current code from the next line (P8). Every refusal is audited, an
//! unknown username as `unknown`.

use rusqlite::Connection;

use super::{password_input, CliError};
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

/// Signs `username` in; `action` names what for, in the audit of a refusal.
pub fn investigator(
    conn: &Connection,
    data: &DataDir,
    username: &str,
    from_stdin: bool,
    action: &str,
) -> Result<SignedIn, CliError> {
    let typed = password_input::read(from_stdin, &[("password", false)])?;
    let account = staff::find(conn, username)?.filter(|a| !a.disabled);
    let refused = |actor: String| -> Result<SignedIn, CliError> {
        audit::record(conn, &actor, &format!("{action}.refused"), "")?;
        Err(CliError::Usage(
            "wrong username, password or second-factor code".into(),
        ))
    };
    let ok = password::verify(
        &typed[0],
        account.as_ref().and_then(|a| a.password_hash.as_deref()),
    );
    let Some(account) = account.filter(|_| ok) else {
        return refused("unknown".into());
    };
    let actor = format!("staff:{}", account.id);
    if let Some(sealed) = staff::totp(conn, account.id)? {
        let code = password_input::read(from_stdin, &[("second-factor code", false)])?;
        let secret = crate::authentication::totp::TotpSealer::new(&data.card_hasher)
            .open(account.id, &sealed)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let accepted = match secret.check(code[0].trim(), totp::now()) {
            Some(step) => staff::claim_totp_step(conn, account.id, step)?,
            None => false,
        };
        if !accepted {
            return refused(actor);
        }
    }
    let (Role::Investigator, Some(desk_id)) = (account.role, account.desk_id) else {
        return Err(CliError::Usage(format!(
            "`{username}` is not an investigator"
        )));
    };
    let key = desk::unlock(conn, account.id, &typed[0])?.ok_or(desk::DeskError::NotGranted)?;
    Ok(SignedIn {
        account,
        desk_id,
        key,
    })
}
