//! `jianfu backup`: a consistent online copy of the database (`VACUUM INTO`, which also
//! leaves free pages and WAL left-overs behind).

use std::path::Path;

use super::CliError;

pub fn run(dir: &Path, config: Option<&Path>, out: &Path) -> Result<(), CliError> {
    if out.exists() {
        return Err(CliError::Usage(format!(
            "{} already exists; refusing to overwrite it",
            out.display()
        )));
    }
    let (_, data) = super::open(dir, config)?;
    let target = out
        .to_str()
        .ok_or_else(|| CliError::Usage("--out must be a UTF-8 path".into()))?;
    data.db
        .connect()?
        .execute("VACUUM INTO ?1", [target])
        .map_err(crate::store::StoreError::from)?;
    println!("Wrote a consistent copy of the database to {}. The key files in {}/keys are not in it: back them up separately.", out.display(), dir.display());
    Ok(())
}
