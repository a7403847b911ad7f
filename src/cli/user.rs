//! `jianfu user add|invite|reset|recover|clear-second-factor`.

use std::path::Path;

use super::password_input;
use super::{CliError, RoleArg};
use crate::accounts::{self, Grantor};
use crate::store::staff::Role;

fn role_of(role: RoleArg) -> Role {
    match role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Investigator => Role::Investigator,
    }
}

/// The desk with code `code`.
fn desk_id(conn: &rusqlite::Connection, code: &str) -> Result<i64, CliError> {
    Ok(crate::store::desks::by_code(conn, code)?
        .ok_or_else(|| {
            CliError::Usage(format!(
                "there is no desk `{code}` (see `jianfu desk list`)"
            ))
        })?
        .id)
}

pub fn add(
    dir: &Path,
    config: Option<&Path>,
    username: &str,
    role: RoleArg,
    desk: &str,
    password_stdin: bool,
    grant_from: Option<&str>,
) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let role = role_of(role);
    if grant_from.is_some() && role != Role::Investigator {
        return Err(CliError::Usage(
            "--grant-from is only for investigators".into(),
        ));
    }
    let grantor_prompt = format!("password of investigator {}", grant_from.unwrap_or(""));
    let mut prompts = vec![("new password", true)];
    if grant_from.is_some() {
        prompts.push((grantor_prompt.as_str(), false));
    }
    let secrets = password_input::read(password_stdin, &prompts)?;
    let grantor = grant_from.map(|v| Grantor {
        username: v,
        password: &secrets[1],
    });
    let mut conn = data.db.connect()?;
    let desk_id = desk_id(&conn, desk)?;
    let added = accounts::add(
        &mut conn,
        "cli",
        username,
        role,
        desk_id,
        &secrets[0],
        grantor,
    )?;
    println!("Created {} `{username}`.", role.code());
    if role == Role::Investigator && !added.granted {
        println!("`{username}` can read reports once an investigator grants the desk key (in the desk: 团队 → 授权, or again with --grant-from).");
    }
    if let Some(code) = added.recovery {
        println!("The desk key was created. Recovery code — print it, store it offline, it is shown only now:");
        println!("{}", code.expose());
    }
    Ok(())
}

/// `jianfu user invite`: an account with no password, and the one-time URL at which its
/// holder sets their own (P5).
pub fn invite(
    dir: &Path,
    config: Option<&Path>,
    username: &str,
    role: RoleArg,
    desk: &str,
) -> Result<(), CliError> {
    let (settings, data) = super::open(dir, config)?;
    let mut conn = data.db.connect()?;
    let desk_id = desk_id(&conn, desk)?;
    let invitation = accounts::invite(
        &mut conn,
        accounts::OPERATOR,
        username,
        role_of(role),
        desk_id,
    )?;
    print_link(&settings.public_url, username, &invitation);
    Ok(())
}

fn print_link(public_url: &str, username: &str, invitation: &accounts::Invitation) {
    eprintln!(
        "Give this one-time link to `{username}` in person; they set their own password there. It works once, for {} hours. Do not open it yourself: whoever does sets the password.",
        accounts::LINK_HOURS
    );
    println!("{public_url}{}", invitation.link.path());
}

/// `jianfu user reset`: a new enrolment link; the account's password, own key and grant are
/// destroyed (P5).
pub fn reset(dir: &Path, config: Option<&Path>, username: &str) -> Result<(), CliError> {
    let (settings, data) = super::open(dir, config)?;
    let mut conn = data.db.connect()?;
    let account = crate::store::staff::find(&conn, username)?
        .ok_or_else(|| CliError::Usage(format!("no account `{username}`")))?;
    let invitation = accounts::reset(&mut conn, accounts::OPERATOR, account.id)?;
    print_link(&settings.public_url, username, &invitation);
    Ok(())
}

/// `jianfu user recover`: the recovery code unwraps the desk key, which is granted to the
/// investigator `username` (sealed to their own key; their password is not needed).
pub fn recover(
    dir: &Path,
    config: Option<&Path>,
    username: &str,
    code_stdin: bool,
) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let conn = data.db.connect()?;
    let account = crate::store::staff::find(&conn, username)?
        .filter(|a| a.role == Role::Investigator)
        .ok_or_else(|| CliError::Usage(format!("`{username}` is not an investigator")))?;
    let desk_id = account
        .desk_id
        .ok_or_else(|| CliError::Usage(format!("`{username}` has no desk")))?;
    let typed = password_input::read(code_stdin, &[("recovery code", false)])?;
    let code = crate::crypto::RecoveryCode::parse(&typed[0])
        .ok_or_else(|| CliError::Usage("a recovery code is 32 hexadecimal characters".into()))?;
    let desk_key = crate::desk::unlock_with_recovery(&conn, desk_id, &code)?;
    crate::desk::grant_to(&conn, &desk_key, account.id)?;
    crate::store::audit::record(
        &conn,
        "cli",
        "desk.recover",
        &format!("staff:{}", account.id),
    )?;
    println!("Granted the desk key to `{username}` with the recovery code.");
    Ok(())
}

pub fn clear_second_factor(
    dir: &Path,
    config: Option<&Path>,
    username: &str,
) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let conn = data.db.connect()?;
    let account = crate::store::staff::find(&conn, username)?
        .ok_or_else(|| CliError::Usage(format!("no account `{username}`")))?;
    if crate::store::staff::delete_totp(&conn, account.id)? {
        crate::store::audit::record(
            &conn,
            "cli",
            "account.totp_reset",
            &format!("staff:{}", account.id),
        )?;
        println!("Cleared the second factor of `{username}`; they can set up a new one after signing in.");
    } else {
        println!("`{username}` has no second factor.");
    }
    Ok(())
}
