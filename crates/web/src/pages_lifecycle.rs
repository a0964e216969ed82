//! Pages for keeping certification current: a learner's certifications and renewal (with the
//! delta module), a partner's compliance view, a program's triggers, health scores and sweep,
//! webhooks and the outbox.

use crate::AppState;
use crate::form::{FormState, check_max_length};
use crate::pages::{Layout, PageResult, check_session_csrf};
use crate::session::PageUser;
use accredit_app::AppError;
use accredit_app::compliance::Compliance;
use accredit_app::events::{EVENT_TYPES, WebhookSubscription};
use accredit_app::outbox::OutboxEntry;
use accredit_app::recert::{NewTrigger, TriggerProgress};
use accredit_app::remediation::RemediationCase;
use accredit_app::renewal::RenewalStatus;
use accredit_domain::{PersonId, Principal};
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/certifications", get(certifications_page))
        .route(
            "/credentials/{id}/renew",
            get(renew_page).post(confirm_delta_read),
        )
        .route("/partners/{id}/compliance", get(compliance_page))
        .route("/programs/{id}/lifecycle", get(lifecycle_page))
        .route("/programs/{id}/lifecycle/triggers", post(record_trigger))
        .route("/programs/{id}/lifecycle/health", post(record_health))
        .route("/programs/{id}/lifecycle/sweep", post(run_sweep))
        .route("/admin/webhooks", get(webhooks_page).post(create_webhook))
        .route("/admin/webhooks/{id}/test", post(test_webhook))
        .route("/admin/webhooks/{id}/disable", post(disable_webhook))
        .route("/admin/outbox", get(outbox_page))
        .route("/admin/outbox/{id}/replay", post(replay))
        .route("/directory", get(directory_page))
}

/// The longest explanation of a recertification trigger, in characters.
const REASON_MAX: usize = 500;
/// The longest webhook address, in characters.
const URL_MAX: usize = 2_000;

/// Problems of a refused use case as lines for the page; other errors stay errors.
fn problems(error: AppError) -> PageResult<Vec<String>> {
    match error {
        AppError::Invalid(problems) => Ok(problems.iter().map(ToString::to_string).collect()),
        AppError::Conflict(why) => Ok(vec![why]),
        other => Err(other.into()),
    }
}

/// Every value of a repeated form field, and the single values.
fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn all(fields: &[(String, String)], name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "certifications.html")]
struct CertificationsPage {
    layout: Layout,
    certifications: Vec<RenewalStatus>,
}

/// The learner's certifications: what is due and the shortest path to renew.
async fn certifications_page(State(state): State<AppState>, user: PageUser) -> PageResult {
    let certifications = state.app.my_certifications(&user.ctx()).await?;
    Ok(CertificationsPage {
        layout: Layout::for_user(&user),
        certifications,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "renew.html")]
struct RenewPage {
    layout: Layout,
    r: RenewalStatus,
    is_holder: bool,
    notice: Option<String>,
    error: Option<String>,
}

async fn render_renew(
    state: &AppState,
    user: &PageUser,
    id: &str,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult<RenewPage> {
    let r = state.app.renewal(&user.ctx(), id).await?;
    let holder = state.app.credential(&user.ctx(), id).await?.person_id;
    Ok(RenewPage {
        layout: Layout::for_user(user),
        is_holder: matches!(&user.session.principal, Principal::Person(actor) if actor.person_id == PersonId::from(holder.as_str())),
        r,
        notice,
        error,
    })
}

/// A credential's renewal: requirement, what is missing, and the delta module.
async fn renew_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    Ok(render_renew(&state, &user, &id, None, None)
        .await?
        .into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn confirm_delta_read(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let (notice, error) = match state.app.complete_delta_module(&user.ctx(), &id).await {
        Ok(status) if status.renewed_by.is_some() => (
            Some("Renewed: your new credential is issued.".to_owned()),
            None,
        ),
        Ok(_) => (
            Some("Recorded that you read what changed.".to_owned()),
            None,
        ),
        Err(e) => (None, Some(problems(e)?.join("; "))),
    };
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        render_renew(&state, &user, &id, notice, error).await?,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "compliance.html")]
struct CompliancePage {
    layout: Layout,
    c: Compliance,
}

/// Who lapses when, recertification, remediation and the benefits at risk for one partner.
async fn compliance_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let c = state.app.partner_compliance(&user.ctx(), &id).await?;
    Ok(CompliancePage {
        layout: Layout::for_user(&user),
        c,
    }
    .into_response())
}

/// What the trigger and health forms held, to show back after a refusal.
#[derive(Default)]
struct LifecycleForm {
    reason: String,
    tracks: Vec<String>,
    modules: String,
    domains: String,
    deadline: String,
    csv: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "lifecycle.html")]
