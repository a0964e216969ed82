//! API for practical assessments: submissions, the review queue, signed reviews and agreement.

use crate::AppState;
use crate::problem::{ApiJson, ApiResult};
use crate::session::Caller;
use accredit_app::practicals::{Agreement, NewSubmission, ReviewInput, ReviewResult, Submission};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Submits a practical for the caller's firm (partner staff).
#[utoipa::path(post, path = "/api/v1/programs/{program}/practicals/{practical}/submissions",
    tag = "practicals", params(("program" = String, Path), ("practical" = String, Path)),
    request_body = NewSubmission, responses((status = CREATED, body = Submission)))]
pub async fn submit_practical(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, practical)): Path<(String, String)>,
    ApiJson(input): ApiJson<NewSubmission>,
) -> ApiResult<(StatusCode, Json<Submission>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .app
                .submit_practical(&ctx, &program, &practical, input)
                .await?,
        ),
    ))
}

/// One submission: its firm's people, reviewers and program admins see it.
#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "practicals",
    params(("id" = String, Path)), responses((status = OK, body = Submission)))]
pub async fn get_submission(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Submission>> {
    Ok(Json(state.app.get_submission(&ctx, &id).await?))
}

/// Revises a submission sent back for changes; a new round of review starts.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/resubmit", tag = "practicals",
    params(("id" = String, Path)), request_body = NewSubmission,
    responses((status = OK, body = Submission)))]
pub async fn resubmit_practical(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewSubmission>,
) -> ApiResult<Json<Submission>> {
    Ok(Json(state.app.resubmit_practical(&ctx, &id, input).await?))
}

/// Submissions waiting for the caller's review (reviewers), without other reviewers' verdicts.
#[utoipa::path(get, path = "/api/v1/reviews/queue", tag = "practicals",
    responses((status = OK, body = Vec<Submission>)))]
pub async fn review_queue(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<Submission>>> {
    Ok(Json(state.app.review_queue(&ctx).await?))
}

/// Scores a submission and signs a verdict by re-entering the password; the signature's
/// meaning, name and time are recorded in the audit trail.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/reviews", tag = "practicals",
    params(("id" = String, Path)), request_body = ReviewInput,
    responses((status = CREATED, body = ReviewResult)))]
pub async fn review_practical(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> ApiResult<(StatusCode, Json<ReviewResult>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.app.review_practical(&ctx, &id, input).await?),
    ))
}

/// Inter-rater agreement (Cohen's kappa) of a practical's double reviews.
#[utoipa::path(get, path = "/api/v1/programs/{program}/practicals/{practical}/agreement",
    tag = "practicals", params(("program" = String, Path), ("practical" = String, Path)),
    responses((status = OK, body = Agreement)))]
pub async fn review_agreement(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, practical)): Path<(String, String)>,
) -> ApiResult<Json<Agreement>> {
    Ok(Json(
        state
            .app
            .review_agreement(&ctx, &program, &practical)
            .await?,
    ))
}

/// Attaches files to a submission: `multipart/form-data` with one `file` part per file (PDF,
/// PNG, JPEG or UTF-8 text; at most 10 MB each).
#[utoipa::path(post, path = "/api/v1/submissions/{id}/files", tag = "practicals",
    params(("id" = String, Path)),
    request_body(content = String, content_type = "multipart/form-data"),
    responses((status = OK, body = Submission)))]
pub async fn attach_files(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    mut form: axum::extract::Multipart,
) -> ApiResult<Json<Submission>> {
    let mut latest = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(crate::problem::ApiError::malformed_upload)?
    {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or_default().to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(crate::problem::ApiError::malformed_upload)?
                .to_vec();
            latest = Some(state.app.attach_file(&ctx, &id, &name, bytes).await?);
        }
    }
    match latest {
        Some(submission) => Ok(Json(submission)),
        None => Err(crate::problem::ApiError::invalid(
            "file",
            "send at least one `file` part",
        )),
    }
}

/// Downloads a file of a submission (its firm, reviewers and program admins).
#[utoipa::path(get, path = "/api/v1/submissions/{id}/files/{file}", tag = "practicals",
    params(("id" = String, Path), ("file" = String, Path)),
    responses((status = OK, content_type = "application/octet-stream", body = Vec<u8>)))]
pub async fn download_file(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, file)): Path<(String, String)>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse as _;
    let (name, content_type, bytes) = state.app.submission_file(&ctx, &id, &file).await?;
    let safe_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
