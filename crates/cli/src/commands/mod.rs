pub mod admin;
pub mod content;
pub mod credential;
pub mod items;
pub mod jobs;
pub mod lifecycle;
pub mod people;
pub mod program;
pub mod serve;

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs, Settings};
use accredit_app::{App, AppConfig, Db, SystemClock};
use std::sync::Arc;

/// Loads settings, starts logging and opens the database (migrating it when asked).
pub async fn open(
    global: &GlobalArgs,
    server: &ServerArgs,
    migrate: bool,
) -> Result<(Settings, App), CliError> {
    let settings = Settings::load(global, server)?;
    init_logging(&settings.log)?;
    settings.prepare_data_dir()?;
    let db = Db::connect(&settings.database_url).await?;
    if migrate {
        db.migrate().await?;
    } else {
        db.check_schema_current().await?;
    }
    let config = AppConfig {
        session_ttl: jiff::SignedDuration::from_hours(i64::from(settings.session_hours)),
        public_url: settings.public_url.clone(),
        ..AppConfig::default()
    };
    Ok((settings, App::new(db, Arc::new(SystemClock), config)))
}

pub fn init_logging(filter: &str) -> Result<(), CliError> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).map_err(|e| {
        CliError::config(format!(
            "setting `log`: `{filter}` is not a log filter: {e}"
        ))
    })?;
    // A second initialisation (tests run commands in one process) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    Ok(())
}

/// An all-or-nothing import that was refused: every problem on its own line.
pub fn nothing_imported(error: accredit_app::AppError) -> CliError {
    match error {
        accredit_app::AppError::Invalid(problems) => {
            let lines: Vec<_> = problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect();
            CliError::failed(format!(
                "nothing was imported; {} problem(s):\n{}",
                lines.len(),
                lines.join("\n")
            ))
        }
        other => other.into(),
    }
}
