//! `jianfu reports export`: released reports, decrypted with an investigator's password.
//! The password is checked behind a password gate like a login (P9): the name capped before
//! any work, one Argon2 evaluation at a time, and at most five guesses per account per
//! 15 minutes — counted in the audit log before they are evaluated, so that separate runs of
//! the command share the limit. An unknown name is audited as `unknown` (P8). The CSV goes
//! through the one safe writer (P10).

use std::io::Write;
use std::path::Path;

use super::{password_input, CliError, ExportFormat};
use crate::authentication::gate::{self, PasswordGate};
use crate::authentication::password;
use crate::crypto::desk_box::BoxKey;
use crate::crypto::SecretKey;
use crate::csv::CsvWriter;
use crate::desk;
use crate::store::staff::{self, Role};
use crate::store::{audit, reports};

/// The audit action recorded before each password check of an export (P9).
const ATTEMPT: &str = "export.attempt";
/// Recorded after a successful export; each one gives its attempt back.
const EXPORTED: &str = "reports.export";

pub fn export(
    dir: &Path,
    config: Option<&Path>,
    username: &str,
    password_stdin: bool,
    format: ExportFormat,
) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let password = password_input::read(password_stdin, &[("password", false)])?;
    if username.len() > gate::MAX_USERNAME_BYTES {
        return Err(CliError::Usage(
            "no account has a name that long (at most 32 characters)".into(),
        ));
    }
    let mut conn = data.db.connect()?;
    let found = staff::find(&conn, username)?;
    let Some(account) = found
        .as_ref()
        .filter(|a| a.role == Role::Investigator && !a.disabled)
    else {
        // P8: an unknown name is never written as typed.
        let actor = found
            .as_ref()
            .map_or_else(|| "unknown".into(), |a| format!("staff:{}", a.id));
        audit::record(
            &conn,
            &actor,
            "export.refused",
            "not an active investigator",
        )?;
        return Err(CliError::Usage(format!(
            "`{username}` is not an active investigator"
        )));
    };
    let actor = format!("staff:{}", account.id);
    if !audit::count_guess(
        &mut conn,
        &actor,
        ATTEMPT,
        EXPORTED,
        gate::GUESSES,
        gate::WINDOW,
    )? {
        audit::record(&conn, &actor, "export.refused", "too many attempts")?;
        return Err(CliError::Usage(format!(
            "too many wrong passwords for `{username}` in the last 15 minutes: wait, then try again"
        )));
    }
    let gate = PasswordGate::with_threads(1, 1).map_err(CliError::io("password checker"))?;
    let (db, id, hash) = (data.db.clone(), account.id, account.password_hash.clone());
    let checked = gate
        .check_blocking(
            username,
            move |guess| -> Result<Option<SecretKey>, CliError> {
                if !password::verify(&password[0], Some(&hash)) {
                    return Ok(None);
                }
                guess.right();
                let conn = db.connect()?;
                Ok(Some(
                    desk::unlock(&conn, id, &password[0])?.ok_or(desk::DeskError::NotGranted)?,
                ))
            },
        )
        .map_err(|refusal| CliError::Usage(refusal.to_string()))??;
    let Some(key) = checked else {
        audit::record(&conn, &actor, "export.refused", "wrong password")?;
        return Err(CliError::Usage("wrong password".into()));
    };
    let stored = reports::all(&conn)?;
    audit::record(&conn, &actor, EXPORTED, &format!("count:{}", stored.len()))?;
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    let box_key = BoxKey::derive(&key);
    match format {
        ExportFormat::Jsonl => {
            let mut out = out;
            for s in &stored {
                let r = desk::open_report(&key, &box_key, s)?;
                let mut line =
                    serde_json::to_string(&r).map_err(|e| CliError::Usage(e.to_string()))?;
                line.push('\n');
                out.write_all(line.as_bytes())
                    .map_err(CliError::io("stdout"))?;
            }
            out.flush().map_err(CliError::io("stdout"))?;
        }
        ExportFormat::Csv => {
            // P10: what reporters typed is neutralized before any spreadsheet sees it.
            let mut csv = CsvWriter::new(out)?;
            csv.row([
                "id",
                "category",
                "channel",
                "department",
                "township",
                "occurred",
                "listed",
                "body",
                "released",
                "status",
            ])?;
            for s in &stored {
                let r = desk::open_report(&key, &box_key, s)?;
                csv.row([
                    r.id.as_str(),
                    r.category.code(),
                    r.channel.code(),
                    &r.department,
                    &r.township,
                    &r.occurred.to_string(),
                    r.listed.code(),
                    &r.body,
                    &r.released,
                    r.status.code(),
                ])?;
            }
            csv.finish()?.flush().map_err(CliError::io("stdout"))?;
        }
    }
    Ok(())
}
