//! Server-rendered pages. Forms post with a CSRF token: the session's once signed in, a
//! double-submit cookie before that.

use crate::AppState;
use crate::session::{
    FORM_CSRF_COOKIE, PageUser, SESSION_COOKIE, cookie, request_id, same_secret, set_cookie,
};
use accredit_app::AppError;
use accredit_app::accounts::{Partner, Person};
use accredit_app::auth::{ApiToken, IssuedToken};
use accredit_app::overview::{PartnerAtRisk, PartnerOverview};
use accredit_app::people_import::ImportReport;
use accredit_app::programs::{ProgramPlan, ProgramSummary};
use accredit_domain::{Principal, Role, Scope};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, Query, RawForm, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/admin/tokens", get(tokens_page).post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route(
            "/email/confirm",
            get(confirm_email_page).post(confirm_email),
        )
        .route("/programs", get(programs_page).post(submit_program))
        .route("/partners/{id}", get(partner_page))
        .route("/partners/{id}/people.csv", get(export_people_csv))
        .route("/partners/{id}/people/import", post(import_people_csv))
        .route("/people/{id}/active", post(set_person_active))
        .route("/assets/app.css", get(stylesheet))
        .merge(crate::pages_content::routes())
        .merge(crate::pages_exams::routes())
        .merge(crate::pages_credentials::routes())
        .merge(crate::pages_reviews::routes())
        .merge(crate::pages_lifecycle::routes())
        .merge(crate::pages_reports::routes())
        .merge(crate::pages_people::routes())
}

/// What the shared layout needs.
pub(crate) struct Layout {
    pub user_name: Option<String>,
    pub csrf: String,
    pub is_admin: bool,
    /// Proctors (and program admins) supervise live attempts.
    pub is_proctor: bool,
    /// Reviewers (and program admins) review practical submissions.
    pub is_reviewer: bool,
    /// The signed-in person's partner organisation, for the navigation.
    pub partner_id: Option<String>,
}

impl Layout {
    pub(crate) fn for_user(user: &PageUser) -> Self {
        Self {
            user_name: Some(user.session.display_name.clone()),
            csrf: user.session.csrf_token.clone(),
            is_admin: is_admin(&user.session.principal),
            is_proctor: matches!(&user.session.principal, Principal::Person(actor) if actor.has(Role::Proctor) || actor.has(Role::ProgramAdmin)),
            is_reviewer: matches!(&user.session.principal, Principal::Person(actor) if actor.has(Role::Reviewer) || actor.has(Role::ProgramAdmin)),
            partner_id: match &user.session.principal {
                Principal::Person(actor) => actor.partner_id.as_ref().map(|p| p.0.clone()),
                _ => None,
            },
        }
    }

    pub(crate) fn anonymous(csrf: String) -> Self {
        Self {
            user_name: None,
            csrf,
            is_admin: false,
            is_proctor: false,
            is_reviewer: false,
            partner_id: None,
        }
    }
}

pub(crate) fn is_admin(principal: &Principal) -> bool {
    matches!(principal, Principal::Person(actor) if actor.has(Role::ProgramAdmin))
}

/// An error shown as a page.
#[derive(Debug)]
pub struct PageError {
    pub(crate) status: StatusCode,
    pub(crate) heading: &'static str,
    pub(crate) message: String,
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        let api = crate::problem::ApiError::from(error);
        Self {
            status: api.status,
            heading: api.title,
            message: api.detail,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
struct MessagePage {
    layout: Layout,
    heading: String,
    message: String,
    is_error: bool,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = MessagePage {
            layout: Layout::anonymous(String::new()),
            heading: self.heading.to_owned(),
            message: self.message,
            is_error: true,
        };
        (self.status, page).into_response()
    }
}

impl PageError {
    pub fn not_found(path: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            heading: "Page not found",
            message: format!("There is no page at {path}."),
        }
    }
}

/// A multipart upload the server could not read.
pub(crate) fn unreadable_upload(e: axum::extract::multipart::MultipartError) -> PageError {
    PageError {
        status: StatusCode::BAD_REQUEST,
        heading: "Upload failed",
        message: format!("the upload could not be read: {}", e.body_text()),
    }
}

pub(crate) type PageResult<T = Response> = Result<T, PageError>;

