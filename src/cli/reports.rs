//! `jianfu reports export`: released reports, decrypted with an investigator's password.
//! The CSV goes through the one safe writer (P10).

use std::io::Write;
use std::path::Path;

use super::{password_input, CliError, ExportFormat};
use crate::crypto::desk_box::BoxKey;
use crate::csv::CsvWriter;
use crate::desk;
use crate::store::staff::{self, Role};
use crate::store::{audit, reports};

pub fn export(
    dir: &Path,
    config: Option<&Path>,
    username: &str,
    password_stdin: bool,
    format: ExportFormat,
) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let password = password_input::read(password_stdin, &[("password", false)])?;
    let conn = data.db.connect()?;
    let account = staff::find(&conn, username)?
        .filter(|a| a.role == Role::Investigator && !a.disabled)
        .ok_or_else(|| CliError::Usage(format!("`{username}` is not an active investigator")))?;
    if !crate::authentication::password::verify(&password[0], Some(&account.password_hash)) {
        audit::record(&conn, &format!("login:{username}"), "export.refused", "")?;
        return Err(CliError::Usage("wrong password".into()));
    }
    let key = desk::unlock(&conn, account.id, &password[0])?.ok_or(desk::DeskError::NotGranted)?;
    let stored = reports::all(&conn)?;
    audit::record(
        &conn,
        &format!("staff:{}", account.id),
        "reports.export",
        &format!("count:{}", stored.len()),
    )?;
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
