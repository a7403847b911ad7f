//! The `jianfu` command line (SPEC §3.1). Each command is a small function over the library;
//! errors become one line on stderr and a non-zero exit, never a panic trace.

mod backup;
mod desk;
mod dev;
mod password_input;
mod poster;
mod reports;
mod serve;
mod sign_in;
mod tokens;
mod user;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::accounts::AccountError;
use crate::card_sheet::CardFormat;
use crate::configuration::ConfigError;
use crate::datadir::DataDirError;
use crate::desk::DeskError;
use crate::startup::StartupError;
use crate::store::StoreError;

#[derive(Debug, Parser)]
#[command(
    name = "jianfu",
    version,
    about = "减负码: anonymous burden reports (serve with no command)"
)]
pub struct Cli {
    /// The data dir: database, key files, jianfu.toml.
    #[arg(long, global = true, env = "JIANFU_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// A configuration file instead of DATA_DIR/jianfu.toml.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (initializes a fresh data dir on first run).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        bind: Option<String>,
    },
    /// Create the data dir: database and server keys. Refuses to overwrite.
    Init,
    /// Staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Card batches (减负凭证).
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// The QR poster for the entry URL.
    Poster {
        #[arg(long)]
        out: PathBuf,
        /// The URL to encode [default: public_url].
        #[arg(long)]
        url: Option<String>,
        #[arg(long, value_enum, default_value = "a4")]
        size: crate::poster::PaperSize,
    },
    /// Released reports.
    #[command(subcommand)]
    Reports(ReportsCommand),
    /// A consistent online copy of the database.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// The investigation desks (the city's and the districts') and their keys.
    #[command(subcommand)]
    Desk(DeskCommand),
    /// DEVELOPMENT ONLY: tools for measuring the service (refused outside a dev run).
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Fill the data dir with synthetic released reports (needs JIANFU_DEV=1).
    Seed {
        #[arg(long)]
        reports: u32,
        /// The desk the reports are filed to (a district's also go to the city desk).
        #[arg(long, value_name = "CODE", default_value = "city")]
        desk: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeskCommand {
    /// Add a district desk (the city desk `city` exists from `init`).
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// A township (乡镇/街道) that belongs to the desk: the form sends its reports there.
        /// Repeat it, or separate names with commas.
        #[arg(long = "township", value_name = "NAME")]
        townships: Vec<String>,
    },
    /// The desks, their codes, names and key fingerprints.
    List,
    /// A desk public key's fingerprint, as the desk and the console show it.
    Fingerprint {
        #[arg(long, default_value = "city")]
        desk: String,
    },
    /// Rotate investigator V's desk key: everything sealed again, grants renewed, a new
    /// recovery code printed once.
    Rotate {
        #[arg(long, value_name = "V")]
        username: String,
        /// Read the password from the first line of stdin (and the second-factor code, if the
        /// account has one, from the second).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff account with a password you know (scripts and tests: production staff
    /// enrol through `user invite`).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Read the password from the first line of stdin (and the grantor's from the second).
        #[arg(long)]
        password_stdin: bool,
        /// An existing investigator who grants the desk key to the new investigator.
        #[arg(long, value_name = "V")]
        grant_from: Option<String>,
        /// An investigator's desk.
        #[arg(long, value_name = "CODE", default_value = "city")]
        desk: String,
    },
    /// Make an account without a password and print a one-time enrolment URL (valid 72 hours)
    /// at which its holder sets their own.
    Invite {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// An investigator's desk.
        #[arg(long, value_name = "CODE", default_value = "city")]
        desk: String,
    },
    /// Grant the desk key to an investigator with the printed recovery code (when no
    /// investigator who holds it can sign in).
    Recover {
        #[arg(long)]
        username: String,
        /// Read the recovery code from the first line of stdin.
        #[arg(long)]
        code_stdin: bool,
    },
    /// Issue a new enrolment link for an account (a forgotten password): its password, own key
    /// and grant are destroyed.
    Reset {
        #[arg(long)]
        username: String,
    },
    /// Clear an account's second factor (a lost phone, when no other admin can clear it in
    /// the console); it can set up a new one after signing in with its password.
    ClearSecondFactor {
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Investigator,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issue a batch of cards and print their codes (shown this once only).
    Issue {
        #[arg(long)]
        count: u32,
        #[arg(long)]
        label: String,
        /// Last day the cards may be used (YYYY-MM-DD).
        #[arg(long)]
        expires: Option<String>,
        #[arg(long, value_enum, default_value = "txt")]
        format: CardFormat,
        /// Write to FILE instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List batches: issued, expiry, revoked.
    List,
    /// Revoke all unused cards of a batch.
    Revoke {
        #[arg(long)]
        batch: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportsCommand {
    /// Decrypt and print released reports.
    Export {
        #[arg(long)]
        username: String,
        /// Read the password from the first line of stdin (and the second-factor code, if the
        /// account has one, from the second).
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

/// Why a command failed; printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Desk(#[from] DeskError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Csv(#[from] crate::csv::CsvError),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl CliError {
    pub fn io(path: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> CliError {
        let path = path.to_string();
        move |source| CliError::Io { path, source }
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let dir = cli.data_dir.as_path();
    let config = cli.config.as_deref();
    match cli.command.unwrap_or(Command::Serve { bind: None }) {
        Command::Serve { bind } => serve::run(dir, config, bind.as_deref()),
        Command::Init => serve::init(dir),
        Command::User(UserCommand::Add {
            username,
            role,
            password_stdin,
            grant_from,
            desk,
        }) => user::add(
            dir,
            config,
            &username,
            role,
            &desk,
            password_stdin,
            grant_from.as_deref(),
        ),
        Command::User(UserCommand::Invite {
            username,
            role,
            desk,
        }) => user::invite(dir, config, &username, role, &desk),
        Command::User(UserCommand::Reset { username }) => user::reset(dir, config, &username),
        Command::Desk(DeskCommand::Add {
            code,
            name,
            townships,
        }) => desk::add(dir, config, &code, &name, &townships),
        Command::Desk(DeskCommand::List) => desk::list(dir, config),
        Command::Desk(DeskCommand::Fingerprint { desk }) => desk::fingerprint(dir, config, &desk),
        Command::Desk(DeskCommand::Rotate {
            username,
            password_stdin,
        }) => desk::rotate(dir, config, &username, password_stdin),
        Command::User(UserCommand::Recover {
            username,
            code_stdin,
        }) => user::recover(dir, config, &username, code_stdin),
        Command::User(UserCommand::ClearSecondFactor { username }) => {
            user::clear_second_factor(dir, config, &username)
        }
        Command::Tokens(TokensCommand::Issue {
            count,
            label,
            expires,
            format,
            out,
        }) => tokens::issue(
            dir,
            config,
            count,
            &label,
            expires.as_deref(),
            format,
            out.as_deref(),
        ),
        Command::Tokens(TokensCommand::List) => tokens::list(dir, config),
        Command::Tokens(TokensCommand::Revoke { batch }) => tokens::revoke(dir, config, batch),
        Command::Poster { out, url, size } => poster::run(dir, config, &out, url.as_deref(), size),
        Command::Reports(ReportsCommand::Export {
            username,
            password_stdin,
            format,
        }) => reports::export(dir, config, &username, password_stdin, format),
        Command::Backup { out } => backup::run(dir, config, &out),
        Command::Dev(DevCommand::Seed { reports, desk }) => dev::seed(dir, config, reports, &desk),
    }
}

/// Opens the data dir with the settings (the example key only in a development run).
fn open(
    dir: &std::path::Path,
    config: Option<&std::path::Path>,
) -> Result<(crate::configuration::Settings, crate::datadir::DataDir), CliError> {
    let settings = crate::configuration::Settings::load(dir, config, None)?;
    let data = crate::datadir::open(dir, settings.dev)?;
    Ok((settings, data))
}
