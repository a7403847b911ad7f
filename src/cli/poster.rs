//! `jianfu poster`: the QR poster for the entry URL, as SVG or PNG, A4 or A3.

use std::path::Path;

use super::CliError;
use crate::poster::{self, PaperSize};

pub fn run(
    dir: &Path,
    config: Option<&Path>,
    out: &Path,
    url: Option<&str>,
    size: PaperSize,
) -> Result<(), CliError> {
    let png = match out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg") => false,
        Some("png") => true,
        _ => return Err(CliError::Usage("--out must end in .svg or .png".into())),
    };
    let url = match url {
        Some(u) => {
            let u = u.trim();
            if !(u.starts_with("https://") || u.starts_with("http://"))
                || u.contains(char::is_whitespace)
            {
                return Err(CliError::Usage(format!(
                    "--url `{u}` is not an http:// or https:// address"
                )));
            }
            u.to_string()
        }
        None => {
            let settings = crate::configuration::Settings::load(dir, config, None)?;
            if !settings.public_url_set {
                eprintln!(
                    "warning: public_url is not configured; the poster encodes {}/ (set public_url or pass --url)",
                    settings.public_url
                );
            }
            settings.public_url + "/"
        }
    };
    let bytes = if png {
        poster::png(&url, size)
    } else {
        poster::svg(&url, size).map(String::into_bytes)
    }
    .map_err(|e| CliError::Usage(e.to_string()))?;
    std::fs::write(out, bytes).map_err(CliError::io(out.display()))?;
    println!("Wrote the poster for {url} to {}", out.display());
    Ok(())
}
