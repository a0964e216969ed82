//! `accredit content import`: a module's transcripts and documents become its next version.

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs};
use accredit_app::Ctx;
use accredit_app::content::ContentFile;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ContentCommand {
    /// Import WebVTT, SRT and Markdown files as the next version of a module (all or nothing).
    Import(ImportArgs),
    /// Rebuild the search index in the data directory from the database (while no server
    /// holds it; a running server rebuilds with POST /api/v1/search/reindex).
    Reindex,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The program the module belongs to.
    #[arg(long)]
    program: String,
    /// The module's id in the program file.
    #[arg(long)]
    module: String,
    /// The recording the transcripts were made from; each paragraph links to its moment.
    #[arg(long, value_name = "URL")]
    recording_url: Option<String>,
    /// The files, in the order the module presents them.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub async fn run(global: &GlobalArgs, command: ContentCommand) -> Result<(), CliError> {
    let args = match command {
        ContentCommand::Import(args) => args,
        ContentCommand::Reindex => return reindex(global).await,
    };
    let mut files = Vec::new();
    for path in &args.files {
        let bytes = std::fs::read(path)
            .map_err(|e| CliError::failed(format!("cannot read {}: {e}", path.display())))?;
        let is_transcript = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("vtt") || e.eq_ignore_ascii_case("srt"));
        files.push(ContentFile {
            file_name: path.display().to_string(),
            bytes,
            recording_url: args.recording_url.clone().filter(|_| is_transcript),
        });
    }
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    match app
        .import_content(&Ctx::system(), &args.program, &args.module, &files)
        .await
    {
        Ok(version) => {
            let sections: usize = version.documents.iter().map(|d| d.sections.len()).sum();
            println!(
                "imported version {} of `{}` ({} document(s), {sections} section(s))",
                version.version,
                version.module_id,
                version.documents.len()
            );
            for document in &version.documents {
                println!("  {} — {}", document.file_name, document.title);
                for section in &document.sections {
                    match section.start_ms {
                        Some(ms) => println!(
                            "    [{}:{:02}] {}",
                            ms / 60_000,
                            ms / 1000 % 60,
                            section.heading
                        ),
                        None => println!("    {}", section.heading),
                    }
                }
            }
            Ok(())
        }
        Err(error) => Err(super::nothing_imported(error)),
    }
}

async fn reindex(global: &GlobalArgs) -> Result<(), CliError> {
    let (settings, app) = super::open(global, &ServerArgs::default(), false).await?;
    let index = accredit_app::search::SearchIndex::open(&settings.data_dir.join("search-index"))?;
    let app = app.with_search_index(index);
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} modules {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let sections = app
        .reindex_content(&|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await?;
    bar.finish_and_clear();
    println!(
        "search index rebuilt: {sections} sections in {}",
        settings.data_dir.join("search-index").display()
    );
    Ok(())
}
