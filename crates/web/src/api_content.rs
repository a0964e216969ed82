//! API for training content: import, read, compare versions, and what changed for a person.

use crate::AppState;
use crate::problem::{ApiError, ApiQuery, ApiResult};
use crate::session::Caller;
use accredit_app::content::{ContentFile, ModuleVersion, VersionComparison};
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

/// Imports files as the next version of a module. Send `multipart/form-data` with one `file` part
/// per file (WebVTT, SRT or Markdown, in order) and, for a transcript, a text part named
/// `recording_url:<file name>`. All or nothing: every problem is reported with file and line.
#[utoipa::path(post, path = "/api/v1/programs/{program}/modules/{module}/content", tag = "content",
    params(("program" = String, Path), ("module" = String, Path)),
    request_body(content = String, content_type = "multipart/form-data"),
    responses((status = CREATED, body = ModuleVersion)))]
pub async fn import_content(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, module)): Path<(String, String)>,
    mut form: Multipart,
) -> ApiResult<(StatusCode, Json<ModuleVersion>)> {
    let mut files = Vec::new();
    let mut recordings = Vec::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(crate::problem::ApiError::malformed_upload)?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload").to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(crate::problem::ApiError::malformed_upload)?
                .to_vec();
            files.push(ContentFile {
                file_name,
                bytes,
                recording_url: None,
            });
        } else if let Some(file) = name.strip_prefix("recording_url:") {
            recordings.push((
                file.to_owned(),
                field
                    .text()
                    .await
                    .map_err(crate::problem::ApiError::malformed_upload)?,
            ));
        }
    }
    for (file, url) in recordings {
        match files.iter_mut().find(|f| f.file_name == file) {
            Some(target) => target.recording_url = Some(url),
            None => {
                return Err(ApiError::invalid(
                    &format!("recording_url:{file}"),
                    "names no uploaded file",
                ));
            }
        }
    }
    let version = state
        .app
        .import_content(&ctx, &program, &module, &files)
        .await?;
    Ok((StatusCode::CREATED, Json(version)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionParams {
    /// A version number; the latest when absent.
    pub version: Option<i64>,
}

/// A module's content: documents and their sections, each with its recording moment.
#[utoipa::path(get, path = "/api/v1/programs/{program}/modules/{module}/content", tag = "content",
    params(("program" = String, Path), ("module" = String, Path), VersionParams),
    responses((status = OK, body = ModuleVersion)))]
pub async fn get_content(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, module)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<VersionParams>,
) -> ApiResult<Json<ModuleVersion>> {
    Ok(Json(
        state
            .app
            .module_version(&ctx, &program, &module, params.version)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CompareParams {
    pub from: i64,
    pub to: i64,
}

/// Compares two versions section by section, changed words marked.
#[utoipa::path(get, path = "/api/v1/programs/{program}/modules/{module}/compare", tag = "content",
    params(("program" = String, Path), ("module" = String, Path), CompareParams),
    responses((status = OK, body = VersionComparison)))]
pub async fn compare_content(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, module)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<CompareParams>,
) -> ApiResult<Json<VersionComparison>> {
    Ok(Json(
        state
            .app
            .compare_versions(&ctx, &program, &module, params.from, params.to)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangesParams {
    pub program: String,
    pub module: String,
}

/// What changed in a module since the version the person's credential was earned on.
#[utoipa::path(get, path = "/api/v1/people/{id}/changes", tag = "content",
    params(("id" = String, Path), ChangesParams),
    responses((status = OK, body = VersionComparison)))]
pub async fn changes_since_certified(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ChangesParams>,
) -> ApiResult<Json<VersionComparison>> {
    match state
        .app
        .changed_since_certified(&ctx, &id, &params.program, &params.module)
        .await?
    {
        Some(changes) => Ok(Json(changes)),
        None => Err(ApiError::not_found(format!(
            "no credential of program `{}` for person `{id}`, or no content for module `{}`",
            params.program, params.module
        ))),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words or "a phrase"; one typo per longer word is forgiven.
    pub q: String,
    pub program: Option<String>,
    pub module: Option<String>,
    /// Only modules a track requires.
    pub track: Option<String>,
    /// Only modules for this job role.
    pub role: Option<String>,
    /// At most this many hits (1 to 100, default 20).
    pub limit: Option<usize>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub hits: Vec<accredit_app::search::SearchHit>,
}

/// Searches published training content, best matches first, each hit linking to its section
/// and recording moment.
#[utoipa::path(get, path = "/api/v1/search", tag = "content", params(SearchParams),
    responses((status = OK, body = SearchResults)))]
pub async fn search_content(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<SearchResults>> {
    let query = accredit_app::search::SearchQuery {
        text: params.q,
        program: params.program,
        module: params.module,
        track: params.track,
        role: params.role,
        limit: params.limit.unwrap_or(20),
    };
    Ok(Json(SearchResults {
        hits: state.app.search_content(&ctx, &query).await?,
    }))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Reindexed {
    pub sections: usize,
}

/// Rebuilds this node's search index from the database (program admins).
#[utoipa::path(post, path = "/api/v1/search/reindex", tag = "content",
    responses((status = OK, body = Reindexed)))]
pub async fn reindex(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Reindexed>> {
    ctx.authorize(&accredit_domain::Action::ManagePrograms, "programs")?;
    let sections = state.app.reindex_content(&|_, _| {}).await?;
    Ok(Json(Reindexed { sections }))
}

/// Marks a section read by the signed-in person.
#[utoipa::path(post, path = "/api/v1/sections/{id}/read", tag = "content",
    params(("id" = String, Path)), responses((status = NO_CONTENT)))]
pub async fn mark_read(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.mark_section_read(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StudyTime {
    /// Seconds studied since the last report (1 to 3600).
    pub seconds: i64,
}

/// Adds study time to the signed-in person's module; answers the total in seconds.
#[utoipa::path(post, path = "/api/v1/programs/{program}/modules/{module}/time", tag = "content",
    params(("program" = String, Path), ("module" = String, Path)), request_body = StudyTime,
    responses((status = OK, body = i64)))]
pub async fn record_time(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, module)): Path<(String, String)>,
    crate::problem::ApiJson(input): crate::problem::ApiJson<StudyTime>,
) -> ApiResult<Json<i64>> {
    Ok(Json(
        state
            .app
            .record_study_time(&ctx, &program, &module, input.seconds)
            .await?,
    ))
}

/// The signed-in person's progress through a module's current version.
#[utoipa::path(get, path = "/api/v1/programs/{program}/modules/{module}/progress", tag = "content",
    params(("program" = String, Path), ("module" = String, Path)),
    responses((status = OK, body = accredit_app::progress::ModuleProgress)))]
pub async fn get_progress(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, module)): Path<(String, String)>,
) -> ApiResult<Json<accredit_app::progress::ModuleProgress>> {
    Ok(Json(
        state.app.module_progress(&ctx, &program, &module).await?,
    ))
}

/// Completes the module for the signed-in person once every section is read; it then counts
/// towards their tracks.
#[utoipa::path(post, path = "/api/v1/programs/{program}/modules/{module}/complete", tag = "content",
    params(("program" = String, Path), ("module" = String, Path)),
    responses((status = OK, body = accredit_app::progress::ModuleProgress)))]
pub async fn complete_module(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((program, module)): Path<(String, String)>,
) -> ApiResult<Json<accredit_app::progress::ModuleProgress>> {
    Ok(Json(
        state.app.complete_module(&ctx, &program, &module).await?,
    ))
}
