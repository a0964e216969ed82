//! Pages for training content: the module reader, search, a module's versions with the upload
//! form, version comparison, and "what changed since you were certified".

use crate::AppState;
use crate::pages::{
    CsrfOnly, Layout, PageError, PageResult, check_session_csrf, is_admin, unreadable_upload,
};
use crate::session::PageUser;
use accredit_app::AppError;
use accredit_app::content::{ContentFile, VersionComparison};
use accredit_app::programs::ProgramSummary;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/programs/{program}/modules/{module}", get(module_page))
        .route(
            "/programs/{program}/modules/{module}/complete",
            post(complete_module),
        )
        .route(
            "/programs/{program}/modules/{module}/versions",
            get(versions_page).post(upload_version),
        )
        .route(
            "/programs/{program}/modules/{module}/compare",
            get(compare_page),
        )
        .route(
            "/programs/{program}/modules/{module}/changes",
            get(changes_page),
        )
        .route("/sections/{id}/read", post(mark_section_read))
        .route("/search", get(search_page))
}

#[derive(Template, WebTemplate)]
#[template(path = "module.html")]
struct ModulePage {
    layout: Layout,
    title: String,
    v: accredit_app::content::ModuleVersion,
    progress: Option<accredit_app::progress::ModuleProgress>,
    read: Vec<String>,
    empty: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

/// A module's content, section by section, with the reader's progress.
async fn module_page(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, module)): Path<(String, String)>,
    Query(query): Query<VersionQuery>,
) -> PageResult {
    let ctx = user.ctx();
    let v = state
        .app
        .module_version(&ctx, &program, &module, query.version)
        .await?;
    let title = state
        .app
        .get_program(&ctx, &program)
        .await?
        .modules
        .iter()
        .find(|m| m.id == module)
        .map_or_else(|| module.clone(), |m| m.title.clone());
    let progress = state
        .app
        .module_progress(&ctx, &program, &module)
        .await
        .ok();
    let read = progress
        .as_ref()
        .map(|p| p.sections_read.clone())
        .unwrap_or_default();
    Ok(ModulePage {
        layout: Layout::for_user(&user),
        title,
        v,
        progress,
        read,
        empty: Vec::new(),
    }
    .into_response())
}

#[derive(Deserialize)]
struct ReadForm {
    csrf: String,
    back: String,
}

async fn mark_section_read(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ReadForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    state.app.mark_section_read(&user.ctx(), &id).await?;
    // Only paths on this site: never an open redirect.
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") {
        form.back
    } else {
        "/".to_owned()
    };
    Ok(Redirect::to(&back).into_response())
}

async fn complete_module(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, module)): Path<(String, String)>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    state
        .app
        .complete_module(&user.ctx(), &program, &module)
        .await?;
    Ok(Redirect::to(&format!("/programs/{program}/modules/{module}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    form: SearchForm,
    programs: Vec<ProgramSummary>,
    hits: Vec<accredit_app::search::SearchHit>,
    errors: crate::form::FormState,
}

#[derive(Deserialize, Default)]
struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    program: String,
    #[serde(default)]
    role: String,
}

async fn search_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(form): Query<SearchForm>,
) -> PageResult {
    let ctx = user.ctx();
    let mut errors = crate::form::FormState::new();
    let hits = if form.q.trim().is_empty() {
        Vec::new()
    } else {
        let chosen = |value: &str| Some(value.to_owned()).filter(|v| !v.is_empty());
        let query = accredit_app::search::SearchQuery {
            text: form.q.clone(),
            program: chosen(&form.program),
            role: chosen(&form.role),
            limit: 20,
            ..Default::default()
        };
        match state.app.search_content(&ctx, &query).await {
            Ok(hits) => hits,
            Err(e) => {
                errors = errors.refused(e, &[("q", "q")])?;
                Vec::new()
            }
        }
    };
    let status = if errors.is_refused() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = SearchPage {
        layout: Layout::for_user(&user),
        programs: state.app.list_programs(&ctx).await?,
        form,
        hits,
        errors,
    };
    Ok((status, page).into_response())
}

async fn module_title(
    state: &AppState,
    user: &PageUser,
    program: &str,
    module: &str,
) -> PageResult<String> {
    Ok(state
        .app
        .get_program(&user.ctx(), program)
        .await?
        .modules
        .iter()
        .find(|m| m.id == module)
        .map(|m| m.title.clone())
        .ok_or_else(|| AppError::NotFound(format!("module `{module}` of program `{program}`")))?)
}

/// One row of the upload form: a file and, for a transcript, its recording.
const UPLOAD_ROWS: usize = 4;

#[derive(Template, WebTemplate)]
#[template(path = "versions.html")]
struct VersionsPage {
    layout: Layout,
    program_id: String,
    module_id: String,
    title: String,
    versions: Vec<accredit_app::content::VersionSummary>,
    can_upload: bool,
    rows: std::ops::Range<usize>,
    imported: Option<i64>,
    /// (where, what) for each problem in the uploaded files.
    errors: Vec<(String, String)>,
}