fn csrf_rejected() -> PageError {
    PageError {
        status: StatusCode::FORBIDDEN,
        heading: "Form expired",
        message:
            "This form could not be verified (CSRF check failed). Reload the page and try again."
                .into(),
    }
}

/// The double-submit token for anonymous forms: the cookie's, or a new one to set.
pub(crate) fn form_csrf(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    match cookie(headers, FORM_CSRF_COOKIE) {
        Some(existing) if existing.len() >= 32 => (existing, None),
        _ => {
            let token = accredit_app::auth::new_form_token();
            let header =
                HeaderValue::from_str(&set_cookie(FORM_CSRF_COOKIE, &token, 3600, secure)).ok();
            (token, header)
        }
    }
}

pub(crate) fn check_form_csrf(headers: &HeaderMap, sent: &str) -> PageResult<()> {
    match cookie(headers, FORM_CSRF_COOKIE) {
        Some(expected) if same_secret(sent, &expected) => Ok(()),
        _ => Err(csrf_rejected()),
    }
}

pub(crate) fn check_session_csrf(user: &PageUser, sent: &str) -> PageResult<()> {
    if same_secret(sent, &user.session.csrf_token) {
        Ok(())
    } else {
        Err(csrf_rejected())
    }
}

pub(crate) fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(value) = cookie {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    error: Option<String>,
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(value) = cookie(&headers, SESSION_COOKIE)
        && state.app.session(&value).await.is_ok()
    {
        return Redirect::to("/").into_response();
    }
    let (csrf, set) = form_csrf(&headers, state.secure_cookies);
    let page = LoginPage {
        layout: Layout::anonymous(csrf),
        email: String::new(),
        error: None,
    };
    with_cookie(page.into_response(), set)
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

async fn login(
    State(state): State<AppState>,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> PageResult {
    check_form_csrf(&parts.headers, &form.csrf)?;
    match state
        .app
        .login(request_id(&parts), &form.email, &form.password)
        .await
    {
        Ok(session) => Ok(signed_in(&state, &session)),
        Err(error @ (AppError::Unauthenticated(_) | AppError::Throttled { .. })) => {
            let api = crate::problem::ApiError::from(error);
            let (csrf, _) = form_csrf(&parts.headers, state.secure_cookies);
            let page = LoginPage {
                layout: Layout::anonymous(csrf),
                email: form.email,
                error: Some(api.detail.clone()),
            };
            let mut response = (api.status, page).into_response();
            if let Some(secs) = api.retry_after_secs
                && let Ok(value) = HeaderValue::from_str(&secs.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}

/// The answer to a successful sign-in: the session cookie, and home.
pub(crate) fn signed_in(state: &AppState, session: &accredit_app::auth::LoginSession) -> Response {
    let max_age = (session.expires_at - state.app.now()).as_secs().max(0);
    let mut response = Redirect::to("/").into_response();
    if let Ok(value) = HeaderValue::from_str(&set_cookie(
        SESSION_COOKIE,
        &session.cookie_value,
        max_age,
        state.secure_cookies,
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    pub(crate) csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    user: PageUser,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    if let Some(value) = cookie(&headers, SESSION_COOKIE) {
        state.app.logout(&value, user.request_id.clone()).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) =
        HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", 0, state.secure_cookies))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    person: Person,
    organisation: Option<String>,
    is_admin: bool,
    partners: Vec<Partner>,
    partners_heading: &'static str,
    people: Vec<Person>,
    people_heading: &'static str,
    show_people: bool,
    at_risk: Vec<PartnerAtRisk>,
    training: Vec<accredit_app::training::ProgramTraining>,
    /// Partner staff study the modules; vendor staff manage them.
    learner: bool,
    notifications: Vec<accredit_app::events::Notification>,
}

/// The start page: what this person can see and do, by role.
async fn home(State(state): State<AppState>, user: PageUser) -> PageResult {
    let ctx = user.ctx();
    let person = state.app.get_person(&ctx, &user.session.person_id).await?;
    let partners = state.app.list_partners(&ctx).await?;
    let organisation = match &person.partner_id {
        Some(id) => partners
            .iter()
            .find(|p| &p.id == id)
            .map(|p| p.name.clone()),
        None => state.app.vendor_name().await?,
    };
    let roles = &person.roles;
    let show_people = roles.contains(&Role::ProgramAdmin) || roles.contains(&Role::PartnerAdmin);
    let people = if show_people {
        state.app.list_people(&ctx).await?
    } else {
        Vec::new()
    };
    let partners_heading = if roles.contains(&Role::PartnerAccountManager) {
        "Partners you manage"
    } else if person.partner_id.is_some() {
        "Your organisation"
    } else {
        "Partner organisations"
    };
    let at_risk = if roles.contains(&Role::PartnerAccountManager) {
        state.app.partners_at_risk(&ctx).await?
    } else {
        Vec::new()
    };
    let notifications = state.app.notifications(&person.id, 10).await?;
    let page = HomePage {
        notifications,
        at_risk,
        training: state.app.training_overview(&ctx).await?,
        learner: person.partner_id.is_some(),
        layout: Layout::for_user(&user),
        is_admin: roles.contains(&Role::ProgramAdmin),
        people_heading: if person.partner_id.is_some() {
            "Your colleagues"
        } else {
            "People"
        },
        person,
        organisation,
        partners,
        partners_heading,
        people,
        show_people,
    };
    Ok(page.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<ApiToken>,
    scopes: Vec<&'static str>,
    issued: Option<IssuedToken>,
    error: Option<String>,
}

async fn render_tokens(
    state: &AppState,
    user: &PageUser,
    issued: Option<IssuedToken>,
    error: Option<String>,
) -> PageResult<TokensPage> {
    let tokens = state.app.list_api_tokens(&user.ctx()).await?;
    Ok(TokensPage {
        layout: Layout::for_user(user),
        tokens,
        scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        issued,
        error,
    })
}

async fn tokens_page(State(state): State<AppState>, user: PageUser) -> PageResult {
    Ok(render_tokens(&state, &user, None, None)
        .await?
        .into_response())
}

async fn create_token(
    State(state): State<AppState>,
    user: PageUser,
    RawForm(body): RawForm,
) -> PageResult {
    let mut csrf = String::new();
    let mut name = String::new();
    let mut scopes = Vec::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "csrf" => csrf = value.into_owned(),
            "name" => name = value.into_owned(),
            "scope" => scopes.push(value.into_owned()),
            _ => {}
        }
    }
    check_session_csrf(&user, &csrf)?;
    match state
        .app
        .create_api_token(&user.ctx(), &name, &scopes.join(" "))
        .await
    {
        Ok(issued) => Ok(render_tokens(&state, &user, Some(issued), None)
            .await?
            .into_response()),
        Err(AppError::Invalid(problems)) => {
            let message = problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            let page = render_tokens(&state, &user, None, Some(message)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    state.app.revoke_api_token(&user.ctx(), &id).await?;
    Ok(Redirect::to("/admin/tokens").into_response())
}

#[derive(Deserialize)]
struct TokenQuery {
    token: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "confirm_email.html")]
struct ConfirmEmailPage {
    layout: Layout,
    token: String,
}

async fn confirm_email_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
) -> Response {
    let (csrf, set) = form_csrf(&headers, state.secure_cookies);
    let page = ConfirmEmailPage {
        layout: Layout::anonymous(csrf),
        token: query.token,
    };
    with_cookie(page.into_response(), set)
}

#[derive(Deserialize)]
struct ConfirmForm {
    token: String,
    csrf: String,
}

async fn confirm_email(
    State(state): State<AppState>,
    parts: Parts,
    Form(form): Form<ConfirmForm>,
) -> PageResult {
    check_form_csrf(&parts.headers, &form.csrf)?;
    let person = state
        .app
        .confirm_email_change(request_id(&parts), &form.token)
        .await?;
    let page = MessagePage {
        layout: Layout::anonymous(String::new()),
        heading: "Email address changed".into(),
        message: format!("You now sign in as {}.", person.email),
        is_error: false,
    };
    Ok(page.into_response())
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/app.css"),
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "programs.html")]
struct ProgramsPage {
    layout: Layout,
    programs: Vec<ProgramSummary>,
    source: String,
    plan: Option<ProgramPlan>,
    /// (where, what) for each problem in the submitted file.
    errors: Vec<(String, String)>,
}

async fn programs_page(State(state): State<AppState>, user: PageUser) -> PageResult {
    let ctx = user.ctx();
    ctx.authorize(&accredit_domain::Action::ManagePrograms, "programs")?;
    let page = ProgramsPage {
        layout: Layout::for_user(&user),
        programs: state.app.list_programs(&ctx).await?,
        source: String::new(),
        plan: None,
        errors: Vec::new(),
    };
    Ok(page.into_response())
}

#[derive(Deserialize)]
struct ProgramForm {
    csrf: String,
    action: String,
    source: String,
}

async fn submit_program(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<ProgramForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let ctx = user.ctx();
    let result = match form.action.as_str() {
        "apply" => state.app.apply_program(&ctx, &form.source).await,
        _ => state.app.plan_program(&ctx, &form.source).await,
    };
    let (plan, errors, status) = match result {
        Ok(plan) => (Some(plan), Vec::new(), StatusCode::OK),
        Err(AppError::Invalid(problems)) => (
            None,
            problems.into_iter().map(|p| (p.field, p.message)).collect(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => return Err(other.into()),
    };
    let page = ProgramsPage {
        layout: Layout::for_user(&user),
        programs: state.app.list_programs(&ctx).await?,
        source: form.source,
        plan,
        errors,
    };
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "partner.html")]
pub(crate) struct PartnerPage {
    layout: Layout,
    o: PartnerOverview,
    /// Program admins and the firm's own partner admins import and export people here.
    manages_people: bool,
    import: Option<ImportReport>,
    /// The job roles of the partner's programs, for the invitation form.
    job_roles: Vec<String>,
    pub(crate) invite: crate::form::FormState,
    pub(crate) notice: Option<String>,
}

pub(crate) fn manages_people(user: &PageUser, partner_id: &str) -> bool {
    match &user.session.principal {
        Principal::Person(actor) => {
            actor.has(Role::ProgramAdmin)
                || (actor.has(Role::PartnerAdmin)
                    && actor.partner_id.as_ref().is_some_and(|p| p.0 == partner_id))
        }
        _ => false,
    }
}

pub(crate) async fn render_partner(
    state: &AppState,
    user: &PageUser,
    id: &str,
    import: Option<ImportReport>,
) -> PageResult<PartnerPage> {
    let ctx = user.ctx();
    let o = state.app.partner_overview(&ctx, id).await?;
    let mut job_roles: Vec<String> = Vec::new();
    for standing in &o.standings {
        let program = state.app.get_program(&ctx, &standing.program_id).await?;
        for role in program.job_roles {
            if !job_roles.contains(&role) {
                job_roles.push(role);
            }
        }
    }
    Ok(PartnerPage {
        o,
        layout: Layout::for_user(user),
        manages_people: manages_people(user, id),
        import,
        job_roles,
        invite: crate::form::FormState::new(),
        notice: None,
    })
}

/// A partner's tier, what the next tier needs, its benefits, people and credentials.
async fn partner_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    Ok(render_partner(&state, &user, &id, None)
        .await?
        .into_response())
}

/// The partner's people as CSV, for editing and importing again.
async fn export_people_csv(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let csv = state.app.export_people(&user.ctx(), Some(&id)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"people.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// Imports an uploaded CSV of people into this partner, then shows the report on the page.
async fn import_people_csv(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    mut form: axum::extract::Multipart,
) -> PageResult {
    let mut csrf = String::new();
    let mut strict = false;
    let mut file = Vec::new();
    while let Some(field) = form.next_field().await.map_err(unreadable_upload)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(unreadable_upload)?,
            Some("strict") => strict = true,
            Some("file") => file = field.bytes().await.map_err(unreadable_upload)?.to_vec(),
            _ => {}
        }
    }
    check_session_csrf(&user, &csrf)?;
    let report = state
        .app
        .import_people(&user.ctx(), Some(&id), &file, strict, &|_, _| {})
        .await?;
    let status = if report.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render_partner(&state, &user, &id, Some(report)).await?,
    )
        .into_response())
}

#[derive(Deserialize)]
struct ActiveForm {
    csrf: String,
    active: bool,
}

/// Deactivates or reactivates a person from their partner's page.
async fn set_person_active(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ActiveForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let update = accredit_app::accounts::PersonUpdate {
        active: Some(form.active),
        ..Default::default()
    };
    let person = state.app.update_person(&user.ctx(), &id, update).await?;
    let back = match person.partner_id {
        Some(partner) => format!("/partners/{partner}"),
        None => "/".to_owned(),
    };
    Ok(Redirect::to(&back).into_response())
}
