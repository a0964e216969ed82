//! The JSON API under `/api/v1`. Handlers parse, call one use case and render; the OpenAPI
//! document is generated from these functions and their types.

use crate::AppState;
use crate::api_content::*;
use crate::api_credentials::*;
use crate::api_exams::*;
use crate::api_lifecycle::*;
use crate::api_practicals::*;
use crate::api_programs::*;
use crate::problem::{ApiJson, ApiQuery, ApiResult, FieldProblem, Problem};
use crate::session::{Caller, request_id};
use accredit_app::accounts::{EmailChangeRequested, NewPartner, NewPerson, Partner, Person};
use accredit_app::audit::AuditEvent;
use accredit_app::auth::{ApiToken, IssuedToken};
use accredit_domain::{Principal, Scope};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{self, ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Accredit API",
        description = "Partner certification: partners, people, credentials and the checks other systems make. Authenticate with `Authorization: Bearer <token>` (create tokens with `accredit token create` or on the API tokens page) or, from the portal's own pages, with the session cookie plus the `x-csrf-token` header.",
    ),
    components(schemas(Problem, FieldProblem)),
    tags(
        (name = "people", description = "Partner organisations and their staff"),
        (name = "tokens", description = "API tokens for integrations"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "programs", description = "Program files, enrolment and partner standing"),
        (name = "entitlements", description = "What a partner or person may do, and why"),
        (name = "content", description = "Training content: versions, comparisons, what changed"),
        (name = "credentials", description = "Issued credentials, revocation and suspension"),
        (name = "practicals", description = "Practical assessments: submissions, signed reviews, agreement"),
        (name = "exams", description = "Blueprints, the item bank, attempts, proctoring and item quality"),
        (name = "directory", description = "The public partner directory"),
        (name = "lifecycle", description = "Keeping certification current: the daily sweep, webhooks, outgoing messages, notifications"),
    )
)]
struct ApiDoc;

/// Adds the security schemes and the problem responses every operation can give, once; applied
/// after the routes are collected so it sees every operation.
struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, api: &mut openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::session::SESSION_COOKIE,
            ))),
        );
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(openapi::Ref::from_schema_name("Problem"))))
                        .build(),
                )
                .build()
        };
        for item in api.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let responses = &mut operation.responses.responses;
                responses.entry("4XX".into()).or_insert_with(|| {
                    problem("The request was refused; the problem document says why and where")
                        .into()
                });
                responses.entry("5XX".into()).or_insert_with(|| {
                    problem("Internal error; see the server log for the x-request-id").into()
                });
                if operation.security.is_none() {
                    operation.security = Some(vec![
                        openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
                        openapi::security::SecurityRequirement::new(
                            "session",
                            Vec::<String>::new(),
                        ),
                    ]);
                }
            }
        }
    }
}

/// The API's routes and its OpenAPI document, built together.
pub fn routes() -> (axum::Router<AppState>, openapi::OpenApi) {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(get_me))
        .routes(routes!(list_partners, create_partner))
        .routes(routes!(get_partner, update_partner))
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person, update_person))
        .routes(routes!(request_email_change))
        .routes(routes!(confirm_email_change))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_audit_events))
        .routes(routes!(list_programs))
        .routes(routes!(get_program))
        .routes(routes!(validate_program))
        .routes(routes!(apply_program))
        .routes(routes!(enroll_partner))
        .routes(routes!(get_standing))
        .routes(routes!(check_entitlement, check_entitlements))
        .routes(routes!(import_people))
        .routes(routes!(export_people))
        .routes(routes!(import_content, get_content))
        .routes(routes!(compare_content))
        .routes(routes!(changes_since_certified))
        .routes(routes!(search_content))
        .routes(routes!(reindex))
        .routes(routes!(mark_read))
        .routes(routes!(record_time))
        .routes(routes!(get_progress))
        .routes(routes!(complete_module))
        .routes(routes!(list_published_exams))
        .routes(routes!(get_blueprint))
        .routes(routes!(publish_exam))
        .routes(routes!(add_items, list_items))
        .routes(routes!(import_item_files))
        .routes(routes!(export_item_qti))
        .routes(routes!(set_item_status))
        .routes(routes!(get_eligibility))
        .routes(routes!(start_attempt))
        .routes(routes!(get_attempt))
        .routes(routes!(save_answer))
        .routes(routes!(submit_attempt))
        .routes(routes!(record_event))
        .routes(routes!(live_attempts))
        .routes(routes!(approve_attempt))
        .routes(routes!(invalidate_attempt))
        .routes(routes!(item_stats))
        .routes(routes!(submit_practical))
        .routes(routes!(get_submission))
        .routes(routes!(resubmit_practical))
        .routes(routes!(review_queue))
        .routes(routes!(review_practical))
        .routes(routes!(review_agreement))
        .routes(routes!(attach_files))
        .routes(routes!(download_file))
        .routes(routes!(person_credentials))
        .routes(routes!(get_credential))
        .routes(routes!(change_credential_status))
        .routes(routes!(verify_credential))
        .routes(routes!(run_sweep))
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(disable_webhook))
        .routes(routes!(test_webhook))
        .routes(routes!(list_outbox))
        .routes(routes!(replay_message))
        .routes(routes!(my_notifications))
        .routes(routes!(get_renewal))
        .routes(routes!(complete_delta_module))
        .routes(routes!(record_trigger, list_triggers))
        .routes(routes!(record_health_scores))
        .routes(routes!(list_remediation))
        .routes(routes!(partner_directory))
        .routes(routes!(import_outcomes))
        .split_for_parts();
    let mut api = api;
    SharedResponses.modify(&mut api);
    (router, api)
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `person` or `integration`.
    pub kind: String,
    /// The signed-in person, for sessions and person-bound callers.
    pub person: Option<Person>,
    /// The token's scopes, for integrations.
    pub scopes: Vec<Scope>,
}

