//! `jianfu desk add|list|fingerprint|rotate`: the investigation desks (P11) and their keys (P5).

use std::io::IsTerminal;
use std::path::Path;

use super::{sign_in, CliError};
use crate::desk::{self, directory};
use crate::store::{audit, desks};

pub fn add(
    dir: &Path,
    config: Option<&Path>,
    code: &str,
    name: &str,
    townships: &[String],
) -> Result<(), CliError> {
    let townships = directory::parse_townships(&townships.join("\n"))
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let (_, data) = super::open(dir, config)?;
    let mut conn = data.db.connect()?;
    directory::add(
        &mut conn,
        "cli",
        directory::AddedBy::Operator,
        code,
        name,
        &townships,
    )
    .map_err(|e| match e {
        directory::DirectoryError::Store(e) => CliError::Store(e),
        e => CliError::Usage(e.to_string()),
    })?;
    println!("Added desk `{code}` ({}). Its key is made when its first investigator enrols: `jianfu user invite --username U --role investigator --desk {code}`.", name.trim());
    Ok(())
}

pub fn list(dir: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let conn = data.db.connect()?;
    let townships = desks::townships(&conn)?;
    println!(
        "{:<12}  {:<19}  name  (townships)",
        "code", "key fingerprint"
    );
    for d in desks::list(&conn)? {
        let fingerprint = d
            .public_key
            .as_ref()
            .map(desk::fingerprint)
            .unwrap_or_else(|| "(no key yet)".into());
        let own: Vec<String> = townships
            .iter()
            .filter(|(_, id)| *id == d.id)
            .map(|(name, _)| name.clone())
            .collect();
        // P5, P11: a district desk added or changed on the console receives no report until
        // an investigator of the city desk approves it.
        let waiting = if d.public_key.is_some() && !desk::approval::is_routable(&d, &own) {
            "  [receives no reports until the city desk approves it: /staff/districts]"
        } else {
            ""
        };
        let own = if own.is_empty() {
            String::new()
        } else {
            format!("  ({})", own.join("、"))
        };
        println!(
            "{:<12}  {:<19}  {}{own}{waiting}",
            d.code, fingerprint, d.name
        );
    }
    Ok(())
}

fn find(conn: &rusqlite::Connection, code: &str) -> Result<desks::Desk, CliError> {
    desks::by_code(conn, code)?.ok_or_else(|| {
        CliError::Usage(format!(
            "there is no desk `{code}` (see `jianfu desk list`)"
        ))
    })
}

pub fn fingerprint(dir: &Path, config: Option<&Path>, code: &str) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let desk = find(&data.db.connect()?, code)?;
    let key = desk.public_key.ok_or_else(|| {
        CliError::Usage(format!(
            "desk `{code}` has no key yet: its first investigator has not enrolled"
        ))
    })?;
    println!("{}", desk::fingerprint(&key));
    Ok(())
}

/// `jianfu desk rotate`: with investigator `username`'s password (and second-factor code),
/// their desk's key is rotated in one transaction; the new recovery code is printed once.
pub fn rotate(
    dir: &Path,
    config: Option<&Path>,
    username: &str,
    password_stdin: bool,
) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let mut conn = data.db.connect()?;
    let signed_in = sign_in::investigator(
        &mut conn,
        &data,
        username,
        password_stdin,
        "desk.rotate",
        "desk.rotate",
    )?;
    let show = std::io::stderr().is_terminal();
    let tx = conn.transaction().map_err(crate::store::StoreError::from)?;
    let started = std::time::Instant::now();
    let (code, done) = desk::rotate(&tx, signed_in.desk_id, &signed_in.key, |n, total| {
        if show {
            eprint!("\rsealing reports again: {n}/{total}");
        }
    })?;
    audit::record(
        &tx,
        &format!("staff:{}", signed_in.account.id),
        "desk.rotate",
        &format!(
            "desk:{} reports:{} notes:{} cases:{} grants:{}",
            signed_in.desk_id, done.reports, done.notes, done.cases, done.grants
        ),
    )?;
    tx.commit().map_err(crate::store::StoreError::from)?;
    let desk_id = signed_in.desk_id;
    // P5: the old key goes now (zeroized on drop).
    drop(signed_in);
    if show {
        eprintln!();
    }
    if let Some(key) = desk::public_key(&conn, desk_id)? {
        eprintln!("New desk key fingerprint: {}", desk::fingerprint(&key));
    }
    eprintln!(
        // P3: the pending pool is sealed again without a number (no live counter of it).
        "Rotated the desk key in {:.1} s: {} reports, {} notes and {} cases sealed again, pending reports sealed again; {} grants renewed. Everyone of the desk signs in again.",
        started.elapsed().as_secs_f64(),
        done.reports,
        done.notes,
        done.cases,
        done.grants
    );
    println!("New recovery code — print it, store it offline, destroy the old one; it is shown only now:");
    println!("{}", code.expose());
    Ok(())
}
