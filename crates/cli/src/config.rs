//! Settings, in layers: built-in defaults, then `accredit.toml`, then `ACCREDIT_*` environment
//! variables, then command-line flags. Unknown settings are errors, never silently ignored.

use crate::CliError;
use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "accredit-data";
pub const DEFAULT_CONFIG_FILE: &str = "accredit.toml";
pub const DEFAULT_LOG: &str = "info,sqlx=warn";
pub const DEFAULT_SESSION_HOURS: u32 = 12;

/// Every environment variable Accredit reads. `ACCREDIT_TEST_*` belong to the test suite.
pub const KNOWN_ENV: &[&str] = &[
    "ACCREDIT_CONFIG",
    "ACCREDIT_BIND",
    "ACCREDIT_DATA_DIR",
    "ACCREDIT_DATABASE_URL",
    "ACCREDIT_PUBLIC_URL",
    "ACCREDIT_LOG",
    "ACCREDIT_SESSION_HOURS",
    "ACCREDIT_DEMO_PASSWORD",
    "ACCREDIT_SMTP_URL",
    "ACCREDIT_MAIL_FROM",
    "ACCREDIT_DELIVERY_RETRY_SECONDS",
    "ACCREDIT_DELIVERY_ATTEMPTS",
    "ACCREDIT_DELIVERY_LEASE_SECONDS",
];
pub const DEFAULT_MAIL_FROM: &str = "Accredit <accredit@localhost>";

/// Options every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Configuration file. Default: ./accredit.toml when it exists.
    #[arg(long, global = true, env = "ACCREDIT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database and other local state. Default: ./accredit-data.
    #[arg(long, global = true, env = "ACCREDIT_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database: sqlite://PATH or postgres://USER@HOST/DB. Default: SQLite file accredit.db in the data directory.
    #[arg(long, global = true, env = "ACCREDIT_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Log filter, e.g. `info` or `debug,sqlx=warn`. Default: info,sqlx=warn.
    #[arg(long, global = true, env = "ACCREDIT_LOG", value_name = "FILTER")]
    pub log: Option<String>,
}

/// Options only the server uses.
#[derive(Debug, Clone, Default, Args)]
pub struct ServerArgs {
    /// Address and port to listen on. Default: 127.0.0.1:8080.
    #[arg(long, env = "ACCREDIT_BIND", value_name = "ADDR:PORT")]
    pub bind: Option<String>,
    /// The address people reach the portal at; an https:// URL marks cookies Secure. Default: http://<bind>.
    #[arg(long, env = "ACCREDIT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// How many hours a sign-in lasts. Default: 12.
    #[arg(long, env = "ACCREDIT_SESSION_HOURS", value_name = "HOURS")]
    pub session_hours: Option<u32>,
    /// SMTP server for outgoing email, e.g. smtp://mail.example:587?tls=required or
    /// smtps://user:password@mail.example. Without one, email waits in the outbox.
    #[arg(long, env = "ACCREDIT_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,
    /// Sender of outgoing email. Default: Accredit <accredit@localhost>.
    #[arg(long, env = "ACCREDIT_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// Wait before the first retry of a failed delivery; doubles each time. Default: 30.
    #[arg(long, env = "ACCREDIT_DELIVERY_RETRY_SECONDS", value_name = "SECONDS")]
    pub delivery_retry_seconds: Option<u32>,
    /// Attempts before a message is dead. Default: 8.
    #[arg(long, env = "ACCREDIT_DELIVERY_ATTEMPTS", value_name = "N")]
    pub delivery_attempts: Option<u32>,
    /// How long a worker holds a message it is sending before another may take it. Default: 120.
    #[arg(long, env = "ACCREDIT_DELIVERY_LEASE_SECONDS", value_name = "SECONDS")]
    pub delivery_lease_seconds: Option<u32>,
}

/// What `accredit.toml` may contain.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    public_url: Option<String>,
    log: Option<String>,
    session_hours: Option<u32>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    delivery_retry_seconds: Option<u32>,
    delivery_attempts: Option<u32>,
    delivery_lease_seconds: Option<u32>,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Whether the database URL was chosen by the user rather than defaulted.
    pub database_url_explicit: bool,
    pub public_url: String,
    pub log: String,
    pub session_hours: u32,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub retry: accredit_app::outbox::RetryPolicy,
}

