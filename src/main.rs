//! The `jianfu` binary: parse the command line, run it, print one line on failure.

use clap::Parser;

fn main() -> std::process::ExitCode {
    jianfu::telemetry::init();
    let cli = jianfu::cli::Cli::parse();
    match jianfu::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jianfu: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