struct LifecyclePage {
    layout: Layout,
    program_id: String,
    program_name: String,
    tracks: Vec<(String, String)>,
    triggers: Vec<TriggerProgress>,
    has_health: bool,
    cases: Vec<RemediationCase>,
    today: String,
    form: LifecycleForm,
    notice: Option<String>,
    errors: FormState,
}

async fn render_lifecycle(
    state: &AppState,
    user: &PageUser,
    program_id: &str,
    mut form: LifecycleForm,
    notice: Option<String>,
    errors: FormState,
) -> PageResult<LifecyclePage> {
    let ctx = user.ctx();
    let program = state.app.get_program(&ctx, program_id).await?;
    let triggers = state.app.triggers(&ctx, program_id).await?;
    if form.deadline.is_empty() {
        // Regulated programs recertify within 60 days of an update: the usual deadline.
        form.deadline = (state.app.today() + jiff::Span::new().days(60)).to_string();
    }
    let cases = state.app.remediation_cases(&ctx, program_id).await?;
    Ok(LifecyclePage {
        layout: Layout::for_user(user),
        program_id: program.id.clone(),
        program_name: program.name.clone(),
        tracks: program
            .tracks
            .iter()
            .map(|t| (t.id.clone(), t.name.clone()))
            .collect(),
        triggers,
        has_health: program.health.is_some(),
        cases,
        today: state.app.today().to_string(),
        form,
        notice,
        errors,
    })
}

/// The lifecycle page with a notice at the top and empty forms.
async fn lifecycle_notice(
    state: &AppState,
    user: &PageUser,
    program_id: &str,
    notice: String,
) -> PageResult<axum::response::Response> {
    Ok(render_lifecycle(
        state,
        user,
        program_id,
        LifecycleForm::default(),
        Some(notice),
        FormState::new(),
    )
    .await?
    .into_response())
}

/// A program's recertification triggers, remediation cases and the sweep (program admins).
async fn lifecycle_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    Ok(render_lifecycle(
        &state,
        &user,
        &id,
        LifecycleForm::default(),
        None,
        FormState::new(),
    )
    .await?
    .into_response())
}

async fn record_trigger(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let fields = form_fields(&body);
    check_session_csrf(&user, &field(&fields, "csrf"))?;
    let form = LifecycleForm {
        reason: field(&fields, "reason"),
        tracks: all(&fields, "track"),
        modules: field(&fields, "modules"),
        domains: field(&fields, "domains"),
        deadline: field(&fields, "deadline"),
        csv: String::new(),
    };
    let mut errors = FormState::new();
    check_max_length(
        &mut errors,
        "reason",
        "What changed",
        &form.reason,
        REASON_MAX,
    );
    let deadline = form.deadline.parse::<jiff::civil::Date>();
    if deadline.is_err() {
        errors.add(
            Some("deadline"),
            format!("`{}` is not a date (YYYY-MM-DD)", form.deadline),
        );
    }
    if let (Ok(deadline), false) = (deadline, errors.is_refused()) {
        let trigger = NewTrigger {
            kind: field(&fields, "kind"),
            reason: form.reason.clone(),
            tracks: form.tracks.clone(),
            modules: list(&form.modules),
            domains: list(&form.domains),
            deadline,
        };
        match state.app.record_trigger(&user.ctx(), &id, trigger).await {
            Ok(t) => {
                let notice = format!(
                    "Recorded: {} people must recertify by {}.",
                    t.affected, t.deadline
                );
                return lifecycle_notice(&state, &user, &id, notice).await;
            }
            Err(e) => {
                errors = errors.refused(
                    e,
                    &[
                        ("reason", "reason"),
                        ("kind", "kind"),
                        ("tracks", "tracks"),
                        ("modules", "modules"),
                        ("domains", "domains"),
                        ("deadline", "deadline"),
                    ],
                )?;
            }
        }
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render_lifecycle(&state, &user, &id, form, None, errors).await?,
    )
        .into_response())
}

