//! Exam pages: published blueprints (public), the exam page candidates answer on, the proctor's
//! live view, the item bank and item quality. The exam page works without JavaScript (a form
//! that saves and submits); with it, answers autosave, the timer counts down and is announced,
//! and focus loss and pasting are reported to the proctor.

use crate::AppState;
use crate::pages::{Layout, PageError, PageResult, check_session_csrf, unreadable_upload};
use crate::session::{PageUser, SESSION_COOKIE, cookie};
use accredit_app::AppError;
use accredit_app::exams::{AttemptView, LiveAttempt, PublishedExam, SavedAnswer};
use accredit_domain::attempt::Eligibility;
use accredit_domain::exam::{Choice, Item, ItemStatus, Response};
use accredit_domain::item_stats::ExamStats;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response as HttpResponse};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/exams", get(exams_page))
        .route("/exams/{program}/{exam}", get(blueprint_page))
        .route("/exams/{program}/{exam}/attempts", post(start_attempt))
        .route("/attempts/{id}", get(attempt_page))
        .route("/attempts/{id}/answers", post(save_answers))
        .route("/attempts/{id}/submit", post(submit_attempt))
        .route("/proctoring", get(proctoring_page))
        .route("/attempts/{id}/approve", post(approve_attempt))
        .route("/attempts/{id}/invalidate", post(invalidate_attempt))
        .route("/programs/{program}/items", get(items_page))
        .route("/programs/{program}/items/import", post(import_items))
        .route(
            "/programs/{program}/items/{item}/status",
            post(set_item_status),
        )
        .route(
            "/programs/{program}/exams/{exam}/publish",
            post(publish_exam),
        )
        .route(
            "/programs/{program}/exams/{exam}/quality",
            get(quality_page),
        )
        .route(
            "/programs/{program}/exams/{exam}/quality.csv",
            get(quality_csv),
        )
        .route("/assets/exam.js", get(exam_script))
}

/// The signed-in person when there is one; public pages work for everyone.
pub(crate) async fn optional_user(state: &AppState, headers: &HeaderMap) -> Option<PageUser> {
    let value = cookie(headers, SESSION_COOKIE)?;
    let session = state.app.session(&value).await.ok()?;
    Some(PageUser {
        session,
        request_id: None,
    })
}