impl Settings {
    pub fn load(global: &GlobalArgs, server: &ServerArgs) -> Result<Self, CliError> {
        check_environment(std::env::vars().map(|(k, _)| k))?;
        let file = match &global.config {
            Some(path) => read_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                read_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => FileSettings::default(),
        };
        let bind_text = server
            .bind
            .clone()
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            CliError::config(format!(
                "setting `bind`: `{bind_text}` is not an address and port such as 127.0.0.1:8080"
            ))
        })?;
        let data_dir = global
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let explicit_url = global.database_url.clone().or(file.database_url);
        let database_url = match &explicit_url {
            Some(url) => normalise_sqlite_url(url),
            None => sqlite_url(&data_dir.join("accredit.db")),
        };
        accredit_app::Backend::from_url(&database_url)
            .map_err(|e| CliError::config(format!("setting `database_url`: {e}")))?;
        let public_url = server
            .public_url
            .clone()
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{bind}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(CliError::config(format!(
                "setting `public_url`: `{public_url}` must start with http:// or https://"
            )));
        }
        let session_hours = server
            .session_hours
            .or(file.session_hours)
            .unwrap_or(DEFAULT_SESSION_HOURS);
        if !(1..=24 * 30).contains(&session_hours) {
            return Err(CliError::config(format!(
                "setting `session_hours`: {session_hours} is outside 1 to 720"
            )));
        }
        let positive = |name: &str, value: Option<u32>, default: u32| match value {
            Some(0) => Err(CliError::config(format!(
                "setting `{name}`: must be at least 1"
            ))),
            Some(v) => Ok(v),
            None => Ok(default),
        };
        let retry = accredit_app::outbox::RetryPolicy {
            base: jiff::SignedDuration::from_secs(i64::from(positive(
                "delivery_retry_seconds",
                server
                    .delivery_retry_seconds
                    .or(file.delivery_retry_seconds),
                30,
            )?)),
            max_attempts: i64::from(positive(
                "delivery_attempts",
                server.delivery_attempts.or(file.delivery_attempts),
                8,
            )?),
            lease: jiff::SignedDuration::from_secs(i64::from(positive(
                "delivery_lease_seconds",
                server
                    .delivery_lease_seconds
                    .or(file.delivery_lease_seconds),
                120,
            )?)),
            ..accredit_app::outbox::RetryPolicy::default()
        };
        Ok(Self {
            smtp_url: server.smtp_url.clone().or(file.smtp_url),
            mail_from: server
                .mail_from
                .clone()
                .or(file.mail_from)
                .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned()),
            retry,
            bind,
            data_dir,
            database_url,
            database_url_explicit: explicit_url.is_some(),
            public_url,
            log: global
                .log
                .clone()
                .or(file.log)
                .unwrap_or_else(|| DEFAULT_LOG.to_owned()),
            session_hours,
        })
    }

    /// How this node delivers outgoing messages.
    pub fn delivery(&self) -> Result<accredit_app::delivery::Delivery, CliError> {
        accredit_app::delivery::Delivery::new(
            self.smtp_url.as_deref(),
            &self.mail_from,
            self.retry.clone(),
        )
        .map_err(|e| CliError::config(format!("delivery settings: {e}")))
    }

    /// Creates the data directory when the default SQLite database lives there.
    pub fn prepare_data_dir(&self) -> Result<(), CliError> {
        if !self.database_url_explicit {
            std::fs::create_dir_all(&self.data_dir).map_err(|e| {
                CliError::config(format!(
                    "setting `data_dir`: cannot create {}: {e}",
                    self.data_dir.display()
                ))
            })?;
        }
        Ok(())
    }
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// SQLite files are created on first use unless the URL says otherwise.
fn normalise_sqlite_url(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains("mode=") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}mode=rwc")
    } else {
        url.to_owned()
    }
}

fn read_file(path: &Path) -> Result<FileSettings, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::config(format!(
            "cannot read configuration file {}: {e}",
            path.display()
        ))
    })?;
    toml::from_str(&text).map_err(|e| {
        // toml's message already names the line, column and key.
        CliError::config(format!(
            "configuration file {} is invalid:\n{}",
            path.display(),
            e.to_string().trim_end()
        ))
    })
}

fn check_environment(names: impl Iterator<Item = String>) -> Result<(), CliError> {
    let mut unknown: Vec<String> = names
        .filter(|name| name.starts_with("ACCREDIT_") && !name.starts_with("ACCREDIT_TEST_"))
        .filter(|name| !KNOWN_ENV.contains(&name.as_str()))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort();
    Err(CliError::config(format!(
        "unknown environment variable{} {}; Accredit reads {}",
        if unknown.len() > 1 { "s" } else { "" },
        unknown.join(", "),
        KNOWN_ENV.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_accredit_variables_are_refused_but_test_ones_pass() {
        assert!(
            check_environment(["ACCREDIT_BIND".to_owned(), "PATH".to_owned()].into_iter()).is_ok()
        );
        assert!(check_environment(["ACCREDIT_TEST_DATABASE_URL".to_owned()].into_iter()).is_ok());
        let err = check_environment(["ACCREDIT_BINDD".to_owned()].into_iter()).unwrap_err();
        assert!(err.message.contains("ACCREDIT_BINDD"), "{}", err.message);
    }

    #[test]
    fn sqlite_urls_create_their_file_unless_told_otherwise() {
        assert_eq!(
            normalise_sqlite_url("sqlite://a.db"),
            "sqlite://a.db?mode=rwc"
        );
        assert_eq!(
            normalise_sqlite_url("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            normalise_sqlite_url("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
        assert_eq!(normalise_sqlite_url("postgres://h/db"), "postgres://h/db");
    }
}
