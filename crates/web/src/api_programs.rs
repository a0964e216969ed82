//! API for programs, partner standing, updates to partners and people, and the entitlement
//! check integrations call.

use crate::AppState;
use crate::problem::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::session::Caller;
use accredit_app::Ctx;
use accredit_app::accounts::{Partner, PartnerUpdate, Person, PersonUpdate};
use accredit_app::entitlements::{Lookup, Subjectee};
use accredit_app::programs::{PartnerStanding, ProgramPlan, ProgramSummary};
use accredit_domain::{Action, PartnerId};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Lists the applied programs.
#[utoipa::path(get, path = "/api/v1/programs", tag = "programs", responses((status = OK, body = Vec<ProgramSummary>)))]
pub async fn list_programs(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ProgramSummary>>> {
    Ok(Json(state.app.list_programs(&ctx).await?))
}

/// The applied definition of one program: tracks, tiers, benefits and their rules.
#[utoipa::path(get, path = "/api/v1/programs/{id}", tag = "programs",
    params(("id" = String, Path, description = "Program id")),
    responses((status = OK, body = Object)))]
pub async fn get_program(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let program = state.app.get_program(&ctx, &id).await?;
    Ok(Json(
        serde_json::to_value(program).map_err(|e| accredit_app::AppError::Internal(e.into()))?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramSource {
    /// The program file's text (TOML).
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidProgram {
    pub id: String,
    pub version: String,
    pub tracks: usize,
    pub tiers: usize,
    pub benefits: usize,
}

/// Checks a program file; problems come back as a problem document whose `errors` name each
/// line and column.
#[utoipa::path(post, path = "/api/v1/programs/validate", tag = "programs", request_body = ProgramSource,
    responses((status = OK, body = ValidProgram)))]
pub async fn validate_program(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<ProgramSource>,
) -> ApiResult<Json<ValidProgram>> {
    ctx.authorize(&Action::ReadPrograms, "programs")?;
    let program = state.app.validate_program(&input.source)?;
    Ok(Json(ValidProgram {
        id: program.id,
        version: program.version,
        tracks: program.tracks.len(),
        tiers: program.tiers.len(),
        benefits: program.benefits.len(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ApplyParams {
    /// Show what would change without changing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// Applies a program file atomically (audited), or with `dry_run=true` shows what would change:
/// each added, removed or changed item and how many partners' tiers would move.
#[utoipa::path(post, path = "/api/v1/programs/apply", tag = "programs", request_body = ProgramSource,
    params(ApplyParams), responses((status = OK, body = ProgramPlan)))]
pub async fn apply_program(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(params): ApiQuery<ApplyParams>,
    ApiJson(input): ApiJson<ProgramSource>,
) -> ApiResult<Json<ProgramPlan>> {
    let plan = if params.dry_run {
        state.app.plan_program(&ctx, &input.source).await?
    } else {
        state.app.apply_program(&ctx, &input.source).await?
    };
    Ok(Json(plan))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    pub program_id: String,
}

/// Enrols a partner in a program; answers with its tier there.
#[utoipa::path(post, path = "/api/v1/partners/{id}/enrolments", tag = "programs",
    params(("id" = String, Path, description = "Partner id")), request_body = Enrolment,
    responses((status = CREATED, body = PartnerStanding)))]
pub async fn enroll_partner(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Enrolment>,
) -> ApiResult<(StatusCode, Json<PartnerStanding>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .app
                .enroll_partner(&ctx, &id, &input.program_id)
                .await?,
        ),
    ))
}

/// A partner's tier in each program, why, and what the next tier still needs.
#[utoipa::path(get, path = "/api/v1/partners/{id}/standing", tag = "programs",
    params(("id" = String, Path, description = "Partner id")),
    responses((status = OK, body = Vec<PartnerStanding>)))]
