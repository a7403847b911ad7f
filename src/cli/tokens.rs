//! `jianfu tokens issue|list|revoke`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use chrono::NaiveDate;

use super::CliError;
use crate::card_sheet::{self, CardFormat};
use crate::store::{audit, cards, StoreError};

#[allow(clippy::too_many_arguments)]
pub fn issue(
    dir: &Path,
    config: Option<&Path>,
    count: u32,
    label: &str,
    expires: Option<&str>,
    format: CardFormat,
    out: Option<&Path>,
) -> Result<(), CliError> {
    if count == 0 || count > 1_000_000 {
        return Err(CliError::Usage(
            "--count must be between 1 and 1000000".into(),
        ));
    }
    let label = label.trim();
    if label.is_empty() {
        return Err(CliError::Usage("--label must not be empty".into()));
    }
    let expires = expires
        .map(|e| {
            NaiveDate::parse_from_str(e, "%Y-%m-%d").map_err(|_| {
                CliError::Usage(format!("--expires `{e}` is not a date like 2027-06-30"))
            })
        })
        .transpose()?;
    if expires.is_some_and(|d| d < crate::store::today()) {
        return Err(CliError::Usage("--expires is in the past".into()));
    }
    let (settings, data) = super::open(dir, config)?;
    // Open the output first: a batch whose codes cannot be written would be lost.
    let mut sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(CliError::io(path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let show_progress = std::io::stderr().is_terminal();
    let mut conn = data.db.connect()?;
    let (batch_id, codes) = cards::issue_batch(
        &mut conn,
        &data.card_hasher,
        label,
        expires,
        count,
        |done| {
            if show_progress {
                eprint!("\rissuing cards: {done}/{count}");
                if done == count {
                    eprintln!();
                }
            }
        },
    )?;
    audit::record(
        &conn,
        "cli",
        "batch.issue",
        &format!("batch:{batch_id} count:{count}"),
    )?;
    let text = card_sheet::render(
        format,
        &card_sheet::Batch {
            id: batch_id,
            label,
            expires,
            entry_url: &settings.public_url,
        },
        &codes,
    )
    .map_err(|e| CliError::Usage(format!("card sheet: {e}")))?;
    let where_to = out
        .map(|p| p.display().to_string())
        .unwrap_or("stdout".into());
    sink.write_all(text.as_bytes())
        .and_then(|_| sink.flush())
        .map_err(CliError::io(&where_to))?;
    eprintln!("Issued batch {batch_id} ({count} cards, `{label}`). The codes are not stored: keep this output until it is printed.");
    Ok(())
}

pub fn list(dir: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let batches = cards::list_batches(&data.db.connect()?)?;
    println!(
        "{:>5}  {:<10}  {:<10}  {:<10}  {:>7}  label",
        "batch", "issued", "expires", "revoked", "cards"
    );
    for b in batches {
        println!(
            "{:>5}  {:<10}  {:<10}  {:<10}  {:>7}  {}",
            b.id,
            b.issued_on,
            b.expires_on.as_deref().unwrap_or("-"),
            b.revoked_on.as_deref().unwrap_or("-"),
            b.issued,
            b.label
        );
    }
    Ok(())
}

pub fn revoke(dir: &Path, config: Option<&Path>, batch: i64) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let mut conn = data.db.connect()?;
    match cards::revoke_batch(&mut conn, batch) {
        Err(StoreError::NotFound) => Err(CliError::Usage(format!("there is no batch {batch}"))),
        Err(e) => Err(e.into()),
        Ok(()) => {
            audit::record(&conn, "cli", "batch.revoke", &format!("batch:{batch}"))?;
            println!("Revoked every unused card of batch {batch}.");
            Ok(())
        }
    }
}
