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
