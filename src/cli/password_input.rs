//! Reading passwords: lines of stdin with `--password-stdin`, else a hidden prompt.

use std::io::{BufRead, IsTerminal};

use zeroize::Zeroizing;

use super::CliError;

/// Reads one secret per prompt: from stdin lines, or at a hidden prompt (asked twice when
/// the prompt's flag says it sets a new password).
pub fn read(
    from_stdin: bool,
    prompts: &[(&str, bool)],
) -> Result<Vec<Zeroizing<String>>, CliError> {
    if from_stdin {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        return prompts
            .iter()
            .map(|(p, _)| match lines.next() {
                Some(Ok(line)) => Ok(Zeroizing::new(line.trim_end_matches('\r').to_string())),
                _ => Err(CliError::Usage(format!(
                    "--password-stdin: expected a line for {p} on stdin"
                ))),
            })
            .collect();
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "no terminal to ask for a password: pass --password-stdin".into(),
        ));
    }
    let mut out = Vec::new();
    for (p, confirm) in prompts {
        let first = Zeroizing::new(
            rpassword::prompt_password(format!("{p}: ")).map_err(CliError::io("terminal"))?,
        );
        if *confirm {
            let again = Zeroizing::new(
                rpassword::prompt_password(format!("{p} (again): "))
                    .map_err(CliError::io("terminal"))?,
            );
            if *again != *first {
                return Err(CliError::Usage("the two passwords differ".into()));
            }
        }
        out.push(first);
    }
    Ok(out)
}
