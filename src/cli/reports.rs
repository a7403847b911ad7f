//! `jianfu reports export`: released reports, decrypted with an investigator's password.

use std::io::Write;
use std::path::Path;

use super::{password_input, CliError, ExportFormat};
use crate::crypto::desk_box::BoxKey;
use crate::csv;
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
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let ExportFormat::Csv = format {
        let header = [
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
        ];
        out.write_all(csv::record(header).as_bytes())
            .map_err(CliError::io("stdout"))?;
    }
    let box_key = BoxKey::derive(&key);
    for s in &stored {
        let r = desk::open_report(&key, &box_key, s)?;
        let line = match format {
            ExportFormat::Jsonl => {
                let mut l =
                    serde_json::to_string(&r).map_err(|e| CliError::Usage(e.to_string()))?;
                l.push('\n');
                l
            }
            ExportFormat::Csv => csv::record([
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
            ]),
        };
        out.write_all(line.as_bytes())
            .map_err(CliError::io("stdout"))?;
    }
    out.flush().map_err(CliError::io("stdout"))?;
    Ok(())
}
