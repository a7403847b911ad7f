//! `jianfu reports export`: released reports, decrypted with an investigator's password.
//! The password is checked behind a password gate like a login (P9): the name capped before
//! any work, one Argon2 evaluation at a time, and at most five guesses per account per
//! 15 minutes — counted in the audit log before they are evaluated, so that separate runs of
//! the command share the limit. An unknown name is audited as `unknown` (P8). The CSV goes
//! through the one safe writer (P10).

use std::io::Write;
use std::path::Path;

use super::{sign_in, CliError, ExportFormat};
use crate::crypto::desk_box::BoxKey;
use crate::csv::CsvWriter;
use crate::desk;
use crate::store::{audit, reports};

/// Recorded after a successful export; each one gives its attempt back (P9).
const EXPORTED: &str = "reports.export";

pub fn export(
    dir: &Path,
    config: Option<&Path>,
    username: &str,
    password_stdin: bool,
    format: ExportFormat,
) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let mut conn = data.db.connect()?;
    let signed_in = sign_in::investigator(
        &mut conn,
        &data,
        username,
        password_stdin,
        "export",
        EXPORTED,
    )?;
    let key = signed_in.key.clone();
    let actor = format!("staff:{}", signed_in.account.id);
    // P11: only what was sealed to this investigator's desk.
    let stored = reports::of_desk(&conn, signed_in.desk_id)?;
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
