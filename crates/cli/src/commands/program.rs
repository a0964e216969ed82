//! `accredit program validate|apply`: programs as code.

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs};
use accredit_app::programs::ProgramPlan;
use accredit_app::{AppError, Ctx};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ProgramCommand {
    /// Check a program file and report every problem with its line and column.
    Validate(FileArg),
    /// Apply a program file atomically (audited), or with --dry-run show what would change.
    Apply(ApplyArgs),
}

#[derive(Debug, Args)]
pub struct FileArg {
    /// The program file (TOML).
    file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    file: FileArg,
    /// Show what would change without changing anything.
    #[arg(long)]
    dry_run: bool,
}

fn read(file: &PathBuf) -> Result<String, CliError> {
    std::fs::read_to_string(file)
        .map_err(|e| CliError::failed(format!("cannot read {}: {e}", file.display())))
}

/// Program errors, one per line, prefixed with the file name like a compiler's.
fn report(file: &std::path::Path, error: AppError) -> CliError {
    match error {
        AppError::Invalid(problems) => {
            let lines: Vec<_> = problems
                .iter()
                .map(|p| match p.field.strip_prefix("line ") {
                    Some(position) => format!(
                        "{}:{}: {}",
                        file.display(),
                        position.replace(", column ", ":"),
                        p.message
                    ),
                    None => format!("{}: {}: {}", file.display(), p.field, p.message),
                })
                .collect();
            CliError::failed(format!(
                "{} problem{} in {}:\n{}",
                lines.len(),
                if lines.len() == 1 { "" } else { "s" },
                file.display(),
                lines.join("\n")
            ))
        }
        other => other.into(),
    }
}

pub fn print_plan(plan: &ProgramPlan) {
    let verb = if plan.applied {
        "applied"
    } else {
        "would apply"
    };
    if plan.unchanged {
        println!(
            "program `{}` version {} is already applied; nothing changes",
            plan.program_id, plan.version
        );
        return;
    }
    println!(
        "{verb} program `{}` version {}: {} change(s)",
        plan.program_id,
        plan.version,
        plan.changes.len()
    );
    for change in &plan.changes {
        let sign = match change.change.as_str() {
            "added" => "+",
            "removed" => "-",
            _ => "~",
        };
        println!("  {sign} {} `{}` {}", change.kind, change.id, change.change);
        for detail in &change.details {
            println!("      {detail}");
        }
    }
    for moved in &plan.tier_moves {
        println!(
            "  tier: {} partner(s) move from {} to {}",
            moved.partners,
            moved.from.as_deref().unwrap_or("no tier"),
            moved.to.as_deref().unwrap_or("no tier")
        );
    }
    for change in &plan.holder_changes {
        if change.policy == "keep" {
            println!(
                "  holders: track {}: {}; its {} current holder(s) keep their dates",
                change.track, change.summary, change.holders
            );
        } else {
            println!(
                "  holders: track {}: {}; of {} current holder(s), {} end later, {} earlier, {} unchanged (largest move {} days)",
                change.track,
                change.summary,
                change.holders,
                change.later,
                change.earlier,
                change.unchanged,
                change.largest_move_days
            );
        }
    }
}

pub async fn run(global: &GlobalArgs, command: ProgramCommand) -> Result<(), CliError> {
    match command {
        ProgramCommand::Validate(args) => {
            let text = read(&args.file)?;
            match accredit_formats::program::parse(&text) {
                Ok(program) => {
                    println!(
                        "{}: program `{}` version {} is valid ({} tracks, {} tiers, {} benefits)",
                        args.file.display(),
                        program.id,
                        program.version,
                        program.tracks.len(),
                        program.tiers.len(),
                        program.benefits.len()
                    );
                    Ok(())
                }
                Err(errors) => {
                    let problems = errors
                        .into_iter()
                        .map(|e| {
                            accredit_domain::InvalidInput::new(
                                format!("line {}, column {}", e.line, e.column),
                                e.message,
                            )
                        })
                        .collect();
                    Err(report(&args.file, AppError::Invalid(problems)))
                }
            }
        }
        ProgramCommand::Apply(args) => {
            let text = read(&args.file.file)?;
            let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
            let ctx = Ctx::system();
            let plan = if args.dry_run {
                app.plan_program(&ctx, &text).await
            } else {
                app.apply_program(&ctx, &text).await
            }
            .map_err(|e| report(&args.file.file, e))?;
            print_plan(&plan);
            Ok(())
        }
    }
}
