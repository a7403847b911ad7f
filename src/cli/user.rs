//! `jianfu user add`.

use std::path::Path;

use super::password_input;
use super::{CliError, RoleArg};
use crate::accounts::{self, Grantor};
use crate::store::staff::Role;

pub fn add(
    dir: &Path,
    config: Option<&Path>,
    username: &str,
    role: RoleArg,
    password_stdin: bool,
    grant_from: Option<&str>,
) -> Result<(), CliError> {
    let (_, data) = super::open(dir, config)?;
    let role = match role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Investigator => Role::Investigator,
    };
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
    let added = accounts::add(&mut conn, "cli", username, role, &secrets[0], grantor)?;
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
    let typed = password_input::read(code_stdin, &[("recovery code", false)])?;
    let code = crate::crypto::RecoveryCode::parse(&typed[0])
        .ok_or_else(|| CliError::Usage("a recovery code is 32 hexadecimal characters".into()))?;
    let desk_key = crate::desk::unlock_with_recovery(&conn, &code)?;
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
