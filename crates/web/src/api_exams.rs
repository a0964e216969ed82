//! API for exams: published blueprints (public), the item bank, attempts, proctoring and item
//! quality.

use crate::AppState;
use crate::problem::{ApiJson, ApiResult};
use crate::session::Caller;
use accredit_app::exams::{AttemptView, ItemImportReport, LiveAttempt, PublishedExam, SavedAnswer};
use accredit_domain::attempt::Eligibility;
use accredit_domain::exam::{Item, ItemStatus};
use accredit_domain::item_stats::ExamStats;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

/// Every published exam blueprint: domains and weights, passing score, time limit, retake
/// policy, study hours, prerequisites. No sign-in needed.
#[utoipa::path(get, path = "/api/v1/exams", tag = "exams", security(()),
    responses((status = OK, body = Vec<PublishedExam>)))]
pub async fn list_published_exams(
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<PublishedExam>>> {
    Ok(Json(state.app.published_exams().await?))
}

/// One published blueprint. No sign-in needed.
#[utoipa::path(get, path = "/api/v1/programs/{program}/exams/{exam}/blueprint", tag = "exams",
    security(()), params(("program" = String, Path), ("exam" = String, Path)),
    responses((status = OK, body = PublishedExam)))]
pub async fn get_blueprint(
    State(state): State<AppState>,
    Path((program, exam)): Path<(String, String)>,
) -> ApiResult<Json<PublishedExam>> {
    Ok(Json(state.app.published_exam(&program, &exam).await?))
}

/// Publishes the exam's blueprint from the applied program file, once the item bank has enough
/// active items in every domain; otherwise each short domain is reported.
#[utoipa::path(post, path = "/api/v1/programs/{program}/exams/{exam}/publish", tag = "exams",
    params(("program" = String, Path), ("exam" = String, Path)),
    responses((status = OK, body = PublishedExam)))]
pub async fn publish_exam(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, exam)): Path<(String, String)>,
) -> ApiResult<Json<PublishedExam>> {
    Ok(Json(state.app.publish_exam(&ctx, &program, &exam).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemsInput {
    pub items: Vec<Item>,
}

/// Adds items to the bank as JSON, all or nothing: new items as drafts, changed items as new
/// versions.
#[utoipa::path(post, path = "/api/v1/programs/{program}/items", tag = "exams",
    params(("program" = String, Path)), request_body = ItemsInput,
    responses((status = OK, body = ItemImportReport)))]
pub async fn add_items(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(program): Path<String>,
    ApiJson(input): ApiJson<ItemsInput>,
) -> ApiResult<Json<ItemImportReport>> {
    Ok(Json(
        state
            .app
            .import_items(&ctx, &program, input.items, "api")
            .await?,
    ))
}

/// The bank's items with their keys (program admins).
#[utoipa::path(get, path = "/api/v1/programs/{program}/items", tag = "exams",
    params(("program" = String, Path)), responses((status = OK, body = Vec<Item>)))]
pub async fn list_items(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(program): Path<String>,
) -> ApiResult<Json<Vec<Item>>> {
    Ok(Json(state.app.list_items(&ctx, &program).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    pub status: ItemStatus,
}

/// Activates, retires or returns an item to draft.
#[utoipa::path(put, path = "/api/v1/programs/{program}/items/{item}/status", tag = "exams",
    params(("program" = String, Path), ("item" = String, Path)), request_body = StatusInput,
    responses((status = OK, body = Item)))]
pub async fn set_item_status(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, item)): Path<(String, String)>,
    ApiJson(input): ApiJson<StatusInput>,
) -> ApiResult<Json<Item>> {
    Ok(Json(
        state
            .app
            .set_item_status(&ctx, &program, &item, input.status)
            .await?,
    ))
}

/// Whether the caller may start an attempt now; if not, why and from when.
#[utoipa::path(get, path = "/api/v1/programs/{program}/exams/{exam}/eligibility", tag = "exams",
    params(("program" = String, Path), ("exam" = String, Path)),
    responses((status = OK, body = Eligibility)))]
pub async fn get_eligibility(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, exam)): Path<(String, String)>,
) -> ApiResult<Json<Eligibility>> {
    Ok(Json(
        state.app.exam_eligibility(&ctx, &program, &exam).await?,
    ))
}

/// Starts an attempt with a form drawn for it. Proctored exams wait for a proctor's approval
/// (status `awaiting_proctor`) before the questions appear and the clock starts.
#[utoipa::path(post, path = "/api/v1/programs/{program}/exams/{exam}/attempts", tag = "exams",
    params(("program" = String, Path), ("exam" = String, Path)),
    responses((status = CREATED, body = AttemptView)))]
pub async fn start_attempt(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, exam)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<AttemptView>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.app.start_attempt(&ctx, &program, &exam).await?),
    ))
}

/// An attempt: its items (never their keys), saved answers, time left, and once finished the
/// per-domain result.
#[utoipa::path(get, path = "/api/v1/attempts/{id}", tag = "exams",
    params(("id" = String, Path)), responses((status = OK, body = AttemptView)))]
