//! `jianfu reports export`: released reports, decrypted with an investigator's password.

use std::io::Write;
use std::path::Path;

use super::{sign_in, CliError, ExportFormat};
use crate::crypto::desk_box::BoxKey;
use crate::csv;
use crate::desk;
use crate::store::{audit, reports};

pub fn export(
    dir: &Path,
    config: Option<&Path>,
    username: &str,
    password_stdin: bool,
    format: ExportFormat,
) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let conn = data.db.connect()?;
    let signed_in = sign_in::investigator(&conn, &data, username, password_stdin, "export")?;
    let (key, desk_id) = (signed_in.key.clone(), signed_in.desk_id);
    // P11: only what was sealed to this investigator's desk.
    let stored = reports::of_desk(&conn, desk_id)?;
    audit::record(
        &conn,
        &format!("staff:{}", signed_in.account.id),
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
