//! API for keeping certification current: the daily sweep, webhooks, the outbox and people's
//! notifications.

use crate::AppState;
use crate::problem::{ApiJson, ApiQuery, ApiResult};
use crate::session::Caller;
use accredit_app::events::{Notification, WebhookSubscription};
use accredit_app::lifecycle::SweepReport;
use accredit_app::outbox::OutboxEntry;
use accredit_app::recert::{NewTrigger, TriggerProgress};
use accredit_app::remediation::{HealthImport, HealthScoreInput, RemediationCase};
use accredit_app::renewal::RenewalStatus;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepRequest {
    /// The day to sweep for (YYYY-MM-DD); default today.
    #[schema(value_type = Option<String>, example = "2027-03-01")]
    pub as_of: Option<jiff::civil::Date>,
}

/// Runs the daily sweep for a date: reminders, renewal windows, expiries (program admins).
/// Running it again for the same date changes nothing.
#[utoipa::path(post, path = "/api/v1/jobs/sweep", tag = "lifecycle", request_body = SweepRequest,
    responses((status = OK, body = SweepReport)))]
pub async fn run_sweep(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<SweepRequest>,
) -> ApiResult<Json<SweepReport>> {
    let as_of = input.as_of.unwrap_or_else(|| state.app.today());
    Ok(Json(state.app.run_sweep(&ctx, as_of).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// An http:// or https:// endpoint.
    pub url: String,
    /// Event types, e.g. `credential.expired`.
    pub events: Vec<String>,
}

/// Webhook subscriptions (program admins).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "lifecycle",
    responses((status = OK, body = Vec<WebhookSubscription>)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<WebhookSubscription>>> {
    Ok(Json(state.app.webhooks(&ctx).await?))
}

/// Subscribes an endpoint to events; the answer carries its signing secret.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "lifecycle", request_body = NewWebhook,
    responses((status = CREATED, body = WebhookSubscription)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookSubscription>)> {
    let created = state
        .app
        .create_webhook(&ctx, &input.url, &input.events)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Stops sending to an endpoint.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/disable", tag = "lifecycle",
    params(("id" = String, Path)), responses((status = OK, body = WebhookSubscription)))]
pub async fn disable_webhook(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookSubscription>> {
    Ok(Json(state.app.disable_webhook(&ctx, &id).await?))
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Queued {
    /// The outbox message carrying it.
    pub message: i64,
}

/// Queues a `webhook.test` event to the endpoint.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "lifecycle",
    params(("id" = String, Path)), responses((status = ACCEPTED, body = Queued)))]
pub async fn test_webhook(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    let message = state.app.send_test_event(&ctx, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { message })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `pending`, `delivered` or `dead`.
    pub state: Option<String>,
    pub topic: Option<String>,
    /// At most this many, newest first (default 100).
    pub limit: Option<i64>,
}

/// Outgoing messages with their delivery state (program admins).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "lifecycle", params(OutboxQuery),
    responses((status = OK, body = Vec<OutboxEntry>)))]
pub async fn list_outbox(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(query): ApiQuery<OutboxQuery>,
) -> ApiResult<Json<Vec<OutboxEntry>>> {
    Ok(Json(
        state
            .app
            .outbox(
                &ctx,
                query.state.as_deref(),
                query.topic.as_deref(),
                query.limit.unwrap_or(100),
            )
            .await?,
    ))
}

/// Sends a delivered or dead message again.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/replay", tag = "lifecycle",
    params(("id" = i64, Path)), responses((status = OK, body = OutboxEntry)))]
pub async fn replay_message(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<OutboxEntry>> {
    Ok(Json(state.app.replay_message(&ctx, id).await?))
}

/// The signed-in person's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "lifecycle",
    responses((status = OK, body = Vec<Notification>)))]
pub async fn my_notifications(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<Notification>>> {
    Ok(Json(state.app.my_notifications(&ctx, 50).await?))
}

/// Where a credential stands with renewal: when the window opens, what is missing and, for
/// renewal by delta module, what changed since it was earned.
#[utoipa::path(get, path = "/api/v1/credentials/{id}/renewal", tag = "lifecycle",
    params(("id" = String, Path)), responses((status = OK, body = RenewalStatus)))]
