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
