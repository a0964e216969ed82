//! Errors over HTTP: every rejection is an RFC 9457 `application/problem+json` document that
//! says what was wrong and where. Internal errors are logged and never echoed to the client.

use accredit_app::AppError;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one part of the input.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field (or `body` for the document as a whole).
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem details document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Present on validation problems: each names its field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// The HTTP adapter's error; built from the application's error in one place.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldProblem>,
    pub retry_after_secs: Option<i64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            slug,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_secs: None,
        }
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    /// A multipart upload the server could not read.
    pub fn malformed_upload(error: axum::extract::multipart::MultipartError) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-upload",
            "Malformed upload",
            error.body_text(),
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            "Invalid input",
            format!("{field}: {message}"),
        );
        error.errors.push(FieldProblem {
            field: field.to_owned(),
            message,
        });
        error
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("/problems/{}", self.slug),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Unauthenticated(why) => ApiError::unauthenticated(why),
            AppError::Forbidden(why) => ApiError::forbidden(why),
            AppError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            AppError::Invalid(problems) => {
                let detail = problems
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut e = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-input",
                    "Invalid input",
                    detail,
                );
                e.errors = problems
                    .into_iter()
                    .map(|p| FieldProblem {
                        field: p.field,
                        message: p.message,
                    })
                    .collect();
                e
            }
            AppError::Conflict(why) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", "Conflict", why)
            }
            AppError::Throttled { retry_after_secs } => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-attempts",
                    "Too many attempts",
                    format!("too many failed attempts; try again in {retry_after_secs} seconds"),
                );
                e.retry_after_secs = Some(retry_after_secs);
                e
            }
            AppError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "something went wrong on our side; the request id in the x-request-id header identifies it in the server log",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after_secs
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body whose rejections are problem documents naming the line, column and field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// A JSON body read by hand (for endpoints that also take other media types), rejected the
/// same way as [`ApiJson`].
pub fn parse_json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    axum::Json::<T>::from_bytes(bytes)
        .map(|axum::Json(value)| value)
        .map_err(json_rejection)
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let (status, slug, title) = match &rejection {
        JsonRejection::MissingJsonContentType(_) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Expected a JSON body",
        ),
        JsonRejection::JsonDataError(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            "Invalid input",
        ),
        _ => (StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON"),
    };
    let detail = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send the body with `Content-Type: application/json`".to_owned()
        }
        // axum prefixes serde's message (path, line and column) with its own sentence.
        other => {
            let text = other.body_text();
            match text.split_once(": ") {
                Some((_, serde_message)) => serde_message.to_owned(),
                None => text,
            }
        }
    };
    let mut error = ApiError::new(status, slug, title, detail.clone());
    error.errors.push(FieldProblem {
        field: field_of(&detail),
        message: detail,
    });
    error
}

/// serde names the offending path as "field `x`" or "`x`: ..."; fall back to the whole body.
fn field_of(message: &str) -> String {
    for marker in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.split(marker).nth(1)
            && let Some(name) = rest.split('`').next()
        {
            return name.to_owned();
        }
    }
    if let Some((path, _)) = message.split_once(": ")
        && !path.contains(' ')
    {
        return path.to_owned();
    }
    "body".to_owned()
}

/// Query parameters whose rejections are problem documents naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => {
                let text = rejection.body_text();
                let detail = match text.split_once(": ") {
                    Some((_, serde_message)) => serde_message.to_owned(),
                    None => text,
                };
                let mut error = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-query",
                    "Invalid query parameters",
                    detail.clone(),
                );
                error.errors.push(FieldProblem {
                    field: field_of(&detail),
                    message: detail,
                });
                Err(error)
            }
        }
    }
}