async fn render_versions(
    state: &AppState,
    user: &PageUser,
    program: String,
    module: String,
    imported: Option<i64>,
    errors: Vec<(String, String)>,
) -> PageResult<VersionsPage> {
    let title = module_title(state, user, &program, &module).await?;
    let versions = state
        .app
        .module_version_summaries(&user.ctx(), &program, &module)
        .await?;
    Ok(VersionsPage {
        layout: Layout::for_user(user),
        can_upload: is_admin(&user.session.principal),
        program_id: program,
        module_id: module,
        title,
        versions,
        rows: 0..UPLOAD_ROWS,
        imported,
        errors,
    })
}

/// A module's versions, a form to compare two of them and, for program admins, to upload the
/// next version.
async fn versions_page(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, module)): Path<(String, String)>,
) -> PageResult {
    Ok(
        render_versions(&state, &user, program, module, None, Vec::new())
            .await?
            .into_response(),
    )
}

async fn upload_version(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, module)): Path<(String, String)>,
    mut form: Multipart,
) -> PageResult {
    let mut csrf = String::new();
    let mut files: Vec<(usize, ContentFile)> = Vec::new();
    let mut recordings: Vec<(usize, String)> = Vec::new();
    while let Some(field) = form.next_field().await.map_err(unreadable_upload)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "csrf" {
            csrf = field.text().await.map_err(unreadable_upload)?;
        } else if let Some(row) = name.strip_prefix("file").and_then(|n| n.parse().ok()) {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(unreadable_upload)?.to_vec();
            // Browsers send an empty part for a row left blank.
            if !file_name.is_empty() || !bytes.is_empty() {
                files.push((
                    row,
                    ContentFile {
                        file_name,
                        bytes,
                        recording_url: None,
                    },
                ));
            }
        } else if let Some(row) = name.strip_prefix("recording").and_then(|n| n.parse().ok()) {
            let url = field.text().await.map_err(unreadable_upload)?;
            if !url.trim().is_empty() {
                recordings.push((row, url.trim().to_owned()));
            }
        }
    }
    check_session_csrf(&user, &csrf)?;
    let mut errors = Vec::new();
    for (row, url) in recordings {
        match files.iter_mut().find(|(r, _)| *r == row) {
            Some((_, file)) => file.recording_url = Some(url),
            None => errors.push((
                format!("recording {}", row + 1),
                "a recording URL needs a transcript file in the same row".to_owned(),
            )),
        }
    }
    if files.is_empty() {
        errors.push((
            "files".to_owned(),
            "choose at least one file to upload".to_owned(),
        ));
    }
    let files: Vec<ContentFile> = files.into_iter().map(|(_, f)| f).collect();
    let result = if errors.is_empty() {
        state
            .app
            .import_content(&user.ctx(), &program, &module, &files)
            .await
    } else {
        Err(AppError::Invalid(Vec::new()))
    };
    let (imported, status) = match result {
        Ok(version) => (Some(version.version), StatusCode::CREATED),
        Err(AppError::Invalid(problems)) => {
            errors.extend(problems.into_iter().map(|p| (p.field, p.message)));
            (None, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => return Err(other.into()),
    };
    let page = render_versions(&state, &user, program, module, imported, errors).await?;
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "changes.html")]
struct ChangesPage {
    layout: Layout,
    heading: String,
    lede: String,
    c: VersionComparison,
    changed: usize,
}

fn changes_page_for(
    user: &PageUser,
    heading: String,
    lede: String,
    c: VersionComparison,
) -> ChangesPage {
    ChangesPage {
        layout: Layout::for_user(user),
        heading,
        lede,
        changed: c
            .sections
            .iter()
            .filter(|s| s.change != "unchanged")
            .count(),
        c,
    }
}

#[derive(Deserialize)]
struct CompareForm {
    from: i64,
    to: i64,
}

/// Two versions of a module compared section by section, changed words marked.
async fn compare_page(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, module)): Path<(String, String)>,
    Query(form): Query<CompareForm>,
) -> PageResult {
    let title = module_title(&state, &user, &program, &module).await?;
    let c = state
        .app
        .compare_versions(&user.ctx(), &program, &module, form.from, form.to)
        .await?;
    let lede = format!(
        "Version {} compared with version {}.",
        c.to_version, c.from_version
    );
    Ok(changes_page_for(&user, format!("{title}: what changed"), lede, c).into_response())
}

/// For the signed-in person: what changed in a module since the version their credential was
/// earned on.
async fn changes_page(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, module)): Path<(String, String)>,
) -> PageResult {
    let title = module_title(&state, &user, &program, &module).await?;
    let ctx = user.ctx();
    let c = state
        .app
        .changed_since_certified(&ctx, &user.session.person_id, &program, &module)
        .await?
        .ok_or_else(|| PageError {
            status: StatusCode::NOT_FOUND,
            heading: "Nothing to compare",
            message: format!(
                "You hold no credential of this program yet, so there is no earlier version to compare with. Read the whole module instead: /programs/{program}/modules/{module}"
            ),
        })?;
    let lede = if c.from_version == 0 {
        format!(
            "This module's content was published after you were certified; all of version {} is new to you.",
            c.to_version
        )
    } else if c.from_version == c.to_version {
        format!(
            "Nothing changed: version {} is the one you were certified on.",
            c.to_version
        )
    } else {
        format!(
            "You were certified on version {}; this is what version {} changed.",
            c.from_version, c.to_version
        )
    };
    Ok(changes_page_for(
        &user,
        format!("{title}: what changed since you were certified"),
        lede,
        c,
    )
    .into_response())
}