pub async fn get_standing(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<PartnerStanding>>> {
    Ok(Json(state.app.partner_standings(&ctx, &id).await?))
}

/// Changes a partner organisation: details, Partner Account Manager, or `active: false`.
#[utoipa::path(patch, path = "/api/v1/partners/{id}", tag = "people",
    params(("id" = String, Path, description = "Partner id")), request_body = PartnerUpdate,
    responses((status = OK, body = Partner)))]
pub async fn update_partner(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PartnerUpdate>,
) -> ApiResult<Json<Partner>> {
    Ok(Json(state.app.update_partner(&ctx, &id, input).await?))
}

/// Changes a person: name, roles, job role, partner (program admins), or `active: false`.
#[utoipa::path(patch, path = "/api/v1/people/{id}", tag = "people",
    params(("id" = String, Path, description = "Person id")), request_body = PersonUpdate,
    responses((status = OK, body = Person)))]
pub async fn update_person(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PersonUpdate>,
) -> ApiResult<Json<Person>> {
    Ok(Json(state.app.update_person(&ctx, &id, input).await?))
}

/// One question: may this partner (or this person) have this entitlement?
#[derive(Debug, Clone, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckQuery {
    /// Partner id; give this or `person`.
    pub partner: Option<String>,
    /// Person id, for benefits granted to people (or to ask about their partner).
    pub person: Option<String>,
    /// The benefit's id in the program file, e.g. `order-processing`.
    pub entitlement: String,
    /// The program, when several define a benefit with this id.
    pub program: Option<String>,
}

/// The answer, with its reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckAnswer {
    pub allowed: bool,
    pub partner: String,
    pub person: Option<String>,
    pub program: String,
    pub entitlement: String,
    /// The partner's tier in the program.
    pub tier: Option<String>,
    /// One sentence for people.
    pub reason: String,
    /// The facts the answer rests on.
    pub basis: Vec<String>,
    /// When allowed: the last day it holds, if it ends.
    pub until: Option<String>,
    /// When denied: the nearest step that would grant it.
    pub next_action: Option<String>,
}

async fn answer(state: &AppState, ctx: &Ctx, query: &CheckQuery) -> ApiResult<CheckAnswer> {
    let who = match (&query.partner, &query.person) {
        (Some(partner), None) => Subjectee::Partner(partner),
        (None, Some(person)) => Subjectee::Person(person),
        _ => {
            return Err(ApiError::invalid(
                "partner",
                "give exactly one of `partner` and `person`",
            ));
        }
    };
    let lookup = state
        .app
        .check_entitlement(who, &query.entitlement, query.program.as_deref())
        .await?;
    let hidden = || match who {
        Subjectee::Partner(id) => ApiError::not_found(format!("partner `{id}` not found")),
        Subjectee::Person(id) => ApiError::not_found(format!("person `{id}` not found")),
    };
    let found = match lookup {
        Lookup::Answer(found) => found,
        Lookup::UnknownPartner | Lookup::UnknownPerson => return Err(hidden()),
        Lookup::UnknownEntitlement => {
            return Err(ApiError::not_found(format!(
                "no applied program defines the entitlement `{}`{}",
                query.entitlement,
                query
                    .program
                    .as_ref()
                    .map(|p| format!(" in program `{p}`"))
                    .unwrap_or_default()
            )));
        }
        Lookup::Ambiguous(programs) => {
            return Err(ApiError::invalid(
                "program",
                format!(
                    "`{}` is defined by programs {}; say which with `program`",
                    query.entitlement,
                    programs.join(", ")
                ),
            ));
        }
        Lookup::PersonBenefit => {
            return Err(ApiError::invalid(
                "person",
                format!(
                    "`{}` is granted to people, not partners; ask with `person`",
                    query.entitlement
                ),
            ));
        }
        Lookup::Stale(_) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "stale",
                "Try again",
                "the decision is being re-evaluated",
            ));
        }
    };
    let partner_id = found.partner_id();
    // Partner staff and managers ask only about partners they can see; tokens need the scope.
    if ctx
        .authorize(
            &Action::CheckEntitlement(&PartnerId(partner_id.clone())),
            "partner",
        )
        .is_err()
    {
        return Err(hidden());
    }
    let decision = found.decision;
    Ok(CheckAnswer {
        allowed: decision.allowed,
        partner: partner_id,
        person: query.person.clone(),
        program: found.program_id.to_string(),
        entitlement: found.entitlement.to_string(),
        tier: found.tier.map(|t| t.to_string()),
        reason: decision.reason.clone(),
        basis: decision.basis.clone(),
        until: decision.until.map(|d| d.to_string()),
        next_action: decision.next_action.clone(),
    })
}

