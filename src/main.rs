//! The `jianfu` binary: parse the command line, run it, print one line on failure.

use clap::error::ErrorKind;
use clap::Parser;

fn main() -> std::process::ExitCode {
    jianfu::telemetry::init();
    let cli = match jianfu::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            // SPEC §3.1: one clear line, not clap's usage block.
            let text = e.render().to_string();
            let message = text.split("\n\nUsage:").next().unwrap_or(&text);
            let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
            let message = message.trim_start_matches("error: ");
            eprintln!("jianfu: error: {message} (see `jianfu --help`)");
            return std::process::ExitCode::from(2);
        }
    };
    match jianfu::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jianfu: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
