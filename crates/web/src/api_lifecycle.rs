//! API for keeping certification current: the daily sweep, webhooks, the outbox and people's
//! notifications.

use crate::AppState;
use crate::problem::{ApiJson, ApiQuery, ApiResult};
use crate::session::Caller;
use accredit_app::events::{Notification, WebhookSubscription};
use accredit_app::lifecycle::SweepReport;
use accredit_app::outbox::OutboxEntry;
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