/// Asks whether a partner (or a person) may have an entitlement, from the in-memory snapshot.
/// The answer gives the reason in words, its basis, until when it holds, and for a denial the
/// next step that would grant it. Integrations need a token with `entitlements:read`.
#[utoipa::path(get, path = "/api/v1/entitlements/check", tag = "entitlements", params(CheckQuery),
    responses((status = OK, body = CheckAnswer)))]
pub async fn check_entitlement(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(query): ApiQuery<CheckQuery>,
) -> ApiResult<Json<CheckAnswer>> {
    Ok(Json(answer(&state, &ctx, &query).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCheck {
    /// Up to 1000 questions.
    pub checks: Vec<CheckQuery>,
}

/// One result of a batch: the answer, or the problem with that question.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub answer: Option<CheckAnswer>,
    pub problem: Option<crate::problem::Problem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAnswer {
    /// In the order asked.
    pub results: Vec<BatchResult>,
}

/// Many checks in one call; each result is an answer or a problem, in the order asked.
#[utoipa::path(post, path = "/api/v1/entitlements/check", tag = "entitlements", request_body = BatchCheck,
    responses((status = OK, body = BatchAnswer)))]
pub async fn check_entitlements(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<BatchCheck>,
) -> ApiResult<Json<BatchAnswer>> {
    if input.checks.len() > 1000 {
        return Err(ApiError::invalid(
            "checks",
            format!("at most 1000 checks per call, got {}", input.checks.len()),
        ));
    }
    let mut results = Vec::with_capacity(input.checks.len());
    for query in &input.checks {
        results.push(match answer(&state, &ctx, query).await {
            Ok(answer) => BatchResult {
                answer: Some(answer),
                problem: None,
            },
            Err(problem) => BatchResult {
                answer: None,
                problem: Some(problem.problem()),
            },
        });
    }
    Ok(Json(BatchAnswer { results }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// The partner all rows belong to; without it every row needs a `partner_id` column.
    pub partner: Option<String>,
    /// Write nothing unless every row is valid.
    #[serde(default)]
    pub strict: bool,
}

/// Imports people from CSV (`Content-Type: text/csv`; columns `email`, `display_name`,
/// `roles`, optional `job_role` and `partner_id`). Valid rows are written in one transaction;
/// invalid rows come back with their line number and reason.
#[utoipa::path(post, path = "/api/v1/people/import", tag = "people", params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = OK, body = accredit_app::people_import::ImportReport)))]
pub async fn import_people(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(params): ApiQuery<ImportParams>,
    body: axum::body::Bytes,
) -> ApiResult<Json<accredit_app::people_import::ImportReport>> {
    let report = state
        .app
        .import_people(
            &ctx,
            params.partner.as_deref(),
            &body,
            params.strict,
            &|_, _| {},
        )
        .await?;
    Ok(Json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// Only this partner's people.
    pub partner: Option<String>,
}

/// The people the caller may see, as CSV that re-imports unchanged.
#[utoipa::path(get, path = "/api/v1/people/export", tag = "people", params(ExportParams),
    responses((status = OK, body = String, content_type = "text/csv")))]
pub async fn export_people(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse as _;
    let csv = state
        .app
        .export_people(&ctx, params.partner.as_deref())
        .await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv,
    )
        .into_response())
}
