//! Signed-in pages for credentials and practicals: a person's credentials (and, for program
//! admins, search with revoke and suspend), the firm's practical submissions, and the reviewer
//! queue where a decision is signed with the password.

use crate::AppState;
use crate::form::{FormState, check_length};
use crate::pages::{Layout, PageResult, check_session_csrf};
use crate::session::PageUser;
use accredit_app::AppError;
use accredit_app::credentials::CredentialView;
use accredit_app::practicals::{NewSubmission, ReviewInput, Submission};
use accredit_domain::program::Practical;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/credentials", get(credentials_page))
        .route("/credentials/{id}/status", post(change_status))
        .route("/practicals", get(practicals_page))
        .route(
            "/programs/{program}/practicals/{practical}/submissions",
            post(submit),
        )
        .route("/submissions/{id}/files", post(attach_files))
        .route("/reviews", get(reviews_page))
        .route("/submissions/{id}/review", post(review))
}

#[derive(Template, WebTemplate)]
#[template(path = "credentials.html")]
struct CredentialsPage {
    layout: Layout,
    admin: bool,
    q: String,
    credentials: Vec<CredentialView>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct SearchForm {
    #[serde(default)]
    q: String,
}

async fn render_credentials(
    state: &AppState,
    user: &PageUser,
    q: String,
    notice: Option<String>,
) -> PageResult<CredentialsPage> {
    let ctx = user.ctx();
    let admin = crate::pages::is_admin(&user.session.principal);
    let credentials = if admin {
        state.app.search_credentials(&ctx, &q).await?
    } else {
        state
            .app
            .credentials_of(&ctx, &user.session.person_id)
            .await?
    };
    Ok(CredentialsPage {
        layout: Layout::for_user(user),
        admin,
        q,
        credentials,
        notice,
    })
}

/// Your credentials, each with its verify page, download and share links; program admins
/// search everyone's and revoke or suspend.
async fn credentials_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(form): Query<SearchForm>,
) -> PageResult {
    Ok(render_credentials(&state, &user, form.q, None)
        .await?
        .into_response())
}

#[derive(Deserialize)]
struct StatusForm {
    csrf: String,
    status: String,
    #[serde(default)]
    reason: String,
}

async fn change_status(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let notice = match state
        .app
        .set_credential_status(&user.ctx(), &id, &form.status, &form.reason)
        .await
    {
        Ok(c) => format!(
            "{}'s {} credential is now {}.",
            c.person_name, c.track_id, c.status
        ),
        Err(AppError::Invalid(problems)) => problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        Err(AppError::Conflict(why)) => why,
        Err(other) => return Err(other.into()),
    };
    Ok(
        render_credentials(&state, &user, String::new(), Some(notice))
            .await?
            .into_response(),
    )
}

/// The longest reviewer comment, in characters.
const COMMENT_MAX: usize = 5_000;

/// The longest description of a submission, in characters.
const DESCRIPTION_MAX: usize = 20_000;

/// A practical the firm can submit for, with its program.
struct Offer {
    program_id: String,
    practical: Practical,
    description_id: String,
    links_id: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "practicals.html")]
struct PracticalsPage {
    layout: Layout,
    offers: Vec<Offer>,
    submissions: Vec<Submission>,
    notice: Option<String>,
    errors: Vec<String>,
    /// The submission form that was refused, if any.
    form: FormState,
}

async fn render_practicals(
    state: &AppState,
    user: &PageUser,
    notice: Option<String>,
    errors: Vec<String>,
) -> PageResult<PracticalsPage> {
    let ctx = user.ctx();
    let mut offers = Vec::new();
    for program in state.app.training_overview(&ctx).await? {
        let definition = state.app.get_program(&ctx, &program.program_id).await?;
        offers.extend(definition.practicals.into_iter().map(|practical| Offer {
            program_id: program.program_id.clone(),
            description_id: format!("d-{}", practical.id),
            links_id: format!("l-{}", practical.id),
            practical,
        }));
    }
    Ok(PracticalsPage {
        layout: Layout::for_user(user),
        offers,
        submissions: state.app.firm_submissions(&ctx).await?,
        notice,
        errors,
        form: FormState::new(),
    })
}

/// The firm's practical submissions and the forms to submit new ones (partner staff).
async fn practicals_page(State(state): State<AppState>, user: PageUser) -> PageResult {
    Ok(render_practicals(&state, &user, None, Vec::new())
        .await?
        .into_response())
}

#[derive(Deserialize)]
struct SubmitForm {
    csrf: String,
    description: String,
    #[serde(default)]
    links: String,
}

