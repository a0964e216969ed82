//! `accredit people import|export`: partner staff as CSV, acting as the operator. The format is
//! described in `accredit_formats::people_csv`.

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs};
use accredit_app::Ctx;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write as _;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// Add or update partner staff from a CSV file; refused rows are reported as FILE:LINE.
    Import(ImportArgs),
    /// Write partner staff as CSV, in the format `import` reads.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// CSV with a header row: email, display_name, roles (learner, partner_admin separated by `;`
    /// or spaces), and optionally job_role, partner_id, id, active.
    file: PathBuf,
    /// Partner organisation id for every row; without it each row needs a partner_id.
    #[arg(long, value_name = "ID")]
    partner: Option<String>,
    /// Write nothing when any row is invalid.
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only this partner organisation's people.
    #[arg(long, value_name = "ID")]
    partner: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub async fn run(global: &GlobalArgs, command: PeopleCommand) -> Result<(), CliError> {
    match command {
        PeopleCommand::Import(args) => import(global, args).await,
        PeopleCommand::Export(args) => export(global, args).await,
    }
}

async fn import(global: &GlobalArgs, args: ImportArgs) -> Result<(), CliError> {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| CliError::failed(format!("cannot read {}: {e}", args.file.display())))?;
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    // Drawn on stderr, and only when it is a terminal, so scripts see just the report.
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = app
        .import_people(
            &Ctx::system(),
            args.partner.as_deref(),
            &bytes,
            args.strict,
            &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            },
        )
        .await;
    bar.finish_and_clear();
    let report = result?;
    println!(
        "imported {} new, {} updated, {} unchanged",
        report.created, report.updated, report.unchanged
    );
    if report.errors.is_empty() {
        return Ok(());
    }
    for error in &report.errors {
        eprintln!("{}:{}: {}", args.file.display(), error.line, error.message);
    }
    let count = report.errors.len();
    let rows = if count == 1 { "row was" } else { "rows were" };
    Err(CliError::failed(if args.strict {
        format!(
            "nothing was imported: {count} {rows} invalid in {} (--strict)",
            args.file.display()
        )
    } else {
        format!("{count} {rows} not imported from {}", args.file.display())
    }))
}

async fn export(global: &GlobalArgs, args: ExportArgs) -> Result<(), CliError> {
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    let csv = app
        .export_people(&Ctx::system(), args.partner.as_deref())
        .await?;
    match &args.output {
        Some(path) => std::fs::write(path, csv)
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display()))),
        None => match std::io::stdout().lock().write_all(csv.as_bytes()) {
            // A reader that stops early (`| head`) is not a failure of the export.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => {
                other.map_err(|e| CliError::failed(format!("cannot write to standard output: {e}")))
            }
        },
    }
}
