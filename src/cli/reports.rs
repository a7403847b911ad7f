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
use crate::store::{audit, desks, reports};

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
    // P11: where district desks exist, each report says which desk it was filed to (and, for
    // the city desk, whether it was kept from that district).
    let districts = desks::list(&conn)?.len() > 1;
    audit::record(&conn, &actor, EXPORTED, &format!("count:{}", stored.len()))?;
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    let box_key = BoxKey::derive(&key);
    match format {
        ExportFormat::Jsonl => {
            let mut out = out;
            for s in &stored {
                let r = desk::open_report(&key, &box_key, s)?;
                let mut value =
                    serde_json::to_value(&r).map_err(|e| CliError::Usage(e.to_string()))?;
                if let (true, Some(object)) = (districts, value.as_object_mut()) {
                    object.insert("desk".into(), r.desk.clone().into());
                    object.insert("city_only".into(), r.city_only.into());
                }
                let mut line = value.to_string();
                line.push('\n');
                out.write_all(line.as_bytes())
                    .map_err(CliError::io("stdout"))?;
            }
            out.flush().map_err(CliError::io("stdout"))?;
        }
        ExportFormat::Csv => {
            // P10: what reporters typed is neutralized before any spreadsheet sees it.
            let mut csv = CsvWriter::new(out)?;
            let mut header = vec![
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
            if districts {
                header.extend(["desk", "city_only"]);
            }
            csv.row(header)?;
            for s in &stored {
                let r = desk::open_report(&key, &box_key, s)?;
                let occurred = r.occurred.to_string();
                let mut row = vec![
                    r.id.as_str(),
                    r.category.code(),
                    r.channel.code(),
                    &r.department,
                    &r.township,
                    &occurred,
                    r.listed.code(),
                    &r.body,
                    &r.released,
                    r.status.code(),
                ];
                if districts {
                    row.extend([r.desk.as_str(), if r.city_only { "1" } else { "0" }]);
                }
                csv.row(row)?;
            }
            csv.finish()?.flush().map_err(CliError::io("stdout"))?;
        }
    }
    Ok(())
}
