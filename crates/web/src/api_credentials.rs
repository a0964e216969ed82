//! API for credentials: a person's credentials, one credential, and revoking or suspending it.

use crate::AppState;
use crate::problem::{ApiJson, ApiResult};
use crate::session::Caller;
use accredit_app::credentials::CredentialView;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::ToSchema;

/// The credentials a person holds or held, newest first.
#[utoipa::path(get, path = "/api/v1/people/{id}/credentials", tag = "credentials",
    params(("id" = String, Path)), responses((status = OK, body = Vec<CredentialView>)))]
pub async fn person_credentials(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CredentialView>>> {
    Ok(Json(state.app.credentials_of(&ctx, &id).await?))
}

/// One credential; others' are not found.
#[utoipa::path(get, path = "/api/v1/credentials/{id}", tag = "credentials",
    params(("id" = String, Path)), responses((status = OK, body = CredentialView)))]
pub async fn get_credential(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CredentialView>> {
    Ok(Json(state.app.credential(&ctx, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `revoked`, `suspended`, or `active` to reinstate a suspended credential.
    pub status: String,
    /// Required to revoke or suspend; recorded in the audit trail.
    #[serde(default)]
    pub reason: String,
}

/// Revokes, suspends or reinstates a credential (program admins). The partner's tier and
/// entitlements follow at once.
#[utoipa::path(post, path = "/api/v1/credentials/{id}/status", tag = "credentials",
    params(("id" = String, Path)), request_body = StatusChange,
    responses((status = OK, body = CredentialView)))]
pub async fn change_credential_status(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StatusChange>,
) -> ApiResult<Json<CredentialView>> {
    Ok(Json(
        state
            .app
            .set_credential_status(&ctx, &id, &input.status, &input.reason)
            .await?,
    ))
}

/// Verifies a credential this deployment issued: proof, issuer, dates and status, each
/// explained. No sign-in needed.
#[utoipa::path(get, path = "/api/v1/credentials/{id}/verification", tag = "credentials",
    security(()), params(("id" = String, Path)),
    responses((status = OK, body = accredit_app::signing::Verification)))]
pub async fn verify_credential(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<accredit_app::signing::Verification>> {
    Ok(Json(state.app.verify_issued(&id).await?))
}