pub(crate) fn layout_for(user: Option<&PageUser>) -> Layout {
    match user {
        Some(user) => Layout::for_user(user),
        None => Layout::anonymous(String::new()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "exams.html")]
struct ExamsPage {
    layout: Layout,
    exams: Vec<PublishedExam>,
}

/// Every published exam, for anyone deciding whether to enrol.
async fn exams_page(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    let user = optional_user(&state, &headers).await;
    Ok(ExamsPage {
        layout: layout_for(user.as_ref()),
        exams: state.app.published_exams().await?,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "blueprint.html")]
struct BlueprintPage {
    layout: Layout,
    exam: PublishedExam,
    /// (module id, title) of the prerequisites.
    prerequisites: Vec<(String, String)>,
    /// For signed-in partner staff: whether they may start now.
    eligibility: Option<Eligibility>,
    error: Option<String>,
}

async fn render_blueprint(
    state: &AppState,
    user: Option<&PageUser>,
    program: &str,
    exam: &str,
    error: Option<String>,
) -> PageResult<BlueprintPage> {
    let published = state.app.published_exam(program, exam).await?;
    let modules = state
        .app
        .get_program(&accredit_app::Ctx::system(), program)
        .await?
        .modules;
    let prerequisites = published
        .blueprint
        .prerequisites
        .iter()
        .map(|id| {
            let title = modules
                .iter()
                .find(|m| &m.id == id)
                .map_or_else(|| id.clone(), |m| m.title.clone());
            (id.clone(), title)
        })
        .collect();
    let eligibility = match user {
        Some(user) => state
            .app
            .exam_eligibility(&user.ctx(), program, exam)
            .await
            .ok(),
        None => None,
    };
    Ok(BlueprintPage {
        layout: layout_for(user),
        exam: published,
        prerequisites,
        eligibility,
        error,
    })
}

/// A published blueprint: domains and weights, passing score, time, retakes, study hours,
/// prerequisites, delivery. Signed-in candidates also see whether they may start now.
async fn blueprint_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((program, exam)): Path<(String, String)>,
) -> PageResult {
    let user = optional_user(&state, &headers).await;
    Ok(
        render_blueprint(&state, user.as_ref(), &program, &exam, None)
            .await?
            .into_response(),
    )
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn start_attempt(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, exam)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    match state.app.start_attempt(&user.ctx(), &program, &exam).await {
        Ok(attempt) => Ok(Redirect::to(&format!("/attempts/{}", attempt.id)).into_response()),
        Err(AppError::Conflict(why)) => {
            let page = render_blueprint(&state, Some(&user), &program, &exam, Some(why)).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// One item as the exam page's form shows it, with the candidate's saved answer.
struct ItemForm {
    number: usize,
    id: String,
    kind: String,
    stem: String,
    artifact_kind: String,
    artifact_language: String,
    /// (line number, highlighted HTML): faulty-line items pick from these.
    artifact_lines: Vec<(u32, String)>,
    choices: Vec<Choice>,
    targets: Vec<Choice>,
    /// Picked choice ids, line numbers or `true`/`false`.
    picked: Vec<String>,
    /// Numeric or short-text answer.
    text: String,
    /// For ordering: (choice, chosen position 1..n or 0).
    positions: Vec<(Choice, usize)>,
    /// For matching: (prompt, chosen target id).
    pairs: Vec<(Choice, String)>,
    flagged: bool,
    answered: bool,
}

impl ItemForm {
    fn is_picked(&self, value: &str) -> bool {
        self.picked.iter().any(|p| p == value)
    }
}

fn item_forms(view: &AttemptView) -> Vec<ItemForm> {
    view.items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            let saved = view.answers.iter().find(|a| a.item_id == item.id);
            let response = saved.and_then(|a| a.response.clone());
            let mut form = ItemForm {
                number: n + 1,
                id: item.id.clone(),
                kind: item.kind.clone(),
                stem: item.stem.clone(),
                artifact_kind: item
                    .artifact
                    .as_ref()
                    .map(|a| a.kind.clone())
                    .unwrap_or_default(),
                artifact_language: item
                    .artifact
                    .as_ref()
                    .map(|a| a.language.clone())
                    .unwrap_or_default(),
                artifact_lines: item
                    .artifact
                    .as_ref()
                    .map(|a| {
                        crate::highlight::highlight_lines(&a.language, &a.content)
                            .into_iter()
                            .enumerate()
                            .map(|(i, html)| (i as u32 + 1, html))
                            .collect()
                    })
                    .unwrap_or_default(),
                choices: item.choices.clone(),
                targets: item.targets.clone(),
                picked: Vec::new(),
                text: String::new(),
                positions: Vec::new(),
                pairs: Vec::new(),
                flagged: saved.is_some_and(|a| a.flagged),
                answered: response.is_some(),
            };
            match &response {
                Some(Response::Choice(c)) => form.picked = vec![c.clone()],
                Some(Response::Choices(cs)) => form.picked = cs.clone(),
                Some(Response::Bool(b)) => form.picked = vec![b.to_string()],
                Some(Response::Lines(ls)) => form.picked = ls.iter().map(u32::to_string).collect(),
                Some(Response::Number(x)) => form.text = x.to_string(),
                Some(Response::Text(t)) => form.text = t.clone(),
                _ => {}
            }
            form.positions = item
                .choices
                .iter()
                .map(|c| {
                    let position = match &response {
                        Some(Response::Order(order)) => {
                            order.iter().position(|o| o == &c.id).map_or(0, |p| p + 1)
                        }
                        _ => 0,
                    };
                    (c.clone(), position)
                })
                .collect();
            form.pairs = item
                .choices
                .iter()
                .map(|prompt| {
                    let target = match &response {
                        Some(Response::Pairs(pairs)) => pairs
                            .iter()
                            .find(|(p, _)| p == &prompt.id)
                            .map(|(_, t)| t.clone())
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    (prompt.clone(), target)
                })
                .collect();
            form
        })
        .collect()
}

/// Reads the exam page's form back into answers, one per item on the form.
fn answers_from_form(
    view: &AttemptView,
    fields: &[(String, String)],
) -> Result<Vec<SavedAnswer>, String> {
    let values = |name: String| -> Vec<&str> {
        fields
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let mut answers = Vec::new();
    for (n, item) in view.items.iter().enumerate() {
        let picked = values(format!("r:{}", item.id));
        let first = picked.first().map(|v| v.trim()).filter(|v| !v.is_empty());
        let response = match item.kind.as_str() {
            "single_choice" => first.map(|v| Response::Choice(v.to_owned())),
            "multiple_response" => (!picked.is_empty())
                .then(|| Response::Choices(picked.iter().map(|v| (*v).to_owned()).collect())),
            "true_false" => first.map(|v| Response::Bool(v == "true")),
            "numeric" => match first {
                Some(v) => {
                    Some(Response::Number(v.replace(',', ".").parse().map_err(
                        |_| format!("question {}: `{v}` is not a number", n + 1),
                    )?))
                }
                None => None,
            },
            "short_text" => first.map(|v| Response::Text(v.to_owned())),
            "faulty_lines" => {
                let lines: Result<Vec<u32>, _> = picked.iter().map(|v| v.parse()).collect();
                let lines = lines.map_err(|_| format!("question {}: not a line number", n + 1))?;
                (!lines.is_empty()).then_some(Response::Lines(lines))
            }
            "ordering" => {
                let mut placed: Vec<(usize, String)> = Vec::new();
                for choice in &item.choices {
                    if let Some(position) = values(format!("o:{}:{}", item.id, choice.id))
                        .first()
                        .and_then(|v| v.parse::<usize>().ok())
                        .filter(|p| *p > 0)
                    {
                        placed.push((position, choice.id.clone()));
                    }
                }
                placed.sort();
                (placed.len() == item.choices.len())
                    .then(|| Response::Order(placed.into_iter().map(|(_, id)| id).collect()))
            }
            "matching" => {
                let pairs: Vec<(String, String)> = item
                    .choices
                    .iter()
                    .filter_map(|prompt| {
                        values(format!("m:{}:{}", item.id, prompt.id))
                            .first()
                            .filter(|t| !t.is_empty())
                            .map(|t| (prompt.id.clone(), (*t).to_owned()))
                    })
                    .collect();
                (!pairs.is_empty()).then_some(Response::Pairs(pairs))
            }
            _ => None,
        };
        answers.push(SavedAnswer {
            item_id: item.id.clone(),
            response,
            flagged: !values(format!("f:{}", item.id)).is_empty(),
        });
    }
    Ok(answers)
}

#[derive(Template, WebTemplate)]
#[template(path = "attempt.html")]
struct AttemptPage {
    layout: Layout,
    a: AttemptView,
    items: Vec<ItemForm>,
    /// Whole minutes and seconds left, for the page without JavaScript.
    minutes_left: i64,
    eligibility: Option<Eligibility>,
    notice: Option<String>,
    error: Option<String>,
}

async fn render_attempt(
    state: &AppState,
    user: &PageUser,
    id: &str,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult<AttemptPage> {
    let ctx = user.ctx();
    let a = state.app.attempt(&ctx, id).await?;
    let eligibility = if a.result.as_ref().is_some_and(|r| !r.passed) {
        state
            .app
            .exam_eligibility(&ctx, &a.program_id, &a.exam_id)
            .await
            .ok()
    } else {
        None
    };
    Ok(AttemptPage {
        layout: Layout::for_user(user),
        items: item_forms(&a),
        minutes_left: a.seconds_left.unwrap_or(0) / 60,
        a,
        eligibility,
        notice,
        error,
    })
}

/// The exam page while the attempt runs; the result once it is over.
async fn attempt_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let page = render_attempt(&state, &user, &id, None, None).await?;
    // Never from a cache: a reload or the back button must show what the server holds.
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

fn check_form_fields_csrf(user: &PageUser, fields: &[(String, String)]) -> PageResult<()> {
    let sent = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    check_session_csrf(user, sent)
}

/// Saves the whole form. The exam script posts here on every change (and gets 204); without
/// JavaScript the "Save answers" button does, and the page comes back.
async fn save_answers(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    check_form_fields_csrf(&user, &fields)?;
    let ctx = user.ctx();
    let view = state.app.attempt(&ctx, &id).await?;
    let background = headers.get("x-autosave").is_some();
    let outcome = match answers_from_form(&view, &fields) {
        Ok(answers) => state
            .app
            .save_answers(&ctx, &id, answers)
            .await
            .map_err(|e| crate::problem::ApiError::from(e).detail),
        Err(problem) => Err(problem),
    };
    match (outcome, background) {
        (Ok(()), true) => Ok(StatusCode::NO_CONTENT.into_response()),
        (Err(problem), true) => Ok((StatusCode::CONFLICT, problem).into_response()),
        (Ok(()), false) => {
            let page = render_attempt(
                &state,
                &user,
                &id,
                Some("Your answers are saved.".into()),
                None,
            )
            .await?;
            Ok(page.into_response())
        }
        (Err(problem), false) => {
            let page = render_attempt(&state, &user, &id, None, Some(problem)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// Saves what the form holds, then hands the attempt in.
async fn submit_attempt(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    check_form_fields_csrf(&user, &fields)?;
    let ctx = user.ctx();
    let view = state.app.attempt(&ctx, &id).await?;
    if view.status == "in_progress"
        && let Ok(answers) = answers_from_form(&view, &fields)
        && answers.iter().any(|a| a.response.is_some() || a.flagged)
    {
        // The time may have run out meanwhile; submitting still reports the outcome.
        let _ = state.app.save_answers(&ctx, &id, answers).await;
    }
    match state.app.submit_attempt(&ctx, &id).await {
        Ok(_) | Err(AppError::Conflict(_)) => {
            Ok(Redirect::to(&format!("/attempts/{id}")).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "proctoring.html")]
struct ProctoringPage {
    layout: Layout,
    attempts: Vec<LiveAttempt>,
    notice: Option<String>,
    form: crate::form::FormState,
}

/// Open attempts with their focus-loss and paste reports; approve and invalidate from here.
async fn proctoring_page(State(state): State<AppState>, user: PageUser) -> PageResult {
    Ok(ProctoringPage {
        layout: Layout::for_user(&user),
        attempts: state.app.live_attempts(&user.ctx()).await?,
        notice: None,
        form: crate::form::FormState::new(),
    }
    .into_response())
}

async fn approve_attempt(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    state.app.approve_attempt(&user.ctx(), &id).await?;
    Ok(Redirect::to("/proctoring").into_response())
}

#[derive(Deserialize)]
struct InvalidateForm {
    csrf: String,
    reason: String,
}

async fn invalidate_attempt(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<InvalidateForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let ctx = user.ctx();
    let reason_id = format!("reason-{id}");
    let mut kept = crate::form::FormState::new().keep(&reason_id, &form.reason);
    crate::form::check_length(&mut kept, &reason_id, "The reason", &form.reason, 1_000);
    let mut notice = None;
    if !kept.is_refused() {
        let candidate = state
            .app
            .live_attempts(&ctx)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .map(|a| a.person_name);
        match state.app.invalidate_attempt(&ctx, &id, &form.reason).await {
            Ok(view) => {
                notice = Some(format!(
                    "The attempt of {} is invalidated.",
                    candidate.unwrap_or(view.person_id)
                ));
                kept = crate::form::FormState::new();
            }
            Err(e) => kept = kept.refused(e, &[("reason", reason_id.as_str())])?,
        }
    }
    let status = if kept.is_refused() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ProctoringPage {
        layout: Layout::for_user(&user),
        attempts: state.app.live_attempts(&ctx).await?,
        notice,
        form: kept,
    };
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "items.html")]
struct ItemsPage {
    layout: Layout,
    program_id: String,
    items: Vec<Item>,
    /// (exam id, title, published) for exams with a blueprint.
    exams: Vec<(String, String, bool)>,
    notice: Option<String>,
    errors: Vec<String>,
}

async fn render_items(
    state: &AppState,
    user: &PageUser,
    program: &str,
    notice: Option<String>,
    errors: Vec<String>,
) -> PageResult<ItemsPage> {
    let ctx = user.ctx();
    let items = state.app.list_items(&ctx, program).await?;
    let published = state.app.published_exams().await?;
    let exams = state
        .app
        .get_program(&ctx, program)
        .await?
        .exams
        .into_iter()
        .filter(|e| e.blueprint.is_some())
        .map(|e| {
            let is_published = published
                .iter()
                .any(|p| p.program_id == program && p.exam_id == e.id);
            (e.id, e.title, is_published)
        })
        .collect();
    Ok(ItemsPage {
        layout: Layout::for_user(user),
        program_id: program.to_owned(),
        items,
        exams,
        notice,
        errors,
    })
}

/// The item bank: every item's domain, type, version and status, with publishing.
async fn items_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(program): Path<String>,
) -> PageResult {
    Ok(render_items(&state, &user, &program, None, Vec::new())
        .await?
        .into_response())
}

/// Imports uploaded item files; the page lists what came in, or every problem with its line.
async fn import_items(
    State(state): State<AppState>,
    user: PageUser,
    Path(program): Path<String>,
    mut form: axum::extract::Multipart,
) -> PageResult {
    let mut csrf = String::new();
    let mut domain = String::new();
    let mut files = Vec::new();
    while let Some(field) = form.next_field().await.map_err(unreadable_upload)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(unreadable_upload)?,
            Some("domain") => domain = field.text().await.map_err(unreadable_upload)?,
            Some("file") => {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(unreadable_upload)?.to_vec();
                if !file_name.is_empty() || !bytes.is_empty() {
                    files.push(accredit_app::exams::ItemFile { file_name, bytes });
                }
            }
            _ => {}
        }
    }
    check_session_csrf(&user, &csrf)?;
    let domain = Some(domain.trim()).filter(|d| !d.is_empty());
    let (notice, errors, status) = match state
        .app
        .import_item_files(&user.ctx(), &program, &files, domain)
        .await
    {
        Ok(report) => (
            Some(format!(
                "Imported: {} new item(s) as drafts, {} revised, {} unchanged.",
                report.created.len(),
                report.revised.len(),
                report.unchanged.len()
            )),
            Vec::new(),
            StatusCode::OK,
        ),
        Err(AppError::Invalid(problems)) => (
            None,
            problems.into_iter().map(|p| p.to_string()).collect(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => return Err(other.into()),
    };
    let page = render_items(&state, &user, &program, notice, errors).await?;
    Ok((status, page).into_response())
}

#[derive(Deserialize)]
struct StatusForm {
    csrf: String,
    status: String,
}

async fn set_item_status(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, item)): Path<(String, String)>,
    Form(form): Form<StatusForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let status = ItemStatus::parse(&form.status).ok_or_else(|| PageError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        heading: "Unknown status",
        message: format!("`{}` is not draft, active or retired", form.status),
    })?;
    state
        .app
        .set_item_status(&user.ctx(), &program, &item, status)
        .await?;
    Ok(Redirect::to(&format!("/programs/{program}/items#item-{item}")).into_response())
}

async fn publish_exam(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, exam)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let (notice, errors, status) = match state.app.publish_exam(&user.ctx(), &program, &exam).await
    {
        Ok(p) => (
            Some(format!(
                "{} is published: {} items per form.",
                p.title, p.total_items
            )),
            Vec::new(),
            StatusCode::OK,
        ),
        Err(AppError::Invalid(problems)) => (
            None,
            problems.into_iter().map(|p| p.message).collect(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => return Err(other.into()),
    };
    let page = render_items(&state, &user, &program, notice, errors).await?;
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "quality.html")]
struct QualityPage {
    layout: Layout,
    program_id: String,
    exam_id: String,
    stats: ExamStats,
}

/// Item quality: difficulty, discrimination, option choice rates and flags; KR-20.
async fn quality_page(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, exam)): Path<(String, String)>,
) -> PageResult {
    let stats = state
        .app
        .item_statistics(&user.ctx(), &program, &exam)
        .await?;
    Ok(QualityPage {
        layout: Layout::for_user(&user),
        program_id: program,
        exam_id: exam,
        stats,
    }
    .into_response())
}

/// The same figures as CSV, one row per item.
async fn quality_csv(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, exam)): Path<(String, String)>,
) -> PageResult {
    let stats = state
        .app
        .item_statistics(&user.ctx(), &program, &exam)
        .await?;
    let mut csv = String::from("item_id,responses,p_value,point_biserial,option_rates,flags\n");
    let quote = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    for item in &stats.items {
        let rates = item
            .option_rates
            .iter()
            .map(|(o, r)| format!("{o}={r:.3}"))
            .collect::<Vec<_>>()
            .join(" ");
        csv.push_str(&format!(
            "{},{},{:.3},{},{},{}\n",
            quote(&item.item_id),
            item.responses,
            item.p_value,
            item.point_biserial
                .map(|r| format!("{r:.3}"))
                .unwrap_or_default(),
            quote(&rates),
            quote(&item.flags.join("; "))
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"item-quality.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

async fn exam_script() -> HttpResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/exam.js"),
    )
        .into_response()
}