/// Describes the caller: the signed-in person, or the integration's scopes.
#[utoipa::path(get, path = "/api/v1/me", tag = "people", responses((status = OK, body = Me)))]
async fn get_me(State(state): State<AppState>, Caller(ctx): Caller) -> ApiResult<Json<Me>> {
    let me = match &ctx.principal {
        Principal::Person(actor) => Me {
            kind: "person".into(),
            person: Some(state.app.get_person(&ctx, actor.person_id.as_str()).await?),
            scopes: vec![],
        },
        Principal::Integration { scopes, .. } => Me {
            kind: "integration".into(),
            person: None,
            scopes: scopes.clone(),
        },
        Principal::System => Me {
            kind: "system".into(),
            person: None,
            scopes: vec![],
        },
    };
    Ok(Json(me))
}

/// Lists the partner organisations the caller may see.
#[utoipa::path(get, path = "/api/v1/partners", tag = "people", responses((status = OK, body = Vec<Partner>)))]
async fn list_partners(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<Partner>>> {
    Ok(Json(state.app.list_partners(&ctx).await?))
}

/// Adds a partner organisation (program admins, or tokens with `partners:write`).
#[utoipa::path(post, path = "/api/v1/partners", tag = "people", request_body = NewPartner,
    responses((status = CREATED, body = Partner)))]
async fn create_partner(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<NewPartner>,
) -> ApiResult<(StatusCode, Json<Partner>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.app.create_partner(&ctx, input).await?),
    ))
}

/// One partner organisation; others' organisations are reported as not found.
#[utoipa::path(get, path = "/api/v1/partners/{id}", tag = "people",
    params(("id" = String, Path, description = "Partner id")),
    responses((status = OK, body = Partner)))]
async fn get_partner(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Partner>> {
    Ok(Json(state.app.get_partner(&ctx, &id).await?))
}

/// Lists the people the caller may see: everyone for vendor staff, their own firm for partner
/// admins, themselves for learners.
#[utoipa::path(get, path = "/api/v1/people", tag = "people", responses((status = OK, body = Vec<Person>)))]
async fn list_people(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<Person>>> {
    Ok(Json(state.app.list_people(&ctx).await?))
}

/// Adds a person. Partner admins add staff of their own firm with partner roles.
#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = NewPerson,
    responses((status = CREATED, body = Person)))]
async fn create_person(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<NewPerson>,
) -> ApiResult<(StatusCode, Json<Person>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.app.create_person(&ctx, input).await?),
    ))
}

/// One person; people the caller may not see are reported as not found.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people",
    params(("id" = String, Path, description = "Person id")),
    responses((status = OK, body = Person)))]
async fn get_person(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Person>> {
    Ok(Json(state.app.get_person(&ctx, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeRequest {
    /// The new address; a confirmation link is sent there.
    pub email: String,
}

/// Starts a change of email address. The person keeps their id and every record; the change
/// takes effect when the link sent to the new address is followed.
#[utoipa::path(post, path = "/api/v1/people/{id}/email-change", tag = "people",
    params(("id" = String, Path, description = "Person id")),
    request_body = EmailChangeRequest,
    responses((status = ACCEPTED, body = EmailChangeRequested)))]
async fn request_email_change(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EmailChangeRequest>,
) -> ApiResult<(StatusCode, Json<EmailChangeRequested>)> {
    let requested = state
        .app
        .request_email_change(&ctx, &id, &input.email)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(requested)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeConfirmation {
    /// The token from the confirmation link.
    pub token: String,
}

/// Completes an email change with the token from the confirmation link; needs no sign-in.
#[utoipa::path(post, path = "/api/v1/email-change/confirm", tag = "people",
    request_body = EmailChangeConfirmation,
    security(()),
    responses((status = OK, body = Person)))]
async fn confirm_email_change(
    State(state): State<AppState>,
    parts: Parts,
    ApiJson(input): ApiJson<EmailChangeConfirmation>,
) -> ApiResult<Json<Person>> {
    Ok(Json(
        state
            .app
            .confirm_email_change(request_id(&parts), &input.token)
            .await?,
    ))
}

/// Lists API tokens (program admins). Secrets are never shown again after creation.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = OK, body = Vec<ApiToken>)))]
async fn list_tokens(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(state.app.list_api_tokens(&ctx).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// E.g. `["people:read"]`.
    pub scopes: Vec<String>,
}

/// Creates an API token. The response holds the secret; it is shown this once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = CREATED, body = IssuedToken)))]
async fn create_token(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let issued = state
        .app
        .create_api_token(&ctx, &input.name, &input.scopes.join(" "))
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Revokes an API token; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "Token id")),
    responses((status = OK, body = ApiToken)))]
async fn revoke_token(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiToken>> {
    Ok(Json(state.app.revoke_api_token(&ctx, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditPageParams {
    /// Return events after this sequence number (0 for the start).
    #[serde(default)]
    pub after: i64,
    /// At most this many events (1 to 1000, default 100).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

/// Pages through the audit trail, oldest first (program admins, or tokens with `audit:read`).
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", params(AuditPageParams),
    responses((status = OK, body = AuditPage)))]
async fn list_audit_events(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(params): ApiQuery<AuditPageParams>,
) -> ApiResult<Json<AuditPage>> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(crate::problem::ApiError::invalid(
            "limit",
            "must be between 1 and 1000",
        ));
    }
    let events = state
        .app
        .list_audit_events(&ctx, params.after, limit)
        .await?;
    let next_after = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage { events, next_after }))
}
