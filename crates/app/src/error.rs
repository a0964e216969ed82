//! The application layer's error: what a use case can refuse, in words for people. Adapters map
//! it once: to problem+json over HTTP, to a message and exit code on the command line.

use accredit_domain::{Denied, InvalidInput};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No credentials, or credentials that are not (or no longer) valid.
    #[error("authentication required: {0}")]
    Unauthenticated(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    /// Input that breaks a rule; each problem names its field.
    #[error("invalid input: {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<InvalidInput>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many failed attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: i64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![InvalidInput::new(field, message)])
    }

    /// Turns "hidden" into a not-found naming what was asked for.
    pub fn from_denied(denied: Denied, what: impl Into<String>) -> Self {
        match denied {
            Denied::Hidden => AppError::NotFound(what.into()),
            Denied::Forbidden(why) => AppError::Forbidden(why),
        }
    }
}

impl From<InvalidInput> for AppError {
    fn from(value: InvalidInput) -> Self {
        AppError::Invalid(vec![value])
    }
}

impl From<sqlx::Error> for AppError {
    fn from(value: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(value).context("database error"))
    }
}