#[derive(Deserialize)]
struct HealthForm {
    csrf: String,
    csv: String,
}

async fn record_health(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<HealthForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    match state
        .app
        .import_health_csv(&user.ctx(), &id, form.csv.as_bytes())
        .await
    {
        Ok(report) => {
            let mut notice = format!("Recorded {} score(s).", report.recorded);
            if !report.remediation_opened.is_empty() {
                notice.push_str(&format!(
                    " Remediation opened for {}.",
                    report.remediation_opened.join(", ")
                ));
            }
            Ok(lifecycle_notice(&state, &user, &id, notice).await?)
        }
        Err(e) => {
            let errors = FormState::new().refused(e, &[("*", "csv")])?;
            let kept = LifecycleForm {
                csv: form.csv,
                ..LifecycleForm::default()
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render_lifecycle(&state, &user, &id, kept, None, errors).await?,
            )
                .into_response())
        }
    }
}

#[derive(Deserialize)]
struct SweepForm {
    csrf: String,
    as_of: String,
}

async fn run_sweep(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<SweepForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let Ok(as_of) = form.as_of.parse::<jiff::civil::Date>() else {
        let mut errors = FormState::new();
        errors.add(
            Some("as_of"),
            format!("`{}` is not a date (YYYY-MM-DD)", form.as_of),
        );
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_lifecycle(&state, &user, &id, LifecycleForm::default(), None, errors).await?,
        )
            .into_response());
    };
    let report = state.app.run_sweep(&user.ctx(), as_of).await?;
    let notice = format!(
        "Sweep of {}: {} reminders, {} renewal notices, {} expired, {} lapsed, {} remediation deadlines missed.",
        report.as_of,
        report.reminders,
        report.renewal_notices,
        report.expired,
        report.lapsed,
        report.remediation_missed
    );
    lifecycle_notice(&state, &user, &id, notice).await
}

#[derive(Template, WebTemplate)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    hooks: Vec<WebhookSubscription>,
    events: Vec<String>,
    url: String,
    chosen: Vec<String>,
    notice: Option<String>,
    errors: FormState,
}

async fn render_webhooks(
    state: &AppState,
    user: &PageUser,
    url: String,
    chosen: Vec<String>,
    notice: Option<String>,
    errors: FormState,
) -> PageResult<WebhooksPage> {
    Ok(WebhooksPage {
        layout: Layout::for_user(user),
        hooks: state.app.webhooks(&user.ctx()).await?,
        events: EVENT_TYPES.iter().map(|e| (*e).to_owned()).collect(),
        url,
        chosen,
        notice,
        errors,
    })
}

/// The webhooks page with a notice at the top.
async fn webhooks_notice(
    state: &AppState,
    user: &PageUser,
    notice: String,
) -> PageResult<axum::response::Response> {
    Ok(render_webhooks(
        state,
        user,
        String::new(),
        Vec::new(),
        Some(notice),
        FormState::new(),
    )
    .await?
    .into_response())
}

/// Webhook endpoints: add, send a test event, disable (program admins).
async fn webhooks_page(State(state): State<AppState>, user: PageUser) -> PageResult {
    Ok(render_webhooks(
        &state,
        &user,
        String::new(),
        Vec::new(),
        None,
        FormState::new(),
    )
    .await?
    .into_response())
}