pub async fn get_attempt(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AttemptView>> {
    Ok(Json(state.app.attempt(&ctx, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// `null` clears the answer.
    pub response: Option<accredit_domain::exam::Response>,
    #[serde(default)]
    pub flagged: bool,
}

/// Saves one answer (autosave), durably, before responding.
#[utoipa::path(put, path = "/api/v1/attempts/{id}/answers/{item}", tag = "exams",
    params(("id" = String, Path), ("item" = String, Path)), request_body = AnswerInput,
    responses((status = NO_CONTENT)))]
pub async fn save_answer(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, item)): Path<(String, String)>,
    ApiJson(input): ApiJson<AnswerInput>,
) -> ApiResult<StatusCode> {
    let answer = SavedAnswer {
        item_id: item,
        response: input.response,
        flagged: input.flagged,
    };
    state.app.save_answer(&ctx, &id, answer).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Hands in the attempt; it is scored at once.
#[utoipa::path(post, path = "/api/v1/attempts/{id}/submit", tag = "exams",
    params(("id" = String, Path)), responses((status = OK, body = AttemptView)))]
pub async fn submit_attempt(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AttemptView>> {
    Ok(Json(state.app.submit_attempt(&ctx, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// `focus_lost` or `paste`.
    pub kind: String,
    #[serde(default)]
    pub detail: String,
}

/// What the exam page noticed during the attempt, for the proctor.
#[utoipa::path(post, path = "/api/v1/attempts/{id}/events", tag = "exams",
    params(("id" = String, Path)), request_body = EventInput, responses((status = NO_CONTENT)))]
pub async fn record_event(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EventInput>,
) -> ApiResult<StatusCode> {
    state
        .app
        .record_attempt_event(&ctx, &id, &input.kind, &input.detail)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Open attempts, with focus-loss and paste reports (proctors).
#[utoipa::path(get, path = "/api/v1/proctoring/attempts", tag = "exams",
    responses((status = OK, body = Vec<LiveAttempt>)))]
pub async fn live_attempts(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<LiveAttempt>>> {
    Ok(Json(state.app.live_attempts(&ctx).await?))
}

/// Lets a waiting candidate start; the clock starts now (proctors).
#[utoipa::path(post, path = "/api/v1/attempts/{id}/approve", tag = "exams",
    params(("id" = String, Path)), responses((status = OK, body = AttemptView)))]
pub async fn approve_attempt(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AttemptView>> {
    Ok(Json(state.app.approve_attempt(&ctx, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvalidateInput {
    pub reason: String,
}

/// Voids an attempt with a reason, recorded in the audit trail (proctors).
#[utoipa::path(post, path = "/api/v1/attempts/{id}/invalidate", tag = "exams",
    params(("id" = String, Path)), request_body = InvalidateInput,
    responses((status = OK, body = AttemptView)))]
pub async fn invalidate_attempt(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<InvalidateInput>,
) -> ApiResult<Json<AttemptView>> {
    Ok(Json(
        state
            .app
            .invalidate_attempt(&ctx, &id, &input.reason)
            .await?,
    ))
}

/// Difficulty, discrimination and option choice rates per item; KR-20 and pass rate per exam.
#[utoipa::path(get, path = "/api/v1/programs/{program}/exams/{exam}/item-stats", tag = "exams",
    params(("program" = String, Path), ("exam" = String, Path)),
    responses((status = OK, body = ExamStats)))]
pub async fn item_stats(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, exam)): Path<(String, String)>,
) -> ApiResult<Json<ExamStats>> {
    Ok(Json(
        state.app.item_statistics(&ctx, &program, &exam).await?,
    ))
}

/// Imports item files, all or nothing. Send `multipart/form-data` with one `file` part per file
/// (.toml Accredit item file, .gift/.txt Moodle GIFT, .xml QTI assessmentItem) and optionally a
/// `domain` part for items whose file names none. Problems name file and line.
#[utoipa::path(post, path = "/api/v1/programs/{program}/items/import", tag = "exams",
    params(("program" = String, Path)),
    request_body(content = String, content_type = "multipart/form-data"),
    responses((status = OK, body = ItemImportReport)))]
pub async fn import_item_files(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(program): Path<String>,
    mut form: axum::extract::Multipart,
) -> ApiResult<Json<ItemImportReport>> {
    let mut files = Vec::new();
    let mut domain = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(crate::problem::ApiError::malformed_upload)?
    {
        match field.name() {
            Some("file") => {
                let file_name = field.file_name().unwrap_or("upload").to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(crate::problem::ApiError::malformed_upload)?
                    .to_vec();
                files.push(accredit_app::exams::ItemFile { file_name, bytes });
            }
            Some("domain") => {
                domain = Some(
                    field
                        .text()
                        .await
                        .map_err(crate::problem::ApiError::malformed_upload)?,
                )
                .filter(|d| !d.is_empty())
            }
            _ => {}
        }
    }
    Ok(Json(
        state
            .app
            .import_item_files(&ctx, &program, &files, domain.as_deref())
            .await?,
    ))
}

/// An item as a QTI 2.1 `assessmentItem` (program admins), key and rationale included.
#[utoipa::path(get, path = "/api/v1/programs/{program}/items/{item}/qti", tag = "exams",
    params(("program" = String, Path), ("item" = String, Path)),
    responses((status = OK, content_type = "application/xml", body = String)))]
pub async fn export_item_qti(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, item)): Path<(String, String)>,
) -> ApiResult<([(axum::http::HeaderName, &'static str); 1], String)> {
    let xml = state.app.export_item_qti(&ctx, &program, &item).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/xml; charset=utf-8",
        )],
        xml,
    ))
}
