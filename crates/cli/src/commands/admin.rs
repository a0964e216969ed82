//! Administration commands: they act as the operator, who holds the database itself.

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs};
use accredit_app::Ctx;
use accredit_app::accounts::NewPerson;
use accredit_app::audit::ChainStatus;
use accredit_domain::Role;
use clap::{Args, Subcommand};
use std::io::Read as _;

pub async fn migrate(global: &GlobalArgs) -> Result<(), CliError> {
    let settings = crate::config::Settings::load(global, &ServerArgs::default())?;
    super::init_logging(&settings.log)?;
    settings.prepare_data_dir()?;
    let db = accredit_app::Db::connect(&settings.database_url).await?;
    let applied = db.migrate().await?;
    let version = db.schema_version().await?;
    if applied.is_empty() {
        println!("database is up to date (schema version {version})");
    } else {
        let list: Vec<_> = applied.iter().map(i64::to_string).collect();
        println!(
            "applied migration(s) {}; schema version is now {version}",
            list.join(", ")
        );
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person. Prints their id, and a generated password unless one is given on stdin.
    Create(UserCreateArgs),
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    #[arg(long)]
    email: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// Role; repeat for several: program_admin, partner_account_manager, reviewer, proctor,
    /// partner_admin, learner.
    #[arg(long = "role", required = true)]
    roles: Vec<Role>,
    /// Partner organisation id (required for partner_admin and learner).
    #[arg(long)]
    partner: Option<String>,
    /// Job role within the programs (sales, technical, ...), which selects their tracks.
    #[arg(long)]
    job_role: Option<String>,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    password_stdin: bool,
}

pub async fn user(global: &GlobalArgs, command: UserCommand) -> Result<(), CliError> {
    let UserCommand::Create(args) = command;
    let (generated, password) = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::failed(format!("reading the password from stdin: {e}")))?;
        (false, text.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        (true, accredit_app::auth::new_form_token())
    };
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    let person = app
        .create_person(
            &Ctx::system(),
            NewPerson {
                email: args.email,
                display_name: args.name,
                roles: args.roles,
                partner_id: args.partner,
                job_role: args.job_role,
                password: Some(password.clone()),
            },
        )
        .await?;
    println!(
        "created {} <{}> with id {}",
        person.display_name, person.email, person.id
    );
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exit 0 when intact, 1 naming the first broken event.
    Verify,
}

pub async fn audit(global: &GlobalArgs, command: AuditCommand) -> Result<(), CliError> {
    let AuditCommand::Verify = command;
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    match app.verify_audit_chain().await? {
        ChainStatus::Intact { events } => {
            println!("audit trail OK: {events} events, hash chain intact");
            Ok(())
        }
        ChainStatus::Broken(broken) => Err(CliError::failed(format!(
            "audit trail BROKEN at event {}: {}",
            broken.seq, broken.reason
        ))),
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print its secret (shown only this once) on standard output.
    Create(TokenCreateArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    #[arg(long)]
    name: String,
    /// Scope; repeat for several: partners:read, partners:write, people:read, people:write,
    /// audit:read.
    #[arg(long = "scope", required = true)]
    scopes: Vec<String>,
}

pub async fn token(global: &GlobalArgs, command: TokenCommand) -> Result<(), CliError> {
    let TokenCommand::Create(args) = command;
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    let issued = app
        .create_api_token(&Ctx::system(), &args.name, &args.scopes.join(" "))
        .await?;
    eprintln!(
        "created API token `{}` (id {}) with scopes {}; store it now, it is not shown again:",
        issued.token.name,
        issued.token.id,
        issued
            .token
            .scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("{}", issued.secret);
    Ok(())
}
