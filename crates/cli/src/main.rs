//! `accredit`: the portal server and the commands that administer it.

mod commands;
mod config;

use clap::{Parser, Subcommand};
use config::GlobalArgs;
use std::process::ExitCode;

/// Accredit: partner certification — training, fair assessments, verifiable credentials, and
/// the checks other systems make.
#[derive(Debug, Parser)]
#[command(name = "accredit", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web portal and the JSON API.
    Serve(commands::serve::ServeArgs),
    /// Bring the database schema up to date.
    Migrate,
    /// Manage people.
    #[command(subcommand)]
    User(commands::admin::UserCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(commands::admin::AuditCommand),
    /// Manage API tokens for integrations.
    #[command(subcommand)]
    Token(commands::admin::TokenCommand),
    /// Import training content.
    #[command(subcommand)]
    Content(commands::content::ContentCommand),
    /// Verify credentials offline.
    #[command(subcommand)]
    Credential(commands::credential::CredentialCommand),
    /// Manage the keys that sign credentials.
    #[command(subcommand)]
    Keys(commands::credential::KeysCommand),
    /// Import exam items.
    #[command(subcommand)]
    Items(commands::items::ItemsCommand),
    /// Validate and apply program files.
    #[command(subcommand)]
    Program(commands::program::ProgramCommand),
    /// Import and export partner staff as CSV.
    #[command(subcommand)]
    People(commands::people::PeopleCommand),
    /// The daily sweep (reminders, renewal windows, expiries) and message delivery.
    #[command(subcommand)]
    Jobs(commands::jobs::JobsCommand),
    /// Customer health scores per partner and quarter.
    #[command(subcommand)]
    Health(commands::lifecycle::HealthCommand),
    /// Triggered recertification.
    #[command(subcommand)]
    Trigger(commands::lifecycle::TriggerCommand),
    /// Outcome metrics per partner and quarter, for the outcome reports.
    #[command(subcommand)]
    Outcomes(commands::lifecycle::OutcomesCommand),
}

/// A failure the command line reports: a message for people and an exit code for scripts.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    /// Bad configuration or arguments.
    pub const CONFIG: u8 = 2;
    /// The database is unreachable, too old or too new.
    pub const DATABASE: u8 = 3;
    /// The operation ran and its answer is "no" (invalid input, broken audit chain).
    pub const FAILED: u8 = 1;

    pub fn config(message: impl Into<String>) -> Self {
        Self {
            code: Self::CONFIG,
            message: message.into(),
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            code: Self::FAILED,
            message: message.into(),
        }
    }
}

impl From<accredit_app::DbError> for CliError {
    fn from(error: accredit_app::DbError) -> Self {
        Self {
            code: Self::DATABASE,
            message: error.to_string(),
        }
    }
}

impl From<accredit_app::AppError> for CliError {
    fn from(error: accredit_app::AppError) -> Self {
        match error {
            accredit_app::AppError::Internal(cause) => Self::failed(format!("{cause:#}")),
            other => Self::failed(other.to_string()),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error.message);
            ExitCode::from(error.code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve(args) => commands::serve::run(&cli.global, args).await,
        Command::Migrate => commands::admin::migrate(&cli.global).await,
        Command::User(command) => commands::admin::user(&cli.global, command).await,
        Command::Audit(command) => commands::admin::audit(&cli.global, command).await,
        Command::Token(command) => commands::admin::token(&cli.global, command).await,
        Command::Program(command) => commands::program::run(&cli.global, command).await,
        Command::Content(command) => commands::content::run(&cli.global, command).await,
        Command::Items(command) => commands::items::run(&cli.global, command).await,
        Command::Credential(commands::credential::CredentialCommand::Verify(args)) => {
            commands::credential::verify(args).await
        }
        Command::Keys(commands::credential::KeysCommand::Rotate) => {
            commands::credential::rotate(&cli.global).await
        }
        Command::People(command) => commands::people::run(&cli.global, command).await,
        Command::Jobs(command) => commands::jobs::run(&cli.global, command).await,
        Command::Health(command) => commands::lifecycle::health(&cli.global, command).await,
        Command::Trigger(command) => commands::lifecycle::trigger(&cli.global, command).await,
        Command::Outcomes(command) => commands::lifecycle::outcomes(&cli.global, command).await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