async fn create_webhook(State(state): State<AppState>, user: PageUser, body: Bytes) -> PageResult {
    let fields = form_fields(&body);
    check_session_csrf(&user, &field(&fields, "csrf"))?;
    let url = field(&fields, "url");
    let chosen = all(&fields, "event");
    let mut too_long = FormState::new();
    check_max_length(&mut too_long, "url", "The URL", &url, URL_MAX);
    if too_long.is_refused() {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_webhooks(&state, &user, url, chosen, None, too_long).await?,
        )
            .into_response());
    }
    match state.app.create_webhook(&user.ctx(), &url, &chosen).await {
        Ok(hook) => Ok(webhooks_notice(
            &state,
            &user,
            format!("Added {}. Give the receiver its signing secret.", hook.url),
        )
        .await?),
        Err(e) => {
            let errors = FormState::new().refused(e, &[("url", "url"), ("events", "events")])?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render_webhooks(&state, &user, url, chosen, None, errors).await?,
            )
                .into_response())
        }
    }
}

async fn test_webhook(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let message = state.app.send_test_event(&user.ctx(), &id).await?;
    webhooks_notice(
        &state,
        &user,
        format!("Test event queued as message {message}; see it in the outgoing messages."),
    )
    .await
}

async fn disable_webhook(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    let hook = state.app.disable_webhook(&user.ctx(), &id).await?;
    webhooks_notice(&state, &user, format!("Disabled {}.", hook.url)).await
}

#[derive(Template, WebTemplate)]
#[template(path = "outbox.html")]
struct OutboxPage {
    layout: Layout,
    state: String,
    messages: Vec<OutboxEntry>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct OutboxQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    notice: Option<String>,
}

/// Outgoing messages with their delivery state; delivered and dead ones can be sent again.
async fn outbox_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<OutboxQuery>,
) -> PageResult {
    let filter = (!query.state.is_empty()).then_some(query.state.as_str());
    let messages = state.app.outbox(&user.ctx(), filter, None, 200).await?;
    Ok(OutboxPage {
        layout: Layout::for_user(&user),
        state: query.state,
        messages,
        notice: query.notice,
    }
    .into_response())
}

async fn replay(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    check_session_csrf(&user, &form.csrf)?;
    state.app.replay_message(&user.ctx(), id).await?;
    let notice: String =
        form_urlencoded::byte_serialize(format!("Message {id} will be sent again.").as_bytes())
            .collect();
    Ok(Redirect::to(&format!("/admin/outbox?state=pending&notice={notice}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "directory.html")]
struct DirectoryPage {
    layout: Layout,
    entries: Vec<accredit_app::directory::DirectoryEntry>,
    programs: Vec<(String, String)>,
    regions: Vec<String>,
    tracks: Vec<(String, String)>,
    q: String,
    program: String,
    region: String,
    track: String,
}

/// The public partner directory, with filters. Anyone may read it.
async fn directory_page(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(query): Query<accredit_app::directory::DirectoryQuery>,
) -> PageResult {
    let user = crate::pages_exams::optional_user(&state, &headers).await;
    let everything = state
        .app
        .directory(&accredit_app::directory::DirectoryQuery::default())
        .await?;
    let mut programs: Vec<(String, String)> = everything
        .iter()
        .map(|e| (e.program_id.clone(), e.program_name.clone()))
        .collect();
    programs.sort();
    programs.dedup();
    let mut regions: Vec<String> = everything.iter().map(|e| e.region.clone()).collect();
    regions.sort();
    regions.dedup();
    let mut tracks: Vec<(String, String)> = everything
        .iter()
        .flat_map(|e| {
            e.badges
                .iter()
                .map(|b| (b.track_id.clone(), b.track_name.clone()))
        })
        .collect();
    tracks.sort();
    tracks.dedup();
    let entries = state.app.directory(&query).await?;
    Ok(DirectoryPage {
        layout: crate::pages_exams::layout_for(user.as_ref()),
        entries,
        programs,
        regions,
        tracks,
        q: query.q.unwrap_or_default(),
        program: query.program.unwrap_or_default(),
        region: query.region.unwrap_or_default(),
        track: query.track.unwrap_or_default(),
    }
    .into_response())
}
