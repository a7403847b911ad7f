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
    let url = match url {
        Some(u) => u.to_string(),
        None => crate::configuration::Settings::load(dir, config, None)?.public_url + "/",
    };
    let bytes = match out.extension().and_then(|e| e.to_str()) {
        Some("svg") => poster::svg(&url, size).map(String::into_bytes),
        Some("png") => poster::png(&url, size),
        _ => return Err(CliError::Usage("--out must end in .svg or .png".into())),
    }
    .map_err(|e| CliError::Usage(e.to_string()))?;
    std::fs::write(out, bytes).map_err(CliError::io(out.display()))?;
    println!("Wrote the poster for {url} to {}", out.display());
    Ok(())
}
