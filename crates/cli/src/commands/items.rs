//! `accredit items import`: exam items from Accredit item files, Moodle GIFT or QTI.

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs};
use accredit_app::Ctx;
use accredit_app::exams::ItemFile;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ItemsCommand {
    /// Import items into a program's bank, all or nothing; new items arrive as drafts.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The program whose exams use the items.
    #[arg(long)]
    program: String,
    /// Domain for items whose file does not name one (GIFT without $CATEGORY, QTI).
    #[arg(long)]
    domain: Option<String>,
    /// .toml (Accredit item file), .gift or .txt (Moodle GIFT), .xml (QTI assessmentItem).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub async fn run(global: &GlobalArgs, command: ItemsCommand) -> Result<(), CliError> {
    let ItemsCommand::Import(args) = command;
    let mut files = Vec::new();
    for path in &args.files {
        let bytes = std::fs::read(path)
            .map_err(|e| CliError::failed(format!("cannot read {}: {e}", path.display())))?;
        files.push(ItemFile {
            file_name: path.display().to_string(),
            bytes,
        });
    }
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    match app
        .import_item_files(
            &Ctx::system(),
            &args.program,
            &files,
            args.domain.as_deref(),
        )
        .await
    {
        Ok(report) => {
            println!(
                "{} new item(s) as drafts, {} revised, {} unchanged",
                report.created.len(),
                report.revised.len(),
                report.unchanged.len()
            );
            for id in &report.created {
                println!("  new      {id}");
            }
            for id in &report.revised {
                println!("  revised  {id}");
            }
            Ok(())
        }
        Err(error) => Err(super::nothing_imported(error)),
    }
}