pub async fn get_renewal(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RenewalStatus>> {
    Ok(Json(state.app.renewal(&ctx, &id).await?))
}

/// The holder has read the delta module; renews the credential when that completes the
/// renewal requirement.
#[utoipa::path(post, path = "/api/v1/credentials/{id}/renewal/delta-read", tag = "lifecycle",
    params(("id" = String, Path)), responses((status = OK, body = RenewalStatus)))]
pub async fn complete_delta_module(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RenewalStatus>> {
    Ok(Json(state.app.complete_delta_module(&ctx, &id).await?))
}

/// Records a recertification trigger (program admins): every holder of the named tracks whose
/// credential covered the named modules or exam domains gets a task with the deadline.
#[utoipa::path(post, path = "/api/v1/programs/{program}/triggers", tag = "lifecycle",
    params(("program" = String, Path)), request_body = NewTrigger,
    responses((status = CREATED, body = TriggerProgress)))]
pub async fn record_trigger(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(program): Path<String>,
    ApiJson(input): ApiJson<NewTrigger>,
) -> ApiResult<(StatusCode, Json<TriggerProgress>)> {
    let trigger = state.app.record_trigger(&ctx, &program, input).await?;
    Ok((StatusCode::CREATED, Json(trigger)))
}

/// A program's recertification triggers with how many affected people are done.
#[utoipa::path(get, path = "/api/v1/programs/{program}/triggers", tag = "lifecycle",
    params(("program" = String, Path)), responses((status = OK, body = Vec<TriggerProgress>)))]
pub async fn list_triggers(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(program): Path<String>,
) -> ApiResult<Json<Vec<TriggerProgress>>> {
    Ok(Json(state.app.triggers(&ctx, &program).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthScores {
    pub scores: Vec<HealthScoreInput>,
}

/// Records customer health scores per partner and quarter, all or nothing: JSON
/// (`{"scores": [...]}`) or CSV (`Content-Type: text/csv`, header `partner,quarter,score`).
/// A score below the program's threshold opens a remediation case.
#[utoipa::path(post, path = "/api/v1/programs/{program}/health-scores", tag = "lifecycle",
    params(("program" = String, Path)),
    request_body(content((HealthScores = "application/json"), (String = "text/csv"))),
    responses((status = OK, body = HealthImport)))]
pub async fn record_health_scores(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(program): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<HealthImport>> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let report = if content_type.starts_with("text/csv") {
        state.app.import_health_csv(&ctx, &program, &body).await?
    } else {
        let input: HealthScores = crate::problem::parse_json_body(&body)?;
        let rows = input
            .scores
            .into_iter()
            .enumerate()
            .map(|(i, row)| (format!("scores[{i}]"), row))
            .collect();
        state.app.record_health_scores(&ctx, &program, rows).await?
    };
    Ok(Json(report))
}

/// A program's remediation cases: open, completed or missed.
#[utoipa::path(get, path = "/api/v1/programs/{program}/remediation", tag = "lifecycle",
    params(("program" = String, Path)), responses((status = OK, body = Vec<RemediationCase>)))]
pub async fn list_remediation(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(program): Path<String>,
) -> ApiResult<Json<Vec<RemediationCase>>> {
    Ok(Json(state.app.remediation_cases(&ctx, &program).await?))
}

/// The public partner directory: partners holding a benefit their program marks as a
/// directory listing, with tier, credentials by track, region and type. No sign-in needed.
#[utoipa::path(get, path = "/api/v1/directory", tag = "directory", security(()),
    params(accredit_app::directory::DirectoryQuery),
    responses((status = OK, body = Vec<accredit_app::directory::DirectoryEntry>)))]
pub async fn partner_directory(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<accredit_app::directory::DirectoryQuery>,
) -> ApiResult<Json<Vec<accredit_app::directory::DirectoryEntry>>> {
    Ok(Json(state.app.directory(&query).await?))
}

/// Records outcome metrics per partner and quarter for the certified vs non-certified reports:
/// CSV (`Content-Type: text/csv`, header `partner,quarter,metric,value`), all or nothing; a
/// value given again replaces the earlier one.
#[utoipa::path(post, path = "/api/v1/outcomes", tag = "lifecycle",
    request_body(content = String, content_type = "text/csv"),
    responses((status = OK, body = accredit_app::reports::OutcomeImport)))]
pub async fn import_outcomes(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<accredit_app::reports::OutcomeImport>> {
    Ok(Json(state.app.import_outcomes_csv(&ctx, &body).await?))
}
