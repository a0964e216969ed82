//! `accredit health import` and `accredit trigger record`: the inputs of remediation and
//! triggered recertification, from the command line.

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs};
use accredit_app::Ctx;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum HealthCommand {
    /// Record customer health scores from CSV (header partner,quarter,score), all or nothing.
    Import(HealthImportArgs),
}

#[derive(Debug, Args)]
pub struct HealthImportArgs {
    #[arg(long)]
    program: String,
    file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum OutcomesCommand {
    /// Record outcome metrics from CSV (header partner,quarter,metric,value), all or nothing.
    Import(OutcomesImportArgs),
}

#[derive(Debug, Args)]
pub struct OutcomesImportArgs {
    file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum TriggerCommand {
    /// Require holders of tracks to recertify by a deadline (regulatory update, major release).
    Record(TriggerArgs),
}

#[derive(Debug, Args)]
pub struct TriggerArgs {
    #[arg(long)]
    program: String,
    /// An affected track; repeat for several.
    #[arg(long = "track", required = true)]
    tracks: Vec<String>,
    /// A changed module: only holders whose credential covered it are affected. Repeatable.
    #[arg(long = "module")]
    modules: Vec<String>,
    /// A changed exam domain: only holders of tracks whose exams test it. Repeatable.
    #[arg(long = "domain")]
    domains: Vec<String>,
    /// What changed; affected people read it.
    #[arg(long)]
    reason: String,
    /// The last day to recertify, YYYY-MM-DD.
    #[arg(long)]
    deadline: String,
    /// regulatory-update, major-release, ...
    #[arg(long, default_value = "regulatory-update")]
    kind: String,
}

/// Prints each problem of a refused file with the file's name; other errors pass through.
fn refused(file: &std::path::Path, error: accredit_app::AppError) -> CliError {
    match error {
        accredit_app::AppError::Invalid(problems) => {
            for problem in &problems {
                eprintln!("{}: {}: {}", file.display(), problem.field, problem.message);
            }
            CliError::failed(format!(
                "{} problem(s); nothing was recorded",
                problems.len()
            ))
        }
        other => other.into(),
    }
}

fn read(file: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(file)
        .map_err(|e| CliError::failed(format!("cannot read {}: {e}", file.display())))
}

pub async fn health(global: &GlobalArgs, command: HealthCommand) -> Result<(), CliError> {
    let HealthCommand::Import(args) = command;
    let bytes = read(&args.file)?;
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    let report = app
        .import_health_csv(&Ctx::system(), &args.program, &bytes)
        .await
        .map_err(|e| refused(&args.file, e))?;
    println!("recorded {} score(s)", report.recorded);
    for partner in report.remediation_opened {
        println!("remediation opened for {partner}");
    }
    Ok(())
}

pub async fn outcomes(global: &GlobalArgs, command: OutcomesCommand) -> Result<(), CliError> {
    let OutcomesCommand::Import(args) = command;
    let bytes = read(&args.file)?;
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    let report = app
        .import_outcomes_csv(&Ctx::system(), &bytes)
        .await
        .map_err(|e| refused(&args.file, e))?;
    println!("recorded {} value(s)", report.recorded);
    Ok(())
}

pub async fn trigger(global: &GlobalArgs, command: TriggerCommand) -> Result<(), CliError> {
    let TriggerCommand::Record(args) = command;
    let deadline = args.deadline.parse().map_err(|e| {
        CliError::failed(format!(
            "--deadline `{}` is not a date (YYYY-MM-DD): {e}",
            args.deadline
        ))
    })?;
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    let trigger = app
        .record_trigger(
            &Ctx::system(),
            &args.program,
            accredit_app::recert::NewTrigger {
                kind: args.kind,
                reason: args.reason,
                tracks: args.tracks,
                modules: args.modules,
                domains: args.domains,
                deadline,
            },
        )
        .await?;
    println!(
        "trigger {}: {} people must recertify by {}",
        trigger.id, trigger.affected, trigger.deadline
    );
    Ok(())
}