async fn submit(
    State(state): State<AppState>,
    user: PageUser,
    Path((program, practical)): Path<(String, String)>,
    Form(form): Form<SubmitForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let description_id = format!("d-{practical}");
    let links_id = format!("l-{practical}");
    let mut kept = FormState::new()
        .keep(&description_id, &form.description)
        .keep(&links_id, &form.links);
    check_length(
        &mut kept,
        &description_id,
        "What you did",
        &form.description,
        DESCRIPTION_MAX,
    );
    let mut notice = None;
    if !kept.is_refused() {
        let input = NewSubmission {
            description: form.description,
            links: form
                .links
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            for_partner: false,
        };
        match state
            .app
            .submit_practical(&user.ctx(), &program, &practical, input)
            .await
        {
            Ok(s) => {
                notice = Some(format!(
                    "Submitted: {} is waiting for review.",
                    s.practical_title
                ));
                kept = FormState::new();
            }
            Err(e) => {
                kept = kept.refused(
                    e,
                    &[
                        ("description", description_id.as_str()),
                        ("links", links_id.as_str()),
                    ],
                )?;
            }
        }
    }
    let status = if kept.is_refused() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CREATED
    };
    let mut page = render_practicals(&state, &user, notice, Vec::new()).await?;
    page.form = kept;
    Ok((status, page).into_response())
}

/// Attaches uploaded files to one of the firm's submissions, then shows the page again.
async fn attach_files(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    mut form: axum::extract::Multipart,
) -> PageResult {
    let mut csrf = String::new();
    let mut files = Vec::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(crate::pages::unreadable_upload)?
    {
        match field.name() {
            Some("csrf") => {
                csrf = field
                    .text()
                    .await
                    .map_err(crate::pages::unreadable_upload)?
            }
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(crate::pages::unreadable_upload)?
                    .to_vec();
                files.push((name, bytes));
            }
            _ => {}
        }
    }
    check_session_csrf(&user, &csrf)?;
    let mut errors = Vec::new();
    let mut attached = 0;
    for (name, bytes) in files {
        match state.app.attach_file(&user.ctx(), &id, &name, bytes).await {
            Ok(_) => attached += 1,
            Err(AppError::Invalid(problems)) => {
                errors.extend(problems.iter().map(ToString::to_string));
            }
            Err(other) => return Err(other.into()),
        }
    }
    let notice = (attached > 0).then(|| format!("{attached} file(s) attached."));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = render_practicals(&state, &user, notice, errors).await?;
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    layout: Layout,
    queue: Vec<Submission>,
    notice: Option<String>,
    errors: Vec<String>,
    /// The refused decision form, its inputs named by submission.
    form: FormState,
}

async fn render_reviews(
    state: &AppState,
    user: &PageUser,
    notice: Option<String>,
    errors: Vec<String>,
) -> PageResult<ReviewsPage> {
    Ok(ReviewsPage {
        layout: Layout::for_user(user),
        queue: state.app.review_queue(&user.ctx()).await?,
        notice,
        errors,
        form: FormState::new(),
    })
}

/// Submissions waiting for this reviewer, each with its rubric and the signing form.
async fn reviews_page(State(state): State<AppState>, user: PageUser) -> PageResult {
    Ok(render_reviews(&state, &user, None, Vec::new())
        .await?
        .into_response())
}

async fn review(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    check_session_csrf(&user, &value("csrf"))?;
    let scores = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("score:")
                .map(|c| (c.to_owned(), v.parse().unwrap_or(u32::MAX)))
        })
        .collect();
    let comment = value("comment");
    let mut form = FormState::new()
        .keep(format!("verdict-{id}"), value("verdict"))
        .keep(format!("comment-{id}"), &comment);
    for (criterion, score) in fields
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("score:").map(|c| (c, v)))
    {
        form = form.keep(format!("score-{id}-{criterion}"), score);
    }
    if comment.chars().count() > COMMENT_MAX {
        form.add(
            Some(&format!("comment-{id}")),
            format!(
                "the comment is {} characters long; the most is {COMMENT_MAX}",
                comment.chars().count()
            ),
        );
    }
    let mut notice = None;
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if !form.is_refused() {
        let input = ReviewInput {
            verdict: value("verdict"),
            scores,
            comment,
            password: value("password"),
        };
        match state.app.review_practical(&user.ctx(), &id, input).await {
            Ok(result) => {
                notice = Some(format!(
                    "Signed by {} at {}: {}. The submission is now {}.",
                    result.signed_by,
                    result.signed_at,
                    result.meaning,
                    result.submission.status.replace('_', " ")
                ));
                form = FormState::new();
                status = StatusCode::OK;
            }
            Err(AppError::Conflict(why)) => {
                form.add(None, why);
                status = StatusCode::CONFLICT;
            }
            Err(e) => {
                let verdict_id = format!("verdict-{id}");
                let rubric_id = format!("rubric-{id}");
                let comment_id = format!("comment-{id}");
                let password_id = format!("password-{id}");
                form = form.refused(
                    e,
                    &[
                        ("verdict", verdict_id.as_str()),
                        ("scores", rubric_id.as_str()),
                        ("comment", comment_id.as_str()),
                        ("password", password_id.as_str()),
                    ],
                )?;
            }
        }
    }
    let mut page = render_reviews(&state, &user, notice, Vec::new()).await?;
    page.form = form;
    Ok((status, page).into_response())
}
